"""Helpers of the audits tests: evaluation items, running a queued check in this process."""

from __future__ import annotations

from typing import Any

import pytest

from audits.checks.evaluation import EvaluationItemData
from audits.models import CheckRun
from audits.tasks import execute_check


def items(scores: list[float]) -> list[EvaluationItemData]:
    return [
        EvaluationItemData(position=i, question=f"Q{i}?", answer=f"A{i}", score=s, ground_truth=f"T{i}")
        for i, s in enumerate(scores, start=1)
    ]


def run_now(run: CheckRun) -> CheckRun:
    """Execute a queued run eagerly (the worker tests run it in a real worker process)."""
    execute_check.apply(args=[run.pk])
    run.refresh_from_db()
    return run


@pytest.fixture
def good_scores() -> list[float]:
    return [0.9] * 40


@pytest.fixture
def bad_scores() -> list[float]:
    return [0.9] * 20 + [0.2] * 20


def rows(scores: list[float]) -> list[dict[str, Any]]:
    return [{"question": f"Q{i}?", "answer": f"A{i}", "score": s} for i, s in enumerate(scores, start=1)]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    """Uploaded check inputs go to a per-test folder, not the shared var/ directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
