"""The reports panel on AI system and model version pages: the latest reports and buttons to generate them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from access.actors import Actor
from audits.choices import ReportKind
from audits.models import Report
from audits.reports.services import report_visible
from audits.services.runs import target_reference

RECENT = 5


def reports_panel(request: HttpRequest, obj: Any) -> str | None:
    actor = Actor(user=request.user)
    is_model = obj._meta.model_name == "modelversion"
    scope = {"model_version": obj} if is_model else {"system": obj}
    candidates = Report.objects.filter(**scope).select_related("system", "model_version__model")[: RECENT * 4]
    reports = [report for report in candidates if report_visible(report, actor)][:RECENT]
    return render_to_string(
        "reports/panel.html",
        {
            "reports": reports,
            "kind": ReportKind.MODEL if is_model else ReportKind.APPLICATION,
            "target": target_reference(obj),
        },
        request=request,
    )
