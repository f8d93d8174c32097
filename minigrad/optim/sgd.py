"""Stochastic gradient descent, PyTorch's rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import ops
from .._inplace import inplace
from .._tensor import Tensor
from ..functions.shaping import clone
from .optimizer import Optimizer, number


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's rule). Per step, with g = grad:
        g = g + weight_decay * p
        b = g (first step) or momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov) or b
        p = p - lr * g                  (maximize: p + lr * g)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: Any = None,
                 differentiable: bool = False, fused: Any = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _validate(self, group: dict[str, Any]) -> None:
        lr = number(group["lr"], "learning rate")
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if number(group["momentum"], "momentum value") < 0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        number(group["dampening"], "dampening")
        if number(group["weight_decay"], "weight_decay value") < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group: dict[str, Any]) -> None:
        """Plain SGD (no momentum, no weight decay, not maximize) is p -= lr * g with nothing
        else per parameter; other groups take the general path."""
        if group["momentum"] or group["weight_decay"] or group["maximize"]:
            super()._step_group(group)
            return
        lr = group["lr"]
        if type(lr) not in (float, int):          # a tensor lr: add_ multiplies it in
            for p in group["params"]:
                if p._grad is not None:
                    p.add_(p._grad, alpha=-lr)
            return
        alpha = -float(lr)
        for p in group["params"]:
            g = p._grad
            if g is not None:
                inplace(p, ops.Add, g, alpha)     # p.add_(g, alpha=-lr), without its wrapper

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g.add(p, alpha=wd)
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = clone(g)
            else:
                buf.mul_(mu).add_(g, alpha=1 - group["dampening"])
            g = g.add(buf, alpha=mu) if group["nesterov"] else buf
        p.add_(g, alpha=-lr)
