"""Asking for checks, cancelling and re-running them, and the policy-driven schedule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from access.actors import Actor
from audits.choices import CheckKind, RunState
from audits.models import CheckRun, EvaluationRun, PolicyVersion
from audits.models.targets import TARGET_KINDS
from registry.models import AISystem, DatasetVersion
from registry.services.access import lock_for
from registry.services.errors import NotVisible
from trail.services import record

SCHEDULE_ACTOR = Actor.for_system("celery:scheduled-checks")


def target_field(target: Any) -> str:
    model_name = target._meta.model_name
    for field, kind in TARGET_KINDS.items():
        if kind == model_name:
            return field
    raise ValidationError({"target": _("Checks cannot run on this kind of object.")})


def _visible(actor: Actor, obj: Any, field: str) -> Any:
    if obj is None:
        return None
    if not type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists():
        raise ValidationError({field: _("Object does not exist.")})
    return obj


# Parameters that name dataset versions by UUID (the memorisation check's training text and holdout).
DATASET_PARAMETERS = ("training", "holdout")


def _visible_parameters(actor: Actor, parameters: dict[str, Any]) -> None:
    """Every dataset version a parameter names must be one the actor may see.

    Forms and the API offer only visible versions, but a re-run copies another actor's parameters:
    without this a re-run could read (and report on) a version its actor may not see.
    """
    for name in DATASET_PARAMETERS:
        value = parameters.get(name)
        wanted = {str(item) for item in (value if isinstance(value, list) else [value]) if item}
        if not wanted:
            continue
        seen = DatasetVersion.objects.visible_to(actor).filter(uuid__in=wanted).count()
        if seen != len(wanted):
            raise ValidationError({name: _("Object does not exist.")})


def _enqueue_on_commit(run: CheckRun) -> None:
    from audits.tasks import enqueue

    transaction.on_commit(lambda: enqueue(run.pk))


def do_request_check(
    kind: str,
    *,
    actor: Actor,
    target: Any,
    parameters: dict[str, Any] | None = None,
    input_file: UploadedFile | None = None,
    input_dataset_version: DatasetVersion | None = None,
    policy_system: AISystem | None = None,
    evaluation: EvaluationRun | None = None,
    rerun_of: CheckRun | None = None,
    scheduled: bool = False,
) -> CheckRun:
    """Queue a check on a target the actor may change; the worker picks it up once this commits."""
    if kind not in CheckKind.values:
        raise ValidationError({"kind": _("Unknown check “%(kind)s”.") % {"kind": kind}})
    field = target_field(target)
    with transaction.atomic():
        locked = lock_for(actor, target, "change")
        _visible(actor, input_dataset_version, "input_dataset_version")
        _visible(actor, policy_system, "policy_system")
        _visible_parameters(actor, parameters or {})
        run = CheckRun(
            kind=kind,
            parameters=parameters or {},
            input_dataset_version=input_dataset_version,
            policy_system=policy_system,
            evaluation=evaluation,
            rerun_of=rerun_of,
            scheduled=scheduled,
            created_by=actor.user,
            actor_label=actor.label[:200],
            **{field: locked},
        )
        if input_file is not None:
            run.input_name = (input_file.name or "")[:300]
            run.input_file.save(input_file.name or "input", input_file, save=False)
        elif rerun_of is not None and rerun_of.input_file:
            run.input_file.name, run.input_name = rerun_of.input_file.name, rerun_of.input_name
        run.save()
        record(
            "create",
            actor=actor,
            obj=run,
            changes={
                "kind": kind,
                "target": f"{locked._meta.label_lower}:{locked.uuid}",
                "parameters": run.parameters,
                "input": run.input_name or (str(input_dataset_version.uuid) if input_dataset_version else ""),
                "rerun_of": str(rerun_of.uuid) if rerun_of else None,
                "scheduled": scheduled,
            },
        )
        _enqueue_on_commit(run)
    return run


def do_rerun_check(run: CheckRun, *, actor: Actor, scheduled: bool = False) -> CheckRun:
    """A new run of the same check, with the same target, input and parameters."""
    if run.kind == CheckKind.EVALUATION and run.evaluation is None:
        raise ValidationError(_("The evaluation of this check no longer exists."))
    return do_request_check(
        run.kind,
        actor=actor,
        target=run.target,
        parameters=run.parameters,
        input_dataset_version=run.input_dataset_version,
        policy_system=run.policy_system,
        evaluation=run.evaluation,
        rerun_of=run,
        scheduled=scheduled,
    )


def do_cancel_check(run: CheckRun, *, actor: Actor) -> CheckRun:
    """Cancel a queued run at once; ask a running one to stop at its next progress step."""
    with transaction.atomic():
        lock_for(actor, run.target, "change")
        locked = CheckRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            raise ValidationError(_("This check has already finished."))
        before = locked.state
        if locked.state == RunState.QUEUED:
            locked.state, locked.finished_at = RunState.CANCELLED, timezone.now()
        locked.cancel_requested = True
        locked.save(update_fields=["state", "finished_at", "cancel_requested"])
        record(
            "update",
            actor=actor,
            obj=locked,
            changes={"cancel_requested": True, "state": {"from": before, "to": locked.state}},
        )
    return locked


def access_run(actor: Actor, uuid: Any) -> CheckRun:
    run = CheckRun.objects.visible_to(actor).filter(uuid=uuid).first()
    if run is None:
        raise NotVisible()
    return run


def require_may_run_checks(actor: Actor) -> None:
    if not actor.may("change"):
        raise PermissionDenied(_("Your role cannot run checks."))


def schedule_due_checks(now: Any = None) -> int:
    """Re-run, for each AI system whose policy asks for it, the checks on the system's parts that are due.

    A check is due when its latest run for that system finished more than ``rerun_every_days`` ago
    and no run of it is queued or running; the new run records that it was scheduled.
    """
    now = now or timezone.now()
    started = 0
    current_versions = (
        PolicyVersion.objects.filter(policy__system__isnull=False)
        .values("policy")
        .annotate(latest=Max("number"))
        .values_list("policy", "latest")
    )
    for policy_id, number in list(current_versions):
        version = PolicyVersion.objects.select_related("policy__system").get(policy_id=policy_id, number=number)
        if not version.rerun_every_days:
            continue
        policy = version.policy
        cutoff = now - timedelta(days=version.rerun_every_days)
        runs = CheckRun.objects.filter(kind=policy.kind, policy_system=policy.system).order_by("-created_at")
        latest_by_target: dict[tuple[Any, ...], CheckRun] = {}
        for run in runs.iterator():
            key = tuple(getattr(run, f"{f}_id") for f in run.target_fields)
            latest_by_target.setdefault(key, run)
        for run in latest_by_target.values():
            if not run.is_finished or (run.finished_at and run.finished_at > cutoff):
                continue
            try:
                do_rerun_check(run, actor=SCHEDULE_ACTOR, scheduled=True)
            except (ValidationError, PermissionDenied, NotVisible):
                continue
            started += 1
    return started


def target_models() -> dict[str, Any]:
    from registry.models import AISystem, DatasetVersion, GeneratorVersion, ModelVersion, PromptVersion

    return {
        "datasetversion": DatasetVersion,
        "modelversion": ModelVersion,
        "promptversion": PromptVersion,
        "generatorversion": GeneratorVersion,
        "aisystem": AISystem,
    }


def access_target(actor: Actor, reference: str) -> Any:
    """The object named ``<kind>:<uuid>`` (e.g. ``modelversion:…``) if the actor may see it; else 404."""
    import uuid as uuidlib

    kind, _sep, raw = (reference or "").partition(":")
    model = target_models().get(kind)
    try:
        value = uuidlib.UUID(raw)
    except ValueError:
        raise NotVisible() from None
    if model is None:
        raise NotVisible()
    obj = model.objects.visible_to(actor).filter(uuid=value).first()
    if obj is None:
        raise NotVisible()
    return obj


def target_reference(obj: Any) -> str:
    return f"{obj._meta.model_name}:{obj.uuid}"


def systems_using(actor: Actor, target: Any) -> Any:
    """The AI systems (visible to the actor) that use a version, or the system itself."""
    from registry.models import AISystem

    kind = target._meta.model_name
    systems = AISystem.objects.visible_to(actor)
    if kind == "aisystem":
        return systems.filter(pk=target.pk)
    if kind in ("datasetversion", "modelversion", "promptversion"):
        field = {
            "datasetversion": "dataset_version",
            "modelversion": "model_version",
            "promptversion": "prompt_version",
        }[kind]
        return systems.filter(**{f"components__{field}": target}).distinct()
    return systems.none()


AUTO_SCAN_ACTOR = Actor.for_system("policy:auto-scan")


def auto_scan_new_version(version: Any) -> CheckRun | None:
    """Queue a PII scan of a new version when the organisation's PII policy asks for it.

    Dataset versions that claim to hold no personal data (and have a file to read) and every
    new prompt version are scanned; the claim is what the scan puts to the test.
    """
    from audits.models import PolicyVersion

    kind = version._meta.model_name
    if kind == "datasetversion":
        if version.contains_personal_data or not version.file:
            return None
    elif kind != "promptversion":
        return None
    # Read without creating: no default policy on record means the built-in default, which does not scan.
    current = (
        PolicyVersion.objects.filter(policy__kind=CheckKind.PII, policy__system__isnull=True)
        .order_by("-number")
        .first()
    )
    if current is None or current.thresholds.get("auto_scan") != "yes":
        return None
    return do_request_check(
        CheckKind.PII, actor=AUTO_SCAN_ACTOR, target=version, parameters={"language": "auto", "sample_rows": None}
    )
