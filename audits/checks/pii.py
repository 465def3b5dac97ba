"""The PII leakage check: personal data in datasets, model outputs, prompts and transcripts, in Spanish and English.

Public API (the Django side needs nothing else)::

    PiiInputError(ValueError)       the one exception for bad input; str(error) is written for people
    PiiSettings(languages=("es", "en"), entities=None, allow_list=(), deny_list=(), score_threshold=0.4,
                ner_model_path=None, ner_model_sha256=None, sample_rows=None, max_bytes=None)
    PiiThresholds(fail_at="high", warn_at="medium", min_count=1)
    build_analyzer(settings) -> AnalyzerEngine                 (cached; offline)
    scan_text(text, settings, *, language=None) -> list[Hit]   (fast path + our filters)
    presidio_hits(text, settings, language, *, fast=True) -> list[Hit]   (Presidio's own results)
    presidio_reference(text, settings, language) -> list[Hit]  (= presidio_hits(..., fast=False))
    scan_table_chunks(chunks, settings, progress=None) -> PiiPartial    (DataFrames, e.g. tables.read_table_chunks)
    scan_table(source, settings, *, fmt=None, name="", progress=None) -> PiiPartial   (CSV / Parquet)
    scan_text_stream(source, settings, *, fmt="text" | "jsonl", name="", progress=None,
                     start_record=0) -> PiiPartial   (a path, a binary file, or an iterable of str lines)
    scan_prompt(template, examples=(), settings=PiiSettings()) -> PiiPartial
    merge(partials) -> PiiPartial ; PiiPartial.to_dict() / PiiPartial.from_dict(data)   (for Celery fan-out)
    judge(partial, thresholds=PiiThresholds()) -> PiiResult
    mask(value, entity) -> str ; masked_snippet(text, hit, hits) -> str
    detect_language(text, languages) -> str

``Hit`` is ``(entity, start, end, score)``. ``PiiResult.to_dict()`` holds only JSON types::

    {"check": "pii", "version": 1, "verdict": "pass" | "warn" | "fail" | "inconclusive",
     "reasons": [str],
     "findings": [{"severity": "high" | "medium" | "low", "title", "detail", "code": "pii_<entity>",
                   "entity", "evidence": {"count", "records", "columns": {column: count},
                                          "locations": [<location>], "snippets": [str]}}],
     "metrics": {"records", "characters", "bytes", "entities": {entity: {"count", "records", "severity"}},
                 "columns": {column: {"rows", "entities": {entity: count}, "main_entity"}},
                 "languages": {language: records}},
     "checked_entities": [str], "not_checked": [{"entity", "reason"}],
     "thresholds": {...}, "truncated": bool, "notes": [str]}
    <location> = {"row", "column"} (tables) | {"record", "offset"} (text, with "field" for JSONL)
               | {"part", "offset"} (prompts)

Evidence never holds personal data: values are masked by ``mask`` (never more than an initial, a
top-level domain or the last few characters), and snippets keep a little context with every hit
in them masked, every digit replaced by '#' and every capitalised word cut to its initial (names
are not detected without a NER model, so they are hidden wherever they might be).

Severity: ID numbers (ES_NIF, ES_NIE, ES_PASSPORT, ES_NSS, US_SSN) and bank or card numbers
(IBAN_CODE, ES_CCC, CREDIT_CARD) are high; PHONE_NUMBER, EMAIL_ADDRESS, PERSON and deny-listed
terms (DENY_LIST) are medium; ES_POSTCODE, ES_LICENSE_PLATE, URL, IP_ADDRESS and LOCATION are low.

Verdict: fail when an entity at or above ``fail_at`` severity was found ``min_count`` times or
more; warn for ``warn_at``; inconclusive when nothing could be scanned, or when the scan was cut
at ``max_bytes`` without finding anything; pass otherwise.

Filters applied after Presidio (the same on the fast path and on the reference): an URL inside an
e-mail address is dropped; where results of different types overlap the highest score wins (then
the higher severity, then the longer span); a value equal to an allow-list entry (case-insensitive;
an entry starting with '@' allows every address at that domain) is dropped; deny-list terms are
found case-insensitively as whole words and reported as DENY_LIST.

Records: a table is scanned per column (each column's values of a chunk form one text, one value
per line, so a match never spans two cells); text and JSONL are scanned per line (per string field
for JSONL), in batches of lines. Lines are read in blocks, so memory stays bounded whatever the
file size; one line longer than 1 MB is split at whitespace. ``max_bytes`` caps how much is read
and the result says so.

Modules: ``pii_recognizers`` (the recognizers and the offline analyzer), ``pii_fastpath`` (Presidio's
results computed around candidate spans only), ``pii_results`` (settings, partials, merging,
verdict, masking), ``tables`` (CSV/Parquet chunks).
"""

from __future__ import annotations

import bisect
import codecs
import gc
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import pandas as pd
import spacy
from presidio_analyzer import AnalyzerEngine

from audits.checks.pii_fastpath import analyze_fast
from audits.checks.pii_recognizers import LANGUAGES, NER_ENTITIES, build_engine, load_ner_model
from audits.checks.pii_results import (
    SEVERITY,
    SEVERITY_RANK,
    Hit,
    PiiInputError,
    PiiPartial,
    PiiResult,
    PiiSettings,
    PiiThresholds,
    judge,
    mask,
    masked_snippet,
    merge,
)
from audits.checks.tables import Source, TableError, read_table_chunks

__all__ = [
    "Hit",
    "PiiInputError",
    "PiiPartial",
    "PiiResult",
    "PiiSettings",
    "PiiThresholds",
    "build_analyzer",
    "detect_language",
    "judge",
    "mask",
    "masked_snippet",
    "merge",
    "presidio_hits",
    "presidio_reference",
    "scan_prompt",
    "scan_table",
    "scan_table_chunks",
    "scan_text",
    "scan_text_stream",
]


Progress = Callable[[float], None]
_BATCH_CHARS = 256 * 1024
_BLOCK_BYTES = 1024 * 1024
_MAX_RECORD_CHARS = 1024 * 1024
_SNIFF_BYTES = 64 * 1024


@lru_cache(maxsize=8)
def _engine(languages: tuple[str, ...], ner_model_path: str | None, ner_model_sha256: str | None) -> AnalyzerEngine:
    ner_models = None
    if ner_model_path and ner_model_sha256:
        model = load_ner_model(ner_model_path, ner_model_sha256)
        ner_models = dict.fromkeys(languages, model)
    return build_engine(languages, ner_models=ner_models)


def build_analyzer(settings: PiiSettings) -> AnalyzerEngine:
    """The Presidio analyzer for these settings, built once per process (nothing is downloaded)."""
    try:
        return _engine(settings.languages, settings.ner_model_path, settings.ner_model_sha256)
    except (OSError, ValueError) as error:
        raise PiiInputError(str(error)) from None


def _entities(settings: PiiSettings, language: str) -> list[str]:
    supported = build_analyzer(settings).get_supported_entities(language)
    if settings.entities is None:
        return sorted(supported)
    return sorted(entity for entity in settings.entities if entity in supported)


def checked_entities(settings: PiiSettings) -> list[str]:
    """Every entity type some configured language looks for."""
    return sorted({entity for language in settings.languages for entity in _entities(settings, language)})


def not_checked(settings: PiiSettings) -> list[dict[str, str]]:
    """NER entity types left out, with the reason, so the result can say so plainly."""
    if settings.ner_model_path:
        return []
    return [
        {
            "entity": entity,
            "reason": "Not checked: finding names and places needs a language model, and none is configured.",
        }
        for entity in NER_ENTITIES
        if settings.entities is None or entity in settings.entities
    ]


_STOPWORDS = {language: spacy.blank(language).Defaults.stop_words for language in LANGUAGES}
_WORDS = re.compile(r"[^\W\d_]+")


def detect_language(text: str, languages: Sequence[str] = LANGUAGES) -> str:
    """The configured language whose stop words are most frequent in the text (the first on a tie)."""
    if len(languages) == 1:
        return languages[0]
    words = [word.lower() for word in _WORDS.findall(text[:2000])]
    scores = {language: sum(word in _STOPWORDS[language] for word in words) for language in languages}
    if any(character in text[:2000] for character in "ñáéíóúü¿¡"):
        scores["es"] = scores.get("es", 0) + 2 if "es" in scores else 0
    return max(languages, key=lambda language: scores[language])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector paused for the length of one analysis.

    An analysis allocates hundreds of thousands of short-lived objects, freed by reference
    counting, while the fast path's memo tables keep growing: left running, the collector
    starts every 700 allocations and every few batches walks every object of the process
    (11% of the fast path's time, measured). Paused, it runs once after the call.
    Presidio's own analysis (``fast=False``) is paused alike, so the two compare fairly.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def presidio_hits(text: str, settings: PiiSettings, language: str, *, fast: bool = True) -> list[Hit]:
    """Presidio's results for the whole text, sorted; ``fast`` computes them around candidate spans only."""
    with _collector_paused():
        return _presidio_hits(text, settings, language, fast=fast)


def _presidio_hits(text: str, settings: PiiSettings, language: str, *, fast: bool) -> list[Hit]:
    engine = build_analyzer(settings)
    entities = [entity for entity in _entities(settings, language) if entity not in NER_ENTITIES]
    if fast:
        results = analyze_fast(engine, text, language, entities=entities, score_threshold=settings.score_threshold)
    else:
        results = engine.analyze(text, language, entities=entities, score_threshold=settings.score_threshold)
    if settings.ner_model_path:
        ner = [entity for entity in _entities(settings, language) if entity in NER_ENTITIES]
        if ner:
            results += engine.analyze(text, language, entities=ner, score_threshold=settings.score_threshold)
    return sorted(Hit(result.entity_type, result.start, result.end, round(result.score, 6)) for result in results)


def presidio_reference(text: str, settings: PiiSettings, language: str) -> list[Hit]:
    """Presidio's analyzer run plainly on the whole text (the reference the fast path must equal)."""
    return presidio_hits(text, settings, language, fast=False)


def _allowed(value: str, allow: set[str]) -> bool:
    lowered = value.lower()
    return lowered in allow or ("@" in lowered and "@" + lowered.rsplit("@", 1)[1] in allow)


@lru_cache(maxsize=32)
def _deny_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True) if term)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if alternatives else None


def filter_hits(text: str, hits: Sequence[Hit], settings: PiiSettings) -> list[Hit]:
    """Our filters on Presidio's results: known false positives, overlaps, allow- and deny-lists."""
    emails = [hit for hit in hits if hit.entity == "EMAIL_ADDRESS"]
    kept = [
        hit
        for hit in hits
        if not (hit.entity == "URL" and any(e.start <= hit.start and hit.end <= e.end for e in emails))
    ]
    allow = {entry.lower() for entry in settings.allow_list}
    kept = [hit for hit in kept if not _allowed(text[hit.start : hit.end], allow)]
    pattern = _deny_pattern(settings.deny_list)
    if pattern is not None:
        kept += [Hit("DENY_LIST", match.start(), match.end(), 1.0) for match in pattern.finditer(text)]
    # Overlapping results of different types: one piece of data is one finding.
    ranked = sorted(
        kept, key=lambda hit: (-hit.score, -SEVERITY_RANK.get(SEVERITY.get(hit.entity, "low"), 1), hit.start - hit.end)
    )
    chosen: list[Hit] = []
    for hit in ranked:
        if all(hit.end <= other.start or other.end <= hit.start for other in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda hit: (hit.start, hit.end, hit.entity))


def scan_text(text: str, settings: PiiSettings, *, language: str | None = None) -> list[Hit]:
    """The personal data in one text (fast path equal to Presidio on the whole text, then our filters)."""
    if not isinstance(text, str):
        raise PiiInputError("The PII check reads text; this input is not text.")
    if not text.strip():
        return []
    language = language or detect_language(text, settings.languages)
    return filter_hits(text, presidio_hits(text, settings, language), settings)


def _new_partial(settings: PiiSettings) -> PiiPartial:
    return PiiPartial(checked=checked_entities(settings), not_checked=not_checked(settings))


def _scan_lines(
    partial: PiiPartial, lines: Sequence[str], locations: Sequence[dict[str, Any]], settings: PiiSettings
) -> dict[int, dict[str, int]]:
    """Scan records as one text, one per line; per record index, the count of each entity found."""
    # A line break inside a record would let a match run into the next record: flatten them.
    records = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    text = "\n".join(records)
    starts = []
    position = 0
    for record in records:
        starts.append(position)
        position += len(record) + 1
    language = detect_language(text, settings.languages)
    partial.languages[language] = partial.languages.get(language, 0) + len(records)
    hits = scan_text(text, settings, language=language) if text.strip() else []
    per_record: dict[int, list[Hit]] = {}
    for hit in hits:
        index = bisect.bisect_right(starts, hit.start) - 1
        if hit.end > starts[index] + len(records[index]):
            continue  # spans two records
        local = Hit(hit.entity, hit.start - starts[index], hit.end - starts[index], hit.score)
        per_record.setdefault(index, []).append(local)
    counts: dict[int, dict[str, int]] = {}
    for index, record_hits in sorted(per_record.items()):
        by_entity: dict[str, list[Hit]] = {}
        for hit in record_hits:
            by_entity.setdefault(hit.entity, []).append(hit)
        counts[index] = {entity: len(found) for entity, found in by_entity.items()}
        for entity, found in by_entity.items():
            location = {**locations[index], "offset": found[0].start}
            partial.add(entity, len(found), location, masked_snippet(records[index], found[0], record_hits))
    return counts


def scan_table_chunks(
    chunks: Iterable[pd.DataFrame], settings: PiiSettings, progress: Progress | None = None, *, start_row: int = 0
) -> PiiPartial:
    """Per column, which entities its values hold and where; rows are numbered from ``start_row``."""
    partial = _new_partial(settings)
    row = start_row
    for chunk in chunks:
        if not isinstance(chunk, pd.DataFrame):
            raise PiiInputError("The PII check reads tables as pandas DataFrames.")
        if settings.sample_rows is not None:
            remaining = settings.sample_rows - (row - start_row)
            if remaining <= 0:
                partial.truncated = True
                partial.notes.append(f"Only the first {settings.sample_rows} rows were scanned (a sample).")
                break
            chunk = chunk.iloc[:remaining]
        for column in chunk.columns:
            name = str(column)
            info = partial.columns.setdefault(name, {"rows": 0, "entities": {}})
            values = chunk[column]
            info["rows"] += len(values)
            if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
                note = f"The column '{name}' holds decimal numbers or booleans, which carry no personal data; skipped."
                if note not in partial.notes:
                    partial.notes.append(note)
                continue
            present = values.dropna()
            lines = [str(value) for value in present.tolist()]
            positions = [row + int(index) for index in range(len(values)) if not pd.isna(values.iloc[index])]
            for batch_start in range(0, len(lines), 20_000):
                batch = lines[batch_start : batch_start + 20_000]
                locations = [{"row": r, "column": name} for r in positions[batch_start : batch_start + 20_000]]
                partial.characters += sum(len(line) for line in batch)
                for found in _scan_lines(partial, batch, locations, settings).values():
                    for entity, count in found.items():
                        info["entities"][entity] = info["entities"].get(entity, 0) + count
        row += len(chunk)
        partial.records = row - start_row
        if progress is not None:
            progress(min(1.0, float(getattr(chunks, "fraction", 0.0))))
    for info in partial.columns.values():
        info["main_entity"] = max(info["entities"], key=info["entities"].get) if info["entities"] else None
    if progress is not None:
        progress(1.0)
    return partial


def scan_table(
    source: Source, settings: PiiSettings, *, fmt: str | None = None, name: str = "", progress: Progress | None = None
) -> PiiPartial:
    """The PII scan of a CSV or Parquet file, read in chunks; values are read as written in the file."""
    try:
        head = read_table_chunks(source, fmt=fmt, name=name)
        columns = list(head.columns)
        head.close()
        if not isinstance(source, str | os.PathLike):
            source.seek(0)
        chunks = read_table_chunks(source, fmt=fmt, name=name, text_columns=columns, chunk_rows=50_000)
        return scan_table_chunks(chunks, settings, progress)
    except TableError as error:
        raise PiiInputError(str(error)) from None


def _open_binary(source: Source | Iterable[str], name: str) -> tuple[IO[bytes] | None, Iterable[str] | None, str]:
    if isinstance(source, str | os.PathLike):
        display = name or Path(source).name
        try:
            return open(source, "rb"), None, display
        except OSError as error:
            raise PiiInputError(f"The file '{display}' cannot be opened: {error.strerror}.") from None
    if hasattr(source, "read"):
        return source, None, name or Path(str(getattr(source, "name", "") or "")).name or "uploaded file"  # type: ignore[return-value]
    return None, source, name or "text"


def _decoded_lines(handle: IO[bytes], display: str, partial: PiiPartial, max_bytes: int | None) -> Iterator[str]:
    """Lines of a binary file decoded as UTF-8, read in blocks; bad bytes are replaced and counted."""
    head = handle.read(_SNIFF_BYTES)
    if isinstance(head, str):
        raise PiiInputError("The file was opened as text; open it in binary mode ('rb') so it can be scanned.")
    if not head:
        raise PiiInputError(f"The file '{display}' is empty: there is nothing to scan.")
    if b"\x00" in head:
        raise PiiInputError(
            f"The file '{display}' holds binary data, not text, so it cannot be scanned for personal data. "
            "Export it as text, CSV, JSON Lines or Parquet."
        )
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    block = head
    replaced = 0
    while block:
        if max_bytes is not None and partial.bytes + len(block) > max_bytes:
            block = block[: max(0, max_bytes - partial.bytes)]
            partial.truncated = True
        partial.bytes += len(block)
        text = decoder.decode(block, final=False)
        replaced += text.count("\ufffd")
        pending += text
        lines = pending.split("\n")
        pending = lines.pop()
        yield from lines
        while len(pending) > _MAX_RECORD_CHARS:
            cut = pending.rfind(" ", 0, _MAX_RECORD_CHARS)
            cut = cut if cut > 0 else _MAX_RECORD_CHARS
            yield pending[:cut]
            pending = pending[cut:]
        if partial.truncated:
            break
        block = handle.read(_BLOCK_BYTES)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
    if replaced:
        share = replaced / max(partial.bytes, 1)
        if share > 0.05:
            raise PiiInputError(
                f"The file '{display}' is not readable text: {replaced} of its bytes are not UTF-8. "
                "Save it as UTF-8 text and upload it again."
            )
        partial.notes.append(
            f"{replaced} bytes of '{display}' are not valid UTF-8 and were skipped; the rest was scanned."
        )
    if partial.truncated:
        partial.notes.append(
            f"Only the first {partial.bytes / 1e6:.1f} MB of '{display}' were scanned (the configured limit)."
        )


def _jsonl_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "$", value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _jsonl_fields(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _jsonl_fields(item, f"{path}[{index}]")
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path or "$", str(value)


def scan_text_stream(
    source: Source | Iterable[str],
    settings: PiiSettings,
    *,
    fmt: str = "text",
    name: str = "",
    progress: Progress | None = None,
    start_record: int = 0,
) -> PiiPartial:
    """Personal data in plain text (a record per line) or JSON Lines (a record per line, per string field)."""
    if fmt not in ("text", "jsonl"):
        raise PiiInputError(f"Unknown text format '{fmt}'. Use 'text' or 'jsonl'.")
    partial = _new_partial(settings)
    handle, iterable, display = _open_binary(source, name)
    owned = isinstance(source, str | os.PathLike)
    size = 0
    if handle is not None and hasattr(handle, "seekable") and handle.seekable():
        here = handle.tell()
        size = handle.seek(0, io.SEEK_END) - here
        handle.seek(here)
    lines: Iterable[str] = (
        _decoded_lines(handle, display, partial, settings.max_bytes) if handle is not None else iterable or ()
    )
    batch: list[str] = []
    locations: list[dict[str, Any]] = []
    batch_chars = 0
    bad_json = 0
    record = start_record

    def flush() -> None:
        nonlocal batch, locations, batch_chars
        if batch:
            partial.characters += batch_chars
            _scan_lines(partial, batch, locations, settings)
        batch, locations, batch_chars = [], [], 0
        if progress is not None and size:
            progress(min(1.0, partial.bytes / size))

    try:
        for line in lines:
            if handle is None:
                partial.bytes += len(line.encode("utf-8", "replace")) + 1
                if settings.max_bytes is not None and partial.bytes > settings.max_bytes:
                    partial.truncated = True
                    partial.notes.append(f"Only the first {settings.max_bytes / 1e6:.1f} MB were scanned (the limit).")
                    break
            line = line.rstrip("\r")
            if fmt == "jsonl":
                if not line.strip():
                    continue
                try:
                    fields = list(_jsonl_fields(json.loads(line)))
                except ValueError:
                    bad_json += 1
                    record += 1
                    continue
                for path, value in fields:
                    batch.append(value)
                    locations.append({"record": record, "field": path})
                    batch_chars += len(value)
            else:
                batch.append(line)
                locations.append({"record": record})
                batch_chars += len(line)
            record += 1
            if batch_chars >= _BATCH_CHARS:
                flush()
        flush()
    finally:
        if owned and handle is not None:
            handle.close()
    partial.records = record - start_record
    if bad_json:
        if bad_json == partial.records:
            raise PiiInputError(f"The file '{display}' is not JSON Lines: no line could be read as JSON.")
        partial.notes.append(f"{bad_json} lines of '{display}' are not valid JSON and were skipped.")
    if partial.records == 0 or partial.characters == 0:
        partial.notes.append(f"'{display}' holds no text to scan.")
    if progress is not None:
        progress(1.0)
    return partial


def scan_prompt(template: str, examples: Sequence[str] = (), settings: PiiSettings | None = None) -> PiiPartial:
    """Personal data in a prompt version: its template and each of its examples."""
    settings = settings or PiiSettings()
    partial = _new_partial(settings)
    parts = [("template", template), *((f"example {index}", text) for index, text in enumerate(examples, 1))]
    for part, text in parts:
        if not isinstance(text, str):
            raise PiiInputError(f"The prompt's {part} is not text.")
        partial.records += 1
        partial.characters += len(text)
        hits = scan_text(text, settings)
        by_entity: dict[str, list[Hit]] = {}
        for hit in hits:
            by_entity.setdefault(hit.entity, []).append(hit)
        for entity, found in by_entity.items():
            partial.add(
                entity, len(found), {"part": part, "offset": found[0].start}, masked_snippet(text, found[0], hits)
            )
    return partial
