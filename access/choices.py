from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OFFICER = "officer", _("Compliance officer")
    CONTRIBUTOR = "contributor", _("Contributor")
    AUDITOR = "auditor", _("Auditor")


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


# What each role may do to objects within its teams' scope. Object visibility itself comes
# from django-guardian permissions granted to the owning team's group.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({"view", "add", "change", "delete", "approve"}),
    Role.OFFICER: frozenset({"view", "add", "change", "approve"}),
    Role.CONTRIBUTOR: frozenset({"view", "add", "change", "delete"}),
    Role.AUDITOR: frozenset({"view"}),
}
