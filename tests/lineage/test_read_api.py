"""The Marquez-shaped read API: shapes, paging, filters, names with / and :, access, registry links."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.actors import Actor
from lineage.ingest import ingest_event
from lineage.models import RegistryLink
from registry.models import Dataset
from registry.services import do_create_asset, do_create_dataset_version
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry

pytestmark = pytest.mark.django_db

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/custom"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PG = "postgres://127.0.0.1:5432"
TABLE = "public.tickets"
S3 = "s3://bucket"
FILE = "path/to/file.csv"
JOB_NS = "alpha-pipelines"
JOB = "etl/load:tickets"
RUN1 = "0192f0a0-0000-7000-8000-000000000001"
RUN2 = "0192f0a0-0000-7000-8000-000000000002"


def enc(name: str) -> str:
    """How Marquez clients put a name in a path."""
    return quote(name, safe="")


def schema(*names: str) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
        "fields": [{"name": n, "type": "VARCHAR"} for n in names],
    }


def event(
    event_type: str,
    run_id: str,
    time: str,
    *,
    job: str = JOB,
    namespace: str = JOB_NS,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "run": {"runId": run_id, "facets": {}},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
    }


def source(*fields: str) -> dict[str, Any]:
    return {"namespace": PG, "name": TABLE, "facets": {"schema": schema(*fields)}}


def target(*fields: str) -> dict[str, Any]:
    return {"namespace": S3, "name": FILE, "facets": {"schema": schema(*fields)}}


def ingest(user: Any, *events: dict[str, Any]) -> None:
    for payload in events:
        ingest_event(payload, actor=Actor(user=user))


@pytest.fixture
def lineage(personas: Personas) -> Personas:
    """Team alpha: one job, two runs (COMPLETED then FAILED). Team beta: a job of its own."""
    ingest(
        personas.contributor,
        event("START", RUN1, "2026-11-20T10:00:00Z", inputs=[source("id")]),
        event("COMPLETE", RUN1, "2026-11-20T10:05:00Z", inputs=[source("id")], outputs=[target("id")]),
        event("START", RUN2, "2026-11-21T10:00:00Z", inputs=[source("id", "body")]),
        event("FAIL", RUN2, "2026-11-21T10:02:00Z", outputs=[target("id", "body")]),
    )
    ingest(
        personas.outsider,
        event(
            "COMPLETE",
            str(uuid.uuid4()),
            "2026-11-22T10:00:00Z",
            job="secret.job",
            namespace="beta-pipelines",
            outputs=[{"namespace": "s3://beta-bucket", "name": "x.csv", "facets": {}}],
        ),
    )
    return personas


def get(client: Any, url: str, **params: Any) -> Any:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


# -- namespaces ------------------------------------------------------------------------------


def test_namespaces_list_only_what_the_requester_may_see(lineage: Personas) -> None:
    body = get(lineage.client(lineage.contributor), "/api/v1/namespaces")
    assert body["totalCount"] == 3
    assert [n["name"] for n in body["namespaces"]] == [JOB_NS, PG, S3]
    assert set(body["namespaces"][0]) == {"name", "ownerTeam", "ownerName", "createdAt", "description"}
    assert body["namespaces"][0]["ownerTeam"] == "alpha"
    outsider = get(lineage.client(lineage.outsider), "/api/v1/namespaces")
    assert {n["name"] for n in outsider["namespaces"]} == {"beta-pipelines", "s3://beta-bucket"}
    assert get(lineage.client(lineage.admin), "/api/v1/namespaces")["totalCount"] == 5


@pytest.mark.parametrize("name", [enc(PG), PG])
def test_a_namespace_is_found_by_its_encoded_or_plain_name(lineage: Personas, name: str) -> None:
    body = get(lineage.client(lineage.auditor), f"/api/v1/namespaces/{name}")
    assert body["name"] == PG
    assert lineage.client(lineage.outsider).get(f"/api/v1/namespaces/{name}").status_code == 404
    assert lineage.client().get(f"/api/v1/namespaces/{name}").status_code in (401, 403)


# -- datasets --------------------------------------------------------------------------------


@pytest.mark.parametrize(("ns", "name"), [(enc(S3), enc(FILE)), (S3, FILE)])
def test_a_dataset_has_marquezs_shape_under_encoded_or_plain_names(lineage: Personas, ns: str, name: str) -> None:
    client = lineage.client(token=lineage.read_token)
    listed = get(client, f"/api/v1/namespaces/{ns}/datasets")
    assert listed["totalCount"] == 1
    dataset = get(client, f"/api/v1/namespaces/{ns}/datasets/{name}")
    assert listed["datasets"][0] == dataset
    assert dataset["id"] == {"namespace": S3, "name": FILE}
    assert dataset["name"] == dataset["physicalName"] == FILE
    assert dataset["namespace"] == dataset["sourceName"] == S3
    assert dataset["uri"] == "s3://bucket/path/to/file.csv"
    assert [f["name"] for f in dataset["fields"]] == ["id", "body"]
    assert dataset["facets"]["schema"]["fields"][1]["name"] == "body"
    assert dataset["currentVersion"]
    assert dataset["registryLinks"] == []
    for key in ("type", "createdAt", "updatedAt", "lastModifiedAt", "tags", "description"):
        assert key in dataset


@pytest.mark.parametrize(("ns", "name"), [(enc(S3), enc(FILE)), (S3, FILE)])
def test_dataset_versions_list_newest_first_with_their_run_and_schema(lineage: Personas, ns: str, name: str) -> None:
    body = get(lineage.client(lineage.contributor), f"/api/v1/namespaces/{ns}/datasets/{name}/versions")
    assert body["totalCount"] == 2
    newest, oldest = body["versions"]
    assert newest["runId"] == RUN2 and oldest["runId"] == RUN1
    assert [f["name"] for f in newest["fields"]] == ["id", "body"]
    assert [f["name"] for f in oldest["fields"]] == ["id"]
    assert newest["id"] == {"namespace": S3, "name": FILE, "version": newest["version"]}
    assert newest["eventTime"].startswith("2026-11-21T10:02:00")
    assert newest["createdByRun"] == {"id": RUN2}
    dataset = get(lineage.client(lineage.contributor), f"/api/v1/namespaces/{ns}/datasets/{name}")
    assert dataset["currentVersion"] == newest["version"]


def test_an_unknown_namespace_or_dataset_is_404(lineage: Personas) -> None:
    client = lineage.client(lineage.contributor)
    assert client.get("/api/v1/namespaces/nope/datasets").status_code == 404
    assert client.get(f"/api/v1/namespaces/{enc(S3)}/datasets/nope.csv").status_code == 404
    assert client.get(f"/api/v1/namespaces/{enc(S3)}/datasets/nope.csv/versions").status_code == 404


# -- jobs and runs ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [enc(JOB), JOB])
def test_a_job_lists_its_inputs_outputs_and_latest_run(lineage: Personas, name: str) -> None:
    client = lineage.client(lineage.auditor)
    listed = get(client, f"/api/v1/namespaces/{JOB_NS}/jobs")
    job = get(client, f"/api/v1/namespaces/{JOB_NS}/jobs/{name}")
    assert listed["jobs"] == [job]
    assert job["id"] == {"namespace": JOB_NS, "name": JOB}
    assert job["inputs"] == [{"namespace": PG, "name": TABLE}]
    assert job["outputs"] == [{"namespace": S3, "name": FILE}]
    assert job["latestRun"]["id"] == RUN2
    assert job["latestRun"]["state"] == "FAILED"
    assert job["latestRun"]["durationMs"] == 120_000


def test_job_runs_are_newest_first_with_their_datasets(lineage: Personas) -> None:
    client = lineage.client(lineage.contributor)
    body = get(client, f"/api/v1/namespaces/{JOB_NS}/jobs/{enc(JOB)}/runs")
    assert [r["id"] for r in body["runs"]] == [RUN2, RUN1]
    failed, completed = body["runs"]
    assert failed["state"] == "FAILED" and completed["state"] == "COMPLETED"
    assert completed["durationMs"] == 300_000
    assert completed["inputs"] == [{"namespace": PG, "name": TABLE, "facets": {}}]
    assert completed["outputs"] == [{"namespace": S3, "name": FILE, "facets": {}}]
    assert completed["job"] == {"namespace": JOB_NS, "name": JOB}
    for key in ("createdAt", "updatedAt", "startedAt", "endedAt", "nominalStartTime", "parentRunId", "facets"):
        assert key in completed
    assert get(client, f"/api/v1/jobs/runs/{RUN1}") == completed


def test_runs_across_jobs_filter_by_state_namespace_and_start(lineage: Personas) -> None:
    client = lineage.client(lineage.admin)
    assert get(client, "/api/v1/runs")["totalCount"] == 3
    assert [r["id"] for r in get(client, "/api/v1/runs", state="FAILED")["runs"]] == [RUN2]
    assert get(client, "/api/v1/runs", state=["FAILED", "COMPLETED"])["totalCount"] == 3
    assert {r["id"] for r in get(client, "/api/v1/runs", namespace=JOB_NS)["runs"]} == {RUN1, RUN2}
    after = get(client, "/api/v1/runs", namespace=JOB_NS, started_after="2026-11-21T00:00:00Z")
    assert [r["id"] for r in after["runs"]] == [RUN2]
    before = get(client, "/api/v1/runs", started_before="2026-11-21T00:00:00Z")
    assert [r["id"] for r in before["runs"]] == [RUN1]
    contributor = get(lineage.client(lineage.contributor), "/api/v1/runs")
    assert {r["id"] for r in contributor["runs"]} == {RUN1, RUN2}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"state": "DONE"}, "state"), ({"started_after": "yesterday"}, "started_after"), ({"limit": "x"}, "limit")],
)
def test_bad_run_filters_are_400_naming_the_field(lineage: Personas, params: dict[str, str], field: str) -> None:
    response = lineage.client(lineage.contributor).get("/api/v1/runs", params)
    assert response.status_code == 400
    assert field in response.json()


# -- raw events ------------------------------------------------------------------------------


def test_raw_events_list_newest_first_with_the_payload(lineage: Personas) -> None:
    body = get(lineage.client(lineage.contributor), "/api/v1/events/lineage")
    assert body["totalCount"] == 4
    times = [e["eventTime"] for e in body["events"]]
    assert times == sorted(times, reverse=True)
    newest = body["events"][0]
    assert newest["event"]["eventType"] == "FAIL"
    assert newest["event"]["run"]["runId"] == RUN2
    assert newest["eventType"] == "FAIL" and newest["kind"] == "run"
    assert newest["runId"] == RUN2 and newest["namespace"] == JOB_NS
    for key in ("id", "receivedAt", "warnings", "specVersion", "producer"):
        assert key in newest
    one = get(lineage.client(lineage.contributor), f"/api/v1/events/lineage/{newest['id']}")
    assert one == newest
    assert lineage.client(lineage.outsider).get(f"/api/v1/events/lineage/{newest['id']}").status_code == 404


def test_raw_events_filter_by_time_window_type_run_and_namespace(lineage: Personas) -> None:
    client = lineage.client(lineage.admin)
    window = get(client, "/api/v1/events/lineage", after="2026-11-20T10:05:00Z", before="2026-11-21T10:02:00Z")
    assert [e["eventType"] for e in window["events"]] == ["START", "COMPLETE"]
    assert get(client, "/api/v1/events/lineage", eventType="START")["totalCount"] == 2
    assert get(client, "/api/v1/events/lineage", runId=RUN1)["totalCount"] == 2
    assert get(client, "/api/v1/events/lineage", namespace="beta-pipelines")["totalCount"] == 1
    assert get(client, "/api/v1/events/lineage", kind="dataset")["totalCount"] == 0
    for params in ({"runId": "not-a-uuid"}, {"before": "soon"}, {"eventType": "FINISHED"}):
        response = client.get("/api/v1/events/lineage", params)
        assert response.status_code == 400
        assert next(iter(params)) in response.json()


def test_lists_page_by_limit_and_offset_or_by_page(lineage: Personas) -> None:
    client = lineage.client(lineage.contributor)
    everything = [e["id"] for e in get(client, "/api/v1/events/lineage")["events"]]
    first = get(client, "/api/v1/events/lineage", limit=3)
    assert [e["id"] for e in first["events"]] == everything[:3]
    assert first["totalCount"] == 4 and first["previous"] is None
    assert "offset=3" in first["next"]
    second = get(client, "/api/v1/events/lineage", limit=3, offset=3)
    assert [e["id"] for e in second["events"]] == everything[3:]
    assert second["next"] is None
    paged = get(client, "/api/v1/events/lineage", page=2, page_size=3)
    assert [e["id"] for e in paged["events"]] == everything[3:]
    assert paged["previous"] is not None and "page=" not in paged["previous"]
    assert "page=2" in get(client, "/api/v1/events/lineage", page_size=3)["next"]
    assert client.get("/api/v1/events/lineage", {"offset": "-1"}).status_code == 400


def test_list_pages_cost_the_same_queries_whatever_their_length(lineage: Personas) -> None:
    client = lineage.client(lineage.contributor)
    urls = [
        "/api/v1/namespaces",
        f"/api/v1/namespaces/{enc(S3)}/datasets",
        f"/api/v1/namespaces/{JOB_NS}/jobs",
        "/api/v1/runs",
        "/api/v1/events/lineage",
    ]

    def counts() -> list[int]:
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    counts()  # warm per-process caches (content types) first
    before = counts()
    for index in range(4):
        run = str(uuid.uuid4())
        out = {"namespace": S3, "name": f"more/{index}.csv", "facets": {"schema": schema("id")}}
        ingest(
            lineage.contributor,
            event("START", run, f"2026-11-23T1{index}:00:00Z", job=f"job{index}", inputs=[source("id")]),
            event("COMPLETE", run, f"2026-11-23T1{index}:01:00Z", job=f"job{index}", outputs=[out]),
        )
    assert counts() == before


# -- access ----------------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_alpha_resource(lineage: Personas) -> None:
    client = lineage.client(lineage.outsider)
    for url in (
        f"/api/v1/namespaces/{JOB_NS}",
        f"/api/v1/namespaces/{enc(S3)}/datasets",
        f"/api/v1/namespaces/{enc(S3)}/datasets/{enc(FILE)}",
        f"/api/v1/namespaces/{enc(S3)}/datasets/{enc(FILE)}/versions",
        f"/api/v1/namespaces/{JOB_NS}/jobs",
        f"/api/v1/namespaces/{JOB_NS}/jobs/{enc(JOB)}",
        f"/api/v1/namespaces/{JOB_NS}/jobs/{enc(JOB)}/runs",
        f"/api/v1/jobs/runs/{RUN1}",
    ):
        assert client.get(url).status_code == 404, url
    assert get(client, "/api/v1/runs", namespace=JOB_NS)["totalCount"] == 0
    assert get(client, "/api/v1/events/lineage", namespace=JOB_NS)["totalCount"] == 0


def test_the_read_api_answers_only_reads(lineage: Personas) -> None:
    client = lineage.client(lineage.contributor)
    assert client.post("/api/v1/namespaces", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/namespaces/{JOB_NS}").status_code == 405
    assert client.post(f"/api/v1/namespaces/{JOB_NS}/jobs", {}, format="json").status_code == 405


# -- registry links --------------------------------------------------------------------------

DATASET_NODE = f"dataset:{S3}:{FILE}"


def link(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/lineage/links", body, format="json")


def test_linking_a_dataset_version_is_audited_and_idempotent(lineage: Personas, catalogue: Catalogue) -> None:
    client = lineage.client(token=lineage.write_token)
    version = str(catalogue.dataset_version.uuid)
    response = link(client, dataset=DATASET_NODE, datasetVersion=version, note="copied by hand")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["method"] == "manual" and created["dataset"] == DATASET_NODE
    assert created["datasetVersion"]["id"] == version
    assert created["datasetVersion"]["asset"]["name"] == "Tickets"
    assert created["modelVersion"] is None and created["note"] == "copied by hand"
    entry = AuditEntry.objects.get(object_type="lineage.registrylink")
    assert entry.action == "create" and entry.team_slug == "alpha" and entry.object_id == created["id"]
    assert entry.changes["dataset"] == DATASET_NODE and entry.changes["dataset_version"] == version

    again = link(client, dataset=DATASET_NODE, datasetVersion=version, note="other note")
    assert again.status_code == 200
    assert again.json()["id"] == created["id"] and again.json()["note"] == "copied by hand"
    assert RegistryLink.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="lineage.registrylink").count() == 1

    dataset = get(client, f"/api/v1/namespaces/{enc(S3)}/datasets/{enc(FILE)}")
    assert [lk["id"] for lk in dataset["registryLinks"]] == [created["id"]]
    listed = get(client, "/api/v1/lineage/links", dataset=DATASET_NODE)
    assert listed["totalCount"] == 1 and listed["links"][0] == created
    assert get(client, "/api/v1/lineage/links", dataset=f"dataset:{PG}:{TABLE}")["totalCount"] == 0
    assert get(client, f"/api/v1/lineage/links/{created['id']}") == created

    assert client.delete(f"/api/v1/lineage/links/{created['id']}").status_code == 204
    assert not RegistryLink.objects.exists()
    deleted = AuditEntry.objects.filter(object_type="lineage.registrylink", action="delete").get()
    assert deleted.team_slug == "alpha" and deleted.object_id == created["id"]
    assert client.delete(f"/api/v1/lineage/links/{created['id']}").status_code == 404


def test_a_model_version_can_be_linked(lineage: Personas, catalogue: Catalogue) -> None:
    client = lineage.client(lineage.officer)
    response = link(client, dataset=f"dataset:{PG}:{TABLE}", modelVersion=str(catalogue.model_version.uuid))
    assert response.status_code == 201, response.content
    assert response.json()["modelVersion"]["asset"]["name"] == "Support LLM"
    assert response.json()["datasetVersion"] is None


def test_a_registered_version_at_the_same_uri_is_shown_without_a_stored_link(
    lineage: Personas, catalogue: Catalogue
) -> None:
    ingest(
        lineage.contributor,
        event(
            "COMPLETE", str(uuid.uuid4()), "2026-11-24T10:00:00Z", outputs=[{"namespace": S3, "name": "tickets.csv"}]
        ),
    )
    dataset = get(lineage.client(lineage.contributor), f"/api/v1/namespaces/{enc(S3)}/datasets/tickets.csv")
    assert [(lk["method"], lk["id"]) for lk in dataset["registryLinks"]] == [("uri", None)]
    assert dataset["registryLinks"][0]["datasetVersion"]["id"] == str(catalogue.dataset_version.uuid)


def test_registry_versions_the_requester_cannot_see_are_not_shown(lineage: Personas) -> None:
    beta = Actor(user=lineage.outsider)
    dataset = do_create_asset(Dataset, actor=beta, data={"name": "Beta copy", "owner_team": lineage.other_team})
    do_create_dataset_version(dataset, actor=beta, data={"uri": f"{S3}/{FILE}", "origin": "collected"})
    url = f"/api/v1/namespaces/{enc(S3)}/datasets/{enc(FILE)}"
    assert get(lineage.client(lineage.contributor), url)["registryLinks"] == []
    links = get(lineage.client(lineage.admin), url)["registryLinks"]
    assert [lk["datasetVersion"]["asset"]["name"] for lk in links] == ["Beta copy"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": DATASET_NODE, "datasetVersion": str(uuid.uuid4())}, "datasetVersion"),
        ({"dataset": DATASET_NODE, "datasetVersion": "not-a-uuid"}, "datasetVersion"),
        ({"dataset": DATASET_NODE, "modelVersion": str(uuid.uuid4())}, "modelVersion"),
        ({"dataset": DATASET_NODE}, "datasetVersion"),
        ({"dataset": "dataset:s3://nowhere:x.csv", "datasetVersion": "CATALOGUE"}, "dataset"),
        ({"dataset": f"job:{JOB_NS}:{JOB}", "datasetVersion": "CATALOGUE"}, "dataset"),
        ({"dataset": "tickets", "datasetVersion": "CATALOGUE"}, "dataset"),
        ({"datasetVersion": "CATALOGUE"}, "dataset"),
    ],
)
def test_bad_link_requests_are_400_naming_the_field(
    lineage: Personas, catalogue: Catalogue, body: dict[str, str], field: str
) -> None:
    body = {k: str(catalogue.dataset_version.uuid) if v == "CATALOGUE" else v for k, v in body.items()}
    response = link(lineage.client(lineage.contributor), **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not RegistryLink.objects.exists()


def test_both_targets_at_once_are_refused(lineage: Personas, catalogue: Catalogue) -> None:
    response = link(
        lineage.client(lineage.contributor),
        dataset=DATASET_NODE,
        datasetVersion=str(catalogue.dataset_version.uuid),
        modelVersion=str(catalogue.model_version.uuid),
    )
    assert response.status_code == 400


def test_read_only_principals_cannot_link_or_unlink(lineage: Personas, catalogue: Catalogue) -> None:
    version = str(catalogue.dataset_version.uuid)
    for client in (lineage.client(lineage.auditor), lineage.client(token=lineage.read_token)):
        assert link(client, dataset=DATASET_NODE, datasetVersion=version).status_code == 403
    created = link(lineage.client(lineage.contributor), dataset=DATASET_NODE, datasetVersion=version).json()
    auditor = lineage.client(lineage.auditor)
    assert get(auditor, "/api/v1/lineage/links")["totalCount"] == 1
    assert auditor.delete(f"/api/v1/lineage/links/{created['id']}").status_code == 403
    assert lineage.client(token=lineage.read_token).delete(f"/api/v1/lineage/links/{created['id']}").status_code == 403
    assert RegistryLink.objects.count() == 1


def test_an_outsider_can_neither_see_nor_make_links_on_alpha_data(lineage: Personas, catalogue: Catalogue) -> None:
    version = str(catalogue.dataset_version.uuid)
    created = link(lineage.client(lineage.contributor), dataset=DATASET_NODE, datasetVersion=version).json()
    outsider = lineage.client(lineage.outsider)
    assert get(outsider, "/api/v1/lineage/links")["totalCount"] == 0
    assert outsider.get(f"/api/v1/lineage/links/{created['id']}").status_code == 404
    assert outsider.delete(f"/api/v1/lineage/links/{created['id']}").status_code == 404
    # Their own lineage dataset and alpha's registry version: the version is invisible to them.
    response = link(outsider, dataset="dataset:s3://beta-bucket:x.csv", datasetVersion=version)
    assert response.status_code == 400 and "datasetVersion" in response.json()
    response = link(outsider, dataset=DATASET_NODE, datasetVersion=version)
    assert response.status_code == 400 and "dataset" in response.json()
    assert RegistryLink.objects.count() == 1
