"""Runs split into parts: computed by any worker, merged by the last part, recovered when a part's worker dies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import audits.tasks
from audits import engine
from audits.choices import CheckKind, RunState
from audits.models import CheckRun, CheckRunPart
from audits.runners import CheckInputError, Outcome, register, runner_for
from audits.services import do_import_evaluation
from audits.tasks import execute_check
from tests.audits.conftest import items


class Parted:
    """Sums the evaluation's scores in three slices, as a chunked check would sum counts."""

    def __init__(self, fail_part: int | None = None) -> None:
        self.fail_part = fail_part
        self.seen: list[int] = []

    def plan(self, run, thresholds):
        n = run.evaluation.item_count
        return [{"start": i * n // 3, "stop": (i + 1) * n // 3} for i in range(3)]

    def run_part(self, run, parameters, thresholds, progress):
        self.seen.append(parameters["start"])
        if self.fail_part is not None and parameters["start"] == self.fail_part:
            raise CheckInputError("Part of the file is not UTF-8.")
        progress(0.5, "half-way")
        scores = list(run.evaluation.items.order_by("position").values_list("score", flat=True))
        return {"sum": sum(scores[parameters["start"] : parameters["stop"]]), "start": parameters["start"]}

    def finish(self, run, partials, thresholds):
        assert [p["start"] for p in partials] == sorted(p["start"] for p in partials)
        return Outcome({"total": sum(p["sum"] for p in partials), "parts": len(partials)}, "pass", ["merged"])

    def run(self, run, thresholds, progress):
        raise AssertionError("a split run is not run in one piece")


@pytest.fixture
def parted(personas, catalogue, monkeypatch):
    original = runner_for(CheckKind.EVALUATION)
    # Parts are queued with delay(); here each runs inline, in order (the worker tests use real workers).
    monkeypatch.setattr(audits.tasks, "enqueue_part", lambda pk: audits.tasks.execute_check_part.apply(args=[pk]))
    runner = Parted()
    register(CheckKind.EVALUATION, runner)
    yield runner
    register(CheckKind.EVALUATION, original)


def queued_run(personas, catalogue) -> CheckRun:
    evaluation = do_import_evaluation(
        actor=personas.actor(personas.contributor), target=catalogue.model_version, name="E", items=items([0.5] * 30)
    )
    return evaluation.check_runs.get()


def test_a_split_run_is_computed_in_parts_and_merged_once(
    personas, catalogue, parted, django_capture_on_commit_callbacks
):
    run = queued_run(personas, catalogue)
    with django_capture_on_commit_callbacks(execute=True):
        execute_check.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.parts_total == 3
    assert run.metrics == {"total": 15.0, "parts": 3}
    assert sorted(parted.seen) == [0, 10, 20]
    assert list(CheckRunPart.objects.filter(run=run).values_list("state", flat=True)) == ["succeeded"] * 3


def test_a_failing_part_fails_the_run_with_its_reason_and_stops_the_others(
    personas, catalogue, parted, django_capture_on_commit_callbacks
):
    parted.fail_part = 10
    run = queued_run(personas, catalogue)
    with django_capture_on_commit_callbacks(execute=True):
        execute_check.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error == "Part of the file is not UTF-8."
    states = dict(CheckRunPart.objects.filter(run=run).values_list("index", "state"))
    assert states == {0: "succeeded", 1: "cancelled", 2: "cancelled"}  # part 3 never started
    assert sorted(parted.seen) == [0, 10]


def test_a_part_whose_worker_died_is_queued_again_then_given_up(personas, catalogue, settings):
    settings.CHECK_MAX_ATTEMPTS = 2
    original = runner_for(CheckKind.EVALUATION)
    register(CheckKind.EVALUATION, Parted())
    try:
        run = queued_run(personas, catalogue)
        claimed = engine.claim(run.pk, worker="w1")
        engine.fan_out(claimed, [{"start": 0, "stop": 30}], lambda pk: None)
        part = CheckRunPart.objects.get(run=run)
        stale = timezone.now() - timedelta(seconds=settings.CHECK_STALE_SECONDS + 1)
        assert engine.claim_part(part.pk, worker="w2") is not None
        CheckRunPart.objects.filter(pk=part.pk).update(heartbeat_at=stale)
        CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
        enqueued: list[int] = []
        assert engine.reap_stale_runs(lambda pk: None) == {"requeued": 0, "failed": 0}  # its part is looked after
        assert engine.reap_stale_parts(enqueued.append) == {"requeued": 1, "failed": 0}
        part.refresh_from_db()
        assert part.state == RunState.QUEUED
        assert engine.claim_part(part.pk, worker="w3") is not None
        CheckRunPart.objects.filter(pk=part.pk).update(heartbeat_at=stale)
        assert engine.reap_stale_parts(enqueued.append) == {"requeued": 0, "failed": 1}
        run.refresh_from_db()
        assert run.state == RunState.FAILED and "Part 1 of 1" in run.error and "stopped responding" in run.error
    finally:
        register(CheckKind.EVALUATION, original)


def test_a_queued_part_whose_message_was_lost_is_queued_again(personas, catalogue, settings):
    original = runner_for(CheckKind.EVALUATION)
    register(CheckKind.EVALUATION, Parted())
    try:
        run = queued_run(personas, catalogue)
        claimed = engine.claim(run.pk, worker="w1")
        engine.fan_out(claimed, [{"start": 0, "stop": 30}], lambda pk: None)
        part = CheckRunPart.objects.get(run=run)
        enqueued: list[int] = []
        assert engine.reap_stale_parts(enqueued.append)["requeued"] == 0
        old = timezone.now() - timedelta(seconds=settings.CHECK_PART_REQUEUE_SECONDS + 1)
        CheckRunPart.objects.filter(pk=part.pk).update(enqueued_at=old)
        assert engine.reap_stale_parts(enqueued.append)["requeued"] == 1
    finally:
        register(CheckKind.EVALUATION, original)
