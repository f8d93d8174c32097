"""Activations and the softmax family, composed from primitives (no backward code)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..._bind import export
from ..._tensor import Tensor
from ...functions._args import dims
from ...functions.pointwise import maximum, minimum, where
from ._common import as_tensor, shift, softmax_dim

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _result(x: Tensor, f: Callable[[Tensor], Tensor], inplace: bool) -> Tensor:
    """f(x), or (inplace) x overwritten with f's values, PyTorch's `relu_` & co. (like them,
    refusing a leaf that requires grad). In place, f reads a copy of x, so overwriting x
    cannot invalidate a value f's ops saved for backward."""
    return x.copy_(f(x.clone())) if inplace else f(x)


def _inside(x: Tensor, low: float, high: float) -> Tensor:
    """The constant mask low < x < high (strictly: PyTorch's clamp-like activations pass no
    gradient at their corners)."""
    a = x.detach()
    return (a > low) & (a < high)


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
    """log(1 + exp(beta x)) / beta, computed as max(z, 0) + log1p(exp(-|z|)) with z = beta x
    (never overflows, exact for large negative z); x itself where beta x > threshold (as
    PyTorch).

    `maximum` splits its gradient evenly at a tie, so d/dx at x = 0 is 1/2 = sigmoid(0).

    >>> F.softplus(minigrad.tensor([0.0, 30.0]))          # tensor([ 0.6931, 30.0000])
    """
    x = as_tensor(input, "softplus")
    z = x * beta if beta != 1 else x
    out = maximum(z, 0.0) + (-z.abs()).exp().log1p()
    if beta != 1:
        out = out / beta
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
    mt = m
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
    z = x - shift(x, axes)
    return z - z.exp().sum(axes, keepdim=True).log()


@export
def softmax(input: Tensor, dim: Any = None, _stacklevel: int = 3, dtype: Any = None, *,
            axis: Any = None) -> Tensor:
    """softmax(x)_i = exp(z_i) / sum_j exp(z_j) with z = x - max(x) (max held constant)."""
    x = as_tensor(input, "softmax")
    if dtype is not None:
        x = x.to(dtype)
    axes = softmax_dim(dim, x.ndim, axis, "softmax")
    e = (x - shift(x, axes)).exp()
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


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish).

    >>> F.silu(minigrad.tensor([0.0, 1.0]))               # tensor([0.0000, 0.7311])
    """
    x = as_tensor(input, "silu")
    return _result(x, lambda v: v * v.sigmoid(), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x (the gradient at 0 is negative_slope, as PyTorch).

    >>> F.leaky_relu(minigrad.tensor([-2.0, 3.0]), 0.1)   # tensor([-0.2000,  3.0000])
    """
    x = as_tensor(input, "leaky_relu")
    return _result(x, lambda v: where(v > 0, v, v * negative_slope), inplace)


def _exp_branch(x: Tensor, alpha: float, input_scale: float = 1.0) -> Tensor:
    """x if x > 0 else alpha * (exp(input_scale * x) - 1), the ELU family.

    expm1 sees min(x, 0) (written as a `where`, so the gradient at 0 is alpha * input_scale
    as in PyTorch): a large positive x would make exp overflow, and the unselected inf
    branch would turn the gradient into 0 * inf = nan.
    """
    neg = where(x > 0, 0.0, x)
    if input_scale != 1:
        neg = neg * input_scale
    return where(x > 0, x, neg.expm1() * alpha)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1).

    >>> F.elu(minigrad.tensor([-1.0, 2.0]))               # tensor([-0.6321,  2.0000])
    """
    x = as_tensor(input, "elu")
    return _result(x, lambda v: _exp_branch(v, alpha), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with alpha = 1.6733, scale = 1.0507 (self-normalising)."""
    x = as_tensor(input, "selu")
    return _result(x, lambda v: _exp_branch(v, _SELU_ALPHA) * _SELU_SCALE, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x / alpha) - 1)."""
    x = as_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _result(x, lambda v: _exp_branch(v, alpha, 1.0 / alpha), inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (never overflows; exact for large |x|).

    At x = 0 `minimum` splits its gradient (1/2) and |x|' = 0, so the gradient is
    sigmoid(-0) = 1/2, as PyTorch's.

    >>> F.logsigmoid(minigrad.tensor([-100.0, 0.0]))      # tensor([-100.0000,   -0.6931])
    """
    x = as_tensor(input, "logsigmoid")
    return minimum(x, 0.0) - (-x.abs()).exp().log1p()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val); the gradient is 1 strictly inside, 0 elsewhere (PyTorch)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = as_tensor(input, "hardtanh")
    clamped = x.detach().clamp(min_val, max_val)                # a constant outside
    inside = _inside(x, min_val, max_val)
    return _result(x, lambda v: where(inside, v, clamped), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value."""
    x = as_tensor(input, "threshold")
    return _result(x, lambda v: where(v > threshold, v, value), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    x = as_tensor(input, "mish")
    return _result(x, lambda v: v * softplus(v).tanh(), inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)"""
    x = as_tensor(input, "softsign")
    return x / (x.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)"""
    x = as_tensor(input, "tanhshrink")
    return x - x.tanh()


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of x along `dim`."""
    x = as_tensor(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dims(dim, x.ndim, "glu")[0]
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    a, b = x.chunk(2, d)
    return a * b.sigmoid()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x, with one learnable slope per channel (dim 1) or a single
    one (weight of one element)."""
    x = as_tensor(input, "prelu")
    w = as_tensor(weight, "prelu")
    n = w.numel()
    if n != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if w.ndim != 1 or n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
        w = w.reshape((n,) + (1,) * (x.ndim - 2))
    else:
        w = w.reshape(())
    return where(x > 0, x, w * x)
