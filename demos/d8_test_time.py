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
    get_state,
    hidden_with_batch_stats,
    make_mlp,
    new_figure,
    plot_band,
    predict,
    save_figure,
    seed_list,
    set_state,
    to_tensor,
    train_classifier,
)
from .parallel import Task, run_all
from .stats import ACCURACY_POINT, Verdict, mean_ci

SIZES = [64, 100, 100, 10]
UNITS = (0, 1)                  # units of the second batch-norm layer shown in the plot


def population_stats(model: Any, X: np.ndarray, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased variance, over all of X, of the input of batch-norm layer `layer`
    (earlier batch-norm layers normalise with the statistics of all of X too)."""
    _, us = hidden_with_batch_stats(model, X)
    u = us[layer - 1]
    return u.mean(0), u.var(0, ddof=1)           # numpy: ddof=1 is the unbiased estimate


def train_mode_logits(model: Any, X: np.ndarray) -> np.ndarray:
    """What a forgotten eval() computes: training-mode forward on the batch X (no gradient).
    The running statistics are updated, as they would be."""
    model.train()
    with mg.no_grad():
        return np.asarray(model(to_tensor(X)))


def running(model: Any, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """The running mean and variance of batch-norm layer `layer`, as numpy copies."""
    state = get_state(model)
    return state[f"bn{layer}.running_mean"], state[f"bn{layer}.running_var"]


def one_seed(seed: int, data_seed: int, steps: int, every: int, partners: int,
             examples: int) -> dict[str, Any]:
    """Train one batch-norm network (init and batches from `seed`) and measure everything
    test time is about: running vs population statistics, eval mode one at a time, train
    mode in small test batches, the partner effect, and a forgotten eval()."""
    Xtr, Xte, ytr, yte = digits_split(data_seed)
    model = make_mlp(SIZES, activation="relu", batchnorm=True, seed=seed)
    track: dict[str, list] = {"step": [], "run_mean": [], "run_var": [], "pop_mean": [],
                              "pop_var": []}

    def record(step: int) -> None:
        pm, pv = population_stats(model, Xtr, 2)
        rm, rv = running(model, 2)
        track["step"].append(step)
        track["run_mean"].append(rm)
        track["run_var"].append(rv)
        track["pop_mean"].append(pm)
        track["pop_var"].append(pv)

    train_classifier(model, Xtr, ytr, steps=steps, batch_size=64, lr=0.1, seed=seed + 1,
                     label="d8", every=every, callback=record)
    out: dict[str, Any] = {k: np.array(v) for k, v in track.items()}
    for layer in (1, 2):
        pm, pv = population_stats(model, Xtr, layer)
        rm, rv = running(model, layer)
        out[f"mean_err{layer}"] = np.abs(rm - pm) / np.sqrt(pv)
        out[f"var_err{layer}"] = np.abs(np.log(rv / pv))

    # eval mode: one example at a time equals the whole batch
    batch_logits = predict(model, Xte)
    single = np.concatenate([predict(model, Xte[i:i + 1]) for i in range(len(Xte))])
    out["n_test"] = len(Xte)
    out["acc_eval"] = float(np.mean(batch_logits.argmax(1) == yte))
    out["acc_single"] = float(np.mean(single.argmax(1) == yte))
    out["single_vs_batch"] = float(np.abs(single - batch_logits).max())

    # train mode at test time; the state is put back after each look
    saved = get_state(model)

    def restore() -> None:
        set_state(model, saved)
        model.eval()

    try:
        train_mode_logits(model, Xte[:1])
        out["batch1"] = "no error (unexpected)"
    except ValueError as err:
        out["batch1"] = f"ValueError: {err}"
    restore()
    rng = np.random.default_rng(seed + 3)
    perm = rng.permutation(len(Xte))
    for b in (2, 4, 16):
        preds = np.empty(len(Xte), dtype=int)
        for s in range(0, len(Xte) - len(Xte) % b, b):
            idx = perm[s:s + b]
            preds[idx] = train_mode_logits(model, Xte[idx]).argmax(1)
            restore()
        done = perm[:len(Xte) - len(Xte) % b]
        out[f"acc_train{b}"] = float(np.mean(preds[done] == yte[done]))
    # the same example with different partners (batches of 2)
    flips = []
    for i in rng.choice(len(Xte), examples, replace=False):
        others = rng.choice(np.delete(np.arange(len(Xte)), i), partners, replace=False)
        labels = {int(train_mode_logits(model, Xte[[i, j]]).argmax(1)[0]) for j in others}
        restore()
        flips.append(len(labels) > 1)
    out["partner_share"] = float(np.mean(flips))
    rm_before = saved["bn2.running_mean"]
    out["acc_forgot"] = float(np.mean(train_mode_logits(model, Xte).argmax(1) == yte))
    out["moved"] = float(np.abs(running(model, 2)[0] - rm_before).max()
                         / np.sqrt(saved["bn2.running_var"]).mean())
    restore()
    out["acc_restored"] = accuracy(model, Xte, yte)
    return out


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Running statistics vs the population; one example at a time; train mode at test time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = 300 if quick else 500
    every = 10 if quick else 25
    partners = 10 if quick else 12
    examples = 60 if quick else 80
    seeds = seed_list(seed, quick)
    res = run_all([Task(f"seed {s}: {steps} steps, then the test-time checks", one_seed,
                        (s, seed, steps, every, partners, examples)) for s in seeds],
                  "d8 seeds")

    def col(key: str) -> np.ndarray:
        return np.array([r[key] for r in res])

    numbers: dict[str, Any] = {}
    rows_stats = []
    for layer in (1, 2):
        me = np.array([r[f"mean_err{layer}"].mean() for r in res])
        mx = np.array([r[f"mean_err{layer}"].max() for r in res])
        ve = np.array([r[f"var_err{layer}"].mean() for r in res])
        vx = np.array([r[f"var_err{layer}"].max() for r in res])
        numbers[f"layer {layer}: mean |running mean - population mean| / population std"] = (
            mean_ci(me))
        numbers[f"layer {layer}: max |running mean - population mean| / population std"] = (
            mean_ci(mx))
        numbers[f"layer {layer}: mean |log(running var / population var)|"] = mean_ci(ve)
        numbers[f"layer {layer}: max |log(running var / population var)|"] = mean_ci(vx)
        rows_stats.append([layer, mean_ci(me), mean_ci(mx), mean_ci(ve), mean_ci(vx)])
    acc_eval = mean_ci(col("acc_eval"))
    numbers["eval mode: test accuracy (whole test set as one batch)"] = acc_eval
    numbers["eval mode: seeds where one at a time = whole batch (accuracy)"] = (
        f"{int(np.sum(col('acc_eval') == col('acc_single')))} of {len(seeds)}")
    numbers["eval mode: max |logits one at a time - logits in a batch|, worst seed"] = float(
        col("single_vs_batch").max())
    numbers["train mode, batch of 1"] = res[0]["batch1"]
    small = {b: mean_ci(col(f"acc_train{b}")) for b in (2, 4, 16)}
    for b, e in small.items():
        numbers[f"train mode, test batches of {b}: accuracy"] = e
    share = mean_ci(col("partner_share"))
    numbers["train mode, batches of 2: share of examples whose prediction depends on the "
            "partner"] = share
    acc_forgot = mean_ci(col("acc_forgot"))
    numbers["eval() forgotten, whole test set as one batch: accuracy"] = acc_forgot
    numbers["eval() forgotten: running mean moved by (max, in population stds)"] = mean_ci(
        col("moved"))
    numbers["after restoring: eval accuracy equals the eval accuracy, every seed"] = bool(
        np.all(col("acc_restored") == col("acc_eval")))
    verdicts = [
        Verdict.compare("Claim 6: at test time, batch statistics of a few examples are a poor "
                        "substitute for the running averages", "test accuracy, eval mode "
                        "minus train mode in batches of 2", col("acc_eval"), col("acc_train2"),
                        +1, seeds, meaningful=ACCURACY_POINT),
        Verdict.measure("Claim 6: in train mode a prediction depends on the other examples "
                        "in the batch", "share of test images whose predicted digit changes "
                        f"with the partner (batches of 2, {partners} partners each)",
                        col("partner_share"), +1, seeds, meaningful=ACCURACY_POINT),
    ]
    numbers["test accuracy, eval mode - train mode in batches of 2"] = verdicts[0].estimate
    numbers["seeds (one network each)"] = seeds

    figures = _plots(res, UNITS, small, acc_eval, acc_forgot, seeds, out_dir)
    err_mean = numbers["layer 2: mean |running mean - population mean| / population std"]
    err_var = numbers["layer 2: mean |log(running var / population var)|"]
    body = f"""
<p>In training mode a batch-norm layer normalises with the current mini-batch's mean and
variance and, on the side, keeps exponentially weighted averages of them (running_mean and
running_var; new = 0.9 x old + 0.1 x batch value, with the unbiased variance). In eval mode it
normalises with those averages instead, so each example's output depends on that example
alone.</p>
<p><b>Do the running averages estimate the population?</b> We trained a network
({'-'.join(map(str, SIZES))}, ReLU, batch norm after each hidden Linear) for {steps} steps on
{len(seeds)} seeds and, every {every} steps, compared the running statistics of the second
batch-norm layer with the true statistics of its input over the whole training set at the
current weights. At the end the running means are on average {err_mean} population standard
deviations from the true means, and the running variances on average a factor exp({err_var})
from the true variances (means and 95% CIs over the seeds). The plot shows the running averages
lag a little behind while the weights move (an average over the last ~10 steps).</p>
<p><b>One example at a time.</b> In eval mode predicting the {res[0]['n_test']}
test images one by one gives exactly the batch predictions (largest logit difference over all
seeds {numbers['eval mode: max |logits one at a time - logits in a batch|, worst seed']:.1e}),
test accuracy {acc_eval.pct()}.</p>
<p><b>What goes wrong without them.</b> In training mode a batch of one example cannot be
normalised (its variance is 0; minigrad raises: <code>{res[0]['batch1']}</code>). Batches of 2
can, but each example is then normalised with a two-point mean and variance: every unit becomes
+1 or -1 (times gamma, plus beta), and the test accuracy drops to {small[2].pct()} (batches of
4: {small[4].pct()}, of 16: {small[16].pct()}). {verdicts[0].sentence()} Worse, the prediction
for an example depends on which other example it is paired with: {verdicts[1].sentence()}
Forgetting eval() with the whole test set as one batch happens to give a similar accuracy
({acc_forgot.pct()}), but it silently moves the running statistics towards the test data (by
up to {numbers['eval() forgotten: running mean moved by (max, in population stds)']} standard
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
                       f"seeds {seeds}",
            "training": f"SGD, lr 0.1, batch 64, {steps} steps, shuffle seed = seed + 1",
            "population statistics": "mean and unbiased variance over the whole training set "
                                     "(earlier batch-norm layers normalised with the whole set)",
            "pairing": f"test order from seed + 3; {examples} test images, {partners} random "
                       "partners each",
            "quick": quick,
        },
        tables=[Table(f"Running statistics against the population at the end of training "
                      f"(mean [95% CI] over {len(seeds)} seeds)",
                      ["batch-norm layer", "mean |dmean| / std", "max |dmean| / std",
                       "mean |log var ratio|", "max |log var ratio|"], rows_stats),
                Table(f"Test accuracy by how the test examples are normalised (mean [95% CI] "
                      f"over {len(seeds)} seeds)", ["mode", "accuracy"],
                      [["eval (running statistics), any batch size", acc_eval],
                       ["train mode, batches of 1", "raises ValueError"],
                       *[[f"train mode, batches of {b}", a] for b, a in small.items()],
                       ["train mode, whole test set as one batch", acc_forgot]])],
        verdicts=verdicts,
        summary=(f"eval accuracy {acc_eval.pct()}; train mode in pairs {small[2].pct()} "
                 f"({verdicts[0].outcome}); running means within {err_mean} population std; "
                 "a batch of 1 raises"),
    )


def _plots(res: list[dict[str, Any]], units: tuple[int, int], small: dict[int, Any],
           acc_eval: Any, acc_forgot: Any, seeds: list[int], out_dir: Path) -> list[Figure]:
    figures = []
    fig, axes = new_figure(3, 1, width=4.6, height=3.8)
    tr = res[0]
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
    axes[0, 0].set(title=f"layer 2 mean, two units (seed {seeds[0]})", xlabel="SGD step",
                   ylabel="mean")
    axes[0, 1].set(title=f"layer 2 variance, two units (seed {seeds[0]})", xlabel="SGD step",
                   ylabel="variance", yscale="log")
    err = np.array([np.mean(np.abs(r["run_mean"] - r["pop_mean"]) / np.sqrt(r["pop_var"]),
                            axis=1) for r in res])
    plot_band(axes[0, 2], tr["step"], err, "C3", "all 100 units")
    axes[0, 2].set(title="|running mean - population mean| / std", xlabel="SGD step",
                   ylabel="mean over units", yscale="log")
    for ax in axes[0]:
        ax.title.set_fontsize(10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d8_running_stats"),
                          "Running averages kept during training (dashed) against the true "
                          "statistics over the whole training set at the same weights (solid), "
                          f"two units of one seed; right: the error over all units, mean over "
                          f"{len(seeds)} seeds with its 95% band."))

    fig, axes = new_figure(1, 1, width=6.0, height=3.6)
    ax = axes[0, 0]
    names = ["eval\n(running stats)"] + [f"train mode\nbatches of {b}" for b in small] + [
        "train mode\nwhole test set"]
    ests = [acc_eval, *small.values(), acc_forgot]
    colors = ["C2"] + ["C3"] * len(small) + ["C1"]
    vals = [e.value for e in ests]
    bars = ax.bar(range(len(vals)), vals, color=colors, alpha=0.8,
                  yerr=[[e.value - e.lo for e in ests], [e.hi - e.value for e in ests]],
                  capsize=4)
    ax.bar_label(bars, [f"{v:.1%}" for v in vals], fontsize=8, label_type="center")
    ax.set_xticks(range(len(vals)), names, fontsize=8)
    ax.set(ylabel="test accuracy", ylim=(0, 1.08),
           title=f"test accuracy by how test examples are normalised ({len(seeds)} seeds)")
    figures.append(Figure(save_figure(fig, out_dir, "d8_test_modes"),
                          "Eval mode uses the running statistics; training mode at test time "
                          "normalises each group of test examples with its own statistics "
                          f"(a batch of 1 raises an error). Mean over {len(seeds)} seeds with "
                          "95% confidence intervals."))
    return figures
