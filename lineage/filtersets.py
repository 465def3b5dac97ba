"""One FilterSet per lineage model, shared by the API lists and the UI list pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from lineage.models import EventKind, RawEvent, Run, RunState

EVENT_TYPES = [(t, t) for t in ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")]


class RunFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RunState.choices, label=_("State"))
    namespace = django_filters.CharFilter(field_name="job__namespace__name", label=_("Job namespace"))
    job = django_filters.CharFilter(field_name="job__name", label=_("Job"))
    started_after = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte", label=_("Started at or after")
    )
    started_before = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="lt", label=_("Started before")
    )

    class Meta:
        model = Run
        fields = ["state", "namespace", "job", "started_after", "started_before"]


class RawEventFilterSet(django_filters.FilterSet):
    """Marquez's ``before``/``after`` window on ``eventTime`` (after inclusive, before exclusive)."""

    before = django_filters.IsoDateTimeFilter(field_name="event_time", lookup_expr="lt", label=_("Event time before"))
    after = django_filters.IsoDateTimeFilter(
        field_name="event_time", lookup_expr="gte", label=_("Event time at or after")
    )
    namespace = django_filters.CharFilter(field_name="namespace__name", label=_("Namespace"))
    job = django_filters.CharFilter(field_name="job_name", label=_("Job"))
    dataset = django_filters.CharFilter(field_name="dataset_name", label=_("Dataset"))
    kind = django_filters.ChoiceFilter(choices=EventKind.choices, label=_("Kind"))
    eventType = django_filters.ChoiceFilter(field_name="event_type", choices=EVENT_TYPES, label=_("Event type"))
    runId = django_filters.UUIDFilter(field_name="run_uuid", label=_("Run id"))

    class Meta:
        model = RawEvent
        fields = ["before", "after", "namespace", "job", "dataset", "kind", "eventType", "runId"]
