"""Generic pages of an asset kind: list, detail, create, edit and delete.

Each kind (AI systems, datasets, generators, models, prompts) subclasses these with its model,
FilterSet, form and templates. Templates are looked up as ``registry/<model>_<page>.html`` first,
then ``registry/asset_<page>.html``.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.forms import AssetForm
from registry.models import Asset
from registry.panels import render_panels
from registry.services import InUseError, do_create_asset, do_delete_asset, do_update_asset
from registry.views.base import ActorView, add_service_errors, allowed, detail_url, paginate, url_key
from trail.scope import entries_visible_to

HISTORY_LENGTH = 10


def style_filter_form(filterset: django_filters.FilterSet, actor: Any) -> None:
    """Friendlier widgets for the shared FilterSet's form: team as a select, choices as checkboxes."""
    fields = filterset.form.fields
    if "team" in fields:
        choices = [("", gettext_lazy("All teams")), *((t.slug, t.name) for t in actor.teams())]
        fields["team"].widget = forms.Select(choices=choices)
    if "q" in fields:
        fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Name or description")}
        )
    for name, field in fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=list(cast(Any, field).choices))
        elif isinstance(field, forms.ChoiceField):
            # django-filter's empty choice reads "---------"; say what it means.
            empty = gettext_lazy("Default order") if name == "ordering" else gettext_lazy("Any")
            # Only the widget: the field keeps validating against its own choices.
            choices = [(value, label) for value, label in cast(Any, field).choices if value != ""]
            field.widget.choices = [("", empty), *choices]


class AssetViewMixin:
    """What the pages of one asset kind know about it."""

    model: ClassVar[type[Asset]]
    page: ClassVar[str] = ""

    def get_template_names(self) -> list[str]:
        return [f"registry/{self.model._meta.model_name}_{self.page}.html", f"registry/asset_{self.page}.html"]

    def kind_context(self) -> dict[str, Any]:
        key = url_key(self.model)
        return {
            "kind": key,
            "verbose_name": self.model._meta.verbose_name,
            "verbose_name_plural": self.model._meta.verbose_name_plural,
            "list_url": reverse(f"registry:{key}_list"),
            "create_url": reverse(f"registry:{key}_create"),
        }


class AssetListView(AssetViewMixin, ActorView):
    page = "list"
    filterset_class: ClassVar[type[django_filters.FilterSet]]

    def get_queryset(self) -> QuerySet[Any]:
        return (
            self.model.objects.visible_to(self.actor)
            .select_related("owner_team")
            .prefetch_related("tags")
            .order_by("name", "pk")
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        style_filter_form(filterset, self.actor)
        page = paginate(request, filterset.qs)
        context = self.get_context_data(
            **self.kind_context(),
            filterset=filterset,
            page_obj=page,
            objects=page.object_list,
            can_add=self.actor.may("add"),
            filtered=any(v for k, v in request.GET.items() if k not in ("page", "per_page")),
        )
        return self.render_to_response(context)


class AssetDetailView(AssetViewMixin, ActorView):
    page = "detail"
    detail_fields: ClassVar[tuple[str, ...]] = ("description",)
    object: Any

    def prepare(self) -> None:
        self.object = self.visible(self.model, select=("owner_team", "owner", "created_by"), uuid=self.kwargs["uuid"])

    def get_versions(self) -> Any:
        versions = getattr(self.object, "versions", None)
        if versions is None:
            return None
        return versions.select_related("created_by").order_by("-number")

    def detail_context(self) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.object
        can_change = allowed(self.actor, obj, "change")
        context = self.get_context_data(
            **self.kind_context(),
            object=obj,
            detail_fields=self.detail_fields,
            tags=list(obj.tags.all()),
            versions=self.get_versions(),
            can_change=can_change,
            can_delete=allowed(self.actor, obj, "delete"),
            panels=render_panels(request, obj),
            history=entries_visible_to(request).filter(object_id=str(obj.uuid)).order_by("-seq")[:HISTORY_LENGTH],
            **self.detail_context(),
        )
        return self.render_to_response(context)


class AssetFormView(AssetViewMixin, ActorView):
    page = "form"
    form_class: ClassVar[type[AssetForm]]
    object: Any = None

    def get_form(self) -> AssetForm:
        if self.request.method == "POST":
            return self.form_class(self.request.POST, actor=self.actor, instance=self.object)
        return self.form_class(actor=self.actor, instance=self.object)

    def render_form(self, form: AssetForm) -> HttpResponse:
        cancel = detail_url(self.object) if self.object is not None else reverse(f"registry:{url_key(self.model)}_list")
        return self.render_to_response(
            self.get_context_data(**self.kind_context(), form=form, object=self.object, cancel_url=cancel)
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_valid():
            try:
                obj = self.save(form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect(detail_url(obj))
        return self.render_form(form)

    def save(self, form: AssetForm) -> Asset:
        raise NotImplementedError


class AssetCreateView(AssetFormView):
    def prepare(self) -> None:
        self.require("add")

    def save(self, form: AssetForm) -> Asset:
        obj = do_create_asset(self.model, actor=self.actor, data=form.service_data(), tags=form.asset_tags())
        messages.success(
            self.request,
            _("%(kind)s “%(name)s” registered.") % {"kind": capfirst(self.model._meta.verbose_name), "name": obj},
        )
        return obj


class AssetUpdateView(AssetFormView):
    def prepare(self) -> None:
        self.object = self.visible(self.model, "change", select=("owner_team",), uuid=self.kwargs["uuid"])

    def save(self, form: AssetForm) -> Asset:
        obj = do_update_asset(self.object, actor=self.actor, data=form.service_data(), tags=form.asset_tags())
        messages.success(self.request, _("Changes to “%(name)s” saved.") % {"name": obj})
        return obj


class AssetDeleteView(AssetViewMixin, ActorView):
    page = "confirm_delete"
    object: Any

    def get_template_names(self) -> list[str]:
        return ["registry/confirm_delete.html"]

    def prepare(self) -> None:
        self.object = self.visible(self.model, "delete", select=("owner_team",), uuid=self.kwargs["uuid"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(**self.kind_context(), object=self.object, cancel_url=detail_url(self.object))
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = str(self.object)
        try:
            do_delete_asset(self.object, actor=self.actor)
        except InUseError as exc:
            messages.error(request, exc.explanation)
            return redirect(detail_url(self.object))
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
        return redirect(f"registry:{url_key(self.model)}_list")
