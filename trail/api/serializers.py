from rest_framework import serializers

from trail.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    """One audit-trail entry with its place in the hash chain (verifiable by the client)."""

    actor = serializers.CharField(source="actor_label", read_only=True)
    team = serializers.CharField(source="team_slug", read_only=True)

    class Meta:
        model = AuditEntry
        fields = (
            "seq",
            "occurred_at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "team",
            "changes",
            "request_id",
            "prev_hash",
            "entry_hash",
        )
        read_only_fields = fields
