"""Permission checks the services apply (inside their transaction)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from access.actors import Actor
from access.models import Team
from registry.services.errors import NotVisible

M = TypeVar("M", bound=models.Model)


def lock_for(actor: Actor, obj: M, action: str) -> M:
    """Re-fetch ``obj`` locked, within what ``actor`` may ``action``; 404 if unseen, 403 if read-only."""
    model: Any = type(obj)
    locked = model.objects.visible_to(actor, action).select_for_update().filter(pk=obj.pk).first()
    if locked is not None:
        return locked  # type: ignore[no-any-return]
    if model.objects.visible_to(actor, "view").filter(pk=obj.pk).exists():
        raise PermissionDenied(_("You may not change this object."))
    raise NotVisible()


def require_team(actor: Actor, team: Team | None) -> Team:
    if not actor.may("add"):
        raise PermissionDenied(_("Your role cannot create or change assets."))
    if team is None:
        raise PermissionDenied(_("An owner team is required."))
    if not actor.sees_everything and team.pk not in {t.pk for t in actor.teams()}:
        raise PermissionDenied(_("You can only assign assets to your own teams."))
    return team


def require_visible(actor: Actor, objs: list[Any], field: str) -> None:
    """Referenced objects must be visible to the actor (no linking to what you cannot see)."""
    from django.core.exceptions import ValidationError

    for obj in objs:
        if obj is None:
            continue
        model: Any = type(obj)
        if not model.objects.visible_to(actor, "view").filter(pk=obj.pk).exists():
            raise ValidationError({field: _("Object does not exist.")})
