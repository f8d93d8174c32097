"""Making tensors: tensor, as_tensor, from_numpy, zeros, ones, full, empty, eye, arange,
linspace, logspace, the *_like family and Tensor.new_*.

Copies where PyTorch copies: `tensor(data)` and `Tensor(ndarray)` copy; `from_numpy(a)` and
`as_tensor(a)` (same dtype) share `a`'s memory, so changing one changes the other (as in
PyTorch; autograd does not see such changes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from .._bind import export
from .._tensor import Tensor, _wrap, as_array, default_float
from ..device import check_device
from ..engine import STATE
from ._args import shape_args


def _finish(arr: np.ndarray, requires_grad: bool, device: Any = None, what: str = "") -> Tensor:
    check_device(device, what)
    if STATE.tracer is not None:
        STATE.tracer.constant(arr)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _size(size: tuple, kw: dict) -> tuple[int, ...]:
    """Sizes given as ints, one tuple, or `size=` (PyTorch accepts all three)."""
    if "size" in kw:
        if size:
            raise TypeError("give the size positionally or as size=, not both")
        size = (kw.pop("size"),)
    if kw:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(kw)}")
    shape = shape_args(size, "size")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(shape)}: {list(shape)}")
    return shape


def _dtype(dtype: Any, fallback: Any = None) -> np.dtype:
    if dtype is None:
        return default_float() if fallback is None else np.dtype(fallback)
    return dtypes.to_numpy(dtype)


@export(method=False)
def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False, label: str = "") -> Tensor:
    """A new tensor holding a copy of `data` (like torch.tensor: Python ints give int64,
    bools bool, floats the default dtype; numpy arrays keep theirs)."""
    t = _finish(as_array(data, dtype, infer=True), requires_grad, device, "tensor")
    if label:
        t.label = label
    return t


@export(method=False)
def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor without a copy when possible: a tensor of that dtype is returned
    as is, a numpy array of that dtype is shared (changes show on both sides)."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        if dtype is None or data._data.dtype == dtypes.to_numpy(dtype):
            return data
        return data.to(dtype)
    return _wrap(as_array(data, dtype, infer=True, copy=False))


@export(method=False)
def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing `ndarray`'s memory (its dtype kept): writes through either show in
    both, and autograd does not see writes made through numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)
    return _wrap(ndarray)


@export(method=False)
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Any = None, layout: Any = None, **kw: Any) -> Tensor:
    return _finish(np.zeros(_size(size, kw), dtype=_dtype(dtype)), requires_grad, device,
                   "zeros")


@export(method=False)
def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         out: Any = None, layout: Any = None, **kw: Any) -> Tensor:
    return _finish(np.ones(_size(size, kw), dtype=_dtype(dtype)), requires_grad, device,
                   "ones")


@export(method=False)
def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          out: Any = None, layout: Any = None, memory_format: Any = None, **kw: Any) -> Tensor:
    """A tensor of `size` (minigrad fills it with zeros, so nothing is left undefined)."""
    return _finish(np.zeros(_size(size, kw), dtype=_dtype(dtype)), requires_grad, device,
                   "empty")


def _fill_dtype(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return np.bool_
    if isinstance(value, int | np.integer):
        return np.int64
    if isinstance(value, Tensor):
        return value._data.dtype
    return None


@export(method=False)
def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    """A tensor of `size` filled with `fill_value` (dtype inferred from it, as PyTorch)."""
    nd = _dtype(dtype, _fill_dtype(fill_value))
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _finish(np.full(shape_args((size,), "full"), value, dtype=nd), requires_grad,
                   device, "full")


@export(method=False)
def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False, out: Any = None) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_dtype(dtype)), requires_grad,
                   device, "eye")


@export(method=False)
def arange(start: Any = 0, end: Any = None, step: Any = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False, out: Any = None) -> Tensor:
    """[start, start + step, ...) up to `end` (excluded); int64 when all three are
    integers, else the default float dtype; ceil((end - start) / step) values."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    ints = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in vals)
    nd = _dtype(dtype, np.int64 if ints else None)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + np.arange(n, dtype=np.float64 if not ints else np.int64) * vals[2])
    return _finish(arr.astype(nd), requires_grad, device, "arange")


@export(method=False)
def linspace(start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, out: Any = None) -> Tensor:
    """`steps` evenly spaced values from start to end (both included)."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    arr = np.linspace(float(start), float(end), int(steps))
    return _finish(arr.astype(_dtype(dtype)), requires_grad, device, "linspace")


@export(method=False)
def logspace(start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    arr = base ** np.linspace(float(start), float(end), int(steps))
    return _finish(arr.astype(_dtype(dtype)), requires_grad, device, "logspace")


def _like(input: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    arr = input._data if isinstance(input, Tensor) else np.asarray(input)
    return arr.shape, (dtypes.to_numpy(dtype) if dtype is not None else arr.dtype)


@export(method=False)
def zeros_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, nd = _like(input, dtype)
    return _finish(np.zeros(shape, dtype=nd), requires_grad, device, "zeros_like")


@export(method=False)
def ones_like(input: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, nd = _like(input, dtype)
    return _finish(np.ones(shape, dtype=nd), requires_grad, device, "ones_like")


@export(method=False)
def empty_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, nd = _like(input, dtype)
    return _finish(np.zeros(shape, dtype=nd), requires_grad, device, "empty_like")


@export(method=False)
def full_like(input: Any, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, nd = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dtype=nd), requires_grad, device, "full_like")


# ---- Tensor.new_*: same dtype as the tensor unless given ------------------------------------

@export(function=False)
def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype or self._data.dtype, requires_grad=requires_grad)


@export(function=False)
def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return ones(*size, dtype=dtype or self._data.dtype, requires_grad=requires_grad)


@export(function=False)
def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return empty(*size, dtype=dtype or self._data.dtype, requires_grad=requires_grad)


@export(function=False)
def new_full(self: Tensor, size: Any, fill_value: Any, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self._data.dtype, requires_grad=requires_grad)


@export(function=False)
def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return tensor(data, dtype=dtype or self._data.dtype, requires_grad=requires_grad)
