"""Role and token-scope checks made before a write reaches its service.

Which objects a request may touch is decided by the permission-aware querysets and re-checked
by the services; this only refuses early (403) a principal whose role or token scope cannot write
at all, so an auditor gets a 403 rather than a validation error about the body it sent.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from access.actors import Actor

METHOD_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class ActorMayAct(BasePermission):
    """A view may name the action of a custom route in ``permission_action`` (e.g. "change")."""

    message = _("Your role or token scope does not allow this change.")

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = getattr(view, "permission_action", None) or METHOD_ACTIONS.get(request.method, "change")
        return Actor.from_request(request).may(action)
