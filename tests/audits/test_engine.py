"""The checks engine: claiming, finishing, failing, retrying, cancelling and recovering lost runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from access.actors import Actor
from audits import engine
from audits.choices import CheckKind, FindingStatus, RunState, Verdict
from audits.models import CheckRun, PolicyVersion
from audits.runners import CheckInputError, TransientCheckError, register, runner_for
from audits.services import do_cancel_check, do_import_evaluation, do_rerun_check, do_set_policy
from audits.services.runs import schedule_due_checks
from tests.audits.conftest import items, run_now
from trail.models import AuditEntry


def import_evaluation(catalogue, actor, scores, **kwargs) -> CheckRun:
    evaluation = do_import_evaluation(
        actor=actor, target=catalogue.model_version, name="Support answers", items=items(scores), **kwargs
    )
    return evaluation.check_runs.get()


def test_an_imported_evaluation_is_judged_by_the_default_policy(personas, catalogue, good_scores):
    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    assert run.state == RunState.QUEUED
    assert run.kind == CheckKind.EVALUATION

    run = run_now(run)

    assert run.state == RunState.SUCCEEDED
    assert run.verdict == Verdict.PASS
    assert run.metrics["items"] == 40
    assert run.metrics["mean"] == pytest.approx(0.9)
    assert run.progress == 1.0
    assert run.attempts == 1
    assert run.policy_version is not None and run.policy_version.policy.system is None
    assert run.policy_version.thresholds["min_mean_score"] == 0.8
    assert list(run.findings.all()) == []
    finished = AuditEntry.objects.filter(object_id=str(run.uuid), action="update").get()
    assert finished.changes["verdict"] == "pass"
    assert finished.actor_label == "system:celery:checks"


def test_a_failing_evaluation_gives_a_fail_verdict_and_high_findings(personas, catalogue, bad_scores):
    run = run_now(import_evaluation(catalogue, personas.actor(personas.contributor), bad_scores))
    assert run.verdict == Verdict.FAIL
    severities = sorted(f.severity for f in run.findings.all())
    assert severities == ["high", "high"]
    assert any("below the policy's minimum" in reason for reason in run.verdict_reasons)


def test_a_system_policy_replaces_the_default_and_the_verdict_records_its_version(personas, catalogue):
    officer = personas.actor(personas.officer)
    version = do_set_policy(
        CheckKind.EVALUATION,
        actor=officer,
        system=catalogue.system,
        thresholds={"min_mean_score": 0.95},
        note="Customer-facing answers must be near perfect",
    )
    assert version.number == 1
    assert version.thresholds["min_items"] == 30  # unspecified settings take their defaults
    run = import_evaluation(catalogue, personas.actor(personas.contributor), [0.9] * 40, policy_system=catalogue.system)
    run = run_now(run)
    assert run.policy_version == version
    assert run.verdict == Verdict.FAIL

    second = do_set_policy(
        CheckKind.EVALUATION,
        actor=officer,
        system=catalogue.system,
        thresholds={"min_mean_score": 0.85},
        note="Relaxed",
    )
    rerun = run_now(do_rerun_check(run, actor=personas.actor(personas.contributor)))
    assert second.number == 2
    assert rerun.policy_version == second
    assert rerun.verdict == Verdict.PASS
    run.refresh_from_db()
    assert run.superseded_by == rerun
    assert PolicyVersion.objects.filter(policy=version.policy).count() == 2


def test_only_officers_change_policies_and_only_with_valid_thresholds(personas, catalogue):
    with pytest.raises(PermissionDenied):
        do_set_policy(
            CheckKind.BIAS, actor=personas.actor(personas.contributor), system=catalogue.system, thresholds={}, note="x"
        )
    with pytest.raises(PermissionDenied):  # organisation defaults: administrators only
        do_set_policy(CheckKind.BIAS, actor=personas.actor(personas.officer), system=None, thresholds={}, note="x")
    with pytest.raises(ValidationError) as error:
        do_set_policy(
            CheckKind.BIAS,
            actor=personas.actor(personas.officer),
            system=catalogue.system,
            thresholds={"min_ratio": 1.5},
            note="x",
        )
    assert "thresholds.min_ratio" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        do_set_policy(
            CheckKind.BIAS,
            actor=personas.actor(personas.officer),
            system=catalogue.system,
            thresholds={"ratio": 1},
            note="x",
        )
    assert "Unknown settings: ratio" in str(error.value)


def test_input_errors_fail_the_run_with_their_message(personas, catalogue, monkeypatch, good_scores):
    class Broken:
        def run(self, run, thresholds, progress):
            raise CheckInputError("The table has no column “label”.")

    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    original = runner_for(CheckKind.EVALUATION)
    register(CheckKind.EVALUATION, Broken())
    try:
        run = run_now(run)
    finally:
        register(CheckKind.EVALUATION, original)
    assert run.state == RunState.FAILED
    assert run.error == "The table has no column “label”."
    assert run.finished_at is not None


def test_an_unexpected_error_fails_the_run_and_names_it(personas, catalogue, good_scores):
    class Crashing:
        def run(self, run, thresholds, progress):
            raise ZeroDivisionError("division by zero")

    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    original = runner_for(CheckKind.EVALUATION)
    register(CheckKind.EVALUATION, Crashing())
    try:
        run = run_now(run)
    finally:
        register(CheckKind.EVALUATION, original)
    assert run.state == RunState.FAILED
    assert "ZeroDivisionError" in run.error


def test_transient_errors_are_retried_a_bounded_number_of_times(personas, catalogue, good_scores, settings):
    settings.CHECK_MAX_ATTEMPTS = 3
    calls = []
    original = runner_for(CheckKind.EVALUATION)

    class Flaky:
        def run(self, run, thresholds, progress):
            calls.append(run.attempts)
            if len(calls) < 2:
                raise TransientCheckError("storage unavailable")
            return original.run(run, thresholds, progress)

    class Down:
        def run(self, run, thresholds, progress):
            calls.append(run.attempts)
            raise TransientCheckError("storage unavailable")

    register(CheckKind.EVALUATION, Flaky())
    try:
        run = run_now(import_evaluation(catalogue, personas.actor(personas.contributor), good_scores))
        assert run.state == RunState.SUCCEEDED
        assert calls == [1, 2]
        calls.clear()
        register(CheckKind.EVALUATION, Down())
        run = run_now(do_rerun_check(run, actor=personas.actor(personas.contributor)))
    finally:
        register(CheckKind.EVALUATION, original)
    assert calls == [1, 2, 3]
    assert run.state == RunState.FAILED
    assert "Gave up after 3 attempts" in run.error


def test_cancelling_a_queued_run_ends_it_and_the_worker_skips_it(personas, catalogue, good_scores):
    contributor = personas.actor(personas.contributor)
    run = import_evaluation(catalogue, contributor, good_scores)
    run = do_cancel_check(run, actor=contributor)
    assert run.state == RunState.CANCELLED
    assert run_now(run).state == RunState.CANCELLED
    with pytest.raises(ValidationError):
        do_cancel_check(run, actor=contributor)
    with pytest.raises(PermissionDenied):  # an auditor reads, never acts
        do_cancel_check(run, actor=personas.actor(personas.auditor))


def test_cancelling_a_running_run_stops_it_at_its_next_progress_step(personas, catalogue, good_scores):
    contributor = personas.actor(personas.contributor)
    run = import_evaluation(catalogue, contributor, good_scores)

    class Slow:
        def run(self, run, thresholds, progress):
            do_cancel_check(run, actor=contributor)  # a user clicks "Cancel" while it runs
            progress(1.0, "step")
            raise AssertionError("progress() should have stopped the run")

    original = runner_for(CheckKind.EVALUATION)
    register(CheckKind.EVALUATION, Slow())
    try:
        run = run_now(run)
    finally:
        register(CheckKind.EVALUATION, original)
    assert run.state == RunState.CANCELLED
    assert run.error == "Cancelled by a user."


def test_a_run_whose_worker_stopped_responding_is_queued_again_then_given_up(
    personas, catalogue, good_scores, settings
):
    settings.CHECK_MAX_ATTEMPTS = 2
    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    claimed = engine.claim(run.pk, worker="dead-worker")
    assert claimed is not None and claimed.attempt == 1
    stale = timezone.now() - timedelta(seconds=settings.CHECK_STALE_SECONDS + 1)
    CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    enqueued: list[int] = []

    assert engine.reap_stale_runs(enqueued.append) == {"requeued": 1, "failed": 0}
    run.refresh_from_db()
    assert run.state == RunState.QUEUED
    assert "stopped responding" in run.progress_message

    second = engine.claim(run.pk, worker="another-dead-worker")
    assert second is not None and second.attempt == 2
    assert not engine.finish_failed(claimed, "late result of the first attempt")  # stale attempts cannot finish it
    CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    assert engine.reap_stale_runs(enqueued.append) == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "stopped responding" in run.error and "started 2 time(s)" in run.error


def test_a_fresh_heartbeat_is_left_alone(personas, catalogue, good_scores):
    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    engine.claim(run.pk, worker="alive")
    assert engine.reap_stale_runs(lambda pk: None) == {"requeued": 0, "failed": 0}
    run.refresh_from_db()
    assert run.state == RunState.RUNNING


def test_a_policy_schedule_reruns_checks_that_are_due(personas, catalogue, good_scores):
    officer = personas.actor(personas.officer)
    do_set_policy(
        CheckKind.EVALUATION,
        actor=officer,
        system=catalogue.system,
        thresholds={},
        rerun_every_days=7,
        note="Weekly",
    )
    run = run_now(
        import_evaluation(catalogue, personas.actor(personas.contributor), good_scores, policy_system=catalogue.system)
    )
    assert schedule_due_checks() == 0  # not due yet
    CheckRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(days=8))
    assert schedule_due_checks() == 1
    rerun = CheckRun.objects.get(rerun_of=run)
    assert rerun.scheduled and rerun.actor_label == "system:celery:scheduled-checks"
    assert schedule_due_checks() == 0  # the re-run is queued: nothing more is due
    assert run_now(rerun).verdict == Verdict.PASS


def test_findings_change_status_only_with_a_justification_by_an_officer(personas, catalogue, bad_scores):
    from audits.services import do_change_finding_status

    run = run_now(import_evaluation(catalogue, personas.actor(personas.contributor), bad_scores))
    finding = run.findings.first()
    with pytest.raises(PermissionDenied):
        do_change_finding_status(finding, actor=personas.actor(personas.contributor), status="resolved", reason="fixed")
    with pytest.raises(ValidationError):
        do_change_finding_status(finding, actor=personas.actor(personas.officer), status="resolved", reason=" ")
    changed = do_change_finding_status(
        finding, actor=personas.actor(personas.officer), status=FindingStatus.ACCEPTED_RISK, reason="Known limitation"
    )
    assert changed.status == FindingStatus.ACCEPTED_RISK
    assert changed.status_changes.get().reason == "Known limitation"
    entry = AuditEntry.objects.filter(object_id=str(finding.uuid)).get()
    assert entry.changes["status"] == {"from": "open", "to": "accepted_risk"}
    assert entry.team_slug == "alpha"
    with pytest.raises(Exception):  # noqa: B017 - the outsider does not see it: NotVisible (404)
        do_change_finding_status(finding, actor=Actor(user=personas.outsider), status="open", reason="x")


def test_runs_are_visible_exactly_to_those_who_see_their_target(personas, catalogue, good_scores):
    run = import_evaluation(catalogue, personas.actor(personas.contributor), good_scores)
    assert CheckRun.objects.visible_to(personas.auditor).filter(pk=run.pk).exists()
    assert not CheckRun.objects.visible_to(personas.outsider).filter(pk=run.pk).exists()
    assert CheckRun.objects.visible_to(personas.admin).filter(pk=run.pk).exists()
    assert not CheckRun.objects.visible_to(personas.auditor, "change").filter(pk=run.pk).exists()
