"""Model pages, model-version pages, lifecycle moves and the approvals queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.choices import STAGE_TRANSITIONS, ModelStage
from registry.filtersets import ModelFilterSet
from registry.forms import MLModelForm, ModelVersionForm, ModelVersionMetadataForm, StageChangeForm
from registry.models import DatasetVersion, Model, ModelVersion, StageChange
from registry.services import do_create_model_version, do_transition_model_version
from registry.views.assets import AssetCreateView, AssetDeleteView, AssetDetailView, AssetListView, AssetUpdateView
from registry.views.base import ActorView, allowed, detail_url, paginate, per_parent, safe_next, visible_or_none
from registry.views.versions import VersionCreateView, VersionDeleteView, VersionDetailView, VersionEditView


class ModelListView(AssetListView):
    model = Model
    filterset_class = ModelFilterSet

    def get_queryset(self) -> QuerySet[Any]:
        latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by("-number")
        return (
            super()
            .get_queryset()
            .annotate(
                version_count=per_parent(ModelVersion, "model", Count("pk")),
                latest_number=Subquery(latest.values("number")[:1]),
                latest_stage=Subquery(latest.values("stage")[:1]),
            )
        )


class ModelDetailView(AssetDetailView):
    model = Model
    detail_fields = ("provider", "description")


class ModelCreateView(AssetCreateView):
    model = Model
    form_class = MLModelForm


class ModelUpdateView(AssetUpdateView):
    model = Model
    form_class = MLModelForm


class ModelDeleteView(AssetDeleteView):
    model = Model


class ModelVersionCreateView(VersionCreateView):
    model = ModelVersion
    form_class = ModelVersionForm

    def create(self, form: Any) -> ModelVersion:
        return do_create_model_version(
            self.asset,
            actor=self.actor,
            data=form.service_data(),
            training_datasets=list(form.cleaned_data.get("training_datasets") or []),
        )


@dataclass(frozen=True)
class StageAction:
    to_stage: str
    label: str
    decision: bool  # approving or rejecting: needs the approve permission and a reason


def is_decision(from_stage: str, to_stage: str) -> bool:
    return to_stage == ModelStage.APPROVED or (from_stage == ModelStage.IN_REVIEW and to_stage == ModelStage.DRAFT)


def stage_actions(actor: Actor, version: ModelVersion, can_change: bool) -> list[StageAction]:
    """The lifecycle moves this user may offer on this version (the service decides in the end)."""
    if not can_change:
        return []
    actions = []
    for to_stage in STAGE_TRANSITIONS.get(version.stage, ()):
        decision = is_decision(version.stage, to_stage)
        if decision and not actor.may("approve"):
            continue
        label: str
        if to_stage == ModelStage.APPROVED:
            label = _("Approve")
        elif decision:
            label = _("Reject (back to draft)")
        else:
            label = _("Move to “%(stage)s”") % {"stage": ModelStage(to_stage).label}
        actions.append(StageAction(to_stage, label, decision))
    return actions


def is_author(actor: Actor, version: ModelVersion) -> bool:
    return actor.user is not None and version.created_by_id == actor.user.pk


class ModelVersionDetailView(VersionDetailView):
    model = ModelVersion
    metadata_form_class = ModelVersionMetadataForm
    content_fields = (
        "label",
        "base_model",
        "license",
        "parameter_count",
        "modality",
        "context_window",
        "artifact_uri",
        "serving_endpoint",
    )

    def detail_context(self) -> dict[str, Any]:
        version = self.object
        can_change = allowed(self.actor, version, "change")
        all_training = version.training_datasets.all()
        training = DatasetVersion.objects.visible_to(self.actor).filter(pk__in=all_training.values("pk"))
        fine_tuned_from = visible_or_none(self.actor, version.fine_tuned_from)
        actions = stage_actions(self.actor, version, can_change)
        return {
            "stage_actions": actions,
            "has_decision": any(action.decision for action in actions),
            "is_author": is_author(self.actor, version),
            "stage_form": StageChangeForm(),
            "stage_choices": ModelStage.choices,
            "stage_changes": version.stage_changes.all(),
            "training_datasets": training.select_related("dataset"),
            "hidden_training": all_training.count() - training.count(),
            "fine_tuned_from": fine_tuned_from,
            "fine_tuned_hidden": version.fine_tuned_from_id is not None and fine_tuned_from is None,
        }


class ModelVersionEditView(VersionEditView):
    model = ModelVersion
    metadata_form_class = ModelVersionMetadataForm


class ModelVersionDeleteView(VersionDeleteView):
    model = ModelVersion


class ModelVersionTransitionView(ActorView):
    """Moves a model version to another lifecycle stage (POST from its page or the approvals queue)."""

    http_method_names = ["post"]
    version: ModelVersion

    def prepare(self) -> None:
        self.version = self.visible(ModelVersion, "change", select=("model",), uuid=self.kwargs["uuid"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        back = safe_next(request, detail_url(self.version))
        form = StageChangeForm(request.POST)
        if not form.is_valid():
            for field_errors in form.errors.values():
                for message in field_errors:
                    messages.error(request, str(message))
            return redirect(back)
        to_stage = form.cleaned_data["to_stage"]
        try:
            version = do_transition_model_version(
                self.version, actor=self.actor, to_stage=to_stage, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(back)
        messages.success(
            request,
            _("“%(version)s” is now “%(stage)s”.") % {"version": version, "stage": version.get_stage_display()},
        )
        return redirect(back)


class ApprovalListView(ActorView):
    """Model versions waiting in review, and the latest decisions, for the user's teams."""

    template_name = "registry/approval_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        visible = ModelVersion.objects.visible_to(self.actor)
        waiting = (
            visible.filter(stage=ModelStage.IN_REVIEW)
            .select_related("model__owner_team", "created_by")
            .order_by("created_at")
        )
        page = paginate(request, waiting)
        decisions = (
            StageChange.objects.filter(model_version__in=visible.values("pk"))
            .filter(Q(to_stage=ModelStage.APPROVED) | Q(from_stage=ModelStage.IN_REVIEW, to_stage=ModelStage.DRAFT))
            .select_related("model_version__model")
            .order_by("-occurred_at", "-id")[:10]
        )
        user_id = getattr(self.actor.user, "pk", None)
        context = self.get_context_data(
            page_obj=page,
            versions=page.object_list,
            can_decide=self.actor.may("approve"),
            user_id=user_id,
            decisions=decisions,
            stage_form=StageChangeForm(),
        )
        return self.render_to_response(context)
