"""Deleting through the pages: refused with an explanation while in use, audited when done."""

from __future__ import annotations

from django.test import Client

from registry.models import Dataset, DatasetVersion, SyntheticGenerator
from tests.ui.conftest import delete_urls, detail_urls
from trail.models import AuditEntry


def test_deleting_a_version_an_ai_system_uses_shows_the_explanation_and_deletes_nothing(
    catalogue, contributor: Client
) -> None:
    entries = AuditEntry.objects.count()
    version = catalogue.dataset_version
    assert contributor.get(delete_urls(catalogue)["datasetversion"]).status_code == 200
    response = contributor.post(delete_urls(catalogue)["datasetversion"], follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == detail_urls(catalogue)["datasetversion"]
    assert 'data-testid="message-error"' in body
    assert "“Tickets v1” cannot be deleted because it is still in use" in body
    assert "AI system “Support chatbot” uses it as Knowledge base" in body
    assert DatasetVersion.objects.filter(pk=version.pk).exists()
    assert AuditEntry.objects.count() == entries


def test_deleting_an_asset_whose_version_is_in_use_is_refused_too(catalogue, contributor: Client) -> None:
    response = contributor.post(delete_urls(catalogue)["dataset"], follow=True)
    assert "cannot be deleted because it is still in use" in response.content.decode()
    assert Dataset.objects.filter(pk=catalogue.dataset.pk).exists()


def test_deleting_an_unused_asset_is_audited(catalogue, personas, contributor: Client) -> None:
    from access.actors import Actor
    from registry.services import do_create_asset

    spare = do_create_asset(
        SyntheticGenerator, actor=Actor(user=personas.contributor), data={"name": "Spare", "owner_team": personas.team}
    )
    from tests.ui.conftest import url

    response = contributor.post(url("registry:generator_delete", uuid=spare.uuid), follow=True)
    assert response.redirect_chain[-1][0] == url("registry:generator_list")
    assert "“Spare” deleted." in response.content.decode()
    assert not SyntheticGenerator.objects.filter(pk=spare.pk).exists()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id) == ("delete", str(spare.uuid))


def test_deleting_an_unused_version_returns_to_its_asset(catalogue, contributor: Client) -> None:
    from access.actors import Actor
    from registry.services import do_create_dataset_version
    from tests.ui.conftest import url

    spare = do_create_dataset_version(
        catalogue.dataset, actor=Actor(user=catalogue.dataset.created_by), data={"uri": "s3://b/2.csv"}
    )
    response = contributor.post(url("registry:datasetversion_delete", uuid=spare.uuid))
    assert response["Location"] == detail_urls(catalogue)["dataset"]
    assert not DatasetVersion.objects.filter(pk=spare.pk).exists()
