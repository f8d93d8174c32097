"""What every demo shares: the Section it returns, a text progress bar, plot saving, tables,
and small training helpers built on minigrad.nn.

Nothing here measures a claim; the demos do. Everything is seeded: a demo that is run twice
with the same seed writes the same numbers.
"""

from __future__ import annotations

import html
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

from .stats import Estimate, Verdict, band, number_text  # noqa: E402

Number = int | float

# ---------------------------------------------------------------------------- the result


@dataclass
class Figure:
    """One picture of a section: a file under the output folder and what it shows. A graph
    (.svg) is shown in the pan/zoom viewer, opening on the DOT ids in `focus`."""

    path: Path          # relative to the output folder
    caption: str
    focus: tuple[str, ...] = ()


@dataclass
class Table:
    """A small table of measured numbers, shown in the report and in the terminal."""

    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    """What one demo returns: everything the report and the terminal show for its claim."""

    key: str                                   # "d1" ... "d8"
    title: str
    html: str                                  # the explanation, in our own words
    figures: list[Figure] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)   # the measured numbers
    settings: dict[str, Any] = field(default_factory=dict)  # seeds and settings behind them
    tables: list[Table] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (relative path, text)
    verdicts: list[Verdict] = field(default_factory=list)       # claims against intervals
    summary: str = ""                          # one line for the overview table
    elapsed: float = 0.0                       # seconds the demo took

    @property
    def images(self) -> list[Path]:
        """The pictures' paths, relative to the output folder."""
        return [f.path for f in self.figures]


# ---------------------------------------------------------------------------- terminal

_PROGRESS = True


def set_progress(on: bool) -> bool:
    """Turn the progress bars of this process on or off (worker processes stay silent and
    the parent reports their runs); returns the previous setting."""
    global _PROGRESS
    was, _PROGRESS = _PROGRESS, bool(on)
    return was


class Progress:
    """A plain text progress bar for a training run.

    On a terminal it redraws one line (at most ~10 times a second); elsewhere (a log file, a
    test) it writes only the finished line, so logs stay short.
    """

    def __init__(self, total: int, label: str, width: int = 28,
                 stream: Any = None) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.width = width
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.info = ""
        self.start = time.perf_counter()
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._closed = not _PROGRESS            # a silent bar never writes

    def _line(self) -> str:
        frac = min(self.done / self.total, 1.0)
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        secs = time.perf_counter() - self.start
        return (f"  {self.label:<34.34} [{bar}] {self.done:>5}/{self.total:<5} "
                f"{secs:5.1f}s {self.info}")

    def update(self, n: int = 1, **info: Any) -> None:
        """Advance by `n` steps; keyword arguments are shown after the bar (e.g. loss=0.31)."""
        self.done += n
        if info:
            self.info = " ".join(f"{k}={_short(v)}" for k, v in info.items())
        now = time.perf_counter()
        if self._tty and not self._closed and (now - self._last > 0.1
                                               or self.done >= self.total):
            self._last = now
            self.stream.write("\r" + self._line()[:150])
            self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.done = max(self.done, 0)
        line = self._line()[:150]
        self.stream.write(("\r" if self._tty else "") + line + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return str(v)


def fmt(v: Any) -> str:
    """A number as the report and the terminal print it (an Estimate as "m [lo, hi]")."""
    if isinstance(v, Estimate):
        return str(v)
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return number_text(v, 4)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def text_table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned plain-text table."""
    cells = [[str(h) for h in header]] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title]
    for k, r in enumerate(cells):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if k == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_section(section: Section, stream: Any = None) -> None:
    """The section's numbers, settings and tables, as plain text."""
    out = stream if stream is not None else sys.stdout
    out.write(f"\n== {section.key}: {section.title} ({section.elapsed:.1f} s)\n")
    if section.summary:
        out.write(f"   {section.summary}\n")
    out.write(text_table("  measured:", ["name", "value"], section.numbers.items()) + "\n")
    for t in section.tables:
        out.write(text_table(f"  {t.title}:", t.header, t.rows) + "\n")
    if section.verdicts:
        out.write("  verdicts (95% confidence intervals over seeds):\n")
        for v in section.verdicts:
            out.write(f"  - {v.claim}\n      {v.sentence()}\n")
    out.write(text_table("  settings:", ["setting", "value"], section.settings.items()) + "\n")
    out.flush()


# ---------------------------------------------------------------------------- pictures


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 5.2,
               height: float = 3.8) -> tuple[Any, Any]:
    """A matplotlib figure with `nrows` x `ncols` panels of the given size each."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False)
    return fig, axes


def save_figure(fig: Any, out_dir: Path, name: str, tight: bool = True) -> Path:
    """Write `fig` as PNG under out_dir and close it; returns the path relative to out_dir."""
    rel = Path(name if name.endswith(".png") else name + ".png")
    if tight:
        fig.tight_layout()
    fig.savefig(out_dir / rel, dpi=110, bbox_inches=None if tight else "tight")
    plt.close(fig)
    return rel


def save_svg(svg: bytes | str, out_dir: Path, name: str) -> Path:
    """Write an SVG (e.g. a graph drawn by minigrad.viz) under out_dir; returns its path."""
    rel = Path(name if name.endswith(".svg") else name + ".svg")
    data = svg.encode() if isinstance(svg, str) else svg
    (out_dir / rel).write_bytes(data)
    return rel


def save_text(text: str, out_dir: Path, name: str) -> Path:
    rel = Path(name)
    (out_dir / rel).write_text(text, encoding="utf-8")
    return rel


def esc(text: Any) -> str:
    return html.escape(str(text))


# ---------------------------------------------------------------------------- speed


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run numpy's BLAS on one thread inside the block.

    The demos multiply small matrices (64 x 100); a multi-threaded BLAS spends more time
    waking threads than multiplying, and on a 2-core laptop one thread is several times
    faster.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:          # not installed: nothing to limit
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


# ---------------------------------------------------------------------------- seeds, plots


def seed_list(seed: int, quick: bool, full: int = 10, short: int = 3) -> list[int]:
    """The seeds of a comparison: `full` of them (10) in a full run, `short` (3) with --quick.
    Both variants of a comparison use the same list (paired seeds)."""
    return [seed + k for k in range(short if quick else full)]


def plot_band(ax: Any, x: Sequence[float] | np.ndarray, curves: np.ndarray, color: str,
              label: str | None = None, lw: float = 1.8, **kw: Any) -> None:
    """The mean of `curves` (rows: seeds) and its pointwise 95% t-interval as a band."""
    mean, lo, hi = band(np.asarray(curves, dtype=float))
    n = np.asarray(curves).shape[0]
    lab = None if label is None else f"{label} (mean of {n}, 95% CI)"
    ax.plot(x, mean, color=color, lw=lw, label=lab, **kw)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)


def error_bars(ax: Any, x: Sequence[float], estimates: Sequence[Estimate], color: str,
               label: str | None = None, fmt_: str = "o-", **kw: Any) -> None:
    """Points with 95% confidence intervals as error bars."""
    v = np.array([e.value for e in estimates])
    lo = np.array([e.lo for e in estimates])
    hi = np.array([e.hi for e in estimates])
    ax.errorbar(x, v, yerr=[v - lo, hi - v], fmt=fmt_, color=color, capsize=3,
                label=label, **kw)


# ---------------------------------------------------------------------------- models


def digits_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The bundled 8x8 digits, split 75/25 with `seed` and standardised with the training
    set's statistics: (X_train, X_test, y_train, y_test)."""
    from minigrad.data import load_digits, standardize, train_test_split

    X, y = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_fraction=0.25, seed=seed)
    Xtr, Xte, _, _ = standardize(Xtr, Xte)
    return np.asarray(Xtr), np.asarray(Xte), np.asarray(ytr), np.asarray(yte)


def to_tensor(x: Any) -> mg.Tensor:
    return mg.Tensor(np.asarray(x, dtype=np.float64))


def get_state(model: Any) -> dict[str, np.ndarray]:
    """Copies of every parameter and buffer (running statistics, counters) as numpy arrays,
    by the names of `state_dict`."""
    return {k: np.array(np.asarray(v), copy=True) for k, v in model.state_dict().items()}


def set_state(model: Any, state: dict[str, np.ndarray]) -> None:
    """Put back what `get_state` took (copied into the model's own arrays)."""
    model.load_state_dict({k: np.array(v, copy=True) for k, v in state.items()})


def param_names(model: Any) -> list[str]:
    return [n for n, _ in model.named_parameters()]


def param_grads(model: Any) -> list[np.ndarray]:
    """d(loss)/d(parameter) of the last backward, as numpy arrays (zeros where none)."""
    return [np.zeros(np.asarray(p).shape) if p.grad is None else np.array(np.asarray(p.grad))
            for p in model.parameters()]


def make_mlp(sizes: Sequence[int], activation: str = "sigmoid", batchnorm: bool = False,
             dropout: float = 0.0, seed: int = 0, init_std: float | None = None,
             bn_momentum: float = 0.1, norm: Callable[[int], Any] | None = None) -> Any:
    """A fully connected network that can hand back its hidden layers' pre-activations.

    Layers: Linear -> [BatchNorm1d] -> activation -> [Dropout], for every hidden size, and a
    last Linear to the outputs. `model(x)` gives logits; `model.forward_with_hidden(x)` also
    returns, per hidden layer, the input of its activation (z, after batch norm when there is
    one) and the Linear's output before batch norm (u).

    `init_std`: weights drawn from N(0, init_std^2) (as in Ioffe and Szegedy's MNIST network)
    instead of the Linear layer's default initialisation. `norm(width)` makes the
    normalisation layer instead of BatchNorm1d (e.g. ghost batch norm in demo 7).
    """
    from minigrad import nn

    gen = np.random.default_rng(seed)
    act_cls = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    normed = batchnorm or norm is not None

    class _MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.n_hidden = len(sizes) - 2
            self.batchnorm = normed
            self.dropout_p = dropout
            for i in range(self.n_hidden):
                setattr(self, f"fc{i + 1}", nn.Linear(sizes[i], sizes[i + 1],
                                                      dtype=np.float64, generator=gen))
                if normed:
                    layer = (norm(sizes[i + 1]) if norm is not None
                             else nn.BatchNorm1d(sizes[i + 1], momentum=bn_momentum))
                    setattr(self, f"bn{i + 1}", layer)
                setattr(self, f"act{i + 1}", act_cls())
                if dropout > 0:
                    setattr(self, f"drop{i + 1}", nn.Dropout(dropout, generator=gen))
            self.out = nn.Linear(sizes[-2], sizes[-1], dtype=np.float64, generator=gen)

        def forward_with_hidden(self, x: mg.Tensor) -> tuple[mg.Tensor, list, list]:
            zs, us = [], []
            h = x
            for i in range(self.n_hidden):
                u = getattr(self, f"fc{i + 1}")(h)
                z = getattr(self, f"bn{i + 1}")(u) if self.batchnorm else u
                us.append(u)
                zs.append(z)
                h = getattr(self, f"act{i + 1}")(z)
                if self.dropout_p > 0:
                    h = getattr(self, f"drop{i + 1}")(h)
            return self.out(h), zs, us

        def forward(self, x: mg.Tensor) -> mg.Tensor:
            return self.forward_with_hidden(x)[0]

    model = _MLP()
    if init_std is not None:
        state = get_state(model)
        for k in range(model.n_hidden + 1):
            name = f"fc{k + 1}" if k < model.n_hidden else "out"
            state[f"{name}.weight"] = gen.normal(0.0, init_std, state[f"{name}.weight"].shape)
            state[f"{name}.bias"] = np.zeros(state[f"{name}.bias"].shape)
        set_state(model, state)
    return model


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Evaluate in eval mode without recording a graph; restore the model's mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        with mg.no_grad():
            yield
    finally:
        model.train(was_training)


def predict(model: Any, X: np.ndarray, batch: int = 512) -> np.ndarray:
    """Logits of `model` for X in eval mode (batches of `batch`)."""
    outs = []
    with eval_mode(model):
        for s in range(0, len(X), batch):
            outs.append(np.asarray(model(to_tensor(X[s:s + batch]))))
    return np.concatenate(outs)


def accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.asarray(predict(model, X)).argmax(1) == y))


def cross_entropy_np(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of logits (numpy) against integer labels."""
    m = logits.max(1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(1)) + m[:, 0]
    return float(np.mean(lse - logits[np.arange(len(y)), y]))


def mean_loss(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of `model` on (X, y) in eval mode."""
    return cross_entropy_np(predict(model, X), y)


def batches_forever(X: np.ndarray, y: np.ndarray, batch_size: int,
                    seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Shuffled mini-batches, epoch after epoch (last short batch dropped)."""
    from minigrad.data import DataLoader

    loader = DataLoader(X, y, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    while True:
        for xb, yb in loader:
            yield np.asarray(xb), np.asarray(yb)


def train_classifier(model: Any, X: np.ndarray, y: np.ndarray, steps: int, batch_size: int,
                     lr: float, seed: int, label: str, momentum: float = 0.0,
                     every: int = 0,
                     callback: Callable[[int], None] | None = None) -> dict[str, list]:
    """Mini-batch SGD on cross-entropy for `steps` steps.

    `callback(step)` runs before the first step and then after every `every` steps (and after
    the last), e.g. to record test accuracy; the returned history has the training loss of
    every step.
    """
    from minigrad import optim
    from minigrad.nn import functional as F

    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses: list[float] = []
    model.train()
    if callback is not None:
        callback(0)
    data = batches_forever(X, y, batch_size, seed)
    with Progress(steps, label) as bar:
        for step in range(1, steps + 1):
            xb, yb = next(data)
            loss = F.cross_entropy(model(to_tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = loss.item()
            losses.append(value)
            bar.update(1, loss=value)
            if callback is not None and every and (step % every == 0 or step == steps):
                callback(step)
            if not math.isfinite(value):
                losses.extend([math.nan] * (steps - step))
                bar.update(steps - step)
                if callback is not None and every and step % every != 0:
                    callback(step)
                break
    return {"loss": losses}


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Moving average (same length; the first points average what there is)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    out = np.empty_like(v)
    for i in range(len(v)):
        lo = max(0, i + 1 - window)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def graph_figure(root: Any, out_dir: Path, name: str, caption: str,
                 focus: Sequence[Any] = (), **options: Any) -> Figure:
    """Draw the graph behind `root` with minigrad.viz, save it as SVG under out_dir, and
    return it as a Figure that the report shows in the viewer, opening on `focus` (nodes;
    by default the root)."""
    from minigrad import viz

    dot = viz.draw(root, focus=focus, **options)
    return Figure(save_svg(dot.pipe(format="svg"), out_dir, name), caption, dot.focus)


def finite_difference_values(loss_fn: Callable[[Sequence[float]], float],
                             point: Sequence[float], eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function of a few numbers (plain floats)."""
    point = [float(p) for p in point]
    grads = np.zeros(len(point))
    for i in range(len(point)):
        up = list(point)
        down = list(point)
        up[i] += eps
        down[i] -= eps
        grads[i] = (loss_fn(up) - loss_fn(down)) / (2 * eps)
    return grads


def hidden_with_batch_stats(model: Any, X: np.ndarray) -> tuple[list, list]:
    """The hidden layers' (z, u) for the batch X, normalised with X's own statistics.

    A look at what training mode computes, without changing the model: the running
    statistics (and their counters) are put back afterwards and no graph is recorded.
    """
    state = get_state(model)
    was_training = model.training
    model.train()
    try:
        with mg.no_grad():
            _, zs, us = model.forward_with_hidden(to_tensor(X))
    finally:
        set_state(model, state)
        model.train(was_training)
    return [np.asarray(z) for z in zs], [np.asarray(u) for u in us]


def hidden_in_eval_mode(model: Any, X: np.ndarray) -> tuple[np.ndarray, list, list]:
    """The logits and the hidden layers' (z, u) for X in eval mode: batch norm with its
    running statistics, so each example's values depend on that example alone."""
    with eval_mode(model):
        logits, zs, us = model.forward_with_hidden(to_tensor(X))
    return np.asarray(logits), [np.asarray(z) for z in zs], [np.asarray(u) for u in us]
