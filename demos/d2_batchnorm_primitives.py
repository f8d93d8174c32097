"""Demo 2: batch norm built from primitive ops, and why its gradient must go through the
batch statistics.

* Batch norm over a batch of 4 scalars, written with `Value` ops only: the mean (mu) and
  variance (var) are nodes of the graph, so every input reaches the loss along several paths.
  Drawn, stepped through (HTML stepper), checked against the closed-form backward.
* The same with `Tensor` ops inside a scope, and an MLP with `nn.BatchNorm1d`, drawn with its
  layers grouped and with the batch-norm layer collapsed to one box.
* The engine's gradient against Ioffe and Szegedy's closed-form backward (2015, section 3,
  the chain-rule equations after Algorithm 1), as a max abs difference.
* The backward program the engine derives, printed as numpy code by `minigrad.compile`,
  beside the closed form, with the full-size array passes of each counted.
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
    Section,
    Table,
    digits_split,
    finite_difference_values,
    graph_figure,
    new_figure,
    plot_band,
    save_figure,
    seed_list,
    smooth,
)
from .d2_derived_program import compare as compare_programs
from .d2_derived_program import side_by_side
from .parallel import Task, run_all
from .stats import ACCURACY_POINT, RATIO_FACTOR, Verdict, mean_ci, paired_ratio
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
    mu.label = "mu"
    d = x - mu
    var = (d * d).mean(0, keepdims=True)
    if detach == "both":
        var = var.detach()
    var.label = "var"
    return d / (var + EPS).sqrt() * gamma + beta


def labelled(root: Any, *labels: str) -> list[Any]:
    """The nodes of root's graph with these labels (in the graph's order)."""
    from minigrad import viz

    return [n for n in viz.walk(root) if n.label in labels]


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
        grads[name] = np.asarray(x.grad)
        if name in ("primitives", "F.batch_norm"):
            out[f"max |dx engine - closed form| ({name})"] = float(
                np.abs(grads[name] - dx_ref).max())
            out[f"max |dgamma engine - closed form| ({name})"] = float(
                np.abs(np.asarray(g.grad) - dg_ref).max())
            out[f"max |dbeta engine - closed form| ({name})"] = float(
                np.abs(np.asarray(b.grad) - db_ref).max())
    for name in ("mean detached", "mean+var detached"):
        diff = grads[name] - dx_ref
        out[f"||dx {name} - dx|| / ||dx||"] = float(np.linalg.norm(diff)
                                                     / np.linalg.norm(dx_ref))
        out[f"max |dx {name} - dx|"] = float(np.abs(diff).max())
    # a loss that batch norm makes constant: sum of the normalised outputs (before gamma/beta)
    x = mg.Tensor(xa, requires_grad=True)
    tensor_batchnorm(x, mg.Tensor(np.ones(8)), mg.Tensor(np.zeros(8))).sum().backward()
    out["max |dx| of sum(xhat), true gradient (should be 0)"] = float(
        np.abs(np.asarray(x.grad)).max())
    x = mg.Tensor(xa, requires_grad=True)
    tensor_batchnorm(x, mg.Tensor(np.ones(8)), mg.Tensor(np.zeros(8)),
                     "both").sum().backward()
    out["max |dx| of sum(xhat), statistics detached"] = float(np.abs(np.asarray(x.grad)).max())
    gradcheck_ok = mg.gradcheck(
        lambda x, g, b: tensor_batchnorm(x, g, b),
        [mg.Tensor(xa[:6, :3], requires_grad=True), mg.Tensor(ga[:3], requires_grad=True),
         mg.Tensor(ba[:3], requires_grad=True)])
    out["gradcheck of batch norm from primitives (6x3, float64) passed"] = bool(gradcheck_ok)
    return out


# ------------------------------------------------------------------ training with detached stats


def train_detached(mode: str, steps: int, lr: float, hidden: int, layers: int,
                   data_seed: int, seed: int) -> dict[str, Any]:
    """`layers` hidden layers (x W + b -> BN -> ReLU), then W_out + b_out; plain SGD on the
    digits (split with `data_seed`).

    The same initial weights and the same mini-batches for every `mode` (both from `seed`);
    only the gradient through the batch statistics differs. Records the training loss, how far
    the pre-BN biases moved from their start (all layers together), the norm of the pre-BN
    weights, and the test accuracy at the end (the test set as one batch).
    """
    from minigrad import optim
    from minigrad.nn import functional as F

    X, Xte, y, yte = digits_split(data_seed)
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1]] + [hidden] * layers
    Ws = [mg.Tensor(rng.normal(0.0, 1.0 / np.sqrt(a), (a, b)), requires_grad=True)
          for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [mg.Tensor(rng.normal(0.0, 0.1, b), requires_grad=True) for b in sizes[1:]]
    gammas = [mg.Tensor(np.ones(b), requires_grad=True) for b in sizes[1:]]
    betas = [mg.Tensor(np.zeros(b), requires_grad=True) for b in sizes[1:]]
    W_out = mg.Tensor(rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, 10)), requires_grad=True)
    b_out = mg.Tensor(np.zeros(10), requires_grad=True)
    opt = optim.SGD(Ws + bs + gammas + betas + [W_out, b_out], lr=lr)
    b_start = np.concatenate([np.asarray(b) for b in bs])
    batches = np.random.default_rng(seed + 1)

    def bias_drift() -> float:
        return float(np.linalg.norm(np.concatenate([np.asarray(b) for b in bs]) - b_start))

    def w_norm() -> float:
        return float(np.sqrt(sum(np.sum(np.asarray(W) ** 2) for W in Ws)))

    hist: dict[str, Any] = {"loss": [], "bias_drift": [bias_drift()], "w_norm": [w_norm()]}

    def forward(xb: np.ndarray, training_mode: str) -> mg.Tensor:
        h = mg.Tensor(xb)
        for W, b, g, be in zip(Ws, bs, gammas, betas):
            h = tensor_batchnorm(h @ W + b, g, be, training_mode).relu()
        return h @ W_out + b_out

    for _ in range(steps):
        idx = batches.choice(len(X), 64, replace=False)
        loss = F.cross_entropy(forward(X[idx], mode), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist["loss"].append(loss.item())
        hist["bias_drift"].append(bias_drift())
        hist["w_norm"].append(w_norm())
    with mg.no_grad():
        # evaluation: the whole test set as one batch (normalised with its own statistics)
        hist["test_acc"] = float(np.mean(np.asarray(forward(Xte, "none")).argmax(1) == yte))
    return {k: np.asarray(v) for k, v in hist.items()}


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
    figures.append(graph_figure(loss, out_dir, "d2_values_graph",
                                "Batch norm of 4 scalars from Value ops, after backward (the "
                                "viewer opens on mu and var). mu and var are ordinary nodes: "
                                "each x_i reaches the loss directly, through mu, and through "
                                "var, and every node shows its gradient.",
                                focus=(parts["mu"], parts["var"])))
    fresh, _ = value_batchnorm([mg.Value(v, label=f"x{i + 1}") for i, v in enumerate(X4)],
                               mg.Value(GAMMA, label="gamma"), mg.Value(BETA, label="beta"),
                               WEIGHTS4)
    page = stepper_html(fresh, out_dir / "d2_values_stepper.html")
    links.append((page.name, "Step through batch norm's backward pass over 4 scalars "
                             "(HTML stepper)"))

    # 2. the same with Tensor ops, grouped in a scope
    xt = mg.Tensor(np.array(X4)[:, None], requires_grad=True, label="x")
    gt = mg.Tensor(np.array([GAMMA]), requires_grad=True, label="gamma")
    bt = mg.Tensor(np.array([BETA]), requires_grad=True, label="beta")
    with mg.scope("batch norm (Tensor ops)", "BatchNorm"):
        yt = tensor_batchnorm(xt, gt, bt)
    lt = (yt * mg.Tensor(np.array(WEIGHTS4)[:, None], label="c")).sum()
    lt.label = "loss"
    lt.backward(retain_graph=True)        # kept, so the picture can show every gradient
    numbers["4 scalars: max |dx Tensor ops - Value ops|"] = float(
        np.abs(np.asarray(xt.grad)[:, 0] - engine).max())
    figures.append(graph_figure(lt, out_dir, "d2_tensor_graph",
                                "The same computation with Tensor ops: one node holds the "
                                "whole batch; the ops of batch norm sit in one group (a "
                                "scope). Intermediate tensors keep no .grad (as in PyTorch); "
                                "the picture shows theirs from the engine's backward walk.",
                                focus=labelled(lt, "mu", "var")))

    # an MLP with nn.BatchNorm1d: grouped, then collapsed
    rng = np.random.default_rng(seed)
    mlp = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, generator=rng), nn.BatchNorm1d(4),
                        nn.ReLU(), nn.Linear(4, 2, dtype=np.float64, generator=rng))
    xin = mg.Tensor(rng.normal(0.0, 1.0, (4, 3)), label="x")
    mlp_loss = F.mse_loss(mlp(xin), mg.Tensor(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0],
                                                        [1.0, 0.0]]), label="target"))
    mlp_loss.backward(retain_graph=True)
    figures.append(graph_figure(mlp_loss, out_dir, "d2_mlp_grouped",
                                "An MLP (Linear, BatchNorm1d, ReLU, Linear) on a batch of 4: "
                                "every layer's ops are grouped in a box named after the layer.",
                                show_data=False))
    figures.append(graph_figure(mlp_loss, out_dir, "d2_mlp_collapsed",
                                "The same graph with collapse=(\"BatchNorm1d\",): the "
                                "batch-norm layer is one box.", show_data=False,
                                collapse=("BatchNorm1d",)))

    # 3. engine vs closed form on a bigger batch; detached statistics
    numbers.update(compare_gradients(seed))

    # 4. training with the statistics detached: the three gradients on the same seeds
    steps = 150 if quick else 300
    lr, hidden, layers = 0.5, 64, 3
    seeds = seed_list(seed + 10, quick)
    modes = ("none", "mean", "both")
    names = {"none": "true gradient", "mean": "mean detached", "both": "mean+var detached"}
    tasks = [Task(f"{names[m]}, seed {s}, {steps} steps", train_detached,
                  (m, steps, lr, hidden, layers, seed, s)) for s in seeds for m in modes]
    results = run_all(tasks, "d2 train")
    runs = {m: [results[k * len(modes) + j] for k in range(len(seeds))]
            for j, m in enumerate(modes)}
    last = max(steps // 5, 1)

    def per_seed(m: str, what: str) -> np.ndarray:
        if what == "loss":
            return np.array([np.mean(h["loss"][-last:]) for h in runs[m]])
        if what == "test_acc":
            return np.array([h["test_acc"] for h in runs[m]])
        return np.array([h[what][-1] if what != "w_start" else h["w_norm"][0]
                         for h in runs[m]])

    rows = []
    for m in modes:
        est = {w: mean_ci(per_seed(m, w))
               for w in ("loss", "bias_drift", "w_start", "w_norm", "test_acc")}
        numbers[f"training, {names[m]}: mean loss of last {last} steps"] = est["loss"]
        numbers[f"training, {names[m]}: |b - b(0)| at end"] = est["bias_drift"]
        numbers[f"training, {names[m]}: max over seeds of |b - b(0)| at end"] = float(
            per_seed(m, "bias_drift").max())
        numbers[f"training, {names[m]}: |W| at start"] = est["w_start"]
        numbers[f"training, {names[m]}: |W| at end"] = est["w_norm"]
        numbers[f"training, {names[m]}: test accuracy"] = est["test_acc"]
        rows.append([names[m], est["loss"], est["bias_drift"], est["w_start"], est["w_norm"],
                     est["test_acc"]])
    claim = "Ioffe and Szegedy, section 2: a gradient step that ignores the normalisation"
    verdicts = [
        Verdict.compare(f"{claim} lets the pre-BN bias drift without changing any output",
                        "|b - b(0)| after training, mean detached minus true gradient",
                        per_seed("mean", "bias_drift"), per_seed("none", "bias_drift"), +1,
                        seeds),
        Verdict.compare(f"{claim} lets the weights grow", "|W| after training, mean+var "
                        "detached minus true gradient", per_seed("both", "w_norm"),
                        per_seed("none", "w_norm"), +1, seeds),
        Verdict.compare(f"{claim} makes training worse",
                        f"training loss (mean of the last {last} steps), mean+var detached / "
                        "true gradient", per_seed("both", "loss"), per_seed("none", "loss"),
                        +1, seeds, ratio=True, meaningful=RATIO_FACTOR),
        Verdict.compare(f"{claim} makes the model worse",
                        "test accuracy, true gradient minus mean+var detached",
                        per_seed("none", "test_acc"), per_seed("both", "test_acc"), +1, seeds,
                        meaningful=ACCURACY_POINT),
    ]
    ratio, acc_drop = verdicts[2].estimate, verdicts[3].estimate
    numbers["training: loss ratio (mean+var detached / true gradient)"] = ratio
    numbers["training: loss ratio (mean detached / true gradient)"] = paired_ratio(
        per_seed("mean", "loss"), per_seed("none", "loss"))
    numbers["training: test accuracy, true gradient - mean+var detached"] = acc_drop
    numbers["training: |W| at end, mean+var detached - true gradient"] = verdicts[1].estimate
    numbers["training: seeds (paired: same start and batches for the 3 gradients)"] = seeds
    train_table = Table(f"Training with and without the gradient through mu and var "
                        f"({steps} SGD steps, lr {lr}; mean [95% CI] over {len(seeds)} seeds)",
                        ["gradient", f"loss (mean of last {last} steps)", "|b - b(0)|",
                         "|W| at start", "|W| at end", "test accuracy"], rows)
    fig, axes = new_figure(3, 1, width=4.6)
    window = max(steps // 30, 1)
    colors = {"none": "C0", "mean": "C1", "both": "C3"}
    x_loss = np.arange(1, steps + 1)
    x_all = np.arange(steps + 1)
    for m in modes:
        plot_band(axes[0, 0], x_loss, np.array([smooth(h["loss"], window) for h in runs[m]]),
                  colors[m], names[m])
        plot_band(axes[0, 1], x_all, np.array([h["bias_drift"] for h in runs[m]]), colors[m],
                  names[m])
        plot_band(axes[0, 2], x_all, np.array([h["w_norm"] for h in runs[m]]), colors[m],
                  names[m])
    axes[0, 0].set(title="training loss (moving average)", xlabel="SGD step",
                   ylabel="cross-entropy", yscale="log")
    axes[0, 1].set(title="pre-BN biases: |b - b(0)|", xlabel="SGD step", ylabel="distance")
    axes[0, 2].set(title="pre-BN weights: |W|", xlabel="SGD step", ylabel="norm")
    for ax in axes[0]:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d2_detached_training"),
                          f"Training the same network from the same start on the same "
                          f"mini-batches, with the true gradient and with the batch statistics "
                          f"treated as constants: mean over {len(seeds)} seeds with its 95% "
                          f"confidence band."))

    # 5. the backward program the engine derived, as numpy code, beside the closed form
    n_rows, n_cols = (64, 256) if quick else (256, 1024)
    derived = compare_programs(seed, n_rows, n_cols, 20 if quick else 100)
    (out_dir / "d2_derived_program.py").write_text(derived["source"])
    links.append(("d2_derived_program.py", "The whole program minigrad.compile wrote for "
                                           "batch norm's forward and backward (numpy)"))
    numbers["derived program: max |gradient - closed form|"] = \
        derived["max |derived - closed form|"]
    numbers["derived program: full-size passes of the backward"] = derived["derived passes"]
    numbers["closed form: full-size passes of the backward"] = derived["closed-form passes"]
    numbers["derived program: forward + backward, median ms"] = derived["derived time"] * 1e3
    numbers["closed form: forward + backward, median ms"] = derived["closed-form time"] * 1e3

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
our own batch norm from primitives and for <code>nn.functional.batch_norm</code>. This is an
exact check, not a measurement: no seeds are needed.</p>
<p><b>The program the engine derived.</b> <code>minigrad.compile</code> records batch
norm's forward and the backward the engine derives from its primitive ops, simplifies it and
writes it out as plain numpy code (the left column: the backward part, for a
{n_rows} x {n_cols} batch; the whole program is linked below). Beside it, Ioffe and Szegedy's
closed form as one would write it by hand. Both compute the same gradients (largest
difference {derived["max |derived - closed form|"]:.1e}); the derived one reads or writes a
whole {n_rows} x {n_cols} array {derived["derived passes"]} times, the closed form
{derived["closed-form passes"]} times (numpy calls counted while each runs). Forward and
backward together take {derived["derived time"] * 1e3:.2f} ms for the derived program and
{derived["closed-form time"] * 1e3:.2f} ms for the closed form here (medians; one machine,
one run).</p>
{side_by_side(derived)}
<p><b>Statistics treated as constants.</b> If mu and var are detached, the gradient is
different: the relative error of dx is {rel:.2f} on the same batch. The sharpest case: for the
loss sum(xhat) (which batch norm makes identically 0, whatever x is) the true gradient is 0 to
rounding, while the detached one is
{numbers['max |dx| of sum(xhat), statistics detached']:.2g}.</p>
<p><b>In training</b> (section 2 of Ioffe and Szegedy): a network with {layers} hidden layers
(Linear, batch norm, ReLU), trained for {steps} steps with the true gradient and with the
statistics detached, on {len(seeds)} seeds; at each seed the three versions start from the same
weights and see the same mini-batches, so every comparison below is paired. Numbers are means
with 95% confidence intervals over the seeds. With the true gradient, the biases b of the layers
before batch norm receive exactly zero gradient (mu subtracts them again), so they never move
(largest |b - b(0)| over the seeds:
{numbers[f"training, {names['none']}: max over seeds of |b - b(0)| at end"]:.1g}). With mu
detached, b is pushed along by every step although the next normalisation subtracts the change
again: it drifts (|b - b(0)| = {numbers[f"training, {names['mean']}: |b - b(0)| at end"]:.2f})
without changing any output. With var detached as well, the gradient also pushes the scale of
W, which batch norm divides out again: |W| ends at
{numbers[f"training, {names['both']}: |W| at end"]:.1f} against
{numbers[f"training, {names['none']}: |W| at end"]:.1f} with the true gradient (from
{numbers[f"training, {names['none']}: |W| at start"].value:.1f} at the start); larger weights
make the same learning rate a smaller effective step for the direction of W. The training loss
(mean of the last {last} steps) ends {ratio:.2f} times that of the true gradient (geometric mean
of the per-seed ratios), and the test accuracy is {acc_drop.pct()} points lower. As the
training loss goes to zero the gradients, and so the drift, shrink: in this small network
detaching slows training down; it does not make it diverge as Ioffe and Szegedy describe for
theirs.</p>
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
            "training": f"{steps} steps of SGD, lr {lr}, batch 64; init seeds {seeds}, batch "
                        "order from seed + 1; the three gradients share each seed",
            "quick": quick,
        },
        tables=[g4, train_table],
        links=links,
        verdicts=verdicts,
        summary=(f"engine gradient = closed form to "
                 f"{numbers['max |dx engine - closed form| (primitives)']:.0e}; detaching mu "
                 f"and var changes dx by {rel:.0%}; training loss {ratio:.2f}x that of the "
                 f"true gradient (95% CI, {len(seeds)} paired seeds): {verdicts[2].outcome}"),
    )
