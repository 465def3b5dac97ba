"""What an AI system's governance is made of beyond its parts: risks, incidents, feedback, standards, oversight.

Each record belongs to one AI system and is visible to whoever may see that system; every change
goes through ``audits.services.governance`` and is written to the audit trail.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.querysets import RestrictedManager
from audits.choices import (
    Impact,
    IncidentStatus,
    Likelihood,
    OversightKind,
    RiskLevel,
    RiskStatus,
    Severity,
    StandardKind,
)


class SystemRecord(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    system = models.ForeignKey(
        "registry.AISystem", on_delete=models.CASCADE, related_name="+", verbose_name=_("AI system")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "system"

    class Meta:
        abstract = True


class Risk(SystemRecord):
    """One entry of an AI system's risk register."""

    title = models.CharField(_("risk"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    affected_people = models.TextField(_("affected people"), help_text=_("Who could be harmed, e.g. customers over 65"))
    likelihood = models.CharField(_("likelihood"), max_length=20, choices=Likelihood.choices)
    severity = models.CharField(_("severity"), max_length=20, choices=Impact.choices)
    mitigation = models.TextField(_("mitigation"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    residual_risk = models.CharField(_("residual risk"), max_length=20, choices=RiskLevel.choices)
    review_date = models.DateField(_("review date"))
    status = models.CharField(_("status"), max_length=20, choices=RiskStatus.choices, default=RiskStatus.OPEN)

    class Meta:
        ordering = ["review_date", "id"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")

    def __str__(self) -> str:
        return self.title


class Incident(SystemRecord):
    """Something that went wrong with an AI system in use."""

    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("what happened"))
    occurred_at = models.DateTimeField(_("when"))
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    status = models.CharField(_("status"), max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    findings = models.ManyToManyField(
        "audits.Finding", blank=True, related_name="incidents", verbose_name=_("linked findings")
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return self.title


class Feedback(SystemRecord):
    """A person's rating of one interaction with an AI system (entered or imported in bulk)."""

    interaction = models.CharField(_("interaction"), max_length=200, help_text=_("The interaction's id in your logs"))
    rating = models.PositiveSmallIntegerField(_("rating"), help_text=_("1 (bad) to 5 (good)"))
    comment = models.TextField(_("comment"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("e.g. the import file's name"))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"),
            models.UniqueConstraint(fields=["system", "interaction"], name="feedback_unique_interaction"),
        ]

    def __str__(self) -> str:
        return f"{self.interaction}: {self.rating}"


class AppliedStandard(SystemRecord):
    """A standard, regulation or internal policy an AI system follows (e.g. ISO/IEC 42001)."""

    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=StandardKind.choices)
    reference = models.CharField(_("reference"), max_length=300, blank=True, help_text=_("e.g. ISO/IEC 42001:2023"))
    scope = models.TextField(_("how it applies"), blank=True)
    adopted_on = models.DateField(_("applied since"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("applied standard")
        verbose_name_plural = _("applied standards")

    def __str__(self) -> str:
        return self.name


class OversightMeasure(SystemRecord):
    """How people oversee an AI system (EU AI Act article 14): who, how and how often."""

    kind = models.CharField(_("kind"), max_length=20, choices=OversightKind.choices)
    description = models.TextField(_("measure"))
    responsible = models.CharField(_("responsible role"), max_length=200)
    frequency = models.CharField(_("frequency"), max_length=200, blank=True, help_text=_("e.g. every conversation"))

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("human-oversight measure")
        verbose_name_plural = _("human-oversight measures")

    def __str__(self) -> str:
        return self.description[:80]
