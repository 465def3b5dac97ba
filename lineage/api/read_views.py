"""The Marquez-shaped read API (namespaces, datasets, jobs, runs, raw events) and registry links.

Paths, field names and list envelopes (``{"datasets": [...], "totalCount": n}``) follow Marquez so
that its clients and tooling work unchanged; lists also take our ``page``/``page_size``. Every
query starts from ``visible_to(actor)``: what the requester may not see is a 404.

Names contain ``/`` and ``:`` and Django decodes ``%2F`` before routing, so the URL patterns split
on the literal ``/datasets/``, ``/jobs/``, ``/versions`` and ``/runs`` segments (see ``urls.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from access.actors import Actor
from access.api.permissions import ActorMayAct
from lineage import filtersets, graph
from lineage.api import read_serializers as s
from lineage.models import (
    Job,
    JobEdge,
    LineageDataset,
    LineageDatasetVersion,
    Namespace,
    RawEvent,
    RegistryLink,
    Run,
    RunIO,
)
from lineage.services import do_link_registry, do_unlink_registry, visible_registry_links
from registry.models import DatasetVersion, ModelVersion

TAG = "lineage (Marquez-compatible)"

# Pagination


class MarquezPagination(BasePagination):
    """Marquez's ``limit``/``offset`` (default 100) or our ``page``/``page_size``; ``{<key>: [...], totalCount}``."""

    results_key = "results"
    default_limit = 100
    max_limit = 500

    def _number(self, request: Request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: [_("Give a whole number.")]}) from None
        if value < minimum:
            raise ValidationError({name: [_("Must be at least %(n)d.") % {"n": minimum}]})
        return value

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        self.request = request
        size = self._number(request, "page_size", 1) or self._number(request, "limit", 1) or self.default_limit
        self.limit = min(size, self.max_limit)
        page = self._number(request, "page", 1)
        offset = self._number(request, "offset", 0)
        self.by_page = offset is None and "limit" not in request.query_params
        self.offset = offset if offset is not None else ((page or 1) - 1) * self.limit
        self.count = queryset.count()
        return list(queryset[self.offset : self.offset + self.limit])

    def _link(self, offset: int) -> str:
        url = self.request.build_absolute_uri()
        if not self.by_page:
            return replace_query_param(url, "offset", offset)
        page = offset // self.limit + 1
        return replace_query_param(url, "page", page) if page > 1 else remove_query_param(url, "page")

    def get_paginated_response(self, data: Any) -> Response:
        following = self.offset + self.limit
        return Response(
            {
                self.results_key: data,
                "totalCount": self.count,
                "next": self._link(following) if following < self.count else None,
                "previous": self._link(max(self.offset - self.limit, 0)) if self.offset > 0 else None,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": [self.results_key, "totalCount"],
            "properties": {
                self.results_key: schema,
                "totalCount": {"type": "integer", "example": 123},
                "next": link,
                "previous": link,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        def param(name: str, description: str) -> dict[str, Any]:
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": "integer"},
            }

        return [
            param("limit", f"Rows to return (Marquez; default {self.default_limit}, at most {self.max_limit})."),
            param("offset", "Rows to skip (Marquez)."),
            param("page", "Page number (with page_size, instead of offset)."),
            param("page_size", f"Rows per page (an alias of limit; at most {self.max_limit})."),
        ]


def marquez_pagination(key: str) -> type[MarquezPagination]:
    return type(f"{key.title()}Pagination", (MarquezPagination,), {"results_key": key})


# Path parameters

NAMESPACE = OpenApiParameter(
    "namespace", OpenApiTypes.STR, OpenApiParameter.PATH, description="Namespace name, URL-encoded or not."
)
DATASET = OpenApiParameter(
    "dataset", OpenApiTypes.STR, OpenApiParameter.PATH, description="Dataset name, URL-encoded or not."
)
JOB = OpenApiParameter("job", OpenApiTypes.STR, OpenApiParameter.PATH, description="Job name, URL-encoded or not.")


# Querysets (shared by list and detail views)


def dataset_queryset(actor: Actor) -> QuerySet[LineageDataset]:
    current = (
        LineageDatasetVersion.objects.filter(dataset=OuterRef("pk"))
        .order_by(F("event_time").desc(nulls_last=True), "-id")
        .values("version")[:1]
    )
    links = Prefetch(
        "registry_links",
        queryset=visible_registry_links(actor)
        .select_related("dataset_version__dataset", "model_version__model", "created_by")
        .order_by("created_at", "id"),
        to_attr="visible_links",
    )
    return (
        LineageDataset.objects.visible_to(actor)
        .select_related("namespace")
        .annotate(current_version=Subquery(current))
        .prefetch_related(links)
    )


def versions_at_uris(datasets: Sequence[LineageDataset], actor: Actor) -> dict[str, list[Any]]:
    """Registry versions whose location is one of these datasets' URIs: the stored-nowhere links."""
    uris = {d.uri for d in datasets}
    found: dict[str, list[Any]] = {}
    if not uris:
        return found
    for dv in DatasetVersion.objects.visible_to(actor).filter(uri__in=uris).select_related("dataset"):
        found.setdefault(dv.uri, []).append(dv)
    for mv in ModelVersion.objects.visible_to(actor).filter(artifact_uri__in=uris).select_related("model"):
        found.setdefault(mv.artifact_uri, []).append(mv)
    return found


def job_queryset(actor: Actor) -> QuerySet[Job]:
    edges = JobEdge.objects.filter(dataset__namespace__in=Namespace.objects.visible_to(actor).values("pk"))
    return (
        Job.objects.visible_to(actor)
        .select_related("namespace")
        .annotate(latest_run_id=graph.latest_run_subquery())
        .prefetch_related(Prefetch("edges", queryset=edges.select_related("dataset__namespace")))
    )


def run_queryset(actor: Actor) -> QuerySet[Run]:
    io = RunIO.objects.filter(dataset__namespace__in=Namespace.objects.visible_to(actor).values("pk"))
    return (
        Run.objects.visible_to(actor)
        .select_related("job__namespace", "parent")
        .prefetch_related(Prefetch("io", queryset=io.select_related("dataset__namespace")))
        # Newest first on every database (PostgreSQL would put never-started runs first).
        .order_by(F("started_at").desc(nulls_last=True), "-id")
    )


# Base views


class LineageReadView(generics.GenericAPIView):
    """Reads need only authentication (the project default); visibility comes from the querysets."""

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    @property
    def fake(self) -> bool:
        """drf-spectacular builds the schema with a request-less view."""
        return bool(getattr(self, "swagger_fake_view", False))

    def namespace_or_404(self) -> Namespace:
        return get_object_or_404(Namespace.objects.visible_to(self.actor), name=self.kwargs["namespace"])

    def extra_context(self, objects: Sequence[Any]) -> dict[str, Any]:
        """What the serializer needs for a whole page at once (no query per row)."""
        return {}


class LineageListView(LineageReadView, generics.ListAPIView):
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        context = {**self.get_serializer_context(), **self.extra_context(page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)


class LineageDetailView(LineageReadView, generics.RetrieveAPIView):
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        context = {**self.get_serializer_context(), **self.extra_context([obj])}
        return Response(self.get_serializer(obj, context=context).data)


# Namespaces


@extend_schema_view(get=extend_schema(operation_id="lineage_namespaces_list", tags=[TAG]))
class NamespaceListView(LineageListView):
    serializer_class = s.NamespaceSerializer
    pagination_class = marquez_pagination("namespaces")

    def get_queryset(self) -> QuerySet[Namespace]:
        if self.fake:
            return Namespace.objects.none()
        return Namespace.objects.visible_to(self.actor).select_related("owner_team").order_by("name")


@extend_schema_view(get=extend_schema(operation_id="lineage_namespace_retrieve", parameters=[NAMESPACE], tags=[TAG]))
class NamespaceDetailView(LineageDetailView):
    serializer_class = s.NamespaceSerializer

    def get_object(self) -> Namespace:
        return get_object_or_404(
            Namespace.objects.visible_to(self.actor).select_related("owner_team"), name=self.kwargs["namespace"]
        )


# Datasets


class DatasetContextMixin(LineageReadView):
    def extra_context(self, objects: Sequence[Any]) -> dict[str, Any]:
        return {"uri_versions": versions_at_uris(objects, self.actor)}


@extend_schema_view(get=extend_schema(operation_id="lineage_datasets_list", parameters=[NAMESPACE], tags=[TAG]))
class DatasetListView(DatasetContextMixin, LineageListView):
    serializer_class = s.LineageDatasetSerializer
    pagination_class = marquez_pagination("datasets")

    def get_queryset(self) -> QuerySet[LineageDataset]:
        if self.fake:
            return LineageDataset.objects.none()
        return dataset_queryset(self.actor).filter(namespace=self.namespace_or_404()).order_by("name")


@extend_schema_view(
    get=extend_schema(operation_id="lineage_dataset_retrieve", parameters=[NAMESPACE, DATASET], tags=[TAG])
)
class DatasetDetailView(DatasetContextMixin, LineageDetailView):
    serializer_class = s.LineageDatasetSerializer

    def get_object(self) -> LineageDataset:
        return get_object_or_404(
            dataset_queryset(self.actor), namespace__name=self.kwargs["namespace"], name=self.kwargs["dataset"]
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="lineage_dataset_versions_list",
        summary="Versions of a dataset, newest first",
        parameters=[NAMESPACE, DATASET],
        tags=[TAG],
    )
)
class DatasetVersionListView(LineageListView):
    serializer_class = s.LineageDatasetVersionSerializer
    pagination_class = marquez_pagination("versions")

    def get_queryset(self) -> QuerySet[LineageDatasetVersion]:
        if self.fake:
            return LineageDatasetVersion.objects.none()
        dataset = get_object_or_404(
            LineageDataset.objects.visible_to(self.actor),
            namespace__name=self.kwargs["namespace"],
            name=self.kwargs["dataset"],
        )
        return (
            LineageDatasetVersion.objects.filter(dataset=dataset)
            .select_related("dataset__namespace", "run")
            .order_by(F("event_time").desc(nulls_last=True), "-id")
        )


# Jobs and runs


class JobContextMixin(LineageReadView):
    def extra_context(self, objects: Sequence[Any]) -> dict[str, Any]:
        ids = [job.latest_run_id for job in objects if getattr(job, "latest_run_id", None)]
        return {"latest_runs": {run.pk: run for run in Run.objects.filter(pk__in=ids)} if ids else {}}


@extend_schema_view(get=extend_schema(operation_id="lineage_jobs_list", parameters=[NAMESPACE], tags=[TAG]))
class JobListView(JobContextMixin, LineageListView):
    serializer_class = s.JobSerializer
    pagination_class = marquez_pagination("jobs")

    def get_queryset(self) -> QuerySet[Job]:
        if self.fake:
            return Job.objects.none()
        return job_queryset(self.actor).filter(namespace=self.namespace_or_404()).order_by("name")


@extend_schema_view(get=extend_schema(operation_id="lineage_job_retrieve", parameters=[NAMESPACE, JOB], tags=[TAG]))
class JobDetailView(JobContextMixin, LineageDetailView):
    serializer_class = s.JobSerializer

    def get_object(self) -> Job:
        return get_object_or_404(
            job_queryset(self.actor), namespace__name=self.kwargs["namespace"], name=self.kwargs["job"]
        )


@extend_schema_view(
    get=extend_schema(
        operation_id="lineage_job_runs_list",
        summary="Runs of a job, newest first",
        parameters=[NAMESPACE, JOB],
        tags=[TAG],
    )
)
class JobRunListView(LineageListView):
    serializer_class = s.RunSerializer
    pagination_class = marquez_pagination("runs")

    def get_queryset(self) -> QuerySet[Run]:
        if self.fake:
            return Run.objects.none()
        job = get_object_or_404(
            Job.objects.visible_to(self.actor), namespace__name=self.kwargs["namespace"], name=self.kwargs["job"]
        )
        return run_queryset(self.actor).filter(job=job)


@extend_schema_view(
    get=extend_schema(
        operation_id="lineage_runs_list",
        summary="Runs of every job you may see, newest first",
        tags=[TAG],
    )
)
class RunListView(LineageListView):
    serializer_class = s.RunSerializer
    pagination_class = marquez_pagination("runs")
    filterset_class = filtersets.RunFilterSet

    def get_queryset(self) -> QuerySet[Run]:
        if self.fake:
            return Run.objects.none()
        return run_queryset(self.actor)


@extend_schema_view(get=extend_schema(operation_id="lineage_run_retrieve", tags=[TAG]))
class RunDetailView(LineageDetailView):
    serializer_class = s.RunSerializer

    def get_object(self) -> Run:
        return get_object_or_404(run_queryset(self.actor), uuid=self.kwargs["run_id"])


# Raw events


@extend_schema_view(
    get=extend_schema(
        operation_id="lineage_events_list",
        summary="Raw OpenLineage events, newest eventTime first",
        description="Marquez's `before`/`after` window: `after` ≤ eventTime < `before` (ISO 8601).",
        tags=[TAG],
    )
)
class RawEventListView(LineageListView):
    serializer_class = s.RawEventSerializer
    pagination_class = marquez_pagination("events")
    filterset_class = filtersets.RawEventFilterSet

    def get_queryset(self) -> QuerySet[RawEvent]:
        if self.fake:
            return RawEvent.objects.none()
        return RawEvent.objects.visible_to(self.actor).select_related("namespace").order_by("-event_time", "-id")


@extend_schema_view(get=extend_schema(operation_id="lineage_event_retrieve", tags=[TAG]))
class RawEventDetailView(LineageDetailView):
    serializer_class = s.RawEventSerializer

    def get_object(self) -> RawEvent:
        return get_object_or_404(
            RawEvent.objects.visible_to(self.actor).select_related("namespace"), pk=self.kwargs["event_id"]
        )


# Registry links


def link_queryset(actor: Actor) -> QuerySet[RegistryLink]:
    return visible_registry_links(actor).select_related(
        "dataset__namespace", "dataset_version__dataset", "model_version__model", "created_by"
    )


LINK_DATASET = OpenApiParameter(
    "dataset", OpenApiTypes.STR, description="Only links of this lineage dataset: dataset:<namespace>:<name>"
)


@extend_schema_view(
    get=extend_schema(
        operation_id="lineage_links_list",
        summary="Links between lineage datasets and registry versions",
        parameters=[LINK_DATASET],
        tags=[TAG],
    ),
    post=extend_schema(
        operation_id="lineage_links_create",
        summary="Link a lineage dataset to a registered dataset or model version",
        description=(
            "Give `dataset` (a lineage node id) and exactly one of `datasetVersion` or `modelVersion` "
            "(a registry version uuid). You must see both sides and hold a role that may change things. "
            "Linking the same pair again is idempotent: 200 with the existing link (its note is kept)."
        ),
        request=s.RegistryLinkCreateSerializer,
        responses={
            201: s.RegistryLinkSerializer,
            200: OpenApiResponse(s.RegistryLinkSerializer, description="The link already existed."),
            400: OpenApiResponse(description="A field is missing or names nothing you may see."),
            403: OpenApiResponse(description="Your role or token scope cannot change things."),
        },
        tags=[TAG],
    ),
)
class RegistryLinkListView(LineageListView):
    serializer_class = s.RegistryLinkSerializer
    pagination_class = marquez_pagination("links")
    permission_classes: Sequence[type[BasePermission]] = [IsAuthenticated, ActorMayAct]
    permission_action = "change"

    def get_queryset(self) -> QuerySet[RegistryLink]:
        if self.fake:
            return RegistryLink.objects.none()
        links = link_queryset(self.actor).order_by("-created_at", "-id")
        node_id = self.request.query_params.get("dataset", "").strip()
        if node_id:
            try:
                ref = graph.resolve_node(node_id, self.actor)
            except graph.BadNodeId as exc:
                raise ValidationError({"dataset": [str(exc)]}) from exc
            except graph.NodeNotFound:
                return links.none()
            if ref.kind != "dataset":
                raise ValidationError({"dataset": [_("Give a dataset node id: dataset:<namespace>:<name>.")]})
            links = links.filter(dataset_id=ref.pk)
        return links

    def post(self, request: Request) -> Response:
        if not hasattr(request.data, "keys"):
            raise ValidationError({"non_field_errors": [_("The request body must be a JSON object.")]})
        body = s.RegistryLinkCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        link, created = do_link_registry(
            data["dataset"],
            actor=self.actor,
            dataset_version=data.get("datasetVersion"),
            model_version=data.get("modelVersion"),
            note=data.get("note", ""),
        )
        link = link_queryset(self.actor).get(pk=link.pk)
        return Response(
            s.RegistryLinkSerializer(link).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@extend_schema_view(
    get=extend_schema(operation_id="lineage_link_retrieve", tags=[TAG]),
    delete=extend_schema(
        operation_id="lineage_link_destroy",
        summary="Remove a link (recorded in the audit trail)",
        responses={204: None, 403: OpenApiResponse(description="Your role or token scope cannot change things.")},
        tags=[TAG],
    ),
)
class RegistryLinkDetailView(LineageReadView, generics.RetrieveDestroyAPIView):
    serializer_class = s.RegistryLinkSerializer
    permission_classes: Sequence[type[BasePermission]] = [IsAuthenticated, ActorMayAct]
    permission_action = "change"

    def get_object(self) -> RegistryLink:
        return get_object_or_404(link_queryset(self.actor), uuid=self.kwargs["link_id"])

    def perform_destroy(self, instance: RegistryLink) -> None:
        do_unlink_registry(instance, actor=self.actor)
