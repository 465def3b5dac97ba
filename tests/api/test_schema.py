"""The OpenAPI schema generates cleanly and the Swagger UI is served from the sidecar package."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_schema_generates_without_warnings_or_errors(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    # --fail-on-warn turns any warning (an unresolvable field, a missing serializer…) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/v1/ai-systems/{uuid}/",
        "/api/v1/dataset-versions/",
        "/api/v1/model-versions/{uuid}/transition/",
        "/api/v1/prompt-versions/{uuid}/diff/",
        "/api/v1/prompts/{uuid}/aliases/{alias}/",
        "/api/v1/tokens/{uuid}/revoke/",
        "/api/v1/audit-trail/{seq}/",
        "/api/v1/search",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/audit-trail/"]) == {"get"}
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    assert "multipart/form-data" in paths["/api/v1/dataset-versions/"]["post"]["requestBody"]["content"]


@pytest.mark.django_db
def test_the_schema_and_docs_are_served_without_a_cdn() -> None:
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/datasets/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page
    assert "drf_spectacular_sidecar" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
