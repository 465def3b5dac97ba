from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _reap_on_worker_start(sender: Any = None, **kwargs: Any) -> None:
    """A worker that starts recovers runs left "running" by a worker that died."""
    from audits.tasks import reap_stale_runs

    reap_stale_runs.delay()


def _load_demo_checks(sender: Any, *, team: Any, actor: Any, **kwargs: Any) -> None:
    from audits.demo import load_demo_checks

    load_demo_checks(team=team, actor=actor)


def _auto_scan(sender: Any, *, version: Any, **kwargs: Any) -> None:
    from audits.services.runs import auto_scan_new_version

    auto_scan_new_version(version)


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Audits")

    def ready(self) -> None:
        from celery.signals import worker_ready

        from audits.gate import approval_gate
        from audits.governance_panel import register_governance_panel
        from audits.panels import register_panels
        from audits.verdicts import latest_verdicts
        from registry import gates
        from registry.mlflow import writeback
        from registry.signals import demo_loaded, version_created

        gates.register(approval_gate)
        writeback.register_verdict_source(latest_verdicts)
        register_panels()
        register_governance_panel()
        demo_loaded.connect(_load_demo_checks, dispatch_uid="audits.load_demo_checks")
        version_created.connect(_auto_scan, dispatch_uid="audits.auto_scan")
        worker_ready.connect(_reap_on_worker_start, dispatch_uid="audits.reap_on_worker_start")
