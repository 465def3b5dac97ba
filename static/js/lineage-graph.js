// The interactive lineage graph: fetch the Marquez JSON, lay it out in layers, draw SVG, pan, zoom,
// change depth, and show a node's details in a side panel. No libraries. The layout is the same as
// lineage/svg.py (keep them in step); without JavaScript the page shows the server's SVG.
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  var NODE_WIDTH = 200, NODE_HEIGHT = 48, GAP_X = 90, GAP_Y = 26, MARGIN = 24, SWEEPS = 4, LABEL_CHARS = 26;
  var MIN_SCALE = 0.1, MAX_SCALE = 4, ZOOM_STEP = 1.25, DRAG_THRESHOLD = 4;
  var STATE_COLOURS = {
    COMPLETED: ["#e3f4ea", "#136c3a", "#0d4d29"],
    FAILED: ["#fde8e8", "#a4161a", "#7a1013"],
    RUNNING: ["#e6effb", "#174a8b", "#123a6d"],
    ABORTED: ["#fff3dc", "#8a4b00", "#6b3a00"],
    NEW: ["#eef0f3", "#5d6878", "#3d4757"]
  };
  var NO_STATE = ["#ffffff", "#8795a8", "#1b2330"];
  var EDGE_COLOUR = "#8795a8";

  function nodeState(node, byId) {
    var run;
    if (node.type !== "DATASET") {
      run = (node.data || {}).latestRun;
      return run && run.state ? run.state : null;
    }
    var best = null;
    (node.inEdges || []).forEach(function (edge) {
      var writer = byId[edge.origin];
      var r = writer && writer.data ? writer.data.latestRun : null;
      if (!r || !r.state) return;
      if (best === null || (r.startedAt || "") > (best.startedAt || "")) best = r;
    });
    return best ? best.state : null;
  }

  // Longest-path layers from the sources (a cycle is broken at the node with the fewest unplaced
  // predecessors), then barycentre sweeps down and up to order each layer.
  function layout(graphJson) {
    var graph = (graphJson.graph || []).filter(function (n) { return n && n.id; });
    var byId = {}, order = {}, ids = [];
    graph.forEach(function (n) {
      if (byId[n.id]) return;
      byId[n.id] = n; order[n.id] = ids.length; ids.push(n.id);
    });
    var succ = {}, pred = {}, edges = [], seen = {};
    ids.forEach(function (id) { succ[id] = []; pred[id] = []; });
    graph.forEach(function (n) {
      (n.outEdges || []).forEach(function (e) {
        var key = e.origin + "\u0000" + e.destination;
        if (!(e.origin in byId) || !(e.destination in byId) || seen[key]) return;
        seen[key] = true;
        edges.push([e.origin, e.destination]);
        succ[e.origin].push(e.destination);
        pred[e.destination].push(e.origin);
      });
    });
    var waiting = {}, remaining = {}, remainingCount = ids.length, ready = [], layer = {};
    ids.forEach(function (id) {
      waiting[id] = pred[id].length; remaining[id] = true;
      if (waiting[id] === 0) ready.push(id);
    });
    while (remainingCount > 0) {
      if (!ready.length) {
        var pick = null;
        ids.forEach(function (id) {
          if (!remaining[id]) return;
          if (pick === null || waiting[id] < waiting[pick] || (waiting[id] === waiting[pick] && order[id] < order[pick])) pick = id;
        });
        ready.push(pick);
      }
      var current = ready.shift();
      if (!remaining[current]) continue;
      delete remaining[current];
      remainingCount -= 1;
      var level = 0;
      pred[current].forEach(function (p) { if (p in layer) level = Math.max(level, layer[p] + 1); });
      layer[current] = level;
      succ[current].forEach(function (s) {
        waiting[s] -= 1;
        if (waiting[s] === 0 && remaining[s]) ready.push(s);
      });
    }
    var depth = -1;
    ids.forEach(function (id) { depth = Math.max(depth, layer[id]); });
    var layers = [];
    for (var i = 0; i <= depth; i++) layers.push([]);
    ids.forEach(function (id) { layers[layer[id]].push(id); });
    var position = {};
    layers.forEach(function (row) { row.forEach(function (id, i) { position[id] = i; }); });

    function sweep(rows, neighbours, before) {
      rows.forEach(function (row) {
        var keys = {};
        row.forEach(function (n) {
          var linked = neighbours[n].filter(function (m) { return before ? layer[m] < layer[n] : layer[m] > layer[n]; });
          var sum = 0;
          linked.forEach(function (m) { sum += position[m]; });
          keys[n] = linked.length ? sum / linked.length : position[n];
        });
        row.sort(function (a, b) { return keys[a] - keys[b] || position[a] - position[b]; });
        row.forEach(function (n, i) { position[n] = i; });
      });
    }
    for (var s = 0; s < SWEEPS; s++) {
      sweep(layers.slice(1), pred, true);
      sweep(layers.slice(0, -1).reverse(), succ, false);
    }
    var tallest = 0;
    layers.forEach(function (row) { tallest = Math.max(tallest, row.length); });
    var nodes = [];
    layers.forEach(function (row, index) {
      var offset = (tallest - row.length) * (NODE_HEIGHT + GAP_Y) / 2;
      row.forEach(function (id, i) {
        var node = byId[id], data = node.data || {};
        nodes.push({
          id: id,
          kind: node.type === "DATASET" ? "dataset" : "job",
          name: String(data.name || id),
          namespace: String(data.namespace || ""),
          state: nodeState(node, byId),
          layer: index,
          x: MARGIN + index * (NODE_WIDTH + GAP_X),
          y: MARGIN + offset + i * (NODE_HEIGHT + GAP_Y)
        });
      });
    });
    return {
      nodes: nodes,
      edges: edges,
      width: layers.length ? 2 * MARGIN + layers.length * NODE_WIDTH + (layers.length - 1) * GAP_X : 2 * MARGIN,
      height: layers.length ? 2 * MARGIN + tallest * NODE_HEIGHT + (tallest - 1) * GAP_Y : 2 * MARGIN
    };
  }

  function shorten(text, limit) {
    limit = limit || LABEL_CHARS;
    return text.length <= limit ? text : "\u2026" + text.slice(text.length - (limit - 1));
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function edgePath(a, b) {
    var x1 = a.x + NODE_WIDTH, y1 = a.y + NODE_HEIGHT / 2, x2 = b.x, y2 = b.y + NODE_HEIGHT / 2;
    if (x2 > x1) {
      var bend = (x2 - x1) / 2;
      return "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " + (x2 - bend) + "," + y2 + " " + x2 + "," + y2;
    }
    var low = Math.max(a.y, b.y) + NODE_HEIGHT + GAP_Y / 2;
    return "M" + x1 + "," + y1 + " C" + (x1 + 60) + "," + low + " " + (x2 - 60) + "," + low + " " + x2 + "," + y2;
  }

  function shape(node, group, colours, centre) {
    var attrs = { fill: colours[0], stroke: centre ? "#12305a" : colours[1], "stroke-width": centre ? 3 : 1.5, "class": "lineage-shape" };
    if (node.kind === "dataset") {
      attrs.x = node.x; attrs.y = node.y; attrs.width = NODE_WIDTH; attrs.height = NODE_HEIGHT; attrs.rx = 10; attrs.ry = 10;
      return el("rect", attrs, group);
    }
    var x = node.x, y = node.y, w = NODE_WIDTH, h = NODE_HEIGHT, tip = 12;
    attrs.points = [[x + tip, y], [x + w - tip, y], [x + w, y + h / 2], [x + w - tip, y + h], [x + tip, y + h], [x, y + h / 2]]
      .map(function (p) { return p[0] + "," + p[1]; }).join(" ");
    return el("polygon", attrs, group);
  }

  function LineageGraph(root) {
    this.root = root;
    this.api = root.getAttribute("data-api");
    this.nodeId = root.getAttribute("data-node");
    this.depth = parseInt(root.getAttribute("data-depth"), 10) || 0;
    this.maxDepth = parseInt(root.getAttribute("data-max-depth"), 10) || 100;
    this.detailsUrl = root.getAttribute("data-details");
    this.pageUrl = root.getAttribute("data-page");
    this.svgUrl = root.getAttribute("data-svg");
    this.canvas = root.querySelector("[data-canvas]");
    this.side = root.querySelector("[data-side]");
    this.sideBody = root.querySelector("[data-side-body]");
    this.view = { x: 0, y: 0, k: 1 };
    this.selected = null;
    this.bind();
    this.load();
  }

  LineageGraph.prototype.query = function (depth) {
    return "?node=" + encodeURIComponent(this.nodeId) + "&depth=" + depth;
  };

  LineageGraph.prototype.bind = function () {
    var self = this;
    var zoom = this.root.querySelector("[data-zoom-controls]");
    if (zoom) zoom.hidden = false;
    this.root.querySelectorAll("[data-depth-step]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var step = parseInt(link.getAttribute("data-depth-step"), 10);
        var depth = Math.max(0, Math.min(self.maxDepth, self.depth + step));
        if (depth !== self.depth) { self.depth = depth; self.load(); }
      });
    });
    this.root.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var what = button.getAttribute("data-zoom");
        if (what === "reset") return self.fit();
        var rect = self.canvas.getBoundingClientRect();
        self.zoomAt(what === "in" ? ZOOM_STEP : 1 / ZOOM_STEP, rect.width / 2, rect.height / 2);
      });
    });
    this.canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      var rect = self.canvas.getBoundingClientRect();
      self.zoomAt(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    this.canvas.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
      var rect = self.canvas.getBoundingClientRect();
      if (event.key === "+" || event.key === "=") self.zoomAt(ZOOM_STEP, rect.width / 2, rect.height / 2);
      else if (event.key === "-") self.zoomAt(1 / ZOOM_STEP, rect.width / 2, rect.height / 2);
      else if (moves[event.key] && event.target === self.canvas) {
        self.view.x += moves[event.key][0]; self.view.y += moves[event.key][1]; self.apply();
      } else if ((event.key === "Enter" || event.key === " ") && event.target.getAttribute("data-id")) {
        event.preventDefault();
        self.select(event.target.getAttribute("data-id"));
      } else return;
      event.preventDefault();
    });
    var drag = null;
    this.canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, vx: self.view.x, vy: self.view.y, moved: false, id: event.pointerId };
    });
    this.canvas.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
      if (!drag.moved) {
        drag.moved = true;
        self.canvas.setPointerCapture(drag.id);
        self.canvas.classList.add("is-dragging");
      }
      self.view.x = drag.vx + dx; self.view.y = drag.vy + dy;
      self.apply();
    });
    var end = function (event) {
      if (!drag) return;
      var moved = drag.moved;
      drag = null;
      self.canvas.classList.remove("is-dragging");
      if (moved) return;
      var target = event.target.closest ? event.target.closest("[data-id]") : null;
      if (target && event.type === "pointerup") self.select(target.getAttribute("data-id"));
    };
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    // Server-SVG nodes are links (for pages without JavaScript); the script handles clicks itself.
    this.canvas.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("a")) event.preventDefault();
    });
    this.root.querySelector("[data-close]").addEventListener("click", function () {
      self.side.hidden = true;
      self.highlight(null);
    });
    this.sideBody.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-recentre]") : null;
      if (!link) return;
      event.preventDefault();
      self.nodeId = link.getAttribute("data-recentre");
      self.side.hidden = true;
      self.load();
    });
  };

  LineageGraph.prototype.message = function (text) {
    var note = this.root.querySelector("[data-message]");
    if (!note) {
      note = document.createElement("p");
      note.className = "lineage-graph__note";
      note.setAttribute("data-message", "");
      this.canvas.parentNode.insertBefore(note, this.canvas);
    }
    note.textContent = text || "";
    note.hidden = !text;
  };

  LineageGraph.prototype.load = function () {
    var self = this;
    this.canvas.setAttribute("aria-busy", "true");
    this.updateControls();
    return fetch(this.api + "?nodeId=" + encodeURIComponent(this.nodeId) + "&depth=" + this.depth, {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (data) {
      self.data = data;
      self.draw(data);
      var old = self.root.querySelector("[data-truncated]");
      if (old) old.hidden = true;
      self.message(data.truncated ? self.root.getAttribute("data-label-truncated") : "");
      self.canvas.removeAttribute("aria-busy");
    }).catch(function () {
      self.message(self.root.getAttribute("data-label-error"));
      self.canvas.removeAttribute("aria-busy");
    });
  };

  LineageGraph.prototype.updateControls = function () {
    var query = this.query(this.depth);
    if (window.history && window.history.replaceState) window.history.replaceState(null, "", this.pageUrl + query);
    var download = document.querySelector("[data-graph-svg-link]");
    if (download) download.setAttribute("href", this.svgUrl + query);
    var value = this.root.querySelector("[data-depth-value]");
    if (value) value.textContent = String(this.depth);
    var self = this;
    this.root.querySelectorAll("[data-depth-step]").forEach(function (link) {
      var step = parseInt(link.getAttribute("data-depth-step"), 10);
      link.setAttribute("href", self.pageUrl + self.query(Math.max(0, Math.min(self.maxDepth, self.depth + step))));
    });
  };

  LineageGraph.prototype.draw = function (data) {
    var placed = layout(data);
    this.placed = placed;
    this.bounds = { width: Math.max(placed.width, 240), height: Math.max(placed.height, 80) };
    var svg = el("svg", { width: "100%", height: "100%", "class": "lineage-graph__svg", "data-lineage-js": "", role: "group" });
    var defs = el("defs", {}, svg);
    var marker = el("marker", {
      id: "lineage-arrow-js", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"
    }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: EDGE_COLOUR }, marker);
    this.viewport = el("g", { "data-viewport": "" }, svg);
    var edgeLayer = el("g", { "class": "edges" }, this.viewport);
    var nodeLayer = el("g", { "class": "nodes" }, this.viewport);
    var at = {};
    placed.nodes.forEach(function (n) { at[n.id] = n; });
    placed.edges.forEach(function (e) {
      el("path", {
        d: edgePath(at[e[0]], at[e[1]]), fill: "none", stroke: EDGE_COLOUR, "stroke-width": 1.5,
        "marker-end": "url(#lineage-arrow-js)", "data-from": e[0], "data-to": e[1]
      }, edgeLayer);
    });
    var centre = this.nodeId;
    placed.nodes.forEach(function (n) {
      var colours = STATE_COLOURS[n.state] || NO_STATE;
      var group = el("g", {
        "class": "lineage-node lineage-node--" + n.kind + (n.id === centre ? " is-centre" : ""),
        "data-id": n.id, tabindex: 0, role: "button", "aria-label": n.namespace + ": " + n.name
      }, nodeLayer);
      el("title", {}, group).textContent = n.namespace + ": " + n.name;
      shape(n, group, colours, n.id === centre);
      var name = el("text", {
        x: n.x + NODE_WIDTH / 2, y: n.y + 20, "text-anchor": "middle", fill: colours[2], "font-weight": 600, "font-size": 12
      }, group);
      name.textContent = shorten(n.name);
      var ns = el("text", { x: n.x + NODE_WIDTH / 2, y: n.y + 36, "text-anchor": "middle", fill: "#5d6878", "font-size": 10 }, group);
      ns.textContent = shorten(n.namespace, 32);
    });
    this.canvas.innerHTML = "";
    this.canvas.appendChild(svg);
    this.svg = svg;
    this.fit();
    if (this.selected && at[this.selected]) this.highlight(this.selected);
  };

  LineageGraph.prototype.apply = function () {
    if (!this.viewport) return;
    this.viewport.setAttribute("transform", "translate(" + this.view.x + "," + this.view.y + ") scale(" + this.view.k + ")");
    this.root.setAttribute("data-scale", this.view.k.toFixed(3));
  };

  LineageGraph.prototype.fit = function () {
    if (!this.bounds) return;
    var rect = this.canvas.getBoundingClientRect();
    var k = Math.min(rect.width / this.bounds.width, rect.height / this.bounds.height, 1.5);
    k = Math.max(MIN_SCALE, k || 1);
    this.view = { k: k, x: (rect.width - this.bounds.width * k) / 2, y: (rect.height - this.bounds.height * k) / 2 };
    this.apply();
  };

  LineageGraph.prototype.zoomAt = function (factor, cx, cy) {
    var k = Math.max(MIN_SCALE, Math.min(MAX_SCALE, this.view.k * factor));
    var ratio = k / this.view.k;
    this.view.x = cx - (cx - this.view.x) * ratio;
    this.view.y = cy - (cy - this.view.y) * ratio;
    this.view.k = k;
    this.apply();
  };

  LineageGraph.prototype.highlight = function (id) {
    if (!this.svg) return;
    this.svg.querySelectorAll(".lineage-node.is-selected").forEach(function (n) { n.classList.remove("is-selected"); });
    this.svg.querySelectorAll("path.is-linked").forEach(function (p) { p.classList.remove("is-linked"); });
    if (!id) return;
    this.svg.querySelectorAll(".lineage-node").forEach(function (n) {
      if (n.getAttribute("data-id") === id) n.classList.add("is-selected");
    });
    this.svg.querySelectorAll("path[data-from]").forEach(function (p) {
      if (p.getAttribute("data-from") === id || p.getAttribute("data-to") === id) p.classList.add("is-linked");
    });
  };

  LineageGraph.prototype.select = function (id) {
    var self = this;
    this.selected = id;
    this.highlight(id);
    this.side.hidden = false;
    this.sideBody.textContent = this.root.getAttribute("data-label-loading");
    fetch(this.detailsUrl + "?node=" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (self.selected !== id) return;
        // Server-rendered (autoescaped) fragment from our own origin.
        self.sideBody.innerHTML = html;
      })
      .catch(function () {
        self.sideBody.textContent = self.root.getAttribute("data-label-error");
      });
  };

  document.querySelectorAll("[data-lineage-graph]").forEach(function (root) {
    root.lineageGraph = new LineageGraph(root);
  });
})();
