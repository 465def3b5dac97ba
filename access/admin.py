"""Django admin for teams, roles and API tokens; every change goes through access.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from access.actors import Actor
from access.models import ApiToken, Profile, Team
from access.services import do_create_team, do_revoke_api_token, do_set_role


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams are created here (audited); their members are managed on the users' groups."""

    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    fields = ("slug", "name", "description")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        team = do_create_team(
            actor=Actor(user=request.user),
            slug=form.cleaned_data["slug"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data.get("description", ""),
        )
        obj.pk = team.pk
        obj.uuid = team.uuid
        obj.group = team.group
        obj._state.adding = False
        obj._state.db = team._state.db


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """A user's Custodia role; set through do_set_role so that the change is audited."""

    list_display = ("user", "role")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("user",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Profile, form: Any, change: bool) -> None:
        profile = do_set_role(actor=Actor(user=request.user), user=obj.user, role=form.cleaned_data["role"])
        obj.pk = profile.pk
        obj._state.adding = False
        obj._state.db = profile._state.db


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by their owners (UI, API, create_api_token); the admin can only revoke them."""

    list_display = ("name", "prefix", "team", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "team")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("team", "user")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = Actor(user=request.user)
        for token in queryset:
            do_revoke_api_token(actor=actor, token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.", messages.SUCCESS)
