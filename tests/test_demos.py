"""The demos: `python -m demos --quick` runs once (module fixture, in a subprocess, as a person
would run it), then each test checks one claim's numbers from out/numbers.json, with a margin,
on the fixed default seed. The full run is marked slow.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [f"d{i}" for i in range(1, 9)]


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


def _numbers(quick: dict, key: str) -> dict:
    assert quick["data"] is not None, quick["proc"].stderr[-3000:]
    return quick["data"]["sections"][key]["numbers"]


def _find(numbers: dict, pattern: str) -> float:
    """The one number whose name matches `pattern` (a regex)."""
    hits = [v for k, v in numbers.items() if re.search(pattern, k)]
    assert len(hits) == 1, f"{pattern!r} matched {len(hits)} names: {sorted(numbers)}"
    return hits[0]


# ---------------------------------------------------------------------------- the runner


def test_quick_run_exits_zero(quick: dict) -> None:
    proc = quick["proc"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def test_terminal_shows_numbers_and_progress(quick: dict) -> None:
    out, err = quick["proc"].stdout, quick["proc"].stderr
    for key in SECTIONS:
        assert f"== {key}:" in out
    assert "measured:" in out and "settings:" in out
    assert re.search(r"\[#+\.*\]\s+\d+/\d+", err), "no progress bar on stderr"


def test_report_has_every_section(quick: dict) -> None:
    page = (quick["out"] / "index.html").read_text(encoding="utf-8")
    for key in SECTIONS:
        assert f'<section id="{key}">' in page
        section = quick["data"]["sections"][key]
        assert section["title"] in page.replace("&#x27;", "'")
        assert section["numbers"], f"{key} measured nothing"
        assert "quick" in section["settings"]
    assert "FAILED" not in page
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
    assert n["training, true gradient: |b - b(0)| at end"] < 1e-12
    assert n["training, mean detached: |b - b(0)| at end"] > 1.0
    assert (n["training, mean+var detached: |W| at end"]
            > n["training, true gradient: |W| at end"] + 1.0)
    # and training is worse: the loss ends at least 20% higher
    assert n["training: loss ratio (mean+var detached / true gradient)"] > 1.2


def test_d3_standardised_inputs_train_faster(quick: dict) -> None:
    n = _numbers(quick, "d3")
    std_steps = n["standardised: steps to loss <= 0.01"]
    assert isinstance(std_steps, int) and std_steps <= 20
    assert str(n["raw: steps to loss <= 0.01"]).startswith("not reached")
    assert n["raw: steps to target, extrapolated from lambda_min"] > 1e5
    ratio = (n["standardised: largest stable learning rate"]
             / n["raw: largest stable learning rate"])
    assert ratio > 1e4
    for name in ("raw", "standardised"):   # the search finds the theoretical edge 2/lambda
        edge = n[f"{name}: largest stable learning rate"]
        assert edge == pytest.approx(n[f"{name}: 2 / largest Hessian eigenvalue (theory)"],
                                     rel=0.1)


def test_d4_covariate_shift_hurts_accuracy(quick: dict) -> None:
    n = _numbers(quick, "d4")
    assert n["trained on region A: accuracy on new region-A points"] >= 0.9
    assert n["trained on region A: accuracy on region-B points"] <= 0.7
    assert n["trained on region A: accuracy drop from A to B"] >= 0.25
    assert n["trained on A and B: accuracy on region-B points"] >= 0.9


def test_d5_batchnorm_trains_faster_and_pins_hidden_distributions(quick: dict) -> None:
    n = _numbers(quick, "d5")
    # at 20% of training (step 60 of 300 in quick mode) BN is far ahead
    plain_early = _find(n, r"^plain: test accuracy at step 60 \(mean")
    bn_early = _find(n, r"^BN: test accuracy at step 60 \(mean")
    assert bn_early >= plain_early + 0.3
    assert _find(n, r"^BN: test accuracy at step 300 \(mean") >= 0.9
    # the last hidden layer's input distribution: BN drifts much less in the second half
    for what in ("mean |shift of unit mean|", "mean |log std ratio|"):
        plain = n[f"plain: last hidden layer, {what}, second half"]
        bn = n[f"BN: last hidden layer, {what}, second half"]
        assert bn < plain / 5
    # the learning rate at which the plain network fails
    assert _find(n, r"^lr sweep: plain, lr 20,") <= 0.3
    assert _find(n, r"^lr sweep: BN, lr 20,") >= 0.8


def test_d6_santurkar_measurements(quick: dict) -> None:
    n = _numbers(quick, "d6")
    for cfg in ("sigmoid", "relu"):
        for key, value in n.items():
            if key.startswith(cfg) and isinstance(value, float):
                assert value == value and abs(value) < 1e6, key     # finite
        # what we measured (and Santurkar et al. report): BN does not reduce ICS ...
        assert n[f"{cfg}: ICS ratio BN / plain (layer 3)"] > 1.0
        # ... and the loss varies less along the gradient with BN
        assert n[f"{cfg}: loss-range ratio BN / plain"] < 0.8
        cos = n[f"{cfg} BN: ICS of layer 3: cos(G, G') (median)"]
        assert 0.0 < cos <= 1.0


def test_d7_noise_falls_like_one_over_sqrt_batch(quick: dict) -> None:
    n = _numbers(quick, "d7")
    slope = n["fitted slope of log spread vs log batch size"]
    assert -0.65 <= slope <= -0.35
    spreads = [n[f"spread of xhat at batch {b}"] for b in (16, 32, 64, 128, 256, 512)]
    assert all(a > b for a, b in zip(spreads, spreads[1:]))
    assert n["spread ratio batch 16 / batch 512"] > 4.0
    for key in ("plain, batch 16: test accuracy", "BN, batch 16: test accuracy",
                "BN + dropout 0.3, batch 16: test accuracy"):
        assert 0.8 <= n[key] <= 1.0


def test_d8_running_statistics_and_test_time(quick: dict) -> None:
    n = _numbers(quick, "d8")
    for layer in (1, 2):
        assert n[f"layer {layer}: mean |running mean - population mean| / population std"] < 0.1
        assert n[f"layer {layer}: mean |log(running var / population var)|"] < 0.15
    assert n["eval mode: max |logits one at a time - logits in a batch|"] < 1e-10
    acc = n["eval mode: test accuracy (whole test set as one batch)"]
    assert acc >= 0.9
    assert n["eval mode: test accuracy (one example at a time)"] == acc
    assert n["train mode, batch of 1"].startswith("ValueError")
    assert n["train mode, test batches of 2: accuracy"] <= acc - 0.2
    assert (n["train mode, test batches of 2: accuracy"]
            < n["train mode, test batches of 16: accuracy"])
    assert n["train mode, batches of 2: share of examples whose prediction depends on the "
             "partner"] > 0.5
    assert n["after restoring: eval accuracy"] == acc


# ---------------------------------------------------------------------------- the full run


@pytest.mark.slow
def test_full_run(tmp_path: Path) -> None:
    proc = _run_demos(tmp_path, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "numbers.json").read_text())
    assert sorted(data["sections"]) == SECTIONS
    n7 = data["sections"]["d7"]["numbers"]
    assert -0.65 <= n7["fitted slope of log spread vs log batch size"] <= -0.35
    n5 = data["sections"]["d5"]["numbers"]
    plain = _find(n5, r"^plain: test accuracy at step 400 \(mean")
    bn = _find(n5, r"^BN: test accuracy at step 400 \(mean")
    assert bn >= plain + 0.05          # measured: 0.962 vs 0.878 (seed 0)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for ref in set(re.findall(r'(?:src|href)="([^"#]+)"', page)):
        assert (tmp_path / ref).stat().st_size > 200
