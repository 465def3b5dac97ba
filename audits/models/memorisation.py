from __future__ import annotations

import uuid
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.models.targets import ParentManager


class IndexState(models.TextChoices):
    BUILDING = "building", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class MemorisationIndex(models.Model):
    """The n-token window index of one dataset version's text, built once by a worker and reused.

    The files live under ``VAR_DIR/memorisation`` on the worker that built them; a worker that does
    not find them (another host, a wiped disk) builds them again. ``info`` holds the build's figures.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.CASCADE, related_name="+", verbose_name=_("dataset version")
    )
    # Which text of the file is indexed: a JSON Lines field or a CSV column; empty for plain text.
    text_field = models.CharField(_("text field"), max_length=200, blank=True)
    window_tokens = models.PositiveIntegerField(_("window (tokens)"))
    tokenizer = models.CharField(_("tokenizer"), max_length=50)
    state = models.CharField(_("state"), max_length=20, choices=IndexState.choices, default=IndexState.BUILDING)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    info = models.JSONField(_("figures"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "dataset_version"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("memorisation index")
        verbose_name_plural = _("memorisation indexes")
        constraints = [
            models.UniqueConstraint(
                fields=["dataset_version", "text_field", "window_tokens", "tokenizer"],
                name="memorisationindex_unique_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_version} — {self.window_tokens}-token windows"

    @property
    def directory(self) -> Path:
        return Path(settings.VAR_DIR) / "memorisation" / str(self.uuid)


class Canary(models.Model):
    """A string planted in a model version's fine-tuning data; finding it in the model's outputs is a failure.

    Canaries are fictitious by design (a made-up NIF or IBAN), so the value itself is kept; pages
    and findings still show it masked, like any identifier.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="canaries", verbose_name=_("model version")
    )
    value = models.CharField(_("planted string"), max_length=500)
    label = models.CharField(_("label"), max_length=200, blank=True, help_text=_("e.g. fake NIF in the FAQ set"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("registered by"), max_length=200)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "model_version"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("canary")
        verbose_name_plural = _("canaries")
        constraints = [models.UniqueConstraint(fields=["model_version", "value"], name="canary_unique_value")]

    def __str__(self) -> str:
        return self.label or str(_("canary"))
