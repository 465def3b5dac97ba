"""The audit-trail pages show the entries of the user's teams only, with filters and the diff."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from access.actors import Actor
from registry.models import Dataset
from registry.services import do_create_asset, do_update_asset
from tests.ui.conftest import signed_in, url
from trail.models import AuditEntry


def test_the_trail_lists_only_the_entries_of_the_users_teams(
    catalogue, personas, outsider: Client, contributor: Client
) -> None:
    theirs = do_create_asset(
        Dataset, actor=Actor(user=personas.outsider), data={"name": "Beta only", "owner_team": personas.other_team}
    )
    assert "Beta only" in outsider.get(url("trail:list")).content.decode()
    body = outsider.get(url("trail:list")).content.decode()
    assert "Support chatbot" not in body and "Tickets" not in body
    assert "Beta only" not in contributor.get(url("trail:list")).content.decode()
    entry = AuditEntry.objects.get(object_id=str(theirs.uuid))
    assert contributor.get(url("trail:detail", seq=entry.seq)).status_code == 404
    assert outsider.get(url("trail:detail", seq=entry.seq)).status_code == 200


def test_an_administrator_sees_every_entry(catalogue, personas) -> None:
    do_create_asset(
        Dataset, actor=Actor(user=personas.outsider), data={"name": "Beta only", "owner_team": personas.other_team}
    )
    body = signed_in(personas.admin).get(url("trail:list")).content.decode()
    assert "Beta only" in body and "Support chatbot" in body


def test_the_trail_filters_by_actor_action_object_type_team_and_date(catalogue, personas, contributor: Client) -> None:
    do_update_asset(catalogue.dataset, actor=Actor(user=personas.officer), data={"description": "by the officer"})
    trail = url("trail:list")

    def rows(**params) -> int:
        return contributor.get(trail, params).content.decode().count('<tr>\n      <td><a href="/audit-trail/')

    total = AuditEntry.objects.filter(team_slug="alpha").count()
    assert rows() == total
    assert rows(actor="officer") == 1
    assert rows(action="update") == AuditEntry.objects.filter(team_slug="alpha", action="update").count()
    assert (
        rows(object_type="registry.dataset")
        == AuditEntry.objects.filter(team_slug="alpha", object_type="registry.dataset").count()
    )
    assert rows(team="alpha") == total
    today = timezone.localdate()
    assert rows(since=today.isoformat(), until=today.isoformat()) == total
    assert rows(until=(today - timedelta(days=1)).isoformat()) == 0
    page = contributor.get(trail, {"until": today.isoformat()}).content.decode()
    assert f'value="{today.isoformat()}"' in page


def test_the_entry_page_shows_the_diff(catalogue, personas, contributor: Client) -> None:
    do_update_asset(catalogue.dataset, actor=Actor(user=personas.contributor), data={"name": "Tickets (raw)"})
    entry = AuditEntry.objects.order_by("-seq").first()
    body = contributor.get(url("trail:detail", seq=entry.seq)).content.decode()
    assert 'data-testid="changes-table"' in body
    assert "<del>Tickets</del>" in body and "<ins>Tickets (raw)</ins>" in body
    assert entry.entry_hash in body
