"""Lineage graph queries: Marquez-shaped neighbourhoods, column lineage, up/downstream walks.

Traversal is breadth-first over ``JobEdge`` with one indexed query per hop and direction, so a
depth-20 query costs about 40 small queries whatever the size of the store. Nodes in namespaces the
actor may not see are neither returned nor walked through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from access.actors import Actor
from lineage.models import ColumnLineage, Direction, Job, JobEdge, LineageDataset, Namespace, Run

DEFAULT_DEPTH = 20
MAX_DEPTH = 100
MAX_NODES = 5_000  # the most a caller may ask for (maxNodes)
# Without maxNodes a graph stops at the 1,000 nodes nearest to its start, flagged ``truncated``
# (Marquez bounds its graph too): a picture of more is unreadable, and on the bench store a depth-20
# walk from mid-pipeline reaches up to 2,900 nodes (~3 MB of JSON).
DEFAULT_MAX_NODES = 1_000
CHUNK = 5_000


class NodeNotFound(Exception):
    """The node id names nothing the actor may see (a 404, whether it exists or not)."""


class BadNodeId(ValueError):
    """The node id is not ``dataset:<namespace>:<name>`` or ``job:<namespace>:<name>``."""


@dataclass(frozen=True)
class NodeRef:
    kind: str  # "dataset" | "job"
    pk: int


def visible_namespace_ids(actor: Actor) -> set[int] | None:
    """None means every namespace (administrators)."""
    if actor.sees_everything and actor.may("view"):
        return None
    return set(Namespace.objects.visible_to(actor).values_list("pk", flat=True))


def _candidates(rest: str) -> list[tuple[str, str]]:
    """Namespaces may contain ':' (``postgres://h:5432``): every split point is a candidate."""
    return [(rest[:i], rest[i + 1 :]) for i, char in enumerate(rest) if char == ":" and 0 < i < len(rest) - 1]


def resolve_node(node_id: str, actor: Actor) -> NodeRef:
    kind, sep, rest = node_id.partition(":")
    if not sep or kind not in ("dataset", "job") or not rest:
        raise BadNodeId("nodeId must look like dataset:<namespace>:<name> or job:<namespace>:<name>.")
    candidates = _candidates(rest)
    if not candidates:
        raise BadNodeId("nodeId must look like dataset:<namespace>:<name> or job:<namespace>:<name>.")
    model = LineageDataset if kind == "dataset" else Job
    # Namespaces first (a small table), then (namespace_id, name) pairs, which the unique index
    # answers. Filtering on namespace__name in one query let PostgreSQL scan every dataset of the
    # namespace instead (10 ms on the bench store's 20,000-dataset namespaces).
    namespaces = dict(
        Namespace.objects.visible_to(actor).filter(name__in={ns for ns, _name in candidates}).values_list("name", "pk")
    )
    pairs = [(ns, name) for ns, name in candidates if ns in namespaces]
    if not pairs:
        raise NodeNotFound(node_id)
    query = Q(*[Q(namespace_id=namespaces[ns], name=name) for ns, name in pairs], _connector="OR")
    found = dict(model.objects.filter(query).values_list("namespace_id", "pk"))
    # The longest namespace wins when several splits exist.
    for ns, _name in sorted(pairs, key=lambda pair: len(pair[0]), reverse=True):
        if namespaces[ns] in found:
            return NodeRef(kind, found[namespaces[ns]])
    raise NodeNotFound(node_id)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    items = list(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@dataclass
class Neighbourhood:
    datasets: set[int] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)
    edges: set[tuple[int, int, str]] = field(default_factory=set)  # (job, dataset, direction)
    truncated: bool = False

    @property
    def size(self) -> int:
        return len(self.datasets) + len(self.jobs)


# One breadth-first hop as one query: the jobs next to the frontier datasets that the walk has not
# met yet (in visible namespaces), with every edge of theirs to a visible dataset. A recursive CTE
# cannot keep a global "visited" set (its UNION only removes identical (node, hops) rows), so on an
# undirected walk it re-expands every node at every later hop count: on the bench store that was
# ~10x the rows of the graph it returned. Here each node is expanded once, ``depth`` round trips.
# ``{ids}`` becomes a PostgreSQL array parameter or, on SQLite, a JSON array read with json_each;
# every value is a parameter.
# Visibility is read from the namespaces copied onto the edges, so on PostgreSQL both steps are
# index-only scans of the covering edge indexes (see ``JobEdge``).
_HOP = """
SELECT e.job_id, e.dataset_id, e.direction
FROM lineage_jobedge e
WHERE e.job_id IN (
    SELECT x.job_id FROM lineage_jobedge x
    WHERE x.dataset_id {frontier} AND x.job_id NOT IN ({seen}) AND {job_visible}
) AND {dataset_visible}
"""
_JOB_EDGES = """
SELECT e.job_id, e.dataset_id, e.direction
FROM lineage_jobedge e
WHERE e.job_id = %s AND {dataset_visible}
"""


def _fetch(sql: str, params: list[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _id_set(postgres: bool) -> str:
    """SQL for "is in this set of ids", given one parameter (see ``_id_param``)."""
    return "= ANY(%s)" if postgres else "IN (SELECT value FROM json_each(%s))"


def _id_param(ids: Iterable[int], postgres: bool) -> Any:
    return sorted(ids) if postgres else json.dumps(sorted(ids))


def neighbourhood(
    start: NodeRef, depth: int, visible: set[int] | None, max_nodes: int = DEFAULT_MAX_NODES
) -> Neighbourhood:
    """Every node within ``depth`` job hops of ``start``, in both directions, and the edges between them.

    Hops count jobs: a dataset leads to the jobs that read or wrote it (one hop more), a job to its
    datasets (the same hop). Over ``max_nodes`` nodes the graph is cut, nearest hops first (ties:
    datasets before jobs, then by id), and marked ``truncated``.
    """
    postgres = connection.vendor == "postgresql"
    ids = _id_set(postgres)
    if visible is None:
        job_filter = dataset_filter = "1 = 1"
        visible_params: list[Any] = []
    else:
        job_filter, dataset_filter = f"x.job_namespace_id {ids}", f"e.dataset_namespace_id {ids}"
        visible_params = [_id_param(visible, postgres)]
    # NOT IN over a subquery, not "<> ALL(array)": the database hashes the set once instead of
    # scanning the array for every candidate row (that made late hops of big walks 5x slower).
    seen = "SELECT unnest(%s::bigint[])" if postgres else "SELECT value FROM json_each(%s)"
    hop_sql = _HOP.format(frontier=ids, seen=seen, job_visible=job_filter, dataset_visible=dataset_filter)
    hops: dict[tuple[str, int], int] = {(start.kind, start.pk): 0}
    edges: set[tuple[int, int, str]] = set()
    jobs: set[int] = set()

    def take(rows: Iterable[tuple[int, int, str]], hop: int) -> set[int]:
        found: set[int] = set()
        for job, dataset, direction in rows:
            edges.add((job, dataset, direction))
            jobs.add(job)
            hops.setdefault(("job", job), hop)
            if ("dataset", dataset) not in hops:
                hops["dataset", dataset] = hop
                found.add(dataset)
        return found

    if start.kind == "job":
        jobs.add(start.pk)
        frontier = take(_fetch(_JOB_EDGES.format(dataset_visible=dataset_filter), [start.pk, *visible_params]), 0)
    else:
        frontier = {start.pk}
    hop = 0
    while frontier and hop < depth and len(hops) <= max_nodes:
        hop += 1
        params = [_id_param(frontier, postgres), _id_param(jobs, postgres), *visible_params, *visible_params]
        frontier = take(_fetch(hop_sql, params), hop)
    hood = Neighbourhood()
    kept: Iterable[tuple[str, int]] = hops.keys()
    if len(hops) > max_nodes:
        hood.truncated = True
        kept = set(sorted(hops, key=lambda node: (hops[node], node[0], node[1]))[:max_nodes])
    for kind, pk in kept:
        (hood.jobs if kind == "job" else hood.datasets).add(pk)
    hood.edges = {e for e in edges if e[0] in hood.jobs and e[1] in hood.datasets} if hood.truncated else edges
    return hood


def dataset_data(dataset: LineageDataset) -> dict[str, Any]:
    facets = {k: v for k, v in dataset.facets.items() if not (isinstance(v, dict) and v.get("_deleted"))}
    return {
        "id": {"namespace": dataset.namespace.name, "name": dataset.name},
        "type": "DATASET",
        "name": dataset.name,
        "physicalName": dataset.name,
        "namespace": dataset.namespace.name,
        "sourceName": dataset.namespace.name,
        "uri": dataset.uri,
        "fields": dataset.schema_fields,
        "facets": facets,
        "createdAt": dataset.created_at.isoformat(),
        "updatedAt": dataset.updated_at.isoformat(),
        "lastModifiedAt": dataset.last_event_time.isoformat() if dataset.last_event_time else None,
    }


def run_data(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": str(run.uuid),
        "state": run.state,
        "startedAt": run.started_at.isoformat() if run.started_at else None,
        "endedAt": run.ended_at.isoformat() if run.ended_at else None,
        "durationMs": run.duration_ms,
        "nominalStartTime": run.nominal_start_time.isoformat() if run.nominal_start_time else None,
        "nominalEndTime": run.nominal_end_time.isoformat() if run.nominal_end_time else None,
    }


def latest_run_subquery() -> Subquery:
    return Subquery(Run.objects.filter(job=OuterRef("pk")).order_by("-started_at", "-id").values("pk")[:1])


def job_data(
    job: Job, inputs: list[dict[str, str]], outputs: list[dict[str, str]], latest: Run | None
) -> dict[str, Any]:
    return {
        "id": {"namespace": job.namespace.name, "name": job.name},
        "type": job.job_type or "BATCH",
        "name": job.name,
        "namespace": job.namespace.name,
        "inputs": inputs,
        "outputs": outputs,
        "latestRun": run_data(latest),
        "facets": job.facets,
        "createdAt": job.created_at.isoformat(),
        "updatedAt": job.updated_at.isoformat(),
    }


# -- the graph as JSON, built by the database -------------------------------------------------
# A depth-20 graph has a few thousand nodes. Reading them as Python rows (JSON facets parsed,
# datetimes converted) and rendering them again cost ~3x the walk; here each node's ``data``
# object comes out of the database as JSON text (json_build_object on PostgreSQL, json_object on
# SQLite) and Python only joins strings and the edges. Timestamps use Python's isoformat (UTC,
# microseconds only when non-zero), so the shape is the same as the rest of the API.

# Microseconds always, then ".000000" dropped: isoformat's rule, with one to_char per value.
_PG_ISO = "replace(to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00'"
# Django stores SQLite datetimes as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
_SQLITE_ISO = "(replace({col}, ' ', 'T') || '+00:00')"

_DATASETS_POSTGRES = """
SELECT d.id, n.name, d.name, json_build_object(
    'id', json_build_object('namespace', n.name, 'name', d.name),
    'type', 'DATASET', 'name', d.name, 'physicalName', d.name, 'namespace', n.name, 'sourceName', n.name,
    'uri', d.uri,
    'fields', CASE WHEN jsonb_typeof(d.facets -> 'schema' -> 'fields') = 'array'
        THEN jsonb_path_query_array(d.facets -> 'schema' -> 'fields', 'strict $[*] ? (@.type() == "object")')
        ELSE '[]'::jsonb END,
    'createdAt', {created}, 'updatedAt', {updated}, 'lastModifiedAt', {modified}{facets}
)::text
FROM lineage_lineagedataset d JOIN lineage_namespace n ON n.id = d.namespace_id
WHERE d.id = ANY(%s)
"""
_DATASETS_SQLITE = """
SELECT d.id, n.name, d.name, json_object(
    'id', json_object('namespace', n.name, 'name', d.name),
    'type', 'DATASET', 'name', d.name, 'physicalName', d.name, 'namespace', n.name, 'sourceName', n.name,
    'uri', d.uri,
    'fields', CASE WHEN json_type(d.facets, '$.schema.fields') = 'array' THEN (
        SELECT json_group_array(json(f.value)) FROM json_each(d.facets, '$.schema.fields') f WHERE f.type = 'object'
    ) ELSE json_array() END,
    'createdAt', {created}, 'updatedAt', {updated}, 'lastModifiedAt', {modified}{facets}
)
FROM lineage_lineagedataset d JOIN lineage_namespace n ON n.id = d.namespace_id
WHERE d.id IN (SELECT value FROM json_each(%s))
"""
# A job's data without "inputs" and "outputs": those come from the walk's edges (see _job_node).
# The latest run is the one ``latest_run_subquery`` picks (the same ORDER BY, so the same NULLs rule).
_JOBS_POSTGRES = """
SELECT j.id, n.name, j.name, json_build_object(
    'id', json_build_object('namespace', n.name, 'name', j.name),
    'type', COALESCE(NULLIF(CASE WHEN jsonb_typeof(j.facets -> 'jobType' -> 'processingType') = 'string'
        THEN j.facets -> 'jobType' ->> 'processingType' END, ''), 'BATCH'),
    'name', j.name, 'namespace', n.name,
    'latestRun', CASE WHEN r.id IS NULL THEN NULL ELSE json_build_object(
        'id', r.uuid::text, 'state', r.state, 'startedAt', {started}, 'endedAt', {ended},
        'durationMs', trunc(EXTRACT(EPOCH FROM (r.ended_at - r.started_at)) * 1000)::bigint,
        'nominalStartTime', {nominal_start}, 'nominalEndTime', {nominal_end}
    ) END,
    'createdAt', {created}, 'updatedAt', {updated}{facets}
)::text
FROM lineage_job j JOIN lineage_namespace n ON n.id = j.namespace_id
LEFT JOIN LATERAL (
    SELECT * FROM lineage_run x WHERE x.job_id = j.id ORDER BY x.started_at DESC, x.id DESC LIMIT 1
) r ON TRUE
WHERE j.id = ANY(%s)
"""
_JOBS_SQLITE = """
SELECT j.id, n.name, j.name, json_object(
    'id', json_object('namespace', n.name, 'name', j.name),
    'type', CASE WHEN json_type(j.facets, '$.jobType.processingType') = 'text'
        AND json_extract(j.facets, '$.jobType.processingType') <> ''
        THEN json_extract(j.facets, '$.jobType.processingType') ELSE 'BATCH' END,
    'name', j.name, 'namespace', n.name,
    'latestRun', CASE WHEN r.id IS NULL THEN NULL ELSE json_object(
        'id', lower(substr(r.uuid, 1, 8) || '-' || substr(r.uuid, 9, 4) || '-' || substr(r.uuid, 13, 4) || '-'
            || substr(r.uuid, 17, 4) || '-' || substr(r.uuid, 21)),
        'state', r.state, 'startedAt', {started}, 'endedAt', {ended},
        'durationMs', CAST(round((julianday(r.ended_at) - julianday(r.started_at)) * 86400000.0, 3) AS INTEGER),
        'nominalStartTime', {nominal_start}, 'nominalEndTime', {nominal_end}
    ) END,
    'createdAt', {created}, 'updatedAt', {updated}{facets}
)
FROM lineage_job j JOIN lineage_namespace n ON n.id = j.namespace_id
LEFT JOIN lineage_run r ON r.id = (
    SELECT x.id FROM lineage_run x WHERE x.job_id = j.id ORDER BY x.started_at DESC, x.id DESC LIMIT 1
)
WHERE j.id IN (SELECT value FROM json_each(%s))
"""


def _node_sql(template: str, postgres: bool, alias: str, times: dict[str, str], facets: bool) -> str:
    iso = _PG_ISO if postgres else _SQLITE_ISO
    with_facets = ""
    if facets:
        with_facets = f", 'facets', {alias}.facets" if postgres else f", 'facets', json({alias}.facets)"
    return template.format(facets=with_facets, **{name: iso.format(col=col) for name, col in times.items()})


def _node_rows(template: str, alias: str, times: dict[str, str], ids: set[int], facets: bool) -> list[Any]:
    postgres = connection.vendor == "postgresql"
    if not ids:
        return []
    sql = _node_sql(template, postgres, alias, times, facets)
    rows: list[Any] = []
    for chunk in _chunks(sorted(ids)):
        rows.extend(_fetch(sql, [_id_param(chunk, postgres)]))
    return rows


_DATASET_TIMES = {"created": "d.created_at", "updated": "d.updated_at", "modified": "d.last_event_time"}
_JOB_TIMES = {
    "created": "j.created_at",
    "updated": "j.updated_at",
    "started": "r.started_at",
    "ended": "r.ended_at",
    "nominal_start": "r.nominal_start_time",
    "nominal_end": "r.nominal_end_time",
}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_graph_json(hood: Neighbourhood, *, facets: bool = False, extra: dict[str, Any] | None = None) -> str:
    """Marquez's ``{graph: [{id, type, data, inEdges, outEdges}], truncated}`` as JSON text.

    Only the schema fields are taken out of the facets; the full facets come with ``facets=True``
    (``?facets=true`` on the API). ``extra`` adds top-level keys (the node limit, a hint).
    """
    postgres = connection.vendor == "postgresql"
    datasets = {
        pk: (ns, name, data)
        for pk, ns, name, data in _node_rows(
            _DATASETS_POSTGRES if postgres else _DATASETS_SQLITE, "d", _DATASET_TIMES, hood.datasets, facets
        )
    }
    jobs = {
        pk: (ns, name, data)
        for pk, ns, name, data in _node_rows(
            _JOBS_POSTGRES if postgres else _JOBS_SQLITE, "j", _JOB_TIMES, hood.jobs, facets
        )
    }
    # encode_basestring is what json.dumps(ensure_ascii=False) calls for a str, without its set-up
    # cost (which was a quarter of this function's time on a 1,000-node graph).
    quote = encode_basestring
    dataset_ids = {pk: quote(f"dataset:{ns}:{name}") for pk, (ns, name, _data) in datasets.items()}
    job_ids = {pk: quote(f"job:{ns}:{name}") for pk, (ns, name, _data) in jobs.items()}
    in_edges: dict[str, list[str]] = {}
    out_edges: dict[str, list[str]] = {}
    job_io: dict[int, tuple[list[str], list[str]]] = {pk: ([], []) for pk in jobs}
    refs: dict[int, str] = {}
    for job, dataset, direction in sorted(hood.edges):
        if job not in jobs or dataset not in datasets:
            continue
        ref = refs.get(dataset)
        if ref is None:
            ns, name, _data = datasets[dataset]
            ref = refs[dataset] = f'{{"namespace":{quote(ns)},"name":{quote(name)}}}'
        if direction == Direction.INPUT:
            origin, destination = dataset_ids[dataset], job_ids[job]
            job_io[job][0].append(ref)
        else:
            origin, destination = job_ids[job], dataset_ids[dataset]
            job_io[job][1].append(ref)
        edge = f'{{"origin":{origin},"destination":{destination}}}'
        out_edges.setdefault(origin, []).append(edge)
        in_edges.setdefault(destination, []).append(edge)

    def node(node_id: str, kind: str, data: str) -> str:
        return (
            f'{{"id":{node_id},"type":"{kind}","data":{data},'
            f'"inEdges":[{",".join(in_edges.get(node_id, ()))}],"outEdges":[{",".join(out_edges.get(node_id, ()))}]}}'
        )

    parts = [
        node(dataset_ids[pk], "DATASET", data)
        for pk, (_ns, _name, data) in sorted(datasets.items(), key=lambda item: dataset_ids[item[0]])
    ]
    for pk, (_ns, _name, data) in sorted(jobs.items(), key=lambda item: job_ids[item[0]]):
        inputs, outputs = job_io[pk]
        # The database's object ends with "}": the job's inputs and outputs go in before it.
        data = f'{data[:-1]},"inputs":[{",".join(inputs)}],"outputs":[{",".join(outputs)}]}}'
        parts.append(node(job_ids[pk], "JOB", data))
    tail = "".join(f",{_dumps(key)}:{_dumps(value)}" for key, value in (extra or {}).items())
    return f'{{"graph":[{",".join(parts)}],"truncated":{"true" if hood.truncated else "false"}{tail}}}'


def render_graph(hood: Neighbourhood, *, facets: bool = False) -> dict[str, Any]:
    """The same graph as a Python structure (for the graph page and its SVG)."""
    result: dict[str, Any] = json.loads(render_graph_json(hood, facets=facets))
    return result


def lineage(
    node_id: str, depth: int, actor: Actor, *, facets: bool = False, max_nodes: int = DEFAULT_MAX_NODES
) -> dict[str, Any]:
    visible = visible_namespace_ids(actor)
    start = resolve_node(node_id, actor)
    return render_graph(neighbourhood(start, depth, visible, max_nodes=max_nodes), facets=facets)


def lineage_json(
    node_id: str, depth: int, actor: Actor, *, facets: bool = False, max_nodes: int = DEFAULT_MAX_NODES
) -> str:
    """The graph around a node as JSON text, for the API: the rows never become Python objects.

    Over ``max_nodes`` the nearest nodes are kept, ``truncated`` is true and the response says
    how to see more.
    """
    visible = visible_namespace_ids(actor)
    start = resolve_node(node_id, actor)
    hood = neighbourhood(start, depth, visible, max_nodes=max_nodes)
    extra: dict[str, Any] = {"maxNodes": max_nodes}
    if hood.truncated:
        extra["detail"] = _(
            "The graph has more than %(limit)d nodes: only the %(limit)d nearest to the start are shown. "
            "Ask for a smaller depth, or for up to %(max)d nodes with maxNodes."
        ) % {"limit": max_nodes, "max": MAX_NODES}
    return render_graph_json(hood, facets=facets, extra=extra)


def walk_datasets(
    start: Iterable[int], direction: str, visible: set[int] | None, max_hops: int = MAX_DEPTH
) -> tuple[set[int], set[int]]:
    """Datasets (and the jobs between them) reachable downstream (``out``) or upstream (``in``)."""
    seen_datasets = set(start)
    seen_jobs: set[int] = set()
    frontier = set(seen_datasets)
    # Downstream: dataset —(read by)→ job —(writes)→ dataset. Upstream the other way round.
    first, second = (Direction.INPUT, Direction.OUTPUT) if direction == "out" else (Direction.OUTPUT, Direction.INPUT)
    for _hop in range(max_hops):
        if not frontier:
            break
        jobs: set[int] = set()
        for chunk in _chunks(frontier):
            query = JobEdge.objects.filter(dataset_id__in=chunk, direction=first)
            if visible is not None:
                query = query.filter(job_namespace_id__in=visible)
            jobs.update(query.values_list("job_id", flat=True))
        jobs -= seen_jobs
        seen_jobs |= jobs
        found: set[int] = set()
        for chunk in _chunks(jobs):
            query = JobEdge.objects.filter(job_id__in=chunk, direction=second)
            if visible is not None:
                query = query.filter(dataset_namespace_id__in=visible)
            found.update(query.values_list("dataset_id", flat=True))
        frontier = found - seen_datasets
        seen_datasets |= frontier
        if len(seen_datasets) + len(seen_jobs) > MAX_NODES * 10:
            break
    return seen_datasets - set(start), seen_jobs


def column_lineage(node_id: str, depth: int, actor: Actor) -> dict[str, Any]:
    """Column-level lineage around a dataset (or one of its fields: ``datasetField:<ns>:<name>:<field>``)."""
    visible = visible_namespace_ids(actor)
    field_name: str | None = None
    if node_id.startswith("datasetField:"):
        rest = node_id[len("datasetField:") :]
        rest, _, field_name = rest.rpartition(":")
        start = resolve_node(f"dataset:{rest}", actor)
    else:
        start = resolve_node(node_id, actor)
        if start.kind != "dataset":
            raise BadNodeId("Column lineage starts from a dataset or a dataset field.")
    rows: set[tuple[int, str, int, str]] = set()
    transformations: dict[tuple[int, str, int, str], Any] = {}
    frontier: set[tuple[int, str | None]] = {(start.pk, field_name)}
    seen: set[tuple[int, str | None]] = set(frontier)
    for _ in range(max(depth, 1)):
        if not frontier:
            break
        query = Q()
        for dataset, fld in frontier:
            query |= Q(output_dataset_id=dataset, **({"output_field": fld} if fld else {}))
            query |= Q(input_dataset_id=dataset, **({"input_field": fld} if fld else {}))
        found = ColumnLineage.objects.filter(query)
        if visible is not None:
            found = found.filter(input_dataset__namespace_id__in=visible, output_dataset__namespace_id__in=visible)
        new: set[tuple[int, str | None]] = set()
        for c in found:
            key = (c.output_dataset_id, c.output_field, c.input_dataset_id, c.input_field)
            rows.add(key)
            transformations[key] = c.transformations
            for node in ((c.output_dataset_id, c.output_field), (c.input_dataset_id, c.input_field)):
                if node not in seen:
                    seen.add(node)
                    new.add(node)
        frontier = new
    names = {
        d.pk: (d.namespace.name, d.name)
        for d in LineageDataset.objects.filter(pk__in={r[0] for r in rows} | {r[2] for r in rows}).select_related(
            "namespace"
        )
    }
    nodes: dict[str, dict[str, Any]] = {}

    def field_node(dataset: int, fld: str) -> dict[str, Any]:
        ns, name = names[dataset]
        key = f"datasetField:{ns}:{name}:{fld}"
        return nodes.setdefault(
            key,
            {
                "id": key,
                "type": "DATASET_FIELD",
                "data": {"namespace": ns, "dataset": name, "field": fld, "inputFields": []},
                "inEdges": [],
                "outEdges": [],
            },
        )

    for key in sorted(rows):
        out_ds, out_field, in_ds, in_field = key
        target, source = field_node(out_ds, out_field), field_node(in_ds, in_field)
        edge = {"origin": source["id"], "destination": target["id"]}
        target["inEdges"].append(edge)
        source["outEdges"].append(edge)
        target["data"]["inputFields"].append(
            {
                "namespace": names[in_ds][0],
                "dataset": names[in_ds][1],
                "field": in_field,
                "transformations": transformations[key],
            }
        )
    return {"graph": sorted(nodes.values(), key=lambda n: n["id"])}
