"""The requester's teams and API tokens."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.actors import Actor
from access.api import serializers as s
from access.models import ApiToken, Team
from access.services import do_create_api_token, do_revoke_api_token, tokens_visible_to


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """The teams whose assets the requester may act on (a token: only its own team)."""

    serializer_class = s.TeamSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Team]:
        if getattr(self, "swagger_fake_view", False):
            return Team.objects.none()
        return Team.objects.filter(pk__in=[team.pk for team in Actor.from_request(self.request).teams()])


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API tokens (administrators see everyone's). The key is shown once, when it is created.

    Deleting a token revokes it: it stops working at once but stays listed, for the record.
    """

    serializer_class = s.ApiTokenSerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    @cached_property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return tokens_visible_to(self.actor)

    def get_serializer_class(self) -> Any:
        return s.ApiTokenCreateSerializer if self.action == "create" else s.ApiTokenSerializer

    @extend_schema(request=s.ApiTokenCreateSerializer, responses={201: s.IssuedApiTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        issued = do_create_api_token(actor=self.actor, **body.validated_data)
        data = {**s.ApiTokenSerializer(issued.token).data, "key": issued.key}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        do_revoke_api_token(actor=self.actor, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, uuid: str | None = None) -> Response:
        token = do_revoke_api_token(actor=self.actor, token=self.get_object())
        return Response(s.ApiTokenSerializer(token).data)
