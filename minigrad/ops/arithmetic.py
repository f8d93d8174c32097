"""Arithmetic: + - * / ** and negation, with tensor or constant operands; casts and copies."""

from __future__ import annotations

import math

import numpy as np

from .base import (
    Op,
    atom,
    compact,
    cross,
    fill_where,
    fmt_number,
    is_node,
    log,
    nothing,
    sum_to,
)


class Add(Op):
    """out = a + b (or a + alpha * b, PyTorch's `add(a, b, alpha=...)`);  da = g,
    db = g (times alpha)"""
    name, rule, symbol, infix = "add", "d(a+b)/da = 1, d(a+b)/db = 1", "+", True
    uses_inputs = False
    ufunc = np.add

    @classmethod
    def emit(cls, args, saved, c):
        return (f"{args[0]} + {args[1]}" if saved is None
                else f"{args[0]} + {args[1]} * {c(saved)}")

    @staticmethod
    def forward(ins, alpha):
        return ins[0] + ins[1] if alpha is None else ins[0] + ins[1] * alpha

    @staticmethod
    def inplace(target, ins, alpha):
        np.add(target, ins[1] if alpha is None else ins[1] * alpha, out=target,
               casting="unsafe")

    @staticmethod
    def backward(g, out, ins, alpha, needs):
        return g, (g if alpha is None else g * alpha)

    @classmethod
    def describe(cls, alpha):
        return "+" if alpha is None else f"+ {fmt_number(alpha)} *"

    @classmethod
    def expression(cls, args, alpha):
        if alpha is None:
            return f"{atom(args[0])}+{atom(args[1])}"
        return f"{atom(args[0])}+{fmt_number(alpha)}*{atom(args[1])}"


class Sub(Op):
    """out = a - b;  da = g,  db = -g"""
    name, rule, symbol, infix = "sub", "d(a-b)/da = 1, d(a-b)/db = -1", "-", True
    ufunc = np.subtract
    reads = staticmethod(nothing)

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} - {args[1]}"

    @staticmethod
    def forward(ins, saved):
        return ins[0] - ins[1]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        if not needs[1]:
            return g, None
        b = ins[1]
        if hasattr(b, "shape") and g.shape != b.shape:    # b was broadcast: negate the sum
            return g, -sum_to(g, b.shape)
        return g, -g


class Mul(Op):
    """out = a * b;  da = g * b,  db = g * a"""
    name, rule, symbol, infix = "mul", "d(a*b)/da = b, d(a*b)/db = a", "*", True
    ufunc = np.multiply
    reads = staticmethod(cross)

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} * {args[1]}"

    @staticmethod
    def forward(ins, saved):
        return ins[0] * ins[1]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        return (g * b if needs[0] else None,
                g * a if needs[1] else None)


class Div(Op):
    """out = a / b;  da = g / b,  db = -g * a / b**2"""
    name, rule, symbol, infix = "div", "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2", "/", True
    ufunc = np.true_divide

    @staticmethod
    def reads(needs):
        return needs[1], needs[0] or needs[1]

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} / {args[1]}"

    @staticmethod
    def forward(ins, saved):
        return ins[0] / ins[1]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        ga = g / b
        gb = None
        if needs[1]:
            if hasattr(b, "shape") and ga.shape != b.shape:   # b was broadcast: negate the sum
                gb = -sum_to(ga * a / b, b.shape)
            else:
                gb = -ga * a / b
        return (ga if needs[0] else None), gb


class Neg(Op):
    """out = -a;  da = -g"""
    name, rule, symbol = "neg", "d(-a)/da = -1", "-"
    uses_inputs = False
    ufunc = np.negative

    @classmethod
    def emit(cls, args, saved, c):
        return f"-{args[0]}"

    @staticmethod
    def forward(ins, saved):
        return -ins[0]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (-g,)

    @classmethod
    def expression(cls, args, saved):
        return "-" + _atom_prefix(args[0])


def _atom_prefix(text: str) -> str:
    return atom(text) if text[:1] != "-" else f"({text})"


# ---- a number kept by the node (`x * 2.0` has one parent) ---------------------------------

class AddConst(Op):
    """out = a + c for a number c kept by the node;  da = g"""
    name, rule = "add", "d(a+c)/da = 1"
    grad_fn = "AddBackward0"
    uses_inputs = False
    wrapped_number = True

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} + {c(saved)}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.add({args[0]}, {c(saved)}, out={out})"

    @staticmethod
    def forward(ins, c):
        return ins[0] + c

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (g,)

    @classmethod
    def describe(cls, c):
        return f"- {fmt_number(-c)}" if _negative(c) else f"+ {fmt_number(c)}"

    @classmethod
    def expression(cls, args, c):
        return atom(args[0]) + cls.describe(c).replace(" ", "")


class SubConst(Op):
    """out = a - c for a number c kept by the node;  da = g"""
    name, rule = "sub", "d(a-c)/da = 1"
    grad_fn = "SubBackward0"
    uses_inputs = False
    wrapped_number = True

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} - {c(saved)}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.subtract({args[0]}, {c(saved)}, out={out})"

    @staticmethod
    def forward(ins, c):
        return ins[0] - c

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (g,)

    @classmethod
    def describe(cls, c):
        return f"- {fmt_number(c)}"

    @classmethod
    def expression(cls, args, c):
        return f"{atom(args[0])}-{fmt_number(c)}"


class MulConst(Op):
    """out = a * c for a number c kept by the node;  da = g * c"""
    name, rule = "mul", "d(a*c)/da = c"
    grad_fn = "MulBackward0"
    uses_inputs = False
    wrapped_number = True
    saves_value = True          # PyTorch saves the number: a second backward is refused

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} * {c(saved)}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.multiply({args[0]}, {c(saved)}, out={out})"

    @staticmethod
    def forward(ins, c):
        return ins[0] * c

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (g * c,)

    @classmethod
    def describe(cls, c):
        try:
            c = float(c)
        except (TypeError, ValueError):
            return "* c"
        if c not in (0.0, 1.0, -1.0) and _nice(c) is None and _nice(1.0 / c) is not None:
            return f"/ {fmt_number(1.0 / c)}"            # how Value writes x / 7
        return f"* {fmt_number(c)}"

    @classmethod
    def expression(cls, args, c):
        return atom(args[0]) + cls.describe(c).replace(" ", "")


class RSubConst(Op):
    """out = c - a for a number c kept by the node;  da = -g"""
    name, rule = "sub", "d(c-a)/da = -1"
    grad_fn = "RsubBackward1"
    uses_inputs = False

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(saved)} - {args[0]}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.subtract({c(saved)}, {args[0]}, out={out})"

    @staticmethod
    def forward(ins, c):
        return c - ins[0]

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (-g,)

    @classmethod
    def describe(cls, c):
        return f"{fmt_number(c)} -"

    @classmethod
    def expression(cls, args, c):
        return f"{fmt_number(c)}-{atom(args[0])}"


class RDivConst(Op):
    """out = c / a for a number c kept by the node (scalars);  da = -g * c / a**2"""
    name, rule = "div", "d(c/a)/da = -c/a^2"
    grad_fn = "DivBackward0"

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(saved)} / {args[0]}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.true_divide({c(saved)}, {args[0]}, out={out})"

    @staticmethod
    def forward(ins, c):
        return c / ins[0]

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (-g * out / ins[0],)

    @classmethod
    def describe(cls, c):
        return f"{fmt_number(c)} /"

    @classmethod
    def expression(cls, args, c):
        return f"{fmt_number(c)}/{atom(args[0])}"


class RPowConst(Op):
    """out = c ** a for a number c kept by the node;  da = g * out * log(c)"""
    name, rule = "pow", "d(c^a)/da = c^a log(c)"
    grad_fn = "PowBackward2"
    uses_inputs = False
    reads_output = True

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(saved)} ** {args[0]}"

    @staticmethod
    def forward(ins, c):
        return c ** ins[0]

    @staticmethod
    def backward(g, out, ins, c, needs):
        return (g * out * math.log(c) if c > 0 else g * out * float("nan") if c < 0
                else g * 0.0,)

    @classmethod
    def describe(cls, c):
        return f"{fmt_number(c)} **"

    @classmethod
    def expression(cls, args, c):
        return f"{fmt_number(c)}**{atom(args[0])}"


class PowConst(Op):
    """out = a ** p for a number p;  da = g * p * a**(p-1)  (0 when p = 0, as PyTorch)"""
    name, rule, symbol = "pow", "d(a^p)/da = p*a^(p-1)", "**"

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} ** {c(saved)}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.power({args[0]}, {c(saved)}, out={out})"

    @staticmethod
    def forward(ins, p):
        return ins[0] ** p

    @staticmethod
    def backward(g, out, ins, p, needs):
        if p == 2:                          # the square: 2 g a, without a power
            if type(g) is np.ndarray:       # doubling the (often broadcast) g on its small
                g = compact(g)              # array: the same bits as g * (a + a)
                return ((g + g) * ins[0],)
            return (g * (ins[0] + ins[0]),)     # (compile moves the 2 to the small side)
        if p == 0:
            return (g * 0.0,)
        return (g * p * ins[0] ** (p - 1),)

    @classmethod
    def describe(cls, p):
        return f"** {fmt_number(p)}"

    @classmethod
    def expression(cls, args, p):
        return f"{atom(args[0])}**{fmt_number(p)}"


class Pow(Op):
    """out = a ** b;  da = g * b * a**(b-1) (0 where b = 0),
    db = g * out * log(a) (0 where a = 0 and b >= 0), PyTorch's values at those points"""
    name, rule, symbol, infix = "pow", "d(a^b)/da = b*a^(b-1), d(a^b)/db = a^b*log(a)", "**", True
    grad_fn = "PowBackward1"
    reads_output = True
    ufunc = np.power

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        ga = gb = None
        if needs[0]:
            ga = fill_where(b == 0, g * b * a ** (b - 1))
        if needs[1]:
            gb = fill_where((a == 0) & (b >= 0), g * out * log(a))
        return ga, gb

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} ** {args[1]}"

    @staticmethod
    def forward(ins, saved):
        return ins[0] ** ins[1]


def _negative(c) -> bool:
    try:
        return float(c) < 0
    except (TypeError, ValueError):
        return False


def _nice(x: float) -> float | None:
    """x rounded to 6 significant digits, if that is x (up to float noise)."""
    r = float(f"{x:.6g}")
    return r if math.isclose(r, x, rel_tol=1e-12, abs_tol=0.0) else None


class Remainder(Op):
    """out = a mod b (`fn`: numpy's remainder, the sign of b, or fmod, the sign of a);
        da = g,  db = -g * q with q = floor(a / b) (remainder) or trunc(a / b) (fmod)"""
    name, rule = "remainder", "d(a mod b)/da = 1, /db = -quotient"
    symbol, infix = "%", True

    @staticmethod
    def reads(needs):
        return needs[1], needs[1]

    @staticmethod
    def forward(ins, fn):
        return fn(ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, fn, needs):
        gb = None
        if needs[1]:
            a, b = ins
            if is_node(a) or is_node(b):
                q = a // b if fn is np.remainder else (a / b).trunc()
            else:
                q = np.floor_divide(a, b) if fn is np.remainder else np.trunc(a / b)
            gb = -g * q
        return (g if needs[0] else None), gb

    @classmethod
    def node_name(cls, fn):
        return "RemainderBackward0" if fn is np.remainder else "FmodBackward0"


# ---- dtype casts and copies ---------------------------------------------------------------

class Cast(Op):
    """out = a converted to another dtype;  da = g converted back to a's dtype"""
    name, rule = "to", "d(cast a)/da = 1"
    grad_fn = "ToCopyBackward0"
    reads = staticmethod(nothing)

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]}.astype({c(saved[1])})"

    @staticmethod
    def forward(ins, dtypes):
        return ins[0].astype(dtypes[1])

    @staticmethod
    def backward(g, out, ins, dtypes, needs):
        return (g.astype(dtypes[0]) if isinstance(g, np.ndarray) else g.to(dtypes[0]),)

    @classmethod
    def describe(cls, dtypes):
        return f"to {np.dtype(dtypes[1]).name}"


class Clone(Op):
    """out = a copy of a;  da = g"""
    name, rule = "clone", "d(clone a)/da = 1"
    uses_inputs = False

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]}.copy()"

    @staticmethod
    def forward(ins, saved):
        return np.array(ins[0], copy=True)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g,)
