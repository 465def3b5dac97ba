"""Importing one MLflow server into the registry: the state change behind ``sync_mlflow`` and the task.

What MLflow knows becomes registry objects owned by the server's team: registered models and
their versions become Models and ModelVersions (with the source run's metrics, parameters, tags
and input datasets on an ``MlflowModelVersionLink``), prompts and their versions become Prompts
and PromptVersions (aliases become PromptAliases). Every change is audited as made by the sync's
system actor.

One transaction per registered model (and per prompt), opened only after everything about it
was read from the server. Aliases and descriptions belong to the registered model and span its
versions; writing them together keeps each imported model a snapshot of one moment upstream
(an alias never points at a version that is not there yet), and a server that dies mid-sync can
only fail a read, before anything of that model is written. No network I/O inside a transaction
also keeps write locks short (SQLite takes its write lock when a transaction begins).

Re-syncing is idempotent: an object is written, and audited, only when something changed
upstream. What disappeared upstream is marked ``missing_upstream``, never deleted here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Max, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from access.actors import Actor
from access.services import grant_team_access
from registry.choices import MlflowSyncStatus
from registry.mlflow import writeback
from registry.mlflow.client import (
    Connection,
    DatasetInputInfo,
    MlflowError,
    MlflowUnauthorized,
    MlflowUnavailable,
    ModelVersionInfo,
    PromptInfo,
    PromptVersionInfo,
    RegisteredModelInfo,
)
from registry.models import (
    DatasetVersion,
    MlflowModelLink,
    MlflowModelVersionLink,
    MlflowPromptLink,
    MlflowPromptVersionLink,
    MlflowServer,
    Model,
    ModelTrainingData,
    ModelVersion,
    Prompt,
    PromptAlias,
    PromptVersion,
)
from registry.services.prompts import VARIABLE_RE
from registry.signals import version_created
from trail.services import diff, record, snapshot

SYNC_ACTOR = Actor.for_system("mlflow-sync")
# Input datasets logged with these contexts (or none) are what the model was trained on.
TRAINING_CONTEXTS = frozenset({"", "train", "training"})
# MLflow's own digests (8 hex characters of an MD5 over a DataFrame's rows) identify no file; a
# digest of at least this many hex characters is taken as the start of the file's SHA-256.
MIN_DIGEST_HEX = 16
HEX_RE = re.compile(r"^[0-9a-f]+$")
ALIAS_RE = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")
VERSION_NOISE = ("created_at", "created_by", "approved_by", "approved_at", "approval_reason")


# How the summary's counts read in the status message (the counts' keys stay as they are).
COUNT_LABELS = {
    "models created": gettext_lazy("registered models imported"),
    "models updated": gettext_lazy("registered models updated"),
    "models missing upstream": gettext_lazy("registered models missing upstream"),
    "model versions created": gettext_lazy("model versions imported"),
    "model versions updated": gettext_lazy("model versions updated"),
    "model versions missing upstream": gettext_lazy("model versions missing upstream"),
    "model versions written back": gettext_lazy("model versions tagged in MLflow"),
    "prompts created": gettext_lazy("prompts imported"),
    "prompts updated": gettext_lazy("prompts updated"),
    "prompts missing upstream": gettext_lazy("prompts missing upstream"),
    "prompt versions created": gettext_lazy("prompt versions imported"),
    "prompt versions updated": gettext_lazy("prompt versions updated"),
    "prompt versions missing upstream": gettext_lazy("prompt versions missing upstream"),
}


class SyncConflict(MlflowError):
    """An upstream object cannot be imported without overwriting something here."""


@dataclass
class SyncResult:
    """What one sync of one server did; its summary is stored on the server and returned by the task."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def count(self, what: str, kind: str, n: int = 1) -> None:
        self.counts[f"{kind} {what}"] += n

    def note_error(self, message: str) -> None:
        self.errors.append(message)

    @property
    def status(self) -> str:
        return MlflowSyncStatus.PARTIAL if self.errors else MlflowSyncStatus.OK

    @property
    def changes(self) -> int:
        return sum(value for key, value in self.counts.items() if not key.endswith(" seen"))

    def summary(self) -> dict[str, Any]:
        return {"counts": dict(sorted(self.counts.items())), "errors": self.errors[:50]}

    def message(self) -> str:
        c = self.counts
        parts = [
            ngettext(
                "%(n)d registered model (%(v)d versions)", "%(n)d registered models (%(v)d versions)", c["models seen"]
            )
            % {"n": c["models seen"], "v": c["model versions seen"]},
            ngettext("%(n)d prompt (%(v)d versions)", "%(n)d prompts (%(v)d versions)", c["prompts seen"])
            % {"n": c["prompts seen"], "v": c["prompt versions seen"]},
        ]
        text = _("Read %(what)s.") % {"what": _(" and ").join(parts)}
        changes = [
            f"{COUNT_LABELS.get(key, key)}: {value}"
            for key, value in sorted(c.items())
            if value and not key.endswith(" seen")
        ]
        text += " " + (_("Changes: %(list)s.") % {"list": ", ".join(changes)} if changes else _("Nothing changed."))
        if self.errors:
            text += " " + ngettext("%(n)d error:", "%(n)d errors:", len(self.errors)) % {"n": len(self.errors)}
            text += " " + "; ".join(self.errors[:5])
        return text


# Shared steps ------------------------------------------------------------------------------------


def _asset_state(obj: Any) -> dict[str, Any]:
    state = snapshot(obj)
    state.pop("created_at", None)
    state.pop("created_by", None)
    return state


def _identity(server: MlflowServer, name: str, version: int | None = None) -> dict[str, Any]:
    identity: dict[str, Any] = {"server": server.name, "name": name}
    if version is not None:
        identity["version"] = version
    return identity


def _import_asset(
    model_cls: Any, link_cls: Any, server: MlflowServer, name: str, description: str, actor: Actor
) -> Any:
    """The team's asset of this name (linked now) or a new one; an asset linked elsewhere is a conflict."""
    team = server.owner_team
    identity = _identity(server, name)
    existing = model_cls.objects.select_for_update().filter(owner_team=team, name=name).first()
    if existing is not None:
        if link_cls.objects.filter(**{model_cls._meta.model_name: existing}).exists():
            raise SyncConflict(
                _("%(kind)s “%(name)s” of team %(team)s is already linked to another MLflow object; not imported.")
                % {"kind": model_cls._meta.verbose_name, "name": name, "team": team}
            )
        record("update", actor=actor, obj=existing, changes={"mlflow": {"from": None, "to": identity}})
        return existing
    obj = model_cls(name=name, description=description, owner_team=team)
    obj.full_clean()
    obj.save(force_insert=True)
    grant_team_access(obj, team)
    record("create", actor=actor, obj=obj, changes={**_asset_state(obj), "tags": [], "mlflow": identity})
    return obj


def _number_for(version_model: Any, asset: Any, wanted: int) -> int:
    """MLflow's version number when it is free, so that both say "v2" of the same thing."""
    siblings = version_model.objects.filter(**{version_model.ASSET_FIELD: asset})
    if not siblings.filter(number=wanted).exists():
        return wanted
    return (siblings.aggregate(n=Max("number"))["n"] or 0) + 1


def _common_changes(link: Any, description: str, tags: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if link.description != description:
        changes["mlflow.description"] = {"from": link.description, "to": description}
    tag_changes = diff(link.tags, tags)
    if tag_changes:
        changes["mlflow.tags"] = tag_changes
    if link.missing_upstream:
        changes["mlflow.missing_upstream"] = {"from": True, "to": False}
    return changes


def _mark_missing(link: Any, obj: Any, team_slug: str, actor: Actor, now: Any) -> None:
    type(link).objects.filter(pk=link.pk).update(missing_upstream=True, missing_since=now, synced_at=now)
    record(
        "update",
        actor=actor,
        obj=obj,
        team_slug=team_slug,
        changes={"mlflow.missing_upstream": {"from": False, "to": True}},
    )


# Input datasets --------------------------------------------------------------------------------


def match_dataset(item: DatasetInputInfo, team_id: int) -> DatasetVersion | None:
    """The registered dataset version with this input's hash: its ``sha256`` tag, or its digest as a prefix."""
    versions = DatasetVersion.objects.select_related("dataset")
    if item.sha256:
        versions = versions.filter(sha256=item.sha256)
    else:
        digest = item.digest.strip().lower().removeprefix("sha256:")
        if not MIN_DIGEST_HEX <= len(digest) <= 64 or not HEX_RE.match(digest):
            return None
        versions = versions.filter(sha256__startswith=digest)
    # The same bytes may be registered twice: prefer the importing team's, then the first registered.
    preference = Case(When(dataset__owner_team_id=team_id, then=Value(0)), default=Value(1))
    return versions.order_by(preference, "created_at", "pk").first()


def _datasets(items: Iterable[DatasetInputInfo], team_id: int) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        matched = match_dataset(item, team_id)
        rows.append(
            {
                **item.as_dict(),
                "training": item.context.lower() in TRAINING_CONTEXTS,
                "dataset_version": str(matched.uuid) if matched else None,
                "label": str(matched) if matched else "",
            }
        )
    return rows


def _link_training_data(version: ModelVersion, datasets: list[dict[str, Any]]) -> list[str]:
    """Training-data links for matched training inputs not linked yet; their uuids."""
    wanted = {row["dataset_version"] for row in datasets if row["training"] and row["dataset_version"]}
    if not wanted:
        return []
    have = set(ModelTrainingData.objects.filter(model_version=version).values_list("dataset_version__uuid", flat=True))
    new = [dv for dv in DatasetVersion.objects.filter(uuid__in=wanted) if dv.uuid not in have]
    ModelTrainingData.objects.bulk_create([ModelTrainingData(model_version=version, dataset_version=dv) for dv in new])
    return sorted(str(dv.uuid) for dv in new)


# Registered models ----------------------------------------------------------------------------


def _run_fields(info: ModelVersionInfo, team_id: int) -> dict[str, Any]:
    run = info.run
    return {
        "run_id": info.run_id,
        "run_missing": info.run_missing,
        "experiment_id": run.experiment_id if run else "",
        "run_name": (run.run_name if run else "")[:500],
        "run_status": run.status if run else "",
        "run_user": (run.user_id if run else "")[:200],
        "run_started_at": run.started_at if run else None,
        "run_ended_at": run.ended_at if run else None,
        "metrics": run.metrics if run else {},
        "params": run.params if run else {},
        "run_tags": run.tags if run else {},
        "datasets": _datasets(run.datasets if run else [], team_id),
    }


def _split_tags(tags: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    ours = {k: v for k, v in tags.items() if k.startswith(writeback.PREFIX)}
    return {k: v for k, v in tags.items() if k not in ours}, ours


def _apply_model_version(
    server: MlflowServer,
    model: Model,
    info: ModelVersionInfo,
    aliases: list[str],
    *,
    actor: Actor,
    result: SyncResult,
    now: Any,
) -> None:
    team = model.owner_team
    link = (
        MlflowModelVersionLink.objects.select_related("model_version")
        .filter(server=server, name=info.name, version=info.version)
        .first()
    )
    tags, written = _split_tags(info.tags)
    fields = _run_fields(info, team.pk)
    upstream = {
        "source": info.source[:1000],
        "status": info.status[:40],
        "description": info.description,
        "aliases": sorted(aliases),
        "tags": tags,
        "written_tags": written,
        "created_upstream_at": info.created_at,
        **fields,
    }
    if link is None:
        version = ModelVersion(
            model=model,
            number=_number_for(ModelVersion, model, info.version),
            description=info.description,
            artifact_uri=info.source[:1000],
        )
        version.full_clean()
        version.save(force_insert=True)
        training = _link_training_data(version, fields["datasets"])
        MlflowModelVersionLink.objects.create(
            server=server, model_version=version, name=info.name, version=info.version, **upstream
        )
        state = snapshot(version)
        for noise in VERSION_NOISE:
            state.pop(noise, None)
        state["training_datasets"] = training
        state["mlflow"] = {
            **_identity(server, info.name, info.version),
            "run_id": info.run_id,
            "aliases": sorted(aliases),
            "metrics": fields["metrics"],
            "params": fields["params"],
        }
        record("create", actor=actor, obj=version, team_slug=team.slug, changes=state)
        result.count("created", "model versions")
        return
    version = link.model_version
    if link.source and info.source and link.source != info.source[:1000]:
        result.note_error(
            _("%(name)s v%(version)d was re-created upstream with other content; the imported version is kept.")
            % {"name": info.name, "version": info.version}
        )
        return
    changes = _common_changes(link, info.description, tags)
    if "mlflow.description" in changes:
        # The registry's own description follows MLflow's when MLflow's changes.
        changes["description"] = {"from": version.description, "to": info.description}
        version.description = info.description
        version.save(update_fields=["description"])
    if link.aliases != upstream["aliases"]:
        changes["mlflow.aliases"] = {"from": link.aliases, "to": upstream["aliases"]}
    for key in ("status", "run_id", "run_status", "run_missing", "run_name"):
        if getattr(link, key) != upstream[key]:
            changes[f"mlflow.{key}"] = {"from": getattr(link, key), "to": upstream[key]}
    for key in ("metrics", "params", "run_tags"):
        delta = diff(getattr(link, key), upstream[key])
        if delta:
            changes[f"mlflow.{key}"] = delta
    if link.datasets != upstream["datasets"]:
        changes["mlflow.datasets"] = {
            "from": [row["name"] for row in link.datasets],
            "to": [row["name"] for row in upstream["datasets"]],
        }
        added = _link_training_data(version, upstream["datasets"])
        if added:
            changes["training_datasets"] = {"added": added}
    quiet_change = link.written_tags != written or link.created_upstream_at != info.created_at
    if not changes and not quiet_change:
        return
    for key, value in upstream.items():
        setattr(link, key, value)
    link.missing_upstream = False
    link.missing_since = None
    link.synced_at = now
    link.save()
    if changes:
        record("update", actor=actor, obj=version, team_slug=team.slug, changes=changes)
        result.count("updated", "model versions")


def apply_registered_model(
    server: MlflowServer, info: RegisteredModelInfo, *, actor: Actor, result: SyncResult
) -> None:
    """Import or update one registered model and all its versions, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        link = (
            MlflowModelLink.objects.select_for_update()
            .select_related("model__owner_team")
            .filter(server=server, name=info.name)
            .first()
        )
        if link is None:
            model = _import_asset(Model, MlflowModelLink, server, info.name, info.description, actor)
            MlflowModelLink.objects.create(
                server=server, model=model, name=info.name, description=info.description, tags=info.tags,
                aliases=info.aliases,
            )  # fmt: skip
            result.count("created", "models")
            changes: dict[str, Any] = {}
        else:
            model = link.model
            changes = _common_changes(link, info.description, info.tags)
            if "mlflow.description" in changes:
                changes["description"] = {"from": model.description, "to": info.description}
                model.description = info.description
                model.save(update_fields=["description", "updated_at"])
            for alias in sorted(set(link.aliases) | set(info.aliases)):
                before, after = link.aliases.get(alias), info.aliases.get(alias)
                if before != after:
                    changes[f"mlflow.alias:{alias}"] = {"from": before, "to": after}
            if changes:
                link.description, link.tags, link.aliases = info.description, info.tags, info.aliases
                link.missing_upstream, link.missing_since, link.synced_at = False, None, now
                link.save()
        by_version: dict[int, list[str]] = {}
        for alias, number in info.aliases.items():
            by_version.setdefault(number, []).append(alias)
        for version in info.versions:
            _apply_model_version(
                server, model, version, by_version.get(version.version, []), actor=actor, result=result, now=now
            )
        seen = [version.version for version in info.versions]
        gone = (
            MlflowModelVersionLink.objects.filter(server=server, name=info.name, missing_upstream=False)
            .exclude(version__in=seen)
            .select_related("model_version")
        )
        for version_link in gone:
            _mark_missing(version_link, version_link.model_version, model.owner_team.slug, actor, now)
            result.count("missing upstream", "model versions")
        if changes:
            record("update", actor=actor, obj=model, changes=changes)
            result.count("updated", "models")


def mark_missing_models(server: MlflowServer, seen: set[str], *, actor: Actor, result: SyncResult) -> None:
    now = timezone.now()
    gone = MlflowModelLink.objects.filter(server=server, missing_upstream=False).exclude(name__in=seen)
    for link in gone.select_related("model__owner_team"):
        with transaction.atomic():
            team_slug = link.model.owner_team.slug
            _mark_missing(link, link.model, team_slug, actor, now)
            versions = MlflowModelVersionLink.objects.filter(server=server, name=link.name, missing_upstream=False)
            for version_link in versions.select_related("model_version"):
                _mark_missing(version_link, version_link.model_version, team_slug, actor, now)
                result.count("missing upstream", "model versions")
        result.count("missing upstream", "models")


# Prompts --------------------------------------------------------------------------------------


def _ordered_variables(template: str, upstream: list[str]) -> list[str]:
    """The template's variables in order of first use (as the registry keeps them), MLflow's set as fallback."""
    found: list[str] = []
    for match in VARIABLE_RE.finditer(template):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found + [name for name in upstream if name not in found]


def _apply_prompt_version(
    server: MlflowServer, prompt: Prompt, info: PromptVersionInfo, *, actor: Actor, result: SyncResult, now: Any
) -> PromptVersion | None:
    link = (
        MlflowPromptVersionLink.objects.select_related("prompt_version")
        .filter(server=server, name=info.name, version=info.version)
        .first()
    )
    if link is None:
        number = _number_for(PromptVersion, prompt, info.version)
        parent = PromptVersion.objects.filter(prompt=prompt, number__lt=number).order_by("-number").first()
        message = info.commit_message.strip() or _("Imported from MLflow (version %(v)d)") % {"v": info.version}
        version = PromptVersion(
            prompt=prompt,
            number=number,
            template=info.template,
            variables=_ordered_variables(info.template, info.variables),
            commit_message=message[:500],
            model_settings=info.model_config,
            parent=parent,
        )
        version.full_clean()
        version.save(force_insert=True)
        MlflowPromptVersionLink.objects.create(
            server=server, prompt_version=version, name=info.name, version=info.version,
            commit_message=info.commit_message, tags=info.tags, created_upstream_at=info.created_at,
        )  # fmt: skip
        state = snapshot(version)
        state.pop("created_at", None)
        state.pop("created_by", None)
        state["mlflow"] = _identity(server, info.name, info.version)
        record("create", actor=actor, obj=version, team_slug=prompt.owner_team.slug, changes=state)
        transaction.on_commit(partial(version_created.send, sender=PromptVersion, version=version, actor=actor))
        result.count("created", "prompt versions")
        return version
    version = link.prompt_version
    if version.template != info.template:
        result.note_error(
            _("Prompt %(name)s v%(version)d was re-created upstream with another template; the imported one is kept.")
            % {"name": info.name, "version": info.version}
        )
        return version
    changes: dict[str, Any] = {}
    if link.commit_message != info.commit_message:
        changes["mlflow.commit_message"] = {"from": link.commit_message, "to": info.commit_message}
    tag_changes = diff(link.tags, info.tags)
    if tag_changes:
        changes["mlflow.tags"] = tag_changes
    if link.missing_upstream:
        changes["mlflow.missing_upstream"] = {"from": True, "to": False}
    if changes:
        link.commit_message, link.tags = info.commit_message, info.tags
        link.missing_upstream, link.missing_since, link.synced_at = False, None, now
        link.save()
        record("update", actor=actor, obj=version, team_slug=prompt.owner_team.slug, changes=changes)
        result.count("updated", "prompt versions")
    return version


def _apply_prompt_aliases(
    server: MlflowServer, link: MlflowPromptLink, aliases: dict[str, int], changes: dict[str, Any], result: SyncResult
) -> None:
    """MLflow's aliases as PromptAliases; an alias set only here (not in MLflow) is left alone."""
    prompt = link.prompt
    versions = {
        vlink.version: vlink.prompt_version
        for vlink in MlflowPromptVersionLink.objects.filter(server=server, name=link.name).select_related(
            "prompt_version"
        )
    }
    for name, number in sorted(aliases.items()):
        target = versions.get(number)
        if target is None:
            continue
        if not ALIAS_RE.match(name):
            result.note_error(
                _("Alias “%(alias)s” of prompt %(name)s is not a valid alias name here; skipped.")
                % {"alias": name, "name": link.name}
            )
            continue
        alias = PromptAlias.objects.select_related("version").filter(prompt=prompt, name=name).first()
        if alias is not None and alias.version_id == target.pk:
            continue
        before = alias.version.number if alias is not None else None
        if alias is None:
            PromptAlias.objects.create(prompt=prompt, name=name, version=target)
        else:
            alias.version = target
            alias.save(update_fields=["version"])
        changes[f"alias:{name}"] = {"from": before, "to": target.number}
    for name in sorted(set(link.aliases) - set(aliases)):
        was = versions.get(link.aliases[name])
        alias = PromptAlias.objects.filter(prompt=prompt, name=name, version=was).first() if was else None
        if alias is not None:
            changes[f"alias:{name}"] = {"from": was.number if was else None, "to": None}
            alias.delete()


def apply_prompt(server: MlflowServer, info: PromptInfo, *, actor: Actor, result: SyncResult) -> None:
    """Import or update one prompt, its versions and aliases, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        link = (
            MlflowPromptLink.objects.select_for_update()
            .select_related("prompt__owner_team")
            .filter(server=server, name=info.name)
            .first()
        )
        changes: dict[str, Any] = {}
        if link is None:
            prompt = _import_asset(Prompt, MlflowPromptLink, server, info.name, info.description, actor)
            link = MlflowPromptLink.objects.create(
                server=server, prompt=prompt, name=info.name, description=info.description, tags=info.tags
            )
            result.count("created", "prompts")
            created = True
        else:
            prompt = link.prompt
            changes = _common_changes(link, info.description, info.tags)
            if "mlflow.description" in changes:
                changes["description"] = {"from": prompt.description, "to": info.description}
                prompt.description = info.description
                prompt.save(update_fields=["description", "updated_at"])
            created = False
        for version in info.versions:
            _apply_prompt_version(server, prompt, version, actor=actor, result=result, now=now)
        _apply_prompt_aliases(server, link, info.aliases, changes, result)
        seen = [version.version for version in info.versions]
        gone = (
            MlflowPromptVersionLink.objects.filter(server=server, name=info.name, missing_upstream=False)
            .exclude(version__in=seen)
            .select_related("prompt_version")
        )
        for version_link in gone:
            _mark_missing(version_link, version_link.prompt_version, prompt.owner_team.slug, actor, now)
            result.count("missing upstream", "prompt versions")
        if changes or link.aliases != info.aliases:
            link.description, link.tags, link.aliases = info.description, info.tags, info.aliases
            link.missing_upstream, link.missing_since, link.synced_at = False, None, now
            link.save()
        if changes:
            record("update", actor=actor, obj=prompt, changes=changes)
            if not created:
                result.count("updated", "prompts")


def mark_missing_prompts(server: MlflowServer, seen: set[str], *, actor: Actor, result: SyncResult) -> None:
    now = timezone.now()
    gone = MlflowPromptLink.objects.filter(server=server, missing_upstream=False).exclude(name__in=seen)
    for link in gone.select_related("prompt__owner_team"):
        with transaction.atomic():
            team_slug = link.prompt.owner_team.slug
            _mark_missing(link, link.prompt, team_slug, actor, now)
            versions = MlflowPromptVersionLink.objects.filter(server=server, name=link.name, missing_upstream=False)
            for version_link in versions.select_related("prompt_version"):
                _mark_missing(version_link, version_link.prompt_version, team_slug, actor, now)
                result.count("missing upstream", "prompt versions")
        result.count("missing upstream", "prompts")


# The whole sync -------------------------------------------------------------------------------


def _each(kind: str, name: str, apply: Any, result: SyncResult) -> None:
    """One object's import; its own failure is noted and the sync goes on, a dead server stops it."""
    try:
        apply()
    except (MlflowUnavailable, MlflowUnauthorized):
        raise
    except (MlflowError, ValidationError) as exc:
        messages = getattr(exc, "messages", None) or [str(exc)]
        result.note_error(f"{kind} {name}: {' '.join(str(m) for m in messages)}")


def sync_server(
    server: MlflowServer, connection: Connection, *, actor: Actor = SYNC_ACTOR, result: SyncResult | None = None
) -> SyncResult:
    """Import everything the server knows. Raises ``MlflowError`` when the sync as a whole fails;
    ``result`` (when given) then says what was done before."""
    result = result if result is not None else SyncResult()
    connection.check()
    seen_models: set[str] = set()
    for entity in connection.registered_models():
        seen_models.add(entity.name)

        def import_model(entity: Any = entity) -> None:
            info = connection.model_snapshot(entity)
            result.count("seen", "models")
            result.count("seen", "model versions", len(info.versions))
            apply_registered_model(server, info, actor=actor, result=result)

        _each(_("registered model"), entity.name, import_model, result)
    # Only a complete listing tells what is gone: an error above has already ended the sync.
    mark_missing_models(server, seen_models, actor=actor, result=result)
    seen_prompts: set[str] = set()
    for entity in connection.prompts():
        seen_prompts.add(entity.name)

        def import_prompt(entity: Any = entity) -> None:
            info = connection.prompt_snapshot(entity)
            result.count("seen", "prompts")
            result.count("seen", "prompt versions", len(info.versions))
            apply_prompt(server, info, actor=actor, result=result)

        _each(_("prompt"), entity.name, import_prompt, result)
    mark_missing_prompts(server, seen_prompts, actor=actor, result=result)
    if server.write_back:
        links = (
            MlflowModelVersionLink.objects.filter(server=server, missing_upstream=False)
            .select_related("model_version__model__owner_team")
            .order_by("pk")
        )
        writeback.write_back(connection, links, actor=actor, result=result)
    return result
