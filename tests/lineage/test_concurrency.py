"""Many producers at once: 32 HTTP clients post run events that share datasets, jobs and duplicates.

Every acknowledged event must be stored exactly once, every run must end COMPLETED, and the
server must never answer 5xx (a 503 "store busy" counts as a failure here: it means a producer
had to retry) nor hang.

On PostgreSQL the clients post 5,000 events (about 100 s here). SQLite has one writer at a time and
would need about 90 s for them; it posts 1,000 (the same mix, scaled down; about 17 s), still
plenty for 32 clients to contend.

SQLite needs IMMEDIATE transactions for this (config/settings.py sets them, a7d471b): with
Django's deferred default about 75 % of the posts got 503, because an ingest transaction starts as
a reader and SQLite refuses the later upgrade to writer at once, without the busy timeout.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.db import connection

from lineage.ingest import content_key
from lineage.models import RawEvent, Run, RunState
from tests.conftest import Personas

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 32
JOIN_TIMEOUT_S = 600
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/custom"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SCHEMA_FACET = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
COLUMN_FACET = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
)
# Few datasets and jobs for many runs, so that concurrent events upsert the same rows.
INPUTS = [("s3://conc-raw", f"tickets/part-{i}.csv") for i in range(6)]
OUTPUTS = [("s3://conc-clean", f"tickets_clean_{i}.parquet") for i in range(8)]
JOBS = [f"etl.clean_tickets_{i}" for i in range(12)]
FIELDS = ["id", "created_at", "channel", "body", "category", "resolution"]
DUPLICATE_EVERY = 24  # every 24th event is posted twice


def total_posts() -> int:
    return 5_000 if connection.vendor == "postgresql" else 1_000


def schema(fields: list[str]) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": SCHEMA_FACET,
        "fields": [{"name": f, "type": "VARCHAR"} for f in fields],
    }


def dataset(ref: tuple[str, str], facets: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": ref[0], "name": ref[1], "facets": facets}


def run_events(index: int, rng: random.Random) -> list[dict[str, Any]]:
    """START (inputs) and COMPLETE (inputs, output with schema and column lineage) of one run."""
    run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    job = rng.choice(JOBS)
    sources = rng.sample(INPUTS, 2)
    target = rng.choice(OUTPUTS)
    start = datetime(2026, 11, 20, 8, tzinfo=UTC) + timedelta(seconds=index)
    # Schemas vary a little between runs, so facet merging on the shared datasets really competes.
    inputs = [dataset(ref, {"schema": schema(FIELDS[: 4 + rng.randrange(3)])}) for ref in sources]
    columns = {
        field: {"inputFields": [{"namespace": sources[n % 2][0], "name": sources[n % 2][1], "field": field}]}
        for n, field in enumerate(FIELDS[:4])
    }
    output = dataset(
        target,
        {
            "schema": schema(FIELDS[:4]),
            "columnLineage": {"_producer": PRODUCER, "_schemaURL": COLUMN_FACET, "fields": columns},
        },
    )

    def event(event_type: str, when: datetime, outputs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "eventType": event_type,
            "eventTime": when.isoformat().replace("+00:00", "Z"),
            "run": {"runId": run_id, "facets": {}},
            "job": {"namespace": "conc-pipelines", "name": job, "facets": {}},
            "inputs": inputs,
            "outputs": outputs,
            "producer": PRODUCER,
            "schemaURL": SCHEMA,
        }

    return [event("START", start, []), event("COMPLETE", start + timedelta(seconds=30), [output])]


def workload(posts: int) -> tuple[list[dict[str, Any]], int, int]:
    """The shuffled posts (COMPLETE may come before START), the distinct events and the runs."""
    rng = random.Random(20261120)
    distinct_wanted = posts - posts // DUPLICATE_EVERY
    runs = distinct_wanted // 2
    events = [e for i in range(runs) for e in run_events(i, rng)]
    duplicates = events[::DUPLICATE_EVERY]
    sent = events + duplicates
    rng.shuffle(sent)
    return sent, len(events), runs


def test_32_concurrent_producers_lose_no_event_and_every_run_completes(live_server: Any, personas: Personas) -> None:
    sent, distinct, runs = workload(total_posts())
    todo: queue.Queue[dict[str, Any]] = queue.Queue()
    for event in sent:
        todo.put(event)
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    acknowledged: set[str] = set()

    def client() -> None:
        with requests.Session() as session:
            session.headers.update({"Authorization": f"Bearer {personas.write_token}"})
            while True:
                try:
                    event = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = session.post(
                        f"{live_server.url}/api/v1/lineage",
                        data=json.dumps(event),
                        headers={"Content-Type": "application/json"},
                        timeout=120,
                    )
                except requests.RequestException as exc:
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    statuses[response.status_code] += 1
                    if 200 <= response.status_code < 300:
                        acknowledged.add(content_key(event))
                    else:
                        failures.append(f"{response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=client, name=f"producer-{n}", daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    hung = [t.name for t in threads if t.is_alive()]

    assert not hung, f"clients still waiting after {JOIN_TIMEOUT_S} s (deadlock?): {hung}"
    assert not failures, f"{len(failures)} failed posts, statuses {dict(statuses)}; first: {failures[:5]}"
    assert sum(statuses.values()) == len(sent)
    stored = set(RawEvent.objects.values_list("content_key", flat=True))
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events are not stored"
    assert len(acknowledged) == distinct
    assert RawEvent.objects.count() == distinct
    assert Run.objects.count() == runs
    states = Counter(Run.objects.values_list("state", flat=True))
    assert states == {RunState.COMPLETED: runs}, states
