"""Shape, view and indexing ops: reshape, permute, expand, indexing (read and write),
cat, flip, roll, tril/triu, gather, scatter_add, and the write through a view (CopySlices)."""

from __future__ import annotations

import numpy as np

from .base import Op, apply_like, atom, basic_index, fmt_index, nothing, raw, scatter, sum_to


class Reshape(Op):
    """out = a viewed with a new shape;  da = g reshaped back"""
    name, rule = "reshape", "da = g reshaped to a's shape"
    grad_fn = "ViewBackward0"
    reads = staticmethod(nothing)
    view = True

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
        return np.broadcast_to(ins[0], shape)

    @staticmethod
    def backward(g, out, ins, shape, needs):
        return (sum_to(g, ins[0].shape),)

    @classmethod
    def describe(cls, shape):
        return f"expand {tuple(shape)}"

    @classmethod
    def expression(cls, args, shape):
        return f"expand({args[0]}, {tuple(shape)})"


class GetItem(Op):
    """out = a[index];  da = zeros with g added at index (repeats accumulate)"""
    name, rule = "getitem", "da = g scattered back to the indexed places"
    reads = staticmethod(nothing)
    view = True

    @staticmethod
    def forward(ins, index):
        return ins[0][index]

    @staticmethod
    def backward(g, out, ins, index, needs):
        return (scatter(g, index, ins[0].shape),)

    @classmethod
    def makes_view(cls, index):
        return basic_index(index)

    @classmethod
    def describe(cls, index):
        return f"[{fmt_index(index)}]"

    @classmethod
    def expression(cls, args, index):
        return f"{atom(args[0])}[{fmt_index(index)}]"

    @classmethod
    def node_name(cls, index):
        items = index if isinstance(index, tuple) else (index,)
        if not basic_index(index):
            return "IndexBackward0"
        if all(isinstance(i, int | np.integer) for i in items):
            return "SelectBackward0"
        return "SliceBackward0"


class Scatter(Op):
    """out = zeros(shape) with a added at index;  da = g[index]"""
    name, rule = "scatter", "da = g[index]"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        index, shape = saved
        return scatter(ins[0], index, shape)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g[saved[0]],)


class SetItem(Op):
    """out = a with out[index] = v (PyTorch's index_put_; in place on a tensor);
        da = g with the written places zeroed,  dv = g[index] summed back to v's shape"""
    name, rule = "setitem", "da = g outside index, dv = g[index]"
    grad_fn = "IndexPutBackward0"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, index):
        out = np.array(ins[0], copy=True)
        out[index] = ins[1]
        return out

    @staticmethod
    def inplace(target, ins, index):
        target[index] = ins[1]

    @staticmethod
    def backward(g, out, ins, index, needs):
        ga = gv = None
        if needs[0]:
            keep = np.ones(raw(g).shape, dtype=bool)
            keep[index] = False
            ga = g * keep
        if needs[1]:
            gv = g[index]
        return ga, gv

    @classmethod
    def describe(cls, index):
        return f"[{fmt_index(index)}] ="

    @classmethod
    def expression(cls, args, index):
        return f"setitem({args[0]}[{fmt_index(index)}], {args[1]})"

    @classmethod
    def node_name(cls, index):
        return "CopySlices" if basic_index(index) else "IndexPutBackward0"


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
            keep = np.ones(raw(g).shape, dtype=bool)
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
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


class Gather(Op):
    """out[pos] = a[pos with dim replaced by index[pos]] (torch.gather; with `squeeze`, the
    picked dim is then dropped, which is how max(dim), sort and topk pick their values);
        da = g added back at those places (repeats accumulate)"""
    name, rule = "gather", "da = g scattered back to the gathered places"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        index, dim = saved[0], saved[1]
        out = ins[0][full_index(index, dim)]
        return out.squeeze(dim) if len(saved) > 2 and saved[2] else out

    @staticmethod
    def backward(g, out, ins, saved, needs):
        index, dim = saved[0], saved[1]
        if len(saved) > 2 and saved[2]:
            g = g.reshape(index.shape)
        return (scatter(g, full_index(index, dim), ins[0].shape),)

    @classmethod
    def describe(cls, saved):
        return f"{saved[3] if len(saved) > 3 else 'gather'}(dim={saved[1]})"

    @classmethod
    def expression(cls, args, saved):
        return f"{saved[3] if len(saved) > 3 else 'gather'}({args[0]}, dim={saved[1]})"

    @classmethod
    def node_name(cls, saved):
        name = saved[3] if len(saved) > 3 else "gather"
        return name.capitalize() + "Backward0"


class ScatterAdd(Op):
    """out = a with src added at index along dim (torch.scatter_add);
        da = g,  dsrc = g gathered at index"""
    name, rule = "scatter_add", "da = g, dsrc = g[index]"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, saved):
        index, dim = saved
        out = np.array(ins[0], copy=True)
        np.add.at(out, full_index(index, dim), ins[1][tuple(slice(0, n) for n in index.shape)])
        return out

    @staticmethod
    def backward(g, out, ins, saved, needs):
        index, dim = saved
        gsrc = None
        if needs[1]:
            picked = g[full_index(index, dim)]
            src_shape = ins[1].shape
            if picked.shape != src_shape:      # src may be larger than index: zeros beyond
                pad = scatter(picked, tuple(slice(0, n) for n in index.shape), src_shape)
                picked = pad
            gsrc = picked
        return (g if needs[0] else None), gsrc

    @classmethod
    def describe(cls, saved):
        return f"scatter_add(dim={saved[1]})"
