"""The MLflow servers settings: who may configure and see them, validation, claiming a sync, the schedule.

None of these needs an MLflow server (test_mlflow_sync.py starts a real one): a server that does
not exist is enough to see how a sync that cannot connect ends.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from access.actors import Actor
from registry.choices import MlflowCredentialSource, MlflowSyncStatus
from registry.mlflow.runs import claim, run_sync
from registry.mlflow.services import do_create_mlflow_server, do_update_mlflow_server
from registry.models import MlflowServer
from tests.conftest import Personas
from trail.models import AuditEntry


def closed_port_uri() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def quick_failures(settings: Any) -> None:
    settings.MLFLOW_SYNC_HTTP_RETRIES = 0
    settings.MLFLOW_SYNC_MAX_ATTEMPTS = 1


@pytest.fixture
def eager_celery() -> Iterator[None]:
    from config.celery import app as celery_app

    # The app reads Django's CELERY_* settings: ``conf.task_always_eager = …`` would not stick.
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


@pytest.fixture
def server(personas: Personas) -> MlflowServer:
    return do_create_mlflow_server(
        actor=Actor(user=personas.admin),
        data={
            "name": "prod",
            "tracking_uri": closed_port_uri(),
            "auth_source": MlflowCredentialSource.NONE,
            "auth_name": "",
            "owner_team": personas.team,
            "enabled": True,
            "write_back": False,
        },
    )


FORM = {
    "name": "research",
    "tracking_uri": "https://mlflow.example.org",
    "auth_source": "env",
    "auth_name": "MLFLOW_RESEARCH",
    "enabled": "on",
}


def test_an_administrator_adds_a_server_and_the_change_is_audited(personas: Personas) -> None:
    response = signed_in(personas.admin).post("/mlflow/new/", {**FORM, "owner_team": personas.team.pk})

    server = MlflowServer.objects.get(name="research")
    assert response.status_code == 302 and response["Location"] == f"/mlflow/{server.uuid}/"
    assert (server.auth_source, server.auth_name, server.write_back) == ("env", "MLFLOW_RESEARCH", False)
    assert server.status == MlflowSyncStatus.NEVER
    entry = AuditEntry.objects.get(object_id=str(server.uuid))
    assert entry.action == "create" and entry.actor_label == "admin" and entry.team_slug == "alpha"
    assert entry.changes["auth_name"] == "MLFLOW_RESEARCH" and entry.changes["tracking_uri"] == FORM["tracking_uri"]


def test_an_edit_is_audited_as_a_diff(personas: Personas, server: MlflowServer) -> None:
    response = signed_in(personas.admin).post(
        f"/mlflow/{server.uuid}/edit/",
        {
            **FORM,
            "name": "prod",
            "tracking_uri": server.tracking_uri,
            "owner_team": personas.team.pk,
            "write_back": "on",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(object_id=str(server.uuid)).latest("seq")
    assert entry.action == "update"
    assert entry.changes["write_back"] == {"from": False, "to": True}
    assert entry.changes["auth_name"] == {"from": "", "to": "MLFLOW_RESEARCH"}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("tracking_uri", "ftp://mlflow.example.org", "http:// or https://"),
        ("auth_name", "DATABASE", "starts with MLFLOW_"),
    ],
)
def test_the_form_refuses_what_could_not_work_or_would_leak(
    personas: Personas, field: str, value: str, error: str
) -> None:
    response = signed_in(personas.admin).post("/mlflow/new/", {**FORM, "owner_team": personas.team.pk, field: value})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not MlflowServer.objects.exists()


def test_a_secret_file_is_named_not_pathed(personas: Personas) -> None:
    data = {**FORM, "owner_team": personas.team, "auth_source": "file", "auth_name": "../../etc/passwd"}
    data.pop("enabled")
    with pytest.raises(ValidationError, match="no folder"):
        do_create_mlflow_server(actor=Actor(user=personas.admin), data=data)


@pytest.mark.parametrize("who", ["officer", "contributor", "auditor", "outsider"])
def test_only_administrators_configure_servers(personas: Personas, server: MlflowServer, who: str) -> None:
    user = getattr(personas, who)
    with pytest.raises(PermissionDenied):
        do_update_mlflow_server(server, actor=Actor(user=user), data={"write_back": True})
    client = signed_in(user)
    assert client.get("/mlflow/new/").status_code == 403
    expected = 404 if who == "outsider" else 403  # what they cannot see does not exist for them
    assert client.get(f"/mlflow/{server.uuid}/edit/").status_code == expected
    assert client.post(f"/mlflow/{server.uuid}/sync/").status_code == expected


@pytest.mark.parametrize("who", ["contributor", "auditor", "officer"])
def test_a_team_sees_the_status_of_servers_importing_into_it(
    personas: Personas, server: MlflowServer, who: str
) -> None:
    MlflowServer.objects.filter(pk=server.pk).update(
        status=MlflowSyncStatus.UNAUTHORIZED, status_message="The MLflow server refused the credentials."
    )
    client = signed_in(getattr(personas, who))

    listing = client.get("/mlflow/").content.decode()
    detail = client.get(f"/mlflow/{server.uuid}/")

    assert "prod" in listing and "Credentials refused" in listing
    assert 'data-testid="create-button"' not in listing
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "The MLflow server refused the credentials." in page
    assert 'data-testid="sync-button"' not in page and 'data-testid="edit-button"' not in page


def test_outsiders_see_no_server_of_another_team(personas: Personas, server: MlflowServer) -> None:
    client = signed_in(personas.outsider)
    assert "prod" not in client.get("/mlflow/").content.decode()
    assert client.get(f"/mlflow/{server.uuid}/").status_code == 404


def test_administrators_see_every_server_and_may_sync_it(personas: Personas, server: MlflowServer) -> None:
    MlflowServer.objects.create(name="beta-server", tracking_uri="http://x.invalid", owner_team=personas.other_team)
    page = signed_in(personas.admin).get("/mlflow/").content.decode()
    assert "prod" in page and "beta-server" in page and 'data-testid="create-button"' in page
    detail = signed_in(personas.admin).get(f"/mlflow/{server.uuid}/").content.decode()
    assert 'data-testid="sync-button"' in detail


def test_the_server_list_costs_the_same_queries_for_many_servers(
    personas: Personas, server: MlflowServer, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        MlflowServer.objects.create(name=f"extra-{n}", tracking_uri="http://x.invalid", owner_team=personas.team)
    client = signed_in(personas.admin)
    with django_assert_max_num_queries(8):
        assert client.get("/mlflow/").status_code == 200


def test_sync_now_queues_a_sync_that_reports_an_unreachable_server(
    personas: Personas, server: MlflowServer, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in(personas.admin).post(f"/mlflow/{server.uuid}/sync/")

    assert response.status_code == 302 and len(callbacks) == 1
    server.refresh_from_db()
    assert server.status == MlflowSyncStatus.UNREACHABLE
    assert "connection refused" in server.status_message
    page = signed_in(personas.contributor).get(f"/mlflow/{server.uuid}/").content.decode()
    assert "Server unreachable" in page and "connection refused" in page


def test_the_beat_schedule_syncs_every_enabled_server(
    personas: Personas, server: MlflowServer, eager_celery: None
) -> None:
    from registry.tasks import sync_mlflow_servers

    disabled = MlflowServer.objects.create(
        name="off", tracking_uri=closed_port_uri(), owner_team=personas.team, enabled=False
    )
    entry = settings.CELERY_BEAT_SCHEDULE["sync-mlflow-servers"]
    assert entry["task"] == "registry.tasks.sync_mlflow_servers" and entry["schedule"] >= 60

    assert sync_mlflow_servers.apply().get() == 1

    server.refresh_from_db()
    disabled.refresh_from_db()
    assert server.status == MlflowSyncStatus.UNREACHABLE
    assert disabled.status == MlflowSyncStatus.NEVER


def test_a_server_is_synced_by_one_worker_at_a_time_and_a_lost_claim_is_taken_over(
    personas: Personas, server: MlflowServer
) -> None:
    assert claim(server.pk) is not None
    assert claim(server.pk) is None  # another worker holds it
    outcome = run_sync(server.pk)
    assert outcome.status == "skipped"

    long_ago = timezone.now() - timedelta(seconds=settings.MLFLOW_SYNC_STALE_SECONDS + 1)
    MlflowServer.objects.filter(pk=server.pk).update(sync_started_at=long_ago)  # its worker died
    assert claim(server.pk) is not None


def test_an_internal_error_still_finishes_the_sync_with_a_status(
    personas: Personas, server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import registry.mlflow.sync

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(registry.mlflow.sync, "sync_server", broken)
    outcome = run_sync(server.pk)

    server.refresh_from_db()
    assert outcome.status == server.status == MlflowSyncStatus.FAILED
    assert "internal error (RuntimeError: a bug)" in server.status_message
    assert server.sync_finished_at is not None


def test_the_audit_trail_links_to_the_server_page(personas: Personas, server: MlflowServer) -> None:
    entry = AuditEntry.objects.get(object_id=str(server.uuid))
    page = signed_in(personas.admin).get(f"/audit-trail/{entry.seq}/")
    assert page.status_code == 200
    assert f"/mlflow/{server.uuid}/" in page.content.decode()
