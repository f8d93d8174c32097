"""Layers as functions, composed from primitives (no backward code): batch norm, layer
norm, dropout. (`linear` is the primitive's front end in minigrad.functions.linalg.)"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._tensor import Tensor, _new_version
from ...engine import STATE, bump, no_grad
from ...functions.random import dropout_mask
from ._common import as_tensor

_VECTORS = ("running_mean", "running_var", "weight", "bias")


def _check_channel_vector(v: Any, name: str, c: int) -> None:
    if v is None:
        return
    if not isinstance(v, Tensor):
        raise TypeError(f"batch_norm(): argument '{name}' must be Tensor, not "
                        f"{type(v).__name__}")
    if v._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {v._data.size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation of x of shape (N, C, *), statistics per channel C.

    Training (statistics over every dim but C; n values per channel):
        mu = sum(x) / n,  d = x - mu,  var = sum(d * d) / n          (biased)
        y  = d * (gamma / sqrt(var + eps)) + beta
    and, when the buffers are given, in place (unbiased variance, n / (n - 1)):
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)
    Eval: y = (x - running_mean) * gamma / sqrt(running_var + eps) + beta.
    The gradient through mu and var is left to the engine.
    """
    x = as_tensor(input, "batch_norm")
    shape = x._data.shape
    nd = len(shape)
    c = shape[1] if nd > 1 else 0
    for v, name in zip((running_mean, running_var, weight, bias), _VECTORS):
        if v is not None and (not isinstance(v, Tensor) or v._data.size != c):
            _check_channel_vector(v, name, c)
    if nd < 2:
        raise RuntimeError(f"batch_norm: expected an input of shape (N, C, *), got shape "
                           f"{list(shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    spatial = nd > 2
    axes = (0,) + tuple(range(2, nd))
    per_channel = (c,) + (1,) * (nd - 2)          # a (C,) vector lined up with dim 1
    w = b = None
    if weight is not None:
        w = weight.reshape(per_channel) if spatial else weight
    if bias is not None:
        b = bias.reshape(per_channel) if spatial else bias

    if training:
        n = x._data.size // c if c else 0
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size minigrad.Size({list(shape)})")
        if running_mean is not None and type(momentum) is not float and (
                isinstance(momentum, bool) or not isinstance(momentum, numbers.Real | Tensor)):
            raise ValueError(f"batch_norm: momentum must be a number, got {momentum!r} (for a "
                             f"cumulative average use BatchNorm1d(momentum=None))")
        # d = x - mu: backward sums the broadcast mu's share before negating it (small)
        mu = x.mean(axes, keepdim=True)
        d = x - mu
        d_sq = d ** 2                               # one share back to d (d * d sends two)
        var = d_sq.mean(axes, keepdim=True)
        var_eps = var + eps
        inv_std = var_eps ** -0.5
        scale = inv_std * w if w is not None else inv_std
        out = d * scale
        if b is not None:
            out = out + b
        tracer = STATE.tracer
        if tracer is not None:                      # names in minigrad.compile's code
            for t, name in ((mu, "mean"), (d, "xc"), (d_sq, "xc_sq"),
                            (var, "var"), (var_eps, "var_eps"), (inv_std, "inv_std"),
                            (scale, "scale"), (out, "out")):
                tracer.hint(t, name)
        if running_mean is not None:
            if STATE.tracer is None and type(momentum) is float \
                    and _plain_buffer(running_mean, x) and _plain_buffer(running_var, x):
                _update_running(running_mean, running_var, mu, var, momentum, n)
                return out
            with no_grad():                  # in place, recorded as ops (compile sees them)
                m = momentum
                running_mean.mul_(1.0 - m).add_(mu.reshape(c) * m)
                running_var.mul_(1.0 - m).add_(var.reshape(c) * (m * n / (n - 1)))
        return out

    # eval: y = x * s + (beta - mean * s) with s = gamma / sqrt(var + eps)
    rm = running_mean.to(x.dtype)
    inv = ((running_var + eps) ** -0.5).to(x.dtype)
    if spatial:
        inv, rm = inv.reshape(per_channel), rm.reshape(per_channel)
    scale = inv if w is None else w * inv
    shift = -(rm * scale) if b is None else b - rm * scale
    return x * scale + shift


def _plain_buffer(b: Tensor, x: Tensor) -> bool:
    """A running-statistics buffer that can be updated as a bare array (x's dtype, a
    writable vector of its own, outside any graph)."""
    a = b._data
    return (b._view is None and b._extra is None and not b._rg and a.dtype == x._data.dtype
            and a.ndim == 1 and a.flags.writeable)


def _update_running(running_mean: Tensor, running_var: Tensor, mu: Tensor, var: Tensor,
                    m: float, n: int) -> None:
    """The running statistics' update, eager mode's short path: the same numpy calls as the
    recorded in-place ops (so the same numbers), one version bump per buffer (as PyTorch)."""
    c = running_mean._data.shape[0]
    rm, rv = running_mean._data, running_var._data
    np.multiply(rm, 1.0 - m, out=rm)
    np.add(rm, mu._data.reshape(c) * m, out=rm)
    np.multiply(rv, 1.0 - m, out=rv)
    np.add(rv, var._data.reshape(c) * (m * n / (n - 1)), out=rv)
    for b in (running_mean, running_var):
        ver = b._ver
        bump(ver if ver is not None else _new_version(b))


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dims (biased variance):
        y = (x - mean) / sqrt(var + eps) * weight + bias
    """
    x = as_tensor(input, "layer_norm")
    ns = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size "
                           f"{list(x.shape)}")
    for v, name in ((weight, "weight"), (bias, "bias")):
        if v is not None and tuple(v.shape) != ns:
            raise RuntimeError(f"layer_norm: {name} has shape {tuple(v.shape)}, expected "
                               f"normalized_shape {ns}")
    axes = tuple(range(x.ndim - k, x.ndim))
    n = int(np.prod(ns))
    d = x + x.sum(axes, keepdim=True) * (-1.0 / n)
    v = (d * d).sum(axes, keepdim=True) * (1.0 / n)
    out = d * (v + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator: Any = None) -> Tensor:
    """Inverted dropout: each element is zeroed with probability p and the kept ones are
    scaled by 1 / (1 - p), so the expectation is unchanged. Identity when not training or
    p = 0; all zeros when p = 1. `generator`: a minigrad/numpy Generator or an int seed
    (None: the default generator)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input, "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x.mul_(0.0) if inplace else x * 0.0
    mask = dropout_mask(x, p, generator)
    return x.mul_(mask) if inplace else x * mask
