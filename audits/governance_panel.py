"""The "Governance" panel of an AI system's page, through ``registry.panels`` (the registry never imports audits).

It shows the risk register (with each risk's likelihood × severity score and the matrix of open
risks), incidents, a summary of people's feedback, applied standards and human-oversight measures,
with links to add and edit them for those who may change the system.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from access.actors import Actor
from audits.choices import IncidentStatus, RiskStatus
from audits.models import AppliedStandard, Feedback, Incident, OversightMeasure, Risk
from audits.services.governance import feedback_summary, risk_level, risk_matrix, risk_score
from registry import panels
from registry.models import AISystem
from registry.views.base import allowed

PANEL_ROWS = 10
# A risk register beyond this is listed on the system's governance page only.
MAX_RISKS = 500


def governance_context(actor: Actor, system: AISystem, *, limit: int | None = PANEL_ROWS) -> dict[str, Any]:
    """What the panel and the governance page show; ``limit`` rows per register (None: all)."""
    can_change = allowed(actor, system, "change")
    today = timezone.localdate()
    risks = list(Risk.objects.visible_to(actor).filter(system=system).select_related("owner")[:MAX_RISKS])
    rows = []
    for risk in risks:
        score = risk_score(risk.likelihood, risk.severity)
        rows.append(
            {
                "risk": risk,
                "score": score,
                "level": risk_level(score),
                "closed": risk.status == RiskStatus.CLOSED,
                "overdue": risk.status != RiskStatus.CLOSED and risk.review_date < today,
            }
        )
    # Open risks first, the worst at the top.
    rows.sort(key=lambda row: (row["closed"], -row["score"], row["risk"].review_date))
    live = [row["risk"] for row in rows if not row["closed"]]
    all_incidents = Incident.objects.visible_to(actor).filter(system=system)
    incidents = all_incidents.annotate(finding_count=Count("findings"))
    standards = AppliedStandard.objects.visible_to(actor).filter(system=system)
    measures = OversightMeasure.objects.visible_to(actor).filter(system=system)
    summary = feedback_summary(Feedback.objects.visible_to(actor).filter(system=system))
    for comment in summary["latest_comments"]:
        comment["when"] = parse_datetime(comment["occurred_at"])
    incident_list = list(incidents[:limit] if limit else incidents)
    return {
        "system": system,
        "can_change": can_change,
        "may_approve": can_change and actor.may("approve"),
        "risk_rows": rows[:limit] if limit else rows,
        "risk_count": len(rows),
        "open_risk_count": len(live),
        "overdue_count": sum(1 for row in rows if row["overdue"]),
        "matrix": risk_matrix(live),
        "incidents": incident_list,
        "incident_count": all_incidents.count(),
        "open_incident_count": all_incidents.exclude(
            status__in=[IncidentStatus.RESOLVED, IncidentStatus.CLOSED]
        ).count(),
        "feedback": summary,
        "standards": list(standards[:limit] if limit else standards),
        "standard_count": standards.count(),
        "measures": list(measures[:limit] if limit else measures),
        "measure_count": measures.count(),
        "limit": limit,
    }


def governance_panel(request: HttpRequest, system: Any) -> str | None:
    actor = Actor(user=request.user)
    context = governance_context(actor, system)
    context["next_query"] = ""  # edits return to the system page's governance panel
    return render_to_string("audits/governance/panel.html", context, request=request)


def register_governance_panel() -> None:
    panels.register("registry.aisystem", governance_panel)
