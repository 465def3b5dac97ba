"""The evidence of an audit report, frozen: everything the report shows, as plain JSON.

``collect(report, actor)`` reads the registry, the checks, lineage and the audit trail through
``visible_to(actor)`` only — what the requesting user may not see is never in a report — and
returns the snapshot and the objects it drew on (``{"app.model": [pk, …]}``, kept on the report
so that only people who may see all of them can open it). The HTML and the PDF are rendered from
the snapshot alone (``audits.reports.render``), never from the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from access.actors import Actor
from audits.choices import FindingStatus, ReportKind, RiskStatus, RunState, Severity
from audits.models import (
    AppliedStandard,
    ApprovalException,
    CheckRun,
    EvaluationRun,
    Feedback,
    Finding,
    Incident,
    OversightMeasure,
    PolicyVersion,
    Report,
    Risk,
)
from registry.models import AISystem, DatasetVersion, ModelVersion, PromptVersion

SNAPSHOT_VERSION = 1
TRAIL_EXTRACT = 200
LINEAGE_NODES = 60
PROMPT_CHARS = 4000
_SEVERITY_ORDER = {value: index for index, value in enumerate(Severity.values)}


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class Evidence:
    """The objects a snapshot draws on, by model label."""

    def __init__(self) -> None:
        self.objects: dict[str, set[int]] = defaultdict(set)

    def add(self, *objects: Any) -> None:
        for obj in objects:
            if obj is not None:
                self.objects[obj._meta.label_lower].add(int(obj.pk))

    def add_all(self, objects: Iterable[Any]) -> None:
        self.add(*objects)

    def as_dict(self) -> dict[str, list[int]]:
        return {label: sorted(pks) for label, pks in sorted(self.objects.items())}


def _user(user: Any) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def asset_owner(asset: Any) -> dict[str, Any]:
    return {"team": asset.owner_team.name, "owner": _user(asset.owner)}


# Records ---------------------------------------------------------------------------------------


def dataset_version_data(version: DatasetVersion) -> dict[str, Any]:
    return {
        "uuid": str(version.uuid),
        "label": str(version),
        "dataset": version.dataset.name,
        "number": version.number,
        "uri": version.uri,
        "sha256": version.sha256,
        "format": version.get_format_display(),
        "size_bytes": version.size_bytes,
        "rows": version.row_count,
        "columns": len(version.column_schema or []),
        "license": version.license,
        "origin": version.get_origin_display(),
        "origin_code": version.origin,
        "contains_personal_data": version.contains_personal_data,
        "motivation": version.motivation,
        "collection_process": version.collection_process,
        "preprocessing": version.preprocessing,
        "intended_uses": version.intended_uses,
        "created_at": iso(version.created_at),
    }


def check_data(run: CheckRun) -> dict[str, Any]:
    findings = sorted(run.findings.all(), key=lambda f: (_SEVERITY_ORDER.get(f.severity, 9), f.pk))
    return {
        "uuid": str(run.uuid),
        "kind": run.kind,
        "kind_label": run.get_kind_display(),
        "target": str(run.target),
        "state": run.state,
        "verdict": run.verdict,
        "reasons": list(run.verdict_reasons or []),
        "error": run.error if run.state == RunState.FAILED else "",
        "created_at": iso(run.created_at),
        "finished_at": iso(run.finished_at),
        "requested_by": run.actor_label,
        "policy": f"{run.policy_version.policy} v{run.policy_version.number}" if run.policy_version else "",
        "metrics": run.metrics if run.kind in ("bias", "pii", "memorisation", "evaluation") else {},
        "findings": [finding_data(f) for f in findings],
    }


def finding_data(finding: Finding) -> dict[str, Any]:
    return {
        "uuid": str(finding.uuid),
        "severity": finding.severity,
        "title": finding.title,
        "detail": finding.detail,
        "status": finding.status,
        "status_reason": finding.status_reason,
        "created_at": iso(finding.created_at),
    }


def risk_data(risk: Risk) -> dict[str, Any]:
    return {
        "uuid": str(risk.uuid),
        "system": risk.system.name,
        "title": risk.title,
        "description": risk.description,
        "affected_people": risk.affected_people,
        "likelihood": risk.get_likelihood_display(),
        "severity": risk.get_severity_display(),
        "mitigation": risk.mitigation,
        "owner": _user(risk.owner),
        "residual_risk": risk.residual_risk,
        "residual_risk_label": risk.get_residual_risk_display(),
        "review_date": iso(risk.review_date),
        "status": risk.get_status_display(),
        "open": risk.status in (RiskStatus.OPEN, RiskStatus.MITIGATING),
    }


def incident_data(incident: Incident, visible_findings: set[int]) -> dict[str, Any]:
    return {
        "uuid": str(incident.uuid),
        "system": incident.system.name,
        "title": incident.title,
        "description": incident.description,
        "occurred_at": iso(incident.occurred_at),
        "severity": incident.severity,
        "status": incident.get_status_display(),
        "open": incident.status in ("open", "investigating"),
        "resolution": incident.resolution,
        "findings": [f.title for f in incident.findings.all() if f.pk in visible_findings],
    }


def standard_data(standard: AppliedStandard) -> dict[str, Any]:
    return {
        "system": standard.system.name,
        "name": standard.name,
        "kind": standard.get_kind_display(),
        "reference": standard.reference,
        "scope": standard.scope,
        "adopted_on": iso(standard.adopted_on),
    }


def oversight_data(measure: OversightMeasure) -> dict[str, Any]:
    return {
        "system": measure.system.name,
        "kind": measure.get_kind_display(),
        "description": measure.description,
        "responsible": measure.responsible,
        "frequency": measure.frequency,
    }


def feedback_data(feedback: QuerySet[Feedback]) -> dict[str, Any]:
    ratings = list(feedback.values_list("rating", flat=True))
    distribution = {str(r): ratings.count(r) for r in range(1, 6)}
    latest = [
        {"rating": f.rating, "comment": f.comment[:500], "occurred_at": iso(f.occurred_at)}
        for f in feedback.exclude(comment="").order_by("-occurred_at", "-id")[:5]
    ]
    count = len(ratings)
    return {
        "count": count,
        "mean": sum(ratings) / count if count else None,
        "low_share": sum(1 for r in ratings if r <= 2) / count if count else None,
        "distribution": distribution,
        "latest": latest,
    }


def policy_data(version: PolicyVersion) -> dict[str, Any]:
    return {
        "kind": version.policy.get_kind_display(),
        "system": version.policy.system.name if version.policy.system else None,
        "number": version.number,
        "thresholds": {k: v for k, v in version.thresholds.items() if not isinstance(v, list)},
        "lists": {k: len(v) for k, v in version.thresholds.items() if isinstance(v, list)},
        "rerun_every_days": version.rerun_every_days,
        "changed_by": version.actor_label,
        "changed_at": iso(version.created_at),
    }


def exception_data(exception: ApprovalException) -> dict[str, Any]:
    return {
        "model_version": str(exception.model_version),
        "justification": exception.justification,
        "expires_on": iso(exception.expires_on),
        "by": exception.actor_label,
        "created_at": iso(exception.created_at),
        "active": exception.is_active,
    }


# Shared pieces ---------------------------------------------------------------------------------


def current_runs(actor: Actor, **targets: Iterable[Any]) -> list[CheckRun]:
    """The current (not superseded) runs of every check on these targets, newest first."""
    condition = Q()
    for field, objects in targets.items():
        pks = [o.pk for o in objects]
        if pks:
            condition |= Q(**{f"{field}__in": pks})
    if not condition:
        return []
    runs = (
        CheckRun.objects.visible_to(actor)
        .filter(condition, superseded_by__isnull=True)
        .exclude(state=RunState.CANCELLED)
        .select_related("policy_version__policy", *targets)
        .prefetch_related("findings")
        .order_by("-created_at", "-id")
    )
    return list(runs)


def lineage_graph(actor: Actor, *, dataset_versions: list[DatasetVersion], model_versions: list[ModelVersion]) -> dict:
    """The lineage around these versions (what the report's diagram draws), and its upstream sources."""
    from lineage.graph import lineage
    from lineage.impact import lineage_datasets_for, version_lineage
    from lineage.models import LineageDataset

    start = lineage_datasets_for(dataset_versions=dataset_versions, model_versions=model_versions, actor=actor)
    if not start:
        return {"graph": [], "start": [], "upstream": []}
    nodes = list(LineageDataset.objects.filter(pk__in=start).select_related("namespace").order_by("pk"))
    graph: dict[str, Any] = {"graph": []}
    seen: set[str] = set()
    for node in nodes[:5]:
        part = lineage(node.node_id, 4, actor, max_nodes=LINEAGE_NODES)
        for item in part.get("graph", []):
            if item["id"] not in seen and len(seen) < LINEAGE_NODES:
                seen.add(item["id"])
                graph["graph"].append(
                    {k: item[k] for k in ("id", "type", "inEdges", "outEdges") if k in item}
                    | {
                        "data": {
                            k: v for k, v in (item.get("data") or {}).items() if k in ("name", "namespace", "latestRun")
                        }
                    }
                )
    upstream: set[str] = set()
    placements = [version_lineage(actor, dataset_version=v) for v in dataset_versions]
    placements += [version_lineage(actor, model_version=v) for v in model_versions]
    for placed in placements:
        upstream |= {f"{d.namespace.name}:{d.name}" for d in placed.upstream}
    return {"graph": graph["graph"], "start": [n.node_id for n in nodes], "upstream": sorted(upstream)}


def system_data(system: AISystem) -> dict[str, Any]:
    return {
        "uuid": str(system.uuid),
        "name": system.name,
        "description": system.description,
        "purpose": system.purpose,
        "intended_use": system.intended_use,
        "deployment_context": system.deployment_context,
        "risk_class": system.risk_class,
        "risk_class_label": system.get_risk_class_display(),
        "general_purpose_ai": system.get_general_purpose_ai_display(),
        "status": system.get_status_display(),
        **asset_owner(system),
    }


def system_records(actor: Actor, systems: list[AISystem], evidence: Evidence) -> dict[str, Any]:
    """Risks, incidents, feedback, standards and oversight of these systems (as the actor may see them)."""
    ids = [s.pk for s in systems]
    risks = list(Risk.objects.visible_to(actor).filter(system__in=ids).select_related("system", "owner"))
    incidents = list(
        Incident.objects.visible_to(actor).filter(system__in=ids).select_related("system").prefetch_related("findings")
    )
    standards = list(AppliedStandard.objects.visible_to(actor).filter(system__in=ids).select_related("system"))
    oversight = list(OversightMeasure.objects.visible_to(actor).filter(system__in=ids).select_related("system"))
    feedback = Feedback.objects.visible_to(actor).filter(system__in=ids)
    visible_findings = set(Finding.objects.visible_to(actor).values_list("pk", flat=True))
    evidence.add_all(risks)
    evidence.add_all(incidents)
    evidence.add_all(standards)
    evidence.add_all(oversight)
    return {
        "risks": [risk_data(r) for r in risks],
        "incidents": [incident_data(i, visible_findings) for i in incidents],
        "standards": [standard_data(s) for s in standards],
        "oversight": [oversight_data(m) for m in oversight],
        "feedback": feedback_data(feedback),
    }


# The three reports -----------------------------------------------------------------------------


def model_snapshot(actor: Actor, version: ModelVersion, evidence: Evidence) -> dict[str, Any]:
    model = version.model
    evidence.add(version, model)
    training = list(
        version.training_datasets.visible_to(actor).select_related("dataset", "generator_version__generator")
    )
    evidence.add_all(training)
    generators = []
    for dataset_version in training:
        generator_version = dataset_version.generator_version
        if (
            generator_version is not None
            and type(generator_version).objects.visible_to(actor).filter(pk=generator_version.pk).exists()
        ):
            evidence.add(generator_version)
            sources = list(generator_version.training_datasets.visible_to(actor).select_related("dataset"))
            evidence.add_all(sources)
            generators.append(
                {
                    "generator": str(generator_version),
                    "method": generator_version.get_method_display(),
                    "software": generator_version.software,
                    "produced": str(dataset_version),
                    "trained_on": [str(s) for s in sources],
                }
            )
    evaluations = list(
        EvaluationRun.objects.visible_to(actor).filter(model_version=version).select_related("evaluation_set")
    )
    evidence.add_all(evaluations)
    prompts = list(PromptVersion.objects.visible_to(actor).filter(model_version=version).select_related("prompt"))
    evidence.add_all(prompts)
    runs = current_runs(actor, model_version=[version], dataset_version=training)
    evidence.add_all(runs)
    stage_changes = list(version.stage_changes.order_by("occurred_at", "id"))
    exceptions = list(ApprovalException.objects.filter(model_version=version).order_by("created_at"))
    evidence.add_all(exceptions)
    systems = list(AISystem.objects.visible_to(actor).filter(components__model_version=version).distinct())
    evidence.add_all(systems)
    history = list(
        ModelVersion.objects.visible_to(actor)
        .filter(model=model)
        .order_by("-number")
        .values("number", "label", "stage")
    )
    return {
        "model_card": {
            "model": model.name,
            "version": str(version),
            "number": version.number,
            "label": version.label,
            "description": version.description or model.description,
            "purpose": model.description,
            "provider": model.provider,
            "base_model": version.base_model,
            "fine_tuned_from": str(version.fine_tuned_from) if version.fine_tuned_from else "",
            "license": version.license,
            "parameter_count": version.parameter_count,
            "modality": version.get_modality_display(),
            "context_window": version.context_window,
            "artifact_uri": version.artifact_uri,
            "serving_endpoint": version.serving_endpoint,
            "stage": version.get_stage_display(),
            "intended_uses": [s.intended_use for s in systems if s.intended_use],
            "out_of_scope": [],
            "limitations": [
                reason for run in runs if run.verdict in ("fail", "warn") for reason in (run.verdict_reasons or [])[:2]
            ],
            **asset_owner(model),
        },
        "history": [{"number": h["number"], "label": h["label"], "stage": h["stage"]} for h in history[:50]],
        "training_data": [dataset_version_data(v) for v in training],
        "generators": generators,
        "lineage": lineage_graph(actor, dataset_versions=training, model_versions=[version]),
        "checks": [check_data(run) for run in runs],
        "evaluations": [
            {
                "name": e.name,
                "items": e.item_count,
                "mean_score": e.mean_score,
                "judge": e.judge,
                "evaluation_set": str(e.evaluation_set) if e.evaluation_set else "",
                "created_at": iso(e.created_at),
            }
            for e in evaluations
        ],
        "prompts": [
            {
                "prompt": p.prompt.name,
                "version": p.number,
                "template": p.template[:PROMPT_CHARS],
                "commit": p.commit_message,
            }
            for p in prompts
        ],
        "approvals": [
            {
                "from": c.get_from_stage_display(),
                "to": c.get_to_stage_display(),
                "by": c.actor_label,
                "reason": c.reason,
                "at": iso(c.occurred_at),
            }
            for c in stage_changes
        ],
        "exceptions": [exception_data(e) for e in exceptions],
        "systems": [s.name for s in systems],
    }


def application_snapshot(actor: Actor, system: AISystem, evidence: Evidence) -> dict[str, Any]:
    evidence.add(system)
    components = list(
        system.components.select_related(
            "dataset_version__dataset", "model_version__model", "prompt_version__prompt"
        ).order_by("role", "id")
    )
    parts = [c.part for c in components]
    visible_parts = [p for p in parts if type(p).objects.visible_to(actor).filter(pk=p.pk).exists()]
    evidence.add_all(visible_parts)
    visible_ids = {(p._meta.label_lower, p.pk) for p in visible_parts}
    component_rows = []
    prompts = []
    for component in components:
        part = component.part
        if (part._meta.label_lower, part.pk) not in visible_ids:
            continue
        component_rows.append({"role": component.get_role_display(), "kind": component.kind, "part": str(part)})
        if component.prompt_version_id:
            prompts.append(
                {
                    "prompt": part.prompt.name,
                    "version": part.number,
                    "template": part.template[:PROMPT_CHARS],
                    "commit": part.commit_message,
                }
            )
    datasets = [p for p in visible_parts if isinstance(p, DatasetVersion)]
    models = [p for p in visible_parts if isinstance(p, ModelVersion)]
    prompt_versions = [p for p in visible_parts if isinstance(p, PromptVersion)]
    runs = current_runs(
        actor, system=[system], dataset_version=datasets, model_version=models, prompt_version=prompt_versions
    )
    history = list(
        CheckRun.objects.visible_to(actor)
        .filter(
            Q(system=system) | Q(policy_system=system) | Q(model_version__in=models) | Q(dataset_version__in=datasets)
        )
        .filter(state=RunState.SUCCEEDED)
        .order_by("created_at", "id")
        .values("kind", "verdict", "finished_at")
    )
    evidence.add_all(runs)
    pii: dict[str, int] = defaultdict(int)
    for run in runs:
        if run.kind == "pii" and run.state == RunState.SUCCEEDED and (run.model_version_id or run.system_id):
            for entity, figures in ((run.metrics or {}).get("metrics", {}).get("entities") or {}).items():
                pii[entity] += int(figures.get("count", 0))
    return {
        "system": system_data(system),
        "components": component_rows,
        "prompts": prompts,
        "checks": [check_data(run) for run in runs],
        "monitoring": [
            {"kind": h["kind"], "verdict": h["verdict"], "finished_at": iso(h["finished_at"])} for h in history
        ],
        "pii_in_outputs": dict(sorted(pii.items())),
        "records": system_records(actor, [system], evidence),
    }


def governance_snapshot(actor: Actor, report: Report, evidence: Evidence) -> dict[str, Any]:
    from trail.models import AuditEntry
    from trail.services import verify_chain

    systems_qs = AISystem.objects.visible_to(actor).select_related("owner_team", "owner")
    if report.team_id:
        systems_qs = systems_qs.filter(owner_team=report.team)
    systems = list(systems_qs.order_by("risk_class", "name"))
    evidence.add_all(systems)
    inventory = defaultdict(list)
    for system in systems:
        inventory[system.risk_class].append(system_data(system))
    models = list(
        ModelVersion.objects.visible_to(actor)
        .filter(Q(used_by__system__in=systems) | Q(model__owner_team=report.team) if report.team_id else Q())
        .select_related("model")
        .distinct()
    )
    evidence.add_all(models)
    # The organisation's defaults, then each system's own: the latest version of each policy is in force.
    policies: list[dict[str, Any]] = []
    for system in [None, *systems]:
        versions = PolicyVersion.objects.filter(policy__system=system).select_related("policy__system")
        latest: dict[str, PolicyVersion] = {}
        for version in versions.order_by("policy__kind", "-number"):
            latest.setdefault(version.policy.kind, version)
        policies.extend(policy_data(v) for v in latest.values())
    approvals = [
        {
            "model_version": str(v),
            "by": v.approved_by and _user(v.approved_by),
            "at": iso(v.approved_at),
            "reason": v.approval_reason,
        }
        for v in models
        if v.approved_at
    ]
    exceptions = list(ApprovalException.objects.filter(model_version__in=models).select_related("model_version"))
    evidence.add_all(exceptions)
    findings = list(
        Finding.objects.visible_to(actor)
        .filter(status=FindingStatus.OPEN, run__superseded_by__isnull=True)
        .filter(Q(run__system__in=systems) | Q(run__policy_system__in=systems) | Q(run__model_version__in=models))
        .select_related("run")
        .order_by("-created_at")
    )
    evidence.add_all(findings)
    team = report.team
    teams = [team.slug] if team is not None else (None if actor.sees_everything else [t.slug for t in actor.teams()])
    entries = AuditEntry.objects.order_by("-seq")
    if teams is not None:
        entries = entries.filter(team_slug__in=teams)
    extract = [
        {
            "seq": e.seq,
            "at": iso(e.occurred_at),
            "actor": e.actor_label,
            "action": e.action,
            "object": f"{e.object_type} {e.object_repr}"[:200],
            "hash": e.entry_hash[:16],
        }
        for e in entries[:TRAIL_EXTRACT]
    ]
    verification = verify_chain()
    owners = [
        {"system": s.name, "team": s.owner_team.name, "owner": _user(s.owner), "risk_class": s.get_risk_class_display()}
        for s in systems
    ]
    return {
        "scope": {"team": team.name if team is not None else None},
        "inventory": dict(sorted(inventory.items())),
        "systems": [system_data(s) for s in systems],
        "owners": owners,
        "policies": policies,
        "approvals": approvals,
        "exceptions": [exception_data(e) for e in exceptions],
        "findings": [finding_data(f) | {"target": str(f.run.target)} for f in findings],
        "records": system_records(actor, systems, evidence),
        "trail": {
            "entries": extract,
            "verified": verification.ok,
            "checked": verification.checked,
            "break": f"#{verification.broken.seq}: {verification.broken.reason}" if verification.broken else "",
        },
    }


def collect(report: Report, actor: Actor) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The report's snapshot and the objects it draws on, as ``actor`` may see them."""
    from audits.reports import annex_iv

    evidence = Evidence()
    if report.kind == ReportKind.MODEL and report.model_version is not None:
        content = model_snapshot(actor, report.model_version, evidence)
    elif report.kind == ReportKind.APPLICATION and report.system is not None:
        content = application_snapshot(actor, report.system, evidence)
    else:
        content = governance_snapshot(actor, report, evidence)
    snapshot = {
        "format": "custodia-report",
        "version": SNAPSHOT_VERSION,
        "uuid": str(report.uuid),
        "kind": report.kind,
        "language": report.language,
        "scope": report.scope_label,
        "requested_by": report.actor_label,
        "generated_at": iso(report.generated_at),
        "generator": report.generator,
        "content": content,
    }
    snapshot["annex_iv"] = annex_iv.evaluate(snapshot)
    return snapshot, evidence.as_dict()
