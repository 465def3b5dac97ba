"""Presidio's analysis of a text, computed only around the places where personal data can be.

``analyze_fast(engine, text, language, entities, score_threshold)`` returns exactly what
``engine.analyze(text, language, entities=entities, score_threshold=score_threshold)`` returns
(entity type, start, end and score of every result), at a small fraction of the cost. Presidio
spends its time running every recognizer over every character — nine passes of the phone
matcher alone — and, for context words, tokenizing the whole text. Here:

1. The phone recognizer is computed by ``pii_phones`` (one scan of the text for all regions,
   candidates that cannot hold a number of a region skipped, verdicts memoised).
2. Every match of the other recognizers contains a trigger that is cheap to find (a digit; '@'
   for e-mail; a dot before a letter for URLs; a dot between digits, or a colon beside a hex
   digit or another colon, for IP addresses). Each recognizer runs once on a compact text made
   of windows around the triggers (a margin of characters each side, widened to whitespace),
   joined by blank lines; the windows of a trigger are built once per text and shared by the
   recognizers that use it.
3. A result that touches the edge of its window could have been cut short, so the recognizer is
   run again with a margin four times as wide (and in the end on the whole text) until none does.
4. Context words: a result's score changes only if one of the words Presidio's enhancer walks
   over holds a context word of its recognizer. ``_ContextWords`` proves for most results that
   none does, from the whitespace-separated chunks around it (spaCy tokenizes each chunk on its
   own), and for most of the rest that one does, from the chunks before it, without tokenizing
   the personal data itself. The others are scored by walking the tokens of those chunks as the
   enhancer does, or, where a tokenizer special case may straddle two chunks, by Presidio's own
   enhancer on small windows reaching back over enough words (checked: the enhancer's walks
   must end inside the window, or the window must reach the ends of the text; otherwise it is
   widened). Results already at the maximum score are left out, since context cannot change them.
5. Low scores and duplicates are removed with Presidio's own rules.

Windows are cut only at whitespace, where neither spaCy's tokenizer nor a regex ``\\b`` sees a
difference between the window and the whole text. The equivalence tests compare this function
with ``engine.analyze`` on generated corpora and on edge cases.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer, LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer, PhoneRecognizer, UrlRecognizer

from audits.checks.pii_phones import phone_spans
from audits.checks.pii_recognizers import BlankSpacyNlpEngine

_SEPARATOR = "\n\n"
_DIGIT = r"\d"
_NON_SPACE = re.compile(r"\S*")
_WORD = re.compile(r"[^\w\s]*[^\W\d_]+[^\w\s]*")
# What every match of a recognizer holds; a recognizer not listed runs on the whole text. IP
# addresses: IPv4 (plain or embedded in IPv6) is four groups of one to three digits joined by
# dots, so it holds a dot between digits with another one to three digits on (amounts such as
# "$35673.06" do not); every other form of Presidio's IPv6 patterns starts with "::", ends with
# "h::", has "h::h" or, written in full, "h:h" (h a hex digit; the patterns' classes are
# [0-9A-Fa-f], case-insensitive).
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": ("@",),
    "URL": (r"\.[^\W\d_]",),
    "IP_ADDRESS": (r"\.(?<=\d\.)\d{1,3}\.\d", "::", ":(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]"),
}
# Presidio's patterns for these never match whitespace, and their lookarounds read a character
# next to the match (\b, (?<![\w:]), (?![\w:]|\.\d)) that whitespace and the ends of the text
# satisfy alike: a match lies inside one whitespace-free chunk and is found in it as in the whole
# text (matches of other chunks end before the whitespace, so they do not move where the scan is).
_CHUNK_PATTERNS = frozenset(
    pattern.regex for recognizer in (EmailRecognizer, UrlRecognizer, IpRecognizer) for pattern in recognizer.PATTERNS
)
# (Triggers start with their rarest character, the lookbehinds after it: the regex engine then
# skips ahead to that character; a trigger starting with a class of common ones is 5x slower.)
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
_PHONE_EXPLANATION = "Recognized as a phone number, using PhoneRecognizer"
_BASE_MARGIN = 16
_CONTEXT_REACH = 64
# Presidio looks a result's token up from the start of the document, so batches stay small.
_CONTEXT_BATCH = 16
_COUNTS_SIZE = 1 << 16
_CHUNK_READ = 160  # characters read at a time walking over chunks: most walks need less


@dataclass
class _Window:
    start: int  # in the original text
    end: int
    offset: int = 0  # where it starts in the compact text


@dataclass
class _Compact:
    """Windows of the text joined into one compact text."""

    windows: list[_Window]
    text: str
    offsets: list[int]


class _Document:
    """The text being analysed, with its trigger windows built once per trigger and margin."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._reversed: str | None = None
        self._compacts: dict[tuple[tuple[str, ...], int], _Compact] = {}

    def snap(self, start: int, end: int) -> tuple[int, int]:
        """Widen [start, end) outwards to whitespace (or the ends of the text)."""
        length = len(self.text)
        if start > 0 and not self.text[start - 1].isspace():
            if self._reversed is None:
                self._reversed = self.text[::-1]
            start = length - _run_end(_NON_SPACE, self._reversed, length - start)
        if end < length and not self.text[end].isspace():
            end = _run_end(_NON_SPACE, self.text, end)
        return start, end

    def chunks(self, position: int, step: int) -> Iterator[str]:
        """The whitespace-free chunks before (``step`` < 0; the nearest first) or after
        ``position``, a chunk's start or end. The text is read in slices cut at whitespace and
        split as spaCy splits it (``str.split`` and ``str.isspace`` agree on whitespace)."""
        text = self.text
        if step > 0:
            length = len(text)
            while position < length:
                end = position + _CHUNK_READ
                if end < length and not text[end].isspace():
                    end = _run_end(_NON_SPACE, text, end)
                yield from text[position:end].split()
                position = end
            return
        while position > 0:
            begin = max(0, position - _CHUNK_READ)
            begin = self.snap(begin, begin)[0]
            yield from reversed(text[begin:position].split())
            position = begin

    def windows(self, triggers: tuple[str, ...], margin: int) -> list[_Window]:
        """Windows around the whitespace-free runs holding triggers, reaching ``margin`` characters
        beyond them and on to whitespace (so a match ending where its run does is not at a cut)."""
        # ``snap`` twice, inlined: this runs once per cluster of triggers, thousands per batch.
        text, length = self.text, len(self.text)
        if self._reversed is None:
            self._reversed = text[::-1]
        reversed_text, run = self._reversed, _NON_SPACE.match
        windows: list[_Window] = []
        for found in _clusters(triggers, margin).finditer(text):
            start, end = found.span()
            if end < length and not text[end].isspace():
                end = run(text, end).end()  # type: ignore[union-attr]  # \S* always matches
            end = min(length, end + margin)
            if end < length and not text[end].isspace():
                end = run(text, end).end()  # type: ignore[union-attr]
            if windows and start <= windows[-1].end + len(_SEPARATOR):
                # Its window starts no later than the cluster: it joins the last one.
                windows[-1].end = max(windows[-1].end, end)
                continue
            if start > 0 and not text[start - 1].isspace():
                start = length - run(reversed_text, length - start).end()  # type: ignore[union-attr]
            start = max(0, start - margin)
            if start > 0 and not text[start - 1].isspace():
                start = length - run(reversed_text, length - start).end()  # type: ignore[union-attr]
            if windows and start <= windows[-1].end + len(_SEPARATOR):
                windows[-1].end = max(windows[-1].end, end)
            else:
                windows.append(_Window(start, end))
        return windows

    def compact(self, triggers: tuple[str, ...], margin: int) -> _Compact:
        key = (triggers, margin)
        if key not in self._compacts:
            windows = self.windows(triggers, margin)
            self._compacts[key] = _Compact(windows, _join(self.text, windows), [window.offset for window in windows])
        return self._compacts[key]


@lru_cache(maxsize=64)
def _clusters(triggers: tuple[str, ...], margin: int) -> re.Pattern[str]:
    """Runs of triggers less than twice the margin apart: their windows overlap."""
    trigger = "|".join(triggers)
    return re.compile(rf"(?:{trigger})(?:(?s:.){{0,{2 * margin}}}?(?:{trigger}))*")


def _run_end(pattern: re.Pattern[str], text: str, position: int) -> int:
    """Where the run of ``pattern`` (``\\S*``, which always matches) from ``position`` ends."""
    found = pattern.match(text, position)
    assert found is not None
    return found.end()


def _join(text: str, windows: list[_Window]) -> str:
    parts = []
    offset = 0
    for window in windows:
        window.offset = offset
        parts.append(text[window.start : window.end])
        offset += window.end - window.start + len(_SEPARATOR)
    return _SEPARATOR.join(parts)


def _triggers(entities: Sequence[str]) -> tuple[str, ...] | None:
    """The triggers of a recognizer of ``entities``; None when the whole text must be read."""
    patterns: list[str] = []
    for entity in entities:
        if entity in _TRIGGERS:
            patterns.extend(_TRIGGERS[entity])
        elif entity in _DIGIT_ENTITIES:
            patterns.append(_DIGIT)
        else:
            return None
    return tuple(sorted(set(patterns)))


def _within_chunks(recognizer: EntityRecognizer) -> bool:
    """Whether every match of the recognizer lies inside one whitespace-free chunk, found there
    as in the whole text (``_CHUNK_PATTERNS``)."""
    if not isinstance(recognizer, PatternRecognizer):
        return False
    patterns: list[Pattern] = getattr(recognizer, "patterns", [])  # untyped in Presidio
    return all(pattern.regex in _CHUNK_PATTERNS for pattern in patterns)


def _run_windowed(
    recognizer: EntityRecognizer, document: _Document, entities: list[str], triggers: tuple[str, ...]
) -> list[RecognizerResult]:
    """The recognizer's results on the whole text, computed on windows around the triggers.

    The windows of a recognizer whose matches lie within chunks are the chunks holding triggers,
    and a match may touch their ends (always whitespace or the ends of the text)."""
    text = document.text
    within_chunks = _within_chunks(recognizer)
    margin = 0 if within_chunks else _BASE_MARGIN
    while margin < len(text):
        compact = document.compact(triggers, margin)
        if not compact.windows:
            return []
        found = recognizer.analyze(text=compact.text, entities=entities, nlp_artifacts=None) or []  # type: ignore[arg-type]
        results = []
        clean = True
        for result in found:
            window = compact.windows[bisect.bisect_right(compact.offsets, result.start) - 1]
            local_start, local_end = result.start - window.offset, result.end - window.offset
            if local_end > window.end - window.start:
                clean = False  # crosses a separator
                break
            if not within_chunks and (
                (local_start == 0 and window.start > 0)
                or (local_end == window.end - window.start and window.end < len(text))
            ):
                clean = False  # touches a cut: the match may be longer in the whole text
                break
            result.start, result.end = window.start + local_start, window.start + local_end
            results.append(result)
        if clean:
            return results
        margin = margin * 4 or _BASE_MARGIN
    return recognizer.analyze(text=text, entities=entities, nlp_artifacts=None) or []  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Chunk:
    """How spaCy tokenizes one whitespace-free chunk of text, as the enhancer sees it."""

    starts: tuple[int, ...]  # where each token starts in the chunk
    ends: tuple[int, ...]
    keywords: tuple[str | None, ...]  # each token's lower-cased lemma if the enhancer counts it, else None
    first: str  # the first and last tokens
    last: str


class _ContextWords:
    """Presidio's context enhancement of a result, read from the chunks of text around it.

    Presidio's ``LemmaContextAwareEnhancer`` finds the first token that ends after the result's
    start, walks back from it collecting ``context_prefix_count + 1`` keywords (lemmas that are
    neither stop words nor punctuation) and forward collecting ``context_suffix_count + 1``, and
    raises the score (by ``context_similarity_factor``, to at least
    ``min_score_with_context_similarity``, at most 1) if one of them contains a context word of
    the result's recognizer. Our NLP engine's lemma is the lower-cased token without colons, so
    whether a token is a keyword depends on it alone; whitespace tokens never are.

    spaCy's tokenizer splits the text at whitespace and tokenizes each chunk on its own; its
    special cases then apply to token sequences, across chunks only for rules written with
    whitespace or split into several tokens. So a chunk's tokens are those it has alone unless
    two consecutive tokens of such a rule meet at one of its boundaries (``_straddling``): then
    ``enhanced`` gives up and the caller asks Presidio's enhancer.
    """

    def __init__(self, engine: AnalyzerEngine, language: str, enhancer: LemmaContextAwareEnhancer) -> None:
        nlp_engine = engine.nlp_engine
        assert isinstance(nlp_engine, BlankSpacyNlpEngine)
        self.nlp_engine = nlp_engine
        self.language = language
        self.enhancer = enhancer
        self.whole_words = enhancer.context_matching_mode == "whole_word"
        self.pairs = _straddling(self.tokenizer)  # the same for every blank pipeline of the language
        lefts: dict[str, set[str]] = {}
        for left, right in self.pairs:
            lefts.setdefault(right, set()).add(left)
        self.lefts_before = {right: tuple(found) for right, found in lefts.items()}
        self.right_lengths = tuple(sorted({len(right) for right in lefts}))
        self.edges = frozenset((left[-1], right[0]) for left, right in self.pairs)
        self.counts: dict[str, tuple[int, str]] = {}

    @property
    def tokenizer(self) -> Any:
        """The current pipeline's (the engine replaces a pipeline whose vocabulary grew too large)."""
        return self.nlp_engine._pipeline(self.language).tokenizer

    @classmethod
    def usable(cls, engine: AnalyzerEngine) -> bool:
        enhancer = engine.context_aware_enhancer
        return (
            type(engine.nlp_engine) is BlankSpacyNlpEngine
            and type(enhancer) is LemmaContextAwareEnhancer
            and enhancer.context_matching_mode in ("substring", "whole_word")
        )

    def chunk(self, text: str) -> _Chunk:
        return _tokenized(self, text)

    def surely_unchanged(self, document: _Document, start: int, context: re.Pattern[str]) -> bool:
        """A cheaper proof that the score stays as it is, tokenizing only chunks with letters.

        The walks stay within the chunk holding the start and the chunks before and after it
        until those hold enough keywords; counting none in chunks without letters (left
        untokenized) only lengthens that stretch. A keyword is a piece of its chunk lower-cased
        without colons, so a context word absent from every such chunk is in no keyword.

        Only chunks made of one word, punctuation around it allowed (``_WORD``), are tokenized to
        count their keywords: their tokenization is cached, since words recur. Counting none in
        the others (numbers, addresses, the personal data itself: seldom seen twice) is an
        undercount, which again only lengthens the stretch read."""
        text = document.text
        if start >= len(text) or text[start].isspace():
            return False
        chunk_start, chunk_end = document.snap(start, start + 1)
        own = text[chunk_start:chunk_end]
        if _holds(own, context):
            return False
        enhancer = self.enhancer
        counts = self.counts
        for step, needed in ((-1, enhancer.context_prefix_count + 1), (1, enhancer.context_suffix_count + 1)):
            last = own
            for chunk in document.chunks(chunk_start if step < 0 else chunk_end, step):
                if self._straddled(chunk, last) if step < 0 else self._straddled(last, chunk):
                    return False
                if needed <= 0:
                    break  # this chunk was read only for its boundary with the last one
                entry = counts.get(chunk)
                if entry is None:
                    entry = self._count(chunk)
                if context.search(entry[1]) is not None:
                    return False
                needed -= entry[0]
                last = chunk
        return True

    def _count(self, chunk: str) -> tuple[int, str]:
        """The keywords ``surely_unchanged`` counts in a chunk, and the chunk lower-cased without colons."""
        count = sum(keyword is not None for keyword in self.chunk(chunk).keywords) if _WORD.fullmatch(chunk) else 0
        entry = (count, chunk.lower().replace(":", ""))
        if len(self.counts) >= _COUNTS_SIZE:
            self.counts.clear()
        self.counts[chunk] = entry
        return entry

    def _straddled(self, left: str, right: str) -> bool:
        """Whether a special case may join the tokens either side of the boundary between two chunks.

        A chunk's first and last tokens are a prefix and a suffix of it, so most are ruled out
        without tokenizing: the two characters meeting at the boundary must be those a pair's
        tokens meet with (no pair joins two letters), the right chunk must start with the second
        token of a pair, and the left one end with a first token that goes with it."""
        if (left[-1], right[0]) not in self.edges:
            return False
        for length in self.right_lengths:
            lefts = self.lefts_before.get(right[:length])
            if lefts is not None and left.endswith(lefts):
                return (self.chunk(left).last, self.chunk(right).first) in self.pairs
        return False

    def surely_supported(self, document: _Document, start: int, context: tuple[str, ...]) -> bool:
        """A cheaper proof that the score rises, for a result that starts its chunk, without
        tokenizing that chunk (the personal data itself, seldom seen twice).

        The enhancer's backward walk starts at the chunk's first token, so it takes at most one
        keyword from the chunk: with one fewer, the keywords of the chunks before it (tokenized
        exactly; words recur, so cached) are reached by the real walk too, and if one holds a
        context word the score rises, whatever the forward walk finds. The boundaries either side
        of the chunk and of every chunk read are checked for special cases, as ``enhanced`` does."""
        text = document.text
        if start >= len(text) or text[start].isspace() or (start > 0 and not text[start - 1].isspace()):
            return False
        chunk_start, chunk_end = document.snap(start, start + 1)
        last = text[chunk_start:chunk_end]
        following = next(document.chunks(chunk_end, 1), None)
        if following is not None and self._straddled(last, following):
            return False
        needed = self.enhancer.context_prefix_count  # + 1, less the chunk's own first token
        if needed <= 0:
            return False  # the walk may end at the chunk's own first token
        chunks = document.chunks(chunk_start, -1)
        for chunk in chunks:
            if self._straddled(chunk, last):
                return False
            for keyword in reversed(self.chunk(chunk).keywords):
                if keyword is None:
                    continue
                if self._holds_word(keyword, context):
                    before = next(chunks, None)
                    return before is None or not self._straddled(before, chunk)
                needed -= 1
                if not needed:
                    return False
            last = chunk
        return False

    def _holds_word(self, keyword: str, context: tuple[str, ...]) -> bool:
        """Whether the enhancer finds one of the (lower-cased) context words in a keyword."""
        if self.whole_words:
            return keyword in context
        return any(word in keyword for word in context)

    def raised(self, score: float) -> float:
        """A score raised by a context word, as the enhancer raises it."""
        enhancer = self.enhancer
        score += enhancer.context_similarity_factor
        score = max(score, enhancer.min_score_with_context_similarity)
        return min(score, ContextAwareEnhancer.MAX_SCORE)

    def enhanced(self, document: _Document, start: int, score: float, context: tuple[str, ...]) -> float | None:
        """The result's score after Presidio's enhancement, or None if it cannot be told here."""
        text = document.text
        if start >= len(text) or text[start].isspace():
            return None
        chunk_start, chunk_end = document.snap(start, start + 1)
        current = text[chunk_start:chunk_end]
        own = self.chunk(current)
        local = start - chunk_start
        index = next(i for i, end in enumerate(own.ends) if own.starts[i] == local or local < end)
        prefix, suffix = self.enhancer.context_prefix_count, self.enhancer.context_suffix_count
        backward = self._collect(document.chunks(chunk_start, -1), current, index, -1, prefix + 1)
        forward = self._collect(document.chunks(chunk_end, 1), current, index, 1, suffix + 1)
        if backward is None or forward is None:
            return None
        if not any(self._holds_word(keyword, context) for keyword in backward + forward):
            return score
        return self.raised(score)

    def _collect(self, chunks: Iterator[str], current: str, index: int, step: int, needed: int) -> list[str] | None:
        """The keywords the enhancer collects walking from token ``index`` of the own chunk over
        the ``chunks`` beyond it; None if a special case of the tokenizer may straddle one of the
        chunk boundaries involved."""
        found: list[str] = []
        chunk = self.chunk(current)
        tokens = range(index, -1, -1) if step < 0 else range(index, len(chunk.keywords))
        while True:
            for token in tokens:
                if needed and chunk.keywords[token] is not None:
                    found.append(chunk.keywords[token])  # type: ignore[arg-type]
                    needed -= 1
            # The next chunk: its boundary with this one is checked even when the walk is over,
            # since a special case across it would retokenize this chunk.
            following_text = next(chunks, None)
            if following_text is None:
                return found
            left, right = (following_text, current) if step < 0 else (current, following_text)
            if self._straddled(left, right):
                return None
            if not needed:
                return found
            chunk, current = self.chunk(following_text), following_text
            tokens = range(len(chunk.keywords) - 1, -1, -1) if step < 0 else range(len(chunk.keywords))


def _holds(chunk: str, context: re.Pattern[str]) -> bool:
    """Whether a context word (``_context_pattern``) is in the chunk, lower-cased without colons."""
    return context.search(chunk.lower().replace(":", "")) is not None


def _context_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Finds any of the (lower-cased) context words; with none, finds nothing."""
    return re.compile("|".join(re.escape(word) for word in words) if words else r"(?!)")


@lru_cache(maxsize=16)
def _context_words(engine: AnalyzerEngine, language: str) -> _ContextWords:
    enhancer = engine.context_aware_enhancer
    assert isinstance(enhancer, LemmaContextAwareEnhancer)
    return _ContextWords(engine, language, enhancer)


@lru_cache(maxsize=1 << 17)
def _tokenized(words: _ContextWords, text: str) -> _Chunk:
    doc = words.tokenizer(text)
    nlp_engine, language = words.nlp_engine, words.language
    keywords: list[str | None] = []
    for token in doc:
        lemma = token.text.lower().replace(":", "")  # BlankSpacyNlpEngine's lemma
        counted = not (
            nlp_engine.is_stopword(lemma, language) or nlp_engine.is_punct(lemma, language) or lemma in ("-PRON-", "be")
        )
        keywords.append(lemma.lower() if counted else None)
    return _Chunk(
        starts=tuple(token.idx for token in doc),
        ends=tuple(token.idx + len(token.text) for token in doc),
        keywords=tuple(keywords),
        first=doc[0].text if len(doc) else "",
        last=doc[-1].text if len(doc) else "",
    )


@lru_cache(maxsize=8)
def _straddling(tokenizer: Any) -> frozenset[tuple[str, str]]:
    """Consecutive tokens of the tokenizer's special cases that span several tokens without them."""
    from spacy.tokenizer import Tokenizer

    bare = Tokenizer(
        tokenizer.vocab,
        rules={},
        prefix_search=tokenizer.prefix_search,
        suffix_search=tokenizer.suffix_search,
        infix_finditer=tokenizer.infix_finditer,
        token_match=tokenizer.token_match,
        url_match=tokenizer.url_match,
    )
    pairs: set[tuple[str, str]] = set()
    for rule in tokenizer.rules or {}:
        tokens = [token.text for token in bare(rule) if not token.is_space]
        pairs.update(itertools.pairwise(tokens))
    return frozenset(pairs)


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
    contexts = {recognizer.id: recognizer.context for recognizer in recognizers if recognizer.context}

    def needs_context(result: RecognizerResult) -> bool:
        identifier = result.recognition_metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
        return result.score < 1.0 and identifier in contexts

    pending = sorted((result for result in results if needs_context(result)), key=lambda result: result.start)
    done = [result for result in results if not needs_context(result)]
    document = _Document(text)
    if pending and _ContextWords.usable(engine):
        words = _context_words(engine, language)
        lowered = {identifier: tuple(word.lower() for word in context) for identifier, context in contexts.items()}
        patterns = {identifier: _context_pattern(words) for identifier, words in lowered.items()}
        still = []
        for result in pending:
            identifier = result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY]
            score = None
            if not result.recognition_metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                if words.surely_unchanged(document, result.start, patterns[identifier]):
                    score = result.score
                elif words.surely_supported(document, result.start, lowered[identifier]):
                    score = words.raised(result.score)
                else:
                    score = words.enhanced(document, result.start, result.score, lowered[identifier])
            if score is None:
                still.append(result)
            else:
                result.score = score
                done.append(result)
        pending = still
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
            start, end = document.snap(max(0, result.start - reach), min(len(text), result.end + reach // 4))
            if groups and start <= groups[-1][0].end:
                groups[-1][0].end = max(groups[-1][0].end, end)
                groups[-1][1].append(result)
            else:
                groups.append((_Window(start, end), [result]))
        retry: list[RecognizerResult] = []
        for batch_start in range(0, len(groups), _CONTEXT_BATCH):
            batch = groups[batch_start : batch_start + _CONTEXT_BATCH]
            windows = [window for window, _ in batch]
            compact = _join(text, windows)
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


def _phones(recognizer: PhoneRecognizer, text: str) -> list[RecognizerResult]:
    """``PhoneRecognizer.analyze``: every region's matches, duplicates removed (the explanation
    does not name the region, which ``engine.analyze`` drops anyway)."""
    metadata = {
        RecognizerResult.RECOGNIZER_NAME_KEY: str(getattr(recognizer, "name", "")),
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    assert recognizer.leniency is not None
    spans = phone_spans(text, recognizer.supported_regions, recognizer.leniency)
    found = [
        RecognizerResult(
            recognizer.supported_entities[0],
            start,
            end,
            recognizer.SCORE,
            AnalysisExplanation(type(recognizer).__name__, recognizer.SCORE, textual_explanation=_PHONE_EXPLANATION),
            dict(metadata),
        )
        for start, end in {span for region_spans in spans.values() for span in region_spans}
    ]
    return EntityRecognizer.remove_duplicates(found)


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
    document = _Document(text)
    results: list[RecognizerResult] = []
    for recognizer in recognizers:
        if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context:
            raise NotImplementedError(
                f"{type(recognizer).__name__} enhances with context itself; the fast path does not know how."
            )
        wanted = [entity for entity in entities if entity in recognizer.supported_entities]
        triggers = _triggers(wanted)
        if (
            isinstance(recognizer, PhoneRecognizer)
            and type(recognizer).analyze is PhoneRecognizer.analyze
            and recognizer.leniency is not None
        ):
            found = _phones(recognizer, text)
        elif triggers is None:
            found = recognizer.analyze(
                text=text, entities=wanted, nlp_artifacts=engine.nlp_engine.process_text(text, language)
            )
        else:
            found = _run_windowed(recognizer, document, wanted, triggers)
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
