"""The generic CRUD and permission suite (tests/api/base.py), once for every registry resource."""

from __future__ import annotations

import itertools
from typing import Any

from access.actors import Actor
from registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    Model,
    ModelVersion,
    Prompt,
    PromptVersion,
    SyntheticGenerator,
    SystemComponent,
)
from registry.services import (
    do_add_component,
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
)
from tests.api.base import ResourceSuite
from tests.conftest import Catalogue

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_serial)}"


class AssetSuite(ResourceSuite):
    parent_field = "owner_team"
    extra: dict[str, Any] = {}

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {"name": unique("Created"), "owner_team": "alpha", "tags": ["api", "gdpr"], **self.extra}

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "tags": "not-a-list"}, "tags"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        team = c.dataset.owner_team
        return do_create_asset(
            self.model, actor=actor, data={"name": unique("Spare"), "owner_team": team, **self.extra}
        )

    def test_created_asset_carries_its_tags_and_team(self, personas: Any, catalogue: Catalogue) -> None:
        response = personas.client(personas.contributor).post(
            self.list_url(), self.create_body(catalogue), format="json"
        )
        assert response.status_code == 201, response.data
        obj = self.model._default_manager.get(uuid=response.data["uuid"])
        assert sorted(obj.tags.values_list("slug", flat=True)) == ["api", "gdpr"]
        assert obj.owner_team.slug == "alpha"
        assert response.data["owner_team"] == "alpha"
        assert response.data["created_by"] == "contributor"


class TestAISystems(AssetSuite):
    basename = "ai-system"
    model = AISystem
    extra = {"purpose": "Screen payments", "risk_class": "high"}

    def existing(self, c: Catalogue) -> Any:
        return c.system

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "risk_class": "extreme"}, "risk_class"

    def test_detail_lists_the_components(self, personas: Any, catalogue: Catalogue) -> None:
        response = personas.client(personas.auditor).get(self.detail_url(catalogue.system))
        roles = {(row["role"], row["version"]) for row in response.data["components"]}
        assert roles == {
            ("knowledge_base", str(catalogue.dataset_version.uuid)),
            ("primary_model", str(catalogue.model_version.uuid)),
            ("system_prompt", str(catalogue.prompt_version.uuid)),
        }


class TestDatasets(AssetSuite):
    basename = "dataset"
    model = Dataset

    def existing(self, c: Catalogue) -> Any:
        return c.dataset


class TestGenerators(AssetSuite):
    basename = "generator"
    model = SyntheticGenerator

    def existing(self, c: Catalogue) -> Any:
        return c.generator


class TestModels(AssetSuite):
    basename = "model"
    model = Model
    extra = {"provider": "in-house"}

    def existing(self, c: Catalogue) -> Any:
        return c.model

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "provider": {"name": "acme"}}, "provider"


class TestPrompts(AssetSuite):
    basename = "prompt"
    model = Prompt

    def existing(self, c: Catalogue) -> Any:
        return c.prompt


class TestDatasetVersions(ResourceSuite):
    basename = "dataset-version"
    model = DatasetVersion
    parent_field = "dataset"

    def existing(self, c: Catalogue) -> Any:
        return c.dataset_version

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {
            "dataset": str(c.dataset.uuid),
            "uri": "s3://bucket/tickets-v2.csv",
            "sha256": "ab" * 32,
            "format": "csv",
            "row_count": 10,
            "column_schema": [{"name": "id", "type": "integer"}],
            "origin": "collected",
            "contains_personal_data": True,
        }

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "row_count": "many"}, "row_count"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        return do_create_dataset_version(c.dataset, actor=actor, data={"uri": f"s3://bucket/{unique('v')}.csv"})


class TestGeneratorVersions(ResourceSuite):
    basename = "generator-version"
    model = GeneratorVersion
    parent_field = "generator"

    def existing(self, c: Catalogue) -> Any:
        return c.generator_version

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {
            "generator": str(c.generator.uuid),
            "method": "ctgan",
            "software": "sdv 1.17",
            "parameters": {"epochs": 10},
            "training_datasets": [str(c.dataset_version.uuid)],
        }

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "training_datasets": str(c.dataset_version.uuid)}, "training_datasets"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        return do_create_generator_version(
            c.generator, actor=actor, data={"method": "rules"}, training_datasets=[c.dataset_version]
        )


class TestModelVersions(ResourceSuite):
    basename = "model-version"
    model = ModelVersion
    parent_field = "model"

    def existing(self, c: Catalogue) -> Any:
        return c.model_version

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {
            "model": str(c.model.uuid),
            "label": "2026-10",
            "base_model": "llama-3.1-8b",
            "fine_tuned_from": str(c.model_version.uuid),
            "training_datasets": [str(c.dataset_version.uuid), str(c.synthetic_version.uuid)],
            "parameter_count": 8_000_000_000,
        }

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "parameter_count": "lots"}, "parameter_count"

    def update_body(self) -> dict[str, Any]:
        return {"description": "Changed through the API", "serving_endpoint": "https://llm.internal/v2"}

    def assert_updated(self, obj: Any) -> None:
        assert obj.description == "Changed through the API"
        assert obj.serving_endpoint == "https://llm.internal/v2"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        return do_create_model_version(c.model, actor=actor, data={"base_model": "llama"}, training_datasets=[])

    def test_created_version_records_its_lineage(self, personas: Any, catalogue: Catalogue) -> None:
        response = personas.client(personas.contributor).post(
            self.list_url(), self.create_body(catalogue), format="json"
        )
        assert response.status_code == 201, response.data
        version = ModelVersion.objects.get(uuid=response.data["uuid"])
        assert version.fine_tuned_from == catalogue.model_version
        assert set(version.training_datasets.all()) == {catalogue.dataset_version, catalogue.synthetic_version}
        assert version.number == 2 and version.stage == "draft"


class TestPromptVersions(ResourceSuite):
    basename = "prompt-version"
    model = PromptVersion
    parent_field = "prompt"

    def existing(self, c: Catalogue) -> Any:
        return c.prompt_version

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {
            "prompt": str(c.prompt.uuid),
            "template": "Hello {{ customer }}, about {{ topic }}",
            "commit_message": "mention the topic",
            "model_settings": {"temperature": 0.2},
        }

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "template": ["not", "text"]}, "template"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        data = {"template": f"Hi {{{{ name }}}} #{next(_serial)}", "commit_message": "spare"}
        return do_create_prompt_version(c.prompt, actor=actor, data=data)


class TestSystemComponents(ResourceSuite):
    basename = "system-component"
    model = SystemComponent
    parent_field = "system"
    updatable = False

    def existing(self, c: Catalogue) -> Any:
        return c.system.components.get(role="knowledge_base")

    def create_body(self, c: Catalogue) -> dict[str, Any]:
        return {
            "system": str(c.system.uuid),
            "role": "evaluation_set",
            "dataset_version": str(c.synthetic_version.uuid),
            "notes": "held-out questions",
        }

    def wrong_types_body(self, c: Catalogue) -> tuple[dict[str, Any], str]:
        return {**self.create_body(c), "dataset_version": 12}, "dataset_version"

    def make_unused(self, c: Catalogue, actor: Actor) -> Any:
        version = do_create_dataset_version(c.dataset, actor=actor, data={"uri": f"s3://bucket/{unique('r')}.csv"})
        return do_add_component(c.system, actor=actor, role="reference_data", part=version)
