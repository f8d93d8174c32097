"""`Value`: the scalar front end of the engine, micrograd-style.

Every arithmetic step on Values is one node of the graph; the derivatives come from the same
primitive ops as for tensors (ops.py) and the same engine walks the graph. Python numbers are
kept inside the op that uses them (`x * 2.0` has one parent, and the node remembers 2.0), so
long scalar graphs stay small: no node is made for a constant.
"""

from __future__ import annotations

import numbers
from typing import Any

from . import ops
from .engine import STATE, Node, backward_scalar, leaf, record


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and type(x) is not Value


class Value(Node):
    """A scalar that records the ops applied to it.

    >>> x, w, b = Value(2.0), Value(-3.0), Value(6.8814)
    >>> y = (x * w + b).tanh()
    >>> y.backward()
    >>> round(x.grad, 4)    # dy/dx = w * (1 - y**2)
    -1.5
    """

    # A Value keeps its one or two parents in `_a` and `_b` (None for a one-input op) rather
    # than in a tuple: one object fewer per node, which is most of the garbage collector's
    # work on a big scalar graph. `_parents` (the engine's tuple, operand order) is made from
    # them when asked.
    __slots__ = ("data", "grad", "_a", "_b")
    requires_grad = True          # every Value takes part in backward
    _scalar = True
    _needs = (True, True, True)   # every input of a Value op wants its gradient

    def __init__(self, data: Any, label: str = "") -> None:
        if isinstance(data, Value):
            data = data.data
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        leaf(self)
        if label:
            self.label = label

    @property
    def _parents(self) -> tuple:
        if self._op is None:
            return ()
        b = self._b
        return (self._a,) if b is None else (self._a, b)

    @_parents.setter
    def _parents(self, parents: tuple) -> None:
        self._a = parents[0] if parents else None
        self._b = parents[1] if len(parents) > 1 else None

    # ---- the engine's hooks -------------------------------------------------------------
    def _arrive(self, g: float, create_graph: bool, store: bool) -> float:
        if store:
            if self._op is None:
                self.grad += g          # leaves accumulate across backward calls
            else:
                self.grad = g           # intermediates show the latest pass
        return g

    def backward(self, retain_graph: bool = True) -> None:
        """Set `.grad` = d(self)/d(node) on every node of the graph.

        Leaves accumulate across calls; every intermediate node shows the latest pass (no
        stale sums). A scalar graph keeps nothing but its own numbers, so there is nothing to
        release: backward may be called again on the same graph (`retain_graph` is accepted
        for symmetry with Tensor and has no effect).
        """
        backward_scalar(self)

    # ---- arithmetic ---------------------------------------------------------------------
    # `+` and `*` make nearly every node of a network: their common cases make the node
    # themselves (as `_make` does, kept flat on purpose).
    def __add__(self, other: Any) -> Value:
        if type(other) is Value:
            if STATE.grad_enabled and not STATE.anomaly:
                v = _new(Value)
                v.data = self.data + other.data
                v.grad = 0.0
                v._op = _Add
                v._a = self
                v._b = other
                v._saved = None
                v._mark = 0
                v._scope = STATE.scope
                return v
            return _make(self.data + other.data, _Add, self, other, None)
        if type(other) is float or type(other) is int or _is_number(other):
            return _make(self.data + other, _AddConst, self, None, other)
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, other: Any) -> Value:
        if type(other) is Value:
            if STATE.grad_enabled and not STATE.anomaly:
                v = _new(Value)
                v.data = self.data * other.data
                v.grad = 0.0
                v._op = _Mul
                v._a = self
                v._b = other
                v._saved = None
                v._mark = 0
                v._scope = STATE.scope
                return v
            return _make(self.data * other.data, _Mul, self, other, None)
        if type(other) is float or type(other) is int or _is_number(other):
            return _make(self.data * other, _MulConst, self, None, other)
        return NotImplemented

    __rmul__ = __mul__

    def __sub__(self, other: Any) -> Value:
        if type(other) is Value:
            return _make(self.data - other.data, ops.Sub, self, other, None)
        if _is_number(other):
            return _make(self.data - other, ops.AddConst, self, None, -other)
        return NotImplemented

    def __rsub__(self, other: Any) -> Value:
        if _is_number(other):
            return _make(other - self.data, ops.RSubConst, self, None, other)
        return NotImplemented

    def __truediv__(self, other: Any) -> Value:
        if type(other) is Value:
            if other.data == 0.0:
                raise ZeroDivisionError("div: division of a Value by a Value equal to 0")
            return _make(self.data / other.data, ops.Div, self, other, None)
        if _is_number(other):
            return _make(self.data / other, ops.MulConst, self, None, 1.0 / other)
        return NotImplemented

    def __rtruediv__(self, other: Any) -> Value:
        if _is_number(other):
            if self.data == 0.0:
                raise ZeroDivisionError("div: division of a number by a Value equal to 0")
            return _make(other / self.data, ops.RDivConst, self, None, other)
        return NotImplemented

    def __pow__(self, exponent: Any) -> Value:
        if type(exponent) is Value:
            raise TypeError("pow: Value ** Value is not supported; the exponent must be a "
                            "number (use (b * a.log()).exp() for a variable exponent)")
        if not _is_number(exponent):
            raise TypeError(f"pow: exponent must be a number, got {type(exponent).__name__}")
        return _make(_scalar_pow(self.data, exponent), ops.PowConst, self, None, exponent)

    def __rpow__(self, base: Any) -> Value:
        raise TypeError(f"pow: {type(base).__name__} ** Value is not supported; the exponent "
                        f"must be a number")

    def __neg__(self) -> Value:
        return _make(-self.data, ops.Neg, self, None, None)

    # ---- functions ----------------------------------------------------------------------
    def exp(self) -> Value:
        """e**x"""
        return _unary(self, ops.Exp)

    def log(self) -> Value:
        """natural logarithm (x > 0)"""
        if self.data <= 0:
            raise ValueError(f"log: math domain error for a Value of {self.data}")
        return _unary(self, ops.Log)

    def sqrt(self) -> Value:
        if self.data < 0:
            raise ValueError(f"sqrt: math domain error for a Value of {self.data}")
        return _unary(self, ops.Sqrt)

    def tanh(self) -> Value:
        return _unary(self, ops.Tanh)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x)"""
        return _unary(self, ops.Sigmoid)

    def relu(self) -> Value:
        """max(x, 0)"""
        return _unary(self, ops.Relu)

    # Comparisons compare data (plain bools); identity stays the hash.
    def __lt__(self, other: Any) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Any) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> bool:
        return self.data >= _data(other)

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"


def _data(x: Any) -> float:
    return x.data if type(x) is Value else x


def _scalar_pow(x: float, p: float) -> float:
    try:
        out = x ** p
    except ZeroDivisionError:
        raise ZeroDivisionError(f"pow: 0.0 ** {p} is undefined") from None
    if isinstance(out, complex):
        raise ValueError(f"pow: {x} ** {p} is not a real number")
    return out


def _unary(x: Value, op: type[ops.Op]) -> Value:
    try:
        data = op.scalar(x.data)
    except OverflowError:
        data = float("inf")
    return _make(data, op, x, None, None)


_new = object.__new__
_Add, _Mul, _AddConst, _MulConst = ops.Add, ops.Mul, ops.AddConst, ops.MulConst


def _make(data: float, op: Any, a: Value, b: Value | None, saved: Any) -> Value:
    """A new Value node: `op` applied to `a` (and `b`, for a two-input op), `saved` its
    parameter (e.g. the number in `x * 2.0`)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._mark = 0
    # `_g`, `_extra` and `_label` stay unset until needed (the sort sets `_g`).
    if STATE.grad_enabled and not STATE.anomaly:
        v._op = op
        v._a = a
        v._b = b
        v._saved = saved
        v._scope = STATE.scope
    elif STATE.grad_enabled:
        record(v, op, (a,) if b is None else (a, b), Value._needs, saved)
    else:
        v._op = None
        v._a = v._b = None
        v._saved = None
        v._scope = STATE.scope
    return v
