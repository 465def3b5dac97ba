"""Serializer fields that reference other objects by public id, within what the requester may see.

A reference to an object the requester cannot see is answered exactly like one to an object that
does not exist (400 "Object … does not exist"), so the API never confirms that it exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.actors import Actor


def request_actor(field: serializers.Field) -> Actor:
    request = field.context.get("request")
    return Actor.from_request(request) if request is not None else Actor()


@extend_schema_field(OpenApiTypes.UUID)
class VisibleRelatedField(serializers.SlugRelatedField):
    """A related object by ``uuid``, looked up only among the objects the requester may see."""

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.related_model = model
        if not kwargs.get("read_only"):
            # The real queryset depends on the request; see get_queryset.
            kwargs["queryset"] = model._default_manager.none()
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        manager: Any = self.related_model._default_manager
        return manager.visible_to(request_actor(self), "view")  # type: ignore[no-any-return]

    def to_representation(self, obj: Any) -> str:
        return str(obj.uuid)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, uuid.UUID):
            data = str(data)
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            uuid.UUID(data)
        except ValueError:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class TeamMemberField(serializers.SlugRelatedField):
    """A user by username, among the members of the requester's teams."""

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("read_only"):
            kwargs["queryset"] = get_user_model()._default_manager.none()
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        teams = request_actor(self).teams()
        users = get_user_model()._default_manager.filter(is_active=True)
        return users.filter(groups__team__in=[team.pk for team in teams]).distinct()

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TagListField(serializers.ListField):
    """Tags by name on input (created on first use); their slugs on output."""

    child = serializers.CharField(max_length=60)

    def to_representation(self, data: Any) -> list[str]:
        # ``data`` is the related manager; .all() uses the viewset's prefetch.
        return [tag.slug for tag in data.all()]
