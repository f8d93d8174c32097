"""The tutorial notebook: committed without outputs, and executed headless by the test suite
(nbclient and ipykernel; skips where they are not installed), its statements checked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_tutorial():
    assert [p.name for p in NOTEBOOKS] == ["backprop_to_batchnorm.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: a code cell has outputs; clear them before committing")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed (the notebook draws graphs)")
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    work = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()           # raises CellExecutionError if a cell (or an assert) fails
    return nb


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.outputs


def _text(nb) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb) if o.output_type == "stream")


def test_the_tutorial_runs_and_every_cell_checks_its_claim(executed):
    errors = [o for o in _outputs(executed) if o.output_type == "error"]
    assert errors == []
    text = _text(executed)
    assert "by hand: dL/dx = -0.5, dL/dy = 0.75, dL/dz = -1.5" in text
    assert "engine:  dL/dx = -0.5, dL/dy = 0.75, dL/dz = -1.5" in text
    diffs = [float(v) for v in re.findall(r"max \|engine - closed form\| = (\S+)", text)]
    assert len(diffs) == 3 and max(diffs) < 1e-10
    rel = float(re.search(r"relative error of dx with mu and var detached: (\S+)", text)[1])
    assert rel > 0.1


def test_pictures_and_the_stepper_show_inline(executed):
    rich = [o for o in _outputs(executed) if o.output_type in ("execute_result", "display_data")]
    pictures = [o for o in rich if "<svg" in o["data"].get("image/svg+xml", "")
                or "<svg" in o["data"].get("text/html", "")]
    assert len(pictures) >= 2                          # the two mg.draw(...) cells
    steppers = [o for o in rich if "<iframe" in o["data"].get("text/html", "")]
    assert len(steppers) == 1
    page = steppers[0]["data"]["text/html"]
    assert "steps-data" in page and "Step" in page      # the HTML stepper, escaped in srcdoc
