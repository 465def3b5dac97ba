"""The SVG bar chart: valid XML, one bar per group, escaped text, accessible, and drawn from a stored result."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from audits.checks import bias, charts
from tests.audits.checks.builders import frame_from_cells

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own output, parsed to check it is well-formed


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def test_one_bar_per_group_with_whiskers_and_a_threshold_line() -> None:
    bars = [
        charts.Bar("female", 0.30, 0.27, 0.33),
        charts.Bar("male", 0.45, 0.42, 0.48),
        charts.Bar("non-binary", 0.38, 0.20, 0.55),
    ]
    root = parse(charts.group_bar_chart(bars, title="Selection rate by sex", threshold=0.36, threshold_label="0.8 ×"))
    assert len(bars_of(root)) == 3
    assert len([group for group in root.iter(f"{SVG}g") if group.get("class") == "whisker"]) == 3
    assert len([line for line in root.iter(f"{SVG}line") if line.get("class") == "threshold"]) == 1
    widths = [float(rect.get("width", "0")) for rect in bars_of(root)]
    assert widths[1] > widths[2] > widths[0] > 0


def test_labels_are_escaped_and_read_back_unchanged() -> None:
    label = 'Tom & Jerry <"cartoon"> group'
    svg = charts.group_bar_chart([charts.Bar(label, 0.5), charts.Bar("b", 0.25)], title="A <b>bold</b> & title")
    assert "<b>" not in svg and "Tom & Jerry" not in svg
    root = parse(svg)
    texts = ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]
    assert any(text.startswith("A <b>bold</b> & title") for text in texts)
    assert root.find(f"{SVG}title").text == "A <b>bold</b> & title"  # type: ignore[union-attr]
    titles = [element.text for element in root.iter(f"{SVG}title")]
    assert label in titles  # the full label, even when the visible one is shortened


def test_the_chart_is_self_contained_and_accessible() -> None:
    svg = charts.group_bar_chart([charts.Bar("a", 0.5)], title="Rates", description="Rates of a", chart_id="c1")
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}desc").text == "Rates of a"  # type: ignore[union-attr]
    for forbidden in ("<script", "href", "@import", "url(", "<style"):
        assert forbidden not in svg


def test_an_undefined_value_is_written_not_drawn() -> None:
    root = parse(charts.group_bar_chart([charts.Bar("a", 0.5), charts.Bar("b", None)], title="TPR"))
    assert len(bars_of(root)) == 1
    assert "not defined" in ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_a_chart_is_drawn_from_a_stored_result() -> None:
    frame = frame_from_cells({"a & co": (400, 100, 100, 400), "b": (450, 50, 150, 350), "<c>": (300, 200, 50, 450)})
    columns = bias.BiasColumns(y_true="y_true", y_pred="y_pred", sensitive=("group",))
    stored = bias.bias_from_frame(frame, columns, bias.BiasThresholds(), n_boot=100).to_dict()
    grouping = stored["metrics"]["groupings"][0]
    root = parse(bias.group_rate_chart(grouping, "selection_rate", min_ratio=0.8))
    assert len(bars_of(root)) == 3
    assert [bar.label for bar in bias.group_bars(grouping, "tpr")] == ["<c>", "a & co", "b"]
    threshold = [line for line in root.iter(f"{SVG}line") if line.get("class") == "threshold"]
    assert len(threshold) == 1
    assert "Selection rate by group" in root.find(f"{SVG}title").text  # type: ignore[union-attr,operator]
