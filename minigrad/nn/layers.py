"""Layers: Linear, BatchNorm1d, LayerNorm, Dropout, Identity, Flatten, Unflatten (the
activations are in activation.py).

Layers with parameters take `dtype=` (default: minigrad.get_default_dtype()).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, get_default_dtype
from ..engine import no_grad
from ..functions.random import Generator, rng_of
from . import functional as F
from . import init
from .modules import Module, Parameter

__all__ = ["Linear", "BatchNorm1d", "LayerNorm", "Dropout", "Identity", "Flatten", "Unflatten"]


def _dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating type, got {dt}")
    return dt


def _positive_int(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"{what} must be a non-negative int, got {v!r}")
    return int(v)


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    Initialisation as PyTorch: weight = kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(in), 1/sqrt(in)), and bias U(-1/sqrt(in), 1/sqrt(in)), both drawn from
    `generator` (numpy Generator or int seed; weight first).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "Linear: in_features")
        self.out_features = _positive_int(out_features, "Linear: out_features")
        dt = _dtype(dtype)
        rng = rng_of(generator)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if bias:
            bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
            self.bias = Parameter(np.empty(out_features, dtype=dt))
            init.uniform_(self.bias, -bound, bound, generator=rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        params = self.__dict__["_parameters"]
        return F.linear(x, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) input (see F.batch_norm).

    Parameters weight (ones) and bias (zeros, unless bias=False) if affine; buffers
    running_mean (zeros), running_var (ones) and num_batches_tracked (a 0-d int64 numpy
    array) if track_running_stats. In training mode batch statistics are used and the
    buffers updated with factor `momentum` (None: cumulative average, factor
    1 / num_batches_tracked); in eval mode the running statistics are used (batch
    statistics if not tracked).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = _positive_int(num_features, "BatchNorm1d: num_features")
        if eps < 0:
            raise ValueError(f"BatchNorm1d: eps must be non-negative, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dt = _dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64),
                                                               dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        d = self.__dict__                 # the registries, read directly (a hot path)
        nd = x._data.ndim if isinstance(x, Tensor) else np.ndim(x)
        if nd not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {nd}D input)")
        buffers, params = d["_buffers"], d["_parameters"]
        momentum, training = d["momentum"], d["training"]
        factor = 0.0 if momentum is None else momentum
        count = buffers["num_batches_tracked"]
        if training and d["track_running_stats"] and count is not None:
            # checked before counting, so a rejected batch leaves the counter alone
            shape = x._data.shape
            n = shape[0] * (shape[2] if len(shape) == 3 else 1)
            if n > 1:
                count.add_(1)             # in place, as PyTorch's
                if momentum is None:
                    factor = 1.0 / count        # a tensor: compile keeps counting
        use_batch = training or buffers["running_mean"] is None
        track = not training or d["track_running_stats"]
        return F.batch_norm(x, buffers["running_mean"] if track else None,
                            buffers["running_var"] if track else None, params["weight"],
                            params["bias"], use_batch, factor, d["eps"])

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` axes (see F.layer_norm); weight ones and
    bias zeros of that shape when elementwise_affine."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class Identity(Module):
    """x -> x (ignores extra arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merge the axes start_dim..end_dim (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, x: Tensor) -> Tensor:
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Inverted dropout in training mode (see F.dropout); identity in eval mode.

    `generator` (minigrad's addition, keyword only: a Generator or an int seed) is turned
    into one Generator at construction, so successive calls draw different masks,
    reproducibly for a given seed. inplace=True overwrites the input, as PyTorch's.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
            generator = Generator().manual_seed(int(generator))
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        # PyTorch's says "p=0.2, inplace=False"; tests/test_modules.py::test_repr pins this
        return f"p={self.p}"
