"""Shape, view and indexing ops: reshape, permute, expand, indexing (read and write),
cat, flip, roll, tril/triu, gather, scatter_add, and the write through a view (CopySlices)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Op, apply_like, atom, basic_index, fmt_index, is_node, nothing, scatter, sum_to


class Reshape(Op):
    """out = a viewed with a new shape;  da = g reshaped back"""
    name, rule = "reshape", "da = g reshaped to a's shape"
    grad_fn = "ViewBackward0"
    reads = staticmethod(nothing)
    view = True

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]}.reshape({c(tuple(saved))})"

    @staticmethod
    def forward(ins, shape):
        return ins[0].reshape(shape)

    @staticmethod
    def backward(g, out, ins, shape, needs):
        return (g.reshape(ins[0].shape),)

    @classmethod
    def describe(cls, shape):
        return f"reshape {tuple(shape)}"

    @classmethod
    def expression(cls, args, shape):
        return f"reshape({args[0]}, {tuple(shape)})"


class Transpose(Op):
    """out = a with dims permuted;  da = g with the inverse permutation"""
    name, rule = "permute", "da = g with dims permuted back"
    grad_fn = "PermuteBackward0"
    reads = staticmethod(nothing)
    view = True

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]}.transpose({c(tuple(saved))})"

    @staticmethod
    def forward(ins, axes):
        return ins[0].transpose(axes)

    @staticmethod
    def backward(g, out, ins, axes, needs):
        return (g.transpose(tuple(np.argsort(axes))),)

    @classmethod
    def describe(cls, axes):
        if len(axes) == 2 and axes == (1, 0):
            return "T"
        return f"permute {tuple(axes)}"

    @classmethod
    def expression(cls, args, axes):
        if len(axes) == 2 and axes == (1, 0):
            return f"{args[0]}.T"
        return f"permute({args[0]}, {tuple(axes)})"


class Expand(Op):
    """out = a broadcast to `shape`;  da = g summed back to a's shape"""
    name, rule = "expand", "da = g summed over the broadcast dims"
    reads = staticmethod(nothing)
    view = True

    @staticmethod
    def forward(ins, shape):
        # a writable view (as PyTorch's): writing one row of an expanded tensor is allowed,
        # writing a place that several elements share is refused by the in-place check
        b = np.broadcast_to(ins[0], shape)
        return np.lib.stride_tricks.as_strided(ins[0], b.shape, b.strides, writeable=True) \
            if ins[0].flags.writeable else b

    @staticmethod
    def backward(g, out, ins, shape, needs):
        return (sum_to(g, ins[0].shape),)

    @classmethod
    def describe(cls, shape):
        return f"expand {tuple(shape)}"

    @classmethod
    def expression(cls, args, shape):
        return f"expand({args[0]}, {tuple(shape)})"


class Slot:
    """Where an index array given as an op input goes in an index template: ops that index
    with data (x[idx] with an integer or bool tensor) keep the index arrays as inputs, so a
    changed index is never baked in (and minigrad.compile reads it at each call)."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k

    def __repr__(self) -> str:
        return f"Slot({self.k})"


def fill_index(template: Any, arrays: Any) -> Any:
    """The numpy index: the template with each Slot replaced by its array."""
    if isinstance(template, tuple):
        return tuple(arrays[i.k] if isinstance(i, Slot) else i for i in template)
    return arrays[template.k] if isinstance(template, Slot) else template


def has_slots(template: Any) -> bool:
    items = template if isinstance(template, tuple) else (template,)
    return any(isinstance(i, Slot) for i in items)


def _index_inputs(first: int) -> Any:
    """`reads` of an op whose inputs from `first` on are index arrays (backward reads them)."""
    return staticmethod(lambda needs: (False,) * first + (True,) * (len(needs) - first))


def index_source(template: Any, names: list[str]) -> str:
    """Python source of an index: literals, with each Slot as the name of its array."""
    items = template if isinstance(template, tuple) else (template,)
    parts = []
    for i in items:
        if isinstance(i, Slot):
            parts.append(names[i.k])
        elif isinstance(i, slice):
            parts.append(":".join("" if v is None else repr(v) for v in (i.start, i.stop))
                         + ("" if i.step is None else f":{i.step!r}"))
        elif i is Ellipsis:
            parts.append("...")
        else:
            parts.append(repr(i))
    return ", ".join(parts) + ("," if len(parts) == 1 and isinstance(template, tuple) else "")


class GetItem(Op):
    """out = a[index] (index arrays, if any, are the extra inputs);
        da = zeros with g added at index (repeats accumulate)"""
    name, rule = "getitem", "da = g scattered back to the indexed places"
    reads = _index_inputs(1)
    view = True

    @classmethod
    def emit(cls, args, template, c):
        return f"{args[0]}[{index_source(template, args[1:])}]"

    @staticmethod
    def forward(ins, template):
        index = fill_index(template, ins[1:])
        out = ins[0][index]
        if type(out) is not np.ndarray:         # a full integer index: a 0-d view, not a copy
            out = ins[0][(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(g, out, ins, template, needs):
        shape = tuple(ins[0].shape)
        return (apply_like(Scatter, (g, *ins[1:]), (template, shape)),) + (None,) * (
            len(ins) - 1)

    @classmethod
    def makes_view(cls, template):
        return basic_index(template)

    @classmethod
    def graph_inputs(cls, n, saved=None):
        return (0,)

    @classmethod
    def describe(cls, template):
        return f"[{fmt_index(template)}]"

    @classmethod
    def expression(cls, args, template):
        return f"{atom(args[0])}[{fmt_index(template)}]"

    @classmethod
    def node_name(cls, template):
        items = template if isinstance(template, tuple) else (template,)
        if not basic_index(template):
            return "IndexBackward0"
        if all(isinstance(i, int | np.integer) for i in items):
            return "SelectBackward0"
        return "SliceBackward0"


class Scatter(Op):
    """out = zeros(shape) with a added at index (repeats accumulate);  da = g[index]"""
    name, rule = "scatter", "da = g[index]"
    reads = _index_inputs(1)

    @staticmethod
    def forward(ins, saved):
        template, shape = saved
        return scatter(ins[0], fill_index(template, ins[1:]), shape)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (apply_like(GetItem, (g, *ins[1:]), saved[0]),) + (None,) * (len(ins) - 1)

    @classmethod
    def graph_inputs(cls, n, saved=None):
        return (0,)


class SetItem(Op):
    """out = a with out[index] = v (PyTorch's index_put_; in place on a tensor); index arrays,
    if any, are the inputs after v;
        da = g with the written places zeroed,  dv = g[index] summed back to v's shape"""
    name, rule = "setitem", "da = g outside index, dv = g[index]"
    grad_fn = "IndexPutBackward0"
    reads = _index_inputs(2)

    @staticmethod
    def forward(ins, template):
        out = np.array(ins[0], copy=True)
        out[fill_index(template, ins[2:])] = ins[1]
        return out

    @staticmethod
    def inplace(target, ins, template):
        target[fill_index(template, ins[2:])] = ins[1]

    @staticmethod
    def backward(g, out, ins, template, needs):
        ga = gv = None
        if needs[0]:
            zero = np.zeros((), dtype=g.dtype) if not is_node(g) else 0.0
            ga = apply_like(SetItem, (g, zero, *ins[2:]), template)
        if needs[1]:
            gv = apply_like(GetItem, (g, *ins[2:]), template)
        return (ga, gv) + (None,) * (len(ins) - 2)

    @classmethod
    def describe(cls, template):
        return f"[{fmt_index(template)}] ="

    @classmethod
    def expression(cls, args, template):
        return f"setitem({args[0]}[{fmt_index(template)}], {args[1]})"

    @classmethod
    def node_name(cls, template):
        return "CopySlices" if basic_index(template) else "IndexPutBackward0"

    @classmethod
    def graph_inputs(cls, n, saved=None):
        return (0, 1)


def view_of(x, chain):
    """Apply a chain of view ops [(op, saved), ...] to an array or a Tensor."""
    for op, saved in chain:
        x = apply_like(op, (x,), saved)
    return x


class CopySlices(Op):
    """out = a with the view `chain` of it replaced by v (what an in-place op on a view does
    to the view's base);  da = g with the view zeroed,  dv = the view of g"""
    name, rule = "copyslices", "da = g outside the view, dv = view of g"
    grad_fn = "CopySlices"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, chain):
        out = np.array(ins[0], copy=True)
        view_of(out, chain)[...] = ins[1]
        return out

    @staticmethod
    def backward(g, out, ins, chain, needs):
        ga = gv = None
        if needs[0]:
            keep = np.ones(tuple(g.shape), dtype=bool)     # depends on shapes only
            view_of(keep, chain)[...] = False
            ga = g * keep
        if needs[1]:
            gv = view_of(g, chain)
        return ga, gv

    @classmethod
    def describe(cls, chain):
        return "write view " + "".join(op.describe(s) for op, s in chain)


class Concatenate(Op):
    """out = inputs joined along `dim`;  d input_k = the slice of g where input k sits"""
    name, rule = "cat", "d input_k = g[slice of input k]"
    reads = staticmethod(nothing)

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.concatenate([{', '.join(args)}], {saved})"

    @staticmethod
    def forward(ins, axis):
        return np.concatenate(ins, axis=axis)

    @staticmethod
    def backward(g, out, ins, axis, needs):
        grads, start = [], 0
        lead = (slice(None),) * axis
        for x, need in zip(ins, needs):
            stop = start + x.shape[axis]
            grads.append(g[lead + (slice(start, stop),)] if need else None)
            start = stop
        return grads

    @classmethod
    def describe(cls, axis):
        return f"cat(dim={axis})"


class Flip(Op):
    """out = a reversed along `dims` (a copy);  da = g reversed back"""
    name, rule = "flip", "da = g flipped back"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, dims):
        return np.ascontiguousarray(np.flip(ins[0], dims))

    @staticmethod
    def backward(g, out, ins, dims, needs):
        index = tuple(slice(None, None, -1) if d in dims else slice(None)
                      for d in range(len(ins[0].shape)))
        return (g[index],)

    @classmethod
    def describe(cls, dims):
        return f"flip {tuple(dims)}"


class Roll(Op):
    """out = a shifted cyclically by `shifts` along `dims`;  da = g shifted back"""
    name, rule = "roll", "da = g rolled back"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        shifts, dims = saved
        return np.roll(ins[0], shifts, dims)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        shifts, dims = saved
        return (apply_like(Roll, (g,), (tuple(-s for s in shifts), dims)),)

    @classmethod
    def describe(cls, saved):
        return f"roll {saved[0]}"


class Tri(Op):
    """out = a with the part above (tril) or below (triu) diagonal k zeroed;
        da = g with the same part zeroed"""
    name, rule = "tril", "da = g inside the triangle"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        lower, k = saved
        return np.tril(ins[0], k) if lower else np.triu(ins[0], k)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        lower, k = saved
        shape = ins[0].shape[-2:]
        keep = np.tril(np.ones(shape, dtype=bool), k) if lower else \
            np.triu(np.ones(shape, dtype=bool), k)
        return (g * keep,)

    @classmethod
    def describe(cls, saved):
        return f"{'tril' if saved[0] else 'triu'}({saved[1]})"

    @classmethod
    def node_name(cls, saved):
        return "TrilBackward0" if saved[0] else "TriuBackward0"


def full_index(index: np.ndarray, dim: int) -> tuple:
    """The numpy index that picks, for every position of `index`, the element
    index[pos] along `dim` (and pos along the other dims): gather/scatter's addressing."""
    grid = list(_grid(index.shape))
    grid[dim] = index
    return tuple(grid)


@functools.lru_cache(maxsize=256)
def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """np.indices(shape, sparse=True), made once per shape (read-only: shared)."""
    grid = np.indices(shape, sparse=True)
    for axis in grid:
        axis.setflags(write=False)
    return tuple(grid)


def check_index(index: np.ndarray, size: int, ignore: Any, what: str) -> np.ndarray:
    """`index` itself, after checking 0 <= index < size (entries equal to `ignore` aside)."""
    if index.size:
        lo, hi = np.minimum.reduce(index, None), np.maximum.reduce(index, None)
        if lo < 0 or hi >= size:
            bad = (index < 0) | (index >= size)
            if ignore is not None:
                bad &= index != ignore
            if bad.any():
                value = int(index[bad].flat[0])
                if what in ("cross_entropy", "nll_loss"):
                    raise IndexError(f"{what}: Target {value} is out of bounds.")
                raise RuntimeError(f"{what}: index {value} is out of bounds for dimension "
                                   f"with size {size}")
    return index


class CheckIndex(Op):
    """out = index, after checking that every entry is in [0, size) (or equals `ignore`):
    an op, so that a compiled step checks the indices of every call (no gradient)."""
    name, rule = "check_index", ""
    differentiable = False
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        size, ignore, what = saved
        return check_index(ins[0], size, ignore, what)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (None,)


class Gather(Op):
    """out[pos] = a[pos with dim replaced by index[pos]] (torch.gather; the index is the
    second input; with `squeeze`, the picked dim is then dropped, which is how max(dim), sort
    and topk pick their values);  da = g added back at those places (repeats accumulate)"""
    name, rule = "gather", "da = g scattered back to the gathered places"
    reads = _index_inputs(1)

    @classmethod
    def emit(cls, args, saved, c):
        """a[rows, index] (a fancy index: the other dims' positions are constant aranges),
        [:, 0] dropping the picked dim with `squeeze`."""
        index = c.shapes[1]
        dim = saved[0] % len(index)
        grid = _grid(tuple(index))
        at = ", ".join(args[1] if k == dim else c(grid[k]) for k in range(len(index)))
        code = f"{args[0]}[{at}]"
        return f"{code}[{':, ' * dim}0]" if len(saved) > 1 and saved[1] else code

    @staticmethod
    def forward(ins, saved):
        dim = saved[0]
        out = ins[0][full_index(ins[1], dim)]
        return out.squeeze(dim) if len(saved) > 1 and saved[1] else out

    @staticmethod
    def backward(g, out, ins, saved, needs):
        dim = saved[0]
        index = ins[1]
        if len(saved) > 1 and saved[1]:
            g = g.reshape(tuple(index.shape))
        zeros = np.zeros(tuple(ins[0].shape), dtype=g.dtype)
        return apply_like(ScatterAdd, (zeros, g, index), dim), None

    @classmethod
    def describe(cls, saved):
        return f"{saved[2] if len(saved) > 2 else 'gather'}(dim={saved[0]})"

    @classmethod
    def expression(cls, args, saved):
        return f"{saved[2] if len(saved) > 2 else 'gather'}({args[0]}, dim={saved[0]})"

    @classmethod
    def node_name(cls, saved):
        name = saved[2] if len(saved) > 2 else "gather"
        return name.capitalize() + "Backward0"

    @classmethod
    def graph_inputs(cls, n, saved=None):
        return (0,)


class ScatterAdd(Op):
    """out = a with src added at index along dim (torch.scatter_add; inputs a, src, index);
        da = g,  dsrc = g gathered at index"""
    name, rule = "scatter_add", "da = g, dsrc = g[index]"
    reads = _index_inputs(2)

    @staticmethod
    def forward(ins, dim):
        a, src, index = ins
        out = np.array(a, copy=True)
        at = full_index(index, dim)
        part = src if src.shape == index.shape else src[tuple(slice(0, n) for n in index.shape)]
        np.add.at(out, at, part)
        return out

    @staticmethod
    def backward(g, out, ins, dim, needs):
        gsrc = None
        if needs[1]:
            gsrc = apply_like(Gather, (g, ins[2]), (dim,))
            src_shape = tuple(ins[1].shape)
            if tuple(gsrc.shape) != src_shape:    # src may be larger than index: zeros beyond
                gsrc = scatter(gsrc, tuple(slice(0, n) for n in ins[2].shape), src_shape)
        return (g if needs[0] else None), gsrc, None

    grad_fn = "ScatterAddBackward0"

    @classmethod
    def describe(cls, dim):
        return f"scatter_add(dim={dim})"

    @classmethod
    def graph_inputs(cls, n, saved=None):
        return (0, 1)
