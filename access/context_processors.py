from typing import Any

from access.actors import Actor


def principal(request: Any) -> dict[str, Any]:
    """Exposes the acting principal to templates (role, what it may do)."""
    user = getattr(request, "user", None)
    actor = Actor(user=user)
    return {"actor": actor}
