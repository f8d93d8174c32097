"""Run the demos and write one HTML report.

    python -m demos                 # every demo, full budgets (a few minutes on 2 cores)
    python -m demos --quick         # small budgets (well under a minute)
    python -m demos --only 3,5      # some demos
    python -m demos --out DIR       # report folder (default: out/)
"""

from __future__ import annotations

import os

# Small matrices: one BLAS thread is faster than several (set before numpy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from . import DEMOS  # noqa: E402
from .common import Section, print_section, single_threaded_blas  # noqa: E402
from .report import write_report  # noqa: E402


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


def run_demos(numbers: Sequence[int], quick: bool, out_dir: Path, seed: int) -> list[Section]:
    """Run the demos `numbers` in order; each writes its pictures under out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    with single_threaded_blas():
        for n in numbers:
            module = importlib.import_module(f"demos.{DEMOS[n]}")
            sys.stderr.write(f"\n[demo {n}] {DEMOS[n]}\n")
            start = time.perf_counter()
            section = module.run(quick=quick, out_dir=out_dir, seed=seed)
            section.elapsed = time.perf_counter() - start
            print_section(section)
            sections.append(section)
    return sections


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small budgets (tests, a look)")
    parser.add_argument("--out", default="out", help="report folder (default: out)")
    parser.add_argument("--only", default=None, help="comma-separated demo numbers, e.g. 3,5")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every demo")
    args = parser.parse_args(argv)
    numbers = parse_only(args.only)
    out_dir = Path(args.out)
    start = time.perf_counter()
    sections = run_demos(numbers, args.quick, out_dir, args.seed)
    total = time.perf_counter() - start
    meta = {
        "command": "python -m demos " + " ".join(sys.argv[1:] if argv is None else argv),
        "mode": "quick (small budgets)" if args.quick else "full",
        "base seed": args.seed,
        "demos run": ", ".join(str(n) for n in numbers),
        "total time (s)": round(total, 1),
    }
    path = write_report(sections, out_dir, meta)
    print(f"\nAll done in {total:.1f} s. Report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
