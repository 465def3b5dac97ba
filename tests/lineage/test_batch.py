"""Batches fold in one transaction with one statement per table: the graph must be the one that
folding the same events one by one, in any order, gives."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from typing import Any

import pytest
from django.db import transaction

from access.actors import Actor
from access.choices import TokenScope
from access.services import do_create_api_token
from lineage.ingest import IngestResult, LineageForbidden, ingest_event, ingest_events
from lineage.models import ColumnLineage, Namespace, RawEvent
from lineage.validation import InvalidEvent
from tests.conftest import Personas
from tests.lineage.test_ingest import CLEAN, RAW, URL, column_facet, graph_state, run_event, scenario, schema_facet

pytestmark = pytest.mark.django_db


def fold(batches: list[list[dict[str, Any]]], actor: Actor) -> dict[str, Any]:
    """The graph after the batches, rolled back afterwards."""
    sid = transaction.savepoint()
    for batch in batches:
        ingest_events(copy.deepcopy(batch), actor=actor)
    state = graph_state()
    transaction.savepoint_rollback(sid)
    return state


def two_runs() -> list[dict[str, Any]]:
    """Two runs of the scenario, the second with a parent and different schemas: 8 events sharing rows."""
    first = scenario("3f1b7c9e-1111-4c2a-9d7e-0123456789ab")
    second = scenario("3f1b7c9e-2222-4c2a-9d7e-0123456789ab")
    parent = {
        "parent": {
            "_producer": "p",
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet",
            "run": {"runId": "3f1b7c9e-1111-4c2a-9d7e-0123456789ab"},
            "job": {"namespace": "alpha-pipelines", "name": "etl.clean_tickets"},
        }
    }
    for n, event in enumerate(second):
        event["eventTime"] = event["eventTime"].replace("10:0", "11:0")
        event["run"]["facets"] = parent
        for output in event["outputs"]:
            output["facets"]["schema"] = schema_facet("id", "text", f"extra_{n}")
    return first + second


def test_a_batch_folds_to_the_same_graph_as_its_events_one_by_one(personas: Personas) -> None:
    actor = Actor(user=personas.contributor)
    events = two_runs()
    one_by_one = fold([[event] for event in events], actor)
    assert fold([events], actor) == one_by_one
    assert fold([events[::-1]], actor) == one_by_one
    assert fold([events[5:], events[:5]], actor) == one_by_one
    assert fold([events[::2], events[1::2]], actor) == one_by_one
    (run_a, run_b) = one_by_one["runs"]
    assert {run_a[1], run_b[1]} == {"COMPLETED"}


def test_every_order_inside_a_batch_gives_the_same_graph(personas: Personas) -> None:
    actor = Actor(user=personas.contributor)
    events = scenario(str(uuid.uuid4()))
    expected = fold([[event] for event in events], actor)
    for order in itertools.permutations(events):
        assert fold([list(order)], actor) == expected


def test_column_lineage_keeps_the_latest_transformations_whatever_the_order(personas: Personas) -> None:
    """A(t1, X), B(t2, X), C(t1.5, Y): the latest event says X, so X stays — also when C comes last."""
    actor = Actor(user=personas.contributor)

    def event(time: str, transformation: str) -> dict[str, Any]:
        facet = column_facet({"text": (RAW["namespace"], RAW["name"], "body")})
        facet["fields"]["text"]["inputFields"][0]["transformations"] = [{"type": transformation}]
        output = {**CLEAN, "facets": {"columnLineage": facet}}
        return run_event("COMPLETE", run_id=str(uuid.uuid4()), time=time, inputs=[RAW], outputs=[output])

    events = [
        event("2026-11-20T10:00:00Z", "DIRECT"),
        event("2026-11-20T12:00:00Z", "DIRECT"),
        event("2026-11-20T11:00:00Z", "INDIRECT"),
    ]
    for order in itertools.permutations(events):
        sid = transaction.savepoint()
        for one in order:
            ingest_event(copy.deepcopy(one), actor=actor)
        (pair,) = ColumnLineage.objects.all()
        assert pair.transformations == [{"type": "DIRECT"}], order
        assert pair.event_time.isoformat() == "2026-11-20T12:00:00+00:00"
        transaction.savepoint_rollback(sid)


def test_a_repeated_event_in_a_batch_is_stored_once_and_reported_as_duplicate(personas: Personas) -> None:
    event = scenario(str(uuid.uuid4()))[0]
    reordered = json.loads(json.dumps(event, sort_keys=True))
    actor = Actor(user=personas.contributor)
    first, second, third = ingest_events([event, reordered, copy.deepcopy(event)], actor=actor)
    assert isinstance(first, IngestResult) and first.created
    assert isinstance(second, IngestResult) and not second.created
    assert isinstance(third, IngestResult) and not third.created
    assert first.raw_event.pk == second.raw_event.pk == third.raw_event.pk == RawEvent.objects.get().pk


def test_a_refused_event_does_not_stop_the_batch_nor_claim_namespaces(personas: Personas) -> None:
    alpha = Actor(user=personas.contributor)
    ingest_event(scenario(str(uuid.uuid4()))[0], actor=alpha)  # alpha claims alpha-pipelines
    beta_token = do_create_api_token(
        actor=Actor(user=personas.outsider), team=personas.other_team, name="beta", scope=TokenScope.WRITE
    )
    beta = Actor(user=personas.outsider, token=beta_token.token)
    refused = scenario(str(uuid.uuid4()))[2]
    refused["inputs"] = [{"namespace": "s3://only-the-refused-event", "name": "x"}]
    ours = run_event("START", run_id=str(uuid.uuid4()), time="2026-11-21T10:00:00Z", namespace="beta-pipelines")
    invalid = {"eventType": "START"}
    outcomes = ingest_events([refused, invalid, ours], actor=beta)
    assert isinstance(outcomes[0], LineageForbidden) and outcomes[0].path == "$.job.namespace"
    assert isinstance(outcomes[1], InvalidEvent)
    assert isinstance(outcomes[2], IngestResult) and outcomes[2].created
    assert not Namespace.objects.filter(name="s3://only-the-refused-event").exists()
    assert Namespace.objects.get(name="beta-pipelines").owner_team == personas.other_team
    assert RawEvent.objects.count() == 2


def test_the_batch_endpoint_stores_a_batch_like_single_posts(personas: Personas) -> None:
    client = personas.client(token=personas.write_token)
    events = two_runs()
    response = client.post(f"{URL}/batch", data=json.dumps(events), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["summary"] == {"received": 8, "successful": 8, "failed": 0, "duplicates": 0}
    batch_state = graph_state()
    again = client.post(f"{URL}/batch", data=json.dumps(events), content_type="application/json").json()
    assert again["summary"]["duplicates"] == 8
    assert graph_state() == batch_state
