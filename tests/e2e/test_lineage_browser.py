"""End-to-end: the interactive lineage graph in headless Chromium (drawn by static/js/lineage-graph.js)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from access.actors import Actor
from lineage.ingest import ingest_event
from tests.conftest import PASSWORD, Personas
from tests.e2e.conftest import ARTIFACTS
from tests.lineage.test_ingest import run_event, schema_facet

pytestmark = pytest.mark.browser

KB_NODE = "dataset:s3://bucket:kb.parquet"


def build_graph(personas: Personas) -> None:
    """raw tickets → anonymise → kb.parquet → build_index (failed) → kb_index."""
    actor = Actor(user=personas.contributor)
    kb = {"namespace": "s3://bucket", "name": "kb.parquet", "facets": {"schema": schema_facet("id", "text")}}
    ingest_event(
        run_event(
            "COMPLETE",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T10:00:00Z",
            job="anonymise_tickets",
            inputs=[{"namespace": "s3://bucket", "name": "tickets.csv"}],
            outputs=[kb],
        ),
        actor=actor,
    )
    ingest_event(
        run_event(
            "FAIL",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T11:00:00Z",
            job="build_index",
            inputs=[{"namespace": "s3://bucket", "name": "kb.parquet"}],
            outputs=[{"namespace": "s3://bucket", "name": "kb_index"}],
        ),
        actor=actor,
    )


def test_the_graph_is_drawn_clicked_and_zoomed(live_server: Any, browser_page: Any, personas: Personas) -> None:
    build_graph(personas)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "contributor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login" not in page.url, "login failed"

    page.goto(f"{live_server.url}/lineage/graph/?{urlencode({'node': KB_NODE, 'depth': 1})}")
    page.wait_for_selector("svg[data-lineage-js] .lineage-node")
    nodes = page.locator("svg[data-lineage-js] .lineage-node")
    assert nodes.count() == 5
    names = page.locator("svg[data-lineage-js]").text_content() or ""
    for name in ("tickets.csv", "anonymise_tickets", "kb.parquet", "build_index", "kb_index"):
        assert name in names, name

    # Left to right: the source is left of the job that reads it, which is left of its output.
    def x_of(node_id: str) -> float:
        box = page.locator(f'svg[data-lineage-js] .lineage-node[data-id="{node_id}"]').bounding_box()
        assert box is not None
        return float(box["x"])

    assert x_of("dataset:s3://bucket:tickets.csv") < x_of("job:alpha-pipelines:anonymise_tickets") < x_of(KB_NODE)

    page.locator('svg[data-lineage-js] .lineage-node[data-id="job:alpha-pipelines:build_index"]').click()
    panel = page.locator("[data-side] [data-testid=node-panel]")
    panel.wait_for()
    assert "build_index" in panel.inner_text() and "Failed" in panel.inner_text()

    before = float(page.locator("[data-lineage-graph]").get_attribute("data-scale") or "0")
    page.click("[data-zoom=in]")
    after = float(page.locator("[data-lineage-graph]").get_attribute("data-scale") or "0")
    assert after > before
    page.mouse.move(400, 500)
    page.mouse.wheel(0, 400)
    assert float(page.locator("[data-lineage-graph]").get_attribute("data-scale") or "0") < after

    page.click("[data-depth-step='1']")
    page.wait_for_function("document.querySelector('[data-depth-value]').textContent === '2'")
    assert "depth=2" in page.url
    assert "depth=2" in (page.locator("[data-graph-svg-link]").get_attribute("href") or "")
    page.click("[data-zoom=reset]")
    page.screenshot(path=str(ARTIFACTS / "lineage-graph.png"), full_page=True)

    # The side panel's links lead on: the runs of the selected job.
    page.locator("[data-side]").get_by_role("link", name="Its runs").click()
    page.wait_for_load_state("networkidle")
    assert "/lineage/runs/" in page.url
    assert "Failed" in page.locator("[data-testid=run-table]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "lineage-runs.png"), full_page=True)
