"""The optimizer base: parameter groups, per-parameter state, zero_grad, state dicts.

`step()` updates each parameter in place with the Tensor's in-place ops under `no_grad` (as
PyTorch's optimizers do: each update bumps the parameter's version, so a backward through a
graph that saved the old value raises instead of computing with the new one, and
`minigrad.compile` sees the update as ops), skipping parameters whose `.grad` is None.
`params` is an iterable of Tensors, or of dicts (parameter groups: {"params": [...], "lr": ...,
...}; missing options take the optimizer's defaults). `state_dict()` has PyTorch's layout:
    {"state": {index: {name: tensor or number}}, "param_groups": [{..., "params": [indices]}]}
with parameters numbered across groups in order.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap, zero_grads
from ..engine import STATE, enable_grad, no_grad

__all__ = ["Optimizer"]

# option values a compiled step's guard compares as they are (others by their repr)
_PLAIN = (int, float, bool, str, type(None))


# keys a group may carry besides the optimizer's options: set by schedulers, or names
_GROUP_KEYS = {"params", "param_names", "initial_lr", "max_lr", "min_lr", "max_momentum",
               "base_momentum"}


def _check_flags(group: dict[str, Any]) -> None:
    """PyTorch's implementation switches (foreach, fused, capturable, differentiable) are
    kept in each group, so state dicts have PyTorch's keys. minigrad always runs the
    single-tensor loop: foreach / fused / capturable change nothing."""
    if group.get("differentiable"):
        raise NotImplementedError("differentiable=True is not supported: minigrad's "
                                  "optimizers update under no_grad")
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def number(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise ValueError(f"Invalid {name}: {v!r} (a number is expected)")
    return float(v)


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad, state dicts."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
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
        """Add a group of parameters with its own options (defaults fill the rest).

        `params` may hold Tensors or (name, Tensor) pairs (`model.named_parameters()`, as
        PyTorch accepts): the names are kept in the group as "param_names"."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("param group has no 'params'")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections,"
                            " but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
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
        unknown = set(param_group) - set(self.defaults) - _GROUP_KEYS
        if unknown:
            raise ValueError(f"unknown option(s) in param group: {sorted(unknown)}")
        group = {k: param_group.get(k, v) for k, v in self.defaults.items()}
        group.update({k: v for k, v in param_group.items()
                      if k in _GROUP_KEYS and k not in ("params", "param_names")})
        self._validate(group)
        _check_flags(group)
        group["params"] = params
        if names:
            group["param_names"] = names
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
        if STATE.tracer is not None:      # minigrad.compile: the update depends on these
            STATE.tracer.guard(self._structure, f"{type(self).__name__}'s options and state",
                               key=(id(self), "structure"))
            STATE.tracer.section = "update"
            params = [p for g in self.param_groups for p in g["params"]]
            STATE.tracer.note_grads(params)
            STATE.tracer.guard_grads_at_start(params)
            before = {p: dict(entry) for p, entry in self.state.items()}
            STATE.tracer.on_rollback(lambda: (self.state.clear(), self.state.update(before)))
            for p, entry in self.state.items():     # names for the program: "fc0_weight_exp_avg"
                for key, value in entry.items():
                    if isinstance(value, Tensor):
                        STATE.tracer.name(value, f"{STATE.tracer.name_of(p)}_{key}")
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _structure(self) -> tuple:
        """The Python side of the optimizer an update depends on: every group's options and
        which state entries exist. (Which parameters have a gradient is guarded as it was
        when the call began: `Tracer.guard_grads_at_start`.)"""
        groups = tuple(tuple((k, v if type(v) in _PLAIN and v == v else repr(v))   # (nan)
                             for k, v in g.items() if k != "params") for g in self.param_groups)
        params = tuple(tuple(sorted(self.state[p])) if p in self.state else ()
                       for g in self.param_groups for p in g["params"])
        return groups, params

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update every parameter of `group` that has a gradient (under no_grad)."""
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is not None:
                self._update(p, g, group, state[p])

    def _update(self, p: Tensor, g: Tensor, group: dict[str, Any],
                state: dict[str, Any]) -> None:
        """The update rule of one parameter (subclasses), with Tensor ops."""
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
                    state[index[id(p)]] = dict(s)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict()` (tensors and arrays are copied,
        per-parameter ones cast to the parameter's dtype, "step" to float64). The groups must
        have the same sizes as this optimizer's. A state dict of PyTorch's whose tensors are
        turned into minigrad's loads too."""
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
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for idx, s in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                continue
            entry = {}
            for k, v in s.items():
                arr = v._data if isinstance(v, Tensor) else v
                if k == "step" and isinstance(arr, np.ndarray | numbers.Real):
                    # the count computes the bias corrections with tensor ops: keep it float64
                    # (PyTorch's may be float32; it reads it as a Python float)
                    entry[k] = _wrap(np.array(arr, dtype=np.float64))
                elif isinstance(arr, np.ndarray) and arr.ndim > 0:
                    if arr.shape != p._data.shape:
                        raise ValueError(f"loaded state {k!r} of parameter {idx} has shape "
                                         f"{arr.shape}, the parameter has shape "
                                         f"{tuple(p._data.shape)}")
                    entry[k] = _wrap(np.array(arr, dtype=p._data.dtype, copy=True))
                elif isinstance(arr, np.ndarray):
                    entry[k] = _wrap(np.array(arr, copy=True))
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
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):     # PyTorch's layout, blank lines too
            text += f"\nParameter Group {i}\n"
            for k in sorted(group):
                if k != "params":
                    text += f"    {k}: {group[k]}\n"
        return text + ")"
