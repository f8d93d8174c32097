"""Adagrad, PyTorch's rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, constant_leaf
from ..functions.creation import full_like
from .optimizer import Optimizer, number


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer), PyTorch's rule. Per step t, with g = grad:
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                          ("sum", starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)
    maximize negates g first. As in PyTorch the state ("step", a 0-d tensor, and "sum") is
    made for every parameter when the optimizer is built, so `state_dict()` has it before
    the first step; "sum" starts at the constructor's initial_accumulator_value even in a
    group that gives its own (PyTorch's quirk, kept).

    >>> opt = Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: Any = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Any = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                # PyTorch fills "sum" from the constructor's value, not the group's
                self._init_state(p, initial_accumulator_value, self.state[p])

    @staticmethod
    def _init_state(p: Tensor, initial: float, state: dict[str, Any]) -> None:
        state["step"] = constant_leaf(np.zeros((), dtype=np.float64))
        state["sum"] = full_like(p, initial)

    def _validate(self, group: dict[str, Any]) -> None:
        for key, name in (("lr", "learning rate"), ("lr_decay", "lr_decay value"),
                          ("weight_decay", "weight_decay value"),
                          ("initial_accumulator_value", "initial_accumulator_value value"),
                          ("eps", "epsilon value")):
            if number(group[key], name) < 0:
                raise ValueError(f"Invalid {name}: {group[key]}")

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        if not state:                 # a parameter added by add_param_group
            self._init_state(p, group["initial_accumulator_value"], state)
        step = state["step"]
        step.add_(1)
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])   # a 0-d tensor
        state_sum = state["sum"]
        state_sum.addcmul_(g, g, value=1)
        std = state_sum.sqrt().add_(group["eps"])
        p.addcdiv_(g, std, value=-clr)
