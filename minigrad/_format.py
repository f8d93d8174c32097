"""How tensors print: the same text PyTorch prints.

    tensor([[ 0.5000, -1.2500],
            [ 3.0000,  4.0000]], requires_grad=True)

Rules (those of PyTorch's printer): 4 decimals; all-integer floats print as "1." ; scientific
notation when the nonzero magnitudes span more than 1000x, exceed 1e8 or (non-integer) go
below 1e-4; every element padded to one width; more than 1000 elements are summarised with
"..." (3 items at each edge); lines wrap at 80 characters. The dtype is printed when it is
not the default float dtype, int64 or bool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """PyTorch's `set_printoptions` (profile "default", "short" or "full")."""
    if profile == "default":
        OPTIONS.__init__()
    elif profile == "short":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems = 2, 1000, 2
    elif profile == "full":
        OPTIONS.precision, OPTIONS.threshold, OPTIONS.edgeitems = 4, math.inf, 3
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """One width and one style (integer, fixed, scientific) for all shown elements."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        p = OPTIONS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size:
            mags = np.abs(finite)
            lo, hi = float(mags.min()), float(mags.max())
            self.int_mode = bool(np.all(finite == np.ceil(finite)))
            if self.int_mode:
                self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
                texts = ([f"{v:.{p}e}" for v in finite.tolist()] if self.sci_mode
                         else [f"{v:.0f}" + " " for v in finite.tolist()])
            else:
                self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                fmt = "e" if self.sci_mode else "f"
                texts = [f"{v:.{p}{fmt}}" for v in finite.tolist()]
            self.width = max(self.width, *map(len, texts))
        if OPTIONS.sci_mode is not None:
            self.sci_mode = OPTIONS.sci_mode

    def format(self, v: Any) -> str:
        p = OPTIONS.precision
        if not self.floating:
            text = str(v)
        elif self.sci_mode:
            text = f"{v:{self.width}.{p}e}"
        elif self.int_mode:
            text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            text = f"{v:.{p}f}"
        return " " * (self.width - len(text)) + text


def _summarised(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown (the edges of every long dimension)."""
    e = OPTIONS.edgeitems
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * e:
        a = np.concatenate([a[:e], a[-e:]])
    if a.ndim == 1:
        return a
    return np.stack([_summarised(x) for x in a]) if len(a) else a


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = OPTIONS.edgeitems
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        per_line = max(1, (OPTIONS.linewidth - indent) // (fmt.width + 2))
        if summarize and a.shape[0] > 2 * e:
            items = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                     + [fmt.format(v) for v in a[-e:].tolist()])
        else:
            items = [fmt.format(v) for v in a.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and a.shape[0] > 2 * e:
        parts = ([_body(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                 + [_body(a[i], indent + 1, summarize, fmt) for i in range(len(a) - e, len(a))])
    else:
        parts = [_body(x, indent + 1, summarize, fmt) for x in a]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _suffixes(text: str, suffixes: list[str], indent: int) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > OPTIONS.linewidth:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    return "".join(out) + ")"


def array_text(a: np.ndarray, indent: int = 7) -> str:
    """The bracketed numbers of an array as PyTorch prints them."""
    if a.size == 0:
        return "[]"
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    summarize = a.size > OPTIONS.threshold
    fmt = _Formatter(_summarised(a) if summarize else a)
    return _body(a, indent, summarize, fmt)


def tensor_repr(t: Any) -> str:
    """`tensor([...], dtype=..., grad_fn=<...>)` as PyTorch prints it."""
    from ._tensor import default_float
    a = t._data
    prefix = "tensor("
    suffixes = []
    dtype_text = f"dtype={t.dtype}"
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default_float():
            suffixes.append(dtype_text)
        body = "[]"
    else:
        if a.dtype not in (default_float(), np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append(dtype_text)
        body = array_text(a, len(prefix))
    if t._op is not None:
        suffixes.append(f"grad_fn=<{t._op.grad_fn_name(t)}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _suffixes(prefix + body, suffixes, len(prefix))
