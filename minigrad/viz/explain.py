"""The numbers of one backprop step as sentences, for the terminal and the HTML stepper:
upstream x local = share, and the running sum where several shares meet.

>>> product(0.5, -3.0, -1.5)
'0.5 x (-3) = -1.5'
>>> running_sum([3.0, 3.0, 1.0])
'3 + 3 + 1 = 7'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .draw import summarize


def _single(x: Any) -> bool:
    return x is not None and np.size(x) == 1


def number(x: Any) -> str:
    """A single number as the steppers write it in a sum or product: 6 significant digits,
    so that the written numbers multiply and add up to the written result."""
    return f"{float(np.asarray(x).reshape(())):.6g}"


def _paren(x: Any) -> str:
    text = number(x)
    return f"({text})" if text.startswith("-") else text


def product(upstream: Any, local: Any, share: Any, times: str = "x") -> str | None:
    """"upstream x local = share" with the numbers filled in, when all three are single
    numbers; None otherwise."""
    if not (_single(upstream) and _single(local) and _single(share)):
        return None
    return f"{number(upstream)} {times} {_paren(local)} = {number(share)}"


def running_sum(values: Sequence[Any]) -> str:
    """"a + b + c = total" for single numbers; the total's summary for arrays."""
    if all(_single(v) for v in values):
        total = sum(float(np.asarray(v).reshape(())) for v in values)
        terms = [number(values[0])] + [_paren(v) for v in values[1:]]
        return " + ".join(terms) + f" = {number(total)}"
    total = values[0]
    for v in values[1:]:
        total = total + v
    return f"sum of {len(values)} shares = {summarize(np.asarray(total))}"


def so_far(before: Any, share: Any, after: Any) -> str:
    """The receiving node's gradient after this share: "after" for its first share, else
    "before + share = after"."""
    if before is None:
        return number(after) if _single(after) else summarize(np.asarray(after))
    if _single(before) and _single(share):
        return f"{number(before)} + {_paren(share)} = {number(after)}"
    return f"previous + this share = {summarize(np.asarray(after))}"
