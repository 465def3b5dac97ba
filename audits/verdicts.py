"""The latest verdict of each check on a model version, for integrations that report them (MLflow write-back)."""

from __future__ import annotations

from typing import Any

from audits.choices import RunState
from audits.models import CheckRun


def latest_verdicts(version: Any) -> dict[str, str]:
    """``{check kind: verdict}`` of the current (not superseded) successful run of each check on the version."""
    runs = (
        CheckRun.objects.filter(model_version=version, state=RunState.SUCCEEDED, superseded_by__isnull=True)
        .exclude(verdict="")
        .order_by("created_at", "id")
    )
    return {run.kind: run.verdict for run in runs}
