"""The demo ships lineage: from the raw tickets, impact analysis reaches the fine-tuned model."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from access.actors import Actor
from lineage import graph
from lineage.demo import FINE_TUNED, RAW_TICKETS, demo_events, load_demo_lineage
from lineage.ingest import LineageForbidden, ingest_event
from lineage.models import LineageDataset, RawEvent, Run, RunState, dataset_uri
from registry.models import DatasetVersion, ModelVersion

pytestmark = pytest.mark.django_db

RAW_NODE = f"dataset:{RAW_TICKETS[0]}:{RAW_TICKETS[1]}"
MODEL_NODE = f"dataset:{FINE_TUNED[0]}:{FINE_TUNED[1]}"


def test_load_demo_feeds_the_pipeline_lineage_and_every_run_completes() -> None:
    call_command("load_demo", stdout=None)
    runs = Run.objects.select_related("job__namespace")
    assert {r.job.name for r in runs} == {
        "soporte.anonimizar_tickets",
        "soporte.generar_tickets_sinteticos",
        "soporte.construir_conjunto_evaluacion",
        "soporte.ajustar_modelo",
        "soporte.etiquetar_derivaciones",  # added by the audits demo: the fairness predictions
        "soporte.apartar_muestra_control",  # and the synthetic pilot's holdout sample and run
        "soporte.generar_piloto_tabular",
    }
    assert {r.state for r in runs} == {RunState.COMPLETED}
    assert RawEvent.objects.count() == len(demo_events()) + 6


def test_impact_from_the_raw_tickets_reaches_the_fine_tuned_model() -> None:
    call_command("load_demo", stdout=None)
    contributor = get_user_model().objects.get(username="contributor")
    nodes = {n["id"] for n in graph.lineage(RAW_NODE, 20, Actor(user=contributor))["graph"]}
    assert MODEL_NODE in nodes
    assert "job:unaempresa-pipelines:soporte.ajustar_modelo" in nodes
    raw = LineageDataset.objects.get(uri=dataset_uri(*RAW_TICKETS))
    downstream, _jobs = graph.walk_datasets([raw.pk], "out", None)
    reached = set(LineageDataset.objects.filter(pk__in=downstream).values_list("uri", flat=True))
    assert dataset_uri(*FINE_TUNED) in reached


def test_the_lineage_datasets_match_the_registered_versions_by_uri() -> None:
    call_command("load_demo", stdout=None)
    lineage_uris = set(LineageDataset.objects.values_list("uri", flat=True))
    assert set(DatasetVersion.objects.values_list("uri", flat=True)) <= lineage_uris
    assert set(ModelVersion.objects.values_list("artifact_uri", flat=True)) <= lineage_uris


def test_feeding_the_demo_lineage_again_stores_nothing_new() -> None:
    call_command("load_demo", stdout=None)
    team = Run.objects.first().job.namespace.owner_team  # type: ignore[union-attr]
    results = load_demo_lineage(team=team, actor=Actor.for_system("load_demo"))
    assert not any(r.created for r in results)


def test_only_a_system_actor_may_name_the_writing_team() -> None:
    call_command("load_demo", stdout=None)
    contributor = get_user_model().objects.get(username="contributor")
    team = Run.objects.first().job.namespace.owner_team  # type: ignore[union-attr]
    with pytest.raises(LineageForbidden):
        ingest_event(demo_events()[0], actor=Actor(user=contributor), team=team)


def test_impact_from_the_raw_tickets_version_reaches_the_demo_ai_system() -> None:
    from lineage.impact import downstream_impact
    from registry.demo import SYSTEM_NAME

    call_command("load_demo", stdout=None)
    officer = get_user_model().objects.get(username="officer")
    raw = DatasetVersion.objects.get(uri=dataset_uri(*RAW_TICKETS))
    found = downstream_impact(Actor(user=officer), dataset_version=raw)
    assert SYSTEM_NAME in {s.name for s in found.systems}
    # Through lineage: the anonymisation job wrote the knowledge base, the fine-tuning job the model.
    assert "soporte.anonimizar_tickets" in {j.name for j in found.jobs}
    assert dataset_uri(*FINE_TUNED) in {v.artifact_uri for v in found.model_versions}
    knowledge_base = "s3://unaempresa-datos/soporte/base-conocimiento/v1/articulos.jsonl"
    assert knowledge_base in {v.uri for v in found.dataset_versions}
