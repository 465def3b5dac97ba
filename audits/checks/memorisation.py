"""The memorisation check's verbatim-overlap index: does a model's output reproduce its training corpus?

Public API (the Django side needs nothing else)::

    MemorisationInputError(ValueError)   the one exception for bad input; str(error) is written for people
    DEFAULT_N = 50 ; DEFAULT_TOKENIZER (words-v1) ; Tokenizer (protocol: name, scan(data))
    tokenize(text, tokenizer=DEFAULT_TOKENIZER) -> list[str]
    build_index(documents, directory, *, n=DEFAULT_N, tokenizer=DEFAULT_TOKENIZER, progress=None,
                chunk_bytes=CHUNK_BYTES, block_tokens=BLOCK_TOKENS) -> IndexInfo
    MemorisationIndex.open(directory, *, tokenizer=DEFAULT_TOKENIZER) -> MemorisationIndex
    index.info -> IndexInfo ; index.check(outputs) -> list[OutputResult]
    split_for_extraction(document, prefix_tokens=50, suffix_tokens=50, tokenizer=...) -> (prompt, suffix) | None
    suffix_matches(generated, expected, tokenizer=...) -> bool
    binomial_interval(successes, trials, confidence=0.95) -> (low, high)      (Clopper–Pearson)

``OutputResult.to_dict()`` holds only JSON types::

    {"tokens", "windows", "matched_windows", "fraction", "memorised", "longest_span_tokens",
     "spans": [{"start", "end", "tokens", "document", "offset", "token_start", "token_end"}], "collisions",
     "truncated"}

``fraction`` is ``matched_windows / windows`` (0.0 without any window); ``memorised`` is true when
any window is confirmed; ``collisions`` counts the windows whose hash was in the index but whose
text was found nowhere in the corpus (rejected on the text).

What is matched: every run of ``n`` consecutive tokens (a *window*) of one output that occurs in
one document of the corpus, token for token. A *span* is a maximal run of output tokens (at least
``n``) found contiguously at one place of the corpus; ``start``/``end`` are character offsets in
the output, ``document`` the 0-based number of the corpus document and ``offset`` the character
offset in it. Spans contained in a longer span found earlier in the output are not listed; the
place given for a span is its first occurrence in the corpus.

The tokenizer ``words-v1`` (needs no download) works on UTF-8 bytes: a token is a maximal run of
word bytes (ASCII letters, digits, underscore, and every byte >= 0x80, so accented letters stay in
their word), or one ASCII punctuation character; spaces and control characters separate tokens.
It is case-sensitive. Unicode punctuation and spaces (``¿``, ``«``, no-break space) count as word
characters, which is consistent between corpus and outputs, so it only makes tokens longer.

How it works. The corpus is read in chunks of ``CHUNK_BYTES`` cut after a whitespace byte (a run
of that many bytes without any is cut in two tokens, which only binary blobs have), tokenised and
hashed with numpy: a token's hash is a polynomial over its 8-byte words, a window's hash a
polynomial over its token hashes (prefix sums normalised by inverse powers, so any window costs
the same), both finished with the splitmix64 mixer. The last ``n - 1`` tokens are carried across
chunks, and windows never cross a document boundary (documents are stored separated by NUL bytes;
a NUL inside a document is stored as a space). The index is one sorted ``uint64`` array whose high
bits are the window hash and whose low bits are the number of the *block* (``block_tokens``
consecutive tokens of the corpus) where the window starts, at most 8 bytes per token, kept with
the corpus text (needed to confirm hits) and each block's starting byte offset, document number
and character offset. A check hashes the outputs the same way, looks every window up with
``searchsorted`` on the memory-mapped array, re-tokenises the candidate blocks of the corpus and
confirms every hit on the token bytes; hits whose text differs are hash collisions, counted in the
result. Spans are read off the confirmed hits: consecutive windows at consecutive corpus positions.

Speed (``bench/memorisation.py``, 2 shared cores): 100 million tokens build in about 20 s with
6.7 bytes of index per token, and 10,000 outputs of 256 tokens are checked in about 4 s.

Limits: a window found in more than ``MAX_BLOCKS_PER_WINDOW`` blocks (boilerplate) is confirmed in
the first ones only, and at most ``MAX_PLACES_PER_WINDOW`` places of the corpus are kept per window
(degenerate repetitive text); the result then says ``truncated`` and its longest span is a lower
bound. The build holds 8 bytes per window in memory while it sorts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.special import betaincinv

__all__ = [
    "DEFAULT_N",
    "DEFAULT_TOKENIZER",
    "IndexInfo",
    "MemorisationIndex",
    "MemorisationInputError",
    "OutputResult",
    "Span",
    "Tokenizer",
    "WordsTokenizer",
    "binomial_interval",
    "build_index",
    "split_for_extraction",
    "suffix_matches",
    "tokenize",
]

DEFAULT_N = 50
FORMAT = "custodia-memorisation-index"
FORMAT_VERSION = 1
CHUNK_BYTES = 4 << 20
BLOCK_TOKENS = 2048
OUTPUT_BATCH_BYTES = 8 << 20
POOL_BYTES = 32 << 20
MAX_BLOCKS_PER_WINDOW = 32
MAX_PLACES_PER_WINDOW = 64
# A long document is encoded this many characters at a time, so memory stays near CHUNK_BYTES.
_SLICE_CHARS = 1 << 20
_KEYS, _BLOCKS, _CORPUS, _META = "keys.npy", "blocks.npy", "corpus.bin", "meta.json"
_META_FIELDS = (
    "n",
    "tokenizer",
    "documents",
    "tokens",
    "windows",
    "keys",
    "blocks",
    "block_tokens",
    "block_bits",
    "corpus_bytes",
    "index_bytes",
    "seconds",
    "files",
)

_U64 = np.uint64
_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_BASE_INVERSE = pow(_BASE, -1, 1 << 64)
_MIX1, _MIX2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
# _WORD_MASKS[k] keeps the first k bytes of a little-endian 8-byte word.
_WORD_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=_U64)
_LOOP_WORDS = 4
_SEPARATORS = (b" ", b"\n", b"\x00", b"\t", b"\r")

Progress = Callable[[int], None]


class MemorisationInputError(ValueError):
    """Bad input to the memorisation check; the message is written for the person who supplied it."""


class Tokenizer(Protocol):
    """Splits UTF-8 bytes into tokens and hashes them.

    ``scan(data)`` takes a 1-D ``uint8`` array and returns the tokens' byte starts and ends (int64,
    ascending, end exclusive) and a ``uint64`` hash of each token's bytes (equal bytes, equal hash).
    A token never holds ASCII whitespace or NUL, and scanning a buffer cut right after a whitespace
    byte gives the tokens of both pieces: the index relies on both.
    """

    @property
    def name(self) -> str: ...

    def scan(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class WordsTokenizer:
    """words-v1: runs of word bytes (ASCII letters, digits, '_', bytes >= 0x80) and single ASCII punctuation."""

    name = "words-v1"

    def scan(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = len(data)
        padded = np.zeros(size + 16, dtype=np.uint8)
        padded[:size] = data
        body = padded[:size]
        word = (body >= 0x80) | (((body | 0x20) - 97) < 26) | ((body - 48) < 10) | (body == 95)
        punct = (body > 32) & (body < 127) & ~word
        prev_word = np.zeros(size, dtype=bool)
        prev_word[1:] = word[:-1]
        next_word = np.zeros(size, dtype=bool)
        next_word[:-1] = word[1:]
        starts = np.flatnonzero(punct | (word & ~prev_word))
        ends = np.flatnonzero(punct | (word & ~next_word)) + 1
        # words[i] is the little-endian uint64 of bytes i..i+7 (unaligned view, the padding is zero).
        words = np.ndarray((size,), dtype="<u8", buffer=padded, strides=(1,))
        return starts, ends, _hash_tokens(words, starts, ends - starts)


DEFAULT_TOKENIZER: Tokenizer = WordsTokenizer()


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and what it cost; ``index_bytes`` excludes the copy of the corpus text."""

    n: int
    tokenizer: str
    documents: int
    tokens: int
    windows: int
    index_bytes: int
    corpus_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    """A maximal verbatim run of output tokens: where it is in the output and in the corpus."""

    start: int
    end: int
    tokens: int
    document: int
    offset: int
    token_start: int = 0  # the span's first and last-plus-one token in the output
    token_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutputResult:
    """The overlap of one output with the corpus."""

    tokens: int
    windows: int
    matched_windows: int
    fraction: float
    memorised: bool
    longest_span_tokens: int
    spans: list[Span] = field(default_factory=list)
    collisions: int = 0
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "spans": [span.to_dict() for span in self.spans]}


# --- hashing --------------------------------------------------------------------------------------

_power_cache: tuple[np.ndarray, np.ndarray] = (np.ones(1, dtype=_U64), np.ones(1, dtype=_U64))


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``BASE**i`` and ``BASE**-i`` modulo 2**64 for i < size (at least), cached and grown by doubling."""
    global _power_cache
    powers, inverses = _power_cache
    if len(powers) < size:
        length = max(size, 2 * len(powers), 1 << 16)
        powers, inverses = np.full(length, _BASE, dtype=_U64), np.full(length, _BASE_INVERSE, dtype=_U64)
        powers[0] = inverses[0] = 1
        np.multiply.accumulate(powers, out=powers)
        np.multiply.accumulate(inverses, out=inverses)
        _power_cache = (powers, inverses)
    return powers, inverses


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place (uint64 arithmetic wraps)."""
    values ^= values >> 30
    values *= _MIX1
    values ^= values >> 27
    values *= _MIX2
    values ^= values >> 31
    return values


def _hash_tokens(words: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """mix(sum of the token's k-th 8-byte word (zero-padded) times BASE**k), for every token."""
    hashes = words[starts] & _WORD_MASKS[np.minimum(lengths, 8)]
    longer = np.flatnonzero(lengths > 8)
    k = 1
    while longer.size and k < _LOOP_WORDS:
        left = lengths[longer] - 8 * k
        word = words[starts[longer] + 8 * k] & _WORD_MASKS[np.minimum(left, 8)]
        hashes[longer] += word * _U64(pow(_BASE, k, 1 << 64))
        longer = longer[left > 8]
        k += 1
    if longer.size:  # the rest of the long tokens, all their remaining words at once
        counts = (lengths[longer] - 8 * k + 7) // 8
        firsts = np.zeros(len(counts), dtype=np.int64)
        np.cumsum(counts[:-1], out=firsts[1:])
        owner = np.repeat(np.arange(len(longer)), counts)
        nth = np.arange(int(counts.sum()), dtype=np.int64) - firsts[owner] + k
        word = words[starts[longer][owner] + 8 * nth] & _WORD_MASKS[np.minimum(lengths[longer][owner] - 8 * nth, 8)]
        word *= _powers(int(nth.max()) + 1)[0][nth]
        hashes[longer] += np.add.reduceat(word, firsts)
    return _mix(hashes)


def _window_hashes(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """mix(sum over the window of token hash times BASE**position), for the window at every start."""
    count = len(token_hashes)
    windows = count - n + 1
    if windows <= 0:
        return np.zeros(0, dtype=_U64)
    powers, inverses = _powers(count + 1)
    prefix = np.zeros(count + 1, dtype=_U64)
    np.cumsum(token_hashes * powers[:count], out=prefix[1:])
    hashes = prefix[n:] - prefix[:windows]
    hashes *= inverses[:windows]
    return _mix(hashes)


def _windows_within(token_hashes: np.ndarray, segments: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(start token, hash) of the windows that lie inside one segment (document or output)."""
    hashes = _window_hashes(token_hashes, n)
    windows = len(hashes)
    starts = np.flatnonzero(segments[n - 1 : n - 1 + windows] == segments[:windows])
    return starts, hashes[starts]


def _as_bytes(text: str) -> bytes:
    return text.replace("\0", " ").encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a custom tokenizer cut a character
        return data.decode("utf-8", "replace")


def _characters(data: np.ndarray) -> int:
    """How many characters UTF-8 bytes encode (every byte that is not a continuation byte)."""
    return len(data) - int(np.count_nonzero((data & 0xC0) == 0x80))


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise MemorisationInputError(f"The window length n must be a whole number of at least 2 tokens, not {n!r}.")


# --- tokens for people and the extraction test -----------------------------------------------------


def _tokens_with_offsets(text: str, tokenizer: Tokenizer) -> tuple[bytes, np.ndarray, np.ndarray]:
    data = _as_bytes(text)
    starts, ends, _ = tokenizer.scan(np.frombuffer(data, dtype=np.uint8))
    return data, starts, ends


def tokenize(text: str, tokenizer: Tokenizer = DEFAULT_TOKENIZER) -> list[str]:
    """The tokens of a text as the index sees them."""
    if not isinstance(text, str):
        raise MemorisationInputError(f"Only text can be tokenised, not {type(text).__name__}.")
    data, starts, ends = _tokens_with_offsets(text, tokenizer)
    return [_decode(data[start:end]) for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]


def split_for_extraction(
    document: str, prefix_tokens: int = 50, suffix_tokens: int = 50, tokenizer: Tokenizer = DEFAULT_TOKENIZER
) -> tuple[str, list[str]] | None:
    """The prompt (the document up to the end of its first ``prefix_tokens`` tokens) and the expected suffix tokens.

    None when the document has fewer than ``prefix_tokens + suffix_tokens`` tokens (Carlini et al. 2023).
    """
    if prefix_tokens < 1 or suffix_tokens < 1:
        raise MemorisationInputError("The prefix and the suffix of the extraction test need at least one token each.")
    if not isinstance(document, str):
        raise MemorisationInputError(f"A training document must be text, not {type(document).__name__}.")
    data, starts, ends = _tokens_with_offsets(document, tokenizer)
    if len(starts) < prefix_tokens + suffix_tokens:
        return None
    prompt = document[: len(_decode(data[: int(ends[prefix_tokens - 1])]))]
    suffix = [
        _decode(data[start:end])
        for start, end in zip(
            starts[prefix_tokens : prefix_tokens + suffix_tokens].tolist(),
            ends[prefix_tokens : prefix_tokens + suffix_tokens].tolist(),
            strict=True,
        )
    ]
    return prompt, suffix


def suffix_matches(generated: str, expected: Sequence[str], tokenizer: Tokenizer = DEFAULT_TOKENIZER) -> bool:
    """Whether the generated text's first ``len(expected)`` tokens are exactly the expected ones."""
    if not expected:
        raise MemorisationInputError("The expected suffix of the extraction test is empty.")
    return tokenize(generated, tokenizer)[: len(expected)] == list(expected)


def binomial_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Clopper–Pearson interval of a proportion (e.g. extracted documents out of those tried)."""
    if not 0 < confidence < 1:
        raise MemorisationInputError(f"The confidence must lie between 0 and 1, not {confidence!r}.")
    if trials < 0 or not 0 <= successes <= trials:
        raise MemorisationInputError(f"{successes} successes out of {trials} trials is not a proportion.")
    if trials == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    low = 0.0 if successes == 0 else float(betaincinv(successes, trials - successes + 1, alpha / 2))
    high = 1.0 if successes == trials else float(betaincinv(successes + 1, trials - successes, 1 - alpha / 2))
    return low, high


# --- building --------------------------------------------------------------------------------------


class _Builder:
    """Streams the corpus through in chunks: writes the corpus copy, the window hashes and the block table."""

    def __init__(self, workdir: Path, n: int, tokenizer: Tokenizer, chunk_bytes: int, block_tokens: int) -> None:
        self.workdir, self.n, self.tokenizer = workdir, n, tokenizer
        self.chunk_bytes, self.block_tokens = chunk_bytes, block_tokens
        self.corpus = open(workdir / _CORPUS, "wb")  # noqa: SIM115 (closed by close())
        self.hashes = open(workdir / "hashes.tmp", "wb")  # noqa: SIM115
        self.pending = bytearray()
        self.documents = self.tokens = self.windows = self.consumed = 0
        self.separators_seen = 0  # NULs already processed: the document number at the next chunk's start
        self.document_chars = 0  # characters of the open document before the next chunk
        self.carry = np.zeros(0, dtype=_U64)  # hashes of the open document's last n - 1 tokens
        self.blocks: list[np.ndarray] = []  # rows of (byte offset, document, character offset)
        self.block_counts: list[tuple[int, np.ndarray]] = []  # (first block, windows per block)
        self.unique_keys = 0

    def add(self, document: str) -> None:
        for begin in range(0, len(document), _SLICE_CHARS):
            self.pending += _as_bytes(document[begin : begin + _SLICE_CHARS])
            if len(self.pending) >= self.chunk_bytes:
                self.drain()
        self.pending += b"\0"
        self.documents += 1
        if len(self.pending) >= self.chunk_bytes:
            self.drain()

    def drain(self, final: bool = False) -> None:
        while len(self.pending) >= self.chunk_bytes or (final and self.pending):
            cut = len(self.pending)
            if not final or cut > self.chunk_bytes:
                cut = max(self.pending.rfind(separator, 0, self.chunk_bytes) for separator in _SEPARATORS) + 1
                if cut == 0:  # no whitespace at all: cut at a character boundary
                    cut = self.chunk_bytes
                    while 1 < cut < len(self.pending) and self.pending[cut] & 0xC0 == 0x80:
                        cut -= 1
            chunk = bytes(self.pending[:cut])
            del self.pending[:cut]
            self.process(chunk)

    def process(self, chunk: bytes) -> None:
        data = np.frombuffer(chunk, dtype=np.uint8)
        self.corpus.write(chunk)
        starts, _, token_hashes = self.tokenizer.scan(data)
        nuls = np.flatnonzero(data == 0)
        self.record_blocks(data, starts, nuls)
        segments = np.searchsorted(nuls, starts)
        carried = len(self.carry)
        joined = np.concatenate([self.carry, token_hashes])
        joined_segments = np.concatenate([np.zeros(carried, dtype=np.int64), segments])
        window_starts, hashes = _windows_within(joined, joined_segments, self.n)
        if len(hashes):
            hashes.tofile(self.hashes)
            blocks = (window_starts + (self.tokens - carried)) // self.block_tokens
            self.block_counts.append((int(blocks[0]), np.bincount(blocks - blocks[0])))
            self.windows += len(hashes)
        open_document = joined[np.searchsorted(joined_segments, len(nuls)) :]
        self.carry = open_document[max(0, len(open_document) - (self.n - 1)) :].copy()
        self.tokens += len(starts)
        self.consumed += len(chunk)

    def record_blocks(self, data: np.ndarray, starts: np.ndarray, nuls: np.ndarray) -> None:
        """The byte offset, document number and character offset of every block start in this chunk."""
        continuation = np.flatnonzero((data & 0xC0) == 0x80)
        picks = starts[(-self.tokens) % self.block_tokens :: self.block_tokens]
        if len(picks):
            before = np.searchsorted(nuls, picks)
            document_starts = np.zeros(len(picks), dtype=np.int64)
            if len(nuls):
                document_starts = np.where(before > 0, nuls[np.maximum(before - 1, 0)] + 1, 0)
            chars = picks - document_starts
            chars -= np.searchsorted(continuation, picks) - np.searchsorted(continuation, document_starts)
            chars += np.where(before > 0, 0, self.document_chars)
            rows = np.stack([picks + self.consumed, before + self.separators_seen, chars], axis=1)
            self.blocks.append(rows.astype(np.int64))
        tail = int(nuls[-1]) + 1 if len(nuls) else 0
        tail_chars = (len(data) - tail) - (len(continuation) - int(np.searchsorted(continuation, tail)))
        self.document_chars = tail_chars if len(nuls) else self.document_chars + tail_chars
        self.separators_seen += len(nuls)

    def close(self) -> None:
        self.corpus.close()
        self.hashes.close()

    def finish(self, started: float) -> IndexInfo:
        self.drain(final=True)
        self.close()
        if self.windows == 0:
            held = (
                "it holds no documents."
                if not self.documents
                else f"its {self.documents} documents hold {self.tokens} tokens in all, and none is that long."
            )
            raise MemorisationInputError(
                f"The training corpus has no passage of {self.n} tokens: {held} Check that the right text "
                "field or column was read, or choose a shorter window length."
            )
        blocks = np.concatenate(self.blocks)
        block_bits = max(1, (len(blocks) - 1).bit_length())
        keys = self.keys(len(blocks), block_bits)
        np.save(self.workdir / _KEYS, keys)
        del keys
        np.save(self.workdir / _BLOCKS, blocks)
        (self.workdir / "hashes.tmp").unlink()
        meta: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "n": self.n,
            "tokenizer": self.tokenizer.name,
            "documents": self.documents,
            "tokens": self.tokens,
            "windows": self.windows,
            "keys": self.unique_keys,
            "blocks": len(blocks),
            "block_tokens": self.block_tokens,
            "block_bits": block_bits,
            "hash_bits": 64 - block_bits,
            "corpus_bytes": self.consumed,
            "files": {name: (self.workdir / name).stat().st_size for name in (_KEYS, _BLOCKS, _CORPUS)},
            "seconds": round(time.perf_counter() - started, 3),
        }
        stored = meta["files"][_KEYS] + meta["files"][_BLOCKS]
        text = ""
        while len(text) != meta.get("index_bytes", 0) - stored:  # index_bytes counts meta.json itself
            meta["index_bytes"] = stored + len(text)
            text = json.dumps(meta, indent=2)
        (self.workdir / _META).write_text(text)
        return _info(meta)

    def keys(self, block_count: int, block_bits: int) -> np.ndarray:
        """Sorted, deduplicated (window hash high bits | block number) of every window."""
        keys = np.fromfile(self.workdir / "hashes.tmp", dtype=_U64)
        counts = np.zeros(block_count, dtype=np.int64)
        for first, part in self.block_counts:
            counts[first : first + len(part)] += part
        high = _U64(((1 << 64) - 1) ^ ((1 << block_bits) - 1))
        step, done = 4096, 0
        for first in range(0, block_count, step):
            part = counts[first : first + step]
            total = int(part.sum())
            piece = keys[done : done + total]
            piece &= high
            piece |= np.repeat(np.arange(first, first + len(part), dtype=_U64), part)
            done += total
        keys.sort()
        kept, previous = 0, None
        for begin in range(0, len(keys), 1 << 22):  # deduplicate in place, a slice at a time
            piece = keys[begin : begin + (1 << 22)]
            fresh = np.ones(len(piece), dtype=bool)
            fresh[1:] = piece[1:] != piece[:-1]
            if previous is not None:
                fresh[0] = piece[0] != previous
            previous = piece[-1].copy()
            unique = piece[fresh]
            keys[kept : kept + len(unique)] = unique
            kept += len(unique)
        self.unique_keys = kept
        return keys[:kept]


def build_index(
    documents: Iterable[str],
    directory: Path | str,
    *,
    n: int = DEFAULT_N,
    tokenizer: Tokenizer = DEFAULT_TOKENIZER,
    progress: Progress | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    block_tokens: int = BLOCK_TOKENS,
) -> IndexInfo:
    """Index every n-token window of the documents into ``directory`` (created; it must not hold files).

    The files are written into a temporary directory beside it, renamed into place once complete.
    ``progress(bytes_read)`` is called after every chunk.
    """
    _check_n(n)
    if chunk_bytes < 64 or block_tokens < 1:
        raise MemorisationInputError("The chunk size must be at least 64 bytes and a block at least one token.")
    if isinstance(documents, str | bytes):
        raise MemorisationInputError("The corpus must be given as a sequence of documents, not as one string.")
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise MemorisationInputError(f"{directory} already exists and is not an empty directory; choose another place.")
    directory.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix=f".{directory.name}-building-", dir=directory.parent))
    builder = None
    try:
        builder = _Builder(workdir, n, tokenizer, chunk_bytes, block_tokens)
        for number, document in enumerate(documents):
            if not isinstance(document, str):
                raise MemorisationInputError(f"Document {number} of the corpus is {type(document).__name__}, not text.")
            before = builder.consumed
            builder.add(document)
            if progress is not None and builder.consumed != before:
                progress(builder.consumed)
        info = builder.finish(started)
        if progress is not None:
            progress(builder.consumed)
        if directory.exists():
            directory.rmdir()
        os.replace(workdir, directory)
    except BaseException:
        if builder is not None:
            builder.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return info


def _info(meta: dict[str, Any]) -> IndexInfo:
    return IndexInfo(
        n=meta["n"],
        tokenizer=meta["tokenizer"],
        documents=meta["documents"],
        tokens=meta["tokens"],
        windows=meta["windows"],
        index_bytes=meta["index_bytes"],
        corpus_bytes=meta["corpus_bytes"],
        seconds=meta["seconds"],
    )


# --- checking --------------------------------------------------------------------------------------


@dataclass
class _Tokens:
    """A NUL-separated buffer tokenised: token bytes, segment (document or output) of every token, windows."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    segments: np.ndarray
    window_starts: np.ndarray
    window_hashes: np.ndarray

    @classmethod
    def scan(cls, data: np.ndarray, tokenizer: Tokenizer, n: int) -> _Tokens:
        starts, ends, token_hashes = tokenizer.scan(data)
        segments = np.searchsorted(np.flatnonzero(data == 0), starts)
        window_starts, window_hashes = _windows_within(token_hashes, segments, n)
        return cls(data, starts, ends, segments, window_starts, window_hashes)

    def text(self, first: int, count: int) -> bytes:
        """Tokens first .. first + count - 1, each followed by a NUL (tokens hold no NUL)."""
        return b"".join(
            self.data[start:end].tobytes() + b"\0"
            for start, end in zip(
                self.starts[first : first + count].tolist(), self.ends[first : first + count].tolist(), strict=True
            )
        )


@dataclass
class _Chain:
    """Consecutive output windows found at consecutive places of the corpus (confirmed)."""

    first: int  # output token of the first window (batch numbering)
    windows: int
    place: int  # corpus byte offset of the first token


class MemorisationIndex:
    """A built index, opened read-only (the arrays are memory-mapped)."""

    def __init__(
        self,
        directory: Path,
        meta: dict[str, Any],
        keys: np.ndarray,
        blocks: np.ndarray,
        corpus: np.ndarray,
        tokenizer: Tokenizer,
    ) -> None:
        self.directory, self.meta, self.keys, self.blocks, self.corpus = directory, meta, keys, blocks, corpus
        self.tokenizer = tokenizer
        self.n: int = meta["n"]
        self.block_tokens: int = meta["block_tokens"]
        self.block_bits: int = meta["block_bits"]

    @classmethod
    def open(cls, directory: Path | str, *, tokenizer: Tokenizer = DEFAULT_TOKENIZER) -> MemorisationIndex:
        directory = Path(directory)
        damaged = f"The memorisation index in {directory} is damaged"
        try:
            meta = json.loads((directory / _META).read_text())
        except FileNotFoundError:
            raise MemorisationInputError(
                f"No memorisation index was found in {directory} (meta.json is missing; an interrupted build "
                "leaves none). Build the index again."
            )
        except (OSError, ValueError) as error:
            raise MemorisationInputError(f"{damaged}: meta.json cannot be read ({error}). Build it again.")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise MemorisationInputError(f"{damaged}: meta.json does not describe a memorisation index.")
        missing = [name for name in _META_FIELDS if name not in meta]
        if meta.get("version") != FORMAT_VERSION:
            raise MemorisationInputError(
                f"The memorisation index in {directory} has format version {meta.get('version')!r}; this version of "
                f"Custodia reads version {FORMAT_VERSION}. Build it again."
            )
        if missing:
            raise MemorisationInputError(f"{damaged}: meta.json lacks {', '.join(missing)}. Build it again.")
        if meta.get("tokenizer") != tokenizer.name:
            raise MemorisationInputError(
                f"The memorisation index in {directory} was built with the tokenizer '{meta.get('tokenizer')}', "
                f"so it cannot be queried with '{tokenizer.name}': the tokens would not be the same."
            )
        for name, size in meta["files"].items():
            path = directory / name
            if not path.is_file() or path.stat().st_size != size:
                found = f"{path.stat().st_size} bytes" if path.is_file() else "missing"
                raise MemorisationInputError(
                    f"{damaged}: {name} should have {size} bytes but is {found}. Build it again."
                )
        try:
            keys = np.load(directory / _KEYS, mmap_mode="r")
            blocks = np.load(directory / _BLOCKS)
            corpus = np.memmap(directory / _CORPUS, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as error:
            raise MemorisationInputError(f"{damaged}: {error}. Build it again.")
        if (
            keys.dtype != _U64
            or keys.shape != (meta.get("keys"),)
            or blocks.dtype != np.int64
            or blocks.shape != (meta.get("blocks"), 3)
            or len(corpus) != meta.get("corpus_bytes")
        ):
            raise MemorisationInputError(f"{damaged}: its files do not agree with meta.json. Build it again.")
        return cls(directory, meta, keys, blocks, corpus, tokenizer)

    @property
    def info(self) -> IndexInfo:
        return _info(self.meta)

    def check(self, outputs: Sequence[str]) -> list[OutputResult]:
        """How much of each output the corpus holds verbatim."""
        if isinstance(outputs, str | bytes):
            raise MemorisationInputError("The outputs to check must be a list of texts, not one string.")
        encoded = []
        for number, output in enumerate(outputs):
            if not isinstance(output, str):
                raise MemorisationInputError(f"Output {number} is {type(output).__name__}, not text.")
            encoded.append(_as_bytes(output))
        results: list[OutputResult] = []
        batch: list[bytes] = []
        size = 0
        for data in encoded:
            if batch and size + len(data) > OUTPUT_BATCH_BYTES:
                results += self._check_batch(batch)
                batch, size = [], 0
            batch.append(data)
            size += len(data) + 1
        if batch:
            results += self._check_batch(batch)
        return results

    def _check_batch(self, encoded: list[bytes]) -> list[OutputResult]:
        n, bits = self.n, self.block_bits
        buffer = b"\0".join(encoded) + b"\0"
        out = _Tokens.scan(np.frombuffer(buffer, dtype=np.uint8), self.tokenizer, n)
        bases = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum([len(data) + 1 for data in encoded[:-1]], out=bases[1:])
        token_counts = np.bincount(out.segments, minlength=len(encoded))
        first_tokens = np.concatenate(([0], np.cumsum(token_counts)[:-1]))
        truncated = np.zeros(len(encoded), dtype=bool)

        # Look the windows up in sorted order (searchsorted is far faster on sorted needles), then
        # find the few windows that hit by looking them up among the hits.
        block_mask = _U64((1 << bits) - 1)
        needles = out.window_hashes & ~block_mask
        ordered = _distinct(needles)
        low = np.searchsorted(self.keys, ordered, side="left")
        found = np.flatnonzero(low < len(self.keys))
        found = found[(np.asarray(self.keys[low[found]]) & ~block_mask) == ordered[found]]
        hit_values, hit_low = ordered[found], low[found]
        hit_counts = np.searchsorted(self.keys, hit_values | block_mask, side="right") - hit_low
        hit_windows, slot = _lookup(hit_values, needles)
        capped = hit_counts[slot] > MAX_BLOCKS_PER_WINDOW
        truncated[out.segments[out.window_starts[hit_windows[capped]]]] = True
        hit_counts = np.minimum(hit_counts, MAX_BLOCKS_PER_WINDOW)
        positions = np.repeat(hit_low, hit_counts) + _ranks(hit_counts)
        candidate_blocks = _distinct(np.asarray(self.keys[positions]) & block_mask).astype(np.int64)

        chains: list[_Chain] = []
        for intervals in self._pools(candidate_blocks):
            chains += self._confirm(out, hit_windows, intervals, truncated)

        matched = np.zeros(len(out.starts) + 1, dtype=np.int64)
        for chain in chains:
            matched[chain.first] += 1
            matched[chain.first + chain.windows] -= 1
        matched_at = np.cumsum(matched)[out.window_starts] > 0
        matched_counts = np.bincount(out.segments[out.window_starts[matched_at]], minlength=len(encoded))
        probed = out.window_starts[hit_windows]
        collided = probed[~matched_at[hit_windows]]
        collisions = np.bincount(out.segments[collided], minlength=len(encoded))

        by_output: dict[int, list[_Chain]] = {}
        for chain in chains:
            by_output.setdefault(int(out.segments[chain.first]), []).append(chain)
        results = []
        for number, data in enumerate(encoded):
            tokens = int(token_counts[number])
            windows = max(0, tokens - n + 1)
            spans = self._spans(by_output.get(number, []), out, data, int(bases[number]), int(first_tokens[number]))
            matched_windows = int(matched_counts[number])
            results.append(
                OutputResult(
                    tokens=tokens,
                    windows=windows,
                    matched_windows=matched_windows,
                    fraction=matched_windows / windows if windows else 0.0,
                    memorised=matched_windows > 0,
                    longest_span_tokens=max((span.tokens for span in spans), default=0),
                    spans=spans,
                    collisions=int(collisions[number]),
                    truncated=bool(truncated[number]),
                )
            )
        return results

    def _pools(self, candidate_blocks: np.ndarray) -> list[list[tuple[int, int]]]:
        """Byte ranges of the corpus to re-tokenise, grouped into pools of about POOL_BYTES.

        Block c's windows may reach n - 1 tokens into the following blocks, so c's range runs to the
        start of block c + 1 + ceil((n - 1) / block_tokens); overlapping or touching ranges are merged.
        """
        if not len(candidate_blocks):
            return []
        reach = 1 + -(-(self.n - 1) // self.block_tokens)
        total = len(self.blocks)
        breaks = np.flatnonzero(np.diff(candidate_blocks) > reach) + 1
        firsts = candidate_blocks[np.concatenate([[0], breaks])]
        lasts = np.minimum(candidate_blocks[np.concatenate([breaks - 1, [-1]])] + reach, total)
        offsets = np.append(self.blocks[:, 0], len(self.corpus))
        pools: list[list[tuple[int, int]]] = [[]]
        size = 0
        for begin, end in zip(offsets[firsts].tolist(), offsets[lasts].tolist(), strict=True):
            if pools[-1] and size + end - begin > POOL_BYTES:
                pools.append([])
                size = 0
            pools[-1].append((begin, end))
            size += end - begin + 1
        return pools

    def _confirm(
        self, out: _Tokens, hit_windows: np.ndarray, intervals: list[tuple[int, int]], truncated: np.ndarray
    ) -> list[_Chain]:
        """The confirmed chains between the outputs' windows and the windows of these corpus ranges."""
        n = self.n
        lengths = np.array([end - begin for begin, end in intervals], dtype=np.int64)
        pool_starts = np.zeros(len(intervals), dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=pool_starts[1:])
        data = np.zeros(int(lengths.sum()) + len(intervals), dtype=np.uint8)  # NUL after every range
        for (begin, end), at in zip(intervals, pool_starts.tolist(), strict=True):
            data[at : at + end - begin] = self.corpus[begin:end]
        pool = _Tokens.scan(data, self.tokenizer, n)
        wanted = out.window_hashes[hit_windows]
        values = _distinct(wanted)
        if not len(values):
            return []
        # The pool's windows with a wanted hash, grouped by hash, in corpus order within a hash.
        useful, slot = _lookup(values, pool.window_hashes)
        order = np.argsort(slot, kind="stable")
        slots, places = slot[order], pool.window_starts[useful][order]

        wanted_slot = np.searchsorted(values, wanted)
        low = np.searchsorted(slots, wanted_slot, side="left")
        counts = np.searchsorted(slots, wanted_slot, side="right") - low
        many = counts > MAX_PLACES_PER_WINDOW
        truncated[out.segments[out.window_starts[hit_windows[many]]]] = True
        counts = np.minimum(counts, MAX_PLACES_PER_WINDOW)
        if not counts.sum():
            return []
        first_tokens = np.repeat(out.window_starts[hit_windows], counts)
        pool_tokens = places[np.repeat(low, counts) + _ranks(counts)]

        # A chain is a run of pairs on one diagonal (pool token - output token) with consecutive tokens.
        diagonal = pool_tokens - first_tokens
        order = np.lexsort((first_tokens, diagonal))
        first_tokens, pool_tokens, diagonal = first_tokens[order], pool_tokens[order], diagonal[order]
        fresh = np.ones(len(order), dtype=bool)
        fresh[1:] = (diagonal[1:] != diagonal[:-1]) | (first_tokens[1:] != first_tokens[:-1] + 1)
        heads = np.flatnonzero(fresh)
        sizes = np.diff(np.append(heads, len(order)))

        chains = []
        for head, size in zip(heads.tolist(), sizes.tolist(), strict=True):
            first, place = int(first_tokens[head]), int(pool_tokens[head])
            if _same_tokens(out, first, pool, place, size + n - 1):
                runs = [(0, size)]
            else:  # a hash collision in the chain: confirm window by window
                good = [_same_tokens(out, first + k, pool, place + k, n) for k in range(size)]
                runs = _runs(good)
            for skip, count in runs:
                byte = int(pool.starts[place + skip])
                interval = int(np.searchsorted(pool_starts, byte, side="right")) - 1
                corpus_byte = intervals[interval][0] + byte - int(pool_starts[interval])
                chains.append(_Chain(first + skip, count, corpus_byte))
        return chains

    def _spans(self, chains: list[_Chain], out: _Tokens, data: bytes, base: int, first_token: int) -> list[Span]:
        n = self.n
        ordered = sorted(chains, key=lambda chain: (chain.first, -chain.windows, chain.place))
        spans, reach = [], -1
        for chain in ordered:
            last = chain.first + chain.windows + n - 2  # the span's last output token
            if last <= reach:
                continue  # contained in a span listed already
            reach = last
            start_byte = int(out.starts[chain.first]) - base
            end_byte = int(out.ends[last]) - base
            start = len(_decode(data[:start_byte]))
            document, offset = self._locate(chain.place)
            spans.append(
                Span(
                    start=start,
                    end=start + len(_decode(data[start_byte:end_byte])),
                    tokens=chain.windows + n - 1,
                    document=document,
                    offset=offset,
                    token_start=chain.first - first_token,
                    token_end=last + 1 - first_token,
                )
            )
        return spans

    def _locate(self, place: int) -> tuple[int, int]:
        """The document number and character offset of a corpus byte offset."""
        block = int(np.searchsorted(self.blocks[:, 0], place, side="right")) - 1
        begin, document, chars = (int(value) for value in self.blocks[block])
        between = np.asarray(self.corpus[begin:place])
        nuls = np.flatnonzero(between == 0)
        if len(nuls):
            return document + len(nuls), _characters(between[int(nuls[-1]) + 1 :])
        return document, chars + _characters(between)


def _same_tokens(a: _Tokens, a_first: int, b: _Tokens, b_first: int, count: int) -> bool:
    """Whether count tokens from a_first in a are the same byte strings as those from b_first in b."""
    a_starts, a_ends = a.starts[a_first : a_first + count], a.ends[a_first : a_first + count]
    b_starts, b_ends = b.starts[b_first : b_first + count], b.ends[b_first : b_first + count]
    a_bytes = a.data[a_starts[0] : a_ends[-1]]
    b_bytes = b.data[b_starts[0] : b_ends[-1]]
    if (
        len(a_bytes) == len(b_bytes)
        and np.array_equal(a_starts - a_starts[0], b_starts - b_starts[0])
        and np.array_equal(a_ends - a_starts[0], b_ends - b_starts[0])
        and a_bytes.tobytes() == b_bytes.tobytes()
    ):
        return True  # the same text, whitespace and all: the usual case, one comparison
    return a.text(a_first, count) == b.text(b_first, count)  # token by token, whatever the whitespace


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values (np.unique hashes large integer arrays, which is far slower here)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _lookup(values: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which queries occur in the sorted, distinct hashes ``values``, and where: (query indices, value indices).

    A bit table on the hashes' top bits rules most queries out first, because binary searches of
    millions of unsorted queries are slow even in a small array (cache misses).
    """
    if not len(values) or not len(queries):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    bits = min(26, max(10, (16 * len(values)).bit_length()))
    shift = _U64(64 - bits)
    table = np.zeros(1 << bits, dtype=bool)
    table[values >> shift] = True
    maybe = np.flatnonzero(table[queries >> shift])
    slot = np.minimum(np.searchsorted(values, queries[maybe]), len(values) - 1)
    present = values[slot] == queries[maybe]
    return maybe[present], slot[present]


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[0] - 1, 0, 1, ..., counts[1] - 1, ... (the position within each group)."""
    total = int(counts.sum())
    firsts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=firsts[1:])
    return np.arange(total, dtype=np.int64) - np.repeat(firsts, counts)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first index, length) of every run of True."""
    runs, begin = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and begin is None:
            begin = index
        elif not flag and begin is not None:
            runs.append((begin, index - begin))
            begin = None
    return runs
