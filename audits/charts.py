"""Charts and tables of check results for the pages (and, later, the PDF reports)."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe


def histogram_svg(counts: list[int]) -> SafeString | None:
    return None


def bias_view(metrics: dict[str, Any]) -> dict[str, Any] | None:
    return None
