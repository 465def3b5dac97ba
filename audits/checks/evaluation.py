"""Evaluation results: parse an imported table of judged answers and summarise it against thresholds.

An evaluation file has one row per item: question, ground truth, model answer, a judge's score in
[0, 1] and the judge's explanation (CSV with a header row, or JSON Lines). Plain functions over
data: the Django side stores the items and the summary.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

# Accepted header names for each field (lower case); the first is the canonical one.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "item_id": ("id", "item_id", "item"),
    "question": ("question", "prompt", "input"),
    "ground_truth": ("ground_truth", "expected", "reference", "answer_expected"),
    "answer": ("answer", "output", "response", "model_answer"),
    "score": ("score", "judge_score", "rating"),
    "explanation": ("explanation", "judge_explanation", "rationale", "reason"),
}
REQUIRED = ("question", "answer", "score")
MAX_ITEMS = 200_000
WORST_ITEMS = 10


class EvaluationInputError(ValueError):
    """An evaluation file or item list that cannot be imported; the message says what to fix."""


@dataclass(frozen=True)
class EvaluationThresholds:
    min_mean_score: float = 0.8
    min_item_score: float = 0.5
    max_low_share: float = 0.1
    min_items: int = 30
    warn_margin: float = 0.02


@dataclass
class EvaluationItemData:
    position: int
    question: str
    answer: str
    score: float
    ground_truth: str = ""
    explanation: str = ""
    item_id: str = ""


@dataclass
class EvaluationSummary:
    metrics: dict[str, Any]
    verdict: str
    reasons: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)


def _canonical_columns(header: Iterable[str]) -> dict[str, str]:
    """Map canonical field → the header as written in the file."""
    found: dict[str, str] = {}
    for raw in header:
        name = (raw or "").strip().lower().replace(" ", "_")
        for canonical, aliases in COLUMN_ALIASES.items():
            if name in aliases and canonical not in found:
                found[canonical] = raw
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        names = ", ".join(f"“{m}”" for m in missing)
        available = ", ".join(f"“{h}”" for h in header if h) or "none"
        raise EvaluationInputError(f"The evaluation has no column for {names}. Columns found: {available}.")
    return found


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise EvaluationInputError(f"{where}: the score must be a number between 0 and 1, not {value!r}.")
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise EvaluationInputError(f"{where}: the score {value!r} is not a number between 0 and 1.") from None
    if math.isnan(score) or not 0.0 <= score <= 1.0:
        raise EvaluationInputError(f"{where}: the score {value!r} is outside [0, 1].")
    return score


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def items_from_rows(rows: Iterable[Mapping[str, Any]], header: Iterable[str] | None = None) -> list[EvaluationItemData]:
    """Validate rows (dicts keyed by the file's column names) into items; errors name the row and field."""
    items: list[EvaluationItemData] = []
    columns: dict[str, str] | None = _canonical_columns(header) if header is not None else None
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise EvaluationInputError(f"Item {number} is not an object with question, answer and score.")
        cols = columns if columns is not None else _canonical_columns(list(row.keys()))
        where = f"Item {number}"
        values = {canonical: row.get(raw) for canonical, raw in cols.items()}
        question, answer = _text(values.get("question")).strip(), _text(values.get("answer"))
        if not question:
            raise EvaluationInputError(f"{where}: the question is empty.")
        if values.get("answer") is None:
            raise EvaluationInputError(f"{where}: the answer is missing.")
        items.append(
            EvaluationItemData(
                position=number,
                question=question,
                answer=answer,
                score=_score(values.get("score"), where),
                ground_truth=_text(values.get("ground_truth")),
                explanation=_text(values.get("explanation")),
                item_id=_text(values.get("item_id"))[:200],
            )
        )
        if len(items) > MAX_ITEMS:
            raise EvaluationInputError(f"An evaluation may hold at most {MAX_ITEMS:,} items.")
    if not items:
        raise EvaluationInputError("The evaluation holds no items.")
    return items


BINARY_MAGIC = (b"PAR1", b"PK\x03\x04", b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff")


def parse_evaluation_file(stream: IO[bytes], filename: str) -> list[EvaluationItemData]:
    """Read a CSV (header row) or JSON Lines evaluation file."""
    head = stream.read(1024)
    stream.seek(0)
    if head.startswith(BINARY_MAGIC) or b"\x00" in head:
        raise EvaluationInputError(
            "The file is not a text table. Upload the evaluation as CSV (with a header row) or JSON Lines."
        )
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        if filename.lower().endswith((".jsonl", ".ndjson", ".json")):
            return _parse_json_lines(text)
        reader = csv.DictReader(text)
        header = reader.fieldnames
        if not header:
            raise EvaluationInputError("The file is empty: it needs a header row and one row per item.")
        return items_from_rows(reader, header)
    except UnicodeDecodeError:
        raise EvaluationInputError("The file is not UTF-8 text: export it as CSV or JSON Lines in UTF-8.") from None
    except csv.Error as exc:
        raise EvaluationInputError(f"The file is not valid CSV ({exc}).") from None
    finally:
        text.detach()  # the caller owns the binary stream


def _parse_json_lines(text: IO[str]) -> list[EvaluationItemData]:
    rows: list[Any] = []
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise EvaluationInputError(f"Line {number} is not valid JSON ({exc.msg}).") from None
    return items_from_rows(rows)


def _quantile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def summarise(scores: list[tuple[int, float]], thresholds: EvaluationThresholds) -> EvaluationSummary:
    """Summary statistics of (position, score) pairs and the verdict against the thresholds."""
    if not scores:
        raise EvaluationInputError("The evaluation holds no items.")
    values = sorted(score for _pos, score in scores)
    n = len(values)
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if n > 1 else 0.0
    # Normal-approximation interval of the mean: adequate for n ≥ 30, which the policy requires.
    half_width = 1.96 * stdev / math.sqrt(n) if n > 1 else 0.0
    low_items = [(pos, score) for pos, score in scores if score < thresholds.min_item_score]
    low_share = len(low_items) / n
    worst = sorted(scores, key=lambda item: (item[1], item[0]))[:WORST_ITEMS]
    metrics: dict[str, Any] = {
        "items": n,
        "mean": mean,
        "mean_ci": [max(0.0, mean - half_width), min(1.0, mean + half_width)],
        "median": _quantile(values, 0.5),
        "stdev": stdev,
        "min": values[0],
        "max": values[-1],
        "p10": _quantile(values, 0.1),
        "p90": _quantile(values, 0.9),
        "low_items": len(low_items),
        "low_share": low_share,
        "worst": [{"position": pos, "score": score} for pos, score in worst],
        "histogram": _histogram(values),
        "thresholds": thresholds.__dict__,
    }
    reasons: list[str] = []
    findings: list[dict[str, Any]] = []
    if n < thresholds.min_items:
        verdict = "inconclusive"
        reasons.append(f"Only {n} items were evaluated; the policy needs at least {thresholds.min_items}.")
    elif mean < thresholds.min_mean_score:
        verdict = "fail"
        reasons.append(f"The mean score {mean:.3f} is below the policy's minimum of {thresholds.min_mean_score:.3f}.")
        findings.append(
            {
                "severity": "high",
                "title": f"Mean evaluation score {mean:.3f} below {thresholds.min_mean_score:.3f}",
                "detail": reasons[-1],
                "evidence": {"mean": mean, "items": n, "mean_ci": metrics["mean_ci"]},
            }
        )
    elif mean < thresholds.min_mean_score + thresholds.warn_margin:
        verdict = "warn"
        reasons.append(f"The mean score {mean:.3f} is within {thresholds.warn_margin} of the policy's minimum.")
    else:
        verdict = "pass"
        reasons.append(f"The mean score {mean:.3f} meets the policy's minimum of {thresholds.min_mean_score:.3f}.")
    if low_items and n >= thresholds.min_items:
        share_text = f"{low_share:.1%}"
        breach = low_share > thresholds.max_low_share
        if breach and verdict in ("pass", "warn"):
            verdict = "fail"
        if breach:
            reasons.append(
                f"{len(low_items)} items ({share_text}) score below {thresholds.min_item_score}; "
                f"the policy allows at most {thresholds.max_low_share:.0%}."
            )
        findings.append(
            {
                "severity": "high" if breach else "low",
                "title": f"{len(low_items)} items scored below {thresholds.min_item_score}",
                "detail": f"{share_text} of the items score below {thresholds.min_item_score}.",
                "evidence": {"positions": [pos for pos, _score in low_items[:50]], "share": low_share},
            }
        )
    return EvaluationSummary(metrics=metrics, verdict=verdict, reasons=reasons, findings=findings)


def _histogram(sorted_values: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for value in sorted_values:
        counts[min(int(value * bins), bins - 1)] += 1
    return counts
