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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from access.actors import Actor
from audits.choices import RunState
from audits.models import CheckRun, CheckRunPart, Finding
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
        # A run queued again starts over: parts of an earlier attempt are dropped.
        CheckRunPart.objects.filter(run=run).delete()
        run.parts_total = 0
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
                "parts_total",
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

    def beat(self) -> None:
        _mine(self.claimed).update(heartbeat_at=timezone.now())

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.CHECK_HEARTBEAT_SECONDS):
                try:
                    self.beat()
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
    unfinished_parts = CheckRunPart.objects.filter(run=OuterRef("pk"), state__in=[RunState.QUEUED, RunState.RUNNING])
    # A run split into parts is alive while its parts are (``reap_stale_parts`` looks after them).
    stale = (
        CheckRun.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=cutoff)
        .exclude(Exists(unfinished_parts))
        .values_list("pk", "attempts")
    )
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


# Runs split into parts -------------------------------------------------------------------------


def fan_out(claimed: Claim, parts: list[dict[str, Any]], enqueue_part: Callable[[int], None]) -> None:
    """Record the parts of a claimed run and queue them; the run stays "running" until the last part ends."""
    run = claimed.run
    with transaction.atomic():
        CheckRunPart.objects.bulk_create(
            [CheckRunPart(run=run, index=i, parameters=parameters) for i, parameters in enumerate(parts)]
        )
        _mine(claimed).update(
            parts_total=len(parts), progress_message=f"Split into {len(parts)} parts", heartbeat_at=timezone.now()
        )
        ids = list(CheckRunPart.objects.filter(run=run).order_by("index").values_list("pk", flat=True))

        def enqueue_all() -> None:
            for pk in ids:
                enqueue_part(pk)

        transaction.on_commit(enqueue_all)


@dataclass
class PartClaim:
    part: CheckRunPart
    run: Claim


def claim_part(part_id: int, worker: str) -> PartClaim | None:
    now = timezone.now()
    with transaction.atomic():
        part = CheckRunPart.objects.select_for_update().select_related("run").filter(pk=part_id).first()
        if part is None or part.state != RunState.QUEUED:
            return None
        run = part.run
        if run.state != RunState.RUNNING or run.cancel_requested:
            part.state = RunState.CANCELLED
            part.save(update_fields=["state"])
            return None
        part.state, part.worker, part.heartbeat_at = RunState.RUNNING, worker[:200], now
        part.attempts += 1
        part.save(update_fields=["state", "worker", "heartbeat_at", "attempts"])
        CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
    return PartClaim(part, Claim(run, run.attempts))


def _part_mine(claimed: PartClaim) -> Any:
    return CheckRunPart.objects.filter(pk=claimed.part.pk, state=RunState.RUNNING, attempts=claimed.part.attempts)


class PartProgressReporter:
    """Progress of one part: the run's bar shows finished parts plus this part's share."""

    def __init__(self, claimed: PartClaim) -> None:
        self.claimed = claimed
        self.last_write = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write = now
        stamp = timezone.now()
        run = self.claimed.run.run
        _part_mine(self.claimed).update(heartbeat_at=stamp)
        done = CheckRunPart.objects.filter(run=run, state=RunState.SUCCEEDED).count()
        total = max(1, run.parts_total or CheckRunPart.objects.filter(run=run).count())
        _mine(self.claimed.run).update(
            heartbeat_at=stamp,
            progress=min(1.0, (done + max(0.0, min(1.0, fraction))) / total),
            progress_message=f"{done} of {total} parts done — {message}"[:300],
        )
        state = CheckRun.objects.filter(pk=run.pk).values_list("cancel_requested", "state").first()
        if state is None or state[0] or state[1] != RunState.RUNNING:
            raise CheckCancelled


class PartHeartbeat(Heartbeat):
    def __init__(self, claimed: PartClaim) -> None:
        super().__init__(claimed.run)
        self.part_claim = claimed

    def beat(self) -> None:
        stamp = timezone.now()
        _part_mine(self.part_claim).update(heartbeat_at=stamp)
        _mine(self.claimed).update(heartbeat_at=stamp)


def finish_part(claimed: PartClaim, partial: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Store a part's result; for the part that completes the run, return every partial in order."""
    run = claimed.run.run
    now = timezone.now()
    with transaction.atomic():
        locked = CheckRun.objects.select_for_update().filter(pk=run.pk, state=RunState.RUNNING).first()
        if locked is None or locked.attempts != claimed.run.attempt:
            return None
        if not _part_mine(claimed).update(state=RunState.SUCCEEDED, partial=partial, finished_at=now, heartbeat_at=now):
            return None
        parts = list(CheckRunPart.objects.filter(run=run).order_by("index").values_list("state", "partial"))
        done = sum(1 for state, _partial in parts if state == RunState.SUCCEEDED)
        total = locked.parts_total or len(parts)
        _mine(claimed.run).update(
            heartbeat_at=now, progress=done / total, progress_message=f"{done} of {total} parts done"
        )
        if done < total:
            return None
        return [p for _state, p in parts]


def requeue_part(claimed: PartClaim) -> bool:
    return bool(_part_mine(claimed).update(state=RunState.QUEUED, enqueued_at=timezone.now(), heartbeat_at=None))


def fail_parts(run: CheckRun) -> None:
    CheckRunPart.objects.filter(run=run, state__in=[RunState.QUEUED, RunState.RUNNING]).update(state=RunState.CANCELLED)


def reap_stale_parts(enqueue_part: Callable[[int], None]) -> dict[str, int]:
    """Queue again the parts whose worker died (or whose message was lost); fail the run when they keep dying."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.CHECK_STALE_SECONDS)
    lost_cutoff = now - timedelta(seconds=settings.CHECK_PART_REQUEUE_SECONDS)
    requeued = failed = 0
    stale = CheckRunPart.objects.filter(run__state=RunState.RUNNING).filter(
        Q(state=RunState.RUNNING, heartbeat_at__lt=cutoff) | Q(state=RunState.QUEUED, enqueued_at__lt=lost_cutoff)
    )
    for part_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            part = CheckRunPart.objects.select_for_update().select_related("run").filter(pk=part_id).first()
            if part is None or part.run.state != RunState.RUNNING:
                continue
            lost = part.state == RunState.QUEUED and part.enqueued_at < lost_cutoff
            dead = part.state == RunState.RUNNING and part.heartbeat_at is not None and part.heartbeat_at < cutoff
            if not (lost or dead):
                continue
            if dead and part.attempts >= settings.CHECK_MAX_ATTEMPTS:
                run = part.run
                reason = (
                    f"Part {part.index + 1} of {run.parts_total}: the worker computing it ({part.worker}) stopped "
                    f"responding; it was started {part.attempts} time(s) and the check is given up."
                )
                CheckRun.objects.filter(pk=run.pk, state=RunState.RUNNING).update(
                    state=RunState.FAILED, finished_at=now, error=reason
                )
                fail_parts(run)
                record(
                    "update",
                    actor=ENGINE_ACTOR,
                    obj=run,
                    team_slug=team_slug(run),
                    changes={"state": {"from": RunState.RUNNING, "to": RunState.FAILED}, "reason": "worker lost"},
                )
                failed += 1
                continue
            part.state, part.enqueued_at = RunState.QUEUED, now
            part.save(update_fields=["state", "enqueued_at"])
            transaction.on_commit(partial(enqueue_part, part.pk))
            requeued += 1
    return {"requeued": requeued, "failed": failed}
