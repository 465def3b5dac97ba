"""The lineage graph as a picture: a layered left-to-right layout and a self-contained SVG.

``layout`` is the same algorithm as ``static/js/lineage-graph.js`` (keep them in step): layers by
longest path from the sources, cycles broken at the node with the fewest unplaced predecessors,
then a few barycentre sweeps to order each layer and reduce crossings. ``render_svg`` draws it
with inline styles only — no scripts, no external references — so the same picture can be served
as ``image/svg+xml``, inlined in a page, or embedded in a PDF report.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html import escape
from typing import Any

NODE_WIDTH = 200
NODE_HEIGHT = 48
GAP_X = 90
GAP_Y = 26
MARGIN = 24
SWEEPS = 4
LABEL_CHARS = 26

# Fill, stroke and text colour per latest run state (the same palette as the CSS badges).
STATE_COLOURS: dict[str, tuple[str, str, str]] = {
    "COMPLETED": ("#e3f4ea", "#136c3a", "#0d4d29"),
    "FAILED": ("#fde8e8", "#a4161a", "#7a1013"),
    "RUNNING": ("#e6effb", "#174a8b", "#123a6d"),
    "ABORTED": ("#fff3dc", "#8a4b00", "#6b3a00"),
    "NEW": ("#eef0f3", "#5d6878", "#3d4757"),
}
NO_STATE = ("#ffffff", "#8795a8", "#1b2330")
EDGE_COLOUR = "#8795a8"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"

# Characters XML 1.0 forbids even when escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class PlacedNode:
    id: str
    kind: str  # "dataset" | "job"
    name: str
    namespace: str
    state: str | None
    layer: int
    x: float = 0
    y: float = 0


@dataclass
class Layout:
    nodes: list[PlacedNode] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    width: float = 2 * MARGIN
    height: float = 2 * MARGIN

    def node(self, node_id: str) -> PlacedNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def node_state(node: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str | None:
    """A job's latest run state; a dataset takes the latest run state of the jobs that write it."""
    if node.get("type") != "DATASET":
        run = (node.get("data") or {}).get("latestRun")
        return str(run["state"]) if isinstance(run, dict) and run.get("state") else None
    best: dict[str, Any] | None = None
    for edge in node.get("inEdges") or []:
        writer = by_id.get(edge.get("origin", ""))
        run = ((writer or {}).get("data") or {}).get("latestRun")
        if not (isinstance(run, dict) and run.get("state")):
            continue
        if best is None or (run.get("startedAt") or "") > (best.get("startedAt") or ""):
            best = run
    return str(best["state"]) if best else None


def layout(graph_json: dict[str, Any]) -> Layout:
    """Place every node of a Marquez ``{graph: [...]}`` in layers, left to right."""
    graph = [n for n in graph_json.get("graph") or [] if isinstance(n, dict) and n.get("id")]
    by_id = {n["id"]: n for n in graph}
    order = {node_id: i for i, node_id in enumerate(by_id)}
    succ: dict[str, list[str]] = {n: [] for n in by_id}
    pred: dict[str, list[str]] = {n: [] for n in by_id}
    edges: list[tuple[str, str]] = []
    for node in graph:
        for edge in node.get("outEdges") or []:
            origin, destination = edge.get("origin"), edge.get("destination")
            if origin in by_id and destination in by_id and (origin, destination) not in edges:
                edges.append((origin, destination))
                succ[origin].append(destination)
                pred[destination].append(origin)

    # Longest-path layering (Kahn's order); a cycle is broken where it costs the fewest edges.
    waiting = {n: len(pred[n]) for n in by_id}
    ready = deque(n for n in by_id if waiting[n] == 0)
    remaining = set(by_id)
    layer: dict[str, int] = {}
    while remaining:
        if not ready:
            ready.append(min(remaining, key=lambda n: (waiting[n], order[n])))
        current = ready.popleft()
        if current not in remaining:
            continue
        remaining.discard(current)
        layer[current] = max((layer[p] + 1 for p in pred[current] if p in layer), default=0)
        for s in succ[current]:
            waiting[s] -= 1
            if waiting[s] == 0 and s in remaining:
                ready.append(s)

    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node_id in by_id:
        layers[layer[node_id]].append(node_id)
    position = {n: i for row in layers for i, n in enumerate(row)}

    def sweep(rows: list[list[str]], neighbours: dict[str, list[str]], before: bool) -> None:
        for row in rows:
            keys: dict[str, float] = {}
            for n in row:
                linked = [
                    position[m] for m in neighbours[n] if (layer[m] < layer[n] if before else layer[m] > layer[n])
                ]
                keys[n] = sum(linked) / len(linked) if linked else float(position[n])
            row.sort(key=lambda n: (keys[n], position[n]))
            for i, n in enumerate(row):
                position[n] = i

    for _ in range(SWEEPS):
        sweep(layers[1:], pred, before=True)
        sweep(list(reversed(layers[:-1])), succ, before=False)

    tallest = max((len(row) for row in layers), default=0)
    result = Layout(edges=edges)
    for index, row in enumerate(layers):
        offset = (tallest - len(row)) * (NODE_HEIGHT + GAP_Y) / 2
        for i, node_id in enumerate(row):
            node = by_id[node_id]
            data = node.get("data") or {}
            result.nodes.append(
                PlacedNode(
                    id=node_id,
                    kind="dataset" if node.get("type") == "DATASET" else "job",
                    name=str(data.get("name") or node_id),
                    namespace=str(data.get("namespace") or ""),
                    state=node_state(node, by_id),
                    layer=index,
                    x=MARGIN + index * (NODE_WIDTH + GAP_X),
                    y=MARGIN + offset + i * (NODE_HEIGHT + GAP_Y),
                )
            )
    if layers:
        result.width = 2 * MARGIN + len(layers) * NODE_WIDTH + (len(layers) - 1) * GAP_X
        result.height = 2 * MARGIN + tallest * NODE_HEIGHT + (tallest - 1) * GAP_Y
    return result


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Keep the end of a long name: ``…/warehouse/tickets_clean`` says more than its start."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _text(value: str) -> str:
    return escape(_INVALID_XML.sub("", value), quote=True)


def _edge_path(origin: PlacedNode, destination: PlacedNode) -> str:
    x1, y1 = origin.x + NODE_WIDTH, origin.y + NODE_HEIGHT / 2
    x2, y2 = destination.x, destination.y + NODE_HEIGHT / 2
    if x2 > x1:
        bend = (x2 - x1) / 2
        return f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    # A back edge (a cycle): loop below the nodes.
    low = max(origin.y, destination.y) + NODE_HEIGHT + GAP_Y / 2
    return f"M{x1:.1f},{y1:.1f} C{x1 + 60:.1f},{low:.1f} {x2 - 60:.1f},{low:.1f} {x2:.1f},{y2:.1f}"


def _shape(node: PlacedNode, fill: str, stroke: str, width: float) -> str:
    x, y, w, h = node.x, node.y, NODE_WIDTH, NODE_HEIGHT
    style = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if node.kind == "dataset":
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="{h}" rx="10" ry="10" {style}/>'
    tip = 12  # jobs are hexagons: pointed ends read as "a step", rounded boxes as "data"
    points = [
        (x + tip, y),
        (x + w - tip, y),
        (x + w, y + h / 2),
        (x + w - tip, y + h),
        (x + tip, y + h),
        (x, y + h / 2),
    ]
    return f'<polygon points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}" {style}/>'


def render_svg(
    graph_json: dict[str, Any],
    *,
    centre: str | None = None,
    title: str = "",
    href: dict[str, str] | None = None,
) -> str:
    """A self-contained SVG of the graph (inline styles, escaped text, no scripts).

    ``centre`` outlines one node; ``href`` (node id → URL) makes nodes links, for pages only.
    """
    placed = layout(graph_json)
    positions = {n.id: n for n in placed.nodes}
    width, height = max(placed.width, 240), max(placed.height, 80)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" font-family="{_text(FONT)}" font-size="12">',
        f"<title>{_text(title)}</title>" if title else "",
        '<defs><marker id="lineage-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOUR}"/></marker></defs>',
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        '<g class="edges">',
    ]
    for origin, destination in placed.edges:
        parts.append(
            f'<path d="{_edge_path(positions[origin], positions[destination])}" fill="none" '
            f'stroke="{EDGE_COLOUR}" stroke-width="1.5" marker-end="url(#lineage-arrow)"/>'
        )
    parts.append("</g>")
    parts.append('<g class="nodes">')
    for node in placed.nodes:
        fill, stroke, ink = STATE_COLOURS.get(node.state or "", NO_STATE)
        is_centre = node.id == centre
        link = (href or {}).get(node.id)
        parts.append(f'<a href="{_text(link)}">' if link else "")
        parts.append(f'<g class="node node--{node.kind}" data-id="{_text(node.id)}">')
        parts.append(f"<title>{_text(node.namespace)}: {_text(node.name)}</title>")
        parts.append(_shape(node, fill, "#12305a" if is_centre else stroke, 3 if is_centre else 1.5))
        parts.append(
            f'<text x="{node.x + NODE_WIDTH / 2:.1f}" y="{node.y + 20:.1f}" text-anchor="middle" '
            f'fill="{ink}" font-weight="600">{_text(shorten(node.name))}</text>'
        )
        parts.append(
            f'<text x="{node.x + NODE_WIDTH / 2:.1f}" y="{node.y + 36:.1f}" text-anchor="middle" '
            f'fill="#5d6878" font-size="10">{_text(shorten(node.namespace, 32))}</text>'
        )
        parts.append("</g>")
        parts.append("</a>" if link else "")
    parts.append("</g></svg>")
    return "".join(parts)
