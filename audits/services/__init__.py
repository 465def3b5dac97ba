"""State changes of the audits app: one function per change, each with its audit-trail entry."""

from audits.services.evaluations import do_import_evaluation, parse_items
from audits.services.findings import do_change_finding_status
from audits.services.policies import (
    do_record_approval_exception,
    do_revoke_approval_exception,
    do_set_policy,
    policy_in_force,
)
from audits.services.runs import do_cancel_check, do_request_check, do_rerun_check

__all__ = [
    "do_cancel_check",
    "do_change_finding_status",
    "do_import_evaluation",
    "do_record_approval_exception",
    "do_request_check",
    "do_rerun_check",
    "do_revoke_approval_exception",
    "do_set_policy",
    "parse_items",
    "policy_in_force",
]
