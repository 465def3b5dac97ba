"""One sync of one server, as the Celery task and ``manage.py sync_mlflow`` run it: claim, sync, finish.

A sync claims its server with a conditional update (two workers never sync the same server at
once; a claim older than ``MLFLOW_SYNC_STALE_SECONDS`` is taken as lost), and always finishes with
a status a person can read on the server's settings page: the sync's result, or why it failed.
An unreachable server is retried by the caller, at most ``MLFLOW_SYNC_MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.choices import MlflowSyncStatus
from registry.models import MlflowModelVersionLink, MlflowServer

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a sync attempt ended with: the task's result and the command's report."""

    server: str
    status: str
    message: str
    retry: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "status": self.status,
            "message": self.message,
            "retry": self.retry,
            **self.summary,
        }


def claim(server_id: int, *, attempt: int = 1) -> MlflowServer | None:
    """Mark the server as syncing, unless it is disabled, gone, or another sync holds it."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.MLFLOW_SYNC_STALE_SECONDS)
    claimed = (
        MlflowServer.objects.filter(pk=server_id, enabled=True)
        .filter(~Q(status=MlflowSyncStatus.RUNNING) | Q(sync_started_at__lt=stale) | Q(sync_started_at__isnull=True))
        .update(
            status=MlflowSyncStatus.RUNNING,
            status_message=_("Syncing (attempt %(n)d of %(max)d)…") % {"n": attempt, "max": max_attempts()},
            sync_attempt=attempt,
            sync_started_at=now,
        )
    )
    if not claimed:
        return None
    return MlflowServer.objects.select_related("owner_team").get(pk=server_id)


def finish(server: MlflowServer, status: str, message: str, summary: dict[str, Any] | None = None) -> None:
    now = timezone.now()
    values: dict[str, Any] = {
        "status": status,
        "status_message": message,
        "sync_finished_at": now,
        "last_summary": summary or {},
    }
    if status in (MlflowSyncStatus.OK, MlflowSyncStatus.PARTIAL):
        values["last_success_at"] = now
    MlflowServer.objects.filter(pk=server.pk).update(**values)


def max_attempts() -> int:
    return int(settings.MLFLOW_SYNC_MAX_ATTEMPTS)


def run_sync(server_id: int, *, attempt: int = 1, final: bool = True, actor: Actor | None = None) -> Outcome:
    """Sync one server now. ``final`` is False while the caller may still retry an unreachable server."""
    from registry.mlflow.client import MlflowError, MlflowUnavailable, connect
    from registry.mlflow.sync import SYNC_ACTOR, SyncResult, sync_server

    server = claim(server_id, attempt=attempt)
    if server is None:
        return Outcome(
            str(server_id),
            "skipped",
            _("Not synced: the server is disabled, does not exist, or is being synced already."),
        )
    result = SyncResult()
    try:
        connection = connect(server)
        sync_server(server, connection, actor=actor or SYNC_ACTOR, result=result)
    except MlflowUnavailable as exc:
        message = str(exc)
        if result.changes:
            message += " " + _(
                "Before that, this sync imported or updated %(n)d objects; each registered model and prompt "
                "is imported whole or not at all."
            ) % {"n": result.changes}
        retry = not final
        if retry:
            message += " " + _("Trying again (attempt %(n)d of %(max)d failed).") % {
                "n": attempt,
                "max": max_attempts(),
            }
        else:
            message += " " + _("Gave up after %(n)d attempts.") % {"n": attempt}
        finish(server, MlflowSyncStatus.UNREACHABLE, message, result.summary())
        return Outcome(server.name, MlflowSyncStatus.UNREACHABLE, message, retry=retry, summary=result.summary())
    except MlflowError as exc:
        finish(server, exc.status, str(exc), result.summary())
        return Outcome(server.name, exc.status, str(exc), summary=result.summary())
    except Exception as exc:
        # Never leave the server "syncing": say what stopped it; the worker log has the traceback.
        logger.exception("MLflow sync of server %s failed unexpectedly", server.name)
        message = _("The sync stopped on an internal error (%(type)s: %(error)s). The worker log has the details.") % {
            "type": type(exc).__name__,
            "error": str(exc)[:300],
        }
        finish(server, MlflowSyncStatus.FAILED, message, result.summary())
        return Outcome(server.name, MlflowSyncStatus.FAILED, message, summary=result.summary())
    message = result.message()
    finish(server, result.status, message, result.summary())
    return Outcome(server.name, result.status, message, summary=result.summary())


def push_tags(link_id: int) -> Outcome:
    """Write one model version's tags back now (after a stage change), if its server writes back."""
    from registry.mlflow.client import MlflowError, connect
    from registry.mlflow.sync import SYNC_ACTOR, SyncResult
    from registry.mlflow.writeback import write_back

    link = (
        MlflowModelVersionLink.objects.select_related("server", "model_version__model__owner_team")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not link.server.write_back or not link.server.enabled or link.missing_upstream:
        return Outcome(str(link_id), "skipped", _("Nothing to write back."))
    result = SyncResult()
    try:
        write_back(connect(link.server), [link], actor=SYNC_ACTOR, result=result)
    except MlflowError as exc:
        return Outcome(link.server.name, exc.status, str(exc), retry=exc.status == MlflowSyncStatus.UNREACHABLE)
    message = _("Tags written back.") if result.changes else _("The tags in MLflow were up to date.")
    if result.errors:
        message = "; ".join(result.errors)
    return Outcome(link.server.name, result.status, message, summary=result.summary())
