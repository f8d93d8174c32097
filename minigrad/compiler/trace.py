"""Recording a step as a program: every array operation the step makes, in order.

Tracing runs the function for real (eagerly, with its real inputs) while the engine reports to
a `Tracer` each op it applies (`apply`), each in-place write (`inplace`), each gradient a
backward stores on a leaf, and each Python-level value the program depends on (a module's
train/eval flag, an optimizer's hyperparameters: the *guards*). The backward runs its rules on
tensors during tracing (as for create_graph, but recording no graph), so the derived backward
is made of the same primitive ops as the forward and is recorded the same way.

A value is a `Var`: an array the program computes (`temp`), an argument of the call
(`input`), an array it reads from a tensor that exists before the call (`state`: parameters,
buffers, gradients, optimizer state, read again at every call), or a constant the function
made itself (`const`). Reading a tensor's value in Python (`.item()`, `bool(t)`, `.tolist()`)
while tracing is an error: the value would be frozen into the program.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import STATE


class CompileError(RuntimeError):
    """What a compiled function does cannot be recorded as a fixed program."""


class Var:
    """One array of the program."""

    __slots__ = ("id", "kind", "name", "shape", "dtype", "array", "owner", "read", "grad_of",
                 "writes", "section", "tensor")

    def __init__(self, vid: int, kind: str, array: np.ndarray, owner: Any, name: str,
                 section: str) -> None:
        self.id = vid
        self.kind = kind                  # "input", "state", "const" or "temp"
        self.array = array                # its value at trace time (kept alive while tracing)
        self.owner = owner                # the Tensor an input/state array is read from
        self.read = lambda: owner         # ... at each call (a gradient: the leaf's .grad)
        self.grad_of: Any = None          # the leaf whose .grad this state var is
        self.tensor: Any = None           # a temp's tensor while tracing (for its label)
        self.name = name
        self.shape = array.shape
        self.dtype = array.dtype
        self.writes = 0                   # in-place writes into it
        self.section = section

    def __repr__(self) -> str:
        return f"Var({self.name}, {self.kind}, {self.shape})"


class Stmt:
    """One op of the program: `out = op(*ins)`, or, `inplace`, `ins[0] op= ...` in place."""

    __slots__ = ("op", "saved", "ins", "out", "inplace", "section")

    def __init__(self, op: Any, saved: Any, ins: list[Var], out: Var, inplace: bool,
                 section: str) -> None:
        self.op = op
        self.saved = saved
        self.ins = ins
        self.out = out
        self.inplace = inplace
        self.section = section


class Guard:
    """A Python-level value the program was recorded under (checked before each replay)."""

    __slots__ = ("read", "value", "what")

    def __init__(self, read: Any, value: Any, what: str) -> None:
        self.read = read
        self.value = value
        self.what = what

    def holds(self) -> bool:
        try:
            return self.read() == self.value
        except Exception:  # noqa: BLE001  (an object gone or changed shape: retrace)
            return False


class Tracer:
    """Collects the program of one call (see the module docstring)."""

    def __init__(self, inputs: list[Any], names: list[str] | None = None) -> None:
        self.stmts: list[Stmt] = []
        self.vars: dict[int, Var] = {}           # id(array) -> Var
        self.all_vars: list[Var] = []
        self.inputs: list[Var] = []
        self.guards: list[Guard] = []
        self.grads: dict[int, tuple[Any, Var | None]] = {}   # id(leaf) -> (leaf, grad Var)
        self.constants: set[int] = set()         # ids of arrays made as constants in the call
        self.unrecorded: dict[int, np.ndarray] = {}  # arrays made in the call outside any op
        self.owners: dict[int, Any] = {}         # id(tensor) -> the tensor it aliases
        self.grad_leaves: dict[int, Any] = {}    # id(a .grad tensor) -> its leaf
        self.view_base: dict[int, Var] = {}      # a view's var id -> the var it views
        self._saved_arrays: dict[int, tuple] = {}   # what rollback() restores
        self._saved_grads: dict[int, tuple] = {}
        self._undo: list[Any] = []
        self.section = "forward"
        self.prefix = ""                         # the name stem of what is being computed
        self._guard_keys: set = set()
        self._rule_start = 0
        self._rule_g: Var | None = None
        self._rule_node: Var | None = None
        self.names: dict[int, tuple[Any, str]] = {}   # id(tensor) -> (tensor, readable name)
        self._named_modules: set[int] = set()
        for k, t in enumerate(inputs):
            name = t.label or (names[k] if names else f"arg{k}")
            self.inputs.append(self._new("input", t._data, t, name))
        self.note_grads(inputs)

    # ---- vars ---------------------------------------------------------------------------
    def _new(self, kind: str, array: np.ndarray, owner: Any, name: str) -> Var:
        v = Var(len(self.all_vars), kind, array, owner, name, self.section)
        self.vars[id(array)] = v
        self.all_vars.append(v)
        return v

    def var(self, t: Any) -> Var:
        """The Var of a tensor's current array (an array first met here is state, or a
        constant the function made)."""
        arr = t._data
        v = self.vars.get(id(arr))
        if v is not None and v.array is arr:
            return v
        if id(arr) in self.constants:
            return self._new("const", arr, None, "const")
        if id(arr) in self.unrecorded:
            raise CompileError(
                f"minigrad.compile: an array of shape {arr.shape} was computed outside "
                f"minigrad's ops while tracing (a function that reads raw data, or a value "
                f"made from Python values that was not marked as a constant); it cannot be "
                f"replayed. This is a gap in minigrad: please report the function involved.")
        owner = self.owners.get(id(t), t)
        if owner._data is not arr:               # an alias whose owner moved on: a constant
            return self._new("const", arr, None, "const")
        v = self._new("state", arr, owner, self.name_of(owner))
        leaf = self.grad_leaves.get(id(owner))
        if leaf is not None and leaf._grad is owner:      # read as "leaf.grad" at each call
            v.grad_of = leaf
            v.read = lambda: leaf._grad
            v.name = "d_" + self.name_of(leaf)
            self.guard(lambda: leaf._grad is not None, "whether a gradient exists",
                       key=(id(leaf), "grad"))
        return v

    def note_grads(self, leaves: Any) -> None:
        """These tensors' `.grad` tensors, if they have one, are gradients (a program reads
        them through the leaf at each call: `.grad` may be a new tensor by then)."""
        for leaf in leaves:
            self._saved_grads.setdefault(id(leaf), (leaf, leaf._grad))   # for rollback
            if leaf._grad is not None:
                self.grad_leaves[id(leaf._grad)] = leaf

    def on_rollback(self, undo: Any) -> None:
        """Call `undo()` if the trace fails (Python-side state the function changed)."""
        self._undo.append(undo)

    def rollback(self) -> None:
        """Undo what the failed traced call changed: arrays written in place, gradients set,
        and what `on_rollback` registered (an error leaves the state as before the call)."""
        for arr, before in self._saved_arrays.values():
            np.copyto(arr, before)
        for leaf, grad in self._saved_grads.values():
            leaf._grad = grad
        for undo in reversed(self._undo):
            undo()

    def constant(self, arr: np.ndarray) -> None:
        """`arr` was made inside the call from Python values (it is baked in)."""
        self.constants.add(id(arr))
        self.unrecorded.pop(id(arr), None)

    def made(self, arr: np.ndarray) -> None:
        """A tensor was made around `arr` without an op (it must turn out to be a constant,
        an alias, or an op's result; anything else is an error when the program reads it)."""
        if id(arr) not in self.vars and id(arr) not in self.constants:
            self.unrecorded[id(arr)] = arr

    def alias(self, new: Any, owner: Any) -> None:
        """`new` is a view of `owner`'s storage made without an op (`.data`, `detach()`)."""
        self.owners[id(new)] = self.owners.get(id(owner), owner)
        self.unrecorded.pop(id(new._data), None)

    # ---- names ---------------------------------------------------------------------------
    def name(self, t: Any, name: str) -> None:
        """Call tensor `t` `name` in the program (parameters, buffers, optimizer state)."""
        self.names.setdefault(id(t), (t, name))

    def name_of(self, t: Any) -> str:
        known = self.names.get(id(t))
        if known is not None and known[0] is t:
            return known[1]
        label = getattr(t, "label", "")
        if label:
            return label
        v = self.vars.get(id(t._data))
        return v.name if v is not None and v.kind == "input" else "state"

    def labels(self) -> None:
        """Labels set on tensors after they were made name their vars (then the tracer lets
        the tensors go)."""
        for v in self.all_vars:
            t, v.tensor = v.tensor, None
            if t is not None and t.label and not v.name.startswith("d_"):
                v.name = t.label

    def name_module(self, module: Any) -> None:
        """Name a module's parameters and buffers after their place in it, with the layer
        kind: "fc0_weight" for "0.weight" of a Linear, "bn1_running_mean", "encoder_fc_bias"."""
        if id(module) in self._named_modules:
            return
        self._named_modules.add(id(module))
        kinds = {prefix: type(m).__name__ for prefix, m in module.named_modules()}
        self.note_grads(module.parameters())
        for qualified, t in [*module.named_parameters(), *module.named_buffers()]:
            parts = qualified.split(".")
            stems = [_stem(kinds.get(".".join(parts[:k + 1]), ""), part)
                     for k, part in enumerate(parts[:-1])]
            self.name(t, "_".join([*stems, parts[-1]]))

    # ---- what the engine reports --------------------------------------------------------
    def record(self, out: Any, op: Any, parents: tuple, saved: Any) -> None:
        ins = [self.var(p) for p in parents]
        name = out.label or self.prefix or _scoped(STATE.scope, op.name)
        self.unrecorded.pop(id(out._data), None)
        v = self._new("temp", out._data, None, name)
        v.tensor = out
        if op.view and op.makes_view(saved):
            self.view_base[v.id] = ins[0]
        self.stmts.append(Stmt(op, saved, ins, v, False, self.section))

    def before_write(self, t: Any) -> None:
        """`t` is about to be changed in place. If its storage is a constant of the program
        (directly or through views), that constant becomes a fresh copy made at the start of
        every call, of the value it has now."""
        root = self.var(t)
        while root.id in self.view_base:
            root = self.view_base[root.id]
        if root.kind in ("state", "input") and root.id not in self._saved_arrays:
            self._saved_arrays[root.id] = (root.array, root.array.copy())   # for rollback
        if root.kind == "const":
            from ..ops import Clone
            value = self._new("const", root.array.copy(), None, "const")
            root.kind, root.name = "temp", "buffer"
            self.stmts.insert(0, Stmt(Clone, None, [value], root, False, "forward"))

    def record_inplace(self, t: Any, op: Any, others: tuple, saved: Any) -> None:
        target = self.var(t)
        ins = [target] + [self.var(o) for o in others]
        target.writes += 1
        self.stmts.append(Stmt(op, saved, ins, target, True, self.section))

    def backward_of(self, node: Any, g: Any = None) -> None:
        """The backward rule of `node` runs now: what it records is named after it
        ("bn1_var_bwd"), and the shares it sends after their parents (`share`)."""
        self.section = "backward"
        v = self.vars.get(id(node._data))
        self.prefix = (v.name if v is not None else node._op.name) + "_bwd"
        self._rule_start = len(self.all_vars)
        self._rule_g = None if g is None else self.vars.get(id(g._data))
        self._rule_node = v

    def share(self, parent: Any, g: Any) -> None:
        """`g` is (part of) the gradient with respect to `parent`: call it d_<parent>."""
        v = self.vars.get(id(g._data))
        p = self.vars.get(id(parent._data))
        if v is None or v.kind != "temp" or p is None:
            return
        if v.id >= self._rule_start:
            v.name = "d_" + p.name
        elif v is self._rule_g and self._rule_node is not None \
                and v.name == "d_" + self._rule_node.name:
            v.name = "d_" + p.name        # passed on unchanged (x + eps): the input's name

    def backward_done(self) -> None:
        self.section = "update"
        self.prefix = ""

    def hint(self, t: Any, name: str) -> None:
        """Name what `t` is in the program ("var", "xhat"), within the current nn scope."""
        v = self.vars.get(id(t._data))
        if v is not None and v.kind == "temp" and not t.label:
            v.name = _scoped(STATE.scope, name)

    def differentiated(self, t: Any) -> None:
        """`t.backward()` is called: `t` is a loss (so named, unless the user labelled it)."""
        v = self.var(t)
        if v.kind == "temp" and not t.label:
            v.name = "loss"

    def set_grad(self, leaf: Any, grad: Any) -> None:
        """A backward (or zero_grad) set `leaf.grad` to `grad` (a tensor or None)."""
        self.grads[id(leaf)] = (leaf, None if grad is None else self.var(grad))

    def guard(self, read: Any, what: str, key: Any = None) -> None:
        """The program depends on the Python value `read()` (re-checked at each call); one
        guard per `key`."""
        if key is not None:
            if key in self._guard_keys:
                return
            self._guard_keys.add(key)
        self.guards.append(Guard(read, read(), what))

    def guard_grads_at_start(self, leaves: Any) -> None:
        """The program depends on which of `leaves` had a `.grad` when the call began (not
        when the guard is made: the function itself may have set or cleared them since)."""
        for leaf in leaves:
            key = (id(leaf), "grad at start")
            if key in self._guard_keys:
                continue
            self._guard_keys.add(key)
            start = self._saved_grads.get(id(leaf), (leaf, leaf._grad))[1]
            self.guards.append(Guard(lambda leaf=leaf: leaf._grad is None, start is None,
                                     "whether a gradient exists"))

    def reads_value(self, t: Any, how: str) -> None:
        raise CompileError(
            f"minigrad.compile: {how} reads a tensor's value in Python while the function is "
            f"traced; a compiled program is fixed, so that value (and any branch taken on it) "
            f"would be frozen. Return the tensor and read it outside the compiled function, "
            f"or compute with tensor ops (torch.where instead of if).")


_SHORT = {"BatchNorm1d": "bn", "Linear": "fc", "LayerNorm": "ln", "Embedding": "emb",
          "ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Dropout": "drop"}


def _stem(kind: str, name: str) -> str:
    """A layer's name in the program: its attribute name, or, for a numbered layer of a
    Sequential, a short form of its kind with the number ("fc0", "bn1")."""
    if name.isdigit():
        return f"{_SHORT.get(kind, kind.lower())}{name}"
    return name


def _scoped(sc: Any, name: str) -> str:
    """A name with the nn scope `sc` it is made in: "bn1_mean" for a mean in layer "1" of
    kind BatchNorm1d, "fc2_linear", ...; the name alone outside any layer."""
    if sc is None or not sc.kind:
        return name
    stem = _stem(sc.kind, sc.name)
    return stem if stem.rstrip("0123456789") == name else f"{stem}_{name}"
