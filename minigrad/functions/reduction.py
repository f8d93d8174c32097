"""Reductions with PyTorch's signatures: sum, mean, var, std, max/min (with dim: values and
indices), amax/amin, argmax/argmin, prod, cumsum, norm, all/any, sort, argsort, topk,
logsumexp, count_nonzero, histc, histogram.

`dim` takes an int, a tuple or None (`axis` is accepted too), `keepdim` (`keepdims`); `var`
and `std` default to the unbiased estimate and take `unbiased=`, `correction=` (or numpy's
`ddof=`). Sums of integers or bools are int64, as PyTorch's.
"""

from __future__ import annotations

import builtins
import functools
import warnings
from collections import namedtuple
from typing import Any

import numpy as np

from .. import dtypes, ops
from .._bind import export
from .._tensor import Tensor, _wrap, apply, constant_leaf, default_float
from ._args import _SORTED, dims, one_dim, pick


def _return_type(name: str, fields: list[str]) -> type:
    """A named tuple that prints as PyTorch's `torch.return_types.max(\nvalues=...,
    \nindices=...)`."""
    base = namedtuple(name, fields)

    def __repr__(self: Any) -> str:
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"minigrad.return_types.{name}(\n{inner})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


values_indices = {name: _return_type(name, ["values", "indices"])
                  for name in ("max", "min", "sort", "topk", "kthvalue", "median", "mode")}
histogram_result = _return_type("histogram", ["hist", "bin_edges"])


def _no_out(out: Any, what: str) -> None:
    """`out=` is accepted for numpy's wrappers (np.sum(t) passes out=None), but only None."""
    if out is not None:
        raise TypeError(f"{what}: out= is not supported (minigrad returns new tensors)")


def _dk(x: Tensor, dim: Any, keepdim: Any, axis: Any, keepdims: Any, what: str
        ) -> tuple[tuple[int, ...] | None, bool]:
    d = dim if axis is None else pick(what, dim, axis, "dim", "axis")
    k = keepdim if keepdims is None else keepdims
    return dims(d, x._data.ndim, what), builtins.bool(k)


@export
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A001
        axis: Any = None, keepdims: Any = None, out: Any = None) -> Tensor:
    """Sum over `dim` (all dims when None)."""
    _no_out(out, "sum")
    x = input
    if axis is None and keepdims is None and dtype is None and x._data.dtype.kind == "f":
        nd = x._data.ndim                                               # the common cases
        if type(dim) is int and -nd <= dim < nd:
            return apply(ops.Sum, (x,), ((dim % nd,), builtins.bool(keepdim)))
        if dim is None or type(dim) is tuple and dim in _SORTED.get(nd, ()):
            return apply(ops.Sum, (x,), (dim, builtins.bool(keepdim)))
    d, k = _dk(x, dim, keepdim, axis, keepdims, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu":
        x = x.to(np.int64)
    return apply(ops.Sum, (x,), (d, k))


@export
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    from .pointwise import isnan, masked_fill
    return sum(masked_fill(input, isnan(input), 0.0), dim, keepdim, dtype=dtype)


@export
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None, out: Any = None) -> Tensor:
    """Average over `dim` (one node; NaN when there is nothing to average)."""
    _no_out(out, "mean")
    x = input
    if axis is None and keepdims is None and dtype is None and x._data.dtype.kind == "f" \
            and (dim is None or type(dim) is tuple and dim in _SORTED.get(x._data.ndim, ())):
        return apply(ops.Mean, (x,), (dim, builtins.bool(keepdim)))   # the common case
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: "
                           f"{dtypes.scalar_name(x._data.dtype)}")
    d, k = _dk(x, dim, keepdim, axis, keepdims, "mean")
    return apply(ops.Mean, (x,), (d, k))


def _correction(what: str, unbiased: Any, correction: Any, ddof: Any) -> float:
    given = [v is not None for v in (unbiased, correction, ddof)]
    if builtins.sum(given) > 1:
        raise TypeError(f"{what}: give only one of unbiased, correction and ddof")
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    if ddof is not None:
        return float(ddof)
    return 1.0 if correction is None else float(correction)


def _var_args(input: Tensor, dim: Any, unbiased: Any, keepdim: Any, correction: Any,
              ddof: Any, axis: Any, keepdims: Any, what: str) -> tuple:
    if isinstance(dim, bool):                    # var(x, True): the old `unbiased` position
        dim, unbiased = None, dim
    d, k = _dk(input, dim, keepdim, axis, keepdims, what)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{what}(): input dtype should be either floating point or "
                           f"complex. Got {dtypes.scalar_name(input._data.dtype)} instead.")
    return d, k, _correction(what, unbiased, correction, ddof)


@export
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, ddof: Any = None, axis: Any = None,
        keepdims: Any = None) -> Tensor:
    """sum((x - mean(x))^2) / (n - correction) over `dim`; correction 1 (the unbiased
    estimate) by default. Composed of mean, add, square and sum: the engine derives its
    gradient."""
    d, k, c = _var_args(input, dim, unbiased, keepdim, correction, ddof, axis, keepdims, "var")
    n = ops.count(input._data.shape, d)
    dev = input + mean(input, d, keepdim=True) * -1.0     # the minus on the small array
    if c == 0:
        return mean(dev ** 2, d, k)
    if n - c <= 0:           # PyTorch divides by max(0, n - c): inf (0/0: nan)
        warnings.warn(f"var(): degrees of freedom is <= 0 ({n} values, correction {c:g})",
                      UserWarning, stacklevel=2)
        return sum(dev ** 2, d, k) * (float("inf") if n else float("nan"))
    return sum(dev ** 2, d, k) * (1.0 / (n - c))


@export
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, ddof: Any = None, axis: Any = None,
        keepdims: Any = None) -> Tensor:
    """sqrt(var): one node whose gradient is 0 where the spread is 0 (as PyTorch's)."""
    d, k, c = _var_args(input, dim, unbiased, keepdim, correction, ddof, axis, keepdims, "std")
    if ops.count(input._data.shape, d) - c <= 0:
        warnings.warn("std(): degrees of freedom is <= 0", RuntimeWarning, stacklevel=2)
    return apply(ops.Std, (input,), (d, k, c))


@export
def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dims(dim, input._data.ndim, "var_mean") if not isinstance(dim, bool)
                 else None, keepdim))


@export
def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dims(dim, input._data.ndim, "std_mean") if not isinstance(dim, bool)
                 else None, keepdim))


# ---- max and min ------------------------------------------------------------------------------

def _extreme(input: Tensor, dim: Any, keepdim: Any, axis: Any, keepdims: Any, largest: bool,
             what: str) -> Any:
    if isinstance(dim, Tensor):                      # max(a, b): elementwise
        from .pointwise import maximum, minimum
        return (maximum if largest else minimum)(input, dim)
    op = ops.Max if largest else ops.Min
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, tuple | list):           # several dims: the values only, as amax
        return apply(op, (input,), (dims(dim, input._data.ndim, what), builtins.bool(keepdim)))
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{what}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                               f"argument.")
        return apply(op, (input,), (None, False))
    d = one_dim(dim, input._data.ndim, what)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{what}(): Expected reduction dim {d} to have non-zero size.")
    index = apply(ops.NoGrad, (input,), functools.partial(arg_extreme, dim=d, largest=largest))
    return _pick_along(input, index, d, builtins.bool(keepdim), what)


def arg_extreme(a: np.ndarray, dim: int, largest: bool) -> np.ndarray:
    """Index (int64) of the first extreme along `dim` (NaN counts as the extreme, as
    PyTorch), the dim kept."""
    idx = np.argmax(a, axis=dim) if largest else np.argmin(a, axis=dim)
    return np.expand_dims(idx, dim).astype(np.int64, copy=False)


def _pick_along(x: Tensor, index: Tensor, d: int, keepdim: bool, what: str) -> Any:
    """(values, indices) of x at `index` (dim kept) along d: one Gather node, so the gradient
    goes to the picked places."""
    values = apply(ops.Gather, (x, index), (d, not keepdim, what))
    indices = index if keepdim else index.squeeze(d)
    return values_indices[what](values, indices)


@export
def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None, out: Any = None) -> Any:
    """max(x): the largest element (ties share the gradient); max(x, dim): (values,
    indices) of the first largest along dim (the gradient goes to that index); max(x, y):
    elementwise maximum. `axis=`/`keepdims=` are aliases of dim/keepdim; a tuple of dims
    gives the values only (as amax)."""
    _no_out(out, "max")
    return _extreme(input, dim, keepdim, axis, keepdims, True, "max")


@export
def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: Any = None, out: Any = None) -> Any:
    """min(x), min(x, dim) -> (values, indices), min(x, y): as `max`."""
    _no_out(out, "min")
    return _extreme(input, dim, keepdim, axis, keepdims, False, "min")


@export
def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """The largest values over `dim` (all dims by default); ties share the gradient."""
    d, k = _dk(input, None if axis is not None and dim == () else dim, keepdim, axis,
               keepdims, "amax")
    return apply(ops.Max, (input,), (d, k))


@export
def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """The smallest values over `dim` (all dims by default); ties share the gradient."""
    d, k = _dk(input, None if axis is not None and dim == () else dim, keepdim, axis,
               keepdims, "amin")
    return apply(ops.Min, (input,), (d, k))


def _argext(input: Tensor, dim: Any, keepdim: bool, largest: bool) -> Tensor:
    if dim is None:
        fn = functools.partial(arg_flat, largest=largest, keepdim=builtins.bool(keepdim))
        return apply(ops.NoGrad, (input,), fn)
    d = one_dim(dim, input._data.ndim, "argmax" if largest else "argmin")
    idx = apply(ops.NoGrad, (input,), functools.partial(arg_extreme, dim=d, largest=largest))
    return idx if keepdim else idx.squeeze(d)


def arg_flat(a: np.ndarray, largest: bool, keepdim: bool) -> np.ndarray:
    """Index (int64, 0-d) of the first extreme of the flattened array."""
    out = np.asarray(np.argmax(a) if largest else np.argmin(a), dtype=np.int64)
    return out.reshape((1,) * a.ndim) if keepdim else out


@export
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the first largest value (over the flattened tensor when dim is None)."""
    return _argext(input, pick("argmax", dim, axis, "dim", "axis"),
                   keepdim if keepdims is None else keepdims, True)


@export
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the first smallest value (over the flattened tensor when dim is None)."""
    return _argext(input, pick("argmin", dim, axis, "dim", "axis"),
                   keepdim if keepdims is None else keepdims, False)


# ---- products, cumulative sums, norms ---------------------------------------------------------

@export
def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: Any = None) -> Tensor:
    """Product over `dim`; the gradient is exact at zeros (no division)."""
    x = input.to(dtype) if dtype is not None else (
        input.to(np.int64) if input._data.dtype.kind in "biu" else input)
    d, k = _dk(x, dim, keepdim, axis, keepdims, "prod")
    return apply(ops.Prod, (x,), (d, k))


@export
def cumsum(input: Tensor, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Tensor:
    """Running sums along `dim`."""
    x = input.to(dtype) if dtype is not None else (
        input.to(np.int64) if input._data.dtype.kind in "biu" else input)
    d = pick("cumsum", dim, axis, "dim", "axis")
    if d is None:
        raise TypeError("cumsum() missing required argument 'dim'")
    return apply(ops.Cumsum, (x,), one_dim(d, x._data.ndim, "cumsum"))


@export
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """The p-norm over `dim` ("fro" or 2: Euclidean; 1; inf; any number > 0); its gradient
    at a zero vector is 0, as PyTorch's."""
    x = input.to(dtype) if dtype is not None else input
    if x._data.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor "
                           "as input.")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc" or isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported (use 'fro' or a number)")
    return apply(ops.Norm, (x,), (dims(dim, x._data.ndim, "norm"), builtins.bool(keepdim),
                                  float(p)))


@export
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """norm(input - other, p)"""
    return norm(input - other, p)


# ---- logic ------------------------------------------------------------------------------------

def _logic(fn: Any, what: str) -> Any:
    def reduce(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: Any = None) -> Tensor:
        d, k = _dk(input, dim, keepdim, axis, keepdims, what)
        return apply(ops.NoGrad, (input,), lambda a: np.asarray(fn(a, axis=d, keepdims=k)))
    reduce.__name__ = what
    reduce.__doc__ = f"True where {'all' if what == 'all' else 'any'} values over dim are " \
                     f"nonzero (a bool tensor)."
    return reduce


all = export("all")(_logic(np.all, "all"))  # noqa: A001
any = export("any")(_logic(np.any, "any"))  # noqa: A001


@export
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    d = dims(dim, input._data.ndim, "count_nonzero")
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=d), dtype=np.int64))


# ---- sorting ----------------------------------------------------------------------------------

def order(a: np.ndarray, dim: int, descending: bool, k: int | None = None) -> np.ndarray:
    """Stable sort order (int64) along `dim` (descending keeps ties in their original order);
    the first k only when k is given."""
    if not descending:
        idx = np.argsort(a, axis=dim, kind="stable")
    else:
        flipped = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
        idx = a.shape[dim] - 1 - np.flip(flipped, dim)
    if k is not None:
        idx = np.take(idx, np.arange(k), axis=dim)
    return idx.astype(np.int64, copy=False)


@export
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along `dim` (stable)."""
    d = one_dim(dim, input._data.ndim, "sort")
    if input._data.ndim == 0:
        return values_indices["sort"](input, constant_leaf(np.zeros((), dtype=np.int64)))
    idx = apply(ops.NoGrad, (input,), functools.partial(order, dim=d,
                                                        descending=builtins.bool(descending)))
    return _pick_along(input, idx, d, True, "sort")


@export
def argsort(input: Tensor, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    d = one_dim(dim, input._data.ndim, "argsort")
    return apply(ops.NoGrad, (input,), functools.partial(order, dim=d,
                                                         descending=builtins.bool(descending)))


@export
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002
    """(values, indices) of the k largest (or smallest) along `dim`."""
    d = one_dim(dim, input._data.ndim, "topk")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = apply(ops.NoGrad, (input,), functools.partial(order, dim=d,
                                                        descending=builtins.bool(largest), k=k))
    return _pick_along(input, idx, d, True, "topk")


# ---- histograms -------------------------------------------------------------------------------

@export
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in `bins` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored. Same dtype as input."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for '
                                  f"'{dtypes.scalar_name(a.dtype)}'")
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0")
    lo, hi = float(min), float(max)
    if lo == hi == 0 and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(a, bins=int(bins), range=(lo, hi))
    return _wrap(counts.astype(a.dtype if a.dtype.kind == "f" else default_float()))


@export
def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Any = None,  # noqa: A002
              density: bool = False) -> Any:
    """(hist, bin_edges): counts (or weights, or a density) in `bins` bins (a number, or a
    tensor of edges)."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f'"histogramdd" not implemented for '
                                  f"'{dtypes.scalar_name(a.dtype)}'")
    if range is not None and range[0] > range[1]:
        raise RuntimeError("torch.histogram(): min should not exceed max")
    b = bins._data if isinstance(bins, Tensor) else bins
    w = weight._data if isinstance(weight, Tensor) else weight
    hist, edges = np.histogram(a, bins=b, range=range, weights=w, density=density)
    return histogram_result(_wrap(hist.astype(a.dtype)), _wrap(edges.astype(a.dtype)))
