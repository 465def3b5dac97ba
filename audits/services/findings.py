"""Triage of findings: every status change needs a justification and a permitted user."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from audits.choices import FindingStatus
from audits.models import Finding, FindingStatusChange
from registry.services.access import lock_for
from trail.services import record


def do_change_finding_status(finding: Finding, *, actor: Actor, status: str, reason: str) -> Finding:
    """Accept, resolve, dismiss or re-open a finding; compliance officers and administrators only."""
    if status not in FindingStatus.values:
        raise ValidationError({"status": _("Unknown status “%(status)s”.") % {"status": status}})
    if not actor.may("approve"):
        raise PermissionDenied(_("Only compliance officers and administrators may triage findings."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Changing a finding's status needs a justification for the record.")})
    with transaction.atomic():
        lock_for(actor, finding.run.target, "approve")
        locked = Finding.objects.select_for_update().select_related("run").get(pk=finding.pk)
        if locked.status == status:
            raise ValidationError({"status": _("The finding already has this status.")})
        before = locked.status
        locked.status, locked.status_reason = status, reason
        locked.status_changed_at, locked.status_changed_by = timezone.now(), actor.label[:200]
        locked.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
        FindingStatusChange.objects.create(
            finding=locked,
            from_status=before,
            to_status=status,
            reason=reason,
            actor=actor.user,
            actor_label=actor.label,
        )
        record(
            "update",
            actor=actor,
            obj=locked,
            team_slug=(locked.run.owner_team.slug if locked.run.owner_team else ""),
            changes={"status": {"from": before, "to": status}, "reason": reason, "run": str(locked.run.uuid)},
        )
    return locked
