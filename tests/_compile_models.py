"""The networks of the test suite and of the demos, as training steps for tests/test_compile.py.

Each `make_*` builds a fresh `Case` from fixed seeds, so that two calls give two identical
copies (one for eager mode, one for `minigrad.compile`): the tensors the step changes
(parameters with their `.grad`, buffers, optimizer state), the step `train_step(x, y)` (builds
the loss, calls backward and `opt.step()`, returns the loss), optionally something to do
between steps (an lr scheduler), and the batches it is fed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor, nn, optim


@dataclass
class Case:
    """One network with its optimizer and training step."""

    tensors: dict[str, Tensor]                  # parameters and buffers, by name
    opt: Any                                    # the optimizer (or None)
    train_step: Callable[..., Any]
    batches: list[tuple[np.ndarray, np.ndarray]]
    module: Any = None
    between: Callable[[], None] | None = None   # after each step (a scheduler's step)
    extra: dict[str, Any] = field(default_factory=dict)

    def inputs(self, k: int) -> tuple[Tensor, Tensor]:
        """Step k's batch as fresh tensors (as a training loop makes them)."""
        x, y = self.batches[k]
        return minigrad.tensor(x), minigrad.tensor(y)

    def state(self) -> dict[str, Any]:
        """Copies of everything a step may change: values and gradients of the tensors,
        optimizer state (tensors and numbers) and the groups' learning rates."""
        out: dict[str, Any] = {}
        for name, t in self.tensors.items():
            out[name] = np.array(t.detach().numpy(), copy=True)
            if t.requires_grad:
                out[name + ".grad"] = (None if t.grad is None
                                       else np.array(t.grad.numpy(), copy=True))
        if self.opt is not None:
            names = {id(t): n for n, t in self.tensors.items()}
            for p, entry in self.opt.state.items():
                for key, value in entry.items():
                    where = f"opt.state[{names.get(id(p), '?')}][{key}]"
                    out[where] = (np.array(value.numpy(), copy=True)
                                  if isinstance(value, Tensor) else value)
            for k, group in enumerate(self.opt.param_groups):
                out[f"opt.param_groups[{k}][lr]"] = group["lr"]
        return out


def assert_same_state(got: dict[str, Any], want: dict[str, Any], rtol: float,
                      atol: float, when: str) -> None:
    """Every entry of two `Case.state()` snapshots agrees (None with None, arrays to
    rtol/atol with the same dtype and shape, numbers exactly)."""
    assert sorted(got) == sorted(want), f"{when}: different state entries"
    for key in want:
        a, b = got[key], want[key]
        if b is None or a is None:
            assert a is None and b is None, f"{when}: {key} is {a!r} here, {b!r} in eager"
        elif isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, \
                f"{when}: {key}: {getattr(a, 'dtype', a)} {getattr(a, 'shape', '')} here, " \
                f"{b.dtype} {b.shape} in eager"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{when}: {key}")
        else:
            assert a == b, f"{when}: {key} is {a!r} here, {b!r} in eager"


def _classification(n: int, d: int, classes: int, steps: int, seed: int,
                    dtype: Any = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d, classes))
    out = []
    for _ in range(steps):
        x = (rng.standard_normal((n, d)) * 2 + 0.5).astype(dtype)
        out.append((x, np.argmax(x @ w + 0.5 * rng.standard_normal((n, classes)), axis=1)))
    return out


def _regression(n: int, d: int, k: int, steps: int, seed: int,
                dtype: Any = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d, k))
    out = []
    for _ in range(steps):
        x = rng.standard_normal((n, d)).astype(dtype)
        out.append((x, (np.tanh(x @ w) + 0.1 * rng.standard_normal((n, k))).astype(dtype)))
    return out


def _module_case(model: Any, opt: Any, loss_fn: Callable, batches: list,
                 zero_grad: bool = True, **kw: Any) -> Case:
    def train_step(x: Tensor, y: Tensor) -> Tensor:
        if zero_grad:
            opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    return Case(tensors, opt, train_step, batches, module=model, **kw)


# ---- the test suite's networks ------------------------------------------------------------


def make_bn_mlp(dtype: Any = np.float64, steps: int = 5, batch: int = 16,
                width: int = 8) -> Case:
    """tests/test_train_parity.py and tests/test_batchnorm.py: Linear -> BatchNorm1d -> ReLU
    twice (the second batch norm with momentum=None, a cumulative average), then Linear;
    cross_entropy; SGD with momentum and weight decay. (batch * width >= 1024: arrays large
    enough for the compiled program to plan buffers for them.)"""
    w2 = width - 2
    model = nn.Sequential(nn.Linear(5, width, generator=100, dtype=dtype),
                          nn.BatchNorm1d(width, dtype=dtype), nn.ReLU(),
                          nn.Linear(width, w2, generator=101, dtype=dtype),
                          nn.BatchNorm1d(w2, momentum=None, dtype=dtype), nn.ReLU(),
                          nn.Linear(w2, 3, generator=102, dtype=dtype))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    return _module_case(model, opt, F.cross_entropy,
                        _classification(batch, 5, 3, steps, 7, dtype))


class Block(nn.Module):
    """tests/test_modules.py's Block: a nested module with a parameter of its own and a
    buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 5, generator=1)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(5, 2, bias=False, generator=2)
        self.scale = nn.Parameter(np.ones(2))
        self.register_buffer("count", Tensor(np.zeros(1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x))) * self.scale


class Net(nn.Module):
    """tests/test_modules.py's Net: Block, then Sequential(Linear, Sigmoid)."""

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(2, 2, generator=3), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.block(x))


def make_nested(steps: int = 5) -> Case:
    """Net of Block (tests/test_modules.py): tanh, sigmoid, a bias-free Linear, a scale
    parameter; mse_loss; Nesterov SGD."""
    model = Net()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.8, nesterov=True)
    return _module_case(model, opt, F.mse_loss, _regression(12, 3, 2, steps, 3))


def make_layernorm(dtype: Any = np.float64, steps: int = 5, amsgrad: bool = False) -> Case:
    """Linear -> LayerNorm -> Tanh -> Linear (tests/test_modules.py's layers); mse_loss;
    Adam (with L2 weight decay)."""
    model = nn.Sequential(nn.Linear(4, 6, generator=4, dtype=dtype), nn.LayerNorm(6, dtype=dtype),
                          nn.Tanh(), nn.Linear(6, 2, generator=5, dtype=dtype))
    opt = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3, amsgrad=amsgrad)
    return _module_case(model, opt, F.mse_loss, _regression(10, 4, 2, steps, 4, dtype))


def make_dropout(training: bool, steps: int = 5, momentum: float = 0.0) -> Case:
    """tests/test_modules.py's Sequential(Linear, BatchNorm1d, ReLU, Dropout, Linear), in
    train or eval mode; cross_entropy; SGD (plain by default)."""
    model = nn.Sequential(nn.Linear(5, 8, generator=20), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Dropout(0.3, generator=21), nn.Linear(8, 3, generator=22))
    model.train(training)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    return _module_case(model, opt, F.cross_entropy, _classification(12, 5, 3, steps, 8))


# tests/test_course_scripts.py: makemore's MLP (characters -> embeddings -> two BN/tanh
# layers -> logits), with weight-decay groups, clip_grad_norm_ and an lr scheduler
_V, _E, _H, _BLOCK = 11, 4, 10, 3


def _makemore_batches(steps: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, _V, (16, _BLOCK)), rng.integers(0, _V, 16)) for _ in range(steps)]


def make_makemore(optimizer: str, scheduler: str, steps: int = 6, clip: bool = True) -> Case:
    """nn.Sequential(Embedding, Flatten, Linear(bias=False), BatchNorm1d, Tanh,
    Linear(bias=False), BatchNorm1d, Tanh, Linear); cross_entropy; weight decay on the
    matrices only; clip_grad_norm_ inside the step; the scheduler steps between calls."""
    model = nn.Sequential(
        nn.Embedding(_V, _E), nn.Flatten(),
        nn.Linear(_E * _BLOCK, _H, bias=False, generator=31), nn.BatchNorm1d(_H), nn.Tanh(),
        nn.Linear(_H, _H, bias=False, generator=32), nn.BatchNorm1d(_H), nn.Tanh(),
        nn.Linear(_H, _V, generator=33))
    with minigrad.no_grad():
        model[0].weight.copy_(Tensor(np.random.default_rng(30).standard_normal((_V, _E))))
        model[-1].weight *= 0.1
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() == 2], "weight_decay": 1e-3},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = {"sgd": lambda: optim.SGD(groups, lr=0.2, momentum=0.9, nesterov=True),
           "adamw": lambda: optim.AdamW(groups, lr=3e-2, betas=(0.9, 0.99)),
           "rmsprop": lambda: optim.RMSprop(groups, lr=1e-2, alpha=0.9),
           "adagrad": lambda: optim.Adagrad(groups, lr=0.05)}[optimizer]()
    sched = {"step": lambda: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
             "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps),
             "exponential": lambda: optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
             "none": lambda: None}[scheduler]()

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        opt.step()
        return loss

    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    return Case(tensors, opt, train_step, _makemore_batches(steps, 9), module=model,
                between=None if sched is None else sched.step)


# ---- the demos' networks ------------------------------------------------------------------


def make_demo_mlp(activation: str = "sigmoid", batchnorm: bool = True, dropout: float = 0.0,
                  norm: Any = None, momentum: float = 0.9, steps: int = 5) -> Case:
    """demos/common.py's make_mlp trained as its train_classifier trains it (cross_entropy,
    zero_grad after the forward pass, SGD). The demo passes the labels as a numpy array;
    here they are a tensor (numpy arguments have tests of their own)."""
    from demos.common import make_mlp

    sizes = [6, 7, 7, 3]
    model = make_mlp(sizes, activation=activation, batchnorm=batchnorm, dropout=dropout,
                     seed=5, norm=norm)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    model.train()

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    return Case(tensors, opt, train_step, _classification(8, 6, 3, steps, 11), module=model)


def make_detached_bn(mode: str, steps: int = 5) -> Case:
    """demos/d2_batchnorm_primitives.py's train_detached: batch norm from Tensor ops
    (statistics detached in `mode`), raw leaves, cross_entropy, plain SGD."""
    from demos.d2_batchnorm_primitives import tensor_batchnorm

    rng = np.random.default_rng(12)
    sizes = [6, 5, 5]
    leaves: dict[str, Tensor] = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        leaves[f"W{i}"] = Tensor(rng.normal(0.0, 1.0 / np.sqrt(a), (a, b)), requires_grad=True)
        leaves[f"b{i}"] = Tensor(rng.normal(0.0, 0.1, b), requires_grad=True)
        leaves[f"gamma{i}"] = Tensor(np.ones(b), requires_grad=True)
        leaves[f"beta{i}"] = Tensor(np.zeros(b), requires_grad=True)
    leaves["W_out"] = Tensor(rng.normal(0.0, 0.4, (sizes[-1], 3)), requires_grad=True)
    leaves["b_out"] = Tensor(np.zeros(3), requires_grad=True)
    opt = optim.SGD(list(leaves.values()), lr=0.1)
    n_layers = len(sizes) - 1

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        h = x
        for i in range(n_layers):
            h = tensor_batchnorm(h @ leaves[f"W{i}"] + leaves[f"b{i}"], leaves[f"gamma{i}"],
                                 leaves[f"beta{i}"], mode).relu()
        loss = F.cross_entropy(h @ leaves["W_out"] + leaves["b_out"], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return Case(leaves, opt, train_step, _classification(10, 6, 3, steps, 13))


def make_linear_regression(steps: int = 5) -> Case:
    """demos/d3_input_normalisation.py's gd: full-batch mean((X w + b - y)^2), SGD on w and
    a 0-d b."""
    w = Tensor(np.zeros(4), requires_grad=True)
    b = Tensor(np.zeros(()), requires_grad=True)
    opt = optim.SGD([w, b], lr=0.05)

    def train_step(X: Tensor, y: Tensor) -> Tensor:
        r = X @ w + b - y
        loss = (r * r).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(14)
    X = rng.standard_normal((20, 4)) * np.array([1.0, 3.0, 0.3, 1.0]) + 1.0
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 + 0.1 * rng.standard_normal(20)
    return Case({"w": w, "b": b}, opt, train_step, [(X, y)] * steps)
