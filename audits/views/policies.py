"""Policies (thresholds per AI system, organisation defaults) and approval exceptions."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from audits.choices import CheckKind
from audits.forms import ApprovalExceptionForm, CanaryForm, PolicyForm
from audits.models import ApprovalException, Canary, Policy, PolicyVersion
from audits.services import do_record_approval_exception, do_revoke_approval_exception, do_set_policy
from audits.services.memorisation import do_add_canary, do_remove_canary
from audits.services.policies import THRESHOLDS, default_policy
from audits.views.base import AuditsView, service_error_text, target_url
from registry.models import AISystem, ModelVersion
from registry.views.base import add_service_errors


class PolicyListView(AuditsView):
    template_name = "audits/policy_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        defaults = [default_policy(kind) for kind in CheckKind.values]
        own = list(Policy.objects.visible_to(self.actor).filter(system__isnull=False).select_related("system"))
        rows = []
        for policy in [*defaults, *own]:
            current = policy.current
            rows.append(
                {
                    "policy": policy,
                    "current": current,
                    "thresholds": [
                        (spec.label, (current.thresholds if current else {}).get(name, spec.default))
                        for name, spec in THRESHOLDS[policy.kind].items()
                    ],
                }
            )
        systems = (
            AISystem.objects.visible_to(self.actor, "approve") if self.actor.may("approve") else AISystem.objects.none()
        )
        return self.render_to_response(
            self.get_context_data(
                rows=rows,
                kinds=CheckKind.choices,
                systems=list(systems.order_by("name")[:500]),
                may_edit_defaults=self.actor.may("approve") and self.actor.sees_everything,
            )
        )


class PolicyChooseView(AuditsView):
    """The "set a system's policy" picker on the list page: on to that system's policy form."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kind = request.GET.get("kind", "")
        try:
            wanted = uuid.UUID(request.GET.get("system", ""))
        except ValueError:
            raise Http404 from None
        system = AISystem.objects.visible_to(self.actor).filter(uuid=wanted).first()
        if kind not in CheckKind.values or system is None:
            raise Http404
        return redirect("audits:policy_system_edit", kind=kind, system=system.uuid)


class PolicyEditView(AuditsView):
    template_name = "audits/policy_form.html"

    def prepare(self) -> None:
        self.kind = self.kwargs["kind"]
        if self.kind not in CheckKind.values:
            raise Http404
        self.system: AISystem | None = None
        if "system" in self.kwargs:
            self.system = get_object_or_404(AISystem.objects.visible_to(self.actor), uuid=self.kwargs["system"])
            if not (
                self.actor.may("approve")
                and AISystem.objects.visible_to(self.actor, "approve").filter(pk=self.system.pk).exists()
            ):
                raise PermissionDenied
        elif not (self.actor.may("approve") and self.actor.sees_everything):
            raise PermissionDenied
        policy = (
            Policy.objects.filter(kind=self.kind, system=self.system).first()
            if self.system
            else default_policy(self.kind)
        )
        self.current: PolicyVersion | None = policy.current if policy else None
        self.history = list(policy.versions.all()[:20]) if policy else []

    def form(self) -> PolicyForm:
        current = self.current.thresholds if self.current else {}
        if self.current is None and self.system is not None:  # start from the organisation default
            inherited = default_policy(self.kind).current
            current = inherited.thresholds if inherited else {}
        form = PolicyForm(
            self.request.POST or None, kind=self.kind, current=current, for_system=self.system is not None
        )
        if self.current is not None and "rerun_every_days" in form.fields:
            form.fields["rerun_every_days"].initial = self.current.rerun_every_days
        return form

    def render_form(self, form: PolicyForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                form=form,
                kind_label=dict(CheckKind.choices)[self.kind],
                system=self.system,
                current=self.current,
                history=self.history,
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form()
        if form.is_valid():
            try:
                do_set_policy(
                    self.kind,
                    actor=self.actor,
                    system=self.system,
                    thresholds=form.thresholds(),
                    rerun_every_days=form.cleaned_data.get("rerun_every_days"),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Policy saved as a new version."))
                return redirect("audits:policy_list")
        return self.render_form(form)


class ApprovalExceptionCreateView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = get_object_or_404(ModelVersion.objects.visible_to(self.actor), uuid=self.kwargs["uuid"])
        form = ApprovalExceptionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect(target_url(version))
        try:
            do_record_approval_exception(
                version,
                actor=self.actor,
                justification=form.cleaned_data["justification"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
        else:
            messages.success(request, _("Approval exception recorded."))
        return redirect(target_url(version))


class ApprovalExceptionRevokeView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        exception = get_object_or_404(
            ApprovalException.objects.visible_to(self.actor).select_related("model_version"), uuid=self.kwargs["uuid"]
        )
        do_revoke_approval_exception(exception, actor=self.actor)
        messages.success(request, _("Approval exception revoked."))
        return redirect(target_url(exception.model_version))


class CanaryCreateView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = get_object_or_404(ModelVersion.objects.visible_to(self.actor), uuid=self.kwargs["uuid"])
        form = CanaryForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect(target_url(version))
        try:
            do_add_canary(version, actor=self.actor, value=form.cleaned_data["value"], label=form.cleaned_data["label"])
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
        else:
            messages.success(request, _("Canary registered."))
        return redirect(target_url(version))


class CanaryDeleteView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        canary = get_object_or_404(
            Canary.objects.visible_to(self.actor).select_related("model_version"), uuid=self.kwargs["uuid"]
        )
        do_remove_canary(canary, actor=self.actor)
        messages.success(request, _("Canary removed."))
        return redirect(target_url(canary.model_version))
