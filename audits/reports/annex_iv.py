"""The EU AI Act's Annex IV technical documentation, item by item, filled from a report's snapshot.

Regulation (EU) 2024/1689, Annex IV lists what the technical documentation of a high-risk AI
system must contain (Article 11(1)). ``evaluate(snapshot)`` returns, for each item we track, the
evidence the snapshot holds for it — or nothing, shown as "not provided" — and the share of items
provided. It runs while the snapshot is collected, in the report's language, so the evidence
lines are frozen with the rest of the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

Content = dict[str, Any]

ITEMS: tuple[tuple[str, Any], ...] = (
    ("1(a)", gettext_lazy("Intended purpose, provider and version of the system")),
    ("1(c)", gettext_lazy("Versions of the software and models it relies on")),
    ("1(h)", gettext_lazy("Instructions for use and intended use")),
    ("2(a)", gettext_lazy("Development methods, pre-trained systems and tools used")),
    ("2(b)", gettext_lazy("Design specifications and architecture (components)")),
    ("2(d)", gettext_lazy("Data requirements: datasheets, provenance and preparation of the training data")),
    ("2(e)", gettext_lazy("Assessment of the human-oversight measures (Article 14)")),
    ("2(f)", gettext_lazy("Pre-determined changes to the system and its performance")),
    ("2(g)", gettext_lazy("Validation and testing: data, metrics, discriminatory impact, test reports")),
    ("2(h)", gettext_lazy("Cybersecurity measures")),
    ("3", gettext_lazy("Capabilities and limitations, foreseeable risks, specifications of input data")),
    ("4", gettext_lazy("Appropriateness of the performance metrics")),
    ("5", gettext_lazy("Risk-management system (Article 9)")),
    ("6", gettext_lazy("Relevant changes through the lifecycle")),
    ("7", gettext_lazy("Harmonised standards applied, or the solutions adopted instead")),
    ("8", gettext_lazy("EU declaration of conformity (Article 47)")),
    ("9", gettext_lazy("Post-market monitoring of performance (Article 72)")),
)


def _records(content: Content) -> Content:
    return content.get("records") or {}


def _checks_by_kind(content: Content, kind: str) -> list[Content]:
    return [c for c in content.get("checks", []) if c.get("kind") == kind and c.get("state") == "succeeded"]


def _check_lines(content: Content, kinds: tuple[str, ...]) -> list[str]:
    lines = []
    for check in content.get("checks", []):
        if check.get("kind") in kinds and check.get("state") == "succeeded":
            lines.append(
                _("%(check)s on %(target)s: %(verdict)s")
                % {"check": check["kind_label"], "target": check["target"], "verdict": check["verdict"] or "—"}
            )
    return lines


def item_1a(kind: str, content: Content) -> list[str]:
    if kind == "model":
        card = content["model_card"]
        lines = [_("Model %(model)s, version %(version)s") % {"model": card["model"], "version": card["version"]}]
        if card.get("provider"):
            lines.append(_("Provider: %(provider)s") % {"provider": card["provider"]})
        if card.get("purpose"):
            lines.append(card["purpose"])
        return lines
    if kind == "application":
        system = content["system"]
        return [
            _("%(name)s, owned by %(team)s") % {"name": system["name"], "team": system["team"]},
            system["purpose"],
        ]
    return (
        [_("%(count)s AI systems with their purpose and owner in the inventory") % {"count": len(content["systems"])}]
        if content.get("systems")
        else []
    )


def item_1c(kind: str, content: Content) -> list[str]:
    if kind == "model":
        card = content["model_card"]
        return [
            line
            for line in (
                card.get("base_model") and _("Base model: %(base)s") % {"base": card["base_model"]},
                card.get("fine_tuned_from") and _("Fine-tuned from %(parent)s") % {"parent": card["fine_tuned_from"]},
                card.get("artifact_uri") and _("Artefact: %(uri)s") % {"uri": card["artifact_uri"]},
            )
            if line
        ]
    if kind == "application":
        return [f"{row['role']}: {row['part']}" for row in content.get("components", [])]
    return []


def item_1h(kind: str, content: Content) -> list[str]:
    if kind == "model":
        return list(content["model_card"].get("intended_uses") or [])
    if kind == "application":
        system = content["system"]
        return [text for text in (system.get("intended_use"), system.get("deployment_context")) if text]
    return []


def item_2a(kind: str, content: Content) -> list[str]:
    if kind != "model":
        return []
    card = content["model_card"]
    lines = [_("Base model: %(base)s") % {"base": card["base_model"]}] if card.get("base_model") else []
    for generator in content.get("generators", []):
        lines.append(
            _("Synthetic data %(produced)s from %(generator)s (%(method)s)")
            % {"produced": generator["produced"], "generator": generator["generator"], "method": generator["method"]}
        )
    return lines


def item_2b(kind: str, content: Content) -> list[str]:
    if kind == "application":
        return [f"{row['role']}: {row['part']}" for row in content.get("components", [])]
    if kind == "model":
        card = content["model_card"]
        lines = []
        if card.get("parameter_count"):
            lines.append(_("%(count)s parameters") % {"count": f"{card['parameter_count']:,}"})
        if card.get("context_window"):
            lines.append(_("Context window of %(tokens)s tokens") % {"tokens": card["context_window"]})
        return lines
    return []


def item_2d(kind: str, content: Content) -> list[str]:
    lines = []
    for data in content.get("training_data", []):
        documented = [
            name for name in ("motivation", "collection_process", "preprocessing", "intended_uses") if data.get(name)
        ]
        lines.append(
            _("%(label)s: origin %(origin)s, %(documented)s of 4 datasheet fields documented")
            % {"label": data["label"], "origin": data["origin"], "documented": len(documented)}
        )
    upstream = (content.get("lineage") or {}).get("upstream") or []
    if upstream:
        lines.append(_("Lineage back to %(count)s upstream sources") % {"count": len(upstream)})
    return lines


def item_2e(kind: str, content: Content) -> list[str]:
    return [f"{m['kind']}: {m['description']} ({m['responsible']})" for m in _records(content).get("oversight", [])]


def item_2g(kind: str, content: Content) -> list[str]:
    lines = _check_lines(content, ("bias", "pii", "memorisation"))
    for evaluation in content.get("evaluations", []):
        lines.append(
            _("Evaluation “%(name)s”: %(items)s items") % {"name": evaluation["name"], "items": evaluation["items"]}
        )
    return lines


def item_3(kind: str, content: Content) -> list[str]:
    lines = []
    if kind == "model":
        lines += list(content["model_card"].get("limitations") or [])
    lines += _check_lines(content, ("bias",))
    lines += [_("Risk: %(title)s") % {"title": r["title"]} for r in _records(content).get("risks", [])]
    return lines


def item_4(kind: str, content: Content) -> list[str]:
    lines = [
        _("Evaluation “%(name)s”, mean score %(score)s")
        % {"name": e["name"], "score": "—" if e["mean_score"] is None else f"{e['mean_score']:.3f}"}
        for e in content.get("evaluations", [])
    ]
    lines += [
        _("Policy %(kind)s v%(number)s in force") % {"kind": p["kind"], "number": p["number"]}
        for p in content.get("policies", [])
    ]
    return lines


def item_5(kind: str, content: Content) -> list[str]:
    risks = _records(content).get("risks", [])
    if not risks:
        return []
    open_risks = sum(1 for r in risks if r["open"])
    return [_("Risk register: %(count)s risks, %(open)s open") % {"count": len(risks), "open": open_risks}]


def item_6(kind: str, content: Content) -> list[str]:
    lines = [
        _("%(from)s → %(to)s by %(by)s") % {"from": a["from"], "to": a["to"], "by": a["by"]}
        for a in content.get("approvals", [])
        if "from" in a
    ]
    if kind == "model" and content.get("history"):
        lines.append(_("%(count)s versions of this model on record") % {"count": len(content["history"])})
    if kind == "governance":
        lines += [_("Approved: %(version)s") % {"version": a["model_version"]} for a in content.get("approvals", [])]
    return lines


def item_7(kind: str, content: Content) -> list[str]:
    return [
        f"{s['name']}" + (f" ({s['reference']})" if s.get("reference") else "")
        for s in _records(content).get("standards", [])
    ]


def item_8(kind: str, content: Content) -> list[str]:
    return [
        s["name"]
        for s in _records(content).get("standards", [])
        if "conformity" in s["name"].lower() or "conformidad" in s["name"].lower()
    ]


def item_9(kind: str, content: Content) -> list[str]:
    lines = []
    monitoring = content.get("monitoring") or []
    if monitoring:
        lines.append(_("%(count)s check results over time") % {"count": len(monitoring)})
    feedback = _records(content).get("feedback") or {}
    if feedback.get("count"):
        lines.append(_("%(count)s human feedback ratings") % {"count": feedback["count"]})
    incidents = _records(content).get("incidents") or []
    if incidents:
        lines.append(_("%(count)s incidents recorded") % {"count": len(incidents)})
    return lines


def _none(kind: str, content: Content) -> list[str]:
    return []


FILLERS: dict[str, Callable[[str, Content], list[str]]] = {
    "1(a)": item_1a,
    "1(c)": item_1c,
    "1(h)": item_1h,
    "2(a)": item_2a,
    "2(b)": item_2b,
    "2(d)": item_2d,
    "2(e)": item_2e,
    "2(f)": _none,
    "2(g)": item_2g,
    "2(h)": _none,
    "3": item_3,
    "4": item_4,
    "5": item_5,
    "6": item_6,
    "7": item_7,
    "8": item_8,
    "9": item_9,
}


def evaluate(snapshot: Content) -> dict[str, Any]:
    """Each tracked Annex IV item with its evidence (empty: not provided) and the completeness."""
    kind, content = snapshot["kind"], snapshot["content"]
    items = []
    for number, title in ITEMS:
        evidence = [line for line in FILLERS[number](kind, content) if line][:12]
        items.append({"number": number, "title": str(title), "evidence": evidence, "provided": bool(evidence)})
    provided = sum(1 for item in items if item["provided"])
    return {"items": items, "provided": provided, "total": len(items), "completeness": provided / len(items)}
