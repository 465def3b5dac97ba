"""Reading a predictions table and collapsing it to counts per (sensitive groups, y_true, y_pred).

This is where every input problem is found and worded for people: missing columns, empty cells,
labels that are not binary, scores that are not numbers, an empty table. After it, the check
works on a table of at most a few thousand cells however many rows the file had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from audits.checks.bias_inputs import (
    COUNT,
    PRED,
    SCORE_SUM,
    TRUE,
    BiasColumns,
    BiasInputError,
    Progress,
)
from audits.checks.tables import (
    DEFAULT_CHUNK_ROWS,
    ColumnsNotFoundError,
    Source,
    TableChunks,
    TableError,
    describe_missing_columns,
)

_POSITIVE_WORDS = frozenset({"1", "true", "yes"})
_NEGATIVE_WORDS = frozenset({"0", "false", "no", "-1"})
_SHOWN_VALUES = 10


def read_table_chunks(
    source: Source,
    columns: BiasColumns,
    *,
    fmt: str | None = None,
    name: str = "",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> TableChunks:
    """The columns the check needs from a CSV or Parquet file, in chunks (see ``tables.TableChunks``)."""
    text_columns = [column for column in (columns.y_true, columns.y_pred) if column] + list(columns.sensitive)
    try:
        return TableChunks(
            source, fmt=fmt, name=name, columns=columns.needed, text_columns=text_columns, chunk_rows=chunk_rows
        )
    except ColumnsNotFoundError as error:
        roles = columns.roles()
        raise BiasInputError(describe_missing_columns(error.missing, error.available, roles)) from None
    except TableError as error:
        raise BiasInputError(str(error)) from None


class Reporter:
    """Passes only increasing fractions on, so a progress bar never moves back."""

    def __init__(self, progress: Progress | None, scale: float = 1.0) -> None:
        self._progress, self._scale, self._last = progress, scale, -1.0

    def __call__(self, fraction: float | None) -> None:
        if self._progress is None or fraction is None:
            return
        value = min(1.0, max(0.0, fraction)) * self._scale
        if value > self._last:
            self._last = value
            self._progress(value)


class FrameChunks:
    """An in-memory table sliced like a file, so that it reports progress the same way."""

    def __init__(self, frame: pd.DataFrame, chunk_rows: int) -> None:
        self._frame, self._chunk_rows, self.fraction = frame, chunk_rows, 0.0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        total = len(self._frame)
        for start in range(0, total, self._chunk_rows):
            stop = min(total, start + self._chunk_rows)
            self.fraction = stop / total
            yield self._frame.iloc[start:stop]


def _collapse_chunk(chunk: pd.DataFrame, columns: BiasColumns) -> tuple[pd.DataFrame, int, Any]:
    data: dict[str, pd.Series] = {name: chunk[name] for name in columns.sensitive}
    if columns.y_true is not None:
        data[TRUE] = chunk[columns.y_true]
    invalid, example = 0, None
    score = None
    if columns.score is not None:
        raw = chunk[columns.score]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            score = raw.astype(np.float64)
        else:
            score = pd.to_numeric(raw.astype(object), errors="coerce").astype(np.float64)
            wrong = score.isna() & raw.notna()
            invalid = int(wrong.sum())
            example = raw[wrong].iloc[0] if invalid else None
        data[SCORE_SUM] = score
    if columns.y_pred is not None:
        data[PRED] = chunk[columns.y_pred]
    else:
        assert score is not None and columns.score_threshold is not None
        data[PRED] = (score >= float(columns.score_threshold)).astype(np.int8)
    frame = pd.DataFrame(data, copy=False)
    keys = [*columns.sensitive, *([TRUE] if columns.y_true is not None else []), PRED]
    try:
        grouped = frame.groupby(keys, sort=False, observed=True, dropna=False)
        if score is None:
            partial = grouped.size().rename(COUNT).reset_index()
        else:
            stats = grouped[SCORE_SUM].agg(["size", "count", "sum"])
            partial = stats.rename(columns={"size": COUNT, "count": "_scored", "sum": SCORE_SUM}).reset_index()
    except TypeError:
        raise BiasInputError(
            "Some chosen columns hold lists or other values that cannot be grouped; choose columns of plain values."
        ) from None
    return partial, invalid, example


def _canonical_label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = str(value).strip().lower()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if math.isfinite(number) and number.is_integer() else text


def _shown(values: Iterable[Any]) -> str:
    ordered = sorted({str(value) for value in values}, key=natural_key)
    text = ", ".join(f"'{value}'" for value in ordered[:_SHOWN_VALUES])
    if len(ordered) > _SHOWN_VALUES:
        text += f" and {len(ordered) - _SHOWN_VALUES} more"
    return text


def _label_mapping(values: list[Any], column: str, role: str, positive_label: str | None) -> dict[Any, int]:
    canonical = {value: _canonical_label(value) for value in values}
    distinct = set(canonical.values())
    if len(distinct) > 2:
        hint = (
            " If these are scores, choose the column as the score column and give a threshold."
            if all(_is_number(value) for value in values)
            else " If one value means the favourable outcome and all others do not, first merge the others into one."
        )
        raise BiasInputError(
            f"The column '{column}' ({role}) must hold two values, such as 0/1, true/false or yes/no, "
            f"but it holds {len(distinct)} different values: {_shown(values)}.{hint}"
        )
    if positive_label is not None:
        positive = _canonical_label(positive_label)
        return {value: int(text == positive) for value, text in canonical.items()}
    unknown = [value for value, text in canonical.items() if text not in _POSITIVE_WORDS | _NEGATIVE_WORDS]
    if unknown:
        raise BiasInputError(
            f"The column '{column}' ({role}) holds {_shown(values)}, which are not 0/1, true/false or yes/no. "
            "Say which value is the positive (favourable) outcome by giving a positive label."
        )
    return {value: int(text in _POSITIVE_WORDS) for value, text in canonical.items()}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def natural_key(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order first, then text: "9" before "10", "<25" after both."""
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def collapse(chunks: Iterable[pd.DataFrame], columns: BiasColumns, progress: Progress | None = None) -> pd.DataFrame:
    """Count the rows per (sensitive features, y_true, y_pred), streaming over ``chunks``.

    Returns one row per cell: the sensitive features as text, ``_y_true`` (absent without true
    labels) and ``_y_pred`` as 0/1, ``_count``, and ``_score_sum`` when there is a score column.
    ``counts.attrs["label_values"]`` records which label values were read as positive. All input
    problems (missing columns, empty cells, non-binary labels, an empty table) are found here.
    """
    report = Reporter(progress)
    partials: list[pd.DataFrame] = []
    invalid_scores, invalid_example = 0, None
    checked = False
    try:
        for chunk in chunks:
            if not checked:
                missing = [name for name in columns.needed if name not in chunk.columns]
                if missing:
                    roles = columns.roles()
                    available = [str(column) for column in chunk.columns]
                    raise BiasInputError(describe_missing_columns(missing, available, roles))
                checked = True
            if len(chunk):
                partial, invalid, example = _collapse_chunk(chunk, columns)
                partials.append(partial)
                invalid_scores += invalid
                invalid_example = invalid_example if invalid_example is not None else example
            report(getattr(chunks, "fraction", None))
    except TableError as error:
        raise BiasInputError(str(error)) from None
    if not partials:
        raise BiasInputError("The table has no rows, so there is nothing to check.")
    combined = pd.concat(partials, ignore_index=True)
    keys = [column for column in combined.columns if column not in (COUNT, "_scored", SCORE_SUM)]
    if invalid_scores:
        raise BiasInputError(
            f"The column '{columns.score}' (the scores) must hold numbers, but {invalid_scores} "
            f"row{'' if invalid_scores == 1 else 's'} do{'es' if invalid_scores == 1 else ''} not, "
            f"for example '{invalid_example}'."
        )
    _check_missing(combined, columns)
    label_values: dict[str, Any] = {}
    role_columns = ((TRUE, columns.y_true, "the true labels"), (PRED, columns.y_pred, "the predicted labels"))
    for key, column, role in role_columns:
        if column is None:
            continue
        raw = combined[key].astype(object)
        values = list(pd.unique(raw))
        mapping = _label_mapping(values, column, role, columns.positive_label)
        combined[key] = raw.map(mapping).astype(np.int8)
        label_values[column] = {
            "positive": sorted({str(value) for value, bit in mapping.items() if bit}),
            "negative": sorted({str(value) for value, bit in mapping.items() if not bit}),
        }
    if columns.positive_label is not None and label_values and not any(v["positive"] for v in label_values.values()):
        found = [value for values in label_values.values() for value in values["negative"]]
        raise BiasInputError(
            f"The positive label '{columns.positive_label}' does not occur in the label columns, "
            f"which hold {_shown(found)}."
        )
    for name in columns.sensitive:
        # Groups are named by their text, so 30 (in memory) and "30" (read from CSV) are one group.
        combined[name] = combined[name].astype(object).map(str)
        blank = combined[name].str.strip() == ""
        if blank.any():
            rows = int(combined.loc[blank, COUNT].sum())
            raise BiasInputError(
                f"The column '{name}' (a sensitive feature) is blank in {rows} rows, so those rows belong to no "
                "group. Fill in the group or remove the rows."
            )
    sums = [COUNT, *([SCORE_SUM] if columns.score is not None else [])]
    counts = combined.groupby(keys, sort=False, dropna=False)[sums].sum().reset_index()
    counts[COUNT] = counts[COUNT].astype(np.int64)
    counts.attrs["label_values"] = label_values
    report(1.0)
    return counts


def _check_missing(combined: pd.DataFrame, columns: BiasColumns) -> None:
    problems = []
    roles = columns.roles()
    for key, column in ((TRUE, columns.y_true), (PRED, columns.y_pred)):
        if column is not None:
            rows = int(combined.loc[combined[key].isna(), COUNT].sum())
            if rows:
                problems.append((column, rows))
    if columns.score is not None:
        rows = int((combined[COUNT] - combined["_scored"]).sum())
        if rows:
            problems.append((columns.score, rows))
    for name in columns.sensitive:
        rows = int(combined.loc[combined[name].isna(), COUNT].sum())
        if rows:
            problems.append((name, rows))
    if problems:
        parts = [
            f"'{column}' ({roles[column]}) in {rows} {'row' if rows == 1 else 'rows'}" for column, rows in problems
        ]
        raise BiasInputError(
            "Some rows have no value in a chosen column: "
            + "; ".join(parts)
            + ". Fill in or remove these rows (values such as NA, N/A, null or an empty cell count as missing)."
        )
