from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import FindingStatus, Severity
from audits.models.targets import ParentManager


class Finding(models.Model):
    """Something a check found that a person must triage: severity, evidence and status."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    run = models.ForeignKey("audits.CheckRun", on_delete=models.CASCADE, related_name="findings")
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    detail = models.TextField(_("detail"), blank=True)
    # Figures and references only: evidence never copies personal data (it is masked first).
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN, db_index=True
    )
    status_reason = models.TextField(_("justification"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.CharField(_("status changed by"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("found"), default=timezone.now, db_index=True)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "run"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return self.title


class FindingStatusChange(models.Model):
    """One triage decision on a finding: from which status to which, by whom, and why."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=FindingStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=FindingStatus.choices)
    reason = models.TextField(_("justification"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(_("by"), max_length=200)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("finding status change")
        verbose_name_plural = _("finding status changes")

    def __str__(self) -> str:
        return f"{self.finding}: {self.from_status} → {self.to_status}"
