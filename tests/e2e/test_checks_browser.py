"""End-to-end: a contributor starts a bias check on the demo model, watches it run, reads the chart.

Headless Chromium against the live server, with a real Celery worker process computing the check.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from audits.demo import PREDICTIONS_NAME
from audits.models import CheckRun
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


def test_a_bias_check_is_started_watched_and_its_chart_shown(live_server: Any, browser_page: Any, worker: Any) -> None:
    page = browser_page
    version = ModelVersion.objects.exclude(serving_endpoint="").get()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "contributor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(f"{live_server.url}{detail_url(version)}")
    page.click("[data-testid=start-bias-check]")
    page.wait_for_selector("[data-testid=bias-form]")
    option = page.locator("#id_input_dataset_version option", has_text=PREDICTIONS_NAME)
    page.select_option("#id_input_dataset_version", value=option.get_attribute("value"))
    page.fill("#id_y_true", "derivado_real")
    page.fill("#id_y_pred", "derivado_predicho")
    page.fill("#id_sensitive", "idioma, grupo_edad")
    page.click("[data-testid=start-check]")

    page.wait_for_selector("[data-testid=run-progress]")
    run = CheckRun.objects.order_by("-created_at").first()
    assert run is not None and page.url.endswith(f"/audits/checks/{run.uuid}/")
    # The fragment polls every second (the bar moves); when the run ends the page reloads with the result.
    progress = []
    while page.locator("[data-testid=bias-chart] svg").count() == 0:
        with contextlib.suppress(PlaywrightError):  # the page may be reloading with the result
            progress.append(int(page.get_attribute("[role=progressbar]", "aria-valuenow", timeout=500) or 0))
        assert len(progress) < 900, "the check did not finish within 90 s"
        page.wait_for_timeout(100)
    assert progress and min(progress) < 100  # the bar was shown before the result
    page.screenshot(path=str(ARTIFACTS / "bias-check-result.png"), full_page=True)

    assert page.locator("[data-testid=run-progress]").count() == 0  # finished: no more polling
    assert page.locator("[data-testid=verdict]").inner_text() in ("Fail", "Warning", "Inconclusive", "Pass")
    chart = page.locator("[data-testid=bias-chart] svg").first
    assert "Selection rate by idioma" in chart.inner_html()
    assert page.locator("[data-testid=bias-chart] svg rect").count() >= 4
    run.refresh_from_db()
    assert run.state == "succeeded" and run.attempts == 1
