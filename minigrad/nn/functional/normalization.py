"""normalize: scaling vectors to unit p-norm, composed from primitives (no backward code).
(batch_norm and layer_norm are in layers.py.)"""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ._common import as_tensor


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """x / max(||x||_p, eps), the norm taken along `dim` (kept, so it broadcasts back).

    eps keeps a zero vector at zero instead of 0 / 0; where it applies, the norm gets no
    gradient (clamp's rule), as PyTorch's.

    >>> F.normalize(minigrad.tensor([[3.0, 4.0]]))     # tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported by minigrad")
    x = as_tensor(input, "normalize")
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)
