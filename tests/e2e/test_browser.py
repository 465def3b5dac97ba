"""End-to-end: a compliance officer uses the demo in headless Chromium and switches to Spanish."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_officer_opens_the_demo_system_and_switches_to_spanish(live_server: Any, browser_page: Any) -> None:
    from registry.demo import DEMO_PASSWORD, SYSTEM_NAME

    call_command("load_demo")
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login" not in page.url, "login failed"
    page.screenshot(path=str(ARTIFACTS / "01-dashboard-en.png"), full_page=True)

    page.get_by_role("link", name="AI systems").first.click()
    page.get_by_role("link", name=SYSTEM_NAME).first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().strip().startswith(SYSTEM_NAME)
    assert page.get_by_text("Risk class", exact=False).count() > 0
    page.screenshot(path=str(ARTIFACTS / "02-system-en.png"), full_page=True)
    system_url = page.url

    page.select_option("#language-select", "es")
    page.click("#language-submit")
    page.wait_for_load_state("networkidle")
    assert page.url == system_url, "the language switch should come back to the same page"
    html_lang = page.locator("html").get_attribute("lang")
    assert html_lang == "es"
    body = page.locator("body").inner_text()
    for spanish in ("Sistemas de IA", "Conjuntos de datos", "Registro de auditoría"):
        assert spanish in body, f"expected the Spanish label {spanish!r} on the page"
    assert "Datasets" not in body.split(SYSTEM_NAME)[0], "navigation should no longer be in English"
    page.screenshot(path=str(ARTIFACTS / "03-system-es.png"), full_page=True)
