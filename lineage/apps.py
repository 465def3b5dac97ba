from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _load_demo_lineage(sender: Any, *, team: Any, actor: Any, **kwargs: Any) -> None:
    from lineage.demo import load_demo_lineage

    load_demo_lineage(team=team, actor=actor)


class LineageConfig(AppConfig):
    name = "lineage"
    verbose_name = _("Lineage")

    def ready(self) -> None:
        from lineage.panels import register_panels
        from registry.signals import demo_loaded

        register_panels()
        demo_loaded.connect(_load_demo_lineage, dispatch_uid="lineage.load_demo_lineage")
