"""The PII check's settings, partial results, merging, verdict and masking: everything that is not scanning.

See ``audits.checks.pii`` for the public API and the result's shape; this module holds the parts
that need no analyzer, so a worker merging partial results or judging them loads no Presidio.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from audits.checks.pii_recognizers import LANGUAGES

SEVERITY = {
    "ES_NIF": "high",
    "ES_NIE": "high",
    "ES_PASSPORT": "high",
    "ES_NSS": "high",
    "US_SSN": "high",
    "IBAN_CODE": "high",
    "ES_CCC": "high",
    "CREDIT_CARD": "high",
    "PHONE_NUMBER": "medium",
    "EMAIL_ADDRESS": "medium",
    "PERSON": "medium",
    "DENY_LIST": "medium",
    "ES_POSTCODE": "low",
    "ES_LICENSE_PLATE": "low",
    "URL": "low",
    "IP_ADDRESS": "low",
    "LOCATION": "low",
}
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
LABELS = {
    "ES_NIF": "Spanish DNI/NIF numbers",
    "ES_NIE": "Spanish NIE numbers",
    "ES_PASSPORT": "Spanish passport numbers",
    "ES_NSS": "Spanish social security numbers",
    "US_SSN": "US social security numbers",
    "IBAN_CODE": "IBAN bank account numbers",
    "ES_CCC": "Spanish bank account numbers (CCC)",
    "CREDIT_CARD": "credit card numbers",
    "PHONE_NUMBER": "phone numbers",
    "EMAIL_ADDRESS": "e-mail addresses",
    "PERSON": "names of people",
    "DENY_LIST": "deny-listed terms",
    "ES_POSTCODE": "Spanish postcodes",
    "ES_LICENSE_PLATE": "Spanish licence plates",
    "URL": "web addresses (URLs)",
    "IP_ADDRESS": "IP addresses",
    "LOCATION": "places",
}
MAX_SAMPLES = 5
_SNIPPET_CONTEXT = 30


class PiiInputError(ValueError):
    """The input cannot be scanned for personal data; the message says why, for people."""


class Hit(NamedTuple):
    """One piece of personal data found: its type, where it is in the text, and Presidio's score."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class PiiSettings:
    """What to look for and how; one per AI system (allow- and deny-lists are the system's own)."""

    languages: tuple[str, ...] = LANGUAGES
    entities: tuple[str, ...] | None = None
    allow_list: tuple[str, ...] = ()
    deny_list: tuple[str, ...] = ()
    score_threshold: float = 0.4
    ner_model_path: str | None = None
    ner_model_sha256: str | None = None
    sample_rows: int | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        unknown = [language for language in self.languages if language not in LANGUAGES]
        if unknown or not self.languages:
            raise PiiInputError(f"The PII check supports Spanish ('es') and English ('en'), not {unknown or 'none'}.")
        if self.ner_model_path and not self.ner_model_sha256:
            raise PiiInputError("A NER model needs its pinned SHA-256 hash; without it the model is not loaded.")
        for name in ("allow_list", "deny_list", "languages"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.entities is not None:
            object.__setattr__(self, "entities", tuple(self.entities))


@dataclass(frozen=True)
class PiiThresholds:
    """The policy: the severity from which findings fail or warn, and how many hits it takes."""

    fail_at: str = "high"
    warn_at: str = "medium"
    min_count: int = 1


def mask(value: str, entity: str) -> str:
    """The value with nearly every character hidden: an e-mail keeps its initials and top-level domain,
    anything else keeps its separators and at most its last few characters (never more than a third)."""
    if entity == "EMAIL_ADDRESS" and "@" in value:
        local, _, domain = value.rpartition("@")
        name, dot, tld = domain.rpartition(".")
        # A fixed number of stars, so the mask does not even give away the lengths.
        hidden_domain = (name[:1] + "***" + dot + tld) if dot else domain[:1] + "***"
        return f"{local[:1]}***@{hidden_domain}"
    alnum = sum(character.isalnum() for character in value)
    reveal = min(4, alnum // 3) if alnum >= 8 else 0
    out = []
    seen = 0
    for character in value:
        if character.isalnum():
            seen += 1
            out.append(character if seen > alnum - reveal else "*")
        else:
            out.append(character)
    return "".join(out)


_CAPITALISED = re.compile(r"\b([^\W\d_])[^\W\d_]*")


def _blur(text: str) -> str:
    """Context around a hit with digits and capitalised words (possible names) hidden."""
    text = re.sub(r"\d", "#", text)
    return _CAPITALISED.sub(lambda m: m.group(1) + "." if m.group(1).isupper() else m.group(0), text)


def masked_text(text: str, hits: Sequence[Hit], limit: int = 240) -> str:
    """The start of ``text`` (at most ``limit`` characters) with every hit masked and the rest blurred."""
    end = min(len(text), limit)
    parts, position = [], 0
    for hit in sorted(hits):
        if hit.start < position or hit.start >= end:
            continue
        parts.append(_blur(text[position : hit.start]))
        parts.append(f"[{mask(text[hit.start : hit.end], hit.entity)}]")
        position = hit.end
    if position < end:
        parts.append(_blur(text[position:end]))
    masked = "".join(parts).replace("\n", " ").replace("\r", " ")
    return masked + ("…" if len(text) > max(end, position) else "")


def masked_snippet(text: str, hit: Hit, hits: Sequence[Hit]) -> str:
    """A little context around ``hit`` with it, and every other hit in the window, masked."""
    start, end = max(0, hit.start - _SNIPPET_CONTEXT), min(len(text), hit.end + _SNIPPET_CONTEXT)
    inside = sorted(other for other in hits if other.start < end and other.end > start)
    parts = []
    position = start
    for other in inside:
        other_start, other_end = max(other.start, start), min(other.end, end)
        if other_start < position:
            continue
        parts.append(_blur(text[position:other_start]))
        parts.append(f"[{mask(text[other.start : other.end], other.entity)}]" if other_start == other.start else "…")
        position = other_end
    parts.append(_blur(text[position:end]))
    snippet = "".join(parts).replace("\n", " ").replace("\r", " ")
    return ("…" if start > 0 else "") + snippet + ("…" if end < len(text) else "")


@dataclass
class PiiPartial:
    """Counts and masked samples from part of a target; partials merge into one (see ``merge``)."""

    records: int = 0
    characters: int = 0
    bytes: int = 0
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)
    not_checked: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    truncated: bool = False

    def add(self, entity: str, count: int, location: dict[str, Any], snippet: str) -> None:
        totals = self.entities.setdefault(entity, {"count": 0, "records": 0})
        totals["count"] += count
        totals["records"] += 1
        samples = self.samples.setdefault(entity, [])
        if len(samples) < MAX_SAMPLES:
            samples.append({"location": location, "snippet": snippet})

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "characters": self.characters,
            "bytes": self.bytes,
            "entities": self.entities,
            "columns": self.columns,
            "samples": self.samples,
            "languages": self.languages,
            "checked": self.checked,
            "not_checked": self.not_checked,
            "notes": self.notes,
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PiiPartial:
        return cls(**{key: json.loads(json.dumps(value)) for key, value in data.items()})


def merge(partials: Iterable[PiiPartial]) -> PiiPartial:
    """One partial from several (chunks of a file scanned by different workers), in the given order."""
    total = PiiPartial()
    for partial in partials:
        total.records += partial.records
        total.characters += partial.characters
        total.bytes += partial.bytes
        total.truncated = total.truncated or partial.truncated
        for entity, counts in partial.entities.items():
            mine = total.entities.setdefault(entity, {"count": 0, "records": 0})
            mine["count"] += counts["count"]
            mine["records"] += counts["records"]
        for entity, samples in partial.samples.items():
            mine_samples = total.samples.setdefault(entity, [])
            mine_samples.extend(samples[: MAX_SAMPLES - len(mine_samples)])
        for column, info in partial.columns.items():
            current = total.columns.setdefault(column, {"rows": 0, "entities": {}})
            current["rows"] += info["rows"]
            for entity, count in info["entities"].items():
                current["entities"][entity] = current["entities"].get(entity, 0) + count
        for language, count in partial.languages.items():
            total.languages[language] = total.languages.get(language, 0) + count
        total.checked = sorted(set(total.checked) | set(partial.checked))
        for item in partial.not_checked:
            if item not in total.not_checked:
                total.not_checked.append(item)
        for note in partial.notes:
            if note not in total.notes:
                total.notes.append(note)
    return total


@dataclass
class PiiResult:
    """The judged outcome of a PII scan: verdict, reasons, findings with masked evidence, metrics."""

    verdict: str
    reasons: list[str]
    findings: list[dict[str, Any]]
    metrics: dict[str, Any]
    checked_entities: list[str]
    not_checked: list[dict[str, str]]
    thresholds: dict[str, Any]
    truncated: bool
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": "pii",
            "version": 1,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "findings": self.findings,
            "metrics": self.metrics,
            "checked_entities": self.checked_entities,
            "not_checked": self.not_checked,
            "thresholds": self.thresholds,
            "truncated": self.truncated,
            "notes": self.notes,
        }


def judge(partial: PiiPartial, thresholds: PiiThresholds | None = None) -> PiiResult:
    """The verdict and findings of a (merged) scan against the policy."""
    thresholds = thresholds or PiiThresholds()
    if thresholds.fail_at not in SEVERITY_RANK or thresholds.warn_at not in SEVERITY_RANK:
        raise PiiInputError("Severity thresholds must be 'high', 'medium' or 'low'.")
    findings: list[dict[str, Any]] = []
    for entity, counts in sorted(
        partial.entities.items(),
        key=lambda item: (-SEVERITY_RANK[SEVERITY.get(item[0], "low")], -item[1]["count"], item[0]),
    ):
        severity = SEVERITY.get(entity, "low")
        label = LABELS.get(entity, entity)
        columns = {
            column: info["entities"][entity] for column, info in partial.columns.items() if entity in info["entities"]
        }
        where = f" in {len(columns)} column(s): {', '.join(sorted(columns))}" if columns else ""
        findings.append(
            {
                "severity": severity,
                "title": f"{counts['count']} {label} found",
                "detail": f"{counts['count']} {label} in {counts['records']} record(s){where}.",
                "code": f"pii_{entity.lower()}",
                "entity": entity,
                "evidence": {
                    "count": counts["count"],
                    "records": counts["records"],
                    "columns": columns,
                    "locations": [sample["location"] for sample in partial.samples.get(entity, [])],
                    "snippets": [sample["snippet"] for sample in partial.samples.get(entity, [])],
                },
            }
        )

    def breaching(level: str) -> list[dict[str, Any]]:
        return [
            finding
            for finding in findings
            if SEVERITY_RANK[finding["severity"]] >= SEVERITY_RANK[level]
            and finding["evidence"]["count"] >= thresholds.min_count
        ]

    reasons = []
    if partial.characters == 0:
        verdict = "inconclusive"
        reasons.append("Nothing was scanned: the input holds no text.")
    elif breaching(thresholds.fail_at):
        verdict = "fail"
        reasons += [finding["detail"] for finding in breaching(thresholds.fail_at)]
    elif breaching(thresholds.warn_at):
        verdict = "warn"
        reasons += [finding["detail"] for finding in breaching(thresholds.warn_at)]
    elif partial.truncated and not findings:
        verdict = "inconclusive"
        reasons.append("No personal data was found in the part scanned, but the scan stopped at the size limit.")
    else:
        verdict = "pass"
        reasons.append(
            "No personal data at or above the policy's severity was found."
            if findings
            else "No personal data of the checked types was found."
        )
    if partial.not_checked:
        reasons.append(
            "Not checked: " + ", ".join(item["entity"] for item in partial.not_checked) + " (no language model)."
        )
    metrics = {
        "records": partial.records,
        "characters": partial.characters,
        "bytes": partial.bytes,
        "entities": {
            entity: {**counts, "severity": SEVERITY.get(entity, "low")} for entity, counts in partial.entities.items()
        },
        "columns": partial.columns,
        "languages": partial.languages,
    }
    return PiiResult(
        verdict=verdict,
        reasons=reasons,
        findings=findings,
        metrics=metrics,
        checked_entities=list(partial.checked),
        not_checked=list(partial.not_checked),
        thresholds={"fail_at": thresholds.fail_at, "warn_at": thresholds.warn_at, "min_count": thresholds.min_count},
        truncated=partial.truncated,
        notes=list(partial.notes),
    )
