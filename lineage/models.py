"""The lineage store: raw OpenLineage events (append-only) and the graph derived from them.

The graph is a function of the *set* of events received, never of their arrival order: every
derived value is a min, a max or a union over events (run state and times from ``eventTime``,
facets keyed by the ``eventTime`` that set them, edges only ever added). Posting an event twice, or
late, or out of order, ends in the same graph.

Visibility follows the namespace: a namespace belongs to the team that first wrote to it, and
datasets, jobs, runs and raw events are visible to whoever may see their namespace.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.actors import Actor
from access.models import ApiToken, Team
from access.querysets import RestrictedManager, RestrictedQuerySet

# Long enough for real warehouse and object-store names; an index on it stays within limits.
NAME_LENGTH = 1000


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a stored raw event."""


class RunState(models.TextChoices):
    """Marquez's run states, derived from OpenLineage event types."""

    NEW = "NEW", _("New")
    RUNNING = "RUNNING", _("Running")
    COMPLETED = "COMPLETED", _("Completed")
    FAILED = "FAILED", _("Failed")
    ABORTED = "ABORTED", _("Aborted")


class Direction(models.TextChoices):
    INPUT = "in", _("input")
    OUTPUT = "out", _("output")


class EventKind(models.TextChoices):
    RUN = "run", _("run event")
    DATASET = "dataset", _("dataset event")
    JOB = "job", _("job event")


class LinkMethod(models.TextChoices):
    MANUAL = "manual", _("linked by hand")
    HASH = "hash", _("same content hash")


class NamespaceQuerySet(RestrictedQuerySet):
    def visible_to(self, who: Any, action: str = "view") -> Self:
        """A namespace is its owner team's: no per-object grants, so a team filter is the whole rule."""
        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may(action):
            return self.none()
        if actor.sees_everything:
            return self
        return self.filter(owner_team__in=[team.pk for team in actor.teams()])


class Namespace(models.Model):
    """An OpenLineage namespace (``postgres://db:5432``, ``s3://bucket``, ``airflow-prod``)."""

    name = models.CharField(_("name"), max_length=NAME_LENGTH, unique=True)
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner team"))
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("claimed"), default=timezone.now, editable=False)

    objects = models.Manager.from_queryset(NamespaceQuerySet)()

    class Meta:
        ordering = ["name"]
        verbose_name = _("lineage namespace")
        verbose_name_plural = _("lineage namespaces")

    def __str__(self) -> str:
        return self.name


class FacetedNode(models.Model):
    """Facets are additive: each facet name keeps the value of the latest ``eventTime`` seen."""

    facets = models.JSONField(_("facets"), default=dict, blank=True)
    # facet name -> ISO eventTime of the event whose value is kept (ties: the larger JSON text).
    facet_times = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_event_time = models.DateTimeField(_("last event time"), null=True, blank=True)

    class Meta:
        abstract = True


class LineageDataset(FacetedNode):
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(_("name"), max_length=NAME_LENGTH)
    # namespace + name as one URI (``s3://bucket/path``): what registry location URIs match.
    uri = models.CharField(_("URI"), max_length=2 * NAME_LENGTH + 1, db_index=True)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "namespace"

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = _("lineage dataset")
        verbose_name_plural = _("lineage datasets")
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="lineagedataset_unique")]

    def __str__(self) -> str:
        return f"{self.namespace.name}:{self.name}" if "namespace" in self._state.fields_cache else self.name

    @property
    def node_id(self) -> str:
        return f"dataset:{self.namespace.name}:{self.name}"

    @property
    def schema_fields(self) -> list[dict[str, Any]]:
        schema = self.facets.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


class Job(FacetedNode):
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="jobs")
    name = models.CharField(_("name"), max_length=NAME_LENGTH)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "namespace"

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="lineagejob_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def node_id(self) -> str:
        return f"job:{self.namespace.name}:{self.name}"

    @property
    def job_type(self) -> str:
        facet = self.facets.get("jobType")
        return str(facet.get("processingType", "")) if isinstance(facet, dict) else ""


class JobEdge(models.Model):
    """Static lineage: the job read (``in``) or wrote (``out``) the dataset in some event. Never removed."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="edges", db_index=False)
    dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="job_edges", db_index=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    first_event_time = models.DateTimeField(null=True, blank=True)
    # The namespaces of the job and of the dataset (which never change), copied here so that the
    # lineage walk filters by visibility from the edge indexes alone, without reading job and
    # dataset rows: on PostgreSQL each hop is an index-only scan (half the time on the bench store).
    job_namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+", db_index=False)
    dataset_namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "dataset", "direction"], name="jobedge_unique")]
        # Covering indexes (INCLUDE is PostgreSQL's; elsewhere they are plain indexes) for the walk's
        # two steps: dataset → its jobs, job → its datasets.
        indexes = [
            models.Index(fields=["dataset", "direction"], include=["job", "job_namespace"], name="jobedge_dataset_idx"),
            models.Index(fields=["job"], include=["dataset", "direction", "dataset_namespace"], name="jobedge_job_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} {self.direction} {self.dataset_id}"


class Run(FacetedNode):
    uuid = models.UUIDField(_("run id"), unique=True)
    # What the producer sent when it was not a UUID (mapped to a stable uuid5).
    original_id = models.CharField(_("original run id"), max_length=300, blank=True)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs")
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    state = models.CharField(_("state"), max_length=10, choices=RunState.choices, default=RunState.NEW)
    # eventTime of the event that decided the state (the latest terminal one, else the latest START/RUNNING).
    state_time = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    nominal_start_time = models.DateTimeField(null=True, blank=True)
    nominal_end_time = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "job"

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        indexes = [models.Index(fields=["job", "-started_at"], name="run_job_started_idx")]

    def __str__(self) -> str:
        return str(self.uuid)

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() * 1000)


class LineageDatasetVersion(models.Model):
    """What one run wrote to a dataset (or a version a DatasetEvent declared), with its schema then."""

    dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="versions")
    # "run:<uuid>" or "version:<datasetVersion facet>": one version per run that wrote the dataset.
    key = models.CharField(max_length=400)
    version = models.CharField(_("version"), max_length=300)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, null=True, blank=True, related_name="dataset_versions")
    facets = models.JSONField(_("facets"), default=dict, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "dataset"

    class Meta:
        ordering = ["-event_time", "-id"]
        verbose_name = _("lineage dataset version")
        verbose_name_plural = _("lineage dataset versions")
        constraints = [models.UniqueConstraint(fields=["dataset", "key"], name="lineagedatasetversion_unique")]

    def __str__(self) -> str:
        return self.version


class RunIO(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="io")
    dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="run_io")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    facets = models.JSONField(default=dict, blank=True)  # inputFacets / outputFacets

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "dataset", "direction"], name="runio_unique")]
        indexes = [models.Index(fields=["dataset", "direction"], name="runio_dataset_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.direction} {self.dataset_id}"


class ColumnLineage(models.Model):
    """One input field that feeds one output field (from the columnLineage dataset facet)."""

    output_dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="column_inputs")
    output_field = models.CharField(max_length=500)
    input_dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="column_outputs")
    input_field = models.CharField(max_length=500)
    transformations = models.JSONField(default=list, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["output_dataset", "output_field", "input_dataset", "input_field"], name="columnlineage_unique"
            )
        ]
        indexes = [models.Index(fields=["input_dataset", "input_field"], name="columnlineage_input_idx")]

    def __str__(self) -> str:
        return f"{self.input_field} → {self.output_field}"


class RawEventQuerySet(RestrictedQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Raw lineage events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Raw lineage events are append-only.")


class RawEvent(models.Model):
    """An event exactly as a producer sent it, stored once per content key, never changed."""

    content_key = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    event_type = models.CharField(max_length=10, blank=True)
    event_time = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="events")
    job_name = models.CharField(max_length=NAME_LENGTH, blank=True)
    dataset_name = models.CharField(max_length=NAME_LENGTH, blank=True)
    run_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    producer = models.CharField(max_length=500, blank=True)
    schema_url = models.CharField(max_length=500, blank=True)
    spec_version = models.CharField(max_length=10, blank=True)
    payload = models.JSONField()
    warnings = models.JSONField(default=list, blank=True)
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = models.Manager.from_queryset(RawEventQuerySet)()
    visibility_parent: ClassVar[str] = "namespace"

    class Meta:
        ordering = ["-event_time", "-id"]
        verbose_name = _("raw lineage event")
        verbose_name_plural = _("raw lineage events")

    def __str__(self) -> str:
        return (
            f"{self.event_type or self.kind} {self.job_name or self.dataset_name} @ {self.event_time:%Y-%m-%d %H:%M:%S}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Raw lineage events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Raw lineage events are append-only.")


class RegistryLink(models.Model):
    """An explicit link from a lineage dataset to a registered dataset or model version.

    Links by location URI (a registered dataset version's ``uri`` or a model version's
    ``artifact_uri`` equal to the lineage dataset's URI) are not stored: they are a join, so they
    hold whichever side is registered first.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(LineageDataset, on_delete=models.CASCADE, related_name="registry_links")
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.CASCADE, null=True, blank=True, related_name="lineage_links"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, null=True, blank=True, related_name="lineage_links"
    )
    method = models.CharField(max_length=10, choices=LinkMethod.choices, default=LinkMethod.MANUAL)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedManager()
    visibility_parent: ClassVar[str] = "dataset"

    class Meta:
        verbose_name = _("registry link")
        verbose_name_plural = _("registry links")
        constraints = [
            models.CheckConstraint(
                name="registrylink_exactly_one_target",
                condition=(
                    models.Q(dataset_version__isnull=False, model_version__isnull=True)
                    | models.Q(dataset_version__isnull=True, model_version__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["dataset", "dataset_version"], name="registrylink_unique_dataset_version"),
            models.UniqueConstraint(fields=["dataset", "model_version"], name="registrylink_unique_model_version"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} ↔ {self.dataset_version_id or self.model_version_id}"


def dataset_uri(namespace: str, name: str) -> str:
    """The location URI of an OpenLineage dataset, following the spec's naming conventions."""
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    if namespace == "file":
        return f"file://{name}" if name.startswith("/") else f"file:///{name}"
    return f"{namespace}/{name}"
