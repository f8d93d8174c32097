"""Data types with PyTorch's names and PyTorch's type promotion.

`minigrad.float32`, `minigrad.int64`, `minigrad.bool`, ... are `dtype` objects. Each wraps a
numpy dtype and compares equal to it (`t.dtype == np.float32` is True for a float32 tensor),
so numpy code keeps working; `np.dtype(minigrad.float32)` is numpy's float32.

Promotion (`result_type`) follows PyTorch, not numpy: categories bool < integer < floating;
operands are ranked tensors with dims, then 0-d tensors, then Python numbers, and a lower rank
counts only when it is of a higher category (`float32 tensor * float64 0-d tensor` is float32;
`int tensor * 2.5` is the default float dtype). An integer and a float combine to the float
type (numpy would widen int64 + float32 to float64; PyTorch gives float32).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np


class dtype:  # noqa: N801  (PyTorch's name)
    """A tensor element type, e.g. `minigrad.float32`.

    >>> minigrad.float32.is_floating_point, minigrad.int64.itemsize
    (True, 8)
    """

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "_hash")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_complex = self.np.kind == "c"
        self.is_signed = self.np.kind in "fic"
        self.itemsize = self.np.itemsize
        self._hash = hash(self.np)

    @property
    def dtype(self) -> np.dtype:
        """numpy's dtype (so `np.dtype(minigrad.float32)` and `astype(minigrad.int64)` work)."""
        return self.np

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dtype):
            return other is self
        try:
            return np.dtype(other) == self.np  # type: ignore[arg-type]
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> str:
        return self.name


float16 = half = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)  # noqa: A001  (PyTorch's name)

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_BY_NP: dict[np.dtype, dtype] = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32,
                long=int64)


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The minigrad dtype of a numpy dtype; TypeError for kinds minigrad does not have."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        raise TypeError(f"unsupported dtype {np_dtype} (minigrad has "
                        f"{', '.join(d.name for d in _ALL)})") from None


def to_numpy(d: Any) -> np.dtype:
    """numpy's dtype for a minigrad dtype, a numpy dtype or type, a name ("float32"), or a
    Python type (float -> float64, int -> int64, bool -> bool), as PyTorch accepts them."""
    if type(d) is dtype:
        return d.np
    if d is builtins.float:
        return np.dtype(np.float64)
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d.startswith(("minigrad.", "torch.")):
        d = d.split(".", 1)[1]
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d].np
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype: cannot interpret {d!r} as a data type") from None
    from_numpy_dtype(nd)              # raises for kinds we don't have (complex, strings, ...)
    return nd


# ---- promotion ------------------------------------------------------------------------------

_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "uint8": "Byte",
                 "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                 "bool": "Bool"}


def scalar_name(nd: np.dtype) -> str:
    """PyTorch's ScalarType name of a dtype ("Float", "Long"), as its error messages say."""
    return _SCALAR_NAMES.get(np.dtype(nd).name, str(nd))


def category(nd: np.dtype) -> int:
    """0 bool, 1 integer, 2 floating."""
    k = nd.kind
    return 2 if k == "f" else 0 if k == "b" else 1


def promote_types(a: Any, b: Any) -> dtype:
    """The smallest dtype both fit in, PyTorch's table (int with float gives the float)."""
    return from_numpy_dtype(_promote(to_numpy(a), to_numpy(b)))


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Let a lower-ranked group of operands count only if it is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if category(higher) == 2:
        return higher
    if higher.kind == "b" or category(lower) == 2:
        return _promote(higher, lower)
    return higher


def result_type(*operands: Any, default_float: np.dtype | None = None) -> np.dtype:
    """numpy dtype of an op on `operands` (Tensors, arrays, Python numbers), as PyTorch.

    `default_float` is the dtype a Python float gives (minigrad's default dtype)."""
    dims = zeros = scalars = None
    for x in operands:
        nd = getattr(x, "_data", x)
        if isinstance(nd, np.ndarray):
            if nd.ndim:
                dims = nd.dtype if dims is None else _promote(dims, nd.dtype)
            else:
                zeros = nd.dtype if zeros is None else _promote(zeros, nd.dtype)
            continue
        if isinstance(nd, builtins.bool | np.bool_):
            s = np.dtype(np.bool_)
        elif isinstance(nd, builtins.int | np.integer):
            s = np.dtype(np.int64)
        elif isinstance(nd, builtins.float | np.floating):
            s = np.dtype(default_float or np.float64)
        else:
            raise TypeError(f"unsupported operand {x!r} ({type(x).__name__})")
        scalars = s if scalars is None else _promote(scalars, s)
    out = _combine(dims, _combine(zeros, scalars))
    assert out is not None, "result_type needs at least one operand"
    return out


# PyTorch's short names (assigned last: inside this module `float` and `int` stay Python's).
globals()["float"] = float32
globals()["int"] = int32
