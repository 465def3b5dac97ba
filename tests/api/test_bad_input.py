"""Whatever a client sends, the answer is a 4xx that says what is wrong, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings

from registry.models import AISystem, Dataset, DatasetVersion, ModelVersion, PromptVersion
from tests.api.base import rows
from tests.conftest import Catalogue, Personas

DATASETS = "/api/v1/datasets/"


def post_raw(personas: Personas, url: str, body: bytes | str, content_type: str = "application/json") -> Any:
    return personas.client(personas.contributor).generic("POST", url, body, content_type=content_type)


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "Claims", "owner_team": ',  # truncated
        b"{'name': 'Claims'}",  # not JSON quoting
        b'{"name": NaN, "owner_team": "alpha"}',  # NaN is not JSON
        b'{"name": "\xff\xfe", "owner_team": "alpha"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond the parser's recursion limit
    ],
    ids=["truncated", "single-quotes", "nan", "not-utf8", "deeply-nested"],
)
def test_malformed_json_is_400(personas: Personas, catalogue: Catalogue, body: bytes) -> None:
    counts = rows(Dataset)
    response = post_raw(personas, DATASETS, body)
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert rows(Dataset) == counts


def test_a_json_body_over_the_size_limit_is_413(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(Dataset)
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = post_raw(personas, DATASETS, json.dumps({"name": "Big", "owner_team": "alpha", "description": padding}))
    assert response.status_code == 413
    assert rows(Dataset) == counts


def test_a_json_body_just_under_the_size_limit_is_accepted(personas: Personas, catalogue: Catalogue) -> None:
    body = {"name": "Big", "owner_team": "alpha", "description": ""}
    body["description"] = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - len(json.dumps(body)) - 10)
    response = post_raw(personas, DATASETS, json.dumps(body))
    assert response.status_code == 201, response.json()


def test_a_form_body_over_the_size_limit_is_413(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(Dataset)
    body = "name=Big&owner_team=alpha&description=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = post_raw(personas, DATASETS, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert rows(Dataset) == counts


def test_a_multipart_field_over_the_size_limit_is_413(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(DatasetVersion)
    response = personas.client(personas.contributor).post(
        "/api/v1/dataset-versions/",
        {
            "dataset": str(catalogue.dataset.uuid),
            "uri": "s3://b/x.csv",
            "description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        },
        format="multipart",
    )
    assert response.status_code == 413
    assert rows(DatasetVersion) == counts


def test_an_unsupported_content_type_is_415(personas: Personas, catalogue: Catalogue) -> None:
    response = post_raw(personas, DATASETS, "name=Claims", content_type="text/plain")
    assert response.status_code == 415


def test_form_encoded_bodies_are_accepted_too(personas: Personas, catalogue: Catalogue) -> None:
    response = post_raw(
        personas, DATASETS, "name=Claims&owner_team=alpha", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dataset", "00000000-0000-4000-8000-000000000000", "does not exist"),
        ("dataset", "not-a-uuid", "does not exist"),
        ("dataset", 7, "Invalid value"),
        ("dataset", {"uuid": "x"}, "Invalid value"),
        ("generator_version", "00000000-0000-4000-8000-000000000000", "does not exist"),
    ],
)
def test_unknown_or_malformed_ids_are_400(
    personas: Personas, catalogue: Catalogue, field: str, value: Any, message: str
) -> None:
    body = {"dataset": str(catalogue.dataset.uuid), "uri": "s3://b/x.csv", "origin": "synthetic", field: value}
    counts = rows(DatasetVersion)
    response = personas.client(personas.contributor).post("/api/v1/dataset-versions/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.data[field])
    assert rows(DatasetVersion) == counts


def test_the_id_of_another_kind_of_object_is_400(personas: Personas, catalogue: Catalogue) -> None:
    # A dataset's uuid where a dataset version is expected.
    body = {
        "system": str(catalogue.system.uuid),
        "role": "evaluation_set",
        "dataset_version": str(catalogue.dataset.uuid),
    }
    response = personas.client(personas.contributor).post("/api/v1/system-components/", body, format="json")
    assert response.status_code == 400
    assert "does not exist" in str(response.data["dataset_version"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "owner_team": "alpha", "purpose": "p", "risk_class": "high"}, "name"),
        ({"name": "X" * 201, "owner_team": "alpha", "purpose": "p", "risk_class": "high"}, "name"),
        ({"name": "X", "owner_team": "alpha", "risk_class": "high"}, "purpose"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": None}, "risk_class"),
        ({"name": "X", "owner_team": ["alpha"], "purpose": "p", "risk_class": "high"}, "owner_team"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "owner": 3}, "owner"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "owner": "nobody"}, "owner"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "tags": [["x"]]}, "tags"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "tags": ["!!!"]}, "tags"),
        ({"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "status": 3}, "status"),
    ],
)
def test_invalid_fields_of_an_ai_system_are_400_naming_the_field(
    personas: Personas, catalogue: Catalogue, body: dict[str, Any], field: str
) -> None:
    counts = rows(AISystem)
    response = personas.client(personas.contributor).post("/api/v1/ai-systems/", body, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert rows(AISystem) == counts


def test_an_owner_outside_the_requesters_teams_is_400(personas: Personas, catalogue: Catalogue) -> None:
    body = {"name": "X", "owner_team": "alpha", "purpose": "p", "risk_class": "high", "owner": "outsider"}
    response = personas.client(personas.contributor).post("/api/v1/ai-systems/", body, format="json")
    assert response.status_code == 400
    assert "does not exist" in str(response.data["owner"])
    body["owner"] = "officer"
    response = personas.client(personas.contributor).post("/api/v1/ai-systems/", body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["owner"] == "officer"


def test_a_duplicate_name_within_a_team_is_400_not_500(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(Dataset)
    response = personas.client(personas.contributor).post(
        DATASETS, {"name": catalogue.dataset.name, "owner_team": "alpha"}, format="json"
    )
    assert response.status_code == 400
    assert "__all__" not in response.data
    assert "already exists" in json.dumps(response.data) or "unique" in json.dumps(response.data)
    assert rows(Dataset) == counts


def test_renaming_onto_an_existing_name_is_400_and_changes_nothing(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(Dataset)
    response = personas.client(personas.contributor).patch(
        f"{DATASETS}{catalogue.synthetic_version.dataset.uuid}/", {"name": catalogue.dataset.name}, format="json"
    )
    assert response.status_code == 400
    assert "__all__" not in response.data
    catalogue.synthetic_version.dataset.refresh_from_db()
    assert catalogue.synthetic_version.dataset.name == "Synthetic tickets"
    assert rows(Dataset) == counts


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "Hello {{ customer", "commit_message": "m"}, "template"),
        ({"template": "   ", "commit_message": "m"}, "template"),
        ({"template": "Hi", "commit_message": ""}, "commit_message"),
        ({"template": "Hi", "commit_message": "m", "model_settings": {"temperature": 9}}, "model_settings"),
        ({"template": "Hi", "commit_message": "m", "model_settings": {"top_k": "ten"}}, "model_settings"),
        ({"template": "Hi", "commit_message": "m", "model_settings": ["temperature"]}, "model_settings"),
    ],
)
def test_invalid_prompt_versions_are_400_naming_the_field(
    personas: Personas, catalogue: Catalogue, body: dict[str, Any], field: str
) -> None:
    counts = rows(PromptVersion)
    response = personas.client(personas.contributor).post(
        "/api/v1/prompt-versions/", {"prompt": str(catalogue.prompt.uuid), **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.data, response.data
    assert rows(PromptVersion) == counts


@pytest.mark.parametrize(
    "body",
    [
        {"generator": "GEN", "method": "rules", "parameters": [1, 2]},
        {"generator": "GEN", "method": "alchemy"},
        {"generator": "GEN", "method": "rules", "training_datasets": [None]},
    ],
)
def test_invalid_generator_versions_are_400(personas: Personas, catalogue: Catalogue, body: dict[str, Any]) -> None:
    body = {**body, "generator": str(catalogue.generator.uuid)}
    counts = rows()
    response = personas.client(personas.contributor).post("/api/v1/generator-versions/", body, format="json")
    assert response.status_code == 400
    assert rows() == counts


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"column_schema": "id,name"}, "column_schema"),
        ({"column_schema": [{"type": "integer"}]}, "column_schema"),
        ({"sha256": "xyz"}, "sha256"),
        ({"size_bytes": -1}, "size_bytes"),
        ({"contains_personal_data": "perhaps"}, "contains_personal_data"),
        ({"format": "excel"}, "format"),
    ],
)
def test_invalid_dataset_versions_are_400_naming_the_field(
    personas: Personas, catalogue: Catalogue, body: dict[str, Any], field: str
) -> None:
    counts = rows(DatasetVersion)
    full = {"dataset": str(catalogue.dataset.uuid), "uri": "s3://b/x.csv", **body}
    response = personas.client(personas.contributor).post("/api/v1/dataset-versions/", full, format="json")
    assert response.status_code == 400
    assert field in response.data, response.data
    assert rows(DatasetVersion) == counts


def test_a_component_needs_exactly_one_part(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    base = {"system": str(catalogue.system.uuid), "role": "evaluation_set"}
    assert client.post("/api/v1/system-components/", base, format="json").status_code == 400
    both = {
        **base,
        "dataset_version": str(catalogue.synthetic_version.uuid),
        "model_version": str(catalogue.model_version.uuid),
    }
    assert client.post("/api/v1/system-components/", both, format="json").status_code == 400


def test_a_role_that_does_not_fit_the_part_is_400(personas: Personas, catalogue: Catalogue) -> None:
    body = {
        "system": str(catalogue.system.uuid),
        "role": "primary_model",
        "dataset_version": str(catalogue.synthetic_version.uuid),
    }
    counts = rows()
    response = personas.client(personas.contributor).post("/api/v1/system-components/", body, format="json")
    assert response.status_code == 400
    assert "role" in response.data
    assert rows() == counts


def test_adding_the_same_part_twice_in_the_same_role_is_400(personas: Personas, catalogue: Catalogue) -> None:
    body = {
        "system": str(catalogue.system.uuid),
        "role": "primary_model",
        "model_version": str(catalogue.model_version.uuid),
    }
    counts = rows()
    response = personas.client(personas.contributor).post("/api/v1/system-components/", body, format="json")
    assert response.status_code == 400
    assert rows() == counts


@pytest.mark.parametrize(
    "query",
    [{"risk_class": "extreme"}, {"status": "unknown"}, {"general_purpose_ai": "maybe"}],
)
def test_invalid_list_filters_are_400(personas: Personas, catalogue: Catalogue, query: dict[str, str]) -> None:
    response = personas.client(personas.contributor).get("/api/v1/ai-systems/", query)
    assert response.status_code == 400
    assert next(iter(query)) in response.data


def test_list_filters_from_the_shared_filtersets_apply(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    limited = client.get("/api/v1/ai-systems/", {"risk_class": "limited"}).data["results"]
    assert [row["name"] for row in limited] == ["Support chatbot"]
    assert client.get("/api/v1/ai-systems/", {"risk_class": "high"}).data["results"] == []
    tagged = client.get(DATASETS, {"tag": "pii"}).data["results"]
    assert [row["name"] for row in tagged] == ["Tickets"]
    versions = client.get("/api/v1/model-versions/", {"model": str(catalogue.model.uuid), "stage": "draft"})
    assert [row["uuid"] for row in versions.data["results"]] == [str(catalogue.model_version.uuid)]
    assert client.get("/api/v1/model-versions/", {"stage": "approved"}).data["results"] == []


def test_page_size_is_capped_at_500(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).get(DATASETS, {"page_size": 100_000})
    assert response.status_code == 200
    assert response.data["count"] == 2


def test_a_page_past_the_end_is_404_not_500(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    assert client.get(DATASETS, {"page": 99}).status_code == 404
    assert client.get(DATASETS, {"page": "abc"}).status_code == 404


def test_a_malformed_uuid_in_the_url_is_404(personas: Personas, catalogue: Catalogue) -> None:
    assert personas.client(personas.contributor).get("/api/v1/datasets/42/").status_code == 404


def test_a_transition_to_an_unknown_stage_is_400(personas: Personas, catalogue: Catalogue) -> None:
    url = f"/api/v1/model-versions/{catalogue.model_version.uuid}/transition/"
    counts = rows(ModelVersion)
    response = personas.client(personas.contributor).post(url, {"to_stage": "launched"}, format="json")
    assert response.status_code == 400
    assert "to_stage" in response.data
    response = personas.client(personas.contributor).post(url, ["in_review"], format="json")
    assert response.status_code == 400
    assert rows(ModelVersion) == counts


def test_a_form_with_too_many_fields_is_400(personas: Personas, catalogue: Catalogue) -> None:
    counts = rows(Dataset)
    body = "name=Many&owner_team=alpha&" + "&".join(
        f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)
    )
    response = post_raw(personas, DATASETS, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert rows(Dataset) == counts
