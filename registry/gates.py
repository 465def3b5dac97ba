"""An extension point for approvals: other apps may hold a model version back from approval.

The registry does not know about checks; ``audits`` registers a gate from its ``AppConfig.ready()``.
A gate is called inside the approval's transaction with the locked model version and the actor,
and returns a ``GateDecision``: the reasons that block the approval (empty when nothing does) and
what lets it through anyway (an exception on record), both written into the audit-trail entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GateDecision:
    blocking: list[str] = field(default_factory=list)
    # Reasons that would block, waived by something on record (e.g. an approval exception).
    waived: list[str] = field(default_factory=list)
    waiver: dict[str, Any] | None = None


Gate = Callable[[Any, Any], GateDecision]

_GATES: list[Gate] = []


def register(gate: Gate) -> None:
    if gate not in _GATES:  # ready() may run more than once (tests, reloads)
        _GATES.append(gate)


def approval_decisions(version: Any, actor: Any) -> list[GateDecision]:
    return [gate(version, actor) for gate in _GATES]
