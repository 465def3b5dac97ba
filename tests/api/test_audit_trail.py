"""The audit-trail API: the entries of the requester's teams, filterable, and strictly read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.actors import Actor
from registry.models import Dataset
from registry.services import do_create_asset, do_transition_model_version
from tests.api.conftest import BetaObjects
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry

TRAIL = "/api/v1/audit-trail/"


def listed(client: object, **params: object) -> list[dict]:
    response = client.get(TRAIL, {"page_size": 500, **params})  # type: ignore[attr-defined]
    assert response.status_code == 200, response.data
    return list(response.data["results"])


def test_members_see_their_teams_entries_newest_first(personas: Personas, catalogue: Catalogue) -> None:
    entries = listed(personas.client(personas.auditor))
    assert entries, "the catalogue's creation is recorded"
    assert {e["team"] for e in entries} == {"alpha"}
    assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries), reverse=True)
    ids = {e["object_id"] for e in entries}
    assert {str(catalogue.dataset.uuid), str(catalogue.model_version.uuid), str(catalogue.system.uuid)} <= ids
    expected = AuditEntry.objects.filter(team_slug="alpha").count()
    assert len(entries) == expected


def test_an_outsider_does_not_see_alphas_entries(personas: Personas, catalogue: Catalogue, beta: BetaObjects) -> None:
    entries = listed(personas.client(personas.outsider))
    assert entries
    assert {e["team"] for e in entries} == {"beta"}
    alpha_ids = {str(catalogue.dataset.uuid), str(catalogue.system.uuid), str(catalogue.model_version.uuid)}
    assert not alpha_ids & {e["object_id"] for e in entries}
    alpha_entry = AuditEntry.objects.filter(team_slug="alpha").first()
    assert alpha_entry is not None
    assert personas.client(personas.outsider).get(f"{TRAIL}{alpha_entry.seq}/").status_code == 404
    assert personas.client(personas.contributor).get(f"{TRAIL}{alpha_entry.seq}/").status_code == 200


def test_a_token_sees_its_teams_entries(personas: Personas, catalogue: Catalogue, beta: BetaObjects) -> None:
    assert {e["team"] for e in listed(personas.client(token=personas.read_token))} == {"alpha"}
    assert personas.client(token=personas.revoked_token).get(TRAIL).status_code == 401
    assert personas.client().get(TRAIL).status_code == 401


def test_an_administrator_sees_every_entry(personas: Personas, catalogue: Catalogue, beta: BetaObjects) -> None:
    entries = listed(personas.client(personas.admin))
    assert len(entries) == AuditEntry.objects.count()
    assert {"alpha", "beta", ""} <= {e["team"] for e in entries}  # role changes belong to no team


def test_an_entry_shows_who_did_what_and_its_chain_link(personas: Personas, catalogue: Catalogue) -> None:
    do_transition_model_version(catalogue.model_version, actor=Actor(user=personas.contributor), to_stage="in_review")
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    body = personas.client(personas.auditor).get(f"{TRAIL}{entry.seq}/").data
    assert body["actor"] == "contributor"
    assert body["action"] == "transition"
    assert body["object_type"] == "registry.modelversion"
    assert body["changes"]["stage"] == {"from": "draft", "to": "in_review"}
    assert (body["prev_hash"], body["entry_hash"]) == (entry.prev_hash, entry.entry_hash)


def test_the_trail_filters_by_actor_action_object_team_and_time(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    pipeline = personas.client(token=personas.write_token)
    created = pipeline.post("/api/v1/datasets/", {"name": "From a pipeline", "owner_team": "alpha"}, format="json")
    assert created.status_code == 201
    admin = personas.client(personas.admin)

    by_object = listed(admin, object_id=created.data["uuid"])
    assert [(e["action"], e["actor"]) for e in by_object] == [
        ("create", f"contributor (token {personas.write_token[:12]}…)")
    ]
    # A user's entries include those made through their tokens.
    by_actor = listed(admin, actor="contributor")
    assert created.data["uuid"] in {e["object_id"] for e in by_actor}
    assert {e["actor"].split(" ")[0] for e in by_actor} == {"contributor"}
    assert {e["action"] for e in listed(admin, action="grant")} == {"grant"}
    both = listed(admin, action=["grant", "revoke"])
    assert {e["action"] for e in both} == {"grant", "revoke"}
    assert {e["object_type"] for e in listed(admin, object_type="registry.dataset")} == {"registry.dataset"}
    assert {e["team"] for e in listed(admin, team="beta")} == {"beta"}
    future = (timezone.now() + timedelta(days=1)).isoformat()
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert listed(admin, since=future) == []
    assert len(listed(admin, since=past)) == AuditEntry.objects.count()
    assert listed(admin, until=past) == []


@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"until": "2026-13-40"}, {"action": "erase"}])
def test_invalid_trail_filters_are_400(personas: Personas, catalogue: Catalogue, params: dict) -> None:
    response = personas.client(personas.admin).get(TRAIL, params)
    assert response.status_code == 400
    assert next(iter(params)) in response.data


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_trail_cannot_be_written(personas: Personas, catalogue: Catalogue, method: str) -> None:
    entry = AuditEntry.objects.filter(team_slug="alpha").order_by("-seq").first()
    assert entry is not None
    before = list(AuditEntry.objects.values_list("seq", "entry_hash"))
    client = personas.client(personas.admin)
    url = TRAIL if method == "post" else f"{TRAIL}{entry.seq}/"
    response = getattr(client, method)(url, {"action": "delete", "changes": {}}, format="json")
    assert response.status_code == 405
    assert list(AuditEntry.objects.values_list("seq", "entry_hash")) == before


def test_trail_list_queries_do_not_grow_with_the_page_size(personas: Personas, catalogue: Catalogue) -> None:
    for n in range(3):
        do_create_asset(
            Dataset, actor=Actor(user=personas.contributor), data={"name": f"D{n}", "owner_team": personas.team}
        )
    client = personas.client(personas.contributor)
    client.get(TRAIL)
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(TRAIL, {"page_size": 5}).data["results"]) == 5
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(TRAIL, {"page_size": 50}).data["results"]) > 5
    assert len(small.captured_queries) == len(large.captured_queries)
