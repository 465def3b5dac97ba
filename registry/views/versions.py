"""Generic pages of immutable versions: create, detail, metadata edit and delete.

Templates are looked up as ``registry/<version model>_<page>.html`` first, then
``registry/version_<page>.html``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from registry.forms import VersionMetadataForm
from registry.models import Asset, AssetVersion, SystemComponent
from registry.panels import render_panels
from registry.services import InUseError, do_delete_version, do_update_version_metadata
from registry.views.base import ActorView, add_service_errors, allowed, detail_url, url_key
from trail.scope import entries_visible_to

HISTORY_LENGTH = 10


class VersionViewMixin:
    model: ClassVar[type[AssetVersion]]
    page: ClassVar[str] = ""
    metadata_form_class: ClassVar[type[VersionMetadataForm]] = VersionMetadataForm

    def get_template_names(self) -> list[str]:
        return [f"registry/{self.model._meta.model_name}_{self.page}.html", f"registry/version_{self.page}.html"]

    @property
    def asset_model(self) -> type[Asset]:
        related: Any = self.model._meta.get_field(self.model.ASSET_FIELD).related_model
        return related  # type: ignore[no-any-return]

    def version_select(self) -> tuple[str, ...]:
        asset = self.model.ASSET_FIELD
        return (asset, f"{asset}__owner_team", "created_by")

    def kind_context(self, asset: Asset) -> dict[str, Any]:
        asset_key = url_key(self.asset_model)
        return {
            "kind": url_key(self.model),
            "asset_kind": asset_key,
            "asset": asset,
            "verbose_name": self.model._meta.verbose_name,
            "asset_verbose_name": self.asset_model._meta.verbose_name,
            "asset_verbose_name_plural": self.asset_model._meta.verbose_name_plural,
            "asset_list_url": reverse(f"registry:{asset_key}_list"),
        }


class VersionCreateView(VersionViewMixin, ActorView):
    page = "form"
    form_class: ClassVar[type[forms.BaseForm]]
    asset: Any

    def prepare(self) -> None:
        self.asset = self.visible(self.asset_model, "change", select=("owner_team",), uuid=self.kwargs["uuid"])

    def form_kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor}

    def get_form(self) -> Any:
        if self.request.method == "POST":
            return self.form_class(self.request.POST, self.request.FILES, **self.form_kwargs())
        return self.form_class(initial=self.get_initial(), **self.form_kwargs())

    def get_initial(self) -> dict[str, Any]:
        return {}

    def render_form(self, form: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(**self.kind_context(self.asset), form=form, cancel_url=detail_url(self.asset))
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form.is_valid():
            try:
                version = self.create(form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Version %(number)d of “%(asset)s” created.")
                    % {
                        "number": version.number,
                        "asset": self.asset,
                    },
                )
                return redirect(detail_url(version))
        return self.render_form(form)

    def create(self, form: Any) -> AssetVersion:
        raise NotImplementedError


class VersionDetailView(VersionViewMixin, ActorView):
    page = "detail"
    content_fields: ClassVar[tuple[str, ...]] = ()
    object: Any

    def prepare(self) -> None:
        self.object = self.visible(self.model, select=self.version_select(), uuid=self.kwargs["uuid"])

    def detail_context(self) -> dict[str, Any]:
        return {}

    def used_by(self) -> Any:
        """The AI systems (that the user can see) using this version."""
        field = {
            "datasetversion": "dataset_version",
            "modelversion": "model_version",
            "promptversion": "prompt_version",
        }
        name = field.get(self.model._meta.model_name or "")
        if name is None:
            return None
        return (
            SystemComponent.objects.visible_to(self.actor)
            .filter(**{name: self.object})
            .select_related("system")
            .order_by("system__name")
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        version = self.object
        can_change = allowed(self.actor, version, "change")
        context = self.get_context_data(
            **self.kind_context(version.asset),
            object=version,
            content_fields=self.content_fields,
            can_change=can_change,
            can_delete=allowed(self.actor, version, "delete"),
            metadata_form=self.metadata_form_class(version=version) if can_change else None,
            used_by=self.used_by(),
            panels=render_panels(request, version),
            history=entries_visible_to(request).filter(object_id=str(version.uuid)).order_by("-seq")[:HISTORY_LENGTH],
            **self.detail_context(),
        )
        return self.render_to_response(context)


class VersionEditView(VersionViewMixin, ActorView):
    """Edits the metadata of a version (its content is immutable)."""

    page = "edit"
    object: Any

    def get_template_names(self) -> list[str]:
        return ["registry/version_edit.html"]

    def prepare(self) -> None:
        self.object = self.visible(self.model, "change", select=self.version_select(), uuid=self.kwargs["uuid"])

    def render_form(self, form: VersionMetadataForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                **self.kind_context(self.object.asset),
                object=self.object,
                form=form,
                cancel_url=detail_url(self.object),
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.metadata_form_class(version=self.object))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.metadata_form_class(request.POST, version=self.object)
        if form.is_valid():
            try:
                do_update_version_metadata(self.object, actor=self.actor, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Changes to “%(name)s” saved.") % {"name": self.object})
                return redirect(detail_url(self.object))
        return self.render_form(form)


class VersionDeleteView(VersionViewMixin, ActorView):
    object: Any

    def get_template_names(self) -> list[str]:
        return ["registry/confirm_delete.html"]

    def prepare(self) -> None:
        self.object = self.visible(self.model, "delete", select=self.version_select(), uuid=self.kwargs["uuid"])

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(
                **self.kind_context(self.object.asset), object=self.object, cancel_url=detail_url(self.object)
            )
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        asset, name = self.object.asset, str(self.object)
        try:
            do_delete_version(self.object, actor=self.actor)
        except InUseError as exc:
            messages.error(request, exc.explanation)
            return redirect(detail_url(self.object))
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
        return redirect(detail_url(asset))
