"""From a recorded program to Python source: one numpy call per line, variables named after
labels, parameter names and nn scopes, comments marking forward, backward and update.

Each op writes its own line (`Op.emit` in ops/, beside its forward and backward); an in-place
op writes into its target the way `inplace` does at run time (a ufunc with `out=`, the op's
own in-place form, or its forward copied in), so the program computes exactly what eager mode
computes, bit for bit.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .. import ops
from .trace import Stmt, Var

_LITERAL = (type(None), bool, int, float, str)


class Names:
    """Readable, unique Python names for vars and constants."""

    def __init__(self) -> None:
        self.taken: set[str] = {"np", "ops"}
        self.of_var: dict[int, str] = {}
        self.consts: dict[str, Any] = {"np": np, "ops": ops}
        self._const_ids: dict[int, str] = {}

    def fresh(self, stem: str) -> str:
        stem = re.sub(r"\W+", "_", stem).strip("_") or "t"
        if stem[0].isdigit():
            stem = "v" + stem
        name, k = stem, 1
        while name in self.taken:
            k += 1
            name = f"{stem}_{k}"
        self.taken.add(name)
        return name

    def var(self, v: Var) -> str:
        name = self.of_var.get(v.id)
        if name is None:
            name = self.of_var[v.id] = self.fresh(v.name)
        return name

    def const(self, value: Any) -> str:
        """Source for an op parameter: a literal when it is one, else a named constant."""
        if isinstance(value, _LITERAL) and not isinstance(value, float):
            return repr(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return f"float({str(value)!r})"
            return repr(float(value))
        if isinstance(value, tuple) and all(isinstance(x, _LITERAL) for x in value):
            return repr(tuple(value))
        if isinstance(value, np.dtype):
            return f"np.dtype({value.name!r})"
        key = id(value)
        name = self._const_ids.get(key)
        if name is None:
            stem = getattr(value, "__name__", None) or type(value).__name__.lower()
            if isinstance(value, np.ndarray):
                stem = "k"
            name = self._const_ids[key] = self.fresh(stem)
            self.consts[name] = value
        return name


class _Ctx:
    """What an op's `emit` may ask: `c(value)` for a parameter's source, `c.shapes`."""

    def __init__(self, names: Names, shapes: list[tuple[int, ...]]) -> None:
        self._names = names
        self.shapes = shapes

    def __call__(self, value: Any) -> str:
        return self._names.const(value)


def line_of(st: Stmt, names: Names) -> str:
    """The source line(s) of one statement."""
    args = [names.var(v) for v in st.ins]
    c = _Ctx(names, [v.shape for v in st.ins])
    if not st.inplace:
        return f"{names.var(st.out)} = {st.op.emit(args, st.saved, c)}"
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
    """The whole function: parameters, the statements by section, the return."""
    head = ", ".join(names.var(v) for v in params)
    lines = [f"def {title}({head}):"]
    section = None
    for st in stmts:
        if st.section != section:
            section = st.section
            lines.append(f"    # ---- {section}")
        lines.append("    " + line_of(st, names))
    outs = ", ".join("None" if v is None else names.var(v) for v in outputs)
    lines.append(f"    return ({outs}{',' if len(outputs) == 1 else ''})")
    return "\n".join(lines) + "\n"
