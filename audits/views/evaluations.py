"""Evaluation results: importing a judged evaluation file, and its summary with the worst items."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from audits import charts
from audits.forms import EvaluationImportForm
from audits.models import EvaluationRun
from audits.services import do_import_evaluation, parse_items
from audits.services.runs import systems_using
from audits.views.base import AuditsView, target_url
from registry.views.base import add_service_errors, paginate

ITEMS_PER_PAGE = 50


class EvaluationImportView(AuditsView):
    template_name = "audits/evaluation_form.html"

    def prepare(self) -> None:
        self.target = self.target_from_query("change")
        if self.target._meta.model_name not in ("modelversion", "promptversion"):
            raise Http404
        self.systems = systems_using(self.actor, self.target)

    def form(self) -> EvaluationImportForm:
        data = (self.request.POST, self.request.FILES) if self.request.method == "POST" else ()
        return EvaluationImportForm(*data, actor=self.actor, systems=self.systems)

    def render_form(self, form: EvaluationImportForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(form=form, target=self.target, cancel_url=target_url(self.target))
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form()
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                items = parse_items(stream=upload.file, filename=upload.name or "")
                evaluation = do_import_evaluation(
                    actor=self.actor,
                    target=self.target,
                    name=form.cleaned_data["name"],
                    items=items,
                    evaluation_set=form.cleaned_data.get("evaluation_set"),
                    source_name=upload.name or "",
                    judge=form.cleaned_data.get("judge") or "",
                    policy_system=form.cleaned_data.get("policy_system"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(count)s items imported; the evaluation check is queued.") % {"count": evaluation.item_count},
                )
                return redirect("audits:evaluation_detail", uuid=evaluation.uuid)
        return self.render_form(form)


class EvaluationDetailView(AuditsView):
    template_name = "audits/evaluation_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        evaluation = EvaluationRun.objects.visible_to(self.actor).filter(uuid=self.kwargs["uuid"]).first()
        if evaluation is None:
            raise Http404
        order = "score" if request.GET.get("order") == "score" else "position"
        page = paginate(request, evaluation.items.order_by(order, "position"))
        run = evaluation.check_runs.order_by("-created_at").first()
        return self.render_to_response(
            self.get_context_data(
                evaluation=evaluation,
                object=evaluation,
                target=evaluation.target,
                target_url=target_url(evaluation.target),
                run=run,
                page_obj=page,
                items=page.object_list,
                order=order,
                histogram_svg=charts.histogram_svg(run.metrics.get("histogram", [])) if run and run.metrics else None,
            )
        )
