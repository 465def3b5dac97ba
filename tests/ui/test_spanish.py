"""The UI speaks English by default and Spanish when asked (cookie, Accept-Language or the switch)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.ui.conftest import detail_urls, list_urls, signed_in, url

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_the_dashboard_is_in_english_by_default(catalogue, contributor: Client) -> None:
    body = contributor.get(url("registry:dashboard")).content.decode()
    assert '<html lang="en">' in body
    assert "AI systems by EU AI Act risk class" in body and "Recent changes" in body


def test_the_dashboard_is_in_spanish_with_the_language_cookie(catalogue, contributor: Client) -> None:
    contributor.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    body = contributor.get(url("registry:dashboard")).content.decode()
    assert '<html lang="es">' in body
    for spanish in (
        "Sistemas de IA por clase de riesgo del Reglamento de IA",
        "Cambios recientes",
        "Inventario",
        "Versiones de modelos pendientes de revisión",
        "Riesgo limitado",
        "Conjuntos de datos",
        "Registro de auditoría",
        "Cerrar sesión",
    ):
        assert spanish in body, spanish
    assert "Recent changes" not in body and "Sign out" not in body


def test_the_dashboard_is_in_spanish_for_a_spanish_browser(catalogue, personas) -> None:
    client = signed_in(personas.contributor)
    body = client.get(url("registry:dashboard"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9").content.decode()
    assert "Panel" in body and "Aprobaciones" in body and "Sistemas de IA sin un modelo aprobado" in body


def test_the_language_switch_comes_back_to_the_same_page_in_spanish(catalogue, contributor: Client) -> None:
    page = detail_urls(catalogue)["system"]
    response = contributor.post(url("set_language"), {"language": "es", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    body = contributor.get(page).content.decode()
    assert "Componentes" in body and "Clase de riesgo según el Reglamento de IA de la UE" in body
    assert "Base de conocimiento" in body and "Prompt de sistema" in body


def test_model_choices_and_service_errors_are_translated(catalogue, contributor: Client) -> None:
    contributor.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    body = contributor.get(list_urls()["system"]).content.decode()
    assert "Registrar sistema de IA" in body and "Todos los equipos" in body and "Cualquiera" in body
    response = contributor.post(
        url("registry:promptversion_create", uuid=catalogue.prompt.uuid), {"template": " ", "commit_message": ""}
    )
    assert (
        "Este campo es requerido." in response.content.decode()
        or "Este campo es obligatorio." in response.content.decode()
    )
    response = contributor.post(
        url("registry:promptversion_create", uuid=catalogue.prompt.uuid), {"template": "Hola {{", "commit_message": "x"}
    )
    assert "Línea 1: «{{» debe ir seguido del nombre de una variable" in response.content.decode()
    response = contributor.post(
        delete_url := url("registry:datasetversion_delete", uuid=catalogue.dataset_version.uuid), follow=True
    )
    assert delete_url and "No se puede eliminar «Tickets v1» porque sigue en uso" in response.content.decode()


def test_every_message_of_the_spanish_catalogue_is_translated() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]
    assert entries, "the catalogue is empty"
    for entry in entries:
        if entry.startswith("#~"):
            continue
        assert "#, fuzzy" not in entry, entry
        for value in re.findall(r'^msgstr(?:\[\d\])? "(.*)"\n(?!")', entry + "\n", flags=re.MULTILINE):
            assert value != "", entry
    assert (CATALOGUE.with_suffix(".mo")).stat().st_mtime >= CATALOGUE.stat().st_mtime - 5, "compile the catalogue"
