"""Simplifying a recorded program before code generation.

A program is a list of `Stmt` (one op each, in order) over `Var`s. The passes rewrite it
without changing a single number it computes (every rewrite below gives the same bits):

- `fold_constants`: a statement whose inputs are all constants is computed now, once;
- `simplify`: the identities that backward rules produce: `x * 1`, `x + 0`, a `Cast` of a
  boolean mask that is only multiplied (numpy multiplies by the mask's 0/1 directly), a
  broadcast (`Expand`) that only feeds elementwise ops (which broadcast anyway), `x + x`
  as `x * 2`, a `Clone` of a fresh array nobody else reads;
- `eliminate_common`: the same op on the same inputs (same versions) computed once;
- `live`: the statements the outputs need (dead code: gradients nobody reads); in-place
  writes into state always stay (they are the step's effects).

Each pass returns the new statement list and a map of replaced vars (old id -> Var), which
`Program` applies to its outputs. `count_passes` counts the full-size array passes of a
program (the measure demo 2 prints).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .trace import Stmt, Var

# ops whose emitted code is a numpy expression that broadcasts its operands (so that a
# broadcast input can be given unbroadcast, and a 0-d constant as a Python number)
_ELEMENTWISE = {ops.Add, ops.Sub, ops.Mul, ops.Div, ops.Maximum, ops.Where}


def elementwise(st: Stmt) -> bool:
    """Whether `st`'s code is a numpy expression that broadcasts its operands."""
    op = st.op
    return (op in _ELEMENTWISE or (op.ufunc is not None and op is not ops.Cast)
            or (op is ops.NoGrad and isinstance(st.saved, np.ufunc)))


class _Uses:
    """Who reads each var, which arrays are views of which, and which are ever written in
    place (a write into a view writes its base: both count as written)."""

    def __init__(self, stmts: list[Stmt], outputs: list[Var | None]) -> None:
        self.readers: dict[int, list[Stmt]] = {}
        self.outputs = {v.id for v in outputs if v is not None}
        self.base: dict[int, Var] = {}        # a view's var -> the var it views
        self.defined_by: dict[int, Stmt] = {st.out.id: st for st in stmts if not st.inplace}
        written_roots: set[int] = set()
        for st in stmts:
            for v in st.ins:
                self.readers.setdefault(v.id, []).append(st)
            if st.inplace:
                written_roots.add(self.root(st.out).id)
            elif st.op.view:
                self.base[st.out.id] = st.ins[0]
        self.written = written_roots

    def root(self, v: Var) -> Var:
        while v.id in self.base:
            v = self.base[v.id]
        return v

    def is_written(self, v: Var) -> bool:
        return self.root(v).id in self.written

    def private(self, v: Var) -> bool:
        """A fresh array of the program that nothing writes in place and that is no view."""
        return v.kind == "temp" and v.id not in self.base and not self.is_written(v)

    def n_readers(self, v: Var) -> int:
        return len(self.readers.get(v.id, ())) + (v.id in self.outputs)


def _replace(stmts: list[Stmt], old: Var, new: Var) -> None:
    """`new` stands for `old` from here on (read, or written in place)."""
    for st in stmts:
        st.ins = [new if v is old else v for v in st.ins]
        if st.inplace and st.out is old:
            st.out = new


def _is_const(v: Var, value: float) -> bool:
    """A constant with every element equal to `value` (x + 0 drops the sign of a zero x:
    the only difference these rewrites allow)."""
    return (v.kind == "const" and v.array.dtype.kind in "biuf" and v.array.size > 0
            and bool(np.all(v.array == value)))


def _same_result(v: Var, like: Var) -> bool:
    """`like` can stand for `v` (same shape and dtype)."""
    return v.shape == like.shape and v.dtype == like.dtype


def fold_constants(stmts: list[Stmt], new_const: Any) -> list[Stmt]:
    """Compute now the statements whose inputs are all constants (pure ops only; not a
    result that is written in place later, nor a view)."""
    written = {st.out.id for st in stmts if st.inplace}
    kept = []
    for st in stmts:
        if not st.inplace and st.ins and all(v.kind == "const" for v in st.ins) \
                and not _effectful(st.op) and st.out.id not in written:
            value = np.asarray(st.op.forward([v.array for v in st.ins], st.saved))
            flat = value.ravel()
            if value.size <= 16 or bool((flat == flat[0]).all()):   # stays readable
                new_const(st.out, value)
                continue
        kept.append(st)
    return kept


def _effectful(op: Any) -> bool:
    return op in (ops.RandomMask, ops.CheckIndex)


def simplify(stmts: list[Stmt], outputs: list[Var | None]) -> tuple[list[Stmt], dict]:
    """The identities listed in the module docstring, until none applies."""
    replaced: dict[int, Var] = {}
    changed = True
    while changed:
        changed = False
        uses = _Uses(stmts, outputs)
        kept: list[Stmt] = []
        for k, st in enumerate(stmts):
            alias = None if st.inplace else _identity(st, uses)
            if alias is not None:
                _replace(stmts[k + 1:], st.out, alias)
                replaced[st.out.id] = alias
                changed = True
                continue
            if not st.inplace and _rewrite(st, uses):
                changed = True
            if not st.inplace:
                scaled = _scale_small_side(st, uses)
                if scaled is not None:
                    kept.append(scaled)
                    changed = True
            kept.append(st)
        stmts = kept
    return stmts, replaced


def _identity(st: Stmt, uses: _Uses) -> Var | None:
    """The var that `st.out` equals, when `st` computes nothing new."""
    op, ins, out = st.op, st.ins, st.out
    if op is ops.Clone and uses.private(ins[0]) and uses.n_readers(ins[0]) == 1:
        return ins[0]
    if uses.is_written(out):
        return None
    if op in (ops.MulConst, ops.AddConst, ops.SubConst) and _same_result(out, ins[0]) \
            and not uses.is_written(ins[0]) and type(st.saved) in (int, float) \
            and st.saved == (1 if op is ops.MulConst else 0):
        return ins[0]
    if op is ops.Div and _is_const(ins[1], 1) and _same_result(out, ins[0]) \
            and not uses.is_written(ins[0]):
        return ins[0]
    if op is ops.Mul and st.saved is None and len(ins) == 2:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is_const(b, 1) and _same_result(out, a) and not uses.is_written(a):
                return a
    if op is ops.Add and st.saved is None and len(ins) == 2:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is_const(b, 0) and _same_result(out, a) and not uses.is_written(a):
                return a
    return None


def _rewrite(st: Stmt, uses: _Uses) -> bool:
    """Rewrite `st` in place into something cheaper; True if it changed."""
    changed = False
    if elementwise(st):
        for k, v in enumerate(st.ins):
            src = _expanded_source(v, uses)
            if src is not None and _broadcasts_to(st, k, src):
                st.ins = st.ins[:k] + [src] + st.ins[k + 1:]
                if v.name.startswith("d_") and not src.name.startswith("d_"):
                    src.name = v.name             # the gradient's name stays in the code
                changed = True
    if st.op is ops.Mul and st.saved is None and len(st.ins) == 2:
        for k, v in enumerate(st.ins):
            mask = _bool_cast_source(v, uses)
            other = st.ins[1 - k]
            if mask is not None and other.dtype == st.out.dtype and other.dtype.kind == "f":
                st.ins = st.ins[:k] + [mask] + st.ins[k + 1:]
                changed = True
    if st.op is ops.Add and st.saved is None and len(st.ins) == 2 and st.ins[0] is st.ins[1] \
            and st.out.dtype.kind == "f":
        st.op, st.saved, st.ins = ops.Mul, None, [st.ins[0], _NEW.two(st.out.dtype)]
        changed = True
    return changed


def _scale_small_side(st: Stmt, uses: _Uses) -> Stmt | None:
    """`p * (r * k)`, with k a power of two and p smaller than r (a row against a batch),
    becomes `(p * k) * r`: the scaling moves to the small array, one full-size pass fewer.
    Scaling by a power of two is exact, so both give the same bits. Returns the new
    statement `p * k` (to go before `st`, which now reads it)."""
    if st.op is not ops.Mul or st.saved is not None or len(st.ins) != 2:
        return None
    for j in (0, 1):
        p, q = st.ins[1 - j], st.ins[j]
        inner = uses.defined_by.get(q.id)
        if inner is None or inner.op is not ops.Mul or inner.saved is not None \
                or not uses.private(q) or uses.n_readers(q) != 1 \
                or int(np.prod(p.shape)) >= int(np.prod(q.shape)):
            continue
        for i in (0, 1):
            r, k = inner.ins[i], inner.ins[1 - i]
            if k.kind == "const" and k.array.ndim == 0 and _power_of_two(k.array) \
                    and k.dtype == p.dtype == r.dtype == st.out.dtype and r.shape == q.shape:
                small = _NEW.var("temp", np.empty(np.broadcast_shapes(p.shape, k.shape),
                                                  p.dtype), p.name + "_scaled")
                new = Stmt(ops.Mul, None, [p, k], small, False, st.section)
                st.ins = [small, r]
                return new
    return None


def _power_of_two(a: np.ndarray) -> bool:
    x = abs(float(a))
    return x >= 1.0 and np.frexp(x)[0] == 0.5


class _NewVars:
    """New vars for the rewrites (made by the Program's tracer: ids stay unique), and the
    constant 2 of each dtype."""

    def __init__(self) -> None:
        self.var: Any = None                  # var(kind, array, name) -> Var
        self._twos: dict[np.dtype, Var] = {}

    def two(self, dtype: np.dtype) -> Var:
        v = self._twos.get(dtype)
        if v is None:
            v = self._twos[dtype] = self.var("const", np.array(2, dtype=dtype), "const")
        return v


_NEW = _NewVars()

def _expanded_source(v: Var, uses: _Uses) -> Var | None:
    st = uses.defined_by.get(v.id)
    if st is None or st.op is not ops.Expand or st.inplace:
        return None
    return st.ins[0]


def _broadcasts_to(st: Stmt, k: int, src: Var) -> bool:
    shapes = [v.shape for v in st.ins]
    shapes[k] = src.shape
    try:
        return np.broadcast_shapes(*shapes) == st.out.shape
    except ValueError:
        return False


def _bool_cast_source(v: Var, uses: _Uses) -> Var | None:
    st = uses.defined_by.get(v.id)
    if st is None or st.op is not ops.Cast or st.inplace:
        return None
    src = st.ins[0]
    return src if src.dtype == np.bool_ else None


def eliminate_common(stmts: list[Stmt]) -> tuple[list[Stmt], dict]:
    """Compute each (op, parameters, inputs at their current versions) once; a write into
    an array (or into a view of it) is a new version of it and of all its views."""
    seen: dict[Any, Var] = {}
    base: dict[int, Var] = {}
    version: dict[int, int] = {}           # root var id -> writes so far
    replaced: dict[int, Var] = {}
    kept = []

    def root(v: Var) -> Var:
        while v.id in base:
            v = base[v.id]
        return v

    for st in stmts:
        st.ins = [replaced.get(v.id, v) for v in st.ins]
        if st.inplace:
            st.out = replaced.get(st.out.id, st.out)
            r = root(st.out).id
            version[r] = version.get(r, 0) + 1
            kept.append(st)
            continue
        if st.op.view:
            base[st.out.id] = st.ins[0]
        key = _key(st, [(v.id, version.get(root(v).id, 0)) for v in st.ins])
        if key is not None and key in seen:
            replaced[st.out.id] = seen[key]
            continue
        if key is not None:
            seen[key] = st.out
        kept.append(st)
    return kept, replaced


def _key(st: Stmt, ins: list) -> Any:
    if _effectful(st.op) or st.op.view or st.op is ops.Clone:
        return None
    saved = st.saved
    try:
        hash(saved)
    except TypeError:
        saved = ("id", id(saved))
    return (st.op, type(st.saved), saved, st.out.dtype, st.out.shape, tuple(ins))


def live(stmts: list[Stmt], outputs: list[Var | None]) -> list[Stmt]:
    """The statements the outputs need. A write into an array counts for every view of it:
    an in-place statement stays when anything later reads its target's storage, or when
    that storage is not the program's own (state, inputs: the write is an effect)."""
    base: dict[int, Var] = {}
    for st in stmts:
        if not st.inplace and st.op.view:
            base[st.out.id] = st.ins[0]

    def root(v: Var) -> Var:
        while v.id in base:
            v = base[v.id]
        return v

    needed = {v.id for v in outputs if v is not None}
    needed_roots = {root(v).id for v in outputs if v is not None}
    kept = []
    for st in reversed(stmts):
        if st.inplace:
            r = root(st.out)
            keep = r.kind != "temp" or r.id in needed_roots
        else:
            keep = st.out.id in needed
        if keep:
            kept.append(st)
            for v in st.ins:
                needed.add(v.id)
                needed_roots.add(root(v).id)
    kept.reverse()
    return kept


def optimize(stmts: list[Stmt], outputs: list[Var | None], new_const: Any,
             new_var: Any) -> tuple[list[Stmt], list[Var | None]]:
    """All passes, in order; returns the statements and the outputs (renamed).
    `new_const(var, value)` turns a var into a constant; `new_var(kind, array, name)`."""
    _NEW.var = new_var
    _NEW._twos.clear()
    stmts = fold_constants(stmts, new_const)
    renames: dict[int, Var] = {}
    for _ in range(3):
        stmts, r1 = simplify(stmts, outputs)
        stmts, r2 = eliminate_common(stmts)
        for r in (r1, r2):
            renames.update(r)
        outputs = [_follow(v, renames) for v in outputs]
        stmts = live(stmts, outputs)
    return stmts, outputs


def _follow(v: Var | None, renames: dict[int, Var]) -> Var | None:
    while v is not None and v.id in renames:
        v = renames[v.id]
    return v


def count_passes(stmts: list[Stmt], size: int) -> int:
    """How many statements read or write an array of at least `size` elements (views and
    reshapes excepted): the full-size passes over memory."""
    n = 0
    for st in stmts:
        if st.op.view:
            continue
        if int(np.prod(st.out.shape)) >= size or any(int(np.prod(v.shape)) >= size
                                                      for v in st.ins):
            n += 1
    return n
