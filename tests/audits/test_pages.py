"""The audits pages: checks on registry pages, run results, findings, policies, evaluations."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.choices import FindingStatus
from audits.models import ApprovalException, CheckRun, EvaluationRun, Finding, PolicyVersion
from audits.services import do_import_evaluation
from registry.views.base import detail_url
from tests.audits.conftest import items, run_now

FINDING_LINK = re.compile(r'href="/audits/findings/[0-9a-f-]{36}/"')
RUN_LINK = re.compile(r'href="/audits/checks/[0-9a-f-]{36}/"')


def count(pattern: re.Pattern[str], response) -> int:
    return len(pattern.findall(response.content.decode()))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def evaluated(personas, catalogue, scores) -> CheckRun:
    evaluation = do_import_evaluation(
        actor=personas.actor(personas.contributor), target=catalogue.model_version, name="Eval", items=items(scores)
    )
    return run_now(evaluation.check_runs.get())


def csv_upload(text: str, name: str = "eval.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_version_pages_show_the_checks_panel_with_actions_for_those_who_may_run_checks(personas, catalogue):
    url = detail_url(catalogue.model_version)
    page = client_for(personas.contributor).get(url).content.decode()
    assert 'data-testid="checks-panel"' in page
    assert 'data-testid="start-bias-check"' in page and 'data-testid="import-evaluation"' in page
    auditor_page = client_for(personas.auditor).get(url).content.decode()
    assert 'data-testid="checks-panel"' in auditor_page
    assert 'data-testid="start-bias-check"' not in auditor_page
    system_page = client_for(personas.contributor).get(detail_url(catalogue.system)).content.decode()
    assert 'data-testid="checks-panel"' in system_page


def test_a_run_page_shows_verdict_metrics_findings_and_the_outsider_gets_404(personas, catalogue, bad_scores):
    run = evaluated(personas, catalogue, bad_scores)
    url = reverse("audits:run_detail", kwargs={"uuid": run.uuid})
    response = client_for(personas.auditor).get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="verdict"' in page and "Fail" in page
    assert 'data-testid="mean-score"' in page
    assert 'data-testid="worst-items"' in page and "Q21?" in page  # the lowest scores come first
    assert run.findings.first().title in page
    assert client_for(personas.outsider).get(url).status_code == 404
    finding = run.findings.first()
    assert (
        client_for(personas.outsider).get(reverse("audits:finding_detail", kwargs={"uuid": finding.uuid})).status_code
        == 404
    )
    evaluation_url = reverse("audits:evaluation_detail", kwargs={"uuid": run.evaluation.uuid})
    assert client_for(personas.outsider).get(evaluation_url).status_code == 404
    assert client_for(personas.auditor).get(evaluation_url).status_code == 200


def test_the_progress_fragment_asks_the_page_to_reload_once_the_run_is_finished(personas, catalogue, good_scores):
    evaluation = do_import_evaluation(
        actor=personas.actor(personas.contributor),
        target=catalogue.model_version,
        name="Eval",
        items=items(good_scores),
    )
    run = evaluation.check_runs.get()
    client = client_for(personas.contributor)
    url = reverse("audits:run_progress", kwargs={"uuid": run.uuid})
    queued = client.get(url)
    assert "HX-Refresh" not in queued and 'hx-trigger="every 1s"' in queued.content.decode()
    run_now(run)
    finished = client.get(url)
    assert finished["HX-Refresh"] == "true"


def test_importing_an_evaluation_through_the_form(personas, catalogue):
    rows = "question,ground_truth,answer,score,explanation\n" + "".join(
        f"Q{i},T{i},A{i},{0.9 if i % 2 else 0.7},ok\n" for i in range(40)
    )
    url = reverse("audits:evaluation_new") + f"?target=modelversion:{catalogue.model_version.uuid}"
    client = client_for(personas.contributor)
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "November", "file": csv_upload(rows), "judge": "gpt-judge"})
    evaluation = EvaluationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:evaluation_detail", kwargs={"uuid": evaluation.uuid})
    assert evaluation.item_count == 40 and evaluation.judge == "gpt-judge"
    assert evaluation.items.get(position=3).ground_truth == "T2"


def test_a_bad_evaluation_file_is_explained_and_nothing_is_stored(personas, catalogue):
    url = reverse("audits:evaluation_new") + f"?target=modelversion:{catalogue.model_version.uuid}"
    client = client_for(personas.contributor)
    cases = {
        "question,answer\nQ,A\n": "no column for “score”",
        "question,answer,score\nQ,A,1.7\n": "is outside [0, 1]",
        "question,answer,score\nQ,A,high\n": "is not a number between 0 and 1",
        "": "empty",
    }
    for text, message in cases.items():
        response = client.post(url, {"name": "Bad", "file": csv_upload(text)})
        assert response.status_code == 200
        assert message in response.content.decode(), message
    png = SimpleUploadedFile("eval.csv", b"\x89PNG\r\n\x1a\n\x00\x00", content_type="image/png")
    response = client.post(url, {"name": "Bad", "file": png})
    assert "not a text table" in response.content.decode()
    assert not EvaluationRun.objects.exists() and not CheckRun.objects.exists()


def test_auditors_and_outsiders_cannot_start_checks(personas, catalogue):
    target = f"?target=modelversion:{catalogue.model_version.uuid}"
    for name in ("audits:bias_new", "audits:evaluation_new"):
        assert client_for(personas.auditor).get(reverse(name) + target).status_code == 403
        assert client_for(personas.outsider).get(reverse(name) + target).status_code == 404
    assert client_for(personas.contributor).get(reverse("audits:bias_new") + "?target=nonsense").status_code == 404


def test_triaging_a_finding_through_the_page(personas, catalogue, bad_scores):
    run = evaluated(personas, catalogue, bad_scores)
    finding = run.findings.first()
    url = reverse("audits:finding_detail", kwargs={"uuid": finding.uuid})
    assert 'data-testid="triage-form"' not in client_for(personas.contributor).get(url).content.decode()
    assert client_for(personas.contributor).post(url, {"status": "resolved", "reason": "x"}).status_code == 403
    officer = client_for(personas.officer)
    response = officer.post(url, {"status": "false_positive", "reason": ""})
    assert response.status_code == 200 and 'data-testid="error-reason"' in response.content.decode()
    response = officer.post(url, {"status": "false_positive", "reason": "Judge misread the question"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.FALSE_POSITIVE


def test_the_findings_list_shows_open_findings_of_current_results_by_default(personas, catalogue, bad_scores):
    run = evaluated(personas, catalogue, bad_scores)
    Finding.objects.filter(run=run).exclude(pk=run.findings.first().pk).update(status=FindingStatus.RESOLVED)
    assert count(FINDING_LINK, client_for(personas.auditor).get(reverse("audits:finding_list"))) == 1
    everything = client_for(personas.auditor).get(reverse("audits:finding_list") + "?status=resolved&status=open")
    assert count(FINDING_LINK, everything) == 2
    assert count(FINDING_LINK, client_for(personas.outsider).get(reverse("audits:finding_list"))) == 0


def test_the_run_list_filters_by_verdict_and_hides_other_teams_runs(personas, catalogue, bad_scores, good_scores):
    evaluated(personas, catalogue, bad_scores)
    evaluated(personas, catalogue, good_scores)
    client = client_for(personas.auditor)
    assert count(RUN_LINK, client.get(reverse("audits:run_list"))) == 2
    assert count(RUN_LINK, client.get(reverse("audits:run_list") + "?verdict=fail")) == 1
    assert count(RUN_LINK, client.get(reverse("audits:run_list") + "?current=true")) == 1
    assert count(RUN_LINK, client_for(personas.outsider).get(reverse("audits:run_list"))) == 0


def test_policies_are_listed_and_edited_as_new_versions(personas, catalogue):
    officer = client_for(personas.officer)
    page = officer.get(reverse("audits:policy_list")).content.decode()
    assert "Organisation default" in page and "Minimum ratio" in page
    assert 'data-testid="edit-default-bias"' not in page  # defaults: administrators only
    url = reverse("audits:policy_system_edit", kwargs={"kind": "bias", "system": catalogue.system.uuid})
    form = officer.get(url)
    assert form.status_code == 200
    data = {
        "t_min_ratio": "0.9",
        "t_max_difference": "0.05",
        "t_min_group_size": "50",
        "t_confidence": "0.95",
        "t_warn_margin": "0.02",
        "t_n_boot": "500",
        "rerun_every_days": "30",
        "note": "Stricter for the chatbot",
    }
    assert officer.post(url, data).status_code == 302
    version = PolicyVersion.objects.get(policy__system=catalogue.system)
    assert version.thresholds["min_ratio"] == 0.9 and version.rerun_every_days == 30
    assert officer.post(url, {**data, "t_min_ratio": "2"}).status_code == 200  # out of range: shown again
    assert client_for(personas.contributor).get(url).status_code == 403
    assert client_for(personas.outsider).get(url).status_code == 404
    choose = officer.get(reverse("audits:policy_choose") + f"?kind=bias&system={catalogue.system.uuid}")
    assert choose.status_code == 302 and choose["Location"] == url
    assert officer.get(reverse("audits:policy_choose") + "?kind=bias&system=zzz").status_code == 404


def test_an_officer_records_an_approval_exception_from_the_model_version_page(personas, catalogue, bad_scores):
    evaluated(personas, catalogue, bad_scores)
    url = detail_url(catalogue.model_version)
    officer = client_for(personas.officer)
    page = officer.get(url).content.decode()
    assert 'data-testid="approval-blockers"' in page and 'data-testid="exception-form"' in page
    create = reverse("audits:exception_create", kwargs={"uuid": catalogue.model_version.uuid})
    assert (
        client_for(personas.contributor).post(create, {"justification": "x", "expires_on": "2030-01-01"}).status_code
        == 403
    )
    assert not ApprovalException.objects.exists()
    expires = (timezone.localdate() + timedelta(days=10)).isoformat()
    assert officer.post(create, {"justification": "Pilot", "expires_on": expires}).status_code == 302
    exception = ApprovalException.objects.get()
    assert exception.justification == "Pilot"
    assert "Exception recorded by officer" in officer.get(url).content.decode()
    assert client_for(personas.outsider).post(create, {"justification": "x", "expires_on": expires}).status_code == 404


def test_evaluation_file_upload_accepts_json_lines(personas, catalogue):
    import json

    lines = "\n".join(json.dumps({"input": f"Q{i}", "output": f"A{i}", "rating": 0.8}) for i in range(5))
    url = reverse("audits:evaluation_new") + f"?target=modelversion:{catalogue.model_version.uuid}"
    response = client_for(personas.contributor).post(
        url, {"name": "JSONL", "file": SimpleUploadedFile("e.jsonl", lines.encode())}
    )
    assert response.status_code == 302
    assert EvaluationRun.objects.get().item_count == 5
