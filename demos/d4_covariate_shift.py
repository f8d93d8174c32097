"""Demo 4 (claim 2): covariate shift.

Two regions of a 2-D input space share one true rule (label 1 inside a circle of radius 2).
A small network trained on points from one region learns a boundary that fits there and
extrapolates badly to the other region, although the rule did not change: only the input
distribution moved. A network trained on both regions learns the circle in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    Figure,
    Section,
    Table,
    accuracy,
    error_bars,
    make_mlp,
    new_figure,
    predict,
    save_figure,
    seed_list,
    train_classifier,
)
from .parallel import Task, run_all
from .stats import ACCURACY_POINT, Verdict, mean_ci


def _fit(X: np.ndarray, y: np.ndarray, steps: int, seed: int) -> Any:
    model = make_mlp([2, 32, 32, 2], activation="tanh", seed=seed)
    train_classifier(model, X, y, steps=steps, batch_size=32, lr=0.1, momentum=0.9,
                     seed=seed + 1, label="d4")
    return model


def one_seed(seed: int, n: int, steps: int, with_grid: bool) -> dict[str, Any]:
    """Data from `seed`: a model trained on region A only and one trained on both regions
    (same initial weights, same number of steps), their accuracies, and (for the picture)
    their predicted probabilities on a grid."""
    from minigrad.data import make_covariate_shift

    data = make_covariate_shift(n_train=n, n_test=n, seed=seed)
    # fresh draws from the same two distributions, for held-out accuracy and for the
    # model that sees both regions
    held = make_covariate_shift(n_train=n, n_test=n, seed=seed + 1000)
    both = make_covariate_shift(n_train=n, n_test=n, seed=seed + 2000)
    X_both = np.concatenate([both.X_train, both.X_test])
    y_both = np.concatenate([both.y_train, both.y_test])
    out: dict[str, Any] = {"data": data if with_grid else None,
                           "label 1 share": (float(np.mean(data.y_train)),
                                             float(np.mean(data.y_test)))}
    for name, (X, y) in (("A", (data.X_train, data.y_train)), ("AB", (X_both, y_both))):
        model = _fit(X, y, steps, seed)
        out[name] = {"train": accuracy(model, X, y),
                     "new A": accuracy(model, held.X_train, held.y_train),
                     "B": accuracy(model, data.X_test, data.y_test)}
        if with_grid:
            logits = predict(model, GRID)
            out[name]["p1"] = np.exp(logits[:, 1] - np.logaddexp(logits[:, 0], logits[:, 1]))
    return out


_G = np.linspace(-5.0, 4.5, 181)
GRID = np.column_stack([np.meshgrid(_G, _G)[0].ravel(), np.meshgrid(_G, _G)[1].ravel()])


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Train on one region, test on both; compare with a model trained on both."""
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 200 if quick else 400
    steps = 400 if quick else 700
    seeds = seed_list(seed, quick)
    res = run_all([Task(f"seed {s}: region A only and A + B, {steps} steps each", one_seed,
                        (s, n, steps, s == seeds[0])) for s in seeds], "d4 fit")

    def col(model: str, where: str) -> np.ndarray:
        return np.array([r[model][where] for r in res])

    numbers: dict[str, Any] = {}
    rows = []
    for name, key in (("trained on region A", "A"), ("trained on A and B", "AB")):
        est = {w: mean_ci(col(key, w)) for w in ("train", "new A", "B")}
        numbers[f"{name}: accuracy on its training points"] = est["train"]
        numbers[f"{name}: accuracy on new region-A points"] = est["new A"]
        numbers[f"{name}: accuracy on region-B points"] = est["B"]
        rows.append([name, est["train"], est["new A"], est["B"]])
    verdicts = [
        Verdict.compare("Claim 2: a model trained on one input distribution does worse when "
                        "the inputs move, although the rule did not change",
                        "accuracy on new region-A points minus on region-B points (model "
                        "trained on A)", col("A", "new A"), col("A", "B"), +1, seeds,
                        meaningful=ACCURACY_POINT),
        Verdict.compare("Claim 2: the failure comes from the shifted inputs, not from a "
                        "harder rule: seeing both regions fixes it",
                        "accuracy on region B, model trained on A and B minus model trained "
                        "on A", col("AB", "B"), col("A", "B"), +1, seeds,
                        meaningful=ACCURACY_POINT),
    ]
    drop = verdicts[0].estimate
    numbers["trained on region A: accuracy drop from A to B"] = drop
    numbers["region B: accuracy gain from also training on B"] = verdicts[1].estimate
    shares = np.array([r["label 1 share"] for r in res])
    numbers["fraction of label 1: region A / region B (mean over seeds)"] = (
        f"{shares[:, 0].mean():.2f} / {shares[:, 1].mean():.2f}")
    numbers["seeds (data and initial weights; both models share them)"] = seeds

    first = res[0]
    data = first["data"]
    fig, axes = new_figure(2, 1, width=5.4, height=5.0)
    G0, G1 = GRID[:, 0].reshape(len(_G), len(_G)), GRID[:, 1].reshape(len(_G), len(_G))
    t = np.linspace(0, 2 * np.pi, 200)
    for ax, (name, key) in zip(axes[0], (("trained on region A only", "A"),
                                         ("trained on regions A and B", "AB"))):
        p1 = first[key]["p1"].reshape(G0.shape)
        cs = ax.contourf(G0, G1, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.55)
        ax.contour(G0, G1, p1, levels=[0.5], colors="k", linewidths=1.5)
        ax.plot(2 * np.cos(t), 2 * np.sin(t), "g--", lw=2)
        for X, y, marker, region in ((data.X_train, data.y_train, "o", "A (train)"),
                                     (data.X_test, data.y_test, "^", "B (test)")):
            for cls, color in ((0, "#1f4e99"), (1, "#b2182b")):
                sel = y == cls
                ax.scatter(X[sel, 0], X[sel, 1], s=12, marker=marker, c=color,
                           edgecolors="white", linewidths=0.3,
                           label=f"region {region}, label {cls}")
        ax.plot([], [], "k-", label="learned boundary (p = 0.5)")
        ax.plot([], [], "g--", label="true boundary (circle r = 2)")
        ax.set(xlim=(-5, 4.5), ylim=(-5, 4.5), aspect="equal", xlabel="x1", ylabel="x2",
               title=f"{name} (seed {seeds[0]})")
        ax.legend(fontsize=7, loc="lower left")
    fig.colorbar(cs, ax=axes[0].tolist(), shrink=0.8, label="P(label 1) predicted")
    figures = [Figure(save_figure(fig, out_dir, "d4_boundaries", tight=False),
                      "Predicted probability of label 1 (colour), the learned boundary "
                      "(black), the true circle (green, dashed), training region A (circles) "
                      f"and test region B (triangles); seed {seeds[0]} of {len(seeds)}.")]
    fig, axes = new_figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    labels = ["new region-A points", "region-B points"]
    for k, (name, key) in enumerate((("trained on A", "A"), ("trained on A and B", "AB"))):
        ests = [numbers[f"{'trained on region A' if key == 'A' else 'trained on A and B'}: "
                        f"accuracy on {w}"] for w in labels]
        error_bars(ax, np.arange(2) + (k - 0.5) * 0.2, ests, f"C{k}", name, fmt_="o")
    ax.set_xticks(range(2), labels)
    ax.set(ylabel="accuracy", ylim=(0, 1.05), xlim=(-0.6, 1.6),
           title=f"accuracy by region (mean and 95% CI over {len(seeds)} seeds)")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    figures.append(Figure(save_figure(fig, out_dir, "d4_accuracy"),
                          f"Accuracy on each region, mean over {len(seeds)} seeds with 95% "
                          "confidence intervals."))

    a = numbers
    body = f"""
<p>The rule is the same everywhere: label 1 inside the circle of radius 2 around the origin.
Region A (the training data) is a cloud centred at (-1.8, 0), region B (the test data) a cloud
centred at (1.3, 1.3); both straddle the circle, but the boundary runs in a different direction
in each. This is the lecture's cats: the mapping from input to label did not change, only
which inputs we see.</p>
<p>On {len(seeds)} seeds (each a new data set and new initial weights, shared by the two
models), a small tanh network trained on region A fits it
({a['trained on region A: accuracy on new region-A points'].pct()} on new points from A, mean
and 95% CI) but its boundary, which only had to be right near A, is wrong in B:
{a['trained on region A: accuracy on region-B points'].pct()} there. The same network trained
on points from both regions is right in both
({a['trained on A and B: accuracy on new region-A points'].pct()} and
{a['trained on A and B: accuracy on region-B points'].pct()}), so the rule is learnable: the
failure comes from the shifted inputs alone. In the next demos the same idea is applied
inside the network: from layer 3's point of view, its inputs (the activations of layer 2) shift
while layers 1 and 2 learn.</p>
"""
    return Section(
        key="d4",
        title="Covariate shift (claim 2)",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "data": f"make_covariate_shift(n_train={n}, n_test={n}, seed=s) for s in {seeds}; "
                    "held-out region-A points from seed s + 1000; the both-regions model "
                    "trains on seed s + 2000",
            "model": "2 -> 32 -> 32 -> 2, tanh, default Linear initialisation (seed s)",
            "training": f"{steps} steps of SGD, lr 0.1, momentum 0.9, batch 32, "
                        "shuffle seed s + 1",
            "quick": quick,
        },
        tables=[Table(f"Accuracy by region (mean [95% CI] over {len(seeds)} seeds)",
                      ["model", "its training points", "new region-A points",
                       "region-B points"], rows)],
        verdicts=verdicts,
        summary=(f"trained on region A: accuracy drops by {drop.pct()} from A to B "
                 f"({verdicts[0].outcome}); trained on both: "
                 f"{a['trained on A and B: accuracy on region-B points'].pct()} on B"),
    )
