"""The fast path's edges: phone candidates its filters skip or share between regions, the matcher's
budget of tries, trigger windows and context words, each compared with Presidio run plainly."""

from __future__ import annotations

import functools
import random

import phonenumbers
import pytest
from phonenumbers.phonenumbermatcher import PhoneNumberMatcher

from audits.checks import pii
from audits.checks.pii_phones import phone_spans

SETTINGS = pii.PiiSettings()
REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "ES")
# Regions whose metadata has what ours lack: transform rules that add digits (AR, SM, AI), Italian
# leading zeros (IT), several regions per code (GB's crown dependencies), short numbers (NU).
OTHER_REGIONS = ("AR", "SM", "AI", "IT", "JE", "NU", "JP")

PHONE_EDGES = "\n".join(
    [
        # '+' and IDD prefixes of several regions, with and without spaces
        "+34 612 34 56 78, +34612345678, (+34) 91 234 56 78, 0034 612 345 678, 0034612345678",
        "011 44 20 7946 0958, 01144 20 7946 0958, 00 49 30 1234567, 0049301234567, 00972 3 123 4567",
        "+1 415 555 2671, 1 415 555 2671, 1-415-555-2671, 14155552671, +44 7700 900123, +49 171 1234567",
        "+٣٤ ٦١٢ ٣٤ ٥٦ ٧٨ y ٦١٢٣٤٥٦٧٨ en cifras arábigas, +39 06 1234 5678, 06 1234 5678, +378 0549 123456",
        # German numbers with and without the national prefix, short and long
        "030 1234567, 30 1234567, 0171 1234567, 171 1234567, 089 123456, 0228 1234, 04321 12345, 12345",
        # national numbers of each region
        "(415) 555-2671, 415.555.2671, 020 7946 0958, 07700 900123, 01 23 45 67 89, 03-1234567",
        "+91 98765 43210, 098765 43210, (11) 91234-5678, 011 91234 5678, 612 34 56 78, 912345678",
        # letters, currency and percent beside digits
        "abc1234 1234def Z1234567X ES9121000418450200051332 $6125551234 6125551234€ 612345678% x612345678",
        "NIE Y7235680D, ref A12345678, 2024 por, 1234 BCD, M-1234-AB, 5551234567abc",
        # time stamps, dates, page ranges, extensions, second numbers
        "2012-01-02 08:00 y 2012-01-02 08:00:30, 20120102 08:30, 12:30, 3/10/2011, 31/10/96, 08/31/95",
        "Chen Li. VLDB J. 12(3): 211-227 (2003). 555-123-4567 ext. 89, 555-123-4567 x 89, 555-123-4567#",
        "651-234-2345/332-445-1234, (650) 223 3345 (754) 223 3321, 12345 - 332-445-1234, 3324451234 8002341234",
        "612 345 678 / x 612 345 679, 91-234-56-78, 91 234 56 78., 1-800-555-0199, 800 555 0199",
        # years, amounts and counts that are not phone numbers
        "En 2019, 2020 y 2021 el total fue 43820,24 € y $35673.06, 38 items, 1.234.567 unidades, 12.5%",
        # numbers at the very start and end of the text come from other lines; this one ends the text
        "612345678",
    ]
)


@pytest.mark.parametrize("leniency", [0, 1, 2, 3])
def test_phone_spans_equal_the_matcher_in_every_region(leniency: int) -> None:
    texts = [PHONE_EDGES, PHONE_EDGES.replace("\n", " "), "612345678 " + PHONE_EDGES[:200]]
    for text in texts:
        regions = REGIONS + OTHER_REGIONS
        found = phone_spans(text, regions, leniency)
        for region in regions:
            expected = [(match.start, match.end) for match in PhoneNumberMatcher(text, region, leniency=leniency)]
            assert found[region] == expected, region


def test_phone_spans_equal_the_matcher_on_random_phone_soup() -> None:
    rng = random.Random(17)
    alphabet = "0123456789" * 4 + "    +-.()/x:#,;~abcZé€%\n٣"
    for _ in range(20):
        text = "".join(rng.choice(alphabet) for _ in range(3000))
        found = phone_spans(text, REGIONS, 1)
        for region in REGIONS:
            assert found[region] == [(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=1)], region


def test_fast_path_equals_presidio_on_phone_edge_cases() -> None:
    for language in ("es", "en"):
        assert pii.presidio_hits(PHONE_EDGES, SETTINGS, language) == pii.presidio_reference(
            PHONE_EDGES, SETTINGS, language
        )


def test_fast_path_equals_presidio_when_the_phone_matcher_runs_out_of_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    # phonenumbers stops after max_tries failed candidates; a small budget makes it bite here.
    init = PhoneNumberMatcher.__init__
    monkeypatch.setattr(init, "__defaults__", (phonenumbers.Leniency.VALID, 12, 1))
    text = " ".join(f"item {index} of {index * 7}" for index in range(20)) + " call +34 612 34 56 78 or 612345678"
    found = phone_spans(text, REGIONS, 1)
    for region in REGIONS:
        assert found[region] == [(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=1)], region
    assert found["ES"] == []  # the numbers come after the budget is spent
    for language in ("es", "en"):
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


def test_fast_path_equals_presidio_around_window_edges() -> None:
    filler = " ".join(["palabra"] * 40)
    text = "\n".join(
        [
            "ES91 2100 0418 4502 0005 1332" + " " * 30 + "ES91 2100",
            "2100 0418 45" + " " * 20 + "0200051332 y 2100 0418 45 0200051332",
            filler + " 4111 1111 1111 1111 " + filler + " 4111-1111-1111-1111",
            "http://www.ejemplo.com/" + "a" * 40 + "/b.html y " + "x" * 50 + "@correo.es",
            filler + " www.example.com" + " " * 40 + "correo@example.com,http://example.org",
            "IP 192.168.1.10:8080 fe80::1 ::ffff:10.0.0.1 2001:db8::8a2e:370:7334 " + filler + " 10.0.0.1",
            "28 12345678 40" + " " * 25 + "12345678Z " + "9" * 60 + " 12345678Z",
            "1:2:3:4:5:6:7:8 :: ::1 a::b fe80::7:8%eth0 2001:db8:3:4::192.0.2.33 ::ffff:0:255.255.255.255",
            "a:b 10:30 ab:cd:ef, Hora: 12:30; " + filler + " 2001:0db8:85a3:0000:0000:8a2e:0370:7334/64 " + filler,
            "FE80::1 DEAD:BEEF::1 " + "f" * 30 + "::1 " + ":" * 5 + "1:" * 9 + " 1.2.3.4/24 999.1.1.1",
            # IPv4 with three-digit inner groups, embedded or not, beside amounts and versions
            "1.255.255.1 ::ffff:1.255.255.1 64:ff9b::1.200.200.9 1:2:3:4:5:6:1.200.200.9, $35673.06, v1.2.3",
            "1.234.567 unidades, 12.5% y 1.255.255.1.",
            # addresses filling their chunk, quoted, bracketed or followed by punctuation
            "\"http://a.com/x\" 'www.b.es' (http://c.org) <d@e.com>, f@g.es. h@i.co.uk; 10.0.0.1.5 ::1. [::1]",
            "x@y.z@w.com http://u@v.com/p?q=1#f www.ejemplo.com.es. fe80::1%eth0/64, 1.2.3.4:80/x",
        ]
    )
    for language in ("es", "en"):
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


def test_fast_path_equals_presidio_on_context_words_near_and_far() -> None:
    lines = [
        "teléfono 612345678",
        "tel:612345678 y tel612345678 y TEL: 612 34 56 78",
        "teléfono de la de la de la de la de la de la de la y 612345678",
        "teléfono uno dos tres cuatro cinco seis siete 612345678",
        "teléfono\n\n\n  612345678   \n calle",
        "Vive en EE. UU. cerca de la calle 28013 y el código postal 28013",
        "código postal: 28013, cp 28013, c/ Mayor 28013, avenida 28013 siete ocho nueve diez once 28013",
        "I can't call the number it's 415-555-2671 ' s 415 555 2671 (-: 415 555 2671",
        "matrícula 1234 BCD; la matrícula es M 1234 AB",
        "pasaporte\n\n\nAAA123456",
        "ip 192.168.1.1 server 10.0.0.1",
        # keywords of chunks with digits or several words, special cases across chunks
        "Dr. 612345678, EE.UU. 612345678, 10 a.m. 612345678, 3 p. m. 612 345 678, (: 612345678 :)",
        "correo x@y.com, web http://a.es/tel 612345678; e-mail:612345678 tel.612345678 28013-28013",
        "teléfono 12-34 5,6 7.8 9/0 a1 b2 c3 d4 e5 f6 612345678 y A-1 B.2 C,3 D:4 E;5 F!6 G?7 28013",
        # the context word as the last keyword the walk reaches, or one beyond; the result's own
        # first token a keyword or not ('+'); context words inside the chunk before
        "teléfono uno dos tres cuatro 612345678, teléfono uno dos tres cuatro cinco 612345678",
        "teléfono uno dos tres cuatro +34612345678, teléfono uno dos tres cuatro cinco +34612345678",
        "teléfono uno dos tres cuatro cinco seis +34612345678 (teléfono) 612345678 mi-teléfono 612345678",
        "Teléfono: de la de la 612345678 TELÉFONO... 612345678 EE. UU. teléfono 612345678 a.m. 612345678",
    ]
    text = "\n".join(lines)
    for language in ("es", "en"):
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


@pytest.mark.parametrize(("prefix", "suffix"), [(0, 0), (1, 0), (2, 2)])
def test_fast_path_equals_presidio_with_other_context_reaches(
    monkeypatch: pytest.MonkeyPatch, prefix: int, suffix: int
) -> None:
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    from audits.checks import pii_fastpath

    enhancer = LemmaContextAwareEnhancer(context_prefix_count=prefix, context_suffix_count=suffix)
    monkeypatch.setattr(pii.build_analyzer(SETTINGS), "context_aware_enhancer", enhancer)
    # A fresh cache of context scorers, which keep the enhancer they were built with.
    fresh = functools.lru_cache(maxsize=16)(pii_fastpath._context_words.__wrapped__)
    monkeypatch.setattr(pii_fastpath, "_context_words", fresh)
    text = "\n".join(
        [
            "teléfono 612345678, teléfono uno 612345678, teléfono uno dos 612345678, teléfono uno dos tres 612345678",
            "+34612345678 teléfono, 612345678 llámame al teléfono, tel:612345678 y pasaporte AAA123456",
            "ip 10.0.0.1, la ip fue 10.0.0.2 ayer, IP: 10.0.0.3, cp 28013 y código postal uno 28013",
        ]
    )
    for language in ("es", "en"):
        assert pii.presidio_hits(text, SETTINGS, language) == pii.presidio_reference(text, SETTINGS, language)


def test_the_vocabulary_stays_bounded_and_results_unchanged_when_the_pipeline_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audits.checks import pii_recognizers

    rng = random.Random(5)
    words = ["teléfono", "de", "la", "calle", "número", "cliente", "correo", "pedido", "factura", "total"]
    lines = [
        " ".join(rng.choice(words) for _ in range(8))
        + f" {rng.randrange(10**8, 10**9)} ref{rng.randrange(10**6)} tel:{rng.randrange(10**8, 10**9)}"
        for _ in range(800)
    ]
    text = "\n".join(lines)
    # A phone number inside its chunk ("tel:...") is scored by tokenizing the chunk: kept, the
    # vocabulary would grow by at least that much.
    assert len({chunk for chunk in text.split() if chunk.startswith("tel:")}) > 750
    expected = {language: pii.presidio_reference(text, SETTINGS, language) for language in ("es", "en")}
    engine = pii.build_analyzer(SETTINGS).nlp_engine
    assert isinstance(engine, pii_recognizers.BlankSpacyNlpEngine)
    monkeypatch.setattr(pii_recognizers, "VOCABULARY_LIMIT", 200)
    for language in ("es", "en"):
        before = engine._pipeline(language)
        assert pii.presidio_hits(text, SETTINGS, language) == expected[language]
        assert engine._pipeline(language) is not before  # replaced at least once
        assert len(engine._pipeline(language).vocab) - engine._fresh[language] < 1000
