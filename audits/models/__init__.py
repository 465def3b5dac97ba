from audits.models.evaluations import EvaluationItem, EvaluationRun
from audits.models.findings import Finding, FindingStatusChange
from audits.models.memorisation import Canary, IndexState, MemorisationIndex
from audits.models.parts import CheckRunPart
from audits.models.policies import ApprovalException, Policy, PolicyVersion
from audits.models.runs import CheckRun

__all__ = [
    "ApprovalException",
    "Canary",
    "CheckRun",
    "CheckRunPart",
    "EvaluationItem",
    "EvaluationRun",
    "Finding",
    "FindingStatusChange",
    "IndexState",
    "MemorisationIndex",
    "Policy",
    "PolicyVersion",
]
