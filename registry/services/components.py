"""Which dataset, model and prompt versions an AI system uses, and in which role."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.choices import ROLE_KINDS, ComponentKind
from registry.models import AISystem, DatasetVersion, ModelVersion, PromptVersion, SystemComponent
from registry.services.access import lock_for, require_visible
from trail.services import record

PART_FIELDS: dict[type, str] = {
    DatasetVersion: "dataset_version",
    ModelVersion: "model_version",
    PromptVersion: "prompt_version",
}
KIND_OF: dict[type, str] = {
    DatasetVersion: ComponentKind.DATASET,
    ModelVersion: ComponentKind.MODEL,
    PromptVersion: ComponentKind.PROMPT,
}


def do_add_component(system: AISystem, *, actor: Actor, role: str, part: Any, notes: str = "") -> SystemComponent:
    if type(part) not in PART_FIELDS:
        raise ValidationError({"part": _("A component is a dataset, model or prompt version.")})
    if role not in ROLE_KINDS:
        raise ValidationError({"role": _("Unknown role.")})
    if ROLE_KINDS[role] != KIND_OF[type(part)]:
        raise ValidationError(
            {
                "role": _("The role “%(role)s” does not fit a %(kind)s.")
                % {"role": role, "kind": part._meta.verbose_name}
            }
        )
    require_visible(actor, [part], PART_FIELDS[type(part)])
    with transaction.atomic():
        locked = lock_for(actor, system, "change")
        field = PART_FIELDS[type(part)]
        if SystemComponent.objects.filter(system=locked, role=role, **{field: part}).exists():
            raise ValidationError({"role": _("The system already uses this version in this role.")})
        component = SystemComponent.objects.create(system=locked, role=role, notes=notes, **{field: part})
        record(
            "update",
            actor=actor,
            obj=locked,
            changes={
                "components": {
                    "added": {"role": role, "kind": KIND_OF[type(part)], "version": str(part.uuid), "label": str(part)}
                }
            },
        )
    return component


def do_remove_component(component: SystemComponent, *, actor: Actor) -> None:
    with transaction.atomic():
        locked = lock_for(actor, component.system, "change")
        record(
            "update",
            actor=actor,
            obj=locked,
            changes={
                "components": {
                    "removed": {
                        "role": component.role,
                        "version": str(component.part.uuid),
                        "label": str(component.part),
                    }
                }
            },
        )
        SystemComponent.objects.filter(pk=component.pk).delete()
