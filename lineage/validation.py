"""Validate incoming OpenLineage events against the vendored OpenLineage JSON Schemas.

`check_event` is the only entry point. It either raises `InvalidEvent` listing every structural
error (the view turns it into a 400), or returns a `CheckedEvent`: the kind of event, a normalised
deep copy of it, the spec version it was checked against and warnings for real producers' quirks
that we accept rather than reject:

- ``naive-timestamp``: `eventTime` without a zone is taken as UTC.
- ``non-uuid-run-id``: a run id (or a ParentRunFacet's run id) that is not a UUID is replaced in the
  copy by a uuid5 derived from it, so every event of that run, and its children's parent links, still
  agree. The event's own original id is also on `CheckedEvent.original_run_id`.
- ``missing-schema-url`` / ``unknown-spec-version``: checked against the newest core schema.
- ``unknown-facet`` / ``invalid-facet``: facets are checked one by one against the standard facet
  schema for their position and name; a facet that is unknown or does not match is kept verbatim.

The normalised copy differs from the payload only in `eventTime` (always UTC with microseconds,
``2020-12-28T09:52:00.001000+00:00``, so equal-length strings that sort chronologically; finer
fractions such as nanoseconds are truncated) and in run ids (lowercase canonical UUIDs, or the uuid5
above). JSON Schema ``format`` keywords are annotations only here: run ids and `eventTime` are
checked by the rules above, other formats (``uri`` …) are not enforced.

Every ``$ref`` resolves from the files in ``lineage/schemas/``; nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from numbers import Number
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    from referencing._core import Resolver  # not re-exported by referencing; used for types only

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
DEFAULT_SPEC_VERSION = "2-0-2"
MAX_ERRORS = 50
MAX_WARNINGS_PER_FACET = 10

# Namespace for run ids that are not UUIDs: uuid5(namespace, original id). Never change it, or runs
# already stored would stop matching their later events.
RUN_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:custodia:openlineage:run-id")

_CORE_ID = "https://openlineage.io/spec/{version}/OpenLineage.json"
_SPEC_VERSION_RE = re.compile(r"/spec/(\d+-\d+-\d+)/OpenLineage\.json")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FACET_BASE_RE = re.compile(
    r"/OpenLineage\.json#/\$defs/(RunFacet|JobFacet|DatasetFacet|InputDatasetFacet|OutputDatasetFacet)$"
)

# Facet positions: the core definition every facet there extends, and words for messages.
_POSITION_BASE = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "input": "InputDatasetFacet",
    "output": "OutputDatasetFacet",
}
_BASE_POSITION = {base: position for position, base in _POSITION_BASE.items()}
_POSITION_WORDS = {
    "run": "run facet",
    "job": "job facet",
    "dataset": "dataset facet",
    "input": "input dataset facet (inputFacets)",
    "output": "output dataset facet (outputFacets)",
}
_EVENT_DEFS = {"run": "RunEvent", "dataset": "DatasetEvent", "job": "JobEvent"}
_FACET_CONTAINERS = frozenset({"facets", "inputFacets", "outputFacets"})
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}
_SCHEMA_TYPES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


@dataclass(frozen=True)
class Problem:
    """One error or warning about an event, located by a JSON path."""

    path: str  # JSON path like "$.run.runId" or "$.inputs[0].facets.schema.fields[2].name"
    message: str  # plain English a pipeline engineer understands
    code: str = ""  # short machine code for warnings, e.g. "naive-timestamp", "unknown-facet"


@dataclass
class CheckedEvent:
    """An accepted event: its kind, a normalised deep copy and the quirks we tolerated."""

    kind: str  # "run" | "dataset" | "job"
    event: dict[str, Any]  # normalised deep copy; the original payload is not modified
    spec_version: str  # core schema version the event was checked against, e.g. "2-0-2"
    warnings: list[Problem] = field(default_factory=list)
    original_run_id: str | None = None  # the run id as sent, when it was not a UUID and was mapped


class InvalidEvent(Exception):
    """The event breaks the OpenLineage schema; `errors` lists every problem found (capped)."""

    def __init__(self, errors: list[Problem]) -> None:
        self.errors = errors
        first = f"{errors[0].path}: {errors[0].message}" if errors else "invalid event"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"Invalid OpenLineage event: {first}{more}")


def check_event(payload: object) -> CheckedEvent:
    """Validate one OpenLineage event (already parsed from JSON); raise `InvalidEvent` if it is broken."""
    if not isinstance(payload, dict):
        raise InvalidEvent([Problem("$", f"An OpenLineage event must be a JSON object, not {_describe(payload)}.")])
    schemas = _schemas()
    kind = _kind(payload)
    spec_version, warnings = _spec_version(payload, kind, schemas)

    errors = _unique(_core_problem(error) for error in _first(schemas.core_checks[spec_version, kind], payload))
    event_time = _check_event_time(payload, errors, warnings)
    run_id = _check_run_id(payload, errors)
    if errors:
        raise InvalidEvent(errors[:MAX_ERRORS])

    event = _json_copy(payload)
    if event_time is not None:
        event["eventTime"] = event_time.isoformat(timespec="microseconds")
    original_run_id = None
    if run_id is not None:
        event["run"]["runId"], original_run_id = _normalise_run_id(run_id, "$.run.runId", warnings)
    _check_facets(event, schemas, warnings)
    return CheckedEvent(
        kind=kind, event=event, spec_version=spec_version, warnings=warnings, original_run_id=original_run_id
    )


def stable_run_uuid(run_id: str) -> str:
    """The UUID a non-UUID run id is stored under: the same input always gives the same UUID."""
    return str(uuid.uuid5(RUN_ID_NAMESPACE, run_id))


def render_path(parts: Iterable[str | int]) -> str:
    """Render a jsonschema path (`absolute_path`) as a JSON path: ``$.inputs[0].facets['my key']``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER_RE.match(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


# --- event kind and spec version -------------------------------------------------------------


def _kind(payload: dict[str, Any]) -> str:
    # An object with none of run/job/dataset is checked as a RunEvent, the common case, so the
    # errors name what is missing ("run", "job") rather than a vague "not an event".
    if "run" in payload:
        return "run"
    if "dataset" in payload and "job" not in payload:
        return "dataset"
    if "job" in payload:
        return "job"
    return "run"


def _spec_version(payload: dict[str, Any], kind: str, schemas: _Schemas) -> tuple[str, list[Problem]]:
    schema_url = payload.get("schemaURL")
    if "schemaURL" not in payload:
        message = f"The event has no schemaURL; it was checked against OpenLineage {DEFAULT_SPEC_VERSION}."
        return DEFAULT_SPEC_VERSION, [Problem("$.schemaURL", message, "missing-schema-url")]
    if not isinstance(schema_url, str):
        return DEFAULT_SPEC_VERSION, []  # the core schema reports the wrong type as an error
    match = _SPEC_VERSION_RE.search(schema_url)
    if match is None:
        message = (
            f"schemaURL {_short(schema_url)} does not name an OpenLineage spec version; "
            f"the event was checked against {DEFAULT_SPEC_VERSION}."
        )
        return DEFAULT_SPEC_VERSION, [Problem("$.schemaURL", message, "unknown-spec-version")]
    version = match.group(1)
    if version not in schemas.core_documents:
        message = (
            f"OpenLineage spec version {version} (from schemaURL) is not known here; "
            f"the event was checked against {DEFAULT_SPEC_VERSION}."
        )
        return DEFAULT_SPEC_VERSION, [Problem("$.schemaURL", message, "unknown-spec-version")]
    if (version, kind) not in schemas.core_checks:
        message = (
            f"OpenLineage {version} has no {_EVENT_DEFS[kind]} (it came in 2-0-0); "
            f"the event was checked against {DEFAULT_SPEC_VERSION}."
        )
        return DEFAULT_SPEC_VERSION, [Problem("$.schemaURL", message, "unknown-spec-version")]
    return version, []


# --- core checks -----------------------------------------------------------------------------


def _first(check: _SchemaCheck, instance: object) -> Iterator[ValidationError]:
    for count, error in enumerate(check.iter_errors(instance)):
        if count >= MAX_ERRORS:
            return
        yield error


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    # Nested allOf branches repeat the same check (e.g. "type": "object" at three levels).
    return list(dict.fromkeys(problems))


def _core_problem(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = _missing_property(error)
        if missing is not None:
            return Problem(render_path([*path, missing]), "This required field is missing.")
    return Problem(render_path(path), _message(error))


def _missing_property(error: ValidationError) -> str | None:
    required = error.validator_value
    instance = error.instance
    # jsonschema reports each missing property as its own error, naming it only in the message.
    if isinstance(required, list) and isinstance(instance, dict):
        for name in required:
            if name not in instance and error.message == f"{name!r} is a required property":
                return str(name)
    return None


def _message(error: ValidationError) -> str:
    """A readable message for one jsonschema error, without dumping large instances."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_SCHEMA_TYPES.get(str(name), str(name)) for name in wanted)
        return f"Expected {words}, got {_describe(instance)}."
    if keyword == "enum" and isinstance(expected, list):
        choices = ", ".join(str(choice) for choice in expected)
        return f"Must be one of {choices}; got {_short(instance)}."
    if keyword == "const":
        return f"Must be {_short(expected)}; got {_short(instance)}."
    if keyword in ("oneOf", "anyOf"):
        return "Does not match any of the allowed shapes for this value."
    return error.message if len(error.message) <= 300 else error.message[:297] + "..."


def _check_event_time(payload: dict[str, Any], errors: list[Problem], warnings: list[Problem]) -> datetime | None:
    value = payload.get("eventTime")
    if not isinstance(value, str):
        return None  # missing or wrong type: the core schema reports it
    parsed = _parse_datetime(value)
    if parsed is None:
        errors.append(
            Problem(
                "$.eventTime",
                f"{_short(value)} is not an ISO 8601 date-time (expected e.g. 2024-05-01T12:00:00.000Z).",
            )
        )
        return None
    moment, naive = parsed
    if naive:
        message = f"eventTime {_short(value)} has no time zone; it was taken as UTC."
        warnings.append(Problem("$.eventTime", message, "naive-timestamp"))
    return moment


def _parse_datetime(value: str) -> tuple[datetime, bool] | None:
    """Parse an RFC 3339 / ISO 8601 date-time; return (aware UTC datetime, had no zone) or None."""
    match = _DATETIME_RE.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_hours, off_minutes = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    naive = not zulu and not sign
    zone: timezone = UTC
    if sign:
        if int(off_minutes or 0) >= 60:
            return None
        offset = timedelta(hours=int(off_hours), minutes=int(off_minutes or 0))
        if offset >= timedelta(hours=24):
            return None
        zone = timezone(-offset if sign == "-" else offset)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=zone)
        return moment.astimezone(UTC), naive
    except (ValueError, OverflowError):
        return None


def _check_run_id(payload: dict[str, Any], errors: list[Problem]) -> str | None:
    run = payload.get("run")
    run_id = run.get("runId") if isinstance(run, dict) else None
    if not isinstance(run_id, str):
        return None  # missing or wrong type: the core schema reports it
    if not run_id.strip():
        errors.append(Problem("$.run.runId", "The run id is empty; send the run's UUID."))
        return None
    return run_id


def _normalise_run_id(run_id: str, path: str, warnings: list[Problem]) -> tuple[str, str | None]:
    """Return (the id to store, the original id if it had to be mapped)."""
    if _UUID_RE.match(run_id):
        return run_id.lower(), None
    mapped = stable_run_uuid(run_id)
    message = (
        f"Run id {_short(run_id)} is not a UUID; it is stored as {mapped}, derived from it, "
        "so later events of this run still match."
    )
    warnings.append(Problem(path, message, "non-uuid-run-id"))
    return mapped, run_id


# --- facets ----------------------------------------------------------------------------------


def _check_facets(event: dict[str, Any], schemas: _Schemas, warnings: list[Problem]) -> None:
    run, job, dataset = event.get("run"), event.get("job"), event.get("dataset")
    if isinstance(run, dict):
        _check_facet_map(run.get("facets"), "run", "$.run.facets", schemas, warnings)
        _normalise_parent_run_ids(run.get("facets"), warnings)
    if isinstance(job, dict):
        _check_facet_map(job.get("facets"), "job", "$.job.facets", schemas, warnings)
    if isinstance(dataset, dict):
        _check_facet_map(dataset.get("facets"), "dataset", "$.dataset.facets", schemas, warnings)
    for key, extra, position in (("inputs", "inputFacets", "input"), ("outputs", "outputFacets", "output")):
        datasets = event.get(key)
        if not isinstance(datasets, list):
            continue
        for index, item in enumerate(datasets):
            if isinstance(item, dict):
                _check_facet_map(item.get("facets"), "dataset", f"$.{key}[{index}].facets", schemas, warnings)
                _check_facet_map(item.get(extra), position, f"$.{key}[{index}].{extra}", schemas, warnings)


def _check_facet_map(facets: object, position: str, path: str, schemas: _Schemas, warnings: list[Problem]) -> None:
    if not isinstance(facets, dict):
        return  # absent; a non-object container is a core error, so never reaches here
    for name, facet in facets.items():
        facet_path = render_path([name]).replace("$", path, 1)
        check = schemas.facet_checks.get((position, name))
        if check is None:
            elsewhere = [other for other in schemas.facet_positions.get(name, ()) if other != position]
            hint = f" (it is a standard {_POSITION_WORDS[elsewhere[0]]})" if elsewhere else ""
            message = f"{name!r} is not a standard {_POSITION_WORDS[position]}{hint}; it is kept as sent."
            warnings.append(Problem(facet_path, message, "unknown-facet"))
            check = schemas.base_facet_checks[position]
        if not isinstance(facet, dict):
            message = f"Facet {name!r} must be a JSON object, not {_describe(facet)}; it is kept as sent."
            warnings.append(Problem(facet_path, message, "invalid-facet"))
            continue
        problems = _unique(_core_problem(error) for error in check.iter_errors(facet))
        for problem in problems[:MAX_WARNINGS_PER_FACET]:
            where = problem.path.replace("$", facet_path, 1)
            detail = problem.message[:1].lower() + problem.message[1:]
            message = f"Facet {name!r} does not match its schema and is kept as sent: {detail}"
            warnings.append(Problem(where, message, "invalid-facet"))


def _normalise_parent_run_ids(facets: object, warnings: list[Problem]) -> None:
    parent = facets.get("parent") if isinstance(facets, dict) else None
    if not isinstance(parent, dict):
        return
    targets = [(parent.get("run"), "$.run.facets.parent.run.runId")]
    root = parent.get("root")
    if isinstance(root, dict):
        targets.append((root.get("run"), "$.run.facets.parent.root.run.runId"))
    for run, path in targets:
        if isinstance(run, dict) and isinstance(run.get("runId"), str) and run["runId"].strip():
            run["runId"], _ = _normalise_run_id(run["runId"], path, warnings)


# --- schemas ---------------------------------------------------------------------------------


class _SchemaCheck:
    """One schema: a fast compiled yes/no check, and jsonschema for the detailed errors.

    jsonschema stays the authority: an instance is only reported invalid with the errors
    jsonschema finds, and the compiled check is used only when the whole schema is within the
    keywords `_compile` understands (otherwise it falls back to jsonschema alone).
    """

    def __init__(self, schema: dict[str, Any], registry: Registry[Any], base_uri: str = "") -> None:
        self.validator = Draft202012Validator(schema, registry=registry)
        try:
            self.fast: _Check | None = _Compiler().compile(schema, registry.resolver(base_uri=base_uri), root=True)
        except _Unsupported:
            self.fast = None

    def iter_errors(self, instance: object) -> Iterator[ValidationError]:
        if self.fast is not None and self.fast(instance):
            return iter(())
        return self.validator.iter_errors(instance)


class _Schemas:
    """The vendored schemas, loaded once: a registry, per-version core checks, facet checks."""

    def __init__(self, directory: Path) -> None:
        documents = _load_documents(directory)
        self.registry: Registry[Any] = (
            Registry()
            .with_resources((uri, DRAFT202012.create_resource(document)) for uri, document in documents.items())
            .crawl()
        )
        self.core_documents = {
            version: documents[_CORE_ID.format(version=version)] for version in _published_core_versions(directory)
        }
        # Built up front, so a bad vendored file fails at start-up rather than on some request.
        self.core_checks = {
            (version, kind): _core_check(document, version, kind)
            for version, document in self.core_documents.items()
            for kind, definition in _EVENT_DEFS.items()
            if definition in _definitions(document)
        }
        self.facet_checks = {
            key: self._ref_check(f"{schema_id}#/$defs/{definition}")
            for key, (schema_id, definition) in _standard_facets(directory / "spec" / "facets").items()
        }
        self.facet_positions: dict[str, list[str]] = {}
        for position, name in self.facet_checks:
            self.facet_positions.setdefault(name, []).append(position)
        base = _CORE_ID.format(version=DEFAULT_SPEC_VERSION)
        self.base_facet_checks = {
            position: self._ref_check(f"{base}#/$defs/{definition}") for position, definition in _POSITION_BASE.items()
        }

    def _ref_check(self, ref: str) -> _SchemaCheck:
        return _SchemaCheck({"$ref": ref}, self.registry)


@functools.cache
def _schemas() -> _Schemas:
    return _Schemas(SCHEMA_DIR)


def _load_documents(directory: Path) -> dict[str, dict[str, Any]]:
    """Every vendored schema by its ``$id``; the same ``$id`` twice must mean the same document."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        schema_id = document["$id"]
        if documents.setdefault(schema_id, document) != document:
            raise ValueError(f"{path}: another vendored schema has the same $id {schema_id} but differs")
    return documents


def _published_core_versions(directory: Path) -> list[str]:
    return sorted(path.parent.name for path in (directory / "published-spec").glob("*-*-*/OpenLineage.json"))


def _definitions(document: dict[str, Any]) -> dict[str, Any]:
    # 1-0-0 and 1-0-1 keep their definitions under "definitions", later versions under "$defs".
    found = document.get("$defs", document.get("definitions", {}))
    return found if isinstance(found, dict) else {}


def _core_check(document: dict[str, Any], version: str, kind: str) -> _SchemaCheck:
    """The check for one event kind of one core version, blind to facet contents.

    Facet containers become plain ``{"type": "object"}``, so a container that is not an object is
    still an error, while each facet is checked separately and only ever warned about. `schemaURL`
    is no longer required: a missing one is a warning.
    """
    stripped = _strip_facets(document)
    for key in ("oneOf", "anyOf", "$ref"):
        stripped.pop(key, None)
    defs_key = "$defs" if "$defs" in stripped else "definitions"
    uri = stripped["$id"] = f"urn:custodia:openlineage:{version}:{kind}"
    stripped["$ref"] = f"#/{defs_key}/{_EVENT_DEFS[kind]}"
    registry: Registry[Any] = Registry().with_resource(uri, DRAFT202012.create_resource(stripped))
    return _SchemaCheck(stripped, registry, base_uri=uri)


def _strip_facets(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip_facets(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: ({"type": "object"} if name in _FACET_CONTAINERS else _strip_facets(schema))
                for name, schema in value.items()
            }
        elif key == "required" and isinstance(value, list):
            out[key] = [name for name in value if name != "schemaURL"]
        else:
            out[key] = _strip_facets(value)
    return out


def _standard_facets(directory: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """Map (position, facet name) to (schema ``$id``, definition) for the standard facet schemas.

    A facet schema file names its facet in ``properties``; each definition in it that extends a core
    facet type (RunFacet, JobFacet, DatasetFacet, InputDatasetFacet, OutputDatasetFacet) through
    ``allOf`` gives that facet in that position (`subset` is both an input and an output facet,
    `lineage` both a job and a dataset facet).
    """
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        names = list(document.get("properties", {}))
        if len(names) != 1:
            raise ValueError(f"{path}: expected exactly one facet in 'properties', found {names}")
        for definition, schema in document.get("$defs", {}).items():
            for position in _extended_positions(schema):
                key = (position, names[0])
                if key in found:
                    raise ValueError(f"{path}: {key} is defined twice")
                found[key] = (document["$id"], definition)
    return found


def _extended_positions(schema: dict[str, Any]) -> Sequence[str]:
    positions = []
    for part in schema.get("allOf", []):
        match = _FACET_BASE_RE.search(part.get("$ref", "")) if isinstance(part, dict) else None
        if match is not None:
            positions.append(_BASE_POSITION[match.group(1)])
    return positions


# --- compiled yes/no checks ------------------------------------------------------------------
# jsonschema spends ~10 µs per schema node it visits; a facet-rich event visits hundreds, which
# alone would cost ~1.8 ms an event. These closures answer only "valid or not" for the keywords
# the OpenLineage schemas use, ~10x faster; jsonschema then explains any failure. A keyword they
# do not know makes the whole schema fall back to jsonschema, never a silent pass.

_Check = Callable[[Any], bool]
# Keywords that change how references resolve: allowed only at a document's root (or not at all).
_ROOT_ONLY = frozenset({"$id", "$schema"})
_RESOLUTION = frozenset(
    {"$anchor", "$dynamicAnchor", "$dynamicRef", "$vocabulary", "$recursiveRef", "$recursiveAnchor"}
)
# Keywords jsonschema would enforce; any of them the compiler does not handle means "fall back".
_ENFORCED = frozenset(Draft202012Validator.VALIDATORS) - {"format"}  # no format checker: annotation only


class _Unsupported(Exception):
    """The schema uses a keyword the compiler does not handle."""


def _accept(instance: object) -> bool:
    return True


def _reject(instance: object) -> bool:
    return False


def _is_number(instance: object) -> bool:
    return isinstance(instance, Number) and not isinstance(instance, bool)


def _is_integer(instance: object) -> bool:
    # Same rule as jsonschema: 1.0 is an integer, True is not.
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


_TYPE_TESTS: dict[str, _Check] = {
    "object": lambda instance: isinstance(instance, dict),
    "array": lambda instance: isinstance(instance, list),
    "string": lambda instance: isinstance(instance, str),
    "boolean": lambda instance: isinstance(instance, bool),
    "null": lambda instance: instance is None,
    "number": _is_number,
    "integer": _is_integer,
}


class _Compiler:
    def __init__(self) -> None:
        self._by_target: dict[int, _Check] = {}

    def compile(self, schema: object, resolver: Resolver[Any], root: bool = False) -> _Check:
        if schema is True:
            return _accept
        if schema is False:
            return _reject
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        checks = [self._keyword(key, value, schema, resolver, root) for key, value in schema.items()]
        useful = [check for check in checks if check is not _accept]
        if not useful:
            return _accept
        if len(useful) == 1:
            return useful[0]

        return _all_of(useful)

    def _ref(self, ref: str, resolver: Resolver[Any]) -> _Check:
        resolved = resolver.lookup(ref)
        key = id(resolved.contents)  # registry contents live as long as the registry
        known = self._by_target.get(key)
        if known is not None:
            return known
        cell: list[_Check] = []

        def deferred(instance: object) -> bool:  # lets a recursive schema refer to itself
            return cell[0](instance)

        self._by_target[key] = deferred
        cell.append(self.compile(resolved.contents, resolved.resolver, root=not ref.partition("#")[2].strip("/")))
        self._by_target[key] = cell[0]
        return deferred

    def _keyword(self, key: str, value: Any, schema: dict[str, Any], resolver: Resolver[Any], root: bool) -> _Check:
        if key in _ROOT_ONLY and root:
            return _accept
        if key in _ROOT_ONLY or key in _RESOLUTION:
            raise _Unsupported(key)
        if key == "$ref" and isinstance(value, str):
            return self._ref(value, resolver)
        if key == "type":
            return _type_check(value)
        if key == "properties" and isinstance(value, dict):
            return _properties_check({name: self.compile(sub, resolver) for name, sub in value.items()})
        if key == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            return _additional_check(known, self.compile(value, resolver))
        if key == "items" and isinstance(value, dict | bool):
            return _items_check(self.compile(value, resolver))
        if key in ("allOf", "anyOf", "oneOf") and isinstance(value, list) and value:
            return _combined_check(key, [self.compile(sub, resolver) for sub in value])
        if key == "not":
            inner = self.compile(value, resolver)
            return lambda instance: not inner(instance)
        if key == "required" and isinstance(value, list):
            names = tuple(value)
            return lambda instance: not isinstance(instance, dict) or all(name in instance for name in names)
        if key == "dependentRequired" and isinstance(value, dict):
            pairs = tuple((name, tuple(needed)) for name, needed in value.items())
            return lambda instance: not isinstance(instance, dict) or all(
                all(other in instance for other in needed) for name, needed in pairs if name in instance
            )
        if key in ("enum", "const"):
            return _string_choice_check(value if key == "enum" else [value])
        if key == "minimum" and _is_number(value):
            return lambda instance: not _is_number(instance) or instance >= value
        if key in _ENFORCED:
            raise _Unsupported(key)
        return _accept  # an annotation ("description", "example", "$defs" …), ignored by jsonschema too


def _type_check(value: object) -> _Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) and name in _TYPE_TESTS for name in names):
        raise _Unsupported(f"type {value!r}")
    tests = [_TYPE_TESTS[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _properties_check(checks: dict[str, _Check]) -> _Check:
    pairs = tuple((name, check) for name, check in checks.items() if check is not _accept)

    def check(instance: object) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, sub in pairs:  # noqa: SIM110 - a loop beats all(generator) on this hot path
            if name in instance and not sub(instance[name]):
                return False
        return True

    return check


def _additional_check(known: frozenset[str], sub: _Check) -> _Check:
    if sub is _accept:
        return _accept

    def check(instance: object) -> bool:
        if isinstance(instance, dict):
            for name, item in instance.items():
                if name not in known and not sub(item):
                    return False
        return True

    return check


def _items_check(sub: _Check) -> _Check:
    if sub is _accept:
        return _accept

    def check(instance: object) -> bool:
        if isinstance(instance, list):
            for item in instance:
                if not sub(item):
                    return False
        return True

    return check


def _all_of(subs: Sequence[_Check]) -> _Check:
    def check(instance: object) -> bool:
        for sub in subs:  # noqa: SIM110 - a loop beats all(generator) on this hot path
            if not sub(instance):
                return False
        return True

    return check


def _combined_check(key: str, subs: list[_Check]) -> _Check:
    if key == "allOf":
        return subs[0] if len(subs) == 1 else _all_of(subs)
    if key == "anyOf":
        return lambda instance: any(sub(instance) for sub in subs)
    return lambda instance: sum(1 for sub in subs if sub(instance)) == 1


def _string_choice_check(choices: object) -> _Check:
    # Only strings: JSON equality for other values (1 vs 1.0 vs true) is left to jsonschema.
    if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
        raise _Unsupported(f"enum {choices!r}")
    allowed = frozenset(choices)
    return lambda instance: isinstance(instance, str) and instance in allowed


# --- small helpers ---------------------------------------------------------------------------


def _json_copy(value: Any) -> Any:
    # Faster than copy.deepcopy for parsed JSON (dicts, lists and immutable scalars only).
    if type(value) is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_json_copy(item) for item in value]
    return value


def _describe(value: object) -> str:
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, dict | list) or value is None:
        return kind
    return f"{kind} ({_short(value)})"


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
