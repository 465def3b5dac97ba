"""Presidio's phone recognizer, computed with one scan of the text for all its regions.

``phone_spans(text, regions, leniency)`` returns, per region, the spans that
``phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency)`` yields — what Presidio's
``PhoneRecognizer.analyze`` collects — without parsing every candidate once per region. The
matcher walks the text from candidate to candidate (``_PATTERN`` matches, trimmed at a second
number), and tries the candidate, then pieces of it (its "inner matches"), as a number of its
region; it stops after the first piece that matches. Every try made here is phonenumbers' own
code; what changes is which are made:

1. The candidates are found once for all regions (``_candidates``, which looks for a digit
   first). A region's walk leaves that shared sequence only after a match ending inside a
   candidate; it then searches the text itself until it is back on a shared boundary, from
   where ``_PATTERN.search`` returns the shared candidate again.
2. A region's matcher is given a candidate only if some piece it would try could be a valid
   number of the region: a piece refused for the Latin letter, '%' or currency sign beside it
   (the matcher's check before parsing) cannot, nor can a piece whose digits do not fit the
   region's bounds (``_Bounds``, from phonenumbers' metadata, each argued where computed), nor a
   plain one (digits and separators, maybe an "x" extension) that, however ``parse`` reads it,
   fails the matcher's checks: a type for its NSN and, read in national form, the national
   prefix written where the number's format wants it (``_valid_nationally``, ``_valid_with_code``).
   Which pieces the matcher tries when none matches depends on the candidate alone, mostly on
   where its digits are (``_pieces``).
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
    _LEAD_LIMIT,
    _LEAD_PATTERN,
    _PATTERN,
    _PUNCTUATION_LIMIT,
    _TIME_STAMPS,
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
    _formatting_rule_has_first_group_only,
    _maybe_strip_national_prefix_carrier_code,
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
    # For the checks of a plain piece's readings: the code, the metadata of the region and of the
    # code's main region (which region_code_for_country_code names), and the latter's prefix pattern.
    country_code: int
    metadata: Any
    main: str
    main_metadata: Any
    main_prefix: re.Pattern[str] | None


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
    return _Bounds(
        region=region,
        fewest_national=fewest_national,
        idd=idd,
        fewest_after_idd=fewest_after_idd,
        prefix=_prefix_pattern(metadata),
        code=str(code),
        longest_nsn=longest_nsn,
        most_national=own_strip + longest_nsn,
        most_with_code=len(str(code)) + own_strip + main_strip + longest_nsn,
        country_code=code,
        metadata=metadata,
        main=region_code_for_country_code(code),
        main_metadata=main,
        main_prefix=_prefix_pattern(main),
    )


def _prefix_pattern(metadata: Any) -> re.Pattern[str] | None:
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


@cache
def _filtered_regions(regions: tuple[str, ...], leniency: int) -> tuple[tuple[str, _Bounds | None], ...]:
    # Below VALID the matcher accepts possible numbers, which the bounds say nothing about.
    return tuple((region, _bounds(region) if leniency >= Leniency.VALID else None) for region in regions)


# Characters that leave a number's digits as they are when parsed: no extension ("ext", "x",
# '#', '~', ',' or ';' start one), no letters standing for digits, no '+'.
_PLAIN = frozenset(" -./()[]")
# A number with an extension, "x" and its digits (how Faker writes them).
_WITH_EXTENSION = re.compile(r"([^xX]*)[xX]([0-9]+)")


@dataclass(frozen=True)
class _Digits:
    """What the bounds need to know of a candidate or piece."""

    digits: str | None  # None when it holds '+' or a letter: then no region is ruled out
    plain: bool  # parsed, it can match only as the number of ``digits`` and nothing else
    raw: str  # the digits of the raw input, which the national-prefix rule reads
    cost: int  # the most tries the matcher can spend on it as a candidate


def _ascii_digits(text: str) -> str:
    return _NOT_ASCII_DIGITS.sub("", text) if text.isascii() else normalize_digits_only(text)


@lru_cache(maxsize=1 << 16)
def _digits_of(candidate: str) -> _Digits:
    """The digits of a candidate or piece, and the most tries the matcher can spend on it.

    Tries: one for the candidate, then for each of the six inner-match patterns one more than its
    number of matches. Every inner-match pattern starts with a non-digit ('/', '(', whitespace,
    '-', a wide hyphen, '.'), whitespace can start two of them, and the matcher resumes one
    character past each match's start: at most 1 + 3 × the non-digit characters in all.

    A plain number followed by "x" and digits matches only with those digits as its extension
    (``_contains_only_valid_x_chars`` compares them with the parsed one), which ``parse`` strips
    with the 'x' and the spaces before it (the only extension label there): its number is then
    the plain part's digits, read as a plain number's are. The digits of any piece of it that
    can match are a run of those too: a piece holding the 'x' is a suffix of the plain part
    followed by the extension (no inner-match pattern matches inside the extension's digits).
    """
    if candidate.isdecimal():
        digits = candidate if candidate.isascii() else normalize_digits_only(candidate)
        return _Digits(digits, True, digits, 1)
    cost = 1 + 3 * sum(not character.isdecimal() for character in candidate)
    if any(character in _PLUS_CHARS or character.isalpha() for character in candidate):
        extension = _WITH_EXTENSION.fullmatch(candidate)
        if extension is None or not all(character.isdecimal() or character in _PLAIN for character in extension[1]):
            return _Digits(None, False, "", cost)
        digits = _ascii_digits(extension[1])
        return _Digits(digits, True, digits + extension[2], cost)
    plain = all(character.isdecimal() or character in _PLAIN for character in candidate)
    digits = _ascii_digits(candidate)
    return _Digits(digits, plain, digits, cost)


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
    if digits.startswith(bounds.code) and count <= bounds.most_with_code and _valid_with_code(bounds.region, digits):
        return True
    if bounds.prefix is not None and bounds.prefix.match(digits):
        if count > bounds.most_national:
            return False
    elif count > bounds.longest_nsn:
        return False
    return _valid_nationally(bounds.region, digits, piece.raw)


_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail")


@cache
def _type_patterns(country_code: int, length: int) -> tuple[tuple[re.Pattern[str], tuple[re.Pattern[str], ...]], ...]:
    """Per region of the code, the patterns of its general description and of its number types,
    among those that can match an NSN of this length.

    ``_is_number_matching_desc`` checks the length against the description's listed lengths, if
    any, then requires its pattern (none: no number) to match the whole NSN.
    """

    def admits(desc: Any) -> bool:
        return (
            desc is not None
            and bool(desc.national_number_pattern)
            and (not desc.possible_length or length in desc.possible_length)
        )

    found = []
    for metadata in _metadata_of(country_code):
        descs = [getattr(metadata, name) for name in (*_TYPES, "fixed_line", "mobile")]
        types = tuple(re.compile(desc.national_number_pattern) for desc in descs if admits(desc))
        if admits(metadata.general_desc) and types:
            found.append((re.compile(metadata.general_desc.national_number_pattern), types))
    return tuple(found)


def _may_have_a_type(country_code: int, nsn: str) -> bool:
    """Whether ``is_valid_number`` can hold for this NSN of the code.

    It picks one of the code's regions and requires ``_number_type_helper`` to find a type there:
    the NSN must match the region's general description and then that of one of its types (it
    skips the mobile one when its pattern is the fixed-line one; trying it anyway rules out less).
    """
    for general, types in _type_patterns(country_code, len(nsn)):
        if general.fullmatch(nsn):
            for pattern in types:
                if pattern.fullmatch(nsn):
                    return True
    return False


@cache
def _prefix_rules(region: str) -> tuple[tuple[re.Pattern[str] | None, re.Pattern[str], bool], ...]:
    """The region's number formats, compiled, each with whether it wants the national prefix written."""
    metadata: Any = PhoneMetadata.metadata_for_region(region, None)
    return tuple(
        (
            re.compile(number_format.leading_digits_pattern[-1]) if number_format.leading_digits_pattern else None,
            re.compile(number_format.pattern),
            bool(number_format.national_prefix_formatting_rule)
            and not number_format.national_prefix_optional_when_formatting
            and not _formatting_rule_has_first_group_only(number_format.national_prefix_formatting_rule),
        )
        for number_format in (metadata.number_format if metadata is not None else ())
    )


def _wants_prefix(region: str, nsn: str) -> bool:
    """Whether the format ``_is_national_prefix_present_if_required`` picks for the NSN wants the
    national prefix written.

    It picks the first format whose last leading-digits pattern matches the start of the NSN (or
    that has none) and whose pattern matches all of it (``_choose_formatting_pattern_for_number``);
    the format wants the prefix when it has a national-prefix formatting rule, not optional and
    not just the first group.
    """
    for leading, pattern, wanted in _prefix_rules(region):
        if (leading is None or leading.match(nsn)) and pattern.fullmatch(nsn):
            return wanted
    return False


def _strip(number: str, metadata: Any, prefix: re.Pattern[str] | None) -> tuple[str, bool]:
    """``_maybe_strip_national_prefix_carrier_code``'s number and whether it stripped anything:
    nothing when there is no metadata or its prefix pattern does not match at the start."""
    if metadata is None or prefix is None or prefix.match(number) is None:
        return number, False
    _, stripped, done = _maybe_strip_national_prefix_carrier_code(number, metadata)
    return stripped, done


@lru_cache(maxsize=1 << 16)
def _valid_with_code(region: str, digits: str) -> bool:
    """Whether the digits of a plain piece, read as the region's code and a national number, can
    be a valid number.

    ``_maybe_extract_country_code`` strips the code and then the national prefix with the region's
    metadata; ``parse`` may strip a national prefix again, with the code's main region's (the
    region's own when it is the main one). The NSN is one of those, and ``is_valid_number``
    requires some type for it (``_may_have_a_type``). The number's code did not come from the
    default region, so the national-prefix rule does not apply.
    """
    bounds = _bounds(region)
    assert bounds is not None  # asked only of regions with bounds
    rest = _strip(digits[len(bounds.code) :], bounds.metadata, bounds.prefix)[0]
    again = _strip(rest, bounds.main_metadata, bounds.main_prefix)[0]
    return any(_may_have_a_type(bounds.country_code, nsn) for nsn in {rest, again})


@lru_cache(maxsize=1 << 16)
def _valid_nationally(region: str, digits: str, raw: str) -> bool:
    """Whether the digits of a plain piece, read in national form, can pass the matcher's checks.

    ``parse`` takes as NSN the digits or the digits stripped of the national prefix (with the
    region's metadata), and the code of the region; with the NSN written as parsed (leading zeros
    kept), that is its string. The matcher then requires (at VALID and stricter):

    * ``is_valid_number``: some type for the NSN (``_may_have_a_type``);
    * ``_is_national_prefix_present_if_required``: a number read in national form (its country
      code comes from the default region) whose format wants the national prefix written must
      have one, i.e. the raw input's digits (``raw``: the number's and its extension's) must
      lose a national prefix when stripped with the metadata of the code's main region.
    """
    bounds = _bounds(region)
    assert bounds is not None  # asked only of regions with bounds
    prefixed = bounds.main_metadata is None or _strip(raw, bounds.main_metadata, bounds.main_prefix)[1]
    stripped = _strip(digits, bounds.metadata, bounds.prefix)[0]
    for nsn in (digits,) if stripped == digits else (digits, stripped):
        if _may_have_a_type(bounds.country_code, nsn) and (prefixed or not _wants_prefix(bounds.main, nsn)):
            return True
    return False


@cache
def _by_count(regions: tuple[str, ...], leniency: int) -> tuple[frozenset[str], tuple[tuple[_Bounds, ...], ...]]:
    """The regions that rule nothing out, and per count of digits (the last for any more) the
    bounds whose first test in ``_may_match`` that count can pass: it needs at least
    ``fewest_national`` digits, or ``fewest_after_idd`` with an IDD."""
    filtered = _filtered_regions(regions, leniency)
    unbounded = frozenset(region for region, bounds in filtered if bounds is None)
    bounded = [bounds for _, bounds in filtered if bounds is not None]
    needs = [min(b.fewest_national, b.fewest_after_idd if b.idd is not None else b.fewest_national) for b in bounded]
    return unbounded, tuple(
        tuple(b for b, need in zip(bounded, needs, strict=True) if count >= need)
        for count in range(max(needs, default=0) + 1)
    )


@lru_cache(maxsize=1 << 16)
def _regions_for(piece: str, regions: tuple[str, ...], leniency: int, whole: bool) -> frozenset[str]:
    digits = _digits_of(piece)
    if digits.digits is None:
        return frozenset(regions)
    unbounded, by_count = _by_count(regions, leniency)
    candidates = by_count[min(len(digits.digits), len(by_count) - 1)]
    if not candidates:
        return unbounded
    return unbounded | frozenset(bounds.region for bounds in candidates if _may_match(bounds, digits, whole))


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
def _probed_pieces(candidate: str, stamp: bool) -> tuple[tuple[int, str], ...]:
    """(offset in the candidate, piece) of each piece the matcher tries when none matches.

    Which pieces it tries depends only on the candidate, whether a time stamp's ``:dd`` follows
    it, and the verdicts on earlier pieces; with every verdict "no", on nothing else.
    """
    probe = _Probe(candidate, stamp)
    probe._extract_match(candidate, 0)
    return tuple(probe.tried)


_ZEROS = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=1 << 12)
def _shaped_pieces(shape: str) -> tuple[tuple[int, int], ...]:
    return tuple((offset, offset + len(piece)) for offset, piece in _probed_pieces(shape, False))


def _pieces(candidate: str, stamp: bool) -> tuple[tuple[int, str], ...]:
    """``_probed_pieces``, found on the candidate's shape (its ASCII digits made '0') when they
    depend on nothing else.

    Digits alone hold no date, time stamp or inner match. Otherwise, short of a date (which needs
    '/') or of a time stamp followed by ``:dd`` (``_TIME_STAMPS`` matched), the matcher tries the
    candidate, then for each inner-match pattern the text before its first match and each
    match's group, cut before ``_UNWANTED_END_CHAR_PATTERN``: every piece starts where the
    candidate or a group does, and those patterns (``.``, ``[^(]``, ``[^.]``, ``\\S``, ``\\w`` and
    classes of non-digits) see every digit alike. A shape has neither a date nor a time stamp.
    """
    if candidate.isdecimal():
        return ((0, candidate),)
    if "/" in candidate or (stamp and _TIME_STAMPS.search(candidate)):
        return _probed_pieces(candidate, stamp)
    return tuple((start, candidate[start:end]) for start, end in _shaped_pieces(candidate.translate(_ZEROS)))


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


_DIGITS = re.compile(r"\d")
# Before its first digit a candidate has at most two leading characters, each followed by at most
# four punctuation characters (``_LEAD_LIMIT``, ``_PUNCTUATION_LIMIT``: "{0,2}", "{0,4}").
_MOST_BEFORE_A_DIGIT = int(_LEAD_LIMIT[1:-1].split(",")[1]) * (1 + int(_PUNCTUATION_LIMIT[1:-1].split(",")[1]))


def _candidates(text: str, min_length: int) -> _Shared:
    """The candidates the matcher meets when it matches nothing.

    ``_PATTERN`` needs a digit (``\\d``, as here) at most ``_MOST_BEFORE_A_DIGIT`` characters after
    where it matches, so searching from that far before the next digit finds the same match.
    """
    shared = _Shared()
    index = 0
    while (digit := _DIGITS.search(text, index)) is not None and (
        found := _PATTERN.search(text, max(index, digit.start() - _MOST_BEFORE_A_DIGIT))
    ) is not None:
        start = found.start()
        candidate = _trim(text[start : found.end()])
        shared.starts.append(start)
        shared.ends.append(start + len(candidate))
        shared.texts.append(candidate)
        if len(candidate) >= min_length:
            shared.cost += 1 if candidate.isdecimal() else _digits_of(candidate).cost
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
    text: str, start: int, candidate: str, regions: tuple[str, ...], leniency: int
) -> frozenset[str]:
    """The regions whose matcher might match in the candidate: those that pass some piece it tries
    that is not refused for its neighbours. In any other region every try fails, and the pieces
    tried are those ``_pieces`` lists."""
    lenient = leniency < Leniency.VALID
    if candidate.isdecimal():  # its one piece (``_pieces``)
        refused = _refused_beside(text, start, candidate, lenient)
        return frozenset() if refused else _regions_for(candidate, regions, leniency, True)
    stamp = _TIME_STAMPS_SUFFIX.match(text, start + len(candidate)) is not None
    found: frozenset[str] = frozenset()
    for offset, piece in _pieces(candidate, stamp):
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
            if len(candidate) < min_length or region not in _regions_needing_a_look(
                text, start, candidate, (region,), leniency
            ):
                index = start + len(candidate)
                continue
            around = _surroundings(text, start, start + len(candidate))
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
        # A candidate of digits is its only piece; of others, first a look at all their digits.
        if len(candidate) < min_length or not _regions_for(candidate, regions, leniency, candidate.isdecimal()):
            continue
        start = shared.starts[index]
        wanted = _regions_needing_a_look(text, start, candidate, regions, leniency)
        if wanted:
            surroundings[index] = _surroundings(text, start, shared.ends[index])
            for region in wanted:
                positions[region].append(index)
    found = {}
    for region, bounds in filtered:
        spans = _walk(text, region, bounds, leniency, shared, positions[region], surroundings)
        if spans is None:
            spans = [(match.start, match.end) for match in PhoneNumberMatcher(text, region, leniency=leniency)]
        found[region] = spans
    return found
