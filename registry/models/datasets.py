from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.choices import DataFormat, DataOrigin
from registry.models.base import Asset, AssetVersion


class Dataset(Asset):
    """A collection of data (raw, curated or synthetic) whose versions are registered."""

    class Meta(Asset.Meta):
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        constraints = [models.UniqueConstraint(fields=["owner_team", "name"], name="dataset_unique_name_per_team")]


class DatasetVersion(AssetVersion):
    """One immutable version of a dataset: where it lives, its hash, shape, origin and datasheet."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions", verbose_name=_("dataset"))
    uri = models.CharField(_("location URI"), max_length=1000)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    file = models.FileField(_("file"), upload_to="datasets/%Y/%m/", blank=True, max_length=500)
    format = models.CharField(_("format"), max_length=20, choices=DataFormat.choices, default=DataFormat.OTHER)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    row_count = models.PositiveBigIntegerField(_("rows"), null=True, blank=True)
    column_schema = models.JSONField(_("column schema"), default=list, blank=True)
    license = models.CharField(_("licence"), max_length=200, blank=True)
    origin = models.CharField(_("origin"), max_length=20, choices=DataOrigin.choices, default=DataOrigin.COLLECTED)
    contains_personal_data = models.BooleanField(_("contains personal data"), default=False)
    generator_version = models.ForeignKey(
        "registry.GeneratorVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="produced_datasets",
        verbose_name=_("produced by generator version"),
    )
    # Datasheet (Gebru et al., "Datasheets for Datasets").
    motivation = models.TextField(_("motivation"), blank=True)
    collection_process = models.TextField(_("collection process"), blank=True)
    preprocessing = models.TextField(_("preprocessing"), blank=True)
    intended_uses = models.TextField(_("intended uses"), blank=True)

    ASSET_FIELD: ClassVar[str] = "dataset"
    visibility_parent: ClassVar[str] = "dataset"

    class Meta:
        ordering = ["dataset_id", "-number"]
        verbose_name = _("dataset version")
        verbose_name_plural = _("dataset versions")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="datasetversion_unique_number"),
            models.CheckConstraint(
                condition=models.Q(generator_version__isnull=True) | models.Q(origin=DataOrigin.SYNTHETIC),
                name="datasetversion_generator_only_if_synthetic",
            ),
        ]
        indexes = [models.Index(fields=["uri"]), models.Index(fields=["sha256"])]
