"""Demo 2, part: the backward program minigrad derives for batch norm, as numpy code
(`minigrad.compile`), beside Ioffe and Szegedy's closed form, with the full-size array passes
of each counted and both timed.

The derived program comes from batch norm's forward written with primitive ops (mean, sub,
pow, add, ...): nobody wrote its backward. The closed form is the textbook's (Ioffe and
Szegedy 2015, section 3, the chain-rule equations after Algorithm 1), collected into one line
for dx as is usual in hand-written code.
"""

from __future__ import annotations

import html
import inspect
import time
from typing import Any

import numpy as np

import minigrad as mg

EPS = 1e-5


def closed_form_bn_backward(dy: np.ndarray, xhat: np.ndarray, gamma: np.ndarray,
                            inv_std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ioffe and Szegedy's backward of batch norm over the batch axis, by hand:
    dxhat = dy * gamma;  dx = inv_std / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
    dgamma = sum(dy * xhat);  dbeta = sum(dy)."""
    m = dy.shape[0]
    dbeta = dy.sum(0)
    dgamma = (dy * xhat).sum(0)
    dxhat = dy * gamma
    dx = (inv_std / m) * (m * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    return dx, dgamma, dbeta


def batch_norm_gradients(x: mg.Tensor, gamma: mg.Tensor, beta: mg.Tensor,
                         dy: mg.Tensor) -> tuple:
    """Batch norm from primitives, and the gradients of sum(y * dy) with respect to x, gamma
    and beta (dy plays the gradient arriving from the layers above)."""
    from minigrad.nn import functional as F

    y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)
    return mg.autograd.grad((y * dy).sum(), (x, gamma, beta))


class _Counted(np.ndarray):
    """An array that counts the numpy calls that read or write `size` elements or more."""

    size = 0
    calls = 0

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        arrays = [np.asarray(a) for a in inputs if isinstance(a, np.ndarray)]
        outs = kwargs.get("out", ())
        plain = [a.view(np.ndarray) if isinstance(a, _Counted) else a for a in inputs]
        if outs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Counted) else o
                                  for o in outs)
        result = getattr(ufunc, method)(*plain, **kwargs)
        sizes = [a.size for a in arrays] + [np.size(result)]
        if max(sizes) >= _Counted.size:
            _Counted.calls += 1
        return result.view(_Counted) if isinstance(result, np.ndarray) else result


def count_passes(fn: Any, arrays: list[np.ndarray], size: int) -> int:
    """How many numpy calls of `fn(*arrays)` touch an array of at least `size` elements."""
    _Counted.size, _Counted.calls = size, 0
    fn(*[a.view(_Counted) for a in arrays])
    return _Counted.calls


def _median_time(fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def backward_section(source: str) -> str:
    """The lines of a compiled function between its "# ---- backward" comment and its
    return (the derived backward), dedented."""
    lines = source.splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip() == "# ---- backward")
    end = next(k for k in range(start, len(lines)) if lines[k].strip().startswith("return"))
    return "\n".join(line[4:] for line in lines[start + 1:end])


def closed_form_bn_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = gamma * xhat + beta with xhat = (x - mean) / sqrt(var + eps); returns
    (y, xhat, inv_std), what the closed-form backward needs."""
    xc = x - x.mean(0)
    inv_std = 1.0 / np.sqrt((xc * xc).mean(0) + EPS)
    xhat = xc * inv_std
    return gamma * xhat + beta, xhat, inv_std


def forward_part(source: str) -> str:
    """A compiled function's source with its backward section cut out (its forward only)."""
    lines = source.splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip() == "# ---- backward")
    end = next(k for k in range(start, len(lines)) if lines[k].strip().startswith("return"))
    return "\n".join(lines[:start] + ["    return None"] + lines[end + 1:]) + "\n"


def compare(seed: int, n: int, d: int, repeats: int) -> dict[str, Any]:
    """Compile batch norm's forward and backward; check the derived gradients against the
    closed form; count the full-size passes of both backwards; time both (forward and
    backward)."""
    rng = np.random.default_rng(seed)
    xa = rng.normal(2.0, 3.0, (n, d))
    ga = rng.normal(1.0, 0.3, d)
    ba = rng.normal(0.0, 0.3, d)
    dya = rng.normal(0.0, 1.0, (n, d))
    x = mg.Tensor(xa, requires_grad=True, label="x")
    gamma = mg.Tensor(ga, requires_grad=True, label="gamma")
    beta = mg.Tensor(ba, requires_grad=True, label="beta")
    dy = mg.Tensor(dya, label="dy")
    step = mg.compile(batch_norm_gradients)
    step(x, gamma, beta, dy)
    derived = [np.asarray(t) for t in step(x, gamma, beta, dy)]    # the replay
    _, xhat, inv_std = closed_form_bn_forward(xa, ga, ba)
    closed = closed_form_bn_backward(dya, xhat, ga, inv_std)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(derived, closed, strict=True))

    arrays = [t.detach().numpy() for _, t in step.program.parameters]
    whole: dict[str, Any] = {}
    exec(step.source, whole)  # noqa: S102  (the program minigrad just wrote)
    forward: dict[str, Any] = {}
    exec(forward_part(step.source), forward)  # noqa: S102
    name = "batch_norm_gradients"
    full = n * d
    derived_passes = count_passes(whole[name], arrays, full) - count_passes(
        forward[name], arrays, full)
    closed_passes = count_passes(closed_form_bn_backward, [dya, xhat, ga, inv_std], full)

    def closed_step() -> None:
        _, xh, inv = closed_form_bn_forward(xa, ga, ba)
        closed_form_bn_backward(dya, xh, ga, inv)

    return {
        "source": step.source,
        "derived backward": backward_section(step.source),
        "closed form": inspect.getsource(closed_form_bn_backward),
        "max |derived - closed form|": diff,
        "derived passes": derived_passes,
        "closed-form passes": closed_passes,
        "derived time": _median_time(lambda: whole[name](*arrays), repeats),
        "closed-form time": _median_time(closed_step, repeats),
        "traces": step.traces,
    }


def side_by_side(result: dict[str, Any]) -> str:
    """The two backwards as HTML, next to each other."""
    style = ("flex:1; min-width:22em; overflow-x:auto; font-size:0.8em; background:#f6f6f6; "
             "padding:0.5em")
    return (
        '<div style="display:flex; gap:1em; flex-wrap:wrap">'
        f'<div style="{style}"><b>Derived by minigrad (minigrad.compile; '
        f'{result["derived passes"]} full-size passes)</b>'
        f'<pre>{html.escape(result["derived backward"])}</pre></div>'
        f'<div style="{style}"><b>Closed form, by hand (Ioffe and Szegedy; '
        f'{result["closed-form passes"]} full-size passes)</b>'
        f'<pre>{html.escape(result["closed form"])}</pre></div></div>')
