"""Demo 8 (claim 6): test time is different.

In training, batch norm uses the statistics of the current mini-batch. At test time examples may
come one at a time, so the network needs other estimates of each unit's mean and variance:
exponentially weighted running averages kept during training (`running_mean`, `running_var`,
used in `eval()` mode). We check that the running averages track the true statistics of the
training population, that eval mode predicts one example at a time exactly as it predicts a
whole batch, and what goes wrong in training mode: a batch of 1 cannot be normalised, a batch of 2
gives noisy predictions that depend on the other example, and a forgotten `eval()` overwrites
the running statistics with test data.
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
    accuracy,
    digits_split,
    hidden_with_batch_stats,
    make_mlp,
    new_figure,
    predict,
    save_figure,
    to_tensor,
    train_classifier,
)

SIZES = [64, 100, 100, 10]
UNITS = (0, 1)                  # units of the second batch-norm layer shown in the plot


def population_stats(model: Any, X: np.ndarray, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased variance, over all of X, of the input of batch-norm layer `layer`
    (earlier batch-norm layers normalise with the statistics of all of X too)."""
    _, us = hidden_with_batch_stats(model, X)
    u = us[layer - 1]
    return u.mean(0), u.var(0, ddof=1)


def train_mode_logits(model: Any, X: np.ndarray) -> np.ndarray:
    """What a forgotten eval() computes: training-mode forward on the batch X (no gradient).
    The running statistics are updated, as they would be."""
    model.train()
    with mg.no_grad():
        return model(to_tensor(X)).data


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Running statistics vs the population; one example at a time; train mode at test time."""

    out_dir.mkdir(parents=True, exist_ok=True)
    Xtr, Xte, ytr, yte = digits_split(seed)
    steps = 300 if quick else 1500
    every = 10 if quick else 25
    model = make_mlp(SIZES, activation="relu", batchnorm=True, seed=seed)
    track: dict[str, list] = {"step": [], "run_mean": [], "run_var": [], "pop_mean": [],
                              "pop_var": []}

    def record(step: int) -> None:
        pm, pv = population_stats(model, Xtr, 2)
        track["step"].append(step)
        track["run_mean"].append(np.array(model.bn2.running_mean.data, copy=True))
        track["run_var"].append(np.array(model.bn2.running_var.data, copy=True))
        track["pop_mean"].append(pm)
        track["pop_var"].append(pv)

    train_classifier(model, Xtr, ytr, steps=steps, batch_size=64, lr=0.1, seed=seed + 1,
                     label="d8 BN network", every=every, callback=record)
    tr = {k: np.array(v) for k, v in track.items()}
    numbers: dict[str, Any] = {}
    rows_stats = []
    for layer in (1, 2):
        bn = getattr(model, f"bn{layer}")
        pm, pv = population_stats(model, Xtr, layer)
        rm, rv = bn.running_mean.data, bn.running_var.data
        mean_err = np.abs(rm - pm) / np.sqrt(pv)
        var_err = np.abs(np.log(rv / pv))
        numbers[f"layer {layer}: max |running mean - population mean| / population std"] = float(
            mean_err.max())
        numbers[f"layer {layer}: mean |running mean - population mean| / population std"] = (
            float(mean_err.mean()))
        numbers[f"layer {layer}: max |log(running var / population var)|"] = float(var_err.max())
        numbers[f"layer {layer}: mean |log(running var / population var)|"] = float(
            var_err.mean())
        rows_stats.append([layer, float(mean_err.mean()), float(mean_err.max()),
                           float(var_err.mean()), float(var_err.max())])

    # --- eval mode: one example at a time equals the whole batch
    batch_logits = predict(model, Xte)
    single = np.concatenate([predict(model, Xte[i:i + 1]) for i in range(len(Xte))])
    acc_eval = float(np.mean(np.asarray(batch_logits).argmax(1) == yte))
    numbers["eval mode: test accuracy (whole test set as one batch)"] = acc_eval
    numbers["eval mode: test accuracy (one example at a time)"] = float(
        np.mean(np.asarray(single).argmax(1) == yte))
    numbers["eval mode: max |logits one at a time - logits in a batch|"] = float(
        np.abs(single - batch_logits).max())

    # --- train mode at test time
    state = {k: np.array(getattr(model, f"bn{k}").running_mean.data, copy=True) for k in (1, 2)}
    state_var = {k: np.array(getattr(model, f"bn{k}").running_var.data, copy=True) for k in (1, 2)}
    counters = {k: np.array(getattr(model, f"bn{k}").num_batches_tracked, copy=True)
                for k in (1, 2)}

    def restore() -> None:
        for k in (1, 2):
            bn = getattr(model, f"bn{k}")
            bn.running_mean.data[...] = state[k]
            bn.running_var.data[...] = state_var[k]
            bn.num_batches_tracked[...] = counters[k]
        model.eval()

    try:
        train_mode_logits(model, Xte[:1])
        batch1 = "no error (unexpected)"
    except ValueError as err:
        batch1 = f"ValueError: {err}"
    restore()
    numbers["train mode, batch of 1"] = batch1

    rng = np.random.default_rng(seed + 3)
    perm = rng.permutation(len(Xte))
    results_small = {}
    for b in (2, 4, 16):
        preds = np.empty(len(Xte), dtype=int)
        for s in range(0, len(Xte) - len(Xte) % b, b):
            idx = perm[s:s + b]
            preds[idx] = train_mode_logits(model, Xte[idx]).argmax(1)
            restore()
        done = perm[:len(Xte) - len(Xte) % b]
        results_small[b] = float(np.mean(preds[done] == yte[done]))
        numbers[f"train mode, test batches of {b}: accuracy"] = results_small[b]
    # the same example with different partners (batches of 2)
    flips = []
    partners = 10 if quick else 20
    for i in range(60 if quick else 150):
        others = rng.choice(np.delete(np.arange(len(Xte)), i), partners, replace=False)
        labels = [int(train_mode_logits(model, Xte[[i, j]]).argmax(1)[0]) for j in others]
        restore()
        flips.append(len(set(labels)) > 1)
    numbers["train mode, batches of 2: share of examples whose prediction depends on the "
            "partner"] = float(np.mean(flips))
    logits_full = train_mode_logits(model, Xte)
    acc_full = float(np.mean(np.asarray(logits_full).argmax(1) == yte))
    moved = float(np.abs(model.bn2.running_mean.data - state[2]).max()
                  / np.sqrt(state_var[2]).mean())
    numbers["eval() forgotten, whole test set as one batch: accuracy"] = acc_full
    numbers["eval() forgotten: running mean moved by (max, in population stds)"] = moved
    restore()
    numbers["after restoring: eval accuracy"] = accuracy(model, Xte, yte)

    figures = _plots(tr, UNITS, results_small, acc_eval, acc_full, out_dir)
    err_mean = numbers["layer 2: mean |running mean - population mean| / population std"]
    err_var = numbers["layer 2: mean |log(running var / population var)|"]
    body = f"""
<p>In training mode a batch-norm layer normalises with the current mini-batch's mean and
variance and, on the side, keeps exponentially weighted averages of them (running_mean and
running_var; new = 0.9 x old + 0.1 x batch value, with the unbiased variance). In eval mode it
normalises with those averages instead, so each example's output depends on that example
alone.</p>
<p><b>Do the running averages estimate the population?</b> We trained a network
({'-'.join(map(str, SIZES))}, ReLU, batch norm after each hidden Linear) for {steps} steps and,
every {every} steps, compared the running statistics of the second batch-norm layer with the
true statistics of its input over the whole training set at the current weights. At the end
the running means are on average {err_mean:.3f} population standard deviations from the true
means, and the running variances on average a factor exp({err_var:.3f}) from the true
variances. The plot shows the running averages lag a little behind while the weights move
(an average over the last ~10 steps).</p>
<p><b>One example at a time.</b> In eval mode predicting the {len(Xte)} test images one by one
gives exactly the batch predictions (max logit difference
{numbers['eval mode: max |logits one at a time - logits in a batch|']:.1e}), test accuracy
{acc_eval:.1%}.</p>
<p><b>What goes wrong without them.</b> In training mode a batch of one example cannot be
normalised (its variance is 0; minigrad raises: <code>{batch1}</code>). Batches of 2 can, but each
example is then normalised with a two-point mean and variance: every unit becomes +1 or -1
(times gamma, plus beta), and the test accuracy drops to {results_small[2]:.1%} (batches of 4:
{results_small[4]:.1%}, of 16: {results_small[16]:.1%}). Worse, the prediction for an example
depends on which other example it is paired with: for
{numbers['train mode, batches of 2: share of examples whose prediction depends on the partner']:.0%}
of the examples we tried, changing the partner changed the predicted digit. Forgetting eval()
with the whole test set as one batch happens to give a similar accuracy ({acc_full:.1%}), but
it silently moves the running statistics towards the test data (by up to {moved:.2f} standard
deviations in one pass), which changes the model for every later prediction.</p>
"""
    return Section(
        key="d8",
        title="Test time (claim 6)",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "data": f"digits, 75/25 split (seed {seed}), standardised",
            "network": f"{SIZES}, ReLU, BatchNorm1d(momentum=0.1) after each hidden Linear, "
                       f"seed {seed}",
            "training": f"SGD, lr 0.1, batch 64, {steps} steps, shuffle seed {seed + 1}",
            "population statistics": "mean and unbiased variance over the whole training set "
                                     "(earlier batch-norm layers normalised with the whole set)",
            "pairing": f"test order from seed {seed + 3}; {partners} random partners per "
                       "example",
            "quick": quick,
        },
        tables=[Table("Running statistics against the population at the end of training",
                      ["batch-norm layer", "mean |dmean| / std", "max |dmean| / std",
                       "mean |log var ratio|", "max |log var ratio|"], rows_stats),
                Table("Test accuracy by how the test examples are normalised",
                      ["mode", "accuracy"],
                      [["eval (running statistics), any batch size", acc_eval],
                       ["train mode, batches of 1", "raises ValueError"],
                       *[[f"train mode, batches of {b}", a] for b, a in results_small.items()],
                       ["train mode, whole test set as one batch", acc_full]])],
        summary=(f"running statistics within {err_mean:.3f} std (mean) and exp({err_var:.3f}) "
                 f"(variance) of the population; eval accuracy {acc_eval:.1%}, train mode in "
                 f"pairs {results_small[2]:.1%}, batch of 1 raises"),
    )


def _plots(tr: dict[str, np.ndarray], units: tuple[int, int], small: dict[int, float],
           acc_eval: float, acc_full: float, out_dir: Path) -> list[Figure]:
    figures = []
    fig, axes = new_figure(2, 1, width=5.3, height=3.9)
    for k, u in enumerate(units):
        c = f"C{k}"
        axes[0, 0].plot(tr["step"], tr["pop_mean"][:, u], "-", color=c, lw=2, alpha=0.5,
                        label=f"unit {u}: population")
        axes[0, 0].plot(tr["step"], tr["run_mean"][:, u], "--", color=c,
                        label=f"unit {u}: running_mean")
        axes[0, 1].plot(tr["step"], tr["pop_var"][:, u], "-", color=c, lw=2, alpha=0.5,
                        label=f"unit {u}: population")
        axes[0, 1].plot(tr["step"], tr["run_var"][:, u], "--", color=c,
                        label=f"unit {u}: running_var")
    axes[0, 0].set(title="mean of the input to batch-norm layer 2", xlabel="SGD step",
                   ylabel="mean")
    axes[0, 1].set(title="variance of the input to batch-norm layer 2", xlabel="SGD step",
                   ylabel="variance", yscale="log")
    for ax in axes[0]:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d8_running_stats"),
                          "Running averages kept during training (dashed) against the true "
                          "statistics over the whole training set at the same weights (solid)."))

    fig, axes = new_figure(1, 1, width=6.0, height=3.6)
    ax = axes[0, 0]
    names = ["eval\n(running stats)"] + [f"train mode\nbatches of {b}" for b in small] + [
        "train mode\nwhole test set"]
    vals = [acc_eval, *small.values(), acc_full]
    bars = ax.bar(range(len(vals)), vals, color=["C2"] + ["C3"] * len(small) + ["C1"])
    ax.bar_label(bars, [f"{v:.1%}" for v in vals], fontsize=8)
    ax.set_xticks(range(len(vals)), names, fontsize=8)
    ax.set(ylabel="test accuracy", ylim=(0, 1.08),
           title="test accuracy by how test examples are normalised")
    figures.append(Figure(save_figure(fig, out_dir, "d8_test_modes"),
                          "Eval mode uses the running statistics; training mode at test time "
                          "normalises each group of test examples with its own statistics "
                          "(a batch of 1 raises an error)."))
    return figures
