"""The functions of `minigrad` and the methods of `Tensor`, each declared once and bound to
both names (see `_bind.py`): creation and random numbers, pointwise math, reductions, shapes
and views, products, conversions. Derivatives are never written here: each function picks
primitives from `ops/` or composes other functions."""

from . import conversion, creation, linalg, pointwise, random, reduction, shaping  # noqa: F401
