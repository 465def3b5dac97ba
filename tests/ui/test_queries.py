"""List pages cost the same number of queries whatever the number of rows (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from access.actors import Actor
from registry.models import AISystem, Dataset, Model, Prompt, SyntheticGenerator
from registry.services import (
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
    do_set_prompt_alias,
)
from tests.ui.conftest import list_urls, signed_in, url

KIND_MODELS = {
    "system": AISystem,
    "dataset": Dataset,
    "generator": SyntheticGenerator,
    "model": Model,
    "prompt": Prompt,
}


def add_assets(personas, key: str, count: int, start: int) -> None:
    actor = Actor(user=personas.contributor)
    for i in range(start, start + count):
        data = {"name": f"{key} {i:03d}", "owner_team": personas.team, "purpose": "p", "risk_class": "minimal"}
        obj = do_create_asset(KIND_MODELS[key], actor=actor, data=data, tags=[f"tag-{i}", "shared"])
        if key == "dataset":
            do_create_dataset_version(obj, actor=actor, data={"uri": f"s3://b/{i}.csv"})
        elif key == "generator":
            do_create_generator_version(obj, actor=actor, data={"method": "rules"})
        elif key == "model":
            do_create_model_version(obj, actor=actor, data={"label": "x"})
        elif key == "prompt":
            version = do_create_prompt_version(obj, actor=actor, data={"template": "Hi {{ a }}", "commit_message": "m"})
            do_set_prompt_alias(obj, actor=actor, name="production", version=version)


def count_queries(client: Client, page: str) -> int:
    client.get(page)  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("key", sorted(KIND_MODELS))
def test_a_list_page_costs_the_same_queries_for_5_and_30_rows(personas, key: str) -> None:
    client = signed_in(personas.contributor)
    add_assets(personas, key, 5, 0)
    few = count_queries(client, list_urls()[key])
    add_assets(personas, key, 25, 5)
    many = count_queries(client, list_urls()[key])
    assert KIND_MODELS[key].objects.count() == 30
    assert many == few, f"{key}: {few} queries for 5 rows, {many} for 30"


def test_the_dashboard_and_the_audit_trail_cost_the_same_queries_for_more_rows(personas) -> None:
    client = signed_in(personas.contributor)
    add_assets(personas, "system", 5, 0)
    few = [count_queries(client, url("registry:dashboard")), count_queries(client, url("trail:list"))]
    add_assets(personas, "system", 25, 5)
    many = [count_queries(client, url("registry:dashboard")), count_queries(client, url("trail:list"))]
    assert many == few


def test_a_list_page_shows_50_rows_and_pages_on(personas) -> None:
    client = signed_in(personas.contributor)
    add_assets(personas, "dataset", 55, 0)
    first = client.get(list_urls()["dataset"]).content.decode()
    assert first.count('data-testid="row-link"') == 50 and "Page 1 of 2" in first
    second = client.get(list_urls()["dataset"], {"page": 2, "q": "dataset"}).content.decode()
    assert second.count('data-testid="row-link"') == 5
    assert "?q=dataset&amp;page=1" in second or "?page=1&amp;q=dataset" in second


def test_the_filters_of_the_shared_filterset_narrow_the_list(personas) -> None:
    client = signed_in(personas.contributor)
    add_assets(personas, "system", 3, 0)
    do_create_asset(
        AISystem,
        actor=Actor(user=personas.contributor),
        data={"name": "Credit scoring", "owner_team": personas.team, "purpose": "p", "risk_class": "high"},
    )
    body = client.get(list_urls()["system"], {"risk_class": "high"}).content.decode()
    assert body.count('data-testid="row-link"') == 1 and "Credit scoring" in body
    body = client.get(list_urls()["system"], {"tag": "tag-1"}).content.decode()
    assert body.count('data-testid="row-link"') == 1 and "system 001" in body
    body = client.get(list_urls()["system"], {"q": "credit"}).content.decode()
    assert body.count('data-testid="row-link"') == 1
