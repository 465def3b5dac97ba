"""An extension point for detail pages: other apps add panels without the registry importing them.

An app registers a panel for a model label (``"registry.datasetversion"``) from its
``AppConfig.ready()``; the detail view renders every panel registered for its object. A panel gets
the request and the object and returns safe HTML, or None to show nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest, Any], str | None]

_PANELS: dict[str, list[Panel]] = {}


def register(model_label: str, panel: Panel) -> None:
    """Add ``panel`` to the detail page of ``model_label`` (``app_label.model_name``, lower case)."""
    panels = _PANELS.setdefault(model_label.lower(), [])
    if panel not in panels:  # ready() may run more than once (tests, reloads)
        panels.append(panel)


def render_panels(request: HttpRequest, obj: Any) -> list[SafeString]:
    """The HTML of every panel registered for ``obj``'s model, in registration order."""
    label = obj._meta.label_lower
    rendered = []
    for panel in _PANELS.get(label, []):
        html = panel(request, obj)
        if html:
            # Panels render templates (autoescaped); their output is trusted HTML.
            rendered.append(mark_safe(html))  # noqa: S308
    return rendered
