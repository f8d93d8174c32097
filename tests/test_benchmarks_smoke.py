"""Checks of the benchmark harness: the numpy references are right (finite differences), every
minigrad row (eager and compiled) passes its gradient check as the worker runs it, the
orchestrator plans and pairs rounds as documented, and a quick run of workload D completes and
writes the expected JSON. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmarks.common import (
    Case,
    Settings,
    compare_grads,
    measure,
    traces_unchanged,
    warm_up_compiled,
)
from benchmarks.data import bn_data, make_moons, mlp_data, mlp_init, scalar_mlp_init
from benchmarks.reference import (
    bn_loss_and_grads,
    mlp_loss,
    mlp_loss_and_grads,
    scalar_mlp_loss_and_grads,
)

ROOT = Path(__file__).resolve().parents[1]


def numeric_grad(f: Callable[[], float], arr: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``f`` with respect to every element of ``arr`` (in place)."""
    out = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        up = f()
        arr[idx] = old - eps
        down = f()
        arr[idx] = old
        out[idx] = (up - down) / (2 * eps)
    return out


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_reference_mlp_grads_match_finite_differences(activation: str) -> None:
    sizes = (5, 4, 4, 3)  # two Linear -> BatchNorm1d -> act blocks, then Linear
    params = mlp_init(sizes, seed=7)
    X, y = mlp_data(sizes, batch=6, seed=7)
    _, grads = mlp_loss_and_grads(params, X, y, activation=activation)
    assert [g.shape for g in grads] == [p.shape for p in params]
    for p, g in zip(params, grads, strict=True):
        num = numeric_grad(lambda: mlp_loss(params, X, y, activation=activation), p)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_reference_batchnorm_grads_match_finite_differences() -> None:
    x, gamma, beta, R = bn_data(n=6, d=4, seed=3)
    _, grads = bn_loss_and_grads(x, gamma, beta, R)
    for arr, g in zip((x, gamma, beta), grads, strict=True):
        num = numeric_grad(lambda: bn_loss_and_grads(x, gamma, beta, R)[0], arr)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_reference_scalar_mlp_grads_match_finite_differences() -> None:
    X, y = make_moons(n=8, seed=5)
    layers = scalar_mlp_init((2, 3, 3, 1), seed=5)
    _, grads = scalar_mlp_loss_and_grads(layers, X, y, alpha=1e-2)
    for (W, b), (dW, db) in zip(layers, grads, strict=True):
        for arr, g in ((W, dW), (b, db)):
            num = numeric_grad(lambda: scalar_mlp_loss_and_grads(layers, X, y, 1e-2)[0], arr)
            np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_compare_grads_flags_a_mismatch() -> None:
    ref = [np.array([1.0, -2.0]), np.array([0.5])]
    assert compare_grads([r.copy() for r in ref], ref, ["a", "b"], "float64").ok
    bad = [ref[0] * 1.01, ref[1]]
    check = compare_grads(bad, ref, ["a", "b"], "float64")
    assert not check.ok and check.worst == "a"


TINY = Settings(samples=1, min_time=0.0, warmup=0.0)


@pytest.mark.parametrize(("workload", "engine"), [
    *((w, e) for w in ("B", "C", "E") for e in ("numpy", "minigrad", "minigrad-compiled")),
    ("C", "minigrad-composed"),
])
def test_rows_pass_their_gradient_check(workload: str, engine: str) -> None:
    """The numpy reference, and minigrad's rows as the harness runs them (workload D's
    engines run only in the slow test). A compiled row is compared with an eager copy of
    itself as well as with the oracle, and its timed calls must be replays."""
    from benchmarks.worker import run

    (row,) = run(workload, engine, "float32", TINY)["rows"]
    assert row["status"] == "ok", row.get("note")
    assert row["grad_check"]["ok"], row["grad_check"]
    if engine == "minigrad-compiled":
        extra = row["extra"]
        assert extra["traces"] >= 1 and extra["vs_eager_max_abs_err"] < 1e-5, extra
        if workload != "C":   # B and E: the steps beside the eager copy end in replays
            assert extra["traces_after_each_step"][-1] == extra["traces_after_each_step"][-2]


def test_torch_row_of_workload_e_passes_its_gradient_check() -> None:
    pytest.importorskip("torch")
    from benchmarks.worker import run

    (row,) = run("E", "torch-1t", "float32", TINY)["rows"]
    assert row["status"] == "ok", row.get("note")
    assert row["grad_check"]["ok"] and row["extra"]["torch_threads"] == 1


@pytest.mark.parametrize("engine", ["minigrad", "micrograd"])
def test_scalar_step_without_the_garbage_collector(engine: str) -> None:
    if engine == "micrograd":
        pytest.importorskip("micrograd")
    from benchmarks.worker import run

    (row,) = run("A.step-nogc", engine, "float64", TINY)["rows"]
    assert row["status"] == "ok", row.get("note")
    assert row["grad_check"]["ok"] and "garbage collector off" in row["what"]


def test_gc_off_cases_are_timed_with_the_collector_off() -> None:
    import gc

    seen: list[bool] = []
    for gc_on in (True, False):
        measure(Case(check=lambda: None, stmt=lambda: seen.append(gc.isenabled()), gc=gc_on),
                Settings(samples=2, min_time=0.0, warmup=0.0))
        assert set(seen) == {gc_on}, (gc_on, seen)
        seen.clear()
    assert gc.isenabled()


class _FakeCompiled:
    """Stands in for a minigrad.compile'd step: traces on its first ``settles`` calls."""

    def __init__(self, settles: int) -> None:
        self.traces, self.calls, self.settles = 0, 0, settles

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.settles:
            self.traces += 1


def test_compiled_steps_are_warmed_up_until_they_replay() -> None:
    step = _FakeCompiled(settles=2)           # traces, traces again, then replays
    assert warm_up_compiled(step, step) == 2 and step.calls == 3
    assert traces_unchanged(step, 2) is None
    step.traces += 1                          # a retrace while timed fails the row
    assert "traced again" in (traces_unchanged(step, 2) or "")
    with pytest.raises(AssertionError, match="still traces"):
        never = _FakeCompiled(settles=100)
        warm_up_compiled(never, never)


def test_workload_e_always_runs_its_references() -> None:
    from benchmarks import cli

    jobs = cli.plan(["E"], ["minigrad-compiled"], chain_reps=1, rounds=3)
    assert [(j.engine, j.dtype, j.rounds) for j in jobs] == [
        ("numpy", "float32", 3), ("minigrad-compiled", "float32", 3), ("torch-1t", "float32", 3)]
    nogc = cli.plan(["A.step-nogc"], ["minigrad"], chain_reps=1)
    assert [(j.workload, j.engine) for j in nogc] == [("A.step-nogc", "micrograd"),
                                                      ("A.step-nogc", "minigrad")]


@pytest.mark.slow
def test_quick_run_of_workload_d(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "D", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    rows = {(r["workload"], r["engine"]): r for r in data["rows"]}
    expected = {
        ("D.fwd", "numpy"),
        *((w, e) for e in ("minigrad-tensor", "minigrad-value", "torch-1t", "torch-2t")
          for w in ("D.fwd", "D.fwdbwd", "D.chain10k")),
        ("D.fwd", "micrograd"), ("D.fwdbwd", "micrograd"),
        ("D.fwd", "mygrad"), ("D.fwdbwd", "mygrad"),
        ("D.fwdbwd", "autograd"),
    }
    assert expected <= set(rows), sorted(expected - set(rows))
    assert rows[("D.fwd", "numpy")]["status"] == "ok"
    for key, row in rows.items():
        # peers may be missing (skipped, with a note); nothing may fail its gradient check
        assert row["status"] in ("ok", "skipped"), (key, row.get("note"))
        if row["status"] == "ok":
            assert row["median_s"] > 0 and row["grad_check"]["ok"]
            assert row["n_samples"] >= 1
        else:
            assert row["note"]
    machine = data["meta"]["machine"]
    assert {"cpu_model", "python", "numpy", "blas"} <= set(machine)
    assert "workload" in proc.stdout and "D.fwdbwd" in proc.stdout


def test_rounds_take_turns_and_ratios_pair_the_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """B and C run numpy, minigrad, numpy, minigrad, ...; a row's median pools its workers'
    samples and its ratio is the median of the per-round ratios."""
    import argparse

    from benchmarks import cli

    calls: list[tuple[str, str]] = []
    times = {"numpy": [1.0, 3.0, 1.2], "minigrad": [1.1, 3.6, 1.5]}   # a slow 2nd round

    def fake_run(job: cli.Job, args: argparse.Namespace) -> list[dict]:
        k = sum(1 for e, _ in calls if e == job.engine)
        calls.append((job.engine, job.dtype))
        t = times[job.engine][k]
        return [{"workload": "B", "engine": job.engine, "dtype": job.dtype, "status": "ok",
                 "samples_s": [t, t], "median_s": t, "n_samples": 2, "extra": {}}]

    monkeypatch.setattr(cli, "run_job_once", fake_run)
    jobs = cli.plan(["B"], ["minigrad"], chain_reps=1, rounds=3)
    jobs = [j for j in jobs if j.dtype == "float64" and j.engine in times]
    rows = cli.run_jobs(jobs, argparse.Namespace())
    assert calls == [("numpy", "float64"), ("minigrad", "float64")] * 3
    cli.add_ratios_and_targets(rows)
    mg = next(r for r in rows if r["engine"] == "minigrad")
    assert mg["n_samples"] == 6 and mg["median_s"] == pytest.approx(1.5)
    assert mg["extra"]["round_ratios"] == pytest.approx([1.1, 1.2, 1.25])
    assert mg["ratio"] == pytest.approx(1.2)
    assert mg["ratio_of_medians"] == pytest.approx(1.5 / 1.2)
    assert mg["ratio_torch1t"] is None                  # no torch-1t row in this run


def test_e_targets_read_the_paired_ratio_to_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from benchmarks import cli

    times = {"numpy": [1.0, 1.0, 1.0], "minigrad": [2.0, 5.0, 2.2],
             "minigrad-compiled": [0.9, 2.0, 1.0], "torch-1t": [2.0, 4.0, 2.0]}
    count: dict[str, int] = {}

    def fake_run(job: cli.Job, args: argparse.Namespace) -> list[dict]:
        k = count[job.engine] = count.get(job.engine, -1) + 1
        t = times[job.engine][k]
        return [{"workload": "E", "engine": job.engine, "dtype": job.dtype, "status": "ok",
                 "samples_s": [t], "median_s": t, "n_samples": 1, "extra": {}}]

    monkeypatch.setattr(cli, "run_job_once", fake_run)
    jobs = cli.plan(["E"], ["minigrad"], chain_reps=1, rounds=3)
    rows = {r["engine"]: r for r in cli.run_jobs(jobs, argparse.Namespace())}
    cli.add_ratios_and_targets(list(rows.values()))
    mg, comp = rows["minigrad"], rows["minigrad-compiled"]
    assert mg["extra"]["round_ratios_torch1t"] == pytest.approx([1.0, 1.25, 1.1])
    assert mg["ratio_torch1t"] == pytest.approx(1.1) and mg["target_met"] is False
    assert comp["ratio_torch1t"] == pytest.approx(0.5) and comp["target_met"] is True
    assert rows["torch-1t"]["ratio_torch1t"] == pytest.approx(1.0)
    table = cli.format_table(list(rows.values()))
    assert "vs torch-1t" in table and "<= 0.5x torch-1t" in table
