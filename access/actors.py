"""Who performs a change or a read: a user, a user through an API token, or the system."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from access.choices import ROLE_ACTIONS, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from access.models import ApiToken, Team


@dataclass(frozen=True)
class Actor:
    """The principal every service and every permission-aware queryset receives."""

    user: Any = None  # a User, or None for the system
    token: ApiToken | None = None
    system: str | None = None  # e.g. "load_demo", "celery:verify_audit_trail"
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_system(cls, name: str) -> Actor:
        return cls(system=name)

    @classmethod
    def coerce(cls, who: Actor | AbstractBaseUser | AnonymousUser | None) -> Actor:
        if isinstance(who, Actor):
            return who
        return cls(user=who)

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        token = getattr(request, "auth", None)
        from access.models import ApiToken

        return cls(user=request.user, token=token if isinstance(token, ApiToken) else None)

    @property
    def is_system(self) -> bool:
        return self.system is not None

    @property
    def is_authenticated(self) -> bool:
        return self.is_system or bool(self.user is not None and self.user.is_authenticated and self.user.is_active)

    @property
    def label(self) -> str:
        if self.system:
            return f"system:{self.system}"
        name = self.user.get_username() if self.user is not None else "anonymous"
        if self.token is not None:
            return f"{name} (token {self.token.prefix}…)"
        return name

    @property
    def role(self) -> str | None:
        if self.is_system:
            return Role.ADMIN
        if not self.is_authenticated:
            return None
        if self.user.is_superuser:
            return Role.ADMIN
        if "role" not in self._cache:
            profile = getattr(self.user, "profile", None)
            self._cache["role"] = profile.role if profile is not None else None
        role: str | None = self._cache["role"]
        return role

    @property
    def sees_everything(self) -> bool:
        """System actors and administrators without a token are not limited to their teams."""
        return self.token is None and self.role == Role.ADMIN

    def may(self, action: str) -> bool:
        """Whether the role (and token scope) allows this kind of action at all."""
        role = self.role
        if role is None or action not in ROLE_ACTIONS.get(role, frozenset()):
            return False
        return self.token is None or action == "view" or self.token.can_write

    def teams(self) -> list[Team]:
        """The teams whose assets this actor may act on (a token: only its own team)."""
        from access.models import Team

        if self.token is not None:
            return [self.token.team]
        if "teams" not in self._cache:
            if self.sees_everything:
                self._cache["teams"] = list(Team.objects.all())
            elif self.is_authenticated:
                self._cache["teams"] = list(Team.objects.filter(group__user=self.user))
            else:
                self._cache["teams"] = []
        teams: list[Team] = self._cache["teams"]
        return teams


def audit_team_scope(request: Any) -> list[str] | None:
    """The teams whose audit-trail entries a request may read; None means every entry."""
    actor = Actor.from_request(request)
    if not actor.is_authenticated or not actor.may("view"):
        return []
    if actor.sees_everything:
        return None
    return [team.slug for team in actor.teams()]
