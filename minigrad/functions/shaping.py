"""Shapes and views: view, reshape, flatten, squeeze/unsqueeze, expand, repeat/tile,
permute/transpose, flip, roll, cat/stack, split/chunk/unbind, narrow/select, gather,
scatter_add, index_select, tril/triu, clone, contiguous, detach.

Views as PyTorch's: view, reshape (when possible), slicing, permute/transpose/.T, expand,
squeeze/unsqueeze, narrow/select and the pieces of split/chunk/unbind share their base's
storage and version counter; `repeat`, `flip`, `roll`, `cat`, `clone` copy.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import dtypes, ops
from .._bind import export
from .._tensor import (
    Tensor,
    _wrap,
    apply,
    cast,
    constant_leaf,
    default_float,
    inplace,
)
from ..engine import STATE, Version
from ._args import as_tensor_arg, one_dim, shape_args
from ._args import dims as dim_tuple


def _infer(shape: tuple[int, ...], numel: int, what: str) -> tuple[int, ...]:
    """Resolve one -1 in `shape` (PyTorch's error when it does not fit)."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(d for d in shape if d != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if d == -1 else d for d in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


@export
def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Same data, new shape (one dim may be -1): a view when the layout allows, else a copy."""
    target = _infer(shape_args(shape, "reshape"), input._data.size, "reshape")
    return apply(ops.Reshape, (input,), target)


@export(function=False)
def view(self: Tensor, *shape: Any) -> Tensor:
    """A view with a new shape; an error (as PyTorch's) when the layout needs a copy."""
    if len(shape) == 1 and not isinstance(shape[0], int | tuple | list | np.integer) \
            and not isinstance(shape[0], Tensor):
        raise RuntimeError("view(dtype) is not supported: use .to(dtype)")
    target = _infer(shape_args(shape, "view"), self._data.size, "view")
    try:
        arr = self._data.view()
        arr.shape = target                    # raises when no view is possible
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.") from None
    return apply(ops.Reshape, (self,), target)


@export(function=False)
def view_as(self: Tensor, other: Tensor) -> Tensor:
    return view(self, tuple(other._data.shape))


@export(function=False)
def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return reshape(self, tuple(other._data.shape))


@export
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the dims start_dim..end_dim into one."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = one_dim(start_dim, nd, "flatten"), one_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    return reshape(input, shape[:s] + (-1,) + shape[e + 1:]) if s != e else input


@export
def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim `dim` into `sizes` (one may be -1)."""
    d = one_dim(dim, input._data.ndim, "unflatten")
    shape = input._data.shape
    sizes = _infer(shape_args((sizes,), "unflatten"), shape[d], "unflatten")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


@export
def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Drop dims of length 1 (all of them, or those of `dim` that have length 1; a dim of
    another length is left alone, as PyTorch)."""
    shape = input._data.shape
    if dim is None:
        keep = [n for n in shape if n != 1]
    else:
        ds = dim_tuple(dim, input._data.ndim, "squeeze") or ()
        keep = [n for i, n in enumerate(shape) if not (i in ds and n == 1)]
    name = ("SqueezeBackward0" if dim is None else
            "SqueezeBackward2" if isinstance(dim, tuple | list) else "SqueezeBackward1")
    return apply(ops.Reshape, (input,), ops.named(tuple(keep), name))


@export
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of length 1 at `dim` (negative counts from the end of the result)."""
    nd = input._data.ndim + 1
    d = one_dim(dim, nd, "unsqueeze")
    shape = input._data.shape
    return apply(ops.Reshape, (input,), ops.named(shape[:d] + (1,) + shape[d:],
                                                  "UnsqueezeBackward0"))


@export
def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to `sizes` (-1 keeps a dim; new dims may be added in front); a view."""
    sizes = shape_args(sizes, "expand")
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    for i, (n, m) in enumerate(zip(shape, target[lead:])):
        if n != m and n != 1:
            raise RuntimeError(f"The expanded size of the tensor ({m}) must match the existing "
                               f"size ({n}) at non-singleton dimension {i + lead}.  Target "
                               f"sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
    return apply(ops.Expand, (input,), target)


@export(function=False)
def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return expand(self, tuple(other._data.shape))


@export
def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return expand(input, tuple(size))


@export(function=False)
def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """The tensor repeated `sizes` times along each dim (a copy; extra sizes add leading
    dims): composed of reshape and expand, so its gradient is a sum."""
    reps = shape_args(sizes, "repeat")
    nd = self._data.ndim
    if len(reps) < nd:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                           "number of dimensions of tensor")
    shape = (1,) * (len(reps) - nd) + self._data.shape
    x = reshape(self, shape)
    spread = tuple(v for n in shape for v in (1, n))
    big = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    return reshape(expand(reshape(x, spread), big), tuple(r * n for r, n in zip(reps, shape)))


@export
def tile(input: Tensor, dims: Any) -> Tensor:
    """repeat, with missing leading repeat counts taken as 1."""
    reps = shape_args((dims,), "tile")
    reps = (1,) * (input._data.ndim - len(reps)) + reps
    return repeat(input, reps)


@export
def flip(input: Tensor, *dims: Any) -> Tensor:
    """Reversed along `dims` (ints or one tuple; a copy)."""
    if len(dims) == 1 and not isinstance(dims[0], int | np.integer):
        dims = tuple(dims[0])
    ds = dim_tuple(dims, input._data.ndim, "flip")
    return apply(ops.Flip, (input,), ds or ())


@export
def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


@export
def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


@export
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift cyclically by `shifts` along `dims` (the flattened tensor when dims is None)."""
    if dims is None:
        flat = reshape(input, -1)
        s = (int(shifts),) if isinstance(shifts, int) else tuple(shifts)
        return reshape(apply(ops.Roll, (flat,), (s, (0,))), input._data.shape)
    s = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    d = (dims,) if isinstance(dims, int) else tuple(dims)
    d = tuple(one_dim(x, input._data.ndim, "roll") for x in d)
    if len(s) != len(d):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(s)}, dims:{len(d)}")
    return apply(ops.Roll, (input,), (tuple(int(x) for x in s), d))


@export
def permute(input: Tensor, *dims: Any) -> Tensor:
    """The dims in the order given (a view)."""
    order = shape_args(dims, "permute")
    nd = input._data.ndim
    if len(order) != nd or sorted(d % builtins.max(nd, 1) for d in order) != list(range(nd)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(order)}"
                           if len(order) != nd else
                           f"permute(): dims {list(order)} are not a permutation of "
                           f"0..{nd - 1}")
    return apply(ops.Transpose, (input,), tuple(d % nd for d in order))


@export("transpose", "swapaxes", "swapdims")
def transpose(input: Tensor, *dims: Any) -> Tensor:
    """transpose(dim0, dim1): those two dims swapped (a view). numpy's spellings are
    accepted where they cannot mean anything else: no dims reverses them all, as many dims
    as the tensor has permutes it."""
    nd = input._data.ndim
    if len(dims) != 2:
        if not dims:
            return apply(ops.Transpose, (input,), tuple(range(nd - 1, -1, -1)))
        return permute(input, *dims)
    dim0, dim1 = dims
    if nd == 0:
        return input
    a, b = one_dim(dim0, nd, "transpose"), one_dim(dim1, nd, "transpose")
    order = list(range(nd))
    order[a], order[b] = order[b], order[a]
    return apply(ops.Transpose, (input,), ops.named(tuple(order), "TransposeBackward0"))


@export
def t(input: Tensor) -> Tensor:
    """transpose(0, 1) of a matrix; a vector or a scalar is returned as is."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


@export
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    nd = input._data.ndim
    src = [one_dim(d, nd, "movedim") for d in ((source,) if isinstance(source, int) else source)]
    dst = [one_dim(d, nd, "movedim") for d in
           ((destination,) if isinstance(destination, int) else destination)]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return apply(ops.Transpose, (input,), tuple(order))


# ---- joining and splitting --------------------------------------------------------------------

@export("cat", "concat", "concatenate", method=False)
def cat(tensors: Any, dim: int = 0, *, axis: Any = None, out: Any = None) -> Tensor:
    """Join tensors along an existing dim (dtypes promoted)."""
    ts = [as_tensor_arg(t) for t in tensors]
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    ts = [t for t in ts if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or ts[:1]
    nd = ts[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = one_dim(dim if axis is None else axis, nd, "cat")
    for i, t in enumerate(ts):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{t._data.ndim}")
        for k in range(nd):
            if k != d and t._data.shape[k] != ts[0]._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ts[0]._data.shape[k]} but got size "
                                   f"{t._data.shape[k]} for tensor number {i} in the list.")
    target = dtypes.result_type(*[t._data for t in ts], default_float=default_float())
    ts = [cast(t, target) for t in ts]
    return apply(ops.Concatenate, tuple(ts), d)        # always a new tensor, as PyTorch's


@export(method=False)
def stack(tensors: Any, dim: int = 0, *, axis: Any = None, out: Any = None) -> Tensor:
    """Join tensors of one shape along a new dim."""
    ts = [as_tensor_arg(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if t._data.shape != ts[0]._data.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0]._data.shape)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = one_dim(dim if axis is None else axis, ts[0]._data.ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in ts], d)


@export(method=False)
def hstack(tensors: Any) -> Tensor:
    ts = [as_tensor_arg(t) for t in tensors]
    ts = [reshape(t, 1) if t._data.ndim == 0 else t for t in ts]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


@export(method=False)
def vstack(tensors: Any) -> Tensor:
    ts = [as_tensor_arg(t) for t in tensors]
    ts = [reshape(t, 1, -1) if t._data.ndim < 2 else t for t in ts]
    return cat(ts, 0)


def _pieces(x: Tensor, d: int, bounds: list[tuple[int, int]], what: str) -> tuple:
    lead = (slice(None),) * d
    name = what + "Backward0"
    out = tuple(apply(ops.GetItem, (x,), ops.named(lead + (slice(a, b),), name))
                for a, b in bounds)
    _mark_pieces(out, what)
    return out


def _mark_pieces(pieces: tuple, what: str) -> None:
    """Views that one function returned together: PyTorch forbids changing them in place
    when a graph is involved."""
    for k, p in enumerate(pieces):
        if p._view is not None:
            p._view.multi = (what, k)


@export
def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces along `dim`: of size `split_size` each (the last may be smaller), or of the
    sizes in a list (they must add up to the dim's length). Views."""
    d = one_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[d]
    s = split_size_or_sections
    if isinstance(s, int | np.integer):
        s = int(s)
        if s <= 0 and n:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={s}")
        starts = range(0, n, s) if s else [0]
        bounds = [(a, builtins.min(a + s, n)) for a in starts]
    else:
        sizes = [int(v) for v in s]
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        edges = np.cumsum([0] + sizes)
        bounds = list(zip(edges[:-1].tolist(), edges[1:].tolist()))
    kind = "Split" if isinstance(split_size_or_sections, int | np.integer) else "SplitWithSizes"
    return _pieces(tensor, d, bounds, kind)


@export
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` pieces of ceil(n / chunks) along `dim`."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = one_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[d]
    size = -(-n // chunks) if n else 0
    bounds = [(a, builtins.min(a + size, n)) for a in range(0, n, size)] if size else [(0, 0)]
    return _pieces(input, d, bounds, "Split")


@export
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along `dim`, each without that dim (views)."""
    d = one_dim(dim, input._data.ndim, "unbind")
    lead = (slice(None),) * d
    out = tuple(input[lead + (i,)] for i in range(input._data.shape[d]))
    _mark_pieces(out, "Unbind")
    return out


@export
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """input[..., start:start+length, ...] along `dim` (a view)."""
    d = one_dim(dim, input._data.ndim, "narrow")
    n = input._data.shape[d]
    start = int(start) + (n if start < 0 else 0)
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * d + (slice(start, start + int(length)),)]


@export
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """input[..., index, ...] along `dim`, without that dim (a view)."""
    d = one_dim(dim, input._data.ndim, "select")
    return input[(slice(None),) * d + (int(index),)]


# ---- gather and scatter ------------------------------------------------------------------------

def checked_index(index: Tensor, size: int, ignore: Any = None, what: str = "index") -> Tensor:
    """`index`, checked to lie in [0, size) or to equal `ignore` (at once; while
    minigrad.compile traces, as an op, so that every call of the compiled step checks)."""
    if STATE.tracer is None:
        ops.shape.check_index(index._data, size, ignore, what)
        return index
    return apply(ops.CheckIndex, (index,), (size, ignore, what))


def _index_arg(index: Any, what: str) -> Tensor:
    """An index argument as an int64 tensor (the op's input; a copy of lists and arrays)."""
    if isinstance(index, Tensor):
        if index._data.dtype == np.int32 and what == "index_select":
            return index.long()
        if index._data.dtype != np.int64:
            raise RuntimeError(f"{what}(): Expected dtype int64 for index")
        return index
    arr = np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"{what}(): Expected dtype int64 for index")
    return constant_leaf(np.array(arr, dtype=np.int64, copy=True))


@export
def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (dim 0; likewise for other dims)."""
    d = one_dim(dim, input._data.ndim, "gather")
    idx = _index_arg(index, "gather")
    if idx._data.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    idx = checked_index(idx, input._data.shape[d], None, "gather")
    return apply(ops.Gather, (input, idx), (d,))


def gather_squeezed(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """gather(input, dim, index).squeeze(dim) as one node (an index of size 1 along dim,
    already checked): how a loss picks each row's target."""
    return apply(ops.Gather, (input, index), (dim, True))


@export
def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of input with src[i][j] added at [index[i][j]][j] (dim 0; likewise others)."""
    d = one_dim(dim, input._data.ndim, "scatter_add")
    idx = checked_index(_index_arg(index, "scatter_add"), input._data.shape[d], None,
                        "scatter_add")
    s = as_tensor_arg(src, input)
    return apply(ops.ScatterAdd, (input, cast(s, input._data.dtype), idx), d)


@export(function=False)
def scatter_add_(self: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    d = one_dim(dim, self._data.ndim, "scatter_add_")
    idx = checked_index(_index_arg(index, "scatter_add_"), self._data.shape[d], None,
                        "scatter_add_")
    return inplace(self, ops.ScatterAdd,
                   (cast(as_tensor_arg(src, self), self._data.dtype), idx), d)


@export
def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The slices at `index` (a 1-D integer tensor) along `dim` (a copy)."""
    d = one_dim(dim, input._data.ndim, "index_select")
    idx = _index_arg(index, "index_select")
    if idx._data.ndim > 1:
        raise RuntimeError("index_select(): Index is supposed to be a vector")
    template = ops.named((slice(None),) * d + (ops.Slot(0),), "IndexSelectBackward0")
    return apply(ops.GetItem, (input, idx.reshape(-1)), template)


@export
def take(input: Tensor, index: Any) -> Tensor:
    """input.flatten()[index]"""
    return reshape(input, -1)[index]


@export
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below diagonal `diagonal`); the rest zeroed."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply(ops.Tri, (input,), (True, int(diagonal)))


@export
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above diagonal `diagonal`); the rest zeroed."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply(ops.Tri, (input,), (False, int(diagonal)))


# ---- copies and detaching ---------------------------------------------------------------------

@export
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage; the gradient flows back to input."""
    return apply(ops.Clone, (input,))


@export(function=False)
def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """self if its data is laid out row-major already, else a copy."""
    return self if self._data.flags.c_contiguous else clone(self)


@export(function=False)
def is_contiguous(self: Tensor, memory_format: Any = None) -> bool:
    return builtins.bool(self._data.flags.c_contiguous)


@export
def detach(input: Tensor) -> Tensor:
    """A new leaf outside the graph sharing this tensor's storage and version counter (so
    in-place changes through either are seen by autograd)."""
    t = _wrap(input._data)
    root = input._view.base if input._view is not None else input
    if root._ver is None:
        root._ver = Version()
    t._ver = root._ver
    if STATE.tracer is not None:
        STATE.tracer.alias(t, input)
    return t


@export(function=False)
def detach_(self: Tensor) -> Tensor:
    """Make this tensor a leaf that does not require grad, in place."""
    if self._view is not None and STATE.grad_enabled and self._op is not None:
        raise RuntimeError("Can't detach views in-place. Use detach() instead.")
    self._op = None
    self._parents = ()
    self._needs = ()
    self._saved = None
    self._rg = False
    return self
