"""Pictures and steppers inline in a Jupyter notebook.

A notebook shows the last value of a cell through its `_repr_*_` methods (or an explicit
`IPython.display.display`); nothing here imports IPython unless it is already running, so
the rest of minigrad works without it.

    in_notebook()          True inside a Jupyter kernel (not in a terminal IPython)
    show_html(html)        display an HTML fragment in the current cell's output
    iframe(page)           a self-contained page (the stepper) as an <iframe srcdoc=...>
"""

from __future__ import annotations

import html
import sys
from typing import Any


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (IPython's ZMQ shell), where HTML output
    is shown; False in a terminal, a plain script or a terminal IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:           # a stub or a very old IPython
        return False
    return shell is not None and hasattr(shell, "kernel")


def iframe(page: str, height: int = 640) -> str:
    """A whole HTML page inside an iframe (its own document: its script and styles cannot
    clash with the notebook's)."""
    return (f'<iframe srcdoc="{html.escape(page, quote=True)}" '
            f'style="width: 100%; height: {int(height)}px; border: 1px solid #ddd; '
            'border-radius: 6px" loading="lazy"></iframe>')


def show_html(fragment: str) -> None:
    """Display `fragment` in the current notebook cell's output."""
    from IPython.display import display

    display({"text/html": fragment}, raw=True)


class Shown(list):
    """A list (of steps) already shown as HTML in the notebook: as the value of a cell it
    adds one line instead of the whole list."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"<{len(self)} steps, shown above>")
