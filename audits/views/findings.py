"""Findings: the triage list (open findings first) and one finding with its status history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from audits.choices import FindingStatus
from audits.filtersets import FindingFilterSet
from audits.forms import FindingStatusForm
from audits.models import Finding
from audits.services import do_change_finding_status
from audits.views.base import AuditsView, target_url
from registry.views.base import add_service_errors, paginate

FINDING_SELECT = (
    "run__dataset_version__dataset",
    "run__model_version__model",
    "run__prompt_version__prompt",
    "run__generator_version__generator",
    "run__system",
)


class FindingListView(AuditsView):
    template_name = "audits/finding_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        params: QueryDict = request.GET
        if not params:  # the triage view by default: open findings of current results
            params = QueryDict(mutable=True)
            params.setlist("status", [FindingStatus.OPEN])
            params["current"] = "true"
        findings = Finding.objects.visible_to(self.actor).select_related("run", *FINDING_SELECT)
        filterset = FindingFilterSet(params, queryset=findings)
        page = paginate(request, filterset.qs)
        return self.render_to_response(
            self.get_context_data(
                filterset=filterset, page_obj=page, findings=page.object_list, filtered=bool(request.GET)
            )
        )


class FindingDetailView(AuditsView):
    template_name = "audits/finding_detail.html"

    def prepare(self) -> None:
        finding = Finding.objects.visible_to(self.actor).select_related("run").filter(uuid=self.kwargs["uuid"]).first()
        if finding is None:
            raise Http404
        self.finding = finding

    def render_page(self, form: FindingStatusForm | None) -> HttpResponse:
        finding = self.finding
        return self.render_to_response(
            self.get_context_data(
                finding=finding,
                object=finding,
                run=finding.run,
                target=finding.run.target,
                target_url=target_url(finding.run.target),
                changes=list(finding.status_changes.all()),
                form=form,
            )
        )

    def may_triage(self) -> bool:
        target = self.finding.run.target
        return (
            self.actor.may("approve")
            and type(target).objects.visible_to(self.actor, "approve").filter(pk=target.pk).exists()
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page(FindingStatusForm() if self.may_triage() else None)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.may_triage():
            raise PermissionDenied
        form = FindingStatusForm(request.POST)
        if form.is_valid():
            try:
                do_change_finding_status(
                    self.finding,
                    actor=self.actor,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Finding status changed."))
                return redirect("audits:finding_detail", uuid=self.finding.uuid)
        return self.render_page(form)
