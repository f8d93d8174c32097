"""Regression losses, composed from primitives (no backward code): mean squared error,
mean absolute error, smooth L1 and Huber. Each compares input and target elementwise (they
broadcast, with PyTorch's warning when their sizes differ) and reduces with `reduction`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._tensor import Tensor, constant_leaf
from ...functions.pointwise import where
from ._common import as_tensor, check_reduction, legacy_reduction, reduce_loss


def _difference(input: Tensor, target: Any, what: str) -> tuple[Tensor, Tensor]:
    """(input as a Tensor, input - target), warning as PyTorch when the sizes differ."""
    x = as_tensor(input, what)
    t = target if isinstance(target, Tensor) else constant_leaf(np.asarray(target, dtype=x.dtype))
    if tuple(t.shape) != tuple(x.shape):
        warnings.warn(f"Using a target size ({t.size()}) that is different to the input size "
                      f"({x.size()}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
    return x, x - t


def _reduce(loss: Tensor, x: Tensor, weight: Any, reduction: str, what: str,
            by_weight: bool) -> Tensor:
    """Reduce `loss`, weighted elementwise by `weight` (of the input's size) if given: then
    'mean' is sum(w loss) / sum(w) (by_weight) or the plain mean of w loss."""
    if weight is None:
        return reduce_loss(loss, reduction, what)
    w = weight if isinstance(weight, Tensor) else constant_leaf(np.asarray(weight, dtype=x.dtype))
    if tuple(w.shape) != tuple(x.shape):
        raise ValueError("Weights and input must have the same size.")
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', "
                         f"'mean', 'sum'.")
    loss = loss * w
    if reduction == "mean":
        return loss.sum() / w.sum() if by_weight else loss.mean()
    return loss if reduction == "none" else loss.sum()


def mse_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error: (input - target)**2, reduced ('mean' with a weight w:
    sum(w (x - t)**2) / sum(w)).

    >>> F.mse_loss(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 4.0]))   # tensor(2.)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        check_reduction(reduction, "mse_loss")
    x, d = _difference(input, target, "mse_loss")
    return _reduce(d * d, x, weight, reduction, "mse_loss", True)


def l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean absolute error: |input - target|, reduced ('mean' with a weight w:
    sum(w |x - t|) / sum(w)). The gradient at x = t is 0 (sign(0), as PyTorch).

    >>> F.l1_loss(minigrad.tensor([1.0, 2.0]), minigrad.tensor([1.0, 4.0]))    # tensor(1.)
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        check_reduction(reduction, "l1_loss")
    x, d = _difference(input, target, "l1_loss")
    return _reduce(d.abs(), x, weight, reduction, "l1_loss", True)


def smooth_l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """With d = input - target:  0.5 d**2 / beta  where |d| < beta,  |d| - 0.5 beta
    elsewhere (beta = 0: |d|). Quadratic near 0, linear (robust) far away; the two pieces
    meet with the same slope at |d| = beta."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _, d = _difference(input, target, "smooth_l1_loss")
    ad = d.abs()
    if beta == 0:
        return reduce_loss(ad, reduction, "smooth_l1_loss")
    loss = where(ad < beta, d * 0.5 * d / beta, ad - 0.5 * beta)
    return reduce_loss(loss, reduction, "smooth_l1_loss")


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """With d = input - target:  0.5 d**2  where |d| < delta,  delta (|d| - 0.5 delta)
    elsewhere; = delta * smooth_l1_loss(beta=delta). A weight w of the input's size
    multiplies the elementwise loss ('mean' stays the plain mean)."""
    if weight is None:
        check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, d = _difference(input, target, "huber_loss")
    ad = d.abs()
    loss = where(ad < delta, d * 0.5 * d, (ad - 0.5 * delta) * delta)
    return _reduce(loss, x, weight, reduction, "huber_loss", False)
