"""Serializers of the audits API: they render and parse; every change is made by a service."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.api.serializers import RejectUnknownFieldsMixin
from audits.choices import CheckKind, FindingStatus
from audits.models import ApprovalException, CheckRun, EvaluationItem, EvaluationRun, Finding, PolicyVersion
from audits.services.runs import target_reference

NS = "audits-api"


@extend_schema_field(OpenApiTypes.STR)
class TargetField(serializers.Field):
    """A target as ``<kind>:<uuid>``, e.g. ``modelversion:6f1c…``."""

    def to_representation(self, value: Any) -> str | None:
        return target_reference(value) if value is not None else None

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or ":" not in data:
            raise serializers.ValidationError("Give the target as <kind>:<uuid>, e.g. modelversion:<uuid>.")
        return data


class FindingSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:finding-detail", lookup_field="uuid")
    run: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    kind = serializers.CharField(source="run.kind", read_only=True)

    class Meta:
        model = Finding
        fields = (
            "url",
            "uuid",
            "run",
            "kind",
            "severity",
            "title",
            "detail",
            "evidence",
            "status",
            "status_reason",
            "status_changed_at",
            "status_changed_by",
            "created_at",
        )
        read_only_fields = fields


class FindingStatusSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=FindingStatus.choices)
    reason = serializers.CharField(max_length=5000)


class PolicyVersionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="policy.kind", read_only=True)
    system: serializers.SlugRelatedField = serializers.SlugRelatedField(
        source="policy.system", slug_field="uuid", read_only=True
    )

    class Meta:
        model = PolicyVersion
        fields = (
            "uuid",
            "kind",
            "system",
            "number",
            "thresholds",
            "rerun_every_days",
            "note",
            "actor_label",
            "created_at",
        )
        read_only_fields = fields


class CheckRunSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:check-run-detail", lookup_field="uuid")
    target = serializers.SerializerMethodField()
    policy_system: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    input_dataset_version: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="uuid", read_only=True
    )
    evaluation: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    rerun_of: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    superseded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    policy_version = PolicyVersionSerializer(read_only=True)
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = CheckRun
        fields = (
            "url",
            "uuid",
            "kind",
            "target",
            "policy_system",
            "parameters",
            "input_name",
            "input_dataset_version",
            "evaluation",
            "state",
            "progress",
            "progress_message",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "actor_label",
            "error",
            "verdict",
            "verdict_reasons",
            "metrics",
            "policy_version",
            "rerun_of",
            "superseded_by",
            "scheduled",
            "findings",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_target(self, run: CheckRun) -> str | None:
        target = run.target
        return target_reference(target) if target is not None else None


class BiasCheckRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A bias check request; multipart with ``input_file``, or JSON naming a dataset version."""

    kind = serializers.ChoiceField(choices=[CheckKind.BIAS], default=CheckKind.BIAS)
    target = TargetField()
    mode = serializers.CharField(required=False, default="classification")
    input_file = serializers.FileField(required=False)
    input_dataset_version = serializers.UUIDField(required=False)
    y_true = serializers.CharField(required=False, allow_blank=True)
    y_pred = serializers.CharField(required=False, allow_blank=True)
    score = serializers.CharField(required=False, allow_blank=True)
    sensitive = serializers.ListField(child=serializers.CharField(), min_length=1)
    positive_label = serializers.CharField(required=False, allow_blank=True)
    score_threshold = serializers.FloatField(required=False, allow_null=True)
    policy_system = serializers.UUIDField(required=False, allow_null=True)


class PiiCheckRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A personal-data scan: of a dataset version's file or prompt version, or of uploaded outputs (multipart)."""

    kind = serializers.ChoiceField(choices=[CheckKind.PII])
    target = TargetField()
    language = serializers.ChoiceField(choices=["auto", "es", "en"], required=False, default="auto")
    input_file = serializers.FileField(required=False)
    sample_rows = serializers.IntegerField(required=False, allow_null=True, min_value=100)
    policy_system = serializers.UUIDField(required=False, allow_null=True)


class MemorisationCheckRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A memorisation check on a model version (outputs vs training text) or a generator version (synthetic table)."""

    kind = serializers.ChoiceField(choices=[CheckKind.MEMORISATION])
    target = TargetField()
    training = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="Training dataset versions (model versions: any number; generator versions: one).",
    )
    holdout = serializers.UUIDField(required=False, allow_null=True)
    input_dataset_version = serializers.UUIDField(
        required=False, allow_null=True, help_text="Outputs (model versions) or the generated table (generators)."
    )
    input_file = serializers.FileField(required=False, help_text="Model outputs (multipart).")
    text_field = serializers.CharField(required=False, default="text")
    output_field = serializers.CharField(required=False, default="text")
    extraction = serializers.BooleanField(required=False, default=True)
    window_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=8, max_value=1000)
    columns = serializers.ListField(child=serializers.CharField(), required=False)
    policy_system = serializers.UUIDField(required=False, allow_null=True)


class EvaluationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationItem
        fields = ("position", "item_id", "question", "ground_truth", "answer", "score", "explanation")
        read_only_fields = fields


class EvaluationRunSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:evaluation-detail", lookup_field="uuid")
    target = serializers.SerializerMethodField()
    evaluation_set: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    check_run = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationRun
        fields = (
            "url",
            "uuid",
            "name",
            "target",
            "evaluation_set",
            "source_name",
            "judge",
            "item_count",
            "mean_score",
            "created_at",
            "actor_label",
            "check_run",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_target(self, evaluation: EvaluationRun) -> str | None:
        target = evaluation.target
        return target_reference(target) if target is not None else None

    @extend_schema_field(OpenApiTypes.UUID)
    def get_check_run(self, evaluation: EvaluationRun) -> str | None:
        run = evaluation.check_runs.order_by("-created_at").first()
        return str(run.uuid) if run else None


class EvaluationImportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    target = TargetField()
    name = serializers.CharField(max_length=200)
    items = serializers.JSONField(required=False)
    file = serializers.FileField(required=False)
    evaluation_set = serializers.UUIDField(required=False, allow_null=True)
    judge = serializers.CharField(required=False, allow_blank=True, max_length=200)
    policy_system = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("items" in attrs) == ("file" in attrs):
            raise serializers.ValidationError({"items": ["Send the items as a JSON list or a file, one of the two."]})
        return attrs


class PolicyChangeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=CheckKind.choices)
    system = serializers.UUIDField(required=False, allow_null=True)
    thresholds = serializers.JSONField()
    rerun_every_days = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(max_length=2000)


class ApprovalExceptionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name=f"{NS}:approval-exception-detail", lookup_field="uuid")
    model_version = serializers.UUIDField(source="model_version.uuid")
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApprovalException
        fields = (
            "url",
            "uuid",
            "model_version",
            "justification",
            "expires_on",
            "created_at",
            "actor_label",
            "revoked_at",
            "is_active",
        )
        read_only_fields = ("url", "uuid", "created_at", "actor_label", "revoked_at", "is_active")
