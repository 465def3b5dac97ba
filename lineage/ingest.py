"""OpenLineage ingestion: validate → store the raw event once → fold it into the graph, in one transaction.

``ingest_events`` takes a batch (``POST /api/v1/lineage/batch``); ``ingest_event`` is a batch of
one (``POST /api/v1/lineage``). Each event is validated on its own and refused on its own (400,
403); the accepted ones are stored and folded together, in one transaction, with one statement per
table (see ``lineage.folding``). Every derived value is order-independent (see ``lineage.models``),
so folding a batch at once gives the same graph as folding its events one by one, in any order.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from access.models import Team
from lineage.models import EventKind, RawEvent
from lineage.validation import CheckedEvent, InvalidEvent, Problem, check_event

DEADLOCK_RETRIES = 3


class LineageForbidden(Exception):
    """The actor may not write this event (no team, no write scope, another team's namespace)."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class IngestResult:
    raw_event: RawEvent
    created: bool  # False: the same event was already stored; nothing changed
    warnings: list[Problem] = field(default_factory=list)


Outcome = IngestResult | InvalidEvent | LineageForbidden


def content_key(payload: Any) -> str:
    """The de-duplication key: SHA-256 of the event's canonical JSON (key order does not matter)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def writing_team(actor: Actor, team: Team | None = None) -> Team:
    """The team an event is written for: the token's team, a user's only team, or the one a system actor names."""
    if not actor.is_authenticated or not actor.may("add"):
        raise LineageForbidden(_("Posting lineage needs a token with write scope (or a role that may write)."))
    if team is not None:
        # Only trusted in-process callers (load_demo, tasks) act as the system; a request never does.
        if not actor.is_system:
            raise LineageForbidden(_("Only a system actor may name the team it writes lineage for."))
        return team
    teams = actor.teams()
    if actor.token is not None:
        return actor.token.team
    if len(teams) == 1:
        return teams[0]
    raise LineageForbidden(_("Post lineage with a team's API token, so that Custodia knows which team writes it."))


def ingest_event(payload: Any, *, actor: Actor, team: Team | None = None) -> IngestResult:
    """Validate and store one event. Raises ``InvalidEvent`` (400) or ``LineageForbidden`` (403).

    ``team`` is for system actors only (they have no token saying which team writes).
    """
    (outcome,) = ingest_events([payload], actor=actor, team=team)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def ingest_events(payloads: Sequence[Any], *, actor: Actor, team: Team | None = None) -> list[Outcome]:
    """Validate and store a batch; one outcome per payload, in order: a result or the refusal.

    The accepted events and everything they change are written in one transaction (retried whole
    on a deadlock or serialisation failure). ``OperationalError`` escapes when the database stays
    busy: then nothing of the batch was stored.
    """
    outcomes: list[Outcome | None] = [None] * len(payloads)
    checked: list[tuple[int, CheckedEvent]] = []
    for index, payload in enumerate(payloads):
        try:
            checked.append((index, check_event(payload)))
        except InvalidEvent as exc:
            outcomes[index] = exc
    if checked:
        try:
            team = writing_team(actor, team)
        except LineageForbidden as exc:
            for index, _checked in checked:
                outcomes[index] = exc
            checked = []
    if checked:
        assert team is not None
        events = [Event.read(index, event, payloads[index]) for index, event in checked]
        first: dict[str, Event] = {}
        for event in events:
            # The same content twice in one batch is one event; the second copy is its duplicate.
            if event.key in first:
                event.twin = first[event.key]
            else:
                first[event.key] = event
        _fold_with_retries([e for e in events if e.twin is None], actor, team)
        for event in events:
            outcomes[event.index] = event.final_outcome()
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def _fold_with_retries(events: list[Event], actor: Actor, team: Team) -> None:
    from lineage.folding import Batch, NamespaceRace

    for attempt in range(DEADLOCK_RETRIES):
        for event in events:
            event.reset()
        try:
            with transaction.atomic():
                Batch(events, actor, team).run()
            return
        except NamespaceRace:
            # Another team claimed a namespace this batch was about to claim: start again, and
            # that event is refused before anything else is written.
            if attempt == DEADLOCK_RETRIES - 1:
                raise OperationalError("lineage namespaces kept changing under the batch") from None
        except OperationalError as error:
            # Lock ordering should make deadlocks impossible; if the database still reports one
            # (or a serialisation failure), the whole transaction is retried, not half-applied.
            if attempt == DEADLOCK_RETRIES - 1 or not _is_retryable(error):
                raise


def _is_retryable(error: OperationalError) -> bool:
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(error)


# -- one event, read once ---------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def facets_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, order=True)
class Ref:
    namespace: str
    name: str


# (dataset, its facets, its inputFacets/outputFacets)
IO = tuple[Ref, dict[str, Any], dict[str, Any]]
# (output dataset, output field, input dataset, input field, transformations)
ColumnSource = tuple[Ref, str, Ref, str, list[Any]]


def _ref(node: Any) -> Ref | None:
    if not isinstance(node, dict):
        return None
    namespace, name = node.get("namespace"), node.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return None
    return Ref(namespace, name)


@dataclass(eq=False)
class Event:
    """A validated event of a batch with what the folder needs from it, and (afterwards) its outcome."""

    index: int
    checked: CheckedEvent
    payload: Any
    key: str
    when: datetime
    job_ref: Ref | None
    dataset_ref: Ref | None
    inputs: list[IO]
    outputs: list[IO]
    parent: tuple[Ref, uuid.UUID] | None
    columns: list[ColumnSource]
    twin: Event | None = None
    warnings: list[Problem] = field(default_factory=list)
    outcome: IngestResult | LineageForbidden | None = None

    @classmethod
    def read(cls, index: int, checked: CheckedEvent, payload: Any) -> Event:
        event = checked.event
        kind = checked.kind
        job_ref = _ref(event.get("job")) if kind in (EventKind.RUN, EventKind.JOB) else None
        dataset_ref = _ref(event.get("dataset")) if kind == EventKind.DATASET else None
        assert job_ref or dataset_ref  # the validator guarantees a job or a dataset
        outputs = _io_list(event, "outputs", "outputFacets")
        read = cls(
            index=index,
            checked=checked,
            payload=payload,
            key=content_key(payload),
            when=parse_time(event.get("eventTime")) or timezone.now(),
            job_ref=job_ref,
            dataset_ref=dataset_ref,
            inputs=_io_list(event, "inputs", "inputFacets"),
            outputs=outputs,
            parent=_parent(event) if kind == EventKind.RUN else None,
            columns=[],
        )
        read.columns = [
            (ref, out_field, source, in_field, transformations)
            for ref, facets, _extra in read.column_outputs()
            for out_field, source, in_field, transformations in _column_sources(facets)
        ]
        return read

    @property
    def kind(self) -> str:
        return self.checked.kind

    @property
    def primary(self) -> Ref:
        ref = self.job_ref or self.dataset_ref
        assert ref is not None
        return ref

    @property
    def event(self) -> dict[str, Any]:
        return self.checked.event

    def dataset_facets(self) -> dict[str, Any]:
        return facets_of(facets_of(self.event.get("dataset")).get("facets"))

    def column_outputs(self) -> list[IO]:
        """Datasets whose columnLineage facet counts: the outputs, or a DatasetEvent's dataset."""
        if self.dataset_ref is not None:
            return [*self.outputs, (self.dataset_ref, self.dataset_facets(), {})]
        return self.outputs

    def namespaces(self) -> set[str]:
        names = {self.primary.namespace}
        names.update(ref.namespace for ref, _facets, _extra in self.inputs + self.outputs)
        names.update(source.namespace for _out, _field, source, _in, _t in self.columns)
        if self.parent is not None:
            names.add(self.parent[0].namespace)
        return names

    def reset(self) -> None:
        self.warnings = list(self.checked.warnings)
        self.outcome = None

    def final_outcome(self) -> IngestResult | LineageForbidden:
        if self.twin is None:
            assert self.outcome is not None
            return self.outcome
        original = self.twin.final_outcome()
        if isinstance(original, LineageForbidden):
            return original
        return IngestResult(original.raw_event, created=False, warnings=list(self.checked.warnings))


def _io_list(event: dict[str, Any], key: str, extra: str) -> list[IO]:
    items = []
    seen = set()
    for entry in event.get(key) or []:
        ref = _ref(entry)
        if ref is None or ref in seen:
            continue
        seen.add(ref)
        items.append((ref, facets_of(entry.get("facets")), facets_of(entry.get(extra))))
    return items


def _parent(event: dict[str, Any]) -> tuple[Ref, uuid.UUID] | None:
    parent = facets_of(facets_of(event.get("run")).get("facets")).get("parent")
    if not isinstance(parent, dict):
        return None
    job_ref = _ref(parent.get("job"))
    run_id = facets_of(parent.get("run")).get("runId")
    if job_ref is None or not isinstance(run_id, str):
        return None
    try:
        # The validator already mapped a non-UUID parent run id to its stable UUID.
        return job_ref, uuid.UUID(run_id)
    except ValueError:
        return None


def _column_sources(facets: dict[str, Any]) -> Iterable[tuple[str, Ref, str, list[Any]]]:
    """(output field, input dataset, input field, transformations) from a columnLineage facet."""
    facet = facets.get("columnLineage")
    fields = facet.get("fields") if isinstance(facet, dict) else None
    if not isinstance(fields, dict):
        return
    for out_field, spec in fields.items():
        if not isinstance(spec, dict) or not isinstance(out_field, str):
            continue
        fallback = []
        for key in ("transformationType", "transformationDescription"):
            if isinstance(spec.get(key), str):
                fallback.append({key: spec[key]})
        for source in spec.get("inputFields") or []:
            if not isinstance(source, dict):
                continue
            ref = _ref(source)
            in_field = source.get("field")
            if ref is None or not isinstance(in_field, str):
                continue
            transformations = source.get("transformations")
            if not isinstance(transformations, list):
                transformations = fallback
            yield out_field[:500], ref, in_field[:500], transformations
