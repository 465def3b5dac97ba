"""Serializers of the registry API: they parse and render; every change is made by a service.

Objects are identified by ``uuid`` (teams by slug, users by username); references to other
objects only resolve among the objects the requester may see.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.api.serializers import OwnTeamField, RejectUnknownFieldsMixin
from registry.api.fields import TagListField, TeamMemberField, VisibleRelatedField
from registry.choices import ModelStage
from registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    Model,
    ModelVersion,
    Prompt,
    PromptAlias,
    PromptVersion,
    StageChange,
    SyntheticGenerator,
    SystemComponent,
    Tag,
)

URL_NAMESPACE = "registry-api"


def detail_url(basename: str) -> serializers.HyperlinkedIdentityField:
    return serializers.HyperlinkedIdentityField(view_name=f"{URL_NAMESPACE}:{basename}-detail", lookup_field="uuid")


def username_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field=get_user_model().USERNAME_FIELD, read_only=True)


class StrictModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    pass


# Assets


class AssetSerializer(StrictModelSerializer):
    owner_team = OwnTeamField()
    owner = TeamMemberField(required=False, allow_null=True)
    tags = TagListField(required=False)
    created_by = username_field()

    class Meta:
        fields: tuple[str, ...] = (
            "url",
            "uuid",
            "name",
            "description",
            "owner_team",
            "owner",
            "tags",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields: tuple[str, ...] = ("uuid", "created_at", "updated_at")


class ComponentSummarySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    version = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # (shadows Field.label)

    class Meta:
        model = SystemComponent
        fields = ("uuid", "role", "kind", "version", "label", "notes")
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.UUID)
    def get_version(self, component: SystemComponent) -> str:
        return str(component.part.uuid)

    def get_label(self, component: SystemComponent) -> str:
        return str(component.part)


class AISystemSerializer(AssetSerializer):
    url = detail_url("ai-system")
    components = ComponentSummarySerializer(many=True, read_only=True)

    class Meta(AssetSerializer.Meta):
        model = AISystem
        fields = (
            *AssetSerializer.Meta.fields,
            "purpose",
            "intended_use",
            "deployment_context",
            "risk_class",
            "general_purpose_ai",
            "status",
            "components",
        )


class DatasetSerializer(AssetSerializer):
    url = detail_url("dataset")

    class Meta(AssetSerializer.Meta):
        model = Dataset


class SyntheticGeneratorSerializer(AssetSerializer):
    url = detail_url("generator")

    class Meta(AssetSerializer.Meta):
        model = SyntheticGenerator


class ModelSerializer(AssetSerializer):
    url = detail_url("model")

    class Meta(AssetSerializer.Meta):
        model = Model
        fields = (*AssetSerializer.Meta.fields, "provider")


class PromptAliasSerializer(serializers.ModelSerializer):
    version = VisibleRelatedField(PromptVersion, read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = PromptAlias
        fields = ("name", "version", "version_number")
        read_only_fields = fields


class PromptAliasWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    version = VisibleRelatedField(PromptVersion)


class PromptSerializer(AssetSerializer):
    url = detail_url("prompt")
    aliases = PromptAliasSerializer(many=True, read_only=True)

    class Meta(AssetSerializer.Meta):
        model = Prompt
        fields = (*AssetSerializer.Meta.fields, "aliases")


# Versions


class VersionSerializer(StrictModelSerializer):
    """Content is set once, at creation; on an existing version only METADATA_FIELDS are writable.

    The viewset passes any other key the client sent on to the service, which refuses it with
    "Versions are immutable" rather than ignoring it.
    """

    created_by = username_field()

    class Meta:
        fields: tuple[str, ...] = ("url", "uuid", "number", "description")
        read_only_fields: tuple[str, ...] = ("uuid", "number", "created_at")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            metadata = self.Meta.model.METADATA_FIELDS  # type: ignore[attr-defined]
            for name, field in fields.items():
                if name not in metadata:
                    field.read_only = True
        return fields


class DatasetVersionSerializer(VersionSerializer):
    url = detail_url("dataset-version")
    dataset = VisibleRelatedField(Dataset)
    generator_version = VisibleRelatedField(GeneratorVersion, required=False, allow_null=True)
    file = serializers.FileField(
        required=False, help_text="Upload the data (multipart); its SHA-256, size, rows and columns are recorded."
    )

    class Meta(VersionSerializer.Meta):
        model = DatasetVersion
        fields = (
            *VersionSerializer.Meta.fields,
            "dataset",
            "uri",
            "sha256",
            "file",
            "format",
            "size_bytes",
            "row_count",
            "column_schema",
            "license",
            "origin",
            "contains_personal_data",
            "generator_version",
            "motivation",
            "collection_process",
            "preprocessing",
            "intended_uses",
            "created_at",
            "created_by",
        )
        extra_kwargs = {"uri": {"required": False}}


class GeneratorVersionSerializer(VersionSerializer):
    url = detail_url("generator-version")
    generator = VisibleRelatedField(SyntheticGenerator)
    training_datasets = VisibleRelatedField(DatasetVersion, many=True, required=False)

    class Meta(VersionSerializer.Meta):
        model = GeneratorVersion
        fields = (
            *VersionSerializer.Meta.fields,
            "generator",
            "method",
            "software",
            "parameters",
            "training_datasets",
            "created_at",
            "created_by",
        )


class StageChangeSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = StageChange
        fields = ("from_stage", "to_stage", "actor", "reason", "occurred_at")
        read_only_fields = fields


class ModelVersionSerializer(VersionSerializer):
    url = detail_url("model-version")
    model = VisibleRelatedField(Model)
    fine_tuned_from = VisibleRelatedField(ModelVersion, required=False, allow_null=True)
    training_datasets = VisibleRelatedField(DatasetVersion, many=True, required=False)
    approved_by = username_field()
    stage_changes = StageChangeSerializer(many=True, read_only=True)

    class Meta(VersionSerializer.Meta):
        model = ModelVersion
        fields = (
            *VersionSerializer.Meta.fields,
            "model",
            "label",
            "base_model",
            "fine_tuned_from",
            "training_datasets",
            "license",
            "parameter_count",
            "modality",
            "context_window",
            "artifact_uri",
            "serving_endpoint",
            "stage",
            "approved_by",
            "approved_at",
            "approval_reason",
            "stage_changes",
            "created_at",
            "created_by",
        )
        read_only_fields = (*VersionSerializer.Meta.read_only_fields, "stage", "approved_at", "approval_reason")


class TransitionSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=ModelStage.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class PromptVersionSerializer(VersionSerializer):
    url = detail_url("prompt-version")
    prompt = VisibleRelatedField(Prompt)
    model_version = VisibleRelatedField(ModelVersion, required=False, allow_null=True)
    parent = VisibleRelatedField(  # type: ignore[assignment]  # (shadows Field.parent)
        PromptVersion,
        required=False,
        allow_null=True,
        help_text="Defaults to the latest version of the prompt; null for none.",
    )
    aliases: Any = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta(VersionSerializer.Meta):
        model = PromptVersion
        fields = (
            *VersionSerializer.Meta.fields,
            "prompt",
            "template",
            "variables",
            "model_version",
            "model_settings",
            "commit_message",
            "parent",
            "aliases",
            "created_at",
            "created_by",
        )
        read_only_fields = (*VersionSerializer.Meta.read_only_fields, "variables")


class DiffAgainstSerializer(serializers.Serializer):
    """The ``?against=`` version of a diff: any prompt version the requester may see."""

    against = VisibleRelatedField(PromptVersion)


class DiffRowSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "delete", "insert"])
    old_no = serializers.IntegerField(allow_null=True)
    new_no = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()


class PromptDiffSerializer(serializers.Serializer):
    old = serializers.UUIDField(help_text="The version compared against (?against=).")
    new = serializers.UUIDField(help_text="The version of the URL.")
    rows = DiffRowSerializer(many=True)
    unified = serializers.CharField(help_text="The same diff in unified diff format.")


# System components


class SystemComponentSerializer(StrictModelSerializer):
    url = detail_url("system-component")
    system = VisibleRelatedField(AISystem)
    kind = serializers.CharField(read_only=True)
    dataset_version = VisibleRelatedField(DatasetVersion, required=False, allow_null=True)
    model_version = VisibleRelatedField(ModelVersion, required=False, allow_null=True)
    prompt_version = VisibleRelatedField(PromptVersion, required=False, allow_null=True)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # (shadows Field.label)

    PART_FIELDS = ("dataset_version", "model_version", "prompt_version")

    class Meta:
        model = SystemComponent
        fields = (
            "url",
            "uuid",
            "system",
            "role",
            "kind",
            "dataset_version",
            "model_version",
            "prompt_version",
            "label",
            "notes",
            "created_at",
        )
        read_only_fields = ("uuid", "created_at")

    def get_label(self, component: SystemComponent) -> str:
        return str(component.part)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = [name for name in self.PART_FIELDS if attrs.get(name) is not None]
        if len(parts) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of dataset_version, model_version or prompt_version.")
            )
        attrs["part"] = attrs.pop(parts[0])
        for name in self.PART_FIELDS:
            attrs.pop(name, None)
        return attrs


# Tags and search


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("slug", "name")
        read_only_fields = fields


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, help_text="Words to find in names, descriptions and tags")


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="aisystem, dataset, syntheticgenerator, model or prompt")
    kind_label = serializers.CharField()
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner_team = serializers.CharField()
    url = serializers.URLField()


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = SearchHitSerializer(many=True)
