"""`minigrad.compile`: a function of tensors (a training step that may call `backward()` and
`opt.step()`, or a plain function with `minigrad.grad` inside) recorded once as a straight
program of numpy calls, and replayed.

    step = minigrad.compile(train_step)   # train_step(x, y) builds the loss, calls
    loss = step(x, y)                     # loss.backward() and opt.step(), returns the loss
    print(step.source)                    # the generated numpy code of the last trace

The first call for a signature runs the function for real while recording it (`trace.py`);
later calls run the recorded program on the new inputs and on the current values of every
tensor it reads (parameters, buffers, gradients, optimizer state), with the same effects:
`.grad`, parameters, running statistics and optimizer state are updated as eager mode updates
them. A new trace is made when the signature changes (input shapes, dtypes, requires_grad,
Python numbers passed in, grad mode) or when something the program depends on changed
(`train()`/`eval()`, an optimizer's options, which gradients and state exist).

As with `jax.jit` or `torch.jit.trace`, Python control flow is frozen at trace time: an `if`
on a Python value takes the branch it took then. Reading a tensor's value in Python inside the
function (`.item()`, `bool(t)`, `.tolist()`) is an error (`CompileError`), and so is drawing
random numbers other than dropout's; a call that fails while tracing is rolled back (state as
before the call). numpy arrays passed in reach the function as tensors over the same memory.
Returned tensors carry no graph.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from .._tensor import Tensor, _new_version, _wrap
from ..engine import STATE, bump, is_grad_enabled
from . import buffers
from .codegen import Names, fusable, source_of, writes_into
from .passes import optimize
from .trace import CompileError, Stmt, Tracer, Var

__all__ = ["CompileError", "Compiled", "compile"]


def compile(fn: Callable | None = None, **options: Any) -> Any:  # noqa: A001  (PyTorch's)
    """Compile `fn` (also usable as a decorator, with or without options)."""
    if fn is None:
        return lambda f: Compiled(f)
    return Compiled(fn)


class Compiled:
    """A compiled function: call it as the original; `source` is the last trace's code."""

    def __init__(self, fn: Callable) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.programs: dict[tuple, list[Program]] = {}
        self.source: str | None = None
        self.traces = 0                       # how many times it was traced
        self.program: Program | None = None   # the last trace's program

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if STATE.tracer is not None:          # inside another trace: just run it
            return self.fn(*args, **kwargs)
        if np.ndarray in map(type, args):
            args = tuple(_wrap(a) if type(a) is np.ndarray else a for a in args)
        if kwargs:
            kwargs = {k: _wrap(a) if type(a) is np.ndarray else a for k, a in kwargs.items()}
        key = _signature(args, kwargs)
        for prog in reversed(self.programs.get(key, ())):     # the latest first
            state = prog.state_arrays()
            if state is not None:
                return prog.run(args, kwargs, state)
        prog, result = self._trace(args, kwargs)
        self.programs.setdefault(key, []).append(prog)
        return result

    def _trace(self, args: tuple, kwargs: dict) -> tuple[Program, Any]:
        tensors = _tensors_in(args, kwargs)
        tracer = Tracer(tensors, _argument_names(self.fn, args, kwargs))
        STATE.tracer = tracer
        try:
            result = self.fn(*args, **kwargs)
        except BaseException:
            STATE.tracer = None
            tracer.rollback()                  # the failed call leaves no half-done step
            raise
        finally:
            STATE.tracer = None
        self.traces += 1
        prog = Program(tracer, result, _identifier(getattr(self.fn, "__name__", "step")))
        self.source = prog.source
        self.program = prog
        flat, spec = _flatten(result)          # as a replay's: results carry no graph
        return prog, _unflatten(spec, [x.detach() if isinstance(x, Tensor) else x
                                       for x in flat])


def _argument_names(fn: Callable, args: tuple, kwargs: dict) -> list[str]:
    """The names of the tensor arguments in `fn`'s signature ("x", "y"; "args_0" for *args)."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return [f"arg{k}" for k in range(len(_tensors_in(args, kwargs)))]
    by_id: dict[int, str] = {}
    for name, value in bound.arguments.items():
        items = value.items() if isinstance(value, dict) else (
            enumerate(value) if isinstance(value, tuple) and name not in
            ("self",) and inspect.signature(fn).parameters[name].kind
            == inspect.Parameter.VAR_POSITIONAL else [(None, value)])
        for key, item in items:
            if isinstance(item, Tensor):
                by_id.setdefault(id(item), name if key is None else f"{name}_{key}")
    return [by_id.get(id(t), f"arg{k}") for k, t in enumerate(_tensors_in(args, kwargs))]


def _identifier(name: str) -> str:
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "step"
    return name if not name[0].isdigit() and name != "_lambda_" else "step"


def _tensors_in(args: tuple, kwargs: dict) -> list[Tensor]:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]


def _signature(args: tuple, kwargs: dict) -> tuple:
    """What a trace is specialised to: tensors by shape, dtype and requires_grad, numbers by
    value, anything else by identity; and grad mode."""
    return (tuple(map(_part, args)), tuple((k, _part(v)) for k, v in sorted(kwargs.items())),
            is_grad_enabled())


def _part(a: Any) -> Any:
    """One argument's part of the signature."""
    if isinstance(a, Tensor):
        return ("T", a._data.shape, a._data.dtype, a._rg)
    if isinstance(a, bool | int | float | str | type(None)):
        return ("S", type(a).__name__, a)
    if isinstance(a, tuple | list):
        return ("L", tuple(map(_part, a)))
    return ("O", id(a))


class Program:
    """One trace, as generated code, with what it reads and what it sets."""

    def __init__(self, tracer: Tracer, result: Any, title: str) -> None:
        tracer.labels()
        self.guards = tracer.guards
        flat, self.spec = _flatten(result)
        outputs: list[Var | None] = []
        self.returned: list[Any] = []          # per flat item: ("var", k) or ("value", x)
        for item in flat:
            if isinstance(item, Tensor):
                v = tracer.vars.get(id(item._data))
                if v is None or v.array is not item._data:
                    v = tracer.var(item)
                self.returned.append(("var", len(outputs)))
                outputs.append(v)
            else:
                self.returned.append(("value", item))
        # gradients the program sets (a gradient accumulated into the leaf's existing .grad
        # in place stays that tensor: nothing to set)
        self.grads = [(leaf, v) for leaf, v in tracer.grads.values()
                      if v is None or v.grad_of is not leaf]
        n_returned = len(outputs)
        outputs += [v for _, v in self.grads]

        def new_const(v: Var, value: np.ndarray) -> None:
            v.kind, v.array, v.name = "const", value, "const"

        stmts, outputs = optimize(tracer.stmts, outputs, new_const,
                                  lambda kind, arr, name: tracer._new(kind, arr, None, name))
        stmts = stmts + _own_outputs(tracer, stmts, outputs)
        self.stmts = stmts
        for (leaf, _), v in zip(self.grads, outputs[n_returned:]):
            if v is not None:
                v.name = "d_" + tracer.name_of(leaf)      # what it is: d loss / d fc0_weight
        used = {v.id for st in stmts for v in st.ins} | {v.id for v in outputs if v}
        self.state = [v for v in tracer.all_vars if v.kind == "state" and v.id in used]
        self.inputs = tracer.inputs
        self.written = [v for v in self.state if v.writes]
        names = Names()
        names.taken.add(title)
        names.buffers, self.buffers = buffers.plan(stmts, outputs, writes_into, fusable)
        for b in self.buffers:
            names.taken.add(b.name)
        for v in [*self.inputs, *self.state]:
            names.var(v)
        self.source = source_of(stmts, [*self.inputs, *self.state], outputs, names, title)
        self.live = [obj for _, obj in names.live]       # passed as they are at each call
        self.parameters = [(names.var(v), v.read()) for v in [*self.inputs, *self.state]]
        self.parameters += names.live
        self.results = ["None" if v is None else names.var(v) for v in outputs]
        namespace: dict[str, Any] = {}
        code = builtins.compile(self.source, f"<minigrad.compile {title}>", "exec")
        exec(code, namespace)  # noqa: S102  (our own generated source)
        self.function = namespace[title]
        self.state_shapes = [(v.read, v.shape, v.dtype) for v in self.state]
        self.n_returned = sum(1 for kind, _ in self.returned if kind == "var")

    def state_arrays(self) -> list[np.ndarray] | None:
        """The arrays of the tensors the program reads, if it still describes the function
        (its guards hold and every tensor it reads has the shape and dtype it had); else
        None."""
        arrays = []
        for read, shape, dtype in self.state_shapes:
            t = read()
            if t is None:
                return None
            a = t._data
            if a.shape != shape or a.dtype != dtype:
                return None
            arrays.append(a)
        for guard in self.guards:
            if not guard.holds():
                return None
        return arrays

    def run(self, args: tuple, kwargs: dict, state: list[np.ndarray]) -> Any:
        """One replay, with the arrays `state_arrays` returned."""
        arrays: list[Any] = [t._data for t in _tensors_in(args, kwargs)]
        outs = self.function(*arrays, *state, *self.live)
        for (leaf, v), arr in zip(self.grads, outs[self.n_returned:]):
            leaf._grad = None if v is None else _wrap(arr if type(arr) is np.ndarray
                                                      else np.asarray(arr))
        for v in self.written:                 # the in-place changes, as eager would count
            t = v.read()
            ver = t._ver
            bump(ver if ver is not None else _new_version(t))
        flat = [_wrap(np.asarray(outs[k])) if kind == "var" else k for kind, k in self.returned]
        return _unflatten(self.spec, flat)


def _own_outputs(tracer: Tracer, stmts: list, outputs: list[Var | None]) -> list:
    """Copies that make every result an array of its own, as eager mode's are: a result that
    is a constant, an input, state, a view, or the same array as another result."""
    views = {st.out.id for st in stmts if not st.inplace and st.op.view}
    seen: set[int] = set()
    copies = []
    for k, v in enumerate(outputs):
        if v is None:
            continue
        if v.kind != "temp" or v.id in views or v.id in seen:
            copy = tracer._new("temp", v.array, None, v.name if v.kind == "temp" else
                               f"{v.name}_copy")
            copies.append(Stmt(ops.Clone, None, [v], copy, False, "backward"))
            outputs[k] = copy
            v = copy
        seen.add(v.id)
    return copies


def _flatten(x: Any) -> tuple[list, Any]:
    if isinstance(x, tuple | list):
        items, specs = [], []
        for y in x:
            f, s = _flatten(y)
            items += f
            specs.append((len(f), s))
        return items, (type(x), specs)
    return [x], None


def _unflatten(spec: Any, flat: list) -> Any:
    if spec is None:
        return flat[0]
    kind, specs = spec
    out, k = [], 0
    for n, s in specs:
        out.append(_unflatten(s, flat[k:k + n]))
        k += n
    return kind(out) if kind is not tuple else tuple(out)


_ = np  # (numpy is the generated code's library)
