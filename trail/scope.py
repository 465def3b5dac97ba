"""Whose audit-trail entries a request may read.

The trail is the bottom layer and must not import access control, so access control registers
the rule at start-up (``AccessConfig.ready``). Until a rule is registered nobody sees any entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.db.models import QuerySet

from trail.models import AuditEntry

# Given a request: the team slugs whose entries it may read, or None for every entry.
TeamScope = Callable[[Any], Collection[str] | None]

_team_scope: TeamScope | None = None


def register_team_scope(rule: TeamScope) -> None:
    global _team_scope  # set once, at start-up
    _team_scope = rule


def entries_visible_to(request: Any, queryset: QuerySet[AuditEntry] | None = None) -> QuerySet[AuditEntry]:
    """The entries a request may read (the only way views fetch audit-trail entries)."""
    qs = AuditEntry.objects.all() if queryset is None else queryset
    if _team_scope is None:
        return qs.none()
    slugs = _team_scope(request)
    if slugs is None:
        return qs
    return qs.filter(team_slug__in=list(slugs))
