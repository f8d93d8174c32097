"""A self-contained HTML page that steps through backprop on a picture of the graph.

The graph is laid out once by Graphviz (`dot -Tsvg`) and embedded inline. Each step is a few
lines of JSON (which node, the edges carrying gradient, the panel's text, and only the
gradient labels that changed); the page's own script applies them. No network, no external
scripts or fonts: the file opens anywhere, offline, and stays small.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> save_backprop_html((x * w).tanh(), "tanh.html")      # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..engine import Node
from .draw import Plan, _too_big, build, pipe, plan, scope_title, step_marks, summarize
from .explain import product, running_sum, so_far
from .names import equation, grad_name
from .steps import Step, backprop_steps
from .viewer import VIEWER_JS, clean_svg


def detail(value: Any, max_items: int = 12) -> str:
    """Text for the side panel: every number of a small array, a summary of a big one."""
    if value is None:
        return "-"
    if isinstance(value, np.ndarray) and value.ndim and value.size <= max_items:
        return np.array2string(value, precision=4, separator=", ", suppress_small=False,
                               max_line_width=44)
    if isinstance(value, np.ndarray) and value.size > max_items:
        return f"{value.shape}: {summarize(value)}"
    return summarize(value)


def _describe(node: Node, p: Plan) -> dict[str, Any]:
    name = p.names.get(id(node), "?")
    out: dict[str, Any] = {"name": name, "expr": equation(node, p.names)}
    if isinstance(node, Tensor):
        shape = tuple(node.shape)
        out["kind"] = f"{'scalar' if shape == () else shape} {np.asarray(node.data).dtype}"
    if node.scope is not None:
        out["scope"] = scope_title(node.scope)
    out["data"] = summarize(np.asarray(node.data))
    return out


def _sends(step: Step, p: Plan) -> list[list[str]]:
    """[name, upstream x local = share (or the share), the receiver's sum so far] per send."""
    local = step.local or [None] * len(step.sends)
    totals = step.totals or [(None, share) for _, share in step.sends]
    rows = []
    for (parent, share), loc, (before, after) in zip(step.sends, local, totals):
        name = p.names.get(id(parent), "?")
        line = product(step.upstream, loc, share, times="\u00d7") or detail(share)
        total = "" if before is None else f"{name} so far: {so_far(before, share, after)}"
        rows.append([name, line, total])
    return rows


def backprop_page(root: Node, *, gradient: Any = None, collapse: Sequence[str] = (),
                  rankdir: str | None = None, show_data: bool = True, max_nodes: int = 500,
                  title: str | None = None) -> str:
    """The stepper page as an HTML string (see `save_backprop_html`)."""
    steps: list[Step] = list(backprop_steps(root, gradient))
    p = plan(root, collapse)
    if p.node_count() > max_nodes:
        raise _too_big(p, max_nodes)

    # Each drawn node's grad label, step by step; the layout reserves its widest text.
    shown = {id(n): f"n{p.index[id(n)]}" for n in p.nodes
             if id(n) not in p.box_of and n.requires_grad}
    widest = {key: "grad -" for key in shown}
    root_name = p.names[id(p.nodes[-1])]
    frames: list[dict[str, Any]] = []
    for step in steps:
        changed: dict[str, str] = {}
        touched = [step.node] if step.index == 0 else []
        touched += [parent for parent, _ in step.sends]
        for node in touched:
            if id(node) in shown:
                text = "grad " + summarize(step.accumulated[node])
                changed[shown[id(node)]] = text
                if len(text) > len(widest[id(node)]):
                    widest[id(node)] = text
        marks = step_marks(p, step)
        node = step.node
        frame: dict[str, Any] = {
            "node": p.value_id(node),
            "marks": sorted(marks.nodes),
            "edges": sorted(marks.edges),
            "to": sorted({p.value_id(q) for q, _ in step.sends}),
            "op": step.op,
            "up": detail(step.upstream),
            "upName": grad_name(root_name, p.names.get(id(node), "?")),
            "rule": step.rule,
            "sends": _sends(step, p),
            "from": [[f"{p.names.get(id(c), '?')} ({c.op})", detail(g)]
                     for c, g in step.contributions],
            "sum": (running_sum([g for _, g in step.contributions])
                    if len(step.contributions) > 1 else ""),
            "g": changed,
        }
        frame.update(_describe(node, p))
        frames.append(frame)

    dot = build(p, show_data=show_data, show_grad=True, rankdir=rankdir,
                grad_text=widest)
    svg = clean_svg(pipe(dot, "svg").decode("utf-8")).replace(
        "<svg ", '<svg id="graph-svg" ', 1)
    data = {"steps": frames, "gradNodes": sorted(shown.values()), "root": root_name,
            "rootGrad": grad_name(root_name, root_name)}
    payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")           # cannot close or open a tag
    heading = title or f"Backprop through {root_name}: {len(steps)} steps"
    return (_PAGE.replace("%TITLE%", html.escape(heading))
            .replace("%SVG%", svg)
            .replace("%DATA%", payload)
            .replace("%STYLE%", _STYLE)
            .replace("%VIEWER%", VIEWER_JS)
            .replace("%SCRIPT%", _SCRIPT))


def save_backprop_html(root: Node, path: str | Path, **options: Any) -> Path:
    """Write ONE self-contained HTML file that steps through backprop of `root`: Previous/Next
    buttons, arrow keys and a slider; the graph zooms (wheel) and pans (drag) in the same
    viewer as every other picture, "fit" shows it all; a side panel shows each step's node,
    upstream gradient, local rule, and the share sent to each input as upstream x local =
    share with the numbers filled in, and, where several shares meet, their running sum.

    Options: gradient (seed of a non-scalar root), collapse, rankdir, show_data, max_nodes,
    title. Needs Graphviz's `dot` to lay the graph out.
    """
    path = Path(path)
    path.write_text(backprop_page(root, **options), encoding="utf-8")
    return path


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>%STYLE%</style>
</head>
<body>
<header id="bar">
  <strong id="title">%TITLE%</strong>
  <span class="controls">
    <button id="prev" type="button" title="Previous step (left arrow)">&#9664; Previous</button>
    <button id="next" type="button" title="Next step (right arrow)">Next &#9654;</button>
    <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
    <span id="counter"></span>
    <button id="fit" type="button" title="Show the whole graph">fit</button>
    <button id="zoomin" type="button" title="Zoom in">+</button>
    <button id="zoomout" type="button" title="Zoom out">&minus;</button>
  </span>
</header>
<main>
  <div id="graph" tabindex="0">%SVG%</div>
  <aside id="panel">
    <div id="step" aria-live="polite"></div>
    <div class="legend"><h3>Legend</h3>
      <span><i class="sw" style="border-color:var(--hot);background:var(--hotfill)"></i>current
      </span><span><i class="sw" style="border-color:var(--recv)"></i>receives a share</span>
      <span><i class="sw" style="border-color:var(--done)"></i>done</span>
      <p class="note">Keys: &larr; &rarr; step, Home/End. Wheel zooms, drag pans.</p></div>
  </aside>
</main>
<script id="steps-data" type="application/json">%DATA%</script>
<script>%VIEWER%</script>
<script>%SCRIPT%</script>
</body>
</html>
"""

_STYLE = """
:root { --hot: #d9480f; --hotfill: #ffd8a8; --recv: #1c7ed6; --done: #2f9e44; }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; overflow: hidden; }
body { display: grid; grid-template-rows: auto 1fr; background: #fafafa; color: #1d1d1f;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
#bar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 12px;
  background: #fff; border-bottom: 1px solid #ddd; }
#title { font-size: 15px; }
.controls { display: flex; gap: 8px; align-items: center; }
button { font: inherit; padding: 4px 10px; border: 1px solid #bbb; border-radius: 6px;
  background: #f4f4f4; cursor: pointer; }
button:hover:not(:disabled) { background: #e8e8e8; }
button:disabled { opacity: .45; cursor: default; }
#slider { width: 220px; }
#counter { min-width: 7em; font-variant-numeric: tabular-nums; }
main { display: flex; min-height: 0; }
#graph { flex: 1; min-width: 0; position: relative; overflow: hidden; cursor: grab;
  background: #fff; outline: none; touch-action: none; }
#graph.dragging { cursor: grabbing; }
#graph svg { display: block; user-select: none; }
#panel { position: sticky; top: 0; width: 380px; flex: none; overflow-y: auto;
  border-left: 1px solid #ddd; background: #fff; padding: 12px 16px; }
#panel h2 { font-size: 16px; margin: 0 0 8px; }
#panel h3 { font-size: 12.5px; font-weight: 600; color: #666; margin: 14px 0 4px; }
#panel .expr { font-weight: 600; }
#panel .mono, #panel td.num { font-family: ui-monospace, "SF Mono", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12.5px; white-space: pre-wrap;
  word-break: break-word; }
#panel table { border-collapse: collapse; width: 100%; }
#panel td { border-top: 1px solid #eee; padding: 3px 4px; vertical-align: top; }
#panel td.who { width: 1%; padding-right: 12px; white-space: nowrap; color: var(--recv);
  font-weight: 600; }
#panel .note { color: #666; font-size: 12.5px; }
#panel .sofar { color: #555; font-size: 12px; }
#panel .sum { margin-top: 2px; font-weight: 600; }
#panel .legend span { display: inline-block; margin-right: 10px; font-size: 12px; }
#panel .sw { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -2px; margin-right: 4px; border: 2px solid; }
.node.current > path, .node.current > polygon, .node.current > ellipse {
  stroke: var(--hot); stroke-width: 4px; fill: var(--hotfill); }
.node.receives > path, .node.receives > polygon, .node.receives > ellipse {
  stroke: var(--recv); stroke-width: 2.5px; }
.node.done > path, .node.done > polygon { stroke: var(--done); stroke-width: 1.5px; }
.edge.hot > path { stroke: var(--hot); stroke-width: 3px; }
.edge.hot > polygon { stroke: var(--hot); fill: var(--hot); }
/* colour only: bold text would outgrow the box Graphviz laid out */
.node text.changed { fill: var(--recv); }
.node.current text.grad { fill: var(--hot); }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("steps-data").textContent);
  var steps = DATA.steps, n = steps.length;
  var svg = document.querySelector("#graph svg");
  var box = document.getElementById("graph");
  var panel = document.getElementById("step");
  var slider = document.getElementById("slider");
  var counter = document.getElementById("counter");
  var prevB = document.getElementById("prev"), nextB = document.getElementById("next");

  // the text element showing each node's gradient
  var gradText = {};
  DATA.gradNodes.forEach(function (id) {
    var g = document.getElementById(id);
    if (!g) return;
    g.querySelectorAll("text").forEach(function (t) {
      if (t.textContent.indexOf("grad ") === 0) { gradText[id] = t; t.classList.add("grad"); }
    });
  });
  // the gradient labels after each step: step k applies its changes to step k-1's
  var states = [], cur = {};
  steps.forEach(function (s) {
    cur = Object.assign({}, cur, s.g);
    states.push(cur);
  });
  var doneAt = {};
  steps.forEach(function (s, k) { if (!(s.node in doneAt)) doneAt[s.node] = k; });

  // ---- zoom and pan: the same viewer as every picture, opening readable on step 1 ----
  var viewer = MinigradViewer(box, { fillParent: true, wheel: "always",
                                     focus: [steps[0].node] });
  document.getElementById("fit").onclick = function () { viewer.fit(); };
  document.getElementById("zoomin").onclick = function () { viewer.zoomBy(1 / 1.25); };
  document.getElementById("zoomout").onclick = function () { viewer.zoomBy(1.25); };

  // ---- the side panel ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function table(rows, arrow, cls) {
    var t = el("table", cls || "");
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", "who", (arrow || "") + r[0]));
      var td = el("td", "num");
      td.appendChild(el("div", "share", r[1]));
      if (r[2]) td.appendChild(el("div", "sofar", r[2]));
      tr.appendChild(td);
      t.appendChild(tr);
    });
    return t;
  }
  function renderPanel(s, k) {
    panel.textContent = "";
    panel.appendChild(el("h2", "", "Step " + (k + 1) + " of " + n));
    panel.appendChild(el("h3", "", "Node"));
    panel.appendChild(el("div", "expr mono", s.expr));
    if (s.kind) panel.appendChild(el("div", "note", s.kind));
    if (s.scope) panel.appendChild(el("div", "note", "in " + s.scope));
    panel.appendChild(el("div", "mono", "data " + s.data));
    panel.appendChild(el("h3", "", "Upstream gradient " + s.upName));
    panel.appendChild(el("div", "mono up", s.up));
    if (k === 0) {
      panel.appendChild(el("div", "note", "the seed: " + DATA.rootGrad + " = 1"));
    } else if (s.from.length > 1) {
      panel.appendChild(el("div", "note", s.name + " is used " + s.from.length +
                           " times: its gradient is the sum of each consumer's share"));
      panel.appendChild(table(s.from, "from "));
      panel.appendChild(el("div", "mono sum", "= " + s.sum));
    } else if (s.from.length === 1) {
      panel.appendChild(el("div", "note", "from " + s.from[0][0]));
    }
    panel.appendChild(el("h3", "", "Local rule"));
    panel.appendChild(el("div", "mono rule", s.rule ||
      "leaf: nothing to send; this is its final gradient (.grad)"));
    if (s.sends.length) {
      panel.appendChild(el("h3", "", "Sends to each input: upstream \u00d7 local = share"));
      panel.appendChild(table(s.sends, "\u2192 ", "sends"));
    }
  }

  // ---- stepping ----
  var at = -1;
  function show(k) {
    k = Math.max(0, Math.min(n - 1, k));
    at = k;
    var s = steps[k], state = states[k];
    document.querySelectorAll("#graph .current, #graph .receives, #graph .hot, #graph .done")
      .forEach(function (e) { e.classList.remove("current", "receives", "hot", "done"); });
    document.querySelectorAll("#graph text.changed")
      .forEach(function (e) { e.classList.remove("changed"); });
    Object.keys(doneAt).forEach(function (id) {
      var g = document.getElementById(id);
      if (g && doneAt[id] < k) g.classList.add("done");
    });
    Object.keys(gradText).forEach(function (id) {
      gradText[id].textContent = state[id] || "grad -";
      if (id in s.g) gradText[id].classList.add("changed");
    });
    s.marks.forEach(function (id) {
      var g = document.getElementById(id); if (g) g.classList.add("current");
    });
    s.to.forEach(function (id) {
      var g = document.getElementById(id); if (g) g.classList.add("receives");
    });
    s.edges.forEach(function (id) {
      var g = document.getElementById(id); if (g) g.classList.add("hot");
    });
    slider.value = k;
    counter.textContent = "step " + (k + 1) + " / " + n;
    prevB.disabled = k === 0;
    nextB.disabled = k === n - 1;
    renderPanel(s, k);
    viewer.keepInView(document.getElementById(s.node));
  }
  slider.max = n - 1;
  prevB.onclick = function () { show(at - 1); };
  nextB.onclick = function () { show(at + 1); };
  slider.addEventListener("input", function () { show(+slider.value); });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider) return;            // the slider moves itself
    if (e.key === "ArrowRight") { show(at + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { show(at - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(n - 1); e.preventDefault(); }
  });
  show(0);
})();
"""
