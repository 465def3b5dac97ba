"""Create, edit and delete assets (AI systems, datasets, generators, models, prompts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models, transaction

from access.actors import Actor
from access.services import grant_team_access, revoke_team_access
from registry.models import Asset
from registry.services.access import lock_for, require_team
from registry.services.errors import InUseError, describe_dependants
from registry.services.tags import resolve_tags
from trail.services import diff, record, snapshot

A = TypeVar("A", bound=Asset)


def _state(obj: Asset) -> dict[str, Any]:
    state = snapshot(obj)
    state.pop("created_at", None)
    state.pop("created_by", None)
    if obj.pk:
        state["tags"] = sorted(obj.tags.values_list("slug", flat=True))
    return state


def do_create_asset(model: type[A], *, actor: Actor, data: dict[str, Any], tags: Iterable[str] = ()) -> A:
    fields = {k: v for k, v in data.items() if k in model.EDITABLE_FIELDS}
    team = require_team(actor, fields.get("owner_team"))
    obj = model(**fields)
    obj.created_by = actor.user if actor.user is not None and actor.user.is_authenticated else None
    obj.full_clean()
    with transaction.atomic():
        obj.save(force_insert=True)
        obj.tags.set(resolve_tags(tags))
        grant_team_access(obj, team)
        record("create", actor=actor, obj=obj, changes=_state(obj))
    return obj


def do_update_asset(obj: A, *, actor: Actor, data: dict[str, Any], tags: Iterable[str] | None = None) -> A:
    with transaction.atomic():
        locked = lock_for(actor, obj, "change")
        before = _state(locked)
        old_team = locked.owner_team
        for key, value in data.items():
            if key in type(locked).EDITABLE_FIELDS:
                setattr(locked, key, value)
        if locked.owner_team_id != old_team.pk:
            require_team(actor, locked.owner_team)
        locked.full_clean()
        locked.save()
        if tags is not None:
            locked.tags.set(resolve_tags(tags))
        if locked.owner_team_id != old_team.pk:
            revoke_team_access(locked, old_team)
            grant_team_access(locked, locked.owner_team)
        changes = diff(before, _state(locked))
        if changes:
            record("update", actor=actor, obj=locked, changes=changes)
    return locked


def do_delete_asset(obj: Asset, *, actor: Actor) -> None:
    with transaction.atomic():
        locked = lock_for(actor, obj, "delete")
        state = _state(locked)
        record("delete", actor=actor, obj=locked, changes=state)
        try:
            with transaction.atomic():
                locked.delete()
        except models.ProtectedError as exc:
            raise InUseError(describe_dependants(locked, exc.protected_objects), exc.protected_objects) from exc
