"""Argument handling shared by the functions: PyTorch's names first (`dim`, `keepdim`,
`size`), numpy's spellings as aliases where they cannot mean something else (`axis`,
`keepdims`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, _constant

# Tuples of dims that are already normalised (sorted, non-negative), per number of dims.
_SORTED = {nd: {tuple(a for a in range(nd) if m >> a & 1) for m in range(1, 1 << nd)}
           for nd in range(1, 5)}


def dims(dim: Any, ndim: int, what: str) -> tuple[int, ...] | None:
    """`dim` (int, tuple/list of ints, or None for all) as a sorted tuple of non-negative
    ints, or None. Out-of-range and repeated dims raise PyTorch's IndexError/RuntimeError."""
    if dim is None:
        return None
    if type(dim) is int and -ndim <= dim < ndim:      # the common cases, at once
        return (dim % ndim,)
    if type(dim) is tuple and dim in _SORTED.get(ndim, ()):
        return dim
    items = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if not items:
        return None                     # dim=() or [] means all, as PyTorch
    n = max(ndim, 1)
    out = []
    for d in items:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(f"{what}: Dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{what}: dim {out[0]} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else None


def one_dim(dim: Any, ndim: int, what: str) -> int:
    """A single dim, wrapped (negative counts from the end)."""
    n = max(ndim, 1)
    d = int(dim)
    if not -n <= d < n:
        raise IndexError(f"{what}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d % n


def pick(what: str, value: Any, alias: Any, name: str, alias_name: str,
         default: Any = None) -> Any:
    """PyTorch's argument or its numpy alias (not both)."""
    if alias is not None:
        if value is not None and value is not default:
            raise TypeError(f"{what}: give {name} or {alias_name}, not both")
        return alias
    return default if value is None else value


def shape_args(args: tuple, what: str = "size") -> tuple[int, ...]:
    """Sizes given as separate ints or as one tuple/list/Size (PyTorch accepts both)."""
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray | Tensor):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{what}: sizes must be ints, got {a!r} ({type(a).__name__})")
        out.append(int(a))
    return tuple(out)


def as_tensor_arg(x: Any, like: Tensor | None = None, what: str = "") -> Tensor:
    """An operand as a Tensor: numbers and arrays become constants (copies)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, int | float | bool) and not isinstance(x, bool):
        kind = like._data.dtype.kind
        if kind == "f" or (kind in "iu" and isinstance(x, int)):
            return _constant(x, like._data.dtype)
    try:
        return _constant(x, None)
    except TypeError as err:
        raise TypeError(f"{what}: expected a Tensor, got {type(x).__name__} ({err})") from None
