"""One pan/zoom viewer for every picture of a graph: the HTML stepper, the demos' report and
Jupyter all show Graphviz's SVG through it.

It opens at a readable size: the smallest text at least `min_text_px` CSS pixels tall (a big
graph is not shrunk to fit; you pan to the rest), centred on the part that matters (the
`focus` nodes, by default the root), and as tall as the graph needs up to `max_height`. Drag
pans, the wheel zooms (in a page that scrolls, with Ctrl or Cmd held), "fit" shows it all.
Self-contained: an inline SVG, a few lines of CSS and one small script; no network.

>>> html = viewer_fragment('<svg viewBox="0 0 10 10"><g id="n0"><text font-size="10">x</text>'
...                        '</g></svg>', focus=["n0"], uid="demo")
>>> 'id="demo-n0"' in html and "MinigradViewer" in html
True
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

MIN_TEXT_PX = 12.0        # the smallest text on screen when a picture opens
MAX_HEIGHT = 600          # CSS pixels


def clean_svg(svg: str) -> str:
    """Graphviz's SVG made ready to sit inside a page: no XML prolog, DOCTYPE (it names an
    external DTD) or comments, no fixed size (the viewer sizes it), no xlink namespace."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg width="100%" height="100%"', svg,
                 count=1)
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    return svg.strip()


def prefix_ids(svg: str, prefix: str) -> str:
    """Every id="x" inside the SVG becomes id="prefix-x", so that several pictures can share
    one page."""
    return re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)


def viewer_fragment(svg: str, *, focus: Sequence[str] = (), uid: str | None = None,
                    min_text_px: float = MIN_TEXT_PX, max_height: int = MAX_HEIGHT,
                    wheel: str = "ctrl") -> str:
    """An HTML fragment showing `svg` (Graphviz output) in the viewer.

    `focus`: DOT ids of the nodes to open on. `uid`: the fragment's id (and the prefix of the
    SVG's ids); by default derived from the picture, so the same picture gives the same
    text. `wheel`: "ctrl" (zoom with Ctrl/Cmd + wheel; the page scrolls otherwise) or
    "always"."""
    body = clean_svg(svg)
    if uid is None:
        uid = "mgv-" + hashlib.sha1(body.encode("utf-8")).hexdigest()[:10]
    body = prefix_ids(body, uid)
    options = {"focus": [f"{uid}-{f}" for f in focus], "minTextPx": min_text_px,
               "maxHeight": max_height, "wheel": wheel}
    hint = ("drag to pan, Ctrl + wheel to zoom" if wheel == "ctrl"
            else "drag to pan, wheel to zoom")
    return (f'<div class="mg-viewer" id="{uid}"><style>{VIEWER_CSS}</style>'
            f'<div class="mg-tools"><span class="mg-hint">{hint}</span>'
            '<button type="button" data-act="in" title="Zoom in">+</button>'
            '<button type="button" data-act="out" title="Zoom out">&minus;</button>'
            '<button type="button" data-act="open" title="Back to the start">start</button>'
            '<button type="button" data-act="fit" title="Show the whole graph">fit</button>'
            f'</div><div class="mg-canvas">{body}</div></div>'
            f"<script>{VIEWER_JS}\nMinigradViewer(document.getElementById({json.dumps(uid)}), "
            f"{json.dumps(options)});</script>")


VIEWER_CSS = """
.mg-viewer { position: relative; border: 1px solid #d0d7de; border-radius: 6px;
  background: #fff; margin: 0.4em 0; }
.mg-viewer .mg-canvas { width: 100%; height: 320px; overflow: hidden; cursor: grab;
  touch-action: none; }
.mg-viewer .mg-canvas.mg-dragging { cursor: grabbing; }
.mg-viewer svg { display: block; user-select: none; }
.mg-viewer .mg-tools { position: absolute; top: 4px; right: 6px; z-index: 1; display: flex;
  gap: 4px; align-items: center; font: 12px system-ui, sans-serif; color: #57606a; }
.mg-viewer .mg-tools button { font: inherit; padding: 1px 8px; border: 1px solid #bbb;
  border-radius: 5px; background: #f6f8fa; cursor: pointer; }
.mg-viewer .mg-hint { margin-right: 6px; background: rgba(255,255,255,.85); }
"""

# The viewer: the SVG's viewBox is the camera. Defined once per page (the guard), then one
# call per picture. The HTML stepper uses the same function with fillParent (its graph area
# has its own size) and the wheel always zooming.
VIEWER_JS = r"""
window.MinigradViewer = window.MinigradViewer || function (root, opts) {
  "use strict";
  opts = opts || {};
  var svg = root.querySelector("svg");
  var box = root.querySelector(".mg-canvas") || root;
  var minPx = opts.minTextPx || 12, maxH = opts.maxHeight || 600;
  var vb = svg.viewBox.baseVal;
  var home = { x: vb.x, y: vb.y, w: vb.width, h: vb.height };
  var view = { x: home.x, y: home.y, w: home.w, h: home.h };
  var start = null;
  function setView(v) {
    view = { x: v.x, y: v.y, w: v.w, h: v.h };
    svg.setAttribute("viewBox", [v.x, v.y, v.w, v.h].join(" "));
  }
  // the smallest text, in SVG units: the scale that makes it minPx tall
  var minFont = Infinity;
  svg.querySelectorAll("text").forEach(function (t) {
    var f = parseFloat(t.getAttribute("font-size") || getComputedStyle(t).fontSize);
    if (f > 0 && f < minFont) minFont = f;
  });
  if (!isFinite(minFont)) minFont = 10;
  var readable = minPx / minFont;                 // CSS pixels per SVG unit
  function toUser(cx, cy) {
    var pt = svg.createSVGPoint(); pt.x = cx; pt.y = cy;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  function userBox(el) {                          // an element's box, in viewBox units
    var r = el.getBoundingClientRect();
    var a = toUser(r.left, r.top), b = toUser(r.right, r.bottom);
    return { x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y };
  }
  function focusBox() {
    var u = null;
    (opts.focus || []).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      var b = userBox(el);
      if (!u) { u = b; return; }
      var x0 = Math.min(u.x, b.x), y0 = Math.min(u.y, b.y);
      u = { x: x0, y: y0, w: Math.max(u.x + u.w, b.x + b.w) - x0,
            h: Math.max(u.y + u.h, b.y + b.h) - y0 };
    });
    return u;
  }
  function centre(c, size, lo, span) {           // keep the view on the graph
    if (size >= span) return lo + span / 2;
    return Math.min(Math.max(c, lo + size / 2), lo + span - size / 2);
  }
  function open() {
    var w = box.clientWidth;
    if (!w) return false;
    setView(home);
    var fit, scale;
    if (opts.fillParent) {
      fit = Math.min(w / home.w, box.clientHeight / home.h);
      scale = fit >= readable ? Math.min(fit, 1.4 * readable) : readable;
    } else {
      fit = Math.min(w / home.w, maxH / home.h);
      scale = fit >= readable ? Math.min(fit, 1.4 * readable) : readable;
      box.style.height = Math.max(80, Math.min(maxH, Math.ceil(home.h * scale) + 4)) + "px";
    }
    var fb = focusBox() || { x: home.x + home.w / 2, y: home.y + home.h / 2, w: 0, h: 0 };
    var vw = box.clientWidth / scale, vh = box.clientHeight / scale;
    // the focus's centre, or its start when it is larger than the view
    var cx = fb.w > vw ? fb.x + vw / 2 : fb.x + fb.w / 2;
    var cy = fb.h > vh ? fb.y + vh / 2 : fb.y + fb.h / 2;
    cx = centre(cx, vw, home.x, home.w);
    cy = centre(cy, vh, home.y, home.h);
    start = { x: cx - vw / 2, y: cy - vh / 2, w: vw, h: vh };
    setView(start);
    return true;
  }
  function zoomAt(cx, cy, f) {
    var p = toUser(cx, cy);
    var w = view.w * f, h = view.h * f;
    if (w < home.w / 60 || w > home.w * 8) return;
    setView({ x: p.x - (p.x - view.x) * f, y: p.y - (p.y - view.y) * f, w: w, h: h });
  }
  function zoomBy(f) {
    var r = box.getBoundingClientRect();
    zoomAt(r.left + r.width / 2, r.top + r.height / 2, f);
  }
  function fit() {
    var r = box.getBoundingClientRect();
    var s = Math.min(r.width / home.w, r.height / home.h);
    var vw = r.width / s, vh = r.height / s;
    setView({ x: home.x - (vw - home.w) / 2, y: home.y - (vh - home.h) / 2, w: vw, h: vh });
  }
  function keepInView(el) {                       // pan so that el is on screen
    if (!el) return;
    var r = el.getBoundingClientRect(), b = box.getBoundingClientRect(), m = 30;
    if (r.left >= b.left + m && r.right <= b.right - m &&
        r.top >= b.top + m && r.bottom <= b.bottom - m) return;
    var c = toUser(r.left + r.width / 2, r.top + r.height / 2);
    var mid = toUser(b.left + b.width / 2, b.top + b.height / 2);
    setView({ x: view.x + (c.x - mid.x), y: view.y + (c.y - mid.y), w: view.w, h: view.h });
  }
  box.addEventListener("wheel", function (e) {
    if (opts.wheel !== "always" && !e.ctrlKey && !e.metaKey) return;  // let the page scroll
    e.preventDefault();
    zoomAt(e.clientX, e.clientY, Math.exp(e.deltaY * 0.0015));
  }, { passive: false });
  var drag = null;
  box.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, v: view, s: svg.getScreenCTM().a };
    box.classList.add("mg-dragging");
    if (box.setPointerCapture) box.setPointerCapture(e.pointerId);
  });
  box.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = (e.clientX - drag.x) / drag.s, dy = (e.clientY - drag.y) / drag.s;
    setView({ x: drag.v.x - dx, y: drag.v.y - dy, w: drag.v.w, h: drag.v.h });
  });
  function endDrag() { drag = null; box.classList.remove("mg-dragging"); }
  box.addEventListener("pointerup", endDrag);
  box.addEventListener("pointercancel", endDrag);
  root.querySelectorAll("[data-act]").forEach(function (b) {
    b.addEventListener("click", function () {
      var act = b.getAttribute("data-act");
      if (act === "fit") fit();
      else if (act === "open") { if (start) setView(start); }
      else zoomBy(act === "in" ? 1 / 1.25 : 1.25);
    });
  });
  if (!open() && window.ResizeObserver) {          // not laid out yet (hidden): wait
    var ro = new ResizeObserver(function () { if (open()) ro.disconnect(); });
    ro.observe(box);
  }
  var api = { open: open, fit: fit, zoomBy: zoomBy, keepInView: keepInView,
              setView: setView, view: function () { return view; },
              scale: function () { return svg.getScreenCTM().a; },
              minFont: minFont, home: home };
  root.minigradViewer = api;
  return api;
};
"""
