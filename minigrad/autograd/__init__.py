"""`minigrad.autograd`: `grad` (gradients as values, higher order with create_graph),
`backward`, `gradcheck` and `gradgradcheck`, the graph view (`graph`), and `functional`
(jacobian, hessian, vjp, jvp, hvp, vhp)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, _seed, _wrap
from ..engine import detect_anomaly, enable_grad, no_grad, run_backward, set_grad_enabled

__all__ = ["GradcheckError", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck",
           "gradgradcheck", "no_grad", "set_detect_anomaly", "set_grad_enabled"]


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """d(sum of outputs * grad_outputs) / d(inputs), returned as a tuple of Tensors.

    Nothing is stored in `.grad`. With `create_graph=True` the results carry a graph of
    their own, so they can be differentiated again (second derivatives, Hessian-vector
    products); a `grad_outputs` tensor that requires grad then stays in that graph (the
    double-backward trick that computes a Jacobian-vector product).

    >>> x = minigrad.tensor(3.0, requires_grad=True)
    >>> (g,) = grad(x ** 3, x, create_graph=True)      # 3 x^2 = 27
    >>> (h,) = grad(g, x)                               # 6 x = 18
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched is not supported")
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    seeds = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(seeds) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: {len(outputs)} "
                           f"outputs but {len(seeds)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor (for "
                            f"Values, call .backward() on the output and read .grad)")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                               f"require grad")
    retain = create_graph if retain_graph is None else retain_graph
    totals: dict[int, Any] = {}
    for k, (out, seed) in enumerate(zip(outputs, seeds)):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                               f"have a grad_fn")
        if create_graph and isinstance(seed, Tensor) and seed.shape == out.shape \
                and seed.dtype == out.dtype:
            g: Any = seed                   # keep its graph: grad(g, seed) may follow
        else:
            g = _seed(out, seed, "grad")
            if create_graph:
                g = _wrap(g)
        last = k == len(outputs) - 1
        got = run_backward(out, g, retain or not last, create_graph, inputs)
        for key, value in got.items():
            totals[key] = value if key not in totals else totals[key] + value
    result = []
    for i, t in enumerate(inputs):
        g = totals.get(id(t))
        if g is None:
            if materialize_grads:
                result.append(_wrap(np.zeros(t._data.shape, dtype=t._data.dtype)))
                continue
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to "
                                   f"not have been used in the graph. Set allow_unused=True "
                                   f"if this is the desired behavior.")
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(_wrap(np.array(g, dtype=t._data.dtype)))
    return tuple(result)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """`t.backward(g)` for each output t, summing into the leaves' `.grad`."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(tensors)
    for k, (t, g) in enumerate(zip(tensors, grads)):
        last = k == len(tensors) - 1
        keep = retain_graph if retain_graph is not None else create_graph
        t.backward(g, retain_graph=keep or not last, create_graph=create_graph,
                   inputs=inputs)


class GradcheckError(RuntimeError, AssertionError):
    """A gradient from the engine disagrees with central finite differences."""


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly detection on or off (see `detect_anomaly`)."""
    from ..engine import STATE
    STATE.anomaly = bool(mode)


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              **unused: Any) -> bool:
    """Compare the engine's gradients of `fn(*inputs)` with central differences.

    For every element x_i of every input that requires grad:
        (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)  ~  d f / d x_i
    where f = sum(fn(*inputs) * r) for a fixed random r (so every output element counts).
    `fn` runs with recording on, as PyTorch's gradcheck runs it (hooks may be registered).
    Inputs must be float64 (float32 rounding swamps the differences). Returns True, or
    raises GradcheckError naming the input, the element and both values (returns False
    with `raise_exception=False`).
    """
    inputs = list(_as_tuple(inputs))
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences "
                             f"need float64 inputs")
    with enable_grad():
        out = fn(*inputs)
    outs = _as_tuple(out)
    if not all(isinstance(o, Tensor) for o in outs):
        raise TypeError("gradcheck: fn must return a Tensor or a tuple of Tensors")
    rng = np.random.default_rng(0)
    rs = [rng.standard_normal(o.shape) for o in outs]
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    total = None
    for o, r in zip(outs, rs):
        if o.requires_grad:
            term = (o * Tensor(r)).sum()
            total = term if total is None else total + term
    analytic = (grad(total, checked, allow_unused=True) if total is not None
                else (None,) * len(checked))

    def f() -> float:
        with enable_grad():
            res = _as_tuple(fn(*inputs))
        return float(sum((np.asarray(o._data) * r).sum() for o, r in zip(res, rs)))

    for t, a in zip(checked, analytic):
        i = next(n for n, u in enumerate(inputs) if u is t)
        a = np.zeros(t.shape) if a is None else a._data
        flat = t._data.reshape(-1)       # a view: nudging it nudges the input
        if not flat.flags.writeable or not np.shares_memory(flat, t._data):
            t._data = t._data.copy()
            flat = t._data.reshape(-1)
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
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"gradcheck: Jacobian mismatch for input {i} (shape {tuple(t.shape)}), "
                    f"element {where}: engine gradient {float(analytic_j)!r} vs finite "
                    f"difference {float(numeric)!r}")
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor] | Tensor,
                  grad_outputs: Any = None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **unused: Any) -> bool:
    """gradcheck of the first derivative: the engine's second derivatives of `fn` against
    central differences of its (engine-computed, create_graph) first derivatives."""
    inputs = list(_as_tuple(inputs))
    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    rng = np.random.default_rng(1)
    if grad_outputs is None:
        vs = [Tensor(rng.standard_normal(o.shape)) for o in outs]
    else:
        vs = list(_as_tuple(grad_outputs))
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first(*xs: Tensor) -> tuple:
        res = _as_tuple(fn(*xs))
        wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = grad(res, wanted, grad_outputs=vs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0.0 for g, x in zip(gs, wanted))

    del checked
    return gradcheck(first, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


from . import functional, graph  # noqa: E402
