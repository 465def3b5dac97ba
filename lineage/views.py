"""The lineage pages: overview, datasets, jobs, runs, raw events, the graph and impact analysis.

Lineage datasets and jobs have no UUID: their public identifier is the OpenLineage node id
(``dataset:<namespace>:<name>``), passed as ``?node=`` because names hold slashes. Everything is
fetched through ``visible_to``; what the user may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from lineage import graph
from lineage.filtersets import RawEventFilterSet, RunFilterSet
from lineage.impact import downstream_impact, registered_versions_at, version_lineage
from lineage.models import (
    ColumnLineage,
    Direction,
    Job,
    JobEdge,
    LineageDataset,
    LineageDatasetVersion,
    Namespace,
    RawEvent,
    Run,
    RunIO,
)
from lineage.svg import render_svg
from registry.models import DatasetVersion, ModelVersion
from registry.views.base import ActorView, paginate, per_parent

RECENT_RUNS = 10
GRAPH_DEPTH = 2  # the page starts small; +/- re-queries
SIDE_LIST = 20


def node_url(name: str, node_id: str, **params: Any) -> str:
    return f"{reverse(f'lineage:{name}')}?{urlencode({'node': node_id, **params})}"


def graph_url(node_id: str, depth: int = GRAPH_DEPTH) -> str:
    return node_url("graph", node_id, depth=depth)


def job_list_url(name: str, job: Job) -> str:
    """The runs or raw events list filtered to one job."""
    return f"{reverse(f'lineage:{name}')}?{urlencode({'namespace': job.namespace.name, 'job': job.name})}"


def format_duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def with_durations(runs: Any) -> Any:
    for run in runs:
        run.duration_text = format_duration(run.duration_ms)
    return runs


def latest_run(field: str) -> Subquery:
    return Subquery(Run.objects.filter(job=OuterRef("pk")).order_by("-started_at", "-id").values(field)[:1])


def filtered(request: HttpRequest, names: tuple[str, ...]) -> bool:
    return any(request.GET.get(name) for name in names)


class LineageView(ActorView):
    def node(self, kind: str) -> Any:
        """The dataset or job named by ``?node=``, or 404."""
        node_id = self.request.GET.get("node", "")
        if not node_id.startswith(f"{kind}:"):
            raise Http404
        try:
            ref = graph.resolve_node(node_id, self.actor)
        except (graph.BadNodeId, graph.NodeNotFound):
            raise Http404 from None
        model = LineageDataset if kind == "dataset" else Job
        return model.objects.select_related("namespace").get(pk=ref.pk)


class OverviewView(LineageView):
    template_name = "lineage/overview.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        namespaces = Namespace.objects.visible_to(self.actor).annotate(
            dataset_count=per_parent(LineageDataset, "namespace", Count("pk")),
            job_count=per_parent(Job, "namespace", Count("pk")),
        )
        page = paginate(request, namespaces.select_related("owner_team"))
        runs = Run.objects.visible_to(self.actor).select_related("job__namespace")[:RECENT_RUNS]
        return self.render_to_response(
            self.get_context_data(page_obj=page, namespaces=page.object_list, runs=with_durations(list(runs)))
        )


class DatasetListView(LineageView):
    template_name = "lineage/dataset_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        datasets = LineageDataset.objects.visible_to(self.actor).select_related("namespace")
        namespace, query = request.GET.get("namespace", "").strip(), request.GET.get("q", "").strip()
        if namespace:
            datasets = datasets.filter(namespace__name=namespace)
        if query:
            datasets = datasets.filter(name__icontains=query)
        page = paginate(request, datasets)
        return self.render_to_response(
            self.get_context_data(
                page_obj=page,
                datasets=page.object_list,
                namespace=namespace,
                q=query,
                filtered=bool(namespace or query),
            )
        )


class JobListView(LineageView):
    template_name = "lineage/job_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        jobs = (
            Job.objects.visible_to(self.actor)
            .select_related("namespace")
            .annotate(latest_state=latest_run("state"), latest_started=latest_run("started_at"))
        )
        namespace, query = request.GET.get("namespace", "").strip(), request.GET.get("q", "").strip()
        if namespace:
            jobs = jobs.filter(namespace__name=namespace)
        if query:
            jobs = jobs.filter(name__icontains=query)
        page = paginate(request, jobs)
        return self.render_to_response(
            self.get_context_data(
                page_obj=page, jobs=page.object_list, namespace=namespace, q=query, filtered=bool(namespace or query)
            )
        )


def registry_versions(dataset: LineageDataset, actor: Any) -> tuple[list[DatasetVersion], list[ModelVersion]]:
    dv_ids, mv_ids = registered_versions_at({dataset.pk}, actor)
    return (
        list(
            DatasetVersion.objects.filter(pk__in=dv_ids).select_related("dataset").order_by("dataset__name", "number")
        ),
        list(ModelVersion.objects.filter(pk__in=mv_ids).select_related("model").order_by("model__name", "number")),
    )


def visible_edges(actor: Any, **lookup: Any) -> QuerySet[JobEdge]:
    visible = graph.visible_namespace_ids(actor)
    edges = JobEdge.objects.filter(**lookup).select_related("job__namespace", "dataset__namespace")
    if visible is not None:
        edges = edges.filter(job__namespace_id__in=visible, dataset__namespace_id__in=visible)
    return edges.order_by("job__namespace__name", "job__name", "dataset__namespace__name", "dataset__name")


class DatasetDetailView(LineageView):
    template_name = "lineage/dataset_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        dataset = self.node("dataset")
        edges = list(visible_edges(self.actor, dataset=dataset))
        visible = graph.visible_namespace_ids(self.actor)
        columns = ColumnLineage.objects.filter(Q(output_dataset=dataset) | Q(input_dataset=dataset)).select_related(
            "input_dataset__namespace", "output_dataset__namespace"
        )
        if visible is not None:
            columns = columns.filter(input_dataset__namespace_id__in=visible, output_dataset__namespace_id__in=visible)
        dataset_versions, model_versions = registry_versions(dataset, self.actor)
        versions = list(LineageDatasetVersion.objects.filter(dataset=dataset).select_related("run__job")[:SIDE_LIST])
        for version in versions:  # a run of a job in a namespace the user cannot see stays unnamed
            run = version.run
            version.visible_run = run if run and (visible is None or run.job.namespace_id in visible) else None
        return self.render_to_response(
            self.get_context_data(
                object=dataset,
                writers=[e.job for e in edges if e.direction == Direction.OUTPUT],
                readers=[e.job for e in edges if e.direction == Direction.INPUT],
                columns=list(columns.order_by("output_dataset__name", "output_field", "input_field")[:200]),
                versions=versions,
                registry_dataset_versions=dataset_versions,
                registry_model_versions=model_versions,
                graph_url=graph_url(dataset.node_id),
            )
        )


class JobDetailView(LineageView):
    template_name = "lineage/job_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = self.node("job")
        edges = list(visible_edges(self.actor, job=job))
        page = paginate(request, Run.objects.filter(job=job).select_related("job__namespace"))
        return self.render_to_response(
            self.get_context_data(
                object=job,
                inputs=[e.dataset for e in edges if e.direction == Direction.INPUT],
                outputs=[e.dataset for e in edges if e.direction == Direction.OUTPUT],
                page_obj=page,
                runs=with_durations(page.object_list),
                graph_url=graph_url(job.node_id),
                events_url=job_list_url("event_list", job),
            )
        )


class RunListView(LineageView):
    template_name = "lineage/run_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        runs = Run.objects.visible_to(self.actor).select_related("job__namespace")
        filterset = RunFilterSet(request.GET or None, queryset=runs)
        page = paginate(request, filterset.qs if filterset.is_bound else runs)
        return self.render_to_response(
            self.get_context_data(
                filterset=filterset,
                filtered=filtered(request, tuple(filterset.filters)),
                page_obj=page,
                runs=with_durations(page.object_list),
            )
        )


class RunDetailView(LineageView):
    template_name = "lineage/run_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        runs = Run.objects.visible_to(self.actor)
        run = get_object_or_404(runs.select_related("job__namespace", "parent__job"), uuid=kwargs["uuid"])
        parent = run.parent if run.parent_id and runs.filter(pk=run.parent_id).exists() else None
        visible = graph.visible_namespace_ids(self.actor)
        io = RunIO.objects.filter(run=run).select_related("dataset__namespace")
        if visible is not None:
            io = io.filter(dataset__namespace_id__in=visible)
        io_list = list(io.order_by("dataset__namespace__name", "dataset__name"))
        return self.render_to_response(
            self.get_context_data(
                object=run,
                duration=format_duration(run.duration_ms),
                parent=parent,
                children=with_durations(list(runs.filter(parent=run).select_related("job__namespace"))),
                inputs=[r.dataset for r in io_list if r.direction == Direction.INPUT],
                outputs=[r.dataset for r in io_list if r.direction == Direction.OUTPUT],
                events=RawEvent.objects.visible_to(self.actor)
                .filter(run_uuid=run.uuid)
                .select_related("namespace")
                .order_by("event_time", "id"),
            )
        )


class EventListView(LineageView):
    template_name = "lineage/event_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        events = RawEvent.objects.visible_to(self.actor).select_related("namespace").defer("payload")
        job = request.GET.get("job", "").strip()
        if job:
            events = events.filter(job_name=job)
        filterset = RawEventFilterSet(request.GET or None, queryset=events)
        page = paginate(request, filterset.qs if filterset.is_bound else events)
        return self.render_to_response(
            self.get_context_data(
                filterset=filterset,
                filtered=filtered(request, (*filterset.filters, "job")),
                job=job,
                page_obj=page,
                events=page.object_list,
            )
        )


class EventDetailView(LineageView):
    template_name = "lineage/event_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        event = get_object_or_404(
            RawEvent.objects.visible_to(self.actor).select_related("namespace", "user"), pk=kwargs["pk"]
        )
        run = Run.objects.visible_to(self.actor).filter(uuid=event.run_uuid).first() if event.run_uuid else None
        return self.render_to_response(self.get_context_data(object=event, run=run))


def graph_request(view: LineageView) -> tuple[str, int, dict[str, Any]]:
    """The ``?node=&depth=`` of a graph page and the visible neighbourhood (404 when not visible)."""
    node_id = view.request.GET.get("node", "").strip()
    try:
        depth = int(view.request.GET.get("depth") or GRAPH_DEPTH)
    except ValueError:
        depth = GRAPH_DEPTH
    depth = max(0, min(depth, graph.MAX_DEPTH))
    try:
        data = graph.lineage(node_id, depth, view.actor)
    except (graph.BadNodeId, graph.NodeNotFound):
        raise Http404 from None
    return node_id, depth, data


class GraphView(LineageView):
    """The interactive graph (static/js/lineage-graph.js); without JavaScript, the server's SVG."""

    template_name = "lineage/graph.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        node_id, depth, data = graph_request(self)
        links = {n["id"]: graph_url(n["id"], depth) for n in data["graph"]}
        centre = next((n for n in data["graph"] if n["id"] == node_id), None)
        return self.render_to_response(
            self.get_context_data(
                node_id=node_id,
                depth=depth,
                max_depth=graph.MAX_DEPTH,
                centre=centre,
                node_count=len(data["graph"]),
                truncated=data.get("truncated", False),
                svg=render_svg(
                    data, centre=node_id, href=links, title=_("Lineage around %(node)s") % {"node": node_id}
                ),
                svg_url=node_url("graph_svg", node_id, depth=depth),
                less_url=graph_url(node_id, max(depth - 1, 0)),
                more_url=graph_url(node_id, min(depth + 1, graph.MAX_DEPTH)),
                details_url=reverse("lineage:node"),
            )
        )


class GraphSvgView(LineageView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        node_id, _depth, data = graph_request(self)
        svg = render_svg(data, centre=node_id, title=_("Lineage around %(node)s") % {"node": node_id})
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="lineage.svg"'
        return response


class NodeDetailsView(LineageView):
    """The graph page's side panel for one node (an HTML fragment, fetched by the script)."""

    template_name = "lineage/node_panel.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        node_id = request.GET.get("node", "")
        kind = "dataset" if node_id.startswith("dataset:") else "job"
        obj = self.node(kind)
        context: dict[str, Any] = {"object": obj, "kind": kind, "recentre_url": graph_url(obj.node_id)}
        if kind == "dataset":
            context["registry_dataset_versions"], context["registry_model_versions"] = registry_versions(
                obj, self.actor
            )
            context["detail_url"] = node_url("dataset", obj.node_id)
            writer = (
                Run.objects.visible_to(self.actor)
                .filter(io__dataset=obj, io__direction=Direction.OUTPUT)
                .select_related("job")
                .first()
            )
            context["latest_run"] = writer
        else:
            context["detail_url"] = node_url("job", obj.node_id)
            context["latest_run"] = Run.objects.filter(job=obj).first()
            context["runs_url"] = job_list_url("run_list", obj)
            context["events_url"] = job_list_url("event_list", obj)
        if context["latest_run"] is not None:
            context["duration"] = format_duration(context["latest_run"].duration_ms)
        context["facet_names"] = sorted(obj.facets)
        return self.render_to_response(self.get_context_data(**context))


class ImpactView(LineageView):
    template_name = "lineage/impact.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        dataset_version = model_version = None
        try:
            if request.GET.get("dataset_version"):
                dataset_version = get_object_or_404(
                    DatasetVersion.objects.visible_to(self.actor).select_related("dataset"),
                    uuid=request.GET["dataset_version"],
                )
            elif request.GET.get("model_version"):
                model_version = get_object_or_404(
                    ModelVersion.objects.visible_to(self.actor).select_related("model"),
                    uuid=request.GET["model_version"],
                )
            else:
                raise Http404
        except (ValueError, ValidationError):  # not a UUID
            raise Http404 from None
        start = dataset_version or model_version
        impact = downstream_impact(self.actor, dataset_version=dataset_version, model_version=model_version)
        placement = version_lineage(self.actor, dataset_version=dataset_version, model_version=model_version)
        return self.render_to_response(
            self.get_context_data(
                start=start,
                impact=impact,
                lineage=placement,
                graph_url=graph_url(placement.nodes[0].node_id) if placement.nodes else None,
            )
        )
