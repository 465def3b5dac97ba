"""OpenLineage ingestion over HTTP: auth, limits, duplicates, order independence, access, queries."""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import uuid
from typing import Any

import pytest
from django.test import override_settings

from access.actors import Actor
from lineage.ingest import ingest_event
from lineage.models import ColumnLineage, Job, JobEdge, LineageDataset, LineageDatasetVersion, RawEvent, Run, RunIO
from tests.conftest import Personas

pytestmark = pytest.mark.django_db

URL = "/api/v1/lineage"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/custom"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def schema_facet(*names: str) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
        "fields": [{"name": n, "type": "VARCHAR"} for n in names],
    }


def column_facet(mapping: dict[str, tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
        "fields": {
            out: {"inputFields": [{"namespace": ns, "name": name, "field": fld}]}
            for out, (ns, name, fld) in mapping.items()
        },
    }


def run_event(
    event_type: str,
    *,
    run_id: str,
    time: str,
    job: str = "etl.clean_tickets",
    namespace: str = "alpha-pipelines",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "run": {"runId": run_id, "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": inputs if inputs is not None else [],
        "outputs": outputs if outputs is not None else [],
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
    }


RAW = {"namespace": "s3://alpha-raw", "name": "tickets/2026.csv"}
CLEAN = {"namespace": "s3://alpha-clean", "name": "tickets_clean.parquet"}


def scenario(run_id: str) -> list[dict[str, Any]]:
    """START (inputs only), RUNNING (no datasets), COMPLETE (inputs, outputs, schema), OTHER after COMPLETE."""
    output = {**CLEAN, "facets": {"schema": schema_facet("id", "text")}}
    output_cols = {
        **CLEAN,
        "facets": {
            "schema": schema_facet("id", "text"),
            "columnLineage": column_facet({"text": (RAW["namespace"], RAW["name"], "body")}),
        },
    }
    return [
        run_event("START", run_id=run_id, time="2026-11-20T10:00:00Z", inputs=[RAW]),
        run_event("RUNNING", run_id=run_id, time="2026-11-20T10:01:00Z"),
        run_event("COMPLETE", run_id=run_id, time="2026-11-20T10:05:00Z", inputs=[RAW], outputs=[output_cols]),
        run_event("OTHER", run_id=run_id, time="2026-11-20T10:06:00Z", outputs=[output]),
    ]


def graph_state() -> dict[str, Any]:
    """Everything derived from events, without database ids or arrival times."""
    runs = [
        (str(r.uuid), r.state, r.started_at, r.ended_at, r.state_time, json.dumps(r.facets, sort_keys=True))
        for r in Run.objects.order_by("uuid")
    ]
    datasets = [
        (d.namespace.name, d.name, json.dumps(d.facets, sort_keys=True), d.last_event_time)
        for d in LineageDataset.objects.select_related("namespace").order_by("name")
    ]
    edges = sorted((e.job.name, e.dataset.name, e.direction) for e in JobEdge.objects.select_related("job", "dataset"))
    io = sorted((str(i.run.uuid), i.dataset.name, i.direction) for i in RunIO.objects.select_related("run", "dataset"))
    versions = sorted(
        (v.dataset.name, v.key, json.dumps(v.facets, sort_keys=True))
        for v in LineageDatasetVersion.objects.select_related("dataset")
    )
    columns = sorted(
        (c.output_dataset.name, c.output_field, c.input_dataset.name, c.input_field)
        for c in ColumnLineage.objects.select_related("output_dataset", "input_dataset")
    )
    jobs = [(j.name, json.dumps(j.facets, sort_keys=True)) for j in Job.objects.order_by("name")]
    return {
        "runs": runs,
        "datasets": datasets,
        "edges": edges,
        "io": io,
        "versions": versions,
        "columns": columns,
        "jobs": jobs,
    }


def post(client: Any, event: Any, **extra: Any) -> Any:
    return client.post(URL, data=json.dumps(event), content_type="application/json", **extra)


# -- authentication, limits and bad input ----------------------------------------------------


def test_a_valid_event_is_stored_and_builds_the_graph(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    run_id = str(uuid.uuid4())
    response = post(client, scenario(run_id)[2])
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "created"
    assert RawEvent.objects.count() == 1
    run = Run.objects.get(uuid=run_id)
    assert run.state == "COMPLETED"
    assert run.job.namespace.owner_team == personas.team
    graph = client.get(URL, {"nodeId": f"dataset:{RAW['namespace']}:{RAW['name']}", "depth": 5}).json()["graph"]
    ids = {node["id"] for node in graph}
    assert ids == {
        f"dataset:{RAW['namespace']}:{RAW['name']}",
        "job:alpha-pipelines:etl.clean_tickets",
        f"dataset:{CLEAN['namespace']}:{CLEAN['name']}",
    }
    job = next(n for n in graph if n["type"] == "JOB")
    assert job["inEdges"] == [{"origin": f"dataset:{RAW['namespace']}:{RAW['name']}", "destination": job["id"]}]
    assert job["outEdges"] == [{"origin": job["id"], "destination": f"dataset:{CLEAN['namespace']}:{CLEAN['name']}"}]
    assert job["data"]["latestRun"]["state"] == "COMPLETED"
    clean = next(n for n in graph if n["id"].endswith(CLEAN["name"]))
    assert [f["name"] for f in clean["data"]["fields"]] == ["id", "text"]


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer cus_not-a-real-token", 401), ("Basic Zm9vOmJhcg==", 401)],
)
def test_a_missing_or_wrong_token_is_refused_with_401(personas: Personas, header: str | None, status: int) -> None:
    client = personas.client()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = post(client, scenario(str(uuid.uuid4()))[0], **extra)
    assert response.status_code == status
    assert RawEvent.objects.count() == 0


def test_a_revoked_token_is_401_and_a_read_token_403(personas: Personas) -> None:
    event = scenario(str(uuid.uuid4()))[0]
    assert post(personas.client(token=personas.revoked_token), event).status_code == 401
    response = post(personas.client(token=personas.read_token), event)
    assert response.status_code == 403
    assert RawEvent.objects.count() == 0


def test_gzip_bodies_are_accepted(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    body = gzip.compress(json.dumps(scenario(str(uuid.uuid4()))[0]).encode())
    response = client.post(URL, data=body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 201, response.content
    assert RawEvent.objects.count() == 1


@override_settings(LINEAGE_MAX_EVENT_BYTES=4096)
def test_bodies_over_the_limit_are_413_compressed_or_not(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    big = run_event(
        "START",
        run_id=str(uuid.uuid4()),
        time="2026-11-20T10:00:00Z",
        run_facets={"padding": {"_producer": PRODUCER, "_schemaURL": "https://x/y.json", "text": "x" * 10_000}},
    )
    assert post(client, big).status_code == 413
    bomb = gzip.compress(json.dumps(big).encode())  # small on the wire, large once inflated
    assert len(bomb) < 4096
    response = client.post(URL, data=bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert RawEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "encoding", "path"),
    [
        (b"{not json", None, None),
        (b"", None, None),
        (b"\x1f\x8b\x08garbage", "gzip", None),
        (b'"a string"', None, "$"),
        (b"[]", None, "$"),
        (json.dumps({"eventType": "START", "eventTime": "2026-11-20T10:00:00Z"}).encode(), None, "$"),
    ],
)
def test_malformed_bodies_are_400_never_500(
    personas: Personas, body: bytes, encoding: str | None, path: str | None
) -> None:
    client = personas.client(token=personas.write_token)
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    response = client.post(URL, data=body, content_type="application/json", **extra)
    assert response.status_code == 400, response.content
    if path is not None:
        assert any(error["path"].startswith(path) for error in response.json()["errors"])
    assert RawEvent.objects.count() == 0


def test_an_invalid_event_names_the_failing_path(personas: Personas) -> None:
    event = scenario(str(uuid.uuid4()))[0]
    event["job"]["name"] = 42
    response = post(personas.client(token=personas.write_token), event)
    assert response.status_code == 400
    assert "$.job.name" in [error["path"] for error in response.json()["errors"]]


def test_producer_quirks_are_accepted_with_warnings(personas: Personas) -> None:
    event = run_event("START", run_id="spark-application-1234", time="2026-11-20T10:00:00", inputs=[RAW])
    del event["schemaURL"]
    response = post(personas.client(token=personas.write_token), event)
    assert response.status_code == 201, response.content
    codes = {w["code"] for w in response.json()["warnings"]}
    assert {"naive-timestamp", "non-uuid-run-id", "missing-schema-url"} <= codes
    run = Run.objects.get()
    assert run.original_id == "spark-application-1234"
    assert run.started_at.isoformat() == "2026-11-20T10:00:00+00:00"
    stored = RawEvent.objects.get()
    assert stored.payload == event  # kept verbatim
    assert {w["code"] for w in stored.warnings} == codes


# -- duplicates and order --------------------------------------------------------------------


def test_posting_every_event_twice_changes_nothing(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    events = scenario(str(uuid.uuid4()))
    for event in events:
        assert post(client, event).status_code == 201
    before, count = graph_state(), RawEvent.objects.count()
    for event in events:
        response = post(client, copy.deepcopy(event))
        assert response.status_code == 200
        assert response.json()["status"] == "duplicate"
    # The same content with its keys in another order is the same event.
    reordered = json.loads(json.dumps(events[0], sort_keys=True))
    assert post(client, dict(reversed(list(reordered.items())))).json()["status"] == "duplicate"
    assert RawEvent.objects.count() == count == 4
    assert graph_state() == before


def test_every_arrival_order_ends_in_the_same_graph(personas: Personas) -> None:
    actor = Actor(user=personas.contributor, token=None)
    run_id = "3f1b7c9e-1111-4c2a-9d7e-0123456789ab"
    results = []
    for order in itertools.permutations(scenario(run_id)):
        with pytest.MonkeyPatch.context():
            sid = _savepoint()
            for event in order:
                ingest_event(copy.deepcopy(event), actor=actor)
            results.append(graph_state())
            _rollback(sid)
    assert len(results) == 24
    first = results[0]
    assert all(result == first for result in results)
    (run,) = first["runs"]
    assert run[1] == "COMPLETED"
    assert run[2].isoformat() == "2026-11-20T10:00:00+00:00"  # started: the START event's time
    assert run[3].isoformat() == "2026-11-20T10:05:00+00:00"  # ended: COMPLETE's, not OTHER's
    # The late RUNNING event without datasets removed nothing.
    assert ("etl.clean_tickets", RAW["name"], "in") in first["edges"]
    assert ("etl.clean_tickets", CLEAN["name"], "out") in first["edges"]
    assert first["columns"] == [(CLEAN["name"], "text", RAW["name"], "body")]


def _savepoint() -> str:
    from django.db import transaction

    return transaction.savepoint()


def _rollback(sid: str) -> None:
    from django.db import transaction

    transaction.savepoint_rollback(sid)


def test_a_start_that_arrives_after_complete_does_not_reopen_the_run(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    run_id = str(uuid.uuid4())
    events = scenario(run_id)
    post(client, events[2])
    post(client, events[0])
    run = Run.objects.get(uuid=run_id)
    assert run.state == "COMPLETED"
    assert run.started_at is not None and run.ended_at is not None
    assert run.duration_ms == 5 * 60 * 1000


def test_fail_with_the_same_time_as_complete_wins_whatever_the_order(personas: Personas) -> None:
    actor = Actor(user=personas.contributor)
    for first, second in (("COMPLETE", "FAIL"), ("FAIL", "COMPLETE")):
        run_id = str(uuid.uuid4())
        for event_type in (first, second):
            ingest_event(run_event(event_type, run_id=run_id, time="2026-11-20T11:00:00Z"), actor=actor)
        assert Run.objects.get(uuid=run_id).state == "FAILED"


# -- static lineage, parents, batch ------------------------------------------------------------


def test_dataset_and_job_events_add_nodes_and_edges_without_runs(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    dataset_event = {
        "eventTime": "2026-11-20T09:00:00Z",
        "dataset": {**RAW, "facets": {"schema": schema_facet("id", "body")}},
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
    }
    job_event = {
        "eventTime": "2026-11-20T09:00:00Z",
        "job": {"namespace": "alpha-pipelines", "name": "dbt.model.tickets_daily", "facets": {}},
        "inputs": [RAW],
        "outputs": [{"namespace": "s3://alpha-clean", "name": "tickets_daily"}],
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
    }
    assert post(client, dataset_event).status_code == 201
    assert post(client, job_event).status_code == 201
    assert Run.objects.count() == 0
    dataset = LineageDataset.objects.get(name=RAW["name"])
    assert [f["name"] for f in dataset.schema_fields] == ["id", "body"]
    edges = sorted((e.job.name, e.dataset.name, e.direction) for e in JobEdge.objects.all())
    assert edges == [
        ("dbt.model.tickets_daily", RAW["name"], "in"),
        ("dbt.model.tickets_daily", "tickets_daily", "out"),
    ]


def test_a_child_run_links_to_its_parent_even_before_the_parent_reports(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    parent_id, child_id = str(uuid.uuid4()), str(uuid.uuid4())
    parent_facet = {
        "parent": {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet",
            "run": {"runId": parent_id},
            "job": {"namespace": "alpha-pipelines", "name": "airflow.dag"},
        }
    }
    child = run_event("START", run_id=child_id, time="2026-11-20T10:00:00Z", run_facets=parent_facet)
    assert post(client, child).status_code == 201
    assert Run.objects.get(uuid=child_id).parent.uuid == uuid.UUID(parent_id)
    parent = run_event("START", run_id=parent_id, time="2026-11-20T09:59:00Z", job="airflow.dag")
    assert post(client, parent).status_code == 201
    assert Run.objects.get(uuid=parent_id).state == "RUNNING"
    assert Run.objects.get(uuid=child_id).parent.job.name == "airflow.dag"


def test_the_batch_endpoint_reports_each_event(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    good = scenario(str(uuid.uuid4()))
    bad = {"eventType": "START"}
    body = [good[0], bad, good[0], good[2]]
    response = client.post(f"{URL}/batch", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["summary"] == {"received": 4, "successful": 3, "failed": 1, "duplicates": 1}
    assert [e["status"] for e in data["events"]] == ["created", "failed", "duplicate", "created"]
    assert all(error["path"].startswith("$[1]") for error in data["events"][1]["errors"])
    assert RawEvent.objects.count() == 2


# -- namespaces and visibility -----------------------------------------------------------------


def test_a_team_cannot_write_into_another_teams_namespace(personas: Personas) -> None:
    from access.choices import TokenScope
    from access.services import do_create_api_token

    ours = personas.client(token=personas.write_token)
    assert post(ours, scenario(str(uuid.uuid4()))[0]).status_code == 201  # alpha claims alpha-pipelines
    beta_token = do_create_api_token(
        actor=Actor(user=personas.outsider), team=personas.other_team, name="beta", scope=TokenScope.WRITE
    ).key
    theirs = personas.client(token=beta_token)
    response = post(theirs, scenario(str(uuid.uuid4()))[0])
    assert response.status_code == 403
    assert response.json()["errors"][0]["path"] == "$.job.namespace"
    assert RawEvent.objects.count() == 1
    # In its own namespace, beta may read alpha's dataset; alpha's facets on it stay alpha's.
    event = run_event(
        "COMPLETE",
        run_id=str(uuid.uuid4()),
        time="2026-11-21T10:00:00Z",
        namespace="beta-pipelines",
        inputs=[{**RAW, "facets": {"schema": schema_facet("overwritten")}}],
    )
    response = post(theirs, event)
    assert response.status_code == 201
    assert "foreign-namespace" in {w["code"] for w in response.json()["warnings"]}
    assert LineageDataset.objects.get(name=RAW["name"]).schema_fields == []


def test_outsiders_get_404_for_another_teams_lineage(personas: Personas) -> None:
    post(personas.client(token=personas.write_token), scenario(str(uuid.uuid4()))[2])
    node = f"dataset:{RAW['namespace']}:{RAW['name']}"
    assert personas.client(user=personas.outsider).get(URL, {"nodeId": node}).status_code == 404
    assert personas.client(user=personas.auditor).get(URL, {"nodeId": node}).status_code == 200
    assert personas.client(user=personas.outsider).get(URL, {"nodeId": "job:nope:nothing"}).status_code == 404
    assert personas.client(user=personas.auditor).get(URL, {"nodeId": "garbage"}).status_code == 400
    assert personas.client(user=personas.auditor).get(URL, {"nodeId": node, "depth": "x"}).status_code == 400


def test_column_lineage_query(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    post(client, scenario(str(uuid.uuid4()))[2])
    response = client.get(
        "/api/v1/column-lineage", {"nodeId": f"datasetField:{CLEAN['namespace']}:{CLEAN['name']}:text"}
    )
    assert response.status_code == 200
    ids = {node["id"] for node in response.json()["graph"]}
    assert ids == {
        f"datasetField:{CLEAN['namespace']}:{CLEAN['name']}:text",
        f"datasetField:{RAW['namespace']}:{RAW['name']}:body",
    }


def test_raw_events_are_append_only(personas: Personas) -> None:
    from lineage.models import AppendOnlyError

    post(personas.client(token=personas.write_token), scenario(str(uuid.uuid4()))[0])
    stored = RawEvent.objects.get()
    with pytest.raises(AppendOnlyError):
        stored.save()
    with pytest.raises(AppendOnlyError):
        RawEvent.objects.all().update(event_type="FAIL")
    with pytest.raises(AppendOnlyError):
        RawEvent.objects.all().delete()


def test_the_graph_carries_facets_only_when_asked(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    post(client, scenario(str(uuid.uuid4()))[2])
    node = f"dataset:{CLEAN['namespace']}:{CLEAN['name']}"
    lean = client.get(URL, {"nodeId": node}).json()["graph"]
    full = client.get(URL, {"nodeId": node, "facets": "true"}).json()["graph"]
    assert all("facets" not in n["data"] for n in lean)
    clean = next(n for n in full if n["id"] == node)
    assert clean["data"]["facets"]["schema"]["fields"][0]["name"] == "id"
    assert [n["id"] for n in lean] == [n["id"] for n in full]


def test_depth_counts_job_hops_in_both_directions(personas: Personas) -> None:
    """d0 → j1 → d1 → j2 → d2 → j3 → d3: from d1, depth 1 reaches j1 and j2 and their datasets only."""
    client = personas.client(token=personas.write_token)
    for step in (1, 2, 3):
        event = run_event(
            "COMPLETE",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T10:00:00Z",
            job=f"j{step}",
            inputs=[{"namespace": "s3://chain", "name": f"d{step - 1}"}],
            outputs=[{"namespace": "s3://chain", "name": f"d{step}"}],
        )
        assert post(client, event).status_code == 201

    def ids(node: str, depth: int) -> set[str]:
        graph = client.get(URL, {"nodeId": node, "depth": depth}).json()["graph"]
        return {n["id"].rsplit(":", 1)[1] for n in graph}

    assert ids("dataset:s3://chain:d1", 0) == {"d1"}
    assert ids("dataset:s3://chain:d1", 1) == {"d0", "j1", "d1", "j2", "d2"}
    assert ids("dataset:s3://chain:d1", 2) == {"d0", "j1", "d1", "j2", "d2", "j3", "d3"}
    assert ids("job:alpha-pipelines:j1", 0) == {"j1", "d0", "d1"}
    assert ids("job:alpha-pipelines:j1", 1) == {"j1", "d0", "d1", "j2", "d2"}
    graph = client.get(URL, {"nodeId": "job:alpha-pipelines:j2", "depth": 0}).json()["graph"]
    job = next(n for n in graph if n["type"] == "JOB")
    assert [e["origin"] for e in job["inEdges"]] == ["dataset:s3://chain:d1"]
    assert [e["destination"] for e in job["outEdges"]] == ["dataset:s3://chain:d2"]
