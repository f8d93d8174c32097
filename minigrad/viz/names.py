"""What pictures and steppers call a node and its op: the walk of a graph, the op's text
("*", "* 2", "sum(axis=0)"), and a node's name: the user's label, or else how it was computed
from its parents' names ("x*w", "mean(x, axis=0)", "tanh(h)").

Everything here reads the public node API (`op`, `parents`, `label`, `data`,
`requires_grad`) and the op's own description (`node.describe()` and
`node.expression(args)` where the engine provides them).

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> y = (x * w).tanh()
>>> names = node_names(walk(y))
>>> [names[id(n)] for n in walk(y)]
['x', 'w', 'x*w', 'tanh(x*w)']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor

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
    own = getattr(node, "describe", None)
    text = own() if callable(own) else _describe_from_op(node)
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
    """How `node` was computed from arguments named `args` (one per parent, in operand order):
    "x*w", "x*w + b", "-a", "x**2", "1 - x", "mean(x, axis=0)", "tanh(h)". An argument is put
    in parentheses where the operator's precedence needs it."""
    own = getattr(node, "expression", None)
    if callable(own):
        return own(list(args))
    return _expression_from_text(node.op, describe(node), node.parents, list(args))


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_UNARY = 3
_ATOM = 5


def level(text: str) -> int:
    """The precedence of the loosest top-level operator in `text` (5 for an atom such as
    "x", "2.5", "mean(x, axis=0)" or "(a + b)")."""
    depth, lowest, prev = 0, _ATOM, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            if text.startswith("**", i):
                lowest = min(lowest, _PREC["**"])
                i += 2
                prev = "*"
                continue
            if ch in "+-":
                binary = prev.strip() not in ("", "(", "*", "/", "+", "-", "@", "e", "E")
                # a sign after an exponent's "e" (1e-05) or at the start is not an operator
                if binary:
                    lowest = min(lowest, _PREC[ch])
                elif i == 0:
                    lowest = min(lowest, _UNARY)
            elif ch in "*/@":
                lowest = min(lowest, _PREC[ch])
        if not ch.isspace():
            prev = ch
        i += 1
    return lowest


def _wrap(text: str, need: int) -> str:
    """`text` in parentheses if its loosest operator binds less tightly than `need`."""
    return f"({text})" if level(text) < need else text


def _expression_from_text(op: str, text: str, parents: Sequence[Any],
                          args: list[str]) -> str:
    """An expression from the op's text, for ops that do not write their own."""
    m = re.fullmatch(r"(\*\*|[-+*/@])(?: (.+))?", text)          # "*", "* 2", "** 2"
    if m and (len(args) == 2 or m.group(2) is not None):
        sym = m.group(1)
        a = args[0]
        b = m.group(2) if m.group(2) is not None else args[1]
        return _binary(sym, a, b)
    m = re.fullmatch(r"(.+) (\*\*|[-+*/@])", text)                 # "1 -", "2 /"
    if m:
        return _binary(m.group(2), m.group(1), args[-1])
    if text in ("neg", "-") and len(args) == 1:
        return "-" + _wrap(args[0], _UNARY + 1)
    m = re.fullmatch(rf"{re.escape(op)}\((.+)\)", text)            # "sum(axis=0)"
    if m and op:
        return f"{op}({', '.join(args)}, {m.group(1)})"
    m = re.fullmatch(rf"{re.escape(op)} (.+)", text)                # "reshape (4, 3)"
    if m and op and not text.startswith(op + " ("):
        return f"{op}({', '.join(args)}, {m.group(1)})"
    if m and op:
        return f"{op}({', '.join(args)}, {m.group(1)})"
    name = op or text
    return f"{name}({', '.join(args)})"


def _binary(sym: str, a: str, b: str) -> str:
    p = _PREC[sym]
    if sym == "**":                       # right-associative and tighter than unary minus
        left, right = _wrap(a, _ATOM), _wrap(b, p)
    else:                                 # left-associative: a - (b - c), a / (b * c)
        left, right = _wrap(a, p), _wrap(b, p + 1 if sym in "-/" else p)
    spaced = sym in "+-"
    return f"{left} {sym} {right}" if spaced else f"{left}{sym}{right}"


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


# ---- until the ops describe themselves ------------------------------------------------------
# The engine's ops will each say how they are drawn (`node.describe()`); until then the text
# is read here from the op's name and its parameters.

_OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@",
               "neg": "neg"}


def _nice(x: float) -> float | None:
    """x rounded to 6 significant digits, if that is x (up to float noise)."""
    r = float(f"{x:.6g}")
    return r if math.isclose(r, x, rel_tol=1e-12, abs_tol=0.0) else None


def _describe_from_op(node: Any) -> str:
    op = node._op
    name = op.name
    sym = _OP_SYMBOLS.get(name, name)
    saved = node._saved
    cls = op.__name__
    if cls in ("AddConst", "MulConst", "PowConst", "RSubConst", "RDivConst"):
        if not isinstance(saved, int | float):
            return sym
        c = float(saved)
        if cls in ("RSubConst", "RDivConst"):
            return f"{const_text(c)} {sym}"
        if cls == "AddConst" and c < 0:
            return f"- {const_text(-c)}"                  # x - 3 is stored as x + (-3)
        if cls == "MulConst" and c != 0 and _nice(c) is None and _nice(1.0 / c) is not None:
            return f"/ {const_text(1.0 / c)}"              # how Value writes x / 7
        return f"{sym} {const_text(c)}"
    if cls in ("Sum", "Mean", "Max", "Min"):
        if not isinstance(saved, tuple):
            return name
        axis, keepdims = saved
        args = [] if axis is None else [f"axis={axis[0] if len(axis) == 1 else axis}"]
        if keepdims:
            args.append("keepdims")
        return f"{name}({', '.join(args)})" if args else name
    if cls in ("Reshape", "Expand"):
        return f"{name} {node.shape}"          # the new shape is the output's shape
    if cls == "Transpose" and isinstance(saved, tuple):
        return f"{name} {saved}"
    return sym
