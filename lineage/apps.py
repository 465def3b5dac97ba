from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LineageConfig(AppConfig):
    name = "lineage"
    verbose_name = _("Lineage")

    def ready(self) -> None:
        from lineage.panels import register_panels

        register_panels()
