"""Neural-network functions composed from minigrad's primitive Tensor ops.

There is NO backward code in this module. Every function is a composition of the primitives in
`minigrad.ops` (add, mul, sum, exp, log, pow, where, maximum, ...), so every gradient here,
batch norm's gradient through the mini-batch mean and variance included, is derived by the
engine. Constants (masks, one-hot targets, running statistics in eval mode, the max used to
shift log-softmax) enter as plain arrays, i.e. as constants of the graph.

Import as ``import minigrad.nn.functional as F``.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..composite import linear as _linear
from ..composite import maximum, mean, var, where
from ..tensor import Tensor, as_generator

__all__ = [
    "mean", "var", "logsumexp", "softmax", "log_softmax", "cross_entropy", "nll_loss",
    "mse_loss", "binary_cross_entropy_with_logits", "dropout", "linear", "batch_norm",
    "layer_norm", "relu", "tanh", "sigmoid", "softplus",
]

_REDUCTIONS = ("mean", "sum", "none")


# ---- helpers (no derivatives: only argument handling) -------------------------------------

def _as_tensor(x: Any, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except TypeError as err:
        raise TypeError(f"{what}: expected a Tensor, got {type(x).__name__} ({err})") from None


def _norm_axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """`axis` (int, sequence or None for all) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and 0 <= axis < ndim:         # the usual case, at once
        return (axis,)
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{what}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def _shift(x: Tensor, axes: tuple[int, ...]) -> np.ndarray:
    """max of x over `axes` (keepdims) as a constant; non-finite maxima become 0.

    Subtracting a constant c leaves log-sum-exp's gradient unchanged
    (d/dx [c + log sum exp(x - c)] = softmax(x) for any c), so it need not be differentiated.
    """
    if x.size == 0:
        return np.zeros([1 if i in axes else n for i, n in enumerate(x.shape)], dtype=x.dtype)
    m = _max_reduce(x.data, axes, None, None, True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    return m


def _reduce(loss: Tensor, reduction: str, what: str, count: Any = None) -> Tensor:
    """'none' -> loss, 'sum' -> sum(loss), 'mean' -> sum(loss) / count (default: loss.size)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        n = loss.size if count is None else count
        return loss.sum() / float(n) if n else loss.sum() * float("nan")
    raise ValueError(f"{what}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str, what: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{what}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# ---- elementwise --------------------------------------------------------------------------

def relu(x: Tensor) -> Tensor:
    """max(x, 0)"""
    return _as_tensor(x, "relu").relu()


def tanh(x: Tensor) -> Tensor:
    """tanh(x)"""
    return _as_tensor(x, "tanh").tanh()


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x))"""
    return _as_tensor(x, "sigmoid").sigmoid()


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), which never overflows.

    `maximum` splits its gradient evenly at a tie, so d/dx at x = 0 is 1/2 = sigmoid(0).
    """
    x = _as_tensor(x, "softplus")
    return maximum(x, 0.0) + ((-x.abs()).exp() + 1.0).log()


# ---- softmax family -----------------------------------------------------------------------

def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed as m + log(sum(exp(x - m))) with m = max(x).

    The shift m is a constant (it does not change the value or the gradient, softmax(x)), so
    logits of 1e4 give finite results.
    """
    x = _as_tensor(x, "logsumexp")
    axes = _norm_axes(axis, x.ndim, "logsumexp")
    m = _shift(x, axes)
    out = (x - m).exp().sum(axes, keepdims=True).log() + m
    if not keepdims:
        out = out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
    return out


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x) = z - log(sum(exp(z))) with z = x - max(x) (max held constant)."""
    x = _as_tensor(x, "log_softmax")
    axes = _norm_axes(axis, x.ndim, "log_softmax")
    z = x - _shift(x, axes)
    return z - z.exp().sum(axes, keepdims=True).log()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)_i = exp(z_i) / sum_j exp(z_j) with z = x - max(x) (max held constant)."""
    x = _as_tensor(x, "softmax")
    axes = _norm_axes(axis, x.ndim, "softmax")
    e = (x - _shift(x, axes)).exp()
    return e / e.sum(axes, keepdims=True)


# ---- losses -------------------------------------------------------------------------------

def _class_targets(inp: Tensor, target: Any, what: str, ignore_index: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate integer class targets for `inp` of shape (N, C, d1, ...) (class axis 1).

    Returns (target, valid, mask): valid marks the entries not equal to ignore_index, mask
    is the boolean one-hot array of inp's shape (False on ignored entries).
    """
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind == "f" and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
        t = t.astype(np.int64)          # a Tensor of labels is float: integral values are fine
    if t.dtype.kind not in "iu":
        raise TypeError(f"{what}: class targets must be integers (an int array or list, or "
                        f"integral floats), got dtype {t.dtype}; for class probabilities pass "
                        f"a float array of the input's shape {inp.shape}")
    want = inp.shape[:1] + inp.shape[2:]
    if t.shape != want:
        raise ValueError(f"{what}: target has shape {t.shape} but input of shape {inp.shape} "
                         f"needs targets of shape {want}")
    n_classes = inp.shape[1]
    valid = t != ignore_index
    if t.size and not (_min_reduce(t, None) >= 0 and _max_reduce(t, None) < n_classes):
        bad = valid & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"{what}: Target {int(t[bad].flat[0])} is out of bounds "
                             f"for {n_classes} classes")
    classes = _classes(n_classes, inp.ndim)
    with_axis = t.shape[:1] + (1,) + t.shape[1:]       # a class axis, to compare with
    mask = t.reshape(with_axis) == classes
    if 0 <= ignore_index < n_classes:
        mask &= valid.reshape(with_axis)
    return t, valid, mask


_min_reduce, _max_reduce = np.minimum.reduce, np.maximum.reduce


@functools.lru_cache(maxsize=64)
def _classes(n_classes: int, ndim: int) -> np.ndarray:
    """0 .. n_classes-1 along axis 1 of an ndim-D array (read-only: it is shared)."""
    classes = np.arange(n_classes).reshape((1, n_classes) + (1,) * (ndim - 2))
    classes.flags.writeable = False
    return classes


def _batched(inp: Tensor, target: Any) -> tuple[Tensor, Any, bool]:
    """An unbatched input of shape (C,) becomes (1, C) (its target a batch of one)."""
    if inp.ndim == 1:
        t = target.data if isinstance(target, Tensor) else np.asarray(target)
        return inp.reshape(1, inp.shape[0]), np.expand_dims(t, 0), True
    if inp.ndim == 0:
        raise ValueError("expected an input with a class axis, got a 0-d tensor")
    return inp, target, False


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean",
             ignore_index: int = -100) -> Tensor:
    """Negative log likelihood: loss_i = -log_probs[i, target_i].

    log_probs has shape (N, C) or (N, C, d1, ...) (or (C,) unbatched); target holds class
    indices of shape (N,) or (N, d1, ...). Entries whose target equals ignore_index give 0 and
    are left out of the mean. The entry is picked with `where(one_hot, log_probs, 0)` summed
    over the classes (no 0 * -inf).
    """
    _check_reduction(reduction, "nll_loss")
    x, target, unbatched = _batched(_as_tensor(log_probs, "nll_loss"), target)
    _, valid, mask = _class_targets(x, target, "nll_loss", ignore_index)
    loss = -where(mask, x, 0.0).sum(1)
    if unbatched and reduction == "none":
        return loss.reshape(())
    return _reduce(loss, reduction, "nll_loss", int(valid.sum()))


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean",
                  label_smoothing: float = 0.0, ignore_index: int = -100) -> Tensor:
    """Cross entropy of logits (N, C[, d1, ...]) against class indices (N[, d1, ...]).

    With p = log_softmax(logits) over the class axis and eps = label_smoothing (PyTorch's
    semantics: the target distribution is (1 - eps) * one_hot + eps / C):
        loss_i = (1 - eps) * (-p[i, target_i]) + eps * mean_c(-p[i, c])
    'mean' divides by the number of targets not equal to ignore_index.
    A float target of the input's shape is read as class probabilities q (also smoothed):
        loss_i = -sum_c q[i, c] * p[i, c]   ('mean' divides by N * d1 * ...).
    """
    _check_reduction(reduction, "cross_entropy")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    x, target, unbatched = _batched(_as_tensor(logits, "cross_entropy"), target)
    logp = log_softmax(x, axis=1)
    n_classes = x.shape[1]
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f" and t.shape == x.shape:            # class probabilities
        q = t.astype(x.dtype, copy=False)
        if eps:
            q = q * (1.0 - eps) + eps / n_classes
        loss = -(logp * q).sum(1)
        count = None
    else:
        _, valid, mask = _class_targets(x, t, "cross_entropy", ignore_index)
        count = int(np.count_nonzero(valid))
        if not eps and reduction != "none":         # the total only: two nodes fewer
            total = where(mask, logp, 0.0).sum()
            if reduction == "sum":
                return -total
            return total * (-1.0 / count) if count else total * float("nan")
        loss = -where(mask, logp, 0.0).sum(1)
        if eps:
            loss = loss * (1.0 - eps)
            smooth = logp.sum(1) * (-eps / n_classes)
            if not valid.all():
                smooth = where(valid, smooth, 0.0)
            loss = loss + smooth
    if unbatched and reduction == "none":
        return loss.reshape(())
    return _reduce(loss, reduction, "cross_entropy", count)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: (input - target)**2, reduced (target is a Tensor or an array)."""
    _check_reduction(reduction, "mse_loss")
    x = _as_tensor(input, "mse_loss")
    tshape = np.shape(target.data if isinstance(target, Tensor) else target)
    if tshape != x.shape:
        warnings.warn(f"mse_loss: target shape {tshape} differs from input shape {x.shape}; "
                      f"they will be broadcast", stacklevel=2)
    d = x - (target if isinstance(target, Tensor) else np.asarray(target, dtype=x.dtype))
    return _reduce(d * d, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean",
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """-w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] in a form that never overflows.

    With log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -x - softplus(-x):
        loss = w [(1 - t) x + (1 + (p - 1) t) softplus(-x)],
        softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))
    (p = pos_weight, default 1; w = weight, default 1). The gradient is
    w [(1 + (p - 1) t) sigmoid(x) - p t], exact also at x = 0.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = _as_tensor(logits, "binary_cross_entropy_with_logits")
    tshape = np.shape(target.data if isinstance(target, Tensor) else target)
    if tshape != x.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size {tshape} must be "
                         f"the same as input size {x.shape}")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=x.dtype))
    sp = maximum(-x, 0.0) + ((-x.abs()).exp() + 1.0).log()      # softplus(-x)
    if pos_weight is not None:
        coef = (target * (_const(pos_weight, x) - 1.0)) + 1.0
        loss = (1.0 - target) * x + coef * sp
    else:
        loss = (1.0 - target) * x + sp
    if weight is not None:
        loss = loss * _const(weight, x)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _const(v: Any, like: Tensor) -> Any:
    return v if isinstance(v, Tensor) else np.asarray(v, dtype=like.dtype)


# ---- layers -------------------------------------------------------------------------------

def dropout(x: Tensor, p: float = 0.5, training: bool = True, generator: Any = None) -> Tensor:
    """Inverted dropout: each element is zeroed with probability p and the kept ones are
    scaled by 1 / (1 - p), so the expectation is unchanged. Identity when not training or
    p = 0; all zeros when p = 1. `generator`: numpy Generator or int seed (None: fresh)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _as_tensor(x, "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros(x.shape, dtype=x.dtype)
    keep = as_generator(generator).random(x.shape) >= p
    scale = keep * np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    return x * scale.astype(x.dtype, copy=False)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, weight of shape (out_features, in_features)."""
    x = _as_tensor(x, "linear")
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape} (in_features = {weight.shape[-1]})")
    if bias is not None and np.shape(bias.data if isinstance(bias, Tensor) else bias) != (
            weight.shape[0],):
        raise ValueError(f"linear: bias of shape {np.shape(_buffer_array(bias))} does not "
                         f"match weight of shape {weight.shape} (expected ({weight.shape[0]},))")
    return _linear(x, weight, bias)


def _buffer_array(buf: Any) -> np.ndarray:
    return buf.data if isinstance(buf, Tensor) else buf


def _check_channel_vector(v: Any, name: str, c: int, shape: tuple[int, ...],
                          what: str) -> None:
    if v is None:
        return
    got = v.shape if isinstance(v, Tensor | np.ndarray) else np.shape(v)
    if got != (c,):
        raise ValueError(f"{what}: {name} has shape {got} but the input of shape {shape} has "
                         f"{c} channels (expected shape ({c},))")


def batch_norm(x: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation of x of shape (N, C) or (N, C, L), statistics per channel C.

    Training (statistics over N, or over N and L; n values per channel):
        mu = sum(x) / n,  d = x - mu,  var = sum(d * d) / n          (biased)
        y  = d * (gamma / sqrt(var + eps)) + beta
    and, when the buffers are given, in place (unbiased variance, n / (n - 1)):
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)
    Eval: y = (x - running_mean) * gamma / sqrt(running_var + eps) + beta.
    The gradient through mu and var is left to the engine. The buffers are Tensors or
    ndarrays (or both None: nothing is tracked, and training must be True).
    """
    x = _as_tensor(x, "batch_norm")
    shape = x.shape
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected 2-D (N, C) or 3-D (N, C, L) input, got input "
                         f"of shape {shape} ({x.ndim}-D)")
    c = shape[1]
    for v, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_channel_vector(v, name, c, shape, "batch_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean and running_var are None, so there are no "
                         "running statistics to normalise with in eval mode; pass "
                         "training=True (batch statistics) or give the buffers")
    three_d = x.ndim == 3
    axes = (0, 2) if three_d else (0,)
    w = b = None
    if weight is not None:
        w = weight.reshape(c, 1) if three_d else weight
    if bias is not None:
        b = bias.reshape(c, 1) if three_d else bias

    if training:
        n = shape[0] * shape[2] if three_d else shape[0]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {shape}")
        if running_mean is not None and type(momentum) is not float and (
                isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)):
            raise ValueError(f"batch_norm: momentum must be a number, got {momentum!r} (for a "
                             f"cumulative average use BatchNorm1d(momentum=None))")
        # d = x + (-mu): the minus sign sits on the small (1, C) array, so backward through
        # the add passes g on unchanged instead of making -g of x's size
        neg_mu = x.mean(axes, keepdims=True) * -1.0
        d = x + neg_mu
        var = (d ** 2).mean(axes, keepdims=True)     # one share back to d (d * d sends two)
        scale = (var + eps) ** -0.5
        if w is not None:
            scale = scale * w
        out = d * scale
        if b is not None:
            out = out + b
        if running_mean is not None:
            rm, rv = _buffer_array(running_mean), _buffer_array(running_var)
            m = momentum
            rm *= 1.0 - m
            rm -= m * neg_mu.data.reshape(c)
            rv *= 1.0 - m
            rv += var.data.reshape(c) * (m * n / (n - 1))
        return out

    # eval: y = x * s + (beta - mean * s) with s = gamma / sqrt(var + eps)
    rm = _buffer_array(running_mean).astype(x.dtype, copy=False)
    inv = (1.0 / np.sqrt(_buffer_array(running_var) + eps)).astype(x.dtype, copy=False)
    if three_d:
        inv, rm = inv.reshape(c, 1), rm.reshape(c, 1)
    scale = inv if w is None else w * inv
    shift = -(rm * scale) if b is None else b - rm * scale
    return x * scale + shift


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes (biased variance):
        y = (x - mean) / sqrt(var + eps) * weight + bias
    """
    x = _as_tensor(x, "layer_norm")
    ns = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with "
                         f"normalized_shape {ns}")
    for v, name in ((weight, "weight"), (bias, "bias")):
        if v is not None and tuple(v.shape) != ns:
            raise ValueError(f"layer_norm: {name} has shape {tuple(v.shape)}, expected "
                             f"normalized_shape {ns}")
    axes = tuple(range(x.ndim - k, x.ndim))
    n = int(np.prod(ns))
    d = x + x.sum(axes, keepdims=True) * (-1.0 / n)
    v = (d * d).sum(axes, keepdims=True) * (1.0 / n)
    out = d * (v + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
