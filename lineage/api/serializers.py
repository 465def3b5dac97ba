"""Response shapes of the lineage API (for the OpenAPI schema and the readers of the code)."""

from __future__ import annotations

from rest_framework import serializers


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="JSON path in the event, e.g. $.run.runId")
    message = serializers.CharField()
    code = serializers.CharField(required=False, help_text="Machine code of a warning, e.g. naive-timestamp")


class EventAcceptedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["created", "duplicate"])
    id = serializers.IntegerField(help_text="The stored raw event.")
    warnings = ProblemSerializer(many=True)  # type: ignore[assignment]  # DRF pops declared fields


class EventErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ProblemSerializer(many=True)  # type: ignore[assignment]  # DRF pops declared fields


class BatchSummarySerializer(serializers.Serializer):
    received = serializers.IntegerField()
    successful = serializers.IntegerField()
    failed = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class BatchEventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "failed"])
    id = serializers.IntegerField(required=False)
    httpStatus = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)
    warnings = ProblemSerializer(many=True, required=False)  # type: ignore[assignment]  # DRF pops declared fields
    errors = ProblemSerializer(many=True, required=False)  # type: ignore[assignment]  # DRF pops declared fields


class BatchResultSerializer(serializers.Serializer):
    summary = BatchSummarySerializer()
    events = BatchEventResultSerializer(many=True)


class EdgeSerializer(serializers.Serializer):
    origin = serializers.CharField()
    destination = serializers.CharField()


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="dataset:<ns>:<name>, job:<ns>:<name> or datasetField:<ns>:<name>:<field>")
    type = serializers.ChoiceField(choices=["DATASET", "JOB", "DATASET_FIELD"])
    data = serializers.DictField()  # type: ignore[assignment]  # DRF pops declared fields
    inEdges = EdgeSerializer(many=True)
    outEdges = EdgeSerializer(many=True)


class GraphSerializer(serializers.Serializer):
    graph = GraphNodeSerializer(many=True)
    truncated = serializers.BooleanField(required=False, help_text="The node limit cut the graph short.")
    maxNodes = serializers.IntegerField(required=False, help_text="The node limit this graph was drawn with.")
    detail = serializers.CharField(required=False, help_text="When truncated: how to see more.")


class ImpactSerializer(serializers.Serializer):
    datasetVersions = serializers.ListField(child=serializers.DictField())
    modelVersions = serializers.ListField(child=serializers.DictField())
    generatorVersions = serializers.ListField(child=serializers.DictField())
    aiSystems = serializers.ListField(child=serializers.DictField())
    lineageDatasets = serializers.ListField(child=serializers.CharField())
    jobs = serializers.ListField(child=serializers.CharField())
