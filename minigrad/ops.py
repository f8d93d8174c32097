"""The primitive ops: the only place in minigrad where derivatives are written.

Each op is a class with `forward` and `backward` side by side and its formula in the docstring.

    forward(ins, saved)                    -> output value
    backward(g, out, ins, saved, parents)  -> one gradient (or None) per input

`g` is d(loss)/d(out). `ins` are the input values (empty for ops marked
`uses_inputs = False`, whose rule needs only `g` and `out`), `out` the output value, `saved`
the op's parameters (axis, shape, index, a constant, ...). `parents` are the input nodes, for asking
`parents[i].requires_grad` so a rule can skip work nobody needs.

Every backward rule is written once, with operations that floats, numpy arrays and minigrad
Tensors all understand (`+ - * / **`, `@`, `.reshape`, `.transpose`, `.sum(axis, keepdims)`,
indexing, and the three helpers `expand`, `sum_to` and `scatter` below). Normally the engine
runs the rules on raw floats/arrays (fast); for `create_graph=True` it runs the same rules on
Tensors with recording on, so gradients are differentiable again.

A gradient may come back with a broadcast shape; the engine sums it back to the input's shape
in one place (`sum_to`), so binary ops need not mention broadcasting. (Sub and Div do, for one
reason: they sum a broadcast operand's share first, so their extra negation runs on the small
array instead of a full-size one.)
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np


def raw(x: Any) -> Any:
    """The plain value under a node (float or ndarray); values pass through."""
    return x.data if hasattr(x, "_op") else x


# ---- the three shape helpers every rule may use (numpy and Tensor alike) -------------------

def expand(x: Any, shape: tuple[int, ...]) -> Any:
    """Broadcast `x` to `shape` (a read-only view: nothing is copied)."""
    if type(x) is np.ndarray and x.flags.c_contiguous:
        strides = _expanded_strides(x.shape, shape, x.itemsize)
        if strides is not None:         # np.broadcast_to, without its ~2 us of checks
            view = np.ndarray(shape, x.dtype, x, 0, strides)
            view.flags.writeable = False
            return view
    if isinstance(x, np.ndarray | float | int | np.generic):
        return np.broadcast_to(x, shape)
    return x.expand(shape)


@functools.lru_cache(maxsize=1024)
def _expanded_strides(small: tuple[int, ...], shape: tuple[int, ...],
                      itemsize: int) -> tuple[int, ...] | None:
    """Strides that show a C-contiguous array of shape `small` as `shape` (0 along the
    broadcast axes), or None when `small` does not broadcast to `shape` that simply."""
    if len(small) != len(shape) or any(n != m and n != 1 for n, m in zip(small, shape)):
        return None
    strides, step = [], itemsize
    for n, m in zip(reversed(small), reversed(shape)):
        strides.append(step if n == m else 0)
        step *= n
    return tuple(reversed(strides))


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum `x` down to `shape`: the backward of broadcasting (expand's backward is a sum)."""
    if x.shape == shape:
        return x
    axes, keepdims, reshape = _broadcast_axes(x.shape, shape)
    if type(x) is np.ndarray:           # the ufunc itself: ndarray.sum adds a Python layer
        x = _add_reduce(x, axes, None, None, keepdims)
    else:
        x = x.sum(axis=axes, keepdims=keepdims)
    return x.reshape(shape) if reshape else x


_add_reduce = np.add.reduce


@functools.lru_cache(maxsize=1024)
def _broadcast_axes(big: tuple[int, ...], shape: tuple[int, ...]) -> tuple[tuple, bool, bool]:
    """The axes along which `shape` was broadcast to `big`; whether summing over them must
    keep dims (some were size 1 in `shape`); whether the sum then needs a reshape to `shape`.
    Cached: a training loop asks for the same few pairs of shapes at every step."""
    lead = len(big) - len(shape)
    inner = tuple(lead + i for i, n in enumerate(shape) if n == 1 and big[lead + i] != 1)
    axes = tuple(range(lead)) + inner
    keepdims = bool(inner)
    return axes, keepdims, keepdims and lead > 0


def _basic_index(index: Any) -> bool:
    """True when `index` selects each element at most once (ints, slices, None, Ellipsis)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, int | slice | np.integer)
               for i in items)


def scatter(x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of `shape` with `x` added at `index`; repeated indices accumulate."""
    if isinstance(x, np.ndarray | np.generic):
        out = np.zeros(shape, dtype=x.dtype)
        if _basic_index(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out
    return x._scatter(index, shape)


class Op:
    """Base of all primitives. `name` is what pictures and the stepper show; `rule` is the
    local derivative as text, for the stepper."""

    name = ""
    rule = ""
    uses_inputs = True

    @staticmethod
    def forward(ins: list, saved: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(g: Any, out: Any, ins: list, saved: Any, parents: tuple) -> tuple:
        raise NotImplementedError


# ---- arithmetic ---------------------------------------------------------------------------

class Add(Op):
    """out = a + b;  da = g,  db = g"""
    name, rule = "add", "d(a+b)/da = 1, d(a+b)/db = 1"
    uses_inputs = False

    @staticmethod
    def forward(ins, saved):
        return ins[0] + ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return g, g


class Sub(Op):
    """out = a - b;  da = g,  db = -g"""
    name, rule = "sub", "d(a-b)/da = 1, d(a-b)/db = -1"
    uses_inputs = False

    @staticmethod
    def forward(ins, saved):
        return ins[0] - ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        b = parents[1]
        if not b.requires_grad:
            return g, None
        if b._shaped and g.shape != b.shape:    # b was broadcast: negate the small sum
            return g, -sum_to(g, b.shape)
        return g, -g


class Mul(Op):
    """out = a * b;  da = g * b,  db = g * a"""
    name, rule = "mul", "d(a*b)/da = b, d(a*b)/db = a"

    @staticmethod
    def forward(ins, saved):
        return ins[0] * ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        a, b = ins
        return (g * b if parents[0].requires_grad else None,
                g * a if parents[1].requires_grad else None)


class Div(Op):
    """out = a / b;  da = g / b,  db = -g * a / b**2 = -g * out / b"""
    name, rule = "div", "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"

    @staticmethod
    def forward(ins, saved):
        return ins[0] / ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        ga = g / ins[1]
        gb = None
        p = parents[1]
        if p.requires_grad:
            if p._shaped and ga.shape != p.shape:   # b was broadcast: negate the small sum
                gb = -sum_to(ga * out, p.shape)
            else:
                gb = -ga * out
        return (ga if parents[0].requires_grad else None), gb


class Neg(Op):
    """out = -a;  da = -g"""
    name, rule = "neg", "d(-a)/da = -1"
    uses_inputs = False

    @staticmethod
    def forward(ins, saved):
        return -ins[0]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (-g,)


class AddConst(Op):
    """out = a + c for a number c kept by the node (scalar graphs);  da = g"""
    name, rule = "add", "d(a+c)/da = 1"
    uses_inputs = False

    @staticmethod
    def forward(ins, c):
        return ins[0] + c

    @staticmethod
    def backward(g, out, ins, c, parents):
        return (g,)


class MulConst(Op):
    """out = a * c for a number c kept by the node (scalar graphs);  da = g * c"""
    name, rule = "mul", "d(a*c)/da = c"
    uses_inputs = False

    @staticmethod
    def forward(ins, c):
        return ins[0] * c

    @staticmethod
    def backward(g, out, ins, c, parents):
        return (g * c,)


class RSubConst(Op):
    """out = c - a for a number c kept by the node (scalar graphs);  da = -g"""
    name, rule = "sub", "d(c-a)/da = -1"
    uses_inputs = False

    @staticmethod
    def forward(ins, c):
        return c - ins[0]

    @staticmethod
    def backward(g, out, ins, c, parents):
        return (-g,)


class RDivConst(Op):
    """out = c / a for a number c kept by the node (scalar graphs);  da = -g * out / a"""
    name, rule = "div", "d(c/a)/da = -c/a^2"

    @staticmethod
    def forward(ins, c):
        return c / ins[0]

    @staticmethod
    def backward(g, out, ins, c, parents):
        return (-g * out / ins[0],)


class PowConst(Op):
    """out = a ** p for a number p;  da = g * p * a**(p-1)"""
    name, rule = "pow", "d(a^p)/da = p*a^(p-1)"

    @staticmethod
    def forward(ins, p):
        return ins[0] ** p

    @staticmethod
    def backward(g, out, ins, p, parents):
        if p == 2:                          # the square: 2 a g, without a power
            return (g * (ins[0] + ins[0]),)
        return (g * p * ins[0] ** (p - 1),)


class Pow(Op):
    """out = a ** b;  da = g * b * a**(b-1),  db = g * out * log(a)"""
    name, rule = "pow", "d(a^b)/da = b*a^(b-1), d(a^b)/db = a^b*log(a)"

    @staticmethod
    def forward(ins, saved):
        return ins[0] ** ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        a, b = ins
        ga = g * b * a ** (b - 1) if parents[0].requires_grad else None
        gb = g * out * _log(a) if parents[1].requires_grad else None
        return ga, gb


def _log(a: Any) -> Any:
    return a.log() if hasattr(a, "_op") else np.log(a)


class MatMul(Op):
    """out = a @ b (1-D, 2-D or batched);  da = g @ b^T,  db = a^T @ g

    1-D operands are treated as a row (a) or a column (b) and the result squeezed, as numpy
    does; batch dimensions broadcast, so their gradient is summed back (by the engine).
    """
    name, rule = "matmul", "d(a@b)/da = g@b^T, d(a@b)/db = a^T@g"

    @staticmethod
    def forward(ins, saved):
        return ins[0] @ ins[1]

    @staticmethod
    def backward(g, out, ins, saved, parents):
        a, b = ins
        if a.ndim == 2 and b.ndim == 2:                  # the common case, plainly
            return (g @ b.swapaxes(0, 1) if parents[0].requires_grad else None,
                    a.swapaxes(0, 1) @ g if parents[1].requires_grad else None)
        if a.ndim == 1 and b.ndim == 1:                  # dot product: g is 0-d
            return (g * b if parents[0].requires_grad else None,
                    g * a if parents[1].requires_grad else None)
        a2 = a.reshape((1, a.shape[0])) if a.ndim == 1 else a
        b2 = b.reshape((b.shape[0], 1)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if parents[0].requires_grad:
            ga = sum_to(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if parents[1].requires_grad:
            gb = sum_to(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Op):
    """out = x @ W^T (+ b), x of shape (..., in), W (out, in), b (out,);
        dx = g @ W,  dW = g^T @ x  (over all leading dims),  db = sum of g over leading dims

    One node for an nn layer's affine map, as PyTorch's addmm: no transposed copy of W, and
    dW comes out in W's own layout.
    """
    name, rule = "linear", "d(x@W^T+b)/dx = W, /dW = x, /db = 1"

    @staticmethod
    def forward(ins, saved):
        out = ins[0] @ ins[1].swapaxes(0, 1)
        if len(ins) == 3:
            b = ins[2]
            if type(out) is np.ndarray and out.dtype == b.dtype:
                out += b                    # the matmul's result is ours: no second array
            else:
                out = out + b
        return out

    @staticmethod
    def backward(g, out, ins, saved, parents):
        x, w = ins[0], ins[1]
        n_out, n_in = w.shape
        gx = g @ w if parents[0].requires_grad else None
        g2 = g if g.ndim == 2 else g.reshape((-1, n_out))
        gw = gb = None
        if parents[1].requires_grad:
            gw = g2.swapaxes(0, 1) @ (x if x.ndim == 2 else x.reshape((-1, n_in)))
        if len(ins) == 3 and parents[2].requires_grad:
            gb = g2.sum(axis=0)
        return (gx, gw) if len(ins) == 2 else (gx, gw, gb)


# ---- elementwise functions ----------------------------------------------------------------

class Exp(Op):
    """out = exp(a);  da = g * out"""
    name, rule = "exp", "d(exp a)/da = exp(a)"
    uses_inputs = False
    scalar = staticmethod(math.exp)

    @staticmethod
    def forward(ins, saved):
        return np.exp(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g * out,)


class Log(Op):
    """out = log(a);  da = g / a"""
    name, rule = "log", "d(log a)/da = 1/a"
    scalar = staticmethod(math.log)

    @staticmethod
    def forward(ins, saved):
        return np.log(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g / ins[0],)


class Sqrt(Op):
    """out = sqrt(a);  da = g / (2 * out)"""
    name, rule = "sqrt", "d(sqrt a)/da = 1/(2 sqrt a)"
    uses_inputs = False
    scalar = staticmethod(math.sqrt)

    @staticmethod
    def forward(ins, saved):
        return np.sqrt(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g / (out * 2.0),)


class Tanh(Op):
    """out = tanh(a);  da = g * (1 - out**2)"""
    name, rule = "tanh", "d(tanh a)/da = 1 - tanh(a)^2"
    uses_inputs = False
    scalar = staticmethod(math.tanh)

    @staticmethod
    def forward(ins, saved):
        return np.tanh(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, parents):
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
    scalar = staticmethod(_sigmoid_scalar)

    @staticmethod
    def forward(ins, saved):
        a = ins[0]
        # exp of a non-positive number only, so it cannot overflow
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g * out * (1.0 - out),)


class Relu(Op):
    """out = max(a, 0);  da = g * (a > 0)"""
    name, rule = "relu", "d(relu a)/da = 1 if a > 0 else 0"
    scalar = staticmethod(lambda x: x if x > 0 else 0.0)

    @staticmethod
    def forward(ins, saved):
        return np.maximum(ins[0], 0)

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g * (raw(ins[0]) > 0),)


class Abs(Op):
    """out = |a|;  da = g * sign(a)  (0 at a = 0)"""
    name, rule = "abs", "d|a|/da = sign(a)"

    @staticmethod
    def forward(ins, saved):
        return np.abs(ins[0])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g * np.sign(raw(ins[0])),)


class Maximum(Op):
    """out = max(a, b) elementwise;  da = g * [a > b] (half where a == b), db = the rest"""
    name, rule = "maximum", "d max(a,b)/da = 1 if a > b (1/2 if equal)"

    @staticmethod
    def forward(ins, saved):
        return np.maximum(ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        a, b = raw(ins[0]), raw(ins[1])
        wa = (a > b) + 0.5 * (a == b)
        return _weighted(g, wa, parents)


class Minimum(Op):
    """out = min(a, b) elementwise;  da = g * [a < b] (half where a == b), db = the rest"""
    name, rule = "minimum", "d min(a,b)/da = 1 if a < b (1/2 if equal)"

    @staticmethod
    def forward(ins, saved):
        return np.minimum(ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, saved, parents):
        a, b = raw(ins[0]), raw(ins[1])
        wa = (a < b) + 0.5 * (a == b)
        return _weighted(g, wa, parents)


def _weighted(g: Any, wa: np.ndarray, parents: tuple) -> tuple:
    dtype = raw(g).dtype
    wa = np.asarray(wa, dtype=dtype)
    return (g * wa if parents[0].requires_grad else None,
            g * (1.0 - wa) if parents[1].requires_grad else None)


class Clip(Op):
    """out = min(max(a, lo), hi);  da = g where lo <= a <= hi, else 0"""
    name, rule = "clip", "d clip(a)/da = 1 inside [lo, hi], 0 outside"

    @staticmethod
    def forward(ins, bounds):
        return np.clip(ins[0], *bounds)

    @staticmethod
    def backward(g, out, ins, bounds, parents):
        a = raw(ins[0])
        lo, hi = bounds
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        return (g * inside,)


class Where(Op):
    """out = a where cond else b (cond is a constant boolean array);  da = g*cond, db = g*!cond"""
    name, rule = "where", "d where(c,a,b)/da = c, /db = not c"

    @staticmethod
    def forward(ins, cond):
        return np.where(cond, ins[0], ins[1])

    @staticmethod
    def backward(g, out, ins, cond, parents):
        return (g * cond if parents[0].requires_grad else None,
                g * ~cond if parents[1].requires_grad else None)


# ---- reductions ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Op):
    """out = sum of a over `axis`;  da = g broadcast back to a's shape"""
    name, rule = "sum", "d(sum a)/da_i = 1"

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        return ins[0].sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (_spread(g, ins[0].shape, *saved),)


class Mean(Op):
    """out = sum of a over `axis` / n (n values in each sum);  da = g / n broadcast back"""
    name, rule = "mean", "d(mean a)/da_i = 1/n"

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        a = ins[0]
        return _add_reduce(a, axis, None, None, keepdims) / _count(a.shape, axis)

    @staticmethod
    def backward(g, out, ins, saved, parents):
        axis, keepdims = saved
        shape = ins[0].shape
        return (_spread(g / _count(shape, axis), shape, axis, keepdims),)


def _spread(g: Any, shape: tuple[int, ...], axis: tuple[int, ...] | None,
            keepdims: bool) -> Any:
    """A reduction's output gradient `g` broadcast back to the input's `shape`."""
    if not keepdims:
        g = g.reshape(_kept_shape(shape, axis))
    return expand(g, shape)


@functools.lru_cache(maxsize=1024)
def _count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    """How many values each sum over `axis` adds up."""
    return math.prod(shape if axis is None else (shape[a] for a in axis))


class _Extreme(Op):
    """max/min over `axis`; the gradient goes to the elements equal to the result, split
    evenly among ties."""

    @staticmethod
    def backward(g, out, ins, saved, parents):
        axis, keepdims = saved
        a = raw(ins[0])
        kept = _kept_shape(a.shape, axis)
        hit = a == raw(out).reshape(kept)
        share = (hit / hit.sum(axis=axis, keepdims=True)).astype(a.dtype, copy=False)
        if not keepdims:
            g = g.reshape(kept)
        return (g * share,)


class Max(_Extreme):
    """out = max of a over `axis`;  da = g at the argmax (split among ties)"""
    name, rule = "max", "d(max a)/da_i = 1 at the maximum (shared by ties)"

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        return ins[0].max(axis=axis, keepdims=keepdims)


class Min(_Extreme):
    """out = min of a over `axis`;  da = g at the argmin (split among ties)"""
    name, rule = "min", "d(min a)/da_i = 1 at the minimum (shared by ties)"

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        return ins[0].min(axis=axis, keepdims=keepdims)


# ---- shape ops ----------------------------------------------------------------------------

class Reshape(Op):
    """out = a viewed with a new shape;  da = g reshaped back"""
    name, rule = "reshape", "da = g reshaped to a's shape"

    @staticmethod
    def forward(ins, shape):
        return ins[0].reshape(shape)

    @staticmethod
    def backward(g, out, ins, shape, parents):
        return (g.reshape(ins[0].shape),)


class Transpose(Op):
    """out = a with axes permuted;  da = g with the inverse permutation"""
    name, rule = "transpose", "da = g with axes permuted back"

    @staticmethod
    def forward(ins, axes):
        return ins[0].transpose(axes)

    @staticmethod
    def backward(g, out, ins, axes, parents):
        inverse = [0] * len(axes)
        for i, a in enumerate(axes):
            inverse[a] = i
        return (g.transpose(tuple(inverse)),)


class Expand(Op):
    """out = a broadcast to `shape`;  da = g summed back to a's shape"""
    name, rule = "expand", "da = g summed over the broadcast axes"

    @staticmethod
    def forward(ins, shape):
        return np.broadcast_to(ins[0], shape)

    @staticmethod
    def backward(g, out, ins, shape, parents):
        return (sum_to(g, ins[0].shape),)


class GetItem(Op):
    """out = a[index];  da = zeros with g added at index (repeats accumulate)"""
    name, rule = "getitem", "da = g scattered back to the indexed places"

    @staticmethod
    def forward(ins, index):
        return ins[0][index]

    @staticmethod
    def backward(g, out, ins, index, parents):
        return (scatter(g, index, ins[0].shape),)


class Scatter(Op):
    """out = zeros(shape) with a added at index;  da = g[index]"""
    name, rule = "scatter", "da = g[index]"

    @staticmethod
    def forward(ins, saved):
        index, shape = saved
        return scatter(ins[0], index, shape)

    @staticmethod
    def backward(g, out, ins, saved, parents):
        return (g[saved[0]],)


class Concatenate(Op):
    """out = inputs joined along `axis`;  d input_k = the slice of g where input k sits"""
    name, rule = "concatenate", "d input_k = g[slice of input k]"

    @staticmethod
    def forward(ins, axis):
        return np.concatenate(ins, axis=axis)

    @staticmethod
    def backward(g, out, ins, axis, parents):
        grads, start = [], 0
        lead = (slice(None),) * (axis % g.ndim)
        for x, p in zip(ins, parents):
            stop = start + x.shape[axis]
            grads.append(g[lead + (slice(start, stop),)] if p.requires_grad else None)
            start = stop
        return grads
