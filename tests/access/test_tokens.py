"""API tokens: the create_api_token command and Bearer authentication."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from access.actors import Actor
from access.models import ApiToken
from access.services import do_create_api_token, do_set_membership
from tests.conftest import SYSTEM, Personas
from trail.models import AuditEntry


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_only_the_new_key(personas: Personas) -> None:
    out, err = run("contributor", "--team", "alpha", "--scope", "write", "--name", "airflow")
    key = out.strip()
    assert out == key + "\n" and err == ""
    assert key.startswith("cus_") and " " not in key
    token = ApiToken.objects.get(prefix=key[:12])
    assert (token.name, token.scope, token.team.slug, token.user.username) == (
        "airflow",
        "write",
        "alpha",
        "contributor",
    )
    assert key not in token.key_hash
    assert AuditEntry.objects.filter(action="create", object_id=str(token.uuid)).exists()
    client = personas.client(token=key)
    assert client.get("/api/v1/datasets/").status_code == 200
    assert client.post("/api/v1/datasets/", {"name": "CLI", "owner_team": "alpha"}, format="json").status_code == 201


def test_the_command_defaults_to_a_read_token(personas: Personas) -> None:
    key = run("auditor", "--team", "alpha")[0].strip()
    token = ApiToken.objects.get(prefix=key[:12])
    assert token.scope == "read" and token.name == "command line"
    client = personas.client(token=key)
    assert client.get("/api/v1/datasets/").status_code == 200
    assert client.post("/api/v1/datasets/", {"name": "No", "owner_team": "alpha"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "--team", "alpha"), "No active user"),
        (("contributor", "--team", "gamma"), "No team"),
        (("contributor", "--team", "beta"), "own teams"),
        (("auditor", "--team", "alpha", "--scope", "write"), "cannot create write tokens"),
        (("contributor", "--team", "alpha", "--name", "   "), "name"),
        (("contributor", "--team", "alpha", "--scope", "root"), "invalid choice"),
    ],
)
def test_the_command_refuses_with_a_clear_error(personas: Personas, args: tuple[str, ...], message: str) -> None:
    before = ApiToken.objects.count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert ApiToken.objects.count() == before


def test_the_command_refuses_an_inactive_user(personas: Personas) -> None:
    personas.contributor.is_active = False
    personas.contributor.save()
    with pytest.raises(CommandError, match="No active user"):
        run("contributor", "--team", "alpha")


# Bearer authentication


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer cus_x extra", "Bearer not-our-token", "Bearer cus_wrongwrongwrong"],
)
def test_malformed_or_unknown_bearer_tokens_are_401(personas: Personas, header: str) -> None:
    client = personas.client()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/datasets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_401(personas: Personas) -> None:
    issued = do_create_api_token(actor=Actor(user=personas.contributor), team=personas.team, name="short")
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert personas.client(token=issued.key).get("/api/v1/datasets/").status_code == 401


def test_a_token_stops_working_when_its_owner_leaves_the_team(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    assert client.get("/api/v1/datasets/").status_code == 200
    do_set_membership(actor=SYSTEM, team=personas.team, user=personas.contributor, member=False)
    assert client.get("/api/v1/datasets/").status_code == 401


def test_using_a_token_records_when_it_was_last_used(personas: Personas) -> None:
    token = ApiToken.objects.get(name="read")
    assert token.last_used_at is None
    personas.client(token=personas.read_token).get("/api/v1/teams/")
    token.refresh_from_db()
    assert token.last_used_at is not None
