"""Demo 2: batch norm built from primitive ops, and why its gradient must go through the
batch statistics.

* Batch norm over a batch of 4 scalars, written with `Value` ops only: the mean (mu) and
  variance (var) are nodes of the graph, so every input reaches the loss along several paths.
  Drawn, stepped through (HTML stepper), checked against the closed-form backward.
* The same with `Tensor` ops inside a scope, and an MLP with `nn.BatchNorm1d`, drawn with its
  layers grouped and with the batch-norm layer collapsed to one box.
* The engine's gradient against Ioffe and Szegedy's closed-form backward (2015, section 3,
  the chain-rule equations after Algorithm 1), as a max abs difference.
* What goes wrong if mu and var are treated as constants (`.detach()`): the gradient changes,
  and in training the pre-batch-norm bias drifts and the weights grow while the loss gets
  no better (Ioffe and Szegedy, section 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg

from .common import (
    Figure,
    Progress,
    Section,
    Table,
    digits_split,
    draw_graph,
    finite_difference_values,
    new_figure,
    save_figure,
    smooth,
)
from .steppers import stepper_html

EPS = 1e-5
X4 = [1.0, 2.5, -0.5, 3.0]          # the batch of 4 scalars
GAMMA, BETA = 1.5, 0.2
WEIGHTS4 = [1.0, -2.0, 0.5, 3.0]    # loss = sum_i c_i y_i, so each y_i matters differently

# ------------------------------------------------------------------ batch norm of 4 Values


def value_batchnorm(xs: list[mg.Value], gamma: mg.Value, beta: mg.Value,
                    weights: list[float]) -> tuple[mg.Value, dict[str, Any]]:
    """loss = sum_i c_i * (gamma * (x_i - mu) / sqrt(var + eps) + beta), from Value ops.

    mu = mean of x, var = mean of (x - mu)^2 (the biased variance, as batch norm uses).
    """
    m = len(xs)
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    mu = total * (1.0 / m)
    mu.label = "mu"
    ds = []
    for i, x in enumerate(xs):
        d = x - mu
        d.label = f"x{i + 1}-mu"
        ds.append(d)
    sq = ds[0] * ds[0]
    for d in ds[1:]:
        sq = sq + d * d
    var = sq * (1.0 / m)
    var.label = "var"
    std = (var + EPS).sqrt()
    std.label = "sqrt(var+eps)"
    ys = []
    for i, d in enumerate(ds):
        xhat = d / std
        xhat.label = f"xhat{i + 1}"
        y = gamma * xhat + beta
        y.label = f"y{i + 1}"
        ys.append(y)
    loss = ys[0] * weights[0]
    for y, c in zip(ys[1:], weights[1:]):
        loss = loss + y * c
    loss.label = "loss"
    return loss, {"mu": mu, "var": var, "std": std, "ys": ys}


def closed_form_backward(x: np.ndarray, gamma: np.ndarray, dy: np.ndarray,
                         eps: float = EPS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ioffe and Szegedy's backward of batch norm over axis 0, written out by hand:

        dxhat = dy * gamma
        dvar  = sum(dxhat * (x - mu)) * -1/2 * (var + eps)^(-3/2)
        dmu   = sum(-dxhat / sqrt(var + eps)) + dvar * sum(-2 (x - mu)) / m
        dx    = dxhat / sqrt(var + eps) + dvar * 2 (x - mu) / m + dmu / m
        dgamma = sum(dy * xhat),  dbeta = sum(dy)
    """
    m = x.shape[0]
    mu = x.mean(0)
    var = x.var(0)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    dxhat = dy * gamma
    dvar = np.sum(dxhat * (x - mu), 0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(-dxhat * inv, 0) + dvar * np.sum(-2.0 * (x - mu), 0) / m
    dx = dxhat * inv + dvar * 2.0 * (x - mu) / m + dmu / m
    return dx, np.sum(dy * xhat, 0), np.sum(dy, 0)


def tensor_batchnorm(x: mg.Tensor, gamma: mg.Tensor, beta: mg.Tensor,
                     detach: str = "none") -> mg.Tensor:
    """Batch norm over axis 0 from Tensor primitives.

    `detach`: "none" (the real gradient), "mean" (mu treated as a constant) or "both"
    (mu and var treated as constants, i.e. the statistics computed outside the gradient step).
    """
    mu = x.mean(0, keepdims=True)
    if detach in ("mean", "both"):
        mu = mu.detach()
    d = x - mu
    var = (d * d).mean(0, keepdims=True)
    if detach == "both":
        var = var.detach()
    return d / (var + EPS).sqrt() * gamma + beta


# ------------------------------------------------------------------ gradient comparisons


def compare_gradients(seed: int) -> dict[str, float]:
    """Engine vs closed form on a (32, 8) batch, for our Tensor-op batch norm and for
    nn.functional.batch_norm; and how far the detached-statistics gradient is off."""
    from minigrad.nn import functional as F

    rng = np.random.default_rng(seed)
    xa = rng.normal(2.0, 3.0, (32, 8))
    ga = rng.normal(1.0, 0.3, 8)
    ba = rng.normal(0.0, 0.3, 8)
    dy = rng.normal(0.0, 1.0, (32, 8))
    dx_ref, dg_ref, db_ref = closed_form_backward(xa, ga, dy)
    out: dict[str, float] = {}
    grads: dict[str, np.ndarray] = {}
    for name in ("primitives", "F.batch_norm", "mean detached", "mean+var detached"):
        x = mg.Tensor(xa, requires_grad=True)
        g = mg.Tensor(ga, requires_grad=True)
        b = mg.Tensor(ba, requires_grad=True)
        if name == "F.batch_norm":
            y = F.batch_norm(x, None, None, g, b, training=True, eps=EPS)
        else:
            mode = {"primitives": "none", "mean detached": "mean",
                    "mean+var detached": "both"}[name]
            y = tensor_batchnorm(x, g, b, mode)
        (y * mg.Tensor(dy)).sum().backward()
        grads[name] = x.grad
        if name in ("primitives", "F.batch_norm"):
            out[f"max |dx engine - closed form| ({name})"] = float(np.abs(x.grad - dx_ref).max())
            out[f"max |dgamma engine - closed form| ({name})"] = float(
                np.abs(g.grad - dg_ref).max())
            out[f"max |dbeta engine - closed form| ({name})"] = float(
                np.abs(b.grad - db_ref).max())
    for name in ("mean detached", "mean+var detached"):
        diff = grads[name] - dx_ref
        out[f"||dx {name} - dx|| / ||dx||"] = float(np.linalg.norm(diff)
                                                     / np.linalg.norm(dx_ref))
        out[f"max |dx {name} - dx|"] = float(np.abs(diff).max())
    # a loss that batch norm makes constant: sum of the normalised outputs (before gamma/beta)
    x = mg.Tensor(xa, requires_grad=True)
    tensor_batchnorm(x, mg.Tensor(np.ones(8)), mg.Tensor(np.zeros(8))).sum().backward()
    out["max |dx| of sum(xhat), true gradient (should be 0)"] = float(np.abs(x.grad).max())
    x = mg.Tensor(xa, requires_grad=True)
    tensor_batchnorm(x, mg.Tensor(np.ones(8)), mg.Tensor(np.zeros(8)),
                     "both").sum().backward()
    out["max |dx| of sum(xhat), statistics detached"] = float(np.abs(x.grad).max())
    gradcheck_ok = mg.gradcheck(
        lambda x, g, b: tensor_batchnorm(x, g, b),
        [mg.Tensor(xa[:6, :3], requires_grad=True), mg.Tensor(ga[:3], requires_grad=True),
         mg.Tensor(ba[:3], requires_grad=True)])
    out["gradcheck of batch norm from primitives (6x3, float64) passed"] = bool(gradcheck_ok)
    return out


# ------------------------------------------------------------------ training with detached stats


def train_detached(mode: str, X: np.ndarray, y: np.ndarray, Xte: np.ndarray, yte: np.ndarray,
                   steps: int, lr: float, hidden: int, layers: int,
                   seed: int) -> dict[str, Any]:
    """`layers` hidden layers (x W + b -> BN -> ReLU), then W_out + b_out; plain SGD.

    The same initial weights and the same mini-batches for every `mode`; only the gradient
    through the batch statistics differs. Records the training loss, how far the pre-BN biases
    moved from their start (all layers together), and the norm of the pre-BN weights.
    """
    from minigrad.nn import functional as F

    rng = np.random.default_rng(seed)
    sizes = [X.shape[1]] + [hidden] * layers
    Ws = [mg.Tensor(rng.normal(0.0, 1.0 / np.sqrt(a), (a, b)), requires_grad=True)
          for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [mg.Tensor(rng.normal(0.0, 0.1, b), requires_grad=True) for b in sizes[1:]]
    gammas = [mg.Tensor(np.ones(b), requires_grad=True) for b in sizes[1:]]
    betas = [mg.Tensor(np.zeros(b), requires_grad=True) for b in sizes[1:]]
    W_out = mg.Tensor(rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, 10)), requires_grad=True)
    b_out = mg.Tensor(np.zeros(10), requires_grad=True)
    params = Ws + bs + gammas + betas + [W_out, b_out]
    b_start = np.concatenate([b.data for b in bs])
    batches = np.random.default_rng(seed + 1)

    def bias_drift() -> float:
        return float(np.linalg.norm(np.concatenate([b.data for b in bs]) - b_start))

    def w_norm() -> float:
        return float(np.sqrt(sum(np.sum(W.data ** 2) for W in Ws)))

    hist: dict[str, Any] = {"loss": [], "bias_drift": [bias_drift()], "w_norm": [w_norm()]}

    def forward(xb: np.ndarray, training_mode: str) -> mg.Tensor:
        h = mg.Tensor(xb)
        for W, b, g, be in zip(Ws, bs, gammas, betas):
            h = tensor_batchnorm(h @ W + b, g, be, training_mode).relu()
        return h @ W_out + b_out

    label = {"none": "BN, true gradient", "mean": "BN, mean detached",
             "both": "BN, mean+var detached"}[mode]
    with Progress(steps, f"d2 {label}") as bar:
        for _ in range(steps):
            idx = batches.choice(len(X), 64, replace=False)
            loss = F.cross_entropy(forward(X[idx], mode), y[idx])
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data = p.data - lr * p.grad
            hist["loss"].append(loss.item())
            hist["bias_drift"].append(bias_drift())
            hist["w_norm"].append(w_norm())
            bar.update(1, loss=hist["loss"][-1])
    with mg.no_grad():
        # evaluation: the whole test set as one batch (normalised with its own statistics)
        hist["test_acc"] = float(np.mean(np.asarray(forward(Xte, "none").data).argmax(1) == yte))
    return hist


# ------------------------------------------------------------------ the demo


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Batch norm from primitives: pictures, gradient checks, and detached statistics."""
    from minigrad import nn
    from minigrad.nn import functional as F

    out_dir.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    links: list[tuple[str, str]] = []
    numbers: dict[str, Any] = {}

    # 1. four scalars, Value ops
    xs = [mg.Value(v, label=f"x{i + 1}") for i, v in enumerate(X4)]
    gamma, beta = mg.Value(GAMMA, label="gamma"), mg.Value(BETA, label="beta")
    loss, parts = value_batchnorm(xs, gamma, beta, WEIGHTS4)
    loss.backward()
    engine = np.array([x.grad for x in xs])
    dx_ref, dg_ref, db_ref = closed_form_backward(np.array(X4)[:, None], np.array([GAMMA]),
                                                  np.array(WEIGHTS4)[:, None])

    def loss_of(vals: list[float]) -> float:
        out, _ = value_batchnorm([mg.Value(v) for v in vals[:4]], mg.Value(vals[4]),
                                 mg.Value(vals[5]), WEIGHTS4)
        return out.data

    fd = finite_difference_values(loss_of, X4 + [GAMMA, BETA])
    numbers["4 scalars: mu"] = parts["mu"].data
    numbers["4 scalars: var (biased)"] = parts["var"].data
    numbers["4 scalars: max |dx engine - closed form|"] = float(np.abs(engine - dx_ref[:, 0]).max())
    numbers["4 scalars: |dgamma engine - closed form|"] = abs(gamma.grad - float(dg_ref[0]))
    numbers["4 scalars: max |engine - finite difference|"] = float(np.abs(
        np.array([x.grad for x in xs] + [gamma.grad, beta.grad]) - fd).max())
    g4 = Table("Batch of 4 scalars: gradient of loss = sum c_i y_i",
               ["input", "x", "c", "engine dloss/dx", "closed form", "finite difference"],
               [[f"x{i + 1}", X4[i], WEIGHTS4[i], engine[i], dx_ref[i, 0], fd[i]]
                for i in range(4)])
    figures.append(Figure(draw_graph(loss, out_dir, "d2_values_graph", rankdir="LR"),
                          "Batch norm of 4 scalars from Value ops, after backward. mu and var "
                          "are ordinary nodes: each x_i reaches the loss directly, through "
                          "mu, and through var."))
    fresh, _ = value_batchnorm([mg.Value(v, label=f"x{i + 1}") for i, v in enumerate(X4)],
                               mg.Value(GAMMA, label="gamma"), mg.Value(BETA, label="beta"),
                               WEIGHTS4)
    page = stepper_html(fresh, out_dir / "d2_values_stepper.html")
    links.append((page.name, "Step through batch norm's backward pass over 4 scalars "
                             "(HTML stepper)"))

    # 2. the same with Tensor ops, grouped in a scope
    xt = mg.Tensor(np.array(X4)[:, None], requires_grad=True, label="x (4x1)")
    gt = mg.Tensor(np.array([GAMMA]), requires_grad=True, label="gamma")
    bt = mg.Tensor(np.array([BETA]), requires_grad=True, label="beta")
    with mg.scope("batch norm (Tensor ops)", "BatchNorm"):
        yt = tensor_batchnorm(xt, gt, bt)
    lt = (yt * mg.Tensor(np.array(WEIGHTS4)[:, None], label="c")).sum()
    lt.label = "loss"
    lt.backward()
    numbers["4 scalars: max |dx Tensor ops - Value ops|"] = float(
        np.abs(np.asarray(xt.grad)[:, 0] - engine).max())
    figures.append(Figure(draw_graph(lt, out_dir, "d2_tensor_graph"),
                          "The same computation with Tensor ops: one node holds the whole "
                          "batch; the ops of batch norm sit in one group (a scope)."))

    # an MLP with nn.BatchNorm1d: grouped, then collapsed
    rng = np.random.default_rng(seed)
    mlp = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, generator=rng), nn.BatchNorm1d(4),
                        nn.ReLU(), nn.Linear(4, 2, dtype=np.float64, generator=rng))
    xin = mg.Tensor(rng.normal(0.0, 1.0, (4, 3)), label="x")
    mlp_loss = F.mse_loss(mlp(xin), mg.Tensor(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0],
                                                        [1.0, 0.0]]), label="target"))
    mlp_loss.backward()
    figures.append(Figure(draw_graph(mlp_loss, out_dir, "d2_mlp_grouped", show_data=False),
                          "An MLP (Linear, BatchNorm1d, ReLU, Linear) on a batch of 4: every "
                          "layer's ops are grouped in a box named after the layer."))
    figures.append(Figure(draw_graph(mlp_loss, out_dir, "d2_mlp_collapsed", show_data=False,
                                     collapse=("BatchNorm1d",)),
                          "The same graph with collapse=(\"BatchNorm1d\",): the batch-norm "
                          "layer is one box."))

    # 3. engine vs closed form on a bigger batch; detached statistics
    numbers.update(compare_gradients(seed))

    # 4. training with the statistics detached
    Xtr, Xte, ytr, yte = digits_split(seed)
    steps = 300 if quick else 1500
    lr, hidden, layers = 0.5, 64, 3
    runs = {m: train_detached(m, Xtr, ytr, Xte, yte, steps, lr, hidden, layers, seed + 10)
            for m in ("none", "mean", "both")}
    names = {"none": "true gradient", "mean": "mean detached", "both": "mean+var detached"}
    last = max(steps // 5, 1)
    rows = []
    for m, h in runs.items():
        final_loss = float(np.mean(h["loss"][-last:]))
        numbers[f"training, {names[m]}: mean loss of last {last} steps"] = final_loss
        numbers[f"training, {names[m]}: |b - b(0)| at end"] = h["bias_drift"][-1]
        numbers[f"training, {names[m]}: |W| at start"] = h["w_norm"][0]
        numbers[f"training, {names[m]}: |W| at end"] = h["w_norm"][-1]
        numbers[f"training, {names[m]}: test accuracy"] = h["test_acc"]
        rows.append([names[m], final_loss, h["bias_drift"][-1], h["w_norm"][0],
                     h["w_norm"][-1], h["test_acc"]])
    train_table = Table(f"Training with and without the gradient through mu and var "
                        f"({steps} SGD steps, lr {lr})",
                        ["gradient", f"loss (mean of last {last} steps)", "|b - b(0)|",
                         "|W| at start", "|W| at end", "test accuracy"], rows)
    fig, axes = new_figure(3, 1, width=4.6)
    window = max(steps // 30, 1)
    for m, h in runs.items():
        axes[0, 0].plot(smooth(h["loss"], window), label=names[m])
        axes[0, 1].plot(h["bias_drift"], label=names[m])
        axes[0, 2].plot(h["w_norm"], label=names[m])
    axes[0, 0].set(title="training loss (moving average)", xlabel="SGD step",
                   ylabel="cross-entropy", yscale="log")
    axes[0, 1].set(title="pre-BN biases: |b - b(0)|", xlabel="SGD step", ylabel="distance")
    axes[0, 2].set(title="pre-BN weights: |W|", xlabel="SGD step", ylabel="norm")
    for ax in axes[0]:
        ax.legend()
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d2_detached_training"),
                          "Training the same network from the same start on the same "
                          "mini-batches, with the true gradient and with the batch statistics "
                          "treated as constants."))

    ratio_loss = (numbers[f"training, {names['both']}: mean loss of last {last} steps"]
                  / numbers[f"training, {names['none']}: mean loss of last {last} steps"])
    numbers["training: loss ratio (mean+var detached / true gradient)"] = ratio_loss
    rel = numbers["||dx mean+var detached - dx|| / ||dx||"]
    body = f"""
<p>Batch norm normalises each feature with the mean and variance of the current mini-batch:
<code>xhat_i = (x_i - mu) / sqrt(var + eps)</code>, <code>y_i = gamma xhat_i + beta</code>.
Because mu and var are computed <em>from the batch</em>, every example's output depends on
every other example in the batch, and the gradient of the loss with respect to x_i has three
parts: the direct path through xhat_i, the path through mu, and the path through var. Written by
hand this is the classic place for mistakes; built from primitive ops the engine derives it. In
the first picture mu and var are ordinary nodes (labelled), and you can see the extra edges.</p>
<p><b>Engine against the formula.</b> Ioffe and Szegedy (2015) wrote the backward pass out
by hand (the chain-rule equations under their Algorithm 1). On a 32 x 8 float64 batch the
engine's gradients equal that formula to
{numbers['max |dx engine - closed form| (primitives)']:.1e} (max abs difference for dx), for
our own batch norm from primitives and for <code>nn.functional.batch_norm</code>.</p>
<p><b>Statistics treated as constants.</b> If mu and var are detached, the gradient is
different: the relative error of dx is {rel:.2f} on the same batch. The sharpest case: for the
loss sum(xhat) (which batch norm makes identically 0, whatever x is) the true gradient is 0 to
rounding, while the detached one is
{numbers['max |dx| of sum(xhat), statistics detached']:.2g}.</p>
<p><b>In training</b> (section 2 of Ioffe and Szegedy): a network with {layers} hidden layers
(Linear, batch norm, ReLU), the same start and the same mini-batches, trained with the true
gradient and with the statistics detached. With the true gradient, the biases b of the layers
before batch norm receive exactly zero gradient (mu subtracts them again), so they never move
(|b - b(0)| = {numbers[f"training, {names['none']}: |b - b(0)| at end"]:.1g}). With mu
detached, b is pushed along by every step although the next normalisation subtracts the change
again: it drifts (|b - b(0)| = {numbers[f"training, {names['mean']}: |b - b(0)| at end"]:.2f}
after {steps} steps) without changing any output. With var detached as well, the gradient also
pushes the scale of W, which batch norm divides out again, so |W| grows faster
({numbers[f"training, {names['both']}: |W| at start"]:.1f} to
{numbers[f"training, {names['both']}: |W| at end"]:.1f}, against
{numbers[f"training, {names['none']}: |W| at start"]:.1f} to
{numbers[f"training, {names['none']}: |W| at end"]:.1f} with the true gradient); larger weights
make the same learning rate a smaller effective step for the direction of W. The training loss
(mean of the last {last} steps) ends {ratio_loss:.2f} times that of the true gradient. In this
small network that is a clear slowdown, not the divergence Ioffe and Szegedy describe: as the
training loss goes to zero the gradients, and so the drift, shrink.</p>
"""
    return Section(
        key="d2",
        title="Batch norm from primitives",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "4 scalars x": X4, "gamma, beta": (GAMMA, BETA), "loss weights c": WEIGHTS4,
            "eps": EPS,
            "gradient comparison": f"batch 32 x 8, N(2, 3^2) inputs, seed {seed}",
            "training data": f"digits, 75/25 split (seed {seed}), standardised",
            "training network": f"64 -> {layers} x [{hidden} (Linear, BN from primitives, "
                                f"ReLU)] -> 10",
            "training": f"{steps} steps of SGD, lr {lr}, batch 64, init/batch seed {seed + 10}",
            "quick": quick,
        },
        tables=[g4, train_table],
        links=links,
        summary=(f"engine gradient = closed form to "
                 f"{numbers['max |dx engine - closed form| (primitives)']:.0e}; detaching mu "
                 f"and var changes dx by {rel:.0%} and makes the training loss "
                 f"{ratio_loss:.2f}x higher"),
    )

