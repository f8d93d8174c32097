"""Draw a graph of `Value`/`Tensor` nodes with Graphviz, micrograd-style.

Every node that an op made is drawn as two boxes: a small op node (`*`, `tanh`, `sum(axis=0)`)
and the value node it produces, so the picture reads input -> op -> output. Nodes recorded
inside a `minigrad.scope` (every nn layer opens one) are drawn inside a cluster labelled with
the scope; `collapse=` turns chosen scopes into one box each.

Node ids in the DOT text follow the walk order of the graph (inputs first), never `id()`, so
the same graph always gives the same `.source`.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> dot = draw((x * w).tanh())
>>> dot.source.count("->")          # x -> *, w -> *, * -> xw, xw -> tanh, tanh -> out
5
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .._tensor import Tensor
from ..engine import Node, Scope

INSTALL_HINT = ("install Graphviz: apt-get install graphviz / brew install graphviz / "
                "https://graphviz.org/download/")

FONT = "Helvetica,Arial,sans-serif"

# Colours of the static picture (the HTML stepper restyles with CSS classes).
_FILL_LEAF = "#dbeafe"        # a leaf that needs a gradient (parameter, input variable)
_FILL_CONST = "#eeeeee"       # a leaf that needs none (data, constants)
_FILL_VALUE = "#ffffff"       # an op's result
_FILL_OP = "#f1f1f1"
_FILL_BOX = "#fdf2d0"         # a collapsed scope
_HOT = "#d9480f"              # the current step: node, and the edges carrying gradient
_FILL_HOT = "#ffd8a8"



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


def _fmt_const(c: Any) -> str:
    return f"{float(c):g}"


# ---- the walk: which nodes are drawn and what they are called -------------------------------

def is_folded_constant(node: Node) -> bool:
    """A one-element constant Tensor leaf without a label (e.g. the `1e-5` of `var + 1e-5`):
    it is written into its consumer's op node instead of getting a box."""
    return (isinstance(node, Tensor) and node.is_leaf and not node.requires_grad
            and not node.label and node.numel() == 1)


def walk(root: Node) -> list[Node]:
    """Every node reachable from `root` (whether it needs a gradient or not), inputs before
    outputs, root last; parents are visited in operand order, so the order is the same on
    every run. Folded constants are left out."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 0)]
    seen.add(id(root))
    while stack:
        node, i = stack[-1]
        parents = node.parents
        if i < len(parents):
            stack[-1] = (node, i + 1)
            parent = parents[i]
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, 0))
        else:
            stack.pop()
            if not is_folded_constant(node):
                order.append(node)
    return order


def node_names(nodes: Iterable[Node]) -> dict[int, str]:
    """id(node) -> the name pictures and the stepper use: the user label, else `#i` (the
    node's position in `walk`)."""
    return {id(n): (n.label or f"#{i}") for i, n in enumerate(nodes)}


def scope_title(scope: Scope) -> str:
    """A scope as shown in pictures: dotted path plus kind, e.g. "net.2 (BatchNorm1d)"."""
    path = ".".join(s.name for s in scope.path())
    return f"{path} ({scope.kind})" if scope.kind else path


def _scope_matches(scope: Scope, patterns: Sequence[str]) -> bool:
    path = ".".join(s.name for s in scope.path())
    return any(p in (scope.kind, scope.name, path) for p in patterns)


def op_text(node: Node) -> str:
    """The op node's text, as the op itself describes it ("* 2", "+ 1e-05", "** 2",
    "sum(dim=0)"); a folded constant input is written in ("2 -", "- 2")."""
    parents = node.parents
    consts = [p for p in parents if is_folded_constant(p)]
    text = node.describe()
    if consts and len(parents) == 2:
        c = _fmt_const(np.asarray(consts[0].data).item())
        # a constant on the left reads "2 -", on the right "- 2"
        return f"{c} {text}" if parents[0] is consts[0] else f"{text} {c}"
    if consts:                 # other ops: the inputs in order, constants written out
        return text + " (" + ", ".join(
            _fmt_const(np.asarray(p.data).item()) if is_folded_constant(p) else "."
            for p in parents) + ")"
    return text


def expr_text(node: Node, names: Mapping[int, str]) -> str:
    """How the node was computed, with names: "#3 = x-#2", "y = tanh(#4)",
    "#5 = sum(x, dim=0)", "x (leaf)"."""
    me = names.get(id(node), "?")
    if not node.op:
        return f"{me} (leaf)"

    def arg(q: Node) -> str:
        if is_folded_constant(q):
            return _fmt_const(np.asarray(q.data).item())
        return names.get(id(q), "?")

    return f"{me} = {node.expression([arg(q) for q in node.parents])}"


def value_lines(node: Node, name: str, show_data: bool, show_grad: bool,
                grad: Any = None, use_grad: bool = False) -> list[str]:
    """The text lines of a value node: name, (shape and dtype), data, grad.

    With `use_grad` the gradient shown is `grad` (e.g. accumulated so far by a step, None =
    nothing yet), otherwise the node's own `.grad`."""
    lines = [name]
    if isinstance(node, Tensor):
        shape = "scalar" if node.dim() == 0 else str(tuple(node.shape))
        lines.append(f"{shape} {node.dtype.name}")
        if show_data:
            lines.append("data " + summarize(node.data))
        if show_grad and node.requires_grad:
            own = node.grad if node.is_leaf or node.retains_grad else None
            lines.append("grad " + summarize(grad if use_grad else own))
    else:
        if show_data:
            lines.append("data " + fmt_number(node.data))
        if show_grad:
            g = grad if use_grad else node.grad
            lines.append("grad " + ("-" if g is None else fmt_number(g)))
    return lines


def _label(lines: Sequence[str]) -> str:
    # DOT escapes: a backslash starts one, so double the user's; lines join with \n
    return graphviz.nohtml("\\n".join(s.replace("\\", "\\\\") for s in lines))


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
        return len(shown) + sum(1 for n in shown if bool(n.op)) + len(self.boxes)


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
            p.box_size[b] += bool(n.op)
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
    if bool(node.op):
        m.nodes.add(p.op_id(node))
        m.edges.add(f"e{i}_out")
        sent = {id(parent) for parent, _ in step.sends}
        for j, parent in enumerate(node.parents):
            if id(parent) in sent:
                m.edges.add(f"e{i}_{j}")
    return m


def build(p: Plan, *, show_data: bool, show_grad: bool, rankdir: str,
          grads: Mapping[Node, Any] | None = None, marks: Marks | None = None,
          grad_text: Mapping[int, str] | None = None,
          name: str = "minigrad") -> graphviz.Digraph:
    """The Digraph of a plan. `grads` replaces `.grad` (None entries = nothing arrived yet);
    `grad_text` replaces the grad line outright (the HTML stepper lays out its widest text)."""
    marks = marks or Marks()
    dot = graphviz.Digraph(
        name,
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.35", "labeljust": "l",
                    "bgcolor": "white"},
        node_attr={"fontname": FONT, "fontsize": "10", "height": "0.3"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    # statements per cluster: None = top level, else a scope
    body: dict[Scope | None, list[tuple[str, str, dict[str, str]]]] = {}

    def add(where: Scope | None, nid: str, lines: Sequence[str], attrs: dict[str, str]) -> None:
        if nid in marks.nodes:
            attrs = dict(attrs, color=_HOT, penwidth="3", fillcolor=_FILL_HOT)
        body.setdefault(where, []).append((nid, _label(lines), attrs))

    root = p.nodes[-1]
    for n in p.nodes:
        if id(n) in p.box_of:
            continue
        i = p.index[id(n)]
        if grad_text is not None and id(n) in grad_text:
            lines = value_lines(n, p.names[id(n)], show_data, False)
            lines.append(grad_text[id(n)])
        elif grads is not None:
            lines = value_lines(n, p.names[id(n)], show_data, show_grad,
                                grads.get(n), use_grad=True)
        else:
            lines = value_lines(n, p.names[id(n)], show_data, show_grad)
        if bool(n.op):
            fill, kind = _FILL_VALUE, "value"
        elif n.requires_grad:
            fill, kind = _FILL_LEAF, "value leaf"
        else:
            fill, kind = _FILL_CONST, "value const"
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": fill,
                 "margin": "0.14,0.05", "id": f"n{i}", "class": kind}
        if n is root:
            attrs["penwidth"] = "2"
        add(n.scope, f"n{i}", lines, attrs)
        if bool(n.op):
            add(n.scope, f"n{i}_op", [op_text(n)],
                {"shape": "ellipse", "style": "filled", "fillcolor": _FILL_OP,
                 "fontsize": "9", "height": "0.25", "margin": "0.04,0.02",
                 "id": f"n{i}_op", "class": "op"})
    for b, s in enumerate(p.boxes):
        count = p.box_size[b]
        add(s.parent, f"c{b}", [scope_title(s), f"{count} op{'s' if count != 1 else ''}"],
            {"shape": "box3d", "style": "filled", "fillcolor": _FILL_BOX,
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
                       fontcolor="#444444", fontsize="10", id=f"cluster_{cluster_no[s]}")
                emit(c, s)

    emit(dot, None)

    seen_box_edges: set[tuple[str, str]] = set()
    for n in p.nodes:
        if not n.op:
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


def draw(root: Node, *, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
         collapse: Sequence[str] = (), highlight: Any = None,
         max_nodes: int = 500) -> graphviz.Digraph:
    """The graph that computed `root`, as a `graphviz.Digraph` (shows inline in Jupyter;
    `.source` is the DOT text; `render(dot, "g.svg")` writes a file).

    `collapse` names scopes (by kind, own name, or dotted path) to draw as one box each.
    `highlight` is a `Step` from `backprop_steps`: its node and the edges carrying gradient
    are marked, and nodes show the gradients accumulated so far instead of `.grad`.
    Over `max_nodes` drawn nodes, a ValueError suggests `collapse=` instead.

    >>> from minigrad import Value
    >>> a = Value(3.0, "a")
    >>> "a" in draw(a * 2.0).source
    True
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    p = plan(root, collapse)
    if p.node_count() > max_nodes:
        raise _too_big(p, max_nodes)
    grads = marks = None
    if highlight is not None:
        if isinstance(highlight, Node):
            marks = Marks(nodes={p.value_id(highlight)} if id(highlight) in p.index else set())
        else:
            marks = step_marks(p, highlight)
            grads = highlight.accumulated
    return build(p, show_data=show_data, show_grad=show_grad, rankdir=rankdir,
                 grads=grads, marks=marks)


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
