"""Losses between distributions, composed from primitives (no backward code):
cross-entropy, negative log likelihood, binary cross-entropy (on probabilities and on logits),
Kullback-Leibler divergence. The regression losses are in `regression.py`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import dtypes
from ..._tensor import Tensor, constant_leaf
from ...engine import STATE
from ...functions.pointwise import maximum, where
from ...functions.shaping import checked_index, gather_squeezed
from ._common import as_tensor, check_reduction, legacy_reduction, raw, reduce_loss
from .activations import log_softmax


def class_targets(x: Tensor, target: Any, what: str, ignore_index: int
                  ) -> tuple[Tensor, Tensor | None]:
    """Class targets for `x` of shape (N, C, d1, ...) (class dim 1) as (index, valid).

    `index` is an int64 tensor of shape (N, 1, d1, ...) with ignored entries replaced by 0,
    ready for `gather` along dim 1; `valid` is the bool tensor of entries not equal to
    ignore_index (None when there are none to ignore, which eager mode checks first). Both
    come from ops (a range check included), so a compiled step reads the targets of every
    call. A float target holding whole numbers is accepted too (minigrad is lenient where
    PyTorch wants int64).
    """
    t = target if isinstance(target, Tensor) else None
    arr = raw(target)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}(): argument 'target' must be Tensor of class indices, not "
                        f"{type(target).__name__} of {arr.dtype}")
    if t is None:
        t = constant_leaf(np.array(arr, copy=True))
    if arr.dtype.kind == "f":
        if STATE.tracer is None and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
            raise RuntimeError(f"{what}: expected scalar type Long for class targets but "
                               f"found {dtypes.scalar_name(arr.dtype)}; for class "
                               f"probabilities pass a float tensor of the input's shape "
                               f"{tuple(x.shape)}")
        t = t.long()
    elif arr.dtype.kind == "b":
        raise RuntimeError(f"{what}: expected scalar type Long for class targets but found Bool")
    shape = x._data.shape
    want = shape[:1] + shape[2:]
    if t._data.shape != want:
        raise ValueError(f"{what}: Expected target size {list(want)}, got {list(t.shape)} "
                         f"(input of shape {shape})")
    n_classes = shape[1]
    t = checked_index(t, n_classes, ignore_index, what)
    valid = None
    if STATE.tracer is not None or np.logical_or.reduce(arr == ignore_index, None):
        valid = t != ignore_index
        t = where(valid, t, 0)
    return t.unsqueeze(1), valid


def _batched(inp: Tensor, target: Any) -> tuple[Tensor, Any, bool]:
    """An unbatched input of shape (C,) becomes (1, C) (its target a batch of one)."""
    if inp.ndim == 1:
        t = target if isinstance(target, Tensor) else \
            constant_leaf(np.array(raw(target), copy=True))
        return inp.reshape(1, inp.shape[0]), t.reshape(1), True
    if inp.ndim == 0:
        raise ValueError("expected an input with a class dim, got a 0-d tensor")
    return inp, target, False


def _class_weights(weight: Any, x: Tensor, what: str) -> Tensor | None:
    if weight is None:
        return None
    w = weight if isinstance(weight, Tensor) else constant_leaf(np.array(raw(weight), copy=True))
    w = w.to(x.dtype)
    if tuple(w.shape) != (x.shape[1],):
        raise RuntimeError(f"{what}: weight tensor should be defined either for all "
                           f"{x.shape[1]} classes or no classes but got weight tensor of "
                           f"shape: {list(w.shape)}")
    return w


def _picked(logp: Tensor, index: Tensor, valid: Tensor | None, w: Tensor | None
            ) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """-log p of each target (gathered along dim 1), weighted and with ignored entries 0;
    and the weight of each target (None: all 1) for the mean."""
    picked = gather_squeezed(logp, 1, index)        # logp.gather(1, index).squeeze(1)
    wt = None
    if w is not None:
        wt = w[index.squeeze(1)]
        if valid is not None:
            wt = wt * valid
        picked = picked * wt
    elif valid is not None:
        picked = picked * valid
    return picked, wt, valid


def _count(x: Tensor, wt: Tensor | None, valid: Tensor | None) -> Any:
    """What 'mean' divides by: the sum of the targets' weights (their number by default)."""
    if wt is not None:
        return wt.sum()
    if valid is not None:
        return valid.sum().to(x.dtype)
    return x.numel() // x.shape[1]


def _mean(total: Tensor, count: Any) -> Tensor:
    """-total / count, as total * (-1 / count) (count: a number, or a tensor in a compiled
    step or with ignored targets: the same rounding either way)."""
    if isinstance(count, Tensor):
        return total * (-1.0 / count)
    return total * (-1.0 / count) if count else total * float("nan")


def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood: loss_i = -w[target_i] * input[i, target_i].

    input (log-probabilities) has shape (N, C) or (N, C, d1, ...) (or (C,) unbatched);
    target holds class indices of shape (N,) or (N, d1, ...). Entries whose target equals
    ignore_index give 0 and are left out of the mean, which divides by the sum of the
    weights of the counted targets. The entry is picked with `gather` along dim 1.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "nll_loss")
    x, target, unbatched = _batched(as_tensor(input, "nll_loss"), target)
    index, valid = class_targets(x, target, "nll_loss", ignore_index)
    picked, wt, valid = _picked(x, index, valid, _class_weights(weight, x, "nll_loss"))
    if unbatched and reduction == "none":
        return -picked.reshape(())
    if reduction == "none":
        return -picked
    if reduction == "sum":
        return -picked.sum()
    return _mean(picked.sum(), _count(x, wt, valid))


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
        q = target if isinstance(target, Tensor) else constant_leaf(np.array(t, copy=True))
        q = q.to(x.dtype)
        if eps:
            q = q * (1.0 - eps) + eps / n_classes
        if w is not None:
            q = q * w.reshape((1, -1) + (1,) * (x.ndim - 2))
        loss = -(logp * q).sum(1)
        if unbatched and reduction == "none":
            return loss.reshape(())
        return reduce_loss(loss, reduction, "cross_entropy")
    index, valid = class_targets(x, target, "cross_entropy", ignore_index)
    picked, wt, valid = _picked(logp, index, valid, w)
    if not eps and reduction != "none":             # the total only
        total = picked.sum()
        return -total if reduction == "sum" else _mean(total, _count(x, wt, valid))
    loss = -picked
    if eps:
        loss = loss * (1.0 - eps)
        per_class = logp * w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w is not None else logp
        smooth = per_class.sum(1) * (-eps / n_classes)
        if valid is not None:
            smooth = smooth * valid
        loss = loss + smooth
    if unbatched and reduction == "none":
        return loss.reshape(())
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return _mean(-loss.sum(), _count(x, wt, valid))


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
        target = constant_leaf(np.asarray(target, dtype=x.dtype))
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
    return v if isinstance(v, Tensor) else constant_leaf(np.asarray(v, dtype=like.dtype))


def _target_like(target: Any, x: Tensor) -> Tensor:
    return target if isinstance(target, Tensor) else \
        constant_leaf(np.asarray(target, dtype=x.dtype))


def _clamped_log(x: Tensor, one_minus: bool) -> Tensor:
    """max(log(x), -100), or max(log1p(-x), -100): PyTorch's clamp of BCE's logs.

    Where the log is -inf (x = 0, or x = 1 for log1p(-x)) the log sees a harmless 1 (or 0)
    and a `where` puts -100 in its place, so no 0 * inf = nan reaches the gradient.
    """
    a = x._data
    ok = a < 1 if one_minus else a > 0          # a constant mask: where the log is finite
    if ok.all():
        lg = (-x).log1p() if one_minus else x.log()
    else:
        safe = where(ok, x, 0.0 if one_minus else 1.0)
        lg = where(ok, (-safe).log1p() if one_minus else safe.log(), -100.0)
    return lg.clamp(min=-100.0)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities x in [0, 1] against targets t in [0, 1]:

        loss = -w [t max(log x, -100) + (1 - t) max(log(1 - x), -100)]

    (log(1 - x) computed as log1p(-x); w = weight, broadcast to the input, default 1). The
    clamp at -100 is PyTorch's: a probability of exactly 0 or 1 gives a finite loss.
    The gradients are the derivatives of that expression: (x - t) / (x (1 - x)) for x where
    no clamp is active, and the clamped log(1 - x) - log(x) for t, finite everywhere.
    (PyTorch's hand-written backward divides by max(x (1 - x), 1e-12) instead and uses the
    unclamped logs for t, +-inf at x = 0 or 1; the two agree wherever x (1 - x) >= 1e-12.)
    Prefer binary_cross_entropy_with_logits.

    >>> F.binary_cross_entropy(minigrad.tensor([0.9, 0.2]), minigrad.tensor([1.0, 0.0]))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "binary_cross_entropy")
    x = as_tensor(input, "binary_cross_entropy")
    t = _target_like(target, x)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"Using a target size ({t.size()}) that is different to the input "
                         f"size ({x.size()}) is deprecated. Please ensure they have the same "
                         f"size.")
    a, b = x._data, t._data
    if not ((a >= 0) & (a <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not ((b >= 0) & (b <= 1)).all():
        raise RuntimeError("all elements of target should be between 0 and 1")
    loss = -(t * _clamped_log(x, False) + (1.0 - t) * _clamped_log(x, True))
    if weight is not None:
        loss = loss * _const(weight, x)
    return reduce_loss(loss, reduction, "binary_cross_entropy")


def kl_div(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with input = log q (log-probabilities) and target p:

        loss = p (log p - log q)            (0 where p = 0: x log x -> 0)
        loss = exp(t) (t - log q)           with log_target (t = log p; stable for tiny p)

    reduction 'batchmean' (the KL divergence of the definition) sums and divides by the
    batch size input.size(0); 'mean' divides by every element (PyTorch warns about that).

    >>> F.kl_div(q.log_softmax(1), p, reduction="batchmean")
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                      "the support size.'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition.'mean' will be changed to "
                      "behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if reduction != "batchmean":
        check_reduction(reduction, "kl_div")
    x = as_tensor(input, "kl_div")
    t = _target_like(target, x)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        zero = t._data == 0            # x log x is 0 at 0; log sees a harmless 1 there
        safe = where(zero, 1.0, t) if zero.any() else t
        loss = t * safe.log() - t * x
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.ndim else total
    return reduce_loss(loss, reduction, "kl_div")
