"""A generic CRUD and permission suite, inherited once per API resource (as NetBox does).

A subclass names the resource and says how to build a request body and extra objects; every
resource then gets the same checks: members read and write, outsiders get 404 (never 403),
auditors and read-scope tokens get 403 on writes, revoked tokens and anonymous clients 401,
bad bodies 400 with nothing written, and list pages with a constant number of queries.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.actors import Actor
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry

WRITE_METHODS = ("patch", "put", "delete")


def rows(*model_classes: type[models.Model]) -> tuple[int, ...]:
    """Row counts to compare before and after a refused write (the trail included)."""
    return (AuditEntry.objects.count(), *(m._default_manager.count() for m in model_classes))


class ResourceSuite:
    """Subclasses set the class attributes and implement the hooks below."""

    basename: ClassVar[str]  # router basename, e.g. "dataset-version"
    namespace: ClassVar[str] = "registry-api"
    model: ClassVar[type[models.Model]]
    # The body field naming what the new object belongs to (a team or a parent object): a reference
    # the outsider cannot see, so their create is refused with a 400 on this field.
    parent_field: ClassVar[str]
    updatable: ClassVar[bool] = True

    # Hooks

    def existing(self, c: Catalogue) -> Any:
        """An object owned by team alpha."""
        raise NotImplementedError

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        raise NotImplementedError

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        """A body with a value of the wrong type, and the field the error must name."""
        raise NotImplementedError

    def update_body(self) -> dict[str, Any]:
        return {"description": "Changed through the API"}

    def assert_updated(self, obj: Any) -> None:
        assert obj.description == "Changed through the API"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        """A new object nothing depends on (so it can be deleted)."""
        raise NotImplementedError

    def make_many(self, c: Catalogue, actor: Actor, n: int) -> None:
        for _ in range(n):
            self.make_unused(c, actor)

    # Helpers

    def list_url(self) -> str:
        return reverse(f"{self.namespace}:{self.basename}-list")

    def detail_url(self, obj: Any) -> str:
        return reverse(f"{self.namespace}:{self.basename}-detail", kwargs={"uuid": obj.uuid})

    def write(self, client: Any, method: str, obj: Any, c: Catalogue) -> Any:
        if method == "delete":
            return client.delete(self.detail_url(obj))
        body = self.update_body() if method == "patch" else self.create_body(c)
        return getattr(client, method)(self.detail_url(obj), body, format="json")

    def listed_ids(self, response: Any) -> set[str]:
        assert response.status_code == 200, response.data
        return {row["uuid"] for row in response.data["results"]}

    # Members read and write

    def test_member_sees_it_in_the_list(self, personas: Personas, catalogue: Catalogue) -> None:
        response = personas.client(personas.contributor).get(self.list_url())
        assert str(self.existing(catalogue).uuid) in self.listed_ids(response)

    def test_member_retrieves_it_by_uuid(self, personas: Personas, catalogue: Catalogue) -> None:
        obj = self.existing(catalogue)
        response = personas.client(personas.auditor).get(self.detail_url(obj))
        assert response.status_code == 200, response.data
        assert response.data["uuid"] == str(obj.uuid)
        assert "id" not in response.data

    def test_unknown_uuid_is_404(self, personas: Personas, catalogue: Catalogue) -> None:
        url = reverse(
            f"{self.namespace}:{self.basename}-detail", kwargs={"uuid": "00000000-0000-4000-8000-000000000000"}
        )
        assert personas.client(personas.contributor).get(url).status_code == 404

    def test_contributor_creates_it_and_the_trail_records_it(self, personas: Personas, catalogue: Catalogue) -> None:
        before = self.model._default_manager.count()
        response = personas.client(personas.contributor).post(
            self.list_url(), self.create_body(catalogue), format="json"
        )
        assert response.status_code == 201, response.data
        created = self.model._default_manager.get(uuid=response.data["uuid"])
        assert self.model._default_manager.count() == before + 1
        entry = AuditEntry.objects.order_by("-seq").first()
        assert entry is not None and entry.actor_label == "contributor"
        assert entry.object_id in {str(created.uuid), str(getattr(created, "system", created).uuid)}

    def test_contributor_updates_it(self, personas: Personas, catalogue: Catalogue) -> None:
        obj = self.existing(catalogue)
        response = personas.client(personas.contributor).patch(self.detail_url(obj), self.update_body(), format="json")
        if not self.updatable:
            assert response.status_code == 405
            return
        assert response.status_code == 200, response.data
        obj.refresh_from_db()
        self.assert_updated(obj)

    def test_contributor_deletes_one_nothing_uses(self, personas: Personas, catalogue: Catalogue) -> None:
        obj = self.make_unused(catalogue, Actor(user=personas.contributor))
        response = personas.client(personas.contributor).delete(self.detail_url(obj))
        assert response.status_code == 204, getattr(response, "data", None)
        assert not self.model._default_manager.filter(pk=obj.pk).exists()

    # Outsiders: as if it did not exist

    def test_outsider_does_not_see_it_in_the_list(self, personas: Personas, catalogue: Catalogue) -> None:
        response = personas.client(personas.outsider).get(self.list_url())
        assert str(self.existing(catalogue).uuid) not in self.listed_ids(response)

    def test_outsider_gets_404_for_the_detail(self, personas: Personas, catalogue: Catalogue) -> None:
        response = personas.client(personas.outsider).get(self.detail_url(self.existing(catalogue)))
        assert response.status_code == 404

    @pytest.mark.parametrize("method", WRITE_METHODS)
    def test_outsider_gets_404_when_writing_it(self, personas: Personas, catalogue: Catalogue, method: str) -> None:
        obj = self.existing(catalogue)
        before = rows(self.model)
        response = self.write(personas.client(personas.outsider), method, obj, catalogue)
        expected = 405 if method in ("patch", "put") and not self.updatable else 404
        assert response.status_code == expected
        assert rows(self.model) == before

    def test_outsider_cannot_create_under_another_teams_parent(self, personas: Personas, catalogue: Catalogue) -> None:
        before = rows(self.model)
        response = personas.client(personas.outsider).post(self.list_url(), self.create_body(catalogue), format="json")
        assert response.status_code == 400
        assert self.parent_field in response.data
        assert "does not exist" in str(response.data[self.parent_field])
        assert rows(self.model) == before

    # Read-only principals: may read, may not write

    @pytest.mark.parametrize("method", ("post", *WRITE_METHODS))
    def test_auditor_gets_403_when_writing(self, personas: Personas, catalogue: Catalogue, method: str) -> None:
        self.assert_refused_write(personas.client(personas.auditor), method, catalogue)

    def test_read_token_reads_it(self, personas: Personas, catalogue: Catalogue) -> None:
        client = personas.client(token=personas.read_token)
        assert str(self.existing(catalogue).uuid) in self.listed_ids(client.get(self.list_url()))
        assert client.get(self.detail_url(self.existing(catalogue))).status_code == 200

    @pytest.mark.parametrize("method", ("post", *WRITE_METHODS))
    def test_read_token_gets_403_when_writing(self, personas: Personas, catalogue: Catalogue, method: str) -> None:
        self.assert_refused_write(personas.client(token=personas.read_token), method, catalogue)

    def assert_refused_write(self, client: Any, method: str, catalogue: Catalogue) -> None:
        obj = self.existing(catalogue)
        before = rows(self.model)
        if method == "post":
            response = client.post(self.list_url(), self.create_body(catalogue), format="json")
        else:
            response = self.write(client, method, obj, catalogue)
        # A resource without updates answers 405, or 403 first when the role cannot write at all.
        expected = {403, 405} if method in ("patch", "put") and not self.updatable else {403}
        assert response.status_code in expected, getattr(response, "data", None)
        assert rows(self.model) == before

    def test_write_token_creates_within_its_team(self, personas: Personas, catalogue: Catalogue) -> None:
        response = personas.client(token=personas.write_token).post(
            self.list_url(), self.create_body(catalogue), format="json"
        )
        assert response.status_code == 201, response.data
        entry = AuditEntry.objects.order_by("-seq").first()
        assert entry is not None and entry.actor_label.startswith("contributor (token ")
        assert entry.team_slug == "alpha"

    # Not authenticated

    def test_revoked_token_gets_401(self, personas: Personas, catalogue: Catalogue) -> None:
        client = personas.client(token=personas.revoked_token)
        assert client.get(self.list_url()).status_code == 401
        assert client.get(self.detail_url(self.existing(catalogue))).status_code == 401

    def test_anonymous_client_gets_401(self, personas: Personas, catalogue: Catalogue) -> None:
        before = rows(self.model)
        client = personas.client()
        assert client.get(self.list_url()).status_code == 401
        assert client.get(self.detail_url(self.existing(catalogue))).status_code == 401
        assert client.post(self.list_url(), self.create_body(catalogue), format="json").status_code == 401
        assert rows(self.model) == before

    # Bad input

    def test_wrong_types_give_a_400_naming_the_field(self, personas: Personas, catalogue: Catalogue) -> None:
        body, field = self.wrong_types_body(catalogue)
        before = rows(self.model)
        response = personas.client(personas.contributor).post(self.list_url(), body, format="json")
        assert response.status_code == 400
        assert field in response.data, response.data
        assert rows(self.model) == before

    @pytest.mark.parametrize("body", ([], ["a", "list"], "a string", 42, None))
    def test_a_body_that_is_not_an_object_gives_400(self, personas: Personas, catalogue: Catalogue, body: Any) -> None:
        before = rows(self.model)
        response = personas.client(personas.contributor).post(self.list_url(), body, format="json")
        assert response.status_code == 400
        assert rows(self.model) == before

    def test_an_unknown_field_gives_400_rather_than_being_ignored(
        self, personas: Personas, catalogue: Catalogue
    ) -> None:
        before = rows(self.model)
        body = {**self.create_body(catalogue), "no_such_field": "x"}
        response = personas.client(personas.contributor).post(self.list_url(), body, format="json")
        assert response.status_code == 400
        assert "no_such_field" in response.data
        assert rows(self.model) == before

    # Performance

    def test_list_queries_do_not_grow_with_the_page_size(self, personas: Personas, catalogue: Catalogue) -> None:
        self.make_many(catalogue, Actor(user=personas.contributor), 7)
        client = personas.client(personas.contributor)
        client.get(self.list_url())  # warm the session and content-type caches
        with CaptureQueriesContext(connection) as small:
            response = client.get(self.list_url(), {"page_size": 5})
        assert len(response.data["results"]) == 5
        with CaptureQueriesContext(connection) as large:
            response = client.get(self.list_url(), {"page_size": 50})
        assert len(response.data["results"]) > 5
        assert len(small.captured_queries) == len(large.captured_queries), [q["sql"] for q in large.captured_queries]
