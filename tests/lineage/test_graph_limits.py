"""The lineage graph's node limit (``maxNodes``) and the JSON the database builds for it."""

from __future__ import annotations

import uuid

import pytest

from lineage.models import Run
from tests.conftest import Personas
from tests.lineage.test_ingest import URL, post, run_event, schema_facet

pytestmark = pytest.mark.django_db


def chain(client: object, steps: int) -> None:
    """d0 → j1 → d1 → … → j<steps> → d<steps>, every job with a finished run."""
    for step in range(1, steps + 1):
        event = run_event(
            "COMPLETE",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T10:05:00.250000Z",
            job=f"j{step}",
            inputs=[{"namespace": "s3://chain", "name": f"d{step - 1}"}],
            outputs=[{"namespace": "s3://chain", "name": f"d{step}"}],
        )
        assert post(client, event).status_code == 201


def test_a_graph_over_the_node_limit_is_cut_nearest_first_and_says_so(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    chain(client, 6)
    full = client.get(URL, {"nodeId": "dataset:s3://chain:d3", "depth": 20}).json()
    assert len(full["graph"]) == 13 and full["truncated"] is False and "detail" not in full
    cut = client.get(URL, {"nodeId": "dataset:s3://chain:d3", "depth": 20, "maxNodes": 5}).json()
    assert cut["truncated"] is True and cut["maxNodes"] == 5
    assert "maxNodes" in cut["detail"] and "depth" in cut["detail"]
    # Hop 0: d3; hop 1: j3, j4 and their datasets d2, d4 — the five nearest.
    assert {n["id"].rsplit(":", 1)[1] for n in cut["graph"]} == {"d2", "d3", "d4", "j3", "j4"}
    ids = {n["id"] for n in cut["graph"]}
    for node in cut["graph"]:  # no edge leads out of the cut graph
        assert all(e["origin"] in ids and e["destination"] in ids for e in node["inEdges"] + node["outEdges"])


@pytest.mark.parametrize("value", ["0", "5001", "many"])
def test_a_bad_node_limit_is_400_naming_the_field(personas: Personas, value: str) -> None:
    client = personas.client(token=personas.write_token)
    chain(client, 1)
    response = client.get(URL, {"nodeId": "dataset:s3://chain:d0", "maxNodes": value})
    assert response.status_code == 400
    assert "maxNodes" in response.json()


def test_graph_nodes_carry_the_latest_run_and_times_as_the_rest_of_the_api(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    run_id = str(uuid.uuid4())
    start = run_event("START", run_id=run_id, time="2026-11-20T10:00:00Z", job="j1")
    start["inputs"] = [{"namespace": "s3://chain", "name": "d0", "facets": {"schema": schema_facet("id", "body")}}]
    assert post(client, start).status_code == 201
    complete = run_event("COMPLETE", run_id=run_id, time="2026-11-20T10:05:00.250000Z", job="j1")
    assert post(client, complete).status_code == 201
    graph = client.get(URL, {"nodeId": "job:alpha-pipelines:j1", "depth": 1}).json()["graph"]
    job = next(n for n in graph if n["type"] == "JOB")["data"]
    run = Run.objects.get(uuid=run_id)
    assert job["latestRun"] == {
        "id": run_id,
        "state": "COMPLETED",
        "startedAt": "2026-11-20T10:00:00+00:00",
        "endedAt": "2026-11-20T10:05:00.250000+00:00",
        "durationMs": 300_250,
        "nominalStartTime": None,
        "nominalEndTime": None,
    }
    assert job["type"] == "BATCH" and job["inputs"] == [{"namespace": "s3://chain", "name": "d0"}]
    assert job["createdAt"] == run.job.created_at.isoformat()
    dataset = next(n for n in graph if n["type"] == "DATASET")["data"]
    assert [f["name"] for f in dataset["fields"]] == ["id", "body"]
    assert dataset["lastModifiedAt"] == "2026-11-20T10:00:00+00:00"
