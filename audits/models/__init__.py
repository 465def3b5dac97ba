from audits.models.evaluations import EvaluationItem, EvaluationRun
from audits.models.findings import Finding, FindingStatusChange
from audits.models.governance import AppliedStandard, Feedback, Incident, OversightMeasure, Risk
from audits.models.memorisation import Canary, IndexState, MemorisationIndex
from audits.models.parts import CheckRunPart
from audits.models.policies import ApprovalException, Policy, PolicyVersion
from audits.models.reports import Report
from audits.models.runs import CheckRun

__all__ = [
    "AppliedStandard",
    "ApprovalException",
    "Canary",
    "CheckRun",
    "CheckRunPart",
    "EvaluationItem",
    "EvaluationRun",
    "Feedback",
    "Finding",
    "FindingStatusChange",
    "Incident",
    "IndexState",
    "MemorisationIndex",
    "OversightMeasure",
    "Policy",
    "PolicyVersion",
    "Report",
    "Risk",
]
