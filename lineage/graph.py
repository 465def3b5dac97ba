"""Lineage graph queries: Marquez-shaped neighbourhoods, column lineage, up/downstream walks.

Traversal is breadth-first over ``JobEdge`` with one indexed query per hop and direction, so a
depth-20 query costs about 40 small queries whatever the size of the store. Nodes in namespaces the
actor may not see are neither returned nor walked through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTransform

from access.actors import Actor
from lineage.models import ColumnLineage, Direction, Job, JobEdge, LineageDataset, Namespace, Run

DEFAULT_DEPTH = 20
MAX_DEPTH = 100
MAX_NODES = 5_000
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
    query = Q(*[Q(namespace__name=ns, name=name) for ns, name in candidates], _connector="OR")
    found = model.objects.visible_to(actor).filter(query).order_by("-namespace__name").values_list("pk", flat=True)
    pk = next(iter(found), None)  # the longest namespace wins when several splits exist
    if pk is None:
        raise NodeNotFound(node_id)
    return NodeRef(kind, pk)


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


# The walk as one recursive query: a dataset leads to the jobs that read or wrote it (one hop more),
# a job to its datasets (same hop). PostgreSQL allows a single recursive reference, hence LATERAL;
# SQLite has no LATERAL but accepts several recursive terms. ``{job_visible}``/``{dataset_visible}``
# are either TRUE or a namespace filter; every value is a parameter.
_WALK_POSTGRES = """
WITH RECURSIVE walk(kind, id, hops) AS (
    SELECT %s::text, %s::bigint, 0
  UNION
    SELECT step.kind, step.id, step.hops
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT 'job'::text AS kind, e.job_id AS id, w.hops + 1 AS hops
        FROM lineage_jobedge e JOIN lineage_job j ON j.id = e.job_id
        WHERE w.kind = 'dataset' AND e.dataset_id = w.id AND w.hops < %s AND {job_visible}
      UNION ALL
        SELECT 'dataset'::text, e.dataset_id, w.hops
        FROM lineage_jobedge e JOIN lineage_lineagedataset d ON d.id = e.dataset_id
        WHERE w.kind = 'job' AND e.job_id = w.id AND {dataset_visible}
    ) step
)
SELECT kind, id, MIN(hops) AS h FROM walk GROUP BY kind, id ORDER BY h, kind, id LIMIT %s
"""
_WALK_SQLITE = """
WITH RECURSIVE walk(kind, id, hops) AS (
    SELECT %s, %s, 0
  UNION
    SELECT 'job', e.job_id, w.hops + 1
    FROM walk w JOIN lineage_jobedge e ON e.dataset_id = w.id JOIN lineage_job j ON j.id = e.job_id
    WHERE w.kind = 'dataset' AND w.hops < %s AND {job_visible}
  UNION
    SELECT 'dataset', e.dataset_id, w.hops
    FROM walk w JOIN lineage_jobedge e ON e.job_id = w.id JOIN lineage_lineagedataset d ON d.id = e.dataset_id
    WHERE w.kind = 'job' AND {dataset_visible}
)
SELECT kind, id, MIN(hops) AS h FROM walk GROUP BY kind, id ORDER BY h, kind, id LIMIT %s
"""


def neighbourhood(start: NodeRef, depth: int, visible: set[int] | None, max_nodes: int = MAX_NODES) -> Neighbourhood:
    """Every node within ``depth`` job hops of ``start``, in both directions, and the edges between them.

    Our own recursive query (no graph library reads from the database): one round trip for the walk
    and one per few thousand jobs for the edges, instead of two queries per hop.
    """
    postgres = connection.vendor == "postgresql"
    template = _WALK_POSTGRES if postgres else _WALK_SQLITE
    visible_ids = sorted(visible) if visible is not None else []
    if visible is None:
        job_filter = dataset_filter = "1 = 1"
        filter_params: list[Any] = []
    elif postgres:
        job_filter, dataset_filter = "j.namespace_id = ANY(%s)", "d.namespace_id = ANY(%s)"
        filter_params = [visible_ids]
    else:
        marks = ", ".join(["%s"] * len(visible_ids)) or "NULL"
        job_filter, dataset_filter = f"j.namespace_id IN ({marks})", f"d.namespace_id IN ({marks})"
        filter_params = list(visible_ids)
    sql = template.format(job_visible=job_filter, dataset_visible=dataset_filter)
    params = [start.kind, start.pk, depth, *filter_params, *filter_params, max_nodes + 1]
    hood = Neighbourhood()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) > max_nodes:
        hood.truncated = True
        rows = rows[:max_nodes]
    for kind, pk, _hops in rows:
        (hood.jobs if kind == "job" else hood.datasets).add(pk)
    for chunk in _chunks(hood.jobs):
        for job, dataset, direction in JobEdge.objects.filter(job_id__in=chunk).values_list(
            "job_id", "dataset_id", "direction"
        ):
            if dataset in hood.datasets:
                hood.edges.add((job, dataset, direction))
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


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def render_graph(hood: Neighbourhood, *, facets: bool = False) -> dict[str, Any]:
    """Marquez's ``{graph: [{id, type, data, inEdges, outEdges}]}``.

    Rows are read with ``values()`` and only the schema fields are taken out of the facets (in the
    database), so a graph of a few thousand nodes does not parse every facet document; the full
    facets come with ``facets=True`` (``?facets=true`` on the API).
    """
    dataset_columns = ["id", "name", "namespace__name", "uri", "created_at", "updated_at", "last_event_time"]
    datasets = {
        row["id"]: row
        for chunk in _chunks(hood.datasets)
        for row in LineageDataset.objects.filter(pk__in=chunk)
        .annotate(schema_fields=KeyTransform("fields", KeyTransform("schema", "facets")))
        .values(*dataset_columns, "schema_fields", *(["facets"] if facets else []))
    }
    jobs = {
        row["id"]: row
        for chunk in _chunks(hood.jobs)
        for row in Job.objects.filter(pk__in=chunk)
        .annotate(
            latest_run_id=latest_run_subquery(),
            processing_type=KeyTransform("processingType", KeyTransform("jobType", "facets")),
        )
        .values(
            "id",
            "name",
            "namespace__name",
            "created_at",
            "updated_at",
            "latest_run_id",
            "processing_type",
            *(["facets"] if facets else []),
        )
    }
    run_columns = ["id", "uuid", "state", "started_at", "ended_at", "nominal_start_time", "nominal_end_time"]
    runs = {
        row["id"]: row
        for row in Run.objects.filter(pk__in=[j["latest_run_id"] for j in jobs.values() if j["latest_run_id"]]).values(
            *run_columns
        )
    }
    dataset_ids = {pk: f"dataset:{d['namespace__name']}:{d['name']}" for pk, d in datasets.items()}
    job_ids = {pk: f"job:{j['namespace__name']}:{j['name']}" for pk, j in jobs.items()}
    in_edges: dict[str, list[dict[str, str]]] = {}
    out_edges: dict[str, list[dict[str, str]]] = {}
    job_io: dict[int, tuple[list[dict[str, str]], list[dict[str, str]]]] = {pk: ([], []) for pk in jobs}
    for job, dataset, direction in sorted(hood.edges):
        if job not in jobs or dataset not in datasets:
            continue
        ref = {"namespace": datasets[dataset]["namespace__name"], "name": datasets[dataset]["name"]}
        if direction == Direction.INPUT:
            origin, destination = dataset_ids[dataset], job_ids[job]
            job_io[job][0].append(ref)
        else:
            origin, destination = job_ids[job], dataset_ids[dataset]
            job_io[job][1].append(ref)
        edge = {"origin": origin, "destination": destination}
        out_edges.setdefault(origin, []).append(edge)
        in_edges.setdefault(destination, []).append(edge)
    graph = []
    for pk, d in sorted(datasets.items(), key=lambda item: dataset_ids[item[0]]):
        node = dataset_ids[pk]
        fields = d["schema_fields"]
        data = {
            "id": {"namespace": d["namespace__name"], "name": d["name"]},
            "type": "DATASET",
            "name": d["name"],
            "physicalName": d["name"],
            "namespace": d["namespace__name"],
            "sourceName": d["namespace__name"],
            "uri": d["uri"],
            "fields": [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else [],
            "createdAt": _iso(d["created_at"]),
            "updatedAt": _iso(d["updated_at"]),
            "lastModifiedAt": _iso(d["last_event_time"]),
        }
        if facets:
            data["facets"] = d["facets"]
        graph.append(
            {
                "id": node,
                "type": "DATASET",
                "data": data,
                "inEdges": in_edges.get(node, []),
                "outEdges": out_edges.get(node, []),
            }
        )
    for pk, j in sorted(jobs.items(), key=lambda item: job_ids[item[0]]):
        node = job_ids[pk]
        run = runs.get(j["latest_run_id"] or 0)
        latest = None
        if run is not None:
            started, ended = run["started_at"], run["ended_at"]
            latest = {
                "id": str(run["uuid"]),
                "state": run["state"],
                "startedAt": _iso(started),
                "endedAt": _iso(ended),
                "durationMs": int((ended - started).total_seconds() * 1000) if started and ended else None,
                "nominalStartTime": _iso(run["nominal_start_time"]),
                "nominalEndTime": _iso(run["nominal_end_time"]),
            }
        data = {
            "id": {"namespace": j["namespace__name"], "name": j["name"]},
            "type": j["processing_type"] if isinstance(j["processing_type"], str) and j["processing_type"] else "BATCH",
            "name": j["name"],
            "namespace": j["namespace__name"],
            "inputs": job_io[pk][0],
            "outputs": job_io[pk][1],
            "latestRun": latest,
            "createdAt": _iso(j["created_at"]),
            "updatedAt": _iso(j["updated_at"]),
        }
        if facets:
            data["facets"] = j["facets"]
        graph.append(
            {
                "id": node,
                "type": "JOB",
                "data": data,
                "inEdges": in_edges.get(node, []),
                "outEdges": out_edges.get(node, []),
            }
        )
    return {"graph": graph, "truncated": hood.truncated}


def lineage(node_id: str, depth: int, actor: Actor, *, facets: bool = False) -> dict[str, Any]:
    visible = visible_namespace_ids(actor)
    start = resolve_node(node_id, actor)
    return render_graph(neighbourhood(start, depth, visible), facets=facets)


def walk_datasets(
    start: Iterable[int], direction: str, visible: set[int] | None, max_hops: int = MAX_DEPTH
) -> tuple[set[int], set[int]]:
    """Datasets (and the jobs between them) reachable downstream (``out``) or upstream (``in``)."""
    seen_datasets = set(start)
    seen_jobs: set[int] = set()
    frontier = set(seen_datasets)
    # Downstream: dataset —(read by)→ job —(writes)→ dataset. Upstream the other way round.
    first, second = (Direction.INPUT, Direction.OUTPUT) if direction == "out" else (Direction.OUTPUT, Direction.INPUT)
    for _ in range(max_hops):
        if not frontier:
            break
        jobs: set[int] = set()
        for chunk in _chunks(frontier):
            query = JobEdge.objects.filter(dataset_id__in=chunk, direction=first)
            if visible is not None:
                query = query.filter(job__namespace_id__in=visible)
            jobs.update(query.values_list("job_id", flat=True))
        jobs -= seen_jobs
        seen_jobs |= jobs
        found: set[int] = set()
        for chunk in _chunks(jobs):
            query = JobEdge.objects.filter(job_id__in=chunk, direction=second)
            if visible is not None:
                query = query.filter(dataset__namespace_id__in=visible)
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
