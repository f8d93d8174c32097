"""Derivatives of whole functions, with PyTorch's signatures (`torch.autograd.functional`):
`vjp`, `jvp`, `jacobian`, `hessian`, `vhp`, `hvp`. All are compositions of `grad`.

A single Tensor in gives a single Tensor out, a tuple gives a tuple (as PyTorch). Inputs are
copied into fresh leaves, so the caller's tensors get no `.grad`; results are detached unless
`create_graph=True`.

    J v   (jvp)  uses the double-backward trick: u -> (dy/dx)^T u is linear in u, so the
          gradient of <(dy/dx)^T u, v> with respect to u is (dy/dx) v.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap
from ..engine import enable_grad
from . import grad


def _tuple(x: Any) -> tuple[tuple, bool]:
    if isinstance(x, tuple | list):
        return tuple(x), True
    return (x,), False


def _leaves(inputs: tuple, create_graph: bool) -> tuple:
    out = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The input {i} given to the function is a {type(x).__name__}, not "
                            f"a Tensor")
        if create_graph and x.requires_grad:
            out.append(x * 1.0)                  # keep the caller's graph
        else:
            out.append(_wrap(x._data.copy()).requires_grad_(True))
    return tuple(out)


def _zeros_for(x: Tensor) -> Tensor:
    return _wrap(np.zeros(x._data.shape, dtype=x._data.dtype))


def _finish(ts: Any, create_graph: bool) -> Any:
    if isinstance(ts, tuple):
        return tuple(_finish(t, create_graph) for t in ts)
    if ts is None or create_graph:
        return ts
    return ts.detach()


def _grads(outputs: tuple, inputs: tuple, vs: Any, create_graph: bool, strict: bool) -> tuple:
    live = [(o, v) for o, v in zip(outputs, vs) if o.requires_grad]
    if not live:
        if strict:
            raise RuntimeError("The output of the user-provided function is independent of "
                               "the inputs (strict=True)")
        return tuple(_zeros_for(x) for x in inputs)
    got = grad([o for o, _ in live], inputs, grad_outputs=[v for _, v in live],
               create_graph=create_graph, retain_graph=True, allow_unused=True)
    out = []
    for i, (g, x) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i} (strict=True)")
            g = _zeros_for(x)
        out.append(g)
    return tuple(out)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product."""
    ins, many_in = _tuple(inputs)
    with enable_grad():
        xs = _leaves(ins, create_graph)
        outs, many_out = _tuple(func(*xs))
        if v is None:
            if any(o.numel() != 1 for o in outs):
                raise RuntimeError("The vector v can only be None if the user-provided "
                                   "function returns a single Tensor with a single element.")
            vs = tuple(_wrap(np.ones(o._data.shape, dtype=o._data.dtype)) for o in outs)
        else:
            vs, _ = _tuple(v)
        g = _grads(outs, xs, vs, create_graph, strict)
    outs_f = _finish(outs, create_graph)
    return (outs_f if many_out else outs_f[0]), (_finish(g, create_graph) if many_in else
                                                 _finish(g[0], create_graph))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product (by double backward)."""
    ins, many_in = _tuple(inputs)
    with enable_grad():
        xs = _leaves(ins, True)
        outs, many_out = _tuple(func(*xs))
        if v is None:
            if any(x.numel() != 1 for x in ins):
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            vs = tuple(_wrap(np.ones(x._data.shape, dtype=x._data.dtype)) for x in ins)
        else:
            vs, _ = _tuple(v)
        us = tuple(_wrap(np.zeros(o._data.shape, dtype=o._data.dtype)).requires_grad_(True)
                   for o in outs)
        live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
        if not live:
            results = tuple(_zeros_for(o) for o in outs)
        else:
            gx = grad([o for o, _ in live], xs, grad_outputs=[u for _, u in live],
                      create_graph=True, allow_unused=True)
            pairs = [(g, vv) for g, vv in zip(gx, vs) if g is not None and g.requires_grad]
            if not pairs:
                results = tuple(_zeros_for(o) for o in outs)
            else:
                got = grad([g for g, _ in pairs], us, grad_outputs=[vv for _, vv in pairs],
                           create_graph=create_graph, allow_unused=True)
                results = tuple(g if g is not None else _zeros_for(o)
                                for g, o in zip(got, outs))
    outs_f = _finish(outs, create_graph)
    res = _finish(results, create_graph)
    return (outs_f if many_out else outs_f[0]), (res if many_out else res[0])


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs: for output shape O and input shape I, a Tensor of shape
    O + I (tuples of them for several inputs or outputs), one backward per output element."""
    ins, many_in = _tuple(inputs)
    with enable_grad():
        xs = _leaves(ins, create_graph)
        outs, many_out = _tuple(func(*xs))
        table = []
        for o in outs:
            rows: list[list[Tensor]] = [[] for _ in xs]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                if o.requires_grad:
                    gs = grad(flat[k], xs, retain_graph=True, create_graph=create_graph,
                              allow_unused=True)
                else:
                    gs = (None,) * len(xs)
                for i, (g, x) in enumerate(zip(gs, xs)):
                    if g is None and strict:
                        raise RuntimeError(f"Output {k} of the user-provided function is "
                                           f"independent of input {i} (strict=True)")
                    rows[i].append(_zeros_for(x) if g is None else g)
            from ..functions.shaping import stack
            jac = []
            for i, x in enumerate(xs):
                if rows[i]:
                    j = stack(rows[i]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    j = _wrap(np.zeros(tuple(o.shape) + tuple(x.shape), dtype=x._data.dtype))
                jac.append(_finish(j, create_graph))
            table.append(tuple(jac) if many_in else jac[0])
    return tuple(table) if many_out else table[0]


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a scalar function (the Jacobian of its
    gradient); shape I + I for one input, a tuple of tuples for several."""
    ins, many_in = _tuple(inputs)

    def gradient(*xs: Tensor) -> Any:
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        gs = grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else _zeros_for(x) for g, x in zip(gs, xs))
        return gs if many_in else gs[0]

    return jacobian(gradient, ins if many_in else ins[0], create_graph=create_graph,
                    strict=strict)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a scalar function."""
    ins, many_in = _tuple(inputs)
    with enable_grad():
        xs = _leaves(ins, True)
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with "
                               "a single element")
        vs = _tuple(v)[0] if v is not None else tuple(
            _wrap(np.ones(x._data.shape, dtype=x._data.dtype)) for x in xs)
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None and g.requires_grad]
        if pairs:
            got = grad([g for g, _ in pairs], xs, grad_outputs=[vv for _, vv in pairs],
                       create_graph=create_graph, allow_unused=True)
        else:
            got = (None,) * len(xs)
        res = tuple(g if g is not None else _zeros_for(x) for g, x in zip(got, xs))
    res = _finish(res, create_graph)
    return _finish(out, create_graph), (res if many_in else res[0])


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v) for a scalar function (H is symmetric, so this is v^T H)."""
    return vhp(func, inputs, v, create_graph, strict)
