"""Synthetic-data generator pages and generator-version pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery

from registry.filtersets import SyntheticGeneratorFilterSet
from registry.forms import GeneratorVersionForm, SyntheticGeneratorForm
from registry.models import DatasetVersion, GeneratorVersion, SyntheticGenerator
from registry.services import do_create_generator_version
from registry.views.assets import AssetCreateView, AssetDeleteView, AssetDetailView, AssetListView, AssetUpdateView
from registry.views.base import per_parent
from registry.views.versions import VersionCreateView, VersionDeleteView, VersionDetailView, VersionEditView


class SyntheticGeneratorListView(AssetListView):
    model = SyntheticGenerator
    filterset_class = SyntheticGeneratorFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        latest = GeneratorVersion.objects.filter(generator=OuterRef("pk")).order_by("-number")
        return (
            super()
            .get_queryset()
            .annotate(
                version_count=per_parent(GeneratorVersion, "generator", Count("pk")),
                latest_method=Subquery(latest.values("method")[:1]),
            )
        )


class SyntheticGeneratorDetailView(AssetDetailView):
    model = SyntheticGenerator


class SyntheticGeneratorCreateView(AssetCreateView):
    model = SyntheticGenerator
    form_class = SyntheticGeneratorForm


class SyntheticGeneratorUpdateView(AssetUpdateView):
    model = SyntheticGenerator
    form_class = SyntheticGeneratorForm


class SyntheticGeneratorDeleteView(AssetDeleteView):
    model = SyntheticGenerator


class GeneratorVersionCreateView(VersionCreateView):
    model = GeneratorVersion
    form_class = GeneratorVersionForm

    def create(self, form: Any) -> GeneratorVersion:
        return do_create_generator_version(
            self.asset,
            actor=self.actor,
            data=form.service_data(),
            training_datasets=list(form.cleaned_data.get("training_datasets") or []),
        )


class GeneratorVersionDetailView(VersionDetailView):
    model = GeneratorVersion
    content_fields = ("method", "software")

    def detail_context(self) -> dict[str, Any]:
        version = self.object
        all_training = version.training_datasets.all()
        training = DatasetVersion.objects.visible_to(self.actor).filter(pk__in=all_training.values("pk"))
        return {
            "training_datasets": training.select_related("dataset"),
            "hidden_training": all_training.count() - training.count(),
            "produced_datasets": DatasetVersion.objects.visible_to(self.actor)
            .filter(generator_version=version)
            .select_related("dataset"),
        }


class GeneratorVersionEditView(VersionEditView):
    model = GeneratorVersion


class GeneratorVersionDeleteView(VersionDeleteView):
    model = GeneratorVersion
