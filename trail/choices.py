from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    TRANSITION = "transition", _("Lifecycle change")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    GRANT = "grant", _("Access granted")
    REVOKE = "revoke", _("Access revoked")
    VERIFY = "verify", _("Verified")
