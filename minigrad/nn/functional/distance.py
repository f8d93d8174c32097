"""Similarities and distances between vectors, and attention, composed from primitives (no
backward code): cosine_similarity, pairwise_distance, scaled_dot_product_attention."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._tensor import Tensor, constant_leaf
from ...functions.pointwise import where
from ._common import as_tensor
from .activations import softmax
from .layers import dropout


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (||x1|| ||x2||) along `dim` (the inputs broadcast), computed as PyTorch's
    as the dot product of x / max(||x||, eps): each factor stays within [-1, 1].

    >>> F.cosine_similarity(minigrad.tensor([[1.0, 0.0]]), minigrad.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    a = as_tensor(x1, "cosine_similarity")
    b = as_tensor(x2, "cosine_similarity")
    shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))   # the norms see the
    a, b = a.expand(shape), b.expand(shape)                       # broadcast vectors
    a_unit = a / a.norm(2, dim, keepdim=True).clamp(min=eps)
    b_unit = b / b.norm(2, dim, keepdim=True).clamp(min=eps)
    return (a_unit * b_unit).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (eps keeps the norm differentiable at x1 = x2).

    >>> F.pairwise_distance(minigrad.tensor([[0.0, 0.0]]), minigrad.tensor([[3.0, 4.0]]))
    """
    a = as_tensor(x1, "pairwise_distance")
    b = as_tensor(x2, "pairwise_distance")
    d = a - b + eps
    return d.norm(p, -1, keepdim=keepdim) if d.ndim else d.abs()


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + bias) V, scale = 1 / sqrt(E) by default (E = query.size(-1)).

    bias is -inf where a boolean attn_mask is False (or above the diagonal with is_causal),
    or a float attn_mask added as is. Q is (..., L, E), K is (..., S, E), V is (..., S, Ev);
    the result is (..., L, Ev). dropout_p drops attention weights (always, as PyTorch's
    function: pass 0.0 in eval mode).
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    q = as_tensor(query, "scaled_dot_product_attention")
    k = as_tensor(key, "scaled_dot_product_attention")
    v = as_tensor(value, "scaled_dot_product_attention")
    n_q, n_k = q.shape[-2], k.shape[-2]
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
        keep = np.tril(np.ones((n_q, n_k), dtype=bool))
        scores = where(keep, scores, float("-inf"))
    elif attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else constant_leaf(np.asarray(attn_mask))
        if mask.dtype == np.bool_ or mask._data.dtype == np.bool_:
            scores = where(mask, scores, float("-inf"))
        else:
            scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ v
