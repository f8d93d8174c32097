"""Derivatives of whole functions, with PyTorch's signatures and semantics
(`torch.autograd.functional`): `vjp`, `jvp`, `jacobian`, `hessian`, `vhp`, `hvp`. All are
compositions of `grad` (reverse mode only; minigrad has no forward-mode AD).

For f: inputs -> outputs with Jacobian J (and, for a scalar f, Hessian H):
    vjp(f, x, v)  = (f(x), v^T J)          one backward pass
    jvp(f, x, v)  = (f(x), J v)            the double-backward trick: u -> J^T u is linear in
                                           u, so d<J^T u, v>/du = J v (two backward passes)
    jacobian(f, x)                         one backward pass per output element: shape O + I
    hessian(f, x) = jacobian(grad f)       shape I + I
    vhp(f, x, v)  = (f(x), v^T H)          grad of <grad f, v>
    hvp(f, x, v)  = (f(x), H v)            the double-backward trick again

A Tensor in gives a Tensor out, a tuple gives a tuple (a list is refused, as in PyTorch).
The inputs are replaced by fresh leaves (views when `create_graph=True` and they require
grad, so the results stay differentiable with respect to them); the caller's tensors get no
`.grad`. Results are detached unless `create_graph=True`. `strict=True` raises when an output
does not depend on an input instead of returning zeros.

>>> x = minigrad.tensor([1.0, 2.0])
>>> jacobian(lambda t: t ** 2, x)               # diag(2x)
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, constant_leaf
from ..engine import enable_grad, is_grad_enabled, set_grad_enabled
from ..functions.creation import zeros_like
from ..functions.shaping import stack
from . import grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# ---- helpers (PyTorch's, one for each step of the recipe) --------------------------------

def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was it a tuple, the Tensors as a tuple); anything else is a TypeError."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    """Undo _as_tuple: one level (a bool) or two (outputs, inputs) of tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New Tensor objects for the inputs: views that keep the caller's graph (create_graph
    and they require grad), else detached leaves that require grad if `need_graph`."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(need_graph) for x in inputs)


def _postprocess(res: tuple, create_graph: bool) -> tuple:
    """Detach the results unless the caller wants to differentiate them again."""
    if res and isinstance(res[0], Tensor):
        return res if create_graph else tuple(r.detach() for r in res)
    return tuple(_postprocess(r, create_graph) for r in res)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


_NOT_REQUIRED = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when "
               "running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of "
                   "the user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should "
               "ensure that your function is thrice differentiable and that the hessian "
               "depends on the inputs.",
}


def _check_requires_grad(tensors: tuple, kind: str, strict: bool) -> None:
    """strict mode: every one of `tensors` must depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NOT_REQUIRED[kind].format(i=i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None,
                   create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """`grad` that skips outputs that do not require grad (all None if none does)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not live:
        return (None,) * len(inputs)
    return grad([o for o, _ in live], inputs, [g for _, g in live], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:
    """None (does not depend) becomes zeros shaped like `refs`, or an error in strict mode."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               f"create_graph=True.")
        res.append(g)
    return tuple(res)


def _setup(fn_name: str, inputs: Any, v: Any, create_graph: bool, v_like_inputs: bool
           ) -> tuple[bool, tuple, tuple | None]:
    """Inputs as fresh Tensors and v checked against them (jvp, vhp, hvp)."""
    is_inputs_tuple, ins = _as_tuple(inputs, "inputs", fn_name)
    ins = _preprocess(ins, create_graph, need_graph=True)
    vs = None
    if v is not None:
        _, vs = _as_tuple(v, "v", fn_name)
        vs = _preprocess(vs, create_graph, need_graph=False)
        if v_like_inputs:
            _validate_v(vs, ins, is_inputs_tuple)
    elif v_like_inputs and (len(ins) != 1 or ins[0].nelement() != 1):
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return is_inputs_tuple, ins, vs


# ---- the six functions -------------------------------------------------------------------

def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product (v may be None for a
    single-element output)."""
    with enable_grad():
        is_inputs_tuple, ins, vs = _setup("vjp", inputs, v, create_graph, False)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function",
                                           "vjp")
        _check_requires_grad(outs, "outputs", strict)
        if vs is not None:
            _validate_v(vs, outs, is_outputs_tuple)
        elif len(outs) != 1 or outs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _autograd_grad(outs, ins, vs, create_graph=create_graph)
        res = _fill_in_zeros(res, ins, strict, create_graph, "back")
    return (_unpack(_postprocess(outs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick
    (u -> J^T u is linear, so the gradient of <J^T u, v> with respect to u is J v)."""
    with enable_grad():
        is_inputs_tuple, ins, vs = _setup("jvp", inputs, v, create_graph, True)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function",
                                           "jvp")
        _check_requires_grad(outs, "outputs", strict)
        us = tuple(zeros_like(o, requires_grad=True) for o in outs)
        grad_inputs = _autograd_grad(outs, ins, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _autograd_grad(grad_inputs, us, vs, create_graph=create_graph)
        res = _fill_in_zeros(res, outs, strict, create_graph, "back_trick")
    return (_unpack(_postprocess(outs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_outputs_tuple))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs: for an output of shape O and an input of shape I, a Tensor
    of shape O + I; a tuple over inputs, a tuple over outputs of those, as they were given.
    One backward pass per output element (`vectorize=True` batches them through
    `grad(is_grads_batched=True)`; "forward-mode" gives the same numbers by reverse mode)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".'
                             ' Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to'
                             ' use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True`'
                                      ' and `strategy="forward-mode"` are not supported '
                                      'together (yet). Please either set `create_graph=False` '
                                      'or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`strategy="forward-mode"` are not supported together (yet). '
                               'Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or "
                                      "forward-over-reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")
        # the same numbers by reverse mode; like PyTorch's dual numbers, the result stays
        # differentiable with respect to inputs that require grad
        _, ins = _as_tuple(inputs, "inputs", "jacobian")
        if any(x.requires_grad for x in ins):
            return jacobian(func, inputs, create_graph=True, vectorize=True)
    with enable_grad():
        is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _preprocess(ins, create_graph, need_graph=True)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function",
                                           "jacobian")
        _check_requires_grad(outs, "outputs", strict)
        if vectorize:
            if strict:
                raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                                   "`vectorized=True` are not supported together. Please "
                                   "either set `strict=False` or `vectorize=False`.")
            table = _jacobian_batched(outs, ins, create_graph)
        else:
            table = tuple(_jacobian_rows(i, out, ins, create_graph, strict)
                          for i, out in enumerate(outs))
        return _unpack(_postprocess(table, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(i: int, out: Tensor, ins: tuple, create_graph: bool,
                   strict: bool) -> tuple:
    """The Jacobians of output i with respect to each input, one row per output element."""
    rows: list[list[Tensor]] = [[] for _ in ins]
    flat = out.reshape(-1)
    for j in range(out.nelement()):
        vj = _autograd_grad((flat[j],), ins, retain_graph=True, create_graph=create_graph)
        for k, (g, x) in enumerate(zip(vj, ins)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {k}. This is not allowed in "
                                       f"strict mode.")
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is "
                                   f"independent of input {i}. This is not allowed in strict "
                                   f"mode when create_graph=True.")
            rows[k].append(g)
    return tuple(stack(r).view(out.size() + x.size()) if r else
                 constant_leaf(np.zeros(tuple(out.shape) + tuple(x.shape), dtype=x._data.dtype))
                 for r, x in zip(rows, ins))


def _jacobian_batched(outs: tuple, ins: tuple, create_graph: bool) -> tuple:
    """vectorize=True: the rows of the identity as batched grad_outputs, in one call."""
    numels = [o.nelement() for o in outs]
    total = sum(numels)
    eye = np.eye(total)
    basis, start = [], 0
    for o, n in zip(outs, numels):
        basis.append(constant_leaf(eye[:, start:start + n].astype(o._data.dtype)))
        start += n
    flat = tuple(o.reshape(-1) for o in outs)
    live = [(f, b) for f, b in zip(flat, basis) if f.requires_grad]
    if live:
        vj = grad([f for f, _ in live], ins, [b for _, b in live], retain_graph=True,
                  create_graph=create_graph, allow_unused=True, is_grads_batched=True)
    else:
        vj = (None,) * len(ins)
    per_input = [g if g is not None else
                 constant_leaf(np.zeros((total,) + tuple(x.shape), dtype=x._data.dtype))
                 for g, x in zip(vj, ins)]
    table = []
    for k, o in enumerate(outs):
        lo = sum(numels[:k])
        table.append(tuple(g[lo:lo + numels[k]].reshape(tuple(o.shape) + tuple(x.shape))
                           for g, x in zip(per_input, ins)))
    return tuple(table)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a single-element function (the Jacobian of its
    gradient): shape I + I for one input, a tuple of tuples (H[i][j] = d2 f / dx_i dx_j of
    shape I_i + I_j) for several."""
    is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or '
                             '"reverse-mode".')

    def single_output(*xs: Tensor) -> Tensor:
        out = func(*xs)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*xs: Tensor) -> Any:
        jac = jacobian(single_output, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, ins, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function(fn_name: str, func: Callable, ins: tuple, strict: bool
                     ) -> tuple[tuple, tuple]:
    """f(inputs), checked to be one single-element Tensor, and its gradient (with graph)."""
    is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function",
                                       fn_name)
    _check_requires_grad(outs, "outputs", strict)
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           f"contain a single element")
    jac = _autograd_grad(outs, ins, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return outs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H) for a single-element function: the gradient of <grad f, v>."""
    with enable_grad():
        is_inputs_tuple, ins, vs = _setup("vhp", inputs, v, create_graph, True)
        outs, jac = _scalar_function("vhp", func, ins, strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _autograd_grad(jac, ins, vs, create_graph=create_graph)
        res = _fill_in_zeros(res, ins, strict, create_graph, "double_back")
    return (_unpack(_postprocess(outs, create_graph), False),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v) for a single-element function, by the double-backward trick (the
    same numbers as vhp, H being symmetric; PyTorch computes it this way too)."""
    with enable_grad():
        is_inputs_tuple, ins, vs = _setup("hvp", inputs, v, create_graph, True)
        outs, jac = _scalar_function("hvp", func, ins, strict)
        us = tuple(zeros_like(x, requires_grad=True) for x in ins)
        double_back = _autograd_grad(jac, ins, us, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _autograd_grad(double_back, us, vs, create_graph=create_graph)
        res = _fill_in_zeros(res, ins, strict, create_graph, "double_back_trick")
    return (_unpack(_postprocess(outs, create_graph), False),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))
