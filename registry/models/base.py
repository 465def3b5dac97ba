"""What every registered asset and every immutable version have in common."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Team
from access.querysets import RestrictedManager


class ImmutableVersionError(Exception):
    """Raised when code tries to change a content field of a saved version."""


class Tag(models.Model):
    """A free label that groups assets across kinds (e.g. "customer-data", "gdpr")."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """A registered thing with an owning team; its versions hold the immutable content."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner team"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accountable owner"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = RestrictedManager()

    # Fields an edit may change (the rest are set at creation or by dedicated services).
    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = ("name", "description", "owner_team", "owner")

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssetVersion(models.Model):
    """A numbered, immutable snapshot of an asset; only METADATA_FIELDS may change later."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveIntegerField(_("version"), editable=False)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = RestrictedManager()

    ASSET_FIELD: ClassVar[str] = ""
    METADATA_FIELDS: ClassVar[frozenset[str]] = frozenset({"description"})

    class Meta:
        abstract = True

    @property
    def asset(self) -> Any:
        return getattr(self, self.ASSET_FIELD)

    def __str__(self) -> str:
        return f"{self.asset} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.METADATA_FIELDS:
                raise ImmutableVersionError(
                    f"{self._meta.verbose_name} {self} is immutable; only {sorted(self.METADATA_FIELDS)} may change."
                )
        super().save(*args, **kwargs)
