from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _push_stage_to_mlflow(sender: Any, *, version: Any, **kwargs: Any) -> None:
    """A model version imported from a server that writes back tells MLflow its new stage."""
    from registry.models import MlflowModelVersionLink
    from registry.tasks import push_mlflow_tags

    link = (
        MlflowModelVersionLink.objects.filter(
            model_version=version, missing_upstream=False, server__write_back=True, server__enabled=True
        )
        .values_list("pk", flat=True)
        .first()
    )
    if link is not None:
        push_mlflow_tags.delay(link)


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry")

    def ready(self) -> None:
        from registry.mlflow.panels import register_panels
        from registry.signals import stage_changed

        register_panels()
        stage_changed.connect(_push_stage_to_mlflow, dispatch_uid="registry.mlflow.push_stage")
