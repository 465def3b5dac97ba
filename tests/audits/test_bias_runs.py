"""Bias checks through the engine: started from the form or the API, computed, shown with charts."""

from __future__ import annotations

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audits.choices import RunState, Verdict
from audits.models import CheckRun
from tests.audits.conftest import run_now


def predictions_csv(rows: int = 400, biased: bool = True, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("label,prediction,sex,age_group\n")
    for _ in range(rows):
        sex = rng.choice(["female", "male"])
        age = rng.choice(["<30", "30-50", ">50"])
        label = int(rng.random() < 0.5)
        favour = 0.75 if (sex == "male" or not biased) else 0.35
        prediction = int(rng.random() < favour)
        out.write(f"{label},{prediction},{sex},{age}\n")
    return out.getvalue().encode()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(personas, catalogue, content: bytes, name: str = "predictions.csv", **fields):
    url = reverse("audits:bias_new") + f"?target=modelversion:{catalogue.model_version.uuid}"
    data = {
        "mode": "classification",
        "input_file": SimpleUploadedFile(name, content, content_type="text/csv"),
        "y_true": "label",
        "y_pred": "prediction",
        "sensitive": "sex, age_group",
        **fields,
    }
    return client_for(personas.contributor).post(url, data)


def test_a_biased_model_fails_the_check_and_the_page_shows_charts_and_findings(personas, catalogue):
    response = start(personas, catalogue, predictions_csv())
    run = CheckRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "audits:run_detail", kwargs={"uuid": run.uuid}
    )
    assert run.parameters["sensitive"] == ["sex", "age_group"]
    run = run_now(run)
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.verdict == Verdict.FAIL
    assert any("sex" in reason for reason in run.verdict_reasons)
    assert run.findings.filter(severity="high").exists()
    page = client_for(personas.auditor).get(reverse("audits:run_detail", kwargs={"uuid": run.uuid})).content.decode()
    assert page.count('data-testid="bias-chart"') >= 3 and "<svg" in page
    assert "Selection rate by sex" in page
    assert 'data-testid="bias-disparities"' in page


def test_a_fair_model_with_enough_rows_passes(personas, catalogue):
    start(personas, catalogue, predictions_csv(rows=20000, biased=False), sensitive="sex")
    run = run_now(CheckRun.objects.get())
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.verdict in (Verdict.PASS, Verdict.WARN), run.verdict_reasons


def test_columns_are_checked_before_the_check_is_queued(personas, catalogue):
    response = start(personas, catalogue, predictions_csv(), y_true="truth", sensitive="gender")
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "The table has no column “truth”" in page and "“gender”" in page and "label, prediction, sex, age_group" in page
    )
    assert not CheckRun.objects.exists()


def test_a_table_problem_found_while_reading_fails_the_run_with_a_clear_reason(personas, catalogue):
    content = b"label,prediction,sex\n1,1,female\n0,2,male\n1,0,male\n"
    start(personas, catalogue, content, sensitive="sex")
    run = run_now(CheckRun.objects.get())
    assert run.state == RunState.FAILED
    assert "prediction" in run.error and "must hold two values" in run.error and "'2'" in run.error


def test_a_file_that_is_not_a_table_is_refused_by_the_form(personas, catalogue):
    response = start(personas, catalogue, b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", name="predictions.csv")
    assert response.status_code == 200 and 'data-testid="error-input_file"' in response.content.decode()
    assert not CheckRun.objects.exists()


def test_counterfactual_llm_outputs_are_analysed_by_variant(personas, catalogue):
    rng = random.Random(3)
    rows = ["variant,refused"] + [
        f"{variant},{int(rng.random() < (0.1 if variant == 'he' else 0.3))}" for variant in ["he", "she"] * 300
    ]
    start(
        personas,
        catalogue,
        "\n".join(rows).encode(),
        mode="counterfactual",
        y_true="",
        y_pred="refused",
        sensitive="variant",
    )
    run = run_now(CheckRun.objects.get())
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.metrics["metrics"]["labelled"] is False
    assert run.verdict == Verdict.FAIL


def test_the_api_starts_a_bias_check_with_an_upload(personas, catalogue):
    client = personas.client(token=personas.write_token)
    response = client.post(
        "/api/v1/checks/",
        {
            "target": f"modelversion:{catalogue.model_version.uuid}",
            "input_file": SimpleUploadedFile("p.csv", predictions_csv()),
            "y_true": "label",
            "y_pred": "prediction",
            "sensitive": ["sex"],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "queued"
    bad = client.post(
        "/api/v1/checks/",
        {
            "target": f"modelversion:{catalogue.model_version.uuid}",
            "input_file": SimpleUploadedFile("p.csv", predictions_csv()),
            "y_true": "truth",
            "y_pred": "prediction",
            "sensitive": ["sex"],
        },
        format="multipart",
    )
    assert bad.status_code == 400 and "y_true" in bad.json()
    missing = client.post(
        "/api/v1/checks/",
        {"target": f"modelversion:{catalogue.model_version.uuid}", "sensitive": ["sex"], "y_true": "a", "y_pred": "b"},
        format="json",
    )
    assert missing.status_code == 400 and "non_field_errors" in missing.json()


def test_a_failing_bias_check_blocks_approval_until_an_exception_is_recorded(personas, catalogue):
    from datetime import timedelta

    import pytest
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from audits.services import do_record_approval_exception
    from registry.choices import ModelStage
    from registry.services import do_transition_model_version
    from trail.models import AuditEntry

    start(personas, catalogue, predictions_csv(rows=2000))
    run = run_now(CheckRun.objects.get())
    assert run.verdict == Verdict.FAIL
    version = do_transition_model_version(
        catalogue.model_version, actor=personas.actor(personas.contributor), to_stage=ModelStage.IN_REVIEW
    )
    officer = personas.actor(personas.officer)
    with pytest.raises(ValidationError) as error:
        do_transition_model_version(version, actor=officer, to_stage=ModelStage.APPROVED, reason="Looks fine")
    assert "Bias (fairness)" in " ".join(error.value.message_dict["to_stage"])

    exception = do_record_approval_exception(
        version,
        actor=officer,
        justification="Human review of every rejection until retraining",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    approved = do_transition_model_version(
        version, actor=officer, to_stage=ModelStage.APPROVED, reason="Approved under the recorded exception"
    )
    assert approved.stage == ModelStage.APPROVED
    assert AuditEntry.objects.filter(object_id=str(exception.uuid), action="create").exists()
    approval = AuditEntry.objects.get(object_id=str(version.uuid), action="approve")
    assert approval.changes["waivers"][0]["approval_exception"] == str(exception.uuid)
    assert any("Bias (fairness)" in reason for reason in approval.changes["waived"])


def test_the_latest_verdicts_reported_to_integrations_are_the_current_runs(catalogue, personas):
    from audits.verdicts import latest_verdicts
    from registry.mlflow import writeback

    version = catalogue.model_version
    old = CheckRun.objects.create(
        kind="bias", model_version=version, state=RunState.SUCCEEDED, verdict="fail", actor_label="t"
    )
    new = CheckRun.objects.create(
        kind="bias", model_version=version, state=RunState.SUCCEEDED, verdict="pass", actor_label="t"
    )
    old.superseded_by = new
    old.save()
    CheckRun.objects.create(kind="pii", model_version=version, state=RunState.FAILED, actor_label="t")
    CheckRun.objects.create(
        kind="memorisation", model_version=version, state=RunState.SUCCEEDED, verdict="warn", actor_label="t"
    )
    assert latest_verdicts(version) == {"bias": "pass", "memorisation": "warn"}
    assert latest_verdicts in writeback._SOURCES
