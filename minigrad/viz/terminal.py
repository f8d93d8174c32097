"""Step through backprop in a terminal, one small table per node.

Nodes are named by their label, or else by how they were computed (`x*w`); each share is
written with its numbers, upstream x local = share, and where several shares meet the
running sum is shown.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> steps = step_through(x * w, interactive=False)        # doctest: +ELLIPSIS
step 1/3  x*w
...
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import numpy as np

from ..engine import Node
from .draw import scope_title, summarize
from .explain import product, running_sum, so_far
from .names import equation, grad_name, node_names, walk
from .notebook import Shown, iframe, in_notebook, show_html
from .steps import Step, backprop_steps


def _text(value: Any, max_items: int = 12) -> str:
    if isinstance(value, np.ndarray) and value.ndim and value.size <= max_items:
        return np.array2string(value, precision=4, separator=", ", max_line_width=70)
    if isinstance(value, np.ndarray) and value.ndim:
        return f"{value.shape} {summarize(value)}"
    return summarize(value)


def _rows(rows: list[tuple[str, str]], width: int) -> list[str]:
    out = []
    for key, text in rows:
        lines = text.splitlines() or [""]
        out.append(f"  {key:<{width}}  {lines[0]}")
        out.extend(f"  {'':<{width}}  {line}" for line in lines[1:])
    return out


def format_step(step: Step, names: dict[int, str], root_name: str = "root") -> str:
    """One step as a small table: node, upstream gradient (for a reused node each consumer's
    share and their running sum), local rule, and each input's share as upstream x local =
    share, with the input's gradient so far."""
    def name(n: Node) -> str:
        return names.get(id(n), "?")

    me = name(step.node)
    rows: list[tuple[str, str]] = []
    if step.node.scope is not None:
        rows.append(("in", scope_title(step.node.scope)))
    rows.append(("data", _text(np.asarray(step.node.data))))
    rows.append((f"upstream {grad_name(root_name, me)}", _text(step.upstream)))
    if step.index == 0:
        rows.append(("", f"(the seed: {grad_name(root_name, root_name)} = 1)"))
    elif step.reused:
        for consumer, share in step.contributions:
            rows.append((f"  + from {name(consumer)} ({consumer.op})", _text(share)))
        rows.append(("  = running sum", running_sum([s for _, s in step.contributions])))
    elif step.contributions:
        consumer = step.contributions[0][0]
        rows.append(("", f"(from {name(consumer)} ({consumer.op}))"))
    rows.append(("local rule", step.rule or "leaf: this is its final gradient (.grad)"))
    local = step.local or [None] * len(step.sends)
    totals = step.totals or [(None, share) for _, share in step.sends]
    for (parent, share), loc, (before, after) in zip(step.sends, local, totals):
        line = product(step.upstream, loc, share) or _text(share)
        rows.append((f"-> {name(parent)}", line))
        if before is not None:
            rows.append(("", f"{name(parent)} so far: {so_far(before, share, after)}"))
    width = max(len(k) for k, _ in rows)
    head = f"step {step.index + 1}/{step.total}  {equation(step.node, names)}"
    return "\n".join([head, *_rows(rows, width)])


def step_through(root: Node, file: TextIO | None = None, interactive: bool | None = None,
                 gradient: Any = None) -> list[Step]:
    """Print each backprop step of `root` as a small table, in `.backward()`'s order.

    Attached to a terminal (stdin is a tty) it waits for Enter between steps (q + Enter
    stops); otherwise, or with interactive=False, it runs straight through. In a Jupyter
    notebook (no `file`, `interactive` not given) it shows the HTML stepper in the cell
    instead (`save_backprop_html`'s page). Nothing on the graph changes. Returns the steps.
    """
    if file is None and interactive is None and in_notebook():
        from .html import backprop_page

        steps = Shown(backprop_steps(root, gradient))
        show_html(iframe(backprop_page(root, gradient=gradient)))
        return steps
    out = sys.stdout if file is None else file
    if interactive is None:
        interactive = bool(getattr(sys.stdin, "isatty", lambda: False)())
    names = node_names(walk(root))
    root_name = names.get(id(root), "root")
    shown: list[Step] = []
    for step in backprop_steps(root, gradient):
        if shown:
            print(file=out)
        print(format_step(step, names, root_name), file=out)
        shown.append(step)
        if interactive and step.index + 1 < step.total:
            print("[Enter: next step, q: quit] ", end="", file=out, flush=True)
            answer = sys.stdin.readline()
            if not answer:                      # stdin closed: run through the rest
                interactive = False
                print(file=out)
            elif answer.strip().lower() == "q":
                break
    out.flush()
    return shown
