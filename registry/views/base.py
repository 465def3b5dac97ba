"""What every registry page shares: the acting user, visible-only fetches, paging, error mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Model, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic.base import ContextMixin, TemplateResponseMixin, View

from access.actors import Actor

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# URL name prefix of each registry model (registry:<key>_detail and friends).
URL_KEYS: dict[str, str] = {
    "aisystem": "system",
    "dataset": "dataset",
    "syntheticgenerator": "generator",
    "model": "model",
    "prompt": "prompt",
    "datasetversion": "datasetversion",
    "generatorversion": "generatorversion",
    "modelversion": "modelversion",
    "promptversion": "promptversion",
    "mlflowserver": "mlflowserver",
}


def url_key(model: type[Model] | Model) -> str:
    return URL_KEYS[model._meta.model_name or ""]


def detail_url(obj: Any) -> str:
    return reverse(f"registry:{url_key(obj)}_detail", kwargs={"uuid": obj.uuid})


def detail_url_for(object_type: str, object_id: str) -> str | None:
    """The page of an audit-trail entry's object ("registry.aisystem", uuid), if it has one."""
    app, _dot, model_name = object_type.partition(".")
    if app != "registry" or model_name not in URL_KEYS:
        return None
    return reverse(f"registry:{URL_KEYS[model_name]}_detail", kwargs={"uuid": object_id})


def allowed(actor: Actor, obj: Any, action: str) -> bool:
    """Whether ``actor`` may ``action`` this object (role and team scope both)."""
    if not actor.may(action):
        return False
    return bool(type(obj).objects.visible_to(actor, action).filter(pk=obj.pk).exists())


def visible_or_none(actor: Actor, obj: Any) -> Any:
    """``obj`` if the actor may see it, else None (references to other teams' objects stay hidden)."""
    if obj is None:
        return None
    return obj if type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists() else None


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, ValidationError(errors))
    else:
        form.add_error(None, ValidationError(exc.error_list))


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    try:
        per_page = int(request.GET.get("per_page") or PAGE_SIZE)
    except ValueError:
        per_page = PAGE_SIZE
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def safe_next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class ActorView(LoginRequiredMixin, TemplateResponseMixin, ContextMixin, View):
    """A signed-in page: ``self.actor`` is the user; ``prepare()`` fetches and checks access first.

    ``prepare`` runs before the GET/POST handler, so a 404 (not visible) or 403 (read-only) is
    decided once for every method of the view.
    """

    actor: Actor

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.actor = Actor(user=request.user)
        self.prepare()
        return super().dispatch(request, *args, **kwargs)

    def prepare(self) -> None:
        """Fetch the objects of the page (404 when not visible) and check the action (403)."""

    def visible(self, model: type[Any], action: str = "view", select: tuple[str, ...] = (), **lookup: Any) -> Any:
        """One object the actor may see (else 404); then ``action`` must be allowed on it (else 403)."""
        queryset = model.objects.visible_to(self.actor)
        if select:
            queryset = queryset.select_related(*select)
        obj = get_object_or_404(queryset, **lookup)
        if action != "view" and not allowed(self.actor, obj, action):
            raise PermissionDenied
        return obj

    def require(self, action: str) -> None:
        """For pages that create: the role must allow it at all."""
        if not self.actor.may(action):
            raise PermissionDenied


def per_parent(version_model: Any, parent_field: str, value: Any) -> Any:
    """A correlated subquery over an asset's versions (count, max…), evaluated for the page's rows only.

    ``Count("versions")`` would GROUP BY across every version of every visible asset before the
    page is cut, and the paginator's count query would pay for it again; this does neither.
    """
    subquery = Subquery(
        version_model.objects.filter(**{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(result=value)
        .values("result")[:1]
    )
    return Coalesce(subquery, Value(0)) if isinstance(value, Count) else subquery
