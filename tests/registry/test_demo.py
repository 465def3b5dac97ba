"""The demo: the UnaEmpresa support chatbot, loaded through the services, exactly once."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from access.actors import Actor
from access.models import Team
from registry.choices import ModelStage
from registry.demo import DEMO_PASSWORD, DEMO_USERS, SYSTEM_NAME, TEAM_NAME, TEAM_SLUG
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
from trail.models import AuditEntry
from trail.services import verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> AISystem:
    call_command("load_demo", "--if-empty")
    return AISystem.objects.get(name=SYSTEM_NAME)


def test_it_creates_the_team_and_the_four_users_with_their_roles(demo):
    team = Team.objects.get(slug=TEAM_SLUG)
    assert team.name == TEAM_NAME
    for username, role, _name in DEMO_USERS:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.profile.role == role
        assert user.groups.filter(pk=team.group_id).exists()
    assert authenticate(username="admin", password=DEMO_PASSWORD).is_superuser


def test_it_creates_the_support_chatbot_with_its_components(demo):
    assert (demo.risk_class, demo.general_purpose_ai, demo.status) == ("limited", "uses", "production")
    assert demo.owner_team.slug == TEAM_SLUG
    assert "clientes" in demo.purpose and demo.intended_use and demo.deployment_context
    roles = set(SystemComponent.objects.filter(system=demo).values_list("role", flat=True))
    assert roles == {"knowledge_base", "evaluation_set", "fine_tuning_data", "primary_model", "system_prompt"}


def test_it_registers_datasets_with_and_without_personal_data(demo):
    raw = DatasetVersion.objects.get(dataset__name="Tickets de soporte (brutos)")
    assert raw.contains_personal_data and raw.origin == "collected"
    assert {"nombre_cliente", "telefono", "email"} <= {c["name"] for c in raw.column_schema}
    assert len(raw.sha256) == 64 and raw.row_count and raw.license and raw.motivation
    knowledge = DatasetVersion.objects.get(dataset__name="Base de conocimiento anonimizada")
    assert not knowledge.contains_personal_data
    assert knowledge.collection_process and knowledge.preprocessing and knowledge.intended_uses
    assert DatasetVersion.objects.filter(dataset__name="Conjunto de evaluación").exists()
    names = set(Dataset.objects.filter(owner_team__slug=TEAM_SLUG).values_list("name", flat=True))
    # Apps above the registry add their own demo datasets (audits: the fairness predictions).
    assert {
        "Tickets de soporte (brutos)",
        "Base de conocimiento anonimizada",
        "Tickets sintéticos",
        "Conjunto de evaluación",
    } <= names


def test_the_synthetic_dataset_names_its_generator_trained_on_the_raw_tickets(demo):
    synthetic = DatasetVersion.objects.get(origin="synthetic", dataset__name="Tickets sintéticos")
    generator = synthetic.generator_version
    assert isinstance(generator, GeneratorVersion)
    assert generator.generator.name == "Generador de tickets sintéticos"
    assert generator.method == "llm_prompting"
    assert [d.dataset.name for d in generator.training_datasets.all()] == ["Tickets de soporte (brutos)"]


def test_the_fine_tuned_model_was_approved_by_the_officer_with_a_reason_and_deployed(demo):
    base = ModelVersion.objects.get(model__name="Llama 3.1 8B Instruct")
    assert base.model.provider == "Meta" and base.license == "llama3.1"
    tuned = ModelVersion.objects.get(fine_tuned_from=base)
    assert tuned.stage == ModelStage.DEPLOYED
    assert tuned.approved_by.username == "officer"
    assert tuned.created_by.username == "contributor"  # four eyes: author and approver differ
    assert tuned.approval_reason
    trained_on = {d.dataset.name for d in tuned.training_datasets.all()}
    assert trained_on == {"Base de conocimiento anonimizada", "Tickets sintéticos"}
    moves = list(tuned.stage_changes.order_by("occurred_at", "id").values_list("to_stage", "actor_label"))
    assert moves == [("in_review", "contributor"), ("approved", "officer"), ("deployed", "officer")]


def test_the_system_prompt_has_three_versions_and_production_points_at_the_third(demo):
    versions = list(PromptVersion.objects.filter(prompt__name="Prompt de sistema del asistente").order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert all(v.commit_message for v in versions)
    assert "nombre_cliente" in versions[0].variables
    assert versions[2].parent == versions[1]
    alias = PromptAlias.objects.get(prompt=versions[0].prompt, name="production")
    assert alias.version == versions[2]


def test_the_demo_users_see_the_demo_through_their_team(demo):
    from django.contrib.auth.models import User

    auditor = User.objects.get(username="auditor")
    assert list(AISystem.objects.visible_to(Actor(user=auditor))) == [demo]
    assert not Actor(user=auditor).may("change")


def test_loading_twice_does_not_duplicate_anything(demo):
    counts = (AISystem.objects.count(), DatasetVersion.objects.count(), AuditEntry.objects.count())
    call_command("load_demo", "--if-empty")
    call_command("load_demo")
    assert (AISystem.objects.count(), DatasetVersion.objects.count(), AuditEntry.objects.count()) == counts


def test_if_empty_skips_a_registry_that_already_has_systems(personas, catalogue):
    call_command("load_demo", "--if-empty")
    assert not AISystem.objects.filter(name=SYSTEM_NAME).exists()


def test_the_trail_records_who_did_what_and_verifies(demo):
    result = verify_chain()
    assert result.ok and result.checked == AuditEntry.objects.count()
    call_command("verify_audit_trail")
    labels = set(AuditEntry.objects.values_list("actor_label", flat=True))
    assert labels == {"system:load_demo", "contributor", "officer"}
    approval = AuditEntry.objects.get(action="approve", object_repr__startswith="Asistente UnaEmpresa")
    assert approval.actor_label == "officer" and approval.changes["reason"]
