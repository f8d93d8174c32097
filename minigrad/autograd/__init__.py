"""`minigrad.autograd`: `grad` (gradients as values, higher order with create_graph),
`backward`, `gradcheck` and `gradgradcheck`, the graph view (`graph`), and `functional`
(jacobian, hessian, vjp, jvp, hvp, vhp)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, _seed, _wrap, constant_leaf
from ..engine import (
    STATE,
    detect_anomaly,
    enable_grad,
    inference_mode,
    no_grad,
    run_backward,
    set_grad_enabled,
)
from ..functions.creation import zeros_like
from ..functions.shaping import stack

__all__ = ["GradcheckError", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck",
           "gradgradcheck", "inference_mode", "no_grad", "set_detect_anomaly",
           "set_grad_enabled"]


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def _inputs_tuple(inputs: Any, what: str) -> tuple:
    """`inputs` of grad()/backward() as a tuple: a Tensor, a sequence, or a dict's values."""
    if isinstance(inputs, Tensor):
        return (inputs,)
    if type(inputs) is dict:
        return tuple(inputs.values())
    if isinstance(inputs, Mapping):
        raise TypeError(f"`inputs` argument to `{what}()` must be a dict, not "
                        f"{type(inputs).__name__}. Other Mapping types are not supported.")
    if not isinstance(inputs, list | tuple):
        return (inputs,)            # not a Tensor: refused with a message naming it
    return tuple(inputs)


def _gradients(grads: Any, n: int) -> tuple:
    """grad_outputs / grad_tensors as one entry (a Tensor or None) per output, as PyTorch
    pairs them: extra entries are ignored, missing ones are an error."""
    if grads is None:
        return (None,) * n
    seq = (grads,) if isinstance(grads, Tensor) else _as_tuple(grads)
    for g in seq:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
    if len(seq) < n:
        raise RuntimeError(f"got {n} tensors and {len(seq)} gradients")
    return seq[:n]


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple | dict:
    """d(sum of outputs * grad_outputs) / d(inputs), returned as a tuple of Tensors (a dict
    when `inputs` is a dict), with PyTorch's signature.

    Nothing is stored in `.grad`. With `create_graph=True` the results carry a graph of
    their own, so they can be differentiated again (second derivatives, Hessian-vector
    products); a `grad_outputs` tensor that requires grad then stays in that graph (the
    double-backward trick that computes a Jacobian-vector product). An input the outputs do
    not depend on is an error, None with `allow_unused=True`, zeros with
    `materialize_grads=True`. With `is_grads_batched=True` each grad_output has an extra
    leading dimension B and the results too: row b is the gradient for grad_outputs[b] (one
    backward pass per row here; PyTorch vectorizes).

    >>> x = minigrad.tensor(3.0, requires_grad=True)
    >>> (g,) = grad(x ** 3, x, create_graph=True)      # 3 x^2 = 27
    >>> (h,) = grad(g, x)                               # 6 x = 18
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = tuple(outputs) if isinstance(outputs, list | tuple) else (outputs,)
    ins = _inputs_tuple(inputs, "grad")
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    seeds = _gradients(grad_outputs, len(outputs))
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor (for "
                            f"Values, call .backward() on the output and read .grad)")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                               f"require grad")
    for k, out in enumerate(outputs):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                               f"have a grad_fn")
    retain = create_graph if retain_graph is None else retain_graph
    if is_grads_batched:
        result = _batched(outputs, ins, seeds, retain, create_graph)
    else:
        result = _grad_once(outputs, ins, seeds, retain, create_graph)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                               f"been used in the graph. Set allow_unused=True if this is the "
                               f"desired behavior.")
    if materialize_grads:
        result = [g if g is not None else zeros_like(t, requires_grad=create_graph)
                  for g, t in zip(result, ins)]
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), result))
    return tuple(result)


def _grad_once(outputs: tuple, inputs: tuple, seeds: tuple, retain: bool,
               create_graph: bool) -> list:
    """One backward pass per output (their gradients summed); None for unused inputs."""
    totals: dict[int, Any] = {}
    for k, (out, seed) in enumerate(zip(outputs, seeds)):
        if create_graph and isinstance(seed, Tensor) and seed.shape == out.shape \
                and seed.dtype == out.dtype:
            g: Any = seed                   # keep its graph: grad(g, seed) may follow
        else:
            g = _seed(out, seed, "grad")
            if create_graph or STATE.tracer is not None:
                g = constant_leaf(g)
        last = k == len(outputs) - 1
        got = run_backward(out, g, retain or not last, create_graph, inputs)
        for key, value in got.items():
            totals[key] = value if key not in totals else totals[key] + value
    result = []
    for t in inputs:
        g = totals.get(id(t))
        if g is not None and not isinstance(g, Tensor):
            g = constant_leaf(np.array(g, dtype=t._data.dtype))
        result.append(g)
    return result


def _batched(outputs: tuple, inputs: tuple, seeds: tuple, retain: bool,
             create_graph: bool) -> list:
    """is_grads_batched: one backward pass per row of the grad_outputs, stacked."""
    sizes = set()
    for k, (out, seed) in enumerate(zip(outputs, seeds)):
        if seed is None or tuple(seed.shape[1:]) != tuple(out.shape):
            got = None if seed is None else list(seed.shape)
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension "
                               f"of each grad_output as the batch dimension. The sizes of the "
                               f"remaining dimensions are expected to match the shape of "
                               f"corresponding output, but a mismatch was detected: "
                               f"grad_output[{k}] has a shape of {got} and output[{k}] has a "
                               f"shape of {list(out.shape)}.")
        sizes.add(seed.shape[0])
    (n,) = sizes if len(sizes) == 1 else (None,)
    if n is None:
        raise RuntimeError("is_grads_batched: the grad_outputs have different batch sizes")
    rows = [_grad_once(outputs, inputs, tuple(s[b] for s in seeds), retain or b < n - 1,
                       create_graph) for b in range(n)]
    result = []
    for i, t in enumerate(inputs):
        column = [r[i] for r in rows]
        if all(g is None for g in column):
            result.append(None)
        else:
            result.append(stack([g if g is not None else zeros_like(t) for g in column]))
    return result


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None,
             inputs: Any = None) -> None:
    """Sum d(tensors * grad_tensors)/d(leaf) into the `.grad` of every leaf that requires
    grad (or only of `inputs`): `t.backward(g)` for several outputs at once."""
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.",
                      FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments "
                               "both passed to `backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _inputs_tuple(inputs, "backward")
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    tensors = tuple(tensors) if isinstance(tensors, list | tuple) else (tensors,)
    grads = _gradients(grad_tensors, len(tensors))
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                               f"have a grad_fn")
    keep = create_graph if retain_graph is None else retain_graph
    for k, (t, g) in enumerate(zip(tensors, grads)):
        last = k == len(tensors) - 1
        t.backward(g, retain_graph=keep or not last, create_graph=create_graph,
                   inputs=inputs)


class GradcheckError(RuntimeError, AssertionError):
    """A gradient from the engine disagrees with central finite differences."""


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly detection on or off (see `detect_anomaly`)."""
    from ..engine import STATE
    STATE.anomaly = bool(mode)


def _differentiable(t: Any) -> bool:
    return isinstance(t, Tensor) and t.requires_grad and t._data.dtype.kind == "f"


def gradcheck(func: Callable[..., Any], inputs: Sequence[Any] | Tensor, *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False,
              masked: bool | None = None) -> bool:
    """Compare the engine's gradients of `func(*inputs)` with central differences, with
    PyTorch's signature.

    For every output o (each checked on its own) and every element x_j of every input that
    requires grad:
        (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)  ~  d f / d x_j,   f = sum(o * r)
    for a fixed random r (so every element of o counts: PyTorch's fast_mode idea, one
    backward pass per output instead of one per output element). `func` runs with recording
    on, as PyTorch's gradcheck runs it. Inputs that require grad must be float64 (float32
    rounding swamps the differences; PyTorch only warns). Returns True, or raises
    GradcheckError (a RuntimeError, as PyTorch's) naming the output, the input, the element
    and both values; returns False instead with `raise_exception=False`. PyTorch's other
    switches (nondet_tol, check_undefined_grad, fast_mode, masked...) are accepted and change
    nothing; forward-mode and batched checks are not available.

    >>> x = minigrad.tensor([0.5, 2.0], dtype=minigrad.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: forward-mode AD and batched gradients are not "
                                  "available in minigrad (check_forward_ad, check_batched_grad, "
                                  "check_batched_forward_grad must be False)")
    inputs = list(_as_tuple(inputs))
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences "
                             f"need float64 inputs")
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    with enable_grad():
        outs = _as_tuple(func(*inputs))
    if not all(isinstance(o, Tensor) for o in outs):
        raise TypeError("gradcheck: func must return a Tensor or a tuple of Tensors")
    rng = np.random.default_rng(0)
    rs = [rng.standard_normal(o.shape) for o in outs]
    wrt = [inputs[i] for i in checked]
    analytic = []                       # analytic[k][n]: d sum(o_k r_k) / d input checked[n]
    for o, r in zip(outs, rs):
        if _differentiable(o):
            gs = grad((o * Tensor(r)).sum(), wrt, retain_graph=True, allow_unused=True)
            analytic.append([np.zeros(t.shape) if g is None else np.asarray(g._data)
                             for g, t in zip(gs, wrt)])
        else:
            analytic.append(None)       # not differentiable: the differences must be 0

    def projections() -> list[float]:
        with enable_grad():
            res = _as_tuple(func(*inputs))
        return [float((np.asarray(o._data, dtype=np.float64) * r).sum())
                for o, r in zip(res, rs)]

    for n, i in enumerate(checked):
        t = inputs[i]
        flat = t._data.reshape(-1)       # a view: nudging it nudges the input
        if not flat.flags.writeable or not np.shares_memory(flat, t._data):
            t._data = t._data.copy()
            flat = t._data.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = projections()
            flat[j] = old - eps
            down = projections()
            flat[j] = old
            for k in range(len(outs)):
                numeric = (up[k] - down[k]) / (2 * eps)
                if analytic[k] is None:
                    if abs(numeric) <= atol:
                        continue
                    message = (f"Numerical gradient for function expected to be zero: output "
                               f"{k} does not require grad, but moving input {i} changes it")
                else:
                    exact = analytic[k][n].reshape(-1)[j]
                    if np.isclose(exact, numeric, atol=atol, rtol=rtol):
                        continue
                    where = tuple(int(w) for w in np.unravel_index(j, t.shape)) if t.ndim \
                        else ()
                    message = (f"Jacobian mismatch for output {k} with respect to input {i} "
                               f"(shape {tuple(t.shape)}), element {where}: numerical "
                               f"{float(numeric)!r}, analytical {float(exact)!r} (both are "
                               f"d sum(output * r) / d input for a fixed random r)")
                if not raise_exception:
                    return False
                raise GradcheckError(message)
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Sequence[Any] | Tensor,
                  grad_outputs: Any = None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """gradcheck of the first derivative, as PyTorch's: the function
        (inputs, v) -> grad(func(inputs), inputs, grad_outputs=v, create_graph=True)
    is checked with `gradcheck`, so the engine's second derivatives are compared with
    central differences of its (create_graph) first derivatives. `v` is random (requiring
    grad, so the derivative with respect to it is checked too) unless `grad_outputs` is
    given."""
    if check_fwd_over_rev or check_batched_grad:
        raise NotImplementedError("gradgradcheck: forward-over-reverse and batched checks are "
                                  "not available in minigrad")
    inputs = list(_as_tuple(inputs))
    with enable_grad():
        outs = [o for o in _as_tuple(func(*inputs)) if _differentiable(o)]
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        vs = [_wrap(rng.standard_normal(o.shape)).requires_grad_(True) for o in outs]
    else:
        vs = list(_as_tuple(grad_outputs))
    n = len(inputs)

    def first(*args: Any) -> tuple:
        xs, v = args[:n], args[n:]
        res = [o for o in _as_tuple(func(*xs)) if _differentiable(o)]
        wanted = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        if not res:
            return ()
        gs = grad(res, wanted, grad_outputs=list(v), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, inputs + vs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


from . import functional, graph  # noqa: E402
