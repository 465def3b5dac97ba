"""Impact analysis and registry-aware lineage: what depends on a dataset version, what a version came from.

Two kinds of dependency are followed together, transitively:

* the registry's own records — a model version's training data and its fine-tuning parent, a
  generator version's training data and the synthetic dataset versions it produced, an AI
  system's components;
* lineage — a registered dataset version is the lineage dataset at its location URI (or one
  linked to it by hand); whatever jobs downstream of it wrote is, when it is registered (a
  dataset version at that URI, a model version whose artifact is there, or a manual link),
  another registered version that depends on it.

Everything is filtered by what the actor may see; invisible objects are not walked through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from access.actors import Actor
from lineage.graph import visible_namespace_ids, walk_datasets
from lineage.models import Job, LineageDataset, RegistryLink
from registry.models import AISystem, DatasetVersion, GeneratorVersion, ModelVersion, SystemComponent

MAX_ROUNDS = 50


@dataclass
class Impact:
    dataset_versions: list[DatasetVersion] = field(default_factory=list)
    model_versions: list[ModelVersion] = field(default_factory=list)
    generator_versions: list[GeneratorVersion] = field(default_factory=list)
    systems: list[AISystem] = field(default_factory=list)
    lineage_datasets: list[LineageDataset] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.dataset_versions or self.model_versions or self.generator_versions or self.systems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "datasetVersions": [
                {"uuid": str(v.uuid), "dataset": v.dataset.name, "number": v.number, "uri": v.uri}
                for v in self.dataset_versions
            ],
            "modelVersions": [
                {"uuid": str(v.uuid), "model": v.model.name, "number": v.number, "stage": v.stage}
                for v in self.model_versions
            ],
            "generatorVersions": [
                {"uuid": str(v.uuid), "generator": v.generator.name, "number": v.number}
                for v in self.generator_versions
            ],
            "aiSystems": [{"uuid": str(s.uuid), "name": s.name, "riskClass": s.risk_class} for s in self.systems],
            "lineageDatasets": [f"dataset:{d.namespace.name}:{d.name}" for d in self.lineage_datasets],
            "jobs": [f"job:{j.namespace.name}:{j.name}" for j in self.jobs],
        }


def lineage_datasets_for(
    *,
    dataset_versions: Sequence[DatasetVersion] = (),
    model_versions: Sequence[ModelVersion] = (),
    actor: Actor,
) -> set[int]:
    """The lineage datasets that are these registered versions (same URI, or linked by hand)."""
    uris = {v.uri for v in dataset_versions if v.uri} | {v.artifact_uri for v in model_versions if v.artifact_uri}
    query = Q(uri__in=uris) if uris else Q(pk__in=[])
    query |= Q(registry_links__dataset_version__in=[v.pk for v in dataset_versions])
    query |= Q(registry_links__model_version__in=[v.pk for v in model_versions])
    return set(LineageDataset.objects.visible_to(actor).filter(query).values_list("pk", flat=True))


def registered_versions_at(dataset_ids: set[int], actor: Actor) -> tuple[set[int], set[int]]:
    """The registered dataset and model versions that these lineage datasets are."""
    if not dataset_ids:
        return set(), set()
    uris = set(LineageDataset.objects.filter(pk__in=dataset_ids).values_list("uri", flat=True))
    links = RegistryLink.objects.filter(dataset_id__in=dataset_ids)
    linked_dv = {pk for pk in links.values_list("dataset_version_id", flat=True) if pk}
    linked_mv = {pk for pk in links.values_list("model_version_id", flat=True) if pk}
    dvs = DatasetVersion.objects.visible_to(actor).filter(Q(uri__in=uris) | Q(pk__in=linked_dv))
    mvs = ModelVersion.objects.visible_to(actor).filter(Q(artifact_uri__in=uris - {""}) | Q(pk__in=linked_mv))
    return set(dvs.values_list("pk", flat=True)), set(mvs.values_list("pk", flat=True))


def downstream_impact(
    actor: Actor, *, dataset_version: DatasetVersion | None = None, model_version: ModelVersion | None = None
) -> Impact:
    """Every dataset, generator and model version and AI system that depends on the start, transitively."""
    visible = visible_namespace_ids(actor)
    seen_dv: set[int] = set()
    seen_mv: set[int] = set()
    seen_gv: set[int] = set()
    seen_ld: set[int] = set()
    seen_jobs: set[int] = set()
    todo_dv = {dataset_version.pk} if dataset_version else set()
    todo_mv = {model_version.pk} if model_version else set()
    start_dv, start_mv = set(todo_dv), set(todo_mv)
    for _round in range(MAX_ROUNDS):
        if not (todo_dv or todo_mv):
            break
        seen_dv |= todo_dv
        seen_mv |= todo_mv
        dvs = list(DatasetVersion.objects.filter(pk__in=todo_dv))
        mvs = list(ModelVersion.objects.filter(pk__in=todo_mv))
        new_dv: set[int] = set()
        new_mv: set[int] = set()
        # Registry records.
        new_mv |= set(
            ModelVersion.objects.visible_to(actor)
            .filter(Q(training_datasets__in=todo_dv) | Q(fine_tuned_from__in=todo_mv))
            .values_list("pk", flat=True)
        )
        generators = (
            set(
                GeneratorVersion.objects.visible_to(actor)
                .filter(training_datasets__in=todo_dv)
                .values_list("pk", flat=True)
            )
            - seen_gv
        )
        seen_gv |= generators
        new_dv |= set(
            DatasetVersion.objects.visible_to(actor)
            .filter(generator_version__in=generators)
            .values_list("pk", flat=True)
        )
        # Lineage.
        start = lineage_datasets_for(dataset_versions=dvs, model_versions=mvs, actor=actor)
        seen_ld |= start
        reached, jobs = walk_datasets(start, "out", visible)
        seen_ld |= reached
        seen_jobs |= jobs
        lineage_dv, lineage_mv = registered_versions_at(reached, actor)
        new_dv |= lineage_dv
        new_mv |= lineage_mv
        todo_dv = new_dv - seen_dv
        todo_mv = new_mv - seen_mv
    systems = AISystem.objects.visible_to(actor).filter(
        pk__in=SystemComponent.objects.filter(Q(dataset_version__in=seen_dv) | Q(model_version__in=seen_mv)).values(
            "system_id"
        )
    )
    return Impact(
        dataset_versions=list(
            DatasetVersion.objects.filter(pk__in=seen_dv - start_dv)
            .select_related("dataset")
            .order_by("dataset__name", "number")
        ),
        model_versions=list(
            ModelVersion.objects.filter(pk__in=seen_mv - start_mv)
            .select_related("model")
            .order_by("model__name", "number")
        ),
        generator_versions=list(
            GeneratorVersion.objects.filter(pk__in=seen_gv)
            .select_related("generator")
            .order_by("generator__name", "number")
        ),
        systems=list(systems.order_by("name")),
        lineage_datasets=list(
            LineageDataset.objects.filter(pk__in=seen_ld)
            .select_related("namespace")
            .order_by("namespace__name", "name")
        ),
        jobs=list(Job.objects.filter(pk__in=seen_jobs).select_related("namespace").order_by("namespace__name", "name")),
    )


@dataclass
class VersionLineage:
    """A registered version's place in lineage: the lineage datasets it is, and what is up/downstream."""

    nodes: list[LineageDataset]
    upstream: list[LineageDataset]
    downstream: list[LineageDataset]
    upstream_jobs: list[Job]
    downstream_jobs: list[Job]


def version_lineage(
    actor: Actor, *, dataset_version: DatasetVersion | None = None, model_version: ModelVersion | None = None
) -> VersionLineage:
    visible = visible_namespace_ids(actor)
    start = lineage_datasets_for(
        dataset_versions=[dataset_version] if dataset_version else [],
        model_versions=[model_version] if model_version else [],
        actor=actor,
    )
    up, up_jobs = walk_datasets(start, "in", visible)
    down, down_jobs = walk_datasets(start, "out", visible)

    def datasets(ids: set[int]) -> list[LineageDataset]:
        return list(
            LineageDataset.objects.filter(pk__in=ids).select_related("namespace").order_by("namespace__name", "name")
        )

    def jobs(ids: set[int]) -> list[Job]:
        return list(Job.objects.filter(pk__in=ids).select_related("namespace").order_by("namespace__name", "name"))

    return VersionLineage(datasets(start), datasets(up), datasets(down), jobs(up_jobs), jobs(down_jobs))
