"""One FilterSet per model, shared by the list pages and the API list endpoints."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from registry.choices import (
    ComponentRole,
    DataFormat,
    DataOrigin,
    GeneralPurposeAI,
    GeneratorMethod,
    Modality,
    ModelStage,
    RiskClass,
    SystemStatus,
)
from registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    Model,
    ModelVersion,
    Prompt,
    PromptVersion,
    SyntheticGenerator,
    SystemComponent,
)


class AssetFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    team = django_filters.CharFilter(field_name="owner_team__slug", label=_("Team"))
    tag = django_filters.CharFilter(field_name="tags__slug", label=_("Tag"), distinct=True)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("created_at", "created"), ("updated_at", "updated")),
        label=_("Order by"),
    )

    def filter_q(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class AISystemFilterSet(AssetFilterSet):
    risk_class = django_filters.MultipleChoiceFilter(choices=RiskClass.choices, label=_("Risk class"))
    status = django_filters.MultipleChoiceFilter(choices=SystemStatus.choices, label=_("Status"))
    general_purpose_ai = django_filters.ChoiceFilter(choices=GeneralPurposeAI.choices, label=_("General-purpose AI"))

    class Meta:
        model = AISystem
        fields = ["q", "team", "tag", "risk_class", "status", "general_purpose_ai"]


class DatasetFilterSet(AssetFilterSet):
    class Meta:
        model = Dataset
        fields = ["q", "team", "tag"]


class SyntheticGeneratorFilterSet(AssetFilterSet):
    class Meta:
        model = SyntheticGenerator
        fields = ["q", "team", "tag"]


class ModelFilterSet(AssetFilterSet):
    provider = django_filters.CharFilter(lookup_expr="icontains", label=_("Provider"))

    class Meta:
        model = Model
        fields = ["q", "team", "tag", "provider"]


class PromptFilterSet(AssetFilterSet):
    class Meta:
        model = Prompt
        fields = ["q", "team", "tag"]


class DatasetVersionFilterSet(django_filters.FilterSet):
    dataset = django_filters.UUIDFilter(field_name="dataset__uuid", label=_("Dataset"))
    origin = django_filters.MultipleChoiceFilter(choices=DataOrigin.choices, label=_("Origin"))
    format = django_filters.ChoiceFilter(choices=DataFormat.choices, label=_("Format"))
    contains_personal_data = django_filters.BooleanFilter(label=_("Contains personal data"))
    sha256 = django_filters.CharFilter(label="SHA-256")
    uri = django_filters.CharFilter(label=_("Location URI"))

    class Meta:
        model = DatasetVersion
        fields = ["dataset", "origin", "format", "contains_personal_data", "sha256", "uri"]


class GeneratorVersionFilterSet(django_filters.FilterSet):
    generator = django_filters.UUIDFilter(field_name="generator__uuid", label=_("Generator"))
    method = django_filters.ChoiceFilter(choices=GeneratorMethod.choices, label=_("Method"))

    class Meta:
        model = GeneratorVersion
        fields = ["generator", "method"]


class ModelVersionFilterSet(django_filters.FilterSet):
    model = django_filters.UUIDFilter(field_name="model__uuid", label=_("Model"))
    stage = django_filters.MultipleChoiceFilter(choices=ModelStage.choices, label=_("Lifecycle stage"))
    modality = django_filters.ChoiceFilter(choices=Modality.choices, label=_("Modality"))
    artifact_uri = django_filters.CharFilter(label=_("Artifact URI"))
    team = django_filters.CharFilter(field_name="model__owner_team__slug", label=_("Team"))

    class Meta:
        model = ModelVersion
        fields = ["model", "stage", "modality", "artifact_uri", "team"]


class PromptVersionFilterSet(django_filters.FilterSet):
    prompt = django_filters.UUIDFilter(field_name="prompt__uuid", label=_("Prompt"))
    alias = django_filters.CharFilter(field_name="aliases__name", label=_("Alias"))

    class Meta:
        model = PromptVersion
        fields = ["prompt", "alias"]


class SystemComponentFilterSet(django_filters.FilterSet):
    system = django_filters.UUIDFilter(field_name="system__uuid", label=_("AI system"))
    role = django_filters.ChoiceFilter(choices=ComponentRole.choices, label=_("Role"))

    class Meta:
        model = SystemComponent
        fields = ["system", "role"]
