"""Self-contained SVG charts for check results, for web pages and for PDF reports (WeasyPrint).

No script, no external font or stylesheet: a generic ``sans-serif`` family and presentation
attributes only, so the same string renders in a browser, inline in HTML and in WeasyPrint. Every
text is escaped, and each chart carries ``<title>`` and ``<desc>`` (referenced by
``aria-labelledby``) so that screen readers announce what it shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

_FONT = "sans-serif"
_BAR_COLOUR = "#3b6ea8"
_WHISKER_COLOUR = "#1f2a37"
_THRESHOLD_COLOUR = "#b42318"
_TEXT_COLOUR = "#1f2a37"
_MUTED_COLOUR = "#5b6775"
_ROW_HEIGHT = 28
_BAR_HEIGHT = 16
_LABEL_CHARS = 28  # longer labels are shortened; the full text stays in the bar's <title>
_CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, to size the label column


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None when undefined) and an optional interval."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _number(value: float) -> str:
    return f"{value:.3f}"


def group_bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str = "",
    value_label: str = "",
    threshold: float | None = None,
    threshold_label: str | None = None,
    value_max: float | None = None,
    width: int = 640,
    chart_id: str | None = None,
) -> str:
    """A horizontal bar chart, one row per bar, with interval whiskers and an optional threshold line.

    The value axis runs from 0 to ``value_max`` (default: the largest value, interval end or
    threshold). ``chart_id`` prefixes the ids of the title and description; by default it is derived
    from the content, so several charts can sit on one page without clashing ids.
    """
    highest = max(
        [bar.value or 0.0 for bar in bars]
        + [bar.high or 0.0 for bar in bars]
        + [threshold or 0.0, value_max or 0.0, 1e-9]
    )
    scale_max = value_max if value_max is not None and value_max >= highest else highest
    label_width = int(min(_LABEL_CHARS, max([len(_short(bar.label)) for bar in bars] + [4])) * _CHAR_WIDTH) + 16
    value_width = 52  # room for the value printed after the bar
    top, bottom = 40 if title else 12, 36
    plot_left = label_width
    plot_width = max(80, width - plot_left - value_width - 12)
    height = top + _ROW_HEIGHT * max(1, len(bars)) + bottom
    ident = chart_id or "chart-" + hashlib.sha256(repr((title, bars, threshold)).encode()).hexdigest()[:10]

    def x(value: float) -> float:
        return round(plot_left + plot_width * max(0.0, min(value, scale_max)) / scale_max, 2)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{_FONT}" font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description or title)}</desc>',
    ]
    if title:
        parts.append(
            f'<text x="0" y="18" font-size="14" font-weight="bold" fill="{_TEXT_COLOUR}">{escape(title)}</text>'
        )
    axis_y = top + _ROW_HEIGHT * max(1, len(bars))
    for tick in range(5):
        value = scale_max * tick / 4
        parts.append(
            f'<line x1="{x(value)}" y1="{top - 4}" x2="{x(value)}" y2="{axis_y}" stroke="#e3e7ec" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x(value)}" y="{axis_y + 14}" text-anchor="middle" fill="{_MUTED_COLOUR}">'
            f"{escape(f'{value:.2f}')}</text>"
        )
    if value_label:
        parts.append(
            f'<text x="{plot_left + plot_width / 2}" y="{axis_y + 30}" text-anchor="middle" '
            f'fill="{_MUTED_COLOUR}">{escape(value_label)}</text>'
        )
    for row, bar in enumerate(bars):
        centre = top + _ROW_HEIGHT * row + _ROW_HEIGHT / 2
        parts.append(
            f'<text x="{label_width - 8}" y="{centre + 4}" text-anchor="end" fill="{_TEXT_COLOUR}">'
            f"<title>{escape(bar.label)}</title>{escape(_short(bar.label))}</text>"
        )
        if bar.value is None:
            parts.append(
                f'<text x="{plot_left + 4}" y="{centre + 4}" fill="{_MUTED_COLOUR}" font-style="italic">'
                "not defined</text>"
            )
            continue
        summary = f"{bar.label}: {_number(bar.value)}"
        if bar.low is not None and bar.high is not None:
            summary += f" (interval {_number(bar.low)} to {_number(bar.high)})"
        parts.append(
            f'<rect class="bar" x="{plot_left}" y="{centre - _BAR_HEIGHT / 2}" '
            f'width="{round(x(bar.value) - plot_left, 2)}" height="{_BAR_HEIGHT}" fill="{_BAR_COLOUR}">'
            f"<title>{escape(summary)}</title></rect>"
        )
        end = x(bar.value)
        if bar.low is not None and bar.high is not None:
            low, high = x(bar.low), x(bar.high)
            end = max(end, high)
            parts.append(
                f'<g class="whisker" stroke="{_WHISKER_COLOUR}" stroke-width="1.5">'
                f'<line x1="{low}" y1="{centre}" x2="{high}" y2="{centre}"/>'
                f'<line x1="{low}" y1="{centre - 5}" x2="{low}" y2="{centre + 5}"/>'
                f'<line x1="{high}" y1="{centre - 5}" x2="{high}" y2="{centre + 5}"/></g>'
            )
        parts.append(f'<text x="{end + 6}" y="{centre + 4}" fill="{_TEXT_COLOUR}">{escape(_number(bar.value))}</text>')
    if threshold is not None:
        parts.append(
            f'<line class="threshold" x1="{x(threshold)}" y1="{top - 8}" x2="{x(threshold)}" y2="{axis_y}" '
            f'stroke="{_THRESHOLD_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        if threshold_label:
            parts.append(
                f'<text x="{x(threshold)}" y="{top - 10}" text-anchor="middle" fill="{_THRESHOLD_COLOUR}">'
                f"{escape(threshold_label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
