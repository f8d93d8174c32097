"""`grad` (gradients as values, higher order with create_graph) and `gradcheck`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import no_grad, run_backward
from .tensor import Tensor, _seed


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(sum of outputs * grad_outputs) / d(inputs), returned as a tuple of Tensors.

    Nothing is stored in `.grad`. With `create_graph=True` the results carry a graph of
    their own, so they can be differentiated again (second derivatives, Hessian-vector
    products).

    >>> x = Tensor(3.0, requires_grad=True)
    >>> (g,) = grad(x ** 3, x, create_graph=True)      # 3 x^2 = 27
    >>> (h,) = grad(g, x)                               # 6 x = 18
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    seeds = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(seeds) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(seeds)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor (for "
                            f"Values, call .backward() on the output and read .grad)")
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    totals: dict[int, Any] = {}
    for k, (out, seed) in enumerate(zip(outputs, seeds)):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(f"grad: output {k} does not require grad and has no graph")
        g = _seed(out, seed, "grad")
        if create_graph:
            g = Tensor(g)
        last = k == len(outputs) - 1
        got = run_backward(out, g, retain or not last, create_graph, inputs)
        for key, value in got.items():
            totals[key] = value if key not in totals else totals[key] + value
    result = []
    for i, t in enumerate(inputs):
        g = totals.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} was not used to compute the outputs "
                                   f"(pass allow_unused=True to get None for it)")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor(np.array(g, dtype=t.dtype)))
    return tuple(result)


class GradcheckError(AssertionError):
    """A gradient from the engine disagrees with central finite differences."""


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the engine's gradients of `fn(*inputs)` with central differences.

    For every element x_i of every input that requires grad:
        (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)  ~  d f / d x_i
    where f = sum(fn(*inputs) * r) for a fixed random r (so every output element counts).
    Inputs must be float64 (float32 rounding swamps the differences).
    Returns True, or raises GradcheckError naming the input, the element and both values.
    """
    inputs = list(_as_tuple(inputs))
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, not a Tensor")
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences "
                             f"need float64 inputs")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError("gradcheck: fn must return a Tensor")
    r = Tensor(np.random.default_rng(0).standard_normal(out.shape))
    checked = [t for t in inputs if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    analytic = grad((out * r).sum(), checked, allow_unused=True)

    def f() -> float:
        with no_grad():
            return float((fn(*inputs).data * r.data).sum())

    for t, a in zip(checked, analytic):
        i = next(n for n, u in enumerate(inputs) if u is t)
        a = np.zeros(t.shape) if a is None else a.data
        flat = t.data.reshape(-1)       # a view: nudging it nudges the input
        if not flat.flags.writeable or not np.shares_memory(flat, t.data):
            t.data = t.data.copy()
            flat = t.data.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = f()
            flat[j] = old - eps
            down = f()
            flat[j] = old
            numeric = (up - down) / (2 * eps)
            analytic_j = a.reshape(-1)[j]
            if not np.isclose(analytic_j, numeric, atol=atol, rtol=rtol):
                where = tuple(int(w) for w in np.unravel_index(j, t.shape)) if t.ndim else ()
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {t.shape}), element {where}: "
                    f"engine gradient {float(analytic_j)!r} vs finite difference "
                    f"{float(numeric)!r}")
    return True
