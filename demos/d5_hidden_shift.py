"""Demo 5 (claim 3): hidden layers see their inputs shift while earlier layers learn; batch
norm pins the mean and variance of each hidden unit's input.

After Ioffe and Szegedy (2015), figure 1: a network with 3 hidden layers of 100 sigmoid units,
weights drawn from a small Gaussian, trained with SGD on mini-batches of 60, with and without
batch norm before each sigmoid. Here on the 8x8 digits instead of MNIST.

* A learning-rate sweep picks each network's own best rate (lowest training loss after a short
  run, on seeds of its own); both networks are then trained on 10 paired seeds at their best
  rates, and again at one fixed rate for both (the second panel).
* Test accuracy during training, and the step at which it first reaches 90%, with intervals.
* The inputs to the sigmoids of the last hidden layer on the test images during training: the
  batch-norm network is probed in eval mode (with its running statistics), so its mean and
  variance are measured, not pinned by construction. Percentiles of one unit (figure 1b, c),
  a scatter of two units of z[2], and the drift of every unit's mean and spread.
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
    error_bars,
    hidden_in_eval_mode,
    make_mlp,
    new_figure,
    plot_band,
    save_figure,
    seed_list,
    smooth,
    train_classifier,
)
from .parallel import Task, run_all
from .stats import RATIO_FACTOR, Verdict, mean_ci, paired_diff

SIZES = [64, 100, 100, 100, 10]
INIT_STD = 0.1
BATCH = 60
FIXED_LR = 0.5
TARGET_ACC = 0.9
UNIT = 0                      # the unit of the last hidden layer whose percentiles we follow
PAIR = (0, 1)                 # the two units of z[2] in the scatter
NAMES = {"plain": "without batch norm", "BN": "with batch norm"}
COLORS = {"plain": "C0", "BN": "C3"}


def train_run(batchnorm: bool, lr: float, steps: int, seed: int, probe_every: int,
              data_seed: int, scatter_steps: tuple[int, ...] = (),
              detailed: bool = True) -> dict[str, Any]:
    """One training run (initial weights from `seed`, batches from `seed` + 100); every
    `probe_every` steps the test accuracy and, if `detailed`, the inputs to the last hidden
    layer's sigmoids over the test images in eval mode (batch norm with its running
    statistics): one unit's 15/50/85th percentiles and every unit's mean and std."""
    Xtr, Xte, ytr, yte = digits_split(data_seed)
    model = make_mlp(SIZES, activation="sigmoid", batchnorm=batchnorm, seed=seed,
                     init_std=INIT_STD)
    rec: dict[str, Any] = {"step": [], "acc": [], "pct": [], "z_mean": [], "z_std": [],
                           "scatter": {}}

    def probe(step: int) -> None:
        rec["step"].append(step)
        if not detailed and step not in scatter_steps:
            rec["acc"].append(accuracy(model, Xte, yte))
            return
        logits, zs, _ = hidden_in_eval_mode(model, Xte)
        rec["acc"].append(float(np.mean(logits.argmax(1) == yte)))
        last = zs[-1]
        rec["pct"].append(np.percentile(last[:, UNIT], [15, 50, 85]))
        rec["z_mean"].append(last.mean(0))
        rec["z_std"].append(last.std(0))
        if step in scatter_steps:
            rec["scatter"][step] = np.array(zs[1][:, list(PAIR)], copy=True)

    hist = train_classifier(model, Xtr, ytr, steps=steps, batch_size=BATCH, lr=lr,
                            seed=seed + 100, label="d5", every=probe_every, callback=probe)
    rec["loss"] = np.asarray(hist["loss"], dtype=float)
    for k in ("step", "acc", "pct", "z_mean", "z_std"):
        rec[k] = np.array(rec[k])
    return rec


def drift(rec: dict[str, Any]) -> tuple[float, float]:
    """Over the second half of training, the mean over the last hidden layer's units of
    |mean(end) - mean(middle)| and of |log(std(end) / std(middle))|."""
    m, s = rec["z_mean"], rec["z_std"]
    mid = len(m) // 2
    return (float(np.mean(np.abs(m[-1] - m[mid]))),
            float(np.mean(np.abs(np.log(s[-1] / s[mid])))))


def steps_to(rec: dict[str, Any], target: float, censor: int) -> tuple[float, bool]:
    """The first probed step with test accuracy >= target, or `censor` (and False) if the run
    never got there."""
    hit = np.flatnonzero(rec["acc"] >= target)
    return (float(rec["step"][hit[0]]), True) if hit.size else (float(censor), False)


def final_loss(rec: dict[str, Any]) -> float:
    """Mean training loss over the last 10% of the steps (inf if the run diverged)."""
    loss = rec["loss"]
    tail = loss[-max(len(loss) // 10, 1):]
    return float(np.mean(tail)) if np.all(np.isfinite(tail)) else float("inf")


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Plain vs batch-norm sigmoid networks on the digits: speed at each one's best rate and
    at one fixed rate, and the drift of the hidden distributions."""
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = 300 if quick else 500
    probe_every = 20 if quick else 25
    seeds = seed_list(seed, quick)
    sweep_seeds = seed_list(seed + 500, quick)
    sweep_lrs = [0.1, 1.0, 10.0] if quick else [0.1, 0.3, 1.0, 3.0, 10.0]
    sweep_steps = 100
    # scatter at probe steps: the start, early, a little later, the end
    scatter_steps = tuple(sorted({0, probe_every,
                                  max(round(steps / 8 / probe_every), 2) * probe_every,
                                  steps}))

    # 1. the sweep: each network's best rate, on seeds of its own
    tasks = [Task(f"sweep {name}, lr {lr:g}, seed {s}, {sweep_steps} steps", train_run,
                  (name == "BN", lr, sweep_steps, s, sweep_steps, seed, (), False),
                  cost=2.0 if name == "BN" else 1.0)
             for name in ("plain", "BN") for lr in sweep_lrs for s in sweep_seeds]
    out = iter(run_all(tasks, "d5 sweep"))
    sweep = {name: {lr: [next(out) for _ in sweep_seeds] for lr in sweep_lrs}
             for name in ("plain", "BN")}
    sweep_loss = {name: [np.array([final_loss(r) for r in sweep[name][lr]])
                         for lr in sweep_lrs] for name in sweep}
    best_lr = {}
    for name in sweep:
        means = [float(np.mean(v)) if np.all(np.isfinite(v)) else float("inf")
                 for v in sweep_loss[name]]
        best_lr[name] = sweep_lrs[int(np.argmin(means))]

    # 2. the main runs: both networks at their best rates and at the fixed rate
    settings_run = sorted({(name, best_lr[name]) for name in best_lr}
                          | {(name, FIXED_LR) for name in best_lr})
    tasks = [Task(f"{name}, lr {lr:g}, seed {s}, {steps} steps", train_run,
                  (name == "BN", lr, steps, s, probe_every, seed,
                   scatter_steps if s == seeds[0] else (), True),
                  cost=2.0 if name == "BN" else 1.0)
             for name, lr in settings_run for s in seeds]
    out = iter(run_all(tasks, "d5 train"))
    runs = {key: [next(out) for _ in seeds] for key in settings_run}

    steps_axis = runs[settings_run[0]][0]["step"]
    early = int(np.searchsorted(steps_axis, steps // 5))     # the probe at 20% of training
    numbers: dict[str, Any] = {}
    rows = []
    to90: dict[tuple[str, float], np.ndarray] = {}
    for key in settings_run:
        name, lr = key
        accs = np.array([r["acc"] for r in runs[key]])
        reach = [steps_to(r, TARGET_ACC, steps + probe_every) for r in runs[key]]
        to90[key] = np.array([s for s, _ in reach])
        missed = sum(not ok for _, ok in reach)
        tag = f"{name}, lr {lr:g}"
        est_early = mean_ci(accs[:, early])
        est_end = mean_ci(accs[:, -1])
        est_90 = mean_ci(to90[key])
        est_loss = mean_ci([final_loss(r) for r in runs[key]])
        numbers[f"{tag}: test accuracy at step {steps_axis[early]}"] = est_early
        numbers[f"{tag}: test accuracy at step {steps}"] = est_end
        numbers[f"{tag}: first probed step with test accuracy >= 90%"] = est_90
        numbers[f"{tag}: seeds that never reached 90% (counted as {steps + probe_every})"] = (
            missed)
        numbers[f"{tag}: training loss, last 10% of steps"] = est_loss
        rows.append([NAMES[name], lr, "best" if lr == best_lr[name] else "fixed",
                     est_early, est_end, est_90, missed, est_loss])
    for name in ("plain", "BN"):
        numbers[f"{name}: best learning rate from the sweep"] = best_lr[name]

    fixed = {name: runs[(name, FIXED_LR)] for name in ("plain", "BN")}
    best = {name: runs[(name, best_lr[name])] for name in ("plain", "BN")}
    d_mean = {n: np.array([drift(r)[0] for r in fixed[n]]) for n in fixed}
    d_std = {n: np.array([drift(r)[1] for r in fixed[n]]) for n in fixed}
    for name in ("plain", "BN"):
        numbers[f"{name}, lr {FIXED_LR:g}: last hidden layer, mean |shift of unit mean|, "
                "second half"] = mean_ci(d_mean[name])
        numbers[f"{name}, lr {FIXED_LR:g}: last hidden layer, mean |log std ratio|, "
                "second half"] = mean_ci(d_std[name])
        p = fixed[name][0]["pct"]
        numbers[f"{name}, lr {FIXED_LR:g}, seed {seeds[0]}: unit {UNIT} 15/50/85th "
                "percentiles at start"] = [round(float(v), 3) for v in p[0]]
        numbers[f"{name}, lr {FIXED_LR:g}, seed {seeds[0]}: unit {UNIT} 15/50/85th "
                "percentiles at end"] = [round(float(v), 3) for v in p[-1]]
    verdicts = [
        Verdict.compare("Claim 3: batch norm speeds up learning (each network at its own best "
                        "rate)", "steps to 90% test accuracy, plain minus batch norm",
                        to90[("plain", best_lr["plain"])], to90[("BN", best_lr["BN"])], +1,
                        seeds, meaningful=probe_every),
        Verdict.compare(f"Claim 3: batch norm speeds up learning (both at lr {FIXED_LR:g})",
                        "steps to 90% test accuracy, plain minus batch norm",
                        to90[("plain", FIXED_LR)], to90[("BN", FIXED_LR)], +1, seeds,
                        meaningful=probe_every),
        Verdict.compare("Claim 3 (Ioffe and Szegedy, figure 1): with batch norm a hidden "
                        "unit's input distribution moves less while the network learns",
                        f"second-half drift of the last hidden layer's unit means, batch norm "
                        f"/ plain (lr {FIXED_LR:g}, eval-mode probe)", d_mean["BN"],
                        d_mean["plain"], -1, seeds, ratio=True, meaningful=RATIO_FACTOR),
        Verdict.compare("... and its spread moves less",
                        f"second-half drift of the unit standard deviations (|log ratio|), "
                        f"batch norm / plain (lr {FIXED_LR:g})", d_std["BN"], d_std["plain"],
                        -1, seeds, ratio=True, meaningful=RATIO_FACTOR),
    ]
    speed_best, speed_fixed, ratio_mean, ratio_std = (v.estimate for v in verdicts)
    acc_best = paired_diff(np.array([r["acc"][early] for r in best["BN"]]),
                           np.array([r["acc"][early] for r in best["plain"]]))
    numbers["steps to 90%, plain - BN, each at its best rate"] = speed_best
    numbers[f"steps to 90%, plain - BN, both at lr {FIXED_LR:g}"] = speed_fixed
    numbers[f"test accuracy at step {steps_axis[early]}, BN - plain, each at its best rate"] = (
        acc_best)
    numbers["second-half drift of unit means, BN / plain (eval-mode probe)"] = ratio_mean
    numbers["second-half drift of unit stds, BN / plain (eval-mode probe)"] = ratio_std
    numbers["seeds (paired: the same seed gives both networks their start and batches)"] = seeds
    numbers["sweep seeds (only to choose the rates)"] = sweep_seeds

    scatter_rows = []
    for name in ("plain", "BN"):
        sc = fixed[name][0]["scatter"]
        for st in scatter_steps:
            pts = sc[st]
            scatter_rows.append([name, st, *[float(v) for v in pts.mean(0)],
                                 *[float(v) for v in pts.var(0)]])
    sweep_rows = []
    for i, lr in enumerate(sweep_lrs):
        row: list[Any] = [lr]
        for name in ("plain", "BN"):
            v = sweep_loss[name][i]
            row.append(mean_ci(v) if np.all(np.isfinite(v)) else "diverged")
            row.append(mean_ci([r["acc"][-1] for r in sweep[name][lr]]))
        sweep_rows.append(row)
    figures = _plots(runs, best_lr, sweep_loss, sweep, sweep_lrs, sweep_steps, scatter_steps,
                     seeds, steps, out_dir)
    tables = [
        Table(f"Training at each network's best rate and at lr {FIXED_LR:g} (mean [95% CI] "
              f"over {len(seeds)} paired seeds)",
              ["network", "lr", "rate", f"test acc at step {steps_axis[early]}",
               f"test acc at step {steps}", "steps to 90% test acc", "seeds missing 90%",
               "training loss (last 10%)"], rows),
        Table(f"Learning-rate sweep: {sweep_steps} steps, {len(sweep_seeds)} seeds "
              f"({sweep_seeds[0]}..{sweep_seeds[-1]}); the best rate has the lowest training "
              "loss", ["learning rate", "plain: training loss", "plain: test acc",
                       "BN: training loss", "BN: test acc"], sweep_rows),
        Table(f"z[2] units {PAIR[0]} and {PAIR[1]} on the test images (seed {seeds[0]}, "
              f"lr {FIXED_LR:g}, eval mode)",
              ["network", "step", f"mean z[2]_{PAIR[0]}", f"mean z[2]_{PAIR[1]}",
               f"var z[2]_{PAIR[0]}", f"var z[2]_{PAIR[1]}"], scatter_rows),
    ]
    n = numbers
    body = f"""
<p>Claim 3 says that a hidden layer faces covariate shift too: while layers 1 and 2 learn, the
distribution of their outputs, the inputs of layer 3, keeps moving, and batch norm pins the
mean and variance of each unit's input (to 0 and 1, or to the beta and gamma it learns), so
later layers learn on firmer ground. Ioffe and Szegedy (2015, figure 1) showed this on MNIST
with a 3-hidden-layer sigmoid network; we repeat their set-up on the 8x8 digits (1347 training
and 450 test images, standardised pixels): 64-100-100-100-10, sigmoid, weights from
N(0, {INIT_STD}^2), SGD with mini-batches of {BATCH}, with and without batch norm before each
sigmoid. Every comparison is over {len(seeds)} paired seeds: at a seed both networks start
from the same weights (batch norm's own parameters aside) and see the same mini-batches.</p>
<p><b>A fair rate for each.</b> One learning rate rarely suits both networks, so a sweep
({', '.join(f'{lr:g}' for lr in sweep_lrs)}; {sweep_steps} steps, on {len(sweep_seeds)}
seeds of its own, so that the choice does not peek at the comparison) picks each network's
best rate by its training loss: {best_lr['plain']:g} without batch norm and
{best_lr['BN']:g} with it. The fixed-rate panel keeps both at {FIXED_LR:g}.</p>
<p><b>Speed.</b> At their best rates, the plain network needs
{n[f"plain, lr {best_lr['plain']:g}: first probed step with test accuracy >= 90%"]} steps to
reach 90% test accuracy and the batch-norm network
{n[f"BN, lr {best_lr['BN']:g}: first probed step with test accuracy >= 90%"]} (means and 95%
CIs; probes every {probe_every} steps). {verdicts[0].sentence()} At the same rate
{FIXED_LR:g}: {verdicts[1].sentence()}</p>
<p><b>Hidden distributions.</b> The batch-norm network is probed in eval mode, with its running
statistics: in training mode every probe would normalise the test images with their own mean
and variance, and the measured mean and variance would be pinned by construction. The
percentile plot follows the input to the sigmoid of unit {UNIT} in the last hidden layer over
the test images (seed {seeds[0]}); the band plot next to it measures all 100 units on every
seed. Over the second half of training (lr {FIXED_LR:g}) the units' means moved by
{n[f"plain, lr {FIXED_LR:g}: last hidden layer, mean |shift of unit mean|, second half"]}
on average without batch norm and
{n[f"BN, lr {FIXED_LR:g}: last hidden layer, mean |shift of unit mean|, second half"]} with
it. {verdicts[2].sentence()} {verdicts[3].sentence()} The scatter shows a pair of units of
the second layer, z[2], at several steps (numbers in the table below). Whether this stability
is <em>why</em> training is faster is a separate question: demo 6 measures it the way Santurkar
et al. (2018) did.</p>
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
            "training": f"SGD, batch {BATCH}, {steps} steps, seeds {seeds} (init), shuffle "
                        "seed = init seed + 100; rates: best from the sweep and "
                        f"{FIXED_LR:g}",
            "probes": f"every {probe_every} steps, in eval mode (batch norm with its running "
                      "statistics)",
            "scatter steps": list(scatter_steps),
            "learning-rate sweep": f"lrs {sweep_lrs}, {sweep_steps} steps, seeds "
                                   f"{sweep_seeds}; best = lowest mean training loss over "
                                   "the last 10% of steps",
            "quick": quick,
        },
        tables=tables,
        verdicts=verdicts,
        summary=(f"steps to 90% test accuracy, plain - BN at their best rates: {speed_best} "
                 f"({verdicts[0].outcome}); hidden drift BN / plain {ratio_mean} "
                 f"({verdicts[2].outcome})"),
    )


def _plots(runs: dict[tuple[str, float], list[dict[str, Any]]], best_lr: dict[str, float],
           sweep_loss: dict[str, list[np.ndarray]], sweep: dict[str, Any],
           sweep_lrs: list[float], sweep_steps: int, scatter_steps: tuple[int, ...],
           seeds: list[int], steps: int, out_dir: Path) -> list[Figure]:
    figures = []
    fig, axes = new_figure(2, 2, width=5.4, height=3.6)
    for row, which in enumerate(("best", "fixed")):
        for name in ("plain", "BN"):
            lr = best_lr[name] if which == "best" else FIXED_LR
            rs = runs[(name, lr)]
            plot_band(axes[row, 0], rs[0]["step"], np.array([r["acc"] for r in rs]),
                      COLORS[name], f"{NAMES[name]}, lr {lr:g}")
            plot_band(axes[row, 1], np.arange(1, steps + 1),
                      np.array([smooth(r["loss"], max(steps // 50, 1)) for r in rs]),
                      COLORS[name], f"{NAMES[name]}, lr {lr:g}")
        title = "each at its best rate" if which == "best" else f"both at lr {FIXED_LR:g}"
        axes[row, 0].axhline(TARGET_ACC, color="k", ls=":", lw=1)
        axes[row, 0].set(title=f"test accuracy, {title}", xlabel="SGD step",
                         ylabel="accuracy", ylim=(0, 1))
        axes[row, 1].set(title=f"training loss (moving average), {title}", xlabel="SGD step",
                         ylabel="cross-entropy", yscale="log")
        for ax in axes[row]:
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d5_training_curves"),
                          f"Training the same sigmoid network with and without batch norm "
                          f"(after Ioffe and Szegedy's figure 1a): mean over {len(seeds)} "
                          f"paired seeds with 95% confidence bands; top, each network at its "
                          f"best rate from the sweep; bottom, both at {FIXED_LR:g}. Dotted: "
                          f"90%."))

    fixed = {name: runs[(name, FIXED_LR)] for name in ("plain", "BN")}
    fig, axes = new_figure(3, 1, width=4.6, height=3.7)
    ymin = min(fixed[n][0]["pct"].min() for n in fixed)
    ymax = max(fixed[n][0]["pct"].max() for n in fixed)
    for ax, name in zip(axes[0], ("plain", "BN")):
        r = fixed[name][0]
        p = r["pct"]
        ax.fill_between(r["step"], p[:, 0], p[:, 2], color=COLORS[name], alpha=0.2,
                        label="15th to 85th percentile")
        for j, q in enumerate((15, 50, 85)):
            ax.plot(r["step"], p[:, j], color=COLORS[name], lw=2 if q == 50 else 1,
                    label=f"{q}th percentile")
        ax.set(title=f"{NAMES[name]}: unit {UNIT} (seed {seeds[0]})", xlabel="SGD step",
               ylabel="input to sigmoid, last layer", ylim=(ymin - 0.3, ymax + 0.3))
        ax.title.set_fontsize(10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    ax = axes[0, 2]
    for name in ("plain", "BN"):
        rs = fixed[name]
        moves = np.array([np.mean(np.abs(np.diff(r["z_mean"], axis=0)), axis=1) for r in rs])
        plot_band(ax, rs[0]["step"][1:], moves, COLORS[name], NAMES[name])
    ax.set(title="how far unit means move per probe", xlabel="SGD step",
           ylabel="mean over units of |change of mean|", yscale="log")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    figures.append(Figure(save_figure(fig, out_dir, "d5_percentiles"),
                          f"Left and middle: the distribution of one unit's input to its sigmoid "
                          f"over the test images during training, one seed (after Ioffe and "
                          f"Szegedy's figure 1b, c); batch norm probed in eval mode. Right: for "
                          f"all 100 units of the last hidden layer, how far their means move "
                          f"between probes, mean over {len(seeds)} seeds with 95% bands "
                          f"(lr {FIXED_LR:g})."))

    fig, axes = new_figure(2, 1, width=5.0, height=4.6)
    cmap = colormaps["viridis"]
    for ax, name in zip(axes[0], ("plain", "BN")):
        sc = fixed[name][0]["scatter"]
        for k, st in enumerate(scatter_steps):
            pts = sc[st]
            c = cmap(k / max(len(scatter_steps) - 1, 1))
            ax.scatter(pts[:, 0], pts[:, 1], s=5, alpha=0.45, color=c, label=f"step {st}")
            ax.plot(*pts.mean(0), marker="X", ms=11, mec="k", color=c)
        ax.set(title=f"{NAMES[name]}: z[2] unit {PAIR[0]} vs unit {PAIR[1]}",
               xlabel=f"z[2]_{PAIR[0]} (input to sigmoid)",
               ylabel=f"z[2]_{PAIR[1]} (input to sigmoid)")
        ax.legend(fontsize=8, markerscale=2)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d5_z2_scatter"),
                          f"Two units of the second hidden layer's input to the sigmoid (z[2]) "
                          f"over the test images at several steps (X: the mean), seed "
                          f"{seeds[0]}, lr {FIXED_LR:g}, eval mode."))

    fig, axes = new_figure(2, 1, width=5.0, height=3.8)
    for name in ("plain", "BN"):
        ok = [i for i, v in enumerate(sweep_loss[name]) if np.all(np.isfinite(v))]
        error_bars(axes[0, 0], [sweep_lrs[i] for i in ok],
                   [mean_ci(sweep_loss[name][i]) for i in ok], COLORS[name], NAMES[name])
        error_bars(axes[0, 1], sweep_lrs,
                   [mean_ci([r["acc"][-1] for r in sweep[name][lr]]) for lr in sweep_lrs],
                   COLORS[name], NAMES[name])
        axes[0, 0].axvline(best_lr[name], color=COLORS[name], ls=":", lw=1)
    n_sweep = len(next(iter(sweep["plain"].values())))
    axes[0, 0].set(xscale="log", yscale="log", xlabel="learning rate (log)",
                   ylabel="training loss, last 10% of steps",
                   title=f"sweep: training loss after {sweep_steps} steps")
    axes[0, 1].set(xscale="log", xlabel="learning rate (log)", ylabel="test accuracy",
                   title=f"sweep: test accuracy after {sweep_steps} steps", ylim=(0, 1))
    for ax in axes[0]:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    figures.append(Figure(save_figure(fig, out_dir, "d5_lr_sweep"),
                          f"The learning-rate sweep: mean and 95% CI over {n_sweep} seeds of "
                          "its own; dotted lines mark each network's best rate (a missing "
                          "point: the training loss diverged on some seed)."))
    return figures
