"""OpenLineage ingestion: validate → store the raw event once → fold it into the graph, in one transaction.

Every derived value is order-independent (see ``lineage.models``): run state and times are a
max/min over ``eventTime``, each facet keeps the value with the greatest (``eventTime``, JSON text),
edges are only added. So duplicates, late events and any arrival order end in the same graph.

Locking, for PostgreSQL under many concurrent producers: rows are upserted (which locks them) in a
fixed order — raw event, jobs, runs, datasets, each sorted by key — so two transactions never
wait on each other in a cycle.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from access.models import Team
from lineage.models import (
    ColumnLineage,
    Direction,
    EventKind,
    FacetedNode,
    Job,
    JobEdge,
    LineageDataset,
    LineageDatasetVersion,
    Namespace,
    RawEvent,
    Run,
    RunIO,
    RunState,
    dataset_uri,
)
from lineage.upsert import insert_ignore_returning_pk, upsert_returning
from lineage.validation import CheckedEvent, Problem, check_event
from trail import services as trail
from trail.choices import AuditAction

TERMINAL = {"COMPLETE": RunState.COMPLETED, "FAIL": RunState.FAILED, "ABORT": RunState.ABORTED}
TERMINAL_STATES = frozenset(TERMINAL.values())
# Two terminal events with the same eventTime: the more severe one decides, whatever arrives first.
TERMINAL_RANK = {RunState.COMPLETED: 1, RunState.ABORTED: 2, RunState.FAILED: 3}


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
    checked = check_event(payload)
    team = writing_team(actor, team)
    key = content_key(payload)
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with transaction.atomic():
                return _Folder(checked, payload, key, actor, team).run()
        except OperationalError as error:
            # Lock ordering should make deadlocks impossible; if the database still reports one
            # (or a serialisation failure), the whole transaction is retried, not half-applied.
            if attempt == DEADLOCK_RETRIES - 1 or not _is_retryable(error):
                raise
    raise AssertionError("unreachable")


DEADLOCK_RETRIES = 3


def _is_retryable(error: OperationalError) -> bool:
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(error)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _facets(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def merge_facets(node: FacetedNode, facets: dict[str, Any], when: datetime) -> bool:
    """Keep, per facet name, the value with the greatest (eventTime, JSON text). Returns whether it changed."""
    stamp = when.astimezone(UTC).isoformat(timespec="microseconds")
    changed = False
    for name, value in facets.items():
        held = node.facet_times.get(name)
        wins = held is None or stamp > held or (stamp == held and _canonical(value) > _canonical(node.facets.get(name)))
        if wins and (node.facets.get(name) != value or held != stamp):
            node.facets[name] = value
            node.facet_times[name] = stamp
            changed = True
    if node.last_event_time is None or when > node.last_event_time:
        node.last_event_time = when
        changed = True
    return changed


def _merge_max(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    """Order-independent union for facets without times: on a clash the larger JSON text stays."""
    changed = False
    for name, value in new.items():
        wins = name not in existing or _canonical(value) > _canonical(existing[name])
        if wins and existing.get(name) != value:
            existing[name] = value
            changed = True
    return changed


@dataclass(frozen=True, order=True)
class _Ref:
    namespace: str
    name: str


class _Folder:
    """Folds one validated event into the graph (one instance per event, inside its transaction)."""

    def __init__(self, checked: CheckedEvent, payload: Any, key: str, actor: Actor, team: Team) -> None:
        self.checked = checked
        self.event = checked.event
        self.payload = payload
        self.key = key
        self.actor = actor
        self.team = team
        self.warnings = list(checked.warnings)
        self.when = _parse_time(self.event.get("eventTime")) or timezone.now()
        self.now = timezone.now()
        self.namespaces: dict[str, Namespace] = {}

    # -- entry point -------------------------------------------------------------------------

    def run(self) -> IngestResult:
        kind = self.checked.kind
        job_ref = self._ref(self.event.get("job")) if kind in (EventKind.RUN, EventKind.JOB) else None
        dataset_ref = self._ref(self.event.get("dataset")) if kind == EventKind.DATASET else None
        primary = job_ref or dataset_ref
        assert primary is not None  # the validator guarantees a job or a dataset
        inputs = self._io_list("inputs", "inputFacets")
        outputs = self._io_list("outputs", "outputFacets")
        parent = self._parent() if kind == EventKind.RUN else None
        column_refs = self._column_refs(outputs + ([(dataset_ref, self._dataset_facets(), {})] if dataset_ref else []))

        names = {primary.namespace}
        names.update(ref.namespace for ref, _facets, _extra in inputs + outputs)
        names.update(ref.namespace for ref in column_refs)
        if parent is not None:
            names.add(parent[0].namespace)
        self._resolve_namespaces(sorted(names))
        self._require_owned(primary.namespace, "$.job.namespace" if job_ref else "$.dataset.namespace")

        raw = self._store_raw(primary, job_ref, dataset_ref)
        if raw is None:  # a concurrent request stored the same event first
            return IngestResult(RawEvent.objects.get(content_key=self.key), created=False, warnings=self.warnings)

        jobs = self._upsert_jobs(sorted({job_ref} | ({parent[0]} if parent else set())) if job_ref else [])
        run = None
        if kind == EventKind.RUN and job_ref is not None:
            run = self._fold_run(jobs[job_ref], parent, jobs)
        if job_ref is not None:
            self._fold_job_facets(jobs[job_ref])

        refs = sorted(
            {ref for ref, _facets, _extra in inputs + outputs}
            | set(column_refs)
            | ({dataset_ref} if dataset_ref else set())
        )
        datasets = self._upsert_datasets(refs)
        facet_updates: list[tuple[_Ref, dict[str, Any]]] = [(ref, facets) for ref, facets, _extra in inputs + outputs]
        if dataset_ref is not None:
            facet_updates.append((dataset_ref, self._dataset_facets()))
        self._fold_dataset_facets(datasets, facet_updates)

        if job_ref is not None:
            job = jobs[job_ref]
            JobEdge.objects.bulk_create(
                [
                    JobEdge(job=job, dataset=datasets[ref], direction=direction, first_event_time=self.when)
                    for direction, items in ((Direction.INPUT, inputs), (Direction.OUTPUT, outputs))
                    for ref, _facets, _extra in items
                ],
                ignore_conflicts=True,
            )
        if run is not None:
            self._fold_run_io(run, datasets, inputs, outputs)
        self._fold_dataset_versions(datasets, run, outputs, dataset_ref)
        self._fold_column_lineage(
            datasets, outputs + ([(dataset_ref, self._dataset_facets(), {})] if dataset_ref else [])
        )
        return IngestResult(raw, created=True, warnings=self.warnings)

    # -- reading the event -------------------------------------------------------------------

    @staticmethod
    def _ref(node: Any) -> _Ref | None:
        if not isinstance(node, dict):
            return None
        namespace, name = node.get("namespace"), node.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            return None
        return _Ref(namespace, name)

    def _io_list(self, key: str, extra: str) -> list[tuple[_Ref, dict[str, Any], dict[str, Any]]]:
        items = []
        seen = set()
        for entry in self.event.get(key) or []:
            ref = self._ref(entry)
            if ref is None or ref in seen:
                continue
            seen.add(ref)
            items.append((ref, _facets(entry.get("facets")), _facets(entry.get(extra))))
        return items

    def _dataset_facets(self) -> dict[str, Any]:
        dataset = self.event.get("dataset")
        return _facets(dataset.get("facets")) if isinstance(dataset, dict) else {}

    def _parent(self) -> tuple[_Ref, Any] | None:
        run = self.event.get("run")
        parent = _facets(_facets(run).get("facets")).get("parent")
        if not isinstance(parent, dict):
            return None
        job_ref = self._ref(parent.get("job"))
        run_id = _facets(parent.get("run")).get("runId")
        if job_ref is None or not isinstance(run_id, str):
            return None
        try:
            # The validator already mapped a non-UUID parent run id to its stable UUID.
            return job_ref, uuid.UUID(run_id)
        except ValueError:
            return None

    def _column_refs(self, outputs: Iterable[tuple[_Ref, dict[str, Any], dict[str, Any]]]) -> list[_Ref]:
        refs = []
        for _ref, facets, _extra in outputs:
            for _field, source in self._column_sources(facets):
                refs.append(source[0])
        return refs

    def _column_sources(self, facets: dict[str, Any]) -> list[tuple[str, tuple[_Ref, str, list[Any]]]]:
        """(output field, (input dataset, input field, transformations)) from a columnLineage facet."""
        facet = facets.get("columnLineage")
        fields = facet.get("fields") if isinstance(facet, dict) else None
        pairs = []
        if isinstance(fields, dict):
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
                    ref = self._ref(source)
                    in_field = source.get("field")
                    if ref is None or not isinstance(in_field, str):
                        continue
                    transformations = source.get("transformations")
                    pairs.append(
                        (
                            out_field[:500],
                            (ref, in_field[:500], transformations if isinstance(transformations, list) else fallback),
                        )
                    )
        return pairs

    # -- namespaces and access -----------------------------------------------------------------

    def _resolve_namespaces(self, names: list[str]) -> None:
        known = {ns.name: ns for ns in Namespace.objects.filter(name__in=names)}
        claimed = []
        for name in names:  # sorted: concurrent claims lock in one order
            if name in known:
                continue
            try:
                with transaction.atomic():
                    known[name] = Namespace.objects.create(name=name, owner_team=self.team)
                    claimed.append(known[name])
            except IntegrityError:  # another request claimed it first
                known[name] = Namespace.objects.get(name=name)
        for namespace in claimed:
            trail.record(
                AuditAction.CREATE,
                actor=self.actor,
                obj=namespace,
                team_slug=self.team.slug,
                changes={"name": [None, namespace.name], "owner_team": [None, self.team.slug]},
            )
        self.namespaces = known

    def _owned(self, namespace: str) -> bool:
        return self.namespaces[namespace].owner_team_id == self.team.pk

    def _require_owned(self, namespace: str, path: str) -> None:
        if not self._owned(namespace):
            raise LineageForbidden(
                _(
                    "The namespace %(namespace)s belongs to another team; "
                    "this token's team (%(team)s) cannot write to it."
                )
                % {"namespace": namespace, "team": self.team.slug},
                path,
            )

    # -- raw event ---------------------------------------------------------------------------

    def _store_raw(self, primary: _Ref, job_ref: _Ref | None, dataset_ref: _Ref | None) -> RawEvent | None:
        run_id = self.event.get("run", {}).get("runId") if self.checked.kind == EventKind.RUN else None
        raw = RawEvent(
            content_key=self.key,
            kind=self.checked.kind,
            event_type=str(self.event.get("eventType") or "")[:10],
            event_time=self.when,
            received_at=self.now,
            namespace=self.namespaces[primary.namespace],
            job_name=job_ref.name if job_ref else "",
            dataset_name=dataset_ref.name if dataset_ref else "",
            run_uuid=run_id,
            producer=str(self.event.get("producer") or "")[:500],
            schema_url=str(self.event.get("schemaURL") or "")[:500],
            spec_version=self.checked.spec_version,
            payload=self.payload,
            warnings=[{"path": w.path, "message": w.message, "code": w.code} for w in self.warnings],
            token=self.actor.token,
            user=self.actor.user if self.actor.user is not None and self.actor.user.is_authenticated else None,
        )
        # A duplicate (also one a concurrent request is storing right now) inserts nothing.
        raw.pk = insert_ignore_returning_pk(raw, ["content_key"])
        return raw if raw.pk is not None else None

    # -- jobs and runs -----------------------------------------------------------------------

    def _upsert_jobs(self, refs: list[_Ref]) -> dict[_Ref, Job]:
        jobs = upsert_returning(
            [Job(namespace=self.namespaces[r.namespace], name=r.name, updated_at=self.now) for r in refs],
            unique=["namespace", "name"],
            touch=["updated_at"],
        )
        by_pk = {ns.pk: ns for ns in self.namespaces.values()}
        for job in jobs:
            job.namespace = by_pk[job.namespace_id]
        return {_Ref(job.namespace.name, job.name): job for job in jobs}

    def _fold_job_facets(self, job: Job) -> None:
        if not self._owned(job.namespace.name):
            return
        if merge_facets(job, _facets(_facets(self.event.get("job")).get("facets")), self.when):
            Job.objects.filter(pk=job.pk).update(
                facets=job.facets, facet_times=job.facet_times, last_event_time=job.last_event_time
            )

    def _fold_run(self, job: Job, parent: tuple[_Ref, Any] | None, jobs: dict[_Ref, Job]) -> Run:
        run_block = _facets(self.event.get("run"))
        run_uuid = run_block.get("runId")
        parent_run = None
        if parent is not None:
            # Touching the parent's uuid changes nothing but returns its id (a placeholder run
            # when the parent has not reported yet).
            (parent_row,) = upsert_returning([Run(uuid=parent[1], job=jobs[parent[0]])], ["uuid"], ["uuid"])
            parent_run = parent_row.pk
        (run,) = upsert_returning(
            [Run(uuid=str(run_uuid), job=job, original_id=self.checked.original_run_id or "", updated_at=self.now)],
            unique=["uuid"],
            touch=["updated_at"],
        )
        if run.job_id != job.pk:
            self.warnings.append(
                Problem(
                    "$.run.runId",
                    f"This run id already belongs to job {run.job_id}; "
                    "the event is stored but its run stays with that job.",
                    "run-job-mismatch",
                )
            )
        changed = self._fold_state(run)
        if merge_facets(run, _facets(run_block.get("facets")), self.when):
            changed = True
        nominal = _facets(run.facets.get("nominalTime"))
        start, end = _parse_time(nominal.get("nominalStartTime")), _parse_time(nominal.get("nominalEndTime"))
        if (start, end) != (run.nominal_start_time, run.nominal_end_time):
            run.nominal_start_time, run.nominal_end_time = start, end
            changed = True
        if parent_run is not None and run.parent_id != parent_run and parent_run != run.pk:
            run.parent_id = parent_run
            changed = True
        if self.checked.original_run_id and not run.original_id:
            run.original_id = self.checked.original_run_id[:300]
            changed = True
        if changed:
            run.updated_at = self.now
            run.save(
                update_fields=[
                    "state",
                    "state_time",
                    "started_at",
                    "ended_at",
                    "facets",
                    "facet_times",
                    "last_event_time",
                    "nominal_start_time",
                    "nominal_end_time",
                    "parent",
                    "original_id",
                    "updated_at",
                ]
            )
        return run

    def _fold_state(self, run: Run) -> bool:
        """Run state from eventTime: terminal states stick; the latest terminal one decides."""
        event_type = str(self.event.get("eventType") or "OTHER").upper()
        when = self.when
        before = (run.state, run.state_time, run.started_at, run.ended_at)
        if event_type in TERMINAL:
            state = TERMINAL[event_type]
            if run.state not in TERMINAL_STATES or (when, TERMINAL_RANK[state]) > (
                run.state_time or when,
                TERMINAL_RANK[RunState(run.state)],
            ):
                run.state, run.state_time, run.ended_at = state, when, when
        elif event_type in ("START", "RUNNING"):
            if run.state not in TERMINAL_STATES and (run.state_time is None or when > run.state_time):
                run.state, run.state_time = RunState.RUNNING, when
            if event_type == "START" and (run.started_at is None or when < run.started_at):
                run.started_at = when
        return before != (run.state, run.state_time, run.started_at, run.ended_at)

    def _fold_run_io(
        self,
        run: Run,
        datasets: dict[_Ref, LineageDataset],
        inputs: list[tuple[_Ref, dict[str, Any], dict[str, Any]]],
        outputs: list[tuple[_Ref, dict[str, Any], dict[str, Any]]],
    ) -> None:
        wanted = {
            (datasets[ref].pk, direction): extra
            for direction, items in ((Direction.INPUT, inputs), (Direction.OUTPUT, outputs))
            for ref, _facets, extra in items
        }
        if not wanted:
            return
        RunIO.objects.bulk_create(
            [
                RunIO(run=run, dataset_id=pk, direction=direction, facets=extra)
                for (pk, direction), extra in wanted.items()
            ],
            ignore_conflicts=True,
        )
        if any(wanted.values()):  # input/output facets: merge them into rows that already existed
            for io in RunIO.objects.filter(run=run, dataset_id__in={pk for pk, _d in wanted}):
                extra = wanted.get((io.dataset_id, Direction(io.direction)))
                if extra and _merge_max(io.facets, extra):
                    RunIO.objects.filter(pk=io.pk).update(facets=io.facets)

    # -- datasets --------------------------------------------------------------------------

    def _upsert_datasets(self, refs: list[_Ref]) -> dict[_Ref, LineageDataset]:
        datasets = upsert_returning(
            [
                LineageDataset(
                    namespace=self.namespaces[r.namespace],
                    name=r.name,
                    uri=dataset_uri(r.namespace, r.name),
                    updated_at=self.now,
                )
                for r in refs
            ],
            unique=["namespace", "name"],
            touch=["updated_at"],
        )
        by_pk = {ns.pk: ns for ns in self.namespaces.values()}
        found: dict[_Ref, LineageDataset] = {}
        for dataset in datasets:
            dataset.namespace = by_pk[dataset.namespace_id]
            found[_Ref(dataset.namespace.name, dataset.name)] = dataset
        return found

    def _fold_dataset_facets(
        self, datasets: dict[_Ref, LineageDataset], updates: list[tuple[_Ref, dict[str, Any]]]
    ) -> None:
        changed: dict[int, LineageDataset] = {}
        for ref, facets in updates:
            if not facets:
                continue
            if not self._owned(ref.namespace):
                self.warnings.append(
                    Problem(
                        "$",
                        f"Facets of {ref.namespace}:{ref.name} were not applied: "
                        "that namespace belongs to another team.",
                        "foreign-namespace",
                    )
                )
                continue
            dataset = datasets[ref]
            if merge_facets(dataset, facets, self.when):
                changed[dataset.pk] = dataset
        # One plain UPDATE per changed dataset (events name a few): bulk_update's CASE expressions
        # cost more to build than the round trips they save.
        for dataset in sorted(changed.values(), key=lambda d: d.pk):
            LineageDataset.objects.filter(pk=dataset.pk).update(
                facets=dataset.facets, facet_times=dataset.facet_times, last_event_time=dataset.last_event_time
            )

    def _fold_dataset_versions(
        self,
        datasets: dict[_Ref, LineageDataset],
        run: Run | None,
        outputs: list[tuple[_Ref, dict[str, Any], dict[str, Any]]],
        dataset_ref: _Ref | None,
    ) -> None:
        wanted: dict[tuple[int, str], LineageDatasetVersion] = {}
        sources = list(outputs) if run is not None else []
        if dataset_ref is not None:
            sources.append((dataset_ref, self._dataset_facets(), {}))
        for ref, facets, _extra in sources:
            declared = _facets(facets.get("version")).get("datasetVersion")
            if run is not None:
                key = f"run:{run.uuid}"
            elif isinstance(declared, str) and declared:
                key = f"version:{declared[:380]}"
            else:
                continue
            version = str(declared)[:300] if isinstance(declared, str) and declared else str(run.uuid if run else "")
            dataset = datasets[ref]
            wanted[(dataset.pk, key)] = LineageDatasetVersion(
                dataset=dataset, key=key, version=version, run=run, facets=facets, event_time=self.when
            )
        if not wanted:
            return
        existing = {
            (v.dataset_id, v.key): v
            for v in LineageDatasetVersion.objects.filter(
                models.Q(*[models.Q(dataset_id=pk, key=key) for pk, key in wanted], _connector="OR")
            )
        }
        LineageDatasetVersion.objects.bulk_create(
            [v for k, v in wanted.items() if k not in existing], ignore_conflicts=True
        )
        for k, new in wanted.items():
            old = existing.get(k)
            if old is None:
                continue
            # The version keeps the facets of its latest event (ties: the larger JSON text).
            newer = old.event_time is None or self.when > old.event_time
            tie = old.event_time == self.when and _canonical(new.facets) > _canonical(old.facets)
            if newer or tie:
                LineageDatasetVersion.objects.filter(pk=old.pk).update(
                    facets=new.facets, version=new.version, event_time=self.when
                )

    def _fold_column_lineage(
        self, datasets: dict[_Ref, LineageDataset], outputs: list[tuple[_Ref, dict[str, Any], dict[str, Any]]]
    ) -> None:
        wanted: dict[tuple[int, str, int, str], list[Any]] = {}
        for ref, facets, _extra in outputs:
            for out_field, (source, in_field, transformations) in self._column_sources(facets):
                wanted[(datasets[ref].pk, out_field, datasets[source].pk, in_field)] = transformations
        if not wanted:
            return
        output_ids = {k[0] for k in wanted}
        existing = {
            (c.output_dataset_id, c.output_field, c.input_dataset_id, c.input_field): c
            for c in ColumnLineage.objects.filter(output_dataset_id__in=output_ids)
        }
        ColumnLineage.objects.bulk_create(
            [
                ColumnLineage(
                    output_dataset_id=k[0],
                    output_field=k[1],
                    input_dataset_id=k[2],
                    input_field=k[3],
                    transformations=t,
                    event_time=self.when,
                )
                for k, t in wanted.items()
                if k not in existing
            ],
            ignore_conflicts=True,
        )
        for k, transformations in wanted.items():
            old = existing.get(k)
            if old is None or old.transformations == transformations:
                continue
            newer = old.event_time is None or self.when > old.event_time
            tie = old.event_time == self.when and _canonical(transformations) > _canonical(old.transformations)
            if newer or tie:
                ColumnLineage.objects.filter(pk=old.pk).update(transformations=transformations, event_time=self.when)
