"""The orchestrator behind ``python -m benchmarks``: plans the rows, runs every engine in its
own worker process, then prints a table of medians, ratios and targets and writes JSON."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import wl_batchnorm, wl_course, wl_mlp, wl_overhead, wl_scalar
from benchmarks.common import Settings, machine_info
from benchmarks.worker import MARKER

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
DEFAULT_OUTPUT = PACKAGE_DIR / "results" / "latest.json"
GROUPS = ("A", "B", "C", "D", "E")
FULL_CHAIN = 1_000_000

# workload -> (reference engine, reference workload); ratio = median / reference median
REFERENCE: dict[str, tuple[str, str]] = {
    "A.step": ("micrograd", "A.step"),
    "A.step-nogc": ("micrograd", "A.step-nogc"),
    "B": ("numpy", "B"),
    "C": ("numpy", "C"),
    "D.fwd": ("numpy", "D.fwd"),
    "D.fwdbwd": ("numpy", "D.fwd"),
    "D.chain10k": ("numpy", "D.fwd"),
    "E": ("numpy", "E"),
}
# a second ratio, against PyTorch at one thread (the "vs torch-1t" column; E's targets)
TORCH_REFERENCE: dict[str, tuple[str, str]] = {
    "B": ("torch-1t", "B"),
    "C": ("torch-1t", "C"),
    "E": ("torch-1t", "E"),
}
# engines that always run in a workload (whatever --engines says), so that its ratios exist
ALWAYS = {"A.step": ("micrograd",), "A.step-nogc": ("micrograd",), "A.chain": ("micrograd",),
          "B": ("numpy",), "C": ("numpy",), "D": ("numpy",), "E": ("numpy", "torch-1t")}
# ratios over rounds are paired round by round (see _paired_ratio)
PAIRED = ("B", "C", "E")
UNITS: dict[str, tuple[str, float]] = {
    "A.step": ("ms", 1e3), "A.step-nogc": ("ms", 1e3), "A.chain": ("s", 1.0),
    "B": ("ms", 1e3), "C": ("ms", 1e3),
    "D.fwd": ("us", 1e6), "D.fwdbwd": ("us", 1e6), "D.chain10k": ("us", 1e6), "E": ("us", 1e6),
}


@dataclass
class Target:
    workload: str
    engines: tuple[str, ...]
    text: str
    met: Callable[[dict[str, Any]], bool | None]


def _chain_met(row: dict[str, Any]) -> bool | None:
    extra = row.get("extra", {})
    if extra.get("chain_length") != FULL_CHAIN:
        return None  # a shortened chain (--quick / --chain-length) says nothing about the target
    return row["median_s"] <= 5.0 and extra.get("peak_mb", float("inf")) <= 600.0


def _ratio_le(limit: float, key: str = "ratio") -> Callable[[dict[str, Any]], bool | None]:
    """Met when the row's ratio (``key``: "ratio" to the workload's reference, or
    "ratio_torch1t") is at most ``limit``."""
    def met(row: dict[str, Any]) -> bool | None:
        ratio = row.get(key)
        return None if ratio is None else ratio <= limit
    return met


def _time_le(limit_s: float) -> Callable[[dict[str, Any]], bool | None]:
    return lambda row: row["median_s"] <= limit_s


TARGETS = (
    Target("A.step", ("minigrad",), "<= 0.20x (>= 5x faster than micrograd)", _ratio_le(0.2)),
    Target("A.step-nogc", ("minigrad",), "<= 1.0x (micrograd, gc off too)", _ratio_le(1.0)),
    Target("A.chain", ("minigrad",), "<= 5 s and <= 600 MB peak", _chain_met),
    Target("B", ("minigrad",), "<= 1.3x", _ratio_le(1.3)),
    Target("B", ("minigrad-compiled",), "<= 1.0x", _ratio_le(1.0)),
    Target("C", ("minigrad", "minigrad-composed"), "<= 2x", _ratio_le(2.0)),
    Target("C", ("minigrad-compiled",), "<= 1.0x", _ratio_le(1.0)),
    Target("E", ("minigrad",), "<= 1.0x torch-1t", _ratio_le(1.0, "ratio_torch1t")),
    Target("E", ("minigrad-compiled",), "<= 0.5x torch-1t", _ratio_le(0.5, "ratio_torch1t")),
    Target("D.fwdbwd", ("minigrad-tensor",), "<= 5 us", _time_le(5e-6)),
    Target("D.fwdbwd", ("minigrad-value",), "<= 1.2 us", _time_le(1.2e-6)),
)


@dataclass
class Job:
    workload: str  # as the worker takes it: A.step, A.step-nogc, A.chain, B, C, D, E
    engine: str
    dtype: str
    reps: int = 1  # separate worker processes whose rows are merged (A.chain)
    rounds: int = 1  # B-E: the engines of one dtype take turns this many times (run_jobs)


def plan(only: list[str], engines: list[str] | None, chain_reps: int,
         rounds: int = 1) -> list[Job]:
    """The worker jobs for the selected workloads and engines. The reference engines of each
    workload (``ALWAYS``) always run so that ratios exist."""

    def wanted(engine: str, workload: str) -> bool:
        if engines is None or engine in ALWAYS[workload]:
            return True
        return any(engine == e or engine.startswith(e + "-") for e in engines)

    jobs: list[Job] = []
    for group in only:
        for sub in ("A.step", "A.step-nogc"):
            if group in ("A", sub):
                jobs += [Job(sub, e, "float64") for e in wl_scalar.ENGINES if wanted(e, sub)]
        if group in ("A", "A.chain"):
            jobs += [Job("A.chain", e, "float64", chain_reps if e != "micrograd" else 1)
                     for e in wl_scalar.ENGINES if wanted(e, "A.chain")]
        if group == "B":
            jobs += [Job("B", e, d, rounds=rounds) for d in ("float64", "float32")
                     for e in wl_mlp.ENGINES if wanted(e, "B")]
        if group == "C":
            jobs += [Job("C", e, d, rounds=rounds) for d in ("float64", "float32")
                     for e in wl_batchnorm.ENGINES if wanted(e, "C")]
        if group == "D":
            jobs += [Job("D", e, "float64", rounds=rounds) for e in wl_overhead.ENGINES
                     if wanted(e, "D")]
        if group == "E":
            jobs += [Job("E", e, d, rounds=rounds) for d in wl_course.DTYPES
                     for e in wl_course.ENGINES if wanted(e, "E")]
    return jobs


def expected_rows(job: Job) -> list[str]:
    if job.workload == "D":
        return [w for w in ("D.fwd", "D.fwdbwd", "D.chain10k")
                if wl_overhead.applicable(w, job.engine)]
    return [job.workload]


# ----------------------------------------------------------------------------- running


def worker_command(job: Job, args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "benchmarks.worker", job.workload, job.engine, job.dtype]
    if args.quick:
        cmd.append("--quick")
    for flag, value in (("--samples", args.samples), ("--min-time", args.min_time),
                        ("--chain-length", args.chain_length)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


# The same glibc allocator settings for every engine's worker (minigrad sets these itself on
# import, see minigrad/_malloc.py; giving them to every worker keeps the comparison fair).
MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),
    "MALLOC_TRIM_THRESHOLD_": str(128 * 1024 * 1024),
    "MALLOC_TOP_PAD_": str(64 * 1024 * 1024),
}


def worker_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for var, value in MALLOC_ENV.items():
        env.setdefault(var, value)
    if args.blas_threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.blas_threads)
    return env


def run_job_once(job: Job, args: argparse.Namespace) -> list[dict[str, Any]]:
    cmd = worker_command(job, args)
    base = {"engine": job.engine, "dtype": job.dtype, "extra": {}}
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=worker_env(args), capture_output=True,
                              text=True, timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        return [{**base, "workload": w, "status": "FAILED",
                 "note": f"worker timed out after {args.timeout:.0f} s"}
                for w in expected_rows(job)]
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER):])
            for row in result["rows"]:
                row["worker_env"] = result["worker_env"]
                row["command"] = " ".join(cmd[1:])
            return result["rows"]
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return [{**base, "workload": w, "status": "FAILED",
             "note": f"worker exited {proc.returncode} without a result: {' | '.join(tail)}"}
            for w in expected_rows(job)]


def merge_reps(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Merge the rows of repeated workers of one job (A.chain's fresh processes, the rounds
    of B and C): the median of all their samples, the worst memory."""
    if len(runs) == 1:
        return runs[0]
    merged = []
    for rows in zip(*runs, strict=True):
        first = dict(rows[0])
        ok = [r for r in rows if r.get("status") == "ok"]
        if len(ok) != len(rows):
            bad = next(r for r in rows if r.get("status") != "ok")
            merged.append(bad)
            continue
        samples = [s for r in rows for s in r["samples_s"]]
        first["samples_s"] = samples
        first["median_s"] = statistics.median(samples)
        first["n_samples"] = len(samples)
        extra = dict(first.get("extra", {}))
        for key in ("peak_mb", "after_backward_mb", "after_del_mb", "after_del_gc_mb"):
            if key in extra:
                extra[key] = max(r["extra"][key] for r in rows)
        for key in ("build_s", "backward_s"):
            if key in extra:
                extra[key] = statistics.median(r["extra"][key] for r in rows)
        if "chain_length" in extra:
            extra["nodes_per_s"] = (2 * extra["chain_length"] + 1) / first["median_s"]
        extra["reps"] = [{"seconds": r["median_s"], "peak_mb": r["extra"].get("peak_mb")}
                         for r in rows]
        first["extra"] = extra
        merged.append(first)
    return merged


def describe(row: dict[str, Any]) -> str:
    unit, mult = UNITS.get(row["workload"], ("s", 1.0))
    if row.get("status") == "ok":
        return f"{row['median_s'] * mult:.4g} {unit}"
    return row.get("status", "?")


def run_jobs(jobs: list[Job], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run every job; the jobs of one workload and dtype that have rounds take turns (numpy,
    minigrad, torch, ..., then numpy, minigrad, ... again), so that a slow spell of the
    machine falls on every engine alike rather than on one row's ratio."""
    rows: list[dict[str, Any]] = []
    done = 0
    i = 0
    while i < len(jobs):
        group = [jobs[i]]
        while (i + len(group) < len(jobs) and group[0].rounds > 1
               and (jobs[i + len(group)].workload, jobs[i + len(group)].dtype)
               == (group[0].workload, group[0].dtype)):
            group.append(jobs[i + len(group)])
        i += len(group)
        runs: list[list[list[dict[str, Any]]]] = [[] for _ in group]
        took = [0.0] * len(group)
        for _ in range(max(job.rounds for job in group)):
            for k, job in enumerate(group):
                t0 = time.perf_counter()
                runs[k] += [run_job_once(job, args) for _ in range(job.reps)]
                took[k] += time.perf_counter() - t0
        for k, job in enumerate(group):
            new = merge_reps(runs[k])
            rows += new
            done += 1
            summary = ", ".join(f"{r['workload']}: {describe(r)}" for r in new)
            turns = f", {len(runs[k])} workers" if len(runs[k]) > 1 else ""
            print(f"[{done}/{len(jobs)}] {job.engine} {job.dtype} ({took[k]:.1f} s{turns}) "
                  f"{summary}", file=sys.stderr, flush=True)
    return rows


# ----------------------------------------------------------------------------- reporting


def add_ratios_and_targets(rows: list[dict[str, Any]]) -> None:
    by_key = {(r["workload"], r["engine"], r["dtype"]): r for r in rows}
    for row in rows:
        row["ratio"] = row["ratio_torch1t"] = None
        for field, table in (("ratio", REFERENCE), ("ratio_torch1t", TORCH_REFERENCE)):
            ref = table.get(row["workload"])
            ref_row = by_key.get((ref[1], ref[0], row["dtype"])) if ref else None
            if ref is None or ref_row is None or row.get("status") != "ok" or \
                    ref_row.get("status") != "ok":
                continue
            of_medians = row["median_s"] / ref_row["median_s"]
            round_ratios = _paired_ratios(row, ref_row)
            row[field] = statistics.median(round_ratios) if round_ratios else of_medians
            if field == "ratio":
                row["ratio_of_medians"] = of_medians
                row["ratio_to"] = f"{ref[0]} {ref[1]}"
                if round_ratios:
                    row.setdefault("extra", {})["round_ratios"] = round_ratios
            else:
                row["ratio_torch1t_of_medians"] = of_medians
                if round_ratios:
                    row.setdefault("extra", {})["round_ratios_torch1t"] = round_ratios
        row["target"] = None
        row["target_met"] = None
        for target in TARGETS:
            if target.workload == row["workload"] and row["engine"] in target.engines:
                row["target"] = target.text
                if row.get("status") == "ok":
                    row["target_met"] = target.met(row)


def _paired_ratios(row: dict[str, Any], ref_row: dict[str, Any]) -> list[float] | None:
    """With rounds (B, C, E): per round, this engine's median / the reference's median in
    the same round (the row's ratio is their median). The two workers of a round ran close
    together, so a slow spell of the machine that hits both cancels out; None without
    rounds."""
    mine = [r["seconds"] for r in row.get("extra", {}).get("reps", [])]
    theirs = [r["seconds"] for r in ref_row.get("extra", {}).get("reps", [])]
    if len(mine) < 2 or len(mine) != len(theirs) or row.get("workload") not in PAIRED:
        return None
    return [m / t for m, t in zip(mine, theirs, strict=True)]


def _fmt_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def row_note(row: dict[str, Any]) -> str:
    status = row.get("status")
    extra = row.get("extra") or {}
    parts = []
    if status != "ok":
        return row.get("note", "")
    if row["workload"].startswith("A.step") and extra.get("nodes"):
        parts.append(f"{extra['nodes']:,} nodes, {extra['nodes_per_s'] / 1e3:,.0f}k nodes/s")
    if row["workload"] == "A.chain":
        get = extra.get
        parts.append(f"{get('chain_length', 0):,} steps ({2 * get('chain_length', 0):,} ops): "
                     f"build {get('build_s', 0):.2f} s + "
                     f"backward {get('backward_s', 0):.2f} s; peak {get('peak_mb', 0):,.0f} MB, "
                     f"after del {get('after_del_mb', 0):,.0f} MB, after gc "
                     f"{get('after_del_gc_mb', 0):,.0f} MB (RSS)")
    if extra.get("traces"):
        parts.append(f"{extra['traces']} trace(s), then only replays (timed)")
    if row.get("q1_s") is not None and row.get("n_samples", 0) > 1 and row["median_s"] > 0:
        parts.append(f"IQR {100 * (row['q3_s'] - row['q1_s']) / row['median_s']:.0f}%")
    if extra.get("grad_dtypes"):
        parts.append(f"grad dtypes {','.join(extra['grad_dtypes'])}")
    if extra.get("note"):
        parts.append(extra["note"])
    return "; ".join(parts)


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ("workload", "engine", "dtype", "median", "ratio", "vs torch-1t", "target", "met",
              "note")
    lines = []
    for row in rows:
        unit, mult = UNITS.get(row["workload"], ("s", 1.0))
        status = row.get("status")
        median = f"{_fmt_number(row['median_s'] * mult)} {unit}" if status == "ok" else status
        ratio, vs_torch = (f"{row[k]:.2f}x" if row.get(k) is not None else "-"
                           for k in ("ratio", "ratio_torch1t"))
        met = {True: "yes", False: "NO", None: "-"}[row.get("target_met")]
        if row.get("target") and status == "ok" and row.get("target_met") is None:
            met = "n/a"
        lines.append((row["workload"], row["engine"], row["dtype"], median, ratio, vs_torch,
                      row.get("target") or "", met, row_note(row)))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(header)]
    widths[-1] = len(header[-1])

    def fmt(cells: tuple[str, ...]) -> str:
        left = [c.ljust(w) if i in (0, 1, 2, 6, 8) else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(left).rstrip()

    out = [fmt(header), fmt(tuple("-" * w for w in widths))]
    out += [fmt(line) for line in lines]
    return "\n".join(out)


def blas_summary(blas: dict[str, Any]) -> str:
    pools = sorted(blas.get("pools") or [blas], key=lambda p: str(p.get("internal_api")))
    return ", ".join(
        f"{p.get('internal_api') or p.get('name')} {p.get('version')} "
        f"({p.get('architecture') or '-'}, {p.get('num_threads', '?')} threads)" for p in pools)


def worker_blas_summary(rows: list[dict[str, Any]]) -> str:
    """The distinct BLAS configurations the workers reported (thread counts may differ from
    the orchestrator's under --blas-threads)."""
    seen: dict[str, None] = {}
    for row in rows:
        blas = (row.get("worker_env") or {}).get("blas")
        if blas:
            seen[blas_summary(blas)] = None
    return " | ".join(sorted(seen))


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_commit() -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10, check=False)
        return proc.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def parse_only(text: str | None) -> list[str]:
    if not text:
        return list(GROUPS)
    items = [t.strip() for t in text.split(",") if t.strip()]
    valid = set(GROUPS) | {"A.step", "A.step-nogc", "A.chain"}
    out = []
    for item in items:
        key = item.upper() if len(item) == 1 else item[0].upper() + item[1:]
        if key not in valid:
            raise SystemExit(f"--only: unknown workload {item!r} (choose from A,B,C,D,E,"
                             "A.step,A.step-nogc,A.chain)")
        out.append(key)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark minigrad against a numpy reference and peer engines. Each "
                    "engine runs in its own worker process; gradients are checked first.")
    p.add_argument("--quick", action="store_true",
                   help="few short samples and a 200,000-step chain (smoke tests; not for numbers)")
    p.add_argument("--only", help="comma-separated workloads: A,B,C,D,E (or A.step, "
                                  "A.step-nogc, A.chain)")
    p.add_argument("--engines",
                   help="comma-separated engines or families, e.g. minigrad,torch,mygrad "
                        "(the reference of each workload always runs)")
    p.add_argument("--samples", type=int, help="samples per row (default 20; quick 3)")
    p.add_argument("--min-time", type=float,
                   help="seconds per sample; the loop count is calibrated (default 0.05)")
    p.add_argument("--chain-length", type=int,
                   help="ops in the A.chain workload (default 1,000,000; quick 200,000)")
    p.add_argument("--chain-reps", type=int,
                   help="fresh worker processes for A.chain (default 3; quick 1)")
    p.add_argument("--rounds", type=int,
                   help="B to E: each engine's worker runs this many times, the engines "
                        "taking turns; samples are pooled (default 5; quick 1)")
    p.add_argument("--blas-threads", type=int,
                   help="set OPENBLAS/OMP/MKL_NUM_THREADS in the workers (default: unchanged)")
    p.add_argument("--timeout", type=float, help="seconds per worker (default 900; quick 120)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON output path")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row FAILED")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    args = build_parser().parse_args(argv)
    args.chain_reps = args.chain_reps or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.timeout = args.timeout or (120.0 if args.quick else 900.0)
    only = parse_only(args.only)
    engines = [e.strip() for e in args.engines.split(",")] if args.engines else None
    jobs = plan(only, engines, args.chain_reps, args.rounds)
    started = datetime.now(timezone.utc)
    load_before = _loadavg()
    t0 = time.perf_counter()
    print(f"running {len(jobs)} worker jobs ({'quick' if args.quick else 'full'} mode)",
          file=sys.stderr, flush=True)
    rows = run_jobs(jobs, args)
    add_ratios_and_targets(rows)
    settings = Settings.for_mode(args.quick)
    meta = {
        "started_utc": started.isoformat(timespec="seconds"),
        "duration_s": time.perf_counter() - t0,
        "mode": "quick" if args.quick else "full",
        "argv": sys.argv[1:] if argv is None else argv,
        "settings": {
            "samples": args.samples or settings.samples,
            "min_time_s": args.min_time or settings.min_time,
            "warmup_s": settings.warmup,
            "chain_length": args.chain_length or settings.chain_length,
            "chain_reps": args.chain_reps,
            "rounds": args.rounds,
            "blas_threads_env": args.blas_threads,
        },
        "git_commit": git_commit(),
        "loadavg_1_5_15_min": {"before": load_before, "after": _loadavg()},
        "machine": machine_info(),
        "memory_method": "A.chain: peak RSS of the worker (getrusage ru_maxrss) and current RSS "
                         "(/proc/self/statm), both minus the RSS just before the chain is built",
    }
    print(format_table(rows))
    m = meta["machine"]
    print(f"\n{m['cpu_model']} ({m['cpu_count']} CPUs); Python {m['python']}, numpy {m['numpy']};"
          f" thread pools in the workers: {worker_blas_summary(rows) or blas_summary(m['blas'])}; "
          f"load average before/after {load_before} / {meta['loadavg_1_5_15_min']['after']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str))
    print(f"wrote {args.output}")
    failed = [r for r in rows if r.get("status") == "FAILED"]
    return 1 if (args.strict and failed) else 0
