"""Audit reports: the demo system's three reports in both languages, read back as text and images."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse

from access.actors import Actor
from audits.choices import CheckKind
from audits.models import CheckRun, Report
from audits.reports import render
from audits.reports.services import do_request_report, do_sign_report, generate, verify_pdf
from registry.models import AISystem, ModelVersion
from tests.audits.conftest import run_now

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "reports"

SECTIONS = {
    "model": {
        "en": ["Model card", "Training and evaluation data", "Checks and findings", "Evaluation results",
               "Prompt versions used with the model", "Approval history"],
        "es": ["Ficha del modelo", "Datos de entrenamiento y evaluación", "Comprobaciones y hallazgos",
               "Resultados de evaluación", "Versiones de prompt usadas con el modelo", "Historial de aprobación"],
    },
    "application": {
        "en": ["The AI system", "Components in use", "Deployment and human oversight", "Monitoring",
               "Human feedback", "Incidents", "Personal data in outputs", "Open risks and standards"],
        "es": ["El sistema de IA", "Componentes en uso", "Despliegue y supervisión humana", "Seguimiento",
               "Opiniones de las personas", "Incidentes", "Datos personales en las salidas",
               "Riesgos abiertos y normas"],
    },
    "governance": {
        "en": ["Inventory of AI systems by risk class", "Roles and owners", "Policies and thresholds in force",
               "Risk registers", "Approvals and exceptions", "Open findings and incidents", "Audit trail"],
        "es": ["Inventario de sistemas de IA por clase de riesgo", "Funciones y responsables",
               "Políticas y umbrales en vigor", "Registros de riesgos", "Aprobaciones y excepciones",
               "Hallazgos abiertos e incidentes", "Registro de auditoría"],
    },
}  # fmt: skip
COMMON = {
    "en": ["Contents", "EU AI Act Annex IV", "Verifying this report", "Evidence SHA-256"],
    "es": ["Índice", "Anexo IV del Reglamento de IA", "Cómo verificar este informe", "SHA-256 de las pruebas"],
}


def pdf_text(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", "--if-empty")
    for run in CheckRun.objects.filter(kind__in=[CheckKind.BIAS, CheckKind.PII, CheckKind.EVALUATION]):
        run_now(run)
    officer = get_user_model().objects.get(username="officer")
    system = AISystem.objects.get(components__model_version__serving_endpoint__gt="")
    version = ModelVersion.objects.exclude(serving_endpoint="").get()
    return {"officer": officer, "actor": Actor(user=officer), "system": system, "version": version}


def make(kind: str, language: str, demo: dict[str, Any]) -> Report:
    scope = {"model": {"model_version": demo["version"]}, "application": {"system": demo["system"]}}.get(kind, {})
    report = do_request_report(kind, actor=demo["actor"], language=language, **scope)
    assert generate(report.pk) == "succeeded"
    report.refresh_from_db()
    return report


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_demo_system_s_three_reports_have_every_section_chart_and_the_hash(demo, language, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for kind in ("model", "application", "governance"):
        report = make(kind, language, demo)
        assert report.state == "succeeded", report.error
        path = tmp_path / f"{kind}-{language}.pdf"
        path.write_bytes(report.pdf.read())
        text = pdf_text(path)
        flat = " ".join(text.split())
        for heading in SECTIONS[kind][language] + COMMON[language]:
            assert heading in flat, f"{kind}/{language}: section “{heading}” missing"
        # The hash is printed (possibly wrapped): on the cover and in the verification section.
        assert flat.replace(" ", "").count(report.snapshot_sha256) >= 2
        if kind == "model":
            # The per-group bias charts (SVG text survives into the PDF) and the lineage diagram.
            assert "idioma" in flat and "grupo_edad" in flat
            assert demo["version"].model.name in flat
            assert "No lineage events reach" not in flat and "Ningún evento de linaje" not in flat
        pages = pdf_pages(path)
        assert pages >= 6
        prefix = ARTIFACTS / f"{kind}-{language}"
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(prefix)], check=True)
        images = sorted(ARTIFACTS.glob(f"{kind}-{language}-*.png"))
        assert len(images) >= pages


@pytest.mark.django_db
def test_a_stored_pdf_verifies_and_one_changed_byte_does_not(demo, tmp_path, capsys):
    report = make("model", "en", demo)
    path = tmp_path / "report.pdf"
    data = report.pdf.read()
    path.write_bytes(data)
    call_command("verify_report", str(path))
    assert "OK" in capsys.readouterr().out
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match="mismatch"):
        call_command("verify_report", str(path))
    # The same snapshot renders the same PDF, byte for byte.
    assert render.render_pdf(report.snapshot) == data
    assert render.snapshot_hash(report.snapshot) == report.snapshot_sha256


@pytest.mark.django_db
def test_signing_makes_the_report_immutable_puts_the_signature_in_the_pdf_and_the_trail(demo, tmp_path):
    from trail.models import AuditEntry

    report = make("application", "es", demo)
    draft = report.pdf.read()
    signed = do_sign_report(
        report, actor=demo["actor"], name="Lucía Ferrer", role="Responsable de cumplimiento", statement="Revisado."
    )
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf.read())
    flat = " ".join(pdf_text(path).split())
    assert "Lucía Ferrer" in flat and "Responsable de cumplimiento" in flat and "Revisado." in flat
    assert verify_pdf(path.read_bytes()).status == "match"
    assert verify_pdf(draft).status == "superseded"
    entry = AuditEntry.objects.filter(object_type="audits.report", action="approve").get()
    assert entry.changes["signed_by"] == "Lucía Ferrer"
    with pytest.raises(Exception, match="already signed"):
        do_sign_report(signed, actor=demo["actor"], name="X", role="Y", statement="Z")
    contributor = Actor(user=get_user_model().objects.get(username="contributor"))
    other = make("model", "en", demo)
    with pytest.raises(PermissionDenied):
        do_sign_report(other, actor=contributor, name="C", role="R", statement="S")


@pytest.mark.django_db
def test_evidence_never_includes_what_the_requester_may_not_see(personas, catalogue, settings, tmp_path):
    from registry.models import Dataset
    from registry.services import do_create_asset, do_create_dataset_version, do_create_model_version

    settings.MEDIA_ROOT = tmp_path / "media"
    admin = Actor(user=personas.admin)
    secret = do_create_asset(
        Dataset, actor=admin, data={"name": "Beta secret corpus", "owner_team": personas.other_team}
    )
    secret_v1 = do_create_dataset_version(secret, actor=admin, data={"uri": "s3://beta/secret.jsonl"})
    version = do_create_model_version(
        catalogue.model, actor=admin, data={"base_model": "x"}, training_datasets=[catalogue.dataset_version, secret_v1]
    )
    officer = Actor(user=personas.officer)
    mine = do_request_report("model", actor=officer, model_version=version)
    generate(mine.pk)
    mine.refresh_from_db()
    path = tmp_path / "mine.pdf"
    path.write_bytes(mine.pdf.read())
    assert "Beta secret corpus" not in pdf_text(path)
    assert "Beta secret corpus" not in str(mine.snapshot)
    assert catalogue.dataset_version.dataset.name in pdf_text(path)

    full = do_request_report("model", actor=admin, model_version=version)
    generate(full.pk)
    full.refresh_from_db()
    assert "Beta secret corpus" in str(full.snapshot)
    client = personas.client(personas.officer)
    assert client.get(reverse("reports:detail", kwargs={"uuid": mine.uuid})).status_code == 200
    # The admin's report draws on the beta dataset: invisible to alpha's officer everywhere.
    for url in (
        reverse("reports:detail", kwargs={"uuid": full.uuid}),
        reverse("reports:pdf", kwargs={"uuid": full.uuid}),
        reverse("reports:document", kwargs={"uuid": full.uuid}),
        f"/api/v1/reports/{full.uuid}/",
        f"/api/v1/reports/{full.uuid}/pdf/",
    ):
        assert client.get(url).status_code == 404, url
    listed = client.get("/api/v1/reports/").json()
    uuids = {item["uuid"] for item in (listed["results"] if isinstance(listed, dict) else listed)}
    assert str(mine.uuid) in uuids and str(full.uuid) not in uuids
    # The outsider (team beta) sees neither.
    outsider = personas.client(personas.outsider)
    assert outsider.get(reverse("reports:detail", kwargs={"uuid": mine.uuid})).status_code == 404
    assert outsider.get(f"/api/v1/reports/{mine.uuid}/").status_code == 404


@pytest.mark.django_db
def test_the_api_generates_signs_downloads_and_verifies(
    personas, catalogue, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = personas.client(personas.officer)
    created = client.post(
        "/api/v1/reports/",
        {"kind": "application", "target": f"aisystem:{catalogue.system.uuid}", "language": "es"},
        format="json",
    )
    assert created.status_code == 201, created.content
    uuid = created.json()["uuid"]
    assert created.json()["state"] == "queued"
    generate(Report.objects.get(uuid=uuid).pk)  # what the worker does
    body = client.get(f"/api/v1/reports/{uuid}/").json()
    assert body["state"] == "succeeded" and len(body["snapshot_sha256"]) == 64
    signed = client.post(
        f"/api/v1/reports/{uuid}/sign/", {"name": "Ana", "role": "DPO", "statement": "OK"}, format="json"
    )
    assert signed.status_code == 200 and signed.json()["signed"] is True
    pdf = client.get(f"/api/v1/reports/{uuid}/pdf/")
    data = b"".join(pdf.streaming_content)
    assert data.startswith(b"%PDF")
    from django.core.files.uploadedfile import SimpleUploadedFile

    verified = client.post("/api/v1/reports/verify/", {"file": SimpleUploadedFile("r.pdf", data)}, format="multipart")
    assert verified.json()["ok"] is True and verified.json()["report"] == uuid
    bad = client.post(
        "/api/v1/reports/", {"kind": "model", "target": f"aisystem:{catalogue.system.uuid}"}, format="json"
    )
    assert bad.status_code == 400 and "target" in bad.json()
    missing = client.post("/api/v1/reports/", {"kind": "model"}, format="json")
    assert missing.status_code == 400 and "target" in missing.json()
    again = client.post(
        f"/api/v1/reports/{uuid}/sign/", {"name": "Ana", "role": "DPO", "statement": "OK"}, format="json"
    )
    assert again.status_code == 400


@pytest.mark.django_db
def test_a_report_whose_worker_died_is_failed_by_the_reaper(personas, catalogue):
    from datetime import timedelta

    from django.utils import timezone

    from audits.reports.services import reap_stale_reports

    report = do_request_report("application", actor=Actor(user=personas.officer), system=catalogue.system)
    Report.objects.filter(pk=report.pk).update(state="running", started_at=timezone.now() - timedelta(hours=1))
    fresh = do_request_report("application", actor=Actor(user=personas.officer), system=catalogue.system)
    Report.objects.filter(pk=fresh.pk).update(state="running", started_at=timezone.now())
    assert reap_stale_reports() == 1
    report.refresh_from_db()
    fresh.refresh_from_db()
    assert report.state == "failed" and "stopped" in report.error
    assert fresh.state == "running"
