"""One FilterSet per audits model, shared by the list pages and the API list endpoints."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audits.choices import CheckKind, FindingStatus, RunState, Severity, Verdict
from audits.models import CheckRun, EvaluationRun, Finding


class CheckRunFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=CheckKind.choices, label=_("Check"))
    state = django_filters.MultipleChoiceFilter(choices=RunState.choices, label=_("State"))
    verdict = django_filters.MultipleChoiceFilter(choices=Verdict.choices, label=_("Verdict"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("Only current results"))
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("Since"))
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label=_("Before"))

    class Meta:
        model = CheckRun
        fields = ["kind", "state", "verdict", "current", "created_after", "created_before"]

    def filter_current(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        current = {"state": RunState.SUCCEEDED, "superseded_by__isnull": True}
        return queryset.filter(**current) if value else queryset.exclude(**current)


class FindingFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices, label=_("Status"))
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, label=_("Severity"))
    kind = django_filters.MultipleChoiceFilter(field_name="run__kind", choices=CheckKind.choices, label=_("Check"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("Only from current results"))
    run = django_filters.UUIDFilter(field_name="run__uuid", label=_("Check run"))
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Title contains"))

    class Meta:
        model = Finding
        fields = ["status", "severity", "kind", "current", "run", "q"]

    def filter_current(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        return queryset.filter(run__superseded_by__isnull=value)


class EvaluationRunFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = EvaluationRun
        fields = ["q"]
