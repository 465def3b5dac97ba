"""Viewsets of the audits API: checks, findings, policies, approval exceptions and evaluations.

Everything is fetched through ``visible_to`` (what the requester may not see is a 404) and every
change goes through a service in ``audits.services`` — the same ones the pages call.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from access.actors import Actor
from access.api.permissions import ActorMayAct
from audits.api import serializers as s
from audits.choices import CheckKind
from audits.filtersets import CheckRunFilterSet, EvaluationRunFilterSet, FindingFilterSet
from audits.forms import BiasCheckForm, MemorisationCheckForm, PiiCheckForm
from audits.models import ApprovalException, CheckRun, EvaluationRun, Finding, PolicyVersion
from audits.services import (
    do_cancel_check,
    do_change_finding_status,
    do_import_evaluation,
    do_record_approval_exception,
    do_request_check,
    do_rerun_check,
    do_revoke_approval_exception,
    do_set_policy,
    parse_items,
)
from audits.services.runs import access_target
from registry.models import AISystem, DatasetVersion, ModelVersion


class AuditsViewSet(viewsets.GenericViewSet):
    model: Any = None
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    permission_classes = [IsAuthenticated, ActorMayAct]
    permission_action: str | None = None
    related: tuple[str, ...] = ()

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()  # type: ignore[no-any-return]
        return self.model.objects.visible_to(self.actor).select_related(*self.related)  # type: ignore[no-any-return]


def visible_pk(actor: Actor, model: Any, value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    obj = model.objects.visible_to(actor).filter(uuid=value).first()
    if obj is None:
        raise ValidationError({field: ["Object does not exist."]})
    return int(obj.pk)


def form_errors(form: Any) -> dict[str, list[str]]:
    names = {"__all__": "non_field_errors"}
    return {names.get(field, field): [str(e) for e in errors] for field, errors in form.errors.items()}


@extend_schema(tags=["checks"])
class CheckRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AuditsViewSet):
    """Check runs. POST starts a bias check (multipart with ``input_file``, or JSON naming a dataset version)."""

    model = CheckRun
    serializer_class = s.CheckRunSerializer
    filterset_class = CheckRunFilterSet
    related = ("policy_version__policy__system", "policy_system", "input_dataset_version", "evaluation", "rerun_of")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("findings")

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="CheckRequest",
            serializers=[
                s.BiasCheckRequestSerializer,
                s.PiiCheckRequestSerializer,
                s.MemorisationCheckRequestSerializer,
            ],
            resource_type_field_name="kind",
        ),
        responses={201: s.CheckRunSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kind = request.data.get("kind") or CheckKind.BIAS
        builders = {
            CheckKind.BIAS: self.bias_form,
            CheckKind.PII: self.pii_form,
            CheckKind.MEMORISATION: self.memorisation_form,
        }
        if kind not in builders:
            raise ValidationError(
                {"kind": [f"Checks of kind {kind!r} cannot be started here; use one of: bias, pii, memorisation."]}
            )
        target, form = builders[kind](request)
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        run = do_request_check(
            kind,
            actor=self.actor,
            target=target,
            parameters=form.parameters(),
            input_file=form.cleaned_data.get("input_file"),
            input_dataset_version=form.cleaned_data.get("input_dataset_version"),
            policy_system=form.cleaned_data.get("policy_system"),
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    def validated(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        payload = serializer_class(data=request.data)
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def pk_of(self, model: Any, value: Any, field: str) -> Any:
        return visible_pk(self.actor, model, value, field) or ""

    def files(self, data: dict[str, Any]) -> MultiValueDict | None:
        return MultiValueDict({"input_file": [data["input_file"]]}) if data.get("input_file") else None

    def bias_form(self, request: Request) -> tuple[Any, Any]:
        data = self.validated(s.BiasCheckRequestSerializer, request)
        target = access_target(self.actor, data["target"])
        form_data = {
            "mode": data.get("mode", "classification"),
            "y_true": data.get("y_true", ""),
            "y_pred": data.get("y_pred", ""),
            "score": data.get("score", ""),
            "sensitive": ", ".join(data["sensitive"]),
            "positive_label": data.get("positive_label", ""),
            "score_threshold": "" if data.get("score_threshold") is None else data["score_threshold"],
            "input_dataset_version": self.pk_of(
                DatasetVersion, data.get("input_dataset_version"), "input_dataset_version"
            ),
            "policy_system": self.pk_of(AISystem, data.get("policy_system"), "policy_system"),
        }
        systems = AISystem.objects.visible_to(self.actor)
        return target, BiasCheckForm(form_data, self.files(data), actor=self.actor, systems=systems)

    def pii_form(self, request: Request) -> tuple[Any, Any]:
        data = self.validated(s.PiiCheckRequestSerializer, request)
        target = access_target(self.actor, data["target"])
        form_data = {
            "language": data.get("language", "auto"),
            "sample_rows": "" if data.get("sample_rows") is None else data["sample_rows"],
            "policy_system": self.pk_of(AISystem, data.get("policy_system"), "policy_system"),
        }
        systems = AISystem.objects.visible_to(self.actor)
        return target, PiiCheckForm(form_data, self.files(data), target=target, systems=systems)

    def memorisation_form(self, request: Request) -> tuple[Any, Any]:
        data = self.validated(s.MemorisationCheckRequestSerializer, request)
        target = access_target(self.actor, data["target"])
        if target._meta.model_name not in ("modelversion", "generatorversion"):
            raise ValidationError({"target": ["Memorisation checks run on model versions and generator versions."]})
        training = [self.pk_of(DatasetVersion, value, "training") for value in data.get("training") or []]
        synthetic = target._meta.model_name == "generatorversion"
        if synthetic and len(training) > 1:
            raise ValidationError(
                {"training": ["A generator version is checked against one training dataset version."]}
            )
        form_data = MultiValueDict(
            {
                "training": training if not synthetic else training[:1],
                "holdout": [self.pk_of(DatasetVersion, data.get("holdout"), "holdout")],
                "input_dataset_version": [
                    self.pk_of(DatasetVersion, data.get("input_dataset_version"), "input_dataset_version")
                ],
                "text_field": [data.get("text_field") or "text"],
                "output_field": [data.get("output_field") or "text"],
                "window_tokens": ["" if data.get("window_tokens") is None else data["window_tokens"]],
                "columns": [", ".join(data.get("columns") or [])],
                "policy_system": [self.pk_of(AISystem, data.get("policy_system"), "policy_system")],
            }
        )
        if data.get("extraction", True):
            form_data["extraction"] = "on"
        systems = AISystem.objects.visible_to(self.actor)
        form = MemorisationCheckForm(form_data, self.files(data), actor=self.actor, target=target, systems=systems)
        return target, form

    @extend_schema(request=None, responses=s.CheckRunSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, ActorMayAct])
    def cancel(self, request: Request, uuid: str | None = None) -> Response:
        run = do_cancel_check(self.get_object(), actor=self.actor)
        return Response(self.get_serializer(run).data)

    @extend_schema(request=None, responses={201: s.CheckRunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, uuid: str | None = None) -> Response:
        run = do_rerun_check(self.get_object(), actor=self.actor)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    def get_permissions(self) -> Any:
        self.permission_action = "change" if self.action in ("cancel", "rerun") else None
        return super().get_permissions()


@extend_schema(tags=["checks"])
class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AuditsViewSet):
    model = Finding
    serializer_class = s.FindingSerializer
    filterset_class = FindingFilterSet
    related = ("run",)

    @extend_schema(request=s.FindingStatusSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, uuid: str | None = None) -> Response:
        payload = s.FindingStatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        finding = do_change_finding_status(
            self.get_object(),
            actor=self.actor,
            status=payload.validated_data["status"],
            reason=payload.validated_data["reason"],
        )
        return Response(self.get_serializer(finding).data)

    def get_permissions(self) -> Any:
        self.permission_action = "approve" if self.action == "change_status" else None
        return super().get_permissions()


@extend_schema(tags=["checks"])
class PolicyVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AuditsViewSet):
    """Versions of check policies; POST records a new version (compliance officers and administrators)."""

    model = PolicyVersion
    serializer_class = s.PolicyVersionSerializer
    related = ("policy__system",)
    permission_action = "approve"

    @extend_schema(request=s.PolicyChangeSerializer, responses={201: s.PolicyVersionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = s.PolicyChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        system = None
        if data.get("system"):
            system = AISystem.objects.visible_to(self.actor).filter(uuid=data["system"]).first()
            if system is None:
                raise ValidationError({"system": ["Object does not exist."]})
        version = do_set_policy(
            data["kind"],
            actor=self.actor,
            system=system,
            thresholds=data["thresholds"],
            rerun_every_days=data.get("rerun_every_days"),
            note=data["note"],
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["checks"])
class ApprovalExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AuditsViewSet):
    model = ApprovalException
    serializer_class = s.ApprovalExceptionSerializer
    related = ("model_version",)
    permission_action = "approve"

    @extend_schema(request=s.ApprovalExceptionSerializer, responses={201: s.ApprovalExceptionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        version = ModelVersion.objects.visible_to(self.actor).filter(uuid=data["model_version"]["uuid"]).first()
        if version is None:
            raise ValidationError({"model_version": ["Object does not exist."]})
        exception = do_record_approval_exception(
            version, actor=self.actor, justification=data["justification"], expires_on=data["expires_on"]
        )
        return Response(self.get_serializer(exception).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ApprovalExceptionSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, uuid: str | None = None) -> Response:
        exception = do_revoke_approval_exception(self.get_object(), actor=self.actor)
        return Response(self.get_serializer(exception).data)


@extend_schema(tags=["checks"])
class EvaluationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AuditsViewSet):
    """Imported evaluations; POST imports one (JSON ``items`` or a CSV/JSONL ``file``) and queues its check."""

    model = EvaluationRun
    serializer_class = s.EvaluationRunSerializer
    filterset_class = EvaluationRunFilterSet
    related = ("evaluation_set",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    permission_action = "change"

    @extend_schema(request=s.EvaluationImportSerializer, responses={201: s.EvaluationRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = s.EvaluationImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        target = access_target(self.actor, data["target"])
        evaluation_set = None
        if data.get("evaluation_set"):
            evaluation_set = DatasetVersion.objects.visible_to(self.actor).filter(uuid=data["evaluation_set"]).first()
            if evaluation_set is None:
                raise ValidationError({"evaluation_set": ["Object does not exist."]})
        policy_system = None
        if data.get("policy_system"):
            policy_system = AISystem.objects.visible_to(self.actor).filter(uuid=data["policy_system"]).first()
            if policy_system is None:
                raise ValidationError({"policy_system": ["Object does not exist."]})
        upload = data.get("file")
        try:
            items = (
                parse_items(stream=upload.file, filename=upload.name or "")
                if upload is not None
                else parse_items(rows=data.get("items"))
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        evaluation = do_import_evaluation(
            actor=self.actor,
            target=target,
            name=data["name"],
            items=items,
            evaluation_set=evaluation_set,
            source_name=(upload.name or "") if upload is not None else "api",
            judge=data.get("judge", ""),
            policy_system=policy_system,
        )
        return Response(self.get_serializer(evaluation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.EvaluationItemSerializer(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request: Request, uuid: str | None = None) -> Response:
        queryset = self.get_object().items.order_by("position")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.EvaluationItemSerializer(page, many=True).data)
