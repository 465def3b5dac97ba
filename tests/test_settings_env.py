"""Settings come from the environment through helpers that fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

PRODUCTION_KEY = "k3y-" + "x7Qp9LmZ2vR8sT4wY6uB1nC5dF0gH3jK" * 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("", False),
    ],
)
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("CUSTODIA_FLAG", raw)
    assert env_bool("CUSTODIA_FLAG", not expected) is expected


def test_an_unset_boolean_takes_its_default(monkeypatch):
    monkeypatch.delenv("CUSTODIA_FLAG", raising=False)
    assert env_bool("CUSTODIA_FLAG", True) is True


@pytest.mark.parametrize("raw", ["maybe", "treu", "2", "enabled"])
def test_a_bad_boolean_fails_loudly_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("CUSTODIA_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="CUSTODIA_FLAG"):
        env_bool("CUSTODIA_FLAG", False)


def test_integers_are_parsed_and_blank_means_default(monkeypatch):
    monkeypatch.setenv("CUSTODIA_NUMBER", "42")
    assert env_int("CUSTODIA_NUMBER", 1) == 42
    monkeypatch.setenv("CUSTODIA_NUMBER", " ")
    assert env_int("CUSTODIA_NUMBER", 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "5MB", "0x10"])
def test_a_bad_integer_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("CUSTODIA_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="CUSTODIA_NUMBER"):
        env_int("CUSTODIA_NUMBER", 1)


def test_an_integer_below_its_minimum_fails_loudly(monkeypatch):
    monkeypatch.setenv("CUSTODIA_NUMBER", "10")
    with pytest.raises(ImproperlyConfigured, match="at least 60"):
        env_int("CUSTODIA_NUMBER", 100, minimum=60)


def test_lists_are_split_on_commas_and_trimmed(monkeypatch):
    monkeypatch.setenv("CUSTODIA_HOSTS", " a.example , b.example,,")
    assert env_list("CUSTODIA_HOSTS", []) == ["a.example", "b.example"]


def test_a_choice_outside_the_allowed_values_fails_loudly(monkeypatch):
    monkeypatch.setenv("CUSTODIA_LEVEL", "loud")
    with pytest.raises(ImproperlyConfigured, match="CUSTODIA_LEVEL"):
        env_choice("CUSTODIA_LEVEL", "info", ("debug", "info"))
    monkeypatch.setenv("CUSTODIA_LEVEL", "DEBUG")
    assert env_choice("CUSTODIA_LEVEL", "info", ("debug", "info")) == "debug"


def test_a_required_string_without_value_or_default_fails_loudly(monkeypatch):
    monkeypatch.delenv("CUSTODIA_SECRET", raising=False)
    monkeypatch.delenv("CUSTODIA_SECRET_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="CUSTODIA_SECRET must be set"):
        env_str("CUSTODIA_SECRET")


def test_a_secret_is_read_from_its_file_in_preference_to_the_variable(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("CUSTODIA_SECRET", "from-the-variable")
    monkeypatch.setenv("CUSTODIA_SECRET_FILE", str(secret))
    assert env_str("CUSTODIA_SECRET") == "from-the-file"


def test_an_unreadable_secret_file_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv("CUSTODIA_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="CUSTODIA_SECRET_FILE"):
        env_str("CUSTODIA_SECRET")


# The settings module itself, run in a fresh process as a deployment would.


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTODIA_", "SECURE_", "DJANGO_"))}
    for name in ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS", "STATIC_MANIFEST", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CUSTODIA_VAR_DIR": str(tmp_path / "var"),
            "DEBUG": "false",
            "SECRET_KEY": PRODUCTION_KEY,
            "ALLOWED_HOSTS": "custodia.example.org",
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(PRODUCTION_KEY + "\n", encoding="utf-8")
    env = production_env(tmp_path, SECRET_KEY_FILE=str(key_file))
    env.pop("SECRET_KEY")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    env.pop("SECRET_KEY")
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY="too-short"), "check")
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEBUG", "maybe"), ("DATABASE_CONN_MAX_AGE", "forever"), ("LOG_LEVEL", "loud"), ("DATABASE_URL", "nope://x")],
)
def test_a_bad_setting_stops_the_process_naming_the_variable(tmp_path, name, value):
    result = manage(production_env(tmp_path, **{name: value}), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_the_readme_documents_every_variable_the_settings_read():
    import re

    base = Path(settings.BASE_DIR)
    source = (base / "config" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r"env_(?:str|bool|int|list|choice)\(\s*\"([A-Z0-9_]+)\"", source))
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= names
    readme = (base / "README.md").read_text(encoding="utf-8")
    table_rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = {name for row in table_rows for name in re.findall(r"`([A-Z0-9_]+)`", row.split("|")[1])}
    assert sorted(names - documented) == []
