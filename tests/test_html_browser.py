"""The HTML backprop stepper: one self-contained file, small, and working in a real headless
browser (Debian's chromium driven by Playwright; those tests skip where either is missing)."""

import json
import os
import re
import shutil

import numpy as np
import pytest

from minigrad import Tensor, Value, scope
from minigrad.viz import backprop_steps, save_backprop_html
from minigrad.viz.draw import plan

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz 'dot' is not installed (it lays the page out)")


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8814, "b")
    xw = x * w
    xw.label = "xw"
    n = xw + b
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    return out


def wide_value_graph(k=15):
    """About 100 drawn nodes: k products, a tanh each, summed."""
    total = None
    for i in range(k):
        x = Value(0.1 * i - 1.0, f"x{i}")
        t = (x * 0.5).tanh()
        total = t if total is None else total + t
    return total


def mlp_like(rng):
    """4 x (matmul -> composed batch norm -> relu) -> matmul: about 100 drawn nodes."""
    x = Tensor(rng.standard_normal((32, 8)), label="x")
    w1 = Tensor(rng.standard_normal((8, 16)), requires_grad=True, label="w1")
    w2 = Tensor(rng.standard_normal((16, 16)), requires_grad=True, label="w2")
    w3 = Tensor(rng.standard_normal((16, 16)), requires_grad=True, label="w3")
    w3b = Tensor(rng.standard_normal((16, 16)), requires_grad=True, label="w3b")
    w4 = Tensor(rng.standard_normal((16, 1)), requires_grad=True, label="w4")
    h = x
    for i, w in enumerate((w1, w2, w3, w3b)):
        with scope(str(i), "Block"):
            h = h @ w
            h = ((h - h.mean(dim=0)) / (h.var(dim=0, correction=0) + 1e-5).sqrt()).relu()
    out = h @ w4
    return (out * out).mean()


def page_data(text):
    m = re.search(r'<script id="steps-data" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


# ---- the file ------------------------------------------------------------------------------

def test_one_page_with_one_inline_svg_and_the_steps(tmp_path):
    root = neuron()
    path = save_backprop_html(root, tmp_path / "p.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("<svg") == 1 and "<?xml" not in text and "<!DOCTYPE svg" not in text
    data = page_data(text)
    steps = list(backprop_steps(root))
    assert len(data["steps"]) == len(steps) == 6
    p = plan(root)
    assert [s["node"] for s in data["steps"]] == [p.value_id(s.node) for s in steps]
    assert data["steps"][1]["expr"] == "n = xw+b"
    assert data["steps"][1]["rule"] == "d(a+b)/da = 1, d(a+b)/db = 1"
    assert [name for name, *_ in data["steps"][2]["sends"]] == ["x", "w"]
    # upstream x local = share, with the numbers
    assert data["steps"][2]["sends"][0][1] == "0.499981 \u00d7 (-3) = -1.49994"
    # the page does not touch the graph: backward still works afterwards
    root.backward()


@pytest.mark.parametrize("make", ["values", "tensors"])
def test_a_100_node_graph_gives_a_page_under_1_mb(tmp_path, rng, make):
    root = wide_value_graph() if make == "values" else mlp_like(rng)
    count = plan(root).node_count()
    assert 90 <= count <= 130
    size = save_backprop_html(root, tmp_path / "big.html").stat().st_size
    assert size < 1_000_000, f"{count} nodes gave {size} bytes"


def test_no_external_resources(tmp_path, rng):
    text = save_backprop_html(mlp_like(rng), tmp_path / "p.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", text, re.I)
    assert "@import" not in text
    assert "<link" not in text.lower()
    assert not re.search(r"<script[^>]*\bsrc=", text, re.I)
    assert "@font-face" not in text


def test_labels_cannot_break_out_of_the_page(tmp_path):
    x = Value(1.0, "</script><script>alert(1)</script>")
    text = save_backprop_html(x * 2.0, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text
    assert page_data(text)["steps"][1]["name"] == "</script><script>alert(1)</script>"


# ---- in a real browser ---------------------------------------------------------------------

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def _browser_path():
    path = os.environ.get("MINIGRAD_BROWSER")
    if path:
        return path if os.path.exists(path) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    path = _browser_path()
    if path is None:
        pytest.skip("no browser found (set MINIGRAD_BROWSER, or install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser):
    pages = []

    def open_(path, width=1280, height=720):
        page = browser.new_page(viewport={"width": width, "height": height})
        problems = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("request", lambda r: problems.append(f"request: {r.url}")
                if not r.url.startswith(("file:", "data:", "about:")) else None)
        page.goto(path.as_uri())
        pages.append((page, problems))
        return page, problems

    yield open_
    for page, _ in pages:
        page.close()


def marked(page, cls):
    return page.evaluate(
        f"Array.from(document.querySelectorAll('#graph .{cls}')).map(e => e.id).sort()")


def grad_label(page, node_id):
    return page.evaluate(
        "(id) => Array.from(document.getElementById(id).querySelectorAll('text'))"
        ".map(t => t.textContent).find(t => t.startsWith('grad '))", node_id)


@pytest.mark.browser
def test_next_button_and_arrow_keys_step_through(tmp_path, open_page):
    root = neuron()
    p = plan(root)
    ids = {n.label: p.value_id(n) for n in p.nodes}
    path = save_backprop_html(root, tmp_path / "neuron.html")
    page, problems = open_page(path)

    panel = page.locator("#panel")
    assert "Step 1 of 6" in panel.inner_text()
    assert "out = tanh(n)" in panel.inner_text()
    assert marked(page, "node.current") == sorted([ids["out"], ids["out"] + "_op"])
    assert grad_label(page, ids["out"]) == "grad 1.0000"
    assert grad_label(page, ids["n"]) == "grad 0.5000"        # sent by this step
    assert grad_label(page, ids["x"]) == "grad -"             # nothing yet
    assert page.locator("#prev").is_disabled()

    page.click("#next")
    text = panel.inner_text()
    assert "Step 2 of 6" in text and "n = xw+b" in text
    assert "d(a+b)/da = 1, d(a+b)/db = 1" in text
    assert "\u2192 xw" in text and "\u2192 b" in text
    assert marked(page, "node.current") == sorted([ids["n"], ids["n"] + "_op"])
    assert marked(page, "node.receives") == sorted([ids["xw"], ids["b"]])
    assert len(marked(page, "edge.hot")) == 3                 # n_op -> n, xw -> +, b -> +
    assert page.locator("#counter").inner_text() == "step 2 / 6"

    page.locator("#graph").focus()
    page.keyboard.press("ArrowRight")
    text = panel.inner_text()
    assert "Step 3 of 6" in text and "xw = x*w" in text
    assert "\u2192 x" in text and "0.499981 \u00d7 (-3) = -1.49994" in text
    assert "0.499981 \u00d7 2 = 0.999963" in text
    assert marked(page, "node.current") == sorted([ids["xw"], ids["xw"] + "_op"])
    assert grad_label(page, ids["x"]) == "grad -1.4999"
    assert grad_label(page, ids["w"]) == "grad 1.0000"

    page.keyboard.press("ArrowLeft")
    assert "Step 2 of 6" in panel.inner_text()
    assert grad_label(page, ids["x"]) == "grad -"             # going back undoes it

    page.locator("#slider").evaluate(
        "(e) => { e.value = 5; e.dispatchEvent(new Event('input')); }")
    text = panel.inner_text()
    assert "Step 6 of 6" in text and "b (leaf)" in text and "final gradient" in text
    assert marked(page, "node.current") == [ids["b"]]
    assert page.locator("#next").is_disabled()
    page.keyboard.press("Home")
    assert "Step 1 of 6" in panel.inner_text()
    assert problems == []


@pytest.mark.browser
def test_reused_node_shows_each_consumers_share(tmp_path, open_page):
    a = Value(3.0, "a")
    sq = a * a
    sq.label = "sq"
    y = sq + a
    y.label = "y"
    page, problems = open_page(save_backprop_html(y, tmp_path / "r.html"))
    page.keyboard.press("End")                                 # the last step is a
    text = page.locator("#panel").inner_text()
    assert "a (leaf)" in text and "used 3 times" in text
    assert text.count("from sq (mul)") == 2 and text.count("from y (add)") == 1
    assert "= 1 + 3 + 3 = 7" in text                           # the running sum
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")                          # sq = a*a sends to a twice
    text = page.locator("#panel").inner_text()
    assert text.count("1 \u00d7 3 = 3") == 2
    assert "a so far: 1 + 3 = 4" in text and "a so far: 4 + 3 = 7" in text
    assert problems == []


@pytest.mark.browser
def test_zoom_pan_fit_and_the_current_node_kept_in_view(tmp_path, open_page, rng):
    path = save_backprop_html(mlp_like(rng), tmp_path / "mlp.html")
    page, problems = open_page(path, 1000, 600)

    def view():
        return page.evaluate("document.querySelector('#graph svg').getAttribute('viewBox')")

    def in_view(node_id):
        return page.evaluate("""(id) => {
            const r = document.getElementById(id).getBoundingClientRect();
            const b = document.getElementById('graph').getBoundingClientRect();
            return r.left >= b.left && r.right <= b.right && r.top >= b.top
                && r.bottom <= b.bottom; }""", node_id)

    data = page_data(path.read_text(encoding="utf-8"))
    # a wide graph starts zoomed in to a readable scale (every text >= 11 px), on the first
    # node
    smallest = page.evaluate("""() => { const svg = document.querySelector('#graph svg');
        const s = svg.getScreenCTM().a;
        return Math.min(...Array.from(svg.querySelectorAll('text')).map(
            t => parseFloat(t.getAttribute('font-size')) * s)); }""")
    assert smallest >= 11
    assert in_view(data["steps"][0]["node"])
    for k in (1, 2, 3):
        page.click("#next")
        assert in_view(data["steps"][k]["node"])
    page.keyboard.press("End")
    assert in_view(data["steps"][-1]["node"])
    panel_top = page.locator("#panel").bounding_box()["y"]
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")

    page.click("#fit")
    fitted = view()
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)                                  # zoom in
    zoomed = view()
    assert zoomed != fitted
    assert float(zoomed.split()[2]) < float(fitted.split()[2])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 40)
    page.mouse.up()
    panned = view()
    assert panned != zoomed and panned.split()[2:] == zoomed.split()[2:]
    page.click("#fit")
    assert view() == fitted
    assert page.locator("#panel").bounding_box()["y"] == panel_top   # the panel stays put
    assert problems == []


def test_large_graphs_are_refused_with_advice(tmp_path, rng):
    with pytest.raises(ValueError, match="collapse="):
        save_backprop_html(mlp_like(rng), tmp_path / "p.html", max_nodes=30)
    path = save_backprop_html(mlp_like(rng), tmp_path / "p.html", max_nodes=30,
                              collapse=("Block",))
    assert len(page_data(path.read_text(encoding="utf-8"))["steps"]) > 30


def test_tensor_steps_show_numbers(tmp_path):
    x = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]), requires_grad=True, label="x")
    y = (x * x).sum()
    data = page_data(save_backprop_html(y, tmp_path / "t.html").read_text(encoding="utf-8"))
    (sq,) = [s for s in data["steps"] if s["op"] == "mul"]
    assert sq["kind"] == "(2, 2) float64"
    assert [name for name, *_ in sq["sends"]] == ["x", "x"]
    assert "[[ 1. , -2. ]," in sq["sends"][0][1] or "1." in sq["sends"][0][1]


# ---- the demos' report: every graph in the same viewer, readable ------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of the two demos that draw graphs (d1, d2), quick budgets."""
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("report")
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "demos", "--quick", "--only", "1,2",
                           "--out", str(out)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


VIEWERS = """() => Array.from(document.querySelectorAll('.mg-viewer')).map(v => {
    const svg = v.querySelector('svg'), box = v.querySelector('.mg-canvas');
    const b = box.getBoundingClientRect(), scale = svg.getScreenCTM().a;
    const sizes = Array.from(svg.querySelectorAll('text')).map(
        t => parseFloat(t.getAttribute('font-size')) * scale);
    return {id: v.id, minPx: Math.min(...sizes), height: b.height, width: b.width,
            texts: sizes.length, scale: scale}; })"""


def _on_screen(page, viewer_id, node_ids):
    """How many of these nodes of a viewer's graph are inside its visible box at least in
    part."""
    return page.evaluate("""([vid, ids]) => {
        const b = document.querySelector('#' + vid + ' .mg-canvas').getBoundingClientRect();
        return ids.filter(id => {
            const el = document.getElementById(vid + '-' + id);
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.right > b.left && r.left < b.right && r.bottom > b.top && r.top < b.bottom;
        }).length; }""", [viewer_id, node_ids])


@pytest.mark.browser
def test_every_report_graph_opens_readable_on_the_part_that_matters(report, open_page):
    data = json.loads((report / "numbers.json").read_text())
    graphs = [img for key in ("d1", "d2") for img in data["sections"][key]["images"]
              if img.endswith(".svg")]
    assert len(graphs) == 6
    page, problems = open_page(report / "index.html", 1280, 900)
    viewers = page.evaluate(VIEWERS)
    assert len(viewers) == len(graphs)
    for v in viewers:
        assert v["texts"] > 5
        assert v["minPx"] >= 11, v                   # every text readable at the start
        assert 80 <= v["height"] <= 600 and v["width"] > 500
    # the batch-norm graphs open on mu and var
    page_text = (report / "index.html").read_text(encoding="utf-8")
    for k, name in enumerate(("values", "tensor")):
        svg = (report / f"d2_{name}_graph.svg").read_text()
        ids = [m.group(1) for m in re.finditer(
            r'<g id="(n\d+)" class="node[^"]*">\s*<title>[^<]*</title>.*?<text[^>]*>'
            r'(mu|var)</text>', svg, re.S)]
        assert ids, f"no mu/var node in d2_{name}_graph.svg"
        assert _on_screen(page, f"d2-g{k}", ids) >= 1
    assert "MinigradViewer" in page_text and problems == []


@pytest.mark.browser
def test_report_viewer_pans_and_zooms_without_taking_the_page_scroll(report, open_page):
    page, problems = open_page(report / "index.html", 1280, 900)
    vid = "d2-g0"
    box = page.locator(f"#{vid} .mg-canvas")
    box.scroll_into_view_if_needed()

    def view():
        return page.evaluate(f"document.querySelector('#{vid} svg').getAttribute('viewBox')")

    start = view()
    b = box.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.mouse.wheel(0, 200)                        # a plain wheel scrolls the page
    assert view() == start
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)                       # Ctrl + wheel zooms the picture
    page.keyboard.up("Control")
    zoomed = view()
    assert float(zoomed.split()[2]) < float(start.split()[2])
    b = box.bounding_box()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2 - 150, b["y"] + b["height"] / 2)
    page.mouse.up()
    assert view().split()[2:] == zoomed.split()[2:] and view() != zoomed
    page.click(f"#{vid} [data-act=open]")
    assert view() == start
    page.click(f"#{vid} [data-act=fit]")
    w, h = map(float, view().split()[2:])
    home = page.evaluate(f"document.getElementById('{vid}').minigradViewer.home")
    assert w >= home["w"] - 1e-6 and h >= home["h"] - 1e-6
    assert problems == []
