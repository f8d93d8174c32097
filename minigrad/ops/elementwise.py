"""Elementwise functions: exp, log, sqrt, tanh, sigmoid, relu, abs, max/min of two, clamp,
where, trigonometry, erf; ops whose gradient is zero; and ops with no gradient at all."""

from __future__ import annotations

import math

import numpy as np

from .base import Op, nothing, same_dtype, sign


class Exp(Op):
    """out = exp(a);  da = g * out"""
    name, rule = "exp", "d(exp a)/da = exp(a)"
    uses_inputs = False
    reads_output = True
    scalar = staticmethod(math.exp)
    ufunc = np.exp

    @staticmethod
    def forward(ins, saved):
        return np.exp(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * out,)


class Log(Op):
    """out = log(a);  da = g / a"""
    name, rule = "log", "d(log a)/da = 1/a"
    scalar = staticmethod(math.log)
    ufunc = np.log

    @staticmethod
    def forward(ins, saved):
        return np.log(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g / ins[0],)


class Log1p(Op):
    """out = log(1 + a);  da = g / (1 + a)"""
    name, rule = "log1p", "d log(1+a)/da = 1/(1+a)"
    grad_fn = "Log1PBackward0"
    ufunc = np.log1p

    @staticmethod
    def forward(ins, saved):
        return np.log1p(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g / (ins[0] + 1.0),)


class Expm1(Op):
    """out = exp(a) - 1;  da = g * (out + 1)"""
    name, rule = "expm1", "d(exp(a)-1)/da = exp(a)"
    uses_inputs = False
    reads_output = True
    ufunc = np.expm1

    @staticmethod
    def forward(ins, saved):
        return np.expm1(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * (out + 1.0),)


class Sqrt(Op):
    """out = sqrt(a);  da = g / (2 * out)  (inf at a = 0, as PyTorch)"""
    name, rule = "sqrt", "d(sqrt a)/da = 1/(2 sqrt a)"
    uses_inputs = False
    reads_output = True
    scalar = staticmethod(math.sqrt)
    ufunc = np.sqrt

    @staticmethod
    def forward(ins, saved):
        return np.sqrt(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g / (out * 2.0),)


class Reciprocal(Op):
    """out = 1 / a;  da = -g * out**2"""
    name, rule = "reciprocal", "d(1/a)/da = -1/a^2"
    uses_inputs = False
    reads_output = True
    ufunc = np.reciprocal

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.reciprocal({args[0]})" if c.dtypes[0].kind == "f" else f"1.0 / {args[0]}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.reciprocal({args[0]}, out={out})" if c.dtypes[0].kind == "f" else None

    @staticmethod
    def forward(ins, saved):
        a = ins[0]
        return np.reciprocal(a) if a.dtype.kind == "f" else 1.0 / a

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (-g * (out * out),)


class Tanh(Op):
    """out = tanh(a);  da = g * (1 - out**2)"""
    name, rule = "tanh", "d(tanh a)/da = 1 - tanh(a)^2"
    uses_inputs = False
    reads_output = True
    scalar = staticmethod(math.tanh)
    ufunc = np.tanh

    @staticmethod
    def forward(ins, saved):
        return np.tanh(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * (1.0 - out * out),)


def _sigmoid_scalar(x: float) -> float:
    # split by sign so exp never overflows
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class Sigmoid(Op):
    """out = 1 / (1 + exp(-a));  da = g * out * (1 - out)"""
    name, rule = "sigmoid", "d(sigmoid a)/da = s(a)(1 - s(a))"
    uses_inputs = False
    reads_output = True
    scalar = staticmethod(_sigmoid_scalar)

    @staticmethod
    def forward(ins, saved):
        a = ins[0]
        # exp of a non-positive number only, so it cannot overflow
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * out * (1.0 - out),)


class Relu(Op):
    """out = max(a, 0);  da = g * (out > 0)  (0 at a = 0, as PyTorch)"""
    name, rule = "relu", "d(relu a)/da = 1 if a > 0 else 0"
    uses_inputs = False
    reads_output = True
    scalar = staticmethod(lambda x: x if x > 0 else 0.0)

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.maximum({args[0]}, 0)"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.maximum({args[0]}, 0, out={out})"

    @staticmethod
    def forward(ins, saved):
        return np.maximum(ins[0], 0)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * (out > 0),)


class Abs(Op):
    """out = |a|;  da = g * sign(a)  (0 at a = 0)"""
    name, rule = "abs", "d|a|/da = sign(a)"
    ufunc = np.absolute

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.abs({args[0]})"

    @staticmethod
    def forward(ins, saved):
        return np.abs(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g * sign(ins[0]),)


class Sin(Op):
    """out = sin(a);  da = g * cos(a)"""
    name, rule = "sin", "d(sin a)/da = cos(a)"
    ufunc = np.sin

    @staticmethod
    def forward(ins, saved):
        return np.sin(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a = ins[0]
        return (g * (a.cos() if hasattr(a, "_op") else np.cos(a)),)


class Cos(Op):
    """out = cos(a);  da = -g * sin(a)"""
    name, rule = "cos", "d(cos a)/da = -sin(a)"
    ufunc = np.cos

    @staticmethod
    def forward(ins, saved):
        return np.cos(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a = ins[0]
        return (-g * (a.sin() if hasattr(a, "_op") else np.sin(a)),)


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Op):
    """out = erf(a) = 2/sqrt(pi) * integral_0^a exp(-t^2) dt;  da = g * 2/sqrt(pi) exp(-a^2)"""
    name, rule = "erf", "d erf(a)/da = 2/sqrt(pi) exp(-a^2)"

    @staticmethod
    def forward(ins, saved):
        a = ins[0]
        return np.asarray(_erf(a), dtype=a.dtype)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a = ins[0]
        return (g * ((a * a * -1.0).exp() if hasattr(a, "_op") else np.exp(-a * a))
                * (2.0 / math.sqrt(math.pi)),)


class Maximum(Op):
    """out = max(a, b) elementwise;  da = g * [a > b] (half where a == b), db = the rest"""
    name, rule = "maximum", "d max(a,b)/da = 1 if a > b (1/2 if equal)"
    ufunc = np.maximum

    @staticmethod
    def forward(ins, saved):
        return np.maximum(ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        return _weighted(g, (a > b) + (a == b) * 0.5, needs)


class Minimum(Op):
    """out = min(a, b) elementwise;  da = g * [a < b] (half where a == b), db = the rest"""
    name, rule = "minimum", "d min(a,b)/da = 1 if a < b (1/2 if equal)"
    ufunc = np.minimum

    @staticmethod
    def forward(ins, saved):
        return np.minimum(ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        return _weighted(g, (a < b) + (a == b) * 0.5, needs)


def _weighted(g, wa, needs):
    wa = same_dtype(wa, g)
    return (g * wa if needs[0] else None,
            g * (1.0 - wa) if needs[1] else None)


class Clip(Op):
    """out = min(max(a, lo), hi) for numbers lo, hi;  da = g where lo <= a <= hi, else 0"""
    name, rule = "clamp", "d clamp(a)/da = 1 inside [lo, hi], 0 outside"
    grad_fn = "ClampBackward1"

    @staticmethod
    def forward(ins, bounds):
        lo, hi = bounds
        a = ins[0]
        if lo is not None and hi is not None and lo > hi:     # PyTorch: everything is hi
            return np.full_like(a, hi)
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(g, out, ins, bounds, needs):
        a = ins[0]
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            return (g * 0.0,)
        if lo is None:
            inside = a <= hi
        elif hi is None:
            inside = a >= lo
        else:
            inside = (a >= lo) & (a <= hi)
        return (g * inside,)

    @classmethod
    def describe(cls, bounds):
        lo, hi = bounds
        return "clamp(" + ", ".join(
            [f"min={lo:g}"] * (lo is not None) + [f"max={hi:g}"] * (hi is not None)) + ")"


class Where(Op):
    """out = a where cond else b (cond: a boolean input, never differentiated);
        da = g * cond,  db = g * !cond"""
    name, rule = "where", "d where(c,a,b)/da = c, /db = not c"

    @staticmethod
    def reads(needs):
        return True, False, False

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.where({args[0]}, {args[1]}, {args[2]})"

    @staticmethod
    def forward(ins, saved):
        return np.where(ins[0], ins[1], ins[2])

    @classmethod
    def graph_inputs(cls, n, saved=None):
        if getattr(saved, "grad_fn", "") == "MaskedFillBackward0":     # x.masked_fill(m, v)
            return (2,)
        if getattr(saved, "grad_fn", "") == "MaskedFillBackward1":
            return (2, 1)
        return (1, 2)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        cond = ins[0]
        return (None,
                g * cond if needs[1] else None,
                g * ~cond if needs[2] else None)


# ---- gradient zero almost everywhere, and no gradient at all -------------------------------

class ZeroGrad(Op):
    """out = f(inputs) for a step function f (floor, ceil, round, trunc, sign, floor
    division): the gradient is 0 everywhere (PyTorch's convention at the jumps)."""
    name, rule = "step", "d f(a)/da = 0"
    uses_inputs = False

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(saved)}({', '.join(args)})"

    @staticmethod
    def forward(ins, fn):
        return fn(*ins)

    @staticmethod
    def backward(g, out, ins, fn, needs):
        return tuple(g * 0.0 if need else None for need in needs)

    @classmethod
    def describe(cls, fn):
        return _fn_name(fn)

    @classmethod
    def expression(cls, args, fn):
        return f"{_fn_name(fn)}({', '.join(args)})"

    @classmethod
    def node_name(cls, fn):
        return _fn_name(fn).capitalize() + "Backward0"


class NoDerivative(ZeroGrad):
    """out = f(inputs) for a function PyTorch gives no derivative (floor division of floats):
    recorded, and a backward that reaches it raises, as PyTorch's does."""
    name = "no_derivative"

    @staticmethod
    def backward(g, out, ins, fn, needs):
        raise RuntimeError(f"derivative for aten::{_fn_name(fn)} is not implemented")


class RandomMask(Op):
    """out = (u >= p) / (1 - p) for u uniform in [0, 1) drawn from `rng` at each call (inverted
    dropout's mask, in the input's shape and dtype; no gradient). An op, so that a compiled
    step draws a new mask at every call, from the same stream as eager mode."""
    name, rule = "dropout_mask", ""
    differentiable = False
    reads = staticmethod(nothing)

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(cls)}.forward([{args[0]}], ({c(saved[0])}, {c(saved[1])}))"

    @staticmethod
    def forward(ins, saved):
        rng, p = saved
        a = ins[0]
        keep = rng.random(a.shape) >= p
        return (keep * np.asarray(1.0 / (1.0 - p), dtype=a.dtype)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (None,)


class NoGrad(Op):
    """out = f(inputs) for a function with no gradient (comparisons, logical ops, isnan,
    floor division, argmax, ...): the output never requires grad."""
    name, rule = "nograd", ""
    differentiable = False
    reads = staticmethod(nothing)

    @classmethod
    def emit(cls, args, saved, c):
        return f"{c(saved)}({', '.join(args)})"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        if isinstance(saved, np.ufunc):
            return f"np.{saved.__name__}({', '.join(args)}, out={out})"
        return None

    @staticmethod
    def forward(ins, fn):
        return fn(*ins)

    @staticmethod
    def backward(g, out, ins, fn, needs):
        return (None,) * len(ins)

    @classmethod
    def describe(cls, fn):
        return _fn_name(fn)

    @classmethod
    def expression(cls, args, fn):
        return f"{_fn_name(fn)}({', '.join(args)})"


_SYMBOLS = {"greater": ">", "less": "<", "equal": "==", "not_equal": "!=",
            "greater_equal": ">=", "less_equal": "<="}


def _fn_name(fn) -> str:
    name = getattr(fn, "__name__", None) or getattr(fn, "name", None) or "f"
    return _SYMBOLS.get(name, name.replace("rint", "round").replace("absolute", "abs"))
