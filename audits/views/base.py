"""What the audits pages share with the registry's: the acting user and visible-only fetches."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from audits.models import CheckRun
from audits.services.runs import access_target
from registry.views.base import ActorView, detail_url


class AuditsView(ActorView):
    def target_from_query(self, action: str = "view") -> Any:
        target = access_target(self.actor, self.request.GET.get("target") or self.request.POST.get("target") or "")
        if action != "view" and not (
            self.actor.may(action) and type(target).objects.visible_to(self.actor, action).filter(pk=target.pk).exists()
        ):
            raise PermissionDenied
        return target

    def run(self, action: str = "view") -> CheckRun:
        run = (
            CheckRun.objects.visible_to(self.actor)
            .select_related("policy_version__policy", "policy_system", "input_dataset_version__dataset", "evaluation")
            .filter(uuid=self.kwargs["uuid"])
            .first()
        )
        if run is None:
            raise Http404
        if action != "view":
            target = run.target
            if not (
                self.actor.may(action)
                and type(target).objects.visible_to(self.actor, action).filter(pk=target.pk).exists()
            ):
                raise PermissionDenied
        return run


def target_url(target: Any) -> str:
    return detail_url(target)


def service_error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)
