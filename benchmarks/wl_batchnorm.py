"""Workload C: batch norm alone, N=256, D=1024, training mode:
``y = gamma * (x - mu) / sqrt(var + eps) + beta``, ``loss = sum(y * R)`` for a fixed random
``R``; forward + backward for the gradients of x, gamma and beta."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.common import (
    COMPILED_TOLERANCES,
    Case,
    GradCheck,
    Settings,
    Skip,
    all_checks,
    compare_grads,
    np_dtype,
    require,
    require_minigrad,
    scalar_check,
    traces_unchanged,
    warm_up_compiled,
)
from benchmarks.data import BN_EPS, bn_data
from benchmarks.reference import bn_loss_and_grads

ENGINES = ("numpy", "minigrad", "minigrad-compiled", "minigrad-composed", "torch-1t", "torch-2t",
           "autograd", "mygrad")
NAMES = ("x", "gamma", "beta")
WHAT = "zero grads + forward + loss + backward"


def _setup(dtype: str) -> tuple[tuple[np.ndarray, ...], float, list[np.ndarray]]:
    x, gamma, beta, R = bn_data(dtype=np_dtype(dtype))
    ref_loss, ref_grads = bn_loss_and_grads(*(a.astype(np.float64) for a in (x, gamma, beta, R)))
    return (x, gamma, beta, R), ref_loss, ref_grads


def _check(loss: float, grads: list[Any], ref_loss: float, ref_grads: list[np.ndarray],
           dtype: str, extra: dict[str, Any]) -> GradCheck:
    kinds = sorted({str(np.asarray(g).dtype) for g in grads})
    if kinds != [dtype]:
        extra["grad_dtypes"] = kinds
    # the loss is a sum of N*D terms of both signs: compare it at the scale of its terms
    tol = 1e-9 if dtype == "float64" else 1e-4
    scale = float(np.sqrt(ref_grads[0].size))
    loss_check = scalar_check(loss, ref_loss, "loss", rtol=tol, atol=tol * scale)
    return all_checks(loss_check, compare_grads(grads, ref_grads, NAMES, dtype))


def numpy_case(dtype: str) -> Case:
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = bn_loss_and_grads(x, gamma, beta, R)
        return _check(loss, grads, ref_loss, ref_grads, dtype, extra)

    return Case(check=check, stmt=lambda: bn_loss_and_grads(x, gamma, beta, R), extra=extra,
                what="forward + loss + closed-form backward")


def _zero(t: Any) -> None:
    t.grad = None


def _minigrad_leaves(mg: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                     R: np.ndarray) -> tuple[tuple[Any, Any, Any], Any]:
    leaves = tuple(mg.Tensor(a.copy(), requires_grad=True) for a in (x, gamma, beta))
    return leaves, mg.Tensor(R, requires_grad=False)  # type: ignore[return-value]


def _bn_step(F: Any) -> Any:
    """The minigrad row's step as a function of its tensors (what the compiled row
    compiles): gradients reset, ``F.batch_norm``, ``loss = sum(y * R)``, backward; the
    gradients are left in ``.grad``."""

    def bn_step(x: Any, gamma: Any, beta: Any, R: Any) -> Any:
        for t in (x, gamma, beta):
            _zero(t)
        y = F.batch_norm(x, None, None, gamma, beta, training=True, momentum=0.1, eps=BN_EPS)
        loss = (y * R).sum()
        loss.backward()
        return loss

    return bn_step


def minigrad_case(dtype: str, composed: bool) -> Case:
    mg = require_minigrad()
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)
    leaves, Rt = _minigrad_leaves(mg, x, gamma, beta, R)
    xt, gt, bt = leaves
    if composed:
        sqrt = getattr(mg.Tensor, "sqrt", None)

        def run() -> Any:
            for t in leaves:
                _zero(t)
            mu = xt.mean(0, keepdim=True)
            var = xt.var(0, keepdim=True, unbiased=False)  # batch norm's biased variance
            std = sqrt(var + BN_EPS) if sqrt is not None else (var + BN_EPS) ** 0.5
            loss = ((gt * ((xt - mu) / std) + bt) * Rt).sum()
            loss.backward()
            return loss

        what = WHAT + " (composed: mean, var(unbiased=False), sqrt or **0.5, -, /, *, +)"
    else:
        bn_step = _bn_step(require_minigrad("nn.functional"))

        def run() -> Any:
            return bn_step(xt, gt, bt, Rt)

        what = WHAT + " (minigrad.nn.functional.batch_norm, no running buffers)"

    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss = run()
        grads = [np.array(t.grad) for t in leaves]
        return _check(float(np.asarray(loss.data)), grads, ref_loss, ref_grads, dtype, extra)

    return Case(check=check, stmt=run, what=what, extra=extra)


def minigrad_compiled_case(dtype: str) -> Case:
    """The minigrad row's step in ``minigrad.compile``, backward inside. Checked before
    timing: warmed up until a call replays, then one replayed call's loss and gradients
    against an eager call of the same function on a copy of the tensors (to rounding) and
    against the float64 oracle. The timed calls must all be replays."""
    mg = require_minigrad()
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)
    bn_step = _bn_step(require_minigrad("nn.functional"))
    step = mg.compile(bn_step)
    leaves, Rt = _minigrad_leaves(mg, x, gamma, beta, R)
    twin, Rt2 = _minigrad_leaves(mg, x, gamma, beta, R)
    extra: dict[str, Any] = {}
    tol = COMPILED_TOLERANCES[dtype]

    def check() -> GradCheck:
        extra["traces"] = warm_up_compiled(step, lambda: step(*leaves, Rt))
        loss = step(*leaves, Rt).item()
        if step.traces != extra["traces"]:
            raise AssertionError("the compiled step traced again after warming up")
        grads = [np.array(t.grad) for t in leaves]
        eager_loss = bn_step(*twin, Rt2).item()
        vs_eager = all_checks(
            scalar_check(loss, eager_loss, "loss vs eager", rtol=tol[0],
                         atol=tol[0] * float(np.sqrt(x.size))),
            compare_grads(grads, [np.array(t.grad) for t in twin],
                          [f"{n} vs eager" for n in NAMES], dtype, tol))
        extra["vs_eager_max_abs_err"] = vs_eager.max_abs_err
        return all_checks(vs_eager, _check(loss, grads, ref_loss, ref_grads, dtype, extra))

    return Case(check=check, stmt=lambda: step(*leaves, Rt), extra=extra,
                verify_after=lambda: traces_unchanged(step, extra["traces"]),
                what=WHAT + " (the minigrad row's F.batch_norm step in minigrad.compile, "
                            "backward inside, grads left in .grad; replays)")


def torch_case(dtype: str, threads: int) -> Case:
    torch = require("torch")
    torch.set_num_threads(threads)
    F = torch.nn.functional
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    gt = torch.from_numpy(gamma.copy()).requires_grad_(True)
    bt = torch.from_numpy(beta.copy()).requires_grad_(True)
    Rt = torch.from_numpy(R)
    leaves = (xt, gt, bt)

    def run() -> Any:
        for t in leaves:
            t.grad = None
        y = F.batch_norm(xt, None, None, weight=gt, bias=bt, training=True, eps=BN_EPS)
        loss = (y * Rt).sum()
        loss.backward()
        return loss

    extra: dict[str, Any] = {"torch_threads": torch.get_num_threads()}

    def check() -> GradCheck:
        loss = run()
        grads = [t.grad.numpy().copy() for t in leaves]
        return _check(float(loss.item()), grads, ref_loss, ref_grads, dtype, extra)

    return Case(check=check, stmt=run, extra=extra,
                what=WHAT + " (torch.nn.functional.batch_norm, training=True: fused kernel)")


def autograd_case(dtype: str) -> Case:
    autograd = require("autograd")
    anp = require("autograd.numpy", "autograd")
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)

    def loss_fn(args: tuple[Any, Any, Any]) -> Any:
        xx, g, b = args
        mu = anp.mean(xx, axis=0)
        var = anp.var(xx, axis=0)
        y = g * ((xx - mu) / anp.sqrt(var + BN_EPS)) + b
        return anp.sum(y * R)

    value_and_grad = autograd.value_and_grad(loss_fn)
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = value_and_grad((x, gamma, beta))
        return _check(float(loss), list(grads), ref_loss, ref_grads, dtype, extra)

    return Case(check=check, stmt=lambda: value_and_grad((x, gamma, beta)), extra=extra,
                what="value_and_grad of the composed batch norm (mean, var, sqrt, -, /, *, +)")


def mygrad_case(dtype: str) -> Case:
    mgr = require("mygrad")
    (x, gamma, beta, R), ref_loss, ref_grads = _setup(dtype)
    leaves = [mgr.tensor(a.copy()) for a in (x, gamma, beta)]

    def run() -> Any:
        xx, g, b = leaves
        mu = mgr.mean(xx, axis=0)
        var = mgr.var(xx, axis=0)
        loss = mgr.sum((g * ((xx - mu) / mgr.sqrt(var + BN_EPS)) + b) * R)
        loss.backward()
        return loss

    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss = run()
        grads = [np.array(t.grad) for t in leaves]
        return _check(float(loss.item()), grads, ref_loss, ref_grads, dtype, extra)

    return Case(check=check, stmt=run, extra=extra,
                what="forward + backward, batch norm composed from mygrad ops (mean, var, sqrt, "
                     "-, /, *, +); grads are reset by mygrad when a tensor joins a new graph")


def cases(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    def build() -> Case:
        if engine == "numpy":
            return numpy_case(dtype)
        if engine == "minigrad":
            return minigrad_case(dtype, composed=False)
        if engine == "minigrad-compiled":
            return minigrad_compiled_case(dtype)
        if engine == "minigrad-composed":
            return minigrad_case(dtype, composed=True)
        if engine.startswith("torch-"):
            return torch_case(dtype, int(engine.split("-")[1].rstrip("t")))
        if engine == "autograd":
            return autograd_case(dtype)
        if engine == "mygrad":
            return mygrad_case(dtype)
        raise Skip(f"unknown engine {engine!r} for workload C")

    return {"C": build}
