"""Search across every kind of asset, limited to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from access.actors import Actor
from registry.models import AISystem, Dataset, Model, Prompt, SyntheticGenerator

SEARCHABLE: tuple[type[Any], ...] = (AISystem, Dataset, SyntheticGenerator, Model, Prompt)


@dataclass(frozen=True)
class SearchHit:
    kind: str
    kind_label: str
    obj: Any


def search_assets(actor: Actor, query: str, limit_per_kind: int = 25) -> list[SearchHit]:
    query = query.strip()
    if not query:
        return []
    hits: list[SearchHit] = []
    match = Q(name__icontains=query) | Q(description__icontains=query) | Q(tags__slug__icontains=query)
    for model in SEARCHABLE:
        qs = model.objects.visible_to(actor).filter(match).distinct().select_related("owner_team")
        for obj in qs.order_by("name")[:limit_per_kind]:
            hits.append(SearchHit(model._meta.model_name, str(model._meta.verbose_name), obj))
    return hits
