"""A check run survives its worker being killed: the next worker re-runs it, or fails it with the reason.

Real worker processes on the configured broker; the first is SIGKILLed (pool child and parent)
while it computes, as a crash or the OOM killer would. The second worker runs beat, whose reaper
finds the run's heartbeat stale and queues it again (or gives up when attempts are exhausted).
Heartbeat and staleness are shortened through the environment to keep the test quick.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.choices import CheckKind, RunState
from audits.models import CheckRun
from audits.services import do_request_check
from config.celery import app as celery_app
from tests.worker.processes import start_worker, wait_for

pytestmark = pytest.mark.worker

FAST_RECOVERY = {"CHECK_HEARTBEAT_SECONDS": "1", "CHECK_STALE_SECONDS": "3", "CHECK_REAP_INTERVAL_SECONDS": "1"}
RECOVERY_TIMEOUT = 120.0


def large_predictions(rows: int = 1_500_000) -> bytes:
    rng = random.Random(7)
    block = "".join(
        f"{int(rng.random() < 0.5)},{int(rng.random() < 0.6)},{rng.choice('fm')},{rng.choice('abc')}\n"
        for _ in range(10_000)
    )
    return ("label,prediction,sex,age\n" + block * (rows // 10_000)).encode()


@pytest.fixture
def worker_env(transactional_db: Any, settings: Any, tmp_path: Any) -> Iterator[Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    # The app reads Django's CELERY_* settings (namespace CELERY), so that is the key to set.
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.control.purge()
    workers: list[Any] = []
    yield tmp_path, workers
    for worker in workers:
        worker.stop()
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


def start_slow_check(personas: Any, catalogue: Any) -> CheckRun:
    return do_request_check(
        CheckKind.BIAS,
        actor=personas.actor(personas.contributor),
        target=catalogue.model_version,
        # Small chunks: many progress steps, so the run is caught (and killed) mid-way.
        parameters={
            "mode": "classification",
            "y_true": "label",
            "y_pred": "prediction",
            "sensitive": ["sex", "age"],
            "chunk_rows": 5000,
        },
        input_file=SimpleUploadedFile("large.csv", large_predictions()),
    )


def run_state(run: CheckRun) -> CheckRun:
    return CheckRun.objects.get(pk=run.pk)


def kill_mid_run(worker_env: Any, personas: Any, catalogue: Any) -> CheckRun:
    tmp_path, workers = worker_env
    first = start_worker(tmp_path, extra_env=FAST_RECOVERY)
    workers.append(first)
    run = start_slow_check(personas, catalogue)
    wait_for(
        lambda: (lambda r: r.state == RunState.RUNNING and r.progress >= 0.05)(run_state(run)),
        60,
        "the check to start computing",
        first,
    )
    first.kill()
    killed = run_state(run)
    assert killed.state == RunState.RUNNING  # nobody has noticed yet: the heartbeat just stops
    assert killed.progress < 1.0
    return killed


def test_a_run_whose_worker_is_killed_completes_on_another_worker(worker_env, personas, catalogue):
    run = kill_mid_run(worker_env, personas, catalogue)
    tmp_path, workers = worker_env
    started = time.monotonic()
    second = start_worker(tmp_path, beat=True, extra_env=FAST_RECOVERY)
    workers.append(second)

    done = wait_for(
        lambda: (lambda r: r if r.is_finished else None)(run_state(run)),
        RECOVERY_TIMEOUT,
        "the killed run to be re-run to the end",
        second,
    )
    assert done.state == RunState.SUCCEEDED, done.error
    assert done.attempts == 2
    assert done.verdict in ("pass", "warn", "fail", "inconclusive")
    assert done.metrics["metrics"]["rows"] == 1_500_000
    assert time.monotonic() - started < RECOVERY_TIMEOUT


def test_a_run_whose_worker_is_killed_fails_with_the_reason_when_attempts_are_exhausted(
    worker_env, personas, catalogue
):
    run = kill_mid_run(worker_env, personas, catalogue)
    tmp_path, workers = worker_env
    second = start_worker(tmp_path, beat=True, extra_env={**FAST_RECOVERY, "CHECK_MAX_ATTEMPTS": "1"})
    workers.append(second)

    done = wait_for(
        lambda: (lambda r: r if r.is_finished else None)(run_state(run)),
        RECOVERY_TIMEOUT,
        "the killed run to be given up",
        second,
    )
    assert done.state == RunState.FAILED
    assert "stopped responding" in done.error and "started 1 time(s)" in done.error
    assert done.attempts == 1
