"""Group fairness metrics from confusion counts, and bootstrap replicates of those counts.

Everything works on cell counts rather than rows: a group's rows are summarised by how many have
each (true label, predicted label) pair, the cells ``tn, fp, fn, tp`` (or ``predicted_negative,
predicted_positive`` when there is no true label). Arrays carry groups on their last axis but one
and cells on the last, so the same functions serve the point estimate ``(groups, cells)`` and a
batch of bootstrap replicates ``(replicates, groups, cells)``.

The definitions are Fairlearn 0.15's (``fairlearn.metrics``), on which the tests check equality to
1e-9 against ``MetricFrame`` on the raw rows:

* selection rate = predicted positives / rows; accuracy = correct / rows; TPR = tp / (tp + fn);
  FPR = fp / (fp + tn); FNR = fn / (fn + tp);
* ``*_difference`` = largest minus smallest group value (``MetricFrame.difference()``, the
  default ``between_groups`` method); ``*_ratio`` = smallest / largest (``MetricFrame.ratio()``);
* demographic parity uses the selection rate, equal opportunity the TPR, and equalized odds the
  worse of its TPR and FPR parts (Fairlearn's default ``agg="worst_case"``: the larger
  difference, the smaller ratio).

One deliberate difference: a rate whose denominator is zero (the TPR of a group with no actual
positives) is undefined here (NaN, reported as None), where Fairlearn reports 0 because
scikit-learn's ``confusion_matrix(normalize="true")`` turns 0/0 into 0. Such groups are left out of
the disparity, instead of counting as a group whose model never finds a positive. Where every group
is defined the figures are Fairlearn's exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

LABELLED_CELLS = ("tn", "fp", "fn", "tp")  # cell index = 2 * y_true + y_pred
UNLABELLED_CELLS = ("predicted_negative", "predicted_positive")  # cell index = y_pred
RATES = ("selection_rate", "accuracy", "tpr", "fpr", "fnr")
LABELLED_RATES = ("accuracy", "tpr", "fpr", "fnr")
# Disparity metric → (the per-group rates it compares, kind).
DISPARITIES: dict[str, tuple[tuple[str, ...], str]] = {
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "equalized_odds_difference": (("tpr", "fpr"), "difference"),
    "equalized_odds_ratio": (("tpr", "fpr"), "ratio"),
    "equal_opportunity_difference": (("tpr",), "difference"),
    "equal_opportunity_ratio": (("tpr",), "ratio"),
}
# Cells in one bootstrap batch at most (replicates × groups × cells): bounds memory at ~16 MB.
_BATCH_CELLS = 2_000_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def rates(cells: npt.NDArray[np.generic], labelled: bool) -> dict[str, FloatArray]:
    """Per-group rates from cells on the last axis; NaN where the denominator is zero."""
    counts = np.asarray(cells, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if not labelled:
            negative, positive = counts[..., 0], counts[..., 1]
            undefined = np.full(positive.shape, np.nan)
            return {
                "selection_rate": positive / (negative + positive),
                "accuracy": undefined,
                "tpr": undefined,
                "fpr": undefined,
                "fnr": undefined,
            }
        tn, fp, fn, tp = counts[..., 0], counts[..., 1], counts[..., 2], counts[..., 3]
        rows = tn + fp + fn + tp
        return {
            "selection_rate": (tp + fp) / rows,
            "accuracy": (tp + tn) / rows,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (fn + tp),
        }


def _spread(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Largest minus smallest and smallest over largest across groups (last axis), skipping NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: the metric is undefined there
        low = np.nanmin(values, axis=-1)
        high = np.nanmax(values, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Rates are ≥ 0, so high == 0 means every group is 0 and the ratio is 0/0: undefined.
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1.0), np.nan)
    return high - low, ratio


def disparities(group_rates: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """The six disparity metrics from per-group rates (groups on the last axis)."""
    spreads = {name: _spread(group_rates[name]) for name in ("selection_rate", "tpr", "fpr")}
    result: dict[str, FloatArray] = {}
    for metric, (bases, kind) in DISPARITIES.items():
        parts = [spreads[base][0 if kind == "difference" else 1] for base in bases]
        value = parts[0]
        for part in parts[1:]:
            # The worse part: np.fmax/np.fmin skip an undefined part instead of spreading NaN.
            value = np.fmax(value, part) if kind == "difference" else np.fmin(value, part)
        result[metric] = value
    return result


def worse_part(metric: str, group_rates: dict[str, FloatArray]) -> str:
    """Which per-group rate decides ``metric`` (for equalized odds: TPR or FPR, whichever is worse)."""
    bases, kind = DISPARITIES[metric]
    if len(bases) == 1:
        return bases[0]
    spreads = {base: _spread(group_rates[base])[0 if kind == "difference" else 1] for base in bases}
    defined = {base: float(value) for base, value in spreads.items() if not np.isnan(value)}
    if not defined:
        return bases[0]
    pick = max if kind == "difference" else min
    # On a tie the first part (TPR) wins, as Python's max/min over Fairlearn's Series do.
    return pick(defined, key=lambda base: defined[base])


def multinomial_replicates(cells: IntArray, n_boot: int, rng: np.random.Generator) -> Iterator[npt.NDArray[np.float64]]:
    """Bootstrap replicates of the cell table, in batches of shape (replicates, groups, cells).

    Resampling N rows with replacement and counting them per cell is a draw from the multinomial
    distribution with N trials and the cells' shares as probabilities, so drawing the counts
    directly is the row bootstrap exactly, at a cost independent of N.

    Not Fairlearn's own ``MetricFrame(n_boot=...)``: it resamples the rows of the table it is
    given, and on the collapsed table those are cells, each carrying its whole count as
    ``sample_weight``, so every resample would keep or drop hundreds of rows at once. That is a
    different (and far too wide) distribution from resampling the original rows; on the raw rows it
    would be exact but cost a full MetricFrame per resample.
    """
    flat = cells.reshape(-1).astype(np.int64)
    total = int(flat.sum())
    shares = flat / total
    per_batch = max(1, _BATCH_CELLS // max(1, flat.size))
    done = 0
    while done < n_boot:
        size = min(per_batch, n_boot - done)
        draws = rng.multinomial(total, shares, size=size)
        yield draws.reshape((size, *cells.shape)).astype(np.float64)
        done += size


def percentile_interval(samples: FloatArray, point: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Percentile interval over replicates (axis 0), widened where needed to hold the point estimate.

    Replicates where the statistic is undefined (a small group drew no positives) are skipped. A
    max-minus-min statistic is biased upwards in resamples (two equal groups still differ by noise),
    so its percentile interval can miss the estimate itself; the widening keeps every reported
    interval around the number it qualifies.
    """
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        low, high = np.nanquantile(samples, [tail, 1.0 - tail], axis=0)
    low = np.where(np.isnan(point), low, np.fmin(low, point))
    high = np.where(np.isnan(point), high, np.fmax(high, point))
    return low, high
