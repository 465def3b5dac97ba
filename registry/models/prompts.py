from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from access.querysets import RestrictedManager
from registry.models.base import Asset, AssetVersion


class Prompt(Asset):
    """A prompt (system prompt or template) whose wording is versioned like code."""

    class Meta(Asset.Meta):
        verbose_name = _("prompt")
        verbose_name_plural = _("prompts")
        constraints = [models.UniqueConstraint(fields=["owner_team", "name"], name="prompt_unique_name_per_team")]


class PromptVersion(AssetVersion):
    """One immutable prompt text with its variables, model settings and commit message."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions", verbose_name=_("prompt"))
    template = models.TextField(_("template"))
    variables = models.JSONField(_("variables"), default=list, editable=False)
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prompt_versions",
        verbose_name=_("model version"),
    )
    model_settings = models.JSONField(_("model settings"), default=dict, blank=True)
    commit_message = models.CharField(_("commit message"), max_length=500)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )

    ASSET_FIELD: ClassVar[str] = "prompt"
    visibility_parent: ClassVar[str] = "prompt"

    class Meta:
        ordering = ["prompt_id", "-number"]
        verbose_name = _("prompt version")
        verbose_name_plural = _("prompt versions")
        constraints = [models.UniqueConstraint(fields=["prompt", "number"], name="promptversion_unique_number")]


class PromptAlias(models.Model):
    """A movable name (``production``, ``staging``) pointing at one version of a prompt."""

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="aliases")
    name = models.SlugField(_("alias"), max_length=60)
    version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, related_name="aliases")

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "prompt"

    class Meta:
        ordering = ["name"]
        verbose_name = _("prompt alias")
        verbose_name_plural = _("prompt aliases")
        constraints = [models.UniqueConstraint(fields=["prompt", "name"], name="promptalias_unique_name")]

    def __str__(self) -> str:
        return f"{self.prompt}@{self.name}"
