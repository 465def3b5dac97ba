"""Create immutable versions, edit their metadata, delete them when nothing depends on them."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.choices import DataOrigin
from registry.datafiles import profile_file
from registry.models import (
    AssetVersion,
    Dataset,
    DatasetVersion,
    GeneratorTrainingData,
    GeneratorVersion,
    Model,
    ModelTrainingData,
    ModelVersion,
    Prompt,
    PromptVersion,
    SyntheticGenerator,
)
from registry.services.access import lock_for, require_visible
from registry.services.errors import InUseError, describe_dependants
from registry.services.prompts import parse_template_variables, validate_model_settings
from registry.signals import version_created
from trail.services import diff, record, snapshot

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _creator(actor: Actor) -> Any:
    return actor.user if actor.user is not None and actor.user.is_authenticated else None


def _next_number(asset: models.Model, version_model: type[AssetVersion]) -> int:
    current = version_model.objects.filter(**{version_model.ASSET_FIELD: asset}).aggregate(n=Max("number"))["n"]
    return (current or 0) + 1


def _content(data: dict[str, Any], model: type[AssetVersion], exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    allowed = {f.name for f in model._meta.concrete_fields if f.editable} - set(exclude)
    allowed -= {"approved_by", "approved_at", "approval_reason", "stage"}
    return {k: v for k, v in data.items() if k in allowed}


def _save_new(version: AssetVersion, actor: Actor, extra: dict[str, Any] | None = None) -> None:
    version.created_by = _creator(actor)
    version.full_clean()
    version.save(force_insert=True)
    state = snapshot(version)
    state.pop("created_at", None)
    state.pop("created_by", None)
    state.update(extra or {})
    record("create", actor=actor, obj=version, team_slug=version.asset.owner_team.slug, changes=state)
    transaction.on_commit(partial(version_created.send, sender=type(version), version=version, actor=actor))


def _check_column_schema(schema: Any) -> None:
    if not isinstance(schema, list):
        raise ValidationError({"column_schema": _('Give the columns as a list of {"name": …, "type": …} objects.')})
    for i, col in enumerate(schema):
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or not col["name"]:
            raise ValidationError({"column_schema": _('Column %(n)d needs a "name" (text).') % {"n": i + 1}})
        if "type" in col and not isinstance(col["type"], str):
            raise ValidationError({"column_schema": _("The type of column “%(c)s” must be text.") % {"c": col["name"]}})


def do_create_dataset_version(
    dataset: Dataset, *, actor: Actor, data: dict[str, Any], upload: UploadedFile | None = None
) -> DatasetVersion:
    content = _content(data, DatasetVersion, exclude=("file", "dataset"))
    if upload is not None:
        if upload.size is not None and upload.size > settings.DATASET_UPLOAD_MAX_BYTES:
            raise ValidationError(
                {
                    "file": _("The file is larger than the %(mb)d MB upload limit.")
                    % {"mb": settings.DATASET_UPLOAD_MAX_BYTES // 2**20}
                }
            )
        assert upload.file is not None
        profile = profile_file(upload.file, upload.name or "", content.get("format"))
        supplied = content.get("sha256")
        if supplied and supplied != profile.sha256:
            raise ValidationError(
                {"sha256": _("The SHA-256 you gave does not match the uploaded file (%(h)s).") % {"h": profile.sha256}}
            )
        content.update(sha256=profile.sha256, size_bytes=profile.size_bytes, format=profile.format)
        if profile.row_count is not None:
            content["row_count"] = profile.row_count
        if profile.column_schema and not content.get("column_schema"):
            content["column_schema"] = profile.column_schema
    else:
        if not content.get("uri"):
            raise ValidationError({"uri": _("Give the location URI of the data, or upload the file.")})
    sha = content.get("sha256", "")
    if sha:
        sha = str(sha).lower()
        if not SHA256_RE.match(sha):
            raise ValidationError({"sha256": _("A SHA-256 is 64 hexadecimal characters.")})
        content["sha256"] = sha
    _check_column_schema(content.get("column_schema", []))
    generator_version = content.get("generator_version")
    if generator_version is not None and content.get("origin", DataOrigin.COLLECTED) != DataOrigin.SYNTHETIC:
        raise ValidationError(
            {"generator_version": _("Only a synthetic dataset version records the generator that produced it.")}
        )
    if content.get("origin") == DataOrigin.SYNTHETIC and generator_version is None:
        raise ValidationError(
            {"generator_version": _("A synthetic dataset version must name the generator version that produced it.")}
        )
    require_visible(actor, [generator_version], "generator_version")
    with transaction.atomic():
        locked = lock_for(actor, dataset, "change")
        version = DatasetVersion(dataset=locked, number=_next_number(locked, DatasetVersion), **content)
        if upload is not None:
            version.file.save(upload.name or "upload", upload, save=False)
            if not version.uri:
                version.uri = version.file.url if hasattr(version.file, "url") else version.file.name
        try:
            _save_new(version, actor)
        except Exception:
            if version.file:
                version.file.delete(save=False)
            raise
    return version


def do_create_generator_version(
    generator: SyntheticGenerator,
    *,
    actor: Actor,
    data: dict[str, Any],
    training_datasets: list[DatasetVersion] = (),  # type: ignore[assignment]
) -> GeneratorVersion:
    content = _content(data, GeneratorVersion, exclude=("generator",))
    if not isinstance(content.get("parameters", {}), dict):
        raise ValidationError({"parameters": _("Parameters must be a JSON object.")})
    require_visible(actor, list(training_datasets), "training_datasets")
    with transaction.atomic():
        locked = lock_for(actor, generator, "change")
        version = GeneratorVersion(generator=locked, number=_next_number(locked, GeneratorVersion), **content)
        version.created_by = _creator(actor)
        version.full_clean()
        version.save(force_insert=True)
        GeneratorTrainingData.objects.bulk_create(
            [GeneratorTrainingData(generator_version=version, dataset_version=d) for d in training_datasets]
        )
        state = snapshot(version)
        state.pop("created_at", None)
        state.pop("created_by", None)
        state["training_datasets"] = [str(d.uuid) for d in training_datasets]
        record("create", actor=actor, obj=version, team_slug=locked.owner_team.slug, changes=state)
    return version


def do_create_model_version(
    model: Model,
    *,
    actor: Actor,
    data: dict[str, Any],
    training_datasets: list[DatasetVersion] = (),  # type: ignore[assignment]
) -> ModelVersion:
    content = _content(data, ModelVersion, exclude=("model",))
    require_visible(actor, [*training_datasets, content.get("fine_tuned_from")], "training_datasets")
    with transaction.atomic():
        locked = lock_for(actor, model, "change")
        version = ModelVersion(model=locked, number=_next_number(locked, ModelVersion), **content)
        version.created_by = _creator(actor)
        version.full_clean()
        version.save(force_insert=True)
        ModelTrainingData.objects.bulk_create(
            [ModelTrainingData(model_version=version, dataset_version=d) for d in training_datasets]
        )
        state = snapshot(version)
        for noise in ("created_at", "created_by", "approved_by", "approved_at", "approval_reason"):
            state.pop(noise, None)
        state["training_datasets"] = [str(d.uuid) for d in training_datasets]
        record("create", actor=actor, obj=version, team_slug=locked.owner_team.slug, changes=state)
    return version


def do_create_prompt_version(prompt: Prompt, *, actor: Actor, data: dict[str, Any]) -> PromptVersion:
    content = _content(data, PromptVersion, exclude=("prompt", "variables"))
    template = content.get("template") or ""
    variables = parse_template_variables(template)
    validate_model_settings(content.get("model_settings") or {})
    if not (content.get("commit_message") or "").strip():
        raise ValidationError({"commit_message": _("Say what changed in this version.")})
    require_visible(actor, [content.get("model_version")], "model_version")
    with transaction.atomic():
        locked = lock_for(actor, prompt, "change")
        parent = content.get("parent")
        if parent is not None and parent.prompt_id != locked.pk:
            raise ValidationError({"parent": _("The parent must be a version of the same prompt.")})
        if parent is None and "parent" not in data:
            parent = PromptVersion.objects.filter(prompt=locked).order_by("-number").first()
        content["parent"] = parent
        version = PromptVersion(
            prompt=locked, number=_next_number(locked, PromptVersion), variables=variables, **content
        )
        _save_new(version, actor)
    return version


def do_update_version_metadata(version: AssetVersion, *, actor: Actor, data: dict[str, Any]) -> AssetVersion:
    """Change what may change on a version (description, serving endpoint…); content is refused."""
    editable = type(version).METADATA_FIELDS - {"stage", "approved_by", "approved_at", "approval_reason"}
    refused = sorted(k for k in data if k not in editable)
    if refused:
        raise ValidationError(
            {k: _("Versions are immutable: create a new version to change this field.") for k in refused}
        )
    with transaction.atomic():
        locked = lock_for(actor, version, "change")
        before = snapshot(locked, editable)
        for key, value in data.items():
            setattr(locked, key, value)
        locked.full_clean()
        locked.save(update_fields=sorted(data))
        changes = diff(before, snapshot(locked, editable))
        if changes:
            record("update", actor=actor, obj=locked, team_slug=locked.asset.owner_team.slug, changes=changes)
    return locked


def do_delete_version(version: AssetVersion, *, actor: Actor) -> None:
    with transaction.atomic():
        locked = lock_for(actor, version, "delete")
        state = snapshot(locked)
        record("delete", actor=actor, obj=locked, team_slug=locked.asset.owner_team.slug, changes=state)
        try:
            with transaction.atomic():
                locked.delete()
        except models.ProtectedError as exc:
            raise InUseError(describe_dependants(locked, exc.protected_objects), exc.protected_objects) from exc
        file = getattr(locked, "file", None)
        if file:
            transaction.on_commit(lambda: file.delete(save=False))
