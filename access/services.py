"""State changes of teams, roles, object permissions and API tokens (each audited)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from access.actors import Actor
from access.choices import Role, TokenScope
from access.hashing import hash_token_key, new_token_key
from access.models import ApiToken, Profile, Team
from trail.services import record

OBJECT_PERMS = ("view", "change", "delete")


def do_create_team(*, actor: Actor, slug: str, name: str, description: str = "") -> Team:
    if not actor.may("delete") or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators can create teams."))
    with transaction.atomic():
        group = Group.objects.create(name=f"team:{slug}")
        team = Team.objects.create(slug=slug, name=name, description=description, group=group)
        record("create", actor=actor, obj=team, team_slug=slug, changes={"name": name, "slug": slug})
    return team


def do_set_membership(*, actor: Actor, team: Team, user: Any, member: bool) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators can change team membership."))
    with transaction.atomic():
        if member:
            team.group.user_set.add(user)
        else:
            team.group.user_set.remove(user)
        record(
            "grant" if member else "revoke",
            actor=actor,
            obj=team,
            changes={"member": user.get_username(), "is_member": member},
        )


def do_set_role(*, actor: Actor, user: Any, role: str) -> Profile:
    if actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators can assign roles."))
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        before = profile.role if not _created else None
        profile.role = role
        profile.save(update_fields=["role"])
        record(
            "update",
            actor=actor,
            object_type="auth.user",
            object_id=str(user.pk),
            object_repr=user.get_username(),
            team_slug="",
            changes={"role": {"from": before, "to": role}},
        )
    return profile


def grant_team_access(obj: models.Model, team: Team) -> None:
    """Give the owning team's group the object permissions on a newly owned asset."""
    model_name = obj._meta.model_name
    for codename in OBJECT_PERMS:
        assign_perm(f"{obj._meta.app_label}.{codename}_{model_name}", team.group, obj)


def revoke_team_access(obj: models.Model, team: Team) -> None:
    model_name = obj._meta.model_name
    for codename in OBJECT_PERMS:
        remove_perm(f"{obj._meta.app_label}.{codename}_{model_name}", team.group, obj)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def do_create_api_token(*, actor: Actor, team: Team, name: str, scope: str = TokenScope.READ) -> IssuedToken:
    if actor.token is not None:
        raise PermissionDenied(_("API tokens cannot create other tokens."))
    if scope not in TokenScope.values:
        raise ValidationError({"scope": _("Scope must be read or write.")})
    if scope == TokenScope.WRITE and not actor.may("add"):
        raise PermissionDenied(_("Your role cannot create write tokens."))
    if not actor.may("view") or team.pk not in {t.pk for t in actor.teams()}:
        raise PermissionDenied(_("You can only create tokens for your own teams."))
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name.")})
    key = new_token_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            team=team,
            user=actor.user,
            scope=scope,
            prefix=key[:12],
            key_hash=hash_token_key(key),
        )
        record("create", actor=actor, obj=token, changes={"name": token.name, "scope": scope, "team": team.slug})
    return IssuedToken(token=token, key=key)


def do_revoke_api_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.user_id != getattr(actor.user, "pk", None) and actor.role != Role.ADMIN:
            raise PermissionDenied(_("You can only revoke your own tokens."))
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record("revoke", actor=actor, obj=token, changes={"revoked_at": token.revoked_at})
    return token


def tokens_visible_to(actor: Actor) -> models.QuerySet[ApiToken]:
    """Users see their own tokens; administrators see every token."""
    qs = ApiToken.objects.select_related("team", "user")
    if actor.token is not None or not actor.is_authenticated:
        return qs.none()
    if actor.role == Role.ADMIN:
        return qs
    return qs.filter(user=actor.user)
