"""The checks the engine can run: each kind has a runner that validates parameters and computes.

A runner's ``run`` gets the claimed ``CheckRun``, the thresholds of the policy in force and a
``progress`` callback (which raises ``CheckCancelled`` when a user cancelled the run), and returns
an ``Outcome``. It raises ``CheckInputError`` for anything the requester must fix (the run fails
with that message) and ``TransientCheckError`` for what may work on a retry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Progress = Callable[[float, str], None]


class CheckInputError(Exception):
    """The input of a check cannot be used; the message is shown to the user as the failure reason."""


class TransientCheckError(Exception):
    """A failure that may not happen again (storage or database unavailable): the run is retried."""


class CheckCancelled(Exception):
    """A user cancelled the run while it was running."""


@dataclass
class Outcome:
    metrics: dict[str, Any]
    verdict: str
    reasons: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)


class Runner(Protocol):
    def run(self, run: Any, thresholds: dict[str, Any], progress: Progress) -> Outcome: ...


class PartedRunner(Runner, Protocol):
    """A runner whose large inputs are split into parts that several workers compute.

    ``plan`` returns the parameters of each part (or None to run in one piece with ``run``);
    ``run_part`` computes one part into a JSON-serialisable partial result; ``finish`` merges the
    partials of all parts, in part order, into the outcome.
    """

    def plan(self, run: Any, thresholds: dict[str, Any]) -> list[dict[str, Any]] | None: ...

    def run_part(
        self, run: Any, parameters: dict[str, Any], thresholds: dict[str, Any], progress: Progress
    ) -> dict[str, Any]: ...

    def finish(self, run: Any, partials: list[dict[str, Any]], thresholds: dict[str, Any]) -> Outcome: ...


_RUNNERS: dict[str, Runner] = {}
# Each kind's module registers its runner when imported; only the kind a worker runs is loaded.
MODULES = {
    "bias": "audits.runners.bias",
    "evaluation": "audits.runners.evaluation",
    "pii": "audits.runners.pii",
    "memorisation": "audits.runners.memorisation",
}


def register(kind: str, runner: Runner) -> None:
    _RUNNERS[kind] = runner


def runner_for(kind: str) -> Runner:
    if kind not in _RUNNERS and kind in MODULES:
        importlib.import_module(MODULES[kind])
    try:
        return _RUNNERS[kind]
    except KeyError:
        raise CheckInputError(f"No runner for checks of kind {kind!r}.") from None
