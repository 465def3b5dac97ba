"""The PII check through the engine: the demo datasets, masked evidence only, parts, prompts, auto-scan."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

import audits.tasks
from access.actors import Actor
from audits.choices import CheckKind, RunState, Verdict
from audits.models import CheckRun, CheckRunPart, Finding
from audits.runners.pii import ByteRange, line_aligned_parts
from audits.services import do_request_check, do_set_policy
from registry.demo_files import tickets_csv
from registry.models import Dataset
from registry.services import do_create_dataset_version, do_create_prompt_version
from tests.audits.conftest import run_now


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def raw_values() -> set[str]:
    """Every e-mail, phone and NIF in the demo tickets: none may be stored or shown anywhere."""
    values = set()
    for row in csv.DictReader(io.StringIO(tickets_csv().decode())):
        values |= {row["email"], row["telefono"], row["dni"], row["telefono"].replace(" ", "")}
    return values


@pytest.mark.django_db
def test_the_demo_raw_tickets_are_flagged_and_the_knowledge_base_passes_with_masked_evidence_only():
    call_command("load_demo", "--if-empty")
    scans = {run.dataset_version.dataset.name: run for run in CheckRun.objects.filter(kind=CheckKind.PII)}
    raw = run_now(scans["Tickets de soporte (brutos)"])
    knowledge = run_now(scans["Base de conocimiento anonimizada"])
    assert raw.state == RunState.SUCCEEDED, raw.error
    assert raw.verdict == Verdict.FAIL
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "ES_NIF"} <= set(raw.metrics["metrics"]["entities"])
    assert raw.metrics["metrics"]["columns"]["email"]["main_entity"] == "EMAIL_ADDRESS"
    assert raw.metrics["metrics"]["columns"]["dni"]["main_entity"] == "ES_NIF"
    assert knowledge.state == RunState.SUCCEEDED, knowledge.error
    assert knowledge.verdict == Verdict.PASS, knowledge.verdict_reasons

    secrets = raw_values()
    stored = json.dumps([raw.metrics, list(Finding.objects.values("title", "detail", "evidence"))], ensure_ascii=False)
    assert not [value for value in secrets if value in stored]
    officer = client_for(get_user_model().objects.get(username="officer"))
    page = officer.get(reverse("audits:run_detail", kwargs={"uuid": raw.uuid})).content.decode()
    api = officer.get(f"/api/v1/checks/{raw.uuid}/").content.decode()
    findings_api = officer.get("/api/v1/findings/?status=open").content.decode()
    for text in (page, api, findings_api):
        assert "ES_NIF" in text or "NIF" in text
        assert not [value for value in secrets if value in text]
    assert 'data-testid="pii-entities"' in page
    assert re.search(r"\*\*\*|#", stored)  # masked snippets are there, just not the values


def test_line_aligned_parts_cover_the_file_exactly_and_start_at_line_boundaries():
    data = b"".join(b"record %d with some text\n" % i for i in range(20000)) + b"last line without newline"
    handle = io.BytesIO(data)
    parts = line_aligned_parts(handle, len(data), 50_000)
    assert len(parts) > 5
    rebuilt = b"".join(io.BufferedReader(ByteRange(handle, p["start"], p["end"])).read() for p in parts)
    assert rebuilt == data
    for part in parts:
        assert part["start"] == 0 or data[part["start"] - 1 : part["start"]] == b"\n"
        assert data[: part["start"]].count(b"\n") == part["start_record"]


def test_a_large_file_scanned_in_parts_gives_the_result_of_one_piece(
    personas, catalogue, settings, monkeypatch, django_capture_on_commit_callbacks
):
    lines = []
    for i in range(400):
        lines.append(
            json.dumps(
                {"id": i, "text": f"Cliente {i}: escríbeme a persona{i}@example.com o al 612 345 {i % 1000:03d}"}
            )
        )
        lines.append(json.dumps({"id": i, "text": "Consulta sobre la tarifa, sin datos personales."}))
    content = ("\n".join(lines) + "\n").encode()
    actor = personas.actor(personas.contributor)
    dataset = Dataset.objects.get(pk=catalogue.dataset.pk)
    version = do_create_dataset_version(
        dataset,
        actor=actor,
        data={"origin": "collected", "format": "jsonl"},
        upload=SimpleUploadedFile("chats.jsonl", content),
    )
    whole = run_now(do_request_check(CheckKind.PII, actor=actor, target=version, parameters={"language": "es"}))
    assert whole.parts_total == 0 and whole.state == RunState.SUCCEEDED, whole.error

    settings.CHECK_PART_BYTES = 8 * 1024
    # Parts are queued with delay(); here each runs inline, in order (the worker tests use real workers).
    monkeypatch.setattr(audits.tasks, "enqueue_part", lambda pk: audits.tasks.execute_check_part.apply(args=[pk]))
    split = do_request_check(CheckKind.PII, actor=actor, target=version, parameters={"language": "es"})
    with django_capture_on_commit_callbacks(execute=True):
        audits.tasks.execute_check.apply(args=[split.pk])
    split.refresh_from_db()
    assert split.parts_total > 2 and split.state == RunState.SUCCEEDED, split.error
    assert CheckRunPart.objects.filter(run=split, state="succeeded").count() == split.parts_total
    assert split.metrics["metrics"]["entities"] == whole.metrics["metrics"]["entities"]
    assert split.metrics["metrics"]["records"] == whole.metrics["metrics"]["records"]
    assert split.verdict == whole.verdict == Verdict.WARN  # e-mails and phones are of medium severity


def test_a_prompt_version_with_an_email_is_flagged(personas, catalogue):
    actor = personas.actor(personas.contributor)
    version = do_create_prompt_version(
        catalogue.prompt,
        actor=actor,
        data={
            "template": "Si hay dudas, escribe a juan.perez@example.com o llama al 612 345 678.",
            "commit_message": "x",
        },
    )
    run = run_now(do_request_check(CheckKind.PII, actor=actor, target=version, parameters={"language": "es"}))
    assert run.state == RunState.SUCCEEDED, run.error
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} <= set(run.metrics["metrics"]["entities"])
    assert "juan.perez@example.com" not in json.dumps(run.metrics) + json.dumps(list(run.findings.values("evidence")))


def test_the_allow_list_of_a_system_policy_keeps_the_support_address_out(personas, catalogue):
    do_set_policy(
        CheckKind.PII,
        actor=personas.actor(personas.officer),
        system=catalogue.system,
        thresholds={"allow_list": ["soporte@example.com"], "fail_at": "high", "warn_at": "medium"},
        note="Our own support address is public",
    )
    actor = personas.actor(personas.contributor)
    version = do_create_prompt_version(
        catalogue.prompt, actor=actor, data={"template": "Escribe a soporte@example.com.", "commit_message": "x"}
    )
    run = run_now(
        do_request_check(
            CheckKind.PII, actor=actor, target=version, parameters={"language": "es"}, policy_system=catalogue.system
        )
    )
    assert run.verdict == Verdict.PASS, run.verdict_reasons


def test_a_policy_scans_new_versions_that_claim_no_personal_data(
    personas, catalogue, django_capture_on_commit_callbacks
):
    do_set_policy(
        CheckKind.PII, actor=Actor(user=personas.admin), system=None, thresholds={"auto_scan": "yes"}, note="Scan all"
    )
    actor = personas.actor(personas.contributor)
    with django_capture_on_commit_callbacks(execute=True):
        clean = do_create_dataset_version(
            catalogue.dataset,
            actor=actor,
            data={"origin": "collected", "contains_personal_data": False},
            upload=SimpleUploadedFile("notes.txt", b"Nada personal aqui.\nEscribe a ana@example.com\n"),
        )
        declared = do_create_dataset_version(
            catalogue.dataset,
            actor=actor,
            data={"origin": "collected", "contains_personal_data": True},
            upload=SimpleUploadedFile("raw.txt", b"ana@example.com\n"),
        )
    scans = CheckRun.objects.filter(kind=CheckKind.PII)
    assert [run.dataset_version_id for run in scans] == [clean.pk]
    assert scans.get().actor_label == "system:policy:auto-scan"
    assert declared.pk not in [run.dataset_version_id for run in scans]
    assert run_now(scans.get()).verdict == Verdict.WARN  # an e-mail is of medium severity


def test_scanning_a_dataset_version_without_a_file_fails_with_the_reason(personas, catalogue):
    run = run_now(
        do_request_check(
            CheckKind.PII, actor=personas.actor(personas.contributor), target=catalogue.dataset_version, parameters={}
        )
    )
    assert run.state == RunState.FAILED and "has no file in Custodia" in run.error


def test_the_pii_form_needs_a_file_for_model_outputs(personas, catalogue):
    client = client_for(personas.contributor)
    url = reverse("audits:pii_new") + f"?target=modelversion:{catalogue.model_version.uuid}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"language": "auto"})
    assert response.status_code == 200 and 'data-testid="error-input_file"' in response.content.decode()
    response = client.post(
        url, {"language": "auto", "input_file": SimpleUploadedFile("outputs.txt", b"Llamame al 612 345 678\n")}
    )
    assert response.status_code == 302
    run = run_now(CheckRun.objects.get(kind=CheckKind.PII))
    assert run.state == RunState.SUCCEEDED and "PHONE_NUMBER" in run.metrics["metrics"]["entities"]
