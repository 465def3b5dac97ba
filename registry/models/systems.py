from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.querysets import RestrictedManager
from registry.choices import ComponentKind, ComponentRole, GeneralPurposeAI, RiskClass, SystemStatus
from registry.models.base import Asset


class AISystem(Asset):
    """The unit of governance: an AI system in use, its purpose, risk class and components."""

    purpose = models.TextField(_("purpose"))
    intended_use = models.TextField(_("intended use"), blank=True)
    deployment_context = models.TextField(_("deployment context"), blank=True)
    risk_class = models.CharField(_("EU AI Act risk class"), max_length=20, choices=RiskClass.choices, db_index=True)
    general_purpose_ai = models.CharField(
        _("general-purpose AI"), max_length=10, choices=GeneralPurposeAI.choices, default=GeneralPurposeAI.NONE
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SystemStatus.choices, default=SystemStatus.PLANNED, db_index=True
    )

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        *Asset.EDITABLE_FIELDS,
        "purpose",
        "intended_use",
        "deployment_context",
        "risk_class",
        "general_purpose_ai",
        "status",
    )

    class Meta(Asset.Meta):
        verbose_name = _("AI system")
        verbose_name_plural = _("AI systems")
        constraints = [models.UniqueConstraint(fields=["owner_team", "name"], name="aisystem_unique_name_per_team")]


class SystemComponent(models.Model):
    """One part an AI system uses: a dataset, model or prompt version, in a role."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="components")
    role = models.CharField(_("role"), max_length=30, choices=ComponentRole.choices)
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="used_by"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="used_by"
    )
    prompt_version = models.ForeignKey(
        "registry.PromptVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="used_by"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "system"

    class Meta:
        ordering = ["role", "id"]
        verbose_name = _("system component")
        verbose_name_plural = _("system components")
        constraints = [
            models.CheckConstraint(
                name="component_exactly_one_part",
                condition=(
                    models.Q(dataset_version__isnull=False, model_version__isnull=True, prompt_version__isnull=True)
                    | models.Q(dataset_version__isnull=True, model_version__isnull=False, prompt_version__isnull=True)
                    | models.Q(dataset_version__isnull=True, model_version__isnull=True, prompt_version__isnull=False)
                ),
            )
        ]

    @property
    def kind(self) -> str:
        if self.dataset_version_id:
            return ComponentKind.DATASET
        if self.model_version_id:
            return ComponentKind.MODEL
        return ComponentKind.PROMPT

    @property
    def part(self) -> Any:
        return self.dataset_version or self.model_version or self.prompt_version

    def __str__(self) -> str:
        return f"{self.system}: {self.get_role_display()} — {self.part}"
