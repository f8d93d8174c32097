"""Demo 5 (claim 3): hidden layers see their inputs shift while earlier layers learn; batch
norm pins the mean and variance of each hidden unit's input.

After Ioffe and Szegedy (2015), figure 1: a network with 3 hidden layers of 100 sigmoid units,
weights drawn from a small Gaussian, trained with SGD on mini-batches of 60, with and without
batch norm before each sigmoid. Here on the 8x8 digits instead of MNIST. We record:

* test accuracy during training, over 3 seeds;
* the 15th, 50th and 85th percentiles of one unit's input to its sigmoid in the last hidden
  layer, over a fixed probe set, during training;
* a scatter of two units of z[2] (the second hidden layer's input to the sigmoid) at several
  steps, and the drift of their mean and variance;
* a learning-rate sweep: where the plain network struggles and the batch-norm one does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps

from .common import (
    Figure,
    Section,
    Table,
    accuracy,
    digits_split,
    hidden_with_batch_stats,
    make_mlp,
    new_figure,
    save_figure,
    smooth,
    train_classifier,
)

SIZES = [64, 100, 100, 100, 10]
INIT_STD = 0.1
BATCH = 60
UNIT = 0                      # the unit of the last hidden layer whose percentiles we follow
PAIR = (0, 1)                 # the two units of z[2] in the scatter


def train_and_probe(batchnorm: bool, X: np.ndarray, y: np.ndarray, Xte: np.ndarray,
                    yte: np.ndarray, steps: int, lr: float, seed: int, probe_every: int,
                    scatter_steps: list[int], detailed: bool) -> dict[str, Any]:
    """One training run; every `probe_every` steps record test accuracy and (if `detailed`)
    the inputs to the sigmoids on the probe set (the test set, normalised with its own batch
    statistics for the batch-norm network)."""
    model = make_mlp(SIZES, activation="sigmoid", batchnorm=batchnorm, seed=seed,
                     init_std=INIT_STD)
    rec: dict[str, Any] = {"step": [], "acc": [], "pct": [], "z_mean": [], "z_std": [],
                           "scatter": {}}

    def probe(step: int) -> None:
        rec["step"].append(step)
        rec["acc"].append(accuracy(model, Xte, yte))
        if not detailed and step not in scatter_steps:
            return
        zs, _ = hidden_with_batch_stats(model, Xte)
        last = zs[-1]
        rec["pct"].append(np.percentile(last[:, UNIT], [15, 50, 85]))
        rec["z_mean"].append(last.mean(0))
        rec["z_std"].append(last.std(0))
        if step in scatter_steps:
            rec["scatter"][step] = np.array(zs[1][:, list(PAIR)], copy=True)

    name = "BN" if batchnorm else "plain"
    hist = train_classifier(model, X, y, steps=steps, batch_size=BATCH, lr=lr, seed=seed + 100,
                            label=f"d5 {name}, lr {lr:g}, seed {seed}",
                            every=probe_every, callback=probe)
    rec["loss"] = hist["loss"]
    for k in ("pct", "z_mean", "z_std"):
        rec[k] = np.array(rec[k])
    return rec


def drift(rec: dict[str, Any], frm: int) -> tuple[float, float]:
    """Mean over the last hidden layer's units of |mean(end) - mean(frm)| and of
    |log(std(end) / std(frm))|, with frm an index into the probes."""
    m, s = rec["z_mean"], rec["z_std"]
    return (float(np.mean(np.abs(m[-1] - m[frm]))),
            float(np.mean(np.abs(np.log(s[-1] / s[frm])))))


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Plain vs batch-norm sigmoid networks on the digits: accuracy and hidden drift."""

    out_dir.mkdir(parents=True, exist_ok=True)
    Xtr, Xte, ytr, yte = digits_split(seed)
    steps = 300 if quick else 2000
    lr = 0.5
    probe_every = 20 if quick else 50
    seeds = [seed, seed + 1, seed + 2]
    # scatter at probe steps: the start, early, a little later, the end
    scatter_steps = sorted({0, probe_every, max(round(steps / 8 / probe_every), 2) * probe_every,
                            steps})
    sweep_lrs = [0.1, 0.5, 20.0] if quick else [0.1, 0.5, 2.0, 5.0, 20.0]
    sweep_steps = 150 if quick else 1000

    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "BN": []}
    for s in seeds:
        for name in ("plain", "BN"):
            runs[name].append(train_and_probe(name == "BN", Xtr, ytr, Xte, yte, steps, lr, s,
                                              probe_every, scatter_steps,
                                              detailed=(s == seeds[0])))
    sweep: dict[str, list[float]] = {"plain": [], "BN": []}
    for lr_s in sweep_lrs:
        for name in ("plain", "BN"):
            r = train_and_probe(name == "BN", Xtr, ytr, Xte, yte, sweep_steps, lr_s, seed,
                                sweep_steps, [], detailed=False)
            sweep[name].append(r["acc"][-1])

    numbers: dict[str, Any] = {}
    steps_axis = np.array(runs["plain"][0]["step"])
    early = int(np.searchsorted(steps_axis, steps // 5))   # the probe at 20% of training
    for name in ("plain", "BN"):
        accs = np.array([r["acc"] for r in runs[name]])
        losses = np.array([np.mean(r["loss"][-max(steps // 10, 1):]) for r in runs[name]])
        numbers[f"{name}: test accuracy at step {steps_axis[early]} (mean of 3 seeds)"] = float(
            accs[:, early].mean())
        numbers[f"{name}: test accuracy at step {steps} (mean of 3 seeds)"] = float(
            accs[:, -1].mean())
        numbers[f"{name}: test accuracy at step {steps}, min..max over seeds"] = (
            f"{accs[:, -1].min():.3f}..{accs[:, -1].max():.3f}")
        numbers[f"{name}: training loss, last 10% of steps (mean of 3 seeds)"] = float(
            losses.mean())
        first = np.argmax(accs >= 0.9, axis=1).astype(float)
        first[~(accs >= 0.9).any(axis=1)] = np.nan
        numbers[f"{name}: first probed step with test accuracy >= 90% (mean of 3 seeds)"] = (
            float(np.mean(steps_axis[first.astype(int)])) if not np.isnan(first).any()
            else "not reached by every seed")
    for name in ("plain", "BN"):
        rec = runs[name][0]
        dm, ds = drift(rec, 0)
        dm2, ds2 = drift(rec, len(rec["step"]) // 2)
        numbers[f"{name}: last hidden layer, mean |shift of unit mean|, whole run"] = dm
        numbers[f"{name}: last hidden layer, mean |log std ratio|, whole run"] = ds
        numbers[f"{name}: last hidden layer, mean |shift of unit mean|, second half"] = dm2
        numbers[f"{name}: last hidden layer, mean |log std ratio|, second half"] = ds2
        p = rec["pct"]
        numbers[f"{name}: unit {UNIT} 15/50/85th percentiles at start"] = [round(float(v), 3)
                                                                           for v in p[0]]
        numbers[f"{name}: unit {UNIT} 15/50/85th percentiles at end"] = [round(float(v), 3)
                                                                         for v in p[-1]]
    for i, lr_s in enumerate(sweep_lrs):
        for name in ("plain", "BN"):
            numbers[f"lr sweep: {name}, lr {lr_s:g}, test accuracy after {sweep_steps} steps"] = (
                sweep[name][i])

    scatter_rows = []
    for name in ("plain", "BN"):
        sc = runs[name][0]["scatter"]
        for st in scatter_steps:
            pts = sc[st]
            scatter_rows.append([name, st, *[float(v) for v in pts.mean(0)],
                                 *[float(v) for v in pts.var(0)]])
    for name in ("plain", "BN"):
        sc = runs[name][0]["scatter"]
        a, b = sc[scatter_steps[1]], sc[scatter_steps[-1]]
        numbers[f"{name}: z[2] pair, |mean change| from step {scatter_steps[1]} to {steps}"] = (
            float(np.abs(b.mean(0) - a.mean(0)).max()))
        numbers[f"{name}: z[2] pair, variance ratio from step {scatter_steps[1]} to {steps}"] = (
            [round(float(v), 3) for v in b.var(0) / a.var(0)])

    figures = _plots(runs, sweep, sweep_lrs, sweep_steps, scatter_steps, steps, lr, out_dir)
    tables = [
        Table(f"z[2] units {PAIR[0]} and {PAIR[1]} on the probe set (seed {seeds[0]})",
              ["network", "step", f"mean z[2]_{PAIR[0]}", f"mean z[2]_{PAIR[1]}",
               f"var z[2]_{PAIR[0]}", f"var z[2]_{PAIR[1]}"], scatter_rows),
        Table(f"Learning-rate sweep: test accuracy after {sweep_steps} steps (seed {seed})",
              ["learning rate", "plain", "batch norm"],
              [[lr_s, sweep["plain"][i], sweep["BN"][i]] for i, lr_s in enumerate(sweep_lrs)]),
    ]
    n = numbers
    acc_early = (n[f"plain: test accuracy at step {steps_axis[early]} (mean of 3 seeds)"],
                 n[f"BN: test accuracy at step {steps_axis[early]} (mean of 3 seeds)"])
    acc_end = (n[f"plain: test accuracy at step {steps} (mean of 3 seeds)"],
               n[f"BN: test accuracy at step {steps} (mean of 3 seeds)"])
    d_plain = n["plain: last hidden layer, mean |shift of unit mean|, second half"]
    d_bn = n["BN: last hidden layer, mean |shift of unit mean|, second half"]
    s_plain = n["plain: last hidden layer, mean |log std ratio|, second half"]
    s_bn = n["BN: last hidden layer, mean |log std ratio|, second half"]
    if d_bn < d_plain / 3 and s_bn < s_plain / 3:
        drift_text = ("Without batch norm its median and spread move a lot during training; with "
                      "batch norm they stay close to where beta and gamma put them.")
        repro_text = ("Without batch norm the cloud wanders and stretches; with it, it stays "
                      "centred with a steady spread. This reproduces the measurement of Ioffe "
                      "and Szegedy.")
    else:
        drift_text = ("Here the difference in drift between the two networks is smaller than "
                      "the claim suggests.")
        repro_text = ("Our measurement reproduces Ioffe and Szegedy's observation only "
                      "partly.")
    bad = [i for i, a in enumerate(sweep["plain"]) if a < 0.5 and sweep["BN"][i] > a + 0.3]
    if bad:
        which = ", ".join(f"{sweep_lrs[i]:g} ({sweep['plain'][i]:.0%} against "
                          f"{sweep['BN'][i]:.0%} with batch norm)" for i in bad)
        sweep_text = (f"The learning-rate sweep ({sweep_steps} steps) shows the second effect: "
                      f"the plain network stays below 50% test accuracy at learning rates "
                      f"{which}; too small a rate is slow for it, too large a rate breaks it, "
                      f"while batch norm works across the whole range.")
    else:
        sweep_text = ("In the learning-rate sweep neither network fails badly at any of the "
                      "rates we tried.")
    if acc_early[1] > acc_early[0] + 0.1:
        speed_text = "With batch norm the network learns much faster"
    elif acc_early[1] > acc_early[0]:
        speed_text = "With batch norm the network learns a little faster"
    else:
        speed_text = "Here batch norm did not make the network learn faster"
    body = f"""
<p>Claim 3 says that a hidden layer faces covariate shift too: while layers 1 and 2 learn, the
distribution of their outputs, the inputs of layer 3, keeps moving, and batch norm pins the
mean and variance of each unit's input (to 0 and 1, or to the beta and gamma it learns), so
later layers learn on firmer ground. Ioffe and Szegedy (2015, figure 1) showed this on MNIST
with a 3-hidden-layer sigmoid network; we repeat their set-up on the 8x8 digits (1347 training
and 450 test images, standardised pixels): 64-100-100-100-10, sigmoid, weights from
N(0, {INIT_STD}^2), SGD with mini-batches of {BATCH}, learning rate {lr}, with and without batch
norm before each sigmoid.</p>
<p><b>Speed.</b> {speed_text}: at step {steps_axis[early]}
the mean test accuracy over 3 seeds is {acc_early[1]:.1%} with batch norm and {acc_early[0]:.1%}
without; at step {steps} it is {acc_end[1]:.1%} and {acc_end[0]:.1%}. {sweep_text}</p>
<p><b>Hidden distributions.</b> The percentile plot follows the input to the sigmoid of unit
{UNIT} in the last hidden layer over the test images. {drift_text} Over the second half of
training the units of that layer moved their mean by {d_plain:.3f} on average without batch
norm and {d_bn:.3f} with it, and their standard deviation by a factor exp({s_plain:.3f})
against exp({s_bn:.3f}). The scatter shows a pair of units of the second layer, z[2], at several
steps (numbers in the table below). {repro_text} Whether this stability is <em>why</em> training
is faster is a separate question: demo 6 measures it the way Santurkar et al. (2018) did.</p>
"""
    return Section(
        key="d5",
        title="Hidden covariate shift (claim 3)",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "data": f"digits, 75/25 split (seed {seed}), standardised with the training "
                    "statistics; probe set = the 450 test images",
            "network": "64-100-100-100-10, sigmoid, Linear -> [BatchNorm1d] -> Sigmoid, "
                       f"weights N(0, {INIT_STD}^2), biases 0",
            "training": f"SGD, lr {lr}, batch {BATCH}, {steps} steps, seeds {seeds} (init), "
                        f"shuffle seed = init seed + 100",
            "probes": f"every {probe_every} steps; batch-norm network probed with the probe "
                      "set's own batch statistics (running statistics untouched)",
            "scatter steps": scatter_steps,
            "learning-rate sweep": f"lrs {sweep_lrs}, {sweep_steps} steps, seed {seed}",
            "quick": quick,
        },
        tables=tables,
        summary=(f"test accuracy at step {steps_axis[early]}: BN {acc_early[1]:.1%} vs plain "
                 f"{acc_early[0]:.1%}; last-layer mean drift (2nd half) BN {d_bn:.3f} vs plain "
                 f"{d_plain:.3f}"),
    )


def _plots(runs: dict[str, list[dict[str, Any]]], sweep: dict[str, list[float]],
           sweep_lrs: list[float], sweep_steps: int, scatter_steps: list[int], steps: int,
           lr: float, out_dir: Path) -> list[Figure]:
    figures = []
    colors = {"plain": "C0", "BN": "C3"}
    labels = {"plain": "without batch norm", "BN": "with batch norm"}

    fig, axes = new_figure(2, 1, width=5.4, height=3.9)
    for name in ("plain", "BN"):
        for k, r in enumerate(runs[name]):
            lab = labels[name] if k == 0 else None
            axes[0, 0].plot(r["step"], r["acc"], color=colors[name], alpha=0.8, label=lab)
            axes[0, 1].plot(smooth(r["loss"], max(steps // 50, 1)), color=colors[name],
                            alpha=0.8, label=lab)
    axes[0, 0].set(title=f"test accuracy (3 seeds each, lr {lr:g})", xlabel="SGD step",
                   ylabel="accuracy", ylim=(0, 1))
    axes[0, 1].set(title="training loss (moving average)", xlabel="SGD step",
                   ylabel="cross-entropy", yscale="log")
    for ax in axes[0]:
        ax.legend()
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d5_training_curves"),
                          "Training the same sigmoid network with and without batch norm "
                          "(after Ioffe and Szegedy's figure 1a); one line per seed."))

    fig, axes = new_figure(2, 1, width=5.2, height=3.8)
    ymin = min(runs[n][0]["pct"].min() for n in runs)
    ymax = max(runs[n][0]["pct"].max() for n in runs)
    for ax, name in zip(axes[0], ("plain", "BN")):
        r = runs[name][0]
        p = r["pct"]
        ax.fill_between(r["step"], p[:, 0], p[:, 2], color=colors[name], alpha=0.2,
                        label="15th to 85th percentile")
        for j, q in enumerate((15, 50, 85)):
            ax.plot(r["step"], p[:, j], color=colors[name], lw=2 if q == 50 else 1,
                    label=f"{q}th percentile")
        ax.set(title=f"{labels[name]}: input to sigmoid, last layer, unit {UNIT}",
               xlabel="SGD step", ylabel="pre-activation", ylim=(ymin - 0.3, ymax + 0.3))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d5_percentiles"),
                          "The distribution of one unit's input to its sigmoid over the test "
                          "images, during training (after Ioffe and Szegedy's figure 1b, c)."))

    fig, axes = new_figure(2, 1, width=5.0, height=4.6)
    cmap = colormaps["viridis"]
    for ax, name in zip(axes[0], ("plain", "BN")):
        sc = runs[name][0]["scatter"]
        for k, st in enumerate(scatter_steps):
            pts = sc[st]
            ax.scatter(pts[:, 0], pts[:, 1], s=5, alpha=0.45,
                       color=cmap(k / max(len(scatter_steps) - 1, 1)), label=f"step {st}")
            ax.plot(*pts.mean(0), marker="X", ms=11, mec="k",
                    color=cmap(k / max(len(scatter_steps) - 1, 1)))
        ax.set(title=f"{labels[name]}: z[2] unit {PAIR[0]} vs unit {PAIR[1]}",
               xlabel=f"z[2]_{PAIR[0]} (input to sigmoid)",
               ylabel=f"z[2]_{PAIR[1]} (input to sigmoid)")
        ax.legend(fontsize=8, markerscale=2)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d5_z2_scatter"),
                          "Two units of the second hidden layer's input to the sigmoid (z[2]) "
                          "over the test images at several steps (X: the mean)."))

    fig, axes = new_figure(1, 1, width=5.6, height=3.8)
    ax = axes[0, 0]
    for name in ("plain", "BN"):
        ax.plot(sweep_lrs, sweep[name], "o-", color=colors[name], label=labels[name])
    ax.set(xscale="log", xlabel="learning rate (log)", ylabel="test accuracy",
           title=f"test accuracy after {sweep_steps} steps vs learning rate", ylim=(0, 1))
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    figures.append(Figure(save_figure(fig, out_dir, "d5_lr_sweep"),
                          "Learning-rate sweep (one seed): batch norm keeps working at rates "
                          "where the plain network is slow or fails."))
    return figures
