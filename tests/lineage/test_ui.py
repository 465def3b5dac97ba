"""The lineage pages: overview, lists, inspectors, the graph (page and SVG), impact, registry panels."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.actors import Actor
from lineage.ingest import ingest_event
from lineage.models import LineageDataset, RawEvent, Run
from lineage.svg import layout, render_svg
from registry.models import AISystem, Dataset
from registry.services import do_add_component, do_create_asset, do_create_dataset_version
from tests.conftest import Catalogue, Personas
from tests.lineage.test_ingest import run_event, schema_facet
from tests.ui.conftest import signed_in

pytestmark = pytest.mark.django_db

RAW = {"namespace": "s3://bucket", "name": "tickets.csv"}
KB = {"namespace": "s3://bucket", "name": "kb.parquet"}
INDEX = {"namespace": "s3://bucket", "name": "kb_index"}
KB_NODE = "dataset:s3://bucket:kb.parquet"
JOB_NODE = "job:alpha-pipelines:anonymise_tickets"


def send(personas: Personas, event: dict[str, Any]) -> Any:
    return ingest_event(event, actor=Actor(user=personas.contributor))


def small_graph(personas: Personas, suffix: str = "") -> str:
    """tickets.csv → anonymise_tickets → kb.parquet → build_index → kb_index; returns the first run id."""
    run_id = str(uuid.uuid4())
    kb = {**KB, "name": f"kb{suffix}.parquet", "facets": {"schema": schema_facet("id", "text")}}
    send(personas, run_event("START", run_id=run_id, time="2026-11-20T10:00:00Z", job=f"anonymise_tickets{suffix}"))
    send(
        personas,
        run_event(
            "COMPLETE",
            run_id=run_id,
            time="2026-11-20T10:02:30Z",
            job=f"anonymise_tickets{suffix}",
            inputs=[RAW],
            outputs=[kb],
        ),
    )
    send(
        personas,
        run_event(
            "FAIL",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T11:00:00Z",
            job=f"build_index{suffix}",
            inputs=[{**KB, "name": f"kb{suffix}.parquet"}],
            outputs=[{**INDEX, "name": f"kb_index{suffix}"}],
        ),
    )
    return run_id


@pytest.fixture
def lineage_data(personas: Personas) -> dict[str, Any]:
    run_id = small_graph(personas)
    event = RawEvent.objects.filter(run_uuid=run_id).order_by("event_time").last()
    return {"run": Run.objects.get(uuid=run_id), "event": event}


def page_urls(catalogue: Catalogue, data: dict[str, Any]) -> dict[str, str]:
    def q(name: str, **params: Any) -> str:
        return f"{reverse(f'lineage:{name}')}?{urlencode(params)}"

    return {
        "overview": reverse("lineage:overview"),
        "datasets": q("dataset_list", namespace="s3://bucket"),
        "jobs": q("job_list", q="anonymise"),
        "dataset": q("dataset", node=KB_NODE),
        "job": q("job", node=JOB_NODE),
        "runs": q("run_list", state="COMPLETED"),
        "run": reverse("lineage:run_detail", kwargs={"uuid": data["run"].uuid}),
        "events": reverse("lineage:event_list"),
        "event": reverse("lineage:event_detail", kwargs={"pk": data["event"].pk}),
        "graph": q("graph", node=KB_NODE, depth=2),
        "svg": q("graph_svg", node=KB_NODE, depth=2),
        "node": q("node", node=JOB_NODE),
        "impact": q("impact", dataset_version=catalogue.dataset_version.uuid),
    }


# Pages that show one object the outsider may not see (the lists just show nothing).
OBJECT_PAGES = ("dataset", "job", "run", "event", "graph", "svg", "node", "impact")


def test_every_lineage_page_renders_for_the_team(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.auditor)
    for name, url in page_urls(catalogue, lineage_data).items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)


def test_the_outsider_gets_404_for_every_object_page(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.outsider)
    urls = page_urls(catalogue, lineage_data)
    for name in OBJECT_PAGES:
        assert client.get(urls[name]).status_code == 404, name
    for name in ("overview", "datasets", "jobs", "runs", "events"):
        response = client.get(urls[name])
        assert response.status_code == 200
        assert b"kb.parquet" not in response.content and b"anonymise_tickets" not in response.content, name


def test_pages_need_a_signed_in_user(catalogue: Catalogue, lineage_data: dict[str, Any]) -> None:
    response = Client().get(page_urls(catalogue, lineage_data)["graph"])
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_an_unknown_or_malformed_node_is_a_404(personas: Personas, lineage_data: dict[str, Any]) -> None:
    client = signed_in(personas.contributor)
    for node in ("dataset:s3://bucket:nope", "nonsense", "", JOB_NODE):
        assert client.get(reverse("lineage:dataset"), {"node": node}).status_code == 404, node
    assert client.get(reverse("lineage:impact"), {"dataset_version": "not-a-uuid"}).status_code == 404


def test_the_svg_is_valid_and_names_every_node_of_the_neighbourhood(
    personas: Personas, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.contributor)
    api = client.get("/api/v1/lineage", {"nodeId": KB_NODE, "depth": 2}).json()
    response = client.get(reverse("lineage:graph_svg"), {"node": KB_NODE, "depth": 2})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not root.findall(".//{http://www.w3.org/2000/svg}script")
    text = "".join(root.itertext())
    names = [node["data"]["name"] for node in api["graph"]]
    assert sorted(names) == ["anonymise_tickets", "build_index", "kb.parquet", "kb_index", "tickets.csv"]
    for name in names:
        assert name in text, name


def test_the_layout_goes_left_to_right_by_longest_path() -> None:
    def node(node_id: str, kind: str, out: list[str]) -> dict[str, Any]:
        return {
            "id": node_id,
            "type": kind,
            "data": {"name": node_id, "namespace": "ns"},
            "inEdges": [],
            "outEdges": [{"origin": node_id, "destination": d} for d in out],
        }

    graph = {
        "graph": [
            node("a", "DATASET", ["j1", "j2"]),
            node("j1", "BATCH", ["b"]),
            node("b", "DATASET", ["j2"]),
            node("j2", "BATCH", ["c", "a"]),  # a cycle back to a
            node("c", "DATASET", []),
        ]
    }
    placed = {n.id: n for n in layout(graph).nodes}
    assert placed["a"].layer == 0 and placed["j1"].layer == 1 and placed["b"].layer == 2
    assert placed["j2"].layer == 3 and placed["c"].layer == 4  # longest path, not shortest
    assert placed["a"].x < placed["j1"].x < placed["b"].x
    ET.fromstring(render_svg(graph, centre="a"))  # noqa: S314


def test_the_svg_escapes_names() -> None:
    graph = {
        "graph": [
            {
                "id": 'dataset:ns:<script>&"x"',
                "type": "DATASET",
                "data": {"name": '<script>alert(1)</script>&"x"\x01', "namespace": "ns"},
                "inEdges": [],
                "outEdges": [],
            }
        ]
    }
    svg = render_svg(graph, title="<t>")
    root = ET.fromstring(svg)  # noqa: S314
    assert "<script>" not in svg and "alert(1)" in "".join(root.itertext())


def test_the_graph_page_shows_the_server_svg_and_the_script(personas: Personas, lineage_data: dict[str, Any]) -> None:
    body = signed_in(personas.contributor).get(reverse("lineage:graph"), {"node": KB_NODE, "depth": 1}).content.decode()
    assert "<svg" in body and "lineage-graph.js" in body and "data-lineage-graph" in body
    assert "Download SVG" in body and "graph.svg?node=" in body
    assert "build_index" in body and "anonymise_tickets" in body


def test_the_node_panel_links_the_registered_version(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.contributor)
    body = client.get(reverse("lineage:node"), {"node": "dataset:s3://bucket:tickets.csv"}).content.decode()
    assert reverse("registry:datasetversion_detail", kwargs={"uuid": catalogue.dataset_version.uuid}) in body
    body = client.get(reverse("lineage:node"), {"node": JOB_NODE}).content.decode()
    assert "Completed" in body and "2.5 s" not in body and "2 min 30 s" in body


def test_the_run_and_event_pages_show_state_io_and_warnings(personas: Personas, lineage_data: dict[str, Any]) -> None:
    client = signed_in(personas.contributor)
    run = lineage_data["run"]
    body = client.get(reverse("lineage:run_detail", kwargs={"uuid": run.uuid})).content.decode()
    assert "Completed" in body and "tickets.csv" in body and "kb.parquet" in body and "COMPLETE" in body
    naive = run_event("COMPLETE", run_id=str(uuid.uuid4()), time="2026-11-20T12:00:00", job="naive_job")
    result = send(personas, naive)
    assert result.raw_event.warnings, "a naive timestamp should be accepted with a warning"
    body = client.get(reverse("lineage:event_detail", kwargs={"pk": result.raw_event.pk})).content.decode()
    warning = result.raw_event.warnings[0]
    assert warning["path"] in body and warning["code"] in body
    assert "&quot;eventType&quot;: &quot;COMPLETE&quot;" in body


def test_the_runs_list_filters_by_state_and_namespace(personas: Personas, lineage_data: dict[str, Any]) -> None:
    client = signed_in(personas.contributor)
    body = client.get(reverse("lineage:run_list"), {"state": "FAILED"}).content.decode()
    assert "build_index" in body and "anonymise_tickets" not in body
    body = client.get(reverse("lineage:run_list"), {"namespace": "elsewhere"}).content.decode()
    assert "build_index" not in body


def test_the_dataset_page_shows_schema_jobs_and_registry_versions(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.contributor)
    body = client.get(reverse("lineage:dataset"), {"node": KB_NODE}).content.decode()
    assert "anonymise_tickets" in body and "build_index" in body and "<code>text</code>" in body
    body = client.get(reverse("lineage:dataset"), {"node": "dataset:s3://bucket:tickets.csv"}).content.decode()
    assert reverse("registry:datasetversion_detail", kwargs={"uuid": catalogue.dataset_version.uuid}) in body


def test_the_dataset_version_page_shows_a_downstream_ai_system_linked_by_lineage(
    personas: Personas, catalogue: Catalogue
) -> None:
    actor = Actor(user=personas.contributor)
    client = signed_in(personas.contributor)
    page = reverse("registry:datasetversion_detail", kwargs={"uuid": catalogue.dataset_version.uuid})
    assert "Search assistant" not in client.get(page).content.decode()
    kb = do_create_asset(Dataset, actor=actor, data={"name": "Knowledge base", "owner_team": personas.team})
    kb_v = do_create_dataset_version(kb, actor=actor, data={"uri": "s3://bucket/kb.parquet", "origin": "annotated"})
    system = do_create_asset(
        AISystem,
        actor=actor,
        data={"name": "Search assistant", "owner_team": personas.team, "purpose": "Search", "risk_class": "minimal"},
    )
    do_add_component(system, actor=actor, role="knowledge_base", part=kb_v)
    small_graph(personas)  # tickets.csv → anonymise_tickets → kb.parquet: now the system depends on it
    body = client.get(page).content.decode()
    assert 'data-testid="lineage-panel"' in body
    assert reverse("registry:system_detail", kwargs={"uuid": system.uuid}) in body
    assert "Search assistant" in body and "kb.parquet" in body
    assert f"node={KB_NODE}".replace(":", "%3A").replace("/", "%2F") in body or "graph/?node=" in body
    model_page = reverse("registry:modelversion_detail", kwargs={"uuid": catalogue.model_version.uuid})
    assert 'data-testid="lineage-panel"' in client.get(model_page).content.decode()
    # The outsider sees neither the page nor, elsewhere, the system.
    assert signed_in(personas.outsider).get(page).status_code == 404


def test_the_impact_page_lists_what_depends_on_the_version(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    body = (
        signed_in(personas.contributor)
        .get(reverse("lineage:impact"), {"dataset_version": catalogue.dataset_version.uuid})
        .content.decode()
    )
    assert "Support chatbot" in body and "Support LLM" in body and "anonymise_tickets" in body
    model = signed_in(personas.contributor).get(
        reverse("lineage:impact"), {"model_version": catalogue.model_version.uuid}
    )
    assert model.status_code == 200 and b"Support chatbot" in model.content


def test_the_lineage_pages_are_in_spanish(
    personas: Personas, catalogue: Catalogue, lineage_data: dict[str, Any]
) -> None:
    client = signed_in(personas.contributor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    urls = page_urls(catalogue, lineage_data)
    body = client.get(urls["overview"]).content.decode()
    assert '<html lang="es">' in body and "Linaje" in body and "Ejecuciones recientes" in body
    body = client.get(urls["graph"]).content.decode()
    assert "Descargar SVG" in body and "Profundidad" in body and "Download SVG" not in body
    body = client.get(urls["run"]).content.decode()
    assert "Completada" in body and "Entradas y salidas" in body
    body = client.get(urls["event"]).content.decode()
    assert "Evento tal como se recibió" in body


def count_queries(client: Client, page: str) -> int:
    client.get(page)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page)
    assert response.status_code == 200
    return len(captured)


def test_the_list_pages_cost_the_same_queries_for_more_rows(personas: Personas) -> None:
    client = signed_in(personas.contributor)
    pages = [
        reverse("lineage:overview"),
        reverse("lineage:dataset_list"),
        reverse("lineage:job_list"),
        reverse("lineage:run_list"),
        reverse("lineage:event_list"),
        f"{reverse('lineage:job')}?node={JOB_NODE}",
    ]
    small_graph(personas)
    few = [count_queries(client, page) for page in pages]
    for i in range(6):
        small_graph(personas, suffix=f"_{i}")
    send(
        personas,
        run_event(
            "COMPLETE",
            run_id=str(uuid.uuid4()),
            time="2026-11-21T10:00:00Z",
            job="anonymise_tickets",
            namespace="alpha-pipelines",
        ),
    )
    assert LineageDataset.objects.count() > 10 and Run.objects.count() > 10
    many = [count_queries(client, page) for page in pages]
    assert many == few
