"""Demo 7 (claims 4 and 5): the noise batch norm adds, and whether it regularises.

* The noise: batch norm normalises an example with the mean and variance of its mini-batch, so
  the same example gets a different normalised value in every mini-batch. We put one example
  into many random mini-batches of sizes 16..512 and measure the spread (standard deviation) of
  its normalised activation; the lecture expects it to shrink like 1/sqrt(batch size), a slope
  of -1/2 on log-log axes. Ten examples give the slope an interval.
* The regularisation, with ghost batch norm (Hoffer, Hubara and Soudry 2017): the statistics
  come from groups of G examples inside a fixed gradient batch, so the noise (set by G) is
  separated from the batch size of the gradient step (fixed). The task has noisy labels, where
  regularisation can show; dropout is the positive control.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

import minigrad as mg
from minigrad import nn

from .common import (
    Figure,
    Section,
    Table,
    accuracy,
    digits_split,
    error_bars,
    get_state,
    hidden_with_batch_stats,
    make_mlp,
    new_figure,
    plot_band,
    predict,
    save_figure,
    seed_list,
    train_classifier,
)
from .parallel import Task, run_all
from .stats import ACCURACY_POINT, Verdict, mean_ci, paired_diff

SIZES = [64, 64, 64, 10]
EPS = 1e-5
N_TRAIN = 512                  # training images in the regularisation study
LABEL_NOISE = 0.3              # share of them given a wrong label
BATCH = 64                     # the gradient batch, the same for every variant
GHOSTS = (4, 16, 64)           # ghost-batch sizes; 64 = ordinary batch norm on the batch
NOISE_BATCHES = [16, 32, 64, 128, 256, 512]
SLOPE_TOLERANCE = 0.1          # the 1/sqrt(batch) law "holds" if the slope is within this


class GhostBatchNorm1d(nn.Module):
    """Batch norm whose statistics come from groups of `ghost` consecutive examples inside
    the batch: for each group g, xhat = (x - mu_g) / sqrt(var_g + eps) (biased var_g), then
    gamma xhat + beta. With ghost = batch size it is ordinary batch norm. Written with
    primitive ops, like F.batch_norm. Running statistics (eval mode) average the groups'
    means and unbiased variances, with factor `momentum` per batch."""

    def __init__(self, num_features: int, ghost: int, momentum: float = 0.1) -> None:
        super().__init__()
        self.ghost = ghost
        self.momentum = momentum
        self.weight = nn.Parameter(np.ones(num_features))
        self.bias = nn.Parameter(np.zeros(num_features))
        self.register_buffer("running_mean", np.zeros(num_features))
        self.register_buffer("running_var", np.ones(num_features))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        if not self.training:
            scale = 1.0 / (self.running_var + EPS).sqrt()
            return (x - self.running_mean) * scale * self.weight + self.bias
        n, d = x.shape
        b = self.ghost
        if n % b:
            raise ValueError(f"GhostBatchNorm1d: batch of {n} is not a multiple of {b}")
        groups = x.reshape(n // b, b, d)
        mu = groups.mean(1, keepdims=True)
        dev = groups - mu
        var = (dev ** 2).mean(1, keepdims=True)          # biased, as batch norm normalises
        xhat = (dev / (var + EPS).sqrt()).reshape(n, d)
        m = self.momentum
        with mg.no_grad():                     # in place, as nn.BatchNorm1d's buffers
            self.running_mean.mul_(1 - m).add_(mu[:, 0].mean(0) * m)
            self.running_var.mul_(1 - m).add_((var[:, 0] * (b / (b - 1))).mean(0) * m)
        return xhat * self.weight + self.bias


# ---------------------------------------------------------------------------- the noise


def noise_study(seed: int, data_seed: int, examples: list[int], draws: int,
                train_steps: int) -> dict[str, Any]:
    """A batch-norm network trained briefly on all training images; each example of
    `examples` is put into `draws` random mini-batches of each size (the others drawn without
    replacement from the rest) and its normalised activation xhat at the first batch-norm
    layer recorded for every unit. Computed in numpy from the layer's weights (checked once
    against the network's own forward pass)."""
    X, _, y, _ = digits_split(data_seed)
    model = make_mlp(SIZES, activation="relu", batchnorm=True, seed=seed)
    train_classifier(model, X, y, steps=train_steps, batch_size=64, lr=0.1, seed=seed + 1,
                     label="d7 noise net")
    state = get_state(model)
    W, bias = state["fc1.weight"], state["fc1.bias"]
    gamma, beta = state["bn1.weight"], state["bn1.bias"]

    def xhat_first(rows: np.ndarray) -> np.ndarray:
        u = X[rows] @ W.T + bias
        return (u[0] - u.mean(0)) / np.sqrt(u.var(0) + EPS)

    rng = np.random.default_rng(seed + 2)
    rows = np.concatenate([[examples[0]], rng.choice(np.delete(np.arange(len(X)), examples[0]),
                                                     31, replace=False)])
    zs, _ = hidden_with_batch_stats(model, X[rows])
    check = float(np.max(np.abs((zs[0][0] - beta) / gamma - xhat_first(rows))))
    values = {}
    spread = np.zeros((len(examples), len(NOISE_BATCHES)))
    for i, ex in enumerate(examples):
        others = np.delete(np.arange(len(X)), ex)
        for j, b in enumerate(NOISE_BATCHES):
            v = np.array([xhat_first(np.concatenate([[ex], rng.choice(others, b - 1,
                                                                      replace=False)]))
                          for _ in range(draws)])                       # (draws, units)
            spread[i, j] = v.std(0).mean()
            if i == 0:
                values[b] = v
    n = len(X)
    fpc = np.sqrt((n - np.array(NOISE_BATCHES)) / (n - 1)) / np.sqrt(NOISE_BATCHES)
    slope_fpc = float(np.polyfit(np.log(NOISE_BATCHES), np.log(fpc), 1)[0])
    slopes = np.array([np.polyfit(np.log(NOISE_BATCHES), np.log(s), 1)[0] for s in spread])
    return {"spread": spread, "slopes": slopes, "slope_fpc": slope_fpc, "values": values,
            "check": check, "n": n}


# ---------------------------------------------------------------------------- the gap


def noisy_subset(data_seed: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N_TRAIN training images (chosen with `seed`) with LABEL_NOISE of their labels replaced
    by a different, random digit: (X, noisy labels, which were flipped)."""
    X, _, y, _ = digits_split(data_seed)
    rng = np.random.default_rng(seed + 7)
    idx = rng.choice(len(X), N_TRAIN, replace=False)
    Xs, ys = X[idx], y[idx].copy()
    flip = rng.random(N_TRAIN) < LABEL_NOISE
    ys[flip] = (ys[flip] + rng.integers(1, 10, int(flip.sum()))) % 10
    return Xs, ys, flip


def train_variant(variant: str, steps: int, probe_every: int, seed: int,
                  data_seed: int) -> dict[str, Any]:
    """One variant on the noisy subset of `seed` (init and batch order from `seed` too, so
    every variant sees the same start and the same batches)."""
    _, Xte, _, yte = digits_split(data_seed)
    X, y, flip = noisy_subset(data_seed, seed)
    if variant == "plain":
        model = make_mlp(SIZES, activation="relu", seed=seed)
    elif variant == "dropout":
        model = make_mlp(SIZES, activation="relu", dropout=0.3, seed=seed)
    else:
        g = int(variant.split()[-1])
        model = make_mlp(SIZES, activation="relu", seed=seed,
                         norm=lambda d: GhostBatchNorm1d(d, g))
    acc: list[float] = []
    train_classifier(model, X, y, steps=steps, batch_size=BATCH, lr=0.05, momentum=0.9,
                     seed=seed + 1, label="d7", every=probe_every,
                     callback=lambda step: acc.append(accuracy(model, Xte, yte)))
    fitted = predict(model, X).argmax(1) == y
    return {"test_acc": np.array(acc), "memorised": float(np.mean(fitted[flip])),
            "clean_fit": float(np.mean(fitted[~flip]))}


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Spread of one example's normalised activation vs batch size; test accuracy under label
    noise with ghost batch norm of several group sizes, plain, and dropout."""
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = seed_list(seed, quick)
    steps = 300 if quick else 500
    probe_every = 50
    draws = 40 if quick else 100
    examples = list(range(len(seeds)))      # one example per seed of the noise study
    variants = ["plain", "dropout"] + [f"BN ghost {g}" for g in GHOSTS]
    tasks = [Task(f"noise: {len(examples)} examples x {draws} batches per size",
                  noise_study, (seed, seed, examples, draws, 60 if quick else 300), cost=3.0)]
    tasks += [Task(f"{v}, seed {s}, {steps} steps", train_variant,
                   (v, steps, probe_every, s, seed), cost=2.0 if v.startswith("BN") else 1.0)
              for s in seeds for v in variants]
    results = run_all(tasks, "d7 runs")
    noise = results[0]
    res = {v: [results[1 + k * len(variants) + j] for k in range(len(seeds))]
           for j, v in enumerate(variants)}

    numbers: dict[str, Any] = {}
    spread_est = [mean_ci(noise["spread"][:, j]) for j in range(len(NOISE_BATCHES))]
    for b, e in zip(NOISE_BATCHES, spread_est):
        numbers[f"spread of xhat at batch {b}"] = e
    slope = mean_ci(noise["slopes"])
    numbers["fitted slope of log spread vs log batch size"] = slope
    numbers[f"slope expected from sampling without replacement (N = {noise['n']})"] = (
        noise["slope_fpc"])
    numbers["spread ratio batch 16 / batch 512"] = mean_ci(noise["spread"][:, 0]
                                                           / noise["spread"][:, -1])
    numbers["max |xhat in numpy - xhat of the network| (check)"] = noise["check"]
    numbers["noise study: examples (one per seed)"] = examples

    final = {v: np.array([r["test_acc"][-1] for r in res[v]]) for v in variants}
    rows = []
    for v in variants:
        mem = mean_ci([r["memorised"] for r in res[v]])
        clean = mean_ci([r["clean_fit"] for r in res[v]])
        best = mean_ci([r["test_acc"].max() for r in res[v]])
        numbers[f"{v}: test accuracy at step {steps}"] = mean_ci(final[v])
        numbers[f"{v}: wrong training labels fitted"] = mem
        rows.append([v, mean_ci(final[v]), best, mem, clean])
    verdicts = [
        Verdict.measure("Claim 4: the noise of batch statistics shrinks like 1/sqrt(batch "
                        "size)", "slope of log spread against log batch size (one per "
                        "example)", noise["slopes"], 0, examples, null=noise["slope_fpc"],
                        meaningful=SLOPE_TOLERANCE),
        Verdict.compare("Positive control: this task can show regularisation (dropout 0.3 "
                        "helps)", "final test accuracy, dropout minus plain",
                        final["dropout"], final["plain"], +1, seeds, meaningful=ACCURACY_POINT),
        Verdict.compare("Claim 4: batch norm regularises a little", f"final test accuracy, "
                        f"batch norm (statistics of the whole batch of {BATCH}) minus plain",
                        final[f"BN ghost {BATCH}"], final["plain"], +1, seeds,
                        meaningful=ACCURACY_POINT),
        Verdict.compare("Claim 5: smaller batches (more noise) regularise more",
                        f"final test accuracy, ghost groups of {GHOSTS[0]} minus {BATCH} "
                        f"(same gradient batch of {BATCH})", final[f"BN ghost {GHOSTS[0]}"],
                        final[f"BN ghost {BATCH}"], +1, seeds, meaningful=ACCURACY_POINT),
        Verdict.compare("Claim 5: smaller batches (more noise) regularise more",
                        f"final test accuracy, ghost groups of {GHOSTS[1]} minus {BATCH}",
                        final[f"BN ghost {GHOSTS[1]}"], final[f"BN ghost {BATCH}"], +1, seeds,
                        meaningful=ACCURACY_POINT),
    ]
    control, bn_vs_plain, small_vs_full, mid_vs_full = (v.estimate for v in verdicts[1:])
    numbers["test accuracy, dropout - plain (positive control)"] = control
    numbers[f"test accuracy, BN (ghost {BATCH} = the batch) - plain"] = bn_vs_plain
    numbers[f"test accuracy, BN ghost {GHOSTS[0]} - ghost {BATCH}"] = small_vs_full
    numbers[f"test accuracy, BN ghost {GHOSTS[1]} - ghost {BATCH}"] = mid_vs_full
    numbers["seeds (paired: data subset, label noise, start and batches shared)"] = seeds
    figures = _plots(noise, res, variants, seeds, steps, probe_every, out_dir)
    noise_table = Table(f"Spread (std over mini-batches) of one example's normalised "
                        f"activation, mean over units; mean [95% CI] over {len(examples)} "
                        "examples", ["batch size", "spread", "spread x sqrt(batch)"],
                        [[b, e, e.value * np.sqrt(b)] for b, e in zip(NOISE_BATCHES,
                                                                      spread_est)])
    gap_table = Table(f"{N_TRAIN} training images, {LABEL_NOISE:.0%} of their labels wrong, "
                      f"{steps} steps with gradient batches of {BATCH} (mean [95% CI] over "
                      f"{len(seeds)} paired seeds)",
                      ["network", f"test acc at step {steps}", "best test acc on the way",
                       "wrong labels fitted", "right labels fitted"], rows)
    v = verdicts
    body = f"""
<p><b>The noise (claim 4).</b> In training, an example is normalised with the mean and the
variance of whatever mini-batch it lands in, so its normalised value xhat = (u - mu_B) /
sqrt(var_B + eps) is noisy: mean subtraction adds noise, division by the standard deviation
multiplies by noise. We put a training image into {draws} random mini-batches of each size
(the other images drawn without replacement from the {noise['n']} training images) and
measured the standard deviation of its xhat at the first batch-norm layer, averaged over the 64
units; {len(examples)} different images give the intervals. The spread falls from
{spread_est[0]} at batch 16 to {spread_est[-1]} at batch 512. For independent draws the
statistics' noise falls like 1/sqrt(batch), a slope of -0.5 on log-log axes; drawing without
replacement from a finite set adds a factor sqrt((N - B) / (N - 1)), which predicts
{noise['slope_fpc']:.3f} here. {v[0].sentence()}</p>
<p><b>Does it regularise (claims 4 and 5)?</b> A test bed has to be able to show
regularisation before its silence means anything. On the clean digits it cannot: a small
network generalises about as well as it can, and the seed alone moves test accuracy by more
than any batch-size effect. So we use <em>label noise</em>: {N_TRAIN} training images of which
{LABEL_NOISE:.0%} carry a wrong label (a random other digit). A network that fits its training
set must memorise the wrong labels, which costs test accuracy, so anything that keeps it from
fitting noise shows up as a gain in (clean) test accuracy. Dropout (p = 0.3) is the positive
control: {v[1].sentence()}</p>
<p>To separate the noise from the batch size, we use <em>ghost batch norm</em> (Hoffer, Hubara
and Soudry, 2017): the gradient batch is {BATCH} images for every variant, and batch norm
takes its statistics from groups of {', '.join(map(str, GHOSTS))} images inside it (with
{BATCH}, ordinary batch norm). Every variant on a seed sees the same images, the same wrong
labels, the same starting weights and the same batches. {v[2].sentence()}
{v[3].sentence()} {v[4].sentence()}</p>
<p>So: the noise is real and falls with the group size as the lecture says, and when it is
large (groups of {GHOSTS[0]}) it does keep the network from memorising wrong labels; at the
sizes the lecture names (64 and more) there is little of it left. This agrees with the
lecture's own advice: batch norm's regularisation is a side effect; use it to normalise and
speed up learning, and use real regularisers (dropout, weight decay, more data) when you need
regularisation.</p>
"""
    return Section(
        key="d7",
        title="Regularisation noise (claims 4 and 5)",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "data": f"digits, 75/25 split (seed {seed}), standardised",
            "noise study": f"BN network {SIZES} (ReLU) trained {60 if quick else 300} steps "
                           f"(batch 64, lr 0.1, seed {seed}); training images {examples} each "
                           f"in {draws} random batches per size; spread = std over batches "
                           "of xhat, mean over the 64 units",
            "regularisation study": f"{N_TRAIN} training images chosen with seed s + 7, "
                                    f"{LABEL_NOISE:.0%} of labels replaced by another digit; "
                                    f"{SIZES} ReLU; SGD lr 0.05, momentum 0.9, batch {BATCH}, "
                                    f"{steps} steps; seeds {seeds}; test accuracy on the 450 "
                                    "clean test images in eval mode, every "
                                    f"{probe_every} steps",
            "variants": "plain; dropout 0.3 after each hidden ReLU; ghost batch norm with "
                        f"groups of {', '.join(map(str, GHOSTS))} (eval mode: running "
                        "averages of the groups' statistics)",
            "quick": quick,
        },
        tables=[noise_table, gap_table],
        verdicts=verdicts,
        summary=(f"noise slope {slope} (predicted {noise['slope_fpc']:.2f}); under label noise "
                 f"dropout helps by {control.pct()} ({v[1].outcome}); ghost {GHOSTS[0]} vs "
                 f"{BATCH}: {small_vs_full.pct()} ({v[3].outcome})"),
    )


def _plots(noise: dict[str, Any], res: dict[str, list[dict[str, Any]]], variants: list[str],
           seeds: list[int], steps: int, probe_every: int, out_dir: Path) -> list[Figure]:
    figures = []
    fig, axes = new_figure(2, 1, width=5.3, height=4.0)
    ax = axes[0, 0]
    bs = np.array(NOISE_BATCHES, dtype=float)
    spread = noise["spread"]
    ests = [mean_ci(spread[:, j]) for j in range(len(bs))]
    error_bars(ax, bs, ests, "C0", f"measured (mean of {len(spread)} examples, 95% CI)",
               fmt_="o")
    slope = float(np.mean(noise["slopes"]))
    fit = np.exp(np.mean(np.log(spread[:, 0]))) * (bs / bs[0]) ** slope
    ax.plot(bs, fit, "-", color="C1", label=f"mean fitted slope {slope:.3f}")
    ref = ests[0].value * (bs / bs[0]) ** -0.5
    ax.plot(bs, ref, "k--", lw=1, label="slope -1/2 (1/sqrt(batch))")
    ax.set(xscale="log", yscale="log", xlabel="mini-batch size (log)",
           ylabel="std of xhat over mini-batches (log)",
           title="noise of one example's normalised value")
    ax.set_xticks(NOISE_BATCHES, [str(b) for b in NOISE_BATCHES])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = axes[0, 1]
    unit = 0
    for b in (NOISE_BATCHES[0], NOISE_BATCHES[2], NOISE_BATCHES[-1]):
        v = noise["values"][b][:, unit]
        ax.hist(v - v.mean(), bins=25, alpha=0.5, density=True, label=f"batch {b}")
    ax.set(xlabel=f"xhat of unit {unit} minus its mean over batches", ylabel="density",
           title="one example in different mini-batches")
    ax.legend()
    figures.append(Figure(save_figure(fig, out_dir, "d7_noise"),
                          "Left: spread of an example's normalised activation against the "
                          "mini-batch size, log-log, mean over examples with 95% intervals. "
                          "Right: its distribution for one unit at three batch sizes (one "
                          "example)."))

    fig, axes = new_figure(2, 1, width=5.2, height=3.9)
    ax = axes[0, 0]
    x = np.arange(0, steps + 1, probe_every)
    if x[-1] != steps:
        x = np.append(x, steps)
    for k, v in enumerate(variants):
        plot_band(ax, x, np.array([r["test_acc"] for r in res[v]]), f"C{k}", v, lw=1.4)
    ax.set(xlabel="SGD step", ylabel="test accuracy (clean labels)", ylim=(0.4, 1.0),
           title=f"{LABEL_NOISE:.0%} wrong training labels: test accuracy")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[0, 1]
    base = np.array([r["test_acc"][-1] for r in res[f"BN ghost {BATCH}"]])
    plain = np.array([r["test_acc"][-1] for r in res["plain"]])
    labels, ests = [], []
    for v in variants:
        final = np.array([r["test_acc"][-1] for r in res[v]])
        if v.startswith("BN"):
            if v != f"BN ghost {BATCH}":
                labels.append(f"{v}\nminus ghost {BATCH}")
                ests.append(paired_diff(final, base))
        else:
            if v != "plain":
                labels.append(f"{v}\nminus plain")
                ests.append(paired_diff(final, plain))
    labels.append(f"BN ghost {BATCH}\nminus plain")
    ests.append(paired_diff(base, plain))
    error_bars(ax, np.arange(len(ests)), ests, "C3", None, fmt_="o")
    ax.axhline(0, color="k", lw=1)
    ax.set_xticks(range(len(ests)), labels, fontsize=7)
    ax.set(ylabel="difference in final test accuracy",
           title=f"paired differences, 95% CI ({len(seeds)} seeds)")
    ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d7_gap"),
                          f"Training on {N_TRAIN} images with {LABEL_NOISE:.0%} wrong labels: "
                          f"clean test accuracy during training (mean over {len(seeds)} "
                          f"seeds, 95% bands) and the paired differences at the end (95% "
                          f"CI). Ghost g: batch norm with statistics from groups of g inside "
                          f"the gradient batch of {BATCH}."))
    return figures
