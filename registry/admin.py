"""Django admin for the registry.

Every change made here goes through the same service functions as the UI and the API, so it is
checked against the user's role and teams and recorded in the audit trail. Versions are
immutable and therefore read-only; components, aliases and lifecycle moves have their own
services and are shown, not edited.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from access.actors import Actor
from registry.models import (
    AISystem,
    Asset,
    Dataset,
    DatasetVersion,
    GeneratorVersion,
    MlflowServer,
    Model,
    ModelVersion,
    Prompt,
    PromptAlias,
    PromptVersion,
    StageChange,
    SyntheticGenerator,
    SystemComponent,
    Tag,
)
from registry.services import do_create_asset, do_delete_asset, do_update_asset


class ReadOnlyMixin:
    """Shown but never written through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VisibleOnlyMixin:
    """The admin lists only what the user may see, like every other view."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        return qs.visible_to(Actor(user=request.user))  # type: ignore[no-any-return]


class AssetAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    """Create, edit and delete assets through the registry services (audited, scope-checked)."""

    list_display: Any = ("name", "owner_team", "owner", "created_at")
    list_filter: ClassVar[tuple[str, ...]] = ("owner_team",)
    search_fields: ClassVar[tuple[str, ...]] = ("name", "description")
    readonly_fields: ClassVar[tuple[str, ...]] = ("uuid", "created_at", "created_by", "updated_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [*self.model.EDITABLE_FIELDS, "tags"]
        return fields + list(self.readonly_fields) if obj is not None else fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("owner_team", "owner")

    def save_model(self, request: HttpRequest, obj: Asset, form: Any, change: bool) -> None:
        actor = Actor(user=request.user)
        editable = type(obj).EDITABLE_FIELDS
        tags = [tag.slug for tag in form.cleaned_data.get("tags", [])]
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
            saved = do_update_asset(obj, actor=actor, data=data, tags=tags if "tags" in form.changed_data else None)
        else:
            data = {name: form.cleaned_data[name] for name in editable if name in form.cleaned_data}
            saved = do_create_asset(type(obj), actor=actor, data=data, tags=tags)
        # The admin goes on with its own instance (messages, redirect, its change log).
        obj.pk = saved.pk
        obj.uuid = saved.uuid
        obj._state.adding = False
        obj._state.db = saved._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Tags were saved by the service with the asset; form.save_m2m() would bypass the trail.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Asset) -> None:
        do_delete_asset(obj, actor=Actor(user=request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        actor = Actor(user=request.user)
        for obj in queryset:
            do_delete_asset(obj, actor=actor)


class VersionInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = True
    fields: ClassVar[tuple[str, ...]] = ("number", "description", "created_at", "created_by")
    readonly_fields: ClassVar[tuple[str, ...]] = fields


class DatasetVersionInline(VersionInline):
    model = DatasetVersion
    fields = ("number", "origin", "contains_personal_data", "row_count", "sha256", "created_at")
    readonly_fields = fields


class GeneratorVersionInline(VersionInline):
    model = GeneratorVersion
    fields = ("number", "method", "software", "created_at")
    readonly_fields = fields


class ModelVersionInline(VersionInline):
    model = ModelVersion
    fields = ("number", "label", "stage", "approved_by", "approved_at", "created_at")
    readonly_fields = fields


class PromptVersionInline(VersionInline):
    model = PromptVersion
    fields = ("number", "commit_message", "created_at", "created_by")
    readonly_fields = fields


class SystemComponentInline(ReadOnlyMixin, admin.TabularInline):
    model = SystemComponent
    extra = 0
    fields = ("role", "dataset_version", "model_version", "prompt_version", "notes")
    readonly_fields = fields


@admin.register(AISystem)
class AISystemAdmin(AssetAdmin):
    list_display = ("name", "owner_team", "risk_class", "status", "general_purpose_ai", "created_at")
    list_filter = ("risk_class", "status", "general_purpose_ai", "owner_team")
    search_fields = ("name", "description", "purpose")
    inlines = (SystemComponentInline,)


@admin.register(Dataset)
class DatasetAdmin(AssetAdmin):
    inlines = (DatasetVersionInline,)


@admin.register(SyntheticGenerator)
class SyntheticGeneratorAdmin(AssetAdmin):
    inlines = (GeneratorVersionInline,)


@admin.register(Model)
class ModelAdmin(AssetAdmin):
    list_display = ("name", "provider", "owner_team", "created_at")
    inlines = (ModelVersionInline,)


@admin.register(Prompt)
class PromptAdmin(AssetAdmin):
    inlines = (PromptVersionInline,)


class VersionAdmin(ReadOnlyMixin, VisibleOnlyMixin, admin.ModelAdmin):
    """Versions are immutable: the admin shows them; new versions come from the UI, API or commands."""

    list_display: Any = ("__str__", "number", "created_at", "created_by")
    date_hierarchy = "created_at"


@admin.register(DatasetVersion)
class DatasetVersionAdmin(VersionAdmin):
    list_display = ("__str__", "origin", "contains_personal_data", "row_count", "created_at")
    list_filter = ("origin", "contains_personal_data", "format")
    search_fields = ("dataset__name", "uri", "sha256")
    list_select_related = ("dataset",)


@admin.register(GeneratorVersion)
class GeneratorVersionAdmin(VersionAdmin):
    list_display = ("__str__", "method", "software", "created_at")
    list_filter = ("method",)
    search_fields = ("generator__name",)
    list_select_related = ("generator",)


@admin.register(ModelVersion)
class ModelVersionAdmin(VersionAdmin):
    list_display = ("__str__", "stage", "license", "approved_by", "approved_at", "created_at")
    list_filter = ("stage", "modality")
    search_fields = ("model__name", "label", "base_model", "artifact_uri")
    list_select_related = ("model", "approved_by")


@admin.register(PromptVersion)
class PromptVersionAdmin(VersionAdmin):
    list_display = ("__str__", "commit_message", "created_at", "created_by")
    search_fields = ("prompt__name", "commit_message", "template")
    list_select_related = ("prompt", "created_by")


@admin.register(PromptAlias)
class PromptAliasAdmin(ReadOnlyMixin, VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ("prompt", "name", "version")
    list_select_related = ("prompt", "version__prompt")


@admin.register(SystemComponent)
class SystemComponentAdmin(ReadOnlyMixin, VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ("system", "role", "dataset_version", "model_version", "prompt_version")
    list_filter = ("role",)
    list_select_related = ("system", "dataset_version__dataset", "model_version__model", "prompt_version__prompt")


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyMixin, VisibleOnlyMixin, admin.ModelAdmin):
    list_display = ("model_version", "from_stage", "to_stage", "actor_label", "occurred_at")
    list_filter = ("to_stage",)
    list_select_related = ("model_version__model",)


@admin.register(Tag)
class TagAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")


@admin.register(MlflowServer)
class MlflowServerAdmin(ReadOnlyMixin, VisibleOnlyMixin, admin.ModelAdmin):
    """Configured on the MLflow servers settings pages (through their audited services); shown here."""

    list_display = ("name", "tracking_uri", "owner_team", "enabled", "write_back", "status", "sync_finished_at")
    list_filter = ("status", "enabled", "write_back")
    list_select_related = ("owner_team",)
