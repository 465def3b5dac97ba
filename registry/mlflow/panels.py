"""What MLflow knows about an imported object, on its page (through ``registry.panels``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from django.template.loader import render_to_string

from access.actors import Actor
from registry import panels
from registry.models import (
    DatasetVersion,
    MlflowModelLink,
    MlflowModelVersionLink,
    MlflowPromptLink,
    MlflowPromptVersionLink,
)


def run_url(link: MlflowModelVersionLink) -> str:
    if not link.run_id or not link.experiment_id:
        return ""
    return f"{link.server.base_url}/#/experiments/{quote(link.experiment_id)}/runs/{quote(link.run_id)}"


def model_url(link: Any, version: int | None = None) -> str:
    url = f"{link.server.base_url}/#/models/{quote(link.name, safe='')}"
    return f"{url}/versions/{version}" if version is not None else url


def prompt_url(link: Any, version: int | None = None) -> str:
    url = f"{link.server.base_url}/#/prompts/{quote(link.name, safe='')}"
    return f"{url}?promptVersion={version}" if version is not None else url


def model_version_panel(request: HttpRequest, version: Any) -> str | None:
    link = MlflowModelVersionLink.objects.select_related("server").filter(model_version=version).first()
    if link is None:
        return None
    actor = Actor(user=request.user)
    matched = [row["dataset_version"] for row in link.datasets if row.get("dataset_version")]
    visible = {
        str(dv.uuid): dv
        for dv in DatasetVersion.objects.visible_to(actor).filter(uuid__in=matched).select_related("dataset")
    }
    datasets = [{**row, "visible": visible.get(row.get("dataset_version") or "")} for row in link.datasets]
    context = {
        "link": link,
        "run_url": run_url(link),
        "version_url": model_url(link, link.version),
        "metrics": sorted(link.metrics.items()),
        "params": sorted(link.params.items()),
        "tags": sorted(link.tags.items()),
        "run_tags": sorted(link.run_tags.items()),
        "datasets": datasets,
        "written_tags": sorted(link.written_tags.items()),
    }
    return render_to_string("registry/includes/mlflow_model_version_panel.html", context, request=request)


def model_panel(request: HttpRequest, model: Any) -> str | None:
    link = MlflowModelLink.objects.select_related("server").filter(model=model).first()
    if link is None:
        return None
    context = {
        "link": link,
        "url": model_url(link),
        "aliases": sorted(link.aliases.items()),
        "tags": sorted(link.tags.items()),
        "kind": "model",
    }
    return render_to_string("registry/includes/mlflow_asset_panel.html", context, request=request)


def prompt_panel(request: HttpRequest, prompt: Any) -> str | None:
    link = MlflowPromptLink.objects.select_related("server").filter(prompt=prompt).first()
    if link is None:
        return None
    context = {
        "link": link,
        "url": prompt_url(link),
        "aliases": sorted(link.aliases.items()),
        "tags": sorted(link.tags.items()),
        "kind": "prompt",
    }
    return render_to_string("registry/includes/mlflow_asset_panel.html", context, request=request)


def prompt_version_panel(request: HttpRequest, version: Any) -> str | None:
    link = MlflowPromptVersionLink.objects.select_related("server").filter(prompt_version=version).first()
    if link is None:
        return None
    context = {
        "link": link,
        "url": prompt_url(link, link.version),
        "tags": sorted(link.tags.items()),
        "kind": "promptversion",
    }
    return render_to_string("registry/includes/mlflow_asset_panel.html", context, request=request)


def register_panels() -> None:
    panels.register("registry.modelversion", model_version_panel)
    panels.register("registry.model", model_panel)
    panels.register("registry.prompt", prompt_panel)
    panels.register("registry.promptversion", prompt_version_panel)
