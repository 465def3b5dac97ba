"""Outsiders get 404 for another team's objects everywhere; read-only roles cannot write."""

from __future__ import annotations

import pytest
from django.test import Client

from registry.models import AISystem, Dataset, DatasetVersion, ModelVersion, Prompt, PromptVersion, SystemComponent
from tests.ui.conftest import (
    component_remove_url,
    create_urls,
    delete_urls,
    detail_urls,
    edit_urls,
    list_urls,
    objects_by_key,
    url,
)

OBJECT_KEYS = sorted(
    [
        "system",
        "dataset",
        "generator",
        "model",
        "prompt",
        "datasetversion",
        "generatorversion",
        "modelversion",
        "promptversion",
    ]
)
ASSET_KEYS = ["dataset", "generator", "model", "prompt", "system"]


def every_object_url(catalogue) -> list[str]:
    creates = create_urls(catalogue)
    return [
        *detail_urls(catalogue).values(),
        *edit_urls(catalogue).values(),
        *delete_urls(catalogue).values(),
        *(creates[key] for key in ("datasetversion", "generatorversion", "modelversion", "promptversion")),
        creates["component"],
        creates["promptalias"],
        component_remove_url(catalogue),
    ]


def test_an_outsider_gets_404_on_every_page_of_another_teams_objects(catalogue, outsider: Client) -> None:
    for page in every_object_url(catalogue):
        assert outsider.get(page).status_code == 404, page


def test_an_outsider_gets_404_when_posting_to_another_teams_objects(catalogue, outsider: Client) -> None:
    pages = [
        *every_object_url(catalogue),
        url("registry:modelversion_transition", uuid=catalogue.model_version.uuid),
        url("registry:promptalias_delete", uuid=catalogue.prompt.uuid, name="production"),
    ]
    for page in pages:
        assert outsider.post(page, {"name": "x", "to_stage": "in_review"}).status_code == 404, page
    assert AISystem.objects.filter(pk=catalogue.system.pk).exists()
    assert SystemComponent.objects.filter(system=catalogue.system).count() == 3


def test_an_outsider_does_not_see_another_teams_objects_in_lists_or_search(
    catalogue, personas, outsider: Client
) -> None:
    from access.actors import Actor
    from registry.services import do_create_asset

    do_create_asset(
        Dataset, actor=Actor(user=personas.outsider), data={"name": "Beta tickets", "owner_team": personas.other_team}
    )
    for key, page in list_urls().items():
        body = outsider.get(page).content.decode()
        assert str(objects_by_key(catalogue)[key].uuid) not in body, key
        if key != "dataset":
            assert 'data-testid="row-link"' not in body, key
    assert "Beta tickets" in outsider.get(list_urls()["dataset"]).content.decode()
    assert "Support chatbot" not in outsider.get(list_urls()["system"]).content.decode()
    for query in ("Tickets", "Support", "pii", "chatbot"):
        body = outsider.get(url("registry:search"), {"q": query}).content.decode()
        assert 'data-testid="search-hit"' not in body or "Beta tickets" in body
        for obj in objects_by_key(catalogue).values():
            assert str(getattr(obj, "uuid", "")) not in body
    assert "Beta tickets" in outsider.get(url("registry:search"), {"q": "tickets"}).content.decode()


def test_an_outsider_sees_no_counts_or_changes_of_another_team_on_the_dashboard(catalogue, outsider: Client) -> None:
    body = outsider.get(url("registry:dashboard")).content.decode()
    assert "Support chatbot" not in body and "Tickets" not in body
    assert 'data-testid="count-system"' in body


def test_form_choices_offer_only_what_the_user_can_see(catalogue, personas) -> None:
    from access.actors import Actor
    from registry.services import do_create_asset, do_create_dataset_version

    beta = Actor(user=personas.outsider)
    theirs = do_create_asset(Dataset, actor=beta, data={"name": "Beta data", "owner_team": personas.other_team})
    do_create_dataset_version(theirs, actor=beta, data={"uri": "s3://beta/data.csv"})
    from tests.ui.conftest import signed_in

    page = signed_in(personas.contributor).get(create_urls(catalogue)["component"]).content.decode()
    assert "Tickets v1" in page and "Beta data" not in page
    page = signed_in(personas.outsider).get(url("registry:modelversion_create", uuid=catalogue.model.uuid))
    assert page.status_code == 404
    form_page = signed_in(personas.contributor).get(url("registry:system_create")).content.decode()
    assert ">Alpha</option>" in form_page and ">Beta</option>" not in form_page


def test_a_component_cannot_be_added_from_a_version_the_user_cannot_see(catalogue, personas, contributor) -> None:
    from access.actors import Actor
    from registry.services import do_create_asset, do_create_dataset_version

    beta = Actor(user=personas.outsider)
    theirs = do_create_asset(Dataset, actor=beta, data={"name": "Beta data", "owner_team": personas.other_team})
    version = do_create_dataset_version(theirs, actor=beta, data={"uri": "s3://beta/data.csv"})
    response = contributor.post(
        create_urls(catalogue)["component"], {"role": "knowledge_base", "part": f"dataset:{version.uuid}"}
    )
    assert response.status_code == 200
    assert not SystemComponent.objects.filter(dataset_version=version).exists()


@pytest.mark.parametrize("key", ASSET_KEYS)
def test_an_auditor_gets_403_on_create_posts(catalogue, auditor: Client, key: str) -> None:
    assert auditor.get(create_urls(catalogue)[key]).status_code == 403
    assert auditor.post(create_urls(catalogue)[key], {"name": "Nope"}).status_code == 403


@pytest.mark.parametrize("key", OBJECT_KEYS)
def test_an_auditor_gets_403_on_edit_and_delete_posts(catalogue, auditor: Client, key: str) -> None:
    assert auditor.get(edit_urls(catalogue)[key]).status_code == 403
    assert auditor.post(edit_urls(catalogue)[key], {"name": "Renamed", "description": "x"}).status_code == 403
    assert auditor.post(delete_urls(catalogue)[key]).status_code == 403
    obj = objects_by_key(catalogue)[key]
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_an_auditor_gets_403_on_the_other_write_urls(catalogue, auditor: Client) -> None:
    creates = create_urls(catalogue)
    for key in ("datasetversion", "generatorversion", "modelversion", "promptversion", "component", "promptalias"):
        assert auditor.post(creates[key], {}).status_code == 403, key
    assert auditor.post(component_remove_url(catalogue)).status_code == 403
    transition = url("registry:modelversion_transition", uuid=catalogue.model_version.uuid)
    assert auditor.post(transition, {"to_stage": "in_review"}).status_code == 403
    assert ModelVersion.objects.get(pk=catalogue.model_version.pk).stage == "draft"
    assert DatasetVersion.objects.count() == 2 and PromptVersion.objects.count() == 1


@pytest.mark.parametrize("key", OBJECT_KEYS)
def test_an_auditor_sees_no_edit_or_delete_buttons(catalogue, auditor: Client, key: str) -> None:
    response = auditor.get(detail_urls(catalogue)[key])
    assert response.status_code == 200
    body = response.content.decode()
    for marker in (
        'data-testid="edit-button"',
        'data-testid="delete-button"',
        'data-testid="new-version-button"',
        'data-testid="add-component-button"',
        'data-testid="metadata-form"',
        'data-testid="stage-form"',
        'data-testid="alias-form"',
    ):
        assert marker not in body, marker


@pytest.mark.parametrize("key", ASSET_KEYS)
def test_an_auditor_sees_no_create_button_on_lists(catalogue, auditor: Client, key: str) -> None:
    assert 'data-testid="create-button"' not in auditor.get(list_urls()[key]).content.decode()


def test_the_contributor_sees_the_edit_buttons(catalogue, contributor: Client) -> None:
    body = contributor.get(detail_urls(catalogue)["system"]).content.decode()
    assert 'data-testid="edit-button"' in body and 'data-testid="delete-button"' in body
    assert 'data-testid="create-button"' in contributor.get(list_urls()["system"]).content.decode()


def test_an_officer_can_edit_but_sees_no_delete_button_and_cannot_delete(catalogue, officer: Client) -> None:
    body = officer.get(detail_urls(catalogue)["prompt"]).content.decode()
    assert 'data-testid="edit-button"' in body and 'data-testid="delete-button"' not in body
    assert officer.post(delete_urls(catalogue)["prompt"]).status_code == 403
    assert Prompt.objects.filter(pk=catalogue.prompt.pk).exists()
