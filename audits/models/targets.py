"""What a check or an evaluation is about: exactly one registry version, or an AI system.

Visibility follows the target: a user sees a run (and its findings) exactly when they may see the
version or system it is about, so moving an asset to another team moves its checks with it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.db import models
from django.db.models import Q

from access.actors import Actor

# (field on the run, registry model label) in the order the UI lists them.
TARGET_FIELDS: tuple[tuple[str, str], ...] = (
    ("dataset_version", "registry.DatasetVersion"),
    ("model_version", "registry.ModelVersion"),
    ("prompt_version", "registry.PromptVersion"),
    ("generator_version", "registry.GeneratorVersion"),
    ("system", "registry.AISystem"),
)
TARGET_KINDS = {
    "dataset_version": "datasetversion",
    "model_version": "modelversion",
    "prompt_version": "promptversion",
    "generator_version": "generatorversion",
    "system": "aisystem",
}


def exactly_one_target(fields: tuple[str, ...], name: str) -> models.CheckConstraint:
    options = []
    for chosen in fields:
        options.append(Q(**{f"{f}__isnull": f != chosen for f in fields}))
    condition = options[0]
    for option in options[1:]:
        condition |= option
    return models.CheckConstraint(condition=condition, name=name)


class TargetQuerySet(models.QuerySet):
    """Rows visible through whichever target they point at (``target_fields`` on the model)."""

    def visible_to(self, who: Any, action: str = "view") -> Self:
        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may(action):
            return self.none()
        if actor.sees_everything:
            return self
        condition = Q()
        for field_name in self.model.target_fields:
            related: Any = self.model._meta.get_field(field_name).related_model
            condition |= Q(**{f"{field_name}__in": related.objects.visible_to(actor, action).values("pk")})
        return self.filter(condition)


class ParentQuerySet(models.QuerySet):
    """Rows visible when their ``visibility_parent`` (a targeted row) is."""

    def visible_to(self, who: Any, action: str = "view") -> Self:
        actor = Actor.coerce(who)
        if not actor.is_authenticated or not actor.may(action):
            return self.none()
        if actor.sees_everything:
            return self
        parent_field: str = self.model.visibility_parent
        parent: Any = self.model._meta.get_field(parent_field).related_model
        return self.filter(**{f"{parent_field}__in": parent.objects.visible_to(actor, action).values("pk")})


class TargetManager(models.Manager.from_queryset(TargetQuerySet)):  # type: ignore[misc]
    pass


class ParentManager(models.Manager.from_queryset(ParentQuerySet)):  # type: ignore[misc]
    pass


class TargetMixin(models.Model):
    """Accessors shared by models that point at one target through nullable foreign keys."""

    target_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    @property
    def target(self) -> Any:
        for name in self.target_fields:
            value = getattr(self, name)
            if value is not None:
                return value
        return None

    @property
    def target_kind(self) -> str:
        for name in self.target_fields:
            if getattr(self, f"{name}_id") is not None:
                return TARGET_KINDS[name]
        return ""

    @property
    def owner_team(self) -> Any:
        target = self.target
        if target is None:
            return None
        asset = target if not hasattr(target, "ASSET_FIELD") else target.asset
        return asset.owner_team
