"""Badges of the audits pages: run state, verdict, severity and finding status."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from audits.choices import FindingStatus, RunState, Severity, Verdict

register = template.Library()


def _badge(kind: str, value: str, label: Any, testid: str = "") -> SafeString:
    if not value:
        return mark_safe('<span class="muted">—</span>')
    if testid:
        return format_html('<span class="badge badge--{}-{}" data-testid="{}">{}</span>', kind, value, testid, label)
    return format_html('<span class="badge badge--{}-{}">{}</span>', kind, value, label)


@register.simple_tag
def verdict_badge(value: str, testid: str = "") -> SafeString:
    return _badge("verdict", value, dict(Verdict.choices).get(value, value), testid)


@register.simple_tag
def run_state_badge(value: str, testid: str = "") -> SafeString:
    return _badge("check", value, dict(RunState.choices).get(value, value), testid)


@register.simple_tag
def severity_badge(value: str) -> SafeString:
    return _badge("severity", value, dict(Severity.choices).get(value, value))


@register.simple_tag
def finding_status_badge(value: str) -> SafeString:
    return _badge("finding", value, dict(FindingStatus.choices).get(value, value))


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value) * 100:.{int(digits)}f} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def join_if_list(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
