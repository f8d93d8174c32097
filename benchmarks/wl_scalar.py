"""Workload A: scalar ``Value`` graphs.

* ``A.step``: MLP [2, 16, 16, 1] on 100 two-moons points, hinge loss
  ``mean(relu(1 - y_i * score_i)) + 1e-4 * sum(p * p)``; one graph build + backward + SGD step
  (about 66,000 nodes), garbage collector on.
* ``A.step-nogc``: the same step timed with the garbage collector off (``gc.collect()``
  between samples, untimed): an engine whose graph is made of reference cycles (micrograd's
  ``_backward`` closures hold their own node) pays for the collector in ``A.step`` only.
* ``A.chain``: ``x = Value(1.0); for _ in range(n): x = x * 1.0001 + 0.0001; x.backward()``
  with n = 1,000,000: seconds, peak RSS and RSS after ``del x``.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.common import (
    Case,
    GradCheck,
    Settings,
    Skip,
    Unsupported,
    all_checks,
    compare_grads,
    current_rss,
    peak_rss,
    require,
    require_minigrad,
    scalar_check,
)
from benchmarks.data import SCALAR_ALPHA, SCALAR_LR, make_moons, scalar_mlp_init
from benchmarks.reference import scalar_mlp_loss_and_grads

ENGINES = ("micrograd", "minigrad")
CHAIN_MUL, CHAIN_ADD = 1.0001, 0.0001


def value_class(engine: str) -> type:
    if engine == "micrograd":
        return require("micrograd.engine", "micrograd").Value
    if engine == "minigrad":
        mg = require_minigrad()
        if not hasattr(mg, "Value"):
            raise Skip("minigrad API missing: minigrad.Value")
        return mg.Value
    raise Skip(f"unknown engine {engine!r} for workload A")


# ----------------------------------------------------------------------------- the MLP


class ValueMLP:
    """The MLP for minigrad, written with Value ops only. Each neuron computes
    ``b + w0*x0 + w1*x1 + ...`` in that order (the same graph as micrograd's ``Neuron``),
    followed by ``relu`` except in the last layer."""

    def __init__(self, value: type, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        self.layers = [
            [([value(float(w)) for w in W[j]], value(float(b[j]))) for j in range(W.shape[0])]
            for W, b in layers
        ]

    def __call__(self, x: Sequence[Any]) -> Any:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for ws, b in layer:
                act = b
                for wi, xi in zip(ws, x, strict=True):
                    act = act + wi * xi
                out.append(act if i == last else act.relu())
            x = out
        return x[0]

    def neurons(self) -> list[list[tuple[list[Any], Any]]]:
        return self.layers


def _micrograd_model(layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[Any, list]:
    nn = require("micrograd.nn", "micrograd")
    sizes = [layers[0][0].shape[1]] + [W.shape[0] for W, _ in layers]
    model = nn.MLP(sizes[0], sizes[1:])
    structure = []
    for layer, (W, b) in zip(model.layers, layers, strict=True):
        rows = []
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                w.data = float(W[j, k])
            neuron.b.data = float(b[j])
            rows.append((neuron.w, neuron.b))
        structure.append(rows)
    return model, structure


def _vsum(items: Sequence[Any]) -> Any:
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


def _build_loss(model: Callable[[Any], Any], params: list[Any], X: list[list[float]],
                y: list[float], alpha: float) -> Any:
    losses = [(model(x) * (-yi) + 1.0).relu() for x, yi in zip(X, y, strict=True)]
    data_loss = _vsum(losses) * (1.0 / len(losses))
    reg = _vsum([p * p for p in params]) * alpha
    return data_loss + reg


def count_nodes(root: Any) -> int | None:
    """Number of distinct nodes reachable from ``root`` (None when the engine's node type
    exposes no recognisable parent links)."""
    for attr in ("_prev", "_children", "_parents", "parents", "_inputs", "inputs", "prev",
                 "children"):
        if hasattr(root, attr) and not callable(getattr(root, attr)):
            break
    else:
        return None
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in getattr(node, attr, ()) or ():
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def step_case(engine: str, dtype: str, settings: Settings, gc_on: bool = True) -> Case:
    if dtype != "float64":
        raise Skip("Value engines hold Python floats (float64 only)")
    value = value_class(engine)
    init = scalar_mlp_init()
    X_np, y_np = make_moons()
    X = [[float(v) for v in row] for row in X_np]
    y = [float(v) for v in y_np]
    if engine == "micrograd":
        model, structure = _micrograd_model(init)
    else:
        model = ValueMLP(value, init)
        structure = model.neurons()
    params = [p for layer in structure for ws, b in layer for p in (*ws, b)]
    alpha, lr = SCALAR_ALPHA, SCALAR_LR
    info: dict[str, Any] = {}

    def check() -> GradCheck:
        for p in params:
            p.grad = 0.0
        loss = _build_loss(model, params, X, y, alpha)
        loss.backward()
        ref_loss, ref = scalar_mlp_loss_and_grads(init, X_np, y_np, alpha)
        got, want, names = [], [], []
        for li, (layer, (dW, db)) in enumerate(zip(structure, ref, strict=True)):
            got += [np.array([[w.grad for w in ws] for ws, _ in layer]),
                    np.array([b.grad for _, b in layer])]
            want += [dW, db]
            names += [f"layer{li + 1}.W", f"layer{li + 1}.b"]
        info["nodes"] = count_nodes(loss)
        return all_checks(
            scalar_check(float(loss.data), ref_loss, "loss", rtol=1e-9),
            compare_grads(got, want, names, "float64"),
        )

    def step() -> None:
        for p in params:
            p.grad = 0.0
        loss = _build_loss(model, params, X, y, alpha)
        loss.backward()
        for p in params:
            p.data -= lr * p.grad

    def after(median_s: float) -> dict[str, Any]:
        nodes = info.get("nodes")
        out: dict[str, Any] = {"nodes": nodes}
        if nodes:
            out["nodes_per_s"] = nodes / median_s
        return out

    gc_what = "" if gc_on else "; garbage collector off, collected between samples"
    return Case(check=check, stmt=step, after=after, gc=gc_on,
                what="zero grads + build graph + backward + SGD update (lr 0.05)" + gc_what)


# ----------------------------------------------------------------------------- the chain


def _chain(value: type, n: int) -> tuple[Any, Any]:
    x0 = value(1.0)
    x = x0
    for _ in range(n):
        x = x * CHAIN_MUL + CHAIN_ADD
    return x0, x


def _chain_check(value: type, n: int) -> GradCheck:
    x0, x = _chain(value, n)
    x.backward()
    # x_n = 2 * a**n - 1 for x_0 = 1, a = 1.0001, c = 0.0001 (c / (a - 1) = 1)
    return all_checks(
        scalar_check(float(x.data), 2.0 * CHAIN_MUL**n - 1.0, "x_n", rtol=1e-9),
        scalar_check(float(x0.grad), CHAIN_MUL**n, "dx_n/dx_0", rtol=1e-9),
    )


def _micrograd_chain_limit(value: type) -> str:
    """micrograd's backward builds its topological order recursively; report the failure at
    1,000 ops and the longest chain that still works."""
    try:
        _chain_check(value, 1000)
        return "micrograd handled a 1000-step chain"
    except RecursionError as exc:
        first = f"RecursionError at 1000 ops ({exc})"
    lo, hi = 1, 1000  # lo works, hi fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            _chain_check(value, mid)
            lo = mid
        except RecursionError:
            hi = mid
    return (f"{first}; longest chain that works: {lo} ops (recursion limit "
            f"{sys.getrecursionlimit()}); the 1,000,000-step chain is not attempted")


def chain_run(engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    """One timed chain (the orchestrator runs this in several fresh processes)."""
    if dtype != "float64":
        raise Skip("Value engines hold Python floats (float64 only)")
    value = value_class(engine)
    if engine == "micrograd":
        raise Unsupported(_micrograd_chain_limit(value))
    n = settings.chain_length
    check = _chain_check(value, 1000)
    if not check.ok:
        return {"status": "FAILED", "grad_check": check.as_dict(),
                "note": "gradient check on a 1000-step chain failed"}
    gc.collect()
    base = current_rss()
    t0 = time.perf_counter()
    x0, x = _chain(value, n)
    t1 = time.perf_counter()
    x.backward()
    t2 = time.perf_counter()
    peak = peak_rss()
    big = scalar_check(float(x0.grad), CHAIN_MUL**n, "dx_n/dx_0", rtol=1e-6)
    rss_after_backward = current_rss()
    del x
    rss_after_del = current_rss()
    gc.collect()
    rss_after_gc = current_rss()
    mib = 1024.0 * 1024.0
    return {
        "status": "ok" if big.ok else "FAILED",
        "grad_check": all_checks(check, big).as_dict(),
        "median_s": t2 - t0,
        "samples_s": [t2 - t0],
        "n_samples": 1,
        "loops_per_sample": 1,
        "extra": {
            "chain_length": n,
            "build_s": t1 - t0,
            "backward_s": t2 - t1,
            "nodes_per_s": (2 * n + 1) / (t2 - t0),
            "peak_mb": (peak - base) / mib,
            "after_backward_mb": (rss_after_backward - base) / mib,
            "after_del_mb": (rss_after_del - base) / mib,
            "after_del_gc_mb": (rss_after_gc - base) / mib,
            "memory_method": "peak RSS (getrusage ru_maxrss) and current RSS (/proc/self/statm)"
                             " of the worker, minus its RSS just before the chain",
        },
        "what": f"build a chain of {n} steps x = x*{CHAIN_MUL} + {CHAIN_ADD} ({2 * n} ops) "
                f"+ backward, one shot",
    }


def cases(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    if workload == "A.step":
        return {"A.step": lambda: step_case(engine, dtype, settings)}
    if workload == "A.step-nogc":
        return {"A.step-nogc": lambda: step_case(engine, dtype, settings, gc_on=False)}
    if workload == "A.chain":
        return {"A.chain": lambda: chain_run(engine, dtype, settings)}
    raise ValueError(workload)
