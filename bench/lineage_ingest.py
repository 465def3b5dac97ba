#!/usr/bin/env python
"""Benchmark: sustained OpenLineage ingestion over HTTP through gunicorn on PostgreSQL.

Run with no arguments (``.venv/bin/python bench/lineage_ingest.py``). It needs a PostgreSQL server
on 127.0.0.1:5432 (user ``postgres``; override with BENCH_PG_URL) and builds a fresh database
``custodia_bench_lineage`` there, dropped at the end. Then:

* migrates it, creates a team, a contributor and a write-scope API token;
* starts gunicorn serving ``config.wsgi`` (production settings: DEBUG off, persistent database
  connections as in docker-compose.yml), 2 × cores workers;
* generates realistic ~5 KB run events (START + COMPLETE per run; a 20-field schema facet, a
  columnLineage facet, two inputs, one output, a parent facet) over a few hundred jobs and
  datasets, so rows are shared between concurrent requests as in a real deployment;
* posts them from CLIENTS concurrent threads, one keep-alive connection each, after a warm-up,
  twice: in batches of BATCH events to ``POST /api/v1/lineage/batch`` (the headline figures
  ``lineage_ingest_events_per_s``, ``lineage_ingest_p50_ms``, ``lineage_ingest_p99_ms``), then one
  event per ``POST /api/v1/lineage`` (``lineage_ingest_single_*``). Sustained events/s over the
  timed part; latency is client-side per request, so in batch mode it is the time until the
  event's whole batch is acknowledged (every event of a batch is stored in one transaction).

Batches: openlineage-python (1.54) has no batch HTTP transport — its HTTP transports post one
event per request. Batches come from relays and collectors (a Kafka or file transport drained by a
forwarder, Airflow's listener queue, a backfill). 10 events per batch by default (BENCH_BATCH
changes it): at 50 the throughput is the same here (~330 against ~310 events/s, CPU-bound) but
each batch holds its row locks five times longer, and the p99 grew from 0.5 s to 3.6 s.

Then latency below saturation, open loop: new batches offered at half the batch throughput just
measured, each timed from when it was due (``lineage_ingest_paced_*``).

Where the CPU goes, from /proc around each phase: milliseconds per event in the server
(gunicorn and its workers), in PostgreSQL (every postgres process on the machine) and in this
client, and the share of the machine's cores all of them kept busy (``lineage_ingest_*_cpu_*``).

The raw limits, in the same run: the same events, the same number of threads, straight into a
plain PostgreSQL table with a jsonb column via psycopg — one INSERT per transaction for the
single-event figures, one multi-row INSERT per batch for the batch figures.
Every result is printed as ``figure <name> <value> <unit>``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reporting import figure, note, percentile  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "custodia_bench_lineage"
CLIENTS = 8  # concurrent producers, each with its own keep-alive connection
EVENTS = 6_000  # timed events (START + COMPLETE of 3,000 runs)
BATCH = int(os.environ.get("BENCH_BATCH", "10"))
WARMUP_EVENTS = 400
PACED_EVENTS = 3_000  # offered at PACED_SHARE of the measured batch throughput
PACED_SHARE = 0.5
JOBS = 300
DATASETS = 600
FIELDS = 20
# gthread (2 threads per worker) beats sync on this 2-core machine: 105 events/s, p99 152 ms
# against 52 events/s, p99 900 ms for 4 sync workers (same run otherwise; sync workers cannot keep
# connections alive and queue behind one slow request). GUNICORN_WORKER_CLASS=sync re-runs it.
WORKER_CLASS = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
THREADS_PER_WORKER = 2
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/airflow"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET = "https://openlineage.io/spec/facets"
COLUMN_LINEAGE_URL = f"{FACET}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def server_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
            "DATABASE_CONN_MAX_AGE": "60",  # as docker-compose.yml runs it
            "CUSTODIA_VAR_DIR": str(tmp),
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "q8Vz3kLm0pR7sT2wX5yB" * 3,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "error",
        }
    )
    return env


def prepare_database(env: dict[str, str]) -> str:
    """Migrate the fresh database and return a write-scope token key for a new team."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections

    from access.actors import Actor
    from access.choices import Role, TokenScope
    from access.services import do_create_api_token, do_create_team, do_set_membership, do_set_role

    call_command("migrate", verbosity=0)
    system = Actor.for_system("bench")
    team = do_create_team(actor=system, slug="bench", name="Bench pipelines")
    user = User.objects.create_user("bench-pipeline")
    do_set_role(actor=system, user=user, role=Role.CONTRIBUTOR)
    do_set_membership(actor=system, team=team, user=user, member=True)
    token = do_create_api_token(actor=Actor(user=user), team=team, name="bench", scope=TokenScope.WRITE)
    connections.close_all()
    return token.key


# -- events ----------------------------------------------------------------------------------


def schema_facet(table: int, fields: int = FIELDS) -> dict[str, Any]:
    types = ["BIGINT", "VARCHAR", "TIMESTAMP", "DOUBLE", "BOOLEAN"]
    return {
        "_producer": PRODUCER,
        "_schemaURL": f"{FACET}/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
        "fields": [{"name": f"column_{n:02d}", "type": types[(table + n) % len(types)]} for n in range(fields)],
    }


def dataset_ref(n: int) -> tuple[str, str]:
    return (f"postgres://warehouse-{n % 3}.internal:5432", f"analytics.schema_{n % 20}.table_{n:04d}")


def run_events(index: int, rng: random.Random) -> list[bytes]:
    """START and COMPLETE of one run of a job reading two tables and writing a third."""
    job = rng.randrange(JOBS)
    inputs = [dataset_ref(n) for n in rng.sample(range(DATASETS), 2)]
    output = dataset_ref((job * 2) % DATASETS)
    run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    parent_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    start = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=index * 7)
    columns = {
        f"column_{n:02d}": {
            "inputFields": [
                {
                    "namespace": inputs[n % 2][0],
                    "name": inputs[n % 2][1],
                    "field": f"column_{n:02d}",
                    "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}],
                }
            ]
        }
        for n in range(10)
    }
    run_facets = {
        "parent": {
            "_producer": PRODUCER,
            "_schemaURL": f"{FACET}/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
            "run": {"runId": parent_id},
            "job": {"namespace": "airflow-prod", "name": f"dag_{job // 10:03d}"},
        },
        "nominalTime": {
            "_producer": PRODUCER,
            "_schemaURL": f"{FACET}/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
            "nominalStartTime": start.isoformat(),
        },
    }

    def event(event_type: str, when: datetime, with_output: bool) -> bytes:
        outputs = []
        if with_output:
            outputs = [
                {
                    "namespace": output[0],
                    "name": output[1],
                    "facets": {
                        "schema": schema_facet(job),
                        "columnLineage": {
                            "_producer": PRODUCER,
                            "_schemaURL": COLUMN_LINEAGE_URL,
                            "fields": columns,
                        },
                    },
                    "outputFacets": {
                        "outputStatistics": {
                            "_producer": PRODUCER,
                            "_schemaURL": f"{FACET}/1-0-2/OutputStatisticsOutputDatasetFacet.json",
                            "rowCount": rng.randrange(10**6),
                        }
                    },
                }
            ]
        payload = {
            "eventType": event_type,
            "eventTime": when.isoformat(),
            "run": {"runId": run_id, "facets": run_facets},
            "job": {"namespace": "airflow-prod", "name": f"dag_{job // 10:03d}.task_{job:04d}", "facets": {}},
            "inputs": [
                {"namespace": ns, "name": name, "facets": {"schema": schema_facet(n, 12)}}
                for n, (ns, name) in enumerate(inputs)
            ],
            "outputs": outputs,
            "producer": PRODUCER,
            "schemaURL": SCHEMA_URL,
        }
        return json.dumps(payload).encode()

    return [event("START", start, False), event("COMPLETE", start + timedelta(seconds=90), True)]


def make_events(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [body for i in range((count + 1) // 2) for body in run_events(seed * 1_000_000 + i, rng)][:count]


# -- load --------------------------------------------------------------------------------------


def batches(events: list[bytes], size: int) -> list[bytes]:
    """JSON arrays of ``size`` events (the bodies of ``POST /api/v1/lineage/batch``)."""
    return [b"[" + b",".join(events[n : n + size]) + b"]" for n in range(0, len(events), size)]


def post_all(
    port: int, token: str, events: list[bytes], path: str = "/api/v1/lineage"
) -> tuple[float, list[float], dict[int, int]]:
    """Posts every body from CLIENTS threads; returns (seconds, latencies in ms, status counts).

    A batch answers 200 with a per-event summary: an event it did not store counts as status 207.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    shares = [events[n::CLIENTS] for n in range(CLIENTS)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        for body in share:
            began = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            mine.append((time.perf_counter() - began) * 1000)
            code = response.status
            if code == 200 and path.endswith("/batch") and json.loads(answer)["summary"]["failed"]:
                code = 207
            codes[code] = codes.get(code, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, statuses


def post_paced(port: int, token: str, bodies: list[bytes], per_second: float, path: str) -> list[float]:
    """Open loop: body n is due at n / per_second; latency runs from when it was due until acknowledged.

    Measuring from the due time, not the send time, counts the wait of a request that a slow
    one held up (no coordinated omission). Returns the latencies in ms (status >= 300 raises).
    """
    latencies: list[float] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    began = time.perf_counter() + 0.2

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for n in range(offset, len(bodies), CLIENTS):
            due = began + n / per_second
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            conn.request("POST", path, body=bodies[n], headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 300:
                raise RuntimeError(f"paced post answered {response.status}")
            mine.append((time.perf_counter() - due) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def raw_insert(events: list[bytes], batch: int = 1) -> float:
    """The same events, the same concurrency, one INSERT (of ``batch`` rows) per transaction into a jsonb table."""
    import psycopg

    url = f"{PG_URL}/{DB_NAME}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw_event (id bigserial PRIMARY KEY, "
            "received_at timestamptz NOT NULL DEFAULT now(), payload jsonb NOT NULL)"
        )
    groups = [events[n : n + batch] for n in range(0, len(events), batch)]
    shares = [groups[n::CLIENTS] for n in range(CLIENTS)]

    def client(share: list[list[bytes]]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for group in share:
                rows = ", ".join(["(%s::jsonb)"] * len(group))
                conn.execute(
                    f"INSERT INTO bench_raw_event (payload) VALUES {rows}",  # type: ignore[arg-type]
                    [body.decode() for body in group],
                )

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the server (gunicorn and its workers), by every
    PostgreSQL process on the machine, and by this client process, read from /proc.

    A process's time includes that of its children that have exited (the postmaster's holds the
    backends of closed connections). Differences over a phase say where each event's CPU goes;
    empty where there is no /proc.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgres": 0.0, "client": time.process_time()}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, parent, cpu = int(entry.name), int(fields[1]), sum(int(fields[n]) for n in (11, 12, 13, 14)) / tick
        if pid == server_pid or parent == server_pid:
            used["server"] += cpu
        elif name.startswith("postgres"):
            used["postgres"] += cpu
    return used


def cpu_figures(prefix: str, before: dict[str, float], after: dict[str, float], events: int, seconds: float) -> None:
    """Per event, the CPU milliseconds of the server, PostgreSQL and the client, and how busy the cores were."""
    if not before or not after:
        return
    spent = {role: after[role] - before[role] for role in before}
    for role in ("server", "postgres", "client"):
        figure(f"{prefix}_{role}_cpu_ms_per_event", spent[role] * 1000 / events, "ms")
    figure(f"{prefix}_cpu_busy_share", sum(spent.values()) / (seconds * (os.cpu_count() or 1)), "x")


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    workers = 2 * (os.cpu_count() or 1)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        WORKER_CLASS,
        "--log-level",
        "warning",
    ]
    if WORKER_CLASS == "gthread":
        command += ["--threads", str(THREADS_PER_WORKER)]
    note(
        f"gunicorn: {workers} {WORKER_CLASS} workers"
        + (f" × {THREADS_PER_WORKER} threads" if WORKER_CLASS == "gthread" else "")
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited before serving") from None
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start within 60 s")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="custodia-bench-lineage-"))
    (tmp / "staticfiles").mkdir()  # WhiteNoise warns on every worker start without it
    env = server_env(tmp)
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", f"CREATE DATABASE {DB_NAME}")
    server = None
    try:
        token = prepare_database(env)
        warmup = make_events(WARMUP_EVENTS, seed=1)
        events = make_events(EVENTS, seed=2)
        size = statistics.mean(len(e) for e in events) / 1024
        note(f"{len(events)} timed events, mean {size:.1f} KB, {CLIENTS} clients")
        batched = make_events(EVENTS, seed=3)  # other runs: the batch phase stores new events
        port = free_port()
        server = start_gunicorn(env, port)
        post_all(port, token, warmup)
        note(f"batch phase: {BATCH} events per POST /api/v1/lineage/batch")
        batch_cpu_before = cpu_seconds(server.pid)
        batch_seconds, batch_latencies, batch_statuses = post_all(
            port, token, batches(batched, BATCH), "/api/v1/lineage/batch"
        )
        batch_cpu_after = cpu_seconds(server.pid)
        note("single phase: one event per POST /api/v1/lineage")
        single_cpu_before = cpu_seconds(server.pid)
        seconds, latencies, statuses = post_all(port, token, events)
        single_cpu_after = cpu_seconds(server.pid)
        failed = sum(n for code, n in [*statuses.items(), *batch_statuses.items()] if code >= 300)
        note(f"statuses: single {dict(sorted(statuses.items()))}, batch {dict(sorted(batch_statuses.items()))}")
        # Latency below saturation: the closed loop above keeps CLIENTS requests in flight, so its
        # latency is mostly queueing (in-flight events / throughput). Here batches are offered at
        # PACED_SHARE of the sustained rate just measured.
        paced_rate = PACED_SHARE * len(batched) / batch_seconds
        paced = batches(make_events(PACED_EVENTS, seed=4), BATCH)
        paced_latencies = post_paced(port, token, paced, paced_rate / BATCH, "/api/v1/lineage/batch")
        server.terminate()
        server.wait(30)
        server = None
        raw_seconds = raw_insert(events)
        raw_batch_seconds = raw_insert(batched, BATCH)

        rate, batch_rate = len(events) / seconds, len(batched) / batch_seconds
        raw_rate, raw_batch_rate = len(events) / raw_seconds, len(batched) / raw_batch_seconds
        figure("lineage_ingest_events_per_s", batch_rate, "events/s")
        figure("lineage_ingest_p50_ms", statistics.median(batch_latencies), "ms")
        figure("lineage_ingest_p99_ms", percentile(batch_latencies, 99), "ms")
        figure("lineage_ingest_raw_insert_events_per_s", raw_batch_rate, "events/s")
        figure("lineage_ingest_ratio_to_raw_insert", batch_rate / raw_batch_rate, "x")
        cpu_figures("lineage_ingest", batch_cpu_before, batch_cpu_after, len(batched), batch_seconds)
        figure("lineage_ingest_paced_events_per_s", paced_rate, "events/s")
        figure("lineage_ingest_paced_p50_ms", statistics.median(paced_latencies), "ms")
        figure("lineage_ingest_paced_p99_ms", percentile(paced_latencies, 99), "ms")
        figure("lineage_ingest_single_events_per_s", rate, "events/s")
        figure("lineage_ingest_single_p50_ms", statistics.median(latencies), "ms")
        figure("lineage_ingest_single_p99_ms", percentile(latencies, 99), "ms")
        figure("lineage_ingest_single_raw_insert_events_per_s", raw_rate, "events/s")
        figure("lineage_ingest_single_ratio_to_raw_insert", rate / raw_rate, "x")
        cpu_figures("lineage_ingest_single", single_cpu_before, single_cpu_after, len(events), seconds)
        if failed:
            note(f"{failed} posts were not acknowledged")
            return 1
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
