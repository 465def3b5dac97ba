from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.choices import Modality, ModelStage
from registry.models.base import Asset, AssetVersion


class Model(Asset):
    """A machine-learning model or LLM (in-house or from a provider) whose versions are registered."""

    provider = models.CharField(_("provider"), max_length=200, blank=True)

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (*Asset.EDITABLE_FIELDS, "provider")

    class Meta(Asset.Meta):
        verbose_name = _("model")
        verbose_name_plural = _("models")
        constraints = [models.UniqueConstraint(fields=["owner_team", "name"], name="model_unique_name_per_team")]


class ModelVersion(AssetVersion):
    """One immutable model build: base, training data, artifact; with its lifecycle and approval."""

    model = models.ForeignKey(Model, on_delete=models.CASCADE, related_name="versions", verbose_name=_("model"))
    label = models.CharField(_("label"), max_length=100, blank=True, help_text=_("e.g. 2026-09 or v2.1"))
    base_model = models.CharField(
        _("base model"), max_length=300, blank=True, help_text=_("e.g. a provider's model id")
    )
    fine_tuned_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fine_tunes",
        verbose_name=_("fine-tuned from"),
    )
    training_datasets = models.ManyToManyField(
        "registry.DatasetVersion",
        through="registry.ModelTrainingData",
        related_name="trained_models",
        blank=True,
        verbose_name=_("training data"),
    )
    license = models.CharField(_("licence"), max_length=200, blank=True)
    parameter_count = models.PositiveBigIntegerField(_("parameters"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=20, choices=Modality.choices, default=Modality.TEXT)
    context_window = models.PositiveIntegerField(_("context window (tokens)"), null=True, blank=True)
    artifact_uri = models.CharField(_("artifact URI"), max_length=1000, blank=True)
    # Metadata: may change after creation.
    serving_endpoint = models.CharField(_("serving endpoint"), max_length=1000, blank=True)
    stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=ModelStage.choices, default=ModelStage.DRAFT, db_index=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    approval_reason = models.TextField(_("approval reason"), blank=True, editable=False)

    ASSET_FIELD: ClassVar[str] = "model"
    visibility_parent: ClassVar[str] = "model"
    METADATA_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"description", "serving_endpoint", "stage", "approved_by", "approved_at", "approval_reason"}
    )

    class Meta:
        ordering = ["model_id", "-number"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [models.UniqueConstraint(fields=["model", "number"], name="modelversion_unique_number")]
        indexes = [models.Index(fields=["artifact_uri"])]

    def __str__(self) -> str:
        return f"{self.model} v{self.number}" + (f" ({self.label})" if self.label else "")


class ModelTrainingData(models.Model):
    """Links a model version to a dataset version it was trained or fine-tuned on."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    dataset_version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model_version", "dataset_version"], name="modeltraining_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model_version} ← {self.dataset_version}"


class StageChange(models.Model):
    """One lifecycle move of a model version: who moved it, when, and why (approvals included)."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("from"), max_length=20, choices=ModelStage.choices)
    to_stage = models.CharField(_("to"), max_length=20, choices=ModelStage.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(_("by"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    visibility_parent: ClassVar[str] = "model_version"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")

    def __str__(self) -> str:
        return f"{self.model_version}: {self.from_stage} → {self.to_stage}"
