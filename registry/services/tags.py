from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from registry.models import Tag


def resolve_tags(names: Iterable[str]) -> list[Tag]:
    """Tags by name, created on first use; names are normalised to slugs."""
    tags: list[Tag] = []
    seen: set[str] = set()
    for raw in names:
        name = str(raw).strip()
        if not name:
            continue
        slug = slugify(name)[:60]
        if not slug:
            raise ValidationError({"tags": _("“%(tag)s” is not a usable tag name.") % {"tag": name}})
        if slug in seen:
            continue
        seen.add(slug)
        tag, _created = Tag.objects.get_or_create(slug=slug, defaults={"name": name[:60]})
        tags.append(tag)
    return tags
