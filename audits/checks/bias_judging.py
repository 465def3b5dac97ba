"""From counts to a verdict: metrics per group and grouping, bootstrap intervals, reasons and findings.

See the ``bias`` module docstring for the result's shape and for how the verdict is reached.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from audits.checks import fairness
from audits.checks.bias_counts import natural_key
from audits.checks.bias_inputs import (
    COUNT,
    DISPARITY_METRICS,
    METRIC_LABELS,
    PRED,
    RATE_LABELS,
    SCORE_SUM,
    TRUE,
    BiasColumns,
    BiasInputError,
    BiasThresholds,
)

# Beyond this the "groups" are almost surely a continuous column (an exact age, an id): band it first.
MAX_GROUPS = 2_000
_SEVERITY = {"fail": "high", "inconclusive": "medium", "warn": "low", "reported": "info"}
_VERDICT_ORDER = ("fail", "inconclusive", "warn", "pass")


@dataclass
class BiasResult:
    """The outcome of one bias check; ``to_dict()`` is what gets stored."""

    verdict: str
    reasons: list[str]
    findings: list[dict[str, Any]]
    metrics: dict[str, Any]
    thresholds: BiasThresholds
    columns: BiasColumns
    n_boot: int
    seed: int
    label_values: dict[str, Any] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        columns = asdict(self.columns)
        columns["sensitive"] = list(self.columns.sensitive)
        return {
            "check": "bias",
            "version": 1,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "findings": [dict(finding) for finding in self.findings],
            "metrics": self.metrics,
            "thresholds": self.thresholds.to_dict(),
            "columns": columns,
            "label_values": self.label_values,
            "bootstrap": {
                "n_boot": self.n_boot,
                "seed": self.seed,
                "confidence": self.thresholds.confidence,
                "method": "percentile intervals from multinomial resampling of the (group, true, predicted) counts",
            },
            "not_applicable": list(self.not_applicable),
            "notes": list(self.notes),
        }


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def fmt_number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _percent(confidence: float) -> str:
    return f"{confidence * 100:g}%"


@dataclass
class _Grouping:
    name: str
    features: list[str]
    intersectional: bool
    labels: list[str]
    values: list[dict[str, str]]
    member: np.ndarray | None  # (intersection groups, groups) one-hot; None for the intersection itself
    cells: np.ndarray = field(default_factory=lambda: np.zeros(0))
    small: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # below min_group_size
    score_sums: np.ndarray | None = None
    samples: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def aggregate(self, cells: np.ndarray) -> np.ndarray:
        return cells if self.member is None else np.matmul(self.member.T, cells)


def _build_groupings(counts: pd.DataFrame, columns: BiasColumns) -> tuple[list[_Grouping], np.ndarray, np.ndarray]:
    features = list(columns.sensitive)
    tuples = list(zip(*(counts[name].astype(str).tolist() for name in features), strict=True))
    order = sorted(set(tuples), key=lambda key: tuple(natural_key(part) for part in key))
    if len(order) > MAX_GROUPS:
        widest = max(features, key=lambda name: counts[name].nunique())
        raise BiasInputError(
            f"The sensitive features form {len(order)} groups, more than the {MAX_GROUPS} the check handles. "
            f"The column '{widest}' has {counts[widest].nunique()} different values: group them into bands "
            "(for example ages 18-25, 26-40, …) and upload the table again."
        )
    index = {key: position for position, key in enumerate(order)}
    codes = np.fromiter((index[key] for key in tuples), dtype=np.int64, count=len(tuples))
    labelled = columns.y_true is not None
    cell = (2 * counts[TRUE].to_numpy(np.int64) if labelled else 0) + counts[PRED].to_numpy(np.int64)
    width = len(fairness.LABELLED_CELLS if labelled else fairness.UNLABELLED_CELLS)
    cells = np.zeros((len(order), width), dtype=np.int64)
    np.add.at(cells, (codes, cell), counts[COUNT].to_numpy(np.int64))
    score_sums = None
    if columns.score is not None:
        score_sums = np.zeros(len(order))
        np.add.at(score_sums, codes, counts[SCORE_SUM].to_numpy(np.float64))
    groupings = []
    for position, name in enumerate(features):
        levels = sorted({key[position] for key in order}, key=natural_key)
        level_index = {level: column for column, level in enumerate(levels)}
        member = np.zeros((len(order), len(levels)))
        member[np.arange(len(order)), [level_index[key[position]] for key in order]] = 1.0
        groupings.append(_Grouping(name, [name], False, levels, [{name: level} for level in levels], member))
    if len(features) > 1:
        labels = [", ".join(f"{name}={part}" for name, part in zip(features, key, strict=True)) for key in order]
        values = [dict(zip(features, key, strict=True)) for key in order]
        groupings.append(_Grouping(" × ".join(features), features, True, labels, values, None))
    for grouping in groupings:
        grouping.cells = grouping.aggregate(cells.astype(np.float64)).astype(np.int64)
        if score_sums is not None:
            grouping.score_sums = grouping.aggregate(score_sums[:, None])[:, 0]
    return groupings, cells, score_sums if score_sums is not None else np.zeros(0)


def compute_bias(
    counts: pd.DataFrame,
    columns: BiasColumns,
    thresholds: BiasThresholds,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> BiasResult:
    """Metrics per group and grouping, bootstrap intervals, verdict and findings from ``collapse``'s counts.

    ``n_boot=0`` skips the bootstrap: the intervals collapse to the point estimates.
    """
    if n_boot < 0:
        raise BiasInputError("The number of bootstrap resamples cannot be negative.")
    needed = [*columns.sensitive, PRED, COUNT, *([TRUE] if columns.y_true is not None else [])]
    if any(name not in counts.columns for name in needed):
        raise BiasInputError("The counts table does not match the chosen columns; collapse the table with them.")
    if int(counts[COUNT].sum()) == 0:
        raise BiasInputError("The table has no rows, so there is nothing to check.")
    labelled = columns.y_true is not None
    groupings, cells, score_sums = _build_groupings(counts, columns)
    for grouping in groupings:
        grouping.small = grouping.cells.sum(axis=1) < thresholds.min_group_size
    overall_samples: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    for batch in fairness.multinomial_replicates(cells, n_boot, rng) if n_boot else ():
        overall_samples.append(batch.sum(axis=1))
        for grouping in groupings:
            replicate = grouping.aggregate(batch)
            group_rates = fairness.rates(replicate, labelled)
            for name, values in group_rates.items():
                grouping.samples.setdefault(name, []).append(values)
            for name, values in fairness.disparities(group_rates).items():
                grouping.samples.setdefault(name, []).append(values)
            if grouping.small.any():
                masked = _mask(group_rates, grouping.small)
                for name, values in fairness.disparities(masked).items():
                    grouping.samples.setdefault(f"adequate:{name}", []).append(values)
    confidence = thresholds.confidence
    overall_cells = _stack(overall_samples)
    overall = _group_entry(
        "All rows",
        {},
        cells.sum(axis=0),
        None if overall_cells is None else fairness.rates(overall_cells, labelled),
        float(score_sums.sum()) if columns.score is not None else None,
        labelled,
        confidence,
        None,
    )
    entries, reasons = [], _Reasons()
    findings: list[dict[str, Any]] = []
    for grouping in groupings:
        entry = _grouping_entry(grouping, labelled, thresholds, reasons, findings)
        entries.append(entry)
    verdict, summary = reasons.verdict(thresholds)
    not_applicable = [] if labelled else [*fairness.LABELLED_RATES, *DISPARITY_METRICS[2:]]
    notes = []
    if not labelled:
        notes.append(
            "There is no true-label column, so accuracy, the error rates (TPR, FPR, FNR), equalized odds and "
            "equal opportunity are not applicable; counts, selection rates, mean scores and demographic parity are."
        )
    if columns.y_pred is None:
        notes.append(f"A prediction counts as positive when '{columns.score}' is at least {columns.score_threshold:g}.")
    return BiasResult(
        verdict=verdict,
        reasons=summary,
        findings=findings,
        metrics={
            "rows": int(cells.sum()),
            "labelled": labelled,
            "has_score": columns.score is not None,
            "overall": overall,
            "groupings": entries,
        },
        thresholds=thresholds,
        columns=columns,
        n_boot=n_boot,
        seed=seed,
        label_values=dict(counts.attrs.get("label_values", {})),
        not_applicable=not_applicable,
        notes=notes,
    )


def _stack(samples: list[np.ndarray]) -> np.ndarray | None:
    return np.concatenate(samples, axis=0) if samples else None


def _mask(group_rates: dict[str, np.ndarray], hide: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.where(hide, np.nan, values) for name, values in group_rates.items()}


def _interval(samples: np.ndarray | None, point: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    if samples is None:
        return point, point
    return fairness.percentile_interval(samples, point, confidence)


def _group_entry(
    label: str,
    values: dict[str, str],
    cells: np.ndarray,
    rate_samples: dict[str, np.ndarray] | None,
    score_sum: float | None,
    labelled: bool,
    confidence: float,
    below_min_size: bool | None,
) -> dict[str, Any]:
    """One group's counts, its rates with bootstrap intervals (from ``rate_samples``) and its mean score."""
    point = fairness.rates(cells, labelled)
    names = fairness.LABELLED_CELLS if labelled else fairness.UNLABELLED_CELLS
    count = int(cells.sum())
    rates = {}
    for name in fairness.RATES:
        value = np.asarray(point[name])
        low, high = _interval(None if rate_samples is None else rate_samples[name], value, confidence)
        rates[name] = {"value": _number(value), "ci_low": _number(low), "ci_high": _number(high)}
        if rates[name]["value"] is None:
            rates[name]["ci_low"] = rates[name]["ci_high"] = None
    return {
        "label": label,
        "values": values,
        "count": count,
        "below_min_size": below_min_size,
        "cells": {name: int(cells[position]) for position, name in enumerate(names)},
        "rates": rates,
        "mean_score": None if score_sum is None or count == 0 else _number(score_sum / count),
    }


class _Reasons:
    """Collects every judged status with its sentence, and orders them into the verdict's reasons."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | None]] = []

    def add(self, status: str, sentence: str | None) -> None:
        self.items.append((status, sentence))

    def verdict(self, thresholds: BiasThresholds) -> tuple[str, list[str]]:
        statuses = {status for status, _ in self.items}
        if not statuses:
            return "inconclusive", ["No metric could be judged: none of the policy's metrics applies to this table."]
        verdict = next(status for status in _VERDICT_ORDER if status in statuses)
        if verdict == "pass":
            return verdict, [
                f"Every judged metric is within the policy (ratio at least {thresholds.min_ratio:g}, difference at "
                f"most {thresholds.max_difference:g}) with {_percent(thresholds.confidence)} confidence, and every "
                f"group has at least {thresholds.min_group_size} rows."
            ]
        return verdict, [
            sentence
            for status in _VERDICT_ORDER[:3]
            for kind, sentence in self.items
            if kind == status and sentence is not None
        ]


def _compare(kind: str, value: float | None, low: float | None, high: float | None, thresholds: BiasThresholds) -> str:
    """Where an estimate and its interval stand: fail, pass, warn, interval (straddles) or undefined."""
    if value is None or low is None or high is None:
        return "undefined"
    if kind == "difference":
        limit = thresholds.max_difference
        if low > limit:
            return "fail"
        if high <= limit:
            return "warn" if value > limit - thresholds.warn_margin else "pass"
        return "interval"
    limit = thresholds.min_ratio
    if high < limit:
        return "fail"
    if low >= limit:
        return "warn" if value < limit + thresholds.warn_margin else "pass"
    return "interval"


def _grouping_entry(
    grouping: _Grouping,
    labelled: bool,
    thresholds: BiasThresholds,
    reasons: _Reasons,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    confidence, small = thresholds.confidence, grouping.small
    samples = {name: np.concatenate(parts, axis=0) for name, parts in grouping.samples.items()}
    point_rates = fairness.rates(grouping.cells, labelled)
    groups = []
    for position, label in enumerate(grouping.labels):
        group_samples = {name: samples[name][:, position] for name in fairness.RATES if name in samples}
        groups.append(
            _group_entry(
                label,
                grouping.values[position],
                grouping.cells[position],
                group_samples or None,
                None if grouping.score_sums is None else float(grouping.score_sums[position]),
                labelled,
                confidence,
                bool(small[position]),
            )
        )
    judged = thresholds.judge_intersections or not grouping.intersectional
    if judged:
        for position in np.flatnonzero(small).tolist():
            count = int(grouping.cells[position].sum())
            sentence = (
                f"In {grouping.name}, group '{grouping.labels[position]}' has {count} rows, fewer than the minimum "
                f"of {thresholds.min_group_size}, so the disparities across {grouping.name} are inconclusive."
            )
            reasons.add("inconclusive", sentence)
            evidence = {"group": grouping.labels[position], "count": count, "min_group_size": thresholds.min_group_size}
            findings.append(
                _finding(
                    "medium",
                    "group_too_small",
                    f"Group too small to judge: {grouping.labels[position]} ({grouping.name})",
                    sentence,
                    grouping.name,
                    None,
                    grouping.labels[position],
                    evidence,
                )
            )
    point_disparities = fairness.disparities(point_rates)
    adequate_point = fairness.disparities(_mask(point_rates, small)) if small.any() else None
    disparities = {}
    for metric in DISPARITY_METRICS:
        measured = (point_disparities[metric], adequate_point[metric] if adequate_point else None)
        entry = _measure(metric, grouping, point_rates, measured, samples, labelled, confidence)
        if entry["status"] != "not_applicable":
            status, cause = _judge(entry, grouping, small, point_rates, thresholds)
            if judged and metric in thresholds.judged_metrics:
                entry.update(status=status, reason=cause)
                small_only = status == "inconclusive" and bool(small.any())
                _record(entry, grouping, status, cause, small_only=small_only, reasons=reasons, findings=findings)
            else:
                entry.update(status="reported", reason=cause if status == "fail" else None)
                if status == "fail":
                    _record(entry, grouping, "reported", cause, small_only=False, reasons=None, findings=findings)
        disparities[metric] = entry
    statuses = [entry["status"] for entry in disparities.values()]
    return {
        "name": grouping.name,
        "features": grouping.features,
        "intersectional": grouping.intersectional,
        "judged": judged,
        "small_groups": _small_labels(grouping, small),
        "verdict": next((status for status in _VERDICT_ORDER if status in statuses), "reported"),
        "groups": groups,
        "disparities": disparities,
    }


def _measure(
    metric: str,
    grouping: _Grouping,
    point_rates: dict[str, np.ndarray],
    measured: tuple[np.ndarray, np.ndarray | None],
    samples: dict[str, np.ndarray],
    labelled: bool,
    confidence: float,
) -> dict[str, Any]:
    """The numbers of one disparity metric: estimate, interval, extreme groups (status still open)."""
    bases, kind = fairness.DISPARITIES[metric]
    entry: dict[str, Any] = {
        "metric": metric,
        "label": METRIC_LABELS[metric],
        "kind": kind,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "threshold": None,
        "status": "not_applicable",
        "reason": None,
        "decided_by": None,
        "lowest_group": None,
        "highest_group": None,
        "excluding_small_groups": None,
    }
    if not labelled and any(base in fairness.LABELLED_RATES for base in bases):
        entry["reason"] = "There are no true labels, so this metric is not defined."
        return entry
    point, adequate = measured
    entry.update(_estimate(point, samples.get(metric), confidence), status="open")
    if adequate is not None:
        entry["excluding_small_groups"] = _estimate(adequate, samples.get(f"adequate:{metric}"), confidence)
    base = fairness.worse_part(metric, point_rates)
    values = point_rates[base]
    defined = np.flatnonzero(~np.isnan(values))
    entry["decided_by"] = base
    if len(defined):
        entry["lowest_group"] = _group_value(grouping, int(defined[np.argmin(values[defined])]), values)
        entry["highest_group"] = _group_value(grouping, int(defined[np.argmax(values[defined])]), values)
    return entry


def _estimate(point: np.ndarray, samples: np.ndarray | None, confidence: float) -> dict[str, float | None]:
    low, high = _interval(samples, point, confidence)
    value = _number(point)
    if value is None:
        return {"value": None, "ci_low": None, "ci_high": None}
    return {"value": value, "ci_low": _number(low), "ci_high": _number(high)}


def _judge(
    entry: dict[str, Any],
    grouping: _Grouping,
    small: np.ndarray,
    point_rates: dict[str, np.ndarray],
    thresholds: BiasThresholds,
) -> tuple[str, str | None]:
    """The status of one measured disparity metric and the sentence that explains it (None for a pass)."""
    metric, kind, base = entry["metric"], entry["kind"], entry["decided_by"]
    threshold = thresholds.max_difference if kind == "difference" else thresholds.min_ratio
    entry["threshold"] = threshold
    where = f"{entry['label']} across {grouping.name}"
    side = "at most" if kind == "difference" else "at least"
    confidence = _percent(thresholds.confidence)
    between = ""
    if entry["lowest_group"] and entry["highest_group"]:
        low_group, high_group = entry["lowest_group"], entry["highest_group"]
        between = (
            f" (lowest {RATE_LABELS[base].lower()}: '{low_group['label']}' {fmt_number(low_group['value'])}; "
            f"highest: '{high_group['label']}' {fmt_number(high_group['value'])})"
        )

    def stated(numbers: dict[str, Any]) -> str:
        return (
            f"{fmt_number(numbers['value'])} ({confidence} interval {fmt_number(numbers['ci_low'])} "
            f"to {fmt_number(numbers['ci_high'])})"
        )

    comparison = _compare(kind, entry["value"], entry["ci_low"], entry["ci_high"], thresholds)
    if len(grouping.labels) < 2:
        return "inconclusive", f"{where}: there is only one group ('{grouping.labels[0]}'), so nothing to compare."
    if small.any():
        adequate = entry["excluding_small_groups"]
        if _compare(kind, adequate["value"], adequate["ci_low"], adequate["ci_high"], thresholds) == "fail":
            return "fail", (
                f"{where}, leaving out the groups smaller than {thresholds.min_group_size} rows, is "
                f"{stated(adequate)}; the policy asks for {side} {threshold:g}{between}."
            )
        names = ", ".join(f"'{label}'" for label in _small_labels(grouping, small))
        return "inconclusive", (
            f"{where} is {fmt_number(entry['value'])}, but groups smaller than {thresholds.min_group_size} rows "
            f"({names}) make it inconclusive."
        )
    if comparison == "undefined":
        return "inconclusive", f"{where} is undefined: {_undefined_reason(metric, base)}"
    bases = fairness.DISPARITIES[metric][0]
    undefined = [
        label
        for position, label in enumerate(grouping.labels)
        if any(np.isnan(point_rates[part][position]) for part in bases)
    ]
    if comparison == "fail":
        return "fail", f"{where} is {stated(entry)}; the policy asks for {side} {threshold:g}{between}."
    if undefined:
        names = ", ".join(f"'{label}'" for label in undefined)
        return "inconclusive", (
            f"{where} cannot be decided: the {' and '.join(RATE_LABELS[part].lower() for part in bases)} "
            f"is undefined for {names} (no actual positives or no actual negatives), so those groups cannot be "
            "compared."
        )
    if comparison == "interval":
        return "inconclusive", (
            f"{where} is {stated(entry)}: the interval includes the threshold {threshold:g}, so the data cannot "
            "tell whether the policy is met."
        )
    if comparison == "warn":
        return "warn", (
            f"{where} is {stated(entry)}: within the policy ({side} {threshold:g}) but within "
            f"{thresholds.warn_margin:g} of the threshold{between}."
        )
    return "pass", None


_TITLES = {
    "fail": "breaches the policy",
    "inconclusive": "cannot be decided",
    "warn": "is close to the threshold",
    "reported": "is beyond the threshold (not judged by the policy)",
}


def _record(
    entry: dict[str, Any],
    grouping: _Grouping,
    status: str,
    cause: str | None,
    *,
    small_only: bool,
    reasons: _Reasons | None,
    findings: list[dict[str, Any]],
) -> None:
    """Add a judged metric to the verdict's reasons and, unless it passed, to the findings.

    An inconclusive status caused by small groups alone has its reasons and findings per group.
    """
    if reasons is not None:
        reasons.add(status, None if small_only else cause)
    if status == "pass" or cause is None or small_only:
        return
    evidence = {
        "value": entry["value"],
        "ci_low": entry["ci_low"],
        "ci_high": entry["ci_high"],
        "threshold": entry["threshold"],
        "groups": [group for group in (entry["lowest_group"], entry["highest_group"]) if group is not None],
    }
    if entry["excluding_small_groups"] is not None:
        evidence["excluding_small_groups"] = entry["excluding_small_groups"]
    title = f"{entry['label']} across {grouping.name} {_TITLES[status]}"
    code = "disparity_not_judged" if status == "reported" else f"disparity_{status}"
    findings.append(_finding(_SEVERITY[status], code, title, cause, grouping.name, entry["metric"], None, evidence))


def _finding(
    severity: str,
    code: str,
    title: str,
    detail: str,
    grouping: str,
    metric: str | None,
    group: str | None,
    evidence: dict[str, Any],
) -> dict[str, Any]:
    return {
        "severity": severity,
        "code": code,
        "title": title,
        "detail": detail,
        "grouping": grouping,
        "metric": metric,
        "group": group,
        "evidence": {"grouping": grouping, **({"metric": metric} if metric else {}), **evidence},
    }


def _small_labels(grouping: _Grouping, small: np.ndarray) -> list[str]:
    return [grouping.labels[position] for position in np.flatnonzero(small)]


def _group_value(grouping: _Grouping, position: int, values: np.ndarray) -> dict[str, Any]:
    return {
        "label": grouping.labels[position],
        "value": _number(values[position]),
        "count": int(grouping.cells[position].sum()),
    }


def _undefined_reason(metric: str, base: str) -> str:
    if metric.endswith("_ratio"):
        return f"every group's {RATE_LABELS[base].lower()} is 0, so their ratio is 0/0."
    return f"no group has a defined {RATE_LABELS[base].lower()}."
