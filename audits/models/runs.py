from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import FINISHED_STATES, CheckKind, RunState, Verdict
from audits.models.targets import TargetManager, TargetMixin, exactly_one_target

TARGETS = ("dataset_version", "model_version", "prompt_version", "generator_version", "system")


def target_fk(model: str, verbose: Any) -> models.ForeignKey:
    return models.ForeignKey(
        model, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=verbose
    )


class CheckRun(TargetMixin):
    """One execution of a check on a target: parameters, progress, timings, metrics and verdict."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("check"), max_length=20, choices=CheckKind.choices, db_index=True)
    dataset_version = target_fk("registry.DatasetVersion", _("dataset version"))
    model_version = target_fk("registry.ModelVersion", _("model version"))
    prompt_version = target_fk("registry.PromptVersion", _("prompt version"))
    generator_version = target_fk("registry.GeneratorVersion", _("generator version"))
    system = target_fk("registry.AISystem", _("AI system"))
    # The AI system whose policy judges the run (the organisation default when empty).
    policy_system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("judged for AI system"),
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    input_file = models.FileField(_("input file"), upload_to="checks/%Y/%m/", blank=True, max_length=500)
    input_name = models.CharField(_("input"), max_length=300, blank=True)
    input_dataset_version = models.ForeignKey(
        "registry.DatasetVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("input dataset version"),
    )
    evaluation = models.ForeignKey(
        "audits.EvaluationRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="check_runs",
        verbose_name=_("evaluation"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=RunState.choices, default=RunState.QUEUED, db_index=True
    )
    progress = models.FloatField(_("progress"), default=0.0)
    progress_message = models.CharField(_("progress message"), max_length=300, blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("requested by"), max_length=200)
    error = models.TextField(_("error"), blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    verdict = models.CharField(_("verdict"), max_length=20, choices=Verdict.choices, blank=True, db_index=True)
    verdict_reasons = models.JSONField(_("verdict reasons"), default=list, blank=True)
    policy_version = models.ForeignKey(
        "audits.PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("policy version"),
    )
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns", verbose_name=_("re-run of")
    )
    scheduled = models.BooleanField(_("scheduled"), default=False)
    # A large run is split into parts that any worker computes; 0 when it runs in one piece.
    parts_total = models.PositiveIntegerField(_("parts"), default=0)
    # The later run of the same check on the same target that replaces this one's result.
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("superseded by")
    )

    objects = TargetManager()
    target_fields: ClassVar[tuple[str, ...]] = TARGETS

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")
        constraints = [exactly_one_target(TARGETS, "checkrun_exactly_one_target")]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.target}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def progress_percent(self) -> int:
        return round(max(0.0, min(1.0, self.progress)) * 100)
