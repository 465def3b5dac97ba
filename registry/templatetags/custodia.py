"""Template helpers of the Custodia pages: field lists, badges, links, paging and diffs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.db import models
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from registry.choices import ModelStage, RiskClass, SystemStatus
from registry.views.base import detail_url, detail_url_for

register = template.Library()

EMPTY = "—"


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    value: Any
    kind: str  # "text", "long", "json", "bool", "empty"


def _row(obj: models.Model, name: str) -> FieldRow:
    field = obj._meta.get_field(name)
    label = capfirst(str(getattr(field, "verbose_name", name)))
    value = getattr(obj, name)
    if getattr(field, "choices", None):
        return FieldRow(name, label, getattr(obj, f"get_{name}_display")(), "text")
    if isinstance(field, models.BooleanField):
        return FieldRow(name, label, _("Yes") if value else _("No"), "bool")
    if value in (None, "", [], {}):
        return FieldRow(name, label, EMPTY, "empty")
    if isinstance(field, models.JSONField):
        return FieldRow(name, label, json.dumps(value, indent=2, ensure_ascii=False), "json")
    if isinstance(field, models.FileField):
        return FieldRow(name, label, value.name, "mono")
    if name == "size_bytes":
        return FieldRow(name, label, f"{filesizeformat(value)} ({number_format(value, force_grouping=True)})", "text")
    if isinstance(value, int):
        return FieldRow(name, label, number_format(value, force_grouping=True), "text")
    if isinstance(value, datetime):
        return FieldRow(name, label, date_filter(value, "DATETIME_FORMAT"), "text")
    if isinstance(field, models.TextField):
        return FieldRow(name, label, value, "long")
    if name in ("sha256", "uri", "artifact_uri", "serving_endpoint", "base_model"):
        return FieldRow(name, label, value, "mono")
    return FieldRow(name, label, value, "text")


@register.simple_tag
def field_rows(obj: models.Model, names: Any) -> list[FieldRow]:
    """Label and display value of each named field (choices by label, JSON pretty-printed)."""
    if isinstance(names, str):
        names = names.split()
    return [_row(obj, name) for name in names]


@register.simple_tag
def verbose(obj: Any, name: str) -> str:
    """The translated label of a model field."""
    return capfirst(str(obj._meta.get_field(name).verbose_name))


@register.filter
def url_of(obj: Any) -> str:
    return detail_url(obj)


@register.filter
def entry_url(entry: Any) -> str | None:
    return detail_url_for(entry.object_type, entry.object_id)


def _badge(kind: str, value: str, label: Any) -> SafeString:
    return format_html('<span class="badge badge--{}-{}">{}</span>', kind, value or "none", label)


@register.simple_tag
def risk_badge(value: str) -> SafeString:
    label = dict(RiskClass.choices).get(value, value)
    return _badge("risk", value, label)


@register.simple_tag
def stage_badge(value: str | None) -> SafeString:
    if not value:
        return format_html('<span class="muted">{}</span>', EMPTY)
    return _badge("stage", value, dict(ModelStage.choices).get(value, value))


@register.simple_tag
def status_badge(value: str) -> SafeString:
    return _badge("status", value, dict(SystemStatus.choices).get(value, value))


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (filters survive paging)."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else {}
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)  # type: ignore[union-attr]
        else:
            params[key] = value  # type: ignore[index]
    encoded: str = params.urlencode() if hasattr(params, "urlencode") else ""
    return f"?{encoded}" if encoded else "?"


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: Any
    after: Any
    is_diff: bool


def _show(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def change_rows(changes: Any) -> list[ChangeRow]:
    """An audit entry's changes as rows: ``{"from", "to"}`` pairs as a diff, other values as set."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for key, value in changes.items():
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            rows.append(ChangeRow(key, _show(value["from"]), _show(value["to"]), True))
        else:
            rows.append(ChangeRow(key, "", _show(value), False))
    return rows


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


SECTION_PREFIXES = (
    ("component", "system"),
    ("system", "system"),
    ("datasetversion", "dataset"),
    ("dataset", "dataset"),
    ("generator", "generator"),
    ("modelversion", "model"),
    ("model", "model"),
    ("prompt", "prompt"),
    ("approvals", "approvals"),
    ("dashboard", "dashboard"),
    ("search", "search"),
)


@register.simple_tag(takes_context=True)
def nav_section(context: template.Context) -> str:
    """Which top-navigation entry the current page belongs to."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.namespace == "trail":
        return "trail"
    if match.namespace == "access":
        return "tokens" if (match.url_name or "").startswith("token") else ""
    for prefix, section in SECTION_PREFIXES:
        if (match.url_name or "").startswith(prefix):
            return section
    return ""


@register.filter
def role_label(value: str) -> str:
    from access.choices import Role

    return str(dict(Role.choices).get(value, value))


@register.filter
def method_label(value: str | None) -> str:
    from registry.choices import GeneratorMethod

    if not value:
        return EMPTY
    return str(dict(GeneratorMethod.choices).get(value, value))
