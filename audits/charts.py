"""Charts and tables of check results, prepared for the pages (and the PDF reports) in the user's language.

The SVG itself comes from ``audits.checks.charts`` (plain functions, no Django); this module picks
what to draw from a stored result and translates the titles.
"""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits.checks import charts

RATE_LABELS = {
    "selection_rate": gettext_lazy("Selection rate"),
    "accuracy": gettext_lazy("Accuracy"),
    "tpr": gettext_lazy("True positive rate"),
    "fpr": gettext_lazy("False positive rate"),
    "fnr": gettext_lazy("False negative rate"),
}
LABELLED_RATES = ("accuracy", "tpr", "fpr", "fnr")


def _svg(markup: str) -> SafeString:
    # Built by audits.checks.charts, which escapes every label it writes.
    return mark_safe(markup)  # noqa: S308


def histogram_svg(counts: list[int]) -> SafeString | None:
    if not counts or not any(counts):
        return None
    width = 1 / len(counts)
    bars = [
        charts.Bar(label=f"{i * width:.1f}–{(i + 1) * width:.1f}", value=float(count)) for i, count in enumerate(counts)
    ]
    title = _("Items per score band")
    return _svg(charts.group_bar_chart(bars, title=title, description=title, value_label=_("items")))


def _rate_chart(grouping: dict[str, Any], metric: str, min_ratio: float | None) -> SafeString:
    from audits.checks.bias import group_bars  # pandas: loaded only where a bias result is shown

    bars = group_bars(grouping, metric)
    values = [bar.value for bar in bars if bar.value is not None]
    threshold = min_ratio * max(values) if min_ratio is not None and values else None
    title = _("%(rate)s by %(grouping)s") % {"rate": RATE_LABELS[metric], "grouping": grouping["name"]}
    return _svg(
        charts.group_bar_chart(
            bars,
            title=title,
            description=_("%(title)s, with bootstrap confidence intervals.") % {"title": title},
            value_label=str(RATE_LABELS[metric]),
            threshold=threshold,
            threshold_label=_("%(ratio)s × highest") % {"ratio": f"{min_ratio:g}"} if threshold is not None else None,
            value_max=1.0,
        )
    )


def bias_view(result: dict[str, Any]) -> dict[str, Any] | None:
    """What the result page shows of a stored bias result: per grouping, charts, a table and disparities."""
    metrics = result.get("metrics")
    if not metrics:
        return None
    labelled = bool(metrics.get("labelled"))
    min_ratio = (result.get("thresholds") or {}).get("min_ratio")
    rates = ["selection_rate", *(LABELLED_RATES if labelled else ())]
    groupings = []
    for grouping in metrics.get("groupings", []):
        chart_metrics = ["selection_rate", "tpr"] if labelled else ["selection_rate"]
        groupings.append(
            {
                "name": grouping["name"],
                "intersectional": grouping.get("intersectional", False),
                "verdict": grouping.get("verdict", ""),
                "charts": [
                    _rate_chart(grouping, metric, min_ratio if metric == "selection_rate" else None)
                    for metric in chart_metrics
                ],
                "groups": [
                    {
                        "label": group["label"],
                        "count": group["count"],
                        "small": group.get("below_min_size", False),
                        "mean_score": group.get("mean_score"),
                        "rates": [group["rates"].get(rate) or {} for rate in rates],
                    }
                    for group in grouping["groups"]
                ],
                "disparities": list((grouping.get("disparities") or {}).values()),
            }
        )
    return {
        "rows": metrics.get("rows"),
        "labelled": labelled,
        "has_score": metrics.get("has_score", False),
        "rate_labels": [RATE_LABELS[rate] for rate in rates],
        "groupings": groupings,
        "not_applicable": result.get("not_applicable", []),
        "notes": result.get("notes", []),
        "bootstrap": result.get("bootstrap", {}),
    }


def pii_view(result: dict[str, Any]) -> dict[str, Any] | None:
    """What the result page shows of a stored PII scan: entities by severity, columns, what was not checked."""
    metrics = result.get("metrics")
    if not metrics:
        return None
    order = {"high": 0, "medium": 1, "low": 2}
    entities = sorted(
        ({"entity": name, **values} for name, values in (metrics.get("entities") or {}).items()),
        key=lambda row: (order.get(row.get("severity", "low"), 3), -row.get("count", 0)),
    )
    columns = [{"column": name, **values} for name, values in (metrics.get("columns") or {}).items()]
    bars = [charts.Bar(label=row["entity"], value=float(row["count"])) for row in entities]
    title = _("Occurrences of personal data by type")
    return {
        "records": metrics.get("records"),
        "bytes": metrics.get("bytes"),
        "languages": metrics.get("languages") or {},
        "entities": entities,
        "columns": columns,
        "chart": _svg(charts.group_bar_chart(bars, title=title, description=title, value_label=_("occurrences")))
        if bars
        else None,
        "checked": result.get("checked_entities") or [],
        "not_checked": result.get("not_checked") or [],
        "notes": result.get("notes") or [],
        "truncated": result.get("truncated", False),
    }
