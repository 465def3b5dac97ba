"""Governance records of an AI system: services and trail, the feedback import, pages, panel and API."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.actors import Actor
from audits.models import AppliedStandard, Feedback, Finding, Incident, OversightMeasure, Risk
from audits.services import do_import_evaluation
from audits.services import governance as gov
from registry.models import AISystem, Model
from registry.services import do_add_component, do_create_asset, do_create_model_version
from registry.views.base import detail_url
from tests.audits.conftest import items, run_now
from trail.models import AuditEntry
from trail.services import verify_chain

# ---------------------------------------------------------------------------------------------
# Helpers


def client_for(user: Any, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def risk_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Wrong refunds promised",
        "description": "The bot may promise refunds the policy does not allow.",
        "affected_people": "Customers asking about refunds",
        "likelihood": "likely",
        "severity": "moderate",
        "mitigation": "",
        "residual_risk": "medium",
        "review_date": date.today() + timedelta(days=90),
    }
    return {**data, **overrides}


def incident_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Bot leaked an order number",
        "description": "A customer saw another customer's order number.",
        "occurred_at": timezone.now() - timedelta(days=2),
        "severity": "high",
    }
    return {**data, **overrides}


def entries(object_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type).order_by("seq"))


def findings_on(user: Any, version: Any) -> list[Finding]:
    """Findings of a failed evaluation check on a model version (bad scores give two)."""
    evaluation = do_import_evaluation(
        actor=Actor(user=user),
        target=version,
        name="Eval",
        items=items([0.9] * 20 + [0.2] * 20),
    )
    run = run_now(evaluation.check_runs.get())
    found = list(run.findings.all())
    assert found
    return found


def beta_system(personas: Any) -> AISystem:
    """An AI system of the outsider's team (beta)."""
    return do_create_asset(
        AISystem,
        actor=personas.actor(personas.outsider),
        data={"name": "Beta bot", "owner_team": personas.other_team, "purpose": "Other", "risk_class": "minimal"},
    )


def upload(content: bytes | str, name: str = "feedback.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


GOOD_CSV = (
    "interaction,rating,comment,occurred_at\n"
    "conv-1,5,Great answer,2026-03-01T10:00:00Z\n"
    "conv-2,up,,2026-03-01T11:00:00\n"
    "conv-3,down,Wrong refund policy,2026-03-02T09:30:00+01:00\n"
    "conv-4,2,Too slow,2026-03-03\n"
)


# ---------------------------------------------------------------------------------------------
# Risks


def test_a_contributor_adds_a_risk_and_the_trail_records_its_fields(personas, catalogue):
    actor = personas.actor(personas.contributor)
    risk = gov.do_create_risk(catalogue.system, actor=actor, data=risk_data(owner=personas.officer))
    assert risk.system == catalogue.system and risk.created_by == personas.contributor
    (entry,) = entries("audits.risk")
    assert entry.action == "create" and entry.object_id == str(risk.uuid)
    assert entry.team_slug == "alpha"  # the owning team reads it in its trail
    assert entry.changes["title"] == "Wrong refunds promised"
    assert entry.changes["owner"] == "officer"
    assert entry.changes["system"] == str(catalogue.system.uuid)
    assert entry.changes["likelihood"] == "likely" and entry.changes["status"] == "open"
    assert verify_chain().ok


def test_editing_a_risk_records_only_the_changed_fields_and_a_no_op_records_nothing(personas, catalogue):
    actor = personas.actor(personas.contributor)
    risk = gov.do_create_risk(catalogue.system, actor=actor, data=risk_data())
    before = risk.updated_at
    gov.do_update_risk(
        risk, actor=actor, data={"mitigation": "Refund answers quote the policy", "status": "mitigating"}
    )
    risk.refresh_from_db()
    assert risk.mitigation == "Refund answers quote the policy" and risk.updated_at > before
    update = entries("audits.risk")[-1]
    assert update.action == "update"
    assert update.changes == {
        "mitigation": {"from": "", "to": "Refund answers quote the policy"},
        "status": {"from": "open", "to": "mitigating"},
    }
    gov.do_update_risk(risk, actor=actor, data={"mitigation": "Refund answers quote the policy"})
    assert len(entries("audits.risk")) == 2


def test_only_compliance_officers_close_accept_or_delete_risks_and_closing_records_who_and_when(personas, catalogue):
    contributor, officer = personas.actor(personas.contributor), personas.actor(personas.officer)
    risk = gov.do_create_risk(catalogue.system, actor=contributor, data=risk_data())
    for decided in ("closed", "accepted"):
        with pytest.raises(PermissionDenied):
            gov.do_update_risk(risk, actor=contributor, data={"status": decided})
    with pytest.raises(PermissionDenied):
        gov.do_create_risk(catalogue.system, actor=contributor, data=risk_data(status="accepted"))
    risk.refresh_from_db()
    assert risk.status == "open" and Risk.objects.count() == 1

    gov.do_update_risk(risk, actor=officer, data={"status": "closed"})
    closing = entries("audits.risk")[-1]
    assert closing.changes["status"] == {"from": "open", "to": "closed"}
    assert closing.changes["closed_by"] == "officer"
    assert abs(datetime.fromisoformat(closing.changes["closed_at"]) - timezone.now()) < timedelta(minutes=1)
    # Editing a closed risk's other fields is not closing it again.
    gov.do_update_risk(risk, actor=contributor, data={"description": "Still documented"})
    assert "closed_by" not in entries("audits.risk")[-1].changes

    with pytest.raises(PermissionDenied):
        gov.do_delete_risk(risk, actor=contributor)
    assert Risk.objects.filter(pk=risk.pk).exists()
    gov.do_delete_risk(risk, actor=officer)
    assert not Risk.objects.filter(pk=risk.pk).exists()
    deletion = entries("audits.risk")[-1]
    assert deletion.action == "delete" and deletion.changes["title"] == "Wrong refunds promised"
    assert deletion.actor_label == "officer"


def test_a_risk_owner_must_be_a_member_of_the_owning_team(personas, catalogue):
    with pytest.raises(ValidationError) as caught:
        gov.do_create_risk(
            catalogue.system, actor=personas.actor(personas.contributor), data=risk_data(owner=personas.outsider)
        )
    assert "owner" in caught.value.message_dict
    assert not Risk.objects.exists() and not entries("audits.risk")


def test_bad_risk_fields_are_refused_by_name_and_nothing_is_written(personas, catalogue):
    actor = personas.actor(personas.contributor)
    cases = [
        (risk_data(likelihood="sometimes"), "likelihood"),
        (risk_data(title=""), "title"),
        ({k: v for k, v in risk_data().items() if k != "review_date"}, "review_date"),
        (risk_data(colour="red"), "colour"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as caught:
            gov.do_create_risk(catalogue.system, actor=actor, data=data)
        assert field in caught.value.message_dict, field
    assert not Risk.objects.exists() and not entries("audits.risk")


def test_auditors_cannot_add_records_and_outsiders_do_not_find_the_system(personas, catalogue):
    with pytest.raises(PermissionDenied):
        gov.do_create_risk(catalogue.system, actor=personas.actor(personas.auditor), data=risk_data())
    with pytest.raises(Http404):
        gov.do_create_risk(catalogue.system, actor=personas.actor(personas.outsider), data=risk_data())
    risk = gov.do_create_risk(catalogue.system, actor=personas.actor(personas.contributor), data=risk_data())
    with pytest.raises(Http404):
        gov.do_update_risk(risk, actor=personas.actor(personas.outsider), data={"title": "Mine now"})
    with pytest.raises(Http404):
        gov.do_delete_risk(risk, actor=personas.actor(personas.outsider))
    assert Risk.objects.get().title == "Wrong refunds promised"


def test_a_record_cannot_move_to_another_system(personas, catalogue):
    actor = personas.actor(personas.admin)
    other = beta_system(personas)
    risk = gov.do_create_risk(catalogue.system, actor=actor, data=risk_data())
    with pytest.raises(ValidationError) as caught:
        gov.do_update_risk(risk, actor=actor, data={"system": other})
    assert "system" in caught.value.message_dict
    gov.do_update_risk(risk, actor=actor, data={"system": catalogue.system, "title": "Same system"})
    risk.refresh_from_db()
    assert risk.system == catalogue.system and risk.title == "Same system"


def test_risk_scores_and_levels_follow_the_five_by_five_matrix():
    assert gov.risk_score("rare", "negligible") == 1
    assert gov.risk_score("almost_certain", "critical") == 25
    assert gov.risk_score("likely", "moderate") == 12
    assert [gov.risk_level(s) for s in (1, 4, 5, 9, 10, 16, 20, 25)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
        "critical",
        "critical",
    ]


# ---------------------------------------------------------------------------------------------
# Incidents


def test_resolving_an_incident_needs_a_resolution_and_records_who_and_when(personas, catalogue):
    actor = personas.actor(personas.contributor)
    incident = gov.do_create_incident(catalogue.system, actor=actor, data=incident_data())
    assert incident.status == "open" and incident.resolved_at is None
    with pytest.raises(ValidationError) as caught:
        gov.do_update_incident(incident, actor=actor, data={"status": "resolved"})
    assert "resolution" in caught.value.message_dict
    gov.do_update_incident(incident, actor=actor, data={"status": "resolved", "resolution": "Session isolation fixed"})
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert abs(incident.resolved_at - timezone.now()) < timedelta(minutes=1)
    resolved = entries("audits.incident")[-1]
    assert resolved.changes["resolved_by"] == "contributor"
    assert resolved.changes["status"] == {"from": "open", "to": "resolved"}
    assert resolved.changes["resolved_at"]["from"] is None and resolved.changes["resolved_at"]["to"]
    gov.do_update_incident(incident, actor=actor, data={"status": "investigating"})
    incident.refresh_from_db()
    assert incident.resolved_at is None  # re-opened


def test_an_incident_cannot_happen_in_the_future_nor_be_resolved_before_it_happened(personas, catalogue):
    actor = personas.actor(personas.contributor)
    with pytest.raises(ValidationError) as caught:
        gov.do_create_incident(
            catalogue.system, actor=actor, data=incident_data(occurred_at=timezone.now() + timedelta(days=1))
        )
    assert "occurred_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        gov.do_create_incident(
            catalogue.system,
            actor=actor,
            data=incident_data(status="resolved", resolution="x", resolved_at=timezone.now() - timedelta(days=3)),
        )
    assert "resolved_at" in caught.value.message_dict
    assert not Incident.objects.exists()


def test_incidents_link_only_visible_findings_of_checks_on_the_system_or_its_parts(personas, catalogue):
    contributor = personas.actor(personas.contributor)
    own = findings_on(personas.contributor, catalogue.model_version)
    incident = gov.do_create_incident(catalogue.system, actor=contributor, data=incident_data(), findings=own[:1])
    assert list(incident.findings.all()) == own[:1]
    assert entries("audits.incident")[-1].changes["findings"] == [str(own[0].uuid)]

    # A model of the same team that the system does not use.
    unused = do_create_asset(Model, actor=contributor, data={"name": "Unused", "owner_team": personas.team})
    unused_version = do_create_model_version(unused, actor=contributor, data={"base_model": "x"})
    elsewhere = findings_on(personas.contributor, unused_version)
    # A finding of the other team, which the contributor cannot see.
    outsider = personas.actor(personas.outsider)
    beta_model = do_create_asset(Model, actor=outsider, data={"name": "Beta", "owner_team": personas.other_team})
    beta_version = do_create_model_version(beta_model, actor=outsider, data={"base_model": "y"})
    hidden = findings_on(personas.outsider, beta_version)
    for wrong in (elsewhere[0], hidden[0]):
        with pytest.raises(ValidationError) as caught:
            gov.do_update_incident(incident, actor=contributor, data={}, findings=[own[0], wrong])
        message = caught.value.message_dict["findings"][0]
        assert str(wrong.uuid) in message and wrong.title not in message  # no detail leaks
    assert list(incident.findings.all()) == own[:1]

    # Once the system uses the model, its findings may be linked; the change is in the trail.
    do_add_component(catalogue.system, actor=contributor, role="guardrail_model", part=unused_version)
    gov.do_update_incident(incident, actor=contributor, data={}, findings=[own[0], elsewhere[0]])
    assert set(incident.findings.all()) == {own[0], elsewhere[0]}
    change = entries("audits.incident")[-1].changes["findings"]
    assert change["from"] == [str(own[0].uuid)] and len(change["to"]) == 2


def test_only_compliance_officers_delete_incidents_and_feedback(personas, catalogue):
    contributor, officer = personas.actor(personas.contributor), personas.actor(personas.officer)
    incident = gov.do_create_incident(catalogue.system, actor=contributor, data=incident_data())
    feedback = gov.do_create_feedback(catalogue.system, actor=contributor, data={"interaction": "c1", "rating": 4})
    for delete, obj in ((gov.do_delete_incident, incident), (gov.do_delete_feedback, feedback)):
        with pytest.raises(PermissionDenied):
            delete(obj, actor=contributor)
        delete(obj, actor=officer)
    assert not Incident.objects.exists() and not Feedback.objects.exists()
    assert entries("audits.incident")[-1].action == "delete"
    assert entries("audits.feedback")[-1].action == "delete"


# ---------------------------------------------------------------------------------------------
# Feedback, standards, oversight measures


def test_feedback_is_one_rating_from_1_to_5_per_interaction(personas, catalogue):
    actor = personas.actor(personas.contributor)
    gov.do_create_feedback(catalogue.system, actor=actor, data={"interaction": "c1", "rating": 4, "comment": "ok"})
    for data, field in (
        ({"interaction": "c1", "rating": 3}, "interaction"),
        ({"interaction": "c2", "rating": 7}, "rating"),
        ({"interaction": "c2", "rating": 0}, "rating"),
        ({"interaction": "  ", "rating": 3}, "interaction"),
    ):
        with pytest.raises(ValidationError) as caught:
            gov.do_create_feedback(catalogue.system, actor=actor, data=data)
        assert field in caught.value.message_dict, data
    assert Feedback.objects.count() == 1
    assert entries("audits.feedback")[0].changes["rating"] == 4


def test_standards_and_oversight_measures_are_kept_by_whoever_may_change_the_system(personas, catalogue):
    actor = personas.actor(personas.contributor)
    standard = gov.do_create_applied_standard(
        catalogue.system,
        actor=actor,
        data={"name": "AI management system", "kind": "standard", "reference": "ISO/IEC 42001:2023"},
    )
    gov.do_update_applied_standard(standard, actor=actor, data={"scope": "The whole chatbot lifecycle"})
    measure = gov.do_create_oversight_measure(
        catalogue.system,
        actor=actor,
        data={"kind": "on_the_loop", "description": "Agents review flagged chats", "responsible": "Support lead"},
    )
    gov.do_update_oversight_measure(measure, actor=actor, data={"frequency": "daily"})
    assert [e.action for e in entries("audits.appliedstandard")] == ["create", "update"]
    assert entries("audits.appliedstandard")[1].changes == {"scope": {"from": "", "to": "The whole chatbot lifecycle"}}
    assert entries("audits.oversightmeasure")[1].changes == {"frequency": {"from": "", "to": "daily"}}
    with pytest.raises(ValidationError) as caught:
        gov.do_create_oversight_measure(catalogue.system, actor=actor, data={"kind": "vibes", "description": "x"})
    assert {"kind", "responsible"} <= set(caught.value.message_dict)
    with pytest.raises(PermissionDenied):
        gov.do_delete_applied_standard(standard, actor=personas.actor(personas.auditor))
    gov.do_delete_applied_standard(standard, actor=actor)
    gov.do_delete_oversight_measure(measure, actor=actor)
    assert not AppliedStandard.objects.exists() and not OversightMeasure.objects.exists()
    assert entries("audits.oversightmeasure")[-1].changes["description"] == "Agents review flagged chats"


def test_the_feedback_summary_counts_averages_and_quotes_the_newest_comments(personas, catalogue):
    actor = personas.actor(personas.contributor)
    assert gov.feedback_summary(Feedback.objects.all()) == {
        "count": 0,
        "mean_rating": None,
        "distribution": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0},
        "low_count": 0,
        "low_share": None,
        "latest_comments": [],
    }
    start = timezone.now() - timedelta(days=10)
    for i, rating in enumerate([5, 5, 4, 2, 1, 1, 3, 5]):
        gov.do_create_feedback(
            catalogue.system,
            actor=actor,
            data={
                "interaction": f"c{i}",
                "rating": rating,
                "comment": f"comment {i}" if i != 7 else "",
                "occurred_at": start + timedelta(days=i),
            },
        )
    summary = gov.feedback_summary(Feedback.objects.filter(system=catalogue.system), latest=3)
    assert summary["count"] == 8
    assert summary["mean_rating"] == pytest.approx(26 / 8)
    assert summary["distribution"] == {1: 2, 2: 1, 3: 1, 4: 1, 5: 3}
    assert summary["low_count"] == 3 and summary["low_share"] == pytest.approx(3 / 8)
    assert [c["comment"] for c in summary["latest_comments"]] == ["comment 6", "comment 5", "comment 4"]
    assert summary["latest_comments"][0]["rating"] == 3
    json.dumps(summary)  # ready for a report's evidence snapshot
    assert gov.feedback_summary(Feedback.objects.filter(rating__gte=4))["count"] == 4


# ---------------------------------------------------------------------------------------------
# Feedback import


def test_importing_a_csv_file_of_ratings(personas, catalogue):
    actor = personas.actor(personas.contributor)
    result = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(GOOD_CSV), name="march.csv")
    assert (result.rows, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
    rows = {fb.interaction: fb for fb in Feedback.objects.filter(system=catalogue.system)}
    assert {k: v.rating for k, v in rows.items()} == {"conv-1": 5, "conv-2": 5, "conv-3": 1, "conv-4": 2}
    assert rows["conv-2"].occurred_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # naive means UTC
    assert rows["conv-3"].occurred_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert rows["conv-4"].occurred_at == datetime(2026, 3, 3, tzinfo=UTC)
    assert rows["conv-3"].comment == "Wrong refund policy" and rows["conv-1"].source == "march.csv"
    assert result.summary["count"] == 4 and result.summary["distribution"] == {1: 1, 2: 1, 3: 0, 4: 0, 5: 2}
    entry = AuditEntry.objects.filter(object_id=str(catalogue.system.uuid)).latest("seq")
    imported = entry.changes["feedback_import"]
    assert entry.action == "update" and entry.team_slug == "alpha"
    assert imported["source"] == "march.csv" and imported["created"] == 4 and len(imported["sha256"]) == 64
    assert sorted(imported["created_interactions"]) == ["conv-1", "conv-2", "conv-3", "conv-4"]


def test_importing_json_lines_and_semicolon_separated_csv(personas, catalogue):
    actor = personas.actor(personas.contributor)
    lines = "\n".join(
        json.dumps(row)
        for row in (
            {"interaction": "j1", "rating": 4, "comment": "fine", "occurred_at": "2026-04-01T08:00:00Z"},
            {"interaction": "j2", "rating": "down"},
            {"interaction": 3, "rating": 5, "comment": None},
        )
    )
    result = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(lines, "f.jsonl"), name="f.jsonl")
    assert result.created == 3
    assert Feedback.objects.get(interaction="j2").rating == 1
    assert Feedback.objects.get(interaction="3").comment == ""
    spanish = "Interaction;Rating;Comment\ns1;4;Bien, gracias\ns2;1;Mal\n"
    result = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(spanish), name="es.csv")
    assert result.created == 2 and Feedback.objects.get(interaction="s1").comment == "Bien, gracias"


def test_reimporting_updates_the_interactions_already_on_record(personas, catalogue):
    actor = personas.actor(personas.contributor)
    no_dates = "interaction,rating,comment\nn1,4,\nn2,3,meh\n"
    gov.do_import_feedback(catalogue.system, actor=actor, file=upload(GOOD_CSV), name="march.csv")
    gov.do_import_feedback(catalogue.system, actor=actor, file=upload(no_dates), name="undated.csv")
    first_time = Feedback.objects.get(interaction="n1").occurred_at
    again = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(GOOD_CSV), name="march.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    again = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(no_dates), name="undated.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Feedback.objects.get(interaction="n1").occurred_at == first_time  # an undated row keeps its time
    changed = GOOD_CSV.replace("conv-4,2,Too slow", "conv-4,3,Too slow but right") + "conv-5,5,New\n"
    result = gov.do_import_feedback(catalogue.system, actor=actor, file=upload(changed), name="march-v2.csv")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 3)
    assert Feedback.objects.filter(system=catalogue.system).count() == 7
    updated = Feedback.objects.get(interaction="conv-4")
    assert (updated.rating, updated.comment, updated.source) == (3, "Too slow but right", "march-v2.csv")
    imported = AuditEntry.objects.filter(object_id=str(catalogue.system.uuid)).latest("seq").changes["feedback_import"]
    assert imported["updated_interactions"]["conv-4"]["rating"] == {"from": 2, "to": 3}
    assert imported["created_interactions"] == ["conv-5"]


BAD_FILES = [
    pytest.param(
        "interaction,comment\nc1,hello\n",
        "feedback.csv",
        ["no “rating” column", "Columns found: “interaction”, “comment”"],
        id="missing-column",
    ),
    pytest.param(
        "interaction,rating,colour\nc1,3,red\n",
        "feedback.csv",
        ["column Custodia does not read: “colour”"],
        id="unknown",
    ),
    pytest.param(
        "interaction,rating,score\nc1,3,4\n", "feedback.csv", ["names the rating twice", "“score”"], id="twice"
    ),
    pytest.param(
        "interaction,rating\nc1,5\nc2,7\n",
        "feedback.csv",
        ["Row 2 (line 3 of the file), column “rating”", "“7” is not a rating", "from 1 (bad) to 5 (good)"],
        id="rating-7",
    ),
    pytest.param(
        "interaction,rating\nc1,\n",
        "feedback.csv",
        ["Row 1 (line 2 of the file)", "the rating is empty"],
        id="no-rating",
    ),
    pytest.param(
        "interaction,rating,occurred_at\nc1,5,2026-03-01\nc2,4,yesterday\n",
        "feedback.csv",
        ["Row 2 (line 3 of the file), column “occurred_at”", "“yesterday” is not a date and time", "ISO 8601"],
        id="bad-date",
    ),
    pytest.param("interaction,rating\n,4\n", "feedback.csv", ["Row 1", "the interaction id is empty"], id="no-id"),
    pytest.param(
        "interaction,rating\nc1,4\nc1,5\n",
        "feedback.csv",
        ["“c1” appears twice in the file (row 1 and row 2)"],
        id="duplicate-interaction",
    ),
    pytest.param(
        "interaction,rating\nc1,4,extra\n", "feedback.csv", ["Row 1 (line 2 of the file) has 3 values"], id="extra"
    ),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "feedback.csv", ["not a text table"], id="binary"),
    pytest.param(b"", "feedback.csv", ["The file is empty"], id="empty"),
    pytest.param(b"  \n\n", "feedback.csv", ["The file is empty"], id="blank"),
    pytest.param("interaction,rating\n", "feedback.csv", ["header row but no ratings"], id="header-only"),
    pytest.param(
        "interaction,rating,comment\nc1,4,ok\nc2,2,Ma\xf1ana no\n".encode("latin-1"),
        "feedback.csv",
        ["not UTF-8", "line 3", "UTF-8"],
        id="latin-1",
    ),
    pytest.param("interaction,rating\nc1,4\n".encode("utf-16"), "feedback.csv", ["UTF-16", "UTF-8"], id="utf-16"),
    pytest.param(
        '{"interaction": "c1", "rating": 4}\n{"interaction": "c2", "rating": 4\n',
        "feedback.jsonl",
        ["Line 2 is not valid JSON"],
        id="broken-json",
    ),
    pytest.param(
        '{"interaction": "c1", "rating": 4}\n{"interaction": "c2", "rating": true}\n',
        "feedback.jsonl",
        ["Line 2, field “rating”", "“true” is not a rating"],
        id="json-bool",
    ),
    pytest.param(
        '{"interaction": "c1"}\n', "feedback.jsonl", ["Line 1 has no “rating” column"], id="json-missing-field"
    ),
    pytest.param(
        '[{"interaction": "c1", "rating": 4}]\n', "feedback.json", ["JSON array", "one object per line"], id="array"
    ),
]


@pytest.mark.parametrize(("content", "name", "fragments"), BAD_FILES)
def test_a_bad_feedback_file_is_explained_and_nothing_is_written(personas, catalogue, content, name, fragments):
    actor = personas.actor(personas.contributor)
    gov.do_create_feedback(catalogue.system, actor=actor, data={"interaction": "c1", "rating": 3})
    seq = AuditEntry.objects.latest("seq").seq
    with pytest.raises(ValidationError) as caught:
        gov.do_import_feedback(catalogue.system, actor=actor, file=upload(content, name), name=name)
    (message,) = caught.value.message_dict["file"]
    for fragment in fragments:
        assert fragment in message, message
    assert list(Feedback.objects.values_list("interaction", "rating")) == [("c1", 3)]
    assert AuditEntry.objects.latest("seq").seq == seq


def test_an_import_with_one_bad_row_late_in_the_file_writes_nothing(personas, catalogue):
    body = "interaction,rating\n" + "".join(f"c{i},4\n" for i in range(3000)) + "c3000,9\n"
    with pytest.raises(ValidationError) as caught:
        gov.do_import_feedback(
            catalogue.system, actor=personas.actor(personas.contributor), file=upload(body), name="big.csv"
        )
    assert "Row 3001 (line 3002 of the file)" in caught.value.message_dict["file"][0]
    assert not Feedback.objects.exists()


def test_a_feedback_file_over_the_limit_is_refused(personas, catalogue, monkeypatch):
    monkeypatch.setattr(gov, "FEEDBACK_IMPORT_MAX_BYTES", 100)
    body = "interaction,rating\n" + "".join(f"c{i},4\n" for i in range(50))
    with pytest.raises(ValidationError) as caught:
        gov.do_import_feedback(
            catalogue.system, actor=personas.actor(personas.contributor), file=upload(body), name="big.csv"
        )
    # The upload's size is known, so it is refused before it is read.
    assert caught.value.message_dict["file"] == [
        f"The file is {filesizeformat(len(body))}; the limit for feedback files is 100\xa0bytes."
    ]
    # A plain stream without a size is cut at the limit too.
    with pytest.raises(ValidationError):
        gov.do_import_feedback(
            catalogue.system,
            actor=personas.actor(personas.contributor),
            file=io.BytesIO(body.encode()),
            name="big.csv",
        )
    assert not Feedback.objects.exists()


def test_auditors_cannot_import_and_outsiders_do_not_find_the_system(personas, catalogue):
    with pytest.raises(PermissionDenied):
        gov.do_import_feedback(
            catalogue.system, actor=personas.actor(personas.auditor), file=upload(GOOD_CSV), name="f.csv"
        )
    with pytest.raises(Http404):
        gov.do_import_feedback(
            catalogue.system, actor=personas.actor(personas.outsider), file=upload(GOOD_CSV), name="f.csv"
        )
    assert not Feedback.objects.exists()


# ---------------------------------------------------------------------------------------------
# Pages


def test_the_system_page_shows_the_governance_panel_with_links_for_those_who_may_change_it(personas, catalogue):
    contributor = personas.actor(personas.contributor)
    gov.do_create_risk(
        catalogue.system, actor=contributor, data=risk_data(likelihood="almost_certain", severity="critical")
    )
    gov.do_create_risk(
        catalogue.system,
        actor=contributor,
        data=risk_data(title="Stale review", likelihood="rare", severity="minor", review_date=date(2020, 1, 1)),
    )
    gov.do_create_incident(catalogue.system, actor=contributor, data=incident_data())
    gov.do_import_feedback(catalogue.system, actor=contributor, file=upload(GOOD_CSV), name="march.csv")
    gov.do_create_applied_standard(
        catalogue.system, actor=contributor, data={"name": "ISO/IEC 42001", "kind": "standard"}
    )
    gov.do_create_oversight_measure(
        catalogue.system,
        actor=contributor,
        data={"kind": "review", "description": "Weekly sample review", "responsible": "QA lead"},
    )
    page = client_for(personas.contributor).get(detail_url(catalogue.system)).content.decode()
    assert 'data-testid="governance-panel"' in page
    assert 'data-testid="add-risk"' in page and 'data-testid="import-feedback"' in page
    assert 'class="badge badge--severity-critical" data-testid="risk-score" title="critical">25<' in page
    assert 'data-testid="review-overdue"' in page
    assert "Bot leaked an order number" in page and "ISO/IEC 42001" in page and "Weekly sample review" in page
    assert 'data-testid="feedback-count">4<' in page and "Wrong refund policy" in page
    assert 'data-testid="risk-matrix"' in page
    auditor_page = client_for(personas.auditor).get(detail_url(catalogue.system)).content.decode()
    assert 'data-testid="governance-panel"' in auditor_page and "Wrong refunds promised" in auditor_page
    assert 'data-testid="add-risk"' not in auditor_page and "/edit/" not in auditor_page.split("governance-panel")[1]


def test_adding_and_editing_a_risk_through_the_pages(personas, catalogue):
    client = client_for(personas.contributor)
    url = reverse("audits:risk_create", kwargs={"system": catalogue.system.uuid})
    assert client.get(url).status_code == 200
    form = {
        "title": "Biased answers",
        "affected_people": "Non-native speakers",
        "likelihood": "possible",
        "severity": "major",
        "residual_risk": "medium",
        "review_date": "2027-01-31",
        "status": "open",
        "owner": personas.contributor.pk,
    }
    response = client.post(url, {**form, "title": ""})
    assert response.status_code == 200 and 'data-testid="error-title"' in response.content.decode()
    response = client.post(url, {**form, "status": "closed"})  # not offered to contributors
    assert response.status_code == 200 and 'data-testid="error-status"' in response.content.decode()
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == detail_url(catalogue.system) + "#governance"
    risk = Risk.objects.get()
    assert risk.owner == personas.contributor and risk.severity == "major"
    edit = reverse("audits:risk_edit", kwargs={"uuid": risk.uuid})
    page = client.get(edit).content.decode()
    assert 'value="Biased answers"' in page and 'data-testid="delete-button"' not in page
    response = client.post(edit, {**form, "mitigation": "Bilingual test set"})
    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.mitigation == "Bilingual test set"
    assert entries("audits.risk")[-1].changes == {"mitigation": {"from": "", "to": "Bilingual test set"}}


def test_deleting_a_risk_through_the_pages_takes_a_compliance_officer(personas, catalogue):
    risk = gov.do_create_risk(catalogue.system, actor=personas.actor(personas.contributor), data=risk_data())
    url = reverse("audits:risk_delete", kwargs={"uuid": risk.uuid})
    assert client_for(personas.contributor).get(url).status_code == 403
    assert client_for(personas.contributor).post(url).status_code == 403
    officer = client_for(personas.officer)
    assert (
        'data-testid="delete-button"'
        in officer.get(reverse("audits:risk_edit", kwargs={"uuid": risk.uuid})).content.decode()
    )
    assert officer.get(url).status_code == 200
    response = officer.post(url)
    assert response.status_code == 302 and not Risk.objects.exists()


def test_standards_are_removed_through_the_pages_by_contributors(personas, catalogue):
    standard = gov.do_create_applied_standard(
        catalogue.system, actor=personas.actor(personas.contributor), data={"name": "EN 301 549", "kind": "harmonised"}
    )
    client = client_for(personas.contributor)
    here = reverse("audits:governance", kwargs={"system": catalogue.system.uuid})
    response = client.post(reverse("audits:standard_delete", kwargs={"uuid": standard.uuid}), {"next": here})
    assert response.status_code == 302 and response["Location"] == here
    assert not AppliedStandard.objects.exists()


def test_recording_an_incident_with_linked_findings_through_the_page(personas, catalogue):
    finding = findings_on(personas.contributor, catalogue.model_version)[0]
    client = client_for(personas.contributor)
    url = reverse("audits:incident_create", kwargs={"system": catalogue.system.uuid})
    page = client.get(url).content.decode()
    assert finding.title in page
    response = client.post(
        url,
        {
            "title": "Hallucinated policy",
            "description": "Told a customer refunds take 1 day",
            "occurred_at": "2026-01-10T09:15",
            "severity": "medium",
            "status": "open",
            "findings": [finding.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    incident = Incident.objects.get()
    assert list(incident.findings.all()) == [finding]
    assert incident.occurred_at == datetime(2026, 1, 10, 9, 15, tzinfo=UTC)


def test_every_governance_page_is_404_for_an_outsider_and_403_for_an_auditor(personas, catalogue):
    actor = personas.actor(personas.contributor)
    records = {
        "risk": gov.do_create_risk(catalogue.system, actor=actor, data=risk_data()),
        "incident": gov.do_create_incident(catalogue.system, actor=actor, data=incident_data()),
        "feedback": gov.do_create_feedback(catalogue.system, actor=actor, data={"interaction": "c1", "rating": 2}),
        "standard": gov.do_create_applied_standard(catalogue.system, actor=actor, data={"name": "S", "kind": "code"}),
        "oversight": gov.do_create_oversight_measure(
            catalogue.system, actor=actor, data={"kind": "override", "description": "Stop button", "responsible": "Ops"}
        ),
    }
    system = {"system": catalogue.system.uuid}
    write_urls = [reverse("audits:feedback_import", kwargs=system)]
    for kind, obj in records.items():
        write_urls.append(reverse(f"audits:{kind}_create", kwargs=system))
        write_urls.append(reverse(f"audits:{kind}_edit", kwargs={"uuid": obj.uuid}))
        write_urls.append(reverse(f"audits:{kind}_delete", kwargs={"uuid": obj.uuid}))
    outsider, auditor = client_for(personas.outsider), client_for(personas.auditor)
    governance = reverse("audits:governance", kwargs=system)
    assert outsider.get(governance).status_code == 404
    assert auditor.get(governance).status_code == 200
    for url in write_urls:
        assert outsider.get(url).status_code == 404, url
        assert outsider.post(url).status_code == 404, url
        assert auditor.get(url).status_code == 403, url
        assert auditor.post(url).status_code == 403, url
    assert Risk.objects.count() == Incident.objects.count() == Feedback.objects.count() == 1
    # Unknown uuids are 404 too.
    assert (
        client_for(personas.admin)
        .get(reverse("audits:risk_edit", kwargs={"uuid": records["incident"].uuid}))
        .status_code
        == 404
    )


def test_the_governance_pages_keep_csrf_protection(personas, catalogue):
    client = client_for(personas.contributor, csrf=True)
    url = reverse("audits:standard_create", kwargs={"system": catalogue.system.uuid})
    assert client.post(url, {"name": "S", "kind": "code"}).status_code == 403
    assert not AppliedStandard.objects.exists()


def test_importing_feedback_through_the_page_shows_what_was_imported(personas, catalogue):
    client = client_for(personas.contributor)
    url = reverse("audits:feedback_import", kwargs={"system": catalogue.system.uuid})
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": upload(GOOD_CSV, "march.csv")})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-result"' in page
    assert 'data-testid="import-created">4<' in page and 'data-testid="import-unchanged">0<' in page
    assert Feedback.objects.count() == 4
    response = client.post(url, {"file": upload(GOOD_CSV, "march.csv")})
    assert 'data-testid="import-unchanged">4<' in response.content.decode()
    response = client.post(url, {"file": upload("interaction,rating\nx1,7\n", "bad.csv")})
    page = response.content.decode()
    assert 'data-testid="import-result"' not in page and 'data-testid="error-file"' in page
    assert "“7” is not a rating" in page
    assert Feedback.objects.count() == 4


def test_the_governance_page_lists_feedback_page_by_page(personas, catalogue):
    actor = personas.actor(personas.contributor)
    gov.do_import_feedback(catalogue.system, actor=actor, file=upload(GOOD_CSV), name="march.csv")
    url = reverse("audits:governance", kwargs={"system": catalogue.system.uuid})
    page = client_for(personas.auditor).get(url + "?per_page=2").content.decode()
    assert 'data-testid="feedback-list"' in page
    assert "conv-4" in page and "conv-3" in page and "conv-1" not in page.split('data-testid="feedback-list"')[1]


# ---------------------------------------------------------------------------------------------
# API


def api_risk(catalogue: Any, **overrides: Any) -> dict[str, Any]:
    data = risk_data(**overrides)
    data["review_date"] = data["review_date"].isoformat()
    return {"system": str(catalogue.system.uuid), **data}


def test_risks_round_trip_through_the_api(personas, catalogue):
    token = personas.client(token=personas.write_token)
    response = token.post("/api/v1/risks/", api_risk(catalogue, owner="officer"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] == 12 and body["level"] == "high" and body["owner"] == "officer"
    assert body["created_by"] == "contributor" and body["system"] == str(catalogue.system.uuid)
    url = f"/api/v1/risks/{body['uuid']}/"
    listed = token.get(f"/api/v1/risks/?system={catalogue.system.uuid}").json()
    assert [r["uuid"] for r in listed["results"]] == [body["uuid"]]
    response = token.patch(url, {"mitigation": "Human review of refund answers", "status": "mitigating"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "mitigating"
    assert entries("audits.risk")[-1].changes["mitigation"]["to"] == "Human review of refund answers"
    assert token.put(url, api_risk(catalogue), format="json").status_code == 405
    # The token's user is a contributor: closing and deleting take a compliance officer.
    assert token.patch(url, {"status": "closed"}, format="json").status_code == 403
    assert token.delete(url).status_code == 403
    officer = personas.client(personas.officer)
    assert officer.patch(url, {"status": "closed"}, format="json").status_code == 200
    assert officer.delete(url).status_code == 204
    assert not Risk.objects.exists() and token.get(url).status_code == 404


def test_bad_api_input_is_a_400_naming_the_field(personas, catalogue):
    token = personas.client(token=personas.write_token)
    cases = [
        (api_risk(catalogue, likelihood="sometimes"), "likelihood"),
        (api_risk(catalogue, colour="red"), "colour"),
        ({**api_risk(catalogue), "system": "00000000-0000-0000-0000-000000000000"}, "system"),
        ({**api_risk(catalogue), "system": "not-a-uuid"}, "system"),
        (api_risk(catalogue, owner="outsider"), "owner"),
        ({**api_risk(catalogue), "review_date": "soon"}, "review_date"),
    ]
    for payload, field in cases:
        response = token.post("/api/v1/risks/", payload, format="json")
        assert response.status_code == 400 and field in response.json(), (field, response.content)
    response = token.post("/api/v1/risks/", ["not", "an", "object"], format="json")
    assert response.status_code == 400
    response = token.post(
        "/api/v1/feedback/",
        {"system": str(catalogue.system.uuid), "interaction": "c1", "rating": 7},
        format="json",
    )
    assert response.status_code == 400 and "rating" in response.json()
    first = token.post(
        "/api/v1/feedback/", {"system": str(catalogue.system.uuid), "interaction": "c1", "rating": 4}, format="json"
    )
    assert first.status_code == 201
    again = token.post(
        "/api/v1/feedback/", {"system": str(catalogue.system.uuid), "interaction": "c1", "rating": 5}, format="json"
    )
    assert again.status_code == 400 and "interaction" in again.json()
    assert token.get("/api/v1/risks/?system=nope").status_code == 400
    assert not Risk.objects.exists() and Feedback.objects.count() == 1


def test_a_record_cannot_be_moved_to_another_system_through_the_api(personas, catalogue):
    admin = personas.client(personas.admin)
    other = beta_system(personas)
    body = admin.post("/api/v1/risks/", api_risk(catalogue), format="json").json()
    response = admin.patch(f"/api/v1/risks/{body['uuid']}/", {"system": str(other.uuid)}, format="json")
    assert response.status_code == 400 and "system" in response.json()
    assert Risk.objects.get().system == catalogue.system


def test_outsiders_get_404_and_see_nothing_through_the_api(personas, catalogue):
    actor = personas.actor(personas.contributor)
    records = {
        "risks": gov.do_create_risk(catalogue.system, actor=actor, data=risk_data()),
        "incidents": gov.do_create_incident(catalogue.system, actor=actor, data=incident_data()),
        "feedback": gov.do_create_feedback(catalogue.system, actor=actor, data={"interaction": "c1", "rating": 2}),
        "standards": gov.do_create_applied_standard(catalogue.system, actor=actor, data={"name": "S", "kind": "code"}),
        "oversight-measures": gov.do_create_oversight_measure(
            catalogue.system, actor=actor, data={"kind": "override", "description": "Stop", "responsible": "Ops"}
        ),
    }
    outsider = personas.client(personas.outsider)
    insider = personas.client(personas.auditor)
    for path, obj in records.items():
        url = f"/api/v1/{path}/{obj.uuid}/"
        assert insider.get(url).status_code == 200, url
        assert outsider.get(url).status_code == 404, url
        assert outsider.patch(url, {}, format="json").status_code == 404, url
        assert outsider.delete(url).status_code == 404, url
        assert outsider.get(f"/api/v1/{path}/").json()["count"] == 0, path
        assert outsider.get(f"/api/v1/{path}/?system={catalogue.system.uuid}").json()["count"] == 0, path
        assert insider.get(f"/api/v1/{path}/").json()["count"] == 1, path
    response = outsider.post("/api/v1/risks/", api_risk(catalogue), format="json")
    assert response.status_code == 400 and "system" in response.json()  # as if it did not exist
    summary = outsider.get(f"/api/v1/feedback/summary/?system={catalogue.system.uuid}").json()
    assert summary["count"] == 0
    assert Risk.objects.count() == 1


def test_read_only_principals_cannot_write_through_the_api(personas, catalogue):
    risk = gov.do_create_risk(catalogue.system, actor=personas.actor(personas.contributor), data=risk_data())
    for client in (personas.client(token=personas.read_token), personas.client(personas.auditor)):
        assert client.post("/api/v1/risks/", api_risk(catalogue), format="json").status_code == 403
        assert client.patch(f"/api/v1/risks/{risk.uuid}/", {"title": "x"}, format="json").status_code == 403
        assert client.delete(f"/api/v1/risks/{risk.uuid}/").status_code == 403
        assert client.get(f"/api/v1/risks/{risk.uuid}/").status_code == 200
    assert Risk.objects.get().title == "Wrong refunds promised"


def test_incidents_round_trip_through_the_api_with_their_findings(personas, catalogue):
    finding = findings_on(personas.contributor, catalogue.model_version)[0]
    token = personas.client(token=personas.write_token)
    payload = {
        "system": str(catalogue.system.uuid),
        "title": "Order number leaked",
        "description": "Another customer's order number in an answer",
        "occurred_at": "2026-02-01T10:00:00Z",
        "severity": "critical",
        "findings": [str(finding.uuid)],
    }
    response = token.post("/api/v1/incidents/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["findings"] == [str(finding.uuid)] and body["status"] == "open"
    url = f"/api/v1/incidents/{body['uuid']}/"
    response = token.patch(url, {"status": "resolved"}, format="json")
    assert response.status_code == 400 and "resolution" in response.json()
    response = token.patch(url, {"status": "resolved", "resolution": "Cache keyed per session"}, format="json")
    assert response.status_code == 200 and response.json()["resolved_at"]
    assert token.patch(url, {"findings": []}, format="json").json()["findings"] == []
    response = token.patch(url, {"findings": ["00000000-0000-0000-0000-000000000000"]}, format="json")
    assert response.status_code == 400 and "findings" in response.json()
    assert token.delete(url).status_code == 403
    assert personas.client(personas.officer).delete(url).status_code == 204


def test_standards_and_oversight_measures_round_trip_through_the_api(personas, catalogue):
    token = personas.client(token=personas.write_token)
    system = str(catalogue.system.uuid)
    standard = token.post(
        "/api/v1/standards/",
        {"system": system, "name": "AI management system", "kind": "standard", "reference": "ISO/IEC 42001:2023"},
        format="json",
    )
    assert standard.status_code == 201, standard.content
    url = f"/api/v1/standards/{standard.json()['uuid']}/"
    assert token.patch(url, {"adopted_on": "2025-06-01"}, format="json").json()["adopted_on"] == "2025-06-01"
    assert token.delete(url).status_code == 204
    measure = token.post(
        "/api/v1/oversight-measures/",
        {"system": system, "kind": "in_the_loop", "description": "An agent approves refunds", "responsible": "Agent"},
        format="json",
    )
    assert measure.status_code == 201, measure.content
    url = f"/api/v1/oversight-measures/{measure.json()['uuid']}/"
    assert token.patch(url, {"kind": "sideways"}, format="json").status_code == 400
    assert token.patch(url, {"frequency": "every refund"}, format="json").json()["frequency"] == "every refund"
    assert token.delete(url).status_code == 204
    assert [e.action for e in entries("audits.oversightmeasure")] == ["create", "update", "delete"]


def test_feedback_is_imported_and_summarised_through_the_api(personas, catalogue):
    token = personas.client(token=personas.write_token)
    system = str(catalogue.system.uuid)
    response = token.post(
        "/api/v1/feedback/import/", {"system": system, "file": upload(GOOD_CSV, "march.csv")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows"], body["created"], body["updated"], body["unchanged"]) == (4, 4, 0, 0)
    assert body["summary"]["distribution"] == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 2}
    again = token.post(
        "/api/v1/feedback/import/", {"system": system, "file": upload(GOOD_CSV, "march.csv")}, format="multipart"
    )
    assert again.json()["unchanged"] == 4
    bad = token.post(
        "/api/v1/feedback/import/",
        {"system": system, "file": upload("interaction,rating\nc9,4\nc10,yes\n", "bad.csv")},
        format="multipart",
    )
    assert bad.status_code == 400 and "Row 2 (line 3 of the file), column “rating”" in bad.json()["file"][0]
    outsider = personas.client(personas.outsider).post(
        "/api/v1/feedback/import/", {"system": system, "file": upload(GOOD_CSV)}, format="multipart"
    )
    assert outsider.status_code == 400 and "system" in outsider.json()
    read_only = personas.client(token=personas.read_token).post(
        "/api/v1/feedback/import/", {"system": system, "file": upload(GOOD_CSV)}, format="multipart"
    )
    assert read_only.status_code == 403
    assert Feedback.objects.count() == 4
    summary = token.get(f"/api/v1/feedback/summary/?system={system}").json()
    assert summary["count"] == 4 and summary["mean_rating"] == pytest.approx(13 / 4)
    assert summary["low_share"] == pytest.approx(0.5)
    assert summary["latest_comments"][0]["comment"] == "Too slow"
    listed = token.get(f"/api/v1/feedback/?system={system}&rating=5").json()
    assert sorted(r["interaction"] for r in listed["results"]) == ["conv-1", "conv-2"]
    one = listed["results"][0]["url"]
    assert token.patch(one, {"rating": 3}, format="json").json()["rating"] == 3
    assert token.delete(one).status_code == 403  # feedback is evidence: officers delete it


def test_the_governance_api_is_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in (
        "/api/v1/risks/",
        "/api/v1/risks/{uuid}/",
        "/api/v1/incidents/",
        "/api/v1/feedback/",
        "/api/v1/feedback/import/",
        "/api/v1/feedback/summary/",
        "/api/v1/standards/",
        "/api/v1/oversight-measures/{uuid}/",
    ):
        assert path in schema["paths"], path
    assert "put" not in schema["paths"]["/api/v1/risks/{uuid}/"]
    assert "multipart/form-data" in schema["paths"]["/api/v1/feedback/import/"]["post"]["requestBody"]["content"]


@pytest.mark.parametrize("actor_name", ["contributor", "officer", "admin"])
def test_every_change_leaves_a_verifiable_trail(personas, catalogue, actor_name):
    actor: Actor = personas.actor(getattr(personas, actor_name))
    risk = gov.do_create_risk(catalogue.system, actor=actor, data=risk_data())
    gov.do_update_risk(risk, actor=actor, data={"title": "Renamed"})
    gov.do_import_feedback(catalogue.system, actor=actor, file=upload(GOOD_CSV), name="march.csv")
    assert [e.actor_label for e in entries("audits.risk")] == [actor_name, actor_name]
    assert verify_chain().ok
