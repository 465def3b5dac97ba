"""Governance records of an AI system: risks, incidents, feedback, applied standards, oversight measures.

Who may do what (the services enforce it; pages and API only ask them):

- Creating and editing any record needs "change" on the AI system: contributors, compliance
  officers and administrators of the owning team — never auditors or read-only tokens.
- Deleting a risk, an incident or a piece of feedback also needs a compliance officer or an
  administrator (``actor.may("approve")``): they are the evidence of what could go or went wrong,
  and a register anyone can quietly empty is no register. Applied standards and oversight measures
  are the team's own declarations: whoever may change the system may remove them.
- Accepting or closing a risk is a compliance decision: compliance officers and administrators
  only. The trail entry names who closed it and when (``closed_by``, ``closed_at``).
- A resolved or closed incident needs a resolution; ``resolved_at`` is set to now unless given,
  and the trail entry names who resolved it (``resolved_by``). Re-opening clears ``resolved_at``.
- An incident links only findings the actor can see, from check runs on the system or on one of
  the dataset, model and prompt versions it uses.
- A record stays with its AI system; it cannot be moved to another one.

Every change writes its audit-trail entry (the changed fields) in the transaction of the change,
filed under the system's owner team so that the team can read it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from audits.choices import Impact, IncidentStatus, Likelihood, RiskLevel, RiskStatus
from audits.models import AppliedStandard, Feedback, Finding, Incident, OversightMeasure, Risk
from audits.models.governance import SystemRecord
from registry.models import AISystem
from registry.services.access import lock_for
from registry.services.errors import NotVisible
from trail.services import diff, record, snapshot

R = TypeVar("R", bound=SystemRecord)

EDITABLE: dict[type[SystemRecord], tuple[str, ...]] = {
    Risk: (
        "title",
        "description",
        "affected_people",
        "likelihood",
        "severity",
        "mitigation",
        "owner",
        "residual_risk",
        "review_date",
        "status",
    ),
    Incident: ("title", "description", "occurred_at", "severity", "status", "resolution", "resolved_at"),
    Feedback: ("interaction", "rating", "comment", "occurred_at", "source"),
    AppliedStandard: ("name", "kind", "reference", "scope", "adopted_on"),
    OversightMeasure: ("kind", "description", "responsible", "frequency"),
}
# Evidence of what could go or went wrong: removing it takes a compliance officer.
DELETE_NEEDS_APPROVAL: frozenset[type[SystemRecord]] = frozenset({Risk, Incident, Feedback})
DECIDED_RISK_STATUSES = frozenset({RiskStatus.ACCEPTED, RiskStatus.CLOSED})
RESOLVED_INCIDENT_STATUSES = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED})
CLOCK_SKEW = timedelta(minutes=5)


# ---------------------------------------------------------------------------------------------
# Risk scores: likelihood × severity on the usual 5 × 5 matrix


LIKELIHOOD_RANK = {value: rank for rank, value in enumerate(Likelihood.values, start=1)}
IMPACT_RANK = {value: rank for rank, value in enumerate(Impact.values, start=1)}


def risk_score(likelihood: str, severity: str) -> int:
    """Likelihood rank × severity rank, each 1..5: a score from 1 to 25 (0 when either is unknown)."""
    return LIKELIHOOD_RANK.get(likelihood, 0) * IMPACT_RANK.get(severity, 0)


def risk_level(score: int) -> str:
    """The band of a score: low (1–4), medium (5–9), high (10–16) or critical (20–25)."""
    if score >= 20:
        return RiskLevel.CRITICAL
    if score >= 10:
        return RiskLevel.HIGH
    if score >= 5:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def risk_matrix(risks: Iterable[Risk]) -> list[dict[str, Any]]:
    """Rows of the likelihood × severity matrix (most likely first), each cell counting the risks in it."""
    counts: dict[tuple[str, str], int] = {}
    for risk in risks:
        key = (risk.likelihood, risk.severity)
        counts[key] = counts.get(key, 0) + 1
    rows = []
    for likelihood, label in reversed(Likelihood.choices):
        cells = []
        for severity, severity_label in Impact.choices:
            score = risk_score(likelihood, severity)
            cells.append(
                {
                    "severity": severity,
                    "severity_label": severity_label,
                    "score": score,
                    "level": risk_level(score),
                    "count": counts.get((likelihood, severity), 0),
                }
            )
        rows.append({"likelihood": likelihood, "label": label, "cells": cells})
    return rows


# ---------------------------------------------------------------------------------------------
# Shared machinery


def _user(actor: Actor) -> Any:
    user = actor.user
    return user if user is not None and user.is_authenticated else None


def _team_slug(system: AISystem) -> str:
    return str(system.owner_team.slug)


def _state(obj: SystemRecord, findings: list[str] | None = None) -> dict[str, Any]:
    """What the trail records of a record: its fields, people by username, linked findings by uuid."""
    state = snapshot(obj)
    for noise in ("created_at", "created_by"):
        state.pop(noise, None)
    if isinstance(obj, Risk):
        state["owner"] = obj.owner.get_username() if obj.owner is not None else None
    if isinstance(obj, Incident):
        if findings is None:
            findings = sorted(str(u) for u in obj.findings.values_list("uuid", flat=True)) if obj.pk else []
        state["findings"] = findings
    return state


def _apply(obj: SystemRecord, data: Mapping[str, Any]) -> None:
    allowed = EDITABLE[type(obj)]
    errors: dict[str, str] = {}
    for name, value in data.items():
        if name == "system":
            if value is not None and getattr(value, "pk", None) != obj.system_id:
                errors[name] = _("An entry stays with its AI system; record it again on the other system instead.")
            continue
        if name not in allowed:
            errors[name] = _("This field cannot be set.")
            continue
        if isinstance(value, str) and name not in ("comment",):
            value = value.strip()
        setattr(obj, name, value)
    if errors:
        raise ValidationError(errors)


def _locked_record(obj: R, actor: Actor) -> tuple[AISystem, R]:
    """The system (locked for change) and a fresh locked copy of the record; 404 when either is gone."""
    system = lock_for(actor, obj.system, "change")
    model: Any = type(obj)
    locked = model.objects.select_for_update().filter(pk=obj.pk, system=system).first()
    if locked is None:
        raise NotVisible()
    return system, locked


Check = Callable[[Actor, Any, Any, dict[str, Any]], None]


def _create(
    model: type[R], system: AISystem, *, actor: Actor, data: Mapping[str, Any], check: Check | None = None
) -> R:
    with transaction.atomic():
        locked_system = lock_for(actor, system, "change")
        obj = model(system=locked_system, created_by=_user(actor))
        _apply(obj, data)
        extra: dict[str, Any] = {}
        if check is not None:
            check(actor, obj, None, extra)
        obj.full_clean()
        obj.save(force_insert=True)
        record("create", actor=actor, obj=obj, team_slug=_team_slug(locked_system), changes={**_state(obj), **extra})
    return obj


def _update(obj: R, *, actor: Actor, data: Mapping[str, Any], check: Check | None = None) -> R:
    with transaction.atomic():
        system, locked = _locked_record(obj, actor)
        before = _state(locked)
        previous = type(locked).objects.get(pk=locked.pk)
        _apply(locked, data)
        extra: dict[str, Any] = {}
        if check is not None:
            check(actor, locked, previous, extra)
        locked.full_clean()
        changes = diff(before, _state(locked))
        if changes:
            locked.updated_at = timezone.now()
            locked.save()
            record("update", actor=actor, obj=locked, team_slug=_team_slug(system), changes={**changes, **extra})
    return locked


def _delete(obj: SystemRecord, *, actor: Actor) -> None:
    with transaction.atomic():
        system, locked = _locked_record(obj, actor)
        if type(locked) in DELETE_NEEDS_APPROVAL and not actor.may("approve"):
            raise PermissionDenied(
                _("Only compliance officers and administrators may delete %(kind)s.")
                % {"kind": locked._meta.verbose_name_plural}
            )
        record("delete", actor=actor, obj=locked, team_slug=_team_slug(system), changes=_state(locked))
        locked.delete()


# ---------------------------------------------------------------------------------------------
# Risks


def _is_team_member(user: Any, system: AISystem) -> bool:
    return bool(user.is_active and user.groups.filter(pk=system.owner_team.group_id).exists())


def _check_risk(actor: Actor, risk: Risk, previous: Risk | None, extra: dict[str, Any]) -> None:
    owner_changed = previous is None or previous.owner_id != risk.owner_id
    if risk.owner is not None and owner_changed and not _is_team_member(risk.owner, risk.system):
        raise ValidationError({"owner": _("Choose a member of the team that owns this AI system.")})
    before = previous.status if previous is not None else None
    if risk.status != before and risk.status in DECIDED_RISK_STATUSES:
        if not actor.may("approve"):
            raise PermissionDenied(_("Only compliance officers and administrators may accept or close a risk."))
        if risk.status == RiskStatus.CLOSED:
            extra["closed_by"] = actor.label
            extra["closed_at"] = timezone.now()
        else:
            extra["accepted_by"] = actor.label
            extra["accepted_at"] = timezone.now()


def do_create_risk(system: AISystem, *, actor: Actor, data: Mapping[str, Any]) -> Risk:
    """Add an entry to the system's risk register."""
    return _create(Risk, system, actor=actor, data=data, check=_check_risk)


def do_update_risk(risk: Risk, *, actor: Actor, data: Mapping[str, Any]) -> Risk:
    """Change fields of a risk; accepting or closing it takes a compliance officer."""
    return _update(risk, actor=actor, data=data, check=_check_risk)


def do_delete_risk(risk: Risk, *, actor: Actor) -> None:
    """Remove a risk from the register (compliance officers and administrators)."""
    _delete(risk, actor=actor)


# ---------------------------------------------------------------------------------------------
# Incidents


def linkable_findings(actor: Actor, system: AISystem) -> QuerySet[Finding]:
    """Findings the actor can see from checks on the system or on the versions it uses."""
    from registry.models import SystemComponent

    components = SystemComponent.objects.filter(system=system)
    on_system = (
        Q(run__system=system)
        | Q(run__dataset_version__in=components.filter(dataset_version__isnull=False).values("dataset_version"))
        | Q(run__model_version__in=components.filter(model_version__isnull=False).values("model_version"))
        | Q(run__prompt_version__in=components.filter(prompt_version__isnull=False).values("prompt_version"))
    )
    return Finding.objects.visible_to(actor).filter(on_system)


def _finding_uuids(actor: Actor, system: AISystem, findings: Iterable[Finding]) -> list[str]:
    wanted = {finding.pk: finding for finding in findings}
    allowed = set(linkable_findings(actor, system).filter(pk__in=list(wanted)).values_list("pk", flat=True))
    refused = [str(finding.uuid) for pk, finding in wanted.items() if pk not in allowed]
    if refused:
        raise ValidationError(
            {
                "findings": _("Not a finding of a check on this AI system or the versions it uses: %(ids)s.")
                % {"ids": ", ".join(sorted(refused))}
            }
        )
    return sorted(str(finding.uuid) for finding in wanted.values())


def _check_incident(actor: Actor, incident: Incident, previous: Incident | None, extra: dict[str, Any]) -> None:
    now = timezone.now()
    if incident.occurred_at is not None and incident.occurred_at > now + CLOCK_SKEW:
        raise ValidationError({"occurred_at": _("An incident cannot have happened in the future.")})
    before = previous.status if previous is not None else None
    if incident.status in RESOLVED_INCIDENT_STATUSES:
        if not (incident.resolution or "").strip():
            raise ValidationError({"resolution": _("Say how the incident was resolved.")})
        if incident.resolved_at is None:
            incident.resolved_at = now
        if incident.resolved_at > now + CLOCK_SKEW:
            raise ValidationError({"resolved_at": _("An incident cannot be resolved in the future.")})
        if incident.occurred_at is not None and incident.resolved_at < incident.occurred_at:
            raise ValidationError({"resolved_at": _("An incident cannot be resolved before it happened.")})
        if before not in RESOLVED_INCIDENT_STATUSES:
            extra["resolved_by"] = actor.label
    else:
        incident.resolved_at = None


def _save_incident(
    actor: Actor,
    incident: Incident | None,
    system: AISystem | None,
    data: Mapping[str, Any],
    findings: Iterable[Finding] | None,
) -> Incident:
    """Create (``incident`` None) or update an incident and, when given, the findings it links."""
    with transaction.atomic():
        if incident is None:
            assert system is not None
            locked_system = lock_for(actor, system, "change")
            locked = Incident(system=locked_system, created_by=_user(actor))
            before: dict[str, Any] | None = None
            previous = None
        else:
            locked_system, locked = _locked_record(incident, actor)
            before = _state(locked)
            previous = Incident.objects.get(pk=locked.pk)
        _apply(locked, data)
        extra: dict[str, Any] = {}
        _check_incident(actor, locked, previous, extra)
        locked.full_clean()
        wanted = list(findings) if findings is not None else None
        uuids = _finding_uuids(actor, locked_system, wanted) if wanted is not None else None
        if before is None:
            locked.save(force_insert=True)
            if wanted:
                locked.findings.set(wanted)
            record(
                "create",
                actor=actor,
                obj=locked,
                team_slug=_team_slug(locked_system),
                changes={**_state(locked, uuids or []), **extra},
            )
            return locked
        changes = diff(before, _state(locked, uuids))
        if changes:
            locked.updated_at = timezone.now()
            locked.save()
            if wanted is not None:
                locked.findings.set(wanted)
            record("update", actor=actor, obj=locked, team_slug=_team_slug(locked_system), changes={**changes, **extra})
    return locked


def do_create_incident(
    system: AISystem, *, actor: Actor, data: Mapping[str, Any], findings: Iterable[Finding] = ()
) -> Incident:
    """Record an incident; ``findings`` are check findings on the system or its parts that relate to it."""
    return _save_incident(actor, None, system, data, findings)


def do_update_incident(
    incident: Incident, *, actor: Actor, data: Mapping[str, Any], findings: Iterable[Finding] | None = None
) -> Incident:
    """Change an incident; ``findings`` (when given) replaces its linked findings."""
    return _save_incident(actor, incident, None, data, findings)


def do_delete_incident(incident: Incident, *, actor: Actor) -> None:
    """Remove an incident (compliance officers and administrators)."""
    _delete(incident, actor=actor)


# ---------------------------------------------------------------------------------------------
# Feedback, one at a time


def _check_feedback(actor: Actor, feedback: Feedback, previous: Feedback | None, extra: dict[str, Any]) -> None:
    rating = feedback.rating
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Give a rating from 1 (bad) to 5 (good).")})
    if not feedback.interaction:
        raise ValidationError({"interaction": _("Give the interaction's id in your logs.")})
    clash = Feedback.objects.filter(system=feedback.system, interaction=feedback.interaction)
    if previous is not None:
        clash = clash.exclude(pk=previous.pk)
    if clash.exists():
        raise ValidationError(
            {
                "interaction": _("Feedback on interaction “%(id)s” is already on record for this AI system.")
                % {"id": feedback.interaction}
            }
        )


def do_create_feedback(system: AISystem, *, actor: Actor, data: Mapping[str, Any]) -> Feedback:
    """Record one person's rating of one interaction (one per interaction and system)."""
    return _create(Feedback, system, actor=actor, data=data, check=_check_feedback)


def do_update_feedback(feedback: Feedback, *, actor: Actor, data: Mapping[str, Any]) -> Feedback:
    return _update(feedback, actor=actor, data=data, check=_check_feedback)


def do_delete_feedback(feedback: Feedback, *, actor: Actor) -> None:
    """Remove a piece of feedback (compliance officers and administrators)."""
    _delete(feedback, actor=actor)


# ---------------------------------------------------------------------------------------------
# Applied standards and oversight measures


def do_create_applied_standard(system: AISystem, *, actor: Actor, data: Mapping[str, Any]) -> AppliedStandard:
    """Record a standard, regulation or internal policy the system follows."""
    return _create(AppliedStandard, system, actor=actor, data=data)


def do_update_applied_standard(standard: AppliedStandard, *, actor: Actor, data: Mapping[str, Any]) -> AppliedStandard:
    return _update(standard, actor=actor, data=data)


def do_delete_applied_standard(standard: AppliedStandard, *, actor: Actor) -> None:
    _delete(standard, actor=actor)


def do_create_oversight_measure(system: AISystem, *, actor: Actor, data: Mapping[str, Any]) -> OversightMeasure:
    """Record how people oversee the system: who, how and how often."""
    return _create(OversightMeasure, system, actor=actor, data=data)


def do_update_oversight_measure(
    measure: OversightMeasure, *, actor: Actor, data: Mapping[str, Any]
) -> OversightMeasure:
    return _update(measure, actor=actor, data=data)


def do_delete_oversight_measure(measure: OversightMeasure, *, actor: Actor) -> None:
    _delete(measure, actor=actor)


# ---------------------------------------------------------------------------------------------
# Feedback summary (pages, API and the audit reports)

LATEST_COMMENTS = 5
LOW_RATING = 2


def _summary(
    count: int, mean: float | None, distribution: dict[int, int], latest: list[dict[str, Any]]
) -> dict[str, Any]:
    low = sum(n for rating, n in distribution.items() if rating <= LOW_RATING)
    return {
        "count": count,
        "mean_rating": mean if count else None,
        "distribution": {rating: distribution.get(rating, 0) for rating in range(1, 6)},
        "low_count": low,
        "low_share": (low / count) if count else None,
        "latest_comments": latest,
    }


def feedback_summary(queryset: QuerySet[Feedback], *, latest: int = LATEST_COMMENTS) -> dict[str, Any]:
    """Count, mean rating, distribution and low ratings of some feedback, with the newest comments.

    Returns plain JSON-ready values: ``count`` (int), ``mean_rating`` (float, None when empty),
    ``distribution`` ({1: n, …, 5: n}), ``low_count`` and ``low_share`` (ratings ≤ 2; the share is
    0..1, None when empty) and ``latest_comments`` (up to ``latest`` non-empty comments, newest
    first: interaction, rating, comment, occurred_at as ISO 8601, source). Pass a queryset already
    limited to what the reader may see (``Feedback.objects.visible_to(actor)…``).
    """
    plain = queryset.order_by()
    aggregates: dict[str, Any] = plain.aggregate(
        count=Count("pk"),
        mean=Avg("rating"),
        **{f"r{rating}": Count("pk", filter=Q(rating=rating)) for rating in range(1, 6)},
    )
    count = int(aggregates["count"] or 0)
    comments = [
        {
            "interaction": row.interaction,
            "rating": row.rating,
            "comment": row.comment,
            "occurred_at": row.occurred_at.isoformat(),
            "source": row.source,
        }
        for row in plain.exclude(comment="").order_by("-occurred_at", "-pk")[:latest]
    ]
    mean = float(aggregates["mean"]) if count else None
    return _summary(count, mean, {r: int(aggregates[f"r{r}"] or 0) for r in range(1, 6)}, comments)


# ---------------------------------------------------------------------------------------------
# Feedback import

# Feedback files are read whole into memory; far below the check-upload limit is plenty.
FEEDBACK_IMPORT_MAX_BYTES = 20 * 1024 * 1024
MAX_FEEDBACK_ROWS = 100_000
BATCH = 1000
# How many imported interactions the trail entry lists by id (the file's SHA-256 covers the rest).
TRAIL_LIST_LIMIT = 500

COLUMNS: dict[str, tuple[str, ...]] = {
    "interaction": ("interaction", "interaction_id", "conversation", "conversation_id", "session_id"),
    "rating": ("rating", "thumbs", "score", "stars"),
    "comment": ("comment", "comments", "feedback", "text"),
    "occurred_at": ("occurred_at", "timestamp", "time", "date", "datetime", "created_at", "when"),
}
REQUIRED_COLUMNS = ("interaction", "rating")
THUMBS = {"up": 5, "down": 1, "thumbs_up": 5, "thumbs_down": 1, "👍": 5, "👎": 1}
BINARY_MAGIC = (b"PAR1", b"PK\x03\x04", b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")


def feedback_import_limit() -> int:
    """The largest feedback file accepted, in bytes (this module's limit or the check-upload one)."""
    return int(min(FEEDBACK_IMPORT_MAX_BYTES, settings.CHECK_UPLOAD_MAX_BYTES))


@dataclass(frozen=True)
class FeedbackRow:
    interaction: str
    rating: int
    comment: str
    occurred_at: datetime | None


@dataclass
class FeedbackImportResult:
    """What an import did: rows read, created, updated and unchanged, and a summary of the file's ratings."""

    system: AISystem
    source: str
    sha256: str
    rows: int
    created: int
    updated: int
    unchanged: int
    summary: dict[str, Any] = field(default_factory=dict)


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": message})


def _canonical(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    for canonical, aliases in COLUMNS.items():
        if key in aliases:
            return canonical
    return None


def _known_columns() -> str:
    return _("interaction and rating (required), comment and occurred_at (optional)")


def _map_columns(names: list[str], where: str) -> dict[str, str]:
    """Canonical column → the name as written; refuses unknown, repeated and missing columns."""
    found: dict[str, str] = {}
    for name in names:
        canonical = _canonical(name)
        if canonical is None:
            raise _file_error(
                _("%(where)s has a column Custodia does not read: “%(name)s”. The columns are %(known)s.")
                % {"where": where, "name": name, "known": _known_columns()}
            )
        if canonical in found:
            raise _file_error(
                _("%(where)s names the %(column)s twice (“%(first)s” and “%(second)s”).")
                % {"where": where, "column": canonical, "first": found[canonical], "second": name}
            )
        found[canonical] = name
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise _file_error(
            _("%(where)s has no “%(missing)s” column. Columns found: %(found)s. The columns are %(known)s.")
            % {
                "where": where,
                "missing": "”, “".join(missing),
                "found": ", ".join(f"“{n}”" for n in names) or "—",
                "known": _known_columns(),
            }
        )
    return found


def _parse_rating(value: Any, where: str) -> int:
    rating: Any = None
    if isinstance(value, bool):
        rating = None
    elif isinstance(value, int):
        rating = value
    elif isinstance(value, float) and value.is_integer():
        rating = int(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "_").replace("-", "_")
        if text in THUMBS:
            return THUMBS[text]
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and number.is_integer():
            rating = int(number)
    if rating is None or not 1 <= rating <= 5:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if isinstance(value, str) and not value.strip():
            raise _file_error(
                _("%(where)s: the rating is empty. Use a whole number from 1 (bad) to 5 (good), or up/down.")
                % {"where": where}
            )
        raise _file_error(
            _("%(where)s: “%(value)s” is not a rating. Use a whole number from 1 (bad) to 5 (good), or up/down.")
            % {"where": where, "value": shown}
        )
    return int(rating)


def _parse_when(value: Any, where: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        raise _file_error(
            _(
                "%(where)s: “%(value)s” is not a date and time. Use ISO 8601, e.g. 2026-03-01T14:30:00Z "
                "(without a time zone it is read as UTC)."
            )
            % {"where": where, "value": shown}
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _parse_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _row(values: Mapping[str, Any], columns: Mapping[str, str], where: Callable[[str], str]) -> FeedbackRow:
    interaction = _parse_text(values.get(columns["interaction"])).strip()
    if not interaction:
        raise _file_error(_("%(where)s: the interaction id is empty.") % {"where": where(columns["interaction"])})
    if len(interaction) > 200:
        raise _file_error(
            _("%(where)s: the interaction id is longer than 200 characters.") % {"where": where(columns["interaction"])}
        )
    comment_column, when_column = columns.get("comment"), columns.get("occurred_at")
    return FeedbackRow(
        interaction=interaction,
        rating=_parse_rating(values.get(columns["rating"]), where(columns["rating"])),
        comment=_parse_text(values.get(comment_column)).strip() if comment_column else "",
        occurred_at=_parse_when(values.get(when_column), where(when_column)) if when_column else None,
    )


def _delimiter(header_line: str) -> str:
    # Spreadsheets in Spanish (and other) locales export CSV with semicolons.
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_csv(text: str) -> list[tuple[str, FeedbackRow]]:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    rows: list[tuple[str, FeedbackRow]] = []
    try:
        header: list[str] | None = None
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if header is None:
                header = [v.strip() for v in values]
                columns = _map_columns(header, _("The header row"))
                continue
            number, line = len(rows) + 1, reader.line_num
            if len(values) > len(header):
                raise _file_error(
                    _(
                        "Row %(row)s (line %(line)s of the file) has %(count)s values, "
                        "but the header names %(columns)s columns."
                    )
                    % {"row": number, "line": line, "count": len(values), "columns": len(header)}
                )
            by_name = dict(zip(header, values, strict=False))

            def where(column: str, number: int = number, line: int = line) -> str:
                return _("Row %(row)s (line %(line)s of the file), column “%(column)s”") % {
                    "row": number,
                    "line": line,
                    "column": column,
                }

            rows.append((_("row %(row)s") % {"row": number}, _row(by_name, columns, where)))
            if len(rows) > MAX_FEEDBACK_ROWS:
                raise _file_error(_("A feedback file may hold at most %(max)s rows.") % {"max": MAX_FEEDBACK_ROWS})
    except csv.Error as exc:
        raise _file_error(
            _("Line %(line)s is not valid CSV (%(error)s).") % {"line": reader.line_num, "error": exc}
        ) from None
    if header is None:
        raise _empty_file()
    if not rows:
        raise _file_error(_("The file has a header row but no ratings below it."))
    return rows


def _parse_json_lines(text: str) -> list[tuple[str, FeedbackRow]]:
    rows: list[tuple[str, FeedbackRow]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _file_error(
                _("Line %(line)s is not valid JSON (%(error)s).") % {"line": line_number, "error": exc.msg}
            ) from None
        if not isinstance(value, dict):
            if isinstance(value, list):
                raise _file_error(
                    _(
                        "Line %(line)s is a JSON array. Custodia reads JSON Lines: one object per line, "
                        "each with interaction and rating."
                    )
                    % {"line": line_number}
                )
            raise _file_error(_("Line %(line)s is not an object with interaction and rating.") % {"line": line_number})
        columns = _map_columns([str(k) for k in value], _("Line %(line)s") % {"line": line_number})

        def where(column: str, line_number: int = line_number) -> str:
            return _("Line %(line)s, field “%(column)s”") % {"line": line_number, "column": column}

        rows.append((_("line %(line)s") % {"line": line_number}, _row(value, columns, where)))
        if len(rows) > MAX_FEEDBACK_ROWS:
            raise _file_error(_("A feedback file may hold at most %(max)s rows.") % {"max": MAX_FEEDBACK_ROWS})
    return rows


def _empty_file() -> ValidationError:
    return _file_error(
        _(
            "The file is empty: it needs a header row (interaction, rating, comment, occurred_at) "
            "and one row per rating."
        )
    )


def _read_limited(file: Any) -> bytes:
    limit = feedback_import_limit()
    size = getattr(file, "size", None)
    too_large = _("The file is %(size)s; the limit for feedback files is %(limit)s.")
    if isinstance(size, int) and size > limit:
        raise _file_error(too_large % {"size": filesizeformat(size), "limit": filesizeformat(limit)})
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    data = file.read(limit + 1)
    if not isinstance(data, bytes):
        data = str(data).encode()
    if len(data) > limit:
        raise _file_error(
            too_large % {"size": _("over %(limit)s") % {"limit": filesizeformat(limit)}, "limit": filesizeformat(limit)}
        )
    return data


def parse_feedback_file(file: IO[bytes] | Any, name: str = "") -> tuple[list[FeedbackRow], str]:
    """Read a CSV (header row) or JSON Lines feedback file: its rows, and its SHA-256.

    Raises ``ValidationError({"file": …})`` naming the row or line and the column of the first
    problem, in words for the person who exported the file.
    """
    data = _read_limited(file)
    if not data.strip():
        raise _empty_file()
    head = data[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(_("The file is UTF-16 text. Save or export it as UTF-8 (in Excel: “CSV UTF-8”)."))
    if head.startswith(BINARY_MAGIC) or b"\x00" in head:
        raise _file_error(
            _("The file is not a text table. Upload the feedback as CSV (with a header row) or JSON Lines, in UTF-8.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _file_error(
            _(
                "The file is not UTF-8 text: line %(line)s has a character that is not UTF-8. "
                "Save or export it as UTF-8 (in Excel: “CSV UTF-8”)."
            )
            % {"line": line}
        ) from None
    stripped = text.lstrip()
    json_lines = name.lower().endswith(JSON_LINES_SUFFIXES) or stripped.startswith(("{", "["))
    located = _parse_json_lines(text) if json_lines else _parse_csv(text)
    if not located:
        raise _empty_file()
    seen: dict[str, str] = {}
    for where, row in located:
        if row.interaction in seen:
            raise _file_error(
                _(
                    "The interaction “%(id)s” appears twice in the file (%(first)s and %(second)s); "
                    "each interaction may be rated once."
                )
                % {"id": row.interaction, "first": seen[row.interaction], "second": where}
            )
        seen[row.interaction] = where
    return [row for _where, row in located], hashlib.sha256(data).hexdigest()


def _rows_summary(rows: list[FeedbackRow], now: datetime) -> dict[str, Any]:
    distribution: dict[int, int] = {}
    for row in rows:
        distribution[row.rating] = distribution.get(row.rating, 0) + 1
    commented = sorted((row for row in rows if row.comment), key=lambda row: row.occurred_at or now, reverse=True)[
        :LATEST_COMMENTS
    ]
    latest = [
        {
            "interaction": row.interaction,
            "rating": row.rating,
            "comment": row.comment,
            "occurred_at": (row.occurred_at or now).isoformat(),
            "source": "",
        }
        for row in commented
    ]
    mean = sum(row.rating for row in rows) / len(rows) if rows else None
    return _summary(len(rows), mean, distribution, latest)


def do_import_feedback(system: AISystem, *, actor: Actor, file: IO[bytes] | Any, name: str) -> FeedbackImportResult:
    """Import ratings from a CSV or JSON Lines file, all or nothing.

    An interaction already on record for the system is updated, not duplicated, so importing the
    same file twice changes nothing the second time. A row without ``occurred_at`` gets the time of
    the import when it is new, and keeps its time when it exists. ``name`` (e.g. the file's name)
    is stored as each row's source. One trail entry on the system records the import: the file's
    SHA-256, the counts and the interactions created and updated.
    """
    source = (name or "").strip()[:200] or _("import")
    rows, sha256 = parse_feedback_file(file, source)
    now = timezone.now()
    user = _user(actor)
    with transaction.atomic():
        locked = lock_for(actor, system, "change")
        existing: dict[str, Feedback] = {}
        interactions = [row.interaction for row in rows]
        for start in range(0, len(interactions), BATCH):
            chunk = interactions[start : start + BATCH]
            existing.update(
                {fb.interaction: fb for fb in Feedback.objects.filter(system=locked, interaction__in=chunk)}
            )
        new: list[Feedback] = []
        changed: list[Feedback] = []
        updates: dict[str, Any] = {}
        for row in rows:
            current = existing.get(row.interaction)
            if current is None:
                new.append(
                    Feedback(
                        system=locked,
                        interaction=row.interaction,
                        rating=row.rating,
                        comment=row.comment,
                        occurred_at=row.occurred_at or now,
                        source=source,
                        created_by=user,
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            when = row.occurred_at or current.occurred_at
            before = {"rating": current.rating, "comment": current.comment, "occurred_at": current.occurred_at}
            after = {"rating": row.rating, "comment": row.comment, "occurred_at": when}
            change = diff(before, after)
            if not change:
                continue
            current.rating, current.comment, current.occurred_at = row.rating, row.comment, when
            current.source, current.updated_at = source, now
            changed.append(current)
            if len(updates) < TRAIL_LIST_LIMIT:
                updates[row.interaction] = change
        Feedback.objects.bulk_create(new, batch_size=BATCH)
        if changed:
            Feedback.objects.bulk_update(
                changed, ["rating", "comment", "occurred_at", "source", "updated_at"], batch_size=BATCH
            )
        result = FeedbackImportResult(
            system=locked,
            source=source,
            sha256=sha256,
            rows=len(rows),
            created=len(new),
            updated=len(changed),
            unchanged=len(rows) - len(new) - len(changed),
            summary=_rows_summary(rows, now),
        )
        record(
            "update",
            actor=actor,
            obj=locked,
            team_slug=_team_slug(locked),
            changes={
                "feedback_import": {
                    "source": source,
                    "sha256": sha256,
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "created_interactions": [fb.interaction for fb in new[:TRAIL_LIST_LIMIT]],
                    "updated_interactions": updates,
                    "listed_in_full": len(new) <= TRAIL_LIST_LIMIT and len(changed) <= TRAIL_LIST_LIMIT,
                }
            },
        )
    return result
