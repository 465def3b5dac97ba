"""The admin changes assets only through the services: every change lands in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from access.choices import Role
from access.models import Profile, Team
from registry.models import AISystem, Dataset, Tag
from tests.conftest import SYSTEM, make_user
from trail.models import AuditEntry
from trail.services import verify_chain


@pytest.fixture
def superuser(personas: Any) -> User:
    user = make_user("root", Role.ADMIN, [personas.team])
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def admin_client_(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def form_data(response: Any) -> dict[str, Any]:
    """The POST body the admin page would send back unchanged."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(field.prepare_value(value))
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return data


def last_entry() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


def test_changing_a_system_in_the_admin_is_audited_as_the_admin_user(admin_client_, superuser, catalogue):
    url = reverse("admin:registry_aisystem_change", args=[catalogue.system.pk])
    data = form_data(admin_client_.get(url))
    data["risk_class"] = "high"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    catalogue.system.refresh_from_db()
    assert catalogue.system.risk_class == "high"
    entry = last_entry()
    assert (entry.action, entry.actor, entry.object_id) == ("update", superuser, str(catalogue.system.uuid))
    assert entry.changes == {"risk_class": {"from": "limited", "to": "high"}}
    assert verify_chain().ok


def test_creating_and_deleting_a_dataset_in_the_admin_is_audited(admin_client_, superuser, personas):
    url = reverse("admin:registry_dataset_add")
    data = form_data(admin_client_.get(url))
    tag = Tag.objects.create(slug="gdpr", name="GDPR")
    data.update({"name": "Encuestas", "owner_team": personas.team.pk, "tags": [str(tag.pk)]})
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get(name="Encuestas")
    created = last_entry()
    assert (created.action, created.actor, created.object_id) == ("create", superuser, str(dataset.uuid))
    assert created.changes["tags"] == ["gdpr"]
    assert list(dataset.tags.values_list("slug", flat=True)) == ["gdpr"]
    # The service also gave the owning team its object permissions.
    assert Dataset.objects.visible_to(personas.contributor).filter(pk=dataset.pk).exists()

    response = admin_client_.post(reverse("admin:registry_dataset_delete", args=[dataset.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    deleted = last_entry()
    assert (deleted.action, deleted.object_id) == ("delete", str(dataset.uuid))


def test_the_admin_refuses_to_delete_a_dataset_a_system_uses(admin_client_, catalogue):
    response = admin_client_.post(
        reverse("admin:registry_dataset_delete", args=[catalogue.dataset.pk]), {"post": "yes"}
    )
    assert response.status_code == 200  # the "cannot delete, protected" page
    assert Dataset.objects.filter(pk=catalogue.dataset.pk).exists()


def test_versions_are_read_only_in_the_admin(admin_client_, catalogue):
    url = reverse("admin:registry_modelversion_change", args=[catalogue.model_version.pk])
    assert admin_client_.get(url).status_code == 200
    before = AuditEntry.objects.count()
    response = admin_client_.post(url, {"base_model": "changed"})
    assert response.status_code == 403
    assert admin_client_.get(reverse("admin:registry_modelversion_add")).status_code == 403
    delete = reverse("admin:registry_modelversion_delete", args=[catalogue.model_version.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    catalogue.model_version.refresh_from_db()
    assert catalogue.model_version.base_model == "llama-3.1-8b"
    assert AuditEntry.objects.count() == before


def test_the_audit_trail_is_read_only_in_the_admin(admin_client_, catalogue):
    entry = AuditEntry.objects.order_by("seq").first()
    assert admin_client_.get(reverse("admin:trail_auditentry_changelist")).status_code == 200
    assert admin_client_.get(reverse("admin:trail_auditentry_change", args=[entry.pk])).status_code == 200
    assert admin_client_.get(reverse("admin:trail_auditentry_add")).status_code == 403
    assert admin_client_.post(reverse("admin:trail_auditentry_change", args=[entry.pk]), {}).status_code == 403
    assert (
        admin_client_.post(reverse("admin:trail_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert verify_chain().ok


def test_creating_a_team_and_setting_a_role_in_the_admin_are_audited(admin_client_, superuser, personas):
    response = admin_client_.post(
        reverse("admin:access_team_add"), {"slug": "gamma", "name": "Gamma", "description": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(slug="gamma")
    assert team.group.name == "team:gamma"
    assert (last_entry().action, last_entry().object_id) == ("create", str(team.uuid))

    profile = Profile.objects.get(user=personas.auditor)
    response = admin_client_.post(reverse("admin:access_profile_change", args=[profile.pk]), {"role": Role.OFFICER})
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.role == Role.OFFICER
    entry = last_entry()
    assert entry.actor == superuser
    assert entry.changes == {"role": {"from": Role.AUDITOR, "to": Role.OFFICER}}


def test_a_staff_contributor_sees_only_their_teams_systems_in_the_admin(personas, catalogue):
    from access.actors import Actor
    from registry.services import do_create_asset

    do_create_asset(
        AISystem,
        actor=SYSTEM,
        data={"name": "Beta bot", "owner_team": personas.other_team, "purpose": "x", "risk_class": "minimal"},
    )
    user = personas.contributor
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_aisystem"))
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:registry_aisystem_changelist"))
    assert response.status_code == 200
    names = {obj.name for obj in response.context["cl"].queryset}
    assert names == {catalogue.system.name}
    assert AISystem.objects.visible_to(Actor(user=user)).count() == 1
