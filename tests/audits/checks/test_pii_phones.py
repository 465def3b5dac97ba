"""``phone_spans`` against phonenumbers' matcher run plainly, region by region: hand-written edges of
each shortcut in ``pii_phones``, generated phone soup, and a slice of the benchmark corpus."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers.phonenumbermatcher import _PATTERN, PhoneNumberMatcher

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from audits.checks import pii_phones
from audits.checks.pii_phones import phone_spans
from bench.pii_scan import CorpusMaker, _batches

REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "ES")
# Regions whose metadata has what ours lack: transform rules that add digits (AR, SM, AI), Italian
# leading zeros (IT), several regions per code (GB's crown dependencies), short numbers (NU), a
# national prefix found only with the extension's digits after it (BY: "8011284637x2").
OTHER_REGIONS = ("AR", "SM", "AI", "IT", "JE", "NU", "JP", "BY")

EDGES = [
    # years, counts, amounts, IPv4 addresses, identifiers: candidates no region needs to look at
    "En 2005, 2019 y 2021: 23 items, 40654 unidades, 44049.47, $52593.84, 52593,84 €, 1.234.567,89, 12.5%",
    "117.151.3.119, 192.168.1.10:8080, 646-69-5281, 008-31-4465, 0028 8523 17 1276353947, 4420 8805 40 5842697263",
    # dates, and numbers whose shape (digits made 0) is a date while they are not
    "3/10/2011, 31/10/96, 08/31/95, 800/55/60103, 806/65/10462, 21951/50/12/9, 0/72/1553/0169, 441/65/07323",
    # time stamps, with and without the ":dd" that makes the matcher skip them
    "2012-01-02 08:00, 2012-01-02 08:00:30, 2012-01-02 08 612345678:00, 20120102 08:30, 2012-01-02 08 y 612",
    # extensions: Faker's "x", other labels, too long, doubled, at the end, after a slash
    "738.965.4159x9899, (714)335-7940x3251, +1-650-546-6585x91012, 3479x9652, 0096x0766, 2678x202",
    "555-123-4567 x 89, 555-123-4567 X89, 415 555 2671x1234567890, 612345678xx12, 612345678x, x612345678",
    "612 345 678/x12, 612 345 678 / x 612 345 679, 555-123-4567 ext. 89, 555-123-4567#, 612345678;ext=12",
    # the national prefix, written or not, with and without an extension
    "030 1234567x12, 30 1234567x12, 0301234567, 301234567, 020 7946 0958x1234, 20 7946 0958x12, 02079460958",
    "2079460958, 0123456789, 123456789, 01 23 45 67 89x5, 031234567, 31234567, 09876543210, 98765 43210x7",
    "8011284637x2, 8012234560x882230, 8011234584x89, 801 123 45 84, 8011234584",
    # the country code without '+', and IDD prefixes
    "49 30 1234567, 4930 1234567, 14155552671, 1 415 555 2671x12, 33 1 23 45 67 89, 331 23 45 67 89",
    "91 98765 43210, 5511912345678, 34612345678, 0049 30 1234567, 011 44 20 7946 0958, 00 33 1 23 45 67 89",
    "00972 3 123 4567, 0034 612 345 678, 0055 11 91234 5678, 00 1 415 555 2671, 0028, 0039, 0046",
    # '+' numbers, in every region the same
    "+34 612 34 56 78, +34612345678, (+34) 91 234 56 78, +1 415 555 2671, +44 7700 900123, +49 171 1234567",
    "+39 06 1234 5678, +378 0549 123456, +999 123 456 789, ++34 612 345 678, +٣٤ ٦١٢ ٣٤ ٥٦ ٧٨",
    # Brazil's carrier codes and transform rule, Argentina's mobile '9', Italy's leading zeros
    "(11) 91234-5678, 011 91234 5678, 0 11 91234 5678, 90 21 11 91234 5678, 0 21 11 91234 5678",
    "011 15 2345 6789, 15 2345-6789, 06 1234 5678, 0549 123456, 3 123 4567, 1234",
    # brackets, leading characters, letters and signs beside, wide digits and hyphens
    "(  (  612345678, [+34] 612 345 678, ((612345678, (612) 345 678), (650) 223 3345 (754) 223 3321",
    "abc612345678 612345678def Z1234567X $6125551234 6125551234€ 612345678% ٦١٢٣٤٥٦٧٨ ６１２３４５６７８",
    "651-234-2345/332-445-1234, 12345 - 332-445-1234, 3324451234 8002341234, 612‒345‒678, 91.234.56.78.",
    "Chen Li. VLDB J. 12(3): 211-227 (2003). 1-800-555-0199, 800 555 0199, 612345678",
]
EDGE_TEXTS = ["\n".join(EDGES), " ".join(EDGES), "612345678 " + EDGES[3]]


def matcher_spans(text: str, region: str, leniency: int) -> list[tuple[int, int]]:
    return [(match.start, match.end) for match in PhoneNumberMatcher(text, region, leniency=leniency)]


def assert_equal_to_the_matcher(text: str, regions: tuple[str, ...], leniency: int) -> None:
    found = phone_spans(text, regions, leniency)
    for region in regions:
        assert found[region] == matcher_spans(text, region, leniency), (region, leniency, text[:200])


@pytest.mark.parametrize("leniency", [0, 1, 2, 3])
def test_phone_spans_equal_the_matcher_on_edges(leniency: int) -> None:
    for text in EDGE_TEXTS:
        assert_equal_to_the_matcher(text, REGIONS + OTHER_REGIONS, leniency)


def _example_numbers() -> list[phonenumbers.PhoneNumber]:
    found = []
    for region in REGIONS + OTHER_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append(example)
    return found


def _phone_soup(rng: random.Random, examples: list[phonenumbers.PhoneNumber]) -> str:
    """Numbers of every region in every format, digits changed, cut and extended, among amounts,
    dates and neighbours the matcher treats apart."""
    formats = (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    pieces = []
    for _ in range(rng.randint(5, 40)):
        kind = rng.random()
        if kind < 0.5:
            number = phonenumbers.format_number(rng.choice(examples), rng.choice(formats))
            number = "".join(rng.choice("0123456789") if c.isdigit() and rng.random() < 0.2 else c for c in number)
            if rng.random() < 0.3:
                number = number.lstrip("+0")
            if rng.random() < 0.3:
                number = number.replace(" ", rng.choice(["", ".", "-", "/", " "]))
        elif kind < 0.7:
            number = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 14)))
            if rng.random() < 0.5:
                number = rng.choice(["0", "00", "1", "44", "49", "33", "0049", "011", "91", "55", "34"]) + number
        elif kind < 0.85:
            number = f"{rng.randint(0, 99999)}{rng.choice('.,/-')}{rng.randint(0, 99):02d}"
        else:
            number = "".join(rng.choice("0123456789  -./()") for _ in range(rng.randint(3, 18)))
        if rng.random() < 0.25:
            label = rng.choice(["x", "X", " x", "x ", "/x", " ext ", "#", ",", "xx"])
            number += label + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 11)))
        pieces.append(number + rng.choice([" ", ", ", "\n", " y ", "abc", "$", "%", "€", ":00 ", " - ", "/", "+"]))
    return "".join(pieces)


def test_phone_spans_equal_the_matcher_on_generated_soup() -> None:
    rng = random.Random(20261207)
    examples = _example_numbers()
    for _ in range(120):
        assert_equal_to_the_matcher(_phone_soup(rng, examples), REGIONS + OTHER_REGIONS, rng.choice([1, 1, 0, 2, 3]))


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return [text for _, text in _batches(CorpusMaker(seed=7, quick_prose=True).stream(0.4))]


def test_phone_spans_equal_the_matcher_on_the_bench_corpus(corpus: list[str]) -> None:
    for text in corpus:
        assert_equal_to_the_matcher(text, REGIONS, 1)


def test_pieces_found_on_the_shape_are_those_the_matcher_tries(corpus: list[str]) -> None:
    texts = [*corpus, *EDGE_TEXTS]
    for text in texts:
        for found in _PATTERN.finditer(text):
            candidate = pii_phones._trim(found.group())
            for stamp in (False, True):
                assert pii_phones._pieces(candidate, stamp) == pii_phones._probed_pieces(candidate, stamp), candidate


def test_candidates_are_those_of_a_plain_search() -> None:
    text = " ".join(EDGE_TEXTS) + " (    (    612345678 [ [ 1 ++34 a" + "x" * 30 + "5"
    expected, index = [], 0
    while (found := _PATTERN.search(text, index)) is not None:
        candidate = pii_phones._trim(found.group())
        expected.append((found.start(), candidate))
        index = found.start() + len(candidate)
    shared = pii_phones._candidates(text, 1)
    assert list(zip(shared.starts, shared.texts, strict=True)) == expected
