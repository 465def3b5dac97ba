from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext as _


class NotVisible(Http404):
    """The object does not exist for this actor (it may exist for others): always a 404."""


class InUseError(ProtectedError):
    """Deleting would break something that still depends on the object; ``explanation`` says what."""

    def __init__(self, explanation: str, protected_objects: Iterable[Any]) -> None:
        self.explanation = explanation
        super().__init__(explanation, set(protected_objects))


def describe_dependants(obj: Any, protected: Iterable[Any]) -> str:
    """A sentence naming what still uses ``obj``, e.g. for a refused deletion."""
    from registry.models import GeneratorTrainingData, ModelTrainingData, SystemComponent

    reasons: list[str] = []
    for dep in list(protected)[:10]:
        if isinstance(dep, SystemComponent):
            reasons.append(
                _("AI system “%(system)s” uses it as %(role)s") % {"system": dep.system, "role": dep.get_role_display()}
            )
        elif isinstance(dep, ModelTrainingData):
            reasons.append(_("model version “%(v)s” was trained on it") % {"v": dep.model_version})
        elif isinstance(dep, GeneratorTrainingData):
            reasons.append(_("generator version “%(v)s” was trained on it") % {"v": dep.generator_version})
        else:
            name = dep._meta.verbose_name
            reasons.append(_("%(kind)s “%(obj)s” refers to it") % {"kind": name, "obj": dep})
    return _("“%(obj)s” cannot be deleted because it is still in use: %(reasons)s.") % {
        "obj": obj,
        "reasons": "; ".join(sorted(set(reasons))),
    }
