"""Activations and the softmax family, composed from primitives (no backward code)."""

from __future__ import annotations

import math
from typing import Any

from ..._bind import export
from ..._tensor import Tensor, _wrap
from ...functions._args import dims
from ...functions.pointwise import maximum, where
from ._common import as_tensor, shift, softmax_dim


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)"""
    x = as_tensor(input, "relu")
    return x.relu_() if inplace else x.relu()


def tanh(input: Tensor) -> Tensor:
    """tanh(x)"""
    return as_tensor(input, "tanh").tanh()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))"""
    return as_tensor(input, "sigmoid").sigmoid()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, computed as max(z, 0) + log(1 + exp(-|z|)) with z = beta x
    (never overflows); x itself where beta x > threshold (as PyTorch).

    `maximum` splits its gradient evenly at a tie, so d/dx at x = 0 is 1/2 = sigmoid(0).
    """
    x = as_tensor(input, "softplus")
    z = x * beta if beta != 1 else x
    out = maximum(z, 0.0) + ((-z.abs()).exp() + 1.0).log()
    if beta != 1:
        out = out * (1.0 / beta)
    return where(z > threshold, x, out)


@export
def logsumexp(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, computed as m + log(sum(exp(x - m))) with m = max(x).

    The shift m is a constant (it does not change the value or the gradient, softmax(x)), so
    logits of 1e4 give finite results.
    """
    x = as_tensor(input, "logsumexp")
    axes = dims(dim, x.ndim, "logsumexp") if dim is not None else None
    m = shift(x, axes)
    mt = _wrap(m)
    out = (x - mt).exp().sum(axes, keepdim=True).log() + mt
    if not keepdim:
        keep = axes if axes is not None else tuple(range(x.ndim))
        out = out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in keep))
    return out


@export
def log_softmax(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None, *,
                axis: Any = None) -> Tensor:
    """log softmax(x) = z - log(sum(exp(z))) with z = x - max(x) (max held constant)."""
    x = as_tensor(input, "log_softmax")
    if dtype is not None:
        x = x.to(dtype)
    axes = softmax_dim(dim, x.ndim, axis, "log_softmax")
    z = x - _wrap(shift(x, axes))
    return z - z.exp().sum(axes, keepdim=True).log()


@export
def softmax(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None, *,
            axis: Any = None) -> Tensor:
    """softmax(x)_i = exp(z_i) / sum_j exp(z_j) with z = x - max(x) (max held constant)."""
    x = as_tensor(input, "softmax")
    if dtype is not None:
        x = x.to(dtype)
    axes = softmax_dim(dim, x.ndim, axis, "softmax")
    e = (x - _wrap(shift(x, axes))).exp()
    return e / e.sum(axes, keepdim=True)


def softmin(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x)"""
    return softmax(-as_tensor(input, "softmin"), dim, dtype=dtype)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) = x/2 (1 + erf(x / sqrt 2)); approximate="tanh":
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = as_tensor(input, "gelu")
    if approximate == "tanh":
        inner = (x + x ** 3 * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (inner.tanh() + 1.0)
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return x * 0.5 * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0)
