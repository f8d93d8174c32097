"""Buffer planning: the large arrays of a compiled step are written into arrays allocated
once, with `out=`, so that a step allocates (almost) nothing after its first call.

A statement gets a buffer when its op can write into one (`Op.emit_into`), its result has
at least `MIN_SIZE` elements (smaller ones cost little to allocate), and the result never
leaves the program (results and gradients are arrays of their own, as in eager mode). Two
results share a buffer when their lifetimes do not overlap. A result lives from its
statement to the last statement that reads it or anything that may share its memory (a
view of it, or the result of an op that may return its input). An elementwise statement may
write into the buffer of a same-shaped input that dies there (numpy computes elementwise
ops in place exactly): an elementwise chain then runs in place, in one buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .trace import Stmt, Var

MIN_SIZE = 4096


class Buffer:
    """One preallocated array."""

    __slots__ = ("name", "shape", "dtype")

    def __init__(self, name: str, shape: tuple, dtype: np.dtype) -> None:
        self.name, self.shape, self.dtype = name, shape, dtype


def _may_alias(st: Stmt, can_write_into: Any) -> bool:
    """Whether `st`'s result may share memory with an input: a view, an op that can return
    its input (identity, index checks, a function of unknown kind), or a result that did so
    when traced."""
    op = st.op
    if op.view or op in (ops.Identity, ops.CheckIndex, ops.ZeroGrad, ops.NoDerivative):
        return True
    if op is ops.NoGrad and not isinstance(st.saved, np.ufunc):
        return True
    if can_write_into(st):
        return False
    return any(isinstance(v.array, np.ndarray) and np.may_share_memory(st.out.array, v.array)
               for v in st.ins)


def plan(stmts: list[Stmt], outputs: list[Var | None], can_write_into: Any,
         elementwise: Any) -> tuple[dict[int, Buffer], list[Buffer]]:
    """var id -> its buffer, and the buffers (in order of first use)."""
    # what may share memory with what: views and ops that cannot write into a buffer may
    # return (a view of) an input; such a result keeps its inputs' memory alive
    shares: dict[int, set[int]] = {}
    for st in stmts:
        if st.inplace:
            continue
        if _may_alias(st, can_write_into):
            group = {st.out.id}
            for v in st.ins:
                group |= shares.get(v.id, {v.id})
            shares[st.out.id] = group
    escaping: set[int] = set()
    for v in outputs:
        if v is not None:
            escaping |= shares.get(v.id, {v.id})
    last: dict[int, int] = {}
    for k, st in enumerate(stmts):
        for v in st.ins + [st.out]:
            for u in shares.get(v.id, {v.id}):
                last[u] = k
    buffers: list[Buffer] = []
    of: dict[int, Buffer] = {}
    free: dict[tuple, list[Buffer]] = {}
    dying: list[tuple[int, Buffer]] = []        # (last use, buffer) of vars holding one
    for k, st in enumerate(stmts):
        for _, buf in [d for d in dying if d[0] < k]:
            free.setdefault((buf.shape, buf.dtype), []).append(buf)
        dying = [d for d in dying if d[0] >= k]
        out = st.out
        if st.inplace or out.kind != "temp" or out.id in escaping or not can_write_into(st) \
                or int(np.prod(out.shape)) < MIN_SIZE:
            continue
        key = (out.shape, out.dtype)
        buf = None
        if elementwise(st):                      # fuse: write over an input dying here
            for v in st.ins:
                b = of.get(v.id)
                if b is not None and last.get(v.id) == k and v.shape == out.shape \
                        and (b.shape, b.dtype) == key:
                    buf = b
                    dying = [d for d in dying if d[1] is not b]
                    break
        if buf is None and free.get(key):
            buf = free[key].pop()
        if buf is None:
            buf = Buffer(f"buf{len(buffers) + 1}", out.shape, out.dtype)
            buffers.append(buf)
        of[out.id] = buf
        dying.append((last.get(out.id, k), buf))
    return of, buffers
