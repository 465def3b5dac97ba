"""The audit-trail filters, shared by the audit-trail page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from trail.choices import AuditAction
from trail.models import AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(method="filter_actor", label=_("Actor (username or label)"))
    action = django_filters.MultipleChoiceFilter(choices=AuditAction.choices, label=_("Action"))
    object_type = django_filters.CharFilter(label=_("Object type, e.g. registry.dataset"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    team = django_filters.CharFilter(field_name="team_slug", label=_("Team"))
    since = django_filters.DateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=_("Since"))
    until = django_filters.DateTimeFilter(field_name="occurred_at", lookup_expr="lte", label=_("Until"))

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "object_id", "team", "since", "until"]

    def filter_actor(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet[AuditEntry]:
        value = value.strip()
        if not value:
            return queryset
        # A token's entries are labelled "alice (token cus_abc…)"; they belong to alice too.
        return queryset.filter(
            Q(actor__username=value) | Q(actor_label=value) | Q(actor_label__startswith=f"{value} (token ")
        )
