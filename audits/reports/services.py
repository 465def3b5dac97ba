"""Audit reports: asking for one, generating it on a worker, signing it, and verifying a PDF against the record."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access.actors import Actor
from access.models import Team
from audits.choices import ReportKind, ReportLanguage, RunState
from audits.models import Report
from registry.models import AISystem, ModelVersion
from registry.services.errors import NotVisible
from trail.services import record

SYSTEM_ACTOR = Actor.for_system("reports")


def generator_name() -> str:
    return f"Custodia {settings.SPECTACULAR_SETTINGS.get('VERSION', '')}".strip()


def _enqueue_on_commit(report: Report) -> None:
    from audits.tasks import generate_report

    transaction.on_commit(lambda: generate_report.delay(report.pk))


def do_request_report(
    kind: str,
    *,
    actor: Actor,
    language: str = ReportLanguage.ENGLISH,
    system: AISystem | None = None,
    model_version: ModelVersion | None = None,
    team: Team | None = None,
) -> Report:
    """Queue a report on a scope the actor may see; a worker generates it once this commits."""
    if not actor.may("view") or not actor.is_authenticated:
        raise PermissionDenied(_("Your role cannot generate reports."))
    if language not in ReportLanguage.values:
        raise ValidationError({"language": _("Reports are written in English or Spanish.")})
    scope: dict[str, Any] = {}
    if kind == ReportKind.MODEL:
        if model_version is None:
            raise ValidationError({"model_version": _("Choose the model version to audit.")})
        scope["model_version"] = model_version
    elif kind == ReportKind.APPLICATION:
        if system is None:
            raise ValidationError({"system": _("Choose the AI system to audit.")})
        scope["system"] = system
    elif kind == ReportKind.GOVERNANCE:
        if team is not None and not actor.sees_everything and team not in actor.teams():
            raise NotVisible()
        scope["team"] = team
    else:
        raise ValidationError({"kind": _("Unknown report “%(kind)s”.") % {"kind": kind}})
    for obj in (system, model_version):
        if obj is not None and not type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists():
            raise NotVisible()
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, language=language, created_by=actor.user, actor_label=actor.label[:200], **scope
        )
        record(
            "create", actor=actor, obj=report, changes={"kind": kind, "scope": report.scope_label, "language": language}
        )
        _enqueue_on_commit(report)
    return report


def _progress(report: Report, fraction: float, message: str) -> None:
    Report.objects.filter(pk=report.pk).update(progress=fraction, progress_message=message[:300])


def generate(report_id: int) -> str:
    """Collect, freeze, hash and render one queued report (called by the Celery task)."""
    from audits.reports import render, snapshot

    claimed = Report.objects.filter(pk=report_id, state=RunState.QUEUED).update(
        state=RunState.RUNNING, progress=0.05, started_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    report = Report.objects.select_related("system", "model_version__model", "team", "created_by").get(pk=report_id)
    actor = Actor(user=report.created_by) if report.created_by is not None else SYSTEM_ACTOR
    try:
        report.generated_at = timezone.now().replace(microsecond=0)
        report.generator = generator_name()
        _progress(report, 0.1, "Collecting the evidence")
        with translation.override(report.language):
            content, evidence = snapshot.collect(report, actor)
        digest = render.snapshot_hash(content)
        _progress(report, 0.5, "Rendering the PDF")
        pdf = render.render_pdf(content)
    except Exception as exc:  # the report fails with the reason; nothing half-written stays
        Report.objects.filter(pk=report.pk).update(
            state=RunState.FAILED, error=f"{exc}\n{traceback.format_exc(limit=3)}"[:4000], progress=1.0
        )
        raise
    with transaction.atomic():
        report.pdf.save(f"{report.kind}-{report.uuid}.pdf", ContentFile(pdf), save=False)
        Report.objects.filter(pk=report.pk).update(
            state=RunState.SUCCEEDED,
            progress=1.0,
            progress_message="",
            snapshot=content,
            snapshot_sha256=digest,
            evidence=evidence,
            pdf=report.pdf.name,
            pdf_sha256=render.sha256(pdf),
            generated_at=report.generated_at,
            generator=report.generator,
            completeness=content["annex_iv"]["completeness"],
        )
        record(
            "update",
            actor=SYSTEM_ACTOR,
            obj=report,
            changes={"state": "succeeded", "snapshot_sha256": digest, "pdf_sha256": render.sha256(pdf)},
        )
    return "succeeded"


def reap_stale_reports(now: Any = None) -> int:
    """Fail the reports whose worker died while generating them (a report takes seconds, not this long)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REPORT_STALE_SECONDS)
    return Report.objects.filter(state=RunState.RUNNING, started_at__lt=cutoff).update(
        state=RunState.FAILED,
        progress=1.0,
        error=_("The worker generating this report stopped before it finished. Generate the report again."),
    )


def signature_of(report: Report) -> dict[str, Any] | None:
    if report.signed_at is None:
        return None
    return {
        "name": report.signer_name,
        "role": report.signer_role,
        "statement": report.statement,
        "signed_at": report.signed_at.isoformat(),
    }


def do_sign_report(report: Report, *, actor: Actor, name: str, role: str, statement: str) -> Report:
    """A compliance officer signs a generated report; the signed PDF replaces the draft and is immutable."""
    from audits.reports import render

    if not actor.may("approve"):
        raise PermissionDenied(_("Only compliance officers sign reports."))
    name, role, statement = name.strip(), role.strip(), statement.strip()
    errors = {}
    for field, value in (("name", name), ("role", role), ("statement", statement)):
        if not value:
            errors[field] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if not report_visible(locked, actor):
            raise NotVisible()
        if locked.state != RunState.SUCCEEDED:
            raise ValidationError(_("Only a generated report can be signed."))
        if locked.signed_at is not None:
            raise ValidationError(_("This report is already signed; a signed report cannot change."))
        locked.signer_name, locked.signer_role, locked.statement = name[:200], role[:200], statement
        locked.signed_at = timezone.now().replace(microsecond=0)
        locked.signed_by = actor.user
        pdf = render.render_pdf(locked.snapshot, signature_of(locked))
        locked.draft_pdf_sha256 = locked.pdf_sha256
        locked.pdf.save(f"{locked.kind}-{locked.uuid}-signed.pdf", ContentFile(pdf), save=False)
        locked.pdf_sha256 = render.sha256(pdf)
        locked.save()
        record(
            "approve",
            actor=actor,
            obj=locked,
            changes={
                "signed_by": name,
                "role": role,
                "statement": statement,
                "snapshot_sha256": locked.snapshot_sha256,
                "pdf_sha256": locked.pdf_sha256,
            },
        )
    return locked


# Who may see a report ----------------------------------------------------------------------------


def scoped_reports(actor: Actor) -> QuerySet[Report]:
    """Reports whose scope the actor may see (the evidence check comes on top: ``report_visible``)."""
    if not actor.is_authenticated or not actor.may("view"):
        return Report.objects.none()
    reports = Report.objects.select_related("system", "model_version__model", "team")
    if actor.sees_everything:
        return reports
    teams = actor.teams()
    return reports.filter(
        Q(system__in=AISystem.objects.visible_to(actor).values("pk"))
        | Q(model_version__in=ModelVersion.objects.visible_to(actor).values("pk"))
        | Q(kind=ReportKind.GOVERNANCE, team__in=teams)
        | Q(kind=ReportKind.GOVERNANCE, team__isnull=True, created_by=actor.user)
    )


def report_visible(report: Report, actor: Actor) -> bool:
    """The actor may see the report's scope and every object its evidence draws on."""
    if not scoped_reports(actor).filter(pk=report.pk).exists():
        return False
    if actor.sees_everything:
        return True
    for label, pks in (report.evidence or {}).items():
        model: Any = apps.get_model(label)
        if model.objects.visible_to(actor).filter(pk__in=pks).count() != len(set(pks)):
            return False
    return True


def visible_reports(actor: Actor, queryset: QuerySet[Report] | None = None) -> list[Report]:
    reports = scoped_reports(actor) if queryset is None else queryset & scoped_reports(actor)
    return [report for report in reports if report_visible(report, actor)]


def access_report(actor: Actor, uuid: Any) -> Report:
    report = scoped_reports(actor).filter(uuid=uuid).first()
    if report is None or not report_visible(report, actor):
        raise NotVisible()
    return report


# Verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    status: str  # "match" | "superseded" | "mismatch" | "unknown"
    sha256: str
    report: Report | None
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "match"


def claimed_report_uuid(data: bytes) -> str | None:
    """The report a PDF says it is (its keywords hold ``custodia-report:<uuid>``), read without trusting it.

    WeasyPrint stores the document information in compressed object streams, so every Flate
    stream is inflated (at most a few MB of a damaged file are read) and searched.
    """
    import re
    import zlib

    pattern = re.compile(rb"custodia-report:([0-9a-f-]{36})")
    found = pattern.search(data)
    if found:
        return found.group(1).decode()
    for match in re.finditer(rb"stream\r?\n", data):
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(data[match.end() : match.end() + 4_000_000], 8_000_000)
        except zlib.error:
            continue
        found = pattern.search(chunk)
        if found:
            return found.group(1).decode()
    return None


def verify_pdf(data: bytes) -> Verification:
    """Whether a PDF is, byte for byte, the PDF of a stored report."""
    from audits.reports.render import sha256

    digest = sha256(data)
    report = Report.objects.filter(pdf_sha256=digest).first()
    if report is not None:
        signed = (
            _("signed by %(name)s (%(role)s) on %(when)s")
            % {"name": report.signer_name, "role": report.signer_role, "when": report.signed_at.date()}
            if report.signed_at
            else _("not signed")
        )
        return Verification(
            "match",
            digest,
            report,
            _("The file matches report %(uuid)s (%(report)s), generated %(when)s, %(signed)s; evidence hash %(hash)s.")
            % {
                "uuid": report.uuid,
                "report": report,
                "when": report.generated_at.date() if report.generated_at else "—",
                "signed": signed,
                "hash": report.snapshot_sha256,
            },
        )
    report = Report.objects.filter(draft_pdf_sha256=digest).first()
    if report is not None:
        return Verification(
            "superseded",
            digest,
            report,
            _("The file is the unsigned draft of report %(uuid)s; the report on record has since been signed.")
            % {"uuid": report.uuid},
        )
    claimed = claimed_report_uuid(data)
    report = Report.objects.filter(uuid=claimed).first() if claimed else None
    if report is not None:
        return Verification(
            "mismatch",
            digest,
            report,
            _(
                "The file says it is report %(uuid)s, but it is not the PDF on record: it was changed after it "
                "was generated (SHA-256 %(digest)s, the record has %(expected)s)."
            )
            % {"uuid": report.uuid, "digest": digest, "expected": report.pdf_sha256},
        )
    return Verification(
        "unknown",
        digest,
        None,
        _("No report on record has this file's hash (SHA-256 %(digest)s).") % {"digest": digest},
    )
