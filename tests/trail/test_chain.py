from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from trail.models import AppendOnlyError, AuditEntry
from trail.services import verify_chain


def test_an_untouched_trail_verifies(catalogue):
    result = verify_chain()
    assert result.ok
    assert result.checked == AuditEntry.objects.count() > 10
    call_command("verify_audit_trail")


def test_editing_a_past_entry_directly_in_the_database_is_detected(catalogue):
    target = AuditEntry.objects.order_by("seq")[5]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET actor_label = %s WHERE id = %s", ["mallory", target.pk])
    result = verify_chain()
    assert result.broken is not None and result.broken.seq == target.seq
    with pytest.raises(CommandError, match=f"entry #{target.seq}:"):
        call_command("verify_audit_trail")


def test_deleting_a_past_entry_is_detected(catalogue):
    target = AuditEntry.objects.order_by("seq")[3]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [target.pk])
    result = verify_chain()
    assert result.broken is not None and result.broken.seq == target.seq


def test_rewriting_changes_and_rehashing_one_entry_still_breaks_the_next_link(catalogue):
    entries = list(AuditEntry.objects.order_by("seq")[:3])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET entry_hash = %s WHERE id = %s", ["f" * 64, entries[1].pk]
        )
    result = verify_chain()
    assert result.broken is not None and result.broken.seq == entries[1].seq


def test_deleting_the_newest_entries_is_detected_by_the_head(catalogue):
    last = AuditEntry.objects.order_by("-seq").first()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [last.pk])
    result = verify_chain()
    assert result.broken is not None and result.broken.seq == last.seq


def test_entries_cannot_be_changed_or_deleted_through_the_orm(catalogue):
    entry = AuditEntry.objects.order_by("seq").first()
    entry.actor_label = "x"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_every_change_records_actor_object_and_diff(personas, catalogue):
    from access.actors import Actor
    from registry.services import do_update_asset

    do_update_asset(catalogue.system, actor=Actor(user=personas.contributor), data={"risk_class": "high"})
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.actor == personas.contributor
    assert entry.action == "update"
    assert entry.object_id == str(catalogue.system.uuid)
    assert entry.changes == {"risk_class": {"from": "limited", "to": "high"}}
    assert entry.team_slug == "alpha"


def test_token_hashes_never_appear_in_the_trail(personas):
    assert not AuditEntry.objects.filter(changes__icontains=personas.write_token[:20]).exists()
    from access.models import ApiToken

    for token in ApiToken.objects.all():
        assert not AuditEntry.objects.filter(changes__icontains=token.key_hash).exists()
