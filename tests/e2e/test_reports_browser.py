"""End-to-end: a compliance officer generates the demo model's audit report, signs it and downloads the PDF.

Headless Chromium against the live server, with a real Celery worker process generating the report.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from audits.models import Report
from audits.reports.services import verify_pdf
from config.celery import app as celery_app
from registry.demo import DEMO_PASSWORD
from registry.models import ModelVersion
from registry.views.base import detail_url
from tests.e2e.conftest import ARTIFACTS
from tests.worker.processes import start_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def worker(live_server: Any, settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    call_command("load_demo", "--if-empty")
    process = start_worker(tmp_path)
    yield process
    process.stop()
    celery_app.conf.task_always_eager = eager


def test_the_model_audit_report_is_generated_signed_and_downloaded(
    live_server: Any, browser_page: Any, worker: Any, tmp_path: Any
) -> None:
    page = browser_page
    version = ModelVersion.objects.exclude(serving_endpoint="").get()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}{detail_url(version)}")
    page.click("[data-testid=new-report]")
    page.wait_for_selector("[data-testid=report-form]")
    page.select_option("#id_language", value="es")
    page.click("[data-testid=generate-report]")
    page.wait_for_selector("[data-testid=report-progress], [data-testid=report-document]")
    report = Report.objects.order_by("-created_at").first()
    assert report is not None and page.url.endswith(f"/reports/{report.uuid}/")
    # The progress fragment polls; when the worker is done the page reloads with the report.
    for _ in range(1200):
        with contextlib.suppress(PlaywrightError):
            if page.locator("[data-testid=report-document]").count():
                break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the report was not generated within 120 s")
    frame = page.frame_locator("[data-testid=report-document] iframe")
    assert frame.locator("[data-section=annex-iv]").count() == 1
    page.screenshot(path=str(ARTIFACTS / "report-generated.png"), full_page=True)

    page.fill("#id_name", "Lucía Ferrer")
    page.fill("#id_role", "Responsable de cumplimiento")
    page.click("[data-testid=sign-report]")
    page.wait_for_selector("[data-testid=signed-badge]")
    assert "Lucía Ferrer" in page.locator("[data-testid=signature]").inner_text()

    with page.expect_download() as download_info:
        page.click("[data-testid=download-pdf]")
    path = tmp_path / "report.pdf"
    download_info.value.save_as(str(path))
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    result = verify_pdf(data)
    assert result.status == "match" and result.report is not None and result.report.is_signed
