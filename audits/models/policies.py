from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from audits.choices import CheckKind
from audits.models.targets import ParentManager


class PolicyQuerySet(models.QuerySet):
    def visible_to(self, who: Any, action: str = "view") -> Self:
        """Organisation defaults are visible to every signed-in role; a system's policy with the system."""
        from registry.models import AISystem

        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may(action):
            return self.none()
        if actor.sees_everything:
            return self
        return self.filter(Q(system__isnull=True) | Q(system__in=AISystem.objects.visible_to(actor).values("pk")))


class PolicyManager(models.Manager.from_queryset(PolicyQuerySet)):  # type: ignore[misc]
    pass


class Policy(models.Model):
    """What checks of one kind are judged against: the organisation default, or one AI system's."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("check"), max_length=20, choices=CheckKind.choices)
    system = models.ForeignKey(
        "registry.AISystem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("AI system"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = PolicyManager()

    class Meta:
        ordering = ["kind", "system__name"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.UniqueConstraint(fields=["kind", "system"], name="policy_unique_per_system"),
            models.UniqueConstraint(fields=["kind"], condition=Q(system__isnull=True), name="policy_one_default"),
        ]

    def __str__(self) -> str:
        scope = self.system.name if self.system is not None else _("organisation default")
        return f"{self.get_kind_display()} — {scope}"

    @property
    def current(self) -> PolicyVersion | None:
        return self.versions.order_by("-number").first()


class PolicyVersion(models.Model):
    """One immutable setting of a policy; every verdict records the version it was judged by."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    thresholds = models.JSONField(_("thresholds"), default=dict)
    rerun_every_days = models.PositiveIntegerField(_("re-run every (days)"), null=True, blank=True)
    note = models.TextField(_("reason for the change"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "policy"

    class Meta:
        ordering = ["policy_id", "-number"]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policyversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"


class ApprovalException(models.Model):
    """A compliance officer's recorded decision to let a model version be approved despite its checks."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="+", verbose_name=_("model version")
    )
    justification = models.TextField(_("justification"))
    expires_on = models.DateField(_("expires on"))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ParentManager()
    visibility_parent: ClassVar[str] = "model_version"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("approval exception")
        verbose_name_plural = _("approval exceptions")

    def __str__(self) -> str:
        return f"{self.model_version} (→ {self.expires_on})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_on >= timezone.localdate()
