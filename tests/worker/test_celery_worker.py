"""A real ``celery -A config worker`` process runs the audit-trail verification task.

The worker is a separate process on the configured broker (kombu's filesystem transport by
default, Redis when CELERY_BROKER_URL says so) and opens the test database itself (the SQLite test
database is a file for this reason; on PostgreSQL it is ``test_<name>``). Tests commit their data
(``transactional_db``) so that the worker can see it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from access.actors import Actor
from access.services import do_create_team
from config.celery import app as celery_app
from trail.models import AuditEntry
from trail.services import verify_chain
from trail.tasks import verify_audit_trail

pytestmark = pytest.mark.worker

STARTUP_TIMEOUT = 60.0
TASK_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the database this test process uses, for the worker to open the same one."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("The worker tests need a file SQLite test database (see DATABASES TEST NAME).")
        return f"sqlite:///{Path(name).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or ""
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"
    pytest.skip(f"No worker test set-up for {engine}.")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, worker: WorkerProcess) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if worker.process.poll() is not None:
            pytest.fail(f"The worker exited ({worker.process.returncode}) while waiting for {what}:\n{worker.log()}")
        time.sleep(0.25)
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}. Worker log:\n{worker.log()}")


@pytest.fixture(scope="module")
def celery_worker(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    # The point is a worker in another process: never let a test setting run tasks inline.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # messages left by earlier runs would be run by this worker
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CUSTODIA_TESTING": "1",  # the same broker folder (var/broker-test) as this process
            "CUSTODIA_VAR_DIR": str(settings.VAR_DIR),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "info",
        }
    )
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--pool=prefork",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=custodia-test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(process, log_path)
    try:
        wait_for(lambda: " ready." in worker.log(), STARTUP_TIMEOUT, "the worker to start", worker)
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        celery_app.conf.task_always_eager = eager


def verification_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="verify").order_by("seq"))


def test_a_worker_process_verifies_the_trail_and_records_the_outcome(transactional_db, celery_worker):
    do_create_team(actor=Actor.for_system("tests"), slug="alpha", name="Alpha")
    do_create_team(actor=Actor.for_system("tests"), slug="beta", name="Beta")
    existing = AuditEntry.objects.count()
    assert existing == 2

    verify_audit_trail.delay()

    [entry] = wait_for(verification_entries, TASK_TIMEOUT, "the verify entry", celery_worker)
    assert entry.actor_label == "system:celery:verify_audit_trail"
    assert entry.actor is None
    assert entry.seq == existing + 1
    assert entry.changes == {"checked": existing, "ok": True, "broken_seq": None}
    assert verify_chain().ok  # the worker's append keeps the chain intact
    wait_for(lambda: "succeeded" in celery_worker.log(), 10, "the task's success in the worker log", celery_worker)
    assert "trail.tasks.verify_audit_trail" in celery_worker.log()


def test_a_worker_process_reports_a_broken_chain(transactional_db, celery_worker):
    for slug in ("alpha", "beta", "gamma"):
        do_create_team(actor=Actor.for_system("tests"), slug=slug, name=slug.title())
    tampered = AuditEntry.objects.get(seq=2)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET actor_label = %s WHERE id = %s",
            ["mallory", tampered.pk],
        )

    verify_audit_trail.delay()

    [entry] = wait_for(verification_entries, TASK_TIMEOUT, "the verify entry", celery_worker)
    assert entry.actor_label == "system:celery:verify_audit_trail"
    assert entry.changes["ok"] is False
    assert entry.changes["broken_seq"] == 2
    wait_for(
        lambda: "Audit trail broken at entry #2" in celery_worker.log(),
        10,
        "the error in the worker log",
        celery_worker,
    )
