"""The approval gate: a model version with a failed check or an open serious finding is not approved.

Checks on the model version itself and on the dataset versions it was trained on count; only each
check's current run (the latest that succeeded, not superseded) is considered. A compliance
officer's active approval exception waives the gate, and the approval's audit-trail entry says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from audits.choices import BLOCKING_SEVERITIES, FindingStatus, RunState, Verdict
from audits.models import ApprovalException, CheckRun, Finding
from registry.gates import GateDecision
from registry.models import ModelTrainingData, ModelVersion


@dataclass
class Blockers:
    failed_runs: list[CheckRun] = field(default_factory=list)
    open_findings: list[Finding] = field(default_factory=list)
    exception: ApprovalException | None = None

    @property
    def reasons(self) -> list[str]:
        reasons = [
            _("the %(check)s check on %(target)s failed (run %(run)s)")
            % {"check": run.get_kind_display(), "target": run.target, "run": str(run.uuid)[:8]}
            for run in self.failed_runs
        ]
        reasons += [
            _("%(severity)s finding “%(title)s” is open")
            % {"severity": finding.get_severity_display(), "title": finding.title}
            for finding in self.open_findings
        ]
        return reasons

    @property
    def blocked(self) -> bool:
        return bool(self.failed_runs or self.open_findings)


def current_runs_for(model_version: ModelVersion) -> Any:
    dataset_ids = ModelTrainingData.objects.filter(model_version=model_version).values("dataset_version_id")
    return CheckRun.objects.filter(
        Q(model_version=model_version) | Q(dataset_version_id__in=dataset_ids),
        state=RunState.SUCCEEDED,
        superseded_by__isnull=True,
    )


def blockers_for(model_version: ModelVersion) -> Blockers:
    runs = current_runs_for(model_version)
    failed = list(runs.filter(verdict=Verdict.FAIL).select_related("model_version__model", "dataset_version__dataset"))
    findings = list(
        Finding.objects.filter(
            run__in=runs.values("pk"), status=FindingStatus.OPEN, severity__in=list(BLOCKING_SEVERITIES)
        ).select_related("run")[:50]
    )
    exception = (
        ApprovalException.objects.filter(model_version=model_version, revoked_at__isnull=True)
        .order_by("-expires_on")
        .first()
    )
    return Blockers(failed, findings, exception if exception and exception.is_active else None)


def approval_gate(version: Any, actor: Any) -> GateDecision:
    blockers = blockers_for(version)
    if not blockers.blocked:
        return GateDecision()
    if blockers.exception is not None:
        exception = blockers.exception
        return GateDecision(
            waived=blockers.reasons,
            waiver={
                "approval_exception": str(exception.uuid),
                "justification": exception.justification,
                "expires_on": exception.expires_on.isoformat(),
                "recorded_by": exception.actor_label,
            },
        )
    return GateDecision(blocking=blockers.reasons)
