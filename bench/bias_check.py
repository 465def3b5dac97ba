#!/usr/bin/env python
"""Benchmark: the bias check on 1,000,000 predictions, against Fairlearn's MetricFrame on the raw rows.

Run with no arguments (``.venv/bin/python bench/bias_check.py``); it needs no database and no
Django. It generates a seeded table of 1,000,000 credit decisions with two sensitive features
(sex with a small third group, four age bands) and a realistic disparity (the model's score is
shifted down for women and for the youngest band), then in the same run:

* times the check in memory — collapse to counts, every per-group rate and disparity for each
  feature and their intersection, 1,000 bootstrap resamples for the intervals, verdict and
  findings — as the median of three runs after a warm-up;
* times Fairlearn's ``MetricFrame`` on the raw rows computing the same figures (count, selection
  rate, accuracy, TPR, FPR, FNR per group; ``difference()``/``ratio()`` for demographic parity,
  equalized odds (worst case) and equal opportunity), once per grouping, without any interval;
* asserts that every figure is identical to 1e-9 (the process exits non-zero otherwise);
* times the same check streamed from a CSV file and from a Parquet file on disk.

Every result is printed as ``figure <name> <value> <unit>``.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn.metrics as skm  # noqa: E402
from fairlearn.metrics import (  # noqa: E402
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from audits.checks import bias  # noqa: E402
from bench.reporting import figure, note  # noqa: E402

ROWS = 1_000_000
N_BOOT = 1_000
RUNS = 3
TOLERANCE = 1e-9
SENSITIVE = ("sex", "age_band")
COLUMNS = bias.BiasColumns(y_true="repaid", y_pred="approved", score="score", sensitive=SENSITIVE)
RATES = ("selection_rate", "accuracy", "tpr", "fpr", "fnr")
FAIRLEARN_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": skm.accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
}


def generate(rows: int, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male", "non-binary"]), rows, p=[0.49, 0.49, 0.02])
    band = rng.choice(np.array(["18-25", "26-40", "41-65", "65+"]), rows, p=[0.2, 0.35, 0.35, 0.1])
    base = np.select([band == "18-25", band == "65+"], [0.55, 0.65], 0.7)
    repaid = rng.random(rows) < base
    shift = np.where(sex == "female", -0.06, 0.0) + np.where(band == "18-25", -0.05, 0.0)
    score = np.clip(rng.normal(np.where(repaid, 0.62, 0.42) + shift, 0.15), 0.0, 1.0)
    return pd.DataFrame(
        {
            "sex": sex,
            "age_band": band,
            "repaid": repaid.astype(np.int8),
            "approved": (score >= 0.5).astype(np.int8),
            "score": score.round(6),
        }
    )


def our_check(frame: pd.DataFrame) -> tuple[float, bias.BiasResult]:
    started = time.perf_counter()
    result = bias.bias_from_frame(frame, COLUMNS, bias.BiasThresholds(), n_boot=N_BOOT, seed=0)
    return time.perf_counter() - started, result


def fairlearn_figures(frame: pd.DataFrame) -> tuple[float, dict[str, Any]]:
    """MetricFrame on the raw rows, one per grouping: per-group rates, overall rates and disparities."""
    y_true, y_pred = frame["repaid"].to_numpy(), frame["approved"].to_numpy()
    groupings = [[name] for name in SENSITIVE] + [list(SENSITIVE)]
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    for features in groupings:
        metric_frame = MetricFrame(
            metrics=FAIRLEARN_METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=frame[features]
        )
        difference, ratio = metric_frame.difference(), metric_frame.ratio()
        name = " × ".join(features)
        figures[name] = {
            "by_group": metric_frame.by_group,
            "overall": metric_frame.overall,
            "demographic_parity_difference": difference["selection_rate"],
            "demographic_parity_ratio": ratio["selection_rate"],
            # fairlearn.metrics.equalized_odds_* with the default agg="worst_case".
            "equalized_odds_difference": max(difference[["tpr", "fpr"]]),
            "equalized_odds_ratio": min(ratio[["tpr", "fpr"]]),
            "equal_opportunity_difference": difference["tpr"],
            "equal_opportunity_ratio": ratio["tpr"],
        }
    return time.perf_counter() - started, figures


def compare(result: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Every figure of ours against Fairlearn's; the list of mismatches (empty when identical to 1e-9)."""
    mismatches = []
    compared = 0

    def check(label: str, ours: float | None, theirs: float) -> None:
        nonlocal compared
        compared += 1
        if ours is None or not math.isclose(ours, float(theirs), rel_tol=0.0, abs_tol=TOLERANCE):
            mismatches.append(f"{label}: ours {ours}, Fairlearn {theirs}")

    for grouping in result["metrics"]["groupings"]:
        figures = reference[grouping["name"]]
        for group in grouping["groups"]:
            index = tuple(group["values"].values())
            row = figures["by_group"].loc[index if len(index) > 1 else index[0]]
            check(f"{group['label']} count", group["count"], row["count"])
            for rate in RATES:
                check(f"{group['label']} {rate}", group["rates"][rate]["value"], row[rate])
        for metric, entry in grouping["disparities"].items():
            check(f"{grouping['name']} {metric}", entry["value"], figures[metric])
    overall = next(iter(reference.values()))["overall"]
    for rate in RATES:
        check(f"overall {rate}", result["metrics"]["overall"]["rates"][rate]["value"], overall[rate])
    note(f"{compared} figures compared with Fairlearn")
    return mismatches


def main() -> int:
    note(f"generating {ROWS:,} rows")
    frame = generate(ROWS)
    our_check(generate(10_000, seed=1))  # warm-up: imports, first allocations
    timings, result = [], None
    for _ in range(RUNS):
        seconds, result = our_check(frame)
        timings.append(seconds)
    assert result is not None
    ours = statistics.median(timings)
    stored = result.to_dict()
    note(f"our runs: {', '.join(f'{seconds:.2f}' for seconds in timings)} s; verdict {result.verdict}")
    note("Fairlearn MetricFrame on the raw rows (this takes a few minutes)")
    theirs, reference = fairlearn_figures(frame)
    mismatches = compare(stored, reference)
    for mismatch in mismatches[:20]:
        note(f"MISMATCH {mismatch}")
    with tempfile.TemporaryDirectory(prefix="custodia-bench-bias-") as tmp:
        csv_path, parquet_path = Path(tmp) / "predictions.csv", Path(tmp) / "predictions.parquet"
        frame.to_csv(csv_path, index=False)
        frame.to_parquet(parquet_path, row_group_size=250_000)
        note(f"CSV {csv_path.stat().st_size / 1e6:.1f} MB, Parquet {parquet_path.stat().st_size / 1e6:.1f} MB")
        file_seconds = {}
        for kind, path in (("csv", csv_path), ("parquet", parquet_path)):
            started = time.perf_counter()
            from_file = bias.run_bias_check(path, COLUMNS, bias.BiasThresholds(), n_boot=N_BOOT, seed=0)
            file_seconds[kind] = time.perf_counter() - started
            if (
                from_file.verdict != result.verdict
                or from_file.metrics["groupings"][2]["disparities"]
                != (stored["metrics"]["groupings"][2]["disparities"])
            ):
                mismatches.append(f"the {kind} file gave other results than the in-memory table")
    figure("bias_check_seconds", ours, "s")
    figure("bias_check_metricframe_seconds", theirs, "s")
    figure("bias_speedup_vs_metricframe", theirs / ours, "x")
    figure("bias_check_file_seconds", file_seconds["csv"], "s")
    figure("bias_check_parquet_seconds", file_seconds["parquet"], "s")
    if mismatches:
        note(f"{len(mismatches)} figures differ from Fairlearn's")
        return 1
    note("every figure equals Fairlearn's to 1e-9")
    return 0


if __name__ == "__main__":
    sys.exit(main())
