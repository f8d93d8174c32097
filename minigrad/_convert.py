"""From Python and numpy values to arrays: `as_array` (what `tensor(...)` and `Tensor(...)`
make of their data, with PyTorch's dtype inference), indices (`to_index`: PyTorch's rules for
`t[...]`), and the seed of a backward pass (`_seed`)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from . import _tensor, dtypes, ops
from ._tensor import STATE, Tensor, cast, constant_leaf


def as_array(data: Any, dtype: Any = None, infer: bool = True, copy: bool = True,
             what: str = "tensor") -> np.ndarray:
    """`data` (nested lists, numbers, arrays, Tensors) as an ndarray owned by the caller.

    With `infer` (`tensor()`), Python ints become int64 and bools bool, as PyTorch infers;
    without it (the `Tensor(...)` constructor), integer and bool input becomes the default
    float dtype. Floats from Python become the default dtype; numpy arrays keep theirs.
    `copy=False` shares memory with an ndarray when no conversion is needed.
    """
    if isinstance(data, Tensor):
        arr, from_numpy = data._data, True
    elif isinstance(data, np.ndarray):
        arr, from_numpy = data, True
    else:
        from_numpy = isinstance(data, np.generic)
        if isinstance(data, list | tuple) and any(isinstance(x, Tensor) for x in data):
            data = [np.asarray(x._data if isinstance(x, Tensor) else x) for x in data]
        try:
            arr = np.asarray(data)
        except ValueError as err:
            if "inhomogeneous" in str(err):
                raise ValueError(f"{what}: expected a sequence of lists of one length at every "
                                 f"level (a rectangular array): {err}") from None
            raise TypeError(f"{what}: cannot make a tensor from {type(data).__name__}: "
                            f"{err}") from None
        except TypeError as err:
            raise TypeError(f"{what}: cannot make a tensor from {type(data).__name__}: "
                            f"{err}") from None
    kind = arr.dtype.kind
    if kind in "US" and isinstance(data, list | tuple):
        raise ValueError(f"{what}: too many dimensions 'str' (strings are not numbers)")
    if kind == "O" and infer and (data is None or isinstance(data, dict)):
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    if kind not in "fiub" or arr.dtype == np.uint64 or arr.dtype.itemsize > 8:
        raise TypeError(f"{what}: can't convert data of dtype {arr.dtype} from "
                        f"{type(data).__name__} (supported: float, int, bool; minigrad has "
                        f"no complex dtypes)")
    if dtype is not None:
        target = dtypes.to_numpy(dtype)
    elif kind == "f":
        target = arr.dtype if from_numpy else _tensor._default_dtype
    elif not infer:
        target = _tensor._default_dtype
    elif kind == "u" and arr.dtype != np.uint8 or kind == "i" and not from_numpy:
        target = np.dtype(np.int64)
    else:
        target = arr.dtype
    if not copy and arr.dtype == target:
        return arr
    return np.array(arr, dtype=target, copy=True)


def to_index(index: Any) -> tuple[Any, tuple]:
    """An index as (template, index tensors), with PyTorch's rules: bool tensors are masks,
    integer tensors index, float tensors are an error. Index arrays become tensors that the
    op takes as inputs (lists and numpy arrays are copied), so a later change cannot change
    a gradient and a compiled step reads them at every call."""
    if type(index) is int or type(index) is slice or index is None or index is Ellipsis:
        return index, ()
    items = index if isinstance(index, tuple) else (index,)
    out, arrays = [], []
    for i in items:
        item = _index_item(i)
        if isinstance(item, np.ndarray):
            out.append(ops.Slot(len(arrays)))
            if isinstance(i, Tensor):     # the tensor itself, or it converted by an op
                arrays.append(i if item is i._data else cast(i, item.dtype))
            else:                         # a list or an array: a copy, a constant
                arrays.append(constant_leaf(item))
        else:
            out.append(item)
    template = tuple(out) if isinstance(index, tuple) else out[0]
    return template, tuple(arrays)


def _index_item(i: Any) -> Any:
    if type(i) is int or type(i) is slice or i is None or i is Ellipsis:
        return i
    if isinstance(i, Tensor):
        arr = i._data
    elif isinstance(i, list | np.ndarray):
        arr = np.asarray(i)
        if arr.size == 0 and arr.dtype.kind == "f":       # [] indexes nothing
            arr = arr.astype(np.int64)
    elif isinstance(i, np.integer | numbers.Integral):
        return int(i)
    else:
        return i
    kind = arr.dtype.kind
    if kind not in "iub":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors "
                         f"(got dtype {arr.dtype})")
    if arr.dtype == np.uint8 and isinstance(i, Tensor):       # PyTorch: a (deprecated) mask
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=3)
        return arr.astype(bool)
    if arr.ndim == 0 and isinstance(i, Tensor) and kind != "b":
        if STATE.tracer is not None:
            STATE.tracer.reads_value(i, "a 0-d tensor used as an index")
        return int(arr)
    if isinstance(i, Tensor) and (kind == "b" or arr.dtype == np.int64):
        return arr                                       # the tensor itself is the input
    if kind == "b":
        return np.array(arr, copy=True)
    return np.array(arr, dtype=np.int64, copy=True)


def _seed(root: Tensor, gradient: Any, what: str) -> np.ndarray:
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs (the output "
                f"has shape {tuple(root._data.shape)}); pass gradient=")
        return np.ones(root._data.shape, dtype=root._data.dtype)
    if isinstance(gradient, Tensor):
        g = gradient._data
        if g.dtype == root._data.dtype and g.shape == root._data.shape:
            return g                        # (what np.asarray below would give, at once)
    g = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                   dtype=root._data.dtype)
    if g.shape != root._data.shape:
        if g.size == 1 and root._data.size == 1:
            return g.reshape(root._data.shape)
        raise RuntimeError(f"{what}: Mismatch in shape: grad_output[0] has a shape of "
                           f"{list(g.shape)} and output[0] has a shape of "
                           f"{list(root._data.shape)}.")
    return g
