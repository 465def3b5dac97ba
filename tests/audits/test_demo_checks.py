"""The demo queues a bias check and an evaluation of the support assistant; the worker runs them."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from audits.choices import CheckKind, RunState, Verdict
from audits.demo import PREDICTIONS_NAME
from audits.models import CheckRun
from registry.models import DatasetVersion
from tests.audits.conftest import run_now

pytestmark = pytest.mark.django_db


def test_the_demo_bias_check_finds_the_gap_in_escalations_for_basque_and_galician():
    call_command("load_demo", "--if-empty")
    predictions = DatasetVersion.objects.get(dataset__name=PREDICTIONS_NAME)
    assert predictions.file and predictions.row_count == 4000
    bias = CheckRun.objects.get(kind=CheckKind.BIAS)
    assert bias.state == RunState.QUEUED and bias.input_dataset_version == predictions
    assert bias.policy_system is not None

    bias = run_now(bias)
    assert bias.state == RunState.SUCCEEDED, bias.error
    assert bias.verdict == Verdict.FAIL
    assert any("idioma" in reason for reason in bias.verdict_reasons)

    evaluation = run_now(CheckRun.objects.get(kind=CheckKind.EVALUATION))
    assert evaluation.state == RunState.SUCCEEDED
    assert evaluation.metrics["items"] == 60
    call_command("load_demo", "--if-empty")  # never twice
    # Bias, evaluation, two PII scans, the synthetic pilot's memorisation check and the PII scans that
    # the organisation's auto-scan policy queued for the demo's new dataset versions.
    kinds = sorted(CheckRun.objects.values_list("kind", flat=True))
    assert kinds.count(CheckKind.BIAS) == kinds.count(CheckKind.MEMORISATION) == kinds.count(CheckKind.EVALUATION) == 1


def test_the_demo_synthetic_pilot_copies_real_tickets_and_its_memorisation_check_fails():
    call_command("load_demo", "--if-empty")
    run = CheckRun.objects.get(kind=CheckKind.MEMORISATION)
    assert run.generator_version is not None and run.input_dataset_version is not None
    run = run_now(run)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.verdict == Verdict.FAIL, run.verdict_reasons
    metrics = run.metrics["metrics"]
    assert metrics["ims_training"] > metrics["ims_holdout"] + 0.01  # the default policy's margin
