"""LLM outputs on counterfactual prompt variants: the variant is the sensitive feature, and there is no true label."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, demographic_parity_ratio, selection_rate

from audits.checks import bias


@pytest.fixture
def variants() -> pd.DataFrame:
    """3,000 prompt templates, each asked with the demographic term swapped; a toxicity score per output.

    Enough prompts that the intervals decide: the bootstrap resamples outputs, not prompts, so it
    ignores that the variants of one prompt are paired, and its intervals are on the wide side here.
    """
    rng = np.random.default_rng(7)
    rows = []
    for prompt in range(3000):
        base = rng.normal(0.3, 0.1)
        for variant, shift in (("he", 0.0), ("she", 0.04), ("they", 0.12)):
            score = float(np.clip(base + shift + rng.normal(0, 0.05), 0, 1))
            rows.append({"prompt_id": prompt, "variant": variant, "toxicity": score, "flagged": score >= 0.4})
    return pd.DataFrame(rows)


def test_a_scored_variant_table_gives_selection_rates_mean_scores_and_parity(variants: pd.DataFrame) -> None:
    columns = bias.BiasColumns(score="toxicity", score_threshold=0.4, sensitive=("variant",))
    result = bias.run_bias_check(io.BytesIO(variants.to_csv(index=False).encode()), columns, bias.BiasThresholds())
    grouping = result.metrics["groupings"][0]
    assert [group["label"] for group in grouping["groups"]] == ["he", "she", "they"]
    by_variant = variants.groupby("variant")["toxicity"].mean()
    for group in grouping["groups"]:
        assert group["count"] == 3000
        assert group["mean_score"] == pytest.approx(by_variant[group["label"]], abs=1e-9)
        assert set(group["cells"]) == {"predicted_negative", "predicted_positive"}
        assert all(group["rates"][rate]["value"] is None for rate in ("accuracy", "tpr", "fpr", "fnr"))
    flagged = variants["toxicity"] >= 0.4
    reference = MetricFrame(
        metrics=selection_rate, y_true=flagged, y_pred=flagged, sensitive_features=variants["variant"]
    ).by_group
    for group in grouping["groups"]:
        assert group["rates"]["selection_rate"]["value"] == pytest.approx(reference[group["label"]], abs=1e-9)
    parity = grouping["disparities"]
    expected_difference = demographic_parity_difference(flagged, flagged, sensitive_features=variants["variant"])
    expected_ratio = demographic_parity_ratio(flagged, flagged, sensitive_features=variants["variant"])
    assert parity["demographic_parity_difference"]["value"] == pytest.approx(expected_difference, abs=1e-9)
    assert parity["demographic_parity_ratio"]["value"] == pytest.approx(expected_ratio, abs=1e-9)
    assert parity["demographic_parity_ratio"]["status"] == "fail"
    assert parity["demographic_parity_ratio"]["lowest_group"]["label"] == "he"
    assert parity["demographic_parity_ratio"]["highest_group"]["label"] == "they"
    for metric in ("equalized_odds_difference", "equalized_odds_ratio", "equal_opportunity_ratio"):
        assert parity[metric]["status"] == "not_applicable" and parity[metric]["value"] is None
    assert result.verdict == "fail"
    assert set(result.not_applicable) == {
        "accuracy", "tpr", "fpr", "fnr", "equalized_odds_difference", "equalized_odds_ratio",
        "equal_opportunity_difference", "equal_opportunity_ratio",
    }  # fmt: skip
    assert any("There is no true-label column" in note for note in result.notes)
    assert any("'toxicity' is at least 0.4" in note for note in result.notes)


def test_a_labelled_variant_table_without_scores_works(variants: pd.DataFrame) -> None:
    table = variants.assign(output=np.where(variants["flagged"], "toxic", "non-toxic"))
    columns = bias.BiasColumns(y_pred="output", positive_label="toxic", sensitive=("variant",))
    result = bias.bias_from_frame(table, columns, bias.BiasThresholds(), n_boot=100)
    assert result.label_values == {"output": {"positive": ["toxic"], "negative": ["non-toxic"]}}
    assert result.metrics["groupings"][0]["groups"][0]["mean_score"] is None
    rates = [group["rates"]["selection_rate"]["value"] for group in result.metrics["groupings"][0]["groups"]]
    assert rates == pytest.approx(list(table.groupby("variant")["flagged"].mean()))


def test_variants_with_equal_outputs_pass(variants: pd.DataFrame) -> None:
    table = variants.assign(output=variants.groupby("prompt_id")["flagged"].transform("first"))
    columns = bias.BiasColumns(y_pred="output", sensitive=("variant",))
    result = bias.bias_from_frame(table, columns, bias.BiasThresholds(), n_boot=300)
    parity = result.metrics["groupings"][0]["disparities"]["demographic_parity_difference"]
    assert parity["value"] == 0.0
    assert result.verdict == "pass"
