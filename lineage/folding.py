"""Folding a batch of validated events into the graph: one statement per table, whatever the batch size.

Every derived value is order-independent (see ``lineage.models``): run state and times are a
max/min over ``eventTime``, each facet keeps the value with the greatest (``eventTime``, JSON text),
edges are only added, dataset versions and column lineage keep the value of the greatest
(``eventTime``, JSON text). So the events of a batch are merged in memory, in any order, and each
changed row is written once — the same graph as folding them one by one.

Locking, for PostgreSQL under many concurrent producers: rows are upserted (which locks them) in a
fixed order — namespaces, raw events, jobs, runs, datasets, each sorted by key — so two
transactions never wait on each other in a cycle. Edges, run inputs/outputs, versions and column
lineage rows hang off a job, run or dataset this transaction has already locked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from access.models import Team
from lineage.ingest import Event, IngestResult, LineageForbidden, Ref, facets_of, parse_time
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
from lineage.upsert import (
    insert_ignore,
    insert_ignore_returning,
    insert_ignore_returning_pk,
    update_rows,
    upsert_returning,
)
from lineage.validation import Problem
from trail import services as trail
from trail.choices import AuditAction

TERMINAL = {"COMPLETE": RunState.COMPLETED, "FAIL": RunState.FAILED, "ABORT": RunState.ABORTED}
TERMINAL_STATES = frozenset(TERMINAL.values())
# Two terminal events with the same eventTime: the more severe one decides, whatever arrives first.
TERMINAL_RANK = {RunState.COMPLETED: 1, RunState.ABORTED: 2, RunState.FAILED: 3}
RUN_FIELDS = [
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
NODE_FIELDS = ["facets", "facet_times", "last_event_time"]
NODE_TIME_FIELDS = ["facet_times", "last_event_time"]


class NamespaceRace(Exception):
    """A namespace this batch meant to claim was claimed by another team meanwhile: retry the batch."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# What ``merge_facets`` changed: nothing, only times (facet_times, last_event_time), or facets too.
UNCHANGED, TIMES, FACETS = 0, 1, 2


def merge_facets(node: FacetedNode, facets: dict[str, Any], when: datetime) -> int:
    """Keep, per facet name, the value with the greatest (eventTime, JSON text).

    Returns UNCHANGED, TIMES (a later event repeated the same values: only the times move on, and
    the row's facets need not be written again) or FACETS.
    """
    stamp = when.astimezone(UTC).isoformat(timespec="microseconds")
    changed = UNCHANGED
    for name, value in facets.items():
        held = node.facet_times.get(name)
        wins = held is None or stamp > held or (stamp == held and canonical(value) > canonical(node.facets.get(name)))
        if not wins:
            continue
        if node.facets.get(name) != value or name not in node.facets:
            node.facets[name] = value
            changed = FACETS
        if held != stamp:
            node.facet_times[name] = stamp
            changed = max(changed, TIMES)
    if node.last_event_time is None or when > node.last_event_time:
        node.last_event_time = when
        changed = max(changed, TIMES)
    return changed


def _write_nodes(changed: dict[int, tuple[FacetedNode, int]]) -> None:
    """Write merged jobs or datasets (by primary key, for the lock order): facets only where they changed."""
    rows = [changed[pk] for pk in sorted(changed)]
    update_rows([node for node, what in rows if what == FACETS], NODE_FIELDS)
    update_rows([node for node, what in rows if what == TIMES], NODE_TIME_FIELDS)


def _merge_max(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    """Order-independent union for facets without times: on a clash the larger JSON text stays."""
    changed = False
    for name, value in new.items():
        if name in existing and existing[name] == value:
            continue
        wins = name not in existing or canonical(value) > canonical(existing[name])
        if wins:
            existing[name] = value
            changed = True
    return changed


def _newer(when: datetime, value: Any, held_when: datetime | None, held_value: Any) -> bool:
    """Whether (when, JSON text of value) beats what a row holds: the later eventTime, on a tie the larger text.

    The JSON texts are only built on a tie (rare): they cost more than the rest of the comparison.
    """
    if held_when is None or when != held_when:
        return held_when is None or when > held_when
    return canonical(value) > canonical(held_value)


def fold_state(run: Run, event_type: str, when: datetime) -> None:
    """Run state from eventTime: terminal states stick; the latest terminal one decides."""
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


_SNAPSHOT = ["state", "state_time", "started_at", "ended_at", "last_event_time", "nominal_start_time"]
_SNAPSHOT += ["nominal_end_time", "parent_id", "original_id"]


def _run_snapshot(run: Run) -> tuple[Any, ...]:
    """What folding may change in a run, to tell whether it needs writing."""
    return (*(getattr(run, name) for name in _SNAPSHOT), canonical(run.facets), canonical(run.facet_times))


class Batch:
    """Folds the (distinct) validated events of one batch into the graph, inside its transaction."""

    def __init__(self, events: list[Event], actor: Actor, team: Team) -> None:
        # Sorted by content key: raw events lock in that order, and every loop below is stable.
        self.events = sorted(events, key=lambda e: e.key)
        self.actor = actor
        self.team = team
        self.now = timezone.now()
        self.namespaces: dict[str, Namespace] = {}

    def run(self) -> None:
        allowed = self._resolve_namespaces()
        new = self._store_raw(allowed)
        if not new:
            return
        jobs = self._upsert_jobs(new)
        runs = self._fold_runs(new, jobs)
        self._fold_job_facets(new, jobs)
        datasets = self._upsert_datasets(new)
        self._fold_dataset_facets(new, datasets)
        self._add_edges(new, jobs, datasets)
        self._fold_run_io(new, runs, datasets)
        self._fold_dataset_versions(new, runs, datasets)
        self._fold_column_lineage(new, datasets)

    # -- namespaces and access -----------------------------------------------------------------

    def _owned(self, namespace: str) -> bool:
        return self.namespaces[namespace].owner_team_id == self.team.pk

    def _forbidden(self, event: Event) -> bool:
        known = self.namespaces.get(event.primary.namespace)
        return known is not None and known.owner_team_id != self.team.pk

    def _refuse(self, event: Event) -> None:
        namespace = event.primary.namespace
        event.outcome = LineageForbidden(
            _("The namespace %(namespace)s belongs to another team; this token's team (%(team)s) cannot write to it.")
            % {"namespace": namespace, "team": self.team.slug},
            "$.job.namespace" if event.job_ref else "$.dataset.namespace",
        )

    def _resolve_namespaces(self) -> list[Event]:
        """Claim unknown namespaces for the team; refuse events whose own namespace is another team's.

        A refused event claims nothing: the namespaces only it names stay unclaimed.
        """
        names = sorted({name for event in self.events for name in event.namespaces()})
        self.namespaces = {ns.name: ns for ns in Namespace.objects.filter(name__in=names)}
        allowed = []
        for event in self.events:
            if self._forbidden(event):
                self._refuse(event)
            else:
                allowed.append(event)
        wanted = sorted({name for event in allowed for name in event.namespaces()} - self.namespaces.keys())
        claimed = []
        for name in wanted:  # sorted: concurrent claims lock in one order
            namespace = Namespace(name=name, owner_team=self.team)
            namespace.pk = insert_ignore_returning_pk(namespace, ["name"])
            if namespace.pk is None:  # another request claimed it first
                namespace = Namespace.objects.get(name=name)
            else:
                namespace._state.adding = False
                claimed.append(namespace)
            self.namespaces[name] = namespace
        if any(self._forbidden(event) for event in allowed):
            raise NamespaceRace
        for namespace in claimed:
            trail.record(
                AuditAction.CREATE,
                actor=self.actor,
                obj=namespace,
                team_slug=self.team.slug,
                changes={"name": [None, namespace.name], "owner_team": [None, self.team.slug]},
            )
        return allowed

    # -- raw events ----------------------------------------------------------------------------

    def _store_raw(self, events: list[Event]) -> list[Event]:
        """Insert the raw events (those already stored become duplicates); the new ones, to fold."""
        user = self.actor.user if self.actor.user is not None and self.actor.user.is_authenticated else None
        raws = {}
        for event in events:
            run_id = event.event.get("run", {}).get("runId") if event.kind == EventKind.RUN else None
            raws[event.key] = RawEvent(
                content_key=event.key,
                kind=event.kind,
                event_type=str(event.event.get("eventType") or "")[:10],
                event_time=event.when,
                received_at=self.now,
                namespace=self.namespaces[event.primary.namespace],
                job_name=event.job_ref.name if event.job_ref else "",
                dataset_name=event.dataset_ref.name if event.dataset_ref else "",
                run_uuid=run_id,
                producer=str(event.event.get("producer") or "")[:500],
                schema_url=str(event.event.get("schemaURL") or "")[:500],
                spec_version=event.checked.spec_version,
                payload=event.payload,
                warnings=[{"path": w.path, "message": w.message, "code": w.code} for w in event.warnings],
                token=self.actor.token,
                user=user,
            )
        # A duplicate (also one a concurrent request is storing right now) inserts nothing.
        stored = insert_ignore_returning(list(raws.values()), ["content_key"], "content_key")
        new: list[Event] = []
        duplicates: list[Event] = []
        for event in events:
            raw = raws[event.key]
            raw.pk = stored.get(event.key)
            if raw.pk is None:
                duplicates.append(event)
                continue
            raw._state.adding = False
            event.outcome = IngestResult(raw, created=True, warnings=event.warnings)
            new.append(event)
        if duplicates:
            earlier = RawEvent.objects.in_bulk([e.key for e in duplicates], field_name="content_key")
            for event in duplicates:
                event.outcome = IngestResult(earlier[event.key], created=False, warnings=event.warnings)
        return new

    # -- jobs and runs -----------------------------------------------------------------------

    def _with_namespaces(self, rows: Iterable[Job | LineageDataset]) -> dict[Ref, Any]:
        by_pk = {ns.pk: ns for ns in self.namespaces.values()}
        found = {}
        for row in rows:
            row.namespace = by_pk[row.namespace_id]
            found[Ref(row.namespace.name, row.name)] = row
        return found

    def _upsert_jobs(self, events: list[Event]) -> dict[Ref, Job]:
        refs = {e.job_ref for e in events if e.job_ref} | {e.parent[0] for e in events if e.parent}
        jobs = upsert_returning(
            [Job(namespace=self.namespaces[r.namespace], name=r.name, updated_at=self.now) for r in sorted(refs)],
            unique=["namespace", "name"],
            touch=["updated_at"],
        )
        return self._with_namespaces(jobs)

    def _fold_runs(self, events: list[Event], jobs: dict[Ref, Job]) -> dict[str, Run]:
        run_events = [e for e in events if e.kind == EventKind.RUN and e.job_ref is not None]
        wanted: dict[str, Run] = {}
        for event in run_events:
            assert event.job_ref is not None
            wanted.setdefault(
                str(event.event["run"]["runId"]),
                Run(
                    uuid=str(event.event["run"]["runId"]),
                    job=jobs[event.job_ref],
                    original_id=(event.checked.original_run_id or "")[:300],
                    updated_at=self.now,
                ),
            )
        for event in run_events:
            if event.parent is not None:
                # A placeholder run when the parent has not reported yet.
                wanted.setdefault(str(event.parent[1]), Run(uuid=event.parent[1], job=jobs[event.parent[0]]))
        if not wanted:
            return {}
        runs = {str(run.uuid): run for run in upsert_returning([wanted[u] for u in sorted(wanted)], ["uuid"], ["uuid"])}
        before = {uid: _run_snapshot(run) for uid, run in runs.items()}
        own = set()
        for event in run_events:
            assert event.job_ref is not None
            uid = str(event.event["run"]["runId"])
            own.add(uid)
            run, job = runs[uid], jobs[event.job_ref]
            if run.job_id != job.pk:
                event.warnings.append(
                    Problem(
                        "$.run.runId",
                        f"This run id already belongs to job {run.job_id}; "
                        "the event is stored but its run stays with that job.",
                        "run-job-mismatch",
                    )
                )
            fold_state(run, str(event.event.get("eventType") or "OTHER").upper(), event.when)
            merge_facets(run, facets_of(event.event["run"].get("facets")), event.when)
            if event.parent is not None:
                parent = runs[str(event.parent[1])].pk
                if run.parent_id != parent and parent != run.pk:
                    run.parent_id = parent
            if event.checked.original_run_id and not run.original_id:
                run.original_id = event.checked.original_run_id[:300]
        changed = []
        for uid in sorted(own):
            run = runs[uid]
            nominal = facets_of(run.facets.get("nominalTime"))
            run.nominal_start_time = parse_time(nominal.get("nominalStartTime"))
            run.nominal_end_time = parse_time(nominal.get("nominalEndTime"))
            if _run_snapshot(run) != before[uid]:
                run.updated_at = self.now
                changed.append(run)
        update_rows(sorted(changed, key=lambda r: r.pk), RUN_FIELDS)
        return runs

    def _fold_job_facets(self, events: list[Event], jobs: dict[Ref, Job]) -> None:
        changed: dict[int, tuple[FacetedNode, int]] = {}
        for event in events:
            if event.job_ref is None or not self._owned(event.job_ref.namespace):
                continue
            job = jobs[event.job_ref]
            what = merge_facets(job, facets_of(facets_of(event.event.get("job")).get("facets")), event.when)
            if what:
                changed[job.pk] = (job, max(what, changed.get(job.pk, (job, UNCHANGED))[1]))
        _write_nodes(changed)

    # -- datasets --------------------------------------------------------------------------

    def _upsert_datasets(self, events: list[Event]) -> dict[Ref, LineageDataset]:
        refs: set[Ref] = set()
        for event in events:
            refs.update(ref for ref, _facets, _extra in event.inputs + event.outputs)
            refs.update(source for _out, _field, source, _in, _t in event.columns)
            if event.dataset_ref is not None:
                refs.add(event.dataset_ref)
        datasets = upsert_returning(
            [
                LineageDataset(
                    namespace=self.namespaces[r.namespace],
                    name=r.name,
                    uri=dataset_uri(r.namespace, r.name),
                    updated_at=self.now,
                )
                for r in sorted(refs)
            ],
            unique=["namespace", "name"],
            touch=["updated_at"],
        )
        return self._with_namespaces(datasets)

    def _fold_dataset_facets(self, events: list[Event], datasets: dict[Ref, LineageDataset]) -> None:
        changed: dict[int, tuple[FacetedNode, int]] = {}
        for event in events:
            updates = [(ref, facets) for ref, facets, _extra in event.inputs + event.outputs]
            if event.dataset_ref is not None:
                updates.append((event.dataset_ref, event.dataset_facets()))
            for ref, facets in updates:
                if not facets:
                    continue
                if not self._owned(ref.namespace):
                    event.warnings.append(
                        Problem(
                            "$",
                            f"Facets of {ref.namespace}:{ref.name} were not applied: "
                            "that namespace belongs to another team.",
                            "foreign-namespace",
                        )
                    )
                    continue
                dataset = datasets[ref]
                what = merge_facets(dataset, facets, event.when)
                if what:
                    changed[dataset.pk] = (dataset, max(what, changed.get(dataset.pk, (dataset, UNCHANGED))[1]))
        _write_nodes(changed)

    # -- edges, run inputs and outputs, versions, column lineage ---------------------------------

    def _add_edges(self, events: list[Event], jobs: dict[Ref, Job], datasets: dict[Ref, LineageDataset]) -> None:
        first: dict[tuple[int, int, str], datetime] = {}
        namespaces: dict[tuple[int, int], tuple[int, int]] = {}
        for event in events:
            if event.job_ref is None:
                continue
            job = jobs[event.job_ref]
            for direction, items in ((Direction.INPUT, event.inputs), (Direction.OUTPUT, event.outputs)):
                for ref, _facets, _extra in items:
                    dataset = datasets[ref]
                    key = (job.pk, dataset.pk, str(direction))
                    first[key] = min(first.get(key, event.when), event.when)
                    namespaces[job.pk, dataset.pk] = (job.namespace_id, dataset.namespace_id)
        insert_ignore(
            [
                JobEdge(
                    job_id=job,
                    dataset_id=dataset,
                    direction=direction,
                    first_event_time=when,
                    job_namespace_id=namespaces[job, dataset][0],
                    dataset_namespace_id=namespaces[job, dataset][1],
                )
                for (job, dataset, direction), when in sorted(first.items())
            ],
            ["job", "dataset", "direction"],
        )

    def _fold_run_io(self, events: list[Event], runs: dict[str, Run], datasets: dict[Ref, LineageDataset]) -> None:
        wanted: dict[tuple[int, int, str], dict[str, Any]] = {}
        for event in events:
            if event.kind != EventKind.RUN or event.job_ref is None:
                continue
            run = runs[str(event.event["run"]["runId"])]
            for direction, items in ((Direction.INPUT, event.inputs), (Direction.OUTPUT, event.outputs)):
                for ref, _facets, extra in items:
                    _merge_max(wanted.setdefault((run.pk, datasets[ref].pk, str(direction)), {}), extra)
        if not wanted:
            return
        insert_ignore(
            [
                RunIO(run_id=run, dataset_id=dataset, direction=direction, facets=dict(extra))
                for (run, dataset, direction), extra in sorted(wanted.items(), key=lambda item: item[0])
            ],
            ["run", "dataset", "direction"],
        )
        if any(wanted.values()):  # input/output facets: merge them into rows that already existed
            changed = []
            rows = RunIO.objects.filter(
                run_id__in={k[0] for k in wanted}, dataset_id__in={k[1] for k in wanted}
            ).order_by("pk")
            for io in rows:
                merged = wanted.get((io.run_id, io.dataset_id, io.direction))
                if merged and _merge_max(io.facets, merged):
                    changed.append(io)
            update_rows(changed, ["facets"])

    def _fold_dataset_versions(
        self, events: list[Event], runs: dict[str, Run], datasets: dict[Ref, LineageDataset]
    ) -> None:
        # (dataset, key) -> (eventTime, facets, the version that event describes)
        wanted: dict[tuple[int, str], tuple[datetime, dict[str, Any], LineageDatasetVersion]] = {}
        for event in events:
            run = runs[str(event.event["run"]["runId"])] if event.kind == EventKind.RUN and event.job_ref else None
            sources = list(event.outputs) if run is not None else []
            if event.dataset_ref is not None:
                sources.append((event.dataset_ref, event.dataset_facets(), {}))
            for ref, facets, _extra in sources:
                declared = facets_of(facets.get("version")).get("datasetVersion")
                if run is not None:
                    key = f"run:{run.uuid}"
                elif isinstance(declared, str) and declared:
                    key = f"version:{declared[:380]}"
                else:
                    continue
                named = isinstance(declared, str) and declared
                version = str(declared)[:300] if named else str(run.uuid if run else "")
                dataset = datasets[ref]
                held = wanted.get((dataset.pk, key))
                if held is None or _newer(event.when, facets, held[0], held[1]):
                    wanted[(dataset.pk, key)] = (
                        event.when,
                        facets,
                        LineageDatasetVersion(
                            dataset=dataset, key=key, version=version, run=run, facets=facets, event_time=event.when
                        ),
                    )
        if not wanted:
            return
        existing = {
            (v.dataset_id, v.key): v
            for v in LineageDatasetVersion.objects.filter(
                dataset_id__in={pk for pk, _key in wanted}, key__in={key for _pk, key in wanted}
            )
        }
        insert_ignore([wanted[k][2] for k in sorted(wanted) if k not in existing], ["dataset", "key"])
        changed = []
        for k in sorted(wanted):
            old = existing.get(k)
            when, facets, new = wanted[k]
            # The version keeps the facets of its latest event (ties: the larger JSON text).
            if old is not None and _newer(when, facets, old.event_time, old.facets):
                old.facets, old.version, old.event_time = new.facets, new.version, when
                changed.append(old)
        update_rows(sorted(changed, key=lambda v: v.pk), ["facets", "version", "event_time"])

    def _fold_column_lineage(self, events: list[Event], datasets: dict[Ref, LineageDataset]) -> None:
        # (output dataset, output field, input dataset, input field) -> (eventTime, transformations)
        wanted: dict[tuple[int, str, int, str], tuple[datetime, list[Any]]] = {}
        for event in events:
            for out_ref, out_field, source, in_field, transformations in event.columns:
                key = (datasets[out_ref].pk, out_field, datasets[source].pk, in_field)
                held = wanted.get(key)
                if held is None or _newer(event.when, transformations, held[0], held[1]):
                    wanted[key] = (event.when, transformations)
        if not wanted:
            return
        existing = {
            (c.output_dataset_id, c.output_field, c.input_dataset_id, c.input_field): c
            for c in ColumnLineage.objects.filter(
                output_dataset_id__in={k[0] for k in wanted}, input_dataset_id__in={k[2] for k in wanted}
            )
        }
        insert_ignore(
            [
                ColumnLineage(
                    output_dataset_id=k[0],
                    output_field=k[1],
                    input_dataset_id=k[2],
                    input_field=k[3],
                    transformations=wanted[k][1],
                    event_time=wanted[k][0],
                )
                for k in sorted(wanted)
                if k not in existing
            ],
            ["output_dataset", "output_field", "input_dataset", "input_field"],
        )
        changed = []
        for k in sorted(wanted):
            old = existing.get(k)
            when, transformations = wanted[k]
            # The pair keeps the transformations of its latest event (ties: the larger JSON text); the
            # time moves on even when they are unchanged, or a later older event could win.
            if old is not None and _newer(when, transformations, old.event_time, old.transformations):
                old.transformations, old.event_time = transformations, when
                changed.append(old)
        update_rows(sorted(changed, key=lambda c: c.pk), ["transformations", "event_time"])
