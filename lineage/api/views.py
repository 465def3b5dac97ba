"""OpenLineage in (``POST /api/v1/lineage``, ``/lineage/batch``) and the Marquez-shaped graph queries out."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import OperationalError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.actors import Actor
from lineage import graph, impact
from lineage.api import serializers as s
from lineage.api.parsers import OpenLineageBatchParser, OpenLineageParser
from lineage.ingest import IngestResult, LineageForbidden, ingest_events
from lineage.validation import InvalidEvent, Problem

logger = logging.getLogger(__name__)


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message, **({"code": p.code} if p.code else {})} for p in problems]


def _accepted(result: IngestResult) -> dict[str, Any]:
    return {
        "status": "created" if result.created else "duplicate",
        "id": result.raw_event.pk,
        "warnings": _problems(result.warnings),
    }


def _depth(request: Request) -> int:
    raw = request.query_params.get("depth", str(graph.DEFAULT_DEPTH))
    try:
        depth = int(raw)
    except ValueError:
        raise ValidationError({"depth": [_("depth must be a whole number.")]}) from None
    if not 0 <= depth <= graph.MAX_DEPTH:
        raise ValidationError({"depth": [_("depth must be between 0 and %(max)d.") % {"max": graph.MAX_DEPTH}]})
    return depth


def _max_nodes(request: Request) -> int:
    raw = request.query_params.get("maxNodes", str(graph.DEFAULT_MAX_NODES))
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError({"maxNodes": [_("maxNodes must be a whole number.")]}) from None
    if not 1 <= limit <= graph.MAX_NODES:
        raise ValidationError({"maxNodes": [_("maxNodes must be between 1 and %(max)d.") % {"max": graph.MAX_NODES}]})
    return limit


def _node_id(request: Request) -> str:
    node_id = request.query_params.get("nodeId", "").strip()
    if not node_id:
        raise ValidationError({"nodeId": [_("Give nodeId=dataset:<namespace>:<name> or job:<namespace>:<name>.")]})
    return node_id


def _graph_or_404(call: Any, node_id: str, *args: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = call(node_id, *args)
    except graph.BadNodeId as exc:
        raise ValidationError({"nodeId": [str(exc)]}) from exc
    except graph.NodeNotFound:
        raise NotFound(_("No lineage node %(id)s that you may see.") % {"id": node_id}) from None
    return result


class LineageView(APIView):
    """``POST``: one OpenLineage event. ``GET``: the lineage graph around a node (Marquez's shape)."""

    parser_classes = [OpenLineageParser]

    @extend_schema(
        operation_id="lineage_post_event",
        summary="Send one OpenLineage event",
        description=(
            "One RunEvent, DatasetEvent or JobEvent of any published spec version, as JSON, optionally "
            "`Content-Encoding: gzip`. Posting the same event again succeeds and changes nothing. "
            "A structurally invalid event gets 400 with `errors: [{path, message}]`; tolerated producer "
            "quirks are accepted and listed in `warnings`."
        ),
        request={"application/json": {"type": "object", "description": "An OpenLineage event."}},
        responses={
            201: s.EventAcceptedSerializer,
            200: OpenApiResponse(s.EventAcceptedSerializer, description="The same event was already stored."),
            400: s.EventErrorsSerializer,
            401: OpenApiResponse(description="Missing or wrong token."),
            403: s.EventErrorsSerializer,
            413: OpenApiResponse(description="The event is larger than LINEAGE_MAX_EVENT_BYTES."),
        },
        tags=["lineage"],
    )
    def post(self, request: Request) -> Response:
        result, failure = _ingest_one(request.data, Actor.from_request(request))
        if failure is not None:
            return failure
        assert result is not None
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(_accepted(result), status=code)

    @extend_schema(
        operation_id="lineage_graph",
        summary="Lineage graph around a dataset or job",
        parameters=[
            OpenApiParameter(
                "nodeId", str, required=True, description="dataset:<namespace>:<name> or job:<namespace>:<name>"
            ),
            OpenApiParameter("depth", int, description=f"Job hops from the node (default {graph.DEFAULT_DEPTH})."),
            OpenApiParameter(
                "facets",
                bool,
                description="Include every node's facets (default: only schema fields, which keeps large graphs fast).",
            ),
            OpenApiParameter(
                "maxNodes",
                int,
                description=(
                    f"At most this many nodes, the nearest first (default {graph.DEFAULT_MAX_NODES}, "
                    f"at most {graph.MAX_NODES}). A cut graph has `truncated: true` and a `detail` saying so."
                ),
            ),
        ],
        responses={200: s.GraphSerializer, 400: OpenApiResponse(description="Bad nodeId, depth or maxNodes.")},
        tags=["lineage"],
    )
    def get(self, request: Request) -> HttpResponse:
        node_id = _node_id(request)
        facets = request.query_params.get("facets", "").lower() in ("1", "true", "yes")
        depth, limit = _depth(request), _max_nodes(request)
        actor = Actor.from_request(request)
        try:
            body = graph.lineage_json(node_id, depth, actor, facets=facets, max_nodes=limit)
        except graph.BadNodeId as exc:
            raise ValidationError({"nodeId": [str(exc)]}) from exc
        except graph.NodeNotFound:
            raise NotFound(_("No lineage node %(id)s that you may see.") % {"id": node_id}) from None
        # The database built the JSON: it goes out as it is, not through a renderer.
        return HttpResponse(body, content_type="application/json")


def _refusal(outcome: InvalidEvent | LineageForbidden) -> Response:
    if isinstance(outcome, InvalidEvent):
        return Response(
            {"detail": _("The event is not a valid OpenLineage event."), "errors": _problems(outcome.errors)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response(
        {"detail": outcome.message, "errors": [{"path": outcome.path, "message": outcome.message}]},
        status=status.HTTP_403_FORBIDDEN,
    )


def _store_busy() -> Response:
    logger.warning("lineage events not stored: the database stayed busy", exc_info=True)
    # Lock timeouts after the retries: nothing was stored; 503 tells the client to retry.
    return Response(
        {"detail": _("The lineage store is busy; the event was not stored. Retry shortly.")},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "1"},
    )


def _ingest_one(payload: Any, actor: Actor) -> tuple[IngestResult | None, Response | None]:
    try:
        (outcome,) = ingest_events([payload], actor=actor)
    except OperationalError:
        return None, _store_busy()
    if isinstance(outcome, IngestResult):
        return outcome, None
    return None, _refusal(outcome)


class LineageBatchView(APIView):
    """A JSON array of events; each is validated (and refused) on its own and reported in order.

    The accepted ones are stored and folded together in one transaction: one statement per table
    for the whole batch, which is what makes batches several times cheaper per event.
    """

    parser_classes = [OpenLineageBatchParser]

    @extend_schema(
        operation_id="lineage_post_batch",
        summary="Send a batch of OpenLineage events",
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={
            200: s.BatchResultSerializer,
            400: s.EventErrorsSerializer,
            503: OpenApiResponse(description="The store stayed busy: nothing of the batch was stored; retry it."),
        },
        tags=["lineage"],
    )
    def post(self, request: Request) -> Response:
        events = request.data
        if not isinstance(events, list):
            return Response(
                {
                    "detail": _("The batch endpoint takes a JSON array of events."),
                    "errors": [{"path": "$", "message": _("Expected an array of events.")}],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(events) > settings.LINEAGE_MAX_BATCH_EVENTS:
            return Response(
                {
                    "detail": _("A batch holds at most %(n)d events.") % {"n": settings.LINEAGE_MAX_BATCH_EVENTS},
                    "errors": [{"path": "$", "message": _("Too many events in one batch.")}],
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            outcomes = ingest_events(events, actor=Actor.from_request(request))
        except OperationalError:
            return _store_busy()
        results: list[dict[str, Any]] = []
        counts = {"received": len(events), "successful": 0, "failed": 0, "duplicates": 0}
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, IngestResult):
                counts["successful"] += 1
                counts["duplicates"] += 0 if outcome.created else 1
                results.append({"index": index, **_accepted(outcome)})
            else:
                failure = _refusal(outcome)
                counts["failed"] += 1
                data = failure.data if isinstance(failure.data, dict) else {}
                results.append(
                    {
                        "index": index,
                        "status": "failed",
                        "httpStatus": failure.status_code,
                        "detail": data.get("detail", ""),
                        "errors": [{**e, "path": f"$[{index}]{e['path'][1:]}"} for e in data.get("errors", [])],
                    }
                )
        return Response({"summary": counts, "events": results}, status=status.HTTP_200_OK)


class ColumnLineageView(APIView):
    @extend_schema(
        operation_id="lineage_column_graph",
        summary="Column-level lineage around a dataset or a dataset field",
        parameters=[
            OpenApiParameter(
                "nodeId",
                str,
                required=True,
                description="dataset:<namespace>:<name> or datasetField:<namespace>:<name>:<field>",
            ),
            OpenApiParameter("depth", int, description="Field hops (default 20)."),
        ],
        responses={200: s.GraphSerializer},
        tags=["lineage"],
    )
    def get(self, request: Request) -> Response:
        node_id = _node_id(request)
        return Response(_graph_or_404(graph.column_lineage, node_id, _depth(request), Actor.from_request(request)))


class ImpactView(APIView):
    """Everything registered that depends on a dataset or model version, through the registry and lineage."""

    @extend_schema(
        operation_id="lineage_impact",
        summary="Impact analysis of a registered dataset or model version",
        parameters=[
            OpenApiParameter("datasetVersion", str, description="UUID of a registered dataset version."),
            OpenApiParameter("modelVersion", str, description="UUID of a registered model version."),
        ],
        responses={200: s.ImpactSerializer, 400: OpenApiResponse(description="Give exactly one version.")},
        tags=["lineage"],
    )
    def get(self, request: Request) -> Response:
        from registry.models import DatasetVersion, ModelVersion

        actor = Actor.from_request(request)
        given = {k: request.query_params.get(k, "").strip() for k in ("datasetVersion", "modelVersion")}
        given = {k: v for k, v in given.items() if v}
        if len(given) != 1:
            raise ValidationError({"datasetVersion": [_("Give exactly one of datasetVersion or modelVersion.")]})
        ((param, value),) = given.items()
        model = DatasetVersion if param == "datasetVersion" else ModelVersion
        try:
            version = model.objects.visible_to(actor).get(uuid=uuid.UUID(value))
        except (ValueError, ObjectDoesNotExist):
            raise NotFound(_("No such version that you may see.")) from None
        if isinstance(version, DatasetVersion):
            found = impact.downstream_impact(actor, dataset_version=version)
        else:
            found = impact.downstream_impact(actor, model_version=version)
        return Response(found.as_dict())
