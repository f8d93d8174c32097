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
    make_mlp,
    new_figure,
    predict,
    save_figure,
    train_classifier,
)


def _fit(X: np.ndarray, y: np.ndarray, steps: int, seed: int, label: str) -> Any:
    model = make_mlp([2, 32, 32, 2], activation="tanh", seed=seed)
    train_classifier(model, X, y, steps=steps, batch_size=32, lr=0.1, momentum=0.9,
                     seed=seed + 1, label=label)
    return model


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Train on one region, test on both; compare with a model trained on both."""
    from minigrad.data import make_covariate_shift

    out_dir.mkdir(parents=True, exist_ok=True)
    n = 200 if quick else 400
    steps = 500 if quick else 1500
    data = make_covariate_shift(n_train=n, n_test=n, seed=seed)
    # fresh draws from the same two distributions, for held-out accuracy and for the
    # model that sees both regions
    held = make_covariate_shift(n_train=n, n_test=n, seed=seed + 1)
    both = make_covariate_shift(n_train=n, n_test=n, seed=seed + 2)
    X_both = np.concatenate([both.X_train, both.X_test])
    y_both = np.concatenate([both.y_train, both.y_test])

    shifted = _fit(data.X_train, data.y_train, steps, seed, "d4 MLP on region A only")
    pooled = _fit(X_both, y_both, steps, seed, "d4 MLP on regions A and B")

    numbers: dict[str, Any] = {}
    rows = []
    for name, model in (("trained on region A", shifted), ("trained on A and B", pooled)):
        acc_train = accuracy(model, data.X_train, data.y_train)
        acc_a = accuracy(model, held.X_train, held.y_train)
        acc_b = accuracy(model, data.X_test, data.y_test)
        numbers[f"{name}: accuracy on its training points"] = acc_train
        numbers[f"{name}: accuracy on new region-A points"] = acc_a
        numbers[f"{name}: accuracy on region-B points"] = acc_b
        rows.append([name, acc_train, acc_a, acc_b])
    gap = (numbers["trained on region A: accuracy on new region-A points"]
           - numbers["trained on region A: accuracy on region-B points"])
    numbers["trained on region A: accuracy drop from A to B"] = gap
    numbers["fraction of label 1: region A / region B"] = (
        f"{data.y_train.mean():.2f} / {data.y_test.mean():.2f}")

    fig, axes = new_figure(2, 1, width=5.4, height=5.0)
    g = np.linspace(-5.0, 4.5, 181)
    G0, G1 = np.meshgrid(g, g)
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    t = np.linspace(0, 2 * np.pi, 200)
    for ax, (name, model) in zip(axes[0], (("trained on region A only", shifted),
                                           ("trained on regions A and B", pooled))):
        logits = predict(model, grid)
        p1 = np.exp(logits[:, 1] - np.logaddexp(logits[:, 0], logits[:, 1]))
        cs = ax.contourf(G0, G1, p1.reshape(G0.shape), levels=np.linspace(0, 1, 11),
                         cmap="RdBu_r", alpha=0.55)
        ax.contour(G0, G1, p1.reshape(G0.shape), levels=[0.5], colors="k", linewidths=1.5)
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
               title=name)
        ax.legend(fontsize=7, loc="lower left")
    fig.colorbar(cs, ax=axes[0].tolist(), shrink=0.8, label="P(label 1) predicted")
    figures = [Figure(save_figure(fig, out_dir, "d4_boundaries", tight=False),
                      "Predicted probability of label 1 (colour), the learned boundary "
                      "(black), the true circle (green, dashed), training region A (circles) "
                      "and test region B (triangles).")]

    a = numbers
    if gap >= 0.2 and a["trained on A and B: accuracy on region-B points"] >= 0.9:
        verdict = "The measurement shows the claim clearly."
    elif gap > 0.05:
        verdict = "The measurement shows the claim, but weakly."
    else:
        verdict = "Here the measurement does not show the claim."
    body = f"""
<p>The rule is the same everywhere: label 1 inside the circle of radius 2 around the origin.
Region A (the training data) is a cloud centred at (-1.8, 0), region B (the test data) a cloud
centred at (1.3, 1.3); both straddle the circle, but the boundary runs in a different direction
in each. This is the lecture's cats: the mapping from input to label did not change, only
which inputs we see.</p>
<p>{verdict} A small tanh network trained on region A fits it
({a['trained on region A: accuracy on new region-A points']:.0%} on new points from A) but
its boundary, which only had to be right near A, is wrong in B:
{a['trained on region A: accuracy on region-B points']:.0%} there (a drop of
{gap:.0%}). The same network trained on points from both regions is right in both
({a['trained on A and B: accuracy on new region-A points']:.0%} and
{a['trained on A and B: accuracy on region-B points']:.0%}), so the rule is learnable: the
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
            "data": f"make_covariate_shift(n_train={n}, n_test={n}, seed={seed}); held-out "
                    f"region-A points from seed {seed + 1}; the both-regions model trains on "
                    f"seed {seed + 2}",
            "model": "2 -> 32 -> 32 -> 2, tanh, default Linear initialisation "
                     f"(seed {seed})",
            "training": f"{steps} steps of SGD, lr 0.1, momentum 0.9, batch 32, "
                        f"shuffle seed {seed + 1}",
            "quick": quick,
        },
        tables=[Table("Accuracy by region", ["model", "its training points",
                                             "new region-A points", "region-B points"], rows)],
        summary=(f"trained on region A: "
                 f"{a['trained on region A: accuracy on new region-A points']:.0%} "
                 f"on A, {a['trained on region A: accuracy on region-B points']:.0%} on B; "
                 f"trained on both: {a['trained on A and B: accuracy on region-B points']:.0%} "
                 f"on B"),
    )
