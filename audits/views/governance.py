"""Governance records of an AI system: add, edit and delete pages, the feedback import, the full register.

Each page fetches the system or record through ``visible_to`` (404 for anything the user cannot
see), refuses (403) a user who may see it but not change it, and hands the parsed form to the
service in ``audits.services.governance`` — the same one the API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits.forms import (
    AppliedStandardForm,
    FeedbackForm,
    FeedbackImportForm,
    GovernanceRecordForm,
    IncidentForm,
    OversightMeasureForm,
    RiskForm,
)
from audits.models import AppliedStandard, Feedback, Incident, OversightMeasure, Risk
from audits.services import governance as services
from audits.views.base import AuditsView
from registry.models import AISystem
from registry.views.base import add_service_errors, allowed, detail_url, paginate, safe_next


@dataclass(frozen=True)
class RecordKind:
    """How the pages handle one kind of governance record."""

    slug: str  # URL name prefix: audits:<slug>_create, _edit, _delete
    model: Any
    form_class: type[GovernanceRecordForm]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., None]
    add_title: Any
    edit_title: Any
    saved: Any
    deleted: Any


def _create_incident(system: AISystem, *, actor: Any, data: dict[str, Any], form: Any) -> Incident:
    return services.do_create_incident(system, actor=actor, data=data, findings=form.linked_findings())


def _update_incident(incident: Incident, *, actor: Any, data: dict[str, Any], form: Any) -> Incident:
    return services.do_update_incident(incident, actor=actor, data=data, findings=form.linked_findings())


def _plain(service: Callable[..., Any]) -> Callable[..., Any]:
    """A service that takes no form-specific extras."""

    def call(obj: Any, *, actor: Any, data: dict[str, Any], form: Any) -> Any:
        return service(obj, actor=actor, data=data)

    return call


KINDS: dict[str, RecordKind] = {
    "risk": RecordKind(
        "risk",
        Risk,
        RiskForm,
        _plain(services.do_create_risk),
        _plain(services.do_update_risk),
        services.do_delete_risk,
        gettext_lazy("Add a risk"),
        gettext_lazy("Edit risk"),
        gettext_lazy("Risk saved."),
        gettext_lazy("Risk deleted."),
    ),
    "incident": RecordKind(
        "incident",
        Incident,
        IncidentForm,
        _create_incident,
        _update_incident,
        services.do_delete_incident,
        gettext_lazy("Record an incident"),
        gettext_lazy("Edit incident"),
        gettext_lazy("Incident saved."),
        gettext_lazy("Incident deleted."),
    ),
    "feedback": RecordKind(
        "feedback",
        Feedback,
        FeedbackForm,
        _plain(services.do_create_feedback),
        _plain(services.do_update_feedback),
        services.do_delete_feedback,
        gettext_lazy("Add feedback"),
        gettext_lazy("Edit feedback"),
        gettext_lazy("Feedback saved."),
        gettext_lazy("Feedback deleted."),
    ),
    "standard": RecordKind(
        "standard",
        AppliedStandard,
        AppliedStandardForm,
        _plain(services.do_create_applied_standard),
        _plain(services.do_update_applied_standard),
        services.do_delete_applied_standard,
        gettext_lazy("Add an applied standard"),
        gettext_lazy("Edit applied standard"),
        gettext_lazy("Applied standard saved."),
        gettext_lazy("Applied standard removed."),
    ),
    "oversight": RecordKind(
        "oversight",
        OversightMeasure,
        OversightMeasureForm,
        _plain(services.do_create_oversight_measure),
        _plain(services.do_update_oversight_measure),
        services.do_delete_oversight_measure,
        gettext_lazy("Add a human-oversight measure"),
        gettext_lazy("Edit human-oversight measure"),
        gettext_lazy("Oversight measure saved."),
        gettext_lazy("Oversight measure removed."),
    ),
}


def governance_url(system: AISystem) -> str:
    return detail_url(system) + "#governance"


class GovernanceRecordView(AuditsView):
    """Shared by the add, edit and delete pages: ``kind`` names the record type (see ``KINDS``)."""

    kind: str = ""
    system: AISystem
    record: Any = None

    @property
    def spec(self) -> RecordKind:
        return KINDS[self.kind]

    def load_record(self) -> None:
        """The record of the URL, visible to the user (else 404); the user must be able to change its system."""
        self.record = get_object_or_404(
            self.spec.model.objects.visible_to(self.actor).select_related("system__owner_team"),
            uuid=self.kwargs["uuid"],
        )
        self.system = self.record.system
        if not allowed(self.actor, self.system, "change"):
            raise PermissionDenied

    def back_url(self) -> str:
        return safe_next(self.request, governance_url(self.system))


class GovernanceRecordFormView(GovernanceRecordView):
    template_name = "audits/governance/record_form.html"

    def form(self) -> GovernanceRecordForm:
        data = (self.request.POST,) if self.request.method == "POST" else ()
        return self.spec.form_class(*data, actor=self.actor, system=self.system, instance=self.record)

    def render_form(self, form: GovernanceRecordForm) -> HttpResponse:
        spec = self.spec
        may_delete = self.record is not None and (
            spec.model not in services.DELETE_NEEDS_APPROVAL or self.actor.may("approve")
        )
        return self.render_to_response(
            self.get_context_data(
                form=form,
                system=self.system,
                record=self.record,
                title=spec.edit_title if self.record is not None else spec.add_title,
                cancel_url=self.back_url(),
                next=self.request.GET.get("next") or self.request.POST.get("next") or "",
                delete_url=reverse(f"audits:{spec.slug}_delete", kwargs={"uuid": self.record.uuid})
                if may_delete
                else None,
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form()
        if form.is_valid():
            try:
                if self.record is None:
                    self.spec.create(self.system, actor=self.actor, data=form.service_data(), form=form)
                else:
                    self.spec.update(self.record, actor=self.actor, data=form.service_data(), form=form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, str(self.spec.saved))
                return redirect(self.back_url())
        return self.render_form(form)


class GovernanceRecordCreateView(GovernanceRecordFormView):
    def prepare(self) -> None:
        self.system = self.visible(AISystem, "change", select=("owner_team",), uuid=self.kwargs["system"])


class GovernanceRecordEditView(GovernanceRecordFormView):
    def prepare(self) -> None:
        self.load_record()


class GovernanceRecordDeleteView(GovernanceRecordView):
    template_name = "audits/governance/confirm_delete.html"

    def prepare(self) -> None:
        self.load_record()
        if self.spec.model in services.DELETE_NEEDS_APPROVAL and not self.actor.may("approve"):
            raise PermissionDenied

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                system=self.system,
                record=self.record,
                kind_label=self.spec.model._meta.verbose_name,
                cancel_url=self.back_url(),
                next=request.GET.get("next") or "",
            )
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.spec.delete(self.record, actor=self.actor)
        messages.success(request, str(self.spec.deleted))
        return redirect(self.back_url())


class FeedbackImportView(AuditsView):
    template_name = "audits/governance/feedback_import.html"
    system: AISystem

    def prepare(self) -> None:
        self.system = self.visible(AISystem, "change", select=("owner_team",), uuid=self.kwargs["system"])

    def render_form(self, form: FeedbackImportForm, result: Any = None) -> HttpResponse:
        overall = services.feedback_summary(Feedback.objects.filter(system=self.system)) if result else None
        return self.render_to_response(
            self.get_context_data(
                form=form,
                system=self.system,
                result=result,
                overall=overall,
                cancel_url=governance_url(self.system),
                limit=services.feedback_import_limit(),
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(FeedbackImportForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = FeedbackImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.do_import_feedback(self.system, actor=self.actor, file=upload, name=upload.name)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(rows)s ratings read: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
                    % {
                        "rows": result.rows,
                        "created": result.created,
                        "updated": result.updated,
                        "unchanged": result.unchanged,
                    },
                )
                return self.render_form(FeedbackImportForm(), result=result)
        return self.render_form(form)


class SystemGovernanceView(AuditsView):
    """Every governance record of one AI system, with the feedback page by page."""

    template_name = "audits/governance/system_governance.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from audits.governance_panel import governance_context

        system = self.visible(AISystem, select=("owner_team",), uuid=self.kwargs["system"])
        context = governance_context(self.actor, system, limit=None)
        feedback = Feedback.objects.visible_to(self.actor).filter(system=system).order_by("-occurred_at", "-pk")
        page = paginate(request, feedback)
        context.update(
            system=system,
            page_obj=page,
            feedback_rows=page.object_list,
            next_query="?" + urlencode({"next": request.get_full_path()}),
            full=True,
        )
        return self.render_to_response(self.get_context_data(**context))
