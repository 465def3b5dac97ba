"""The audits API: evaluations, check runs, findings, policies and approval exceptions."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from audits.models import CheckRun, EvaluationRun
from tests.audits.conftest import rows, run_now


def import_payload(catalogue, scores, **extra):
    return {
        "target": f"modelversion:{catalogue.model_version.uuid}",
        "name": "API eval",
        "items": rows(scores),
        **extra,
    }


def test_a_pipeline_token_imports_an_evaluation_and_reads_the_verdict(personas, catalogue, bad_scores):
    client = personas.client(token=personas.write_token)
    response = client.post("/api/v1/evaluations/", import_payload(catalogue, bad_scores), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["item_count"] == 40 and body["target"] == f"modelversion:{catalogue.model_version.uuid}"
    run = run_now(CheckRun.objects.get(uuid=body["check_run"]))
    detail = client.get(f"/api/v1/checks/{run.uuid}/").json()
    assert detail["state"] == "succeeded" and detail["verdict"] == "fail"
    assert detail["policy_version"]["thresholds"]["min_mean_score"] == 0.8
    assert len(detail["findings"]) == 2
    listed = client.get("/api/v1/checks/?verdict=fail").json()
    assert [r["uuid"] for r in listed["results"]] == [str(run.uuid)]
    items = client.get(f"/api/v1/evaluations/{body['uuid']}/items/").json()
    assert items["count"] == 40 and items["results"][0]["question"] == "Q1?"


def test_bad_evaluation_items_get_a_400_naming_the_item_and_store_nothing(personas, catalogue):
    client = personas.client(token=personas.write_token)
    bad = import_payload(catalogue, [0.5])
    bad["items"][0]["score"] = 3
    response = client.post("/api/v1/evaluations/", bad, format="json")
    assert response.status_code == 400
    assert "Item 1" in response.json()["items"][0] and "outside [0, 1]" in response.json()["items"][0]
    response = client.post("/api/v1/evaluations/", {**import_payload(catalogue, [0.5]), "items": "nope"}, format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/evaluations/", {**import_payload(catalogue, [0.5]), "colour": 1}, format="json")
    assert response.status_code == 400 and "colour" in response.json()
    response = client.post("/api/v1/evaluations/", {**import_payload(catalogue, [0.5]), "target": "x"}, format="json")
    assert response.status_code == 400 and "target" in response.json()
    assert not EvaluationRun.objects.exists()


def test_read_tokens_auditors_and_outsiders_cannot_import(personas, catalogue, good_scores):
    payload = import_payload(catalogue, good_scores)
    assert (
        personas.client(token=personas.read_token).post("/api/v1/evaluations/", payload, format="json").status_code
        == 403
    )
    assert personas.client(personas.auditor).post("/api/v1/evaluations/", payload, format="json").status_code == 403
    assert personas.client(personas.outsider).post("/api/v1/evaluations/", payload, format="json").status_code == 404


def test_findings_are_triaged_through_the_api_by_officers_only(personas, catalogue, bad_scores):
    client = personas.client(token=personas.write_token)
    body = client.post("/api/v1/evaluations/", import_payload(catalogue, bad_scores), format="json").json()
    run = run_now(CheckRun.objects.get(uuid=body["check_run"]))
    finding = run.findings.first()
    url = f"/api/v1/findings/{finding.uuid}/status/"
    assert client.post(url, {"status": "resolved", "reason": "x"}, format="json").status_code == 403  # a token
    officer = personas.client(personas.officer)
    assert officer.post(url, {"status": "resolved"}, format="json").status_code == 400
    response = officer.post(url, {"status": "resolved", "reason": "Retrained"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert personas.client(personas.outsider).get(f"/api/v1/findings/{finding.uuid}/").status_code == 404
    open_findings = officer.get("/api/v1/findings/?status=open").json()
    assert open_findings["count"] == 1


def test_checks_are_cancelled_and_rerun_through_the_api(personas, catalogue, good_scores):
    client = personas.client(token=personas.write_token)
    body = client.post("/api/v1/evaluations/", import_payload(catalogue, good_scores), format="json").json()
    url = f"/api/v1/checks/{body['check_run']}/"
    assert personas.client(personas.auditor).post(url + "cancel/").status_code == 403
    assert client.post(url + "cancel/").json()["state"] == "cancelled"
    assert client.post(url + "cancel/").status_code == 400
    rerun = client.post(url + "rerun/")
    assert rerun.status_code == 201 and rerun.json()["rerun_of"] == body["check_run"]
    assert personas.client(personas.outsider).get(url).status_code == 404


def test_policies_and_approval_exceptions_through_the_api(personas, catalogue):
    officer = personas.client(personas.officer)
    response = officer.post(
        "/api/v1/policies/",
        {"kind": "bias", "system": str(catalogue.system.uuid), "thresholds": {"min_ratio": 0.9}, "note": "Stricter"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["thresholds"]["min_ratio"] == 0.9
    bad = officer.post(
        "/api/v1/policies/",
        {"kind": "bias", "system": str(catalogue.system.uuid), "thresholds": {"min_ratio": "high"}, "note": "x"},
        format="json",
    )
    assert bad.status_code == 400 and "thresholds.min_ratio" in bad.json()
    assert personas.client(personas.contributor).post("/api/v1/policies/", {}, format="json").status_code == 403
    expires = (timezone.localdate() + timedelta(days=7)).isoformat()
    created = officer.post(
        "/api/v1/approval-exceptions/",
        {"model_version": str(catalogue.model_version.uuid), "justification": "Pilot", "expires_on": expires},
        format="json",
    )
    assert created.status_code == 201 and created.json()["is_active"] is True
    revoked = officer.post(f"/api/v1/approval-exceptions/{created.json()['uuid']}/revoke/")
    assert revoked.json()["is_active"] is False
    assert (
        personas.client(personas.outsider).get(f"/api/v1/approval-exceptions/{created.json()['uuid']}/").status_code
        == 404
    )
