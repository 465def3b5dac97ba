"""Check runs: the list, starting a bias check, the live progress and the result page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from audits import charts
from audits.choices import CheckKind, Severity
from audits.filtersets import CheckRunFilterSet
from audits.forms import BiasCheckForm, MemorisationCheckForm, PiiCheckForm
from audits.models import CheckRun
from audits.services import do_cancel_check, do_request_check, do_rerun_check
from audits.services.runs import systems_using
from audits.views.base import AuditsView, service_error_text, target_url
from registry.views.base import add_service_errors, paginate

RUN_SELECT = (
    "dataset_version__dataset",
    "model_version__model",
    "prompt_version__prompt",
    "generator_version__generator",
    "system",
)


class CheckRunListView(AuditsView):
    template_name = "audits/checkrun_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        runs = CheckRun.objects.visible_to(self.actor).select_related(*RUN_SELECT)
        filterset = CheckRunFilterSet(request.GET, queryset=runs)
        page = paginate(request, filterset.qs)
        return self.render_to_response(
            self.get_context_data(
                filterset=filterset,
                page_obj=page,
                runs=page.object_list,
                filtered=any(request.GET.get(name) for name in filterset.form.fields),
            )
        )


class CheckRequestView(AuditsView):
    """Starting a check on the target named by ``?target=``: the form, then the queued run's page."""

    template_name = "audits/checkrun_form.html"
    kind: str = ""

    def prepare(self) -> None:
        self.target = self.target_from_query("change")
        self.systems = systems_using(self.actor, self.target)

    def make_form(self, *data: Any) -> Any:
        raise NotImplementedError

    def queued_message(self) -> str:
        raise NotImplementedError

    def form(self) -> Any:
        data = (self.request.POST, self.request.FILES) if self.request.method == "POST" else ()
        form = self.make_form(*data)
        if self.request.method != "POST" and self.systems.count() == 1:
            form.fields["policy_system"].initial = self.systems.first()
        return form

    def render_form(self, form: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(form=form, target=self.target, cancel_url=target_url(self.target), kind=self.kind)
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form()
        if form.is_valid():
            try:
                run = do_request_check(
                    self.kind,
                    actor=self.actor,
                    target=self.target,
                    parameters=form.parameters(),
                    input_file=form.cleaned_data.get("input_file"),
                    input_dataset_version=form.cleaned_data.get("input_dataset_version"),
                    policy_system=form.cleaned_data.get("policy_system"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, self.queued_message())
                return redirect("audits:run_detail", uuid=run.uuid)
        return self.render_form(form)


class BiasCheckRequestView(CheckRequestView):
    kind = CheckKind.BIAS

    def make_form(self, *data: Any) -> BiasCheckForm:
        return BiasCheckForm(*data, actor=self.actor, systems=self.systems)

    def queued_message(self) -> str:
        return _("The bias check is queued.")


class PiiCheckRequestView(CheckRequestView):
    kind = CheckKind.PII

    def make_form(self, *data: Any) -> PiiCheckForm:
        return PiiCheckForm(*data, target=self.target, systems=self.systems)

    def queued_message(self) -> str:
        return _("The personal data scan is queued.")


class MemorisationCheckRequestView(CheckRequestView):
    kind = CheckKind.MEMORISATION

    def prepare(self) -> None:
        super().prepare()
        if self.target._meta.model_name not in ("modelversion", "generatorversion"):
            raise Http404

    def make_form(self, *data: Any) -> MemorisationCheckForm:
        return MemorisationCheckForm(*data, actor=self.actor, target=self.target, systems=self.systems)

    def queued_message(self) -> str:
        return _("The memorisation check is queued.")


def run_context(run: CheckRun) -> dict[str, Any]:
    findings = sorted(run.findings.all(), key=lambda f: (list(Severity.values).index(f.severity), f.pk))
    context: dict[str, Any] = {"run": run, "object": run, "findings": findings, "target": run.target}
    if run.kind == CheckKind.BIAS and run.metrics:
        context["bias"] = charts.bias_view(run.metrics)
    if run.kind == CheckKind.PII and run.metrics:
        context["pii"] = charts.pii_view(run.metrics)
    if run.kind == CheckKind.MEMORISATION and run.metrics:
        context["memorisation"] = run.metrics
    if run.kind == CheckKind.EVALUATION and run.metrics and run.evaluation is not None:
        positions = [item["position"] for item in run.metrics.get("worst", [])]
        worst = {item.position: item for item in run.evaluation.items.filter(position__in=positions)}
        context["worst_items"] = [worst[p] for p in positions if p in worst]
        context["histogram_svg"] = charts.histogram_svg(run.metrics.get("histogram", []))
    return context


class CheckRunDetailView(AuditsView):
    template_name = "audits/checkrun_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = self.run()
        target = run.target
        can_change = type(target).objects.visible_to(self.actor, "change").filter(pk=target.pk).exists()
        return self.render_to_response(
            self.get_context_data(
                **run_context(run),
                can_change=can_change and self.actor.may("change"),
                may_triage=self.actor.may("approve"),
                target_url=target_url(target),
                reruns=list(run.reruns.all()[:10]),
            )
        )


class CheckRunProgressView(AuditsView):
    """The progress fragment the result page polls; a finished run makes the page reload once."""

    template_name = "audits/includes/progress.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = self.run()
        response = self.render_to_response(self.get_context_data(run=run))
        if run.is_finished:
            response["HX-Refresh"] = "true"
        return response


class CheckRunCancelView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = self.run("change")
        try:
            do_cancel_check(run, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
        else:
            messages.success(request, _("Cancellation requested."))
        return redirect("audits:run_detail", uuid=run.uuid)


class CheckRunRerunView(AuditsView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = self.run("change")
        try:
            new = do_rerun_check(run, actor=self.actor)
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
            return redirect("audits:run_detail", uuid=run.uuid)
        messages.success(request, _("The check is queued again."))
        return redirect(reverse("audits:run_detail", kwargs={"uuid": new.uuid}))
