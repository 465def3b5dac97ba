"""AI system pages, and adding or removing the versions an AI system is made of."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from registry.choices import ComponentKind, ModelStage
from registry.filtersets import AISystemFilterSet
from registry.forms import AISystemForm, SystemComponentForm
from registry.models import AISystem, DatasetVersion, ModelVersion, PromptVersion, SystemComponent
from registry.services import do_add_component, do_remove_component
from registry.views.assets import AssetCreateView, AssetDeleteView, AssetDetailView, AssetListView, AssetUpdateView
from registry.views.base import ActorView, add_service_errors, detail_url, visible_or_none

APPROVED_STAGES = (ModelStage.APPROVED, ModelStage.DEPLOYED)


class AISystemListView(AssetListView):
    model = AISystem
    filterset_class = AISystemFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().annotate(component_count=Count("components", distinct=True))


def component_groups(actor: Any, system: AISystem) -> list[dict[str, Any]]:
    """The system's components by kind; parts the user may not see are shown without their name."""
    components = list(
        SystemComponent.objects.filter(system=system).select_related(
            "dataset_version__dataset", "model_version__model", "prompt_version__prompt"
        )
    )
    visible: dict[str, set[int]] = {}
    for kind, model, field in (
        (ComponentKind.DATASET, DatasetVersion, "dataset_version_id"),
        (ComponentKind.MODEL, ModelVersion, "model_version_id"),
        (ComponentKind.PROMPT, PromptVersion, "prompt_version_id"),
    ):
        ids = {getattr(c, field) for c in components if getattr(c, field)}
        visible[kind] = (
            set(model.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        )
    groups = []
    for value, label in ComponentKind.choices:
        rows = [
            {"component": c, "part": c.part, "visible": c.part.pk in visible[value]}
            for c in components
            if c.kind == value
        ]
        groups.append({"kind": value, "label": label, "rows": rows})
    return groups


class AISystemDetailView(AssetDetailView):
    model = AISystem
    detail_fields = (
        "risk_class",
        "status",
        "general_purpose_ai",
        "purpose",
        "intended_use",
        "deployment_context",
        "description",
    )

    def detail_context(self) -> dict[str, Any]:
        groups = component_groups(self.actor, self.object)
        approved_model = any(
            row["part"].stage in APPROVED_STAGES
            for group in groups
            if group["kind"] == ComponentKind.MODEL
            for row in group["rows"]
        )
        return {"component_groups": groups, "has_approved_model": approved_model}


class AISystemCreateView(AssetCreateView):
    model = AISystem
    form_class = AISystemForm


class AISystemUpdateView(AssetUpdateView):
    model = AISystem
    form_class = AISystemForm


class AISystemDeleteView(AssetDeleteView):
    model = AISystem


class SystemComponentAddView(ActorView):
    template_name = "registry/systemcomponent_form.html"
    system: AISystem

    def prepare(self) -> None:
        self.system = self.visible(AISystem, "change", select=("owner_team",), uuid=self.kwargs["uuid"])

    def render_form(self, form: SystemComponentForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(object=self.system, form=form, cancel_url=detail_url(self.system))
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(SystemComponentForm(actor=self.actor, initial={"role": request.GET.get("role")}))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = SystemComponentForm(request.POST, actor=self.actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                do_add_component(
                    self.system, actor=self.actor, role=data["role"], part=data["part"], notes=data["notes"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("“%(part)s” added to the system.") % {"part": data["part"]})
                return redirect(detail_url(self.system))
        return self.render_form(form)


class SystemComponentRemoveView(ActorView):
    template_name = "registry/confirm_delete.html"
    component: SystemComponent

    def prepare(self) -> None:
        system = self.visible(AISystem, "change", uuid=self.kwargs["uuid"])
        self.component = get_object_or_404(
            SystemComponent.objects.visible_to(self.actor).select_related("system"),
            system=system,
            uuid=self.kwargs["component"],
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                object=self.component.system,
                component=self.component,
                component_part=visible_or_none(self.actor, self.component.part),
                cancel_url=detail_url(self.component.system),
            )
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        system = self.component.system
        do_remove_component(self.component, actor=self.actor)
        messages.success(request, _("Component removed from the system."))
        return redirect(detail_url(system))
