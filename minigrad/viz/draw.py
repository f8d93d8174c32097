"""Draw a graph of `Value`/`Tensor` nodes with Graphviz, micrograd-style.

Every node that an op made is drawn as two boxes: a small op node (`*`, `tanh`, `sum(axis=0)`)
and the value node it produces, so the picture reads input -> op -> output. A value box shows
the node's name (its label, or how it was computed: `x*w`), its data and d(root)/d(node):
`.grad` where the node has one, else the gradient the engine's backward walk gives it, so that
intermediate tensors show theirs too while the graph is still there. Nodes recorded inside a
`minigrad.scope` (every nn layer opens one) are drawn inside a cluster labelled with the scope;
`collapse=` turns chosen scopes into one box each. The direction (left to right or top down)
follows the graph's shape unless `rankdir=` says.

Node ids in the DOT text follow the walk order of the graph (inputs first), never `id()`, so
the same graph always gives the same `.source`. Pictures read only the public node API.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> dot = draw((x * w).tanh())
>>> dot.source.count("->")          # x -> *, w -> *, * -> xw, xw -> tanh, tanh -> out
5
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .._tensor import Tensor
from ..engine import Node, Scope
from .names import (
    describe,
    equation,
    is_folded_constant,
    is_leaf,
    node_names,
    walk,
)

INSTALL_HINT = ("install Graphviz: apt-get install graphviz / brew install graphviz / "
                "https://graphviz.org/download/")

FONT = "Helvetica,Arial,sans-serif"
FONT_SIZE = 10           # value boxes; op nodes 9 (the viewer scales them up to be read)

# Colours of the static picture (the HTML stepper restyles with CSS classes).
_FILL_LEAF = "#dbeafe"        # a leaf that needs a gradient (parameter, input variable)
_FILL_CONST = "#eeeeee"       # a leaf that needs none (data, constants)
_FILL_VALUE = "#ffffff"       # an op's result
_FILL_OP = "#f1f1f1"
_FILL_BOX = "#fdf2d0"         # a collapsed scope
_HOT = "#d9480f"              # the current step: node, and the edges carrying gradient
_FILL_HOT = "#ffd8a8"

# what the automatic direction aims for: the viewer's box (CSS pixels)
VIEW_WIDTH, VIEW_HEIGHT = 1000, 560

__all__ = ["GraphvizNotFound", "Drawing", "Plan", "build", "choose_rankdir", "draw",
           "equation", "fmt_number", "gradients", "pipe", "plan", "render", "save_svg",
           "scope_title", "step_marks", "summarize", "value_lines"]


class GraphvizNotFound(RuntimeError):
    """The Graphviz layout program (`dot`) is not installed."""


# ---- numbers as short text ------------------------------------------------------------------

def fmt_number(x: float) -> str:
    """A scalar the way pictures show it: 4 decimals, scientific when tiny or huge."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0.0:
        return "0.0000"
    if 1e-2 <= abs(x) < 1e5:
        return f"{x:.4f}"
    return f"{x:.3e}"


def _short(x: float) -> str:
    return f"{float(x):.3g}"


def _nested(a: np.ndarray) -> str:
    if a.ndim == 0:
        return f"{float(a):.4g}"
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def summarize(value: Any, max_items: int = 6) -> str:
    """Short text for a gradient or data: a float, the numbers of a small array, or
    "mean m std s [min, max]" of a bigger one. None shows as "-"."""
    if value is None:
        return "-"
    if isinstance(value, float | int | np.floating | np.integer):
        return fmt_number(value)
    a = np.asarray(value)
    if a.size == 1 and a.ndim == 0:
        return fmt_number(a.item())
    if a.size <= max_items:
        return _nested(a)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return (f"mean {_short(a.mean())} std {_short(a.std())} "
            f"[{_short(a.min())}, {_short(a.max())}]")


# ---- gradients to show ----------------------------------------------------------------------

def own_grad(node: Node) -> Any:
    """The node's `.grad` (None if it has none). A tensor that is not a leaf keeps one only
    with `retain_grad()` (as in PyTorch, which warns when it is read otherwise)."""
    if isinstance(node, Tensor) and not (node.is_leaf or node.retains_grad):
        return None
    return node.grad


def gradients(root: Node) -> dict[int, Any]:
    """id(node) -> d(root)/d(node) for every node that needs a gradient, from the engine's
    backward walk (nothing on the graph changes). Empty when the graph was released by a
    backward, or `root` is not a scalar."""
    from .steps import backprop_steps

    if not root.requires_grad or np.asarray(root.data).size != 1:
        return {}
    try:
        steps = list(backprop_steps(root))
    except RuntimeError:           # released by a backward without retain_graph
        return {}
    final = steps[-1].accumulated if steps else {}
    return {id(n): final[n] for n in final}


def _shown_grad(node: Node, walked: Mapping[int, Any]) -> Any:
    """What a picture shows as the node's gradient: its own `.grad` if it has one, else the
    walk's."""
    g = own_grad(node)
    return walked.get(id(node)) if g is None else g


def value_lines(node: Node, name: str, show_data: bool, show_grad: bool,
                grad: Any = None) -> list[str]:
    """The text lines of a value node: name, (shape and dtype), data, grad (`grad`, None =
    nothing yet)."""
    lines = [name]
    if isinstance(node, Tensor):
        shape = "scalar" if tuple(node.shape) == () else str(tuple(node.shape))
        lines.append(f"{shape} {np.asarray(node.data).dtype}")
        if show_data:
            lines.append("data " + summarize(np.asarray(node.data)))
        if show_grad and node.requires_grad:
            lines.append("grad " + summarize(None if grad is None else np.asarray(grad)))
    else:
        if show_data:
            lines.append("data " + fmt_number(node.data))
        if show_grad:
            lines.append("grad " + ("-" if grad is None else fmt_number(grad)))
    return lines


def _label(lines: Sequence[str]) -> str:
    # DOT escapes: a backslash starts one, so double the user's; lines join with \n
    return graphviz.nohtml("\\n".join(s.replace("\\", "\\\\") for s in lines))


def scope_title(scope: Scope) -> str:
    """A scope as shown in pictures: dotted path plus kind, e.g. "net.2 (BatchNorm1d)"."""
    path = ".".join(s.name for s in scope.path())
    return f"{path} ({scope.kind})" if scope.kind else path


def _scope_matches(scope: Scope, patterns: Sequence[str]) -> bool:
    path = ".".join(s.name for s in scope.path())
    return any(p in (scope.kind, scope.name, path) for p in patterns)


# ---- the layout plan shared by draw() and the HTML stepper ----------------------------------

@dataclass
class Plan:
    """What will be drawn: nodes in walk order, their DOT ids, clusters and collapsed boxes."""

    nodes: list[Node]
    names: dict[int, str]
    index: dict[int, int]                       # id(node) -> position in nodes
    box_of: dict[int, int] = field(default_factory=dict)   # id(node) -> collapsed box number
    boxes: list[Scope] = field(default_factory=list)
    box_size: list[int] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)       # drawn clusters, first seen first

    def value_id(self, node: Node) -> str:
        """DOT id of the box standing for this node's value (its collapsed box if hidden)."""
        b = self.box_of.get(id(node))
        return f"c{b}" if b is not None else f"n{self.index[id(node)]}"

    def op_id(self, node: Node) -> str:
        b = self.box_of.get(id(node))
        return f"c{b}" if b is not None else f"n{self.index[id(node)]}_op"

    def node_count(self) -> int:
        shown = [n for n in self.nodes if id(n) not in self.box_of]
        return len(shown) + sum(1 for n in shown if not is_leaf(n)) + len(self.boxes)


def plan(root: Node, collapse: Sequence[str] = ()) -> Plan:
    """Walk the graph and decide ids, clusters and collapsed boxes."""
    if not isinstance(root, Node):
        raise TypeError(f"draw: expected a Value or Tensor, got {type(root).__name__}")
    if isinstance(collapse, str):
        collapse = (collapse,)
    nodes = walk(root)
    p = Plan(nodes=nodes, names=node_names(nodes),
             index={id(n): i for i, n in enumerate(nodes)})
    box_number: dict[Scope, int] = {}
    seen_scopes: set[Scope] = set()
    for n in nodes:
        sc = n.scope
        if sc is None:
            continue
        chain = sc.path()
        hidden_at = next((k for k, s in enumerate(chain) if _scope_matches(s, collapse)), None)
        visible = chain if hidden_at is None else chain[:hidden_at]
        for s in visible:
            if s not in seen_scopes:
                seen_scopes.add(s)
                p.scopes.append(s)
        if hidden_at is not None:
            s = chain[hidden_at]
            if s not in box_number:
                box_number[s] = len(p.boxes)
                p.boxes.append(s)
                p.box_size.append(0)
            b = box_number[s]
            p.box_of[id(n)] = b
            p.box_size[b] += not is_leaf(n)
    return p


def _too_big(p: Plan, max_nodes: int) -> ValueError:
    kinds: list[str] = []
    for s in p.scopes:
        tag = s.kind or s.name
        if tag not in kinds:
            kinds.append(tag)
    hint = f"collapse={tuple(kinds[:3])!r}" if kinds else "collapse=(<scope kind or name>,)"
    return ValueError(
        f"draw: the graph has {p.node_count()} nodes to draw, more than max_nodes={max_nodes}; "
        f"that picture would be unreadable. Group layers with {hint}, or pass a larger "
        f"max_nodes=... if you really want every node.")


@dataclass
class Marks:
    """What the current step highlights: DOT ids of nodes and edges."""

    nodes: set[str] = field(default_factory=set)
    edges: set[str] = field(default_factory=set)


def step_marks(p: Plan, step: Any) -> Marks:
    """DOT ids that a step highlights: its node (and op node), the edge its gradient arrives
    on, and the edges to each input it sends a share to."""
    m = Marks()
    node = step.node
    if id(node) not in p.index:
        return m
    m.nodes.add(p.value_id(node))
    if id(node) in p.box_of:
        return m
    i = p.index[id(node)]
    if not is_leaf(node):
        m.nodes.add(p.op_id(node))
        m.edges.add(f"e{i}_out")
        sent = {id(parent) for parent, _ in step.sends}
        for j, parent in enumerate(node.parents):
            if id(parent) in sent:
                m.edges.add(f"e{i}_{j}")
    return m


# ---- the direction ----------------------------------------------------------------------

def _box_size(lines: Sequence[str], font: float) -> tuple[float, float]:
    """About how big Graphviz draws a box of these text lines, in points."""
    width = max(len(s) for s in lines) * font * 0.55 + 20
    return width, len(lines) * font * 1.25 + 10


def choose_rankdir(p: Plan, lines: Mapping[str, Sequence[str]],
                   view: tuple[float, float] = (VIEW_WIDTH, VIEW_HEIGHT)) -> str:
    """"LR" or "TB": the direction whose layout, estimated rank by rank from the boxes' text,
    fits the viewer's box at the larger scale. A long chain reads top down; a wide fan of
    inputs reads left to right."""
    rank: dict[str, int] = {}
    size: dict[str, tuple[float, float]] = {}
    for nid, text in lines.items():
        size[nid] = _box_size(text, FONT_SIZE - 1 if nid.endswith("_op") else FONT_SIZE)
    for n in p.nodes:                      # inputs first: a parent's rank is known
        vid = p.value_id(n)
        if is_leaf(n):
            rank.setdefault(vid, 0)
            continue
        oid = p.op_id(n)
        r = max((rank.get(p.value_id(q), 0) for q in n.parents if not is_folded_constant(q)),
                default=-1) + 1
        if oid != vid:
            rank[oid] = max(rank.get(oid, 0), r)
            r += 1
        rank[vid] = max(rank.get(vid, 0), r)
    by_rank: dict[int, list[str]] = {}
    for nid, r in rank.items():
        if nid in size:
            by_rank.setdefault(r, []).append(nid)
    gap_rank, gap_node = 25.0, 18.0         # ranksep 0.35in, nodesep 0.25in
    # LR: ranks side by side, the nodes of a rank stacked; TB the other way round
    lr_w = sum(max(size[i][0] for i in ids) for ids in by_rank.values())
    lr_w += gap_rank * (len(by_rank) - 1)
    lr_h = max(sum(size[i][1] for i in ids) + gap_node * (len(ids) - 1)
               for ids in by_rank.values())
    tb_w = max(sum(size[i][0] for i in ids) + gap_node * (len(ids) - 1)
               for ids in by_rank.values())
    tb_h = sum(max(size[i][1] for i in ids) for ids in by_rank.values())
    tb_h += gap_rank * (len(by_rank) - 1)
    fit_lr = min(view[0] / lr_w, view[1] / lr_h)
    fit_tb = min(view[0] / tb_w, view[1] / tb_h)
    return "LR" if fit_lr >= fit_tb else "TB"


# ---- the picture ------------------------------------------------------------------------

def _all_lines(p: Plan, show_data: bool, show_grad: bool, grads: Mapping[int, Any] | None,
               grad_text: Mapping[int, str] | None) -> dict[str, list[str]]:
    """DOT id -> the text lines of every box to draw."""
    out: dict[str, list[str]] = {}
    for n in p.nodes:
        if id(n) in p.box_of:
            continue
        i = p.index[id(n)]
        if grad_text is not None and id(n) in grad_text:
            lines = value_lines(n, p.names[id(n)], show_data, False)
            lines.append(grad_text[id(n)])
        else:
            g = None if grads is None else grads.get(id(n))
            lines = value_lines(n, p.names[id(n)], show_data, show_grad, g)
        out[f"n{i}"] = lines
        if not is_leaf(n):
            out[f"n{i}_op"] = [describe(n)]
    for b, s in enumerate(p.boxes):
        count = p.box_size[b]
        out[f"c{b}"] = [scope_title(s), f"{count} op{'s' if count != 1 else ''}"]
    return out


def build(p: Plan, *, show_data: bool, show_grad: bool, rankdir: str | None,
          grads: Mapping[int, Any] | None = None, marks: Marks | None = None,
          grad_text: Mapping[int, str] | None = None,
          name: str = "minigrad") -> Drawing:
    """The Digraph of a plan. `grads` maps id(node) -> the gradient to show (missing = "-");
    `grad_text` replaces the grad line outright (the HTML stepper lays out its widest text).
    `rankdir` None chooses it from the graph's shape."""
    marks = marks or Marks()
    lines = _all_lines(p, show_data, show_grad, grads, grad_text)
    if rankdir is None:
        rankdir = choose_rankdir(p, lines)
    dot = Drawing(
        name,
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.35", "labeljust": "l",
                    "bgcolor": "white"},
        node_attr={"fontname": FONT, "fontsize": str(FONT_SIZE), "height": "0.3"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    # statements per cluster: None = top level, else a scope
    body: dict[Scope | None, list[tuple[str, str, dict[str, str]]]] = {}

    def add(where: Scope | None, nid: str, attrs: dict[str, str]) -> None:
        if nid in marks.nodes:
            attrs = dict(attrs, color=_HOT, penwidth="3", fillcolor=_FILL_HOT)
        body.setdefault(where, []).append((nid, _label(lines[nid]), attrs))

    root = p.nodes[-1]
    for n in p.nodes:
        if id(n) in p.box_of:
            continue
        i = p.index[id(n)]
        if not is_leaf(n):
            fill, kind = _FILL_VALUE, "value"
        elif n.requires_grad:
            fill, kind = _FILL_LEAF, "value leaf"
        else:
            fill, kind = _FILL_CONST, "value const"
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": fill,
                 "margin": "0.14,0.05", "id": f"n{i}", "class": kind}
        if n is root:
            attrs["penwidth"] = "2"
        add(n.scope, f"n{i}", attrs)
        if not is_leaf(n):
            add(n.scope, f"n{i}_op",
                {"shape": "ellipse", "style": "filled", "fillcolor": _FILL_OP,
                 "fontsize": str(FONT_SIZE - 1), "height": "0.25", "margin": "0.04,0.02",
                 "id": f"n{i}_op", "class": "op"})
    for b, s in enumerate(p.boxes):
        add(s.parent, f"c{b}", {"shape": "box3d", "style": "filled", "fillcolor": _FILL_BOX,
                                "id": f"c{b}", "class": "box"})

    # clusters nest like the scopes; a scope that is collapsed above is not drawn
    children: dict[Scope | None, list[Scope]] = {}
    for s in p.scopes:
        children.setdefault(s.parent if s.parent in p.scopes else None, []).append(s)
    cluster_no = {s: k for k, s in enumerate(p.scopes)}

    def emit(g: graphviz.Digraph, where: Scope | None) -> None:
        for nid, label, attrs in body.get(where, []):
            g.node(nid, label, **attrs)
        for s in children.get(where, []):
            with g.subgraph(name=f"cluster_{cluster_no[s]}") as c:
                c.attr(label=scope_title(s), style="rounded,dashed", color="#8a8a8a",
                       fontcolor="#444444", fontsize=str(FONT_SIZE),
                       id=f"cluster_{cluster_no[s]}")
                emit(c, s)

    emit(dot, None)

    seen_box_edges: set[tuple[str, str]] = set()
    for n in p.nodes:
        if is_leaf(n):
            continue
        i = p.index[id(n)]
        dst = p.op_id(n)
        for j, parent in enumerate(n.parents):
            if is_folded_constant(parent):
                continue
            src = p.value_id(parent)
            _edge(dot, src, dst, f"e{i}_{j}", marks, seen_box_edges)
        _edge(dot, dst, p.value_id(n), f"e{i}_out", marks, seen_box_edges)
    return dot


def _edge(dot: graphviz.Digraph, src: str, dst: str, eid: str, marks: Marks,
          seen_box: set[tuple[str, str]]) -> None:
    if src == dst:
        return                        # both ends inside one collapsed box
    if src.startswith("c") or dst.startswith("c"):
        if (src, dst) in seen_box:
            return                    # a box shows each outside connection once
        seen_box.add((src, dst))
        eid = f"b{len(seen_box) - 1}"
    attrs = {"id": eid}
    if eid in marks.edges:
        attrs.update(color=_HOT, penwidth="2.5")
    dot.edge(src, dst, **attrs)


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` (`.source`, `.render`, `.pipe`) that shows itself in a Jupyter
    notebook in minigrad's pan/zoom viewer, opening readable on `focus` (DOT ids)."""

    focus: tuple[str, ...] = ()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> dict[str, str]:
        from .viewer import viewer_fragment

        svg = pipe(self, "svg").decode("utf-8")
        return {"text/html": viewer_fragment(svg, focus=self.focus), "image/svg+xml": svg}

    def html(self, uid: str | None = None) -> str:
        """The picture in the pan/zoom viewer, as an HTML fragment (inline SVG and script)."""
        from .viewer import viewer_fragment

        return viewer_fragment(pipe(self, "svg").decode("utf-8"), focus=self.focus, uid=uid)


def draw(root: Node, *, show_data: bool = True, show_grad: bool = True,
         rankdir: str | None = None, collapse: Sequence[str] = (), highlight: Any = None,
         max_nodes: int = 500, focus: Sequence[Node] = ()) -> Drawing:
    """The graph that computed `root`, as a Digraph (shows inline in Jupyter in a pan/zoom
    viewer; `.source` is the DOT text; `render(dot, "g.svg")` writes a file).

    Each value box shows the node's name, data and gradient d(root)/d(node): `.grad` where
    the node has one, else the engine's backward walk gives it (while the graph has not been
    released by a backward). `rankdir` "LR" or "TB" (None: from the graph's shape).
    `collapse` names scopes (by kind, own name, or dotted path) to draw as one box each.
    `highlight` is a `Step` from `backprop_steps`: its node and the edges carrying gradient
    are marked, and nodes show the gradients accumulated so far. `focus`: the nodes the
    viewer opens on (default: `root`). Over `max_nodes` drawn nodes, a ValueError suggests
    `collapse=` instead.

    >>> from minigrad import Value
    >>> a = Value(3.0, "a")
    >>> "a" in draw(a * 2.0).source
    True
    """
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    p = plan(root, collapse)
    if p.node_count() > max_nodes:
        raise _too_big(p, max_nodes)
    marks = None
    grads: dict[int, Any] | None = None
    if highlight is not None:
        if isinstance(highlight, Node):
            marks = Marks(nodes={p.value_id(highlight)} if id(highlight) in p.index else set())
        else:
            marks = step_marks(p, highlight)
            acc = highlight.accumulated
            grads = {id(n): acc[n] for n in acc}
    if grads is None and show_grad:
        walked = gradients(root)
        grads = {id(n): _shown_grad(n, walked) for n in p.nodes}
    dot = build(p, show_data=show_data, show_grad=show_grad, rankdir=rankdir,
                grads=grads, marks=marks)
    dot.focus = tuple(p.value_id(n) for n in (focus or (root,)) if id(n) in p.index)
    return dot


# ---- rendering through the Graphviz program -------------------------------------------------

def _need_dot() -> None:
    if shutil.which("dot") is None:
        raise GraphvizNotFound(f"the Graphviz layout program 'dot' was not found; {INSTALL_HINT}")


def pipe(dot: graphviz.Digraph, format: str = "svg") -> bytes:  # noqa: A002
    """Lay out and render `dot` in memory (svg, png, pdf, ...)."""
    _need_dot()
    try:
        return dot.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(
            f"the Graphviz layout program 'dot' could not be run; {INSTALL_HINT}") from None


def render(dot: graphviz.Digraph, path: str | Path, format: str | None = None) -> Path:  # noqa: A002
    """Write `dot` to `path` as svg/png/pdf (format from the suffix unless given). Fails
    with `GraphvizNotFound`, saying what to install, when Graphviz is missing."""
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower() or "svg"
    path.write_bytes(pipe(dot, fmt))
    return path


def save_svg(root: Node | graphviz.Digraph, path: str | Path, **draw_options: Any) -> Path:
    """Draw `root` (or take a ready Digraph) and write it as an SVG file."""
    dot = root if isinstance(root, graphviz.Digraph) else draw(root, **draw_options)
    return render(dot, path, "svg")
