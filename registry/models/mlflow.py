"""MLflow tracking servers Custodia imports from, and what links an imported object to its MLflow identity.

Imported assets and versions are ordinary registry objects; these links say where they came from,
hold what MLflow knows that the registry has no field for (run metrics, parameters, tags, aliases,
input datasets) and whether the object still exists upstream. Nothing here holds a secret: a
server names where its credentials are (environment variables or a secret file), never the values.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar, Self

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from access.models import Team
from access.querysets import RestrictedManager
from registry.choices import MlflowCredentialSource, MlflowSyncStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class MlflowServerQuerySet(models.QuerySet):
    def visible_to(self, who: Actor | AbstractBaseUser | AnonymousUser | None, action: str = "view") -> Self:
        """Administrators see and configure every server; a team sees the servers importing into it."""
        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may("view"):
            return self.none()
        if action != "view":
            return self if actor.sees_everything else self.none()
        if actor.sees_everything:
            return self
        return self.filter(owner_team__in=[team.pk for team in actor.teams()])


class MlflowServer(models.Model):
    """An MLflow tracking server to import from: where it is, its credentials' source, the owning team, last sync."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    tracking_uri = models.CharField(
        _("tracking URI"), max_length=500, help_text=_("The server's address, e.g. https://mlflow.example.org")
    )
    auth_source = models.CharField(
        _("credentials from"),
        max_length=10,
        choices=MlflowCredentialSource.choices,
        default=MlflowCredentialSource.NONE,
    )
    auth_name = models.CharField(
        _("credentials name"),
        max_length=200,
        blank=True,
        help_text=_(
            "Environment variables: their prefix, e.g. MLFLOW_PROD reads MLFLOW_PROD_TOKEN, or MLFLOW_PROD_USERNAME "
            "and MLFLOW_PROD_PASSWORD (empty: MLFLOW_TRACKING). Secret file: its name in the secrets folder; the "
            "file holds a token, or username:password."
        ),
    )
    owner_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("team that owns what is imported")
    )
    enabled = models.BooleanField(_("sync periodically"), default=True)
    write_back = models.BooleanField(
        _("write back to MLflow"),
        default=False,
        help_text=_("Set each imported model version's lifecycle stage and latest check verdicts as MLflow tags."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MlflowSyncStatus.choices, default=MlflowSyncStatus.NEVER, editable=False
    )
    status_message = models.TextField(_("status message"), blank=True, editable=False)
    sync_attempt = models.PositiveSmallIntegerField(_("attempt"), default=0, editable=False)
    sync_started_at = models.DateTimeField(_("last sync started"), null=True, blank=True, editable=False)
    sync_finished_at = models.DateTimeField(_("last sync finished"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True, editable=False)
    last_summary = models.JSONField(_("last sync summary"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MlflowServerQuerySet.as_manager()

    # What the configuration form and its audit-trail entries cover (the rest is sync state).
    CONFIG_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "tracking_uri",
        "auth_source",
        "auth_name",
        "owner_team",
        "enabled",
        "write_back",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("MLflow server")
        verbose_name_plural = _("MLflow servers")

    def __str__(self) -> str:
        return self.name

    @property
    def base_url(self) -> str:
        return self.tracking_uri.rstrip("/")

    @property
    def status_badge(self) -> str:
        """The badge style of the status (the check-run badges: green, amber, red, grey)."""
        badges: dict[str, str] = {
            MlflowSyncStatus.OK: "check-succeeded",
            MlflowSyncStatus.PARTIAL: "flag",
            MlflowSyncStatus.RUNNING: "check-running",
            MlflowSyncStatus.NEVER: "check-queued",
        }
        return badges.get(str(self.status), "check-failed")


class MlflowLinkBase(models.Model):
    """What every link to an MLflow object records: the server, upstream tags, and presence upstream."""

    server = models.ForeignKey(MlflowServer, on_delete=models.PROTECT, related_name="+", verbose_name=_("server"))
    name = models.CharField(_("MLflow name"), max_length=500)
    tags = models.JSONField(_("MLflow tags"), default=dict, blank=True)
    missing_upstream = models.BooleanField(_("missing upstream"), default=False, db_index=True)
    missing_since = models.DateTimeField(_("missing upstream since"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)
    # When a sync last changed something here (an unchanged object is not written again).
    synced_at = models.DateTimeField(_("last updated from MLflow"), default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        abstract = True


class MlflowModelLink(MlflowLinkBase):
    """The MLflow registered model a Custodia model was imported from, with its aliases and description."""

    model = models.OneToOneField(
        "registry.Model", on_delete=models.CASCADE, related_name="mlflow_link", verbose_name=_("model")
    )
    # As last seen upstream: a local edit stays until MLflow's own value changes.
    description = models.TextField(_("MLflow description"), blank=True)
    aliases = models.JSONField(_("aliases"), default=dict, blank=True)  # {"champion": 2}

    visibility_parent: ClassVar[str] = "model"

    class Meta:
        verbose_name = _("MLflow registered model")
        verbose_name_plural = _("MLflow registered models")
        constraints = [models.UniqueConstraint(fields=["server", "name"], name="mlflowmodellink_unique_name")]

    def __str__(self) -> str:
        return f"{self.server}: {self.name}"


class MlflowModelVersionLink(MlflowLinkBase):
    """An MLflow model version behind a Custodia model version: its source run, metrics, params and inputs."""

    model_version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="mlflow_link", verbose_name=_("model version")
    )
    version = models.PositiveIntegerField(_("MLflow version"))
    source = models.CharField(_("source"), max_length=1000, blank=True)
    status = models.CharField(_("MLflow status"), max_length=40, blank=True)
    description = models.TextField(_("MLflow description"), blank=True)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    created_upstream_at = models.DateTimeField(_("registered in MLflow"), null=True, blank=True)
    run_id = models.CharField(_("run id"), max_length=64, blank=True, db_index=True)
    experiment_id = models.CharField(_("experiment id"), max_length=64, blank=True)
    run_name = models.CharField(_("run name"), max_length=500, blank=True)
    run_status = models.CharField(_("run status"), max_length=20, blank=True)
    run_user = models.CharField(_("run by"), max_length=200, blank=True)
    run_started_at = models.DateTimeField(_("run started"), null=True, blank=True)
    run_ended_at = models.DateTimeField(_("run ended"), null=True, blank=True)
    run_missing = models.BooleanField(_("run missing upstream"), default=False)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    run_tags = models.JSONField(_("run tags"), default=dict, blank=True)
    # [{"name", "digest", "context", "source_type", "source", "sha256", "dataset_version", "label"}]
    datasets = models.JSONField(_("input datasets"), default=list, blank=True)
    # The custodia.* tags as last seen on (or written to) the MLflow version.
    written_tags = models.JSONField(_("tags written back"), default=dict, blank=True)

    visibility_parent: ClassVar[str] = "model_version"

    class Meta:
        verbose_name = _("MLflow model version")
        verbose_name_plural = _("MLflow model versions")
        constraints = [
            models.UniqueConstraint(fields=["server", "name", "version"], name="mlflowmodelversionlink_unique")
        ]

    def __str__(self) -> str:
        return f"{self.server}: {self.name} v{self.version}"


class MlflowPromptLink(MlflowLinkBase):
    """The prompt in MLflow's prompt registry that a Custodia prompt was imported from."""

    prompt = models.OneToOneField(
        "registry.Prompt", on_delete=models.CASCADE, related_name="mlflow_link", verbose_name=_("prompt")
    )
    description = models.TextField(_("MLflow description"), blank=True)
    aliases = models.JSONField(_("aliases"), default=dict, blank=True)

    visibility_parent: ClassVar[str] = "prompt"

    class Meta:
        verbose_name = _("MLflow prompt")
        verbose_name_plural = _("MLflow prompts")
        constraints = [models.UniqueConstraint(fields=["server", "name"], name="mlflowpromptlink_unique_name")]

    def __str__(self) -> str:
        return f"{self.server}: {self.name}"


class MlflowPromptVersionLink(MlflowLinkBase):
    """The MLflow prompt version behind a Custodia prompt version."""

    prompt_version = models.OneToOneField(
        "registry.PromptVersion",
        on_delete=models.CASCADE,
        related_name="mlflow_link",
        verbose_name=_("prompt version"),
    )
    version = models.PositiveIntegerField(_("MLflow version"))
    commit_message = models.TextField(_("commit message"), blank=True)
    created_upstream_at = models.DateTimeField(_("registered in MLflow"), null=True, blank=True)

    visibility_parent: ClassVar[str] = "prompt_version"

    class Meta:
        verbose_name = _("MLflow prompt version")
        verbose_name_plural = _("MLflow prompt versions")
        constraints = [
            models.UniqueConstraint(fields=["server", "name", "version"], name="mlflowpromptversionlink_unique")
        ]

    def __str__(self) -> str:
        return f"{self.server}: {self.name} v{self.version}"
