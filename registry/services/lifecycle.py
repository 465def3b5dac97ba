"""Lifecycle of model versions: draft → in review → approved → deployed → deprecated → retired."""

from __future__ import annotations

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from registry import gates
from registry.choices import STAGE_TRANSITIONS, ModelStage
from registry.models import ModelVersion, StageChange
from registry.services.access import lock_for
from registry.signals import stage_changed
from trail.services import record


def do_transition_model_version(
    version: ModelVersion, *, actor: Actor, to_stage: str, reason: str = ""
) -> ModelVersion:
    reason = reason.strip()
    with transaction.atomic():
        locked = lock_for(actor, version, "change")
        # Decided on the locked row, not on the caller's copy, which may be stale.
        deciding = to_stage == ModelStage.APPROVED or (
            locked.stage == ModelStage.IN_REVIEW and to_stage == ModelStage.DRAFT
        )
        if deciding and not actor.may("approve"):
            raise PermissionDenied(_("Your role cannot approve or reject model versions."))
        allowed = STAGE_TRANSITIONS.get(locked.stage, ())
        if to_stage not in allowed:
            raise ValidationError(
                {
                    "to_stage": _("A model version cannot move from “%(from)s” to “%(to)s”.")
                    % {"from": locked.get_stage_display(), "to": dict(ModelStage.choices).get(to_stage, to_stage)}
                }
            )
        if deciding and not reason:
            raise ValidationError({"reason": _("Approving or rejecting needs a reason for the record.")})
        if deciding and actor.user is not None and locked.created_by_id == actor.user.pk:
            raise PermissionDenied(_("A model version must be approved or rejected by someone other than its author."))
        gate_record: dict[str, object] = {}
        if to_stage == ModelStage.APPROVED:
            decisions = gates.approval_decisions(locked, actor)
            blocking = [reason for decision in decisions for reason in decision.blocking]
            if blocking:
                raise ValidationError(
                    {"to_stage": [_("Approval is blocked: %(reason)s") % {"reason": r} for r in blocking]}
                )
            waived = [reason for decision in decisions for reason in decision.waived]
            if waived:
                gate_record = {
                    "waived": waived,
                    "waivers": [decision.waiver for decision in decisions if decision.waiver],
                }
        from_stage = locked.stage
        locked.stage = to_stage
        fields = ["stage"]
        if to_stage == ModelStage.APPROVED:
            locked.approved_by = actor.user
            locked.approved_at = timezone.now()
            locked.approval_reason = reason
            fields += ["approved_by", "approved_at", "approval_reason"]
        locked.save(update_fields=fields)
        StageChange.objects.create(
            model_version=locked,
            from_stage=from_stage,
            to_stage=to_stage,
            actor=actor.user,
            actor_label=actor.label,
            reason=reason,
        )
        if to_stage == ModelStage.APPROVED:
            action = "approve"
        elif deciding:
            action = "reject"
        else:
            action = "transition"
        record(
            action,
            actor=actor,
            obj=locked,
            team_slug=locked.model.owner_team.slug,
            changes={"stage": {"from": from_stage, "to": to_stage}, "reason": reason, **gate_record},
        )
        transaction.on_commit(partial(stage_changed.send, sender=ModelVersion, version=locked, actor=actor))
    return locked
