"""Dataset pages and dataset-version pages (with file upload and profiling)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet

from registry.filtersets import DatasetFilterSet
from registry.forms import DatasetForm, DatasetVersionForm
from registry.models import Dataset, DatasetVersion, GeneratorVersion, ModelVersion
from registry.services import do_create_dataset_version
from registry.views.assets import AssetCreateView, AssetDeleteView, AssetDetailView, AssetListView, AssetUpdateView
from registry.views.base import per_parent, visible_or_none
from registry.views.versions import VersionCreateView, VersionDeleteView, VersionDetailView, VersionEditView


class DatasetListView(AssetListView):
    model = Dataset
    filterset_class = DatasetFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .annotate(
                version_count=per_parent(DatasetVersion, "dataset", Count("pk")),
                latest_number=per_parent(DatasetVersion, "dataset", Max("number")),
                latest_at=per_parent(DatasetVersion, "dataset", Max("created_at")),
            )
        )


class DatasetDetailView(AssetDetailView):
    model = Dataset


class DatasetCreateView(AssetCreateView):
    model = Dataset
    form_class = DatasetForm


class DatasetUpdateView(AssetUpdateView):
    model = Dataset
    form_class = DatasetForm


class DatasetDeleteView(AssetDeleteView):
    model = Dataset


class DatasetVersionCreateView(VersionCreateView):
    model = DatasetVersion
    form_class = DatasetVersionForm

    def create(self, form: Any) -> DatasetVersion:
        return do_create_dataset_version(
            self.asset, actor=self.actor, data=form.service_data(), upload=form.cleaned_data.get("file")
        )


class DatasetVersionDetailView(VersionDetailView):
    model = DatasetVersion
    content_fields = (
        "uri",
        "file",
        "sha256",
        "format",
        "size_bytes",
        "row_count",
        "license",
        "origin",
        "contains_personal_data",
    )
    datasheet_fields = ("motivation", "collection_process", "preprocessing", "intended_uses")

    def detail_context(self) -> dict[str, Any]:
        version = self.object
        generator = visible_or_none(self.actor, version.generator_version)
        return {
            "datasheet_fields": self.datasheet_fields,
            "generator_version": generator,
            "generator_hidden": version.generator_version_id is not None and generator is None,
            "trained_models": ModelVersion.objects.visible_to(self.actor)
            .filter(training_datasets=version)
            .select_related("model"),
            "trained_generators": GeneratorVersion.objects.visible_to(self.actor)
            .filter(training_datasets=version)
            .select_related("generator"),
        }


class DatasetVersionEditView(VersionEditView):
    model = DatasetVersion


class DatasetVersionDeleteView(VersionDeleteView):
    model = DatasetVersion
