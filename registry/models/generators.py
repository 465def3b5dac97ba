from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.choices import GeneratorMethod
from registry.models.base import Asset, AssetVersion


class SyntheticGenerator(Asset):
    """A synthetic-data generator (an LLM prompt pipeline, a CTGAN model, a rule set…)."""

    class Meta(Asset.Meta):
        verbose_name = _("synthetic-data generator")
        verbose_name_plural = _("synthetic-data generators")
        constraints = [models.UniqueConstraint(fields=["owner_team", "name"], name="generator_unique_name_per_team")]


class GeneratorVersion(AssetVersion):
    """One immutable configuration of a generator: method, parameters and the data it learnt from."""

    generator = models.ForeignKey(
        SyntheticGenerator, on_delete=models.CASCADE, related_name="versions", verbose_name=_("generator")
    )
    method = models.CharField(_("method"), max_length=30, choices=GeneratorMethod.choices)
    software = models.CharField(_("software"), max_length=200, blank=True, help_text=_("e.g. sdv 1.17 or an LLM id"))
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    training_datasets = models.ManyToManyField(
        "registry.DatasetVersion",
        through="registry.GeneratorTrainingData",
        related_name="trained_generators",
        blank=True,
        verbose_name=_("trained or conditioned on"),
    )

    ASSET_FIELD: ClassVar[str] = "generator"
    visibility_parent: ClassVar[str] = "generator"

    class Meta:
        ordering = ["generator_id", "-number"]
        verbose_name = _("generator version")
        verbose_name_plural = _("generator versions")
        constraints = [models.UniqueConstraint(fields=["generator", "number"], name="generatorversion_unique_number")]


class GeneratorTrainingData(models.Model):
    """Links a generator version to a dataset version it was trained or conditioned on."""

    generator_version = models.ForeignKey(GeneratorVersion, on_delete=models.CASCADE, related_name="+")
    dataset_version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generator_version", "dataset_version"], name="generatortraining_unique")
        ]

    def __str__(self) -> str:
        return f"{self.generator_version} ← {self.dataset_version}"
