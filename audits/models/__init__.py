from audits.models.evaluations import EvaluationItem, EvaluationRun
from audits.models.findings import Finding, FindingStatusChange
from audits.models.parts import CheckRunPart
from audits.models.policies import ApprovalException, Policy, PolicyVersion
from audits.models.runs import CheckRun

__all__ = [
    "ApprovalException",
    "CheckRun",
    "CheckRunPart",
    "EvaluationItem",
    "EvaluationRun",
    "Finding",
    "FindingStatusChange",
    "Policy",
    "PolicyVersion",
]
