"""Evaluation results: summary statistics and a verdict against the policy's score thresholds."""

from __future__ import annotations

from typing import Any

from audits.checks.evaluation import EvaluationInputError, EvaluationThresholds, summarise
from audits.choices import CheckKind
from audits.runners import CheckInputError, Outcome, Progress, register


class EvaluationRunner:
    def run(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome:
        if run.evaluation_id is None:
            raise CheckInputError("This evaluation check has no imported evaluation to judge.")
        progress(0.1, "Reading the evaluation's scores")
        scores = list(run.evaluation.items.order_by("position").values_list("position", "score"))
        try:
            summary = summarise(scores, EvaluationThresholds(**thresholds))
        except EvaluationInputError as exc:
            raise CheckInputError(str(exc)) from None
        progress(1.0, "Summarised")
        return Outcome(summary.metrics, summary.verdict, summary.reasons, summary.findings)


register(CheckKind.EVALUATION, EvaluationRunner())
