"""Run the demos and write one HTML report.

    python -m demos                 # every demo, full budgets, 10 seeds per comparison
    python -m demos --quick         # small budgets, 3 seeds per comparison
    python -m demos --only 3,5      # some demos
    python -m demos --out DIR       # report folder (default: out/)
    python -m demos --jobs 1        # worker processes for the seeds (default: one per core)
"""

from __future__ import annotations

import os

# Small matrices: one BLAS thread is faster than several (set before numpy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from . import DEMOS  # noqa: E402
from .common import Section, esc, print_section, single_threaded_blas  # noqa: E402
from .parallel import default_jobs, workers  # noqa: E402
from .report import write_report  # noqa: E402
from .stats import Estimate, Verdict  # noqa: E402


def parse_only(text: str | None) -> list[int]:
    """'3,5' -> [3, 5]; None -> every demo."""
    if not text:
        return list(DEMOS)
    picked = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(p) for p in part.split("-", 1))
            picked.extend(range(lo, hi + 1))
        else:
            picked.append(int(part))
    unknown = [n for n in picked if n not in DEMOS]
    if unknown:
        raise SystemExit(f"--only: no demo numbered {unknown}; there are {sorted(DEMOS)}")
    return sorted(set(picked))


def run_demos(numbers: Sequence[int], quick: bool, out_dir: Path,
              seed: int, jobs: int = 1) -> tuple[list[Section], list[int]]:
    """Run the demos `numbers` in order; each writes its pictures under out_dir, and hands its
    seeds to `jobs` worker processes.

    A demo that raises becomes a section showing the traceback, and the others still run;
    returns the sections and the numbers of the demos that failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    sections, failed = [], []
    with single_threaded_blas(), workers(jobs):
        for k, n in enumerate(numbers):
            sys.stderr.write(f"\n[demo {n}: {k + 1} of {len(numbers)}] {DEMOS[n]}\n")
            start = time.perf_counter()
            try:
                module = importlib.import_module(f"demos.{DEMOS[n]}")
                section = module.run(quick=quick, out_dir=out_dir, seed=seed)
            except Exception:  # shown in the report; the exit code becomes 1
                failed.append(n)
                text = traceback.format_exc()
                sys.stderr.write(text)
                section = Section(key=f"d{n}", title=f"{DEMOS[n]} FAILED",
                                  html=f"<pre>{esc(text)}</pre>", summary="this demo raised")
            section.elapsed = time.perf_counter() - start
            print_section(section)
            sections.append(section)
    return sections, failed


def write_numbers(sections: Sequence[Section], out_dir: Path, meta: dict) -> Path:
    """Every section's numbers and settings as JSON (numbers.json), for scripts and tests."""
    data = {"meta": meta, "sections": {
        s.key: {"title": s.title, "summary": s.summary, "elapsed": s.elapsed,
                "numbers": s.numbers, "settings": s.settings,
                "verdicts": [v.as_dict() for v in s.verdicts],
                "images": [p.as_posix() for p in s.images],
                "links": [p for p, _ in s.links]} for s in sections}}
    path = out_dir / "numbers.json"
    path.write_text(json.dumps(data, indent=1, default=_jsonable), encoding="utf-8")
    return path


def _jsonable(x: object) -> object:
    if isinstance(x, Estimate | Verdict):
        return x.as_dict()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small budgets (tests, a look)")
    parser.add_argument("--out", default="out", help="report folder (default: out)")
    parser.add_argument("--only", default=None, help="comma-separated demo numbers, e.g. 3,5")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every demo")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="worker processes for the seeds (default: one per core, "
                             f"here {default_jobs()})")
    args = parser.parse_args(argv)
    numbers = parse_only(args.only)
    out_dir = Path(args.out)
    start = time.perf_counter()
    sections, failed = run_demos(numbers, args.quick, out_dir, args.seed, max(args.jobs, 1))
    total = time.perf_counter() - start
    meta = {
        "command": "python -m demos " + " ".join(sys.argv[1:] if argv is None else argv),
        "mode": "quick (small budgets)" if args.quick else "full",
        "base seed": args.seed,
        "demos run": ", ".join(str(n) for n in numbers),
        "worker processes": max(args.jobs, 1),
        "total time (s)": round(total, 1),
    }
    path = write_report(sections, out_dir, meta)
    write_numbers(sections, out_dir, meta)
    if failed:
        print(f"\nDemos {failed} FAILED (see above). Report: {path}")
        return 1
    print(f"\nAll done in {total:.1f} s. Report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
