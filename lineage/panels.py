"""Lineage on the registry's version pages, through ``registry.panels`` (the registry never imports lineage)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from access.actors import Actor
from lineage.impact import downstream_impact, version_lineage
from registry import panels

TEMPLATE = "lineage/panels/version_lineage.html"


def version_lineage_panel(request: HttpRequest, obj: Any) -> str | None:
    """Upstream and downstream lineage of a dataset or model version, and what depends on it."""
    actor = Actor(user=request.user)
    kind = obj._meta.model_name  # "datasetversion" | "modelversion"
    start = {"dataset_version": obj} if kind == "datasetversion" else {"model_version": obj}
    placement = version_lineage(actor, **start)
    impact = downstream_impact(actor, **start)
    graph_url = None
    if placement.nodes:
        graph_url = f"{reverse('lineage:graph')}?{urlencode({'node': placement.nodes[0].node_id, 'depth': '2'})}"
    param = "dataset_version" if kind == "datasetversion" else "model_version"
    return render_to_string(
        TEMPLATE,
        {
            "lineage": placement,
            "impact": impact,
            "graph_url": graph_url,
            "impact_url": f"{reverse('lineage:impact')}?{urlencode({param: str(obj.uuid)})}",
        },
        request=request,
    )


def register_panels() -> None:
    panels.register("registry.datasetversion", version_lineage_panel)
    panels.register("registry.modelversion", version_lineage_panel)
