"""The memorisation check of synthetic tables: does a generator copy the real records it learnt from?

Public API (the Django side needs nothing else)::

    SyntheticInputError(ValueError)   the one exception for bad input; str(error) is written for people
    SyntheticSettings(columns=None, max_synthetic_rows=5000, max_reference_rows=5000, min_holdout_rows=50,
                      ims_margin=0.01, alpha=0.05, seed=0, evidence_rows=20, permutations=999)
    read_sample(source, *, fmt=None, name="", max_rows, seed, role="") -> (sample, total_rows)
    evaluate(training, holdout, synthetic, settings=SyntheticSettings(), *, totals=None) -> SyntheticResult
    gower_distances(query, reference, *, real=None) -> np.ndarray       (a full matrix, for small tables)
    mask_value(value) -> str | None

The inputs are the real table the generator was trained on, a holdout table from the same population
that it never saw, and the generated table. A generator that learnt the population rather than the
records makes synthetic rows that are no nearer to the training rows than to the holdout rows.

Metrics (``SyntheticResult.to_dict()["metrics"]``):

* **Identical-match share (IMS)**: the share of the synthetic rows compared that equal a row of the
  training sample in every compared column, and the same against the holdout sample. Numbers are
  compared as numbers (3 equals 3.0), everything else as text; a missing value equals a missing value.
* **Distance to closest record (DCR)**, a Gower distance: the mean over the columns of a per-column
  distance between 0 and 1. A numeric column counts |x − y| / range, the range being max − min over
  training ∪ holdout; a synthetic value beyond that range is first moved to the range's nearest end,
  which takes the same amount off its distance to every real row and so changes no comparison; a
  column constant in the real data counts 0 for the same value and 1 for another. Other columns
  (text, booleans, categories) count 0 for the same value and 1 for a different one. Dates count as
  numbers (seconds); dates stored as text are text. A missing value (empty, NaN, NaT, ±infinity)
  counts 0 against a missing value and 1 against any value, so a copied record, gaps included, is at
  distance 0, and a gap never makes two rows look closer than a disagreeing value would.
* **Closer-to-training share**: the training sample has the holdout sample's size, so without
  memorisation a synthetic row is as likely to be nearer to one as to the other. Rows equally near
  to both (within 1e-9, such as a row at distance 0 from both) are ties: they are counted and left
  out of the share and the tests, the usual sign-test rule. The verdict uses a permutation test: the
  pooled real rows are re-split at random into two halves ``permutations`` times, and p is the share
  of splits (counting the real one) whose closer-to-training share is at least the real one. Which
  real rows went into training is itself one random draw; the one-sided exact binomial test against
  1/2 (p = P(X ≥ k) for k of n untied rows closer to training) treats the synthetic rows as
  independent and ignores that, so it finds memorisation where there is none far more often than
  ``alpha``: in 15 of 100 random halvings of German credit, with 2,000 synthetic rows drawn from the
  whole population's column values, against 4 of 100 for the permutation test; more with more
  synthetic rows. It is still reported, with a two-sided 95% Clopper–Pearson interval for the share
  that has the same blind spot, and decides when ``permutations`` is 0.
* **Nearest-neighbour distance ratio (NNDR)**: distance to the nearest training row divided by the
  distance to the second nearest (0 when both are 0: a row on top of a duplicated training record),
  summarised by its median and 5th percentile for the synthetic rows and, as the reference, for the
  holdout rows. Low ratios mean rows sit unusually close to one particular real record. Reported,
  not judged.

Verdict: **fail** if IMS(training) > IMS(holdout) + ``ims_margin``, or if the share closer to
training is above 1/2 with p < ``alpha`` (each a finding of severity "high"); otherwise
**inconclusive** if every synthetic row is a tie, or too few are untied for the test to reach
``alpha`` even if all of them were closer to training; otherwise **pass**. Every reason gives the
numbers. Findings of lower severity, which do not change the verdict, report columns left out (no
values in the real tables), text columns that look like identifiers (a different value in nearly
every training row: made-up identifiers on copied records hide the copies), and synthetic rows whose
NNDR is lower than holdout rows' (5th percentiles).

Sampling keeps large tables tractable: ``read_sample`` streams a file and keeps a uniform random
sample of its rows (with their 0-based data row numbers as the index); ``evaluate`` then compares at
most ``max_synthetic_rows`` synthetic rows with equal-sized training and holdout samples of at most
``max_reference_rows`` rows, all drawn with ``seed``. Rows used and rows available are reported.

Evidence never holds a raw value: for the synthetic rows identical to a training row, then the
closest others, it gives the synthetic and nearest training row numbers, the distance and the
synthetic row's values masked by ``mask_value`` (digits of numbers and dates become '#', text keeps
its first character followed by '…').

Speed: distances are computed for blocks of synthetic rows against all reference rows (at most
``BLOCK_ELEMENTS`` pairs at a time, so memory stays bounded). Numeric columns are encoded so that the
city-block distance of scipy's ``cdist`` is exactly their Gower sum, missing values included;
categorical columns with few values are compared by a product of one-hot matrices (BLAS counts the
matches), those with many values by direct comparison of codes. One search of the pooled real rows
keeps each synthetic row's ``POOLED_NEIGHBOURS`` nearest, which serves the nearest training and
holdout distances and every permutation. 5,000 synthetic rows against 5,000 + 5,000 real rows of 20
columns take about two seconds on two cores.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import cdist

from audits.checks import tables
from audits.checks.tables import Source

__all__ = [
    "SyntheticInputError",
    "SyntheticResult",
    "SyntheticSettings",
    "evaluate",
    "gower_distances",
    "mask_value",
    "read_sample",
]

ROLES = ("training", "holdout", "synthetic")
# Query × reference pairs per block: about 16 MB per float64 matrix, a few of which exist at once.
BLOCK_ELEMENTS = 1 << 21
# A categorical column with more values than this is compared code by code instead of by one-hot products.
ONE_HOT_MAX_VALUES = 64
TIE_TOLERANCE = 1e-9
# Nearest real rows kept per synthetic row for the permutation test; a random split puts all of them on
# one side with probability 2^-19, and then the row counts as a tie.
POOLED_NEIGHBOURS = 20
# Booleans per batch of permutations (permutations × synthetic rows × neighbours).
PERMUTATION_ELEMENTS = 1 << 22
# A text column with distinct values in this share of at least this many training rows looks like an identifier.
IDENTIFIER_SHARE, IDENTIFIER_MIN_ROWS = 0.9, 20
_NUMERIC, _DATE, _TEXT, _EMPTY = "numeric", "date", "text", "empty"
_KIND_WORDS = {_NUMERIC: "numbers", _DATE: "dates", _TEXT: "text"}
_DIGIT = re.compile(r"\d")


class SyntheticInputError(ValueError):
    """Tables or settings the memorisation check cannot use; the message says what to fix."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, minimum: int, message: str) -> int:
    if not _is_number(value) or not float(value).is_integer() or value < minimum:
        raise SyntheticInputError(message)
    return int(value)


@dataclass(frozen=True)
class SyntheticSettings:
    """The policy and sampling of a memorisation check (see the module docstring for how they are used)."""

    columns: tuple[str, ...] | None = None
    max_synthetic_rows: int = 5000
    max_reference_rows: int = 5000
    min_holdout_rows: int = 50
    ims_margin: float = 0.01
    alpha: float = 0.05
    seed: int = 0
    evidence_rows: int = 20
    permutations: int = 999

    def __post_init__(self) -> None:
        if self.columns is not None:
            chosen = (self.columns,) if isinstance(self.columns, str) else tuple(str(name) for name in self.columns)
            if not chosen:
                raise SyntheticInputError("Choose at least one column to compare, or leave the choice empty for all.")
            if len(set(chosen)) != len(chosen):
                raise SyntheticInputError("Each column can be chosen only once.")
            object.__setattr__(self, "columns", chosen)
        # A stored policy may give 50.0 back from JSON; messages should say 50.
        wholes = (
            ("max_synthetic_rows", 1, "The number of synthetic rows to compare must be a whole number, at least 1."),
            ("max_reference_rows", 2, "The number of real rows to compare must be a whole number, at least 2."),
            ("min_holdout_rows", 2, "The minimum holdout size must be a whole number, at least 2."),
            ("seed", 0, "The random seed must be a whole number, 0 or more."),
            ("evidence_rows", 0, "The number of evidence rows must be a whole number, 0 or more."),
            ("permutations", 0, "The number of permutations must be a whole number, 0 or more."),
        )
        for name, minimum, message in wholes:
            object.__setattr__(self, name, _whole(getattr(self, name), minimum, message))
        if not _is_number(self.ims_margin) or not 0.0 <= self.ims_margin <= 1.0:
            raise SyntheticInputError("The identical-match margin must be between 0 and 1, for example 0.01.")
        if not _is_number(self.alpha) or not 0.0 < self.alpha < 1.0:
            raise SyntheticInputError("The significance level must be between 0 and 1, for example 0.05.")
        if self.permutations and 1 / (self.permutations + 1) >= self.alpha:
            needed = math.floor(1 / self.alpha + 1e-9)
            raise SyntheticInputError(
                f"At a significance level of {self.alpha:g} the permutation test needs at least {needed} "
                "permutations (or 0 for the binomial test)."
            )
        if self.max_reference_rows < self.min_holdout_rows:
            raise SyntheticInputError(
                f"The number of real rows to compare ({self.max_reference_rows}) is below the minimum holdout "
                f"size ({self.min_holdout_rows}); raise it or lower the minimum."
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = None if self.columns is None else list(self.columns)
        return data


DEFAULT_SETTINGS = SyntheticSettings()


@dataclass(frozen=True)
class SyntheticResult:
    """The outcome of one memorisation check of a synthetic table; ``to_dict()`` is what gets stored."""

    verdict: str
    reasons: list[str]
    metrics: dict[str, Any]
    findings: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    settings: SyntheticSettings
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": "memorisation",
            "kind": "synthetic",
            "version": 1,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "metrics": self.metrics,
            "findings": [dict(finding) for finding in self.findings],
            "evidence": [dict(row) for row in self.evidence],
            "thresholds": {
                "ims_margin": self.settings.ims_margin,
                "alpha": self.settings.alpha,
                "min_holdout_rows": self.settings.min_holdout_rows,
            },
            "settings": self.settings.to_dict(),
            "notes": list(self.notes),
        }


# Reading


def read_sample(
    source: Source,
    *,
    fmt: str | None = None,
    name: str = "",
    max_rows: int,
    seed: int,
    role: str = "",
    chunk_rows: int = tables.DEFAULT_CHUNK_ROWS,
) -> tuple[pd.DataFrame, int]:
    """A uniform random sample of at most ``max_rows`` rows of a CSV or Parquet table, and its row count.

    The file is streamed in chunks; every row gets a random key and the rows with the smallest keys
    are kept (reservoir sampling by keys), so memory stays at ``max_rows`` plus a chunk. The sample's
    index is the rows' 0-based data row numbers in the file, in file order. ``role`` ("training",
    "holdout" or "synthetic") names the table in messages.
    """
    what = f"The {role} table" if role else "The table"
    limit = _whole(max_rows, 1, "The number of rows to sample must be a whole number, at least 1.")
    rng = np.random.default_rng(_whole(seed, 0, "The random seed must be a whole number, 0 or more."))
    pieces: list[pd.DataFrame] = []
    keys: list[np.ndarray] = []
    pending = total = 0
    try:
        chunks = tables.read_table_chunks(source, fmt=fmt, name=name, chunk_rows=chunk_rows)
        for chunk in chunks:
            pieces.append(chunk.set_axis(pd.RangeIndex(total, total + len(chunk))))
            keys.append(rng.random(len(chunk)))
            total += len(chunk)
            pending += len(chunk)
            if pending > 2 * limit:
                pieces, keys = _keep_smallest(pieces, keys, limit)
                pending = limit
    except tables.TableError as error:
        raise SyntheticInputError(f"{what} cannot be used. {error}") from None
    if total == 0:
        raise SyntheticInputError(f"{what} ('{chunks.name}') has a header but no data rows.")
    pieces, keys = _keep_smallest(pieces, keys, limit)
    return pieces[0].sort_index(), total


def _keep_smallest(
    pieces: list[pd.DataFrame], keys: list[np.ndarray], limit: int
) -> tuple[list[pd.DataFrame], list[np.ndarray]]:
    frame = pd.concat(pieces) if len(pieces) > 1 else pieces[0]
    merged = np.concatenate(keys)
    if len(merged) > limit:
        chosen = np.argpartition(merged, limit - 1)[:limit]
        frame, merged = frame.iloc[chosen], merged[chosen]
    return [frame], [merged]


# Checking the inputs


def _check_frames(frames: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    checked = {}
    for role, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise SyntheticInputError(f"The {role} table must be a table (a pandas DataFrame).")
        if frame.shape[1] == 0:
            raise SyntheticInputError(f"The {role} table has no columns.")
        if len(frame) == 0:
            raise SyntheticInputError(f"The {role} table has no rows.")
        renamed = frame.rename(columns=str)
        duplicated = sorted(set(renamed.columns[renamed.columns.duplicated()]))
        if duplicated:
            raise SyntheticInputError(f"The {role} table has more than one column named {_names(duplicated)}.")
        checked[role] = renamed
    return checked


def _names(names: Sequence[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _choose_columns(frames: Mapping[str, pd.DataFrame], chosen: tuple[str, ...] | None) -> list[str]:
    roles = list(frames)
    if chosen is not None:
        problems = []
        for role in roles:
            missing = [name for name in chosen if name not in frames[role].columns]
            if missing:
                noun = "column" if len(missing) == 1 else "columns"
                problems.append(f"The {role} table has no {noun} {_names(missing)}.")
        if problems:
            raise SyntheticInputError(" ".join(problems) + " Every chosen column must be in all the tables.")
        return list(chosen)
    first = list(frames[roles[0]].columns)
    problems = []
    for role in roles[1:]:
        columns = list(frames[role].columns)
        missing = [name for name in first if name not in columns]
        extra = [name for name in columns if name not in first]
        if missing:
            problems.append(f"The {role} table lacks {_names(missing)}, which the {roles[0]} table has.")
        if extra:
            problems.append(f"The {role} table has {_names(extra)}, which the {roles[0]} table lacks.")
    if problems:
        raise SyntheticInputError(
            "The tables do not have the same columns. "
            + " ".join(problems)
            + " Give all the tables the same columns, or choose the columns to compare."
        )
    return first


def _kind(series: pd.Series) -> str:
    if series.isna().all():
        return _EMPTY
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return _TEXT
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _DATE
    if pd.api.types.is_numeric_dtype(dtype):
        return _NUMERIC
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return _NUMERIC
    if inferred in ("datetime64", "datetime", "date"):
        return _DATE
    return _TEXT


def _column_kinds(frames: Mapping[str, pd.DataFrame], columns: Sequence[str]) -> dict[str, str]:
    """Each column's kind, the same in every table that has values in it; empty if none has."""
    kinds = {}
    for name in columns:
        per_role = {role: _kind(frame[name]) for role, frame in frames.items()}
        seen = {kind for kind in per_role.values() if kind != _EMPTY}
        if len(seen) > 1:
            by_kind: dict[str, list[str]] = {}
            for role, kind in per_role.items():
                if kind != _EMPTY:
                    by_kind.setdefault(kind, []).append(role)
            described = " but ".join(
                f"{_KIND_WORDS[kind]} in the {' and '.join(roles)} table{'s' if len(roles) > 1 else ''}"
                for kind, roles in by_kind.items()
            )
            raise SyntheticInputError(
                f"The column '{name}' holds {described}; it must hold the same kind of values in all the tables."
            )
        kinds[name] = seen.pop() if seen else _EMPTY
    return kinds


def _check_sizes(frames: Mapping[str, pd.DataFrame], minimum: int) -> None:
    for role in ("holdout", "training"):
        rows = len(frames[role])
        if rows < minimum:
            purpose = "real rows the generator never saw" if role == "holdout" else "rows the generator learnt from"
            raise SyntheticInputError(
                f"The {role} table has {rows} row{'s' if rows != 1 else ''}, but the check needs at least "
                f"{minimum} {purpose} to compare with. Provide a larger {role} table."
            )


# Encoding and distances


def _as_numbers(series: pd.Series, kind: str) -> np.ndarray:
    """Float64 values with NaN for anything missing or not finite."""
    if kind == _DATE:
        moments = pd.to_datetime(series, utc=True, errors="coerce")
        values = ((moments - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(float, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(float, na_value=np.nan)
    # One NaN and no negative zero, so equal values hash equally.
    return np.where(np.isfinite(values), values + 0.0, np.nan)


def _as_text(series: pd.Series) -> np.ndarray:
    """Object array of the values as text, None for anything missing."""
    values = series.astype(object)
    return values.astype(str).where(values.notna(), None).to_numpy(dtype=object)


@dataclass
class _Encoded:
    """Rows encoded for distances: L1 over ``numeric`` is the numeric columns' Gower sum."""

    numeric: np.ndarray  # (rows, coordinates) float64
    one_hot: np.ndarray  # (rows, values) float32, one 1 per categorical column with few values
    codes: np.ndarray  # (rows, columns) int64, categorical columns with many values
    one_hot_columns: int  # how many categorical columns ``one_hot`` holds

    @property
    def rows(self) -> int:
        return len(self.numeric)


@dataclass
class _Columns:
    numeric: list[str]
    categorical: list[str]
    left_out: list[str]
    kinds: dict[str, str]
    bounds: dict[str, tuple[float, float]]

    @property
    def width(self) -> int:
        return len(self.numeric) + len(self.categorical)


def _usable_columns(frames: Mapping[str, pd.DataFrame], kinds: Mapping[str, str], real: Sequence[str]) -> _Columns:
    """Columns with at least one value in the real tables, numeric ones with their range there."""
    numeric, categorical, left_out, bounds = [], [], [], {}
    for name, kind in kinds.items():
        if kind in (_NUMERIC, _DATE):
            values = np.concatenate([_as_numbers(frames[role][name], kind) for role in real])
            values = values[~np.isnan(values)]
            if values.size:
                numeric.append(name)
                bounds[name] = (float(values.min()), float(values.max()))
                continue
        elif kind == _TEXT and any(frames[role][name].notna().any() for role in real):
            categorical.append(name)
            continue
        left_out.append(name)
    if not numeric and not categorical:
        raise SyntheticInputError(
            f"None of the columns can be compared: {_names(left_out)} "
            f"{'has' if len(left_out) == 1 else 'have'} no values in the {' and '.join(real)} "
            f"table{'s' if len(real) > 1 else ''}."
        )
    return _Columns(numeric, categorical, left_out, dict(kinds), bounds)


def _encode(frames: Mapping[str, pd.DataFrame], columns: _Columns) -> dict[str, _Encoded]:
    numeric: dict[str, list[np.ndarray]] = {role: [] for role in frames}
    one_hot: dict[str, list[np.ndarray]] = {role: [] for role in frames}
    codes: dict[str, list[np.ndarray]] = {role: [] for role in frames}
    for name in columns.numeric:
        low, high = columns.bounds[name]
        values = {role: _as_numbers(frame[name], columns.kinds[name]) for role, frame in frames.items()}
        gaps = any(np.isnan(column).any() for column in values.values())
        for role, column in values.items():
            # A column constant in the real data counts 0 for its value and 1 for any other.
            scaled = (np.clip(column, low, high) - low) / (high - low) if high > low else (column != low) * 1.0
            if gaps:
                # Two coordinates per column: L1 is |x - y| between values, 1 between a value and a gap
                # (x/2 + 1/4 + (1 - x)/2 + 1/4) and 0 between two gaps.
                missing = np.isnan(column)
                numeric[role] += [np.where(missing, -0.25, scaled / 2), np.where(missing, -0.25, (1 - scaled) / 2)]
            else:
                numeric[role].append(scaled)
    for name in columns.categorical:
        texts = {role: _as_text(frame[name]) for role, frame in frames.items()}
        vocabulary = pd.Index(pd.unique(np.concatenate(list(texts.values()))))
        # A gap is a value of its own (the last code), so that gaps are equal to each other.
        vocabulary = vocabulary[vocabulary.notna()]
        for role, column in texts.items():
            code = vocabulary.get_indexer(column)
            code[code < 0] = len(vocabulary)
            if len(vocabulary) + 1 <= ONE_HOT_MAX_VALUES:
                one_hot[role].append(np.eye(len(vocabulary) + 1, dtype=np.float32)[code])
            else:
                codes[role].append(code.astype(np.int64))
    encoded = {}
    for role, frame in frames.items():
        rows = len(frame)
        encoded[role] = _Encoded(
            numeric=np.column_stack(numeric[role]) if numeric[role] else np.zeros((rows, 0)),
            one_hot=np.hstack(one_hot[role]) if one_hot[role] else np.zeros((rows, 0), dtype=np.float32),
            codes=np.column_stack(codes[role]) if codes[role] else np.zeros((rows, 0), dtype=np.int64),
            one_hot_columns=len(one_hot[role]),
        )
    return encoded


def _distance_block(query: _Encoded, reference: _Encoded, rows: slice) -> np.ndarray:
    """Sums of the per-column Gower distances from ``query[rows]`` to every reference row (not yet averaged)."""
    count = len(range(*rows.indices(query.rows)))
    if query.numeric.shape[1]:
        total = cdist(query.numeric[rows], reference.numeric, "cityblock")
    else:
        total = np.zeros((count, reference.rows))
    if query.one_hot.shape[1]:
        total -= query.one_hot[rows] @ reference.one_hot.T
        total += query.one_hot_columns
    for column in range(query.codes.shape[1]):
        total += query.codes[rows, column][:, None] != reference.codes[:, column][None, :]
    return total


def _nearest(query: _Encoded, reference: _Encoded, k: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest distances from each query row to the reference rows (ascending), and their positions."""
    k = min(k, reference.rows)
    distances = np.empty((query.rows, k))
    positions = np.empty((query.rows, k), dtype=np.int64)
    step = max(1, BLOCK_ELEMENTS // max(reference.rows, 1))
    for start in range(0, query.rows, step):
        block = _distance_block(query, reference, slice(start, start + step))
        if k == 1:
            nearest = block.argmin(axis=1)[:, None]
        else:
            nearest = np.argpartition(block, k - 1, axis=1)[:, :k]
            order = np.argsort(np.take_along_axis(block, nearest, axis=1), axis=1, kind="stable")
            nearest = np.take_along_axis(nearest, order, axis=1)
        distances[start : start + len(block)] = np.take_along_axis(block, nearest, axis=1) / width
        positions[start : start + len(block)] = nearest
    return distances, positions


def gower_distances(query: pd.DataFrame, reference: pd.DataFrame, *, real: pd.DataFrame | None = None) -> np.ndarray:
    """The full matrix of Gower distances between the rows of two small tables with the same columns.

    Ranges of numeric columns come from ``real`` (by default ``reference``); the distance is the one
    the check uses (see the module docstring).
    """
    given = {"query": query, "reference": reference, **({"real": real} if real is not None else {})}
    frames = _check_frames(given)
    columns = _column_kinds(frames, _choose_columns(frames, None))
    usable = _usable_columns(frames, columns, ["real" if real is not None else "reference"])
    encoded = _encode({role: frames[role] for role in ("query", "reference")}, usable)
    return _distance_block(encoded["query"], encoded["reference"], slice(None)) / usable.width


# The check


def _row_keys(frame: pd.DataFrame, columns: _Columns) -> np.ndarray:
    """A 64-bit hash per row of its compared values, numbers as numbers and the rest as text."""
    normalised = {name: _as_numbers(frame[name], columns.kinds[name]) for name in columns.numeric}
    normalised.update({name: _as_text(frame[name]) for name in columns.categorical})
    return pd.util.hash_pandas_object(pd.DataFrame(normalised), index=False).to_numpy()


def _first_match(keys: np.ndarray, within: np.ndarray) -> np.ndarray:
    """For each key, the first position in ``within`` holding it, or -1."""
    first = pd.Series(np.arange(len(within)), index=within)
    first = first[~first.index.duplicated()]
    return first.reindex(keys).fillna(-1).to_numpy(np.int64)


def _sample(length: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if size >= length:
        return np.arange(length)
    return np.sort(rng.choice(length, size=size, replace=False))


def _summary(values: np.ndarray) -> dict[str, float | None]:
    if not len(values):
        return {"median": None, "p5": None}
    return {"median": _number(np.median(values)), "p5": _number(np.percentile(values, 5))}


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _p_value(value: float) -> str:
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.2g}"


def _row_number(label: Any, position: int) -> int:
    return int(label) if isinstance(label, numbers.Integral) and not isinstance(label, bool) else position


def mask_value(value: Any) -> str | None:
    """A value with its content hidden: digits of numbers and dates become '#', text keeps its first character."""
    if value is None or (not isinstance(value, str | bytes) and np.ndim(value) == 0 and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value))[0] + "…"
    if isinstance(value, numbers.Number | date | datetime | np.datetime64 | pd.Timestamp):
        return _DIGIT.sub("#", str(value))
    text = str(value)
    return _DIGIT.sub("#", text[:1]) + "…" if text else ""


def evaluate(
    training: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    settings: SyntheticSettings = DEFAULT_SETTINGS,
    *,
    totals: Mapping[str, int] | None = None,
) -> SyntheticResult:
    """The memorisation check of ``synthetic`` against the ``training`` rows it was made from and ``holdout``.

    ``totals`` gives the rows each table had before it was sampled (``read_sample``'s second value),
    by role; a table without one counts the rows given.
    """
    frames = _check_frames({"training": training, "holdout": holdout, "synthetic": synthetic})
    kinds = _column_kinds(frames, _choose_columns(frames, settings.columns))
    _check_sizes(frames, settings.min_holdout_rows)
    columns = _usable_columns(frames, kinds, ["training", "holdout"])

    rng = np.random.default_rng(settings.seed)
    reference_rows = min(len(frames["training"]), len(frames["holdout"]), settings.max_reference_rows)
    wanted = {"training": reference_rows, "holdout": reference_rows, "synthetic": settings.max_synthetic_rows}
    samples = {role: frames[role].iloc[_sample(len(frames[role]), wanted[role], rng)] for role in ROLES}
    encoded = _encode(samples, columns)
    width = columns.width

    near = _nearest_real(encoded["synthetic"], encoded["training"], encoded["holdout"], width)
    holdout_to_training, _ = _nearest(encoded["holdout"], encoded["training"], 2, width)
    null_shares = _permutation_shares(near, reference_rows, settings.permutations, rng)
    closer = _Closer.judge(near.to_training[:, 0] - near.to_holdout, null_shares)

    keys = {role: _row_keys(samples[role], columns) for role in ROLES}
    identical_position = _first_match(keys["synthetic"], keys["training"])
    identical_training = int((identical_position >= 0).sum())
    identical_holdout = int(np.isin(keys["synthetic"], keys["holdout"]).sum())
    compared = len(samples["synthetic"])
    ims_training, ims_holdout = identical_training / compared, identical_holdout / compared

    judge = _Judgement(settings)
    judge.identical(identical_training, identical_holdout, compared, ims_training, ims_holdout)
    judge.closer(closer)
    nndr = {"synthetic": _summary(_ratios(near.to_training)), "holdout": _summary(_ratios(holdout_to_training))}
    judge.ratios(nndr)
    if columns.left_out:
        judge.left_out(columns.left_out)
    identifiers = _identifier_like(samples["training"], columns.categorical)
    if identifiers:
        judge.identifiers(identifiers)

    totals = dict(totals or {})
    sampling: dict[str, Any] = {
        role: {"used": len(samples[role]), "total": max(int(totals.get(role, len(frames[role]))), len(frames[role]))}
        for role in ROLES
    }
    sampling["seed"] = settings.seed
    metrics = {
        "ims_training": ims_training,
        "ims_holdout": ims_holdout,
        "identical_rows": {"training": identical_training, "holdout": identical_holdout, "compared": compared},
        "dcr": {
            "training": _summary(near.to_training[:, 0]),
            "holdout": _summary(near.to_holdout),
            "holdout_to_training": _summary(holdout_to_training[:, 0]),
        },
        **closer.metrics(),
        "nndr": nndr,
        "sampling": sampling,
        "columns": {"numeric": columns.numeric, "categorical": columns.categorical, "left_out": columns.left_out},
    }
    evidence = _evidence(samples, columns, near, identical_position, settings.evidence_rows)
    verdict, reasons = judge.verdict()
    return SyntheticResult(verdict, reasons, metrics, judge.findings, evidence, settings, _notes(sampling, closer))


@dataclass
class _Near:
    """Each synthetic row's nearest real rows: two training rows, one holdout row, and the pooled top ``k``."""

    to_training: np.ndarray  # (rows, 2) distances, ascending
    training_positions: np.ndarray  # (rows, 2) positions in the training sample
    to_holdout: np.ndarray  # (rows,)
    pooled_distances: np.ndarray  # (rows, k) ascending, over training rows then holdout rows
    pooled_positions: np.ndarray  # (rows, k)


def _nearest_real(synthetic: _Encoded, training: _Encoded, holdout: _Encoded, width: int) -> _Near:
    """One search of the pooled real rows gives both nearest distances and what the permutation test needs."""
    pooled = _Encoded(
        numeric=np.vstack([training.numeric, holdout.numeric]),
        one_hot=np.vstack([training.one_hot, holdout.one_hot]),
        codes=np.vstack([training.codes, holdout.codes]),
        one_hot_columns=training.one_hot_columns,
    )
    distances, positions = _nearest(synthetic, pooled, POOLED_NEIGHBOURS, width)
    is_training = positions < training.rows
    rank = np.cumsum(is_training, axis=1)
    first, second = np.argmax(rank >= 1, axis=1), np.argmax(rank >= 2, axis=1)
    in_holdout = np.argmax(~is_training, axis=1)
    rows = np.arange(synthetic.rows)
    near = _Near(
        to_training=np.column_stack([distances[rows, first], distances[rows, second]]),
        training_positions=np.column_stack([positions[rows, first], positions[rows, second]]),
        to_holdout=distances[rows, in_holdout],
        pooled_distances=distances,
        pooled_positions=positions,
    )
    # Rows whose top k lacks two training rows or a holdout row (duplicates in the real data) are searched again.
    redo = np.flatnonzero((rank[:, -1] < 2) | ~(~is_training).any(axis=1))
    if len(redo):
        subset = _Encoded(
            synthetic.numeric[redo], synthetic.one_hot[redo], synthetic.codes[redo], synthetic.one_hot_columns
        )
        near.to_training[redo], near.training_positions[redo] = _nearest(subset, training, 2, width)
        near.to_holdout[redo] = _nearest(subset, holdout, 1, width)[0][:, 0]
    return near


def _permutation_shares(near: _Near, training_rows: int, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """The closer-to-training share under random re-splits of the pooled real rows into two equal halves.

    Without memorisation the synthetic rows do not depend on which real rows were used for training, so
    every split is as likely as the real one. A side missing from a row's top k is at least as far as its
    k-th neighbour, which decides the row unless the other side is equally far (then it counts as a tie).
    """
    if not permutations:
        return np.zeros(0)
    positions, distances = near.pooled_positions, near.pooled_distances
    labels = np.zeros(2 * training_rows, dtype=bool)
    labels[:training_rows] = True
    # The nearest real row is on one side; the row is decided by the first neighbour on the other side.
    rows = np.arange(len(distances))[None, :]
    batch = max(1, PERMUTATION_ELEMENTS // max(positions.size, 1))
    shares = []
    for start in range(0, permutations, batch):
        count = min(batch, permutations - start)
        side = rng.permuted(np.tile(labels, (count, 1)), axis=1)[:, positions]  # (count, rows, k), True: one half
        other = np.argmax(side != side[:, :, :1], axis=2)  # 0 when all k are on the nearest row's side
        gap = np.where(other > 0, distances[rows, other], distances[:, -1][None, :]) - distances[:, 0][None, :]
        untied = gap > TIE_TOLERANCE
        closer = np.count_nonzero(untied & side[:, :, 0], axis=1)
        decided = np.count_nonzero(untied, axis=1)
        shares.append(np.divide(closer, decided, out=np.full(count, 0.5), where=decided > 0))
    return np.concatenate(shares)


def _clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    tail = (1 - confidence) / 2
    low = 0.0 if successes == 0 else float(stats.beta.ppf(tail, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - tail, successes + 1, trials - successes))
    return low, high


@dataclass
class _Closer:
    """How many synthetic rows lie nearer to the training sample than to the holdout sample, and the tests."""

    closer: int
    farther: int
    ties: int
    binomial_p: float | None
    permutation_p: float | None
    null_p95: float | None
    permutations: int
    # The smallest p-value the test could give with these rows: all untied rows closer to training.
    best_p: float | None

    @classmethod
    def judge(cls, difference: np.ndarray, null_shares: np.ndarray) -> _Closer:
        closer = int((difference < -TIE_TOLERANCE).sum())
        farther = int((difference > TIE_TOLERANCE).sum())
        untied = closer + farther
        binomial_p = float(stats.binom.sf(closer - 1, untied, 0.5)) if untied else None
        permutation_p = null_p95 = None
        best_p = 0.5**untied if untied else None
        if len(null_shares) and untied:
            beyond = 1 + np.count_nonzero(null_shares >= closer / untied - 1e-12)
            permutation_p = float(beyond / (len(null_shares) + 1))
            best_p = float((1 + np.count_nonzero(null_shares >= 1 - 1e-12)) / (len(null_shares) + 1))
            null_p95 = float(np.percentile(null_shares, 95))
        return cls(
            closer, farther, len(difference) - untied, binomial_p, permutation_p, null_p95, len(null_shares), best_p
        )

    @property
    def untied(self) -> int:
        return self.closer + self.farther

    @property
    def share(self) -> float | None:
        return self.closer / self.untied if self.untied else None

    @property
    def test(self) -> str:
        return "permutation" if self.permutations else "binomial"

    @property
    def p_value(self) -> float | None:
        return self.permutation_p if self.permutations else self.binomial_p

    def metrics(self) -> dict[str, Any]:
        interval = _clopper_pearson(self.closer, self.untied) if self.untied else None
        return {
            "closer_to_training_share": self.share,
            "closer_to_training_interval": list(interval) if interval else None,
            "closer_to_training_p_value": self.p_value,
            "closer_to_training_test": self.test,
            "closer_to_training_binomial_p_value": self.binomial_p,
            "closer_to_training_permutation": {
                "p_value": self.permutation_p,
                "permutations": self.permutations,
                "null_share_p95": self.null_p95,
            },
            "closer_to_training_counts": {"training": self.closer, "holdout": self.farther, "ties": self.ties},
        }


def _identifier_like(training: pd.DataFrame, categorical: Sequence[str]) -> list[str]:
    """Text columns with a different value in nearly every training row, such as customer numbers."""
    if len(training) < IDENTIFIER_MIN_ROWS:
        return []
    return [name for name in categorical if training[name].nunique() >= IDENTIFIER_SHARE * len(training)]


def _ratios(nearest: np.ndarray) -> np.ndarray:
    first, second = nearest[:, 0], nearest[:, 1]
    # 0/0 is a row on top of two identical real records: as close as can be, so 0.
    return np.divide(first, second, out=np.zeros_like(first), where=second > 0)


class _Judgement:
    """Collects the policy's findings and their sentences, and turns them into the verdict."""

    def __init__(self, settings: SyntheticSettings) -> None:
        self.settings = settings
        self.findings: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.unclear: list[str] = []
        self.passes: list[str] = []

    def _add(self, severity: str, code: str, title: str, detail: str, evidence: dict[str, Any]) -> None:
        self.findings.append(
            {"severity": severity, "code": code, "title": title, "detail": detail, "evidence": evidence}
        )

    def identical(self, training: int, holdout: int, compared: int, ims_training: float, ims_holdout: float) -> None:
        margin = self.settings.ims_margin
        evidence = {
            "identical_to_training": training,
            "identical_to_holdout": holdout,
            "synthetic_rows": compared,
            "ims_training": ims_training,
            "ims_holdout": ims_holdout,
            "margin": margin,
        }
        counts = (
            f"{training} of the {compared} synthetic rows compared ({_percent(ims_training)}) are identical to a "
            f"training row and {holdout} ({_percent(ims_holdout)}) to a holdout row"
        )
        allowance = f"{margin * 100:g} percentage point{'s' if margin * 100 != 1 else ''}"
        if ims_training > ims_holdout + margin + 1e-12:
            sentence = (
                f"{counts}: the generator copies training records. The policy allows the share identical to "
                f"training to exceed the share identical to holdout by at most {allowance}."
            )
            self.failures.append(sentence)
            self._add("high", "identical_to_training", "Synthetic rows copy training records", sentence, evidence)
        else:
            self.passes.append(f"{counts}, within the policy's margin of {allowance}.")

    def closer(self, closer: _Closer) -> None:
        alpha = self.settings.alpha
        left_out = f" {closer.ties} rows equally close to both are left out." if closer.ties else ""
        evidence = closer.metrics()
        share, p_value = closer.share, closer.p_value
        if share is None or p_value is None or closer.best_p is None or closer.best_p >= alpha:
            if closer.untied == 0:
                sentence = (
                    f"All {closer.ties} synthetic rows compared are exactly as close to the training sample as to "
                    "the holdout sample, so whether they lie nearer to the training data cannot be judged."
                )
            else:
                sentence = (
                    f"Only {closer.untied} synthetic rows are closer to one real sample than to the other "
                    f"({closer.closer} to training), too few for the test to show memorisation at the {alpha:g} "
                    f"level.{left_out}"
                )
            self.unclear.append(sentence)
            self._add("medium", "too_few_comparisons", "Nearness to training cannot be judged", sentence, evidence)
            return
        test = (
            f"a test re-splitting the real rows {closer.permutations} times"
            if closer.permutations
            else "one-sided binomial test"
        )
        counts = (
            f"{closer.closer} of the {closer.untied} synthetic rows not equally close to both real samples "
            f"({_percent(share)}) are closer to the training sample than to the holdout sample of the same size; "
            "without memorisation about half would be."
        )
        if share > 0.5 and p_value < alpha:
            sentence = (
                f"{counts} That is significantly more than half ({test}, {_p_value(p_value)}, below the policy's "
                f"{alpha:g}).{left_out}"
            )
            self.failures.append(sentence)
            self._add("high", "closer_to_training", "Synthetic rows lie nearer to training records", sentence, evidence)
        else:
            self.passes.append(
                f"{counts} That is not significantly more than half ({test}, {_p_value(p_value)}; the policy fails "
                f"below {alpha:g}).{left_out}"
            )

    def ratios(self, nndr: dict[str, dict[str, float | None]]) -> None:
        synthetic, holdout = nndr["synthetic"]["p5"], nndr["holdout"]["p5"]
        if synthetic is None or holdout is None or synthetic >= holdout:
            return
        detail = (
            f"The 5th percentile of the nearest-neighbour distance ratio is {synthetic:.3f} for synthetic rows "
            f"against {holdout:.3f} for holdout rows: some synthetic rows sit closer to one particular training "
            "record than real rows of the population do. This is reported, not judged."
        )
        self._add("info", "close_to_single_records", "Some synthetic rows hug single training records", detail, nndr)

    def left_out(self, names: list[str]) -> None:
        detail = (
            f"{_names(names)} {'has' if len(names) == 1 else 'have'} no values in the training and holdout tables, "
            f"so the comparison leaves {'it' if len(names) == 1 else 'them'} out."
        )
        self._add("low", "columns_left_out", "Columns left out of the comparison", detail, {"columns": names})

    def identifiers(self, names: list[str]) -> None:
        one = len(names) == 1
        detail = (
            f"{_names(names)} {'has' if one else 'have'} a different value in nearly every training row, like an "
            "identifier. A generator that makes up new identifiers for copied records hides the copies from the "
            f"identical-match share and pushes every distance up; leave {'it' if one else 'them'} out by choosing "
            "the columns to compare."
        )
        self._add("low", "identifier_like_columns", "Columns that look like identifiers", detail, {"columns": names})

    def verdict(self) -> tuple[str, list[str]]:
        if self.failures:
            return "fail", self.failures + self.unclear
        if self.unclear:
            return "inconclusive", self.unclear + self.passes
        return "pass", self.passes


def _evidence(
    samples: Mapping[str, pd.DataFrame],
    columns: _Columns,
    near: _Near,
    identical_position: np.ndarray,
    limit: int,
) -> list[dict[str, Any]]:
    """Masked rows: the synthetic rows identical to a training row first, then the closest others."""
    to_training, nearest_training = near.to_training, near.training_positions
    identical = np.flatnonzero(identical_position >= 0)
    others = np.flatnonzero(identical_position < 0)
    others = others[np.argsort(to_training[others, 0], kind="stable")]
    synthetic, training = samples["synthetic"], samples["training"]
    names = columns.numeric + columns.categorical
    rows = []
    for position in np.concatenate([identical, others])[:limit]:
        is_identical = bool(identical_position[position] >= 0)
        match = int(identical_position[position] if is_identical else nearest_training[position, 0])
        rows.append(
            {
                "synthetic_row": _row_number(synthetic.index[position], int(position)),
                "training_row": _row_number(training.index[match], match),
                "distance": 0.0 if is_identical else float(to_training[position, 0]),
                "identical": is_identical,
                "values": {name: mask_value(synthetic[name].iloc[position]) for name in names},
            }
        )
    return rows


def _notes(sampling: Mapping[str, Any], closer: _Closer) -> list[str]:
    notes = []
    for role in ROLES:
        used, total = sampling[role]["used"], sampling[role]["total"]
        if used < total:
            notes.append(
                f"{used} of the {total} {role} rows were compared, chosen at random (seed {sampling['seed']})."
            )
    notes.append(
        "Training and holdout samples have the same size, so that a synthetic row is as likely to be nearer to "
        "either if the generator did not memorise its training data."
    )
    if closer.permutations:
        notes.append(
            f"The nearness test re-split the real rows at random {closer.permutations} times: which rows ended up "
            "in training is itself one random draw, and a binomial test that treats the synthetic rows as "
            "independent ignores that and finds memorisation too often. The binomial p-value and the "
            "Clopper-Pearson interval are reported for reference only."
        )
    return notes
