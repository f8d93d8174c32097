"""Demo 1: backpropagation by hand, then by the engine, then checked by finite differences.

Two small graphs of scalar `Value`s: an expression in which one input is used twice (so its
gradient is a sum of two paths), and a single tanh neuron with a squared-error loss. For each
we draw the graph, step through the backward pass (terminal text and an HTML stepper), write
down the gradient by the chain rule, and check the engine's answer against central finite
differences and against `mg.gradcheck` on a float64 Tensor version of the same function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import minigrad as mg

from .common import Section, Table, esc, finite_difference_values, graph_figure, save_text
from .steppers import stepper_html, stepper_text

# ------------------------------------------------------------------ the two functions

EXPR_POINT = {"x": 1.5, "y": -2.0, "z": 0.5}
NEURON_POINT = {"x1": 0.5, "x2": -1.0, "w1": 0.8, "w2": 0.3, "b": 0.1}
NEURON_TARGET = 1.0


def expression(x: mg.Value, y: mg.Value, z: mg.Value) -> mg.Value:
    """L = (x*y + x) * z: x reaches L along two paths."""
    p = x * y
    p.label = "p"
    q = p + x
    q.label = "q"
    out = q * z
    out.label = "L"
    return out


def expression_by_hand(x: float, y: float, z: float) -> dict[str, float]:
    """The chain rule written out: dL/dx = (y + 1) z (two paths), dL/dy = x z, dL/dz = xy + x."""
    return {"x": (y + 1.0) * z, "y": x * z, "z": x * y + x}


def neuron(x1: mg.Value, x2: mg.Value, w1: mg.Value, w2: mg.Value, b: mg.Value) -> mg.Value:
    """loss = (tanh(x1 w1 + x2 w2 + b) - t)^2 with target t = 1."""
    a1 = x1 * w1
    a1.label = "x1*w1"
    a2 = x2 * w2
    a2.label = "x2*w2"
    s = a1 + a2
    s.label = "x1*w1+x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    err = o - NEURON_TARGET
    err.label = "o-t"
    loss = err ** 2
    loss.label = "loss"
    return loss


def neuron_by_hand(x1: float, x2: float, w1: float, w2: float, b: float) -> dict[str, float]:
    """dloss/dn = 2 (o - t) (1 - o^2); then dn/dw1 = x1, dn/dx1 = w1, dn/db = 1, ..."""
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    dn = 2.0 * (o - NEURON_TARGET) * (1.0 - o * o)
    return {"x1": dn * w1, "x2": dn * w2, "w1": dn * x1, "w2": dn * x2, "b": dn}


def _leaves(point: dict[str, float]) -> dict[str, mg.Value]:
    return {k: mg.Value(v, label=k) for k, v in point.items()}


def _value_of(fn: Callable[..., mg.Value]) -> Callable[[Sequence[float]], float]:
    def f(values: Sequence[float]) -> float:
        return fn(*[mg.Value(v) for v in values]).data
    return f


def _tensor_expression(x: mg.Tensor, y: mg.Tensor, z: mg.Tensor) -> mg.Tensor:
    return (x * y + x) * z


def _tensor_neuron(x1: mg.Tensor, x2: mg.Tensor, w1: mg.Tensor, w2: mg.Tensor,
                   b: mg.Tensor) -> mg.Tensor:
    return ((x1 * w1 + x2 * w2 + b).tanh() - NEURON_TARGET) ** 2


def check_graph(name: str, fn: Callable[..., mg.Value], tensor_fn: Callable[..., mg.Tensor],
                by_hand: Callable[..., dict[str, float]],
                point: dict[str, float]) -> tuple[mg.Value, list[list], dict[str, object]]:
    """Backward through the Value graph; compare with the chain rule, finite differences
    and gradcheck on a float64 Tensor version at the same point."""
    leaves = _leaves(point)
    root = fn(*leaves.values())
    root.backward()
    hand = by_hand(*point.values())
    fd = finite_difference_values(_value_of(fn), list(point.values()))
    tensors = [mg.Tensor(np.array(v), requires_grad=True, dtype=np.float64)
               for v in point.values()]
    gradcheck_ok = bool(mg.gradcheck(tensor_fn, tensors))  # raises if it disagrees
    out = tensor_fn(*tensors)
    out.backward()
    rows = []
    worst_fd = worst_hand = worst_tensor = 0.0
    for i, (k, leaf) in enumerate(leaves.items()):
        t_grad = float(np.asarray(tensors[i].grad))
        rows.append([k, leaf.data, leaf.grad, hand[k], fd[i], t_grad])
        worst_fd = max(worst_fd, abs(leaf.grad - fd[i]))
        worst_hand = max(worst_hand, abs(leaf.grad - hand[k]))
        worst_tensor = max(worst_tensor, abs(leaf.grad - t_grad))
    numbers = {
        f"{name}: output": root.data,
        f"{name}: max |engine - chain rule|": worst_hand,
        f"{name}: max |engine - finite difference|": worst_fd,
        f"{name}: max |Value grad - Tensor grad|": worst_tensor,
        f"{name}: gradcheck (float64 Tensor) passed": gradcheck_ok,
    }
    return root, rows, numbers


def run(quick: bool, out_dir: Path, seed: int) -> Section:
    """Build, draw, step through and check two small scalar graphs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = []
    numbers: dict[str, object] = {}
    tables = []
    links = []
    header = ["input", "value", "engine grad", "chain rule by hand", "finite difference",
              "Tensor (float64) grad"]
    steps_text = []
    for name, fn, tfn, hand, point, title in (
        ("expression", expression, _tensor_expression, expression_by_hand, EXPR_POINT,
         "L = (x*y + x) * z"),
        ("neuron", neuron, _tensor_neuron, neuron_by_hand, NEURON_POINT,
         "loss = (tanh(x1*w1 + x2*w2 + b) - 1)^2"),
    ):
        root, rows, nums = check_graph(name, fn, tfn, hand, point)
        numbers.update(nums)
        tables.append(Table(f"Gradients of {title}", header, rows))
        figures.append(graph_figure(root, out_dir, f"d1_{name}_graph",
                                    f"The graph of {title} after backward: each box shows "
                                    "its name, its value (data) and d(output)/d(box) (grad); "
                                    "the ovals are the operations."))
        # a fresh graph for the steppers: they replay backward from the start
        text, n_steps = stepper_text(fn(*_leaves(point).values()))
        steps_text.append(f"### {title}\n\n{text}")
        if name == "expression":        # short enough to show in the terminal
            print(f"\nBackprop of {title}, step by step (minigrad.viz.step_through):\n{text}")
        page = stepper_html(fn(*_leaves(point).values()), out_dir / f"d1_{name}_stepper.html")
        links.append((page.name, f"Step through the backward pass of {title} (HTML stepper)"))
        numbers[f"{name}: backward steps"] = n_steps
    txt = save_text("\n\n".join(steps_text), out_dir, "d1_steps.txt")
    links.append((txt.as_posix(), "The same steps as printed in the terminal (text)"))

    body = f"""
<p>Backpropagation is the chain rule applied node by node, from the output back to the
inputs, in reverse topological order. Each node receives d(output)/d(node) from the nodes that
use it, adds up what arrives (a node used twice gets two contributions), and passes
d(output)/d(parent) = d(output)/d(node) &times; d(node)/d(parent) to each of its parents.</p>
<p>The first graph, <code>L = (x*y + x) * z</code>, uses <code>x</code> twice, so its gradient
is the sum of two paths: dL/dx = y&middot;z + z = (y + 1)&middot;z. The second is one tanh
neuron with a squared-error loss. For both we write the gradient by hand, let the engine
compute it, and compare both with central finite differences ((f(a+h) - f(a-h)) / 2h,
h = 1e-6) and with <code>mg.gradcheck</code> on a float64 Tensor version of the same
function.</p>
<p>The agreement is to about 1e-10 (the finite-difference error), which is what a correct
chain rule gives. <code>minigrad.viz.step_through</code> prints the backward pass one node at a
time in a terminal (the steps of the first graph are below; the run prints them too); the HTML
steppers linked below play the same steps in a browser, on the picture of the graph.</p>
<details><summary>The terminal steps of <code>L = (x*y + x) * z</code></summary>
<pre>{esc(steps_text[0])}</pre></details>
"""
    worst = max(v for k, v in numbers.items() if "finite difference" in k)
    return Section(
        key="d1",
        title="Backprop by hand",
        html=body,
        figures=figures,
        numbers=numbers,
        settings={
            "expression point": EXPR_POINT,
            "neuron point": NEURON_POINT,
            "neuron target": NEURON_TARGET,
            "finite difference step h": 1e-6,
            "gradcheck": "mg.gradcheck, float64, eps=1e-6, atol=1e-5, rtol=1e-3",
            "seed": f"{seed} (not used: the inputs are fixed numbers)",
            "quick": quick,
        },
        tables=tables,
        links=links,
        summary=(f"engine gradients equal the chain rule by hand and finite differences "
                 f"(max abs difference {worst:.1e}); gradcheck passes on both graphs"),
    )

