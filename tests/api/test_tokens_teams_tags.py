"""The tokens API (key shown once), the requester's teams, tags and search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.actors import Actor
from access.models import ApiToken
from access.services import do_create_api_token
from tests.api.base import rows
from tests.api.conftest import BetaObjects
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry

TOKENS = "/api/v1/tokens/"


def test_a_new_tokens_key_is_shown_once_and_works(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    response = client.post(TOKENS, {"name": "airflow", "team": "alpha", "scope": "write"}, format="json")
    assert response.status_code == 201, response.data
    key = response.data["key"]
    assert key.startswith("cus_") and response.data["prefix"] == key[:12]
    token = ApiToken.objects.get(uuid=response.data["uuid"])
    assert key not in token.key_hash and token.user == personas.contributor and token.scope == "write"
    # Never again: neither the detail nor the list shows the key or its hash.
    for body in (client.get(f"{TOKENS}{token.uuid}/").data, *client.get(TOKENS).data["results"]):
        assert "key" not in body and "key_hash" not in body
        assert key not in str(body)
    pipeline = personas.client(token=key)
    assert pipeline.get("/api/v1/datasets/").status_code == 200
    created = pipeline.post("/api/v1/datasets/", {"name": "From Airflow", "owner_team": "alpha"}, format="json")
    assert created.status_code == 201, created.data


def test_the_token_list_shows_prefix_scope_team_and_use(personas: Personas, catalogue: Catalogue) -> None:
    personas.client(token=personas.read_token).get("/api/v1/datasets/")  # marks it used
    rows_ = personas.client(personas.contributor).get(TOKENS).data["results"]
    by_name = {row["name"]: row for row in rows_}
    assert set(by_name) == {"read", "write", "old"}
    assert by_name["read"]["scope"] == "read" and by_name["read"]["team"] == "alpha"
    assert by_name["read"]["prefix"] == personas.read_token[:12]
    assert by_name["read"]["last_used_at"] is not None
    assert by_name["write"]["last_used_at"] is None
    assert by_name["old"]["revoked_at"] is not None and by_name["old"]["is_active"] is False


def test_users_see_only_their_own_tokens(personas: Personas, catalogue: Catalogue) -> None:
    mine = personas.client(personas.contributor).get(TOKENS).data["results"]
    assert {row["user"] for row in mine} == {"contributor"}
    assert personas.client(personas.officer).get(TOKENS).data["results"] == []
    theirs = ApiToken.objects.get(name="write")
    assert personas.client(personas.officer).get(f"{TOKENS}{theirs.uuid}/").status_code == 404
    assert personas.client(personas.officer).delete(f"{TOKENS}{theirs.uuid}/").status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


@pytest.mark.parametrize("how", ["delete", "post"])
def test_a_revoked_token_stops_working_and_stays_listed(personas: Personas, catalogue: Catalogue, how: str) -> None:
    client = personas.client(personas.contributor)
    pipeline = personas.client(token=personas.write_token)
    assert pipeline.get("/api/v1/datasets/").status_code == 200
    token = ApiToken.objects.get(name="write")
    if how == "delete":
        assert client.delete(f"{TOKENS}{token.uuid}/").status_code == 204
    else:
        response = client.post(f"{TOKENS}{token.uuid}/revoke/")
        assert response.status_code == 200 and response.data["revoked_at"] is not None
    assert pipeline.get("/api/v1/datasets/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="revoke", object_id=str(token.uuid)).count() == 1


def test_an_auditor_may_create_a_read_token_but_not_a_write_token(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.auditor)
    counts = rows(ApiToken)
    response = client.post(TOKENS, {"name": "reports", "team": "alpha", "scope": "write"}, format="json")
    assert response.status_code == 403
    assert rows(ApiToken) == counts
    response = client.post(TOKENS, {"name": "reports", "team": "alpha"}, format="json")
    assert response.status_code == 201
    assert response.data["scope"] == "read"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "team": "beta"}, "team"),
        ({"name": "x", "team": "nope"}, "team"),
        ({"name": "x", "team": "alpha", "scope": "admin"}, "scope"),
        ({"name": "", "team": "alpha"}, "name"),
        ({"name": "x", "team": "alpha", "key": "cus_mine"}, "key"),
        ({"team": "alpha"}, "name"),
    ],
)
def test_invalid_token_requests_are_400(personas: Personas, catalogue: Catalogue, body: dict, field: str) -> None:
    counts = rows(ApiToken)
    response = personas.client(personas.contributor).post(TOKENS, body, format="json")
    assert response.status_code == 400
    assert field in response.data
    assert rows(ApiToken) == counts


def test_a_token_cannot_create_or_list_tokens(personas: Personas, catalogue: Catalogue) -> None:
    pipeline = personas.client(token=personas.write_token)
    counts = rows(ApiToken)
    response = pipeline.post(TOKENS, {"name": "child", "team": "alpha", "scope": "write"}, format="json")
    assert response.status_code == 403
    assert rows(ApiToken) == counts
    assert pipeline.get(TOKENS).data["results"] == []


def test_the_token_list_needs_authentication(personas: Personas, catalogue: Catalogue) -> None:
    assert personas.client().get(TOKENS).status_code == 401
    assert personas.client(token=personas.revoked_token).get(TOKENS).status_code == 401


def test_token_list_queries_do_not_grow_with_the_page_size(personas: Personas, catalogue: Catalogue) -> None:
    for n in range(8):
        do_create_api_token(actor=Actor(user=personas.contributor), team=personas.team, name=f"t{n}")
    client = personas.client(personas.contributor)
    client.get(TOKENS)
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(TOKENS, {"page_size": 5}).data["results"]) == 5
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(TOKENS, {"page_size": 50}).data["results"]) == 11
    assert len(small.captured_queries) == len(large.captured_queries)


# Teams


def test_members_see_only_their_own_teams(personas: Personas) -> None:
    assert [t["slug"] for t in personas.client(personas.contributor).get("/api/v1/teams/").data["results"]] == ["alpha"]
    assert [t["slug"] for t in personas.client(personas.outsider).get("/api/v1/teams/").data["results"]] == ["beta"]
    assert personas.client(personas.outsider).get("/api/v1/teams/alpha/").status_code == 404
    assert personas.client(personas.outsider).get("/api/v1/teams/beta/").data["name"] == "Beta"
    admin_sees = personas.client(personas.admin).get("/api/v1/teams/").data["results"]
    assert {t["slug"] for t in admin_sees} == {"alpha", "beta"}


def test_a_token_sees_only_its_team_even_for_an_administrator(personas: Personas) -> None:
    key = do_create_api_token(actor=Actor(user=personas.admin), team=personas.team, name="admin pipeline").key
    teams = personas.client(token=key).get("/api/v1/teams/").data["results"]
    assert [t["slug"] for t in teams] == ["alpha"]


def test_teams_are_read_only(personas: Personas) -> None:
    client = personas.client(personas.admin)
    assert client.post("/api/v1/teams/", {"slug": "gamma", "name": "Gamma"}, format="json").status_code == 405
    assert client.delete("/api/v1/teams/alpha/").status_code == 405


# Tags


def test_tags_are_listed_only_when_used_on_something_visible(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    mine = {t["slug"] for t in personas.client(personas.contributor).get("/api/v1/tags/").data["results"]}
    theirs = {t["slug"] for t in personas.client(personas.outsider).get("/api/v1/tags/").data["results"]}
    assert mine == {"pii"}
    assert theirs == {"beta-only"}
    assert personas.client(personas.outsider).get("/api/v1/tags/pii/").status_code == 404
    assert personas.client(personas.auditor).get("/api/v1/tags/pii/").data == {"slug": "pii", "name": "pii"}
    assert personas.client(personas.contributor).post("/api/v1/tags/", {"slug": "x"}, format="json").status_code == 405


# Search


def test_search_finds_only_what_the_requester_may_see(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    response = personas.client(personas.contributor).get("/api/v1/search", {"q": "ticket"})
    assert response.status_code == 200, response.data
    found = {(hit["kind"], hit["name"]) for hit in response.data["results"]}
    assert found == {("dataset", "Tickets"), ("dataset", "Synthetic tickets"), ("syntheticgenerator", "Ticket synth")}
    hit = next(h for h in response.data["results"] if h["name"] == "Tickets")
    assert hit["url"].endswith(f"/api/v1/datasets/{catalogue.dataset.uuid}/")
    assert hit["owner_team"] == "alpha"
    assert personas.client(personas.outsider).get("/api/v1/search", {"q": "ticket"}).data["results"] == []
    beta_hits = personas.client(personas.outsider).get("/api/v1/search/", {"q": "beta"}).data["results"]
    assert {h["name"] for h in beta_hits} == {"Beta data", "Beta synth", "Beta model", "Beta prompt"}


def test_search_matches_tags_and_needs_a_query(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(token=personas.read_token)
    assert [h["name"] for h in client.get("/api/v1/search", {"q": "pii"}).data["results"]] == ["Tickets"]
    assert client.get("/api/v1/search").status_code == 400
    assert client.get("/api/v1/search", {"q": ""}).status_code == 400
    assert personas.client().get("/api/v1/search", {"q": "pii"}).status_code == 401


def test_a_write_token_cannot_reach_beyond_its_team(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    pipeline = personas.client(token=personas.write_token)
    counts = rows()
    response = pipeline.post("/api/v1/datasets/", {"name": "Elsewhere", "owner_team": "beta"}, format="json")
    assert response.status_code == 400 and "owner_team" in response.data
    assert (
        pipeline.patch(f"/api/v1/datasets/{beta.dataset.uuid}/", {"description": "x"}, format="json").status_code == 404
    )
    assert pipeline.delete(f"/api/v1/dataset-versions/{beta.dataset_version.uuid}/").status_code == 404
    assert rows() == counts


def test_an_administrators_token_is_limited_to_its_team(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    assert personas.client(personas.admin).get(f"/api/v1/datasets/{beta.dataset.uuid}/").status_code == 200
    key = do_create_api_token(actor=Actor(user=personas.admin), team=personas.team, name="ops", scope="write").key
    client = personas.client(token=key)
    assert client.get(f"/api/v1/datasets/{beta.dataset.uuid}/").status_code == 404
    names = {row["name"] for row in client.get("/api/v1/datasets/").data["results"]}
    assert names == {"Tickets", "Synthetic tickets"}
