"""Seeds in worker processes: every core busy, and a line of progress per finished run.

`python -m demos` opens one pool of worker processes for the whole run (`workers(jobs)`); a
demo hands its independent runs (one per seed and variant) to `run_all`, which returns their
results in the order given, whatever order they finished in. Every run is seeded by its own
arguments, so the numbers do not depend on how many workers there are. Without an open pool
(a demo called from Python, or `--jobs 1`) the runs go one after the other in this process.

Workers use one BLAS thread each (the matrices are small; see `common.single_threaded_blas`)
and stay silent; the parent prints which demo, which run and seed, how many steps, how long.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import common

_POOL: ProcessPoolExecutor | None = None


@dataclass(frozen=True)
class Task:
    """One independent run: `fn(*args)` in a worker; `name` says what it is (variant, seed,
    steps) in the progress lines."""

    name: str
    fn: Callable[..., Any]
    args: tuple = ()
    cost: float = 1.0          # relative; the costliest runs start first (less idle at the end)


def default_jobs() -> int:
    """How many worker processes: one per core this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:               # not Linux
        return max(os.cpu_count() or 1, 1)


def _init_worker() -> None:
    common.set_progress(False)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def _timed(fn: Callable[..., Any], args: tuple) -> tuple[Any, float]:
    start = time.perf_counter()
    return fn(*args), time.perf_counter() - start


@contextmanager
def workers(jobs: int) -> Iterator[None]:
    """Open the pool of `jobs` worker processes for the runs inside the block (none if 1)."""
    global _POOL
    if jobs <= 1:
        yield
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker)
    _POOL = pool
    try:
        yield
    finally:
        _POOL = None
        pool.shutdown(wait=True, cancel_futures=True)


def run_all(tasks: Sequence[Task], label: str, stream: Any = None) -> list[Any]:
    """Run every task (in the workers when a pool is open) and return the results in the
    order of `tasks`. One progress line per finished task: `label`, a bar, the count, the
    task's name and its time."""
    out = stream if stream is not None else sys.stderr
    results: list[Any] = [None] * len(tasks)
    total = len(tasks)
    start = time.perf_counter()

    def report(done: int, task: Task, secs: float) -> None:
        width = 20
        filled = int(round(width * done / max(total, 1)))
        out.write(f"  {label:<10.10} [{'#' * filled}{'.' * (width - filled)}] "
                  f"{done:>3}/{total:<3} {task.name}: {secs:.1f} s "
                  f"(total {time.perf_counter() - start:.0f} s)\n")
        out.flush()

    if _POOL is None:
        was = common.set_progress(False)
        try:
            for k, task in enumerate(tasks):
                results[k], secs = _timed(task.fn, task.args)
                report(k + 1, task, secs)
        finally:
            common.set_progress(was)
        return results
    order = sorted(range(total), key=lambda k: -tasks[k].cost)
    futures: dict[Future, int] = {_POOL.submit(_timed, tasks[k].fn, tasks[k].args): k
                                  for k in order}
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            k = futures[fut]
            results[k], secs = fut.result()
            report(done, tasks[k], secs)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return results
