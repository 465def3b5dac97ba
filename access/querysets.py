"""The one permission-aware way to fetch protected objects.

Assets carry django-guardian object permissions granted to their owning team's group; their
versions and parts inherit visibility from the asset (``scope_parent``). Anything a user may not
see is simply absent from the queryset, so views turn it into a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from guardian.shortcuts import get_objects_for_group, get_objects_for_user

from access.actors import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class RestrictedQuerySet(models.QuerySet):
    """Models without object permissions of their own set ``visibility_parent = "<fk field>"``."""

    def visible_to(self, who: Actor | AbstractBaseUser | AnonymousUser | None, action: str = "view") -> Self:
        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may(action):
            return self.none()
        parent_field: str | None = getattr(self.model, "visibility_parent", None)
        if parent_field:
            if actor.sees_everything:
                return self
            parent_model: Any = self.model._meta.get_field(parent_field).related_model
            parents = parent_model.objects.visible_to(actor, action)
            return self.filter(**{f"{parent_field}__in": parents.values("pk")})
        if actor.sees_everything:
            return self
        # Guardian's generic permissions use "view"/"change"/"delete"; "approve" needs "change".
        codename = {"add": "change", "approve": "change"}.get(action, action)
        perm = f"{self.model._meta.app_label}.{codename}_{self.model._meta.model_name}"
        if actor.token is not None:
            by_group: Self = get_objects_for_group(  # type: ignore[assignment]
                actor.token.team.group, perm, klass=self, accept_global_perms=False
            )
            return by_group
        by_user: Self = get_objects_for_user(  # type: ignore[assignment]
            actor.user, perm, klass=self, accept_global_perms=False, with_superuser=False
        )
        return by_user


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass
