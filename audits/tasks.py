"""Celery tasks of the checks engine: thin wrappers that fetch by id and call ``audits.engine``."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from audits import engine
from audits.runners import CheckCancelled, CheckInputError, TransientCheckError, runner_for

logger = logging.getLogger(__name__)

TRANSIENT = (TransientCheckError, OperationalError, InterfaceError)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def execute_check(self: Any, run_id: int) -> str:
    """Run one check run, picked up by id; see ``audits.engine`` for how runs are claimed and recovered."""
    claimed = engine.claim(run_id, worker=self.request.hostname or "eager")
    if claimed is None:
        return "not queued"
    # Eager runs (tests, scripts) share the caller's connection and transaction: no second thread.
    heartbeat = None if self.request.is_eager else engine.Heartbeat(claimed)
    if heartbeat is not None:
        heartbeat.start()
    try:
        runner = runner_for(claimed.run.kind)
        thresholds = dict(claimed.run.policy_version.thresholds) if claimed.run.policy_version else {}
        outcome = runner.run(claimed.run, thresholds, engine.ProgressReporter(claimed))
    except CheckCancelled:
        engine.finish_failed(claimed, "Cancelled by a user.", state="cancelled")
        return "cancelled"
    except CheckInputError as exc:
        engine.finish_failed(claimed, str(exc))
        return "failed"
    except TRANSIENT as exc:
        retries = self.request.retries
        if retries < settings.CHECK_MAX_ATTEMPTS - 1:
            logger.warning("Check run %s: transient error, retrying: %s", run_id, exc)
            engine.requeue(claimed, f"Retrying after a temporary error: {exc}")
            raise self.retry(exc=exc, countdown=min(60, 5 * 2**retries), max_retries=settings.CHECK_MAX_ATTEMPTS)
        engine.finish_failed(claimed, f"Gave up after {retries + 1} attempts; the last error was temporary: {exc}")
        return "failed"
    except DatabaseError as exc:
        logger.exception("Check run %s: database error", run_id)
        engine.finish_failed(claimed, f"The database refused the result ({type(exc).__name__}).")
        return "failed"
    except Exception as exc:
        logger.exception("Check run %s failed unexpectedly", run_id)
        engine.finish_failed(
            claimed,
            f"The check stopped on an internal error ({type(exc).__name__}: {exc}). The worker log has the details.",
        )
        return "failed"
    finally:
        if heartbeat is not None:
            heartbeat.stop()
    engine.finish_succeeded(claimed, outcome)
    return "succeeded"


def enqueue(run_id: int) -> None:
    execute_check.delay(run_id)


@shared_task(acks_late=True, ignore_result=True)
def reap_stale_runs() -> dict[str, int]:
    """Recover runs whose worker died (periodic, and when a worker starts)."""
    return engine.reap_stale_runs(enqueue)


@shared_task(acks_late=True, ignore_result=True)
def run_scheduled_checks() -> int:
    """Re-run checks whose AI system's policy asks for periodic runs (from Celery beat)."""
    from audits.services.runs import schedule_due_checks

    return schedule_due_checks()
