"""Prompt templates: variable parsing, model settings, aliases and diffs."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access.actors import Actor
from registry.models import Prompt, PromptAlias, PromptVersion
from registry.services.access import lock_for
from trail.services import record

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
OPEN_RE = re.compile(r"\{\{")

# Known model settings and their accepted ranges; unknown keys are kept as given.
NUMERIC_SETTINGS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 1, 10_000),
    "max_tokens": (int, 1, 10_000_000),
    "presence_penalty": (float, -2.0, 2.0),
    "frequency_penalty": (float, -2.0, 2.0),
    "seed": (int, 0, 2**63 - 1),
}


def parse_template_variables(template: str) -> list[str]:
    """The ``{{ variables }}`` of a template, in order of first use; malformed ones are an error."""
    if not template.strip():
        raise ValidationError({"template": _("The template is empty.")})
    found: list[str] = []
    pos = 0
    for match in OPEN_RE.finditer(template):
        if match.start() < pos:
            continue
        var = VARIABLE_RE.match(template, match.start())
        if var is None:
            line = template.count("\n", 0, match.start()) + 1
            raise ValidationError(
                {
                    "template": _(
                        "Line %(line)d: “{{” must be followed by a variable name and “}}”, e.g. {{ customer_name }}."
                    )
                    % {"line": line}
                }
            )
        if var.group(1) not in found:
            found.append(var.group(1))
        pos = var.end()
    return found


def validate_model_settings(settings: Any) -> None:
    if not isinstance(settings, dict):
        raise ValidationError({"model_settings": _("Model settings must be a JSON object.")})
    for key, (kind, low, high) in NUMERIC_SETTINGS.items():
        if key not in settings:
            continue
        value = settings[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
        ):
            raise ValidationError({"model_settings": _("%(key)s must be a number.") % {"key": key}})
        if not low <= value <= high:
            raise ValidationError(
                {
                    "model_settings": _("%(key)s must be between %(low)s and %(high)s.")
                    % {"key": key, "low": low, "high": high}
                }
            )


def prompt_diff(old: PromptVersion, new: PromptVersion) -> list[dict[str, Any]]:
    """A line diff of two prompt versions as ``[{op, old_no, new_no, text}]`` rows."""
    rows: list[dict[str, Any]] = []
    a, b = old.template.splitlines(), new.template.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                rows.append({"op": "equal", "old_no": i1 + k + 1, "new_no": j1 + k + 1, "text": a[i1 + k]})
            continue
        for k in range(i1, i2):
            rows.append({"op": "delete", "old_no": k + 1, "new_no": None, "text": a[k]})
        for k in range(j1, j2):
            rows.append({"op": "insert", "old_no": None, "new_no": k + 1, "text": b[k]})
    return rows


def unified_diff(old: PromptVersion, new: PromptVersion) -> str:
    return "\n".join(
        difflib.unified_diff(
            old.template.splitlines(),
            new.template.splitlines(),
            fromfile=f"v{old.number}",
            tofile=f"v{new.number}",
            lineterm="",
        )
    )


def do_set_prompt_alias(prompt: Prompt, *, actor: Actor, name: str, version: PromptVersion) -> PromptAlias:
    if version.prompt_id != prompt.pk:
        raise ValidationError({"version": _("The alias must point at a version of this prompt.")})
    with transaction.atomic():
        locked = lock_for(actor, prompt, "change")
        alias = PromptAlias.objects.select_for_update().filter(prompt=locked, name=name).first()
        before = alias.version.number if alias is not None else None
        if alias is None:
            alias = PromptAlias(prompt=locked, name=name, version=version)
            alias.full_clean()
            alias.save()
        else:
            alias.version = version
            alias.save(update_fields=["version"])
        record(
            "update",
            actor=actor,
            obj=locked,
            changes={f"alias:{name}": {"from": before, "to": version.number}},
        )
    return alias


def do_delete_prompt_alias(alias: PromptAlias, *, actor: Actor) -> None:
    with transaction.atomic():
        locked = lock_for(actor, alias.prompt, "change")
        record(
            "update",
            actor=actor,
            obj=locked,
            changes={f"alias:{alias.name}": {"from": alias.version.number, "to": None}},
        )
        PromptAlias.objects.filter(pk=alias.pk).delete()
