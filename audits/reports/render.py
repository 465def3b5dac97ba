"""A report's HTML and PDF, rendered from its snapshot (and signature) alone.

The same template serves the page and the PDF. The PDF (WeasyPrint) has a cover page, a table of
contents with page numbers, running page numbers, the per-group bias charts and the lineage
diagram as SVG, and tables whose header rows repeat on every page. Rendering is deterministic:
the PDF's dates and identifier come from the snapshot, so regenerating a report from its snapshot
gives the same file.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from audits import charts

TEMPLATE = "reports/document.html"


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot_hash(snapshot: dict[str, Any]) -> str:
    """SHA-256 of the snapshot's canonical JSON: what the PDF prints and the record keeps."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lineage_svg(content: dict[str, Any], title: str) -> SafeString | None:
    from lineage.svg import render_svg

    graph = (content.get("lineage") or {}).get("graph") or []
    if not graph:
        return None
    start = (content.get("lineage") or {}).get("start") or [None]
    # render_svg escapes every label and emits no script or external reference.
    return mark_safe(render_svg({"graph": graph}, centre=start[0], title=title))  # noqa: S308


def _check_views(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    views = []
    for check in checks:
        view = dict(check)
        metrics = check.get("metrics") or {}
        if check["kind"] == "bias" and metrics:
            view["bias"] = charts.bias_view(metrics)
        elif check["kind"] == "pii" and metrics:
            view["pii"] = charts.pii_view(metrics)
        elif check["kind"] == "memorisation" and metrics:
            view["memorisation"] = metrics
        views.append(view)
    return views


def context(snapshot: dict[str, Any], signature: dict[str, Any] | None, digest: str) -> dict[str, Any]:
    content = snapshot["content"]
    return {
        "snapshot": snapshot,
        "content": content,
        "kind": snapshot["kind"],
        "checks": _check_views(content.get("checks", [])),
        "lineage_svg": _lineage_svg(content, str(snapshot["scope"])),
        "annex": snapshot["annex_iv"],
        "digest": digest,
        "signature": signature,
        "generated_at": datetime.fromisoformat(snapshot["generated_at"]) if snapshot.get("generated_at") else None,
    }


def render_html(snapshot: dict[str, Any], signature: dict[str, Any] | None = None, *, for_pdf: bool = True) -> str:
    digest = snapshot_hash(snapshot)
    with translation.override(snapshot["language"]):
        return render_to_string(TEMPLATE, {**context(snapshot, signature, digest), "for_pdf": for_pdf})


def render_pdf(snapshot: dict[str, Any], signature: dict[str, Any] | None = None) -> bytes:
    """The PDF of a snapshot; the same snapshot and signature always give the same bytes."""
    import weasyprint

    html = render_html(snapshot, signature)
    document = weasyprint.HTML(string=html, base_url=None).render()
    # Fixed metadata: the dates of the snapshot and a PDF identifier derived from its hash.
    generated = snapshot.get("generated_at") or ""
    document.metadata.created = generated
    document.metadata.modified = (signature or {}).get("signed_at") or generated
    document.metadata.title = f"{snapshot['kind']} — {snapshot['scope']}"
    document.metadata.generator = snapshot.get("generator") or "Custodia"
    document.metadata.keywords = [f"custodia-report:{snapshot['uuid']}", f"sha256:{snapshot_hash(snapshot)}"]
    identifier = hashlib.md5(canonical_json([snapshot_hash(snapshot), signature]), usedforsecurity=False).hexdigest()
    return bytes(document.write_pdf(pdf_identifier=identifier.encode()))
