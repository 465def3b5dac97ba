"""The verdict against the policy: pass, warn, fail and inconclusive, each with reasons naming metrics and groups."""

from __future__ import annotations

import json

import pytest

from audits.checks import bias
from tests.audits.checks.builders import frame_from_cells

COLUMNS = bias.BiasColumns(y_true="y_true", y_pred="y_pred", sensitive=("group",))
POLICY = bias.BiasThresholds()


def check(
    cells: dict, thresholds: bias.BiasThresholds = POLICY, columns: bias.BiasColumns = COLUMNS
) -> bias.BiasResult:
    features = columns.sensitive
    return bias.bias_from_frame(frame_from_cells(cells, features), columns, thresholds, n_boot=500, seed=0)


def statuses(result: bias.BiasResult, grouping: int = 0) -> dict[str, str]:
    disparities = result.metrics["groupings"][grouping]["disparities"]
    return {metric: entry["status"] for metric, entry in disparities.items()}


def test_equal_groups_with_plenty_of_rows_pass() -> None:
    result = check({"a": (4000, 1000, 1000, 4000), "b": (4000, 1000, 1000, 4000)})
    assert result.verdict == "pass"
    assert set(statuses(result).values()) == {"pass"}
    assert result.findings == []
    assert "Every judged metric is within the policy" in result.reasons[0]


def test_a_clear_disparity_fails_and_the_reasons_name_metric_and_groups() -> None:
    # Selection rate 0.6 for "men" and 0.3 for "women": ratio 0.5, difference 0.3.
    result = check({"men": (1200, 800, 400, 1600), "women": (2000, 200, 800, 1000)})
    assert result.verdict == "fail"
    assert statuses(result)["demographic_parity_ratio"] == "fail"
    ratio = result.metrics["groupings"][0]["disparities"]["demographic_parity_ratio"]
    assert ratio["ci_high"] < 0.8
    assert ratio["lowest_group"]["label"] == "women" and ratio["highest_group"]["label"] == "men"
    reason = next(text for text in result.reasons if text.startswith("Demographic parity ratio across group"))
    assert "'women' 0.300" in reason and "'men' 0.600" in reason and "at least 0.8" in reason
    finding = next(f for f in result.findings if f["metric"] == "demographic_parity_ratio")
    assert finding["severity"] == "high" and finding["code"] == "disparity_fail"
    assert [group["label"] for group in finding["evidence"]["groups"]] == ["women", "men"]
    assert finding["evidence"]["value"] == pytest.approx(0.5)


def test_a_group_below_the_minimum_size_makes_it_inconclusive_and_is_named() -> None:
    result = check({"a": (4000, 1000, 1000, 4000), "b": (4000, 1000, 1000, 4000), "tiny": (5, 1, 1, 5)})
    assert result.verdict == "inconclusive"
    assert set(statuses(result).values()) == {"inconclusive"}
    assert any("group 'tiny' has 12 rows, fewer than the minimum of 30" in reason for reason in result.reasons)
    small = [finding for finding in result.findings if finding["code"] == "group_too_small"]
    assert len(small) == 1 and small[0]["group"] == "tiny" and small[0]["evidence"]["count"] == 12
    grouping = result.metrics["groupings"][0]
    assert grouping["small_groups"] == ["tiny"]
    assert [group["below_min_size"] for group in grouping["groups"]] == [False, False, True]


def test_a_breach_among_large_groups_still_fails_beside_a_small_group() -> None:
    result = check({"men": (1200, 800, 400, 1600), "women": (2000, 200, 800, 1000), "other": (5, 1, 1, 5)})
    assert result.verdict == "fail"
    ratio = result.metrics["groupings"][0]["disparities"]["demographic_parity_ratio"]
    assert ratio["status"] == "fail"
    assert ratio["excluding_small_groups"]["value"] == pytest.approx(0.5)
    assert "leaving out the groups smaller than 30 rows" in ratio["reason"]
    assert any("'other' has 12 rows" in reason for reason in result.reasons)


def test_an_interval_across_the_threshold_is_inconclusive() -> None:
    # Selection rates 0.5 and 0.4: ratio 0.8 and difference 0.1, exactly at the thresholds.
    result = check({"a": (150, 150, 100, 100), "b": (180, 120, 120, 80)})
    assert result.verdict == "inconclusive"
    ratio = result.metrics["groupings"][0]["disparities"]["demographic_parity_ratio"]
    assert ratio["status"] == "inconclusive"
    assert ratio["ci_low"] < 0.8 < ratio["ci_high"]
    assert "the interval includes the threshold 0.8" in ratio["reason"]
    finding = next(f for f in result.findings if f["metric"] == "demographic_parity_ratio")
    assert finding["severity"] == "medium" and finding["code"] == "disparity_inconclusive"


def test_a_pass_close_to_the_threshold_is_a_warning() -> None:
    # Selection rates 0.5 and 0.405: ratio 0.81, within 0.02 of 0.8, on 200,000 rows a group.
    thresholds = bias.BiasThresholds(judged_metrics=("demographic_parity_ratio",))
    result = check({"a": (50_000, 50_000, 50_000, 50_000), "b": (59_500, 40_500, 59_500, 40_500)}, thresholds)
    ratio = result.metrics["groupings"][0]["disparities"]["demographic_parity_ratio"]
    assert ratio["value"] == pytest.approx(0.81)
    assert ratio["ci_low"] >= 0.8
    assert ratio["status"] == "warn" and result.verdict == "warn"
    assert "within 0.02 of the threshold" in result.reasons[0]
    assert [f["severity"] for f in result.findings] == ["low"]
    # The same numbers with no warning margin pass.
    relaxed = bias.BiasThresholds(judged_metrics=("demographic_parity_ratio",), warn_margin=0.0)
    assert check({"a": (50_000, 50_000, 50_000, 50_000), "b": (59_500, 40_500, 59_500, 40_500)}, relaxed).verdict == (
        "pass"
    )


def test_metrics_left_out_of_the_policy_are_reported_not_judged() -> None:
    thresholds = bias.BiasThresholds(judged_metrics=("equal_opportunity_ratio",))
    # Same TPR (0.8) in both groups, very different selection rates.
    result = check({"a": (900, 100, 200, 800), "b": (100, 900, 200, 800)}, thresholds)
    assert result.verdict == "pass"
    found = statuses(result)
    assert found["equal_opportunity_ratio"] == "pass"
    assert found["demographic_parity_ratio"] == "reported"
    info = [f for f in result.findings if f["code"] == "disparity_not_judged"]
    assert {f["severity"] for f in info} == {"info"} and {f["metric"] for f in info} >= {"demographic_parity_ratio"}


def test_intersections_can_be_left_unjudged() -> None:
    columns = bias.BiasColumns(y_true="y_true", y_pred="y_pred", sensitive=("sex", "band"))
    cells = {
        ("f", "young"): (4000, 1000, 1000, 4000),
        ("f", "old"): (4000, 1000, 1000, 4000),
        ("m", "young"): (4000, 1000, 1000, 4000),
        ("m", "old"): (10, 2, 2, 10),  # 24 rows: small only in the intersection
    }
    judged = check(cells, columns=columns)
    assert judged.verdict == "inconclusive"
    assert any("sex=m, band=old" in reason for reason in judged.reasons)
    unjudged = check(cells, bias.BiasThresholds(judge_intersections=False), columns=columns)
    assert unjudged.verdict == "pass"
    assert set(statuses(unjudged, 2).values()) == {"reported"}


def test_a_group_without_actual_positives_makes_equal_opportunity_inconclusive() -> None:
    result = check({"a": (400, 100, 100, 400), "b": (400, 100, 100, 400), "c": (300, 100, 0, 0)})
    group_c = result.metrics["groupings"][0]["groups"][2]
    assert group_c["rates"]["tpr"]["value"] is None and group_c["rates"]["fnr"]["value"] is None
    assert group_c["rates"]["tpr"]["ci_low"] is None
    found = statuses(result)
    assert found["equal_opportunity_ratio"] == "inconclusive"
    reason = result.metrics["groupings"][0]["disparities"]["equal_opportunity_ratio"]["reason"]
    assert "true positive rate is undefined for 'c'" in reason
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_single_group_is_inconclusive() -> None:
    result = check({"only": (400, 100, 100, 400)})
    assert result.verdict == "inconclusive"
    assert "only one group ('only')" in result.reasons[0]


def test_the_result_is_plain_json() -> None:
    result = check({"a": (400, 100, 100, 400), "b": (300, 200, 150, 350), "c": (300, 100, 0, 0)})
    data = result.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert set(data) == {
        "check", "version", "verdict", "reasons", "findings", "metrics", "thresholds", "columns",
        "label_values", "bootstrap", "not_applicable", "notes",
    }  # fmt: skip
    assert data["thresholds"] == {
        "min_ratio": 0.8, "max_difference": 0.1, "min_group_size": 30, "confidence": 0.95, "warn_margin": 0.02,
        "judged_metrics": list(bias.DISPARITY_METRICS), "judge_intersections": True,
    }  # fmt: skip
    for finding in data["findings"]:
        assert {"severity", "title", "detail", "evidence"} <= set(finding)
        assert finding["severity"] in {"high", "medium", "low", "info"}


def test_thresholds_come_from_a_stored_policy_and_reject_nonsense() -> None:
    stored = {"min_ratio": 0.9, "max_difference": 0.05, "min_group_size": 50, "confidence": 0.99, "warn_margin": 0.01}
    assert bias.BiasThresholds(**stored).to_dict()["min_group_size"] == 50
    with pytest.raises(bias.BiasInputError, match="confidence level must be between 0 and 1"):
        bias.BiasThresholds(confidence=95)
    with pytest.raises(bias.BiasInputError, match="minimum ratio"):
        bias.BiasThresholds(min_ratio=1.5)
    with pytest.raises(bias.BiasInputError, match="Unknown metric 'parity'"):
        bias.BiasThresholds(judged_metrics=("parity",))
