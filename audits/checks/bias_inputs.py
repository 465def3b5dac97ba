"""What a bias check is given: which columns hold what, the policy it is judged by, and the error for bad input.

These are the types the Django side builds (from a form, from a stored policy); the computation
lives in ``bias_counts`` (reading and counting) and ``bias_judging`` (metrics and verdict), and
``bias`` is the public entry point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from audits.checks import fairness

DISPARITY_METRICS = tuple(fairness.DISPARITIES)
METRIC_LABELS = {
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equalized_odds_ratio": "Equalized odds ratio",
    "equal_opportunity_difference": "Equal opportunity difference",
    "equal_opportunity_ratio": "Equal opportunity ratio",
}
RATE_LABELS = {
    "selection_rate": "Selection rate",
    "accuracy": "Accuracy",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "fnr": "False negative rate",
}
# Columns of the counts table besides the sensitive features.
TRUE, PRED, COUNT, SCORE_SUM = "_y_true", "_y_pred", "_count", "_score_sum"
_RESERVED = (TRUE, PRED, COUNT, SCORE_SUM)

Progress = Callable[[float], None]


class BiasInputError(ValueError):
    """Input the bias check cannot use (file, columns, labels, policy); the message says what to fix."""


@dataclass(frozen=True, kw_only=True)
class BiasColumns:
    """Which columns of the table hold the true label, the prediction, the score and the groups.

    With no ``y_pred``, a prediction is positive when ``score >= score_threshold``. With no
    ``y_true`` (LLM counterfactual variants) only counts, selection rates, mean scores and
    demographic parity are defined. ``positive_label`` names the favourable label value when the
    labels are not 0/1, true/false or yes/no (compared as text, ignoring case and spaces).
    """

    sensitive: tuple[str, ...]
    y_true: str | None = None
    y_pred: str | None = None
    score: str | None = None
    positive_label: str | None = None
    score_threshold: float | None = None

    def __post_init__(self) -> None:
        sensitive = (self.sensitive,) if isinstance(self.sensitive, str) else tuple(self.sensitive or ())
        object.__setattr__(self, "sensitive", sensitive)
        if not sensitive:
            raise BiasInputError("Choose at least one sensitive feature column (for example sex or age group).")
        if len(set(sensitive)) != len(sensitive):
            raise BiasInputError("Each sensitive feature column can be chosen only once.")
        reserved = [name for name in sensitive if name in _RESERVED]
        if reserved:
            raise BiasInputError(f"The column name '{reserved[0]}' is reserved by the check; rename the column.")
        if self.y_pred is None and self.score is None:
            raise BiasInputError("Choose the column with the predicted labels, or a score column with a threshold.")
        if self.y_pred is None and self.score_threshold is None:
            raise BiasInputError(
                f"There is no predicted label column, so give the score threshold at or above which "
                f"a score in '{self.score}' counts as a positive outcome."
            )
        if self.score_threshold is not None and not math.isfinite(float(self.score_threshold)):
            raise BiasInputError("The score threshold must be a finite number.")
        seen: dict[str, str] = {}
        for name, role in self._assignments():
            if name in seen:
                raise BiasInputError(f"The column '{name}' is chosen both as {seen[name]} and as {role}.")
            seen[name] = role

    def _assignments(self) -> list[tuple[str, str]]:
        named = ((self.y_true, "the true labels"), (self.y_pred, "the predicted labels"), (self.score, "the scores"))
        pairs = [(name, role) for name, role in named if name is not None]
        return pairs + [(name, "a sensitive feature") for name in self.sensitive]

    def roles(self) -> dict[str, str]:
        """The role of each chosen column, in words, for messages: ``{"sex": "a sensitive feature"}``."""
        return dict(self._assignments())

    @property
    def needed(self) -> list[str]:
        return [name for name in (self.y_true, self.y_pred, self.score) if name is not None] + list(self.sensitive)


@dataclass(frozen=True, kw_only=True)
class BiasThresholds:
    """The policy a bias check is judged by (see the module docstring for how)."""

    min_ratio: float = 0.8
    max_difference: float = 0.1
    min_group_size: int = 30
    confidence: float = 0.95
    warn_margin: float = 0.02
    judged_metrics: tuple[str, ...] = DISPARITY_METRICS
    judge_intersections: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "judged_metrics", tuple(self.judged_metrics))
        checks = (
            (0.0 <= self.min_ratio <= 1.0, "The minimum ratio must be between 0 and 1."),
            (0.0 <= self.max_difference <= 1.0, "The maximum difference must be between 0 and 1."),
            (
                int(self.min_group_size) == self.min_group_size >= 1,
                "The minimum group size must be a whole number, at least 1.",
            ),
            (0.0 < self.confidence < 1.0, "The confidence level must be between 0 and 1, for example 0.95."),
            (0.0 <= self.warn_margin <= 1.0, "The warning margin must be between 0 and 1."),
        )
        for ok, message in checks:
            if not ok:
                raise BiasInputError(message)
        # A stored policy may give 30.0 back from JSON; messages should say 30.
        object.__setattr__(self, "min_group_size", int(self.min_group_size))
        unknown = [name for name in self.judged_metrics if name not in DISPARITY_METRICS]
        if unknown:
            raise BiasInputError(f"Unknown metric '{unknown[0]}'. Known metrics: {', '.join(DISPARITY_METRICS)}.")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["judged_metrics"] = list(self.judged_metrics)
        return data
