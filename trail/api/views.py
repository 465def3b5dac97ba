from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from trail.api.serializers import AuditEntrySerializer
from trail.filtersets import AuditEntryFilterSet
from trail.models import AuditEntry
from trail.scope import entries_visible_to


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail of the requester's teams, newest first. It is append-only: there is no write."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    lookup_field = "seq"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        return entries_visible_to(self.request)
