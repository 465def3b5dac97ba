#!/usr/bin/env python
"""Benchmark: the PII check's fast path against Presidio's analyzer run plainly, on mixed Spanish/English text.

Run with no arguments (``.venv/bin/python bench/pii_scan.py``); it needs no database and no
Django, and nothing is downloaded. It generates a seeded corpus (``CorpusMaker``): records of
lorem prose in Spanish and English (Faker's word lists, drawn as Faker's ``paragraph`` does but
with our own generator, four times faster: ``quick_prose``), some with amounts, years and item counts drawn
afresh each time, and personal data of every pattern entity made by Faker in about one record in
four. Nothing is pooled or repeated: the numbers the phone matcher sees are as varied as Faker's
own stream made them (the fast path memoises verdicts, so a corpus of repeated copies would flatter
it). Then, in the same run:

* checks that our check (``pii.presidio_hits`` with ``fast=True``) gives what Presidio's
  ``AnalyzerEngine.analyze`` gives on the whole text of a sample (``REFERENCE_KB``, the start of
  the first four batches; the full corpus would take hours at Presidio's speed), with our caches
  cold (the process exits non-zero otherwise);
* times our check per language-batch of records, as ``scan_text_stream`` makes them, on
  ``CORPUS_MB`` megabytes (the issue's 100 by default), single process, CPU time only (generating
  the corpus is not timed), and Presidio on the sample with the same recognizers, one piece in
  the middle of each quarter of our run, so that drifts in the machine's speed touch both alike.

Each result is printed as ``figure <name> <value> <unit>``. The per-core figure is the
single-process throughput (the machine's two cores are shared, so timings are noisy). The whole
run takes about three to five minutes of CPU (generating the corpus about a third of it).
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import phonenumbers  # noqa: E402
from faker import Faker  # noqa: E402

from audits.checks import pii  # noqa: E402
from bench.reporting import figure, note  # noqa: E402

CORPUS_MB = float(os.environ.get("PII_BENCH_MB", "100"))
REFERENCE_KB = int(os.environ.get("PII_BENCH_REFERENCE_KB", "400"))
BATCH_CHARS = 256 * 1024
SEED = 20261123


@dataclass
class Record:
    """A generated text with the personal data in it: (entity, start, end) spans."""

    language: str
    text: str
    spans: list[tuple[str, int, int]]


_CCC_WEIGHTS = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)


def _control(digits: str) -> str:
    value = 11 - sum(int(d) * w for d, w in zip(digits.rjust(10, "0"), _CCC_WEIGHTS, strict=True)) % 11
    return str({10: 1, 11: 0}.get(value, value))


def spanish_ccc(rng: random.Random) -> str:
    """A Spanish bank account number with correct control digits, written 4-4-2-10."""
    bank = f"{rng.randrange(10_000):04d}{rng.randrange(10_000):04d}"
    account = f"{rng.randrange(10**10):010d}"
    return f"{bank[:4]} {bank[4:]} {_control(bank)}{_control(account)} {account}"


class CorpusMaker:
    """Deterministic records in Spanish and English, each with its labelled spans."""

    def __init__(self, seed: int = SEED, *, quick_prose: bool = False) -> None:
        """``quick_prose`` draws the prose with our generator rather than Faker's (``_paragraph``)."""
        self.rng = random.Random(seed)
        self.quick_prose = quick_prose
        # Some Faker providers (es_ES NUSS among them) draw from the global generator.
        random.seed(seed)
        self.fakers = {"es": Faker("es_ES"), "en": Faker("en_US")}
        for offset, fake in enumerate(self.fakers.values()):
            fake.seed_instance(seed + offset)
        self.words = {language: list(fake.get_words_list()) for language, fake in self.fakers.items()}

    def _values(self, language: str) -> list[tuple[str, str, Callable[[], str]]]:
        """(template with {} for the value, entity, maker of a value) choices for one language."""
        fake = self.fakers[language]
        es = self.fakers["es"]

        def card() -> str:
            return str(fake.credit_card_number(card_type=self.rng.choice(["visa16", "mastercard", "amex", "discover"])))

        if language == "es":
            return [
                ("Puedes llamarme al teléfono {} por la tarde.", "PHONE_NUMBER", es.phone_number),
                ("Mi DNI es {} y lo adjunto.", "ES_NIF", es.nif),
                ("El titular, con NIE {}, firmó el contrato.", "ES_NIE", es.nie),
                (
                    "Número de pasaporte: {}.",
                    "ES_PASSPORT",
                    lambda: es.bothify("???######", letters="ABCDEFGHJKLMNPRSTUVWXYZ"),
                ),
                ("Su número de la Seguridad Social es {}.", "ES_NSS", es.nuss),
                ("Domiciliación en la cuenta IBAN {}.", "IBAN_CODE", es.iban),
                ("Ingresa el importe en la cuenta {} antes del viernes.", "ES_CCC", lambda: spanish_ccc(self.rng)),
                ("Pagó con la tarjeta {} sin problemas.", "CREDIT_CARD", card),
                ("Escríbeme a {} cuando puedas.", "EMAIL_ADDRESS", es.email),
                ("Más información en {} o en la oficina.", "URL", es.url),
                ("El acceso vino desde la IP {} anoche.", "IP_ADDRESS", es.ipv4_public),
                ("El coche con matrícula {} estaba mal aparcado.", "ES_LICENSE_PLATE", es.license_plate),
                ("Código postal {} para el envío.", "ES_POSTCODE", es.postcode),
            ]
        return [
            ("You can reach me by phone at {} after five.", "PHONE_NUMBER", self._us_phone),
            ("My social security number is {}.", "US_SSN", fake.ssn),
            ("Please send the invoice to {} today.", "EMAIL_ADDRESS", fake.email),
            ("The docs are at {} for everyone.", "URL", fake.url),
            ("The login came from IP address {} yesterday.", "IP_ADDRESS", fake.ipv4_public),
            ("Charge the credit card {} for the order.", "CREDIT_CARD", card),
            ("Wire it to the bank account IBAN {} please.", "IBAN_CODE", es.iban),
            ("Her Spanish ID (DNI) is {} on the form.", "ES_NIF", es.nif),
            ("His NIE {} was checked at the border.", "ES_NIE", es.nie),
        ]

    def _us_phone(self) -> str:
        """A US phone number in one of Faker's formats, from an area code in service.

        Faker picks area codes at random, and about a third of them (e.g. 394, 890) are not
        assigned, so no phone network, nor libphonenumber, accepts the number as real.
        """
        fake = self.fakers["en"]
        while True:
            number = fake.phone_number()
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(number, "US")):
                    return number
            except phonenumbers.NumberParseException:
                continue

    def _paragraph(self, language: str, sentences: int) -> str:
        """Faker's lorem paragraph (sentences of about six words from the locale's word list, both
        counts varied by ±40%), drawn with our generator: the same text distribution, much faster."""
        words = self.words[language]
        made = []
        for _ in range(max(1, sentences * self.rng.randint(60, 140) // 100)):
            chosen = self.rng.choices(words, k=max(1, 6 * self.rng.randint(60, 140) // 100))
            made.append(" ".join([chosen[0].title(), *chosen[1:]]) + ".")
        return " ".join(made)

    def _prose(self, language: str) -> str:
        sentences = self.rng.randint(2, 5)
        if self.quick_prose:
            sentence = self._paragraph(language, sentences)
        else:
            sentence = self.fakers[language].paragraph(nb_sentences=sentences)
        if self.rng.random() < 0.3:
            # Numbers that are not personal data: amounts, years, quantities.
            amount = f"{self.rng.randint(1, 99_999)},{self.rng.randint(0, 99):02d} €"
            sentence += (
                f" El total fue {amount} en {self.rng.randint(1990, 2026)}."
                if language == "es"
                else f" The total was ${self.rng.randint(1, 99_999)}.{self.rng.randint(0, 99):02d} in "
                f"{self.rng.randint(1990, 2026)}, {self.rng.randint(2, 40)} items."
            )
        return sentence

    def record(self, language: str, pii_rate: float = 0.25) -> Record:
        text = self._prose(language)
        spans: list[tuple[str, int, int]] = []
        if self.rng.random() < pii_rate:
            template, entity, make = self.rng.choice(self._values(language))
            value = make()
            prefix = text + " " + template.split("{}")[0]
            spans.append((entity, len(prefix), len(prefix) + len(value)))
            text = prefix + value + template.split("{}")[1]
        return Record(language, text, spans)

    def labelled(self, per_entity: int, language: str) -> list[Record]:
        """Records with every entity of the language ``per_entity`` times, plus as many without any."""
        records = []
        for _ in range(per_entity):
            for template, entity, make in self._values(language):
                value = make()
                prose = self._prose(language)
                prefix = prose + " " + template.split("{}")[0]
                records.append(
                    Record(
                        language,
                        prefix + value + template.split("{}")[1],
                        [(entity, len(prefix), len(prefix) + len(value))],
                    )
                )
            records.append(self.record(language, pii_rate=0.0))
        self.rng.shuffle(records)
        return records

    def stream(self, megabytes: float) -> Iterator[Record]:
        """Mixed records (half Spanish, half English) until ``megabytes`` of text have been made."""
        made = 0
        while made < megabytes * 1e6:
            record = self.record(self.rng.choice(("es", "en")))
            made += len(record.text.encode()) + 1
            yield record


def _batches(records: Iterator[Record]) -> Iterator[tuple[str, str]]:
    """(language, text of records one per line) batches, as ``scan_text_stream`` makes them."""
    current: dict[str, list[str]] = {"es": [], "en": []}
    sizes = {"es": 0, "en": 0}
    for record in records:
        current[record.language].append(record.text)
        sizes[record.language] += len(record.text) + 1
        if sizes[record.language] >= BATCH_CHARS:
            yield record.language, "\n".join(current[record.language])
            current[record.language], sizes[record.language] = [], 0
    for language, lines in current.items():
        if lines:
            yield language, "\n".join(lines)


def main() -> int:
    settings = pii.PiiSettings()
    pii.build_analyzer(settings)  # build once, outside the timings
    stream = _batches(CorpusMaker(quick_prose=True).stream(CORPUS_MB))
    first = [batch for _, batch in zip(range(4), stream, strict=False)]
    sample = [(language, text[: REFERENCE_KB * 1024 // 4]) for language, text in first]
    sample = [(language, text[: text.rfind("\n")]) for language, text in sample]
    sample_bytes = sum(len(text.encode()) for _, text in sample)
    fast = [pii.presidio_hits(text, settings, language) for language, text in sample]  # our caches cold

    # Presidio runs on one piece of the sample in the middle of each quarter of our run, so both
    # are timed across the same stretch of time (this machine's speed drifts by ±20%).
    due = [(index + 0.5) * CORPUS_MB * 1e6 / len(sample) for index in range(len(sample))]
    reference: list[list[pii.Hit]] = []
    presidio_cpu = cpu = 0.0
    total_bytes = found = batches = 0

    def presidio_piece() -> None:
        nonlocal presidio_cpu
        language, text = sample[len(reference)]
        started_cpu = time.process_time()
        reference.append(pii.presidio_reference(text, settings, language))
        presidio_cpu += time.process_time() - started_cpu

    started = time.perf_counter()
    for language, text in itertools.chain(first, stream):
        while len(reference) < len(sample) and total_bytes >= due[len(reference)]:
            presidio_piece()
        batches += 1
        total_bytes += len(text.encode())
        started_cpu = time.process_time()
        found += len(pii.presidio_hits(text, settings, language))
        cpu += time.process_time() - started_cpu
    while len(reference) < len(sample):
        presidio_piece()
    wall = time.perf_counter() - started
    note(f"Presidio plainly on a {sample_bytes / 1e3:.0f} KB sample: {sum(map(len, reference))} results")
    if fast != reference:
        note("MISMATCH: the fast path differs from Presidio on the sample")
        return 1
    ours = total_bytes / 1e6 / cpu
    presidio = sample_bytes / 1e6 / presidio_cpu
    note(f"corpus: {total_bytes / 1e6:.1f} MB in {batches} batches of about {BATCH_CHARS // 1024} KB")
    note(f"ours: {found} results in {cpu:.1f} s CPU ({wall:.1f} s wall, corpus and Presidio's sample included)")
    figure("pii_scan_mb_per_s_per_core", ours, "MB/s")
    figure("pii_presidio_mb_per_s_per_core", presidio, "MB/s")
    figure("pii_speedup_vs_presidio", ours / presidio, "x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
