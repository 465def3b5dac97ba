"""Checks on the registry's pages, through ``registry.panels`` (the registry never imports audits)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from access.actors import Actor
from audits.choices import CheckKind
from audits.forms import ApprovalExceptionForm, CanaryForm
from audits.gate import blockers_for
from audits.models import ApprovalException, CheckRun, EvaluationRun
from audits.models.targets import TARGET_KINDS
from audits.services.memorisation import masked_canary
from audits.services.runs import target_reference
from registry import panels

RECENT = 10
FIELD_BY_KIND = {kind: field for field, kind in TARGET_KINDS.items()}


def checks_panel(request: HttpRequest, obj: Any) -> str | None:
    """Recent check runs of a version or system, buttons to start checks, and the approval gate."""
    actor = Actor(user=request.user)
    kind = obj._meta.model_name
    field = FIELD_BY_KIND[kind]
    runs = list(CheckRun.objects.visible_to(actor).filter(**{field: obj}).select_related("policy_version")[:RECENT])
    can_run = actor.may("change") and type(obj).objects.visible_to(actor, "change").filter(pk=obj.pk).exists()
    context: dict[str, Any] = {
        "runs": runs,
        "target": target_reference(obj),
        "object_uuid": obj.uuid,
        "can_run": can_run,
        "can_evaluate": kind in ("modelversion", "promptversion"),
        "can_memorise": kind in ("modelversion", "generatorversion"),
        "bias_kind": CheckKind.BIAS,
    }
    if kind in ("modelversion", "generatorversion"):
        # The latest memorisation result, summarised: the question the check answers is asked of this page.
        context["memorisation"] = next(
            (run for run in runs if run.kind == CheckKind.MEMORISATION and run.verdict and not run.superseded_by_id),
            None,
        )
    if kind in ("modelversion", "promptversion"):
        context["evaluations"] = list(EvaluationRun.objects.visible_to(actor).filter(**{field: obj})[:RECENT])
    if kind == "modelversion":
        context["blockers"] = blockers_for(obj)
        context["exceptions"] = list(ApprovalException.objects.filter(model_version=obj)[:RECENT])
        context["may_except"] = (
            actor.may("approve") and type(obj).objects.visible_to(actor, "approve").filter(pk=obj.pk).exists()
        )
        context["exception_form"] = ApprovalExceptionForm() if context["may_except"] else None
        context["canaries"] = [(canary, masked_canary(canary.value)) for canary in obj.canaries.all()]
        context["canary_form"] = CanaryForm() if can_run else None
    return render_to_string("audits/panels/checks.html", context, request=request)


def register_panels() -> None:
    for label in (
        "registry.datasetversion",
        "registry.modelversion",
        "registry.promptversion",
        "registry.generatorversion",
        "registry.aisystem",
    ):
        panels.register(label, checks_panel)
    from audits.reports.panels import reports_panel

    panels.register("registry.aisystem", reports_panel)
    panels.register("registry.modelversion", reports_panel)
