"""pad: constant, reflect, replicate and circular padding, composed from primitives (no
backward code).

Constant padding concatenates constant blocks (`cat`, whose gradient is a slice); the other
modes read the input through one integer index per padded dim (`x[..., idx]`, whose
gradient adds each output's gradient back to the element it was read from). Negative
padding crops.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._tensor import Tensor, constant_leaf
from ...functions.shaping import cat
from ._common import as_tensor

_MODES = ("constant", "reflect", "replicate", "circular")
_SUPPORTED = ("\nSupported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pads(pad: Any, ndim: int) -> list[tuple[int, int, int]]:
    """(dim, before, after) for each padded dim: pad = (last_before, last_after,
    second_last_before, ...), PyTorch's order."""
    if isinstance(pad, Tensor) or not isinstance(pad, Sequence):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, numbers.Integral):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {ndim}")
    return [(ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)]


def _source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along a padded dim, the input position it copies."""
    i = np.arange(-before, n + after)
    if mode == "reflect":                  # ... 2 1 | 0 1 2 | 1 0 ...  (edge not repeated)
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":                # ... 0 0 | 0 1 2 | 2 2 ...
        return np.clip(i, 0, n - 1)
    # circular: ... 1 2 | 0 1 2 | 0 1 ...; a negative side crops first and the other side
    # wraps around what is left (PyTorch's order)
    start, stop = max(-before, 0), n - max(-after, 0)
    m = stop - start
    return start + np.arange(-max(before, 0), m + max(after, 0)) % max(m, 1)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last len(pad) // 2 dims of x.

    pad = (left, right) pads the last dim, (left, right, top, bottom) the last two, ...
    mode "constant" fills with `value` (default 0) and works on any dims; "reflect"
    (mirror without repeating the edge), "replicate" (repeat the edge) and "circular"
    (wrap around) pad the last 1, 2 or 3 dims of a (batched) input, as PyTorch's.

    >>> F.pad(minigrad.tensor([[1.0, 2.0]]), (1, 2))          # tensor([[0., 1., 2., 0., 0.]])
    >>> F.pad(minigrad.tensor([[1.0, 2.0, 3.0]]), (2, 0), "reflect")   # [[3., 2., 1., 2., 3.]]
    """
    x = as_tensor(input, "pad")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pads = _pads(pad, x.ndim)
    shape = tuple(x.shape)
    if mode == "constant":
        return _constant(x, pads, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pads)
    if not (k in (1, 2, 3) and x.ndim in (k + 1, k + 2)):
        raise NotImplementedError(f"Padding size {2 * k} is not supported for {x.ndim}D input "
                                  f"tensor.{_SUPPORTED}")
    batch = 1 if x.ndim == k + 2 else 0
    if any(n == 0 for n in shape[batch:]):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    for d, before, after in pads:
        n = shape[d]
        if mode == "reflect" and not (before < n and after < n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and not (before <= n and after <= n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) at dimension {d} leaves a "
                               f"negative size for input {list(shape)}")
    out = x
    for d, before, after in pads:
        if before or after:
            idx = _source_index(shape[d], before, after, mode)
            out = out[(slice(None),) * d + (idx,)]
    return out


def _constant(x: Tensor, pads: list[tuple[int, int, int]], value: float) -> Tensor:
    out = x
    for d, before, after in pads:
        n = out.shape[d]
        if n + before + after < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if before < 0 or after < 0:                         # crop first
            start, stop = max(-before, 0), n - max(-after, 0)
            out = out[(slice(None),) * d + (slice(start, max(start, stop)),)]
        blocks = []
        for amount in (before, after):
            if amount > 0:
                size = list(out.shape)
                size[d] = amount
                blocks.append(constant_leaf(np.full(size, value, dtype=out._data.dtype)))
            else:
                blocks.append(None)
        if blocks[0] is not None or blocks[1] is not None:
            parts = [b for b in (blocks[0], out, blocks[1]) if b is not None]
            out = cat(parts, d)
    return out if out is not x else x.clone()      # a new tensor, as PyTorch's
