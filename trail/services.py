"""Writing and verifying the audit trail.

``record`` must run inside the transaction of the change it describes, so that a change and its
entry commit or roll back together. Appends are serialised by locking the chain head row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from trail.context import request_id_var
from trail.hashing import GENESIS_HASH, canonical_json, entry_digest
from trail.models import AuditEntry, ChainHead


class Actor(Protocol):
    """Whoever acts: ``access.actors.Actor`` in the app, ``SystemActor`` for the trail's own jobs."""

    @property
    def user(self) -> Any: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    name: str
    user: Any = None

    @property
    def label(self) -> str:
        return f"system:{self.name}"


SECRET_MARKERS = ("password", "secret", "token", "key_hash", "api_key", "credential")
NOISE_FIELDS = frozenset({"updated_at", "last_used_at", "last_login"})
MASK = "••••••"


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(getattr(value, "uuid", value.pk))
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The recorded state of an instance: concrete fields (FKs by public id), secrets masked."""
    result: dict[str, Any] = {}
    names = set(fields) if fields is not None else None
    for field in instance._meta.concrete_fields:
        if field.name in ("id", "uuid") or field.name in NOISE_FIELDS:
            continue
        if names is not None and field.name not in names:
            continue
        value = getattr(instance, field.name) if field.is_relation else field.value_from_object(instance)
        result[field.name] = MASK if _is_secret(field.name) and value else _plain(value)
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field-by-field ``{"from": old, "to": new}`` for what changed."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = {"from": old, "to": new}
    return changes


def _normalise(changes: dict[str, Any]) -> Any:
    # Round-trip through JSON so that what is hashed is exactly what the database returns.
    loaded: Any = json.loads(canonical_json(_plain(changes)))
    return loaded


def record(
    action: str,
    *,
    actor: Actor,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    team_slug: str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain; call inside the transaction of the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("trail.services.record must be called inside transaction.atomic().")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "uuid", obj.pk))
        object_repr = object_repr or str(obj)[:300]
        if team_slug is None:
            team = getattr(obj, "owner_team", None) or getattr(obj, "team", None)
            team_slug = getattr(team, "slug", "") if team is not None else ""
    head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
    entry = AuditEntry(
        seq=head.seq + 1,
        occurred_at=timezone.now(),
        actor=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        team_slug=team_slug or "",
        changes=_normalise(changes or {}),
        request_id=request_id_var.get(),
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = _digest_of(entry)
    entry.save(force_insert=True)
    ChainHead.objects.filter(pk=1).update(seq=entry.seq, entry_hash=entry.entry_hash)
    return entry


def _digest_of(entry: AuditEntry) -> str:
    return entry_digest(
        prev_hash=entry.prev_hash,
        seq=entry.seq,
        occurred_at=entry.occurred_at,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        team_slug=entry.team_slug,
        changes=entry.changes,
        request_id=entry.request_id,
    )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    entry_id: int | None
    reason: str


@dataclass(frozen=True)
class VerificationResult:
    checked: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _entries(batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        chunk = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def verify_chain() -> VerificationResult:
    """Walk the chain in order; report the first entry whose hash or link does not hold."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in _entries():
        if entry.seq != expected_seq:
            reason = f"entry #{expected_seq} is missing (next found is #{entry.seq})"
            return VerificationResult(checked, ChainBreak(expected_seq, None, reason))
        if entry.prev_hash != prev_hash:
            reason = "its link to the previous entry does not match (an entry before it was removed or inserted)"
            return VerificationResult(checked, ChainBreak(entry.seq, entry.pk, reason))
        if _digest_of(entry) != entry.entry_hash:
            reason = "its content does not match its hash (the entry was altered)"
            return VerificationResult(checked, ChainBreak(entry.seq, entry.pk, reason))
        prev_hash = entry.entry_hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.entry_hash != prev_hash):
        reason = f"the chain ends at #{checked} but its head records #{head.seq} (entries were removed at the end)"
        return VerificationResult(checked, ChainBreak(head.seq, None, reason))
    return VerificationResult(checked, None)


def record_system_check(actor: Actor, result: VerificationResult) -> None:
    """Log a verification run in the trail itself (used by the periodic task)."""
    with transaction.atomic():
        record(
            "verify",
            actor=actor,
            object_type="trail.auditentry",
            object_id="chain",
            object_repr="audit trail",
            changes={
                "checked": result.checked,
                "ok": result.ok,
                "broken_seq": result.broken.seq if result.broken else None,
            },
        )
