"""The demos: `python -m demos --quick` runs once (module fixture, in a subprocess, as a person
would run it), then each test checks one part from out/numbers.json: that every verdict's
inputs are there (an interval computed from the per-seed numbers, the seeds paired, the
sample count), the claims' directions where the quick run is decisive, and the runner's
progress output. The full run is marked slow.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [f"d{i}" for i in range(1, 9)]
OUTCOMES = {"supported", "not supported", "this set-up cannot tell"}
QUICK_SEEDS = 3


def _run_demos(out: Path, *args: str, timeout: int) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "demos", "--out", str(out), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run `python -m demos --quick --out <tmp>` once for every test in this module."""
    out = tmp_path_factory.mktemp("demos_quick")
    proc = _run_demos(out, "--quick", timeout=600)
    data = None
    if (out / "numbers.json").exists():
        data = json.loads((out / "numbers.json").read_text())
    return {"proc": proc, "out": out, "data": data}


def _section(quick: dict, key: str) -> dict:
    assert quick["data"] is not None, quick["proc"].stderr[-3000:]
    return quick["data"]["sections"][key]


def _numbers(quick: dict, key: str) -> dict:
    return _section(quick, key)["numbers"]


def _v(x):
    """The value of a number or of an estimate ({"value", "lo", "hi", ...})."""
    return x["value"] if isinstance(x, dict) else x


def _find(numbers: dict, pattern: str):
    """The one number whose name matches `pattern` (a regex)."""
    hits = [v for k, v in numbers.items() if re.search(pattern, k)]
    assert len(hits) == 1, f"{pattern!r} matched {len(hits)} names: {sorted(numbers)}"
    return hits[0]


def _verdict(quick: dict, key: str, pattern: str) -> dict:
    hits = [v for v in _section(quick, key)["verdicts"]
            if re.search(pattern, v["claim"] + " | " + v["quantity"])]
    assert len(hits) == 1, f"{pattern!r} matched {len(hits)} verdicts"
    return hits[0]


# ---------------------------------------------------------------------------- the runner


def test_quick_run_exits_zero(quick: dict) -> None:
    proc = quick["proc"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def test_terminal_shows_numbers_verdicts_and_progress(quick: dict) -> None:
    out, err = quick["proc"].stdout, quick["proc"].stderr
    for key in SECTIONS:
        assert f"== {key}:" in out
    assert "measured:" in out and "settings:" in out and "verdicts (95%" in out
    # which demo, then one line per finished run: a bar, the count, the variant, the seed,
    # the number of steps and the time
    for n in range(1, 9):
        assert re.search(rf"\[demo {n}: {n} of 8\]", err), f"no progress header for demo {n}"
    runs = re.findall(r"\[#*\.*\]\s+(\d+)/(\d+) (.*seed \d+.*\d+ steps.*): \d+\.\d s", err)
    assert len(runs) >= 30, err[-2000:]
    demos_seen = set(re.findall(r"^  (d\d) ", err, re.M))
    assert {"d2", "d3", "d4", "d5", "d6", "d7", "d8"} <= demos_seen
    meta = quick["data"]["meta"]
    assert meta["worker processes"] >= 1


def test_report_has_every_section_and_verdict_table(quick: dict) -> None:
    page = (quick["out"] / "index.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f'<section id="{key}">' in page
        section = quick["data"]["sections"][key]
        assert section["title"] in page.replace("&#x27;", "'")
        assert section["numbers"], f"{key} measured nothing"
        assert "quick" in section["settings"]
    assert "FAILED" not in page
    assert page.count('<table class="verdicts">') == 7            # d2 .. d8
    assert "95% confidence interval" in page
    # self-contained: no scripts, styles or images from elsewhere
    assert not re.search(r"""(src|href)=["']https?://""", page)


def test_report_images_exist(quick: dict) -> None:
    out = quick["out"]
    page = (out / "index.html").read_text(encoding="utf-8")
    refs = set(re.findall(r'(?:src|href)="([^"#]+)"', page))
    assert len(refs) >= 20
    for ref in refs:
        path = out / ref
        assert path.is_file(), f"the report points to {ref}, which is missing"
        assert path.stat().st_size > 200, f"{ref} is (nearly) empty"
    for key in SECTIONS:
        images = quick["data"]["sections"][key]["images"]
        assert images, f"{key} has no picture"
        for img in images:
            assert img in refs, f"{key}: {img} is not shown in the report"


def test_html_steppers_linked(quick: dict) -> None:
    links = quick["data"]["sections"]["d1"]["links"] + quick["data"]["sections"]["d2"]["links"]
    pages = [p for p in links if p.endswith(".html")]
    assert len(pages) >= 3
    for p in pages:
        text = (quick["out"] / p).read_text(encoding="utf-8")
        assert "<svg" in text and "http://" not in text.replace("http://www.w3.org", "")


def test_parse_only() -> None:
    from demos.__main__ import parse_only

    assert parse_only("3,5") == [3, 5]
    assert parse_only("2-4") == [2, 3, 4]
    assert parse_only(None) == list(range(1, 9))
    with pytest.raises(SystemExit):
        parse_only("9")


def test_the_numbers_do_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    one = _run_demos(tmp_path / "one", "--quick", "--only", "4", "--jobs", "1", timeout=300)
    two = _run_demos(tmp_path / "two", "--quick", "--only", "4", "--jobs", "2", timeout=300)
    assert one.returncode == 0 and two.returncode == 0, one.stderr[-2000:] + two.stderr[-2000:]
    a = json.loads((tmp_path / "one" / "numbers.json").read_text())["sections"]["d4"]
    b = json.loads((tmp_path / "two" / "numbers.json").read_text())["sections"]["d4"]
    assert a["numbers"] == b["numbers"] and a["verdicts"] == b["verdicts"]


# ---------------------------------------------------------------------------- the verdicts


def _t975(df: int) -> float:
    from demos.stats import t_ppf

    return t_ppf(0.975, df)


def test_every_verdict_has_its_interval_seeds_and_samples(quick: dict) -> None:
    """Recompute every verdict's interval from the per-seed numbers it carries."""
    for key in SECTIONS[1:]:
        verdicts = _section(quick, key)["verdicts"]
        assert verdicts, f"{key} has no verdict"
        for v in verdicts:
            e, samples = v["estimate"], v["samples"]
            assert v["outcome"] in OUTCOMES
            assert e["level"] == 0.95 and e["n"] == len(v["seeds"]) >= QUICK_SEEDS
            assert len(set(v["seeds"])) == len(v["seeds"])
            assert math.isfinite(e["lo"]) and math.isfinite(e["hi"])
            assert e["lo"] <= e["value"] <= e["hi"]
            assert v["smallest detectable effect"] >= 0
            if v["paired"]:
                a, b = np.array(samples["a"]), np.array(samples["b"])
                assert len(a) == len(b) == e["n"]
                d = np.log(a / b) if e["method"] == "paired log-ratio t" else a - b
            else:
                d = np.array(samples["x"])
                assert len(d) == e["n"]
            half = _t975(len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
            lo, hi, mid = d.mean() - half, d.mean() + half, d.mean()
            if e["method"] == "paired log-ratio t":
                lo, hi, mid = math.exp(lo), math.exp(hi), math.exp(mid)
            assert e["value"] == pytest.approx(mid, rel=1e-9, abs=1e-12), (key, v["quantity"])
            assert e["lo"] == pytest.approx(lo, rel=1e-9, abs=1e-12)
            assert e["hi"] == pytest.approx(hi, rel=1e-9, abs=1e-12)


def test_comparisons_are_paired_on_the_same_seeds(quick: dict) -> None:
    for key in ("d2", "d4", "d5", "d6", "d8"):
        n = _numbers(quick, key)
        seeds = _find(n, r"(^|: )seeds \(")
        assert len(seeds) == QUICK_SEEDS
        for v in _section(quick, key)["verdicts"]:
            assert v["seeds"] == seeds, (key, v["quantity"])
    # a verdict on two variants is paired (one number per seed for each), everywhere
    for key in SECTIONS[1:]:
        for v in _section(quick, key)["verdicts"]:
            assert v["paired"] == ("a" in v["samples"]), (key, v["quantity"])
    for key in ("d2", "d4", "d5", "d6"):
        assert all(v["paired"] for v in _section(quick, key)["verdicts"])


def test_settings_say_which_seeds(quick: dict) -> None:
    for key in SECTIONS[1:]:
        text = json.dumps(_section(quick, key)["settings"])
        assert "seed" in text


# ---------------------------------------------------------------------------- the claims


def test_d1_backprop_matches_chain_rule_and_finite_differences(quick: dict) -> None:
    n = _numbers(quick, "d1")
    for graph in ("expression", "neuron"):
        assert n[f"{graph}: max |engine - chain rule|"] < 1e-12
        assert n[f"{graph}: max |engine - finite difference|"] < 1e-8
        assert n[f"{graph}: max |Value grad - Tensor grad|"] < 1e-12
        assert n[f"{graph}: gradcheck (float64 Tensor) passed"] is True
    assert n["expression: backward steps"] == 6


def test_d2_batchnorm_gradient_and_detached_statistics(quick: dict) -> None:
    n = _numbers(quick, "d2")
    assert n["4 scalars: max |dx engine - closed form|"] < 1e-12
    assert n["4 scalars: max |engine - finite difference|"] < 1e-7
    assert n["max |dx engine - closed form| (primitives)"] < 1e-12
    assert n["max |dx engine - closed form| (F.batch_norm)"] < 1e-12
    assert n["max |dx| of sum(xhat), true gradient (should be 0)"] < 1e-12
    assert n["max |dx| of sum(xhat), statistics detached"] > 0.1
    assert n["||dx mean+var detached - dx|| / ||dx||"] > 0.1
    # the pre-BN bias never moves with the true gradient, drifts with mu detached
    assert n["training, true gradient: max over seeds of |b - b(0)| at end"] < 1e-12
    assert _v(n["training, mean detached: |b - b(0)| at end"]) > 1.0
    for claim in ("drift", "weights grow", "training worse"):
        assert _verdict(quick, "d2", claim)["outcome"] == "supported"
    ratio = _verdict(quick, "d2", "training worse")
    assert ratio["estimate"]["method"] == "paired log-ratio t" and ratio["null"] == 1.0


def test_d3_standardised_inputs_train_faster(quick: dict) -> None:
    n = _numbers(quick, "d3")
    assert _v(n["standardised: steps to loss <= 0.01, measured"]) <= 20
    assert n["raw: seeds that reached loss <= 0.01 within 2000 steps"] == "0 of 3"
    assert _v(n["raw: log10 steps to loss <= 0.01 (measured or extrapolated)"]) > 5
    assert n["largest stable learning rate, standardised / raw"]["lo"] > 1e4
    for name in ("raw", "standardised"):   # the search finds the theoretical edge 2/lambda
        assert n[f"{name}: |largest stable lr / (2 / lambda_max) - 1|, worst seed"] < 0.1
    for v in _section(quick, "d3")["verdicts"]:
        assert v["outcome"] == "supported"


def test_d4_covariate_shift_hurts_accuracy(quick: dict) -> None:
    n = _numbers(quick, "d4")
    assert _v(n["trained on region A: accuracy on new region-A points"]) >= 0.9
    assert _v(n["trained on region A: accuracy on region-B points"]) <= 0.7
    assert n["trained on region A: accuracy drop from A to B"]["lo"] >= 0.2
    assert _v(n["trained on A and B: accuracy on region-B points"]) >= 0.85
    for v in _section(quick, "d4")["verdicts"]:
        assert v["outcome"] == "supported"


def test_d5_each_network_at_its_best_rate_probed_in_eval_mode(quick: dict) -> None:
    s = _section(quick, "d5")
    n = s["numbers"]
    assert "eval mode" in s["settings"]["probes"]
    best = {name: n[f"{name}: best learning rate from the sweep"] for name in ("plain", "BN")}
    sweep = s["settings"]["learning-rate sweep"]
    for name, lr in best.items():
        assert f"{lr:g}" in sweep or str(lr) in sweep
        # steps to 90% with an interval, at the best and at the fixed rate
        for rate in {lr, 0.5}:
            est = n[f"{name}, lr {rate:g}: first probed step with test accuracy >= 90%"]
            assert est["n"] == QUICK_SEEDS and est["lo"] <= est["value"] <= est["hi"]
    assert sorted(n["sweep seeds (only to choose the rates)"]) != sorted(
        n["seeds (paired: the same seed gives both networks their start and batches)"])
    best_rate = _verdict(quick, "d5", "own best rate")
    assert best_rate["outcome"] == "supported" and best_rate["estimate"]["lo"] > 0
    drift = _verdict(quick, "d5", "unit means")
    assert drift["estimate"]["hi"] < 1.0          # batch norm's hidden inputs move less


def test_d6_measured_on_the_whole_training_set(quick: dict) -> None:
    from demos.common import digits_split

    s = _section(quick, "d6")
    n = s["numbers"]
    n_train = len(digits_split(0)[0])
    assert n["large fixed batch for every measurement (examples)"] == n_train
    assert str(n_train) in s["settings"]["measured"]
    assert "whole training set" in s["settings"]["measured"]
    for cfg in ("sigmoid", "relu"):
        for what in ("effective beta-smoothness", "ICS of layer 3"):
            est = _find(n, rf"^{cfg}: {re.escape(what)}.*same step")
            assert est["n"] == QUICK_SEEDS and 0 < est["lo"] <= est["hi"]
        cos = n[f"{cfg}: ICS cos(G, G') BN"]
        assert 0.0 < _v(cos) <= 1.0
    beta = [v for v in s["verdicts"] if "smoother" in v["claim"]]
    assert len(beta) >= 2 and all(v["estimate"]["method"] == "paired log-ratio t" for v in beta)
    assert any("same loss" in v["quantity"] for v in beta)


def test_d7_ghost_batch_norm_under_label_noise(quick: dict) -> None:
    n = _numbers(quick, "d7")
    slope = n["fitted slope of log spread vs log batch size"]
    assert -0.65 <= _v(slope) <= -0.35
    spreads = [_v(n[f"spread of xhat at batch {b}"]) for b in (16, 32, 64, 128, 256, 512)]
    assert all(a > b for a, b in zip(spreads, spreads[1:]))
    assert n["max |xhat in numpy - xhat of the network| (check)"] < 1e-10
    control = _verdict(quick, "d7", "Positive control")
    assert control["paired"] and control["estimate"]["value"] > 0
    ghost = [v for v in _section(quick, "d7")["verdicts"] if "ghost" in v["quantity"]]
    assert len(ghost) == 2
    text = json.dumps(_section(quick, "d7")["settings"])
    assert "labels replaced" in text and "ghost" in text


def test_d8_running_statistics_and_test_time(quick: dict) -> None:
    n = _numbers(quick, "d8")
    for layer in (1, 2):
        assert _v(n[f"layer {layer}: mean |running mean - population mean| / population "
                    "std"]) < 0.1
        assert _v(n[f"layer {layer}: mean |log(running var / population var)|"]) < 0.15
    assert n["eval mode: max |logits one at a time - logits in a batch|, worst seed"] < 1e-10
    assert n["eval mode: seeds where one at a time = whole batch (accuracy)"] == "3 of 3"
    assert _v(n["eval mode: test accuracy (whole test set as one batch)"]) >= 0.9
    assert n["train mode, batch of 1"].startswith("ValueError")
    assert n["after restoring: eval accuracy equals the eval accuracy, every seed"] is True
    for v in _section(quick, "d8")["verdicts"]:
        assert v["outcome"] == "supported"


# ---------------------------------------------------------------------------- the full run


@pytest.mark.slow
def test_full_run(tmp_path: Path) -> None:
    proc = _run_demos(tmp_path, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "numbers.json").read_text())
    assert sorted(data["sections"]) == SECTIONS
    for key in SECTIONS[1:]:
        for v in data["sections"][key]["verdicts"]:
            assert v["estimate"]["n"] >= 10, (key, v["quantity"])
    n7 = data["sections"]["d7"]["numbers"]
    assert -0.65 <= n7["fitted slope of log spread vs log batch size"]["value"] <= -0.35
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for ref in set(re.findall(r'(?:src|href)="([^"#]+)"', page)):
        assert (tmp_path / ref).stat().st_size > 200
