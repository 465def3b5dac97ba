"""Presidio's phone recognizer, computed with one scan of the text for all its regions.

``phone_spans(text, regions, leniency)`` returns, per region, the spans that
``phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency)`` yields — what Presidio's
``PhoneRecognizer.analyze`` collects — without parsing every candidate once per region. The
matcher walks the text from candidate to candidate (``_PATTERN`` matches, trimmed at a second
number), and tries the candidate, then pieces of it (its "inner matches"), as a number of its
region; it stops after the first piece that matches. Every try made here is phonenumbers' own
code; what changes is which are made:

1. The candidates are found once for all regions. A region's walk leaves that shared sequence
   only after a match ending inside a candidate; it then searches the text itself until it is
   back on a shared boundary, from where ``_PATTERN.search`` returns the shared candidate again.
2. A region's matcher is given a candidate only if some piece it would try could be a valid
   number of the region: a piece refused for the Latin letter, '%' or currency sign beside it
   (the matcher's check before parsing) cannot, nor can a piece whose digits do not fit the
   region's bounds (``_Bounds``, from phonenumbers' metadata, each argued where computed) or,
   read in national form, have no valid type there (``_valid_nationally``). Which pieces the
   matcher tries when none matches depends on the candidate alone (``_pieces``).
3. Within a candidate, pieces ruled out that way are not parsed either (``_MemoMatcher``).
4. Verdicts are memoised, per candidate and per piece, by all the matcher reads of them: the
   region, the leniency, the string, whether the characters just outside it are refused, and
   for a candidate whether a time stamp's ``:dd`` follows. A piece written with '+' and a valid
   country code gets the same verdict in every region (``_international``).
5. ``max_tries`` (65535 by default) stops a matcher after that many failed tries. A candidate
   costs at most ``1 + 3 × (its non-digit characters)`` of them (``_digits_of``); while the sum
   over the text stays below the budget it cannot run out, so skipping and memoising change
   nothing. A region whose sum could reach it is left to phonenumbers' matcher on the whole text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    NumberParseException,
    PhoneMetadata,
    normalize_digits_only,
    parse,
)
from phonenumbers.phonenumbermatcher import (
    _LEAD_PATTERN,
    _PATTERN,
    _TIME_STAMPS_SUFFIX,
    Leniency,
    PhoneNumberMatch,
    PhoneNumberMatcher,
)
from phonenumbers.phonenumberutil import (
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    _PLUS_CHARS,
    _SECOND_NUMBER_START_PATTERN,
    _VALID_START_CHAR_PATTERN,
    COUNTRY_CODES_FOR_NON_GEO_REGIONS,
    PhoneNumberType,
    _maybe_strip_national_prefix_carrier_code,
    _number_type_helper,
    region_code_for_country_code,
)

try:  # the standard library's regex parser knows the shortest and longest match of a pattern
    from re._parser import parse as _parse_regex
except ImportError:  # pragma: no cover
    _parse_regex = None

_BACKREFERENCE = re.compile(r"\\(?:\d+|g<[^>]*>)")
_DIGIT = re.compile(r"\d")
_NOT_ASCII_DIGITS = re.compile(r"[^0-9]")
_MEMO_SIZE = 200_000
_TYPE_CHECKS = 4


def _widths(pattern: str | None) -> tuple[int, float]:
    """The shortest and longest string ``pattern`` can match (0 and infinity when unknown)."""
    if not pattern:
        return 0, 0
    try:
        shortest, longest = _parse_regex(pattern).getwidth() if _parse_regex else (0, float("inf"))
    except (re.error, TypeError, ValueError):  # pragma: no cover
        return 0, float("inf")
    return shortest, float("inf") if longest >= 1 << 30 else longest


@cache
def _metadata_of(country_code: int) -> list[Any]:
    found = []
    for region in COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        if region == REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
        else:
            metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is not None:
            found.append(metadata)
    return found


def _main_metadata(country_code: int) -> Any:
    """The metadata ``parse`` strips the national prefix with once it has read a country code."""
    return PhoneMetadata.metadata_for_region_or_calling_code(country_code, region_code_for_country_code(country_code))


def _gain(metadata: Any) -> int | None:
    """How many digits stripping the national prefix can add (None: no bound is known).

    A transform rule replaces the matched prefix by its literal digits and at most one group of
    the match (checked), whose digits were in the number already.
    """
    rule = metadata.national_prefix_transform_rule if metadata is not None else None
    if not rule or not metadata.national_prefix_for_parsing:
        return 0
    if len(_BACKREFERENCE.findall(rule)) > 1:
        return None
    return len(_DIGIT.findall(_BACKREFERENCE.sub("", rule)))


def _nsn_lengths(country_code: int) -> tuple[int, int]:
    """The shortest and longest national significant number valid for the code's regions.

    ``is_valid_number`` first checks the NSN against the ``general_desc`` of the region it picks
    among the code's regions, length included when the metadata lists lengths.
    """
    shortest, longest = _MAX_LENGTH_FOR_NSN, _MIN_LENGTH_FOR_NSN
    for metadata in _metadata_of(country_code):
        lengths = tuple(metadata.general_desc.possible_length or ()) if metadata.general_desc else ()
        lengths = lengths or (_MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN)
        shortest, longest = min(shortest, *lengths), max(longest, *lengths)
    return min(shortest, longest), longest


def _fewest_digits(country_code: int, gain: int | None) -> int:
    """The fewest digits of the text that make a valid NSN, if stripping its prefix adds ``gain``."""
    return 1 if gain is None else max(1, _nsn_lengths(country_code)[0] - gain)


@cache
def _international_digits() -> int:
    """The fewest digits after an IDD that make a valid number of some country.

    After an IDD come the country code and the NSN, whose prefix is stripped with the metadata of
    the code's main region.
    """
    codes = set(COUNTRY_CODE_TO_REGION_CODE) | set(COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    return min(len(str(code)) + _fewest_digits(code, _gain(_main_metadata(code))) for code in codes)


@dataclass(frozen=True)
class _Bounds:
    """What a candidate's digits must allow for a region's matcher to find a valid number in it.

    Without '+' and without letters (which could stand for digits), the matcher's ``parse`` reads
    a candidate or a piece of it, hence at most the candidate's digits, in one of three ways:

    * national form: the digits, less a national prefix stripped with the region's metadata (a
      transform rule may add a few digits back), are the NSN;
    * the region's country code written without '+' (the digits start with it), then a national
      number stripped of its prefix twice: with the region's metadata, then with the main
      region's of the code;
    * the region's international prefix (IDD), the digits start with it, then a country code and
      an NSN stripped with the main region's metadata of that code.

    ``fewest_national`` is the fewest digits either of the first two accepts, ``fewest_after_idd``
    the fewest from the IDD's start for the third. For a candidate of digits only the one
    piece is the whole candidate, so also at most ``most_national`` digits (or the IDD-led or
    code-led forms' own bound) can make a valid number: an NSN's longest valid length plus what
    the prefix patterns strip at most (their longest match; a transform rule keeps part of it).
    """

    region: str
    fewest_national: int
    idd: re.Pattern[str] | None
    fewest_after_idd: int
    prefix: re.Pattern[str] | None
    code: str
    longest_nsn: int
    most_national: float
    most_with_code: float


@cache
def _bounds(region: str) -> _Bounds | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.country_code is None:
        return None
    code = metadata.country_code
    main = _main_metadata(code)
    own_gain, main_gain = _gain(metadata), _gain(main)
    both_gain = None if own_gain is None or main_gain is None else own_gain + main_gain
    fewest_national = min(_fewest_digits(code, own_gain), len(str(code)) + _fewest_digits(code, both_gain))
    idd, fewest_after_idd = None, 0
    if metadata.international_prefix:
        idd = re.compile(metadata.international_prefix)
        shortest_idd = max(1 if idd.fullmatch("") is None else 0, _widths(metadata.international_prefix)[0])
        fewest_after_idd = shortest_idd + _international_digits()
    longest_nsn = _nsn_lengths(code)[1]
    own_strip = _widths(metadata.national_prefix_for_parsing)[1]
    main_strip = _widths(main.national_prefix_for_parsing if main is not None else None)[1]
    prefix = re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else None
    return _Bounds(
        region=region,
        fewest_national=fewest_national,
        idd=idd,
        fewest_after_idd=fewest_after_idd,
        prefix=prefix,
        code=str(code),
        longest_nsn=longest_nsn,
        most_national=own_strip + longest_nsn,
        most_with_code=len(str(code)) + own_strip + main_strip + longest_nsn,
    )


@cache
def _filtered_regions(regions: tuple[str, ...], leniency: int) -> tuple[tuple[str, _Bounds | None], ...]:
    # Below VALID the matcher accepts possible numbers, which the bounds say nothing about.
    return tuple((region, _bounds(region) if leniency >= Leniency.VALID else None) for region in regions)


# Characters that leave a number's digits as they are when parsed: no extension ("ext", "x",
# '#', '~', ',' or ';' start one), no letters standing for digits, no '+'.
_PLAIN = frozenset(" -./()[]")


@dataclass(frozen=True)
class _Digits:
    """What the bounds need to know of a candidate or piece."""

    digits: str | None  # None when it holds '+' or a letter: then no region is ruled out
    plain: bool  # parsed, all its digits and nothing else make the number
    cost: int  # the most tries the matcher can spend on it as a candidate


@lru_cache(maxsize=1 << 16)
def _digits_of(candidate: str) -> _Digits:
    """The digits of a candidate or piece, and the most tries the matcher can spend on it.

    Tries: one for the candidate, then for each of the six inner-match patterns one more than its
    number of matches. Every inner-match pattern starts with a non-digit ('/', '(', whitespace,
    '-', a wide hyphen, '.'), whitespace can start two of them, and the matcher resumes one
    character past each match's start: at most 1 + 3 × the non-digit characters in all.
    """
    if candidate.isdecimal():
        return _Digits(candidate if candidate.isascii() else normalize_digits_only(candidate), True, 1)
    cost = 1 + 3 * sum(not character.isdecimal() for character in candidate)
    if any(character in _PLUS_CHARS or character.isalpha() for character in candidate):
        return _Digits(None, False, cost)
    plain = all(character.isdecimal() or character in _PLAIN for character in candidate)
    digits = _NOT_ASCII_DIGITS.sub("", candidate) if candidate.isascii() else normalize_digits_only(candidate)
    return _Digits(digits, plain, cost)


def _may_match(bounds: _Bounds | None, piece: _Digits, whole: bool) -> bool:
    """Whether ``parse`` of the piece in the region can give a valid number (``whole``), or of some
    piece of it (not ``whole``: its digits are a run of the candidate's)."""
    digits = piece.digits
    if bounds is None or digits is None:
        return True
    count = len(digits)
    if count < bounds.fewest_national:
        # Only an IDD-led piece can be long enough; its IDD starts where the pattern first
        # matches in the digits, or later.
        found = None if bounds.idd is None else bounds.idd.match(digits) if whole else bounds.idd.search(digits)
        if found is None or count - found.start() < bounds.fewest_after_idd:
            return False
    if not (whole and piece.plain):
        return True
    if bounds.idd is not None and bounds.idd.match(digits):
        return True
    if digits.startswith(bounds.code) and count <= bounds.most_with_code:
        return True
    if bounds.prefix is not None and bounds.prefix.match(digits):
        if count > bounds.most_national:
            return False
    elif count > bounds.longest_nsn:
        return False
    return _valid_nationally(bounds.region, digits)


@lru_cache(maxsize=1 << 16)
def _valid_nationally(region: str, digits: str) -> bool:
    """Whether the digits, read in national form, can be a valid number of the region's code.

    ``parse`` takes as NSN the digits or the digits stripped of the national prefix (with the
    region's metadata); ``is_valid_number`` requires the NSN to have a known type in the region
    it picks among the code's regions (``_number_type_helper``, which checks the general
    description first). With the NSN written as parsed (leading zeros kept), that is its string.
    """
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.country_code is None:
        return True
    regions = _metadata_of(metadata.country_code)
    if len(regions) > _TYPE_CHECKS:
        return True  # checking every region (25 share +1) costs about what parsing does
    stripped = _maybe_strip_national_prefix_carrier_code(digits, metadata)[1]
    return any(
        _number_type_helper(nsn, other) != PhoneNumberType.UNKNOWN for nsn in {digits, stripped} for other in regions
    )


@lru_cache(maxsize=1 << 16)
def _regions_for(piece: str, regions: tuple[str, ...], leniency: int, whole: bool) -> frozenset[str]:
    digits = _digits_of(piece)
    return frozenset(
        region for region, bounds in _filtered_regions(regions, leniency) if _may_match(bounds, digits, whole)
    )


@lru_cache(maxsize=1024)
def _rejects_beside(character: str) -> bool:
    """Whether the matcher (at VALID or stricter) refuses a number next to this character."""
    return bool(
        PhoneNumberMatcher._is_invalid_punctuation_symbol(character) or PhoneNumberMatcher._is_latin_letter(character)
    )


class _Probe(PhoneNumberMatcher):
    """phonenumbers' matcher on one candidate, recording the pieces it tries and matching none."""

    def __init__(self, candidate: str, stamp: bool) -> None:
        super().__init__(candidate + (":00" if stamp else ""), None, leniency=Leniency.VALID, max_tries=1 << 30)
        self.tried: list[tuple[int, str]] = []

    def _parse_and_verify(self, candidate: str, offset: int) -> None:
        self.tried.append((offset, candidate))
        return None


@lru_cache(maxsize=1 << 16)
def _pieces(candidate: str, stamp: bool) -> tuple[tuple[int, str], ...]:
    """(offset in the candidate, piece) of each piece the matcher tries when none matches.

    Which pieces it tries depends only on the candidate, whether a time stamp's ``:dd`` follows
    it, and the verdicts on earlier pieces; with every verdict "no", on nothing else.
    """
    if candidate.isdecimal():
        return ((0, candidate),)  # no date, time stamp or inner match in digits alone
    probe = _Probe(candidate, stamp)
    probe._extract_match(candidate, 0)
    return tuple(probe.tried)


def _refused_beside(text: str, start: int, piece: str, lenient: bool) -> bool:
    """Whether ``_parse_and_verify`` refuses the piece for the characters beside it, before parsing."""
    if lenient:
        return False
    end = start + len(piece)
    return (start > 0 and not _LEAD_PATTERN.match(piece) and _rejects_beside(text[start - 1])) or (
        end < len(text) and _rejects_beside(text[end])
    )


_verdicts_of_pieces: dict[tuple[str | None, int, str, bool, bool], Any] = {}


@lru_cache(maxsize=1 << 14)
def _international(piece: str) -> bool:
    """Whether every region's matcher reaches the same verdict on the piece: it is written with
    '+' and a valid country code.

    ``parse`` then takes the country code from the number and strips the national prefix with
    the metadata of the code's main region, whatever the default region; validity and the
    national-prefix rule (not applied to numbers written with '+') depend on the number alone.
    Only an invalid code after '+' sends ``parse`` back to the default region's rules.
    """
    start = _VALID_START_CHAR_PATTERN.search(piece)
    if start is None or start.group() not in _PLUS_CHARS:
        return False
    try:
        parse(piece, None, keep_raw_input=True)
    except NumberParseException as error:
        return error.error_type != NumberParseException.INVALID_COUNTRY_CODE
    return True


class _MemoMatcher(PhoneNumberMatcher):
    """phonenumbers' matcher, skipping pieces the region's bounds rule out and remembering its
    verdict on the others.

    ``_parse_and_verify(piece, offset)`` reads the text only for the characters just before and
    after the piece (the Latin-letter and punctuation rule), so the verdict is keyed by whether
    they are refused; a match is rebuilt at the new offset with the number parsed the first time.
    """

    bounds: _Bounds | None = None

    def _parse_and_verify(self, candidate: str, offset: int) -> Any:
        if not _may_match(self.bounds, _digits_of(candidate), True):
            return None
        end = offset + len(candidate)
        key = (
            None if _international(candidate) else self.preferred_region,
            self.leniency,
            candidate,
            offset > 0 and _rejects_beside(self.text[offset - 1]),
            end < len(self.text) and _rejects_beside(self.text[end]),
        )
        if key in _verdicts_of_pieces:
            number = _verdicts_of_pieces[key]
            return None if number is None else PhoneNumberMatch(offset, candidate, number)
        match = super()._parse_and_verify(candidate, offset)
        if len(_verdicts_of_pieces) >= _MEMO_SIZE:
            _verdicts_of_pieces.clear()
        _verdicts_of_pieces[key] = None if match is None else match.number
        return match


@dataclass
class _Shared:
    """The candidates the matcher meets from the start of the text while it matches nothing."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    cost: int = 0


def _trim(candidate: str) -> str:
    second = _SECOND_NUMBER_START_PATTERN.search(candidate)
    return candidate[: second.start()] if second else candidate


def _candidates(text: str, min_length: int) -> _Shared:
    shared = _Shared()
    index = 0
    while (found := _PATTERN.search(text, index)) is not None:
        start = found.start()
        candidate = _trim(text[start : found.end()])
        shared.starts.append(start)
        shared.ends.append(start + len(candidate))
        shared.texts.append(candidate)
        if len(candidate) >= min_length:
            shared.cost += _digits_of(candidate).cost
        index = start + len(candidate)
    return shared


Surroundings = tuple[bool, bool, bool]


def _surroundings(text: str, start: int, end: int) -> Surroundings:
    """All the matcher reads of the text outside a candidate: whether it refuses the characters
    before and after, and whether a time stamp's ``:dd`` follows."""
    return (
        start > 0 and _rejects_beside(text[start - 1]),
        end < len(text) and _rejects_beside(text[end]),
        _TIME_STAMPS_SUFFIX.match(text, end) is not None,
    )


def _regions_needing_a_look(
    text: str, start: int, candidate: str, around: Surroundings, regions: tuple[str, ...], leniency: int
) -> frozenset[str]:
    """The regions whose matcher might match in the candidate: those that pass some piece it tries
    that is not refused for its neighbours. In any other region every try fails, and the pieces
    tried are those ``_pieces`` lists."""
    lenient = leniency < Leniency.VALID
    found: frozenset[str] = frozenset()
    for offset, piece in _pieces(candidate, around[2]):
        if not _refused_beside(text, start + offset, piece, lenient):
            found |= _regions_for(piece, regions, leniency, True)
    return found


_verdicts: dict[tuple[str | None, int, str, bool, bool, bool], tuple[int, int] | None] = {}


def _verdict(matcher: _MemoMatcher, candidate: str, start: int, around: Surroundings) -> tuple[int, int] | None:
    """The span the matcher finds in ``candidate`` at ``start``, if any (its budget cannot run out).

    Pieces starting where the candidate does see the character before it, pieces ending where
    it does the character after; the time-stamp rule reads the ``:dd`` after; nothing else.
    """
    key = (matcher.preferred_region, matcher.leniency, candidate, *around)
    if key in _verdicts:
        relative = _verdicts[key]
        return None if relative is None else (start + relative[0], start + relative[1])
    budget = matcher._max_tries
    match = matcher._extract_match(candidate, start)
    span = None if match is None else (match.start, match.end)
    if _digits_of(candidate).cost < budget:  # else the budget may have cut the matcher short
        if len(_verdicts) >= _MEMO_SIZE:
            _verdicts.clear()
        _verdicts[key] = None if span is None else (span[0] - start, span[1] - start)
    return span


def _walk(
    text: str,
    region: str,
    bounds: _Bounds | None,
    leniency: int,
    shared: _Shared,
    positions: list[int],
    surroundings: dict[int, Surroundings],
) -> list[tuple[int, int]] | None:
    """The region's matches, or None if its budget of tries might run out."""
    matcher = _MemoMatcher(text, region, leniency=leniency)
    matcher.bounds = bounds
    budget, min_length = matcher._max_tries, matcher._min_candidate_length
    spent = shared.cost
    spans: list[tuple[int, int]] = []
    index = 0
    while spent < budget:
        following = bisect.bisect_left(shared.starts, index)
        if following == 0 or shared.ends[following - 1] <= index:
            # On a shared boundary: the next candidates are the shared ones, and those the region
            # cannot match in are rejected without a look.
            position = bisect.bisect_left(positions, following)
            if position == len(positions):
                return spans
            chosen = positions[position]
            start, candidate, around = shared.starts[chosen], shared.texts[chosen], surroundings[chosen]
        else:
            # After a match inside a candidate: the matcher searches on from there.
            found = _PATTERN.search(text, index)
            if found is None:
                return spans
            start = found.start()
            candidate = _trim(text[start : found.end()])
            if len(candidate) >= min_length:
                spent += _digits_of(candidate).cost
                around = _surroundings(text, start, start + len(candidate))
            if len(candidate) < min_length or region not in _regions_needing_a_look(
                text, start, candidate, around, (region,), leniency
            ):
                index = start + len(candidate)
                continue
        matcher._max_tries = budget
        span = _verdict(matcher, candidate, start, around)
        if span is None:
            index = start + len(candidate)
        else:
            spans.append(span)
            index = span[1]
    return None


def phone_spans(text: str, regions: Sequence[str], leniency: int) -> dict[str, list[tuple[int, int]]]:
    """Per region, the (start, end) of every match ``PhoneNumberMatcher(text, region, leniency=...)`` yields."""
    regions = tuple(regions)
    filtered = _filtered_regions(regions, leniency)
    min_length = PhoneNumberMatcher(text, None, leniency=leniency)._min_candidate_length
    shared = _candidates(text, min_length)
    positions: dict[str, list[int]] = {region: [] for region, _ in filtered}
    surroundings: dict[int, Surroundings] = {}
    for index, candidate in enumerate(shared.texts):
        if len(candidate) < min_length or not _regions_for(candidate, regions, leniency, False):
            continue
        start = shared.starts[index]
        around = _surroundings(text, start, shared.ends[index])
        wanted = _regions_needing_a_look(text, start, candidate, around, regions, leniency)
        if wanted:
            surroundings[index] = around
            for region in wanted:
                positions[region].append(index)
    found = {}
    for region, bounds in filtered:
        spans = _walk(text, region, bounds, leniency, shared, positions[region], surroundings)
        if spans is None:
            spans = [(match.start, match.end) for match in PhoneNumberMatcher(text, region, leniency=leniency)]
        found[region] = spans
    return found
