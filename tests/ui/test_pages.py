"""Every page renders for a contributor of the owning team, and nothing renders signed out."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.ui.conftest import create_urls, detail_urls, edit_urls, list_urls, url

LIST_KEYS = sorted(list_urls())
DETAIL_KEYS = [
    "system",
    "dataset",
    "generator",
    "model",
    "prompt",
    "datasetversion",
    "generatorversion",
    "modelversion",
    "promptversion",
    "prompt_diff",
]
EDIT_KEYS = DETAIL_KEYS[:-1]
CREATE_KEYS = [
    *EDIT_KEYS[:5],
    "datasetversion",
    "generatorversion",
    "modelversion",
    "promptversion",
    "component",
    "promptalias",
]


@pytest.mark.parametrize("key", LIST_KEYS)
def test_list_pages_render_for_the_contributor(catalogue, contributor: Client, key: str) -> None:
    response = contributor.get(list_urls()[key])
    assert response.status_code == 200
    assert 'data-testid="list-table"' in response.content.decode()


@pytest.mark.parametrize("key", DETAIL_KEYS)
def test_detail_pages_render_for_the_contributor(catalogue, contributor: Client, key: str) -> None:
    assert contributor.get(detail_urls(catalogue)[key]).status_code == 200


@pytest.mark.parametrize("key", EDIT_KEYS)
def test_edit_pages_render_for_the_contributor(catalogue, contributor: Client, key: str) -> None:
    assert contributor.get(edit_urls(catalogue)[key]).status_code == 200


@pytest.mark.parametrize("key", CREATE_KEYS)
def test_create_pages_render_for_the_contributor(catalogue, contributor: Client, key: str) -> None:
    assert contributor.get(create_urls(catalogue)[key]).status_code == 200


@pytest.mark.parametrize(
    "name", ["registry:dashboard", "registry:approvals", "registry:search", "trail:list", "access:token_list"]
)
def test_the_other_pages_render_for_the_contributor(catalogue, contributor: Client, name: str) -> None:
    assert contributor.get(url(name), {"q": "tickets"} if name == "registry:search" else None).status_code == 200


def test_the_audit_entry_page_renders_for_the_contributor(catalogue, contributor: Client) -> None:
    from trail.models import AuditEntry

    entry = AuditEntry.objects.filter(team_slug="alpha").first()
    assert contributor.get(url("trail:detail", seq=entry.seq)).status_code == 200


def test_the_system_page_names_the_system_in_its_heading(catalogue, contributor: Client) -> None:
    page = contributor.get(detail_urls(catalogue)["system"]).content.decode()
    assert '<h1 id="object-name" data-testid="object-name">Support chatbot</h1>' in page
    assert "Limited risk" in page


@pytest.mark.parametrize("name", ["registry:dashboard", "registry:system_list", "trail:list", "access:token_list"])
def test_signed_out_visitors_are_sent_to_the_login_page(db, name: str) -> None:
    response = Client().get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(url("access:login"))


def test_the_login_page_signs_in_with_the_standard_field_names(personas) -> None:
    from tests.conftest import PASSWORD

    client = Client()
    page = client.get(url("access:login")).content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    # The sign-in button is the page's first submit button (the language switch comes after it).
    assert page.index('data-testid="login-submit"') < page.index('id="language-submit"')
    response = client.post(url("access:login"), {"username": "contributor", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("registry:dashboard")


def test_logout_is_a_post(personas, contributor: Client) -> None:
    assert contributor.get(url("access:logout")).status_code == 405
    response = contributor.post(url("access:logout"))
    assert response.status_code == 302
    assert contributor.get(url("registry:dashboard")).status_code == 302


def test_the_header_offers_the_language_switch_and_the_navigation(personas, contributor: Client) -> None:
    page = contributor.get(url("registry:dashboard")).content.decode()
    assert 'id="language-form"' in page and 'id="language-select"' in page and 'id="language-submit"' in page
    assert '<option value="es" lang="es">Español</option>' in page
    for testid in (
        "nav-dashboard",
        "nav-systems",
        "nav-datasets",
        "nav-generators",
        "nav-models",
        "nav-prompts",
        "nav-approvals",
        "nav-audit-trail",
        "nav-search",
        "nav-tokens",
        "logout",
    ):
        assert f'data-testid="{testid}"' in page


def test_the_stylesheet_and_htmx_are_served_from_our_own_static_files(personas, contributor: Client) -> None:
    page = contributor.get(url("registry:dashboard")).content.decode()
    assert "/static/css/custodia.css" in page and "/static/js/htmx.min.js" in page
    assert "http://" not in page.split("<body")[0] and "https://" not in page.split("<body")[0]
