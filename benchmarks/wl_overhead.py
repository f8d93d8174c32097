"""Workload D: per-op overhead of ``c = a + b`` on shape (1,) (or on scalar ``Value``s).

Exactly what is timed (each a statement run in a calibrated ``timeit`` loop):

* ``D.fwd``: ``c = a + b`` with ``a`` and ``b`` leaves that require grad (raw numpy: two
  float64 arrays of shape (1,), no autodiff).
* ``D.fwdbwd``: ``c = a + b; c.backward(seed)`` for tensors, with ``seed`` a preallocated
  ones array of shape (1,) (``np.ones(1)`` for minigrad, ``torch.ones(1)`` for torch);
  ``c = a + b; c.backward()`` for ``Value`` engines and mygrad (mygrad seeds with ones);
  ``g(a)`` with ``g = autograd.grad(lambda a: (a + b).sum())`` for HIPS autograd (so its row
  also includes a ``sum`` and the tracing set-up of each ``grad`` call). Leaf gradients
  accumulate across iterations, as they would in a training loop without ``zero_grad``.
* ``D.chain10k``: amortised cost: ``c = a``, then ``c = c + b`` 10,000 times, then one
  ``backward``; the time of the whole thing divided by 10,000.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import (
    Case,
    GradCheck,
    Settings,
    Skip,
    Unsupported,
    all_checks,
    require,
    require_minigrad,
    scalar_check,
)

ENGINES = ("numpy", "minigrad-tensor", "minigrad-value", "micrograd", "torch-1t", "torch-2t",
           "mygrad", "autograd")
CHAIN = 10_000
A0, B0 = 1.5, 2.25


def _first(x: Any) -> float:
    if hasattr(x, "item"):
        return float(x.item())
    return float(np.asarray(x).ravel()[0])


def _value(c: Any) -> float:
    """The forward value of ``c`` (numpy arrays have a ``.data`` buffer, not a value)."""
    return _first(c if isinstance(c, np.ndarray) else getattr(c, "data", c))


class _Engine:
    """How to make leaves, read and reset their grads, and seed ``backward`` for one engine."""

    def __init__(self, engine: str) -> None:
        self.name = engine
        self.seed: Any = None
        self.fwdbwd = "c = a + b; c.backward()"
        if engine == "numpy":
            self.make: Callable[[float], Any] = lambda v: np.array([v])
        elif engine == "minigrad-tensor":
            mg = require_minigrad()
            self.make = lambda v: mg.Tensor(np.array([v]), requires_grad=True)
            self.seed = np.ones(1)
            self.fwdbwd = "c = a + b; c.backward(seed)"
        elif engine == "minigrad-value":
            mg = require_minigrad()
            if not hasattr(mg, "Value"):
                raise Skip("minigrad API missing: minigrad.Value")
            self.make = mg.Value
        elif engine == "micrograd":
            self.make = require("micrograd.engine", "micrograd").Value
        elif engine.startswith("torch-"):
            torch = require("torch")
            torch.set_num_threads(int(engine.split("-")[1].rstrip("t")))
            self.make = lambda v: torch.tensor([v], dtype=torch.float64, requires_grad=True)
            self.seed = torch.ones(1, dtype=torch.float64)
            self.fwdbwd = "c = a + b; c.backward(seed)"
        elif engine == "mygrad":
            mgr = require("mygrad")
            self.make = lambda v: mgr.tensor(np.array([v]))
        elif engine == "autograd":
            self.autograd = require("autograd")
            self.make = lambda v: np.array([v])
        else:
            raise Skip(f"unknown engine {engine!r} for workload D")
        self.is_value = engine in ("minigrad-value", "micrograd")

    def zero(self, *leaves: Any) -> None:
        for leaf in leaves:
            if hasattr(leaf, "null_grad"):  # mygrad: read-only .grad
                leaf.null_grad()
            else:
                leaf.grad = 0.0 if self.is_value else None

    def backward(self, c: Any) -> None:
        if self.seed is None:
            c.backward()
        else:
            c.backward(self.seed)


def fwd_case(e: _Engine) -> Case:
    if e.name == "autograd":
        raise Unsupported("autograd only traces inside grad(); see D.fwdbwd")
    a, b = e.make(A0), e.make(B0)

    def check() -> GradCheck:
        c = a + b
        return scalar_check(_value(c), A0 + B0, "c", rtol=0.0)

    what = "c = a + b" + (" (numpy arrays, no autodiff)" if e.name == "numpy" else "")
    return Case(check=check, stmt="c = a + b", namespace={"a": a, "b": b}, what=what)


def fwdbwd_case(e: _Engine) -> Case:
    if e.name == "numpy":
        raise Unsupported("raw numpy has no backward")
    a, b = e.make(A0), e.make(B0)
    if e.name == "autograd":
        g = e.autograd.grad(lambda a: (a + b).sum())

        def check() -> GradCheck:
            return scalar_check(_first(g(a)), 1.0, "da", rtol=0.0)

        return Case(check=check, stmt="g(a)", namespace={"g": g, "a": a},
                    what="g(a), g = autograd.grad(lambda a: (a + b).sum())")

    def check() -> GradCheck:
        e.zero(a, b)
        c = a + b
        e.backward(c)
        return all_checks(scalar_check(_first(a.grad), 1.0, "da", rtol=0.0),
                          scalar_check(_first(b.grad), 1.0, "db", rtol=0.0))

    return Case(check=check, stmt=e.fwdbwd, namespace={"a": a, "b": b, "seed": e.seed},
                what=e.fwdbwd.replace("seed", "ones(1)"))


def chain_case(e: _Engine) -> Case:
    if e.name not in ("minigrad-tensor", "minigrad-value", "torch-1t", "torch-2t"):
        raise Unsupported("amortised chain measured for minigrad and torch only")
    a, b = e.make(A0), e.make(B0)
    backward = e.backward

    def chain() -> Any:
        c = a
        for _ in range(CHAIN):
            c = c + b
        backward(c)
        return c

    def check() -> GradCheck:
        e.zero(a, b)
        chain()
        return all_checks(scalar_check(_first(a.grad), 1.0, "da", rtol=0.0),
                          scalar_check(_first(b.grad), float(CHAIN), "db", rtol=0.0))

    return Case(check=check, stmt=chain, per_call=CHAIN,
                what=f"(c = c + b) x {CHAIN} + one backward, divided by {CHAIN}")


def cases(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    holder: dict[str, _Engine] = {}

    def engine_obj() -> _Engine:
        if dtype != "float64":
            raise Skip("workload D runs in float64 only")
        if "e" not in holder:
            holder["e"] = _Engine(engine)
        return holder["e"]

    subs: dict[str, Any] = {
        "D.fwd": lambda: fwd_case(engine_obj()),
        "D.fwdbwd": lambda: fwdbwd_case(engine_obj()),
        "D.chain10k": lambda: chain_case(engine_obj()),
    }
    return {k: v for k, v in subs.items() if applicable(k, engine)}


def applicable(sub: str, engine: str) -> bool:
    """Which D rows exist for which engine (rows that make no sense are not listed)."""
    if sub == "D.fwd":
        return engine != "autograd"
    if sub == "D.fwdbwd":
        return engine != "numpy"
    return engine in ("minigrad-tensor", "minigrad-value", "torch-1t", "torch-2t")
