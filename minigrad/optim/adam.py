"""Adam and AdamW, PyTorch's rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, constant_leaf
from ..functions.creation import zeros_like
from ..functions.pointwise import maximum
from .optimizer import Optimizer, number


class Adam(Optimizer):
    """Adam (Kingma and Ba), PyTorch's rule. Per step t, with g = grad:
        g = g + weight_decay * p            (Adam: L2 penalty in the gradient)
        m = beta1 * m + (1 - beta1) * g     (as m.lerp_(g, 1 - beta1))
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)               (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    With decoupled_weight_decay=True (AdamW) the decay is p = p * (1 - lr * weight_decay)
    before the step instead. The step count t is a 0-d tensor in the state (as PyTorch's),
    and the bias corrections are computed from it with tensor ops, so a compiled step keeps
    counting.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: Any = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: Any = None,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _validate(self, group: dict[str, Any]) -> None:
        lr = number(group["lr"], "learning rate")
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if number(group["eps"], "epsilon value") < 0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (two numbers are expected)")
        for i, b in enumerate(betas):
            if not 0.0 <= number(b, f"beta parameter at index {i}") < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        group["betas"] = tuple(float(b) for b in betas)
        if number(group["weight_decay"], "weight_decay value") < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            g = -g
        if not state:
            state["step"] = constant_leaf(np.zeros((), dtype=np.float64))
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(p)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                g = g.add(p, alpha=wd)
        step = state["step"]
        step.add_(1)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if group["amsgrad"]:
            vmax = state.setdefault("max_exp_avg_sq", zeros_like(p))
            vmax.copy_(maximum(vmax, v))
            v = vmax
        bias1 = 1.0 - beta1 ** step
        bias2_sqrt = (1.0 - beta2 ** step) ** 0.5
        step_size = lr / bias1
        denom = (v.sqrt() / bias2_sqrt).add_(eps)
        p.addcdiv_(m, denom, value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): before the Adam step
        p = p * (1 - lr * weight_decay)
    and the gradient itself is not changed. Default weight_decay = 1e-2.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Any = None, capturable: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
