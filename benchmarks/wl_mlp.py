"""Workload B: tensor MLP 64-256-256-256-10, hidden layers Linear -> BatchNorm1d (training
mode) -> ReLU, softmax cross-entropy, batch 128; one forward + backward + SGD step (lr 0.01,
no momentum)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.common import (
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
)
from benchmarks.data import (
    BN_EPS,
    BN_MOMENTUM,
    MLP_LR,
    MLP_SIZES,
    mlp_data,
    mlp_init,
    mlp_param_names,
)
from benchmarks.reference import mlp_loss_and_grads, mlp_sgd_step

ENGINES = ("numpy", "minigrad", "torch-1t", "torch-2t", "autograd", "mygrad")
N_HIDDEN = len(MLP_SIZES) - 2
WHAT = "zero grads + forward + backward + SGD update"


def _setup(dtype: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, float, list[np.ndarray]]:
    """Initial params and data in ``dtype``, and the float64 oracle computed from exactly
    those (rounded) values."""
    dt = np_dtype(dtype)
    params = mlp_init(dtype=dt)
    X, y = mlp_data(dtype=dt)
    ref_loss, ref_grads = mlp_loss_and_grads([p.astype(np.float64) for p in params],
                                             X.astype(np.float64), y)
    return params, X, y, ref_loss, ref_grads


def _check(loss: float, grads: list[Any], ref_loss: float, ref_grads: list[np.ndarray],
           dtype: str) -> GradCheck:
    rtol = 1e-9 if dtype == "float64" else 1e-4
    return all_checks(
        scalar_check(loss, ref_loss, "loss", rtol=rtol),
        compare_grads(grads, ref_grads, mlp_param_names(), dtype),
    )


def _dtype_note(grads: list[Any], dtype: str) -> dict[str, Any]:
    kinds = sorted({str(np.asarray(g).dtype) for g in grads})
    return {} if kinds == [dtype] else {"grad_dtypes": kinds}


def _running() -> list[list[np.ndarray]]:
    return [[np.zeros(n), np.ones(n)] for n in MLP_SIZES[1:-1]]


# ----------------------------------------------------------------------------- engines


def numpy_case(dtype: str) -> Case:
    params, X, y, ref_loss, ref_grads = _setup(dtype)
    dt = np_dtype(dtype)
    running = [[m.astype(dt), v.astype(dt)] for m, v in _running()]
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = mlp_loss_and_grads([p.copy() for p in params], X, y)
        extra.update(_dtype_note(grads, dtype))
        return _check(loss, grads, ref_loss, ref_grads, dtype)

    return Case(check=check, stmt=lambda: mlp_sgd_step(params, X, y, MLP_LR, running),
                what="hand-written forward + closed-form backward + SGD update", extra=extra)


def minigrad_case(dtype: str) -> Case:
    mg = require_minigrad()
    nn = require_minigrad("nn")
    F = require_minigrad("nn.functional")
    optim = require_minigrad("optim")
    dt = np_dtype(dtype)
    params, X, y, ref_loss, ref_grads = _setup(dtype)
    layers: list[Any] = []
    objs: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=True)):
        lin = nn.Linear(n_in, n_out, dtype=dt)
        layers.append(lin)
        objs += [lin.weight, lin.bias]
        if i < N_HIDDEN:
            bn = nn.BatchNorm1d(n_out, dtype=dt)
            layers += [bn, nn.ReLU()]
            objs += [bn.weight, bn.bias]
    model = nn.Sequential(*layers)
    for obj, arr in zip(objs, params, strict=True):
        if np.shape(obj.data) != arr.shape:
            raise Skip(f"minigrad parameter shape {np.shape(obj.data)} != {arr.shape}")
        obj.data = arr.copy()
    x = mg.Tensor(X, requires_grad=False)
    opt = optim.SGD(objs, lr=MLP_LR)
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        grads = [np.array(p.grad) for p in objs]
        extra.update(_dtype_note(grads, dtype))
        return _check(float(np.asarray(loss.data)), grads, ref_loss, ref_grads, dtype)

    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return Case(check=check, stmt=step, what=WHAT + " (nn.BatchNorm1d, F.cross_entropy)",
                extra=extra)


def torch_case(dtype: str, threads: int) -> Case:
    torch = require("torch")
    torch.set_num_threads(threads)
    nn = torch.nn
    F = nn.functional
    tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
    params, X, y, ref_loss, ref_grads = _setup(dtype)
    layers: list[Any] = []
    objs: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=True)):
        lin = nn.Linear(n_in, n_out, dtype=tdt)
        layers.append(lin)
        objs += [lin.weight, lin.bias]
        if i < N_HIDDEN:
            bn = nn.BatchNorm1d(n_out, eps=BN_EPS, momentum=BN_MOMENTUM, dtype=tdt)
            layers += [bn, nn.ReLU()]
            objs += [bn.weight, bn.bias]
    model = nn.Sequential(*layers).train()
    with torch.no_grad():
        for obj, arr in zip(objs, params, strict=True):
            obj.copy_(torch.from_numpy(arr))
    x = torch.from_numpy(X)
    t = torch.from_numpy(y)
    opt = torch.optim.SGD(objs, lr=MLP_LR)
    extra: dict[str, Any] = {"torch_threads": torch.get_num_threads()}

    def check() -> GradCheck:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        grads = [p.grad.detach().numpy().copy() for p in objs]
        extra.update(_dtype_note(grads, dtype))
        return _check(float(loss.item()), grads, ref_loss, ref_grads, dtype)

    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    return Case(check=check, stmt=step, extra=extra,
                what=WHAT + " (torch.nn.BatchNorm1d: fused kernel; torch.optim.SGD)")


def autograd_case(dtype: str) -> Case:
    autograd = require("autograd")
    anp = require("autograd.numpy", "autograd")
    getval = require("autograd.tracer", "autograd").getval
    dt = np_dtype(dtype)
    params, X, y, ref_loss, ref_grads = _setup(dtype)
    running = [[m.astype(dt), v.astype(dt)] for m, v in _running()]
    n = X.shape[0]
    rows = np.arange(n)

    def loss_fn(ps: list[Any], track: bool) -> Any:
        h = X
        for i in range(N_HIDDEN):
            W, b, gamma, beta = ps[4 * i: 4 * i + 4]
            z = anp.dot(h, anp.transpose(W)) + b
            mu = anp.mean(z, axis=0)
            var = anp.var(z, axis=0)
            a = gamma * ((z - mu) / anp.sqrt(var + BN_EPS)) + beta
            if track:
                rm, rv = running[i]
                rm *= 1.0 - BN_MOMENTUM
                rm += BN_MOMENTUM * getval(mu)
                rv *= 1.0 - BN_MOMENTUM
                rv += (BN_MOMENTUM * n / (n - 1)) * getval(var)
            h = anp.maximum(a, 0.0)
        logits = anp.dot(h, anp.transpose(ps[-2])) + ps[-1]
        m = anp.max(logits, axis=1, keepdims=True)
        lse = m + anp.log(anp.sum(anp.exp(logits - m), axis=1, keepdims=True))
        return -anp.mean((logits - lse)[rows, y])

    value_and_grad = autograd.value_and_grad(loss_fn)
    state = [p.copy() for p in params]
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = value_and_grad([p.copy() for p in params], False)
        extra.update(_dtype_note(grads, dtype))
        if "grad_dtypes" in extra:
            extra["note"] = "gradients come back float64; params are cast back to " + dtype
        return _check(float(loss), list(grads), ref_loss, ref_grads, dtype)

    def step() -> None:
        _, grads = value_and_grad(state, True)
        for i, g in enumerate(grads):
            state[i] = (state[i] - MLP_LR * g).astype(dt, copy=False)

    return Case(check=check, stmt=step, extra=extra,
                what=WHAT + " (batch norm and cross-entropy composed from autograd.numpy)")


def mygrad_case(dtype: str) -> Case:
    mgr = require("mygrad")
    losses = require("mygrad.nnet.losses", "mygrad")
    acts = require("mygrad.nnet.activations", "mygrad")
    dt = np_dtype(dtype)
    params, X, y, ref_loss, ref_grads = _setup(dtype)
    running = [[m.astype(dt), v.astype(dt)] for m, v in _running()]
    n = X.shape[0]

    def forward(ps: list[Any], track: bool) -> Any:
        h = X
        for i in range(N_HIDDEN):
            W, b, gamma, beta = ps[4 * i: 4 * i + 4]
            z = mgr.matmul(h, W.T) + b
            mu = mgr.mean(z, axis=0)
            var = mgr.var(z, axis=0)
            a = gamma * ((z - mu) / mgr.sqrt(var + BN_EPS)) + beta
            if track:
                rm, rv = running[i]
                rm *= 1.0 - BN_MOMENTUM
                rm += BN_MOMENTUM * mu.data
                rv *= 1.0 - BN_MOMENTUM
                rv += (BN_MOMENTUM * n / (n - 1)) * var.data
            h = acts.relu(a)
        logits = mgr.matmul(h, ps[-2].T) + ps[-1]
        return losses.softmax_crossentropy(logits, y)

    state = [mgr.tensor(p.copy()) for p in params]
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        ps = [mgr.tensor(p.copy()) for p in params]
        loss = forward(ps, False)
        loss.backward()
        grads = [np.array(p.grad) for p in ps]
        extra.update(_dtype_note(grads, dtype))
        return _check(float(loss.item()), grads, ref_loss, ref_grads, dtype)

    def step() -> None:
        loss = forward(state, True)
        loss.backward()
        for p in state:
            p.data -= MLP_LR * p.grad

    return Case(check=check, stmt=step, extra=extra,
                what=WHAT + " (batch norm composed from mygrad ops; mygrad's "
                            "softmax_crossentropy; memory guarding on, the default)")


def cases(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    def build() -> Case:
        if engine == "numpy":
            return numpy_case(dtype)
        if engine == "minigrad":
            return minigrad_case(dtype)
        if engine.startswith("torch-"):
            return torch_case(dtype, int(engine.split("-")[1].rstrip("t")))
        if engine == "autograd":
            return autograd_case(dtype)
        if engine == "mygrad":
            return mygrad_case(dtype)
        raise Skip(f"unknown engine {engine!r} for workload B")

    return {"B": build}
