"""Model-version lifecycle through the API, and the four-eyes approval."""

from __future__ import annotations

from typing import Any

import pytest

from access.actors import Actor
from registry.models import ModelVersion, StageChange
from registry.services import do_create_model_version, do_transition_model_version
from tests.api.base import rows
from tests.conftest import Catalogue, Personas
from trail.models import AuditEntry


def transition_url(version: ModelVersion) -> str:
    return f"/api/v1/model-versions/{version.uuid}/transition/"


@pytest.fixture
def in_review(personas: Personas, catalogue: Catalogue) -> ModelVersion:
    """The catalogue's model version (authored by the contributor), submitted for review."""
    return do_transition_model_version(
        catalogue.model_version, actor=Actor(user=personas.contributor), to_stage="in_review"
    )


def test_contributor_submits_a_draft_for_review(personas: Personas, catalogue: Catalogue) -> None:
    version = catalogue.model_version
    response = personas.client(personas.contributor).post(
        transition_url(version), {"to_stage": "in_review", "reason": "ready"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["stage"] == "in_review"
    version.refresh_from_db()
    assert version.stage == "in_review"
    change = StageChange.objects.get(model_version=version)
    assert (change.from_stage, change.to_stage, change.actor_label) == ("draft", "in_review", "contributor")


def test_contributor_cannot_approve(personas: Personas, in_review: ModelVersion) -> None:
    counts = rows(StageChange)
    response = personas.client(personas.contributor).post(
        transition_url(in_review), {"to_stage": "approved", "reason": "looks fine"}, format="json"
    )
    assert response.status_code == 403
    in_review.refresh_from_db()
    assert in_review.stage == "in_review" and in_review.approved_by is None
    assert rows(StageChange) == counts


def test_officer_approves_with_a_reason_and_who_when_why_are_recorded(
    personas: Personas, in_review: ModelVersion
) -> None:
    response = personas.client(personas.officer).post(
        transition_url(in_review), {"to_stage": "approved", "reason": "Bias audit passed (report 12)"}, format="json"
    )
    assert response.status_code == 200, response.data
    in_review.refresh_from_db()
    assert in_review.stage == "approved"
    assert in_review.approved_by == personas.officer
    assert in_review.approved_at is not None
    assert in_review.approval_reason == "Bias audit passed (report 12)"
    assert response.data["approved_by"] == "officer"
    assert response.data["approval_reason"] == "Bias audit passed (report 12)"
    assert response.data["stage_changes"][0]["to_stage"] == "approved"
    assert response.data["stage_changes"][0]["actor"] == "officer"
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert (entry.action, entry.actor_label, entry.object_id) == ("approve", "officer", str(in_review.uuid))
    assert entry.changes["reason"] == "Bias audit passed (report 12)"
    assert entry.changes["stage"] == {"from": "in_review", "to": "approved"}


def test_approval_without_a_reason_is_400(personas: Personas, in_review: ModelVersion) -> None:
    counts = rows(StageChange)
    response = personas.client(personas.officer).post(
        transition_url(in_review), {"to_stage": "approved"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.data
    in_review.refresh_from_db()
    assert in_review.stage == "in_review"
    assert rows(StageChange) == counts


def test_an_author_cannot_approve_their_own_version(personas: Personas, catalogue: Catalogue) -> None:
    officer = Actor(user=personas.officer)
    own = do_create_model_version(catalogue.model, actor=officer, data={"base_model": "llama"})
    do_transition_model_version(own, actor=officer, to_stage="in_review")
    counts = rows(StageChange)
    response = personas.client(personas.officer).post(
        transition_url(own), {"to_stage": "approved", "reason": "mine is fine"}, format="json"
    )
    assert response.status_code == 403
    assert "other than its author" in response.data["detail"]
    own.refresh_from_db()
    assert own.stage == "in_review"
    assert rows(StageChange) == counts


def test_officer_rejects_back_to_draft_with_a_reason(personas: Personas, in_review: ModelVersion) -> None:
    response = personas.client(personas.officer).post(
        transition_url(in_review), {"to_stage": "draft", "reason": "Missing datasheet"}, format="json"
    )
    assert response.status_code == 200, response.data
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and entry.action == "reject"


def test_a_move_the_lifecycle_does_not_allow_is_400(personas: Personas, catalogue: Catalogue) -> None:
    response = personas.client(personas.admin).post(
        transition_url(catalogue.model_version), {"to_stage": "deployed", "reason": "now"}, format="json"
    )
    assert response.status_code == 400
    assert "to_stage" in response.data
    catalogue.model_version.refresh_from_db()
    assert catalogue.model_version.stage == "draft"


@pytest.mark.parametrize(
    ("who", "status"),
    [("auditor", 403), ("read_token", 403), ("outsider", 404), ("anonymous", 401), ("revoked_token", 401)],
)
def test_who_may_not_move_a_version(personas: Personas, catalogue: Catalogue, who: str, status: int) -> None:
    client: Any
    if who.endswith("token"):
        client = personas.client(token=getattr(personas, who))
    elif who == "anonymous":
        client = personas.client()
    else:
        client = personas.client(getattr(personas, who))
    response = client.post(transition_url(catalogue.model_version), {"to_stage": "in_review"}, format="json")
    assert response.status_code == status
    catalogue.model_version.refresh_from_db()
    assert catalogue.model_version.stage == "draft"


def test_a_write_token_may_submit_but_not_approve(personas: Personas, catalogue: Catalogue) -> None:
    client = personas.client(token=personas.write_token)
    url = transition_url(catalogue.model_version)
    assert client.post(url, {"to_stage": "in_review"}, format="json").status_code == 200
    # The token acts for the contributor, whose role cannot approve.
    assert client.post(url, {"to_stage": "approved", "reason": "ok"}, format="json").status_code == 403
