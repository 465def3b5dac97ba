"""A real ``celery -A config worker`` process runs the audit-trail verification task.

The worker is a separate process on the configured broker (kombu's filesystem transport by
default, Redis when CELERY_BROKER_URL says so) and opens the test database itself (the SQLite test
database is a file for this reason; on PostgreSQL it is ``test_<name>``). Tests commit their data
(``transactional_db``) so that the worker can see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from access.actors import Actor
from access.services import do_create_team
from config.celery import app as celery_app
from tests.worker.processes import WorkerProcess, start_worker, wait_for
from trail.models import AuditEntry
from trail.services import verify_chain
from trail.tasks import verify_audit_trail

pytestmark = pytest.mark.worker

TASK_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def celery_worker(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    # The point is a worker in another process: never let a test setting run tasks inline.
    # The app reads Django's CELERY_* settings (namespace CELERY), so that is the key to set.
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.control.purge()  # messages left by earlier runs would be run by this worker
    worker = start_worker(tmp_path_factory.mktemp("celery"))
    try:
        yield worker
    finally:
        worker.stop()
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


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
