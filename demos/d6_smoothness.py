"""Demo 6: is it really (internal) covariate shift? After Santurkar, Tsipras, Ilyas and Madry
(2018), "How Does Batch Normalization Help Optimization?".

They measure internal covariate shift (ICS) directly, as how much a layer's gradient changes
when the layers before it take their step:

    G  = dL/dW_k  at the current parameters
    G' = dL/dW_k  after layers 1..k-1 took one SGD step (layer k and later unchanged)
    ICS = ||G - G'|| / ||G||   and   cos(G, G')

and the smoothness of the loss along the gradient (their figure 4): from the current
parameters w, step a distance eta along the negative gradient g and look at

    loss landscape           L(w - eta g), over a range of step sizes eta
    gradient predictiveness  ||g - g(w - eta g)||
    effective beta           max over eta of ||g - g(w - eta g)|| / ||eta g||

All of these are measured on one large fixed batch, the whole training set (1347 images), in
training mode (batch norm normalises with that batch's statistics), at checkpoints during
training, for every step size and every seed; the networks are compared at the same training
step and at the same training loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    Figure,
    Section,
    Table,
    batches_forever,
    digits_split,
    get_state,
    make_mlp,
    new_figure,
    param_grads,
    param_names,
    plot_band,
    save_figure,
    seed_list,
    set_state,
    to_tensor,
)
from .parallel import Task, run_all
from .stats import RATIO_FACTOR, Verdict, mean_ci, paired_ratio

SIZES = [64, 100, 100, 100, 10]
BATCH = 60
# (name, activation, init std or None for the Linear default, learning rate)
CONFIGS = [("sigmoid", "sigmoid", 0.1, 0.5), ("relu", "relu", None, 0.1)]
ETA_FACTORS = (0.5, 1.0, 4.0)          # step sizes along the gradient, times the lr
ICS_LAYER = 3                           # G is the gradient of this layer's weight
COLORS = {"plain": "C0", "BN": "C3"}
NAMES = {"plain": "without batch norm", "BN": "with batch norm"}


def loss_and_grads(model: Any, state: dict[str, np.ndarray], X: np.ndarray,
                   y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Training-mode loss on the batch (X, y) at parameters `state`, and d(loss)/d(parameter)
    for every parameter. The model's running statistics are put back by the next call."""
    from minigrad.nn import functional as F

    set_state(model, state)
    model.train()
    model.zero_grad()
    loss = F.cross_entropy(model(to_tensor(X)), y)
    loss.backward()
    grads = param_grads(model)
    model.zero_grad()
    return loss.item(), grads


def _moved(state: dict[str, np.ndarray], names: list[str], grads: list[np.ndarray],
           eta: float, only: set[str] | None = None) -> dict[str, np.ndarray]:
    """`state` with its parameters moved by -eta * grad (only those in `only`, if given)."""
    out = dict(state)
    for name, g in zip(names, grads):
        if only is None or name in only:
            out[name] = state[name] - eta * g
    return out


def measure(model: Any, X: np.ndarray, y: np.ndarray, lr: float) -> dict[str, Any]:
    """Landscape, gradient predictiveness, beta and ICS at the model's current parameters, on
    the batch (X, y); the model is left exactly as it was."""
    base = get_state(model)
    names = param_names(model)
    loss0, g0 = loss_and_grads(model, base, X, y)
    flat0 = np.concatenate([g.ravel() for g in g0])
    gnorm = float(np.linalg.norm(flat0))
    losses, changes, betas = [], [], []
    for f in ETA_FACTORS:
        eta = f * lr
        loss_e, g_e = loss_and_grads(model, _moved(base, names, g0, eta), X, y)
        change = float(np.linalg.norm(np.concatenate([g.ravel() for g in g_e]) - flat0))
        losses.append(loss_e)
        changes.append(change)
        betas.append(change / (eta * gnorm))
    # ICS: layers before ICS_LAYER (their Linear and batch-norm parameters) take one step
    earlier = {n for n in names if any(n.startswith(f"{kind}{j}.") for j in range(1, ICS_LAYER)
                                       for kind in ("fc", "bn"))}
    target = names.index(f"fc{ICS_LAYER}.weight")
    _, g1 = loss_and_grads(model, _moved(base, names, g0, lr, earlier), X, y)
    G, G2 = g0[target].ravel(), g1[target].ravel()
    set_state(model, base)
    return {"loss": loss0, "grad_norm": gnorm, "loss_eta": losses, "grad_change": changes,
            "beta_eta": betas, "ics_rel": float(np.linalg.norm(G - G2) / np.linalg.norm(G)),
            "ics_cos": float(G @ G2 / (np.linalg.norm(G) * np.linalg.norm(G2)))}


def train_and_measure(batchnorm: bool, activation: str, init_std: float | None, lr: float,
                      checkpoints: tuple[int, ...], seed: int,
                      data_seed: int) -> dict[str, Any]:
    """SGD on mini-batches of BATCH up to the last checkpoint; at every checkpoint (a step
    count, 0 = before the first step), measure on the whole training set."""
    from minigrad import optim
    from minigrad.nn import functional as F

    X, _, y, _ = digits_split(data_seed)
    model = make_mlp(SIZES, activation=activation, batchnorm=batchnorm, seed=seed,
                     init_std=init_std)
    opt = optim.SGD(model.parameters(), lr=lr)
    data = batches_forever(X, y, BATCH, seed + 100)
    rec: dict[str, list] = {"step": []}
    steps = max(checkpoints)
    for step in range(steps + 1):
        if step in checkpoints:
            m = measure(model, X, y, lr)
            rec["step"].append(step)
            for k, v in m.items():
                rec.setdefault(k, []).append(v)
        if step == steps:
            break
        xb, yb = next(data)
        model.train()
        loss = F.cross_entropy(model(to_tensor(xb)), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = {k: np.array(v, dtype=float) for k, v in rec.items()}
    out["large batch"] = len(X)
    return out


# ---------------------------------------------------------------------------- summaries


def per_seed_at_step(r: dict[str, Any], key: str, spacing: int) -> float:
    """Geometric mean over the evenly spaced checkpoints (multiples of `spacing`, step 0
    left out) of a per-checkpoint quantity: beta = max over eta of beta_eta; gradient
    change = max over eta; landscape = range of the loss over eta (and eta = 0); ics = ICS."""
    even = (r["step"] > 0) & (r["step"] % spacing == 0)
    return float(np.exp(np.mean(np.log(_curve(r, key)[even]))))


def _curve(r: dict[str, Any], key: str) -> np.ndarray:
    if key == "beta":
        return r["beta_eta"].max(1)
    if key == "grad_change":
        return r["grad_change"].max(1)
    if key == "landscape":
        all_losses = np.column_stack([r["loss"], r["loss_eta"]])
        return all_losses.max(1) - all_losses.min(1)
    return r[key]


def loss_levels(runs: list[dict[str, Any]], count: int = 4) -> np.ndarray:
    """Training-loss levels every run passes: from 80% of the smallest starting loss down to
    1.25 x the largest final loss (geometric)."""
    start = min(float(r["loss"][0]) for r in runs)
    end = max(float(r["loss"].min()) for r in runs)
    hi, lo = 0.8 * start, 1.25 * end
    if lo >= hi:
        return np.array([])
    return np.geomspace(hi, lo, count)


def at_loss(r: dict[str, Any], key: str, levels: np.ndarray) -> np.ndarray:
    """The quantity at the first checkpoint where the large-batch loss fell to each level."""
    curve = _curve(r, key)
    idx = [int(np.flatnonzero(r["loss"] <= lv)[0]) for lv in levels]
    return curve[idx]


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """ICS and loss smoothness on the whole training set, with and without batch norm."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # evenly spaced over training (the same-step comparison), and two early ones where the
    # loss falls fastest (for the same-loss comparison)
    spacing, steps = (40, 80) if quick else (80, 240)
    early = {0, 10, 40} if quick else {0, 10, 20, 40}
    checkpoints = tuple(sorted(early | set(range(spacing, steps + 1, spacing))))
    seeds = seed_list(seed, quick)
    tasks = [Task(f"{cfg} {name}, lr {lr:g}, seed {s}, {steps} steps", train_and_measure,
                  (name == "BN", act, std, lr, checkpoints, s, seed),
                  cost=2.0 if name == "BN" else 1.0)
             for cfg, act, std, lr in CONFIGS for name in ("plain", "BN") for s in seeds]
    out = iter(run_all(tasks, "d6 train"))
    runs = {cfg: {name: [next(out) for _ in seeds] for name in ("plain", "BN")}
            for cfg, *_ in CONFIGS}
    large = int(runs[CONFIGS[0][0]]["plain"][0]["large batch"])

    numbers: dict[str, Any] = {"large fixed batch for every measurement (examples)": large,
                               "seeds (paired: both networks start from each seed and see "
                               "the same batches)": seeds}
    verdicts: list[Verdict] = []
    tables = []
    findings = []
    level_sets = {}
    quantities = [("beta", "effective beta-smoothness"),
                  ("grad_change", "gradient change ||g - g(w - eta g)||, max over eta"),
                  ("landscape", "loss range along the gradient"),
                  ("ics_rel", f"ICS of layer {ICS_LAYER}, ||G - G'|| / ||G||")]
    for cfg, act, std, lr in CONFIGS:
        r_cfg = runs[cfg]
        levels = loss_levels(r_cfg["plain"] + r_cfg["BN"])
        level_sets[cfg] = levels
        rows = []
        ratios = {}
        per_seed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, text in quantities:
            a = np.array([per_seed_at_step(r, key, spacing) for r in r_cfg["plain"]])
            b = np.array([per_seed_at_step(r, key, spacing) for r in r_cfg["BN"]])
            per_seed[key] = (b, a)
            ratios[key] = paired_ratio(b, a)
            row = [text, "same step", mean_ci(a), mean_ci(b), ratios[key]]
            rows.append(row)
            numbers[f"{cfg}: {text}, BN / plain at the same step"] = ratios[key]
            if levels.size and key != "ics_rel":
                a_l = np.array([np.exp(np.mean(np.log(at_loss(r, key, levels))))
                                for r in r_cfg["plain"]])
                b_l = np.array([np.exp(np.mean(np.log(at_loss(r, key, levels))))
                                for r in r_cfg["BN"]])
                per_seed[key + " at loss"] = (b_l, a_l)
                ratios[key + " at loss"] = paired_ratio(b_l, a_l)
                rows.append([text, "same loss", mean_ci(a_l), mean_ci(b_l),
                             ratios[key + " at loss"]])
                numbers[f"{cfg}: {text}, BN / plain at the same training loss"] = (
                    ratios[key + " at loss"])
        cos = {n: mean_ci([float(np.mean(r["ics_cos"][1:])) for r in r_cfg[n]])
               for n in r_cfg}
        numbers[f"{cfg}: ICS cos(G, G') plain"] = cos["plain"]
        numbers[f"{cfg}: ICS cos(G, G') BN"] = cos["BN"]
        numbers[f"{cfg}: training-loss levels for the matched-loss comparison"] = [
            round(float(v), 4) for v in levels]
        init = f"N(0, {std}^2) weights" if std is not None else "default Linear init"
        tables.append(Table(f"{cfg} network ({act}, {init}, lr {lr}): geometric means over "
                            f"checkpoints, mean [95% CI] over {len(seeds)} paired seeds",
                            ["quantity", "compared at", "plain", "batch norm",
                             "BN / plain (paired)"], rows))
        verdicts += [
            Verdict.compare(f"Lecture (after Ioffe and Szegedy): batch norm reduces internal "
                            f"covariate shift ({cfg} network)",
                            f"ICS of layer {ICS_LAYER}, batch norm / plain, same step",
                            *per_seed["ics_rel"], -1, seeds, ratio=True, meaningful=RATIO_FACTOR),
            Verdict.compare(f"Santurkar et al.: batch norm makes the loss smoother ({cfg} "
                            "network)", "effective beta-smoothness, batch norm / plain, same "
                            "step", *per_seed["beta"], -1, seeds, ratio=True,
                            meaningful=RATIO_FACTOR),
        ]
        if "beta at loss" in per_seed:
            verdicts.append(Verdict.compare(
                f"Santurkar et al.: batch norm makes the loss smoother ({cfg} network, "
                "compared at the same training loss)",
                "effective beta-smoothness, batch norm / plain, same loss",
                *per_seed["beta at loss"], -1, seeds, ratio=True, meaningful=RATIO_FACTOR))
        verdicts.append(Verdict.compare(
            f"Santurkar et al.: with batch norm the gradient is more predictive ({cfg} "
            "network)", "gradient change along the gradient, batch norm / plain, same step",
            *per_seed["grad_change"], -1, seeds, ratio=True, meaningful=RATIO_FACTOR))
        findings.append(
            f"<li><b>{cfg} network</b> ({act}, {init}, lr {lr}): ICS ratio batch norm / plain "
            f"{ratios['ics_rel']} (cosine {cos['plain']} without and {cos['BN']} with batch "
            f"norm); effective beta ratio {ratios['beta']} at the same step"
            + (f" and {ratios['beta at loss']} at the same loss" if "beta at loss" in ratios
               else "")
            + f"; gradient-change ratio {ratios['grad_change']}; loss-range ratio "
            f"{ratios['landscape']}.</li>")
    figures = _plots(runs, level_sets, seeds, out_dir)
    outcome = {v.quantity + v.claim: v.outcome for v in verdicts}
    smooth_all = all(o == "supported" for k, o in outcome.items() if "smoother" in k)
    ics_none = all(o != "supported" for k, o in outcome.items() if "covariate shift" in k)
    body = f"""
<p>Demo 5 reproduced Ioffe and Szegedy's observation: with batch norm each hidden unit's input
keeps a steadier distribution. Santurkar, Tsipras, Ilyas and Madry (2018) asked whether that is
what makes training faster. They defined internal covariate shift (ICS) by what a layer
actually experiences: the change of its weight gradient G when the layers before it take their
step, measured as ||G - G'|| / ||G|| and the cosine between G and G' (1 = no shift). They found
that batch norm does not reduce it (in their networks it was often larger with batch norm),
and that batch norm instead makes the loss smoother along the training direction: the loss
changes less and the gradient stays more predictive when one moves along it (their figure 4;
a smaller effective beta-smoothness).</p>
<p><b>How we measure.</b> Two networks, the sigmoid network of demo 5 and a ReLU network of the
same shape, each with and without batch norm, trained with SGD on mini-batches of {BATCH} on
{len(seeds)} paired seeds. At steps {', '.join(map(str, checkpoints))}, every quantity is
measured on one large fixed batch, the whole training set ({large} images), in training mode:
a one-mini-batch estimate would mostly measure the mini-batch's own noise. Step sizes along
the gradient: eta = {', '.join(f'{f:g}' for f in ETA_FACTORS)} x the training rate. Per seed
we take the geometric mean over the checkpoints; the networks are compared at the same
training step and at the same training loss (the first checkpoint at which the whole-set loss
fell to each of a few levels that every run passes; for the same-step comparison only the
checkpoints every {spacing} steps count), as the ratio batch norm / plain with a 95% interval
over the paired seeds:</p>
<ul>{''.join(findings)}</ul>
<p><b>What this shows.</b> {"Batch norm made the loss smoother on every measure and in both "
"networks, as Santurkar et al. report" if smooth_all else "The smoothness verdicts are not "
"uniform; see the table of verdicts above"}. {"It did not reduce internal covariate shift in "
"their sense in either network, as they also found" if ics_none else "It did reduce "
"internal covariate shift in their sense in at least one network, unlike what they found"}.
Caveats: one small data set and small networks; ICS is relative to ||G||, and the plain
sigmoid network with its small initial weights hardly moves its early layers (its gradients
there are tiny), which by itself makes its ICS small. Batch norm's effect on speed (demo 5) is
not in doubt; its explanation is what is debated.</p>
"""
    return Section(
        key="d6",
        title="Is it really covariate shift? (Santurkar et al. 2018)",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "data": f"digits training split (seed {seed}), standardised",
            "networks": f"{SIZES}; " + "; ".join(
                f"{c}: {a}, " + (f"weights N(0, {s}^2)" if s is not None else "default init")
                + f", lr {lr}" for c, a, s, lr in CONFIGS),
            "training": f"SGD, batch {BATCH}, {steps} steps, seeds {seeds}, shuffle "
                        "seed = init seed + 100",
            "measured": f"at steps {list(checkpoints)}, on the whole training set "
                        f"({large} images) as one batch in training mode; parameters and "
                        "running statistics restored afterwards",
            "ICS": f"layers 1..{ICS_LAYER - 1} (Linear and batch-norm parameters) take one "
                   f"SGD step at the training lr; G, G' = gradient of layer {ICS_LAYER}'s "
                   "weight",
            "step sizes along the gradient": f"{list(ETA_FACTORS)} x lr",
            "quick": quick,
        },
        tables=tables,
        verdicts=verdicts,
        summary="; ".join(f"{cfg}: beta BN/plain {numbers[f'{cfg}: effective beta-smoothness, BN / plain at the same step']}"  # noqa: E501
                          for cfg, *_ in CONFIGS)
        + " (95% CI; smoother with BN: " + ("supported" if smooth_all else "mixed") + ")",
    )


def _plots(runs: dict[str, dict[str, list[dict[str, Any]]]],
           level_sets: dict[str, np.ndarray], seeds: list[int],
           out_dir: Path) -> list[Figure]:
    fig, axes = new_figure(4, len(runs), width=3.9, height=3.2)
    for row, (cfg, *_rest) in enumerate(CONFIGS):
        lr = _rest[-1]
        for name in ("plain", "BN"):
            rs = runs[cfg][name]
            step = rs[0]["step"]
            c = COLORS[name]
            # (a), (b): the band is the range over the step sizes of the mean over seeds
            loss_eta = np.mean([r["loss_eta"] for r in rs], axis=0)
            axes[row, 0].fill_between(step, loss_eta.min(1), loss_eta.max(1), color=c,
                                      alpha=0.3, label=NAMES[name])
            change = np.mean([r["grad_change"] for r in rs], axis=0)
            axes[row, 1].fill_between(step, change.min(1), change.max(1), color=c, alpha=0.3,
                                      label=NAMES[name])
            # (c): beta, mean over seeds with its 95% band
            plot_band(axes[row, 2], step[1:], np.array([_curve(r, "beta")[1:] for r in rs]),
                      c, NAMES[name])
            # (d): beta against the training loss, at the matched levels
            levels = level_sets[cfg]
            if levels.size:
                vals = np.array([at_loss(r, "beta", levels) for r in rs])
                plot_band(axes[row, 3], levels, vals, c, NAMES[name], marker="o")
        axes[row, 0].set(title=f"{cfg} (lr {lr:g}): loss landscape", xlabel="SGD step",
                         ylabel="L(w - eta g), range over eta", yscale="log")
        axes[row, 1].set(title=f"{cfg}: gradient predictiveness", xlabel="SGD step",
                         ylabel="||g - g(w - eta g)||, range over eta", yscale="log")
        axes[row, 2].set(title=f"{cfg}: effective beta-smoothness", xlabel="SGD step",
                         ylabel="max over eta", yscale="log")
        axes[row, 3].set(title=f"{cfg}: beta at the same training loss",
                         xlabel="training loss (whole set)", ylabel="effective beta",
                         xscale="log", yscale="log")
        axes[row, 3].invert_xaxis()
        for ax in axes[row, :3]:
            ax.set_xscale("symlog", linthresh=10)
            ax.set_xlim(0, rs[0]["step"][-1])
        if not level_sets[cfg].size:
            axes[row, 3].text(0.5, 0.5, "no training-loss level\nthat every run passes",
                              ha="center", va="center", transform=axes[row, 3].transAxes)
        for ax in axes[row]:
            ax.title.set_fontsize(9)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
            ax.grid(alpha=0.3, which="both")
    figures = [Figure(save_figure(fig, out_dir, "d6_smoothness"),
                      f"After Santurkar et al.'s figure 4, on the whole training set: the loss "
                      f"and the gradient change along the gradient (bands: the range over the "
                      f"step sizes of the mean over {len(seeds)} seeds), the effective "
                      f"beta-smoothness (mean and 95% band over seeds), and beta compared at "
                      f"the same training loss (right; training proceeds to the right).")]
    fig, axes = new_figure(2, 1, width=4.8, height=3.4)
    for ax, (cfg, *_rest) in zip(axes[0], CONFIGS):
        for name in ("plain", "BN"):
            rs = runs[cfg][name]
            plot_band(ax, rs[0]["step"][1:], np.array([r["ics_rel"][1:] for r in rs]),
                      COLORS[name], NAMES[name])
        ax.set(title=f"{cfg}: ICS of layer {ICS_LAYER}, ||G - G'|| / ||G||",
               xlabel="SGD step", yscale="log", xscale="log")
        ax.title.set_fontsize(10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3, which="both")
    figures.append(Figure(save_figure(fig, out_dir, "d6_ics"),
                          f"Internal covariate shift as Santurkar et al. define it, on the whole "
                          f"training set: mean over {len(seeds)} seeds with 95% bands."))
    return figures
