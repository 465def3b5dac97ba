"""Presidio's analysis of a text, computed only around the places where personal data can be.

``analyze_fast(engine, text, language, entities, score_threshold)`` returns exactly what
``engine.analyze(text, language, entities=entities, score_threshold=score_threshold)`` returns
(entity type, start, end and score of every result), at a small fraction of the cost. Presidio
spends its time running every recognizer over every character — nine passes of the phone
matcher alone — and, for context words, tokenizing the whole text and scanning the whole token
list once per result. Every match of our recognizers contains a trigger character that is cheap
to find (a digit; '@' for e-mail; a dot before a letter for URLs; a digit or ':' for IP
addresses), so:

1. each recognizer runs once per call on a compact text made of the whitespace-delimited runs
   that hold its trigger, widened by a margin of neighbouring text, joined by blank lines;
2. a result that touches the edge of its window could have been cut short, so the recognizer is
   run again with a margin four times as wide (and in the end on the whole text) until none does;
3. context words are scored by Presidio's own enhancer on small batches of windows reaching back
   over enough words (checked: the enhancer's backward walk must collect its words inside the
   window, or the window must start at the beginning of the text; otherwise it is widened);
   results already at the maximum score are left out, since context cannot change them;
4. low scores and duplicates are removed with Presidio's own rules.

Windows are cut only at whitespace, where neither spaCy's tokenizer nor a regex ``\\b`` sees a
difference between the window and the whole text. The equivalence tests compare this function
with ``engine.analyze`` on generated corpora.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

_SEPARATOR = "\n\n"
_DIGIT_RUNS = re.compile(r"(?<!\S)\S*?[0-9]\S*")
_AT_RUNS = re.compile(r"(?<!\S)\S*?@\S*")
_DOT_RUNS = re.compile(r"(?<!\S)\S*?\.[^\W\d_]\S*")
_COLON_RUNS = re.compile(r"(?<!\S)\S*?:\S*")
# Which runs each recognizer can match in; a recognizer not listed runs on the whole text.
_TRIGGERS: dict[str, tuple[re.Pattern[str], ...]] = {
    "EMAIL_ADDRESS": (_AT_RUNS,),
    "URL": (_DOT_RUNS,),
    "IP_ADDRESS": (_DIGIT_RUNS, _COLON_RUNS),
}
_DIGIT_ENTITIES = {
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "ES_NIF",
    "ES_NIE",
    "ES_PASSPORT",
    "ES_NSS",
    "ES_CCC",
    "ES_LICENSE_PLATE",
    "ES_POSTCODE",
    "US_SSN",
}
_BASE_MARGIN = 16
_CONTEXT_REACH = 64
# Presidio looks a result's token up from the start of the document, so batches stay small.
_CONTEXT_BATCH = 16


@dataclass
class _Window:
    start: int  # in the original text
    end: int
    offset: int = 0  # where it starts in the compact text


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) outwards to whitespace (or the ends of the text)."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    length = len(text)
    while end < length and not text[end].isspace():
        end += 1
    return start, end


def _windows(text: str, spans: Iterable[tuple[int, int]], margin: int) -> list[_Window]:
    merged: list[_Window] = []
    for span_start, span_end in sorted(spans):
        start, end = _snap(text, max(0, span_start - margin), min(len(text), span_end + margin))
        if merged and start <= merged[-1].end + len(_SEPARATOR):
            merged[-1].end = max(merged[-1].end, end)
        else:
            merged.append(_Window(start, end))
    return merged


def _compact(text: str, windows: list[_Window]) -> str:
    parts = []
    offset = 0
    for window in windows:
        window.offset = offset
        parts.append(text[window.start : window.end])
        offset += window.end - window.start + len(_SEPARATOR)
    return _SEPARATOR.join(parts)


def _locate(windows: Sequence[_Window], offsets: Sequence[int], position: int) -> int:
    return bisect.bisect_right(offsets, position) - 1


def _trigger_spans(text: str, entities: Iterable[str]) -> list[tuple[int, int]] | None:
    """Runs that can hold a match of a recognizer of ``entities``; None when the whole text must be read."""
    patterns: list[re.Pattern[str]] = []
    for entity in entities:
        if entity in _TRIGGERS:
            patterns.extend(_TRIGGERS[entity])
        elif entity in _DIGIT_ENTITIES:
            patterns.append(_DIGIT_RUNS)
        else:
            return None
    spans: set[tuple[int, int]] = set()
    for pattern in dict.fromkeys(patterns):
        spans.update(match.span() for match in pattern.finditer(text))
    return sorted(spans)


def _run_windowed(
    recognizer: EntityRecognizer, text: str, entities: list[str], spans: list[tuple[int, int]]
) -> list[RecognizerResult]:
    """The recognizer's results on the whole text, computed on windows around ``spans``."""
    margin = _BASE_MARGIN
    while margin < len(text):
        windows = _windows(text, spans, margin)
        compact = _compact(text, windows)
        offsets = [window.offset for window in windows]
        found = recognizer.analyze(text=compact, entities=entities, nlp_artifacts=None) or []  # type: ignore[arg-type]
        results = []
        clean = True
        for result in found:
            index = _locate(windows, offsets, result.start)
            window = windows[index]
            local_start, local_end = result.start - window.offset, result.end - window.offset
            if local_end > window.end - window.start:
                clean = False  # crosses a separator
                break
            if (local_start == 0 and window.start > 0) or (
                local_end == window.end - window.start and window.end < len(text)
            ):
                clean = False  # touches a cut: the match may be longer in the whole text
                break
            result.start, result.end = window.start + local_start, window.start + local_end
            results.append(result)
        if clean:
            return results
        margin *= 4
    return recognizer.analyze(text=text, entities=entities, nlp_artifacts=None) or []  # type: ignore[arg-type]


def _walks_inside(
    enhancer: LemmaContextAwareEnhancer, artifacts: Any, start: int, first_token: int, last_token: int
) -> tuple[bool, bool]:
    """Whether the enhancer's backward and forward walks from ``start`` end within tokens [first, last)."""
    tokens_indices, tokens, lemmas = artifacts.tokens_indices, artifacts.tokens, artifacts.lemmas
    keywords = set(artifacts.keywords)
    index = first_token
    while index < last_token and not (
        tokens_indices[index] == start or start < tokens_indices[index] + len(tokens[index])
    ):
        index += 1
    inside = []
    for step, needed in ((-1, enhancer.context_prefix_count + 1), (1, enhancer.context_suffix_count + 1)):
        position = index
        while needed and first_token <= position < last_token:
            if lemmas[position].lower() in keywords:
                needed -= 1
            position += step
        inside.append(needed == 0)
    return inside[0], inside[1]


def _enhance(
    engine: AnalyzerEngine,
    text: str,
    language: str,
    results: list[RecognizerResult],
    recognizers: list[EntityRecognizer],
) -> list[RecognizerResult]:
    """Presidio's context enhancement of ``results``, each computed on a window of text around it."""
    enhancer = engine.context_aware_enhancer
    with_context = {recognizer.id for recognizer in recognizers if recognizer.context}

    def needs_context(result: RecognizerResult) -> bool:
        identifier = result.recognition_metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
        return result.score < 1.0 and identifier in with_context

    pending = sorted((result for result in results if needs_context(result)), key=lambda result: result.start)
    done = [result for result in results if not needs_context(result)]
    if not isinstance(enhancer, LemmaContextAwareEnhancer):
        # Another enhancer's reach is unknown: give it the whole text, as Presidio does.
        if not pending:
            return done
        artifacts = engine.nlp_engine.process_text(text, language)
        return done + enhancer.enhance_using_context(text, pending, artifacts, recognizers)
    reach = _CONTEXT_REACH
    while pending:
        groups: list[tuple[_Window, list[RecognizerResult]]] = []
        for result in pending:
            start, end = _snap(text, max(0, result.start - reach), min(len(text), result.end + reach // 4))
            if groups and start <= groups[-1][0].end:
                groups[-1][0].end = max(groups[-1][0].end, end)
                groups[-1][1].append(result)
            else:
                groups.append((_Window(start, end), [result]))
        retry: list[RecognizerResult] = []
        for batch_start in range(0, len(groups), _CONTEXT_BATCH):
            batch = groups[batch_start : batch_start + _CONTEXT_BATCH]
            windows = [window for window, _ in batch]
            compact = _compact(text, windows)
            artifacts = engine.nlp_engine.process_text(compact, language)
            members = [(window, result) for window, group in batch for result in group]
            shifted = [
                RecognizerResult(
                    result.entity_type,
                    result.start - window.start + window.offset,
                    result.end - window.start + window.offset,
                    result.score,
                    result.analysis_explanation,
                    dict(result.recognition_metadata),
                )
                for window, result in members
            ]
            enhanced = enhancer.enhance_using_context(compact, shifted, artifacts, recognizers)
            token_starts = artifacts.tokens_indices
            for (window, result), new in zip(members, enhanced, strict=True):
                first = bisect.bisect_left(token_starts, window.offset)
                last = bisect.bisect_left(token_starts, window.offset + window.end - window.start)
                backward, forward = _walks_inside(enhancer, artifacts, new.start, first, last)
                if (not backward and window.start > 0) or (not forward and window.end < len(text)):
                    retry.append(result)
                    continue
                result.score = new.score
                done.append(result)
        pending = retry
        reach *= 4
    return done


def analyze_fast(
    engine: AnalyzerEngine,
    text: str,
    language: str,
    *,
    entities: Sequence[str],
    score_threshold: float,
) -> list[RecognizerResult]:
    """What ``engine.analyze`` returns for the whole text, computed around trigger characters only."""
    recognizers = engine.registry.get_recognizers(language=language, entities=list(entities))
    results: list[RecognizerResult] = []
    for recognizer in recognizers:
        if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context:
            raise NotImplementedError(
                f"{type(recognizer).__name__} enhances with context itself; the fast path does not know how."
            )
        wanted = [entity for entity in entities if entity in recognizer.supported_entities]
        spans = _trigger_spans(text, wanted)
        if spans is None:
            found = recognizer.analyze(
                text=text, entities=wanted, nlp_artifacts=engine.nlp_engine.process_text(text, language)
            )
        elif not spans:
            continue
        else:
            found = _run_windowed(recognizer, text, wanted, spans)
        for result in found or []:
            result.recognition_metadata = dict(result.recognition_metadata or {})
            result.recognition_metadata.setdefault(
                RecognizerResult.RECOGNIZER_NAME_KEY, str(getattr(recognizer, "name", ""))
            )
            result.recognition_metadata.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, recognizer.id)
            results.append(result)
    results = _enhance(engine, text, language, results, recognizers)
    results = [result for result in results if result.score >= score_threshold]
    return EntityRecognizer.remove_duplicates(results)
