"""The dashboard (inventory at a glance) and the search page."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from registry.choices import ModelStage, RiskClass
from registry.models import AISystem, Dataset, Model, ModelVersion, Prompt, SyntheticGenerator
from registry.search import search_assets
from registry.views.base import ActorView, url_key
from registry.views.systems import APPROVED_STAGES
from trail.scope import entries_visible_to

DASHBOARD_ROWS = 10
KINDS = (AISystem, Dataset, SyntheticGenerator, Model, Prompt)


class DashboardView(ActorView):
    template_name = "registry/dashboard.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = self.actor
        systems = AISystem.objects.visible_to(actor)
        by_risk = dict(systems.order_by().values_list("risk_class").annotate(n=Count("pk")))
        risk_counts = [
            {"value": value, "label": label, "count": by_risk.get(value, 0)} for value, label in RiskClass.choices
        ]
        kind_counts = [
            {
                "kind": url_key(model),
                "label": model._meta.verbose_name_plural,
                "count": model.objects.visible_to(actor).count(),
                "url": reverse(f"registry:{url_key(model)}_list"),
            }
            for model in KINDS
        ]
        unapproved = systems.exclude(components__model_version__stage__in=APPROVED_STAGES).select_related("owner_team")
        in_review = (
            ModelVersion.objects.visible_to(actor)
            .filter(stage=ModelStage.IN_REVIEW)
            .select_related("model__owner_team", "created_by")
            .order_by("created_at")
        )
        context = self.get_context_data(
            risk_counts=risk_counts,
            systems_total=sum(row["count"] for row in risk_counts),
            kind_counts=kind_counts,
            recent=entries_visible_to(request).order_by("-seq")[:DASHBOARD_ROWS],
            unapproved=unapproved.order_by("name")[:DASHBOARD_ROWS],
            unapproved_total=unapproved.count(),
            in_review=in_review[:DASHBOARD_ROWS],
            in_review_total=in_review.count(),
        )
        return self.render_to_response(context)


class SearchView(ActorView):
    template_name = "registry/search.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        query = request.GET.get("q", "").strip()[:200]
        hits = search_assets(self.actor, query) if query else []
        groups = [
            {"kind_label": label, "hits": list(items)} for label, items in groupby(hits, key=lambda h: h.kind_label)
        ]
        return self.render_to_response(self.get_context_data(query=query, groups=groups, total=len(hits)))
