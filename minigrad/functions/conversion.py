"""Conversions: to (dtype, device, another tensor), float/double/long/int/bool/...,
type_as, cpu, and the type tests (is_tensor, is_floating_point)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from .._bind import export
from .._tensor import Tensor, cast
from ..device import check_device
from ..device import device as device_cls

_LEGACY = {"torch.FloatTensor": "float32", "torch.DoubleTensor": "float64",
           "torch.LongTensor": "int64", "torch.IntTensor": "int32", "torch.BoolTensor": "bool",
           "torch.HalfTensor": "float16", "torch.ShortTensor": "int16",
           "torch.ByteTensor": "uint8", "torch.CharTensor": "int8"}


def _convert(self: Tensor, dtype: Any, copy: bool = False) -> Tensor:
    target = dtypes.to_numpy(dtype)
    if target == self._data.dtype and not copy:
        return self
    if target == self._data.dtype:
        from .shaping import clone
        return clone(self)
    return cast(self, target)


@export(function=False)
def to(self: Tensor, *args: Any, dtype: Any = None, device: Any = None,
       non_blocking: bool = False, copy: bool = False, memory_format: Any = None) -> Tensor:
    """to(dtype), to(device), to(device, dtype), to(other tensor): self when nothing changes;
    a dtype change of a tensor that requires grad is differentiable."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._data.dtype if dtype is None else dtype
        elif isinstance(a, str | device_cls) and not (isinstance(a, str) and a in dtypes._BY_NAME):
            device = a
        else:
            dtype = a
    check_device(device, "to")
    return self if dtype is None and not copy else _convert(self, dtype or self._data.dtype,
                                                            copy)


def _as(dt: Any, name: str) -> Any:
    def convert(self: Tensor, memory_format: Any = None) -> Tensor:
        return _convert(self, dt)
    convert.__name__ = name
    convert.__doc__ = f"self as {dt!r} (self when it is one already)."
    return convert


for _name, _dt in (("float", dtypes.float32), ("double", dtypes.float64),
                   ("half", dtypes.float16), ("long", dtypes.int64), ("int", dtypes.int32),
                   ("short", dtypes.int16), ("char", dtypes.int8), ("byte", dtypes.uint8),
                   ("bool", dtypes.bool)):
    export(_name, function=False)(_as(_dt, _name))


@export(function=False)
def type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:  # noqa: A001
    """Without arguments the legacy type name ("torch.FloatTensor"); with a dtype or such a
    name, the converted tensor."""
    if dtype is None:
        inverse = {v: k for k, v in _LEGACY.items()}
        return inverse.get(self._data.dtype.name, f"torch.{self._data.dtype.name}")
    return _convert(self, _LEGACY.get(dtype, dtype) if isinstance(dtype, str) else dtype)


@export(function=False)
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return _convert(self, other._data.dtype)


@export(function=False)
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    return self


@export(function=False)
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    check_device("cuda", "cuda")
    return self


@export
def is_floating_point(input: Tensor) -> bool:
    return input._data.dtype.kind == "f"


@export(method=False)
def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


@export
def is_nonzero(input: Tensor) -> bool:
    if input._data.size != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()).item())


@export(function=False)
def get_device(self: Tensor) -> int:
    return -1


@export(method=False)
def numel(input: Tensor) -> int:
    return int(np.size(input._data))
