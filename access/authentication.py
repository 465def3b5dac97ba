from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from access.hashing import TOKEN_PREFIX, hash_token_key
from access.models import ApiToken

# Recording last use on every request would turn each read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cus_…`` for pipelines; the token acts for its team and scope."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2 or not parts[1].startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed(_("Malformed bearer token."))
        return self.authenticate_key(parts[1])

    def authenticate_key(self, key: str) -> tuple[Any, ApiToken]:
        # One query: whether the owner still belongs to the token's team comes with the token
        # (every pipeline request pays for this; two queries cost twice the time).
        membership = User.groups.through.objects.filter(
            user_id=OuterRef("user_id"), group_id=OuterRef("team__group_id")
        )
        try:
            token = (
                ApiToken.objects.select_related("team__group", "user__profile")
                .annotate(owner_in_team=Exists(membership))
                .get(key_hash=hash_token_key(key))
            )
        except ApiToken.DoesNotExist:
            token = None
        if token is None or not token.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        user = token.user
        if not user.is_active or not token.owner_in_team:
            raise exceptions.AuthenticationFailed(_("The token's owner no longer belongs to its team."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
