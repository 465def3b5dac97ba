"""State changes to the lineage store made by people (ingestion lives in ``lineage.ingest``).

A registry link joins a lineage dataset to a registered dataset or model version. Whoever makes or
removes one must see both sides and hold a role that may change things; the audit-trail entry is
filed under the team that owns the lineage namespace.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from access.actors import Actor
from lineage.models import LineageDataset, LinkMethod, RegistryLink
from registry.models import DatasetVersion, ModelVersion
from trail import services as trail
from trail.choices import AuditAction


def _require_write_role(actor: Actor) -> None:
    if not actor.may("change"):
        raise PermissionDenied(_("Your role or token scope does not allow linking lineage to the registry."))


def _link_state(link: RegistryLink) -> dict[str, Any]:
    return {
        "dataset": link.dataset.node_id,
        "dataset_version": str(link.dataset_version.uuid) if link.dataset_version else None,
        "model_version": str(link.model_version.uuid) if link.model_version else None,
        "method": link.method,
        "note": link.note,
    }


def _link_repr(link: RegistryLink) -> str:
    target = link.dataset_version or link.model_version
    return f"{link.dataset.node_id} ↔ {target}"[:300]


def do_link_registry(
    dataset: LineageDataset,
    *,
    actor: Actor,
    dataset_version: DatasetVersion | None = None,
    model_version: ModelVersion | None = None,
    note: str = "",
) -> tuple[RegistryLink, bool]:
    """Link ``dataset`` to exactly one registry version; ``(link, created)``.

    Linking the same pair again changes nothing and returns the existing link (its note is kept).
    """
    _require_write_role(actor)
    if (dataset_version is None) == (model_version is None):
        raise ValidationError(_("Link to exactly one of a dataset version or a model version."))
    with transaction.atomic():
        # Re-checked inside the transaction: both sides must still be within the actor's sight.
        locked = (
            LineageDataset.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("namespace__owner_team")
            .filter(pk=dataset.pk)
            .first()
        )
        if locked is None:
            raise Http404
        if dataset_version is not None:
            if not DatasetVersion.objects.visible_to(actor).filter(pk=dataset_version.pk).exists():
                raise ValidationError({"datasetVersion": _("Object does not exist.")})
            existing = RegistryLink.objects.filter(dataset=locked, dataset_version=dataset_version).first()
        else:
            assert model_version is not None
            if not ModelVersion.objects.visible_to(actor).filter(pk=model_version.pk).exists():
                raise ValidationError({"modelVersion": _("Object does not exist.")})
            existing = RegistryLink.objects.filter(dataset=locked, model_version=model_version).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                link = RegistryLink.objects.create(
                    dataset=locked,
                    dataset_version=dataset_version,
                    model_version=model_version,
                    method=LinkMethod.MANUAL,
                    note=note,
                    created_by=actor.user,
                )
        except IntegrityError:
            # A concurrent request made the same link first (the dataset row lock orders most of them).
            raced = RegistryLink.objects.filter(
                dataset=locked, dataset_version=dataset_version, model_version=model_version
            ).first()
            if raced is None:
                raise
            return raced, False
        trail.record(
            AuditAction.CREATE,
            actor=actor,
            obj=link,
            object_repr=_link_repr(link),
            team_slug=locked.namespace.owner_team.slug,
            changes=_link_state(link),
        )
    return link, True


def visible_registry_links(actor: Actor) -> QuerySet[RegistryLink]:
    """The links whose two sides the actor may both see (a link alone reveals its registry side)."""
    return RegistryLink.objects.visible_to(actor).filter(
        Q(dataset_version__in=DatasetVersion.objects.visible_to(actor).values("pk"))
        | Q(model_version__in=ModelVersion.objects.visible_to(actor).values("pk"))
    )


def do_unlink_registry(link: RegistryLink, *, actor: Actor) -> None:
    _require_write_role(actor)
    with transaction.atomic():
        locked = (
            visible_registry_links(actor)
            .select_for_update(of=("self",))
            .select_related("dataset__namespace__owner_team", "dataset_version", "model_version")
            .filter(pk=link.pk)
            .first()
        )
        if locked is None:
            raise Http404
        trail.record(
            AuditAction.DELETE,
            actor=actor,
            obj=locked,
            object_repr=_link_repr(locked),
            team_slug=locked.dataset.namespace.owner_team.slug,
            changes=_link_state(locked),
        )
        RegistryLink.objects.filter(pk=locked.pk).delete()
