"""Marquez-shaped representations of the lineage store (namespaces, datasets, jobs, runs, events).

Each serializer turns a model instance into Marquez's dict (``lineage.graph`` builds the parts the
graph endpoint shares) and then through its declared fields, so the OpenAPI schema is exactly what
is sent. Related rows come from the view's prefetches and the serializer context, never per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from lineage import graph
from lineage.graph import NodeNotFound, resolve_node
from lineage.models import (
    Direction,
    Job,
    LineageDataset,
    LineageDatasetVersion,
    LinkMethod,
    Namespace,
    RawEvent,
    RegistryLink,
    Run,
    RunState,
)
from registry.api.fields import VisibleRelatedField, request_actor
from registry.models import DatasetVersion, ModelVersion

URI_METHOD = "uri"  # a link that is a join on the location URI, not a stored RegistryLink


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# Shared parts


class NodeRefSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    name = serializers.CharField()


class FieldSerializer(serializers.Serializer):
    """One column of a schema facet (extra keys such as ``description`` or nested ``fields`` pass through)."""

    name = serializers.CharField()
    type = serializers.CharField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return dict(instance) if isinstance(instance, dict) else {"name": str(instance)}


# Namespaces


class NamespaceSerializer(serializers.Serializer):
    name = serializers.CharField()
    ownerTeam = serializers.CharField(help_text="Slug of the team that owns the namespace.")
    ownerName = serializers.CharField(help_text="Marquez's name for the owner (the team).")
    createdAt = serializers.DateTimeField()
    description = serializers.CharField(allow_blank=True)

    def to_representation(self, instance: Namespace) -> Any:
        slug = instance.owner_team.slug
        data = {
            "name": instance.name,
            "ownerTeam": slug,
            "ownerName": slug,
            "createdAt": iso(instance.created_at),
            "description": instance.description,
        }
        return super().to_representation(data)


# Registry links


class RegistryAssetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class RegistryTargetSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The registered version.")
    asset = RegistryAssetSerializer()
    version = serializers.IntegerField()
    uri = serializers.CharField(allow_blank=True)


def dataset_version_target(version: DatasetVersion) -> dict[str, Any]:
    return {
        "id": str(version.uuid),
        "asset": {"id": str(version.dataset.uuid), "name": version.dataset.name},
        "version": version.number,
        "uri": version.uri,
    }


def model_version_target(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": str(version.uuid),
        "asset": {"id": str(version.model.uuid), "name": version.model.name},
        "version": version.number,
        "uri": version.artifact_uri,
    }


def link_data(link: RegistryLink) -> dict[str, Any]:
    return {
        "id": str(link.uuid),
        "method": link.method,
        "dataset": link.dataset.node_id,
        "datasetVersion": dataset_version_target(link.dataset_version) if link.dataset_version else None,
        "modelVersion": model_version_target(link.model_version) if link.model_version else None,
        "note": link.note,
        "createdAt": iso(link.created_at),
        "createdBy": link.created_by.get_username() if link.created_by else None,
    }


class RegistryLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="Null for a link by location URI (not stored).")
    method = serializers.ChoiceField(choices=[*LinkMethod.values, URI_METHOD])
    dataset = serializers.CharField(help_text="dataset:<namespace>:<name>")
    datasetVersion = RegistryTargetSerializer(allow_null=True)
    modelVersion = RegistryTargetSerializer(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    createdAt = serializers.DateTimeField(allow_null=True)
    createdBy = serializers.CharField(allow_null=True)

    def to_representation(self, instance: Any) -> Any:
        return super().to_representation(link_data(instance) if isinstance(instance, RegistryLink) else instance)


class RegistryLinkCreateSerializer(serializers.Serializer):
    dataset = serializers.CharField(help_text="The lineage dataset: dataset:<namespace>:<name>")
    datasetVersion = VisibleRelatedField(DatasetVersion, required=False, allow_null=True)
    modelVersion = VisibleRelatedField(ModelVersion, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    def validate_dataset(self, value: str) -> LineageDataset:
        if not value.startswith("dataset:"):
            raise serializers.ValidationError("Give a dataset node id: dataset:<namespace>:<name>.")
        try:
            ref = resolve_node(value, request_actor(self))
        except graph.BadNodeId as exc:
            raise serializers.ValidationError(str(exc)) from exc
        except NodeNotFound:
            # Unknown and invisible read the same, so the API never confirms what exists.
            raise serializers.ValidationError("Object does not exist.") from None
        return LineageDataset.objects.select_related("namespace").get(pk=ref.pk)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("datasetVersion") is None) == (attrs.get("modelVersion") is None):
            raise serializers.ValidationError(
                {"datasetVersion": ["Give exactly one of datasetVersion or modelVersion."]}
            )
        return attrs


# Datasets


class LineageDatasetSerializer(serializers.Serializer):
    id = NodeRefSerializer()
    type = serializers.CharField()
    name = serializers.CharField()
    physicalName = serializers.CharField()
    namespace = serializers.CharField()
    sourceName = serializers.CharField()
    uri = serializers.CharField(help_text="namespace + name as one location URI (what registry URIs match).")
    # Marquez's key; the serializer metaclass takes declared fields out of the class, so the
    # ``Serializer.fields`` property is not actually shadowed.
    fields = FieldSerializer(many=True)  # type: ignore[assignment]
    facets = serializers.JSONField()
    tags = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    lastModifiedAt = serializers.DateTimeField(allow_null=True)
    currentVersion = serializers.CharField(allow_null=True, help_text="The newest version's id.")
    registryLinks = RegistryLinkSerializer(
        many=True, help_text="Registry versions linked by hand or at the same location URI, that you may see."
    )

    def to_representation(self, instance: LineageDataset) -> Any:
        data = graph.dataset_data(instance)
        documentation = data["facets"].get("documentation")
        stored = [link_data(link) for link in getattr(instance, "visible_links", [])]
        linked = {_target_id(link) for link in stored}
        # Versions registered at this dataset's location URI (the view looks them up once per page).
        at_uri = [uri_link(instance, v) for v in self.context.get("uri_versions", {}).get(instance.uri, [])]
        data.update(
            tags=[],
            description=documentation.get("description") if isinstance(documentation, dict) else None,
            currentVersion=getattr(instance, "current_version", None),
            registryLinks=stored + [link for link in at_uri if _target_id(link) not in linked],
        )
        return super().to_representation(data)


def uri_link(dataset: LineageDataset, version: DatasetVersion | ModelVersion) -> dict[str, Any]:
    is_dataset = isinstance(version, DatasetVersion)
    target = dataset_version_target(version) if is_dataset else model_version_target(version)  # type: ignore[arg-type]
    return {
        "id": None,
        "method": URI_METHOD,
        "dataset": dataset.node_id,
        "datasetVersion": target if is_dataset else None,
        "modelVersion": None if is_dataset else target,
        "note": "",
        "createdAt": None,
        "createdBy": None,
    }


def _target_id(link: dict[str, Any]) -> str:
    target: dict[str, Any] = link["datasetVersion"] or link["modelVersion"]
    return str(target["id"])


class LineageDatasetVersionSerializer(serializers.Serializer):
    id = serializers.DictField(child=serializers.CharField(), help_text="{namespace, name, version}")
    type = serializers.CharField()
    name = serializers.CharField()
    physicalName = serializers.CharField()
    namespace = serializers.CharField()
    sourceName = serializers.CharField()
    version = serializers.CharField()
    createdAt = serializers.DateTimeField()
    eventTime = serializers.DateTimeField(allow_null=True)
    runId = serializers.UUIDField(allow_null=True, help_text="The run that wrote this version.")
    createdByRun = serializers.DictField(allow_null=True, help_text="{id} of the run that wrote this version.")
    # Marquez's key; the serializer metaclass takes declared fields out of the class, so the
    # ``Serializer.fields`` property is not actually shadowed.
    fields = FieldSerializer(many=True)  # type: ignore[assignment]
    facets = serializers.JSONField()

    def to_representation(self, instance: LineageDatasetVersion) -> Any:
        dataset = instance.dataset
        schema = instance.facets.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        run_id = str(instance.run.uuid) if instance.run is not None else None
        data = {
            "id": {"namespace": dataset.namespace.name, "name": dataset.name, "version": instance.version},
            "type": "DATASET",
            "name": dataset.name,
            "physicalName": dataset.name,
            "namespace": dataset.namespace.name,
            "sourceName": dataset.namespace.name,
            "version": instance.version,
            "createdAt": iso(instance.created_at),
            "eventTime": iso(instance.event_time),
            "runId": run_id,
            "createdByRun": {"id": run_id} if run_id else None,
            "fields": [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else [],
            "facets": instance.facets,
        }
        return super().to_representation(data)


# Runs and jobs


class RunSummarySerializer(serializers.Serializer):
    """``latestRun`` of a job, as the graph endpoint shows it."""

    id = serializers.UUIDField()
    state = serializers.CharField()
    startedAt = serializers.DateTimeField(allow_null=True)
    endedAt = serializers.DateTimeField(allow_null=True)
    durationMs = serializers.IntegerField(allow_null=True)
    nominalStartTime = serializers.DateTimeField(allow_null=True)
    nominalEndTime = serializers.DateTimeField(allow_null=True)


class RunDatasetSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    name = serializers.CharField()
    facets = serializers.JSONField(help_text="inputFacets or outputFacets")


class RunSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    job = NodeRefSerializer()
    state = serializers.ChoiceField(choices=RunState.values)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True)
    endedAt = serializers.DateTimeField(allow_null=True)
    durationMs = serializers.IntegerField(allow_null=True)
    nominalStartTime = serializers.DateTimeField(allow_null=True)
    nominalEndTime = serializers.DateTimeField(allow_null=True)
    parentRunId = serializers.UUIDField(allow_null=True)
    originalRunId = serializers.CharField(allow_blank=True, help_text="What the producer sent if it was not a UUID.")
    facets = serializers.JSONField()
    inputs = RunDatasetSerializer(many=True)
    outputs = RunDatasetSerializer(many=True)

    def to_representation(self, instance: Run) -> Any:
        data = graph.run_data(instance)
        assert data is not None
        io: dict[str, list[dict[str, Any]]] = {Direction.INPUT: [], Direction.OUTPUT: []}
        for row in sorted(instance.io.all(), key=lambda r: (r.dataset.namespace.name, r.dataset.name)):
            io[row.direction].append(
                {"namespace": row.dataset.namespace.name, "name": row.dataset.name, "facets": row.facets}
            )
        data.update(
            job={"namespace": instance.job.namespace.name, "name": instance.job.name},
            createdAt=iso(instance.created_at),
            updatedAt=iso(instance.updated_at),
            parentRunId=str(instance.parent.uuid) if instance.parent is not None else None,
            originalRunId=instance.original_id,
            facets=instance.facets,
            inputs=io[Direction.INPUT],
            outputs=io[Direction.OUTPUT],
        )
        return super().to_representation(data)


class JobSerializer(serializers.Serializer):
    id = NodeRefSerializer()
    type = serializers.CharField()
    name = serializers.CharField()
    namespace = serializers.CharField()
    inputs = NodeRefSerializer(many=True, help_text="Every dataset the job has read.")
    outputs = NodeRefSerializer(many=True, help_text="Every dataset the job has written.")
    latestRun = RunSummarySerializer(allow_null=True)
    facets = serializers.JSONField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()

    def to_representation(self, instance: Job) -> Any:
        inputs: list[dict[str, str]] = []
        outputs: list[dict[str, str]] = []
        for edge in sorted(instance.edges.all(), key=lambda e: (e.dataset.namespace.name, e.dataset.name)):
            ref = {"namespace": edge.dataset.namespace.name, "name": edge.dataset.name}
            (inputs if edge.direction == Direction.INPUT else outputs).append(ref)
        latest = self.context.get("latest_runs", {}).get(getattr(instance, "latest_run_id", None))
        return super().to_representation(graph.job_data(instance, inputs, outputs, latest))


# Raw events


class RawEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="As returned by POST /api/v1/lineage.")
    event = serializers.JSONField(help_text="The event exactly as the producer sent it.")
    kind = serializers.CharField()
    eventType = serializers.CharField(allow_blank=True)
    eventTime = serializers.DateTimeField()
    receivedAt = serializers.DateTimeField()
    namespace = serializers.CharField()
    runId = serializers.UUIDField(allow_null=True)
    producer = serializers.CharField(allow_blank=True)
    specVersion = serializers.CharField(allow_blank=True)
    warnings = serializers.ListField(child=serializers.DictField(), help_text="Tolerated producer quirks.")

    def to_representation(self, instance: RawEvent) -> Any:
        data = {
            "id": instance.pk,
            "event": instance.payload,
            "kind": instance.kind,
            "eventType": instance.event_type,
            "eventTime": iso(instance.event_time),
            "receivedAt": iso(instance.received_at),
            "namespace": instance.namespace.name,
            "runId": str(instance.run_uuid) if instance.run_uuid else None,
            "producer": instance.producer,
            "specVersion": instance.spec_version,
            "warnings": instance.warnings,
        }
        return super().to_representation(data)
