"""The memorisation check's verbatim-overlap index, checked against a plain-Python reference on the same texts."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from audits.checks import memorisation as memo

# words-v1 written independently as a regular expression over characters: every non-ASCII
# character is a word character (its UTF-8 bytes are >= 0x80), ASCII punctuation stands alone.
REFERENCE_TOKEN = re.compile(r"[A-Za-z0-9_\u0080-\U0010FFFF]+|[!-/:-@\[-^`{-~]")


def reference_tokens(text: str) -> list[tuple[str, int, int]]:
    return [(found.group(), found.start(), found.end()) for found in REFERENCE_TOKEN.finditer(text.replace("\0", " "))]


def reference_check(documents: Sequence[str], outputs: Sequence[str], n: int) -> list[dict]:
    """Every n-gram of every document in a dict; spans by extending every left-maximal match."""
    corpus = [reference_tokens(document) for document in documents]
    places: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    for number, tokens in enumerate(corpus):
        words = [token for token, _, _ in tokens]
        for at in range(len(words) - n + 1):
            places[tuple(words[at : at + n])].append((number, at))
    results = []
    for output in outputs:
        tokens = reference_tokens(output)
        words = [token for token, _, _ in tokens]
        windows = max(0, len(words) - n + 1)
        matched = [at for at in range(windows) if tuple(words[at : at + n]) in places]
        found = []
        for at in matched:
            for number, place in places[tuple(words[at : at + n])]:
                document = [token for token, _, _ in corpus[number]]
                if at > 0 and place > 0 and words[at - 1] == document[place - 1]:
                    continue  # not left-maximal: the same copy starts earlier
                length = n
                while at + length < len(words) and place + length < len(document):
                    if words[at + length] != document[place + length]:
                        break
                    length += 1
                found.append((at, length, number, place))
        spans, reach = [], -1
        for at, length, number, place in sorted(found, key=lambda item: (item[0], -item[1], item[2], item[3])):
            if at + length - 1 <= reach:
                continue
            reach = at + length - 1
            spans.append(
                {
                    "start": tokens[at][1],
                    "end": tokens[at + length - 1][2],
                    "tokens": length,
                    "document": number,
                    "offset": corpus[number][place][1],
                    "token_start": at,
                    "token_end": at + length,
                }
            )
        results.append(
            {
                "tokens": len(words),
                "windows": windows,
                "matched_windows": len(matched),
                "fraction": len(matched) / windows if windows else 0.0,
                "memorised": bool(matched),
                "longest_span_tokens": max((span["tokens"] for span in spans), default=0),
                "spans": spans,
                "collisions": 0,
                "truncated": False,
            }
        )
    return results


def words(rng: random.Random, count: int) -> str:
    """Unrelated prose from a large vocabulary, so no 50-token passage repeats by chance."""
    return " ".join(f"w{rng.randrange(100_000)}" for _ in range(count))


def build(tmp_path: Path, documents: Sequence[str], name: str = "index", **options) -> memo.MemorisationIndex:
    memo.build_index(documents, tmp_path / name, **options)
    return memo.MemorisationIndex.open(tmp_path / name, tokenizer=options.get("tokenizer", memo.DEFAULT_TOKENIZER))


def results_as_dicts(index: memo.MemorisationIndex, outputs: Sequence[str]) -> list[dict]:
    return [result.to_dict() for result in index.check(outputs)]


@pytest.fixture
def corpus() -> list[str]:
    rng = random.Random(7)
    return [words(rng, rng.randrange(150, 400)) for _ in range(40)]


class ConstantTokenizer:
    """words-v1 tokens, but every token hashes to 42: every window of the index collides with every other."""

    name = "constant-test"

    def scan(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts, ends, hashes = memo.DEFAULT_TOKENIZER.scan(data)
        return starts, ends, np.full(len(hashes), 42, dtype=np.uint64)


# --- tokens -----------------------------------------------------------------------------------------


def test_words_v1_keeps_accented_words_whole_and_splits_ascii_punctuation() -> None:
    text = "¿Qué tal, Muñoz?\tfoo_bar=3.14\n«naïve» 日本語  "
    assert memo.tokenize(text) == [
        "¿Qué",
        "tal",
        ",",
        "Muñoz",
        "?",
        "foo_bar",
        "=",
        "3",
        ".",
        "14",
        "«naïve»",
        "日本語",
    ]
    assert memo.tokenize(text) == [token for token, _, _ in reference_tokens(text)]


def test_tokens_of_random_text_equal_the_regular_expression_reference() -> None:
    rng = random.Random(3)
    alphabet = "ab Z9_ ,.;-()\t\n\r\x0b\x7f\x01é ñ€😀\u00a0¿\ud800"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(60)))
        assert memo.tokenize(text) == [token for token, _, _ in reference_tokens(text)], repr(text)


def test_tokens_longer_than_the_hashing_loop_hash_by_their_bytes_only() -> None:
    long_word = "x" * 37 + "é" * 50 + "y" * 101
    data = f"{long_word} a {long_word} {long_word}z".encode()
    _, _, hashes = memo.DEFAULT_TOKENIZER.scan(np.frombuffer(data, dtype=np.uint8))
    assert hashes[0] == hashes[2]
    assert hashes[0] != hashes[3]
    assert len(set(hashes.tolist())) == 3


# --- planted copies ---------------------------------------------------------------------------------


def test_a_planted_73_token_passage_is_found_with_its_exact_span(tmp_path: Path, corpus: list[str]) -> None:
    index = build(tmp_path, corpus)
    source = corpus[12].split(" ")
    passage = " ".join(source[40:113])
    output = f"Here is what I remember: {passage}, and that is all."
    [result] = index.check([output])
    assert result.memorised
    assert result.longest_span_tokens == 73
    assert result.matched_windows == 73 - 50 + 1
    assert result.windows == len(memo.tokenize(output)) - 49
    assert result.fraction == pytest.approx(24 / result.windows)
    assert result.collisions == 0
    [span] = result.spans
    assert output[span.start : span.end] == passage
    assert span.tokens == 73
    assert memo.tokenize(output)[span.token_start : span.token_end] == memo.tokenize(passage)
    assert span.document == 12
    assert corpus[12][span.offset : span.offset + len(passage)] == passage


def test_every_planted_copy_of_at_least_n_tokens_is_found(tmp_path: Path, corpus: list[str]) -> None:
    rng = random.Random(11)
    index = build(tmp_path, corpus)
    outputs, planted = [], []
    for _ in range(60):
        number = rng.randrange(len(corpus))
        source = corpus[number].split(" ")
        length = rng.randrange(50, min(140, len(source)))
        begin = rng.randrange(len(source) - length + 1)
        passage = " ".join(source[begin : begin + length])
        outputs.append(f"{words(rng, rng.randrange(0, 80))} {passage} {words(rng, rng.randrange(0, 80))}".strip())
        planted.append((passage, length, number))
    for output, result, (passage, length, number) in zip(outputs, index.check(outputs), planted, strict=True):
        assert result.longest_span_tokens == length
        [span] = result.spans
        assert (output[span.start : span.end], span.document) == (passage, number)
        assert corpus[number][span.offset : span.offset + len(passage)] == passage


def test_unrelated_text_and_copies_shorter_than_n_find_nothing(tmp_path: Path, corpus: list[str]) -> None:
    index = build(tmp_path, corpus)
    short_copy = " ".join(corpus[3].split(" ")[10:59])  # 49 tokens
    outputs = [words(random.Random(99), 300), short_copy, "", "   ", "one two three"]
    for result in index.check(outputs):
        assert not result.memorised
        assert (result.matched_windows, result.longest_span_tokens, result.spans, result.fraction) == (0, 0, [], 0.0)
        assert result.collisions == 0
    assert [result.windows for result in index.check(outputs)] == [251, 0, 0, 0, 0]


def test_windows_never_cross_a_document_boundary(tmp_path: Path) -> None:
    rng = random.Random(5)
    first, second, third = words(rng, 30), words(rng, 30), words(rng, 100)
    index = build(tmp_path, [first, second, third])
    [across, inside] = index.check([f"{first} {second}", f"{second} {third}"])
    assert not across.memorised
    assert inside.longest_span_tokens == 100
    assert inside.spans[0].start == len(second) + 1


def test_a_passage_repeated_in_the_corpus_is_reported_at_its_first_place(tmp_path: Path) -> None:
    rng = random.Random(8)
    passage = words(rng, 60)
    documents = [words(rng, 80), f"{words(rng, 10)} {passage}", f"{passage} {words(rng, 5)}"]
    index = build(tmp_path, documents)
    [result] = index.check([passage])
    assert result.longest_span_tokens == 60
    assert [(span.document, span.offset) for span in result.spans] == [(1, documents[1].index(passage))]


def test_overlapping_copies_from_two_places_are_both_listed(tmp_path: Path) -> None:
    rng = random.Random(12)
    a, b, c = words(rng, 40), words(rng, 40), words(rng, 40)
    documents = [f"{a} {b} {words(rng, 20)}", f"{words(rng, 20)} {b} {c}"]
    index = build(tmp_path, documents)
    [result] = index.check([f"{a} {b} {c}"])
    assert [(span.tokens, span.document) for span in result.spans] == [(80, 0), (80, 1)]
    assert result.matched_windows == 2 * (80 - 49)  # windows 31-39 straddle both copies
    assert result.longest_span_tokens == 80


def test_spanish_text_with_accents_gives_character_offsets(tmp_path: Path) -> None:
    rng = random.Random(21)
    vocabulary = ["canción", "árbol", "niño", "pingüino", "acción", "él", "está", "aquí", "¿por", "qué?", "Muñoz"]
    documents = [" ".join(rng.choice(vocabulary) + str(rng.randrange(50)) for _ in range(200)) for _ in range(5)]
    index = build(tmp_path, documents)
    passage = " ".join(documents[3].split(" ")[17:77])
    output = f"«Cita»: {passage} — fin."
    [result, without_accents] = index.check([output, output.replace("ó", "o")])
    [span] = result.spans
    assert output[span.start : span.end] == passage
    assert documents[3][span.offset : span.offset + len(passage)] == passage
    assert without_accents.longest_span_tokens < 60


def test_a_nul_inside_a_document_is_a_space_and_keeps_offsets(tmp_path: Path) -> None:
    rng = random.Random(4)
    head, passage = words(rng, 20), words(rng, 60)
    index = build(tmp_path, [f"{head}\0{passage}"])
    [result] = index.check([passage])
    assert (result.spans[0].document, result.spans[0].offset) == (0, len(head) + 1)


def test_whitespace_differences_do_not_hide_a_copy(tmp_path: Path, corpus: list[str]) -> None:
    index = build(tmp_path, corpus)
    passage = corpus[0].split(" ")[:70]
    [result, same_length] = index.check(
        ["\n".join(passage[:35]) + "\t\t" + "  ".join(passage[35:]), "\n".join(passage)]
    )
    assert result.longest_span_tokens == same_length.longest_span_tokens == 70


# --- chunks, blocks, collisions -----------------------------------------------------------------------


def test_tiny_chunks_give_the_same_index_and_results(tmp_path: Path, corpus: list[str]) -> None:
    long_document = " ".join(corpus)  # one document over hundreds of chunks of 100 bytes
    documents = [*corpus[:5], long_document, *corpus[5:]]
    memo.build_index(documents, tmp_path / "default", block_tokens=64)
    memo.build_index(documents, tmp_path / "tiny", block_tokens=64, chunk_bytes=100)
    for name in ("keys.npy", "blocks.npy", "corpus.bin"):
        assert (tmp_path / "default" / name).read_bytes() == (tmp_path / "tiny" / name).read_bytes(), name
    passage = " ".join(long_document.split(" ")[5000:5120])
    default, tiny = memo.MemorisationIndex.open(tmp_path / "default"), memo.MemorisationIndex.open(tmp_path / "tiny")
    assert results_as_dicts(tiny, [passage]) == results_as_dicts(default, [passage])
    [result] = tiny.check([passage])
    assert result.longest_span_tokens == 120
    assert documents[result.spans[0].document][result.spans[0].offset :].startswith(passage)


def test_a_word_longer_than_a_chunk_is_cut_and_the_rest_still_matches(tmp_path: Path) -> None:
    rng = random.Random(2)
    blob, passage = "z" * 500, words(rng, 60)
    index = build(tmp_path, [f"{blob} {passage}"], chunk_bytes=128)
    [result] = index.check([passage])
    assert result.longest_span_tokens == 60
    assert result.spans[0].offset == 501


def test_copies_spanning_many_blocks_are_one_span(tmp_path: Path, corpus: list[str]) -> None:
    index = build(tmp_path, corpus, block_tokens=3)
    passage = " ".join(corpus[7].split(" ")[:150])
    [result] = index.check([passage])
    assert [(span.tokens, span.document, span.offset) for span in result.spans] == [(150, 7, 0)]


def test_a_forced_hash_collision_is_rejected_on_the_text(tmp_path: Path) -> None:
    rng = random.Random(6)
    documents = [words(rng, 25) for _ in range(3)]
    index = build(tmp_path, documents, n=5, tokenizer=ConstantTokenizer())
    passage = " ".join(documents[1].split(" ")[3:12])
    [unrelated, copied] = index.check([words(rng, 20), f"x y {passage} z"])
    assert not unrelated.memorised
    assert unrelated.collisions == unrelated.windows == 16
    assert copied.longest_span_tokens == 9
    assert copied.spans[0].document == 1
    assert copied.collisions == copied.windows - copied.matched_windows == 3
    assert not copied.truncated


def test_narrow_hashes_give_the_reference_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = memo._window_hashes
    monkeypatch.setattr(memo, "_window_hashes", lambda hashes, n: real(hashes, n) & np.uint64(0xFFF << 20))
    rng = random.Random(13)
    vocabulary = ["a", "b", "c", "d", "é", ",", "ñu"]
    documents = [" ".join(rng.choices(vocabulary, k=rng.randrange(5, 60))) for _ in range(20)]
    outputs = [" ".join(rng.choices(vocabulary, k=40)) for _ in range(20)]
    index = build(tmp_path, documents, n=4, block_tokens=5)
    results = index.check(outputs)
    assert sum(result.collisions for result in results) > 0
    assert [{**result.to_dict(), "collisions": 0} for result in results] == reference_check(documents, outputs, 4)


def test_windows_found_in_too_many_places_mark_the_result_truncated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = build(tmp_path, ["la " * 60], n=5)  # 56 places per window
    [plain] = index.check(["la " * 30])
    assert (plain.longest_span_tokens, plain.truncated) == (30, False)
    monkeypatch.setattr(memo, "MAX_PLACES_PER_WINDOW", 3)
    [capped] = index.check(["la " * 30])
    assert capped.truncated
    assert capped.memorised
    assert 5 <= capped.longest_span_tokens <= 30


def test_small_batches_and_pools_give_the_same_results(
    tmp_path: Path, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(17)
    index = build(tmp_path, corpus, block_tokens=16)
    outputs = [" ".join(corpus[k].split(" ")[k : k + 55 + k]) + " " + words(rng, 20) for k in range(0, 40, 3)]
    expected = results_as_dicts(index, outputs)
    monkeypatch.setattr(memo, "OUTPUT_BATCH_BYTES", 500)
    monkeypatch.setattr(memo, "POOL_BYTES", 200)
    assert results_as_dicts(index, outputs) == expected
    assert all(result["memorised"] for result in expected)


@pytest.mark.parametrize("seed", range(40))
def test_random_small_corpora_agree_with_the_naive_reference(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = ["a", "b", "la", "ñu", "é", "x1", "_", ",", ".", "¿", "«hola»", "日本", "😀", "\ud800"]
    if seed % 2:  # mostly unique n-grams: every place of every window shows
        vocabulary += [f"v{k}" for k in range(300)]
    gaps = [" ", " ", " ", "  ", "\n", "\t", "", "\0", "\x0b"]
    n = rng.randrange(2, 12 if seed % 2 else 7)

    def text(count: int) -> str:
        return "".join(rng.choice(vocabulary) + rng.choice(gaps) for _ in range(count))

    documents = [text(rng.randrange(0, 50)) for _ in range(rng.randrange(1, 15))]
    outputs = []
    for _ in range(12):
        pieces = [text(rng.randrange(0, 8))]
        for _ in range(rng.randrange(0, 3)):
            source = rng.choice(documents)
            begin = rng.randrange(len(source) + 1)
            pieces.append(source[begin : begin + rng.randrange(40)])
            pieces.append(text(rng.randrange(0, 3)))
        outputs.append(rng.choice(gaps).join(pieces))
    expected = reference_check(documents, outputs, n)
    options = {"n": n, "block_tokens": rng.randrange(1, 40), "chunk_bytes": rng.choice([64, 100, 1000])}
    if not any(len(reference_tokens(document)) >= n for document in documents):
        with pytest.raises(memo.MemorisationInputError):
            memo.build_index(documents, tmp_path / "index", **options)
        return
    index = build(tmp_path, documents, **options)
    assert results_as_dicts(index, outputs) == expected
    memo.build_index(documents, tmp_path / "one-chunk", **{**options, "chunk_bytes": 1 << 20})
    for name in ("keys.npy", "blocks.npy", "corpus.bin"):
        assert (tmp_path / "index" / name).read_bytes() == (tmp_path / "one-chunk" / name).read_bytes(), name


# --- storage and errors -------------------------------------------------------------------------------


def test_a_reopened_index_gives_the_same_results_and_info(tmp_path: Path, corpus: list[str]) -> None:
    info = memo.build_index(corpus, tmp_path / "index")
    outputs = [" ".join(corpus[2].split(" ")[5:90]), words(random.Random(1), 100)]
    first = results_as_dicts(memo.MemorisationIndex.open(tmp_path / "index"), outputs)
    again = memo.MemorisationIndex.open(tmp_path / "index")
    assert results_as_dicts(again, outputs) == first
    assert again.info == info
    assert info.documents == 40
    assert info.tokens == sum(len(document.split(" ")) for document in corpus)
    assert info.windows == sum(len(document.split(" ")) - 49 for document in corpus)
    assert info.corpus_bytes == sum(len(document) + 1 for document in corpus)
    files = [path for path in (tmp_path / "index").iterdir() if path.name != "corpus.bin"]
    assert info.index_bytes == sum(path.stat().st_size for path in files)
    assert info.index_bytes <= 8 * info.tokens + 1000
    json.dumps([info.to_dict(), first])


def test_progress_reports_the_bytes_read(tmp_path: Path, corpus: list[str]) -> None:
    seen: list[int] = []
    info = memo.build_index(corpus, tmp_path / "index", chunk_bytes=2000, progress=seen.append)
    assert seen == sorted(seen)
    assert len(seen) > 10
    assert seen[-1] == info.corpus_bytes


def test_a_corpus_without_a_long_enough_passage_is_refused(tmp_path: Path) -> None:
    for documents in ([], ["", "   "], ["a short document", "another one"]):
        with pytest.raises(memo.MemorisationInputError) as raised:
            memo.build_index(documents, tmp_path / "index")
        assert str(raised.value).startswith("The training corpus has no passage of 50 tokens")
        assert not (tmp_path / "index").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path, corpus: list[str]) -> None:
    def documents():
        yield from corpus
        raise RuntimeError("the dataset file vanished")

    with pytest.raises(RuntimeError):
        memo.build_index(documents(), tmp_path / "index", chunk_bytes=1000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [1, 0, -3, 2.5, True])
def test_a_window_shorter_than_two_tokens_is_refused(tmp_path: Path, n: object) -> None:
    with pytest.raises(memo.MemorisationInputError, match="at least 2 tokens"):
        memo.build_index(["a b c"], tmp_path / "index", n=n)  # type: ignore[arg-type]


def test_bad_documents_and_outputs_are_refused(tmp_path: Path, corpus: list[str]) -> None:
    with pytest.raises(memo.MemorisationInputError, match="Document 1 of the corpus is bytes"):
        memo.build_index(["a", b"b"], tmp_path / "index")  # type: ignore[list-item]
    with pytest.raises(memo.MemorisationInputError, match="not as one string"):
        memo.build_index("one long string", tmp_path / "index")
    index = build(tmp_path, corpus)
    with pytest.raises(memo.MemorisationInputError, match="not one string"):
        index.check("an output")
    with pytest.raises(memo.MemorisationInputError, match="Output 1 is NoneType"):
        index.check(["fine", None])  # type: ignore[list-item]


def test_an_existing_index_is_not_overwritten(tmp_path: Path, corpus: list[str]) -> None:
    memo.build_index(corpus, tmp_path / "index")
    with pytest.raises(memo.MemorisationInputError, match="already exists"):
        memo.build_index(corpus, tmp_path / "index")


def test_querying_with_another_tokenizer_is_refused(tmp_path: Path, corpus: list[str]) -> None:
    memo.build_index(corpus, tmp_path / "index", tokenizer=ConstantTokenizer())
    with pytest.raises(memo.MemorisationInputError) as raised:
        memo.MemorisationIndex.open(tmp_path / "index")
    assert "built with the tokenizer 'constant-test'" in str(raised.value)
    assert "'words-v1'" in str(raised.value)


def test_an_absent_or_damaged_index_is_refused(tmp_path: Path, corpus: list[str]) -> None:
    with pytest.raises(memo.MemorisationInputError, match="No memorisation index was found"):
        memo.MemorisationIndex.open(tmp_path / "nowhere")
    memo.build_index(corpus, tmp_path / "index")
    keys = tmp_path / "index" / "keys.npy"
    keys.write_bytes(keys.read_bytes()[:-8])
    with pytest.raises(memo.MemorisationInputError, match=r"keys\.npy should have"):
        memo.MemorisationIndex.open(tmp_path / "index")
    (tmp_path / "index" / "meta.json").write_text("{not json")
    with pytest.raises(memo.MemorisationInputError, match=r"meta\.json cannot be read"):
        memo.MemorisationIndex.open(tmp_path / "index")
    (tmp_path / "index" / "meta.json").write_text(json.dumps({"format": "custodia-memorisation-index", "version": 1}))
    with pytest.raises(memo.MemorisationInputError, match=r"meta\.json lacks n, tokenizer"):
        memo.MemorisationIndex.open(tmp_path / "index")
    (tmp_path / "index" / "meta.json").write_text(json.dumps({"format": "custodia-memorisation-index", "version": 99}))
    with pytest.raises(memo.MemorisationInputError, match="format version 99"):
        memo.MemorisationIndex.open(tmp_path / "index")


def test_outputs_without_any_window_give_empty_results(tmp_path: Path, corpus: list[str]) -> None:
    index = build(tmp_path, corpus)
    assert index.check([]) == []
    results = index.check(["", "\0\0", "a b c"])
    assert [(result.tokens, result.windows, result.memorised) for result in results] == [
        (0, 0, False),
        (0, 0, False),
        (3, 0, False),
    ]


# --- the extraction test ------------------------------------------------------------------------------


def test_split_for_extraction_gives_the_prompt_text_and_the_expected_suffix() -> None:
    document = "  Él dijo: " + " ".join(f"t{k}" for k in range(120))
    prompt, suffix = memo.split_for_extraction(document)
    assert prompt == "  Él dijo: " + " ".join(f"t{k}" for k in range(47))
    assert len(memo.tokenize(prompt)) == 50
    assert suffix == [f"t{k}" for k in range(47, 97)]
    assert memo.split_for_extraction(document, prefix_tokens=62, suffix_tokens=62) is None
    assert memo.split_for_extraction("short text") is None


def test_suffix_matches_compares_the_first_tokens_only() -> None:
    expected = ["t1", ",", "t2", "é"]
    assert memo.suffix_matches("\n  t1,t2  é and more", expected)
    assert not memo.suffix_matches("t1, t2 e", expected)
    assert not memo.suffix_matches("t1, t2", expected)
    with pytest.raises(memo.MemorisationInputError):
        memo.suffix_matches("anything", [])


def test_binomial_interval_is_clopper_pearson() -> None:
    assert memo.binomial_interval(5, 10) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    assert memo.binomial_interval(0, 10) == pytest.approx((0.0, 1 - 0.025**0.1))
    assert memo.binomial_interval(10, 10) == pytest.approx((0.025**0.1, 1.0))
    assert memo.binomial_interval(0, 0) == (0.0, 1.0)
    low, high = memo.binomial_interval(3, 1000, confidence=0.99)
    assert 0 < low < 0.003 < high < 0.02
    for bad in ((11, 10, 0.95), (-1, 10, 0.95), (1, 10, 1.0)):
        with pytest.raises(memo.MemorisationInputError):
            memo.binomial_interval(*bad)
