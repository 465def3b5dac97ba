"""The Presidio recognizers of the PII check, in Spanish and English, and the offline analyzer built from them.

Nothing here downloads: the NLP engine is a blank spaCy pipeline (tokenizer, stop words and
punctuation flags that ship inside spaCy; the lemma is the lower-cased token, which is all the
context matching needs since Presidio matches context words as substrings), and the e-mail
recognizer validates domains with tldextract's bundled public-suffix snapshot, never the network.

Per language the registry holds:

* both: e-mail, URL, IP address, credit card, IBAN, phone (Presidio's regions plus ES), with
  Spanish and English context words, and the Spanish NIF and NIE (checksummed, so cheap to add);
* ``es``: Spanish passport, and ours for what Presidio lacks — social security number (NUSS,
  mod-97 control), bank account CCC (two control digits), licence plates (current and provincial
  formats), postcodes (province 01–52; weak alone, counted with address context);
* ``en``: US social security number.

NER entities (PERSON, LOCATION) need a trained spaCy model; one is used only when configured by
path and pinned by its hash (see ``load_ner_model``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import regex
import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    EsPassportRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)
from spacy.attrs import IDX, LENGTH

LANGUAGES = ("es", "en")
NER_ENTITIES = ("PERSON", "LOCATION")
# An explicit extractor with no URLs and no disk cache: tldextract's module-level one would fetch
# the public-suffix list on first use and write a cache under $HOME.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

PHONE_CONTEXT = [
    *PhoneRecognizer.CONTEXT,
    "teléfono",
    "telefono",
    "tel",
    "tlf",
    "móvil",
    "movil",
    "celular",
    "llamar",
    "contacto",
    "fijo",
    "whatsapp",
    "fax",
]
EMAIL_CONTEXT = ["email", "e-mail", "correo", "mail", "electrónico"]
URL_CONTEXT = ["url", "website", "link", "web", "enlace", "página", "sitio"]
IP_CONTEXT = ["ip", "ipv4", "ipv6", "dirección ip", "servidor", "server", "host"]
CARD_CONTEXT = [*CreditCardRecognizer.CONTEXT, "tarjeta", "crédito", "débito", "visa", "mastercard", "pago"]
IBAN_CONTEXT = ["iban", "bank", "transaction", "cuenta", "banco", "bancaria", "transferencia", "domiciliación"]
NIF_CONTEXT = [*EsNifRecognizer.CONTEXT, "dni", "nif", "documento", "identidad", "id"]
NIE_CONTEXT = [*EsNieRecognizer.CONTEXT, "nie", "extranjero", "residencia", "foreigner"]
PASSPORT_CONTEXT = ["pasaporte", "passport"]
SSN_CONTEXT = [*UsSsnRecognizer.CONTEXT]
NUSS_CONTEXT = ["seguridad social", "nuss", "naf", "afiliación", "afiliacion", "ss", "social security"]
CCC_CONTEXT = ["ccc", "cuenta", "código cuenta cliente", "banco", "bancaria", "account"]
PLATE_CONTEXT = ["matrícula", "matricula", "vehículo", "vehiculo", "coche", "placa", "licence", "plate"]
POSTCODE_CONTEXT = [
    "código postal",
    "codigo postal",
    "postal",
    "cp",
    "c.p",
    "calle",
    "avenida",
    "avda",
    "plaza",
    "paseo",
    "camino",
    "carretera",
    "ronda",
    "travesía",
    "urbanización",
    "pasaje",
    "callejón",
    "glorieta",
    "rambla",
    "c/",
]

# Presidio's card pattern predates Mastercard's 2221–2720 range (2017); the Luhn check still applies.
CARD_PATTERNS = [
    *CreditCardRecognizer.PATTERNS,
    Pattern(
        "Mastercard 2-series", r"\b2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b", 0.3
    ),
]

_PROVINCES = (
    "A|AB|AL|AV|B|BA|BI|BU|C|CA|CC|CE|CO|CR|CS|CU|GC|GE|GI|GR|GU|H|HU|IB|J|L|LE|LO|LU|M|MA|ML|MU|NA|O|OR|OU|P|PM|PO"
    "|S|SA|SE|SG|SO|SS|T|TE|TF|TO|V|VA|VI|Z|ZA"
)


def _digits(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def nuss_is_valid(text: str) -> bool:
    """The control digits of a Spanish social security number (2 province + 8 body + 2 control).

    The TGSS rule takes province × 10⁷ + body when the body is below 10⁷ and the plain
    concatenation otherwise; some generators (Faker among them) always concatenate. Both are
    accepted: they differ only for bodies with a leading zero.
    """
    digits = _digits(text)
    if len(digits) != 12:
        return False
    province, body, control = int(digits[:2]), int(digits[2:10]), int(digits[10:])
    if not (1 <= province <= 53 or province == 66):
        return False
    concatenated = int(digits[:10]) % 97
    official = (province * 10_000_000 + body) % 97 if body < 10_000_000 else concatenated
    return control in (official, concatenated)


_CCC_WEIGHTS = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)


def _ccc_digit(digits: str) -> int:
    value = 11 - sum(int(digit) * weight for digit, weight in zip(digits.zfill(10), _CCC_WEIGHTS, strict=True)) % 11
    return {10: 1, 11: 0}.get(value, value)


def ccc_is_valid(text: str) -> bool:
    """The two control digits of a Spanish bank account (entidad 4, oficina 4, DC 2, cuenta 10)."""
    digits = _digits(text)
    if len(digits) != 20 or digits == "0" * 20:
        return False
    return _ccc_digit(digits[:8]) == int(digits[8]) and _ccc_digit(digits[10:]) == int(digits[9])


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, validating the domain against the bundled suffix snapshot."""

    def validate_result(self, pattern_text: str) -> bool:
        return _SUFFIXES(pattern_text).fqdn != ""


class _ValidatedPatternRecognizer(PatternRecognizer):
    """A pattern recognizer whose matches are kept only when ``checksum`` accepts them."""

    checksum: Any = None

    def validate_result(self, pattern_text: str) -> bool | None:
        return bool(type(self).checksum(pattern_text))


class EsNussRecognizer(_ValidatedPatternRecognizer):
    """Spanish social security numbers (NUSS): 12 digits, groups 2-8-2 optionally separated."""

    checksum = staticmethod(nuss_is_valid)

    def __init__(self, supported_language: str = "es") -> None:
        super().__init__(
            supported_entity="ES_NSS",
            patterns=[Pattern("ES_NSS", r"\b\d{2}[ /-]?\d{8}[ /-]?\d{2}\b", 0.3)],
            context=NUSS_CONTEXT,
            supported_language=supported_language,
        )


class EsCccRecognizer(_ValidatedPatternRecognizer):
    """Spanish bank account numbers (Código Cuenta Cliente): 20 digits, groups 4-4-2-10."""

    checksum = staticmethod(ccc_is_valid)

    def __init__(self, supported_language: str = "es") -> None:
        super().__init__(
            supported_entity="ES_CCC",
            patterns=[Pattern("ES_CCC", r"\b\d{4}[ -]?\d{4}[ -]?\d{2}[ -]?\d{10}\b", 0.5)],
            context=CCC_CONTEXT,
            supported_language=supported_language,
        )


class EsLicensePlateRecognizer(PatternRecognizer):
    """Spanish licence plates: ``1234 BCD`` (2000 onwards, no vowels) and ``M 1234 AB`` (provincial)."""

    def __init__(self, supported_language: str = "es") -> None:
        super().__init__(
            supported_entity="ES_LICENSE_PLATE",
            patterns=[
                Pattern("ES_PLATE_2000", r"\b\d{4}[ -]?[BCDFGHJKLMNPRSTVWXYZ]{3}\b", 0.4),
                Pattern("ES_PLATE_PROVINCIAL", rf"\b(?:{_PROVINCES})[ -]?\d{{4}}[ -]?[A-Z]{{1,2}}\b", 0.3),
            ],
            context=PLATE_CONTEXT,
            supported_language=supported_language,
            # Plates are written in capitals; case-insensitive matching would take "2024 por" for one.
            global_regex_flags=regex.DOTALL | regex.MULTILINE,
        )


class EsPostcodeRecognizer(PatternRecognizer):
    """Spanish postcodes: five digits starting with a province code 01–52; weak without address context."""

    def __init__(self, supported_language: str = "es") -> None:
        super().__init__(
            supported_entity="ES_POSTCODE",
            patterns=[Pattern("ES_POSTCODE", r"\b(?:0[1-9]|[1-4]\d|5[0-2])\d{3}\b", 0.05)],
            context=POSTCODE_CONTEXT,
            supported_language=supported_language,
        )


def recognizers_for(language: str) -> list[EntityRecognizer]:
    """Fresh recognizer instances for one language (context words in Spanish and English)."""
    common: list[EntityRecognizer] = [
        OfflineEmailRecognizer(context=EMAIL_CONTEXT, supported_language=language),
        UrlRecognizer(context=URL_CONTEXT, supported_language=language),
        IpRecognizer(context=IP_CONTEXT, supported_language=language),
        CreditCardRecognizer(patterns=CARD_PATTERNS, context=CARD_CONTEXT, supported_language=language),
        IbanRecognizer(context=IBAN_CONTEXT, supported_language=language),
        PhoneRecognizer(
            context=PHONE_CONTEXT,
            supported_language=language,
            supported_regions=(*PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, "ES"),
        ),
        EsNifRecognizer(context=NIF_CONTEXT, supported_language=language),
        EsNieRecognizer(context=NIE_CONTEXT, supported_language=language),
    ]
    if language == "es":
        return [
            *common,
            EsPassportRecognizer(context=PASSPORT_CONTEXT, supported_language=language),
            EsNussRecognizer(language),
            EsCccRecognizer(language),
            EsLicensePlateRecognizer(language),
            EsPostcodeRecognizer(language),
        ]
    return [*common, UsSsnRecognizer(context=SSN_CONTEXT, supported_language=language)]


VOCABULARY_LIMIT = 200_000


class BlankSpacyNlpEngine(NlpEngine):
    """Tokens, stop words and punctuation from a blank spaCy pipeline; entities from an optional model.

    The lemma is the lower-cased token with colons removed: Presidio splits keywords on ':' over
    the whole document, which would make one token's context depend on text far away; without
    colons a token's context depends only on its neighbours, and substring matching still finds
    "tel" in "tel612345678".
    """

    engine_name = "custodia_blank_spacy"
    is_available = True

    def __init__(self, languages: Iterable[str], ner_models: dict[str, Any] | None = None) -> None:
        self.languages = list(languages)
        self.ner_models = dict(ner_models or {})
        self.nlp: dict[str, Any] | None = None
        self._fresh: dict[str, int] = {}  # each pipeline's vocabulary size when loaded

    def load(self) -> None:
        self.nlp = {language: self.ner_models.get(language) or spacy.blank(language) for language in self.languages}
        self._fresh = {language: len(nlp.vocab) for language, nlp in self.nlp.items()}

    def is_loaded(self) -> bool:
        return self.nlp is not None

    def _pipeline(self, language: str) -> Any:
        if self.nlp is None:
            self.load()
        assert self.nlp is not None
        nlp = self.nlp[language]
        grown = len(nlp.vocab) > self._fresh.setdefault(language, len(nlp.vocab)) + VOCABULARY_LIMIT
        if grown and language not in self.ner_models:
            # spaCy adds every new token text to the vocabulary for good: a scan of gigabytes of
            # numbers and addresses would grow it without bound. A fresh blank pipeline has the
            # same tokenizer, stop words and punctuation, so results do not change.
            nlp = self.nlp[language] = spacy.blank(language)
            self._fresh[language] = len(nlp.vocab)
        return nlp

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        doc = self._pipeline(language)(text)
        entities = [entity for entity in doc.ents if entity.label_ in NER_LABELS]
        spans = doc.to_array([IDX, LENGTH]).tolist() if len(doc) else []
        starts = [start for start, _ in spans]
        # Token texts, not spaCy tokens: Presidio only takes their lengths, and a list is much
        # cheaper to walk than a Doc, which builds a Token object per step.
        tokens = [text[start : start + length] for start, length in spans]
        return NlpArtifacts(
            entities=entities,
            tokens=tokens,  # type: ignore[arg-type]
            tokens_indices=starts,
            lemmas=[token.lower().replace(":", "") for token in tokens],
            nlp_engine=self,
            language=language,
            scores=[0.85] * len(entities),
        )

    def process_batch(
        self, texts: Iterable[Any], language: str, batch_size: int = 1, n_process: int = 1, **kwargs: Any
    ) -> Iterator[Any]:
        for text in texts:
            yield text, self.process_text(str(text), language)

    def is_stopword(self, word: str, language: str) -> bool:
        return bool(self._pipeline(language).vocab[word].is_stop)

    def is_punct(self, word: str, language: str) -> bool:
        lexeme = self._pipeline(language).vocab[word]
        return bool(lexeme.is_punct or lexeme.is_space or not word.strip())

    def get_supported_entities(self) -> list[str]:
        return list(NER_ENTITIES) if self.ner_models else []

    def get_supported_languages(self) -> list[str]:
        return list(self.languages)


# spaCy models label people PERSON or PER and places GPE, LOC or LOCATION.
NER_LABELS = {"PERSON", "PER", "GPE", "LOC", "LOCATION"}


def load_ner_model(path: str | Path, sha256: str) -> Any:
    """A spaCy model loaded from a local directory whose ``meta.json`` has the pinned SHA-256.

    The hash pins the exact model: a different or tampered model is refused rather than used.
    """
    meta = Path(path) / "meta.json"
    if not meta.is_file():
        raise ValueError(f"The NER model folder '{path}' has no meta.json; it is not a spaCy model.")
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(file.read_bytes())
    if digest.hexdigest() != sha256.lower():
        raise ValueError(f"The NER model at '{path}' does not match its pinned hash; it was not loaded.")
    return spacy.load(path)


def build_engine(
    languages: Iterable[str], *, ner_models: dict[str, Any] | None = None, context_prefix_count: int = 5
) -> AnalyzerEngine:
    """An AnalyzerEngine over our recognizers, our offline NLP engine and Presidio's context enhancer."""
    languages = list(languages)
    nlp_engine = BlankSpacyNlpEngine(languages, ner_models)
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=languages)
    for language in languages:
        for recognizer in recognizers_for(language):
            registry.add_recognizer(recognizer)
        if ner_models and language in ner_models:
            registry.add_recognizer(SpacyRecognizer(supported_language=language, supported_entities=list(NER_ENTITIES)))
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=languages,
        context_aware_enhancer=LemmaContextAwareEnhancer(context_prefix_count=context_prefix_count),
    )
