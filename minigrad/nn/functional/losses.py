"""Losses, composed from primitives (no backward code): cross-entropy, negative log
likelihood, mean squared error, binary cross-entropy on logits."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from ... import dtypes
from ..._tensor import Tensor, _wrap
from ...functions.pointwise import maximum, where
from ._common import as_tensor, check_reduction, legacy_reduction, raw, reduce_loss
from .activations import log_softmax

_min_reduce, _max_reduce = np.minimum.reduce, np.maximum.reduce


def class_targets(inp: Tensor, target: Any, what: str, ignore_index: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate integer class targets for `inp` of shape (N, C, d1, ...) (class dim 1).

    Returns (target, valid, mask): valid marks the entries not equal to ignore_index, mask
    is the boolean one-hot array of inp's shape (False on ignored entries). A float target
    holding whole numbers is accepted too (minigrad is lenient where PyTorch wants int64).
    """
    t = raw(target)
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{what}(): argument 'target' must be Tensor of class indices, not "
                        f"{type(target).__name__} of {t.dtype}")
    if t.dtype.kind == "f" and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{what}: expected scalar type Long for class targets but found "
                           f"{dtypes.scalar_name(t.dtype)}; for class probabilities pass a "
                           f"float tensor of the input's shape {tuple(inp.shape)}")
    want = tuple(inp.shape[:1] + inp.shape[2:])
    if t.shape != want:
        raise ValueError(f"{what}: Expected target size {list(want)}, got {list(t.shape)} "
                         f"(input of shape {tuple(inp.shape)})")
    n_classes = inp.shape[1]
    valid = t != ignore_index
    if t.size and not (_min_reduce(t, None) >= 0 and _max_reduce(t, None) < n_classes):
        bad = valid & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"{what}: Target {int(t[bad].flat[0])} is out of bounds.")
    with_axis = t.shape[:1] + (1,) + t.shape[1:]       # a class dim, to compare with
    mask = t.reshape(with_axis) == _classes(n_classes, inp.ndim)
    if 0 <= ignore_index < n_classes:
        mask &= valid.reshape(with_axis)
    return t, valid, mask


@functools.lru_cache(maxsize=64)
def _classes(n_classes: int, ndim: int) -> np.ndarray:
    """0 .. n_classes-1 along dim 1 of an ndim-D array (read-only: it is shared)."""
    classes = np.arange(n_classes).reshape((1, n_classes) + (1,) * (ndim - 2))
    classes.flags.writeable = False
    return classes


def _batched(inp: Tensor, target: Any) -> tuple[Tensor, Any, bool]:
    """An unbatched input of shape (C,) becomes (1, C) (its target a batch of one)."""
    if inp.ndim == 1:
        return inp.reshape(1, inp.shape[0]), np.expand_dims(raw(target), 0), True
    if inp.ndim == 0:
        raise ValueError("expected an input with a class dim, got a 0-d tensor")
    return inp, target, False


def _class_weights(weight: Any, x: Tensor, what: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = raw(weight).astype(x.dtype, copy=False)
    if w.shape != (x.shape[1],):
        raise RuntimeError(f"{what}: weight tensor should be defined either for all "
                           f"{x.shape[1]} classes or no classes but got weight tensor of "
                           f"shape: {list(w.shape)}")
    return w.reshape((1, -1) + (1,) * (x.ndim - 2))


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: loss_i = -w[target_i] * input[i, target_i].

    input (log-probabilities) has shape (N, C) or (N, C, d1, ...) (or (C,) unbatched);
    target holds class indices of shape (N,) or (N, d1, ...). Entries whose target equals
    ignore_index give 0 and are left out of the mean, which divides by the sum of the
    weights of the counted targets. The entry is picked with `where(one_hot, input, 0)`
    summed over the classes (no 0 * -inf).
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "nll_loss")
    x, target, unbatched = _batched(as_tensor(input, "nll_loss"), target)
    t, valid, mask = class_targets(x, target, "nll_loss", ignore_index)
    w = _class_weights(weight, x, "nll_loss")
    picked = where(mask, x, 0.0)
    if w is not None:
        picked = picked * w
    loss = -picked.sum(1)
    if unbatched and reduction == "none":
        return loss.reshape(())
    count = _weighted_count(w, t, valid)
    return reduce_loss(loss, reduction, "nll_loss", count)


def _weighted_count(w: np.ndarray | None, t: np.ndarray, valid: np.ndarray) -> Any:
    if w is None:
        return int(np.count_nonzero(valid))
    flat = w.reshape(-1)
    return float(flat[np.where(valid, t, 0)][valid].sum())


def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits (N, C[, d1, ...]) against class indices (N[, d1, ...]).

    With p = log_softmax(logits) over the class dim and eps = label_smoothing (the target
    distribution is (1 - eps) * one_hot + eps / C), and class weights w (default 1):
        loss_i = (1 - eps) w[t_i] (-p[i, t_i]) + eps/C sum_c w_c (-p[i, c])
    'mean' divides by the sum of w[t_i] over targets not equal to ignore_index.
    A float target of the input's shape is read as class probabilities q (also smoothed):
        loss_i = -sum_c w_c q[i, c] p[i, c]   ('mean' divides by N * d1 * ...).
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "cross_entropy")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x, target, unbatched = _batched(as_tensor(input, "cross_entropy"), target)
    logp = log_softmax(x, dim=1)
    n_classes = x.shape[1]
    w = _class_weights(weight, x, "cross_entropy")
    t = raw(target)
    if t.dtype.kind == "f" and t.shape == tuple(x.shape):        # class probabilities
        q = t.astype(x.dtype, copy=False)
        if eps:
            q = q * (1.0 - eps) + eps / n_classes
        if w is not None:
            q = q * w
        loss = -(logp * _wrap(np.ascontiguousarray(q))).sum(1)
        count = None
    else:
        t, valid, mask = class_targets(x, t, "cross_entropy", ignore_index)
        count = _weighted_count(w, t, valid)
        if not eps and w is None and reduction != "none":    # the total only: 2 nodes fewer
            total = where(mask, logp, 0.0).sum()
            if reduction == "sum":
                return -total
            return total * (-1.0 / count) if count else total * float("nan")
        picked = where(mask, logp, 0.0)
        if w is not None:
            picked = picked * w
        loss = -picked.sum(1)
        if eps:
            loss = loss * (1.0 - eps)
            per_class = logp * w if w is not None else logp
            smooth = per_class.sum(1) * (-eps / n_classes)
            if not valid.all():
                smooth = where(valid, smooth, 0.0)
            loss = loss + smooth
    if unbatched and reduction == "none":
        return loss.reshape(())
    return reduce_loss(loss, reduction, "cross_entropy", count)


def mse_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error: (input - target)**2, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "mse_loss")
    x = as_tensor(input, "mse_loss")
    tshape = raw(target).shape
    if tshape != tuple(x.shape):
        warnings.warn(f"Using a target size ({tshape}) that is different to the input size "
                      f"({tuple(x.shape)}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=2)
    d = x - (target if isinstance(target, Tensor) else _wrap(np.asarray(target, dtype=x.dtype)))
    return reduce_loss(d * d, reduction, "mse_loss")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """-w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] in a form that never overflows.

    With log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -x - softplus(-x):
        loss = w [(1 - t) x + (1 + (p - 1) t) softplus(-x)],
        softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))
    (p = pos_weight, default 1; w = weight, default 1). The gradient is
    w [(1 + (p - 1) t) sigmoid(x) - p t], exact also at x = 0.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = as_tensor(input, "binary_cross_entropy_with_logits")
    tshape = raw(target).shape
    if tshape != tuple(x.shape):
        raise ValueError(f"Target size ({tshape}) must be the same as input size "
                         f"({tuple(x.shape)})")
    if not isinstance(target, Tensor):
        target = _wrap(np.asarray(target, dtype=x.dtype))
    sp = maximum(-x, 0.0) + ((-x.abs()).exp() + 1.0).log()      # softplus(-x)
    if pos_weight is not None:
        coef = (target * (_const(pos_weight, x) - 1.0)) + 1.0
        loss = (1.0 - target) * x + coef * sp
    else:
        loss = (1.0 - target) * x + sp
    if weight is not None:
        loss = loss * _const(weight, x)
    return reduce_loss(loss, reduction, "binary_cross_entropy_with_logits")


def _const(v: Any, like: Tensor) -> Any:
    return v if isinstance(v, Tensor) else _wrap(np.asarray(v, dtype=like.dtype))
