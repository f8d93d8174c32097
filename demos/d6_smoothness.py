"""Demo 6: is it really (internal) covariate shift? After Santurkar, Tsipras, Ilyas and Madry
(2018), "How Does Batch Normalization Help Optimization?".

They measure internal covariate shift (ICS) directly, as how much a layer's gradient changes
when the layers before it take their step:

    G  = dL/dW_k  at the current parameters
    G' = dL/dW_k  after layers 1..k-1 took one SGD step (layer k and later unchanged)
    ICS = ||G - G'|| / ||G||   and   cos(G, G')

(same mini-batch for both), and they measure the smoothness of the loss along the gradient:
from the current parameters, step a distance eta along the negative gradient and record the
loss and the gradient there. Its spread ("loss landscape"), how much the gradient changes
("gradient predictiveness") and the largest ||grad(x) - grad(x - eta g)|| / ||eta g||
(an "effective beta-smoothness") are small when the loss is smooth.

We record both, every few steps of training, for the sigmoid network of demo 5 with and without
batch norm, and report what we find.
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
    batches_forever,
    digits_split,
    make_mlp,
    new_figure,
    save_figure,
    to_tensor,
)

SIZES = [64, 100, 100, 100, 10]
BATCH = 60
# (name, activation, init std or None for the Linear default, learning rate)
CONFIGS = [("sigmoid", "sigmoid", 0.1, 0.5), ("relu", "relu", None, 0.1)]
ETA_FACTORS = [0.25, 0.5, 1.0, 2.0, 4.0]   # step sizes along the gradient, times the lr


def _state(model: Any) -> list[np.ndarray]:
    """Copies of every parameter and buffer (running statistics and their counter)."""
    out = [np.array(p.data, copy=True) for p in model.parameters()]
    for _, b in model.named_buffers():
        out.append(np.array(b.data if isinstance(b, mg.Tensor) else b, copy=True))
    return out


def _restore(model: Any, state: list[np.ndarray]) -> None:
    params = list(model.parameters())
    for p, v in zip(params, state):
        p.data = v.copy()
    for (_, b), v in zip(model.named_buffers(), state[len(params):]):
        if isinstance(b, mg.Tensor):
            b.data[...] = v
        else:
            b[...] = v


def loss_and_grads(model: Any, xb: np.ndarray, yb: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Training-mode loss on the batch and d(loss)/d(parameter) for every parameter."""
    from minigrad.nn import functional as F

    model.zero_grad()
    loss = F.cross_entropy(model(to_tensor(xb)), yb)
    loss.backward()
    grads = [np.zeros_like(p.data) if p.grad is None else np.array(p.grad, copy=True)
             for p in model.parameters()]
    model.zero_grad()
    return loss.item(), grads


def _layer_index(model: Any, k: int) -> tuple[int, list[int]]:
    """Position of layer k's weight among the parameters, and the positions of all the
    parameters of layers before it (their Linear and BatchNorm parameters)."""
    names = [n for n, _ in model.named_parameters()]
    target = names.index(f"fc{k}.weight")
    earlier = [i for i, n in enumerate(names)
               if any(n.startswith(f"{kind}{j}.") for j in range(1, k) for kind in ("fc", "bn"))]
    return target, earlier


def measure(model: Any, xb: np.ndarray, yb: np.ndarray, lr: float,
            layers: list[int]) -> dict[str, float]:
    """ICS of each layer in `layers` and the smoothness along the gradient, on one batch.

    The model (parameters and running statistics) is restored afterwards.
    """
    state = _state(model)
    params = list(model.parameters())
    out: dict[str, float] = {}
    loss0, g0 = loss_and_grads(model, xb, yb)
    _restore(model, state)
    for k in layers:
        target, earlier = _layer_index(model, k)
        for i in earlier:                      # one SGD step for layers 1..k-1 only
            params[i].data = params[i].data - lr * g0[i]
        _, g1 = loss_and_grads(model, xb, yb)
        _restore(model, state)
        G, G2 = g0[target].ravel(), g1[target].ravel()
        out[f"ics_rel_{k}"] = float(np.linalg.norm(G - G2) / np.linalg.norm(G))
        out[f"ics_cos_{k}"] = float(G @ G2 / (np.linalg.norm(G) * np.linalg.norm(G2)))
    gnorm = float(np.sqrt(sum(np.sum(g * g) for g in g0)))
    losses, changes, betas = [loss0], [], []
    for f in ETA_FACTORS:
        eta = f * lr
        for p, g in zip(params, g0):
            p.data = p.data - eta * g
        loss_e, g_e = loss_and_grads(model, xb, yb)
        _restore(model, state)
        diff = float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(g0, g_e))))
        losses.append(loss_e)
        changes.append(diff)
        betas.append(diff / (eta * gnorm))
    out["loss"] = loss0
    out["grad_norm"] = gnorm
    out["loss_range"] = float(max(losses) - min(losses))
    out["grad_change"] = float(max(changes))
    out["grad_change_rel"] = float(max(changes) / gnorm)
    out["beta"] = float(max(betas))
    return out


def train_and_measure(batchnorm: bool, activation: str, init_std: float | None,
                      X: np.ndarray, y: np.ndarray, steps: int, lr: float,
                      seed: int, every: int, layers: list[int]) -> dict[str, Any]:
    """SGD training; every `every` steps, measure on the next mini-batch before stepping."""
    from minigrad import optim
    from minigrad.nn import functional as F

    model = make_mlp(SIZES, activation=activation, batchnorm=batchnorm, seed=seed,
                     init_std=init_std)
    opt = optim.SGD(model.parameters(), lr=lr)
    data = batches_forever(X, y, BATCH, seed + 100)
    rec: dict[str, list] = {"step": []}
    name = "BN" if batchnorm else "plain"
    with Progress(steps, f"d6 {activation} {name}, lr {lr:g}, seed {seed}") as bar:
        for step in range(steps + 1):
            xb, yb = next(data)
            if step % every == 0:
                m = measure(model, xb, yb, lr, layers)
                rec["step"].append(step)
                for k, v in m.items():
                    rec.setdefault(k, []).append(v)
            if step == steps:
                break
            loss = F.cross_entropy(model(to_tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.update(1, loss=loss.item())
    return {k: np.array(v) for k, v in rec.items()}


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """ICS and loss smoothness, with and without batch norm, during training."""

    out_dir.mkdir(parents=True, exist_ok=True)
    Xtr, _, ytr, _ = digits_split(seed)
    steps = 200 if quick else 1500
    every = 20 if quick else 50
    layers = [2, 3]
    seeds = [seed] if quick else [seed, seed + 1, seed + 2]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cfg, act, std, lr in CONFIGS:
        runs[cfg] = {"plain": [], "BN": []}
        for s in seeds:
            for name in ("plain", "BN"):
                runs[cfg][name].append(train_and_measure(name == "BN", act, std, Xtr, ytr, steps,
                                                         lr, s, every, layers))

    keys = [(f"ics_rel_{k}", f"ICS of layer {k}: ||G - G'|| / ||G||") for k in layers]
    keys += [(f"ics_cos_{k}", f"ICS of layer {k}: cos(G, G')") for k in layers]
    keys += [("loss_range", "loss range along the gradient (max - min)"),
             ("grad_change", "gradient change along the gradient, max ||g - g(eta)||"),
             ("grad_change_rel", "gradient change relative to ||g||"),
             ("beta", "effective beta-smoothness, max ||g - g(eta)|| / ||eta g||"),
             ("grad_norm", "gradient norm ||g||"),
             ("loss", "training loss at the checkpoints")]
    numbers: dict[str, Any] = {}
    tables = []
    findings = []
    last = layers[-1]
    for cfg, act, std, lr in CONFIGS:
        def med(name: str, key: str, cfg: str = cfg) -> float:
            # median over the checkpoints after step 0, and over the seeds
            return float(np.median(np.concatenate([r[key][1:] for r in runs[cfg][name]])))

        rows = []
        for key, text in keys:
            a, b = med("plain", key), med("BN", key)
            numbers[f"{cfg} plain: {text} (median)"] = a
            numbers[f"{cfg} BN: {text} (median)"] = b
            rows.append([text, a, b, b / a if a else float("nan")])
        init = f"N(0, {std}^2) weights" if std is not None else "default Linear init"
        tables.append(Table(f"{cfg} network ({act}, {init}, lr {lr}): medians over "
                            "checkpoints", ["quantity", "plain", "batch norm", "BN / plain"],
                            rows))
        ics = (med("plain", f"ics_rel_{last}"), med("BN", f"ics_rel_{last}"))
        cos = (med("plain", f"ics_cos_{last}"), med("BN", f"ics_cos_{last}"))
        beta = (med("plain", "beta"), med("BN", "beta"))
        rng_ = (med("plain", "loss_range"), med("BN", "loss_range"))
        numbers[f"{cfg}: ICS ratio BN / plain (layer {last})"] = ics[1] / ics[0]
        numbers[f"{cfg}: beta-smoothness ratio BN / plain"] = beta[1] / beta[0]
        numbers[f"{cfg}: loss-range ratio BN / plain"] = rng_[1] / rng_[0]
        findings.append(
            f"<li><b>{cfg} network</b> ({act}, {init}, lr {lr}): ICS of layer {last} "
            f"||G - G'|| / ||G|| = {ics[0]:.3g} without batch norm and {ics[1]:.3g} with it "
            f"(cosine {cos[0]:.3f} and {cos[1]:.3f}): {_compare(ics[1], ics[0], 'lower', 'higher')}"
            f" with batch norm. Effective beta-smoothness {beta[0]:.3g} against {beta[1]:.3g} "
            f"({_compare(beta[1], beta[0], 'smaller', 'larger')} with batch norm); loss range "
            f"along the gradient {rng_[0]:.3g} against {rng_[1]:.3g} "
            f"({_compare(rng_[1], rng_[0], 'smaller', 'larger')} with batch norm).</li>")
    figures = _plots(runs, layers, out_dir)
    verdicts = _verdicts(numbers, last)
    body = f"""
<p>Demo 5 reproduced Ioffe and Szegedy's observation: with batch norm each hidden unit's input
keeps a steady distribution. Santurkar, Tsipras, Ilyas and Madry (2018) asked whether that is
what makes training faster. They defined internal covariate shift (ICS) by what a layer
actually experiences: the change of its weight gradient G when the layers before it take their
step, measured as ||G - G'|| and the cosine between G and G' (1 = no shift). They found that
batch norm does not reduce it (in their networks it was often larger with batch norm), and
that batch norm instead makes the loss smoother along the training direction: the loss changes
less and the gradient stays more predictive when one moves along it (a smaller effective
beta-smoothness).</p>
<p>We measured both, every {every} steps of training, on two networks: the sigmoid network of
demo 5 and a ReLU network of the same shape, each with and without batch norm, using the same
mini-batch for every quantity at a checkpoint. Step sizes along the gradient: eta =
{ETA_FACTORS} x lr. Medians over the checkpoints{' and 3 seeds' if len(seeds) > 1 else ''}:</p>
<ul>{''.join(findings)}</ul>
<p><b>What this shows.</b> {verdicts['summary: ICS']} {verdicts['summary: smoothness']}</p>
<p>Caveats, so that nobody over-reads these numbers: one small data set and small networks; ICS
is measured relative to ||G||, and the plain sigmoid network with its small initial weights
hardly moves its early layers at all (its gradients there are tiny), which by itself makes its
ICS small: a network that does not learn has no shift. The beta estimate is a maximum over five
step sizes on one mini-batch, and the two networks are compared at the same step, not at the
same loss. Batch norm's effect on speed (demo 5) is not in doubt; its explanation is what is
debated.</p>
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
            "measured": f"every {every} steps on the next mini-batch (train-mode batch norm); "
                        "parameters and running statistics restored afterwards",
            "ICS": "layers 1..k-1 (Linear and batch-norm parameters) take one SGD step at the "
                   f"training lr; G, G' = gradient of layer k's weight; k in {layers}",
            "step sizes along the gradient": f"{ETA_FACTORS} x lr",
            "quick": quick,
        },
        tables=tables,
        summary=verdicts["summary: ICS"] + " " + verdicts["summary: smoothness"],
    )


def _compare(bn: float, plain: float, less: str, more: str) -> str:
    if bn < 0.8 * plain:
        return less
    if bn > 1.25 * plain:
        return more
    return "about the same"


def _verdicts(numbers: dict[str, Any], last: int) -> dict[str, str]:
    """One sentence for ICS and one for smoothness, from the ratios of all configurations."""
    cfgs = [c for c, *_ in CONFIGS]
    ics = [numbers[f"{c}: ICS ratio BN / plain (layer {last})"] for c in cfgs]
    beta = [numbers[f"{c}: beta-smoothness ratio BN / plain"] for c in cfgs]
    rng_ = [numbers[f"{c}: loss-range ratio BN / plain"] for c in cfgs]
    fmt = ", ".join
    if all(r >= 0.8 for r in ics):
        s_ics = (f"Batch norm did not reduce internal covariate shift in Santurkar et al.'s "
                 f"sense (ICS ratio BN/plain {fmt(f'{r:.2g}' for r in ics)} for "
                 f"{fmt(cfgs)}), as they found.")
    elif all(r < 0.8 for r in ics):
        s_ics = (f"Batch norm reduced internal covariate shift in Santurkar et al.'s sense "
                 f"(ICS ratio BN/plain {fmt(f'{r:.2g}' for r in ics)} for {fmt(cfgs)}), "
                 f"unlike what they found for their networks.")
    else:
        s_ics = (f"The effect of batch norm on internal covariate shift depends on the network "
                 f"(ICS ratio BN/plain {fmt(f'{r:.2g}' for r in ics)} for {fmt(cfgs)}).")

    def trend(ratios: list[float]) -> str:
        if all(r < 0.8 for r in ratios):
            return "smaller"
        if all(r > 1.25 for r in ratios):
            return "larger"
        return "mixed"

    t_range, t_beta = trend(rng_), trend(beta)
    detail_range = f"loss-range ratio BN/plain {fmt(f'{r:.2g}' for r in rng_)}"
    detail_beta = f"beta ratio BN/plain {fmt(f'{b:.2g}' for b in beta)}"
    if t_range == "smaller" and t_beta == "smaller":
        s_smooth = (f"The loss was smoother along the gradient with batch norm: it varied less "
                    f"({detail_range}) and the gradient changed less per unit of step "
                    f"({detail_beta}), as Santurkar et al. report.")
    else:
        words = {"smaller": "smaller with batch norm", "larger": "larger with batch norm",
                 "mixed": "not consistently different"}
        s_smooth = (f"On smoothness our measurement agrees with Santurkar et al. only in part: "
                    f"the loss range along the gradient was {words[t_range]} ({detail_range}), "
                    f"while our effective beta-smoothness estimate was {words[t_beta]} "
                    f"({detail_beta}).")
    return {"summary: ICS": s_ics, "summary: smoothness": s_smooth}


def _plots(runs: dict[str, dict[str, list[dict[str, Any]]]], layers: list[int],
           out_dir: Path) -> list[Figure]:
    colors = {"plain": "C0", "BN": "C3"}
    labels = {"plain": "without batch norm", "BN": "with batch norm"}
    last = layers[-1]
    panels = [(f"ics_rel_{last}", f"ICS, layer {last}: ||G - G'|| / ||G||", "log"),
              (f"ics_cos_{last}", f"ICS, layer {last}: cos(G, G')", "linear"),
              ("loss_range", "loss range along the gradient", "log"),
              ("beta", "effective beta-smoothness", "log")]
    fig, axes = new_figure(4, len(runs), width=3.9, height=3.2)
    for row, (cfg, lr) in enumerate((c, lr) for c, _, _, lr in CONFIGS):
        for ax, (key, title, scale) in zip(axes[row], panels):
            for name in ("plain", "BN"):
                for k, r in enumerate(runs[cfg][name]):
                    ax.plot(r["step"][1:], r[key][1:], color=colors[name], alpha=0.75,
                            label=labels[name] if k == 0 else None)
            ax.set(title=f"{cfg} (lr {lr:g}): {title}", xlabel="SGD step", yscale=scale)
            ax.title.set_fontsize(9)
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3, which="both")
    return [Figure(save_figure(fig, out_dir, "d6_ics_smoothness"),
                   "Measured during training, one line per seed, one row per network: internal "
                   "covariate shift as defined by Santurkar et al. (left two) and smoothness "
                   "of the loss along the gradient (right two).")]
