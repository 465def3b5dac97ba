"""Report pages: generate, follow the progress, read, sign, download and verify."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from audits.choices import ReportKind
from audits.reports import render
from audits.reports.forms import ReportRequestForm, SignReportForm, VerifyReportForm
from audits.reports.services import (
    access_report,
    do_request_report,
    do_sign_report,
    signature_of,
    verify_pdf,
    visible_reports,
)
from audits.services.runs import access_target
from audits.views.base import service_error_text, target_url
from registry.views.base import ActorView, add_service_errors, paginate

MAX_VERIFY_BYTES = 200 * 1024 * 1024


class ReportListView(ActorView):
    template_name = "reports/report_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        reports = visible_reports(self.actor)
        kind = request.GET.get("kind")
        if kind in ReportKind.values:
            reports = [r for r in reports if r.kind == kind]
        page = paginate(request, reports)  # type: ignore[arg-type]
        return self.render_to_response(
            self.get_context_data(page_obj=page, reports=page.object_list, kinds=ReportKind.choices, kind=kind)
        )


class ReportRequestView(ActorView):
    """Asking for a report: ``?kind=model&target=modelversion:<uuid>``, ``?kind=application&target=aisystem:<uuid>``
    or ``?kind=governance``."""

    template_name = "reports/report_form.html"

    def prepare(self) -> None:
        self.kind = self.request.GET.get("kind") or self.request.POST.get("kind") or ""
        if self.kind not in ReportKind.values:
            raise Http404
        self.target = None
        if self.kind != ReportKind.GOVERNANCE:
            self.target = access_target(self.actor, self.request.GET.get("target") or "")
            expected = "modelversion" if self.kind == ReportKind.MODEL else "aisystem"
            if self.target._meta.model_name != expected:
                raise Http404

    def form(self) -> ReportRequestForm:
        data = (self.request.POST,) if self.request.method == "POST" else ()
        return ReportRequestForm(*data, actor=self.actor, governance=self.kind == ReportKind.GOVERNANCE)

    def render_form(self, form: ReportRequestForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                form=form,
                kind=self.kind,
                kind_label=ReportKind(self.kind).label,
                target=self.target,
                cancel_url=target_url(self.target) if self.target is not None else "",
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form()
        if form.is_valid():
            scope: dict[str, Any] = {}
            if self.kind == ReportKind.MODEL:
                scope["model_version"] = self.target
            elif self.kind == ReportKind.APPLICATION:
                scope["system"] = self.target
            else:
                scope["team"] = form.cleaned_data.get("team")
            try:
                report = do_request_report(self.kind, actor=self.actor, language=form.cleaned_data["language"], **scope)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The report is being generated."))
                return redirect("reports:detail", uuid=report.uuid)
        return self.render_form(form)


class ReportView(ActorView):
    def report(self) -> Any:
        return access_report(self.actor, self.kwargs["uuid"])


class ReportDetailView(ReportView):
    template_name = "reports/report_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.report()
        may_sign = self.actor.may("approve") and report.state == "succeeded" and not report.is_signed
        return self.render_to_response(
            self.get_context_data(
                report=report,
                sign_form=SignReportForm(initial={"name": getattr(request.user, "get_full_name", str)()})
                if may_sign
                else None,
            )
        )


class ReportProgressView(ReportView):
    template_name = "reports/includes/progress.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.report()
        response = self.render_to_response(self.get_context_data(report=report))
        if report.is_finished:
            response["HX-Refresh"] = "true"
        return response


class ReportHtmlView(ReportView):
    """The report itself, rendered from its snapshot (shown in a frame on the report's page)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.report()
        if not report.snapshot:
            raise Http404
        response = HttpResponse(render.render_html(report.snapshot, signature_of(report), for_pdf=False))
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response


class ReportPdfView(ReportView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FileResponse:
        report = self.report()
        if not report.pdf:
            raise Http404
        name = f"custodia-{report.kind}-audit-{str(report.uuid)[:8]}{'-signed' if report.is_signed else ''}.pdf"
        return FileResponse(report.pdf.open("rb"), as_attachment=True, filename=name, content_type="application/pdf")


class ReportSignView(ReportView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = self.report()
        form = SignReportForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect("reports:detail", uuid=report.uuid)
        try:
            do_sign_report(report, actor=self.actor, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
        else:
            messages.success(request, _("The report is signed."))
        return redirect("reports:detail", uuid=report.uuid)


class ReportVerifyView(ActorView):
    template_name = "reports/report_verify.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=VerifyReportForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = VerifyReportForm(request.POST, request.FILES)
        result = None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_VERIFY_BYTES:
                form.add_error("file", _("The file is too large to be a report."))
            else:
                result = verify_pdf(upload.read())
        visible = None
        if result is not None and result.report is not None:
            try:
                visible = access_report(self.actor, result.report.uuid)
            except Http404:  # a report the user may not see is named by its status only
                visible = None
        return self.render_to_response(self.get_context_data(form=form, result=result, visible_report=visible))
