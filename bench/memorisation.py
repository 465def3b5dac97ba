#!/usr/bin/env python
"""Benchmark: the memorisation check's verbatim-overlap index on a 100-million-token corpus.

Run with no arguments (``.venv/bin/python bench/memorisation.py``); it needs no database, no
Django and no download. It generates a seeded corpus (``MEMO_BENCH_TOKENS``, 100,000,000 by
default): word ids drawn from a Zipf-like law over a 5,000-word vocabulary (short frequent words,
some with Spanish accents, commas and full stops), joined into documents of 100 to 500 tokens.
Then, in the same run:

* builds the index of every 50-token window (``build_index``, default settings) and reports the
  build time and the index's bytes per token — the sorted key array, the block table and
  meta.json; the copy of the corpus text kept for confirming hits is reported separately;
* checks 10,000 outputs of 256 tokens against it, one output in ten holding a verbatim passage of
  50 to 200 tokens copied from a random document, and asserts that every planted passage is
  found, with a span that covers it and whose place in the corpus holds the same text, and that
  no other output matches (the process exits non-zero otherwise);
* builds a plain Python ``set`` of 50-token tuples (the tokens from ``tokenize``) over a slice of
  the same corpus — its first documents, about 1% of the tokens, as the set of the whole corpus
  would need some 50 GB — and times the same 10,000 outputs against it; its memory is
  ``sys.getsizeof`` of the set, its tuples and their token strings. Our index is built over the
  same slice too, for a like-for-like build time.

Every result is printed as ``figure <name> <value> <unit>``. Timings are wall-clock on a shared
two-core machine; the index files are in the page cache when checked (they were just written).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from audits.checks import memorisation as memo  # noqa: E402
from bench.reporting import figure, note  # noqa: E402

TOKENS = int(os.environ.get("MEMO_BENCH_TOKENS", "100000000"))
OUTPUTS = 10_000
OUTPUT_TOKENS = 256
PLANT_EVERY = 10
SLICE_TOKENS = TOKENS // 100
VOCABULARY = 5_000
SEED = 20260611
N = memo.DEFAULT_N


@dataclass
class Planted:
    """A passage copied verbatim from the corpus into an output, and where it is in the output."""

    output: int
    document: int
    tokens: int
    start: int
    end: int


def vocabulary(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Words (shorter when frequent) and their Zipf-like probabilities."""
    letters = np.array(list("etaoinshrdlucmfwypvbgkqjxz"))
    accented = np.array(list("áéíóúñü"))
    words: list[str] = [",", "."]
    seen = set(words)
    while len(words) < VOCABULARY:
        rank = len(words)
        length = int(np.clip(rng.normal(2.5 + 1.4 * np.log10(rank), 1.5), 1, 14))
        chars = rng.choice(letters, length, p=None)
        if rng.random() < 0.05:
            chars[rng.integers(length)] = rng.choice(accented)
        word = "".join(chars)
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.07
    return words, weights / weights.sum()


def generate_corpus(tokens: int, rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """Documents of 100-500 tokens separated by single spaces, built as bytes 1M tokens at a time."""
    words, probabilities = vocabulary(rng)
    encoded = [word.encode() + b" " for word in words]
    table = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    sizes = np.array([len(word) for word in encoded], dtype=np.int64)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    cumulative = np.cumsum(probabilities)
    documents: list[str] = []
    made = 0
    while made < tokens:
        target = min(1_000_000, tokens - made)
        lengths = rng.integers(100, 501, size=target // 100 + 1)
        lengths = lengths[np.cumsum(lengths) <= target]
        if lengths.sum() < target:
            lengths = np.append(lengths, target - lengths.sum())
        ids = np.minimum(np.searchsorted(cumulative, rng.random(int(lengths.sum()))), VOCABULARY - 1)
        token_sizes = sizes[ids]
        ends = np.cumsum(token_sizes)
        source = np.repeat(firsts[ids] - (ends - token_sizes), token_sizes) + np.arange(int(ends[-1]))
        text = table[source]
        text[ends[np.cumsum(lengths) - 1] - 1] = ord("\n")
        documents += text.tobytes().decode().split("\n")[:-1]
        made += int(lengths.sum())
    return documents, words, probabilities


def make_outputs(
    documents: list[str], words: list[str], probabilities: np.ndarray, slice_documents: int, rng: np.random.Generator
) -> tuple[list[str], list[Planted]]:
    """Outputs of 256 tokens: unrelated text, one in ten with a verbatim passage (some from the slice)."""
    cumulative = np.cumsum(probabilities)
    outputs, planted = [], []
    for number in range(OUTPUTS):
        ids = np.minimum(np.searchsorted(cumulative, rng.random(OUTPUT_TOKENS)), VOCABULARY - 1)
        filler = [words[k] for k in ids.tolist()]
        if number % PLANT_EVERY:
            outputs.append(" ".join(filler))
            continue
        from_slice = number % (PLANT_EVERY * 10) == 0
        document = int(rng.integers(slice_documents if from_slice else len(documents)))
        source = documents[document].split(" ")
        length = int(rng.integers(N, min(200, len(source)) + 1))
        begin = int(rng.integers(len(source) - length + 1))
        passage = source[begin : begin + length]
        at = int(rng.integers(OUTPUT_TOKENS - length + 1))
        head = " ".join(filler[:at])
        start = len(head) + (1 if head else 0)
        text = " ".join([*filler[:at], *passage, *filler[at + length :]][:OUTPUT_TOKENS])
        outputs.append(text)
        planted.append(Planted(number, document, length, start, start + len(" ".join(passage))))
    return outputs, planted


def verify(documents: list[str], outputs: list[str], planted: list[Planted], results: list) -> list[str]:
    """What the check got wrong: a planted passage missed or misplaced, or an unplanted output matched."""
    problems = []
    expected = {plant.output: plant for plant in planted}
    for number, (output, result) in enumerate(zip(outputs, results, strict=True)):
        plant = expected.get(number)
        if plant is None:
            if result.memorised:
                problems.append(f"output {number} has no planted passage but matched {result.matched_windows} windows")
            continue
        covering = [span for span in result.spans if span.start <= plant.start and span.end >= plant.end]
        if result.longest_span_tokens < plant.tokens or not covering:
            problems.append(f"output {number}: planted {plant.tokens} tokens, found {result.longest_span_tokens}")
            continue
        span = covering[0]
        text = output[span.start : span.end]
        if documents[span.document][span.offset : span.offset + len(text)] != text:
            problems.append(f"output {number}: the span's place in the corpus holds other text")
    return problems


def baseline_set(documents: list[str]) -> tuple[float, set[tuple[str, ...]], int]:
    """A set of every 50-token tuple of the documents: seconds, the set, its bytes with tuples and tokens."""
    started = time.perf_counter()
    grams: set[tuple[str, ...]] = set()
    token_lists = []
    for document in documents:
        tokens = memo.tokenize(document)
        token_lists.append(tokens)
        grams.update(tuple(tokens[at : at + N]) for at in range(len(tokens) - N + 1))
    seconds = time.perf_counter() - started
    size = sys.getsizeof(grams) + sum(sys.getsizeof(gram) for gram in grams)
    size += sum(sys.getsizeof(token) for tokens in token_lists for token in tokens)
    return seconds, grams, size


def baseline_check(grams: set[tuple[str, ...]], outputs: list[str]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    fractions = []
    for output in outputs:
        tokens = memo.tokenize(output)
        windows = [tuple(tokens[at : at + N]) for at in range(len(tokens) - N + 1)]
        fractions.append(sum(window in grams for window in windows) / len(windows) if windows else 0.0)
    return time.perf_counter() - started, fractions


def index_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.name != "corpus.bin")


def main() -> int:
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    documents, words, probabilities = generate_corpus(TOKENS, rng)
    note(f"generated {TOKENS:,} tokens in {len(documents):,} documents in {time.perf_counter() - started:.1f} s")
    slice_documents = slice_tokens = 0
    while slice_tokens < SLICE_TOKENS:
        slice_tokens += len(documents[slice_documents].split(" "))
        slice_documents += 1
    outputs, planted = make_outputs(documents, words, probabilities, slice_documents, rng)
    failures: list[str] = []

    with tempfile.TemporaryDirectory(prefix="custodia-bench-memo-") as tmp:
        directory = Path(tmp) / "index"
        started, cpu = time.perf_counter(), time.process_time()
        info = memo.build_index(documents, directory)
        build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert info.tokens == TOKENS, info
        note(
            f"index: {info.tokens:,} tokens, {info.windows:,} windows, index files {info.index_bytes / 1e6:.0f} MB, "
            f"corpus copy {info.corpus_bytes / 1e6:.0f} MB; build CPU {build_cpu:.1f} s"
        )
        index = memo.MemorisationIndex.open(directory)
        index.check(outputs[:10])  # warm-up: imports, power tables
        started = time.perf_counter()
        results = index.check(outputs)
        check_seconds = time.perf_counter() - started
        failures += verify(documents, outputs, planted, results)
        note(
            f"check: {sum(result.memorised for result in results)} of {OUTPUTS} outputs memorised "
            f"({len(planted)} planted), {sum(result.collisions for result in results)} hash collisions rejected, "
            f"{sum(result.truncated for result in results)} truncated"
        )
        started = time.perf_counter()
        slice_info = memo.build_index(documents[:slice_documents], Path(tmp) / "slice")
        slice_seconds = time.perf_counter() - started
        slice_results = memo.MemorisationIndex.open(Path(tmp) / "slice").check(outputs)
        index_bytes = index_size(directory)

    set_seconds, grams, set_bytes = baseline_set(documents[:slice_documents])
    set_check_seconds, fractions = baseline_check(grams, outputs)
    del grams
    note(
        f"baseline slice: the first {slice_documents:,} documents, {slice_tokens:,} tokens "
        f"({100 * slice_tokens / TOKENS:.1f}% of the corpus); a set of 50-token tuples of tokenize() tokens, "
        f"sized with sys.getsizeof (set + tuples + token strings); at this rate the whole corpus would need "
        f"{set_bytes / slice_tokens * TOKENS / 1e9:.0f} GB"
    )
    from_slice = [plant.output for plant in planted if plant.document < slice_documents]
    if any(fractions[number] == 0 for number in from_slice):
        failures.append("the baseline set missed a passage planted from its slice")
    mismatched = sum(abs(fractions[number] - result.fraction) > 1e-12 for number, result in enumerate(slice_results))
    if mismatched:
        failures.append(f"the set and our index over the slice disagree on {mismatched} outputs")
    note(f"{len(from_slice)} outputs planted from the slice: found by the set and by our index of the slice alike")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figure("memo_index_bytes_per_token", index_bytes / info.tokens, "bytes")
    figure("memo_corpus_copy_bytes_per_token", info.corpus_bytes / info.tokens, "bytes")
    figure("memo_index_build_seconds", build_seconds, "s")
    figure("memo_check_seconds", check_seconds, "s")
    figure("memo_check_outputs_per_second", OUTPUTS / check_seconds, "outputs/s")
    figure("memo_slice_index_build_seconds", slice_seconds, "s")
    figure("memo_slice_index_bytes_per_token", slice_info.index_bytes / slice_info.tokens, "bytes")
    figure("memo_baseline_set_bytes_per_token", set_bytes / slice_tokens, "bytes")
    figure("memo_baseline_set_build_seconds", set_seconds, "s")
    figure("memo_baseline_set_check_seconds", set_check_seconds, "s")
    figure("memo_bench_peak_rss_mb", peak_mb, "MB")
    goals = [
        ("index ≤ 8 bytes per token", index_bytes / info.tokens <= 8),
        ("build ≤ 120 s", build_seconds <= 120),
        ("check ≤ 10 s", check_seconds <= 10),
    ]
    note("goals: " + "; ".join(f"{goal} {'met' if met else 'NOT met'}" for goal, met in goals))
    for failure in failures[:20]:
        note(f"FAILED {failure}")
    if failures:
        note(f"{len(failures)} problems")
        return 1
    note(f"all {len(planted)} planted passages found at their place; no other output matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
