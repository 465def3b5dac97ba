"""The PII check on a labelled corpus made with Faker: recall and precision per entity and language, and
the fast path's equivalence with Presidio's analyzer run on the whole text."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from audits.checks import pii
from bench.pii_scan import CorpusMaker, Record

SETTINGS = pii.PiiSettings()
PER_ENTITY = 40


def joined(records: list[Record]) -> tuple[str, list[tuple[str, int, int]]]:
    """The records one per line, and their labelled spans in that text."""
    text_parts, spans, position = [], [], 0
    for record in records:
        spans += [(entity, start + position, end + position) for entity, start, end in record.spans]
        text_parts.append(record.text)
        position += len(record.text) + 1
    return "\n".join(text_parts), spans


def score(gold: list[tuple[str, int, int]], hits: list[pii.Hit]) -> dict[str, tuple[int, int, int]]:
    """Per entity: (true positives, labelled, predicted); a hit counts when type and span overlap."""
    table: dict[str, list[int]] = {}
    matched_hits: set[int] = set()
    for entity, start, end in gold:
        row = table.setdefault(entity, [0, 0, 0])
        row[1] += 1
        for index, hit in enumerate(hits):
            if index not in matched_hits and hit.entity == entity and hit.start < end and start < hit.end:
                row[0] += 1
                matched_hits.add(index)
                break
    for hit in hits:
        table.setdefault(hit.entity, [0, 0, 0])[2] += 1
    return {entity: (row[0], row[1], row[2]) for entity, row in table.items()}


@pytest.mark.parametrize("language", ["es", "en"])
def test_it_finds_pattern_entities_with_high_recall_and_precision(language: str) -> None:
    records = CorpusMaker(seed=7 if language == "es" else 8).labelled(PER_ENTITY, language)
    text, gold = joined(records)
    hits = pii.scan_text(text, SETTINGS, language=language)
    table = score(gold, hits)
    print(f"\n{language}: {'entity':<18} {'labelled':>8} {'found':>6} {'tp':>5} {'recall':>7} {'precision':>9}")
    failures = []
    for entity, (tp, labelled, predicted) in sorted(table.items()):
        recall = tp / labelled if labelled else float("nan")
        precision = tp / predicted if predicted else float("nan")
        print(f"{language}: {entity:<18} {labelled:>8} {predicted:>6} {tp:>5} {recall:>7.3f} {precision:>9.3f}")
        if labelled and recall < 0.95:
            failures.append(f"{entity} recall {recall:.3f}")
        if predicted and precision < 0.90:
            failures.append(f"{entity} precision {precision:.3f}")
    assert not failures, failures


def test_it_finds_nothing_in_text_without_personal_data() -> None:
    maker = CorpusMaker(seed=11)
    for language in ("es", "en"):
        text, _ = joined([maker.record(language, pii_rate=0.0) for _ in range(200)])
        assert pii.scan_text(text, SETTINGS, language=language) == []


def tricky_text() -> str:
    """Personal data at the edges of the text, next to each other, and inside long runs."""
    return "\n".join(
        [
            "612345678 al principio, y al final del texto 12345678Z",
            "Tel: +34 612 34 56 78, +34912345678;(+34) 91 234 56 78 / 0034 612 345 678",
            "juan@empresa.es,ana.lopez@correo.gob.es http://www.ejemplo.com/ruta?x=1&y=2#frag",
            "IBAN ES91 2100 0418 4502 0005 1332 ES9121000418450200051332 tarjeta 4111 1111 1111 1111",
            "a" * 300 + " 12345678Z " + "b" * 300 + " 4111-1111-1111-1111 " + "x" * 5,
            "IP 192.168.1.10 y 2001:0db8:85a3:0000:0000:8a2e:0370:7334 o ::ffff:10.0.0.1 fe80::1",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 123 456 789 012 345 678",
            "NSS 28 12345678 40, CCC 2100 0418 45 0200051332, matrícula 1234 BCD, M 1234 AB, CP 28013",
            "pasaporte\n\n\nAAA123456",
            "SSN 078-05-1120 phone (555) 123-4567 ext. 89, 1-800-555-0199",
            "www.example.com/a" + "/b" * 100 + " end",
        ]
    )


@pytest.mark.parametrize("language", ["es", "en"])
def test_fast_path_equals_presidio_on_the_labelled_corpus(language: str) -> None:
    records = CorpusMaker(seed=7 if language == "es" else 8).labelled(PER_ENTITY // 2, language)
    text, _ = joined(records)
    text += "\n" + tricky_text()
    fast = pii.presidio_hits(text, SETTINGS, language)
    reference = pii.presidio_reference(text, SETTINGS, language)
    assert fast == reference
    assert len(reference) > PER_ENTITY


def test_fast_path_equals_presidio_on_a_longer_mixed_corpus() -> None:
    maker = CorpusMaker(seed=13)
    records = list(maker.stream(0.12))
    for language in ("es", "en"):
        text, _ = joined([record for record in records if record.language == language])
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


def test_fast_path_equals_presidio_on_random_digit_soup() -> None:
    import random

    rng = random.Random(5)
    alphabet = "0123456789      -./()+@:abcxyzABCXYZéñ\n"
    text = "".join(rng.choice(alphabet) for _ in range(20_000))
    for language in ("es", "en"):
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


def test_corpus_generator_is_deterministic() -> None:
    first = [record.text for record in CorpusMaker(seed=3).stream(0.01)]
    second = [record.text for record in CorpusMaker(seed=3).stream(0.01)]
    assert first == second
    assert Counter(record.language for record in CorpusMaker(seed=3).stream(0.05)).keys() == {"es", "en"}
