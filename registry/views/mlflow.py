"""The MLflow servers settings pages: administrators configure servers; teams see how their imports go."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from access.choices import Role
from registry.choices import MLFLOW_FAILED_STATUSES
from registry.mlflow.forms import MlflowServerForm
from registry.mlflow.services import do_create_mlflow_server, do_request_mlflow_sync, do_update_mlflow_server
from registry.models import (
    MlflowModelLink,
    MlflowModelVersionLink,
    MlflowPromptLink,
    MlflowPromptVersionLink,
    MlflowServer,
)
from registry.views.base import ActorView, add_service_errors, detail_url
from trail.scope import entries_visible_to

HISTORY_LENGTH = 10


def is_admin(view: ActorView) -> bool:
    return view.actor.role == Role.ADMIN


class MlflowServerListView(ActorView):
    template_name = "registry/mlflowserver_list.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        servers = MlflowServer.objects.visible_to(self.actor).select_related("owner_team")
        context = self.get_context_data(
            servers=servers,
            can_configure=is_admin(self),
            failed_statuses=[str(status) for status in MLFLOW_FAILED_STATUSES],
            section="mlflow",
        )
        return self.render_to_response(context)


def _imported_counts(server: MlflowServer) -> list[dict[str, Any]]:
    rows = []
    for label, model in (
        (_("Registered models"), MlflowModelLink),
        (_("Model versions"), MlflowModelVersionLink),
        (_("Prompts"), MlflowPromptLink),
        (_("Prompt versions"), MlflowPromptVersionLink),
    ):
        queryset: QuerySet[Any] = model.objects.filter(server=server)
        by_missing = dict(queryset.order_by().values_list("missing_upstream").annotate(n=Count("pk")))
        rows.append({"label": label, "present": by_missing.get(False, 0), "missing": by_missing.get(True, 0)})
    return rows


class MlflowServerDetailView(ActorView):
    template_name = "registry/mlflowserver_detail.html"
    server: MlflowServer

    def prepare(self) -> None:
        self.server = self.visible(MlflowServer, select=("owner_team",), uuid=self.kwargs["uuid"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        server = self.server
        summary = server.last_summary or {}
        context = self.get_context_data(
            object=server,
            can_configure=is_admin(self),
            counts=_imported_counts(server),
            summary_counts=sorted((summary.get("counts") or {}).items()),
            summary_errors=summary.get("errors") or [],
            failed=server.status in MLFLOW_FAILED_STATUSES,
            history=entries_visible_to(request).filter(object_id=str(server.uuid)).order_by("-seq")[:HISTORY_LENGTH],
            section="mlflow",
        )
        return self.render_to_response(context)


class MlflowServerFormView(ActorView):
    template_name = "registry/mlflowserver_form.html"
    server: MlflowServer | None = None

    def prepare(self) -> None:
        if "uuid" in self.kwargs:
            self.server = self.visible(MlflowServer, "change", select=("owner_team",), uuid=self.kwargs["uuid"])
        elif not is_admin(self):
            raise PermissionDenied

    def render_form(self, form: MlflowServerForm) -> HttpResponse:
        cancel = detail_url(self.server) if self.server else reverse("registry:mlflowserver_list")
        return self.render_to_response(
            self.get_context_data(form=form, object=self.server, cancel_url=cancel, section="mlflow")
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(MlflowServerForm(instance=self.server))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MlflowServerForm(request.POST, instance=self.server)
        if not form.is_valid():
            return self.render_form(form)
        try:
            if self.server is None:
                server = do_create_mlflow_server(actor=self.actor, data=form.service_data())
            else:
                server = do_update_mlflow_server(self.server, actor=self.actor, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_form(form)
        messages.success(request, _("MLflow server “%(name)s” saved.") % {"name": server.name})
        return redirect(detail_url(server))


class MlflowServerSyncView(ActorView):
    """Queues a sync of one server now (POST from its page)."""

    http_method_names = ["post"]
    server: MlflowServer

    def prepare(self) -> None:
        self.server = self.visible(MlflowServer, "change", uuid=self.kwargs["uuid"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            do_request_mlflow_sync(self.server, actor=self.actor)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("A sync of “%(name)s” is queued.") % {"name": self.server.name})
        return redirect(detail_url(self.server))
