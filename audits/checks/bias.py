"""The bias check: group fairness of a classifier's or an LLM's outputs, judged against a policy.

Public API (the Django side needs nothing else)::

    BiasInputError(ValueError)      the one exception for bad input; str(error) is written for people
    BiasColumns(y_true=, y_pred=, score=, sensitive=, positive_label=, score_threshold=)
    BiasThresholds(min_ratio=0.8, max_difference=0.1, min_group_size=30, confidence=0.95,
                   warn_margin=0.02, judged_metrics=DISPARITY_METRICS, judge_intersections=True)
    run_bias_check(source, columns, thresholds, *, fmt=None, name="", progress=None,
                   n_boot=1000, seed=0, chunk_rows=250_000) -> BiasResult      (a path or binary file)
    bias_from_frame(frame, columns, thresholds, *, progress=None, n_boot=1000, seed=0) -> BiasResult
    bias_from_arrays(*, y_true, y_pred, sensitive_features, thresholds, scores=None,
                     positive_label=None, score_threshold=None, n_boot=1000, seed=0) -> BiasResult
    read_table_chunks(source, columns, *, fmt=None, name="", chunk_rows=250_000) -> TableChunks
    collapse(chunks, columns, progress=None) -> pd.DataFrame                   (the counts)
    compute_bias(counts, columns, thresholds, *, n_boot=1000, seed=0) -> BiasResult
    format_from_name(name) -> "csv" | "parquet" | None
    group_bars(grouping, metric="selection_rate") -> list[charts.Bar]
    group_rate_chart(grouping, metric="selection_rate", *, min_ratio=None) -> str (SVG)

``progress(fraction)`` is called with increasing fractions in [0, 1], ending at 1.0.
``BiasResult`` has ``verdict``, ``reasons``, ``findings``, ``metrics`` and ``to_dict()``, whose
output holds only dict/list/str/int/float/bool/None (undefined values are None, never NaN)::

    {"check": "bias", "version": 1, "verdict": "pass" | "warn" | "fail" | "inconclusive",
     "reasons": [str], "findings": [{"severity", "title", "detail", "evidence", "code",
                                     "grouping", "metric", "group"}],
     "metrics": {"rows": int, "labelled": bool, "has_score": bool,
                 "overall": <group>,
                 "groupings": [{"name", "features", "intersectional", "judged", "small_groups",
                                "verdict", "groups": [<group>],
                                "disparities": {<metric>: <disparity>}}]},
     "thresholds": {...}, "columns": {...}, "label_values": {...},
     "bootstrap": {"n_boot", "seed", "confidence", "method"}, "not_applicable": [str], "notes": [str]}
    <group> = {"label", "values": {feature: value}, "count", "below_min_size",
               "cells": {"tn", "fp", "fn", "tp"} | {"predicted_negative", "predicted_positive"},
               "rates": {"selection_rate" | "accuracy" | "tpr" | "fpr" | "fnr":
                         {"value", "ci_low", "ci_high"}},
               "mean_score"}
    <disparity> = {"metric", "label", "kind": "difference" | "ratio", "value", "ci_low", "ci_high",
                   "threshold", "status": "pass" | "warn" | "fail" | "inconclusive" | "reported"
                   | "not_applicable", "reason", "decided_by", "lowest_group", "highest_group",
                   "excluding_small_groups"}

How the verdict is reached, per disparity metric and grouping (each sensitive feature alone, and
all of them together), with the bootstrap interval at the policy's confidence:

* **fail** — the interval lies entirely on the wrong side of the threshold (ratio < min_ratio,
  difference > max_difference);
* **pass** — it lies entirely on the right side (ratio ≥ min_ratio, difference ≤ max_difference);
* **warn** — a pass whose point estimate is within ``warn_margin`` of the threshold: the data
  support compliance, but a small drift would breach it, so someone should look;
* **inconclusive** — the interval straddles the threshold; or a group of the grouping has fewer
  rows than ``min_group_size`` (a fail among the groups that do meet it still fails, so a tiny
  extra group cannot hide a breach); or the metric is undefined for a group (the TPR of a group
  without actual positives) or there is only one group.

The check's verdict is the worst of them: fail, then inconclusive, then warn, then pass; every
reason names the metric, the grouping and the groups. Metrics without true labels (LLM
counterfactual tables) are "not_applicable"; those left out of ``judged_metrics`` (or the
intersection when ``judge_intersections`` is false) are computed and "reported" only.

Speed: rows are collapsed to counts per (sensitive groups, y_true, y_pred) while the file streams
in chunks, and everything after that works on a table of at most a few thousand cells, including
the bootstrap (see ``fairness.multinomial_replicates``).

Modules: ``bias_inputs`` (columns, policy, error), ``bias_counts`` (reading and counting, where
every input problem is found), ``bias_judging`` (metrics, intervals, verdict, findings),
``fairness`` (the metric definitions on counts), ``tables`` (CSV/Parquet chunks), ``charts`` (SVG).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audits.checks import charts, fairness
from audits.checks.bias_counts import FrameChunks, Reporter, collapse, read_table_chunks
from audits.checks.bias_inputs import (
    DISPARITY_METRICS,
    RATE_LABELS,
    BiasColumns,
    BiasInputError,
    BiasThresholds,
    Progress,
)
from audits.checks.bias_judging import BiasResult, compute_bias, fmt_number
from audits.checks.tables import DEFAULT_CHUNK_ROWS, Source, describe_missing_columns, format_from_name

__all__ = [
    "DISPARITY_METRICS",
    "BiasColumns",
    "BiasInputError",
    "BiasResult",
    "BiasThresholds",
    "bias_from_arrays",
    "bias_from_frame",
    "collapse",
    "compute_bias",
    "format_from_name",
    "group_bars",
    "group_rate_chart",
    "read_table_chunks",
    "run_bias_check",
]


def run_bias_check(
    source: Source,
    columns: BiasColumns,
    thresholds: BiasThresholds,
    *,
    fmt: str | None = None,
    name: str = "",
    progress: Progress | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> BiasResult:
    """The bias check of a CSV or Parquet file (a path, or a binary file object left open)."""
    report = Reporter(progress)
    chunks = read_table_chunks(source, columns, fmt=fmt, name=name, chunk_rows=chunk_rows)
    try:
        # Reading and counting is nearly all the time; the last 5% covers metrics and bootstrap.
        counts = collapse(chunks, columns, Reporter(report, 0.95))
    finally:
        chunks.close()
    result = compute_bias(counts, columns, thresholds, n_boot=n_boot, seed=seed)
    report(1.0)
    return result


def bias_from_frame(
    frame: pd.DataFrame,
    columns: BiasColumns,
    thresholds: BiasThresholds,
    *,
    progress: Progress | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> BiasResult:
    """The bias check of an in-memory table."""
    if not isinstance(frame, pd.DataFrame):
        raise BiasInputError("The bias check needs a table (a pandas DataFrame).")
    report = Reporter(progress)
    missing = [name for name in columns.needed if name not in frame.columns]
    if missing:
        roles = columns.roles()
        raise BiasInputError(describe_missing_columns(missing, [str(column) for column in frame.columns], roles))
    counts = collapse(FrameChunks(frame[columns.needed], max(1, chunk_rows)), columns, Reporter(report, 0.95))
    result = compute_bias(counts, columns, thresholds, n_boot=n_boot, seed=seed)
    report(1.0)
    return result


def bias_from_arrays(
    *,
    y_true: Sequence[Any] | np.ndarray | pd.Series | None,
    y_pred: Sequence[Any] | np.ndarray | pd.Series | None,
    sensitive_features: Mapping[str, Sequence[Any] | np.ndarray | pd.Series],
    thresholds: BiasThresholds,
    scores: Sequence[float] | np.ndarray | pd.Series | None = None,
    positive_label: str | None = None,
    score_threshold: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> BiasResult:
    """The bias check of separate arrays (true labels, predictions, scores, one array per sensitive feature)."""
    arrays: dict[str, Any] = {}
    named = {"the true labels": y_true, "the predicted labels": y_pred, "the scores": scores}
    for role, values in named.items():
        if values is not None:
            arrays[role] = values
    for feature, values in dict(sensitive_features).items():
        arrays[f"the sensitive feature '{feature}'"] = values
    lengths = {}
    for role, values in arrays.items():
        try:
            lengths[role] = len(values)
        except TypeError:
            raise BiasInputError(f"{role[0].upper()}{role[1:]} must be a list of values.") from None
    if len(set(lengths.values())) > 1:
        listed = "; ".join(f"{role}: {length}" for role, length in lengths.items())
        raise BiasInputError(f"The inputs must have one value per row, but their lengths differ ({listed}).")
    features = list(sensitive_features)
    columns = BiasColumns(
        y_true="true label" if y_true is not None else None,
        y_pred="predicted label" if y_pred is not None else None,
        score="score" if scores is not None else None,
        sensitive=tuple(features),
        positive_label=positive_label,
        score_threshold=score_threshold,
    )
    given = {"true label": y_true, "predicted label": y_pred, "score": scores, **dict(sensitive_features)}
    data = {name: _column(values) for name, values in given.items() if values is not None}
    return bias_from_frame(pd.DataFrame(data), columns, thresholds, n_boot=n_boot, seed=seed)


def _column(values: Any) -> np.ndarray:
    # Object arrays keep the caller's values as given ("yes", True, 1) for the label parsing.
    return values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values, dtype=object)


def group_bars(grouping: Mapping[str, Any], metric: str = "selection_rate") -> list[charts.Bar]:
    """One bar per group of a stored grouping (``result.to_dict()["metrics"]["groupings"][i]``)."""
    if metric not in fairness.RATES:
        raise BiasInputError(f"Unknown rate '{metric}'. Known rates: {', '.join(fairness.RATES)}.")
    bars = []
    for group in grouping["groups"]:
        rate = group["rates"][metric]
        bars.append(
            charts.Bar(label=str(group["label"]), value=rate["value"], low=rate["ci_low"], high=rate["ci_high"])
        )
    return bars


def group_rate_chart(
    grouping: Mapping[str, Any], metric: str = "selection_rate", *, min_ratio: float | None = None
) -> str:
    """An SVG bar chart of one rate per group with intervals; ``min_ratio`` adds a line at that share of the highest."""
    bars = group_bars(grouping, metric)
    threshold = threshold_label = None
    values = [bar.value for bar in bars if bar.value is not None]
    if min_ratio is not None and values:
        threshold = min_ratio * max(values)
        threshold_label = f"{min_ratio:g} × highest"
    title = f"{RATE_LABELS[metric]} by {grouping['name']}"
    described = ", ".join(f"{bar.label}: {fmt_number(bar.value)}" for bar in bars)
    return charts.group_bar_chart(
        bars,
        title=title,
        description=f"{title}, with bootstrap confidence intervals. {described}.",
        value_label=RATE_LABELS[metric],
        threshold=threshold,
        threshold_label=threshold_label,
        value_max=1.0,
    )
