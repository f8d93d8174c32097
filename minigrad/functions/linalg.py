"""Products: matmul (and @), mm, bmm, mv, dot, outer, einsum."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from .. import dtypes, ops
from .._bind import export
from .._tensor import Tensor, apply, binary, cast, default_float
from ._args import as_tensor_arg


@export
def matmul(input: Any, other: Any) -> Tensor:
    """input @ other: 1-D, 2-D or batched (batch dims broadcast)."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a._data.ndim}D and {b._data.ndim}D")
    return binary(ops.MatMul, a, b)


def _check(t: Tensor, nd: int, what: str, name: str) -> None:
    if t._data.ndim != nd:
        raise RuntimeError(f"{name} must be a {nd}D tensor" if what != "dot" else
                           f"1D tensors expected, but got {t._data.ndim}D and {nd}D tensors")


@export
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    _check(input, 2, "mm", "self")
    _check(mat2, 2, "mm", "mat2")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({input._data.shape[0]}x{input._data.shape[1]} and "
                           f"{mat2._data.shape[0]}x{mat2._data.shape[1]})")
    return binary(ops.MatMul, input, mat2)


@export
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors (same batch size)."""
    _check(input, 3, "bmm", "batch1")
    _check(mat2, 3, "bmm", "batch2")
    if input._data.shape[0] != mat2._data.shape[0] or \
            input._data.shape[2] != mat2._data.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._data.shape[0]}, {input._data.shape[2]}] but got: "
                           f"[{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    return binary(ops.MatMul, input, mat2)


@export
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    _check(input, 2, "mv", "self")
    _check(vec, 1, "mv", "vec")
    return binary(ops.MatMul, input, vec)


@export
def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] "
                           f"and src [{other._data.shape[0]}] to have the same number of "
                           f"elements, but got {input._data.shape[0]} and "
                           f"{other._data.shape[0]} elements respectively")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{dtypes.scalar_name(input._data.dtype)} and "
                           f"{dtypes.scalar_name(other._data.dtype)}")
    return binary(ops.MatMul, input, other)


@export("outer", "ger")
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """input[:, None] * vec2[None, :]"""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


@export(method=False)
def einsum(equation: str, *operands: Any) -> Tensor:
    """Sums of products by subscripts ("ij,jk->ik"); implicit output ("ij,jk") and "..."
    are expanded to the explicit form first. One node; its gradient is another einsum."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = [as_tensor_arg(t) for t in operands]
    eq = _explicit(equation.replace(" ", ""), [t._data.ndim for t in ts])
    target = dtypes.result_type(*[t._data for t in ts], default_float=default_float())
    return apply(ops.Einsum, tuple(cast(t, target) for t in ts), eq)


def _explicit(eq: str, ndims: list[int]) -> str:
    """'ij,jk' -> 'ij,jk->ik'; '...ij,...jk->...ik' with letters for the '...' dims."""
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise RuntimeError(f"einsum(): {len(terms)} subscripts for {len(ndims)} operands")
    unused = [c for c in string.ascii_letters if c not in eq]
    ell = ""
    if "..." in eq:
        width = max(nd - len(t.replace("...", "")) for t, nd in zip(terms, ndims) if "..." in t)
        ell = "".join(unused[:width])
        terms = [t.replace("...", ell[len(ell) - (nd - len(t.replace("...", ""))):])
                 for t, nd in zip(terms, ndims)]
        rhs = rhs.replace("...", ell)
    if not arrow:
        counts: dict[str, int] = {}
        for c in "".join(terms):
            counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    for t, nd in zip(terms, ndims):
        if len(t) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(t)}) does not match the number of dimensions ({nd}) "
                               f"for operand {terms.index(t)} and no ellipsis was given")
    return ",".join(terms) + "->" + rhs


@export(method=False)
def linear(input: Any, weight: Tensor, bias: Any = None) -> Tensor:
    """input @ weight.T + bias as one node (the primitive `ops.Linear`, as PyTorch's addmm),
    weight of shape (out_features, in_features)."""
    x = as_tensor_arg(input, weight)
    w = weight
    if w._data.ndim != 2 or x._data.ndim == 0 or x._data.shape[-1] != w._data.shape[1]:
        rows = x._data.shape[0] if x._data.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{x._data.shape[-1] if x._data.ndim else 0} and "
                           f"{'x'.join(map(str, w._data.shape[::-1]))})")
    if x._data.dtype != w._data.dtype:
        if x._data.dtype.kind != "f" or w._data.dtype.kind != "f":
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{dtypes.scalar_name(x._data.dtype)} and "
                               f"{dtypes.scalar_name(w._data.dtype)}")
        x = cast(x, w._data.dtype)
    if bias is None:
        return apply(ops.Linear, (x, w))
    b = as_tensor_arg(bias, w)
    if b._data.shape != (w._data.shape[0],):        # a bias that broadcasts, as addmm's
        out_shape = x._data.shape[:-1] + (w._data.shape[0],)
        try:
            if np.broadcast_shapes(b._data.shape, out_shape) != out_shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"linear: the bias of shape {list(b._data.shape)} does not "
                               f"broadcast to the output's shape {list(out_shape)}") from None
        return apply(ops.Linear, (x, w)) + cast(b, w._data.dtype)
    return apply(ops.Linear, (x, w, cast(b, w._data.dtype)))
