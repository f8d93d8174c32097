"""`Parameter` and `Module`, the base of every layer (the containers are in containers.py).

A Module registers `Parameter`s, buffers and submodules by attribute assignment and walks
them for `parameters()`, `state_dict()`, `train()`/`eval()`, `to(dtype)`, ... Calling a module
runs its `forward` inside `minigrad.engine.scope(name, kind)`, so every op a layer records
carries the layer's name (its attribute name in the parent; for a root module its `name`
attribute if set, else the class name) and kind (the class name); scopes nest as calls do.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import dtypes
from .._tensor import Tensor, _wrap, as_array, constant_leaf, zero_grads
from ..engine import STATE, Scope, no_grad
from .hooks import RemovableHandle, add_hook, call_with_hooks

__all__ = ["Parameter", "Module", "IncompatibleKeys"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter (requires_grad=True).

    Ops on Parameters return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 label: str = "") -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, label=label)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# The modules whose forward is running, innermost last (to name a module by its parent).
_CALLS: list[Module] = []


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x._data if isinstance(x, Tensor) else x))


class Module:
    """Base class of every layer. Subclasses call `super().__init__()` and define `forward`.

    >>> class MLP(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = Linear(4, 8)        # a submodule, registered as "fc1"
    ...     def forward(self, x):
    ...         return self.fc1(x).relu()
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        for hooks in ("_forward_hooks", "_forward_hooks_with_kwargs",
                      "_forward_hooks_always_called", "_forward_pre_hooks",
                      "_forward_pre_hooks_with_kwargs"):
            object.__setattr__(self, hooks, OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{self._get_name()}] is missing the required '
                                  f'"forward" function')

    def _get_name(self) -> str:
        return type(self).__name__

    # ---- calling, with the scope --------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run `forward` inside `scope(name, kind=class name)`, with the forward hooks (and
        their ops) around it, inside the same scope."""
        d = self.__dict__
        if not _CALLS and not d.get("_labelled"):
            self._label_parameters()
        if STATE.tracer is not None:        # minigrad.compile: the program depends on it
            STATE.tracer.guard(lambda: self.training, f"{type(self).__name__}.training",
                               key=(id(self), "training"))
            if not _CALLS:
                STATE.tracer.name_module(self)
        outer = STATE.scope                 # `with scope(...)`, inlined: a hot path
        key = d.get("_registered_as")       # the usual name, at once (else _scope_name)
        if not (_CALLS and key is not None and _CALLS[-1].__dict__["_modules"].get(key) is self):
            key = self._scope_name()
        STATE.scope = Scope(key, type(self).__name__, outer)
        _CALLS.append(self)
        try:
            if d.get("_forward_hooks") or d.get("_forward_pre_hooks"):
                return call_with_hooks(self, args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            _CALLS.pop()
            STATE.scope = outer

    def _label_parameters(self) -> None:
        """Give unlabelled parameters their qualified name ("0.weight"), so pictures and the
        stepper can name them."""
        for name, p in self.named_parameters():
            if not p.label:
                p.label = name
        object.__setattr__(self, "_labelled", True)

    def _scope_name(self) -> str:
        """The attribute name in the calling parent, else the `name` the user set, else the
        name under which the module was last registered, else the class name."""
        d = self.__dict__
        if _CALLS:
            siblings = _CALLS[-1]._modules
            key = d.get("_registered_as")
            if key is not None and siblings.get(key) is self:      # the usual case, at once
                return key
            for key, child in siblings.items():
                if child is self:
                    return key
        name = d.get("name")
        if isinstance(name, str) and name:
            return name
        if _CALLS and d.get("_registered_as"):
            return d["_registered_as"]
        return type(self).__name__

    # ---- registration -------------------------------------------------------------------
    def _check_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to {type(self).__name__} before "
                                 f"Module.__init__() was called (call super().__init__())")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init()
            self._forget(name, "_parameters")
            d["_parameters"][name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._forget(name, "_modules")
            d["_modules"][name] = value
            value.__dict__["_registered_as"] = name
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                f"(a Parameter or None is expected)")
            d["_parameters"][name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"{name!r} (a Module or None is expected)")
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            d["_buffers"][name] = self._as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str = "") -> None:
        """Drop `name` from the instance dict and the registries other than `keep` (the one
        about to receive it: replacing an entry keeps its place, as PyTorch's)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                d[registry].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent"].discard(name)

    @staticmethod
    def _as_buffer(name: str, value: Any) -> Any:
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, np.ndarray):           # numpy's spelling: kept as a tensor
            return constant_leaf(as_array(value))
        raise TypeError(f"cannot assign '{type(value).__name__}' object to buffer '{name}' "
                        f"(torch Tensor or None required)")

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            reg = d.get(registry)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            reg = d.get(registry)
            if reg is not None and name in reg:
                del reg[name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _check_name(self, name: Any, what: str) -> None:
        self._check_init()
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{what} name can't be empty or contain \".\", got {name!r}")
        if name in self.__dict__ and not any(name in self.__dict__[r] for r in
                                             ("_parameters", "_buffers", "_modules")):
            raise KeyError(f"attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under `name`."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            f"(a Parameter or None is expected)")
        self._forget(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None,
                        persistent: bool = True) -> None:
        """Add a buffer: state that is not a parameter (e.g. running statistics).

        A buffer is a Tensor (a numpy array is made one) or None. Persistent buffers are part
        of `state_dict()`.
        """
        self._check_name(name, "buffer")
        value = self._as_buffer(name, tensor)
        self._forget(name, "_buffers")
        self._buffers[name] = value
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule (or a None placeholder) under `name`."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module")
        self._forget(name, "_modules")
        self._modules[name] = module
        if module is not None:
            module.__dict__["_registered_as"] = name

    register_module = add_module

    # ---- hooks --------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call hook(module, args) before every forward; a non-None return replaces args
        (see minigrad.nn.hooks). Returns a handle whose remove() unregisters it."""
        return add_hook(self._forward_pre_hooks, hook, prepend,
                        [self._forward_pre_hooks_with_kwargs] if with_kwargs else [])

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call hook(module, args, output) after every forward; a non-None return replaces
        the output (e.g. to record activations for a histogram). Returns a handle whose
        remove() unregisters it."""
        extras = ([self._forward_hooks_with_kwargs] if with_kwargs else []) + \
            ([self._forward_hooks_always_called] if always_call else [])
        return add_hook(self._forward_hooks, hook, prepend, extras)

    # ---- walking the tree ---------------------------------------------------------------
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module ("") and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), e.g. ("0.weight", ...); shared parameters once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, buffer), e.g. ("1.running_mean", ...)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path `target` ("" is self), e.g. "encoder.0.fc"."""
        if target == "":
            return self
        mod: Any = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def _get_member(self, target: str, registry: str, what: str) -> Any:
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod.__dict__[registry]:
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(mod, name)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path `target`, e.g. "0.weight"."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Any:
        """The buffer at the dotted path `target`, e.g. "1.running_mean"."""
        return self._get_member(target, "_buffers", "a buffer")

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every submodule (children first) and on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, dtypes -------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():          # through train(), as PyTorch: an override
            child.train(mode)                   # in a submodule is respected
        return self

    def eval(self) -> Module:
        """train(False): e.g. BatchNorm uses its running statistics, Dropout does nothing."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default), or to zeros in place."""
        zero_grads(self.parameters(), set_to_none)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """to(dtype), to(device), to(tensor): convert every floating parameter, gradient and
        buffer in place on the module (the same Tensor objects); returns self. Integer
        buffers stay as they are; the only device is the CPU."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a not in dtypes._BY_NAME or type(a).__name__ == "device":
                from ..device import check_device
                check_device(a, "Module.to")
            else:
                dtype = a
        if "device" in kwargs:
            from ..device import check_device
            check_device(kwargs["device"], "Module.to")
        if dtype is None:
            return self
        dt = dtypes.to_numpy(dtype)
        if dt.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtypes.from_numpy_dtype(dt)}")
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p._data.dtype.kind == "f":
                    p._data = p._data.astype(dt, copy=False)
                    if p._grad is not None:
                        p._grad._data = p._grad._data.astype(dt, copy=False)
            for b in m._buffers.values():
                if isinstance(b, Tensor) and b._data.dtype.kind == "f":
                    b._data = b._data.astype(dt, copy=False)
        return self

    def cpu(self) -> Module:
        """The only device: returns self."""
        return self

    def float(self) -> Module:
        """to(float32)"""
        return self.to(np.float32)

    def double(self) -> Module:
        """to(float64)"""
        return self.to(np.float64)

    # ---- state dicts --------------------------------------------------------------------
    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """(key, tensor or array) in PyTorch's order: own parameters, own persistent buffers,
        then each child's, recursively (shared tensors appear under every name)."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_items(f"{prefix}{name}.")

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """An ordered dict of name -> tensor for every parameter and persistent buffer
        ("0.weight", "1.running_mean", "1.num_batches_tracked", ...), as PyTorch's: detached
        tensors that SHARE the module's storage (so training changes them; copy with
        `{k: v.clone() ...}` or `copy.deepcopy`). With keep_vars the parameters themselves."""
        out: OrderedDict = OrderedDict() if destination is None else destination
        for key, value in self._state_items(prefix):
            out[key] = value if keep_vars else value.detach()
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers (into their existing arrays,
        keeping their dtype).

        Every problem is collected first and reported in one RuntimeError, and nothing is
        changed then: missing and unexpected keys (only when strict) and shape mismatches
        (always). Returns (missing_keys, unexpected_keys).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = np.asarray(value._data if isinstance(value, Tensor) else value)
            if arr.shape != _shape(target):
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {arr.shape} from "
                    f"checkpoint, the shape in current model is {_shape(target)}.")
            values[key] = arr
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
        errors += mismatched
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, arr in values.items():
                own[key].copy_(_wrap(np.array(arr, dtype=own[key]._data.dtype)))
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's one-line repr."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: Name(extra) on one line, or one line per extra line and per
        child "(name): repr", indented by two spaces."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {addindent(repr(child), 2)}"
                       for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def addindent(text: str, spaces: int) -> str:
    """Indent every line but the first by `spaces` (blank lines stay empty)."""
    first, *rest = text.split("\n")
    if not rest:
        return text
    return "\n".join([first] + [" " * spaces + line if line.strip() else "" for line in rest])
