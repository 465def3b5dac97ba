"""The audit-trail pages: the entries of the user's teams (every entry for administrators)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from trail.filtersets import AuditEntryFilterSet
from trail.scope import entries_visible_to

PAGE_SIZE = 50
BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _filter_data(request: HttpRequest) -> Any:
    """The query string, with a bare "until" date meaning the end of that day (as people read it)."""
    data = request.GET.copy()
    until = data.get("until", "")
    if BARE_DATE.match(until):
        data["until"] = f"{until} 23:59:59.999999"
    return data


def _style(filterset: AuditEntryFilterSet, visible: Any) -> None:
    fields = filterset.form.fields
    teams = visible.order_by("team_slug").values_list("team_slug", flat=True).distinct()
    types = visible.order_by("object_type").values_list("object_type", flat=True).distinct()
    fields["team"].widget = forms.Select(choices=[("", _("All teams")), *((t, t) for t in teams if t)])
    fields["object_type"].widget = forms.Select(choices=[("", _("All object types")), *((t, t) for t in types)])
    fields["object_type"].label = _("Object type")
    fields["actor"].label = _("Actor")
    fields["action"].widget = forms.CheckboxSelectMultiple(choices=fields["action"].choices)
    fields["since"].widget = forms.DateInput(attrs={"type": "date"})
    fields["since"].label = _("From")
    fields["until"].widget = forms.DateInput(attrs={"type": "date"})
    fields["until"].label = _("To")
    fields.pop("object_id", None)


class AuditEntryListView(LoginRequiredMixin, TemplateView):
    template_name = "trail/auditentry_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        visible = entries_visible_to(request)
        data = _filter_data(request)
        filterset = AuditEntryFilterSet(data or None, queryset=visible.select_related("actor"), request=request)
        _style(filterset, visible)
        queryset = filterset.qs.order_by("-seq")
        if "until" in request.GET:
            # Filtering is done: show the date as typed again.
            filterset.form.data = request.GET
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        context = self.get_context_data(
            filterset=filterset,
            page_obj=page,
            entries=page.object_list,
            filtered=any(v for k, v in request.GET.items() if k != "page"),
        )
        return self.render_to_response(context)


class AuditEntryDetailView(LoginRequiredMixin, TemplateView):
    template_name = "trail/auditentry_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        entry = get_object_or_404(entries_visible_to(request), seq=kwargs["seq"])
        return self.render_to_response(self.get_context_data(entry=entry))
