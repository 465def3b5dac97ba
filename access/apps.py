from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Access control")

    def ready(self) -> None:
        # The trail cannot ask access control whose entries a request may read (it is the lower
        # layer), so access control tells it.
        from access.actors import audit_team_scope
        from trail.scope import register_team_scope

        register_team_scope(audit_team_scope)

        # Registers the bearer-token scheme with the OpenAPI schema generator.
        import access.api.schema  # noqa: F401
