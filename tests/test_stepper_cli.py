"""`python -m minigrad.stepper`: good expressions step through; hostile ones are refused with
a one-line error and exit code 2, never evaluated."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.stepper import ExpressionError, build

ROOT = Path(__file__).resolve().parents[1]
HAS_DOT = shutil.which("dot") is not None


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minigrad.stepper", *args], cwd=cwd or ROOT,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)


def test_the_classic_neuron_steps_and_ends_with_the_gradients():
    r = run("tanh(x*w + b)", "x=2", "w=-3", "b=6.8814")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = r.stdout
    for k in range(1, 7):
        assert f"step {k}/6" in out
    assert "step 1/6  out = tanh((x*w)+b)" in out
    assert "upstream dout/d((x*w)+b)" in out
    assert "-> x" in out and "0.499981 x (-3) = -1.49994" in out
    assert "d(tanh a)/da = 1 - tanh(a)^2" in out
    assert "out = 0.70712" in out
    assert "dout/dx = -1.49994" in out
    assert "dout/dw = 0.999963" in out
    assert "dout/db = 0.499981" in out
    assert "[Enter" not in out                   # stdin is not a terminal: no waiting


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")
def test_html_and_svg_are_written(tmp_path):
    r = run("sigmoid(a*a) + relu(b) / 2 - exp(-a) + log(b) ** 2 + sqrt(b)", "a=0.5", "b=3",
            "--html", str(tmp_path / "page.html"), "--svg", str(tmp_path / "graph.svg"))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg
    assert ">grad 1.0000<" in svg                 # drawn after backward: grads are shown
    assert f"wrote {tmp_path / 'page.html'}" in r.stdout


@pytest.mark.parametrize("expression, message", [
    ("__import__('os').system('touch PWNED')", "not allowed"),
    ("x.__class__", "attribute access is not allowed"),
    ("x.data", "attribute access is not allowed"),
    ("x[0]", "subscripts are not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("lambda: x", "lambda is not allowed"),
    ("open('f')", "call of 'open' is not allowed"),
    ("y + x", "unknown name 'y'"),
    ("x ** x", "exponent of ** must be a number"),
    ("tanh(x, x)", "takes exactly one argument"),
    ("tanh(x=x)", "takes exactly one argument"),
    ("'a' + x", "only numbers"),
    ("[x]", "List is not allowed"),
    ("x if x else x", "IfExp is not allowed"),
    ("x // 2", "operator FloorDiv is not allowed"),
    ("x == 2", "Compare is not allowed"),
    ("x +", "syntax error"),
    ("2 * 3", "no variables"),
    ("x / 0", "division by zero"),
    ("log(x - 5)", "math domain error"),
    ("tanh", "is a function"),
])
def test_hostile_or_bad_expressions_exit_2_with_one_line(tmp_path, expression, message):
    r = run(expression, "x=2", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("minigrad.stepper: error: ")
    assert message in lines[0]
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("args, message", [
    (["x * 2", "x=abc"], "not a number"),
    (["x * 2", "x"], "expected name=number"),
    (["x * 2", "1x=2"], "expected name=number"),
    (["x * 2", "x=nan"], "finite"),
    (["x * 2", "exp=1"], "function name"),
    (["x * y", "x=1"], "unknown name 'y'"),
    ([], "expression"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    r = run(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


# ---- the parser, in process (fast) --------------------------------------------------------

def test_build_makes_labelled_leaves_and_keeps_numbers_as_constants():
    out = build("2 * x + exp(1) - -y", {"x": 3.0, "y": 0.5})
    assert out.data == pytest.approx(2 * 3 + 2.718281828459045 + 0.5)
    out.backward()
    leaves = {n.label: n for n in _walk(out) if not n.parents}
    assert set(leaves) == {"x", "y"}                # exp(1) is a number, not a node
    assert leaves["x"].grad == 2.0 and leaves["y"].grad == 1.0


def test_huge_or_deep_expressions_are_refused():
    with pytest.raises(ExpressionError, match="longer than"):
        build("x+" * 2000 + "x", {"x": 1.0})
    with pytest.raises(ExpressionError):
        build("-" * 1900 + "x", {"x": 1.0})
    with pytest.raises(ExpressionError, match="too large"):
        build("x * 9 ** 99999", {"x": 1.0})


def _walk(root):
    from minigrad.viz.draw import walk
    return walk(root)
