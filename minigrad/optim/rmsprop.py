"""RMSprop, PyTorch's rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, constant_leaf
from ..functions.creation import zeros_like
from .optimizer import Optimizer, number


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's rule. Per step, with g = grad:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2                       ("square_avg")
        m = alpha * m + (1 - alpha) * g   (centered: as m.lerp_(g, 1 - alpha), "grad_avg")
        d = sqrt(v - m^2) + eps (centered)  or  sqrt(v) + eps
        b = momentum * b + g / d;  p = p - lr * b               (momentum > 0)
        p = p - lr * g / d                                      (otherwise)
    maximize negates g first. eps is added outside the square root (as PyTorch; Hinton's
    slides put it inside). The state holds a 0-d "step" tensor, "square_avg", and
    "momentum_buffer" / "grad_avg" when momentum > 0 / centered.

    >>> opt = RMSprop(model.parameters(), lr=1e-2, alpha=0.99)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: Any = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _validate(self, group: dict[str, Any]) -> None:
        for key, name in (("lr", "learning rate"), ("eps", "epsilon value"),
                          ("momentum", "momentum value"),
                          ("weight_decay", "weight_decay value"), ("alpha", "alpha value")):
            if number(group[key], name) < 0:
                raise ValueError(f"Invalid {name}: {group[key]}")

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, momentum = group["weight_decay"], group["momentum"]
        if not state:
            state["step"] = constant_leaf(np.zeros((), dtype=np.float64))
            state["square_avg"] = zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        if group["maximize"]:
            g = -g
        state["step"].add_(1)
        if wd != 0:
            g = g.add(p, alpha=wd)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", zeros_like(p))
            grad_avg.lerp_(g, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()   # var = E g^2 - (E g)^2
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", zeros_like(p))
            buf.mul_(momentum).addcdiv_(g, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)
