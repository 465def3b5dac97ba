import logging

from celery import shared_task

from trail.services import SystemActor, record_system_check, verify_chain

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def verify_audit_trail() -> dict[str, object]:
    """Periodic integrity check of the hash chain; the outcome is itself recorded in the trail."""
    result = verify_chain()
    if result.broken is not None:
        logger.error("Audit trail broken at entry #%s: %s", result.broken.seq, result.broken.reason)
    record_system_check(SystemActor("celery:verify_audit_trail"), result)
    return {"checked": result.checked, "ok": result.ok}
