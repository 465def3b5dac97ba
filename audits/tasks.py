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
        planner = getattr(runner, "plan", None)
        parts = planner(claimed.run, thresholds) if planner is not None else None
        if parts:
            engine.fan_out(claimed, parts, enqueue_part)
            return "split"
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


@shared_task(bind=True, acks_late=True, ignore_result=True)
def execute_check_part(self: Any, part_id: int) -> str:
    """Compute one part of a split run; the part that completes the run merges all parts and finishes it."""
    claimed = engine.claim_part(part_id, worker=self.request.hostname or "eager")
    if claimed is None:
        return "not queued"
    run_claim = claimed.run
    heartbeat = None if self.request.is_eager else engine.PartHeartbeat(claimed)
    if heartbeat is not None:
        heartbeat.start()
    try:
        run = run_claim.run
        runner: Any = runner_for(run.kind)
        thresholds = dict(run.policy_version.thresholds) if run.policy_version else {}
        partial = runner.run_part(run, claimed.part.parameters, thresholds, engine.PartProgressReporter(claimed))
        partials = engine.finish_part(claimed, partial)
        if partials is None:
            return "part done"
        outcome = runner.finish(run, partials, thresholds)
    except CheckCancelled:
        engine.finish_failed(run_claim, "Cancelled by a user.", state="cancelled")
        engine.fail_parts(run_claim.run)
        return "cancelled"
    except CheckInputError as exc:
        engine.finish_failed(run_claim, str(exc))
        engine.fail_parts(run_claim.run)
        return "failed"
    except TRANSIENT as exc:
        retries = self.request.retries
        if retries < settings.CHECK_MAX_ATTEMPTS - 1:
            logger.warning("Check run part %s: transient error, retrying: %s", part_id, exc)
            engine.requeue_part(claimed)
            raise self.retry(exc=exc, countdown=min(60, 5 * 2**retries), max_retries=settings.CHECK_MAX_ATTEMPTS)
        engine.finish_failed(
            run_claim, f"Gave up on a part after {retries + 1} attempts; the last error was temporary: {exc}"
        )
        engine.fail_parts(run_claim.run)
        return "failed"
    except Exception as exc:
        logger.exception("Check run part %s failed unexpectedly", part_id)
        engine.finish_failed(
            run_claim,
            f"A part of the check stopped on an internal error ({type(exc).__name__}: {exc}). "
            "The worker log has the details.",
        )
        engine.fail_parts(run_claim.run)
        return "failed"
    finally:
        if heartbeat is not None:
            heartbeat.stop()
    engine.finish_succeeded(run_claim, outcome)
    return "succeeded"


def enqueue_part(part_id: int) -> None:
    execute_check_part.delay(part_id)


@shared_task(acks_late=True, ignore_result=True)
def reap_stale_runs() -> dict[str, int]:
    """Recover runs and parts whose worker died (periodic, and when a worker starts)."""
    from audits.reports.services import reap_stale_reports

    parts = engine.reap_stale_parts(enqueue_part)
    runs = engine.reap_stale_runs(enqueue)
    return {
        "reports_failed": reap_stale_reports(),
        "runs_requeued": runs["requeued"],
        "runs_failed": runs["failed"],
        "parts_requeued": parts["requeued"],
        "parts_failed": parts["failed"],
    }


@shared_task(acks_late=True, ignore_result=True)
def run_scheduled_checks() -> int:
    """Re-run checks whose AI system's policy asks for periodic runs (from Celery beat)."""
    from audits.services.runs import schedule_due_checks

    return schedule_due_checks()


@shared_task(acks_late=True, ignore_result=True)
def generate_report(report_id: int) -> str:
    """Generate one queued audit report (snapshot, hash, PDF); see ``audits.reports.services``."""
    from audits.reports.services import generate

    try:
        return generate(report_id)
    except Exception:
        logger.exception("Report %s failed", report_id)
        return "failed"
