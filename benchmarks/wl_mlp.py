"""Workload B: tensor MLP 64-256-256-256-10, hidden layers Linear -> BatchNorm1d (training
mode) -> ReLU, softmax cross-entropy, batch 128; one forward + backward + SGD step (lr 0.01,
no momentum).

The builders here take a :class:`Spec` (sizes, batch, learning rate, activation), so workload
E (``wl_course.py``, the course's smaller tanh network) reuses them."""

from __future__ import annotations

from dataclasses import dataclass
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
)
from benchmarks.data import (
    BN_EPS,
    BN_MOMENTUM,
    MLP_BATCH,
    MLP_LR,
    MLP_SIZES,
    mlp_data,
    mlp_init,
    mlp_param_names,
)
from benchmarks.reference import mlp_loss_and_grads, mlp_sgd_step


@dataclass(frozen=True)
class Spec:
    """One MLP workload: ``[Linear -> BatchNorm1d -> act] * k -> Linear``, softmax
    cross-entropy, one SGD step (no momentum) per call."""

    workload: str
    sizes: tuple[int, ...]
    batch: int
    lr: float
    activation: str  # "relu" or "tanh"

    @property
    def n_hidden(self) -> int:
        return len(self.sizes) - 2


B = Spec("B", MLP_SIZES, MLP_BATCH, MLP_LR, "relu")
ENGINES = ("numpy", "minigrad", "minigrad-compiled", "torch-1t", "torch-2t", "autograd", "mygrad")
N_HIDDEN = B.n_hidden
WHAT = "zero grads + forward + backward + SGD update"
COMPILED_STEPS = 4  # steps of the compiled step beside an eager copy, compared after each
ACTIVATION_MODULE = {"relu": "ReLU", "tanh": "Tanh"}


def _setup(spec: Spec, dtype: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, float,
                                             list[np.ndarray]]:
    """Initial params and data in ``dtype``, and the float64 oracle computed from exactly
    those (rounded) values."""
    dt = np_dtype(dtype)
    params = mlp_init(spec.sizes, dtype=dt)
    X, y = mlp_data(spec.sizes, spec.batch, dtype=dt)
    ref_loss, ref_grads = mlp_loss_and_grads([p.astype(np.float64) for p in params],
                                             X.astype(np.float64), y,
                                             activation=spec.activation)
    return params, X, y, ref_loss, ref_grads


def _check(spec: Spec, loss: float, grads: list[Any], ref_loss: float,
           ref_grads: list[np.ndarray], dtype: str) -> GradCheck:
    rtol = 1e-9 if dtype == "float64" else 1e-4
    return all_checks(
        scalar_check(loss, ref_loss, "loss", rtol=rtol),
        compare_grads(grads, ref_grads, mlp_param_names(spec.sizes), dtype),
    )


def _dtype_note(grads: list[Any], dtype: str) -> dict[str, Any]:
    kinds = sorted({str(np.asarray(g).dtype) for g in grads})
    return {} if kinds == [dtype] else {"grad_dtypes": kinds}


def _running(spec: Spec = B) -> list[list[np.ndarray]]:
    return [[np.zeros(n), np.ones(n)] for n in spec.sizes[1:-1]]


# ----------------------------------------------------------------------------- engines


def numpy_case(dtype: str, spec: Spec = B) -> Case:
    params, X, y, ref_loss, ref_grads = _setup(spec, dtype)
    dt = np_dtype(dtype)
    running = [[m.astype(dt), v.astype(dt)] for m, v in _running(spec)]
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = mlp_loss_and_grads([p.copy() for p in params], X, y,
                                         activation=spec.activation)
        extra.update(_dtype_note(grads, dtype))
        return _check(spec, loss, grads, ref_loss, ref_grads, dtype)

    def step() -> float:
        return mlp_sgd_step(params, X, y, spec.lr, running, activation=spec.activation)

    return Case(check=check, stmt=step, extra=extra,
                what="hand-written forward + closed-form backward + SGD update")


class MinigradMLP:
    """The network in minigrad (``nn.Linear``, ``nn.BatchNorm1d``, ``nn.ReLU``/``nn.Tanh``,
    ``F.cross_entropy``, ``optim.SGD``) with the given starting parameters, and its step."""

    def __init__(self, spec: Spec, dtype: str, params: list[np.ndarray], X: np.ndarray,
                 y: np.ndarray) -> None:
        mg = self.mg = require_minigrad()
        nn = require_minigrad("nn")
        self.F = require_minigrad("nn.functional")
        optim = require_minigrad("optim")
        dt = np_dtype(dtype)
        layers: list[Any] = []
        self.params: list[Any] = []
        self.bns: list[Any] = []
        act = getattr(nn, ACTIVATION_MODULE[spec.activation])
        for i, (n_in, n_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True)):
            lin = nn.Linear(n_in, n_out, dtype=dt)
            layers.append(lin)
            self.params += [lin.weight, lin.bias]
            if i < spec.n_hidden:
                bn = nn.BatchNorm1d(n_out, eps=BN_EPS, momentum=BN_MOMENTUM, dtype=dt)
                layers += [bn, act()]
                self.params += [bn.weight, bn.bias]
                self.bns.append(bn)
        self.model = nn.Sequential(*layers)
        for obj, arr in zip(self.params, params, strict=True):
            if np.shape(obj.data) != arr.shape:
                raise Skip(f"minigrad parameter shape {np.shape(obj.data)} != {arr.shape}")
            obj.data = arr.copy()
        self.x = mg.Tensor(X, requires_grad=False)
        self.y = mg.tensor(y)
        self.opt = optim.SGD(self.params, lr=spec.lr)

    def loss_and_grads(self) -> tuple[Any, list[np.ndarray]]:
        """zero_grad + forward + backward, no update (the gradient check)."""
        self.opt.zero_grad()
        loss = self.F.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        return loss, [np.array(p.grad) for p in self.params]

    def train_step(self, x: Any, y: Any) -> Any:
        """The timed step: what ``minigrad.compile`` compiles, and the eager row runs."""
        self.opt.zero_grad()
        loss = self.F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def state(self) -> list[np.ndarray]:
        """Parameters, gradients and running statistics, as numpy copies."""
        out = [np.array(p.detach()) for p in self.params]
        out += [np.array(p.grad) if p.grad is not None else np.full(p.shape, np.nan)
                for p in self.params]
        for bn in self.bns:
            out += [np.array(bn.running_mean), np.array(bn.running_var)]
        return out

    def state_names(self, spec: Spec) -> list[str]:
        names = mlp_param_names(spec.sizes)
        out = names + [f"{n}.grad" for n in names]
        for i in range(len(self.bns)):
            out += [f"bn{i + 1}.running_mean", f"bn{i + 1}.running_var"]
        return out

    def reset(self, params: list[np.ndarray]) -> None:
        """Back to the starting parameters and fresh running statistics (in place)."""
        mg = self.mg
        with mg.no_grad():
            for obj, arr in zip(self.params, params, strict=True):
                obj.copy_(mg.tensor(arr))
            for bn in self.bns:
                bn.running_mean.fill_(0.0)
                bn.running_var.fill_(1.0)


def minigrad_case(dtype: str, spec: Spec = B) -> Case:
    params, X, y, ref_loss, ref_grads = _setup(spec, dtype)
    net = MinigradMLP(spec, dtype, params, X, y)
    extra: dict[str, Any] = {}

    def check() -> GradCheck:
        loss, grads = net.loss_and_grads()
        extra.update(_dtype_note(grads, dtype))
        return _check(spec, float(np.asarray(loss.data)), grads, ref_loss, ref_grads, dtype)

    return Case(check=check, stmt=lambda: net.train_step(net.x, net.y), extra=extra,
                what=WHAT + " (nn.BatchNorm1d, F.cross_entropy, optim.SGD)")


def minigrad_compiled_case(dtype: str, spec: Spec = B) -> Case:
    """The minigrad row's step wrapped in ``minigrad.compile``. Checked twice before timing:
    step by step beside an eager copy of the same model and optimizer (loss, parameters,
    gradients and running statistics after each of ``COMPILED_STEPS`` steps: the first
    calls trace, the last ones must replay), then, reset to the starting parameters, one
    replayed step's loss and gradients against the float64 oracle. The timed calls must all
    be replays: ``traces`` may not grow while timing."""
    params, X, y, ref_loss, ref_grads = _setup(spec, dtype)
    net = MinigradMLP(spec, dtype, params, X, y)
    twin = MinigradMLP(spec, dtype, params, X, y)
    step = net.mg.compile(net.train_step)
    extra: dict[str, Any] = {}
    names = net.state_names(spec)
    tol = COMPILED_TOLERANCES[dtype]

    def check() -> GradCheck:
        checks, traces = [], []
        for k in range(COMPILED_STEPS):
            got = step(net.x, net.y).item()
            want = twin.train_step(twin.x, twin.y).item()
            traces.append(step.traces)
            checks.append(scalar_check(got, want, f"step {k + 1} loss", rtol=tol[0]))
            checks.append(compare_grads(net.state(), twin.state(),
                                        [f"step {k + 1} {n}" for n in names], dtype, tol))
        extra["traces_after_each_step"] = traces
        extra["vs_eager_max_abs_err"] = max(c.max_abs_err for c in checks)
        if traces[-1] != traces[-2]:
            raise AssertionError(f"the compiled step still traces after {COMPILED_STEPS} "
                                 f"calls (traces after each: {traces})")
        net.reset(params)
        loss = step(net.x, net.y)
        if step.traces != traces[-1]:
            raise AssertionError("the compiled step traced again after its parameters and "
                                 "running statistics were reset in place")
        extra["traces"] = step.traces
        grads = [np.array(p.grad) for p in net.params]
        extra.update(_dtype_note(grads, dtype))
        return all_checks(*checks, _check(spec, loss.item(), grads,
                                          ref_loss, ref_grads, dtype))

    return Case(check=check, stmt=lambda: step(net.x, net.y), extra=extra,
                verify_after=lambda: traces_unchanged(step, extra["traces"]),
                what=WHAT + " (the minigrad row's train_step in minigrad.compile; replays)")


def torch_case(dtype: str, threads: int, spec: Spec = B) -> Case:
    torch = require("torch")
    torch.set_num_threads(threads)
    nn = torch.nn
    F = nn.functional
    tdt = {"float64": torch.float64, "float32": torch.float32}[dtype]
    params, X, y, ref_loss, ref_grads = _setup(spec, dtype)
    layers: list[Any] = []
    objs: list[Any] = []
    act = getattr(nn, ACTIVATION_MODULE[spec.activation])
    for i, (n_in, n_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True)):
        lin = nn.Linear(n_in, n_out, dtype=tdt)
        layers.append(lin)
        objs += [lin.weight, lin.bias]
        if i < spec.n_hidden:
            bn = nn.BatchNorm1d(n_out, eps=BN_EPS, momentum=BN_MOMENTUM, dtype=tdt)
            layers += [bn, act()]
            objs += [bn.weight, bn.bias]
    model = nn.Sequential(*layers).train()
    with torch.no_grad():
        for obj, arr in zip(objs, params, strict=True):
            obj.copy_(torch.from_numpy(arr))
    x = torch.from_numpy(X)
    t = torch.from_numpy(y)
    opt = torch.optim.SGD(objs, lr=spec.lr)
    extra: dict[str, Any] = {"torch_threads": torch.get_num_threads()}

    def check() -> GradCheck:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        grads = [p.grad.detach().numpy().copy() for p in objs]
        extra.update(_dtype_note(grads, dtype))
        return _check(spec, float(loss.item()), grads, ref_loss, ref_grads, dtype)

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
    params, X, y, ref_loss, ref_grads = _setup(B, dtype)
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
        return _check(B, float(loss), list(grads), ref_loss, ref_grads, dtype)

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
    params, X, y, ref_loss, ref_grads = _setup(B, dtype)
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
        return _check(B, float(loss.item()), grads, ref_loss, ref_grads, dtype)

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
        if engine == "minigrad-compiled":
            return minigrad_compiled_case(dtype)
        if engine.startswith("torch-"):
            return torch_case(dtype, int(engine.split("-")[1].rstrip("t")))
        if engine == "autograd":
            return autograd_case(dtype)
        if engine == "mygrad":
            return mygrad_case(dtype)
        raise Skip(f"unknown engine {engine!r} for workload B")

    return {"B": build}
