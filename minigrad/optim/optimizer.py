"""Optimizers: SGD (momentum, Nesterov), Adam (AMSGrad) and AdamW, with PyTorch's update rules.

`step()` updates each parameter's `.data` in place with numpy (no graph is recorded) and skips
parameters whose `.grad` is None. `params` is an iterable of Tensors, or of dicts (parameter
groups: {"params": [...], "lr": ..., ...}; missing options take the optimizer's defaults).
`state_dict()` has PyTorch's layout:
    {"state": {index: {name: array or number}}, "param_groups": [{..., "params": [indices]}]}
with parameters numbered across groups in order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .engine import enable_grad
from ._tensor import Tensor, zero_grads

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _grad_array(p: Tensor) -> np.ndarray | None:
    g = p.grad
    if g is None:
        return None
    return g.data if isinstance(g, Tensor) else g


def _number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise ValueError(f"Invalid {name}: {v!r} (a number is expected)")
    return float(v)


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state dicts."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check the hyperparameters of one group (subclasses)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("param group has no 'params'")
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i})")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError("some parameters appear more than once (in this group or in "
                             "another group)")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"unknown option(s) in param group: {sorted(unknown)}")
        group = {k: param_group.get(k, v) for k, v in self.defaults.items()}
        self._validate(group)
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (default), or to zeros in place."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update every parameter of `group` that has a gradient."""
        for p in group["params"]:
            g = _grad_array(p)
            if g is not None:
                self._update(p, g, group, self.state.setdefault(p, {}))

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        raise NotImplementedError

    # ---- state dicts --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {...copies...}}, "param_groups": [{options, "params": [indices]}]}"""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed = {k: v for k, v in group.items() if k != "params"}
            if isinstance(packed.get("betas"), tuple | list):
                packed["betas"] = tuple(packed["betas"])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {k: np.array(v, copy=True) if isinstance(v, np.ndarray)
                                           else v for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict()` (arrays are copied and cast to
        each parameter's dtype). The groups must have the same sizes as this optimizer's."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict contains a parameter group {i} of "
                                 f"{len(saved['params'])} parameters that doesn't match the "
                                 f"size of optimizer's group ({len(group['params'])})")
        by_index: dict[int, Tensor] = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for idx, p in zip(saved["params"], group["params"]):
                by_index[int(idx)] = p
        new_state: dict[Tensor, dict[str, Any]] = {}
        for idx, s in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                continue
            entry = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray) and v.ndim > 0:
                    if v.shape != p.shape:
                        raise ValueError(f"loaded state {k!r} of parameter {idx} has shape "
                                         f"{v.shape}, the parameter has shape {p.shape}")
                    entry[k] = np.array(v, dtype=p.dtype, copy=True)
                elif isinstance(v, np.ndarray):
                    entry[k] = v.item()
                else:
                    entry[k] = v
            new_state[p] = entry
        for saved, group in zip(saved_groups, self.param_groups):
            options = {k: v for k, v in saved.items() if k != "params"}
            if isinstance(options.get("betas"), list | np.ndarray):
                options["betas"] = tuple(float(b) for b in options["betas"])
            trial = {**group, **options}
            self._validate(trial)
            group.update(options)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's rule). Per step, with g = grad:
        g = g + weight_decay * p
        b = g (first step) or momentum * b + (1 - dampening) * g
        g = g + momentum * b (nesterov) or b
        p = p - lr * g                  (maximize: p + lr * g)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        lr = _number(group["lr"], "learning rate")
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if _number(group["momentum"], "momentum value") < 0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (must be >= 0)")
        _number(group["dampening"], "dampening")
        if _number(group["weight_decay"], "weight_decay value") < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} "
                             f"(must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got nesterov=True, momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _step_group(self, group: dict[str, Any]) -> None:
        """Plain SGD (no momentum, no weight decay, not maximize) is p -= lr * g with nothing
        else per parameter; other groups take the general path."""
        if group["momentum"] or group["weight_decay"] or group["maximize"]:
            super()._step_group(group)
            return
        lr = group["lr"]
        for p in group["params"]:
            g = _grad_array(p)
            if g is not None:
                data = p.data                 # (`p.data -= ...` would run the setter too)
                data -= lr * g

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        data = p.data
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * data
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=data.dtype, copy=True)
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba), PyTorch's rule. Per step t, with g = grad:
        g = g + weight_decay * p            (Adam: L2 penalty in the gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)               (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _validate(self, group: dict[str, Any]) -> None:
        lr = _number(group["lr"], "learning rate")
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if _number(group["eps"], "epsilon value") < 0:
            raise ValueError(f"Invalid epsilon value: {group['eps']} (must be >= 0)")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (two numbers are expected)")
        for i, b in enumerate(betas):
            if not 0.0 <= _number(b, f"beta parameter at index {i}") < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b} (betas must be in "
                                 f"[0, 1))")
        group["betas"] = tuple(float(b) for b in betas)
        if _number(group["weight_decay"], "weight_decay value") < 0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} "
                             f"(must be >= 0)")

    def _update(self, p: Tensor, g: np.ndarray, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        data = p.data
        if group["maximize"]:
            g = -g
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(data)
        if wd != 0:
            if self._decoupled:
                data *= 1 - lr * wd
            else:
                g = g + wd * data
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            vmax = state.setdefault("max_exp_avg_sq", np.zeros_like(data))
            np.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t)
        denom += eps
        data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): before the Adam step
        p = p * (1 - lr * weight_decay)
    and the gradient itself is not changed. Default weight_decay = 1e-2.
    """

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
