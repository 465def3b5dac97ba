"""Viewsets of the registry API.

Every viewset fetches through ``visible_to`` (what the requester may not see is a 404) and makes
every change through a service in ``registry.services``, which checks the requester may make it
(403 if not), writes it with its audit-trail entry, and refuses what would break (409).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.actors import Actor
from access.api.permissions import ActorMayAct
from registry import filtersets
from registry.api import serializers as s
from registry.models import (
    AISystem,
    Asset,
    AssetVersion,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    Model,
    ModelVersion,
    Prompt,
    PromptAlias,
    PromptVersion,
    SyntheticGenerator,
    SystemComponent,
    Tag,
)
from registry.search import search_assets
from registry.services import (
    do_add_component,
    do_create_asset,
    do_create_dataset_version,
    do_create_generator_version,
    do_create_model_version,
    do_create_prompt_version,
    do_delete_asset,
    do_delete_prompt_alias,
    do_delete_version,
    do_remove_component,
    do_set_prompt_alias,
    do_transition_model_version,
    do_update_asset,
    do_update_version_metadata,
)
from registry.services.prompts import prompt_diff, unified_diff


def require_object_body(request: Request) -> None:
    """A JSON list or string is not a resource; DRF would otherwise fail later, less clearly."""
    if not hasattr(request.data, "keys"):
        raise ValidationError({"non_field_errors": [_("The request body must be a JSON object.")]})


class RestrictedViewSet(viewsets.GenericViewSet):
    """Looks objects up by ``uuid`` among those the requester may see."""

    model: Any = None
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    permission_classes = [IsAuthenticated, ActorMayAct]
    # The action a custom write route needs (ActorMayAct), e.g. "change" for a transition.
    permission_action: str | None = None
    related: tuple[str, ...] = ()
    prefetch: tuple[str | Prefetch, ...] = ()

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()  # type: ignore[no-any-return]
        queryset = self.model.objects.visible_to(self.actor, "view")
        return queryset.select_related(*self.related).prefetch_related(*self.prefetch)  # type: ignore[no-any-return]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH"):
            require_object_body(request)


# Assets


class AssetViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    related = ("owner_team", "owner", "created_by")
    prefetch: tuple[str | Prefetch, ...] = ("tags",)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        tags = data.pop("tags", ())
        serializer.instance = do_create_asset(self.model, actor=self.actor, data=data, tags=tags)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        assert serializer.instance is not None
        serializer.instance = do_update_asset(serializer.instance, actor=self.actor, data=data, tags=tags)

    def perform_destroy(self, instance: Asset) -> None:
        do_delete_asset(instance, actor=self.actor)


COMPONENT_PARTS = ("dataset_version__dataset", "model_version__model", "prompt_version__prompt")


class AISystemViewSet(AssetViewSet):
    model = AISystem
    serializer_class = s.AISystemSerializer
    filterset_class = filtersets.AISystemFilterSet
    prefetch = ("tags", Prefetch("components", queryset=SystemComponent.objects.select_related(*COMPONENT_PARTS)))


class DatasetViewSet(AssetViewSet):
    model = Dataset
    serializer_class = s.DatasetSerializer
    filterset_class = filtersets.DatasetFilterSet


class SyntheticGeneratorViewSet(AssetViewSet):
    model = SyntheticGenerator
    serializer_class = s.SyntheticGeneratorSerializer
    filterset_class = filtersets.SyntheticGeneratorFilterSet


class ModelViewSet(AssetViewSet):
    model = Model
    serializer_class = s.ModelSerializer
    filterset_class = filtersets.ModelFilterSet


ALIAS_PARAMETER = OpenApiParameter("alias", OpenApiTypes.STR, OpenApiParameter.PATH, description="Alias name")


class PromptViewSet(AssetViewSet):
    model = Prompt
    serializer_class = s.PromptSerializer
    filterset_class = filtersets.PromptFilterSet
    prefetch = ("tags", Prefetch("aliases", queryset=PromptAlias.objects.select_related("version")))

    @extend_schema(responses=s.PromptAliasSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="aliases", pagination_class=None, filterset_class=None)
    def aliases(self, request: Request, uuid: str | None = None) -> Response:
        prompt = self.get_object()
        return Response(s.PromptAliasSerializer(prompt.aliases.all(), many=True).data)

    @extend_schema(methods=["GET"], parameters=[ALIAS_PARAMETER], responses=s.PromptAliasSerializer)
    @extend_schema(
        methods=["PUT"],
        parameters=[ALIAS_PARAMETER],
        request=s.PromptAliasWriteSerializer,
        responses=s.PromptAliasSerializer,
        description="Point the alias at a version of this prompt (creating the alias if needed).",
    )
    @extend_schema(methods=["DELETE"], parameters=[ALIAS_PARAMETER], responses={204: None})
    @action(
        detail=True,
        methods=["get", "put", "delete"],
        url_path=r"aliases/(?P<alias>[-a-zA-Z0-9_]+)",
        permission_action="change",
        filterset_class=None,
    )
    def alias(self, request: Request, uuid: str | None = None, alias: str = "") -> Response:
        prompt = self.get_object()
        existing = next((a for a in prompt.aliases.all() if a.name == alias), None)
        if request.method == "PUT":
            if len(alias) > PromptAlias._meta.get_field("name").max_length:  # type: ignore[operator]
                raise ValidationError({"name": [_("An alias name has at most 60 characters.")]})
            body = s.PromptAliasWriteSerializer(data=request.data, context=self.get_serializer_context())
            body.is_valid(raise_exception=True)
            saved = do_set_prompt_alias(prompt, actor=self.actor, name=alias, version=body.validated_data["version"])
            return Response(s.PromptAliasSerializer(saved).data)
        if existing is None:
            raise NotFound(_("This prompt has no alias “%(alias)s”.") % {"alias": alias})
        if request.method == "DELETE":
            do_delete_prompt_alias(existing, actor=self.actor)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.PromptAliasSerializer(existing).data)


# Versions


class VersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """Versions are created once; later only their metadata (e.g. description) may change."""

    def create_version(self, parent: Any, data: dict[str, Any]) -> AssetVersion:
        raise NotImplementedError

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        parent = data.pop(self.model.ASSET_FIELD)
        serializer.instance = self.create_version(parent, data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        # Content fields are read-only on an existing version; hand them to the service as sent so
        # that it refuses the request ("versions are immutable") instead of their being ignored.
        for key in self.request.data:
            data.setdefault(key, self.request.data[key])
        assert serializer.instance is not None
        serializer.instance = do_update_version_metadata(serializer.instance, actor=self.actor, data=data)

    def perform_destroy(self, instance: AssetVersion) -> None:
        do_delete_version(instance, actor=self.actor)


class DatasetVersionViewSet(VersionViewSet):
    model = DatasetVersion
    serializer_class = s.DatasetVersionSerializer
    filterset_class = filtersets.DatasetVersionFilterSet
    related = ("dataset", "generator_version", "created_by")

    def create_version(self, parent: Any, data: dict[str, Any]) -> AssetVersion:
        upload = data.pop("file", None)
        return do_create_dataset_version(parent, actor=self.actor, data=data, upload=upload)


class GeneratorVersionViewSet(VersionViewSet):
    model = GeneratorVersion
    serializer_class = s.GeneratorVersionSerializer
    filterset_class = filtersets.GeneratorVersionFilterSet
    related = ("generator", "created_by")
    prefetch = ("training_datasets",)

    def create_version(self, parent: Any, data: dict[str, Any]) -> AssetVersion:
        training = data.pop("training_datasets", [])
        return do_create_generator_version(parent, actor=self.actor, data=data, training_datasets=training)


class ModelVersionViewSet(VersionViewSet):
    model = ModelVersion
    serializer_class = s.ModelVersionSerializer
    filterset_class = filtersets.ModelVersionFilterSet
    related = ("model", "fine_tuned_from", "approved_by", "created_by")
    prefetch = ("training_datasets", "stage_changes")

    def create_version(self, parent: Any, data: dict[str, Any]) -> AssetVersion:
        training = data.pop("training_datasets", [])
        return do_create_model_version(parent, actor=self.actor, data=data, training_datasets=training)

    @extend_schema(
        request=s.TransitionSerializer,
        responses=s.ModelVersionSerializer,
        description=(
            "Move the version along its lifecycle. Approving (in_review → approved) or rejecting "
            "(in_review → draft) needs the approve permission, a reason, and someone other than the author."
        ),
    )
    @action(detail=True, methods=["post"], permission_action="change", filterset_class=None)
    def transition(self, request: Request, uuid: str | None = None) -> Response:
        version = self.get_object()
        body = s.TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        do_transition_model_version(version, actor=self.actor, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data)


class PromptVersionViewSet(VersionViewSet):
    model = PromptVersion
    serializer_class = s.PromptVersionSerializer
    filterset_class = filtersets.PromptVersionFilterSet
    related = ("prompt", "model_version", "parent", "created_by")
    prefetch = ("aliases",)

    def create_version(self, parent: Any, data: dict[str, Any]) -> AssetVersion:
        return do_create_prompt_version(parent, actor=self.actor, data=data)

    @extend_schema(
        parameters=[
            OpenApiParameter("against", OpenApiTypes.UUID, required=True, description="The version to compare with")
        ],
        responses=s.PromptDiffSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def diff(self, request: Request, uuid: str | None = None) -> Response:
        new = self.get_object()
        against = s.DiffAgainstSerializer(data=request.query_params, context=self.get_serializer_context())
        against.is_valid(raise_exception=True)
        old = against.validated_data["against"]
        return Response(
            {"old": old.uuid, "new": new.uuid, "rows": prompt_diff(old, new), "unified": unified_diff(old, new)}
        )


# System components


@extend_schema_view(
    create=extend_schema(description="Add a dataset, model or prompt version to an AI system, in a role.")
)
class SystemComponentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """A component is added or removed; to change one, remove it and add another."""

    model = SystemComponent
    serializer_class = s.SystemComponentSerializer
    filterset_class = filtersets.SystemComponentFilterSet
    related = ("system", *COMPONENT_PARTS)
    # Adding or removing a part changes the system.
    permission_action = "change"

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = do_add_component(
            data["system"], actor=self.actor, role=data["role"], part=data["part"], notes=data.get("notes", "")
        )

    def perform_destroy(self, instance: SystemComponent) -> None:
        do_remove_component(instance, actor=self.actor)


# Tags and search


def tags_visible_to(actor: Actor) -> QuerySet[Tag]:
    """Tags on at least one asset the actor may see (a tag name can itself be telling)."""
    used = Q()
    for model in (AISystem, Dataset, SyntheticGenerator, Model, Prompt):
        field: Any = model._meta.get_field("tags")
        links = field.remote_field.through.objects.filter(
            **{f"{field.m2m_field_name()}__in": model.objects.visible_to(actor).values("pk")}
        )
        used |= Q(pk__in=links.values(field.m2m_reverse_field_name()))
    return Tag.objects.filter(used)


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TagSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Tag]:
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        return tags_visible_to(Actor.from_request(self.request))


SEARCH_ROUTES = {
    "aisystem": "ai-system",
    "dataset": "dataset",
    "syntheticgenerator": "generator",
    "model": "model",
    "prompt": "prompt",
}


class SearchView(APIView):
    """Search every kind of asset the requester may see (at most 25 hits of each kind)."""

    @extend_schema(parameters=[s.SearchQuerySerializer], responses=s.SearchResultSerializer)
    def get(self, request: Request) -> Response:
        params = s.SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        results = [
            {
                "kind": hit.kind,
                "kind_label": hit.kind_label,
                "uuid": hit.obj.uuid,
                "name": hit.obj.name,
                "description": hit.obj.description,
                "owner_team": hit.obj.owner_team.slug,
                "url": request.build_absolute_uri(
                    reverse(f"{s.URL_NAMESPACE}:{SEARCH_ROUTES[hit.kind]}-detail", kwargs={"uuid": hit.obj.uuid})
                ),
            }
            for hit in search_assets(Actor.from_request(request), query)
        ]
        return Response(s.SearchResultSerializer({"query": query, "results": results}).data)
