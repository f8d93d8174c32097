"""Shared pieces of the benchmark harness: the case/row types, timing, gradient checks and
machine description."""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import math
import os
import platform
import resource
import statistics
import sys
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Skip(Exception):
    """Raised while building a case when the engine cannot run here (package or API missing)."""


class Unsupported(Exception):
    """Raised when an engine is known not to handle a workload (recorded as a note row)."""


# ----------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """How hard to measure. ``quick`` settings exist for smoke tests only."""

    samples: int = 20
    min_time: float = 0.05  # seconds per sample (the loop count is calibrated to reach it)
    warmup: float = 0.2  # seconds of warm-up calls before calibration
    chain_length: int = 1_000_000
    quick: bool = False

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        if quick:
            return cls(samples=3, min_time=0.01, warmup=0.02, chain_length=200_000, quick=True)
        return cls()


# ----------------------------------------------------------------------------- cases


@dataclass
class GradCheck:
    """Result of comparing an engine's gradients with the reference gradients."""

    ok: bool
    max_abs_err: float
    max_scaled_err: float  # max |got - ref| / (atol + rtol * |ref|); <= 1 means within tolerance
    worst: str
    rtol: float
    atol_rel: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "max_abs_err": self.max_abs_err,
            "max_scaled_err": self.max_scaled_err,
            "worst": self.worst,
            "rtol": self.rtol,
            "atol_rel": self.atol_rel,
            "detail": self.detail,
        }


@dataclass
class Case:
    """One timed row: a gradient check run first, then a timed statement.

    ``stmt`` is either a zero-argument callable or a statement string executed with
    ``namespace`` as globals (strings avoid a Python call per iteration, which matters for
    the microsecond-scale rows of workload D). ``per_call`` divides the time of one
    execution of ``stmt`` (e.g. 10_000 for a chain of 10_000 ops).
    """

    check: Callable[[], GradCheck]
    stmt: str | Callable[[], object]
    namespace: dict[str, Any] = field(default_factory=dict)
    per_call: int = 1
    what: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    after: Callable[[float], dict[str, Any]] | None = None  # extra fields from the median
    # checked after timing: a message marks the row FAILED (a compiled step that traced again
    # while it was timed measured the tracer, not the replay)
    verify_after: Callable[[], str | None] | None = None
    gc: bool = True  # False: timed with the garbage collector off, collected between samples


# ----------------------------------------------------------------------------- timing


def _timer(stmt: str | Callable[[], object], namespace: dict[str, Any],
           gc_on: bool = True) -> timeit.Timer:
    # timeit turns the garbage collector off while timing; ``gc.enable()`` as the setup
    # turns it back on so every row is timed with the collector ON (Python's default),
    # unless the case asks for it off (workload A.step-nogc).
    glb = dict(namespace)
    glb["gc"] = gc
    return timeit.Timer(stmt, setup="gc.enable()" if gc_on else "gc.disable()", globals=glb)


class _CollectingTimer:
    """A timer for rows timed with the collector off: ``gc.collect()`` before every timed
    stretch (untimed), so the garbage of one sample is not left to pile up in the next."""

    def __init__(self, timer: timeit.Timer) -> None:
        self.timer = timer

    def timeit(self, number: int) -> float:
        gc.collect()
        return self.timer.timeit(number)


def measure(case: Case, settings: Settings) -> dict[str, Any]:
    """Warm up, calibrate the loop count so one sample takes >= ``min_time``, then take
    ``samples`` samples. Returns seconds per op (``per_call`` applied)."""
    timer: Any = _timer(case.stmt, case.namespace, case.gc)
    if not case.gc:
        timer = _CollectingTimer(timer)
    # warm-up: at least one call and at least ``warmup`` seconds
    spent, calls, last = 0.0, 0, 0.0
    while calls < 1 or spent < settings.warmup:
        last = timer.timeit(1)
        spent += last
        calls += 1
    # calibration: grow the loop count until one loop lasts at least min_time (a single call
    # that already does is not repeated)
    loops, t = 1, last
    while t < settings.min_time:
        grow = settings.min_time / max(t, 1e-9) * 1.2
        loops = max(loops + 1, int(math.ceil(loops * min(grow, 100.0))))
        t = timer.timeit(loops)
    samples = [timer.timeit(loops) / loops / case.per_call for _ in range(settings.samples)]
    return summarize(samples, loops)


def summarize(samples: Sequence[float], loops: int) -> dict[str, Any]:
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q = statistics.quantiles(ordered, n=4)
        q1, q3 = q[0], q[2]
    else:
        q1 = q3 = ordered[0]
    return {
        "median_s": statistics.median(ordered),
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "q1_s": q1,
        "q3_s": q3,
        "n_samples": len(ordered),
        "loops_per_sample": loops,
        "samples_s": list(samples),
    }


# ----------------------------------------------------------------------------- gradient checks

TOLERANCES: dict[str, tuple[float, float]] = {
    # dtype: (rtol, atol_rel); atol = atol_rel * (scale of that gradient), see compare_grads
    "float64": (1e-6, 1e-8),
    "float32": (2e-3, 1e-3),
}


# A compiled step against an eager copy of itself: the same numpy calls on the same values,
# so only rounding may differ (float64 about 1e-12 relative, float32 a few ulps)
COMPILED_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-12, 1e-12),
    "float32": (1e-5, 1e-6),
}


def compare_grads(
    got: Sequence[Any],
    ref: Sequence[Any],
    names: Sequence[str],
    dtype: str,
    tolerances: tuple[float, float] | None = None,
) -> GradCheck:
    """allclose per gradient, with ``atol = atol_rel * scale`` where ``scale`` is the largest
    |reference| of that gradient, floored at 1% of the largest |reference| of all of them
    (so a gradient that is zero up to rounding, such as a Linear bias feeding batch norm,
    is compared at the scale of its neighbours instead of at its own noise level).
    ``tolerances`` = (rtol, atol_rel) overrides the dtype's defaults."""
    rtol, atol_rel = tolerances or TOLERANCES[dtype]
    if len(got) != len(ref):
        return GradCheck(False, math.inf, math.inf, "count", rtol, atol_rel,
                         f"{len(got)} gradients, expected {len(ref)}")
    refs = [np.asarray(r, dtype=np.float64) for r in ref]
    overall = max((float(np.max(np.abs(r))) if r.size else 0.0) for r in refs) or 1.0
    worst, worst_scaled, worst_abs, detail = "", 0.0, 0.0, ""
    for name, g, r in zip(names, got, refs, strict=True):
        if g is None:
            return GradCheck(False, math.inf, math.inf, name, rtol, atol_rel, f"{name}: no grad")
        g = np.asarray(g, dtype=np.float64).reshape(np.shape(g))
        if g.shape != r.shape:
            if g.size == r.size:
                g = g.reshape(r.shape)
            else:
                return GradCheck(False, math.inf, math.inf, name, rtol, atol_rel,
                                 f"{name}: shape {g.shape} != {r.shape}")
        scale = max(float(np.max(np.abs(r))) if r.size else 0.0, 1e-2 * overall)
        atol = atol_rel * scale
        diff = np.abs(g - r)
        if not np.all(np.isfinite(g)):
            return GradCheck(False, math.inf, math.inf, name, rtol, atol_rel,
                             f"{name}: non-finite gradient")
        scaled = float(np.max(diff / (atol + rtol * np.abs(r)))) if r.size else 0.0
        if scaled >= worst_scaled:
            worst, worst_scaled = name, scaled
            detail = f"{name}: max|diff|={float(np.max(diff)):.3g}, scale={scale:.3g}"
        worst_abs = max(worst_abs, float(np.max(diff)) if r.size else 0.0)
    return GradCheck(worst_scaled <= 1.0, worst_abs, worst_scaled, worst, rtol, atol_rel, detail)


def scalar_check(got: float, expected: float, name: str, rtol: float = 1e-9,
                 atol: float = 0.0) -> GradCheck:
    """Check one scalar (a loss value, or one gradient in workloads A.chain and D)."""
    err = abs(got - expected)
    tol = atol + rtol * abs(expected)
    scaled = err / tol if tol > 0 else (0.0 if err == 0 else math.inf)
    return GradCheck(scaled <= 1.0, err, scaled, name, rtol, atol,
                     f"{name}: got {got!r}, expected {expected!r}")


def warm_up_compiled(step: Any, call: Callable[[], object], min_calls: int = 2,
                     max_calls: int = 8) -> int:
    """Call a step made by ``minigrad.compile`` until a call replays instead of tracing (at least
    ``min_calls`` calls; a step that calls ``zero_grad`` traces twice: once before its
    gradients exist and once after). Returns ``step.traces``; raises when it keeps tracing."""
    for k in range(max_calls):
        before = step.traces
        call()
        if k + 1 >= min_calls and step.traces == before:
            return int(step.traces)
    raise AssertionError(f"the compiled step still traces after {max_calls} calls "
                         f"(traces={step.traces}); its timed calls would not be replays")


def traces_unchanged(step: Any, expected: int) -> str | None:
    """For ``Case.verify_after``: a message when the compiled step traced again (its timed
    calls were not all replays)."""
    if step.traces != expected:
        return (f"the compiled step traced again while timed (traces {expected} -> "
                f"{step.traces}): the timing is not of replays")
    return None


def all_checks(*checks: GradCheck) -> GradCheck:
    """The worst of several checks (all must pass)."""
    bad = [c for c in checks if not c.ok]
    if bad:
        return bad[0]
    return max(checks, key=lambda c: c.max_scaled_err)


# ----------------------------------------------------------------------------- machine info


def current_rss() -> int:
    """Resident set size of this process now, in bytes (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> dict[str, Any]:
    """BLAS library, version, kernel (architecture) and thread count.

    Uses threadpoolctl when installed (it reads the live thread pools); otherwise numpy's
    build configuration, which names the library but not the live thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [
            {k: p.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                   "architecture", "threading_layer", "prefix")}
            for p in threadpool_info()
        ]
        return {"source": "threadpoolctl", "pools": pools}
    info: dict[str, Any] = {"source": "numpy.show_config"}
    try:
        cfg = np.show_config(mode="dicts")  # type: ignore[call-arg]
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info.update({k: blas.get(k) for k in ("name", "version", "openblas configuration")})
    except Exception as exc:  # older numpy: no dict mode
        info["error"] = repr(exc)
    info["thread_env"] = {
        k: os.environ.get(k)
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
    }
    return info


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Everything about the machine and software that the numbers depend on."""
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "packages": {
            name: package_version(name)
            for name in ("minigrad", "torch", "autograd", "mygrad", "micrograd", "threadpoolctl")
        },
        "gc_enabled_while_timing": True,
    }


def require(module: str, pip_name: str | None = None) -> Any:
    """Import a peer package or raise :class:`Skip` with a note."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Skip(f"{pip_name or module} not installed ({exc})") from exc


def require_minigrad(sub: str | None = None) -> Any:
    """Import ``minigrad`` (or ``minigrad.<sub>``) or raise :class:`Skip` with a note."""
    name = "minigrad" if sub is None else f"minigrad.{sub}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if sub is not None and exc.name == name:
            raise Skip(f"minigrad API missing: {name}") from exc
        raise Skip(f"minigrad not importable ({exc})") from exc
    except Exception as exc:  # a half-written package may fail in other ways
        raise Skip(f"{name} failed to import ({type(exc).__name__}: {exc})") from exc


def np_dtype(dtype: str) -> type[np.floating[Any]]:
    return {"float64": np.float64, "float32": np.float32}[dtype]
