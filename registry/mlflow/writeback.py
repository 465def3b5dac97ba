"""Custodia's decisions as MLflow model-version tags, for servers with write-back on (off by default).

Each imported model version gets ``custodia.stage`` (its lifecycle stage), ``custodia.url`` (its
page here) and ``custodia.check.<kind>`` (the verdict of each check's current run). The registry
does not know about checks: the audits app registers a verdict source from its
``AppConfig.ready()``, as it registers its approval gate (``registry.gates``)::

    from registry.mlflow import writeback
    writeback.register_verdict_source(lambda version: {"bias": "pass"})

A source gets the model version and returns ``{check kind: verdict}``. Only tags whose value
changed since they were last written are sent, so a sync that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.models import MlflowModelVersionLink
from trail.services import diff, record

if TYPE_CHECKING:
    from registry.mlflow.client import Connection
    from registry.mlflow.sync import SyncResult

PREFIX = "custodia."
VerdictSource = Callable[[Any], dict[str, str]]

_SOURCES: list[VerdictSource] = []


def register_verdict_source(source: VerdictSource) -> None:
    if source not in _SOURCES:  # ready() may run more than once (tests, reloads)
        _SOURCES.append(source)


def unregister_verdict_source(source: VerdictSource) -> None:
    if source in _SOURCES:
        _SOURCES.remove(source)


def desired_tags(version: Any) -> dict[str, str]:
    from registry.views.base import detail_url

    tags = {
        f"{PREFIX}stage": str(version.stage),
        f"{PREFIX}url": settings.SITE_URL.rstrip("/") + detail_url(version),
    }
    for source in _SOURCES:
        for kind, verdict in (source(version) or {}).items():
            if verdict:
                tags[f"{PREFIX}check.{kind}"] = str(verdict)
    return tags


def write_back(
    connection: Connection, links: Iterable[MlflowModelVersionLink], *, actor: Actor, result: SyncResult
) -> None:
    """Send the tags that changed; each version's write is recorded in the audit trail."""
    from registry.mlflow.client import MlflowNotFound, MlflowUnauthorized

    refused: set[str] = set()
    for link in links:
        if link.name in refused:
            continue
        desired = desired_tags(link.model_version)
        pending = {key: value for key, value in desired.items() if link.written_tags.get(key) != value}
        if not pending:
            continue
        try:
            for key, value in sorted(pending.items()):
                connection.set_model_version_tag(link.name, link.version, key, value)
        except MlflowNotFound:
            result.note_error(
                _("%(name)s v%(version)d: not found in MLflow; tags not written back.")
                % {"name": link.name, "version": link.version}
            )
            continue
        except MlflowUnauthorized:
            # What was imported stays imported; only the write-back needs more rights.
            refused.add(link.name)
            result.note_error(
                _("%(name)s: MLflow refused to set tags (the user needs permission to edit it); not written back.")
                % {"name": link.name}
            )
            continue
        with transaction.atomic():
            locked = MlflowModelVersionLink.objects.select_for_update().select_related("model_version__model")
            current = locked.get(pk=link.pk)
            before = {key: current.written_tags.get(key) for key in pending}
            current.written_tags = {**current.written_tags, **pending}
            current.save(update_fields=["written_tags"])
            version = current.model_version
            record(
                "update",
                actor=actor,
                obj=version,
                team_slug=version.model.owner_team.slug,
                changes={"mlflow.write_back": diff(before, pending)},
            )
        link.written_tags = current.written_tags
        result.count("written back", "model versions")
