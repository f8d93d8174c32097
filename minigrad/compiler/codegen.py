"""From a recorded program to Python source: one numpy call per line, variables named after
labels, parameter names and nn scopes, comments marking forward, backward and update.

Each op writes its own line (`Op.emit` in ops/, beside its forward and backward); an in-place
op writes into its target the way `inplace` does at run time (a ufunc with `out=`, the op's
own in-place form, or its forward copied in), so the program computes exactly what eager mode
computes, bit for bit.
"""

from __future__ import annotations

import builtins
import keyword
import pickle
import re
from typing import Any

import numpy as np

from .. import ops
from . import passes
from .trace import Stmt, Var


class Names:
    """Readable, unique Python names for vars, and the module-level constants the source
    defines (small arrays as literals, uniform ones with np.full, the rest from their bytes;
    op classes imported from minigrad.ops), so that the source runs on its own."""

    def __init__(self) -> None:
        self.taken: set[str] = {"np", "pickle"}
        self.of_var: dict[int, str] = {}
        self.header: list[str] = []
        self.imports: set[str] = set()
        self._const_ids: dict[Any, str] = {}
        self._keep: list[Any] = []          # the constants named (their ids stay theirs)
        self.buffers: dict[int, Any] = {}   # var id -> the Buffer its statement writes into
        self.live: list[tuple[str, Any]] = []   # objects passed in at each call (generators)

    def fresh(self, stem: str) -> str:
        stem = re.sub(r"\W+", "_", stem).strip("_") or "t"
        if stem[0].isdigit():
            stem = "v" + stem
        name, k = stem, 1
        if keyword.iskeyword(stem) or stem in _BUILTINS:
            name = stem + "_"
        while name in self.taken:
            k += 1
            name = f"{stem}_{k}"
        self.taken.add(name)
        return name

    def var(self, v: Var) -> str:
        name = self.of_var.get(v.id)
        if name is None and v.kind == "const":
            name = self.of_var[v.id] = self.const(v.array)
        if name is None:
            name = self.of_var[v.id] = self.fresh(v.name)
        return name

    def const(self, value: Any) -> str:
        """Source for an op parameter: a literal when it is one, else a named constant."""
        if isinstance(value, bool | int | str | type(None)) or value is Ellipsis:
            return repr(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return f"float({str(value)!r})"
            return repr(value)
        if isinstance(value, tuple | list) and all(_is_literal(x) for x in value):
            return repr(type(value)(value)) if value else repr(value)
        if isinstance(value, slice) and all(_is_literal(x) for x in
                                            (value.start, value.stop, value.step)):
            return repr(value)
        if isinstance(value, np.dtype):
            return f"np.dtype({value.str!r})"
        if isinstance(value, np.generic):
            return f"np.{value.dtype.name}({value.item()!r})"
        if isinstance(value, type) and issubclass(value, ops.Op):
            self.imports.add(value.__name__)
            self.taken.add(value.__name__)
            return value.__name__
        if isinstance(value, np.ufunc) or getattr(np, getattr(value, "__name__", ""),
                                                   None) is value:
            return f"np.{value.__name__}"
        if isinstance(value, np.random.Generator):      # live state: a parameter
            name = self._const_ids.get(id(value))
            if name is None:
                name = self._const_ids[id(value)] = self.fresh("rng")
                self.live.append((name, value))
            return name
        key: Any = id(value)
        if isinstance(value, np.ndarray) and value.size <= 16:   # equal small ones: one name
            key = (value.dtype.str, value.shape, value.tobytes())
        name = self._const_ids.get(key)
        if name is None:
            stem = "k" if isinstance(value, np.ndarray) else type(value).__name__.lower()
            if _definition(value).startswith("np.arange("):
                stem = "arange"
            name = self._const_ids[key] = self.fresh(stem)
            self._keep.append(value)
            self.header.append(f"{name} = {_definition(value)}")
        return name


def _is_literal(x: Any) -> bool:
    return isinstance(x, bool | int | float | str | type(None)) and x == x


_BUILTINS = set(dir(builtins))


def _definition(value: Any) -> str:
    """Python source that rebuilds `value` (an array, or anything that pickles)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        dt = f"np.dtype({value.dtype.str!r})"
        flat = value.ravel()
        finite = value.dtype.kind != "f" or bool(np.isfinite(value).all())
        if value.size and finite and bool((flat == flat[0]).all()) and value.size > 1:
            return f"np.full({value.shape!r}, {flat[0].item()!r}, dtype={dt})"
        if value.dtype.kind in "iu" and np.array_equal(flat, np.arange(value.size)):
            return f"np.arange({value.size}, dtype={dt}).reshape({value.shape!r})"
        if finite and value.size <= 16:
            return f"np.array({value.tolist()!r}, dtype={dt})"
        data = np.ascontiguousarray(value).tobytes().hex()
        return f"np.frombuffer(bytes.fromhex({data!r}), dtype={dt}).reshape({value.shape!r})"
    return f"pickle.loads(bytes.fromhex({pickle.dumps(value).hex()!r}))"


class _Ctx:
    """What an op's `emit` may ask: `c(value)` for a parameter's source, the inputs'
    `c.shapes` and `c.dtypes`."""

    def __init__(self, names: Names, ins: list[Var]) -> None:
        self._names = names
        self.shapes = [v.shape for v in ins]
        self.dtypes = [v.dtype for v in ins]

    def __call__(self, value: Any) -> str:
        return self._names.const(value)


def _literal(st: Stmt, k: int) -> str | None:
    """A 0-d constant input of an elementwise statement as a Python number, where numpy
    gives the same result for both: the other operands have its dtype (a Python number
    takes the dtype of the array it meets)."""
    v = st.ins[k]
    if v.kind != "const" or v.array.ndim or v.dtype.kind not in "biuf" \
            or not passes.elementwise(st):
        return None
    others = [u for j, u in enumerate(st.ins) if j != k
              and not (st.op is ops.Where and j == 0)]
    if not others or any(u.dtype != v.dtype for u in others):
        return None
    x = v.array.item()
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return None
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def writes_into(st: Stmt) -> bool:
    """Whether `st`'s op can write its result into a given array."""
    c = _Ctx(Names(), st.ins)
    return st.op.emit_into(["a"] * len(st.ins), st.saved, c, "out") is not None


def fusable(st: Stmt) -> bool:
    """Whether `st` may write over one of its (same-shaped) inputs."""
    return passes.elementwise(st) or st.op is ops.Relu


def line_of(st: Stmt, names: Names) -> str:
    """The source line(s) of one statement."""
    args = [_literal(st, k) or names.var(v) for k, v in enumerate(st.ins)]
    c = _Ctx(names, st.ins)
    if not st.inplace:
        buf = names.buffers.get(st.out.id)
        code = st.op.emit_into(args, st.saved, c, buf.name) if buf is not None else None
        first, *more = (code or st.op.emit(args, st.saved, c)).split("\n")
        name = names.var(st.out)
        if buf is not None:             # later lines say the result's name, not the buffer's
            more = [re.sub(rf"\b{buf.name}\b", name, line) for line in more]
        return "\n    ".join([f"{name} = {first}", *more])
    # in place: exactly `_write`'s choice of how to write into the target
    t = args[0]
    op, saved = st.op, st.saved
    if op.ufunc is not None and saved is None:
        if len(args) == 1:
            return f"np.{op.ufunc.__name__}({t}, out={t})"
        if len(args) == 2 and st.ins[1].dtype == st.ins[0].dtype:
            return f"np.{op.ufunc.__name__}({t}, {args[1]}, out={t})"
    if op is ops.Add:
        other = args[1] if saved is None else f"{args[1]} * {c(saved)}"
        return f"np.add({t}, {other}, out={t}, casting='unsafe')"
    if op is ops.SetItem:
        index = ops.shape.index_source(saved, args[2:])
        return f"{t}[{index}] = {args[1]}"
    if hasattr(op, "inplace"):
        return f"{c(op)}.inplace({t}, [{', '.join(args)}], {c(saved)})"
    return f"np.copyto({t}, {op.emit(args, saved, c)}, casting='unsafe')"


def source_of(stmts: list[Stmt], params: list[Var], outputs: list[Var | None],
              names: Names, title: str) -> str:
    """The whole module: imports, constants, then the function (its parameters, its
    statements by section, its return)."""
    head = [names.var(v) for v in params]
    body: list[str] = []
    section = None
    for st in stmts:
        if st.section != section:
            section = st.section
            body.append(f"    # ---- {section}")
        body.append("    " + line_of(st, names))
    outs = ", ".join("None" if v is None else names.var(v) for v in outputs)
    body.append(f"    return ({outs}{',' if len(outputs) == 1 else ''})")
    body.insert(0, f"def {title}({', '.join(head + [name for name, _ in names.live])}):")
    parts = {"forward": "the forward pass", "backward": "the backward pass minigrad derived",
             "update": "the update"}
    present = [parts[s] for s in parts if any(st.section == s for st in stmts)] or ["nothing"]
    what = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " and " + present[-1]
    top = [f'"""{title}, as minigrad.compile recorded it: numpy code for {what}."""', "",
           "import numpy as np"]
    if any("pickle.loads" in line for line in names.header):
        top.insert(3, "import pickle")
        top.insert(4, "")
    if names.imports:
        top.append(f"from minigrad.ops import {', '.join(sorted(names.imports))}")
    top.append("")
    if names.header:
        top += names.header + [""]
    planned = list({id(b): b for b in names.buffers.values()}.values())
    if planned:
        top.append("# arrays reused at every call (results are written into them with out=)")
        top += [f"{b.name} = np.empty({b.shape!r}, dtype=np.dtype({b.dtype.str!r}))"
                for b in sorted(planned, key=lambda b: int(b.name[3:]))]
        top.append("")
    return "\n".join(top + [""] + body) + "\n"
