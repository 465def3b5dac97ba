"""Running a check: claim the run, report progress and heartbeats, finish it, and recover lost runs.

Every state change is a conditional UPDATE keyed on the run's state and attempt number, so a
redelivered message, a second worker or a worker that comes back after being given up on cannot
overwrite a newer outcome. A worker that dies leaves its run "running" with a heartbeat that stops;
``reap_stale_runs`` (on worker start-up and periodically from beat) queues such runs again, up to
``CHECK_MAX_ATTEMPTS``, and then fails them with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from access.actors import Actor
from audits.choices import RunState
from audits.models import CheckRun, Finding
from audits.runners import CheckCancelled, Outcome
from audits.services.policies import policy_in_force
from trail.services import record

logger = logging.getLogger(__name__)

ENGINE_ACTOR = Actor.for_system("celery:checks")
PROGRESS_INTERVAL = 0.5  # seconds between progress writes


def team_slug(run: CheckRun) -> str:
    team = run.owner_team
    return team.slug if team is not None else ""


@dataclass
class Claim:
    run: CheckRun
    attempt: int


def claim(run_id: int, worker: str) -> Claim | None:
    """Move a queued run to running for this worker; None when it is not (or no longer) queued."""
    now = timezone.now()
    with transaction.atomic():
        run = CheckRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state != RunState.QUEUED:
            return None
        if run.cancel_requested:
            run.state, run.finished_at = RunState.CANCELLED, now
            run.save(update_fields=["state", "finished_at"])
            return None
        run.state = RunState.RUNNING
        run.started_at = run.heartbeat_at = now
        run.attempts = F("attempts") + 1
        run.worker = worker[:200]
        run.progress, run.progress_message, run.error = 0.0, "", ""
        run.policy_version = policy_in_force(run.kind, run.policy_system)
        run.save(
            update_fields=[
                "state",
                "started_at",
                "heartbeat_at",
                "attempts",
                "worker",
                "progress",
                "progress_message",
                "error",
                "policy_version",
            ]
        )
        run.refresh_from_db()
    return Claim(run, run.attempts)


def _mine(claimed: Claim) -> Any:
    return CheckRun.objects.filter(pk=claimed.run.pk, state=RunState.RUNNING, attempts=claimed.attempt)


class ProgressReporter:
    """The ``progress`` callback runners get: throttled writes, and cancellation noticed between steps."""

    def __init__(self, claimed: Claim) -> None:
        self.claimed = claimed
        self.last_write = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write = now
        _mine(self.claimed).update(
            progress=max(0.0, min(1.0, fraction)), progress_message=message[:300], heartbeat_at=timezone.now()
        )
        state = CheckRun.objects.filter(pk=self.claimed.run.pk).values_list("cancel_requested", "state").first()
        if state is None or state[0] or state[1] != RunState.RUNNING:
            raise CheckCancelled


class Heartbeat(threading.Thread):
    """Marks the run alive every few seconds while the runner computes (even in long steps)."""

    def __init__(self, claimed: Claim) -> None:
        super().__init__(name=f"heartbeat-{claimed.run.pk}", daemon=True)
        self.claimed = claimed
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.CHECK_HEARTBEAT_SECONDS):
                try:
                    _mine(self.claimed).update(heartbeat_at=timezone.now())
                except Exception:  # a missed heartbeat is not fatal; the next one may get through
                    logger.warning("Heartbeat of check run %s failed", self.claimed.run.pk, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=settings.CHECK_HEARTBEAT_SECONDS + 5)


def finish_succeeded(claimed: Claim, outcome: Outcome) -> bool:
    run = claimed.run
    now = timezone.now()
    with transaction.atomic():
        updated = _mine(claimed).update(
            state=RunState.SUCCEEDED,
            finished_at=now,
            heartbeat_at=now,
            progress=1.0,
            progress_message="",
            metrics=outcome.metrics,
            verdict=outcome.verdict,
            verdict_reasons=outcome.reasons,
        )
        if not updated:
            return False
        Finding.objects.bulk_create(
            [
                Finding(
                    run=run,
                    severity=item["severity"],
                    title=str(item["title"])[:300],
                    detail=item.get("detail", ""),
                    evidence=item.get("evidence") or {},
                )
                for item in outcome.findings
            ]
        )
        # The previous current run of the same check on the same target is superseded by this one.
        CheckRun.objects.filter(
            kind=run.kind,
            state=RunState.SUCCEEDED,
            superseded_by__isnull=True,
            **{f"{field}_id": getattr(run, f"{field}_id") for field in run.target_fields},
        ).exclude(pk=run.pk).update(superseded_by=run)
        record(
            "update",
            actor=ENGINE_ACTOR,
            obj=run,
            team_slug=team_slug(run),
            changes={
                "state": {"from": RunState.RUNNING, "to": RunState.SUCCEEDED},
                "verdict": outcome.verdict,
                "policy_version": str(run.policy_version.uuid) if run.policy_version else None,
                "findings": len(outcome.findings),
            },
        )
    return True


def finish_failed(claimed: Claim, reason: str, state: str = RunState.FAILED) -> bool:
    run = claimed.run
    now = timezone.now()
    with transaction.atomic():
        updated = _mine(claimed).update(state=state, finished_at=now, heartbeat_at=now, error=reason[:5000])
        if updated:
            record(
                "update",
                actor=ENGINE_ACTOR,
                obj=run,
                team_slug=team_slug(run),
                changes={"state": {"from": RunState.RUNNING, "to": state}, "error": reason[:1000]},
            )
    return bool(updated)


def requeue(claimed: Claim, reason: str) -> bool:
    """Give a running run back to the queue (transient failure); the caller schedules the retry."""
    return bool(_mine(claimed).update(state=RunState.QUEUED, progress_message=reason[:300], heartbeat_at=None))


def reap_stale_runs(enqueue: Any) -> dict[str, int]:
    """Queue again, or fail, runs whose worker stopped sending heartbeats."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHECK_STALE_SECONDS)
    requeued = failed = 0
    stale = CheckRun.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", "attempts")
    for run_id, attempts in list(stale):
        with transaction.atomic():
            run = CheckRun.objects.select_for_update().filter(pk=run_id, state=RunState.RUNNING).first()
            if run is None or run.heartbeat_at is None or run.heartbeat_at >= cutoff:
                continue
            last = run.heartbeat_at
            if run.cancel_requested:
                run.state, run.finished_at = RunState.CANCELLED, timezone.now()
                run.save(update_fields=["state", "finished_at"])
                continue
            if attempts < settings.CHECK_MAX_ATTEMPTS:
                run.state = RunState.QUEUED
                run.progress_message = (
                    f"The worker running this check ({run.worker}) stopped responding after "
                    f"{last:%Y-%m-%d %H:%M:%S} UTC; queued again (attempt {attempts + 1} of "
                    f"{settings.CHECK_MAX_ATTEMPTS})."
                )[:300]
                run.save(update_fields=["state", "progress_message"])
                transaction.on_commit(partial(enqueue, run.pk))
                requeued += 1
                action_state = RunState.QUEUED
            else:
                run.state, run.finished_at = RunState.FAILED, timezone.now()
                run.error = (
                    f"The worker running this check ({run.worker}) stopped responding (last heartbeat "
                    f"{last:%Y-%m-%d %H:%M:%S} UTC); it was started {attempts} time(s) and is given up."
                )
                run.save(update_fields=["state", "finished_at", "error"])
                failed += 1
                action_state = RunState.FAILED
            record(
                "update",
                actor=ENGINE_ACTOR,
                obj=run,
                team_slug=team_slug(run),
                changes={"state": {"from": RunState.RUNNING, "to": action_state}, "reason": "worker lost"},
            )
    if requeued or failed:
        logger.warning("Stale check runs: %s queued again, %s failed", requeued, failed)
    return {"requeued": requeued, "failed": failed}
