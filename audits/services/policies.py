"""Policies: the thresholds checks are judged by, per AI system with organisation defaults, versioned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.actors import Actor
from audits.choices import CheckKind
from audits.models import ApprovalException, Policy, PolicyVersion
from registry.models import AISystem, ModelVersion
from registry.services.access import lock_for
from trail.services import record

DEFAULTS_ACTOR = Actor.for_system("policy-defaults")


@dataclass(frozen=True)
class Threshold:
    """One setting of a policy: its type, allowed range and label (forms and API are built from it).

    ``kind`` is "number" (within ``minimum``..``maximum``, whole when ``integer``), "choice" (one of
    ``choices``) or "list" (a list of short texts, e.g. an allow-list).
    """

    label: Any
    default: Any
    minimum: float = 0
    maximum: float = 0
    integer: bool = False
    help_text: Any = ""
    kind: str = "number"
    choices: tuple[tuple[str, Any], ...] = ()


SEVERITY_CHOICES = (("high", gettext_lazy("High")), ("medium", gettext_lazy("Medium")), ("low", gettext_lazy("Low")))
YES_NO = (("no", gettext_lazy("No")), ("yes", gettext_lazy("Yes")))
MAX_LIST_ITEMS = 500


THRESHOLDS: dict[str, dict[str, Threshold]] = {
    CheckKind.BIAS: {
        "min_ratio": Threshold(
            gettext_lazy("Minimum ratio"), 0.8, 0.0, 1.0, help_text=gettext_lazy("e.g. 0.8 (four-fifths rule)")
        ),
        "max_difference": Threshold(gettext_lazy("Maximum difference"), 0.1, 0.0, 1.0),
        "min_group_size": Threshold(gettext_lazy("Minimum group size"), 30, 1, 1_000_000, integer=True),
        "confidence": Threshold(gettext_lazy("Confidence level"), 0.95, 0.5, 0.999),
        "warn_margin": Threshold(
            gettext_lazy("Warning margin"),
            0.02,
            0.0,
            0.5,
            help_text=gettext_lazy("A pass this close to a threshold is reported as a warning."),
        ),
        "n_boot": Threshold(gettext_lazy("Bootstrap resamples"), 1000, 100, 20_000, integer=True),
    },
    CheckKind.EVALUATION: {
        "min_mean_score": Threshold(gettext_lazy("Minimum mean score"), 0.8, 0.0, 1.0),
        "min_item_score": Threshold(gettext_lazy("Low item score"), 0.5, 0.0, 1.0),
        "max_low_share": Threshold(
            gettext_lazy("Maximum share of low items"),
            0.1,
            0.0,
            1.0,
            help_text=gettext_lazy("The share of items scoring below the low item score that is still acceptable."),
        ),
        "min_items": Threshold(gettext_lazy("Minimum items"), 30, 1, 1_000_000, integer=True),
        "warn_margin": Threshold(gettext_lazy("Warning margin"), 0.02, 0.0, 0.5),
    },
    CheckKind.PII: {
        "fail_at": Threshold(
            gettext_lazy("Fail from severity"),
            "high",
            kind="choice",
            choices=SEVERITY_CHOICES,
            help_text=gettext_lazy("ID numbers and bank accounts are high; phones and e-mails medium; URLs low."),
        ),
        "warn_at": Threshold(gettext_lazy("Warn from severity"), "medium", kind="choice", choices=SEVERITY_CHOICES),
        "min_count": Threshold(gettext_lazy("Occurrences that count"), 1, 1, 1_000_000, integer=True),
        "allow_list": Threshold(
            gettext_lazy("Allowed values"),
            [],
            kind="list",
            help_text=gettext_lazy(
                "One per line: values that are not a leak, e.g. the company's support e-mail; "
                "@domain allows every address at that domain."
            ),
        ),
        "deny_list": Threshold(
            gettext_lazy("Always report"),
            [],
            kind="list",
            help_text=gettext_lazy("One per line: terms reported wherever they appear, e.g. internal project names."),
        ),
        "auto_scan": Threshold(
            gettext_lazy("Scan new versions automatically"),
            "no",
            kind="choice",
            choices=YES_NO,
            help_text=gettext_lazy(
                "Organisation default only: scan every new dataset version that claims to hold no personal data, "
                "and every new prompt version."
            ),
        ),
    },
    CheckKind.MEMORISATION: {
        "window_tokens": Threshold(
            gettext_lazy("Verbatim window (tokens)"),
            50,
            8,
            1000,
            integer=True,
            help_text=gettext_lazy(
                "An output repeating this many consecutive tokens of the training text is memorised."
            ),
        ),
        "max_memorised_share": Threshold(
            gettext_lazy("Maximum share of memorised outputs"),
            0.0,
            0.0,
            1.0,
            help_text=gettext_lazy("0 fails the check on the first output that copies a window of its training text."),
        ),
        "max_extractable_rate": Threshold(
            gettext_lazy("Maximum extractable rate"),
            0.01,
            0.0,
            1.0,
            help_text=gettext_lazy(
                "Share of training documents whose next 50 tokens the model reproduces from their first 50 "
                "(extraction test, when the model has a serving endpoint)."
            ),
        ),
        "extraction_samples": Threshold(gettext_lazy("Extraction test documents"), 100, 1, 10_000, integer=True),
        "ims_margin": Threshold(
            gettext_lazy("Identical-match margin"),
            0.01,
            0.0,
            1.0,
            help_text=gettext_lazy(
                "Synthetic tables: the share of rows identical to a training row may exceed the share identical to a "
                "holdout row by at most this much (0.01 = one point)."
            ),
        ),
        "alpha": Threshold(
            gettext_lazy("Significance level"),
            0.05,
            0.001,
            0.5,
            help_text=gettext_lazy(
                "Synthetic tables: fail when the share of rows closer to training than to holdout "
                "is above 50 % at this level."
            ),
        ),
        "max_synthetic_rows": Threshold(gettext_lazy("Synthetic rows sampled"), 5000, 100, 200_000, integer=True),
        "max_reference_rows": Threshold(
            gettext_lazy("Training and holdout rows sampled"), 5000, 100, 200_000, integer=True
        ),
        "min_holdout_rows": Threshold(gettext_lazy("Minimum holdout rows"), 50, 10, 1_000_000, integer=True),
    },
}


def default_thresholds(kind: str) -> dict[str, Any]:
    return {name: spec.default for name, spec in THRESHOLDS[kind].items()}


def clean_thresholds(kind: str, raw: Any) -> dict[str, Any]:
    """Complete and check thresholds against their specification; errors name the setting."""
    if not isinstance(raw, dict):
        raise ValidationError({"thresholds": _("Thresholds must be an object of named settings.")})
    specs = THRESHOLDS[kind]
    unknown = sorted(set(raw) - set(specs))
    if unknown:
        raise ValidationError(
            {
                "thresholds": _("Unknown settings: %(names)s. Known: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(specs)}
            }
        )
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in specs.items():
        value = raw.get(name, spec.default)
        if spec.kind == "choice":
            if value not in {choice for choice, _label in spec.choices}:
                errors[name] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(c for c, _l in spec.choices)}
            else:
                cleaned[name] = value
            continue
        if spec.kind == "list":
            items = value.splitlines() if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
                errors[name] = _("Give a list of texts.")
                continue
            items = [item.strip() for item in items if item.strip()]
            if len(items) > MAX_LIST_ITEMS or any(len(item) > 300 for item in items):
                errors[name] = _("At most %(n)s entries of up to 300 characters.") % {"n": MAX_LIST_ITEMS}
                continue
            cleaned[name] = items
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = _("Enter a number.")
            continue
        if spec.integer and value != int(value):
            errors[name] = _("Enter a whole number.")
            continue
        if not spec.minimum <= value <= spec.maximum:
            errors[name] = _("Enter a value between %(min)s and %(max)s.") % {"min": spec.minimum, "max": spec.maximum}
            continue
        cleaned[name] = int(value) if spec.integer else float(value)
    if errors:
        raise ValidationError({f"thresholds.{name}": message for name, message in errors.items()})
    return cleaned


def default_policy(kind: str) -> Policy:
    """The organisation's default policy for a kind of check, created with the built-in defaults."""
    policy = Policy.objects.filter(kind=kind, system__isnull=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            policy = Policy.objects.create(kind=kind, system=None)
            version = PolicyVersion.objects.create(
                policy=policy,
                number=1,
                thresholds=default_thresholds(kind),
                actor_label=DEFAULTS_ACTOR.label,
                note="Built-in defaults",
            )
            record(
                "create", actor=DEFAULTS_ACTOR, obj=version, team_slug="", changes={"thresholds": version.thresholds}
            )
    except IntegrityError:  # created concurrently
        policy = Policy.objects.get(kind=kind, system__isnull=True)
    return policy


def policy_in_force(kind: str, system: AISystem | None) -> PolicyVersion:
    """The current version of the system's own policy for ``kind``, else the organisation default."""
    if system is not None:
        own = PolicyVersion.objects.filter(policy__kind=kind, policy__system=system).order_by("-number").first()
        if own is not None:
            return own
    current = default_policy(kind).current
    assert current is not None  # a policy is created with its first version
    return current


def do_set_policy(
    kind: str,
    *,
    actor: Actor,
    system: AISystem | None,
    thresholds: Any,
    rerun_every_days: int | None = None,
    note: str = "",
) -> PolicyVersion:
    """Record a new version of a policy (a system's own, or the organisation default)."""
    if not actor.may("approve"):
        raise PermissionDenied(_("Only compliance officers and administrators may change policies."))
    if system is None and not actor.sees_everything:
        raise PermissionDenied(_("Only administrators may change the organisation's default policies."))
    cleaned = clean_thresholds(kind, thresholds)
    if rerun_every_days is not None and not 1 <= rerun_every_days <= 366:
        raise ValidationError({"rerun_every_days": _("Enter a number of days between 1 and 366, or leave it empty.")})
    if not note.strip():
        raise ValidationError({"note": _("Say why the policy changes, for the record.")})
    with transaction.atomic():
        if system is not None:
            system = lock_for(actor, system, "approve")
            policy, _created = Policy.objects.get_or_create(kind=kind, system=system)
        else:
            policy = default_policy(kind)
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        previous = policy.current
        version = PolicyVersion.objects.create(
            policy=policy,
            number=(previous.number + 1) if previous else 1,
            thresholds=cleaned,
            rerun_every_days=rerun_every_days,
            note=note.strip(),
            created_by=actor.user,
            actor_label=actor.label,
        )
        record(
            "update" if previous else "create",
            actor=actor,
            obj=version,
            team_slug=system.owner_team.slug if system is not None else "",
            changes={
                "thresholds": {"from": previous.thresholds if previous else None, "to": cleaned},
                "rerun_every_days": {"from": previous.rerun_every_days if previous else None, "to": rerun_every_days},
                "note": version.note,
            },
        )
    return version


def do_record_approval_exception(
    model_version: ModelVersion, *, actor: Actor, justification: str, expires_on: date
) -> ApprovalException:
    """Let a model version be approved despite failed checks or open findings, until a date."""
    if not actor.may("approve"):
        raise PermissionDenied(_("Only compliance officers and administrators may record approval exceptions."))
    justification = justification.strip()
    if not justification:
        raise ValidationError({"justification": _("An exception needs a justification for the record.")})
    today = timezone.localdate()
    if expires_on < today:
        raise ValidationError({"expires_on": _("The expiry date must be today or later.")})
    if (expires_on - today).days > 366:
        raise ValidationError({"expires_on": _("An exception may last at most one year.")})
    with transaction.atomic():
        locked = lock_for(actor, model_version, "approve")
        exception = ApprovalException.objects.create(
            model_version=locked,
            justification=justification,
            expires_on=expires_on,
            created_by=actor.user,
            actor_label=actor.label,
        )
        record(
            "create",
            actor=actor,
            obj=exception,
            team_slug=locked.model.owner_team.slug,
            changes={"model_version": str(locked.uuid), "justification": justification, "expires_on": expires_on},
        )
    return exception


def do_revoke_approval_exception(exception: ApprovalException, *, actor: Actor) -> ApprovalException:
    if not actor.may("approve"):
        raise PermissionDenied(_("Only compliance officers and administrators may revoke approval exceptions."))
    with transaction.atomic():
        lock_for(actor, exception.model_version, "approve")
        locked = ApprovalException.objects.select_for_update().get(pk=exception.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            record(
                "revoke",
                actor=actor,
                obj=locked,
                team_slug=locked.model_version.model.owner_team.slug,
                changes={"revoked_at": locked.revoked_at},
            )
    return locked
