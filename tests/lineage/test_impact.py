"""Impact analysis: from a raw dataset version, through registry records and lineage, to AI systems."""

from __future__ import annotations

import uuid

import pytest

from access.actors import Actor
from lineage.impact import downstream_impact, version_lineage
from lineage.ingest import ingest_event
from registry.models import AISystem, Dataset, Model
from registry.services import do_add_component, do_create_asset, do_create_dataset_version, do_create_model_version
from tests.conftest import Catalogue, Personas
from tests.lineage.test_ingest import run_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(personas: Personas, catalogue: Catalogue) -> dict[str, object]:
    """tickets.csv —(anonymise job)→ kb.parquet, registered as its own dataset; a second model and system use it."""
    actor = Actor(user=personas.contributor)
    token_actor = Actor(user=personas.contributor, token=None)
    ingest_event(
        run_event(
            "COMPLETE",
            run_id=str(uuid.uuid4()),
            time="2026-11-20T10:00:00Z",
            job="anonymise_tickets",
            inputs=[{"namespace": "s3://bucket", "name": "tickets.csv"}],
            outputs=[{"namespace": "s3://bucket", "name": "kb.parquet"}],
        ),
        actor=token_actor,
    )
    kb = do_create_asset(Dataset, actor=actor, data={"name": "Knowledge base", "owner_team": personas.team})
    kb_v = do_create_dataset_version(kb, actor=actor, data={"uri": "s3://bucket/kb.parquet", "origin": "annotated"})
    rag = do_create_asset(Model, actor=actor, data={"name": "Embedder", "owner_team": personas.team, "provider": "x"})
    rag_v = do_create_model_version(rag, actor=actor, data={"base_model": "e5"}, training_datasets=[kb_v])
    system = do_create_asset(
        AISystem,
        actor=actor,
        data={"name": "Search assistant", "owner_team": personas.team, "purpose": "Search", "risk_class": "minimal"},
    )
    do_add_component(system, actor=actor, role="primary_model", part=rag_v)
    return {"kb_v": kb_v, "rag_v": rag_v, "system": system}


def test_impact_reaches_systems_through_registry_records_and_lineage(
    personas: Personas, catalogue: Catalogue, built: dict[str, object]
) -> None:
    found = downstream_impact(Actor(user=personas.officer), dataset_version=catalogue.dataset_version)
    assert {s.name for s in found.systems} == {"Support chatbot", "Search assistant"}
    assert set(found.model_versions) == {catalogue.model_version, built["rag_v"]}
    assert set(found.dataset_versions) == {catalogue.synthetic_version, built["kb_v"]}
    assert found.generator_versions == [catalogue.generator_version]
    assert [j.name for j in found.jobs] == ["anonymise_tickets"]


def test_the_impact_api_and_its_visibility(personas: Personas, catalogue: Catalogue, built: dict[str, object]) -> None:
    url = "/api/v1/lineage/impact"
    response = personas.client(user=personas.auditor).get(url, {"datasetVersion": str(catalogue.dataset_version.uuid)})
    assert response.status_code == 200
    assert {s["name"] for s in response.json()["aiSystems"]} == {"Support chatbot", "Search assistant"}
    outsider = personas.client(user=personas.outsider)
    assert outsider.get(url, {"datasetVersion": str(catalogue.dataset_version.uuid)}).status_code == 404
    assert outsider.get(url, {"datasetVersion": "not-a-uuid"}).status_code == 404
    assert outsider.get(url).status_code == 400


def test_a_version_page_sees_its_upstream_and_downstream(
    personas: Personas, catalogue: Catalogue, built: dict[str, object]
) -> None:
    actor = Actor(user=personas.officer)
    down = version_lineage(actor, dataset_version=catalogue.dataset_version)
    assert [d.name for d in down.nodes] == ["tickets.csv"]
    assert [d.name for d in down.downstream] == ["kb.parquet"]
    up = version_lineage(actor, dataset_version=built["kb_v"])  # type: ignore[arg-type]
    assert [d.name for d in up.upstream] == ["tickets.csv"]
    assert [j.name for j in up.upstream_jobs] == ["anonymise_tickets"]
    assert version_lineage(Actor(user=personas.outsider), dataset_version=catalogue.dataset_version).nodes == []
