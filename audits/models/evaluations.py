from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.models.targets import ParentManager, TargetManager, TargetMixin, exactly_one_target

EVALUATION_TARGETS = ("model_version", "prompt_version")


class EvaluationRun(TargetMixin):
    """An imported evaluation of a model or prompt version on an evaluation set: one row per item."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prompt_version = models.ForeignKey(
        "registry.PromptVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    evaluation_set = models.ForeignKey(
        "registry.DatasetVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evaluation set"),
    )
    source_name = models.CharField(_("imported from"), max_length=300, blank=True)
    judge = models.CharField(_("judge"), max_length=200, blank=True, help_text=_("e.g. the judge model or rubric"))
    item_count = models.PositiveIntegerField(_("items"), default=0)
    mean_score = models.FloatField(_("mean score"), null=True, blank=True)
    created_at = models.DateTimeField(_("imported"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200)

    objects = TargetManager()
    target_fields: ClassVar[tuple[str, ...]] = EVALUATION_TARGETS

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [exactly_one_target(EVALUATION_TARGETS, "evaluationrun_exactly_one_target")]

    def __str__(self) -> str:
        return self.name


class EvaluationItem(models.Model):
    """One evaluated question: ground truth, the model's answer, the judge's score and explanation."""

    evaluation = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("item"))
    item_id = models.CharField(_("item id"), max_length=200, blank=True)
    question = models.TextField(_("question"))
    ground_truth = models.TextField(_("ground truth"), blank=True)
    answer = models.TextField(_("answer"))
    score = models.FloatField(_("score"))
    explanation = models.TextField(_("explanation"), blank=True)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "evaluation"

    class Meta:
        ordering = ["evaluation_id", "position"]
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")
        constraints = [models.UniqueConstraint(fields=["evaluation", "position"], name="evaluationitem_unique")]
        indexes = [models.Index(fields=["evaluation", "score"])]

    def __str__(self) -> str:
        return f"{self.evaluation} #{self.position}"
