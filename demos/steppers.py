"""The two ways the demos step through a backward pass: the terminal stepper's text and the
HTML stepper page, both from minigrad.viz."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def stepper_text(root: Any) -> tuple[str, int]:
    """What `minigrad.viz.step_through(root)` prints (run straight through, no key presses),
    and the number of steps."""
    from minigrad import viz

    buf = io.StringIO()
    steps = viz.step_through(root, file=buf, interactive=False)
    return buf.getvalue(), len(steps)


def stepper_html(root: Any, path: Path) -> Path:
    """Write the self-contained HTML stepper of `root`'s backward pass to `path`."""
    from minigrad import viz

    path.parent.mkdir(parents=True, exist_ok=True)
    viz.save_backprop_html(root, path)
    return path
