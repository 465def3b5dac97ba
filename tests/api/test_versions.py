"""Versions through the API: immutable once created, protected while in use, uploads profiled."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import DatasetVersion, GeneratorVersion, ModelVersion, PromptVersion
from tests.api.base import rows
from tests.api.conftest import BetaObjects
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry


def detail(basename: str, obj: Any) -> str:
    return reverse(f"registry-api:{basename}-detail", kwargs={"uuid": obj.uuid})


def listing(basename: str) -> str:
    return reverse(f"registry-api:{basename}-list")


def state(obj: Any) -> dict[str, Any]:
    """Every concrete field as stored, to compare before and after a refused change."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}


CONTENT_CHANGES = [
    ("dataset-version", "dataset_version", {"uri": "s3://elsewhere/tickets.csv"}),
    ("dataset-version", "dataset_version", {"sha256": "cd" * 32}),
    ("dataset-version", "dataset_version", {"contains_personal_data": False}),
    ("generator-version", "generator_version", {"parameters": {"n": 1}}),
    ("model-version", "model_version", {"base_model": "gpt-4o"}),
    ("model-version", "model_version", {"training_datasets": []}),
    ("model-version", "model_version", {"stage": "deployed"}),
    ("model-version", "model_version", {"approved_by": "officer"}),
    ("prompt-version", "prompt_version", {"template": "Goodbye {{ customer }}"}),
    ("prompt-version", "prompt_version", {"number": 7}),
]


@pytest.mark.parametrize(("basename", "attr", "body"), CONTENT_CHANGES)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_version_cannot_be_altered_after_creation(
    personas: Personas, catalogue: Catalogue, basename: str, attr: str, body: dict[str, Any], method: str
) -> None:
    version = getattr(catalogue, attr)
    before, counts = state(version), rows()
    client = personas.client(personas.contributor)
    response = getattr(client, method)(detail(basename, version), body, format="json")
    assert response.status_code == 400
    field = next(iter(body))
    assert "immutable" in str(response.data[field]).lower()
    assert state(version) == before
    assert rows() == counts


def test_metadata_sent_together_with_a_content_field_is_not_applied_either(
    personas: Personas, catalogue: Catalogue
) -> None:
    version = catalogue.model_version
    before = state(version)
    response = personas.client(personas.contributor).patch(
        detail("model-version", version), {"description": "new words", "artifact_uri": "s3://x"}, format="json"
    )
    assert response.status_code == 400
    assert "artifact_uri" in response.data
    assert state(version) == before


def test_a_version_description_may_change_and_the_trail_records_the_diff(
    personas: Personas, catalogue: Catalogue
) -> None:
    version = catalogue.dataset_version
    response = personas.client(personas.contributor).patch(
        detail("dataset-version", version), {"description": "Tickets from 2025"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["description"] == "Tickets from 2025"
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.action == "update" and entry.object_id == str(version.uuid)
    assert entry.changes == {"description": {"from": "", "to": "Tickets from 2025"}}


IN_USE = [
    ("dataset-version", "dataset_version", DatasetVersion),
    ("model-version", "model_version", ModelVersion),
    ("prompt-version", "prompt_version", PromptVersion),
]


@pytest.mark.parametrize(("basename", "attr", "model"), IN_USE)
def test_deleting_a_version_an_ai_system_uses_is_409_naming_the_system(
    personas: Personas, catalogue: Catalogue, basename: str, attr: str, model: Any
) -> None:
    version = getattr(catalogue, attr)
    counts = rows(model)
    response = personas.client(personas.contributor).delete(detail(basename, version))
    assert response.status_code == 409
    assert "Support chatbot" in response.data["detail"]
    assert model.objects.filter(pk=version.pk).exists()
    assert rows(model) == counts


def test_deleting_a_dataset_version_a_generator_was_trained_on_is_409(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    # Free it from the AI system first, so only the training link remains.
    component = catalogue.system.components.get(role="knowledge_base")
    assert client.delete(detail("system-component", component)).status_code == 204
    response = client.delete(detail("dataset-version", catalogue.dataset_version))
    assert response.status_code == 409
    assert "trained on it" in response.data["detail"]
    assert DatasetVersion.objects.filter(pk=catalogue.dataset_version.pk).exists()


def test_deleting_a_dataset_whose_version_is_in_use_is_409_and_keeps_everything(
    personas: Personas, catalogue: Catalogue
) -> None:
    counts = rows(DatasetVersion)
    response = personas.client(personas.admin).delete(detail("dataset", catalogue.dataset))
    assert response.status_code == 409
    assert "Support chatbot" in response.data["detail"]
    assert rows(DatasetVersion) == counts


def test_officer_may_not_delete_versions(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.officer).delete(detail("generator-version", catalogue.generator_version))
    assert response.status_code == 403
    assert GeneratorVersion.objects.filter(pk=catalogue.generator_version.pk).exists()


# Dataset versions: upload or reference


CSV = b"id,question,resolved\n1,Where is my order?,true\n2,Refund please,false\n3,Hello,true\n"


def test_an_uploaded_dataset_file_is_hashed_and_profiled(personas: Personas, catalogue: Catalogue) -> None:
    upload = SimpleUploadedFile("tickets.csv", CSV, content_type="text/csv")
    response = personas.client(personas.contributor).post(
        listing("dataset-version"),
        {"dataset": str(catalogue.dataset.uuid), "file": upload, "description": "March export"},
        format="multipart",
    )
    assert response.status_code == 201, response.data
    version = DatasetVersion.objects.get(uuid=response.data["uuid"])
    assert version.sha256 == hashlib.sha256(CSV).hexdigest()
    assert version.size_bytes == len(CSV)
    assert version.row_count == 3
    assert version.format == "csv"
    assert version.column_schema == [
        {"name": "id", "type": "integer"},
        {"name": "question", "type": "string"},
        {"name": "resolved", "type": "boolean"},
    ]
    assert response.data["sha256"] == version.sha256
    assert version.file.read() == CSV
    version.file.delete(save=False)


def test_an_upload_whose_sha256_does_not_match_is_400_and_stores_nothing(
    personas: Personas, catalogue: Catalogue
) -> None:
    counts = rows(DatasetVersion)
    upload = SimpleUploadedFile("tickets.csv", CSV, content_type="text/csv")
    response = personas.client(personas.contributor).post(
        listing("dataset-version"),
        {"dataset": str(catalogue.dataset.uuid), "file": upload, "sha256": "0" * 64},
        format="multipart",
    )
    assert response.status_code == 400
    assert hashlib.sha256(CSV).hexdigest() in str(response.data["sha256"])
    assert rows(DatasetVersion) == counts


def test_a_malformed_csv_upload_is_400_naming_the_line(personas: Personas, catalogue: Catalogue) -> None:
    upload = SimpleUploadedFile("bad.csv", b"a,b\n1,2\n3\n", content_type="text/csv")
    counts = rows(DatasetVersion)
    response = personas.client(personas.contributor).post(
        listing("dataset-version"), {"dataset": str(catalogue.dataset.uuid), "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "Line 3" in str(response.data["file"])
    assert rows(DatasetVersion) == counts


def test_a_dataset_version_needs_a_uri_or_a_file(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).post(
        listing("dataset-version"), {"dataset": str(catalogue.dataset.uuid)}, format="json"
    )
    assert response.status_code == 400
    assert "uri" in response.data


def test_a_referenced_dataset_version_keeps_the_given_hash(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).post(
        listing("dataset-version"),
        {"dataset": str(catalogue.dataset.uuid), "uri": "s3://bucket/t.parquet", "sha256": "AB" * 32},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["sha256"] == "ab" * 32
    assert response.data["number"] == 2


def test_a_synthetic_dataset_version_must_name_its_generator_version(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(personas.contributor)
    body = {"dataset": str(catalogue.dataset.uuid), "uri": "s3://b/s.csv", "origin": "synthetic"}
    response = client.post(listing("dataset-version"), body, format="json")
    assert response.status_code == 400
    assert "generator_version" in response.data
    body["generator_version"] = str(catalogue.generator_version.uuid)
    response = client.post(listing("dataset-version"), body, format="json")
    assert response.status_code == 201, response.data
    assert response.data["generator_version"] == str(catalogue.generator_version.uuid)


@pytest.mark.parametrize(
    ("basename", "field", "beta_attr", "many"),
    [
        ("dataset-version", "generator_version", "generator_version", False),
        ("generator-version", "training_datasets", "dataset_version", True),
        ("model-version", "training_datasets", "dataset_version", True),
        ("model-version", "fine_tuned_from", "model_version", False),
        ("prompt-version", "model_version", "model_version", False),
        ("prompt-version", "parent", "prompt_version", False),
        ("system-component", "model_version", "model_version", False),
    ],
)
def test_referencing_another_teams_object_is_400_as_if_it_did_not_exist(
    personas: Personas,
    catalogue: Catalogue,
    beta: BetaObjects,
    basename: str,
    field: str,
    beta_attr: str,
    many: bool,
) -> None:
    bodies: dict[str, dict[str, Any]] = {
        "dataset-version": {
            "dataset": str(catalogue.dataset.uuid),
            "uri": "s3://b/x.csv",
            "origin": "synthetic",
        },
        "generator-version": {"generator": str(catalogue.generator.uuid), "method": "rules"},
        "model-version": {"model": str(catalogue.model.uuid)},
        "prompt-version": {"prompt": str(catalogue.prompt.uuid), "template": "Hi", "commit_message": "m"},
        "system-component": {"system": str(catalogue.system.uuid), "role": "guardrail_model"},
    }
    reference = str(getattr(beta, beta_attr).uuid)
    body = {**bodies[basename], field: [reference] if many else reference}
    counts = rows(DatasetVersion, GeneratorVersion, ModelVersion, PromptVersion)
    response = personas.client(personas.contributor).post(listing(basename), body, format="json")
    assert response.status_code == 400
    assert "does not exist" in str(response.data[field])
    assert rows(DatasetVersion, GeneratorVersion, ModelVersion, PromptVersion) == counts
