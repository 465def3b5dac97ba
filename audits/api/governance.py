"""The governance records API: risks, incidents, feedback (with a file import), standards, oversight measures.

Each resource lists (filter with ``?system=<uuid>``), retrieves, creates, updates (PATCH) and
deletes. Objects are fetched through ``visible_to`` (what the requester may not see is a 404),
referenced by uuid (users by username), and every change goes through
``audits.services.governance`` — the same services the pages call.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.serializers import RejectUnknownFieldsMixin
from audits.choices import IncidentStatus, RiskStatus, Severity
from audits.models import AppliedStandard, Feedback, Finding, Incident, OversightMeasure, Risk
from audits.services import governance as services
from registry.api.fields import TeamMemberField, VisibleRelatedField
from registry.api.views import RestrictedViewSet
from registry.models import AISystem

NS = "audits-api"
RECORD_READ_ONLY = ("url", "uuid", "created_at", "updated_at", "created_by")


# ---------------------------------------------------------------------------------------------
# Filter sets (one per model; the list endpoints use them)


class SystemRecordFilterSet(django_filters.FilterSet):
    system = django_filters.UUIDFilter(field_name="system__uuid", label=_("AI system (uuid)"))


class RiskFilterSet(SystemRecordFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RiskStatus.choices, label=_("Status"))

    class Meta:
        model = Risk
        fields = ["system", "status"]


class IncidentFilterSet(SystemRecordFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices, label=_("Status"))
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, label=_("Severity"))

    class Meta:
        model = Incident
        fields = ["system", "status", "severity"]


class FeedbackFilterSet(SystemRecordFilterSet):
    interaction = django_filters.CharFilter(label=_("Interaction"))
    rating = django_filters.NumberFilter(label=_("Rating"))
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=_("Since"))
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label=_("Before"))

    class Meta:
        model = Feedback
        fields = ["system", "interaction", "rating", "occurred_after", "occurred_before"]


class AppliedStandardFilterSet(SystemRecordFilterSet):
    class Meta:
        model = AppliedStandard
        fields = ["system"]


class OversightMeasureFilterSet(SystemRecordFilterSet):
    class Meta:
        model = OversightMeasure
        fields = ["system"]


# ---------------------------------------------------------------------------------------------
# Serializers: they render and parse; the services validate and save


class SystemRecordSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A governance record of one AI system."""

    system = VisibleRelatedField(AISystem, help_text="The AI system's uuid; an entry stays with its system.")
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who recorded it."
    )

    class Meta:
        # The services check the whole record (constraints included) inside their transaction.
        validators: list[Any] = []


class RiskSerializer(SystemRecordSerializer):
    """An entry of an AI system's risk register, with its likelihood × severity score."""

    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:risk-detail", lookup_field="uuid")
    owner = TeamMemberField(required=False, allow_null=True, help_text="Username of a member of the owning team.")
    score = serializers.SerializerMethodField(help_text="Likelihood rank × severity rank, 1 to 25.")
    level = serializers.SerializerMethodField(help_text="The score's band: low, medium, high or critical.")

    class Meta(SystemRecordSerializer.Meta):
        model = Risk
        fields = (
            "url",
            "uuid",
            "system",
            "title",
            "description",
            "affected_people",
            "likelihood",
            "severity",
            "score",
            "level",
            "mitigation",
            "owner",
            "residual_risk",
            "review_date",
            "status",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = RECORD_READ_ONLY

    @extend_schema_field(OpenApiTypes.INT)
    def get_score(self, risk: Risk) -> int:
        return services.risk_score(risk.likelihood, risk.severity)

    @extend_schema_field(OpenApiTypes.STR)
    def get_level(self, risk: Risk) -> str:
        return services.risk_level(services.risk_score(risk.likelihood, risk.severity))


class IncidentSerializer(SystemRecordSerializer):
    """Something that went wrong with an AI system in use, and the findings it relates to."""

    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:incident-detail", lookup_field="uuid")
    findings = VisibleRelatedField(
        Finding,
        many=True,
        required=False,
        help_text="Uuids of findings of checks on this system or the versions it uses.",
    )

    class Meta(SystemRecordSerializer.Meta):
        model = Incident
        fields = (
            "url",
            "uuid",
            "system",
            "title",
            "description",
            "occurred_at",
            "severity",
            "status",
            "resolution",
            "resolved_at",
            "findings",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = RECORD_READ_ONLY


class FeedbackSerializer(SystemRecordSerializer):
    """A person's rating of one interaction with an AI system."""

    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:feedback-detail", lookup_field="uuid")
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (bad) to 5 (good).")

    class Meta(SystemRecordSerializer.Meta):
        model = Feedback
        fields = (
            "url",
            "uuid",
            "system",
            "interaction",
            "rating",
            "comment",
            "occurred_at",
            "source",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = RECORD_READ_ONLY


class AppliedStandardSerializer(SystemRecordSerializer):
    """A standard, regulation or internal policy an AI system follows."""

    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:standard-detail", lookup_field="uuid")

    class Meta(SystemRecordSerializer.Meta):
        model = AppliedStandard
        fields = (
            "url",
            "uuid",
            "system",
            "name",
            "kind",
            "reference",
            "scope",
            "adopted_on",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = RECORD_READ_ONLY


class OversightMeasureSerializer(SystemRecordSerializer):
    """How people oversee an AI system: who, how and how often."""

    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:oversight-measure-detail", lookup_field="uuid")

    class Meta(SystemRecordSerializer.Meta):
        model = OversightMeasure
        fields = (
            "url",
            "uuid",
            "system",
            "kind",
            "description",
            "responsible",
            "frequency",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = RECORD_READ_ONLY


class FeedbackImportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A feedback file to import into one AI system."""

    system = VisibleRelatedField(AISystem, help_text="The AI system's uuid.")
    file = serializers.FileField(
        help_text="CSV with a header row, or JSON Lines: interaction, rating (1–5 or up/down), comment, occurred_at."
    )
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Stored as each row's source; the file's name."
    )


class FeedbackCommentSerializer(serializers.Serializer):
    """One of the latest comments."""

    interaction = serializers.CharField()
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    source = serializers.CharField()  # type: ignore[assignment]  # the field's name, not Field.source


class FeedbackSummarySerializer(serializers.Serializer):
    """What people's ratings add up to."""

    count = serializers.IntegerField()
    mean_rating = serializers.FloatField(allow_null=True)
    distribution = serializers.DictField(child=serializers.IntegerField(), help_text="Ratings 1 to 5 → count.")
    low_count = serializers.IntegerField(help_text="Ratings of 1 or 2.")
    low_share = serializers.FloatField(allow_null=True, help_text="Share of ratings of 1 or 2, from 0 to 1.")
    latest_comments = FeedbackCommentSerializer(many=True)


class FeedbackImportResultSerializer(serializers.Serializer):
    """What an import did."""

    system = serializers.SerializerMethodField()
    source = serializers.CharField()  # type: ignore[assignment]  # the field's name, not Field.source
    sha256 = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    summary = FeedbackSummarySerializer(help_text="The ratings of the imported file.")

    @extend_schema_field(OpenApiTypes.UUID)
    def get_system(self, result: services.FeedbackImportResult) -> str:
        return str(result.system.uuid)


# ---------------------------------------------------------------------------------------------
# Viewsets


class SystemRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """A governance record type; writes need "change" on the system (the services say what more)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    related: tuple[str, ...] = ("system", "created_by")
    # Officers may delete risks and incidents but hold no generic "delete" role action: the
    # services decide, so the early role check only asks that the requester may change things.
    permission_action = "change"
    create_service: Any = None
    update_service: Any = None
    delete_service: Any = None

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        system = data.pop("system")
        serializer.instance = self.create_record(system, data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert serializer.instance is not None
        serializer.instance = self.update_record(serializer.instance, dict(serializer.validated_data))

    def perform_destroy(self, instance: Any) -> None:
        type(self).delete_service(instance, actor=self.actor)

    def create_record(self, system: AISystem, data: dict[str, Any]) -> Any:
        return type(self).create_service(system, actor=self.actor, data=data)

    def update_record(self, record: Any, data: dict[str, Any]) -> Any:
        return type(self).update_service(record, actor=self.actor, data=data)


@extend_schema(tags=["governance"])
class RiskViewSet(SystemRecordViewSet):
    """The risk register of AI systems. Accepting or closing a risk, and deleting one, take a compliance officer."""

    model = Risk
    serializer_class = RiskSerializer
    filterset_class = RiskFilterSet
    related = ("system", "created_by", "owner")
    create_service = services.do_create_risk
    update_service = services.do_update_risk
    delete_service = services.do_delete_risk


@extend_schema(tags=["governance"])
class IncidentViewSet(SystemRecordViewSet):
    """Incidents with AI systems in use. Deleting one takes a compliance officer."""

    model = Incident
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    delete_service = services.do_delete_incident

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("findings")

    def create_record(self, system: AISystem, data: dict[str, Any]) -> Any:
        findings = data.pop("findings", [])
        return services.do_create_incident(system, actor=self.actor, data=data, findings=findings)

    def update_record(self, record: Any, data: dict[str, Any]) -> Any:
        findings = data.pop("findings", None)
        return services.do_update_incident(record, actor=self.actor, data=data, findings=findings)


@extend_schema_view(
    import_file=extend_schema(
        request={"multipart/form-data": FeedbackImportSerializer},
        responses={201: FeedbackImportResultSerializer},
        description="Import a CSV or JSON Lines file of ratings, all or nothing; interactions already on record "
        "are updated. A bad file is a 400 naming the row or line and the column.",
    ),
    summary=extend_schema(responses=FeedbackSummarySerializer, filters=True),
)
@extend_schema(tags=["governance"])
class FeedbackViewSet(SystemRecordViewSet):
    """People's ratings of interactions with AI systems, one per interaction and system."""

    model = Feedback
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilterSet
    create_service = services.do_create_feedback
    update_service = services.do_update_feedback
    delete_service = services.do_delete_feedback

    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
        pagination_class=None,
    )
    def import_file(self, request: Request) -> Response:
        payload = FeedbackImportSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload = data["file"]
        result = services.do_import_feedback(
            data["system"], actor=self.actor, file=upload, name=data.get("name") or upload.name or ""
        )
        return Response(FeedbackImportResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["get"], url_path="summary", pagination_class=None)
    def summary(self, request: Request) -> Response:
        """Count, mean rating, distribution, share of low ratings and latest comments (filters apply)."""
        queryset = self.filter_queryset(self.get_queryset())
        return Response(FeedbackSummarySerializer(services.feedback_summary(queryset)).data)


@extend_schema(tags=["governance"])
class AppliedStandardViewSet(SystemRecordViewSet):
    """Standards, regulations and internal policies AI systems follow (e.g. ISO/IEC 42001)."""

    model = AppliedStandard
    serializer_class = AppliedStandardSerializer
    filterset_class = AppliedStandardFilterSet
    create_service = services.do_create_applied_standard
    update_service = services.do_update_applied_standard
    delete_service = services.do_delete_applied_standard


@extend_schema(tags=["governance"])
class OversightMeasureViewSet(SystemRecordViewSet):
    """How people oversee AI systems (EU AI Act article 14): who, how and how often."""

    model = OversightMeasure
    serializer_class = OversightMeasureSerializer
    filterset_class = OversightMeasureFilterSet
    create_service = services.do_create_oversight_measure
    update_service = services.do_update_oversight_measure
    delete_service = services.do_delete_oversight_measure
