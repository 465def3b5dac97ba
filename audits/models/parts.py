from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import RunState


class CheckRunPart(models.Model):
    """One slice of a large check run (a byte or row range), computed by any worker; merged when all are done."""

    run = models.ForeignKey("audits.CheckRun", on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField(_("part"))
    parameters = models.JSONField(_("parameters"), default=dict)
    state = models.CharField(_("state"), max_length=20, choices=RunState.choices, default=RunState.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    enqueued_at = models.DateTimeField(_("queued"), default=timezone.now)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The part's result: counts and masked evidence only, merged by the check's runner.
    partial = models.JSONField(_("partial result"), default=dict, blank=True)

    class Meta:
        ordering = ["run_id", "index"]
        verbose_name = _("check run part")
        verbose_name_plural = _("check run parts")
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="checkrunpart_unique_index")]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.run} — part {self.index}"
