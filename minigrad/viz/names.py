"""What pictures and steppers call a node and its op: the walk of a graph, the op's text
("*", "* 2", "sum(axis=0)"), and a node's name: the user's label, or else how it was computed
from its parents' names ("x*w", "mean(x, axis=0)", "tanh(h)").

Everything here reads the public node API (`op`, `parents`, `label`, `data`,
`requires_grad`) and the op's own description (`node.describe()`, `node.expression(args)`):
adding an op touches only the ops package.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> y = (x * w).tanh()
>>> names = node_names(walk(y))
>>> [names[id(n)] for n in walk(y)]
['x', 'w', 'x*w', 'tanh(x*w)']
>>> equation(y.parents[0], names)
'x*w'

"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor

MAX_NAME = 28          # longer expressions abbreviate their arguments


# ---- the walk -------------------------------------------------------------------------------

def is_leaf(node: Any) -> bool:
    return node.op == ""


def is_folded_constant(node: Any) -> bool:
    """A one-element constant Tensor leaf without a label (e.g. the `1e-5` of `var + 1e-5`):
    it is written into its consumer's op node instead of getting a box."""
    return (isinstance(node, Tensor) and is_leaf(node) and not node.requires_grad
            and not node.label and np.asarray(node.data).size == 1)


def walk(root: Any) -> list[Any]:
    """Every node reachable from `root` (whether it needs a gradient or not), inputs before
    outputs, root last; parents are visited in operand order, so the order is the same on
    every run. Folded constants are left out. A loop with an explicit stack, no recursion."""
    order: list[Any] = []
    seen: set[int] = {id(root)}
    stack: list[tuple[Any, int]] = [(root, 0)]
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


def const_text(c: Any) -> str:
    return f"{float(np.asarray(c).reshape(())):g}"


# ---- the op's text --------------------------------------------------------------------------

def describe(node: Any) -> str:
    """The op node's text: its symbol or name with its parameters ("*", "* 2", "+ 1e-05",
    "sum(axis=0)", "reshape (4, 3)"); "" for a leaf. Folded constants are written in."""
    if is_leaf(node):
        return ""
    text = node.describe()
    parents = node.parents
    consts = [p for p in parents if is_folded_constant(p)]
    if not consts:
        return text
    if len(parents) == 2:
        c = const_text(consts[0].data)
        # a constant on the left reads "2 -", on the right "- 2"
        return f"{c} {text}" if parents[0] is consts[0] else f"{text} {c}"
    return text + " (" + ", ".join(const_text(p.data) if is_folded_constant(p) else "."
                                   for p in parents) + ")"


def _arg(node: Any, names: dict[int, str]) -> str:
    return const_text(node.data) if is_folded_constant(node) else names.get(id(node), "?")


def expression(node: Any, args: Sequence[str]) -> str:
    """How `node` was computed from arguments named `args` (one per parent, in operand
    order), as its op writes it: "x*w", "(x*w)+b", "-a", "mean(x, dim=0)", "tanh(h)"."""
    return node.expression(list(args))


# ---- names ------------------------------------------------------------------------------

def node_names(nodes: Iterable[Any]) -> dict[int, str]:
    """id(node) -> the name pictures and the steppers use: the user's label, else the
    expression of its parents' names (abbreviated when long); a name that repeats gets
    " (2)", " (3)", ... Needs the nodes inputs first (as `walk` gives them)."""
    names: dict[int, str] = {}
    seen: dict[str, int] = {}
    for n in nodes:
        if n.label:
            name = n.label
        elif is_leaf(n):
            name = _leaf_name(n)
        else:
            name = _short_expression(n, names)
        count = seen.get(name, 0) + 1
        seen[name] = count
        names[id(n)] = name if count == 1 else f"{name} ({count})"
    return names


def _leaf_name(node: Any) -> str:
    """An unlabelled leaf: its number if it has one, else its shape ("tensor (4, 3)")."""
    data = np.asarray(node.data)
    if data.size == 1:
        return const_text(data)
    return f"tensor {tuple(data.shape)}"


def _short_expression(node: Any, names: dict[int, str]) -> str:
    args = [_arg(p, names) for p in node.parents]
    text = expression(node, args)
    if len(text) <= MAX_NAME:
        return text
    # abbreviate the longest arguments until it fits
    short = list(args)
    for k in sorted(range(len(args)), key=lambda k: -len(args[k])):
        if len(short[k]) > 3:
            short[k] = "…"
            text = expression(node, short)
            if len(text) <= MAX_NAME:
                return text
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def equation(node: Any, names: dict[int, str]) -> str:
    """"name = how it was computed", or "name (leaf)": the head line of a step."""
    me = names.get(id(node), "?")
    if is_leaf(node):
        return f"{me} (leaf)"
    rhs = expression(node, [_arg(p, names) for p in node.parents])
    return me if rhs == me else f"{me} = {rhs}"


def grad_name(root_name: str, name: str) -> str:
    """"dL/dx", or "dL/d(x*w)" when the name is not a single word."""
    def part(s: str) -> str:
        return s if re.fullmatch(r"[A-Za-z_][\w.']*", s) else f"({s})"
    return f"d{part(root_name)}/d{part(name)}"
