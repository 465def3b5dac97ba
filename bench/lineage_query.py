#!/usr/bin/env python
"""Benchmark: depth-20 lineage queries on a store of 100,000 jobs, 200,000 datasets, 1,000,000 events.

Run with no arguments (``.venv/bin/python bench/lineage_query.py``). It needs a PostgreSQL server
on 127.0.0.1:5432 (user ``postgres``; override with BENCH_PG_URL), builds a fresh database
``custodia_bench_lineage_query`` there, migrates it and bulk-loads the lineage tables with COPY:

* 5,000 pipelines of 20 chained jobs (100,000 jobs), each job reading the previous job's output
  and writing the next one; side tables give fan-out (a job writes a second table) and fan-in
  (a job three steps later reads it); 40 datasets per pipeline (200,000);
* cross-pipeline links: a pipeline's first job may read another pipeline's final table, and a few
  jobs read shared dimension tables (``s3://shared-dims``), so a mid-pipeline walk leaves its own
  pipeline;
* one namespace in ten belongs to another team: the visibility filter must stop the walk there;
* 500,000 runs (5 per job) and their 1,000,000 raw START/COMPLETE events.

Then ANALYZE, and ``GET /api/v1/lineage?nodeId=…&depth=20`` through Django's test client as a
contributor of the team (not an administrator, so the namespace filter runs) from 50 random
mid-pipeline datasets and jobs.

What the figures measure: ``lineage_query_p50_ms``/``_p95_ms`` are the API as a client gets it by
default, which stops at the 1,000 nodes nearest to the start (``truncated: true`` and a ``detail``
saying how to get more; ``lineage_query_truncated`` counts those queries). The same 50 queries
with ``maxNodes=5000`` (the most the API allows; no query here reaches it) give
``lineage_query_uncapped_*``: the whole depth-20 graph, up to 2,900 nodes.

The baseline, in the same run, is the same breadth-first walk (both directions, the same
visibility filter) as one recursive CTE in raw SQL, without rendering and without a node limit.
Every result is printed as ``figure <name> <value> <unit>``.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reporting import figure, note, percentile  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "custodia_bench_lineage_query"
PIPELINES = 5_000
JOBS_PER_PIPELINE = 20
DATASETS_PER_PIPELINE = 40  # 21 chain tables + 19 side tables
RUNS_PER_JOB = 5  # × START + COMPLETE = 1,000,000 raw events
NAMESPACES = 10  # job and dataset namespaces each; the last belongs to another team
SHARED_DIMS = 2_000
CROSS_LINK = 1.0  # a pipeline's first job reads another pipeline's final table (this often)
SHARED_READ = 0.02  # chance that a job reads a shared dimension table
DEPTH = 20
QUERIES = 50
WARMUP = 3
SEED = 20261123
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def configure(tmp: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
            "CUSTODIA_VAR_DIR": str(tmp),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "q8Vz3kLm0pR7sT2wX5yB" * 3,
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "error",
        }
    )


# -- COPY ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_rows(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY rows (by field attname) into the model's table; every concrete column must be given."""
    from django.db import connection

    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_text(row[n]) for n in names))
                buffer.write("\n")
                count += 1
                if count % 20_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
            f"(SELECT max(id) FROM {model._meta.db_table}))"
        )
    return count


# -- the graph -------------------------------------------------------------------------------


def dataset_pk(pipeline: int, slot: int) -> int:
    return pipeline * DATASETS_PER_PIPELINE + slot + 1


def job_pk(pipeline: int, step: int) -> int:
    return pipeline * JOBS_PER_PIPELINE + step + 1


def shared_pk(n: int) -> int:
    return PIPELINES * DATASETS_PER_PIPELINE + n + 1


def edges(rng: random.Random) -> Iterator[tuple[int, int, str]]:
    """(job, dataset, direction): chains, side tables (fan-out, fan-in), cross-pipeline links."""
    for p in range(PIPELINES):
        for step in range(JOBS_PER_PIPELINE):
            job = job_pk(p, step)
            yield job, dataset_pk(p, step), "in"
            yield job, dataset_pk(p, step + 1), "out"
            if step < JOBS_PER_PIPELINE - 1:
                yield job, dataset_pk(p, 21 + step), "out"  # side table
            if step >= 3:
                yield job, dataset_pk(p, 21 + step - 3), "in"  # read three steps later
            if rng.random() < SHARED_READ:
                yield job, shared_pk(rng.randrange(SHARED_DIMS)), "in"
        if rng.random() < CROSS_LINK:
            yield job_pk(p, 0), dataset_pk(rng.randrange(PIPELINES), JOBS_PER_PIPELINE), "in"


def load(rng: random.Random) -> Any:
    from django.contrib.auth.models import User

    from access.actors import Actor
    from access.choices import Role
    from access.services import do_create_team, do_set_membership, do_set_role
    from lineage.models import Job, JobEdge, LineageDataset, Namespace, RawEvent, Run, dataset_uri

    system = Actor.for_system("bench")
    team = do_create_team(actor=system, slug="bench", name="Bench pipelines")
    other = do_create_team(actor=system, slug="others", name="Another team")
    user = User.objects.create_user("bench-contributor")
    do_set_role(actor=system, user=user, role=Role.CONTRIBUTOR)
    do_set_membership(actor=system, team=team, user=user, member=True)

    now = datetime(2026, 11, 23, tzinfo=UTC)
    job_ns = [f"airflow-team-{k}" for k in range(NAMESPACES)]
    data_ns = [f"postgres://warehouse-{k}.internal:5432" for k in range(NAMESPACES)] + ["s3://shared-dims"]
    namespaces = job_ns + data_ns
    ns_pk = {name: i + 1 for i, name in enumerate(namespaces)}
    foreign = {job_ns[-1], data_ns[NAMESPACES - 1]}
    copy_rows(
        Namespace,
        (
            {
                "id": ns_pk[name],
                "name": name,
                "owner_team_id": (other if name in foreign else team).pk,
                "description": "",
                "created_at": now,
            }
            for name in namespaces
        ),
    )
    schema = json.dumps(
        {
            "schema": {
                "_producer": "bench",
                "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
                "fields": [{"name": f"col_{n}", "type": "VARCHAR"} for n in range(8)],
            }
        }
    )

    def datasets() -> Iterator[dict[str, Any]]:
        for p in range(PIPELINES):
            ns = data_ns[p % NAMESPACES]
            for slot in range(DATASETS_PER_PIPELINE):
                kind = "stage" if slot <= JOBS_PER_PIPELINE else "side"
                name = f"pipeline_{p:05d}.{kind}_{slot:02d}"
                yield dataset_row(dataset_pk(p, slot), ns, name)
        for n in range(SHARED_DIMS):
            yield dataset_row(shared_pk(n), "s3://shared-dims", f"dimensions/dim_{n:04d}.parquet")

    namespace_of_dataset: dict[int, int] = {}

    def dataset_row(pk: int, ns: str, name: str) -> dict[str, Any]:
        namespace_of_dataset[pk] = ns_pk[ns]
        return {
            "id": pk,
            "facets": schema,
            "facet_times": "{}",
            "created_at": now,
            "updated_at": now,
            "last_event_time": now,
            "namespace_id": ns_pk[ns],
            "name": name,
            "uri": dataset_uri(ns, name),
        }

    started = time.perf_counter()
    copy_rows(LineageDataset, datasets())
    job_facets = json.dumps(
        {"jobType": {"_producer": "bench", "_schemaURL": "x", "processingType": "BATCH", "integration": "AIRFLOW"}}
    )

    def job_name(p: int, step: int) -> str:
        return f"pipeline_{p:05d}.task_{step:02d}"

    copy_rows(
        Job,
        (
            {
                "id": job_pk(p, step),
                "facets": job_facets,
                "facet_times": "{}",
                "created_at": now,
                "updated_at": now,
                "last_event_time": now,
                "namespace_id": ns_pk[job_ns[p % NAMESPACES]],
                "name": job_name(p, step),
            }
            for p in range(PIPELINES)
            for step in range(JOBS_PER_PIPELINE)
        ),
    )
    seen: set[tuple[int, int, str]] = set()
    edge_rows = []
    for edge in edges(rng):
        if edge not in seen:
            seen.add(edge)
            edge_rows.append(edge)
    copy_rows(
        JobEdge,
        (
            {
                "id": i + 1,
                "job_id": j,
                "dataset_id": d,
                "direction": direction,
                "first_event_time": now,
                "job_namespace_id": ns_pk[job_ns[((j - 1) // JOBS_PER_PIPELINE) % NAMESPACES]],
                "dataset_namespace_id": namespace_of_dataset[d],
            }
            for i, (j, d, direction) in enumerate(edge_rows)
        ),
    )
    note(f"graph loaded in {time.perf_counter() - started:.0f} s: {len(edge_rows)} edges")

    started = time.perf_counter()
    run_ids = [
        uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(PIPELINES * JOBS_PER_PIPELINE * RUNS_PER_JOB)
    ]

    def runs() -> Iterator[dict[str, Any]]:
        for n, run_id in enumerate(run_ids):
            job, k = divmod(n, RUNS_PER_JOB)
            begin = T0 + timedelta(days=k, seconds=job % 86_400)
            yield {
                "id": n + 1,
                "facets": "{}",
                "facet_times": "{}",
                "created_at": begin,
                "updated_at": begin,
                "last_event_time": begin + timedelta(minutes=5),
                "uuid": run_id,
                "original_id": "",
                "job_id": job + 1,
                "parent_id": None,
                "state": "COMPLETED",
                "state_time": begin + timedelta(minutes=5),
                "started_at": begin,
                "ended_at": begin + timedelta(minutes=5),
                "nominal_start_time": None,
                "nominal_end_time": None,
            }

    copy_rows(Run, runs())

    def raw_events() -> Iterator[dict[str, Any]]:
        pk = 0
        for n, run_id in enumerate(run_ids):
            job, k = divmod(n, RUNS_PER_JOB)
            p, step = divmod(job, JOBS_PER_PIPELINE)
            ns = job_ns[p % NAMESPACES]
            begin = T0 + timedelta(days=k, seconds=job % 86_400)
            for event_type, when in (("START", begin), ("COMPLETE", begin + timedelta(minutes=5))):
                pk += 1
                payload = (
                    f'{{"eventType":"{event_type}","eventTime":"{when.isoformat()}","run":{{"runId":"{run_id}"}},'
                    f'"job":{{"namespace":"{ns}","name":"{job_name(p, step)}"}},"inputs":[],"outputs":[],'
                    '"producer":"bench","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}'
                )
                yield {
                    "id": pk,
                    "content_key": f"{pk:064x}",
                    "kind": "run",
                    "event_type": event_type,
                    "event_time": when,
                    "received_at": when,
                    "namespace_id": ns_pk[ns],
                    "job_name": job_name(p, step),
                    "dataset_name": "",
                    "run_uuid": run_id,
                    "producer": "bench",
                    "schema_url": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                    "spec_version": "2-0-2",
                    "payload": payload,
                    "warnings": "[]",
                    "token_id": None,
                    "user_id": None,
                }

    events = copy_rows(RawEvent, raw_events())
    note(f"{len(run_ids)} runs and {events} raw events loaded in {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    visible_ns = sorted(ns_pk[n] for n in namespaces if n not in foreign)
    return user, visible_ns, job_ns, data_ns


CTE = """
WITH RECURSIVE walk(kind, id, hops) AS (
    SELECT %(kind)s::text, %(start)s::bigint, 0
  UNION
    SELECT step.kind, step.id, step.hops
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT 'job'::text AS kind, e.job_id AS id, w.hops + 1 AS hops
        FROM lineage_jobedge e JOIN lineage_job j ON j.id = e.job_id
        WHERE w.kind = 'dataset' AND e.dataset_id = w.id AND w.hops < %(depth)s
          AND j.namespace_id = ANY(%(visible)s)
      UNION ALL
        SELECT 'dataset'::text, e.dataset_id, w.hops
        FROM lineage_jobedge e JOIN lineage_lineagedataset d ON d.id = e.dataset_id
        WHERE w.kind = 'job' AND e.job_id = w.id AND d.namespace_id = ANY(%(visible)s)
    ) step
)
SELECT count(DISTINCT (kind, id)) FROM walk
"""


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="custodia-bench-lineage-query-"))
    (tmp / "staticfiles").mkdir()  # WhiteNoise warns without it
    configure(tmp)
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", f"CREATE DATABASE {DB_NAME}")
    began = time.perf_counter()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import setup_test_environment

        setup_test_environment()
        # The server's own start-up path (config/wsgi.py), GC tuning included, as gunicorn runs it.
        importlib.import_module("config.wsgi")
        call_command("migrate", verbosity=0)
        rng = random.Random(SEED)
        user, visible, job_ns, data_ns = load(rng)
        figure("lineage_query_load_s", time.perf_counter() - began, "s")

        starts: list[tuple[str, int, str]] = []
        while len(starts) < QUERIES:
            p = rng.randrange(PIPELINES)
            if p % NAMESPACES == NAMESPACES - 1:
                continue  # another team's pipeline: a 404 for this user
            step = rng.randrange(8, 13)
            if rng.random() < 0.5:
                starts.append(
                    ("job", job_pk(p, step), f"job:{job_ns[p % NAMESPACES]}:pipeline_{p:05d}.task_{step:02d}")
                )
            else:
                ns = data_ns[p % NAMESPACES]
                starts.append(("dataset", dataset_pk(p, step), f"dataset:{ns}:pipeline_{p:05d}.stage_{step:02d}"))

        client = Client()
        client.force_login(user)

        def measure(extra: dict[str, Any]) -> tuple[list[float], list[int], int] | None:
            timings, sizes, truncated = [], [], 0
            for n, (_kind, _pk, node) in enumerate(starts[:WARMUP] + starts):
                url = f"/api/v1/lineage?{urlencode({'nodeId': node, 'depth': DEPTH, **extra})}"
                t = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t) * 1000
                if response.status_code != 200:
                    note(f"{url} answered {response.status_code}")
                    return None
                if n >= WARMUP:
                    body = response.json()
                    timings.append(elapsed)
                    sizes.append(len(body["graph"]))
                    truncated += bool(body.get("truncated"))
            return timings, sizes, truncated

        default = measure({})
        uncapped = measure({"maxNodes": 5000})
        if default is None or uncapped is None:
            return 1
        timings, sizes, truncated = default

        cte_timings, cte_sizes = [], []
        with connection.cursor() as cursor:
            for n, (kind, pk, _node) in enumerate(starts[:WARMUP] + starts):
                t = time.perf_counter()
                cursor.execute(CTE, {"kind": kind, "start": pk, "depth": DEPTH, "visible": visible})
                size = cursor.fetchone()[0]
                if n >= WARMUP:
                    cte_timings.append((time.perf_counter() - t) * 1000)
                    cte_sizes.append(size)

        figure("lineage_query_p50_ms", statistics.median(timings), "ms")
        figure("lineage_query_p95_ms", percentile(timings, 95), "ms")
        figure("lineage_query_mean_nodes", statistics.mean(sizes), "nodes")
        figure("lineage_query_max_nodes", max(sizes), "nodes")
        figure("lineage_query_truncated", truncated, "queries")
        figure("lineage_query_uncapped_p50_ms", statistics.median(uncapped[0]), "ms")
        figure("lineage_query_uncapped_p95_ms", percentile(uncapped[0], 95), "ms")
        figure("lineage_query_uncapped_max_nodes", max(uncapped[1]), "nodes")
        figure("lineage_query_uncapped_truncated", uncapped[2], "queries")
        figure("lineage_query_cte_baseline_p50_ms", statistics.median(cte_timings), "ms")
        figure("lineage_query_cte_baseline_p95_ms", percentile(cte_timings, 95), "ms")
        figure("lineage_query_cte_baseline_mean_nodes", statistics.mean(cte_sizes), "nodes")
        figure("lineage_query_p95_ratio_to_cte_baseline", percentile(timings, 95) / percentile(cte_timings, 95), "x")
        figure(
            "lineage_query_uncapped_p95_ratio_to_cte_baseline",
            percentile(uncapped[0], 95) / percentile(cte_timings, 95),
            "x",
        )
        figure("lineage_query_total_s", time.perf_counter() - began, "s")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
