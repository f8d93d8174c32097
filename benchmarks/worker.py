"""One benchmark worker: ``python -m benchmarks.worker WORKLOAD ENGINE DTYPE [options]``.

Runs the rows of one workload for one engine in this (fresh) process: builds each case,
checks its gradients against the reference, and only then times it. Prints one line
``BENCHMARK-RESULT {json}`` on stdout. WORKLOAD is one of ``A.step``, ``A.step-nogc``,
``A.chain``, ``B``, ``C``, ``D`` (``D`` yields the rows ``D.fwd``, ``D.fwdbwd`` and
``D.chain10k``) or ``E``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks import wl_batchnorm, wl_course, wl_mlp, wl_overhead, wl_scalar
from benchmarks.common import Case, Settings, Skip, Unsupported, blas_info, measure

MARKER = "BENCHMARK-RESULT "
MODULES = {"A": wl_scalar, "B": wl_mlp, "C": wl_batchnorm, "D": wl_overhead, "E": wl_course}
WORKLOADS = ("A.step", "A.step-nogc", "A.chain", "B", "C", "D", "E")


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _api_error(engine: str, exc: BaseException) -> str | None:
    """A minigrad row that hits a missing or different API is skipped, not failed."""
    if not engine.startswith("minigrad"):
        return None
    if isinstance(exc, (AttributeError, NotImplementedError)):
        return f"minigrad API missing: {_short(exc)}"
    if isinstance(exc, TypeError):
        return f"minigrad API mismatch: {_short(exc)}"
    return None


def run_one(sub: str, engine: str, dtype: str, factory: Callable[[], Any],
            settings: Settings) -> dict[str, Any]:
    row: dict[str, Any] = {"workload": sub, "engine": engine, "dtype": dtype, "extra": {}}
    try:
        built = factory()
    except Skip as exc:
        return {**row, "status": "skipped", "note": str(exc)}
    except Unsupported as exc:
        return {**row, "status": "unsupported", "note": str(exc)}
    except Exception as exc:
        api = _api_error(engine, exc)
        if api:
            return {**row, "status": "skipped", "note": api}
        return {**row, "status": "FAILED", "note": f"error while building: {_short(exc)}",
                "traceback": traceback.format_exc(limit=8)}
    if isinstance(built, dict):  # measured by the workload itself (A.chain)
        row.update(built)
        return row
    case: Case = built
    row["what"] = case.what
    row["extra"] = case.extra
    try:
        check = case.check()
    except Exception as exc:
        api = _api_error(engine, exc)
        if api:
            return {**row, "status": "skipped", "note": api}
        return {**row, "status": "FAILED", "note": f"error in gradient check: {_short(exc)}",
                "traceback": traceback.format_exc(limit=8)}
    row["grad_check"] = check.as_dict()
    if not check.ok:
        return {**row, "status": "FAILED", "note": f"gradient mismatch, not timed ({check.detail})"}
    try:
        timing = measure(case, settings)
    except Exception as exc:
        return {**row, "status": "FAILED", "note": f"error while timing: {_short(exc)}",
                "traceback": traceback.format_exc(limit=8)}
    row.update(timing)
    row["status"] = "ok"
    problem = case.verify_after() if case.verify_after is not None else None
    if problem:
        row["status"] = "FAILED"
        row["note"] = problem
    if case.after is not None:
        row["extra"].update(case.after(timing["median_s"]))
    return row


def run(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    """All rows of ``workload`` for ``engine`` and ``dtype``, plus this worker's environment."""
    module = MODULES[workload[0]]
    rows = []
    for sub, factory in module.cases(workload, engine, dtype, settings).items():
        rows.append(run_one(sub, engine, dtype, factory, settings))
    env: dict[str, Any] = {"pid": os.getpid(), "blas": blas_info()}
    torch = sys.modules.get("torch")
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
        env["torch_interop_threads"] = torch.get_num_interop_threads()
    return {"rows": rows, "worker_env": env}


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return repr(obj)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__)
    p.add_argument("workload", choices=WORKLOADS)
    p.add_argument("engine")
    p.add_argument("dtype", choices=("float64", "float32"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--samples", type=int)
    p.add_argument("--min-time", type=float)
    p.add_argument("--warmup", type=float)
    p.add_argument("--chain-length", type=int)
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    s = Settings.for_mode(args.quick)
    if args.samples is not None:
        s.samples = args.samples
    if args.min_time is not None:
        s.min_time = args.min_time
    if args.warmup is not None:
        s.warmup = args.warmup
    if args.chain_length is not None:
        s.chain_length = args.chain_length
    return s


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args.workload, args.engine, args.dtype, settings_from(args))
    sys.stdout.write(MARKER + json.dumps(result, default=_jsonable) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
