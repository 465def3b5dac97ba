"""Bootstrap intervals: around the estimate, reproducible, narrower with more data, equal in law to row resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audits.checks import bias, fairness
from tests.audits.checks.builders import frame_from_cells

COLUMNS = bias.BiasColumns(y_true="y_true", y_pred="y_pred", sensitive=("group", "region"))


def sample_frame(scale: int = 1) -> pd.DataFrame:
    cells = {
        ("a", "north"): (60, 20, 15, 45),
        ("a", "south"): (50, 25, 20, 40),
        ("b", "north"): (70, 10, 25, 30),
        ("b", "south"): (65, 12, 22, 35),
    }
    return frame_from_cells({key: tuple(n * scale for n in value) for key, value in cells.items()}, ("group", "region"))


def intervals(result: dict) -> list[tuple[str, float | None, float | None, float | None]]:
    """Every (name, estimate, low, high) of a result: per-group rates and disparities."""
    found = []
    for grouping in result["metrics"]["groupings"]:
        for group in grouping["groups"]:
            for rate, numbers in group["rates"].items():
                found.append((f"{group['label']}:{rate}", numbers["value"], numbers["ci_low"], numbers["ci_high"]))
        for metric, numbers in grouping["disparities"].items():
            found.append((f"{grouping['name']}:{metric}", numbers["value"], numbers["ci_low"], numbers["ci_high"]))
    return found


def test_every_interval_holds_its_estimate() -> None:
    result = bias.bias_from_frame(sample_frame(), COLUMNS, bias.BiasThresholds(), n_boot=400, seed=3).to_dict()
    found = intervals(result)
    assert len(found) == (2 + 2 + 4) * 5 + 3 * 6
    for name, value, low, high in found:
        assert value is not None and low is not None and high is not None, name
        assert low <= value <= high, name
        assert low < high, name  # a real interval, not the estimate repeated


def test_the_same_seed_gives_the_same_intervals_and_another_seed_does_not() -> None:
    thresholds = bias.BiasThresholds()
    first = bias.bias_from_frame(sample_frame(), COLUMNS, thresholds, n_boot=300, seed=11).to_dict()
    again = bias.bias_from_frame(sample_frame(), COLUMNS, thresholds, n_boot=300, seed=11).to_dict()
    other = bias.bias_from_frame(sample_frame(), COLUMNS, thresholds, n_boot=300, seed=12).to_dict()
    assert first == again
    assert intervals(first) != intervals(other)
    assert [value for _, value, _, _ in intervals(first)] == [value for _, value, _, _ in intervals(other)]


def test_intervals_narrow_as_the_data_grow() -> None:
    thresholds = bias.BiasThresholds()
    small = bias.bias_from_frame(sample_frame(1), COLUMNS, thresholds, n_boot=500, seed=1).to_dict()
    large = bias.bias_from_frame(sample_frame(16), COLUMNS, thresholds, n_boot=500, seed=1).to_dict()
    for (name, value, low, high), (_, big_value, big_low, big_high) in zip(
        intervals(small), intervals(large), strict=True
    ):
        assert value == pytest.approx(big_value), name  # same rates, 16 times the rows
        # Sixteen times the data: about a quarter of the width; half is a safe bound for noise.
        assert big_high - big_low < 0.5 * (high - low), name


def test_no_bootstrap_gives_intervals_equal_to_the_estimates() -> None:
    result = bias.bias_from_frame(sample_frame(), COLUMNS, bias.BiasThresholds(), n_boot=0).to_dict()
    assert all(low == value == high for _, value, low, high in intervals(result))


def test_multinomial_count_resampling_matches_row_resampling_in_distribution() -> None:
    frame = sample_frame()
    rows = len(frame)
    cells_by_row = (frame["group"] == "b").to_numpy() * 4 + frame["y_true"].to_numpy() * 2 + frame["y_pred"].to_numpy()
    cells = np.bincount(cells_by_row, minlength=8).reshape(2, 4)

    def dp_difference(group_cells: np.ndarray) -> np.ndarray:
        return fairness.disparities(fairness.rates(group_cells, True))["demographic_parity_difference"]

    rng = np.random.default_rng(5)
    from_rows = []
    for _ in range(3000):
        drawn = cells_by_row[rng.integers(0, rows, rows)]
        from_rows.append(dp_difference(np.bincount(drawn, minlength=8).reshape(2, 4)))
    from_counts = np.concatenate(
        [dp_difference(batch) for batch in fairness.multinomial_replicates(cells, 3000, np.random.default_rng(6))]
    )
    assert stats.ks_2samp(from_rows, from_counts).pvalue > 0.01
    assert np.mean(from_counts) == pytest.approx(np.mean(from_rows), abs=0.004)
    assert np.std(from_counts) == pytest.approx(np.std(from_rows), rel=0.08)
    # Sanity check of the test's power: resampling with only half the rows is told apart.
    halved = np.concatenate(
        [dp_difference(batch) for batch in fairness.multinomial_replicates(cells // 2, 3000, np.random.default_rng(7))]
    )
    assert stats.ks_2samp(from_rows, halved).pvalue < 1e-6


def test_replicates_come_in_bounded_batches_that_keep_the_total() -> None:
    cells = np.array([[5, 3, 2, 7], [1, 0, 4, 9]])
    batches = list(fairness.multinomial_replicates(cells, 1000, np.random.default_rng(0)))
    assert sum(len(batch) for batch in batches) == 1000
    assert all(batch.shape[1:] == (2, 4) for batch in batches)
    assert all((batch.sum(axis=(1, 2)) == cells.sum()).all() for batch in batches)
