"""Helpers of the web-UI tests: signed-in clients and the URLs of the catalogue's objects."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Catalogue, Personas


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(view_name: str, /, **kwargs: Any) -> str:
    return reverse(view_name, kwargs=kwargs or None)


def list_urls() -> dict[str, str]:
    return {key: url(f"registry:{key}_list") for key in ("system", "dataset", "generator", "model", "prompt")}


def create_urls(cat: Catalogue) -> dict[str, str]:
    return {
        "system": url("registry:system_create"),
        "dataset": url("registry:dataset_create"),
        "generator": url("registry:generator_create"),
        "model": url("registry:model_create"),
        "prompt": url("registry:prompt_create"),
        "datasetversion": url("registry:datasetversion_create", uuid=cat.dataset.uuid),
        "generatorversion": url("registry:generatorversion_create", uuid=cat.generator.uuid),
        "modelversion": url("registry:modelversion_create", uuid=cat.model.uuid),
        "promptversion": url("registry:promptversion_create", uuid=cat.prompt.uuid),
        "component": url("registry:component_add", uuid=cat.system.uuid),
        "promptalias": url("registry:promptalias_set", uuid=cat.prompt.uuid),
    }


def objects_by_key(cat: Catalogue) -> dict[str, Any]:
    return {
        "system": cat.system,
        "dataset": cat.dataset,
        "generator": cat.generator,
        "model": cat.model,
        "prompt": cat.prompt,
        "datasetversion": cat.dataset_version,
        "generatorversion": cat.generator_version,
        "modelversion": cat.model_version,
        "promptversion": cat.prompt_version,
    }


def detail_urls(cat: Catalogue) -> dict[str, str]:
    urls = {key: url(f"registry:{key}_detail", uuid=obj.uuid) for key, obj in objects_by_key(cat).items()}
    urls["prompt_diff"] = url("registry:prompt_diff", uuid=cat.prompt.uuid)
    return urls


def edit_urls(cat: Catalogue) -> dict[str, str]:
    return {key: url(f"registry:{key}_edit", uuid=obj.uuid) for key, obj in objects_by_key(cat).items()}


def delete_urls(cat: Catalogue) -> dict[str, str]:
    return {key: url(f"registry:{key}_delete", uuid=obj.uuid) for key, obj in objects_by_key(cat).items()}


def component_remove_url(cat: Catalogue) -> str:
    component = cat.system.components.first()
    return url("registry:component_remove", uuid=cat.system.uuid, component=component.uuid)


@pytest.fixture
def contributor(personas: Personas) -> Client:
    return signed_in(personas.contributor)


@pytest.fixture
def auditor(personas: Personas) -> Client:
    return signed_in(personas.auditor)


@pytest.fixture
def outsider(personas: Personas) -> Client:
    return signed_in(personas.outsider)


@pytest.fixture
def officer(personas: Personas) -> Client:
    return signed_in(personas.officer)
