"""End-to-end: a compliance officer uses the demo in headless Chromium and switches to Spanish."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# Flags that keep Chromium off the network on a machine without outside access.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(live_server: Any) -> Any:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (not by the server) are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


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
