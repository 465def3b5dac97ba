"""Registry services: immutable versions, numbering, deletion guards, prompts and the lifecycle."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from access.actors import Actor
from registry.choices import ModelStage
from registry.models import Dataset, DatasetVersion, ImmutableVersionError, ModelVersion, StageChange
from registry.services import (
    InUseError,
    NotVisible,
    do_create_asset,
    do_create_dataset_version,
    do_create_model_version,
    do_create_prompt_version,
    do_delete_version,
    do_transition_model_version,
    do_update_asset,
    do_update_version_metadata,
    parse_template_variables,
)
from trail.models import AuditEntry


def last_entry() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


# Immutability and numbering.


def test_saving_a_changed_content_field_of_a_version_raises(catalogue):
    version = DatasetVersion.objects.get(pk=catalogue.dataset_version.pk)
    version.uri = "s3://elsewhere/tickets.csv"
    with pytest.raises(ImmutableVersionError):
        version.save()
    with pytest.raises(ImmutableVersionError):
        version.save(update_fields=["uri"])
    version.refresh_from_db()
    assert version.uri == "s3://bucket/tickets.csv"


def test_metadata_of_a_version_may_change_and_is_audited(personas, catalogue):
    actor = Actor(user=personas.contributor)
    version = do_update_version_metadata(catalogue.model_version, actor=actor, data={"serving_endpoint": "https://x"})
    assert ModelVersion.objects.get(pk=version.pk).serving_endpoint == "https://x"
    assert last_entry().changes == {"serving_endpoint": {"from": "", "to": "https://x"}}


def test_changing_content_through_the_metadata_service_is_refused(personas, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        do_update_version_metadata(
            catalogue.model_version, actor=Actor(user=personas.contributor), data={"base_model": "gpt"}
        )
    assert "base_model" in excinfo.value.message_dict


def test_version_numbers_increase_per_asset(personas, catalogue):
    actor = Actor(user=personas.contributor)
    second = do_create_dataset_version(catalogue.dataset, actor=actor, data={"uri": "s3://bucket/tickets-2.csv"})
    third = do_create_dataset_version(catalogue.dataset, actor=actor, data={"uri": "s3://bucket/tickets-3.csv"})
    assert (catalogue.dataset_version.number, second.number, third.number) == (1, 2, 3)
    other = do_create_asset(Dataset, actor=actor, data={"name": "Other", "owner_team": personas.team})
    assert do_create_dataset_version(other, actor=actor, data={"uri": "s3://o"}).number == 1


def test_a_sha256_must_be_64_hex_characters(personas, catalogue):
    actor = Actor(user=personas.contributor)
    with pytest.raises(ValidationError) as excinfo:
        do_create_dataset_version(catalogue.dataset, actor=actor, data={"uri": "s3://b", "sha256": "abc"})
    assert "sha256" in excinfo.value.message_dict
    version = do_create_dataset_version(catalogue.dataset, actor=actor, data={"uri": "s3://b", "sha256": "AB" * 32})
    assert version.sha256 == "ab" * 32


# Deletion guards.


def test_deleting_a_dataset_version_a_system_uses_names_the_system(personas, catalogue):
    with pytest.raises(InUseError) as excinfo:
        do_delete_version(catalogue.dataset_version, actor=Actor(user=personas.contributor))
    assert "Support chatbot" in excinfo.value.explanation
    assert DatasetVersion.objects.filter(pk=catalogue.dataset_version.pk).exists()
    assert not AuditEntry.objects.filter(action="delete", object_id=str(catalogue.dataset_version.uuid)).exists()


def test_an_unused_version_can_be_deleted_and_the_deletion_is_audited(personas, catalogue):
    actor = Actor(user=personas.contributor)
    spare = do_create_dataset_version(catalogue.dataset, actor=actor, data={"uri": "s3://bucket/spare.csv"})
    do_delete_version(spare, actor=actor)
    assert not DatasetVersion.objects.filter(pk=spare.pk).exists()
    assert (last_entry().action, last_entry().object_id) == ("delete", str(spare.uuid))


# Synthetic data.


def test_a_synthetic_dataset_version_requires_its_generator_version(personas, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        do_create_dataset_version(
            catalogue.dataset, actor=Actor(user=personas.contributor), data={"uri": "s3://s", "origin": "synthetic"}
        )
    assert "generator_version" in excinfo.value.message_dict


def test_only_a_synthetic_dataset_version_may_name_a_generator(personas, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        do_create_dataset_version(
            catalogue.dataset,
            actor=Actor(user=personas.contributor),
            data={"uri": "s3://s", "origin": "collected", "generator_version": catalogue.generator_version},
        )
    assert "generator_version" in excinfo.value.message_dict


# Prompts.


def test_prompt_variables_are_parsed_in_order_of_first_use():
    template = "Hola {{ nombre_cliente }}, tu tarifa {{plan}} y {{ nombre_cliente }} otra vez; {{ user.email }}"
    assert parse_template_variables(template) == ["nombre_cliente", "plan", "user.email"]
    assert parse_template_variables("Sin variables") == []


@pytest.mark.parametrize("template", ["Hola {{ }}", "Hola {{ nombre", "Hola {{ 1abc }}", "   "])
def test_a_malformed_template_is_rejected(template):
    with pytest.raises(ValidationError) as excinfo:
        parse_template_variables(template)
    assert "template" in excinfo.value.message_dict


def test_a_malformed_template_names_the_line(personas, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        do_create_prompt_version(
            catalogue.prompt,
            actor=Actor(user=personas.contributor),
            data={"template": "Línea uno\nLínea {{ dos", "commit_message": "broken"},
        )
    assert "Line 2" in excinfo.value.message_dict["template"][0]


def test_a_new_prompt_version_records_its_variables_and_parent(personas, catalogue):
    version = do_create_prompt_version(
        catalogue.prompt,
        actor=Actor(user=personas.contributor),
        data={"template": "Hola {{ customer }} de {{ company }}", "commit_message": "second"},
    )
    assert version.number == 2
    assert version.variables == ["customer", "company"]
    assert version.parent == catalogue.prompt_version


# Lifecycle and the four-eyes rule.


def submit(personas, version: ModelVersion) -> ModelVersion:
    return do_transition_model_version(version, actor=Actor(user=personas.contributor), to_stage=ModelStage.IN_REVIEW)


def test_the_author_cannot_approve_their_own_model_version(personas, catalogue):
    submit(personas, catalogue.model_version)
    with pytest.raises(PermissionDenied):
        do_transition_model_version(
            catalogue.model_version, actor=Actor(user=personas.contributor), to_stage=ModelStage.APPROVED, reason="ok"
        )


def test_an_administrator_who_authored_a_version_cannot_approve_it_either(personas):
    actor = Actor(user=personas.admin)
    from registry.models import Model

    model = do_create_asset(Model, actor=actor, data={"name": "Admin model", "owner_team": personas.team})
    version = do_create_model_version(model, actor=actor, data={"base_model": "x"})
    do_transition_model_version(version, actor=actor, to_stage=ModelStage.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        do_transition_model_version(version, actor=actor, to_stage=ModelStage.APPROVED, reason="mine")


def test_approval_needs_a_reason(personas, catalogue):
    submit(personas, catalogue.model_version)
    with pytest.raises(ValidationError) as excinfo:
        do_transition_model_version(
            catalogue.model_version, actor=Actor(user=personas.officer), to_stage=ModelStage.APPROVED, reason="  "
        )
    assert "reason" in excinfo.value.message_dict


def test_an_officer_approves_with_a_reason_and_it_is_recorded(personas, catalogue):
    submit(personas, catalogue.model_version)
    version = do_transition_model_version(
        catalogue.model_version, actor=Actor(user=personas.officer), to_stage=ModelStage.APPROVED, reason="Evaluado"
    )
    assert (version.stage, version.approved_by, version.approval_reason) == ("approved", personas.officer, "Evaluado")
    assert version.approved_at is not None
    entry = last_entry()
    assert (entry.action, entry.actor, entry.changes["reason"]) == ("approve", personas.officer, "Evaluado")
    change = StageChange.objects.filter(model_version=version).order_by("-id").first()
    assert (change.from_stage, change.to_stage, change.actor) == ("in_review", "approved", personas.officer)


def test_sending_back_to_draft_is_a_rejection_that_needs_a_reason(personas, catalogue):
    submit(personas, catalogue.model_version)
    officer = Actor(user=personas.officer)
    with pytest.raises(ValidationError):
        do_transition_model_version(catalogue.model_version, actor=officer, to_stage=ModelStage.DRAFT)
    do_transition_model_version(
        catalogue.model_version, actor=officer, to_stage=ModelStage.DRAFT, reason="Faltan datos"
    )
    assert last_entry().action == "reject"


def test_a_contributor_cannot_approve_someone_elses_version(personas, catalogue):
    officer = Actor(user=personas.officer)
    from registry.models import Model

    model = do_create_asset(Model, actor=officer, data={"name": "Officer model", "owner_team": personas.team})
    version = do_create_model_version(model, actor=officer, data={"base_model": "x"})
    do_transition_model_version(version, actor=officer, to_stage=ModelStage.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        do_transition_model_version(
            version, actor=Actor(user=personas.contributor), to_stage=ModelStage.APPROVED, reason="ok"
        )


def test_an_impossible_transition_is_refused(personas, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        do_transition_model_version(
            catalogue.model_version, actor=Actor(user=personas.officer), to_stage=ModelStage.DEPLOYED
        )
    assert "to_stage" in excinfo.value.message_dict
    assert ModelVersion.objects.get(pk=catalogue.model_version.pk).stage == ModelStage.DRAFT


def test_the_full_lifecycle_reaches_retired(personas, catalogue):
    officer = Actor(user=personas.officer)
    version = submit(personas, catalogue.model_version)
    for stage, reason in (
        (ModelStage.APPROVED, "ok"),
        (ModelStage.DEPLOYED, ""),
        (ModelStage.DEPRECATED, ""),
        (ModelStage.RETIRED, ""),
    ):
        version = do_transition_model_version(version, actor=officer, to_stage=stage, reason=reason)
    assert version.stage == ModelStage.RETIRED
    assert version.stage_changes.count() == 5


# Access within the services.


def test_an_auditor_cannot_change_an_asset(personas, catalogue):
    with pytest.raises(PermissionDenied):
        do_update_asset(catalogue.system, actor=Actor(user=personas.auditor), data={"risk_class": "high"})


def test_an_outsider_cannot_see_an_asset_to_change_it(personas, catalogue):
    with pytest.raises(NotVisible):
        do_update_asset(catalogue.system, actor=Actor(user=personas.outsider), data={"risk_class": "high"})
    with pytest.raises(NotVisible):
        do_transition_model_version(
            catalogue.model_version, actor=Actor(user=personas.outsider), to_stage=ModelStage.IN_REVIEW
        )


def test_a_rejection_is_decided_on_the_current_stage_not_on_a_stale_copy(personas, catalogue):
    stale = catalogue.model_version  # still says "draft" in memory
    submit(personas, ModelVersion.objects.get(pk=stale.pk))
    with pytest.raises(PermissionDenied):
        do_transition_model_version(
            stale, actor=Actor(user=personas.contributor), to_stage=ModelStage.DRAFT, reason="back"
        )
    assert ModelVersion.objects.get(pk=stale.pk).stage == ModelStage.IN_REVIEW
