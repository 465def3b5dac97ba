"""Creating and changing things through the pages: every write goes through a service and is audited."""

from __future__ import annotations

import json

from django.test import Client

from registry.models import (
    AISystem,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    ModelVersion,
    PromptAlias,
    PromptVersion,
    SystemComponent,
)
from tests.ui.conftest import create_urls, detail_urls, edit_urls, url
from trail.models import AuditEntry


def latest_entry() -> AuditEntry:
    return AuditEntry.objects.order_by("-seq").first()


def test_creating_an_ai_system_through_the_form_writes_an_audit_entry(personas, contributor: Client) -> None:
    response = contributor.post(
        url("registry:system_create"),
        {
            "name": "Fraud screening",
            "purpose": "Flag suspicious payments",
            "risk_class": "high",
            "general_purpose_ai": "none",
            "status": "planned",
            "owner_team": personas.team.pk,
            "owner": personas.officer.pk,
            "tags": "payments, Fraud , payments",
        },
    )
    system = AISystem.objects.get(name="Fraud screening")
    assert response.status_code == 302 and response["Location"] == detail_urls_for(system)
    assert sorted(system.tags.values_list("slug", flat=True)) == ["fraud", "payments"]
    assert system.owner == personas.officer
    entry = latest_entry()
    assert (entry.action, entry.object_id, entry.actor_label) == ("create", str(system.uuid), "contributor")
    assert entry.changes["risk_class"] == "high"


def detail_urls_for(obj) -> str:
    from registry.views.base import detail_url

    return detail_url(obj)


def test_editing_an_asset_through_the_form_records_the_diff(catalogue, contributor: Client) -> None:
    response = contributor.post(
        edit_urls(catalogue)["dataset"],
        {
            "name": "Support tickets",
            "description": "CRM export",
            "owner_team": catalogue.dataset.owner_team.pk,
            "tags": "pii, crm",
        },
    )
    assert response.status_code == 302
    entry = latest_entry()
    assert entry.action == "update" and entry.object_id == str(catalogue.dataset.uuid)
    assert entry.changes["name"] == {"from": "Tickets", "to": "Support tickets"}
    assert entry.changes["tags"] == {"from": ["pii"], "to": ["crm", "pii"]}
    page = contributor.get(response["Location"]).content.decode()
    assert "Support tickets" in page and "Changes to “Support tickets” saved." in page


def test_the_edit_form_starts_from_the_current_values_and_tags(catalogue, contributor: Client) -> None:
    page = contributor.get(edit_urls(catalogue)["dataset"]).content.decode()
    assert 'value="Tickets"' in page and 'value="pii"' in page


def test_a_duplicate_name_is_shown_on_the_form_and_nothing_is_created(catalogue, personas, contributor: Client) -> None:
    before = AuditEntry.objects.count()
    response = contributor.post(url("registry:dataset_create"), {"name": "Tickets", "owner_team": personas.team.pk})
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert Dataset.objects.filter(name="Tickets").count() == 1
    assert AuditEntry.objects.count() == before


def test_a_team_outside_the_users_teams_is_refused_by_the_form(catalogue, personas, contributor: Client) -> None:
    response = contributor.post(
        url("registry:dataset_create"), {"name": "Elsewhere", "owner_team": personas.other_team.pk}
    )
    assert response.status_code == 200
    assert 'data-testid="error-owner_team"' in response.content.decode()
    assert not Dataset.objects.filter(name="Elsewhere").exists()


def test_creating_each_kind_of_version_through_its_form_is_audited(catalogue, contributor: Client) -> None:
    creates = create_urls(catalogue)
    posts = {
        "datasetversion": {
            "uri": "s3://bucket/tickets-2.csv",
            "format": "csv",
            "origin": "collected",
            "column_schema": '[{"name": "id", "type": "integer"}]',
        },
        "generatorversion": {
            "method": "ctgan",
            "parameters": '{"epochs": 300}',
            "training_datasets": [catalogue.dataset_version.pk],
        },
        "modelversion": {
            "label": "2026-11",
            "base_model": "llama",
            "modality": "text",
            "training_datasets": [catalogue.dataset_version.pk],
        },
        "promptversion": {
            "template": "Hi {{ name }}\nBye",
            "commit_message": "Say bye",
            "model_settings": '{"temperature": 0.2}',
        },
    }
    for key, data in posts.items():
        response = contributor.post(creates[key], data)
        assert response.status_code == 302, (key, response.content.decode()[-3000:])
        entry = latest_entry()
        assert entry.action == "create" and entry.object_type == f"registry.{key}", key
    assert DatasetVersion.objects.get(dataset=catalogue.dataset, number=2).column_schema == [
        {"name": "id", "type": "integer"}
    ]
    generator_version = GeneratorVersion.objects.get(generator=catalogue.generator, number=2)
    assert generator_version.parameters == {"epochs": 300}
    assert list(generator_version.training_datasets.all()) == [catalogue.dataset_version]
    assert ModelVersion.objects.get(model=catalogue.model, number=2).label == "2026-11"
    prompt_version = PromptVersion.objects.get(prompt=catalogue.prompt, number=2)
    assert prompt_version.variables == ["name"] and prompt_version.parent == catalogue.prompt_version


def test_invalid_json_is_reported_on_its_field_and_nothing_is_created(catalogue, contributor: Client) -> None:
    response = contributor.post(
        create_urls(catalogue)["generatorversion"], {"method": "ctgan", "parameters": '{"epochs": }'}
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="error-parameters"' in body
    assert "This is not valid JSON" in body and "line 1, column 12" in body
    response = contributor.post(create_urls(catalogue)["generatorversion"], {"method": "ctgan", "parameters": "[1, 2]"})
    assert "Enter a JSON object" in response.content.decode()
    assert GeneratorVersion.objects.filter(generator=catalogue.generator).count() == 1


def test_a_service_error_is_shown_next_to_its_field(catalogue, contributor: Client) -> None:
    response = contributor.post(
        create_urls(catalogue)["promptversion"], {"template": "Hello {{ 1bad }}", "commit_message": "broken"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="error-template"' in body
    assert "Line 1: “{{” must be followed by a variable name" in body
    response = contributor.post(
        create_urls(catalogue)["datasetversion"], {"uri": "s3://x/y.csv", "origin": "synthetic", "format": "csv"}
    )
    assert 'data-testid="error-generator_version"' in response.content.decode()
    assert PromptVersion.objects.count() == 1 and DatasetVersion.objects.filter(dataset=catalogue.dataset).count() == 1


def test_editing_version_metadata_changes_only_the_metadata(catalogue, contributor: Client) -> None:
    version = catalogue.model_version
    response = contributor.post(
        edit_urls(catalogue)["modelversion"],
        {"description": "Served in production", "serving_endpoint": "https://llm.internal/v1", "base_model": "other"},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.serving_endpoint == "https://llm.internal/v1" and version.base_model == "llama-3.1-8b"
    entry = latest_entry()
    assert entry.action == "update" and set(entry.changes) == {"description", "serving_endpoint"}


def test_adding_and_removing_a_component_is_audited(catalogue, contributor: Client) -> None:
    system = catalogue.system
    response = contributor.post(
        create_urls(catalogue)["component"],
        {"role": "evaluation_set", "part": f"dataset:{catalogue.synthetic_version.uuid}", "notes": "held-out"},
    )
    assert response.status_code == 302
    component = SystemComponent.objects.get(system=system, role="evaluation_set")
    assert latest_entry().changes["components"]["added"]["role"] == "evaluation_set"
    remove = url("registry:component_remove", uuid=system.uuid, component=component.uuid)
    assert contributor.get(remove).status_code == 200
    assert contributor.post(remove).status_code == 302
    assert not SystemComponent.objects.filter(pk=component.pk).exists()
    assert "removed" in latest_entry().changes["components"]


def test_a_role_that_does_not_fit_the_version_is_refused(catalogue, contributor: Client) -> None:
    response = contributor.post(
        create_urls(catalogue)["component"],
        {"role": "primary_model", "part": f"dataset:{catalogue.dataset_version.uuid}"},
    )
    assert response.status_code == 200 and 'data-testid="error-role"' in response.content.decode()
    assert SystemComponent.objects.filter(system=catalogue.system).count() == 3


def test_a_model_version_goes_to_review_and_an_officer_approves_it_with_a_reason(
    catalogue, contributor: Client, officer: Client
) -> None:
    version = catalogue.model_version
    transition = url("registry:modelversion_transition", uuid=version.uuid)
    page = contributor.get(detail_urls(catalogue)["modelversion"]).content.decode()
    assert 'data-testid="stage-in_review"' in page and 'data-testid="stage-approved"' not in page
    assert contributor.post(transition, {"to_stage": "in_review"}).status_code == 302
    version.refresh_from_db()
    assert version.stage == "in_review"

    approvals = officer.get(url("registry:approvals")).content.decode()
    assert str(version) in approvals and 'data-testid="approve-button"' in approvals
    response = officer.post(
        transition, {"to_stage": "approved", "reason": "", "next": url("registry:approvals")}, follow=True
    )
    assert "Approving or rejecting needs a reason for the record." in response.content.decode()
    version.refresh_from_db()
    assert version.stage == "in_review"

    response = officer.post(
        transition, {"to_stage": "approved", "reason": "Licence checked", "next": url("registry:approvals")}
    )
    assert response["Location"] == url("registry:approvals")
    version.refresh_from_db()
    assert version.stage == "approved" and version.approval_reason == "Licence checked"
    assert latest_entry().action == "approve"
    history = officer.get(detail_urls(catalogue)["modelversion"]).content.decode()
    assert "Licence checked" in history and 'data-testid="stage-history"' in history


def test_the_author_of_a_model_version_cannot_approve_it(catalogue, personas) -> None:
    from access.actors import Actor
    from access.choices import Role
    from access.services import do_set_role
    from registry.services import do_transition_model_version
    from tests.conftest import SYSTEM
    from tests.ui.conftest import signed_in

    version = do_transition_model_version(
        catalogue.model_version, actor=Actor(user=personas.contributor), to_stage="in_review"
    )
    do_set_role(actor=SYSTEM, user=personas.contributor, role=Role.OFFICER)
    author = signed_in(personas.contributor)
    page = author.get(url("registry:approvals")).content.decode()
    assert 'data-testid="approve-button"' not in page
    response = author.post(
        url("registry:modelversion_transition", uuid=version.uuid), {"to_stage": "approved", "reason": "mine"}
    )
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.stage == "in_review"


def test_setting_moving_and_removing_a_prompt_alias(catalogue, contributor: Client) -> None:
    from access.actors import Actor
    from registry.services import do_create_prompt_version

    prompt = catalogue.prompt
    v2 = do_create_prompt_version(
        prompt,
        actor=Actor(user=catalogue.prompt.created_by),
        data={"template": "Hi {{ customer }}", "commit_message": "shorter"},
    )
    set_url = create_urls(catalogue)["promptalias"]
    assert contributor.post(set_url, {"name": "production", "version": catalogue.prompt_version.pk}).status_code == 302
    assert contributor.post(set_url, {"name": "production", "version": v2.pk}).status_code == 302
    assert PromptAlias.objects.get(prompt=prompt, name="production").version == v2
    assert latest_entry().changes == {"alias:production": {"from": 1, "to": 2}}
    assert contributor.post(set_url, {"name": "not a slug!", "version": v2.pk}).status_code == 200
    delete = url("registry:promptalias_delete", uuid=prompt.uuid, name="production")
    assert contributor.post(delete).status_code == 302
    assert not PromptAlias.objects.filter(prompt=prompt).exists()


def test_a_token_is_created_for_one_of_the_users_teams_and_its_key_is_shown_once(personas, contributor: Client) -> None:
    from access.models import ApiToken

    response = contributor.post(
        url("access:token_list"), {"name": "nightly dbt", "team": personas.team.pk, "scope": "write"}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    token = ApiToken.objects.get(name="nightly dbt")
    assert 'data-testid="token-key"' in body and f'value="{token.prefix}' in body
    listing = contributor.get(url("access:token_list")).content.decode()
    assert "nightly dbt" in listing and 'data-testid="token-key"' not in listing
    assert latest_entry().object_type == "access.apitoken"

    refused = contributor.post(
        url("access:token_list"), {"name": "elsewhere", "team": personas.other_team.pk, "scope": "read"}
    )
    assert refused.status_code == 200 and 'data-testid="error-team"' in refused.content.decode()


def test_a_token_is_revoked_by_its_owner_and_is_404_for_anyone_else(
    personas, contributor: Client, outsider: Client
) -> None:
    from access.models import ApiToken

    token = ApiToken.objects.filter(user=personas.contributor, revoked_at__isnull=True).first()
    revoke = url("access:token_revoke", uuid=token.uuid)
    assert outsider.post(revoke).status_code == 404
    assert contributor.get(revoke).status_code == 405
    assert contributor.post(revoke).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and latest_entry().action == "revoke"


def test_the_json_textarea_shows_the_stored_value_pretty_printed(catalogue, contributor: Client) -> None:
    page = contributor.get(create_urls(catalogue)["promptversion"]).content.decode()
    # A new prompt version starts from the latest wording.
    assert "Hello {{ customer }}" in page
    assert json.dumps({}) in page or "model_settings" in page
