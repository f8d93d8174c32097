"""Argument handling shared by the nn functions (no derivatives here)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._tensor import Tensor, _wrap, as_array, constant_leaf
from ...engine import STATE, no_grad
from ...functions._args import dims
from ...functions.pointwise import isfinite, where

REDUCTIONS = ("mean", "sum", "none")


def as_tensor(x: Any, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return constant_leaf(as_array(x))
    except TypeError as err:
        raise TypeError(f"{what}: expected a Tensor, got {type(x).__name__} ({err})") from None


def raw(x: Any) -> np.ndarray:
    """The array under a Tensor (or an array-like as an array): for reading targets,
    masks and shapes, never for anything differentiated."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def check_reduction(reduction: str, what: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{what}: {reduction} is not a valid value for reduction (one of "
                         f"{REDUCTIONS})")


def legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """PyTorch's deprecated size_average/reduce flags mapped to `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    out = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{out}' instead.", stacklevel=3)
    return out


def reduce_loss(loss: Tensor, reduction: str, what: str, count: Any = None) -> Tensor:
    """'none' -> loss, 'sum' -> sum(loss), 'mean' -> sum(loss) / count (default: numel)."""
    check_reduction(reduction, what)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    n = loss.numel() if count is None else count
    if isinstance(n, Tensor):
        return loss.sum() / n
    return loss.sum() / float(n) if n else loss.sum() * float("nan")


def shift(x: Tensor, axes: tuple[int, ...] | None) -> Tensor:
    """max of x over `axes` (keepdims) as a constant; non-finite maxima become 0.

    Subtracting a constant c leaves log-sum-exp's gradient unchanged
    (d/dx [c + log sum exp(x - c)] = softmax(x) for any c), so it need not be differentiated.
    (Computed on the array directly; through no-grad ops while `minigrad.compile` traces.)
    """
    a = x._data
    if a.size == 0:
        return constant_leaf(np.zeros([1 if axes is None or i in axes else n
                                       for i, n in enumerate(a.shape)], dtype=a.dtype))
    if STATE.tracer is not None:
        with no_grad():
            m = x.detach().amax(axes if axes is not None else tuple(range(a.ndim)), keepdim=True)
            return where(isfinite(m), m, constant_leaf(np.zeros((), dtype=a.dtype)))
    m = np.maximum.reduce(a, axes, None, None, True)
    # a finite sum means every max is finite (the cheaper test); else look at each one
    if not np.isfinite(np.add.reduce(m, None)) and not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype)
    return _wrap(m)


def softmax_dim(dim: Any, ndim: int, axis: Any, what: str) -> tuple[int, ...]:
    """PyTorch's softmax dim (its implicit choice when None), as a 1-tuple."""
    d = dim if axis is None else axis
    if d is None:
        warnings.warn(f"Implicit dimension choice for {what} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
        d = 0 if ndim in (0, 1, 3) else 1
    return dims(d, ndim, what) or (0,)
