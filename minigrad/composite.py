"""Tensor functions composed from the primitives in ops.py.

There is NO backward code in this module: every gradient here is derived by the engine from
the primitives' rules. (That is the point: mean and variance are differentiated through.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor, _axes, _operand, apply


def _tensor(x: Any, like: Any = None, op: str = "") -> Tensor:
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if isinstance(like, Tensor) else None
    if dtype is not None:
        t = _operand(x, dtype, op)
        if t is not NotImplemented:
            return t
    return Tensor(x)


# ---- thin front ends of primitives --------------------------------------------------------

def matmul(a: Any, b: Any) -> Tensor:
    """a @ b"""
    return _tensor(a, b, "matmul") @ _tensor(b, a, "matmul")


def linear(x: Any, weight: Tensor, bias: Any = None) -> Tensor:
    """x @ weight.T + bias as one node (the primitive `ops.Linear`); no shape checks here
    (`nn.functional.linear` makes them)."""
    x = _tensor(x, weight, "linear")
    if bias is None:
        return apply(ops.Linear, (x, weight))
    return apply(ops.Linear, (x, weight, _tensor(bias, x, "linear")))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b), broadcasting; ties share the gradient evenly."""
    a, b = _tensor(a, b, "maximum"), _tensor(b, a, "maximum")
    return apply(ops.Maximum, (a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b), broadcasting; ties share the gradient evenly."""
    a, b = _tensor(a, b, "minimum"), _tensor(b, a, "minimum")
    return apply(ops.Minimum, (a, b))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond else b; cond is a boolean array (not differentiated)."""
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    a, b = _tensor(a, b, "where"), _tensor(b, a, "where")
    if cond.shape == a.shape and (b.shape == a.shape or not b.shape):    # nothing to broadcast
        return apply(ops.Where, (a, b), cond)
    try:
        shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be "
                         f"broadcast together") from None
    return apply(ops.Where, (a, b), np.broadcast_to(cond, shape))


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _tensor(x).clip(min, max)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (numpy.concatenate)."""
    ts = tuple(_tensor(t) for t in tensors)
    if not ts:
        raise ValueError("concatenate: need at least one tensor")
    ndim = ts[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    if any(t.ndim != ndim for t in ts):
        raise ValueError(f"concatenate: all tensors need the same number of dims, got shapes "
                         f"{[t.shape for t in ts]}")
    return apply(ops.Concatenate, ts, int(axis) % ndim)


cat = concatenate


# ---- composites -----------------------------------------------------------------------------

def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """sum(x) / n over `axis` (one node: the primitive `ops.Mean`); NaN when n is 0."""
    return _tensor(x, op="mean").mean(axis, keepdims)


def var(x: Tensor, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """sum((x - mean(x))**2) / (n - ddof) over `axis` (ddof=0: biased, as numpy)."""
    axes = _axes(axis, x.ndim, "var")
    n = ops._count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} values and ddof={ddof} leave no degrees of freedom")
    d = x + mean(x, axes, keepdims=True) * -1.0    # the minus on the small array: cheaper
    if ddof == 0:                                    # backward than x - mean
        return (d ** 2).mean(axes, keepdims)
    return (d ** 2).sum(axes, keepdims) * (1.0 / (n - ddof))


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Drop axes of length 1 (all of them, or the given ones)."""
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = _axes(axis, x.ndim, "squeeze") or ()
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad[0]} of shape {x.shape} is not of length 1")
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return x.reshape(shape)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at `axis` (negative counts from the end of the result)."""
    nd = x.ndim + 1
    if not -nd <= axis < nd:
        raise ValueError(f"unsqueeze: axis {axis} out of range for a result with {nd} dims")
    axis %= nd
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes start_dim..end_dim into one."""
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} is after end_dim {end_dim}")
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (numpy.stack)."""
    ts = [_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack: need at least one tensor")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in ts]}")
    return concatenate([unsqueeze(t, axis) for t in ts], axis=axis)


def split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into pieces along `axis` (numpy.split: a number of equal sections, or indices)."""
    n = x.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: an axis of length {n} cannot be split into {k} equal "
                             f"sections")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    lead = (slice(None),) * (axis % x.ndim)
    return [x[lead + (slice(a, max(a, b)),)] for a, b in zip(bounds[:-1], bounds[1:])]
