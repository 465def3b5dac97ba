"""Prompt versions through the API: parsed variables, diffs and movable aliases."""

from __future__ import annotations

import pytest

from access.actors import Actor
from registry.models import PromptAlias, PromptVersion
from registry.services import do_create_prompt_version, do_set_prompt_alias
from tests.api.base import rows
from tests.api.conftest import BetaObjects
from tests.conftest import Catalogue, Personas

VERSIONS = "/api/v1/prompt-versions/"


def aliases_url(catalogue: Catalogue, name: str = "") -> str:
    return f"/api/v1/prompts/{catalogue.prompt.uuid}/aliases/" + (f"{name}/" if name else "")


@pytest.fixture
def second(personas: Personas, catalogue: Catalogue) -> PromptVersion:
    return do_create_prompt_version(
        catalogue.prompt,
        actor=Actor(user=personas.contributor),
        data={"template": "Hello {{ customer }}\nYour order {{ order_id }} is late.", "commit_message": "orders"},
    )


def test_a_new_version_reports_its_variables_and_follows_the_latest(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).post(
        VERSIONS,
        {
            "prompt": str(catalogue.prompt.uuid),
            "template": "Dear {{ customer.name }},\n{{ answer }} — {{customer.name}}",
            "commit_message": "sign off",
            "model_version": str(catalogue.model_version.uuid),
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["variables"] == ["customer.name", "answer"]
    assert response.data["number"] == 2
    assert response.data["parent"] == str(catalogue.prompt_version.uuid)
    assert response.data["model_version"] == str(catalogue.model_version.uuid)


def test_a_version_may_be_created_without_a_parent(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).post(
        VERSIONS,
        {"prompt": str(catalogue.prompt.uuid), "template": "Fresh start", "commit_message": "rewrite", "parent": None},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["parent"] is None


def test_variables_cannot_be_set_by_the_client(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).post(
        VERSIONS,
        {"prompt": str(catalogue.prompt.uuid), "template": "Hi {{ a }}", "commit_message": "m", "variables": ["b"]},
        format="json",
    )
    # Read-only fields are ignored on create; what is stored is what the template says.
    assert response.status_code == 201, response.data
    assert PromptVersion.objects.get(uuid=response.data["uuid"]).variables == ["a"]


def test_the_diff_of_two_versions_has_rows_and_unified_text(
    personas: Personas, catalogue: Catalogue, second: PromptVersion
) -> None:
    response = personas.client(personas.auditor).get(
        f"{VERSIONS}{second.uuid}/diff/", {"against": str(catalogue.prompt_version.uuid)}
    )
    assert response.status_code == 200, response.data
    assert response.data["old"] == catalogue.prompt_version.uuid
    assert response.data["new"] == second.uuid
    assert response.data["rows"] == [
        {"op": "equal", "old_no": 1, "new_no": 1, "text": "Hello {{ customer }}"},
        {"op": "insert", "old_no": None, "new_no": 2, "text": "Your order {{ order_id }} is late."},
    ]
    assert "+Your order {{ order_id }} is late." in response.data["unified"]
    assert response.data["unified"].startswith("--- v1\n+++ v2")


def test_a_diff_against_an_invisible_or_missing_version_is_400(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    client = personas.client(personas.contributor)
    url = f"{VERSIONS}{catalogue.prompt_version.uuid}/diff/"
    for params in ({"against": str(beta.prompt_version.uuid)}, {"against": "nope"}, {}):
        response = client.get(url, params)
        assert response.status_code == 400
        assert "against" in response.data


def test_an_outsider_cannot_diff_alphas_versions(personas: Personas, catalogue: Catalogue, beta: BetaObjects) -> None:
    response = personas.client(personas.outsider).get(
        f"{VERSIONS}{catalogue.prompt_version.uuid}/diff/", {"against": str(beta.prompt_version.uuid)}
    )
    assert response.status_code == 404


def test_an_alias_is_set_moved_listed_and_deleted(
    personas: Personas, catalogue: Catalogue, second: PromptVersion
) -> None:
    client = personas.client(personas.contributor)
    response = client.put(
        aliases_url(catalogue, "production"), {"version": str(catalogue.prompt_version.uuid)}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data == {"name": "production", "version": str(catalogue.prompt_version.uuid), "version_number": 1}
    response = client.put(aliases_url(catalogue, "production"), {"version": str(second.uuid)}, format="json")
    assert response.status_code == 200, response.data
    assert PromptAlias.objects.get(prompt=catalogue.prompt, name="production").version == second
    listed = client.get(aliases_url(catalogue)).data
    assert listed == [{"name": "production", "version": str(second.uuid), "version_number": 2}]
    by_alias = client.get(VERSIONS, {"alias": "production"}).data["results"]
    assert [row["uuid"] for row in by_alias] == [str(second.uuid)]
    assert client.get(f"{VERSIONS}{second.uuid}/").data["aliases"] == ["production"]
    assert client.delete(aliases_url(catalogue, "production")).status_code == 204
    assert not PromptAlias.objects.filter(prompt=catalogue.prompt).exists()
    assert client.get(aliases_url(catalogue, "production")).status_code == 404


def test_an_alias_must_point_at_a_version_of_the_same_prompt(
    personas: Personas, catalogue: Catalogue, beta: BetaObjects
) -> None:
    other = do_create_prompt_version(
        beta.prompt, actor=Actor(user=personas.outsider), data={"template": "x", "commit_message": "m"}
    )
    client = personas.client(personas.contributor)
    response = client.put(aliases_url(catalogue, "production"), {"version": str(other.uuid)}, format="json")
    assert response.status_code == 400  # invisible: does not exist
    client = personas.client(personas.admin)
    response = client.put(aliases_url(catalogue, "production"), {"version": str(other.uuid)}, format="json")
    assert response.status_code == 400  # visible to an administrator, but of another prompt
    assert "version" in response.data
    assert not PromptAlias.objects.exists()


def test_an_alias_name_longer_than_60_characters_is_400(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.contributor).put(
        aliases_url(catalogue, "x" * 61), {"version": str(catalogue.prompt_version.uuid)}, format="json"
    )
    assert response.status_code == 400
    assert not PromptAlias.objects.exists()


def test_auditor_and_read_token_cannot_move_aliases(personas: Personas, catalogue: Catalogue) -> None:
    do_set_prompt_alias(
        catalogue.prompt, actor=Actor(user=personas.contributor), name="production", version=catalogue.prompt_version
    )
    counts = rows(PromptAlias)
    for client in (personas.client(personas.auditor), personas.client(token=personas.read_token)):
        body = {"version": str(catalogue.prompt_version.uuid)}
        assert client.put(aliases_url(catalogue, "staging"), body, format="json").status_code == 403
        assert client.delete(aliases_url(catalogue, "production")).status_code == 403
        assert client.get(aliases_url(catalogue, "production")).status_code == 200
    assert rows(PromptAlias) == counts


def test_outsider_gets_404_for_another_teams_aliases(personas: Personas, catalogue: Catalogue) -> None:
    do_set_prompt_alias(
        catalogue.prompt, actor=Actor(user=personas.contributor), name="production", version=catalogue.prompt_version
    )
    client = personas.client(personas.outsider)
    assert client.get(aliases_url(catalogue)).status_code == 404
    assert client.get(aliases_url(catalogue, "production")).status_code == 404
    body = {"version": str(catalogue.prompt_version.uuid)}
    assert client.put(aliases_url(catalogue, "production"), body, format="json").status_code == 404
    assert client.delete(aliases_url(catalogue, "production")).status_code == 404
    assert PromptAlias.objects.count() == 1
