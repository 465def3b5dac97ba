"""The OpenLineage event validator: vendored fixtures, facet positions, quirks, errors and versions."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from referencing import Registry
from referencing.exceptions import NoSuchResource

from lineage import validation
from lineage.validation import (
    DEFAULT_SPEC_VERSION,
    MAX_ERRORS,
    RUN_ID_NAMESPACE,
    CheckedEvent,
    InvalidEvent,
    Problem,
    check_event,
    render_path,
    stable_run_uuid,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMAS = Path(validation.__file__).resolve().parent / "schemas"
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python"
RUN_ID = "ea041791-68bc-4ae1-bd89-4c8106a157e4"
CORE_VERSIONS = ["1-0-0", "1-0-1", "1-0-2", "1-0-3", "1-0-4", "1-0-5", "2-0-0", "2-0-1", "2-0-2"]

# --- the vendored OpenLineage fixtures, every one with its verdict -----------------------------

# Accepted: (kind, spec version checked against, warning codes and how many of each).
ACCEPTED: dict[str, tuple[str, str, dict[str, int]]] = {
    "fluentd/docker/test-complete.json": ("run", "1-0-1", {}),
    "fluentd/docker/test-start.json": ("run", "1-0-1", {}),
    "fluentd/events/event_full.json": ("run", "1-0-5", {"unknown-facet": 12, "invalid-facet": 1}),
    "fluentd/events/event_invalid_dataset_facet.json": ("run", "1-0-1", {"invalid-facet": 1}),
    "fluentd/events/event_invalid_input_dataset_facet.json": ("run", "1-0-1", {"invalid-facet": 1}),
    "fluentd/events/event_invalid_job_facet.json": ("run", "1-0-1", {"invalid-facet": 1}),
    "fluentd/events/event_invalid_output_dataset_facet.json": ("run", "1-0-1", {"invalid-facet": 1}),
    "fluentd/events/event_invalid_run_facet.json": ("run", "1-0-1", {"invalid-facet": 1}),
    "fluentd/events/event_simple.json": ("run", "1-0-1", {}),
    "marquez/apples/1_pick_apples.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/2_apple_filling.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/3_apple_cider.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/5_apple_vinegar.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/6_apple_pie.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/7_pick_different_apples.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/8_apple_filling.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/apples/9_apple_pie.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/open_lineage/event_additional_facet.json": ("run", "1-0-1", {"unknown-facet": 12}),
    # Declares spec 2-8-9, which does not exist.
    "marquez/open_lineage/event_dataset_event.json": ("dataset", "2-0-2", {"unknown-spec-version": 1}),
    "marquez/open_lineage/event_full.json": ("run", "1-0-1", {"unknown-facet": 12, "invalid-facet": 1}),
    # Declares 1-0-1#/definitions/JobEvent, but JobEvent only exists from 2-0-0.
    "marquez/open_lineage/event_job_event.json": ("job", "2-0-2", {"unknown-spec-version": 1}),
    "marquez/open_lineage/event_large.json": ("run", "1-0-1", {"unknown-facet": 17}),
    "marquez/open_lineage/event_namespace_naming.json": ("run", "1-0-1", {"unknown-facet": 12}),
    "marquez/open_lineage/event_required_nanoseconds.json": ("run", "1-0-1", {}),
    "marquez/open_lineage/event_required_no_timezone.json": ("run", "1-0-1", {"naive-timestamp": 1}),
    "marquez/open_lineage/event_required_only.json": ("run", "1-0-1", {}),
    "marquez/open_lineage/event_simple.json": ("run", "1-0-1", {}),
    "marquez/open_lineage/event_unicode.json": ("run", "1-0-1", {}),
    "marquez/open_lineage/event_without_schema_url.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/open_lineage/listener/1.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/open_lineage/listener/2.json": ("run", "2-0-2", {"missing-schema-url": 1}),
    "marquez/open_lineage/null_nominal_end_time.json": ("run", "1-0-1", {}),
    # schemaURL is "http://test.schema.url".
    "python-client/example_full_event.json": ("run", "2-0-2", {"unknown-spec-version": 1}),
    "python-client/serde_example_dataset_event.json": ("dataset", "2-0-0", {"naive-timestamp": 1}),
    "python-client/serde_example_job_event.json": ("job", "2-0-0", {"naive-timestamp": 1}),
    "python-client/serde_example_run_event.json": ("run", "1-0-5", {"naive-timestamp": 1}),
    "spec-tests/example_full_event.json": ("run", "1-0-5", {}),
}

# Where the invalid facets of the accepted fixtures are reported (each kept, never rejected).
INVALID_FACETS: dict[str, list[str]] = {
    # The input facet dataQualityMetrics has required columnMetrics in every published version.
    "fluentd/events/event_full.json": ["$.inputs[0].inputFacets.dataQualityMetrics.columnMetrics"],
    "fluentd/events/event_invalid_dataset_facet.json": ["$.outputs[0].facets.ownership.owners[0].name"],
    "fluentd/events/event_invalid_input_dataset_facet.json": [
        "$.inputs[0].inputFacets.dataQualityMetrics.columnMetrics"
    ],
    "fluentd/events/event_invalid_job_facet.json": ["$.job.facets.ownership.owners[0].name"],
    "fluentd/events/event_invalid_output_dataset_facet.json": ["$.outputs[0].outputFacets.outputStatistics.rowCount"],
    "fluentd/events/event_invalid_run_facet.json": ["$.run.facets.parent.run.runId"],
    "marquez/open_lineage/event_full.json": ["$.inputs[0].inputFacets.dataQualityMetrics.columnMetrics"],
}

# Rejected (400): the paths of all errors, in order.
REJECTED: dict[str, list[str]] = {
    "fluentd/events/event_no_run_id.json": ["$.run.runId"],
    # Not an event at all: a NominalTimeRunFacet on its own (see test below).
    "python-client/nominal_time_without_end.json": ["$.eventTime", "$.producer", "$.run", "$.job"],
}

# The folders vendored from OpenLineage and Marquez (fixtures/dbt belongs to the dbt tests).
VENDORED_FOLDERS = ("fluentd", "marquez", "python-client", "spec-tests")


def load(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def vendored_events() -> list[str]:
    found = []
    for folder in VENDORED_FOLDERS:
        for path in sorted((FIXTURES / folder).rglob("*.json")):
            relative = path.relative_to(FIXTURES).as_posix()
            # spec-tests/<Facet>/*.json are facets, tested in their positions below.
            if not relative.startswith("spec-tests/") or relative.count("/") == 1:
                found.append(relative)
    return found


def test_every_vendored_fixture_has_a_verdict() -> None:
    assert not set(ACCEPTED) & set(REJECTED)
    assert sorted(vendored_events()) == sorted([*ACCEPTED, *REJECTED])


@pytest.mark.parametrize("relative", sorted(ACCEPTED))
def test_it_accepts_fixture(relative: str) -> None:
    kind, version, codes = ACCEPTED[relative]
    payload = load(relative)
    checked = check_event(payload)
    assert (checked.kind, checked.spec_version) == (kind, version)
    assert Counter(warning.code for warning in checked.warnings) == Counter(codes)
    invalid = [warning.path for warning in checked.warnings if warning.code == "invalid-facet"]
    assert invalid == INVALID_FACETS.get(relative, [])
    assert checked.event != {} and payload == load(relative)  # the payload itself is untouched


@pytest.mark.parametrize("relative", sorted(REJECTED))
def test_it_rejects_fixture(relative: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(load(relative))
    assert [error.path for error in caught.value.errors] == REJECTED[relative]
    assert all(error.message for error in caught.value.errors)


def test_it_rejects_event_without_run_id_naming_the_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(load("fluentd/events/event_no_run_id.json"))
    assert caught.value.errors == [Problem("$.run.runId", "This required field is missing.")]
    assert "$.run.runId" in str(caught.value)


def test_the_lone_nominal_time_fixture_is_a_valid_run_facet_not_an_event() -> None:
    facet = load("python-client/nominal_time_without_end.json")
    checked = check_event(run_event(run_facets={"nominalTime": facet}))
    assert checked.warnings == []


def test_invalid_facets_are_kept_verbatim() -> None:
    payload = load("fluentd/events/event_invalid_output_dataset_facet.json")
    checked = check_event(payload)
    assert checked.event["outputs"] == payload["outputs"]
    (warning,) = checked.warnings
    assert warning.code == "invalid-facet"
    assert "outputStatistics" in warning.message and "integer" in warning.message


def test_unknown_facets_are_kept_verbatim_with_a_warning_each() -> None:
    payload = load("marquez/open_lineage/event_additional_facet.json")
    checked = check_event(payload)
    assert checked.event["run"]["facets"] == payload["run"]["facets"]
    paths = {warning.path for warning in checked.warnings}
    assert "$.run.facets.additionalProp1" in paths
    assert "$.job.facets.additionalProp3" in paths
    assert "$.outputs[0].facets.additionalProp2" in paths


# --- the spec's own facet fixtures, each in its position ---------------------------------------

# Position of each spec/tests facet folder, from its name (…RunFacet, …JobFacet, …DatasetFacet,
# …InputDatasetFacet, …OutputDatasetFacet) except where the name misleads.
POSITION_OVERRIDES = {
    "BaseSubsetDatasetFacet": "input",  # all four fixtures are input subsets (inputCondition)
    "DataQualityAssertionsDatasetFacet": "input",  # an InputDatasetFacet despite its name
    "LineageFacet": "job",  # LineageJobFacet, except dataset-to-dataset.json below
    "LineageFacet/dataset-to-dataset.json": "dataset",
}


def facet_fixtures() -> Iterator[tuple[str, str]]:
    for path in sorted((FIXTURES / "spec-tests").glob("*/*.json")):
        folder = path.parent.name
        relative = f"{folder}/{path.name}"
        if relative in POSITION_OVERRIDES:
            position = POSITION_OVERRIDES[relative]
        elif folder in POSITION_OVERRIDES:
            position = POSITION_OVERRIDES[folder]
        else:
            suffixes = [("InputDatasetFacet", "input"), ("OutputDatasetFacet", "output")]
            suffixes += [("DatasetFacet", "dataset"), ("JobFacet", "job"), ("RunFacet", "run")]
            position = next(where for suffix, where in suffixes if folder.endswith(suffix))
        yield relative, position


def test_there_are_spec_facet_fixtures_for_every_position() -> None:
    positions = Counter(position for _relative, position in facet_fixtures())
    assert set(positions) == {"run", "job", "dataset", "input", "output"}
    assert sum(positions.values()) == 46


@pytest.mark.parametrize(("relative", "position"), list(facet_fixtures()))
def test_spec_facet_fixture_is_valid_in_its_position(relative: str, position: str) -> None:
    facets = load(f"spec-tests/{relative}")
    checked = check_event(event_with_facets(position, facets))
    assert checked.warnings == []


def test_the_same_facet_name_is_checked_by_its_position() -> None:
    documentation = {"_producer": PRODUCER, "_schemaURL": "x", "description": "Orders, one row each"}
    checked = check_event(event_with_facets("job", {"documentation": documentation}))
    assert checked.warnings == []
    checked = check_event(event_with_facets("dataset", {"documentation": documentation}))
    assert checked.warnings == []

    # LineageDatasetFacet is valid as a dataset facet; as a job facet it lacks "entries".
    lineage = load("spec-tests/LineageFacet/dataset-to-dataset.json")
    assert check_event(event_with_facets("dataset", lineage)).warnings == []
    (warning,) = check_event(event_with_facets("job", lineage)).warnings
    assert (warning.code, warning.path) == ("invalid-facet", "$.job.facets.lineage.entries")

    # An input subset sent as an output facet lacks "outputCondition".
    subset = load("spec-tests/BaseSubsetDatasetFacet/1.json")
    (warning,) = check_event(event_with_facets("output", subset)).warnings
    assert (warning.code, warning.path) == ("invalid-facet", "$.outputs[0].outputFacets.subset.outputCondition")


def test_a_facet_in_the_wrong_position_is_unknown_there_with_a_hint() -> None:
    assertions = load("spec-tests/DataQualityAssertionsDatasetFacet/1.json")
    (warning,) = check_event(event_with_facets("dataset", assertions)).warnings
    assert warning.code == "unknown-facet"
    assert warning.path == "$.inputs[0].facets.dataQualityAssertions"
    assert "inputFacets" in warning.message


def test_a_facet_that_is_not_an_object_is_only_a_warning() -> None:
    checked = check_event(run_event(run_facets={"nominalTime": "2024-05-01"}))
    (warning,) = checked.warnings
    assert (warning.code, warning.path) == ("invalid-facet", "$.run.facets.nominalTime")
    assert checked.event["run"]["facets"]["nominalTime"] == "2024-05-01"


def test_an_unknown_facet_without_producer_is_unknown_and_invalid() -> None:
    checked = check_event(run_event(run_facets={"spark_properties": {"props": {}}}))
    codes = [(warning.code, warning.path) for warning in checked.warnings]
    assert codes == [
        ("unknown-facet", "$.run.facets.spark_properties"),
        ("invalid-facet", "$.run.facets.spark_properties._producer"),
        ("invalid-facet", "$.run.facets.spark_properties._schemaURL"),
    ]


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("run", "$.run.facets"),
        ("job", "$.job.facets"),
        ("dataset", "$.inputs[0].facets"),
        ("input", "$.inputs[0].inputFacets"),
        ("output", "$.outputs[0].outputFacets"),
    ],
)
def test_it_rejects_a_facet_container_that_is_not_an_object(where: str, path: str) -> None:
    payload = event_with_facets(where, {})
    container = {"run": payload["run"], "job": payload["job"], "dataset": payload["inputs"][0]}
    container |= {"input": payload["inputs"][0], "output": payload["outputs"][0]}
    key = {"input": "inputFacets", "output": "outputFacets"}.get(where, "facets")
    container[where][key] = ["not", "an", "object"]
    with pytest.raises(InvalidEvent) as caught:
        check_event(payload)
    assert [(error.path, error.message) for error in caught.value.errors] == [
        (path, "Expected an object, got an array.")
    ]


# --- quirks: timestamps ------------------------------------------------------------------------


def test_it_takes_a_naive_timestamp_as_utc_with_a_warning() -> None:
    payload = run_event(eventTime="2021-11-03T10:53:52.427343")
    checked = check_event(payload)
    assert checked.event["eventTime"] == "2021-11-03T10:53:52.427343+00:00"
    (warning,) = checked.warnings
    assert (warning.path, warning.code) == ("$.eventTime", "naive-timestamp")
    assert "2021-11-03T10:53:52.427343" in warning.message
    assert payload["eventTime"] == "2021-11-03T10:53:52.427343"


def test_it_normalises_zoned_timestamps_to_utc_microseconds() -> None:
    checked = check_event(run_event(eventTime="2020-12-28T19:52:00.001+10:00"))
    assert checked.event["eventTime"] == "2020-12-28T09:52:00.001000+00:00"
    assert checked.warnings == []
    assert check_event(run_event(eventTime="2020-12-28T19:52:00Z")).event["eventTime"] == (
        "2020-12-28T19:52:00.000000+00:00"
    )


def test_it_truncates_nanoseconds_to_microseconds_without_warning() -> None:
    checked = check_event(run_event(eventTime="2020-12-28T19:51:01.641499123Z"))
    assert checked.event["eventTime"] == "2020-12-28T19:51:01.641499+00:00"
    assert checked.warnings == []


def test_it_accepts_naive_nanoseconds_with_one_warning() -> None:
    checked = check_event(run_event(eventTime="2020-12-28T19:51:01.641499123"))
    assert checked.event["eventTime"] == "2020-12-28T19:51:01.641499+00:00"
    assert [warning.code for warning in checked.warnings] == ["naive-timestamp"]


@pytest.mark.parametrize(
    "value", ["yesterday", "2020-13-01T00:00:00Z", "2020-12-28", "2020-12-28T25:00:00Z", "2020-12-28T10:00:00+05:99"]
)
def test_it_rejects_an_event_time_that_is_not_a_date_time(value: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(run_event(eventTime=value))
    assert [error.path for error in caught.value.errors] == ["$.eventTime"]


# --- quirks: run ids ---------------------------------------------------------------------------


def test_it_maps_a_non_uuid_run_id_to_a_stable_uuid() -> None:
    payload = run_event(run_id="scheduled__2024-05-01T00:00:00+00:00")
    checked = check_event(payload)
    mapped = checked.event["run"]["runId"]
    assert mapped == str(uuid.uuid5(RUN_ID_NAMESPACE, "scheduled__2024-05-01T00:00:00+00:00"))
    assert uuid.UUID(mapped).version == 5
    assert checked.original_run_id == "scheduled__2024-05-01T00:00:00+00:00"
    (warning,) = checked.warnings
    assert (warning.path, warning.code) == ("$.run.runId", "non-uuid-run-id")
    assert "scheduled__2024-05-01T00:00:00+00:00" in warning.message and mapped in warning.message
    assert payload["run"]["runId"] == "scheduled__2024-05-01T00:00:00+00:00"
    assert "originalRunId" not in checked.event["run"]

    again = check_event(run_event(run_id="scheduled__2024-05-01T00:00:00+00:00"))
    assert again.event["run"]["runId"] == mapped
    other = check_event(run_event(run_id="scheduled__2024-05-02T00:00:00+00:00"))
    assert other.event["run"]["runId"] != mapped


def test_the_run_id_mapping_never_changes() -> None:
    # Stored runs depend on it: a new mapping would split every non-UUID run in two.
    assert str(RUN_ID_NAMESPACE) == "130c5808-24f1-51df-b937-62703b1b8d3f"
    assert stable_run_uuid("1") == "843b66e4-d1f2-50a5-813c-d7af5f00d50a"


def test_it_lowercases_an_uppercase_uuid_run_id_silently() -> None:
    checked = check_event(run_event(run_id=RUN_ID.upper()))
    assert checked.event["run"]["runId"] == RUN_ID
    assert checked.original_run_id is None
    assert checked.warnings == []


@pytest.mark.parametrize("run_id", ["", "   "])
def test_it_rejects_an_empty_run_id(run_id: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(run_event(run_id=run_id))
    assert [error.path for error in caught.value.errors] == ["$.run.runId"]


def test_a_non_uuid_parent_run_id_maps_like_the_parents_own_run_id() -> None:
    parent = check_event(run_event(run_id="dag-run-42"))
    child_payload = run_event(run_facets={"parent": parent_facet("dag-run-42", root_run_id="ROOT-7")})
    child = check_event(child_payload)
    link = child.event["run"]["facets"]["parent"]
    assert link["run"]["runId"] == parent.event["run"]["runId"]
    assert link["root"]["run"]["runId"] == stable_run_uuid("ROOT-7")
    assert child.original_run_id is None
    assert [(warning.path, warning.code) for warning in child.warnings] == [
        ("$.run.facets.parent.run.runId", "non-uuid-run-id"),
        ("$.run.facets.parent.root.run.runId", "non-uuid-run-id"),
    ]
    assert child_payload["run"]["facets"]["parent"]["run"]["runId"] == "dag-run-42"


def test_a_uuid_parent_run_id_is_left_alone() -> None:
    parent_id = str(uuid.uuid4())
    checked = check_event(run_event(run_facets={"parent": parent_facet(parent_id)}))
    assert checked.event["run"]["facets"]["parent"]["run"]["runId"] == parent_id
    assert checked.warnings == []


def test_the_payload_is_never_modified() -> None:
    payload = run_event(
        run_id="not-a-uuid", eventTime="2021-11-03T10:53:52", run_facets={"parent": parent_facet("p-1")}
    )
    before = copy.deepcopy(payload)
    checked = check_event(payload)
    assert payload == before
    checked.event["job"]["name"] = "changed"
    checked.event["inputs"][0]["name"] = "changed"
    assert payload == before


# --- schemaURL and versions --------------------------------------------------------------------


def test_it_accepts_a_missing_schema_url_with_a_warning() -> None:
    payload = run_event()
    del payload["schemaURL"]
    checked = check_event(payload)
    assert checked.spec_version == DEFAULT_SPEC_VERSION == "2-0-2"
    assert [(warning.path, warning.code) for warning in checked.warnings] == [("$.schemaURL", "missing-schema-url")]
    assert "schemaURL" not in checked.event


def test_it_still_requires_producer() -> None:
    payload = run_event()
    del payload["producer"]
    with pytest.raises(InvalidEvent) as caught:
        check_event(payload)
    assert [error.path for error in caught.value.errors] == ["$.producer"]


@pytest.mark.parametrize(
    ("schema_url", "version", "codes"),
    [
        ("https://openlineage.io/spec/1-0-5/OpenLineage.json#/definitions/RunEvent", "1-0-5", []),
        ("https://openlineage.io/spec/1-0-0/OpenLineage.json#/definitions/RunEvent", "1-0-0", []),
        ("https://openlineage.io/spec/2-0-2/OpenLineage.json", "2-0-2", []),
        ("https://openlineage.io/spec/2-0-0/OpenLineage.json#/$defs/RunEvent", "2-0-0", []),
        ("https://openlineage.io/spec/2-8-9/OpenLineage.json#/$defs/RunEvent", "2-0-2", ["unknown-spec-version"]),
        ("http://test.schema.url", "2-0-2", ["unknown-spec-version"]),
        ("", "2-0-2", ["unknown-spec-version"]),
    ],
)
def test_it_detects_the_spec_version_from_schema_url(schema_url: str, version: str, codes: list[str]) -> None:
    checked = check_event(run_event(schemaURL=schema_url))
    assert checked.spec_version == version
    assert [warning.code for warning in checked.warnings] == codes


def test_it_rejects_a_schema_url_that_is_not_a_string() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(run_event(schemaURL=2))
    assert [(error.path, error.message) for error in caught.value.errors] == [
        ("$.schemaURL", "Expected a string, got an integer (2).")
    ]


@pytest.mark.parametrize("version", CORE_VERSIONS)
def test_it_accepts_a_run_event_of_each_published_core_version(version: str) -> None:
    defs = "definitions" if version in ("1-0-0", "1-0-1") else "$defs"
    url = f"https://openlineage.io/spec/{version}/OpenLineage.json#/{defs}/RunEvent"
    checked = check_event(run_event(schemaURL=url, eventType="COMPLETE"))
    assert (checked.kind, checked.spec_version, checked.warnings) == ("run", version, [])


@pytest.mark.parametrize("version", ["2-0-0", "2-0-1", "2-0-2"])
def test_it_accepts_dataset_and_job_events_of_versions_that_define_them(version: str) -> None:
    dataset = check_event(dataset_event(schemaURL=f"https://openlineage.io/spec/{version}/OpenLineage.json"))
    assert (dataset.kind, dataset.spec_version, dataset.warnings) == ("dataset", version, [])
    job = check_event(job_event(schemaURL=f"https://openlineage.io/spec/{version}/OpenLineage.json"))
    assert (job.kind, job.spec_version, job.warnings) == ("job", version, [])


def test_it_checks_against_the_declared_version() -> None:
    # The RUNNING event type came in 1-0-3: the version the event declares decides.
    url = "https://openlineage.io/spec/{}/OpenLineage.json#/$defs/RunEvent"
    with pytest.raises(InvalidEvent) as caught:
        check_event(run_event(schemaURL=url.format("1-0-2"), eventType="RUNNING"))
    assert caught.value.errors == [
        Problem("$.eventType", 'Must be one of START, COMPLETE, ABORT, FAIL, OTHER; got "RUNNING".')
    ]
    assert check_event(run_event(schemaURL=url.format("1-0-3"), eventType="RUNNING")).spec_version == "1-0-3"


def test_a_dataset_event_declaring_a_version_without_dataset_events_is_checked_as_2_0_2() -> None:
    checked = check_event(dataset_event(schemaURL="https://openlineage.io/spec/1-0-5/OpenLineage.json"))
    assert checked.spec_version == "2-0-2"
    (warning,) = checked.warnings
    assert warning.code == "unknown-spec-version" and "DatasetEvent" in warning.message


# --- kinds and structural errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (lambda: run_event(), "run"),
        (lambda: dataset_event(), "dataset"),
        (lambda: job_event(), "job"),
        (lambda: job_event() | {"dataset": {"namespace": "n", "name": "d"}}, "job"),
    ],
)
def test_it_decides_the_event_kind(payload: Any, kind: str) -> None:
    assert check_event(payload()).kind == kind


@pytest.mark.parametrize(
    ("body", "described"),
    [([], "an array"), ("event", 'a string ("event")'), (None, "null"), (42, "an integer (42)")],
)
def test_it_rejects_a_body_that_is_not_an_object(body: object, described: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event(body)
    assert caught.value.errors == [Problem("$", f"An OpenLineage event must be a JSON object, not {described}.")]


def test_an_empty_object_names_every_missing_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        check_event({})
    assert [error.path for error in caught.value.errors] == ["$.eventTime", "$.producer", "$.run", "$.job"]


def test_it_reports_every_structural_error_not_just_the_first() -> None:
    payload = run_event(eventType="DONE", eventTime=20201228)
    payload["job"]["name"] = 5
    payload["inputs"] = [{"namespace": "db"}, "table"]
    payload["outputs"] = {"namespace": "db"}
    del payload["producer"]
    with pytest.raises(InvalidEvent) as caught:
        check_event(payload)
    assert [(error.path, error.message) for error in caught.value.errors] == [
        ("$.eventTime", "Expected a string, got an integer (20201228)."),
        ("$.producer", "This required field is missing."),
        ("$.eventType", 'Must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER; got "DONE".'),
        ("$.job.name", "Expected a string, got an integer (5)."),
        ("$.inputs[0].name", "This required field is missing."),
        ("$.inputs[1]", 'Expected an object, got a string ("table").'),
        ("$.outputs", "Expected an array, got an object."),
    ]


def test_it_caps_the_number_of_errors() -> None:
    payload = run_event()
    payload["inputs"] = [{"namespace": index} for index in range(200)]
    with pytest.raises(InvalidEvent) as caught:
        check_event(payload)
    assert len(caught.value.errors) == MAX_ERRORS


def test_it_renders_json_paths() -> None:
    assert render_path([]) == "$"
    assert render_path(["inputs", 0, "facets", "schema", "fields", 2, "name"]) == (
        "$.inputs[0].facets.schema.fields[2].name"
    )
    assert render_path(["facets", "my facet", "it's"]) == "$.facets['my facet']['it\\'s']"


def test_a_clean_event_comes_back_equal_but_for_the_normalised_time() -> None:
    checked = check_event(run_event())
    assert isinstance(checked, CheckedEvent)
    assert checked.original_run_id is None
    assert checked.event == run_event() | {"eventTime": "2024-05-01T12:00:00.000000+00:00"}


# --- the schemas: vendored, resolved locally, compiled -----------------------------------------


def test_nothing_is_ever_downloaded() -> None:
    registry = validation._schemas().registry
    with pytest.raises(NoSuchResource):
        registry.get_or_retrieve("https://openlineage.io/spec/9-9-9/OpenLineage.json")


def test_every_ref_in_the_vendored_schemas_resolves_locally() -> None:
    registry = validation._schemas().registry
    unresolved = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        resolver = registry.resolver(base_uri=document["$id"])
        for ref in sorted(set(refs(document))):
            try:
                resolver.lookup(ref)
            except Exception:  # collect every failure, whatever its kind
                unresolved.append(f"{path.relative_to(SCHEMAS)}: {ref}")
    # Cores 1-0-4 … 2-0-1 name facets by relative refs that were never published at those URLs;
    # they sit inside the facet containers the core check replaces, so they are never followed.
    expected = re.compile(r"^published-spec/(1-0-4|1-0-5|2-0-0|2-0-1)/OpenLineage\.json: facets/\w+\.json$")
    assert unresolved and all(expected.match(line) for line in unresolved), unresolved


def test_every_schema_in_use_is_compiled() -> None:
    schemas = validation._schemas()
    checks = [*schemas.core_checks.values(), *schemas.facet_checks.values(), *schemas.base_facet_checks.values()]
    assert len(schemas.core_checks) == 15 and len(schemas.facet_checks) == 40
    assert all(check.fast is not None for check in checks)


def test_the_vendored_spec_folder_matches_the_published_copies() -> None:
    for path in sorted((SCHEMAS / "spec").rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        published = SCHEMAS / "published-spec" / document["$id"].removeprefix("https://openlineage.io/spec/")
        assert path.read_bytes() == published.read_bytes(), path


def mutations(instance: Any) -> Iterator[Any]:
    """The instance with, in turn, each value replaced by other JSON types and each key removed."""
    replacements: list[Any] = [None, True, 0, 1.5, "x", [], {}, {"_producer": "p", "_schemaURL": "s"}]
    yield instance
    for path in json_paths(instance):
        for replacement in replacements:
            yield replaced(instance, path, replacement)
        if path and isinstance(path[-1], str):
            yield replaced(instance, path, None, delete=True)


def test_compiled_checks_agree_with_jsonschema() -> None:
    schemas = validation._schemas()
    compared = 0
    for relative in ["fluentd/events/event_full.json", "python-client/example_full_event.json"]:
        event = load(relative)
        for version, kind in [("1-0-0", "run"), ("2-0-2", "run")]:
            check = schemas.core_checks[version, kind]
            for variant in mutations(event):
                assert check.fast is not None
                assert check.fast(variant) == check.validator.is_valid(variant), (version, variant)
                compared += 1
    for variant in mutations(load("python-client/serde_example_dataset_event.json")):
        for version in ("2-0-0", "2-0-2"):
            check = schemas.core_checks[version, "dataset"]
            assert check.fast is not None and check.fast(variant) == check.validator.is_valid(variant), variant
            compared += 1
    for relative, position in facet_fixtures():
        ((name, facet),) = load(f"spec-tests/{relative}").items()
        checks = [check for (where, known), check in schemas.facet_checks.items() if known == name]
        checks.append(schemas.base_facet_checks[position])
        for variant in mutations(facet):
            for check in checks:
                assert check.fast is not None and check.fast(variant) == check.validator.is_valid(variant), variant
                compared += 1
    assert compared > 20_000


KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number"}, [1, 1.5, True, "1"]),
    ({"type": ["string", "null"]}, ["x", None, 0, []]),
    ({"type": "object"}, [{}, [], "x"]),
    ({"type": "boolean"}, [True, False, 0, 1]),
    ({"enum": ["A", "B"]}, ["A", "C", 1, None]),
    ({"const": "binary"}, ["binary", "Binary", 0]),
    ({"minimum": 1}, [0, 1, 2.5, "0", True]),
    ({"required": ["a", "b"]}, [{"a": 1}, {"a": 1, "b": 2}, [], "x"]),
    ({"dependentRequired": {"name": ["namespace"]}}, [{}, {"name": "n"}, {"name": "n", "namespace": "s"}]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, [{"a": "x"}, {"a": 1}, {"b": 1}]),
    ({"additionalProperties": {"type": "integer"}}, [{"a": 1}, {"a": "x"}, []]),
    ({"items": {"type": "string"}}, [[], ["a"], ["a", 1], "ab"]),
    ({"allOf": [{"type": "string"}, {"enum": ["a"]}]}, ["a", "b", 1]),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, ["a", 1, 1.5]),
    ({"oneOf": [{"type": "string"}, {"enum": ["a"]}]}, ["a", "b", 1]),
    ({"not": {"required": ["run"]}}, [{}, {"run": 1}, 5]),
    ({"type": "object", "documentation": "ignored, as jsonschema ignores it"}, [{}, 1]),
]


@pytest.mark.parametrize(("schema", "instances"), KEYWORD_CASES)
def test_compiled_keywords_agree_with_jsonschema(schema: dict[str, Any], instances: list[Any]) -> None:
    check = validation._SchemaCheck(schema, Registry())
    assert check.fast is not None
    verdicts = [check.fast(instance) for instance in instances]
    assert verdicts == [check.validator.is_valid(instance) for instance in instances]
    assert True in verdicts and False in verdicts  # each case exercises both outcomes


@pytest.mark.parametrize("schema", [{"pattern": "^a"}, {"enum": [1, "a"]}, {"items": [{"type": "string"}]}])
def test_a_keyword_the_compiler_does_not_know_falls_back_to_jsonschema(schema: dict[str, Any]) -> None:
    check = validation._SchemaCheck(schema, Registry())
    assert check.fast is None
    assert [error.message for error in check.iter_errors("b")] == [
        error.message for error in check.validator.iter_errors("b")
    ]


# --- helpers -----------------------------------------------------------------------------------


def run_event(*, run_id: str = RUN_ID, run_facets: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": "START",
        "eventTime": "2024-05-01T12:00:00Z",
        "run": {"runId": run_id},
        "job": {"namespace": "airflow", "name": "orders.load"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "public.orders"}],
        "outputs": [{"namespace": "s3://lake", "name": "orders"}],
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    }
    if run_facets is not None:
        event["run"]["facets"] = run_facets
    event.update(fields)
    return event


def dataset_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventTime": "2024-05-01T12:00:00Z",
        "dataset": {"namespace": "s3://lake", "name": "orders"},
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
    }
    event.update(fields)
    return event


def job_event(**fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventTime": "2024-05-01T12:00:00Z",
        "job": {"namespace": "airflow", "name": "orders.load"},
        "inputs": [{"namespace": "postgres://db:5432", "name": "public.orders"}],
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
    }
    event.update(fields)
    return event


def event_with_facets(position: str, facets: dict[str, Any]) -> dict[str, Any]:
    event = run_event()
    if position == "run":
        event["run"]["facets"] = facets
    elif position == "job":
        event["job"]["facets"] = facets
    elif position == "dataset":
        event["inputs"][0]["facets"] = facets
    elif position == "input":
        event["inputs"][0]["inputFacets"] = facets
    else:
        event["outputs"][0]["outputFacets"] = facets
    return event


def parent_facet(run_id: str, root_run_id: str | None = None) -> dict[str, Any]:
    facet: dict[str, Any] = {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
        "run": {"runId": run_id},
        "job": {"namespace": "airflow", "name": "orders"},
    }
    if root_run_id is not None:
        facet["root"] = {"run": {"runId": root_run_id}, "job": {"namespace": "airflow", "name": "nightly"}}
    return facet


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from json_paths(value, (*prefix, index))


def replaced(instance: Any, path: tuple[Any, ...], value: Any, delete: bool = False) -> Any:
    result = copy.deepcopy(instance)
    target = result
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result
