"""Celery tasks of the registry: syncing MLflow servers (periodic, on request) and writing tags back."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from registry.models import MlflowServer

logger = logging.getLogger(__name__)


def _countdown(retries: int) -> int:
    return int(min(3600, settings.MLFLOW_SYNC_RETRY_SECONDS * 2**retries))


@shared_task(bind=True, acks_late=True, ignore_result=True)
def sync_mlflow_server(self: Any, server_id: int) -> dict[str, Any]:
    """Sync one MLflow server; an unreachable one is tried again later, MLFLOW_SYNC_MAX_ATTEMPTS times in all."""
    from registry.mlflow.runs import max_attempts, run_sync

    attempt = self.request.retries + 1
    outcome = run_sync(server_id, attempt=attempt, final=attempt >= max_attempts())
    if outcome.retry:
        logger.warning("MLflow server %s unreachable (attempt %d), retrying: %s", server_id, attempt, outcome.message)
        raise self.retry(countdown=_countdown(self.request.retries), max_retries=max_attempts() - 1)
    return outcome.as_dict()


@shared_task(acks_late=True, ignore_result=True)
def sync_mlflow_servers() -> int:
    """Queue a sync of every enabled MLflow server (from Celery beat)."""
    ids = list(MlflowServer.objects.filter(enabled=True).values_list("pk", flat=True))
    for server_id in ids:
        sync_mlflow_server.delay(server_id)
    return len(ids)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def push_mlflow_tags(self: Any, link_id: int) -> dict[str, Any]:
    """Write one model version's lifecycle stage and verdicts back to MLflow (after a stage change)."""
    from registry.mlflow.runs import max_attempts, push_tags

    outcome = push_tags(link_id)
    if outcome.retry and self.request.retries + 1 < max_attempts():
        raise self.retry(countdown=_countdown(self.request.retries), max_retries=max_attempts() - 1)
    return outcome.as_dict()
