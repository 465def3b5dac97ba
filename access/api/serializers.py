"""Serializers for teams and API tokens, and the strictness every API serializer shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.actors import Actor
from access.choices import TokenScope
from access.models import ApiToken, Team


class RejectUnknownFieldsMixin:
    """Refuses keys the serializer does not know, so a misspelt field is an error, not ignored."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ("uuid", "slug", "name", "description")
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.STR)
class OwnTeamField(serializers.SlugRelatedField):
    """A team by slug, among the requester's own teams."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Team.objects.none(), **kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        actor = Actor.from_request(request) if request is not None else Actor()
        return Team.objects.filter(pk__in=[team.pk for team in actor.teams()])

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its key or hash, only the prefix that identifies it."""

    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = (
            "uuid",
            "name",
            "team",
            "user",
            "scope",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        )
        read_only_fields: tuple[str, ...] = fields


class ApiTokenCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=120)
    team = OwnTeamField()
    scope = serializers.ChoiceField(choices=TokenScope.choices, default=TokenScope.READ)


class IssuedApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret key. It is shown only in this response.")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "key")
        read_only_fields = fields
