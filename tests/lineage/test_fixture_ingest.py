"""Every vendored fixture over HTTP: the valid ones are stored and build their nodes, the invalid get 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lineage.models import Job, JobEdge, LineageDataset, RawEvent, Run
from tests.conftest import Personas
from tests.lineage.test_validation import ACCEPTED, REJECTED, load

pytestmark = pytest.mark.django_db


def refs(event: dict[str, Any], key: str) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in event.get(key) or []}


@pytest.mark.parametrize("relative", sorted(ACCEPTED))
def test_a_valid_fixture_is_stored_and_builds_its_nodes(personas: Personas, relative: str) -> None:
    event = load(relative)
    kind, _version, warnings = ACCEPTED[relative]
    client = personas.client(token=personas.write_token)
    response = client.post("/api/v1/lineage", data=json.dumps(event), content_type="application/json")
    assert response.status_code == 201, response.content
    assert {w["code"] for w in response.json()["warnings"]} == set(warnings)
    assert RawEvent.objects.get().payload == event
    datasets = {(d.namespace.name, d.name) for d in LineageDataset.objects.select_related("namespace")}
    if kind == "dataset":
        assert (event["dataset"]["namespace"], event["dataset"]["name"]) in datasets
        return
    job = Job.objects.select_related("namespace").get(name=event["job"]["name"])
    assert job.namespace.name == event["job"]["namespace"]
    assert refs(event, "inputs") | refs(event, "outputs") <= datasets
    edges = {(e.dataset.namespace.name, e.dataset.name, e.direction) for e in JobEdge.objects.filter(job=job)}
    assert edges == {(*r, "in") for r in refs(event, "inputs")} | {(*r, "out") for r in refs(event, "outputs")}
    if kind == "run":
        run = Run.objects.get(uuid=RawEvent.objects.get().run_uuid)
        assert run.job == job
        states = {
            "START": "RUNNING",
            "RUNNING": "RUNNING",
            "COMPLETE": "COMPLETED",
            "FAIL": "FAILED",
            "ABORT": "ABORTED",
        }
        assert run.state == states.get(event.get("eventType") or "OTHER", "NEW")


@pytest.mark.parametrize("relative", sorted(REJECTED))
def test_an_invalid_fixture_is_refused_naming_its_paths(personas: Personas, relative: str) -> None:
    client = personas.client(token=personas.write_token)
    response = client.post("/api/v1/lineage", data=json.dumps(load(relative)), content_type="application/json")
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == REJECTED[relative]
    assert RawEvent.objects.count() == 0


def test_the_apples_build_one_connected_pipeline(personas: Personas) -> None:
    """Marquez's apples: COMPLETE-only events of several jobs chained through their datasets."""
    client = personas.client(token=personas.write_token)
    names = sorted(r for r in ACCEPTED if r.startswith("marquez/apples/"))
    for relative in names:
        assert (
            client.post("/api/v1/lineage", data=json.dumps(load(relative)), content_type="application/json").status_code
            == 201
        )
    first = load(names[0])
    start = first["outputs"][0] if first.get("outputs") else first["inputs"][0]
    graph = client.get("/api/v1/lineage", {"nodeId": f"dataset:{start['namespace']}:{start['name']}", "depth": 20})
    assert graph.status_code == 200
    jobs = {n["id"] for n in graph.json()["graph"] if n["type"] == "JOB"}
    assert len(jobs) >= 3, jobs
