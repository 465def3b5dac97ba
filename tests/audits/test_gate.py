"""The approval gate: failed checks and open serious findings hold a model version back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audits.choices import FindingStatus
from audits.services import (
    do_change_finding_status,
    do_import_evaluation,
    do_record_approval_exception,
    do_revoke_approval_exception,
)
from registry.choices import ModelStage
from registry.services import do_transition_model_version
from tests.audits.conftest import items, run_now
from trail.models import AuditEntry


def in_review(personas, catalogue):
    return do_transition_model_version(
        catalogue.model_version, actor=personas.actor(personas.contributor), to_stage=ModelStage.IN_REVIEW
    )


def approve(personas, version):
    return do_transition_model_version(
        version, actor=personas.actor(personas.officer), to_stage=ModelStage.APPROVED, reason="Reviewed"
    )


def failing_check(personas, target, scores=None):
    evaluation = do_import_evaluation(
        actor=personas.actor(personas.contributor),
        target=target,
        name="Eval",
        items=items(scores or [0.9] * 20 + [0.1] * 20),
    )
    return run_now(evaluation.check_runs.get())


def test_a_version_without_checks_is_approved(personas, catalogue):
    version = approve(personas, in_review(personas, catalogue))
    assert version.stage == ModelStage.APPROVED


def test_a_failed_check_blocks_approval_until_an_exception_is_recorded(personas, catalogue):
    run = failing_check(personas, catalogue.model_version)
    version = in_review(personas, catalogue)

    with pytest.raises(ValidationError) as error:
        approve(personas, version)
    message = " ".join(error.value.message_dict["to_stage"])
    assert "Approval is blocked" in message and "failed" in message and str(run.uuid)[:8] in message
    version.refresh_from_db()
    assert version.stage == ModelStage.IN_REVIEW

    with pytest.raises(PermissionDenied):
        do_record_approval_exception(
            version,
            actor=personas.actor(personas.contributor),
            justification="x",
            expires_on=timezone.localdate() + timedelta(days=30),
        )
    with pytest.raises(ValidationError):
        do_record_approval_exception(
            version, actor=personas.actor(personas.officer), justification="", expires_on=timezone.localdate()
        )
    exception = do_record_approval_exception(
        version,
        actor=personas.actor(personas.officer),
        justification="Pilot with human review of every answer",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    approved = do_transition_model_version(
        version, actor=personas.actor(personas.admin), to_stage=ModelStage.APPROVED, reason="With exception"
    )
    assert approved.stage == ModelStage.APPROVED

    recorded = AuditEntry.objects.get(object_id=str(exception.uuid), action="create")
    assert recorded.changes["justification"] == "Pilot with human review of every answer"
    approval = AuditEntry.objects.get(object_id=str(version.uuid), action="approve")
    assert approval.changes["waivers"][0]["approval_exception"] == str(exception.uuid)
    assert any("failed" in reason for reason in approval.changes["waived"])


def test_a_revoked_or_expired_exception_no_longer_lets_it_through(personas, catalogue):
    failing_check(personas, catalogue.model_version)
    version = in_review(personas, catalogue)
    officer = personas.actor(personas.officer)
    exception = do_record_approval_exception(
        version, actor=officer, justification="Temporary", expires_on=timezone.localdate() + timedelta(days=1)
    )
    do_revoke_approval_exception(exception, actor=officer)
    with pytest.raises(ValidationError):
        approve(personas, version)
    assert AuditEntry.objects.filter(object_id=str(exception.uuid), action="revoke").exists()
    with pytest.raises(ValidationError):  # an exception cannot start already expired
        do_record_approval_exception(
            version, actor=officer, justification="Old", expires_on=timezone.localdate() - timedelta(days=1)
        )


def test_a_failed_check_on_training_data_blocks_the_model_trained_on_it(personas, catalogue):
    # Evaluations target model/prompt versions; checks on a dataset version come from the bias check.
    # The gate's query covers both: simulate with the dataset version as the run's target.
    from audits.models import CheckRun

    run = failing_check(personas, catalogue.model_version)
    CheckRun.objects.filter(pk=run.pk).update(model_version=None, dataset_version=catalogue.dataset_version)
    with pytest.raises(ValidationError) as error:
        approve(personas, in_review(personas, catalogue))
    assert "Tickets v1" in " ".join(error.value.message_dict["to_stage"])


def test_triaging_the_findings_of_a_later_passing_run_clears_the_gate(personas, catalogue):
    failing = failing_check(personas, catalogue.model_version)
    passing = failing_check(personas, catalogue.model_version, scores=[0.95] * 40)
    failing.refresh_from_db()
    assert failing.superseded_by == passing  # only the current result counts
    approve(personas, in_review(personas, catalogue))


def test_open_high_findings_block_even_when_the_verdict_passes(personas, catalogue):
    from audits.models import Finding

    run = failing_check(personas, catalogue.model_version, scores=[0.95] * 40)
    assert run.verdict == "pass"
    # A check may pass its thresholds and still report something serious (e.g. personal data found).
    finding = Finding.objects.create(run=run, severity="high", title="Personal data in answers")
    version = in_review(personas, catalogue)
    with pytest.raises(ValidationError) as error:
        approve(personas, version)
    assert "Personal data in answers" in " ".join(error.value.message_dict["to_stage"])
    do_change_finding_status(
        finding, actor=personas.actor(personas.officer), status=FindingStatus.RESOLVED, reason="Answers redacted"
    )
    assert approve(personas, version).stage == ModelStage.APPROVED
