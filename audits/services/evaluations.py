"""Importing evaluation results: items are validated whole, stored in one transaction, then judged."""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.actors import Actor
from audits.checks.evaluation import (
    EvaluationInputError,
    EvaluationItemData,
    items_from_rows,
    parse_evaluation_file,
)
from audits.choices import CheckKind
from audits.models import EvaluationItem, EvaluationRun
from audits.services.runs import do_request_check, target_field
from registry.models import AISystem, DatasetVersion
from registry.services.access import lock_for
from trail.services import record

BATCH = 2000


def parse_items(*, stream: IO[bytes] | None = None, filename: str = "", rows: Any = None) -> list[EvaluationItemData]:
    try:
        if stream is not None:
            return parse_evaluation_file(stream, filename)
        if not isinstance(rows, list):
            raise EvaluationInputError("“items” must be a list of objects with question, answer and score.")
        return items_from_rows(rows)
    except EvaluationInputError as exc:
        raise ValidationError({"items" if stream is None else "file": str(exc)}) from None


def do_import_evaluation(
    *,
    actor: Actor,
    target: Any,
    name: str,
    items: list[EvaluationItemData],
    evaluation_set: DatasetVersion | None = None,
    source_name: str = "",
    judge: str = "",
    policy_system: AISystem | None = None,
) -> EvaluationRun:
    """Store an evaluation of a model or prompt version and queue the check that judges it."""
    field = target_field(target)
    if field not in ("model_version", "prompt_version"):
        raise ValidationError({"target": _("Evaluations are imported against a model or prompt version.")})
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the evaluation a name.")})
    with transaction.atomic():
        locked = lock_for(actor, target, "change")
        if (
            evaluation_set is not None
            and not DatasetVersion.objects.visible_to(actor).filter(pk=evaluation_set.pk).exists()
        ):
            raise ValidationError({"evaluation_set": _("Object does not exist.")})
        evaluation = EvaluationRun.objects.create(
            name=name[:200],
            evaluation_set=evaluation_set,
            source_name=source_name[:300],
            judge=judge[:200],
            item_count=len(items),
            mean_score=sum(item.score for item in items) / len(items),
            created_by=actor.user,
            actor_label=actor.label[:200],
            **{field: locked},
        )
        for start in range(0, len(items), BATCH):
            EvaluationItem.objects.bulk_create(
                [
                    EvaluationItem(
                        evaluation=evaluation,
                        position=item.position,
                        item_id=item.item_id,
                        question=item.question,
                        ground_truth=item.ground_truth,
                        answer=item.answer,
                        score=item.score,
                        explanation=item.explanation,
                    )
                    for item in items[start : start + BATCH]
                ]
            )
        record(
            "create",
            actor=actor,
            obj=evaluation,
            changes={
                "target": f"{locked._meta.label_lower}:{locked.uuid}",
                "items": len(items),
                "mean_score": evaluation.mean_score,
                "evaluation_set": str(evaluation_set.uuid) if evaluation_set else None,
                "source": source_name,
            },
        )
        do_request_check(
            CheckKind.EVALUATION, actor=actor, target=locked, evaluation=evaluation, policy_system=policy_system
        )
    return evaluation
