"""one_hot and embedding (a lookup table), composed from primitives (no backward code).

An embedding is indexing, `weight[idx]`: its gradient adds each output row's gradient into
the row of `weight` it was read from (rows read twice get both), which is exactly the
gradient of the matrix product one_hot(idx) @ weight, without building the one-hot matrix.
"""

from __future__ import annotations

import numpy as np

from ... import dtypes
from ..._tensor import Tensor, _wrap, constant_leaf
from ...engine import STATE, no_grad
from ...functions.pointwise import where
from ._common import as_tensor, raw


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes), 1 where the last index equals the
    class in `tensor`, 0 elsewhere. num_classes = -1: max(tensor) + 1.

    >>> F.one_hot(minigrad.tensor([0, 2]), 3)     # tensor([[1, 0, 0], [0, 0, 1]])
    """
    t = raw(tensor)
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if t.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if t.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(t.max()) + 1
        elif t.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (t[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor(out, dtype=np.int64)


def _check_indices(idx: np.ndarray, n: int) -> None:
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{dtypes.scalar_name(idx.dtype)}Tensor instead (while checking "
                           f"arguments for embedding)")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """In place, without gradient: the rows of `weight` read by idx whose norm exceeds
    max_norm are scaled to norm max_norm (by max_norm / (norm + 1e-7), as PyTorch)."""
    rows = np.unique(idx)
    with no_grad():
        sel = weight[rows]
        norms = sel.norm(norm_type, 1, keepdim=True)
        big = norms > max_norm
        if bool(big.any()):
            scale = where(big, max_norm / (norms + 1e-7), 1.0)
            weight[rows] = sel * scale


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer tensor `input`:
    out[..., :] = weight[input[...], :], of shape (*input.shape, dim).

    padding_idx: that row gets no gradient (it is read as a constant). max_norm: the rows
    read are first renormalised in place (no gradient) to norm <= max_norm.
    scale_grad_by_freq: each row's gradient is divided by how often the row occurs in
    `input`. sparse is accepted; the gradient is always a dense tensor.

    >>> F.embedding(minigrad.tensor([[0, 2]]), minigrad.eye(3))   # rows 0 and 2 of eye(3)
    """
    w = as_tensor(weight, "embedding")
    idx = raw(input)
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    n = w.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= n
    _check_indices(idx, n)
    it = input if isinstance(input, Tensor) else constant_leaf(np.array(idx))
    tracer = STATE.tracer
    if tracer is not None and (max_norm is not None or scale_grad_by_freq):
        tracer.reads_value(it, "embedding(max_norm=...) or (scale_grad_by_freq=True)")
    if max_norm is not None:
        _renorm_(w, idx, max_norm, norm_type)
    out = w[it]
    if padding_idx is not None and (tracer is not None or (idx == padding_idx).any()):
        # the value is the same; the padding row's entries come from a constant
        out = where((it == padding_idx).unsqueeze(-1), out.detach(), out)
    if scale_grad_by_freq and idx.size:
        counts = np.bincount(idx.reshape(-1), minlength=n)[idx][..., None]
        # value out + 0 exactly (y - y is 0), gradient 1 / count
        scaled = out * _wrap((1.0 / counts).astype(w._data.dtype))
        out = out.detach() + (scaled - scaled.detach())
    return out
