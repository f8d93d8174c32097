"""minigrad.viz.draw: the DOT text of known graphs, clusters, collapse, determinism, and
rendering through the real Graphviz program."""

import re
import shutil

import graphviz
import numpy as np
import pytest

from minigrad import Tensor, Value, cat, scope
from minigrad.viz import GraphvizNotFound, backprop_steps, draw, render, save_svg, summarize

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' is not installed")


# ---- reading DOT text back -----------------------------------------------------------------

_STMT = re.compile(r'^\s*(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\S+?))[ \]]')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)")


def nodes_of(source):
    """DOT node id -> its label lines."""
    out = {}
    for line in source.splitlines():
        m = _STMT.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            label = m.group(2) if m.group(2) is not None else m.group(3)
            out[m.group(1)] = label.split("\\n")
    return out


def edges_of(source):
    return [(m.group(1), m.group(2)) for m in map(_EDGE.match, source.splitlines()) if m]


def clusters_of(source):
    """cluster name -> (label, set of node ids directly inside, parent cluster or None)."""
    out, stack = {}, []
    for line in source.splitlines():
        s = line.strip()
        m = re.match(r"subgraph (cluster_\w+) \{", s)
        if m:
            out[m.group(1)] = ["", set(), stack[-1] if stack else None]
            stack.append(m.group(1))
            continue
        if s == "}" and stack:
            stack.pop()
            continue
        if stack:
            lab = re.search(r'label="([^"]*)"', s)
            if lab and not _STMT.match(line):
                out[stack[-1]][0] = lab.group(1)
            node = _STMT.match(line)
            if node:
                out[stack[-1]][1].add(node.group(1))
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def by_first_line(source):
    return {lines[0]: nid for nid, lines in nodes_of(source).items()}


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8814, "b")
    n = x * w + b
    n.label = "n"
    y = n.tanh()
    y.label = "y"
    return x, w, b, y


# ---- Value graphs --------------------------------------------------------------------------

def test_value_graph_has_one_box_per_value_and_one_per_op():
    x, w, b, y = neuron()
    dot = draw(y)
    assert isinstance(dot, graphviz.Digraph)
    nodes = nodes_of(dot.source)
    # 3 leaves + 3 results, and an op node in front of each result
    assert len(nodes) == 6 + 3
    ops = sorted(lines[0] for nid, lines in nodes.items() if nid.endswith("_op"))
    assert ops == sorted(["*", "+", "tanh"])
    named = by_first_line(dot.source)
    assert nodes[named["x"]] == ["x", "data 2.0000", "grad 0.0000"]
    assert nodes[named["y"]][1] == "data 0.7071"
    # op node -> value node, input value -> op node
    edges = edges_of(dot.source)
    assert len(edges) == 2 + 2 + 1 + 3
    assert (named["y"] + "_op", named["y"]) in edges
    assert (named["n"], named["y"] + "_op") in edges


def test_value_nodes_show_grads_after_backward():
    x, w, b, y = neuron()
    y.backward()
    nodes = nodes_of(draw(y).source)
    named = {lines[0]: lines for lines in nodes.values()}
    assert named["x"][2] == f"grad {x.grad:.4f}" == "grad -1.4999"
    assert named["w"][2] == f"grad {w.grad:.4f}" == "grad 1.0000"
    assert named["y"][2] == "grad 1.0000"


def test_show_data_and_show_grad_can_be_turned_off():
    *_, y = neuron()
    lines = nodes_of(draw(y, show_data=False, show_grad=False).source)
    assert all(len(v) == 1 for v in lines.values())


def test_number_constants_show_in_the_op_node():
    x = Value(3.0, "x")
    y = ((x * 2.0 + 0.0001) ** 2 - 3) / 4.0
    ops = [lines[0] for nid, lines in nodes_of(draw(y).source).items() if nid.endswith("_op")]
    assert ops == ["* 2", "+ 0.0001", "** 2", "- 3", "* 0.25"]
    # still shown after a backward released what the ops saved
    y.backward()
    ops2 = [lines[0] for nid, lines in nodes_of(draw(y).source).items() if nid.endswith("_op")]
    assert ops2 == ops


def test_constants_on_the_left_and_in_other_ops():
    x = Value(0.5, "x")
    ops = [v[0] for k, v in nodes_of(draw(2.0 / (1.0 - x)).source).items() if k.endswith("_op")]
    assert ops == ["1 -", "2 /"]
    t = Tensor([1.0, 2.0], requires_grad=True, label="t")
    src = draw(cat([t, Tensor([5.0]), t])).source
    ops = [v[0] for k, v in nodes_of(src).items() if k.endswith("_op")]
    assert ops == ["cat(dim=0) (., 5, .)"]
    assert len(nodes_of(src)) == 3 and len(edges_of(src)) == 3


def test_reused_node_has_two_edges_into_its_consumer():
    a = Value(3.0, "a")
    y = a * a
    edges = edges_of(draw(y).source)
    assert edges.count(("n0", "n1_op")) == 2


def test_rankdir_and_bad_rankdir():
    *_, y = neuron()
    assert "rankdir=TB" in draw(y, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw(y, rankdir="sideways")


def test_draw_rejects_a_non_node():
    with pytest.raises(TypeError, match="Value or Tensor"):
        draw(3.0)


def test_user_labels_are_escaped():
    x = Value(1.0, 'say "hi" \\ <b>')
    dot = draw(x * 2.0)
    assert 'say \\"hi\\" \\\\ <b>' in dot.source


# ---- Tensor graphs -------------------------------------------------------------------------

def test_tensor_nodes_show_shape_dtype_and_a_summary():
    small = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="small")
    big = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, label="big")
    y = (big * small.sum()).sum()
    y.backward()
    nodes = {lines[0]: lines for lines in nodes_of(draw(y).source).values()}
    assert nodes["small"][1:] == ["(3,) float64", "data [1, 2, 3]", "grad [66, 66, 66]"]
    assert nodes["big"][1] == "(3, 4) float64"
    assert nodes["big"][2] == "data mean 5.5 std 3.45 [0, 11]"
    assert nodes["big"][3] == "grad mean 6 std 0 [6, 6]"
    # an intermediate tensor keeps no .grad (PyTorch-like), and backward released the graph:
    # nothing to show for it
    root_lines = nodes["sum(big*sum(small))"]
    assert root_lines[1] == "scalar float64" and root_lines[-1] == "grad -"


def test_every_node_shows_its_gradient_while_the_graph_is_there():
    """Intermediate tensors keep no .grad; the picture takes theirs from the backward walk,
    and they equal what backward computes (checked with retain_grad)."""
    x = Tensor(np.array([[1.0, 2.0], [3.0, 5.0]]), requires_grad=True, label="x")
    mu = x.mean(dim=0)
    mu.label = "mu"
    d = x - mu
    d.label = "d"
    loss = (d * d * x).sum()
    loss.label = "loss"
    nodes = {lines[0]: lines for lines in nodes_of(draw(loss).source).values()}
    for node in (mu, d):
        node.retain_grad()
    loss.backward()
    assert nodes["mu"][-1] == "grad " + summarize(mu.grad)
    assert nodes["d"][-1] == "grad " + summarize(d.grad)
    assert nodes["x"][-1] == "grad " + summarize(x.grad)
    assert nodes["loss"][-1] == "grad 1.0000"
    assert all(lines[-1] != "grad -" for lines in nodes.values() if len(lines) > 2)


def test_nodes_are_named_by_label_or_by_expression():
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    y = (x * w + 1.0).tanh() ** 2 - x
    firsts = [v[0] for k, v in nodes_of(draw(y).source).items() if not k.endswith("_op")]
    assert firsts == ["x", "w", "x*w", "(x*w)+1", "tanh((x*w)+1)", "tanh((x*w)+1)**2",
                      "(tanh((x*w)+1)**2)-x"]
    t = Tensor(np.ones((3, 2)), requires_grad=True, label="t")
    names = [v[0] for k, v in nodes_of(draw(t.mean(dim=0).sum()).source).items()
             if not k.endswith("_op")]
    assert names == ["t", "mean(t, dim=0)", "sum(mean(t, dim=0))"]
    assert not any(n.startswith("#") for n in names + firsts)


def _shapes():
    chain = Value(0.5, "x")
    for _ in range(12):
        chain = chain.tanh()
    fan = None
    for i in range(16):
        v = Value(0.1 * i, f"x{i}") * 2.0
        fan = v if fan is None else fan + v
    t = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True, label="x")
    mu = t.mean(dim=0)
    bn = ((t - mu) / ((t - mu) ** 2).mean(dim=0).sqrt() * 2.0 + 1.0).sum()
    return {"chain": chain, "fan": fan, "batch norm": bn, "neuron": neuron()[-1],
            "layers": layered()}


def _fit(dot, rankdir):
    """The scale at which the laid-out picture fits the viewer's 1000 x 560 box."""
    dot.graph_attr["rankdir"] = rankdir
    svg = dot.pipe(format="svg").decode()
    w, h = map(float, re.search(r'viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"', svg).groups())
    return min(1000 / w, 560 / h)


@needs_dot
@pytest.mark.parametrize("shape", ["chain", "fan", "batch norm", "neuron", "layers"])
def test_the_direction_is_chosen_from_the_graphs_shape(shape):
    """The chosen direction's real layout fits the viewer's box about as well as the other
    one or better (the choice is an estimate from the boxes' text, made without Graphviz)."""
    dot = draw(_shapes()[shape])
    chosen = re.search(r"rankdir=(\w+)", dot.source).group(1)
    other = "TB" if chosen == "LR" else "LR"
    assert _fit(dot, chosen) >= 0.93 * _fit(dot, other)


def test_a_given_direction_is_kept():
    for rankdir in ("LR", "TB"):
        assert f"rankdir={rankdir}" in draw(neuron()[-1], rankdir=rankdir).source


def test_tensor_number_constants_fold_into_the_op():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="x")
    v = x.var(dim=0, correction=0) + 1e-5
    nodes = nodes_of(draw(v).source)
    ops = [lines[0] for nid, lines in nodes.items() if nid.endswith("_op")]
    assert "+ 1e-05" in ops and "* -1" in ops and "mean(dim=0)" in ops
    # no box was drawn for the constant 0-d tensors
    assert all(lines[0] != "scalar float64" for lines in nodes.values())


def test_data_without_grad_is_drawn_without_a_grad_line():
    data = Tensor(np.ones((2, 2)), label="data")
    w = Tensor(np.ones((2, 2)), requires_grad=True, label="w")
    nodes = {lines[0]: lines for lines in nodes_of(draw((data @ w).sum()).source).values()}
    assert not any(line.startswith("grad") for line in nodes["data"])
    assert nodes["w"][-1].startswith("grad")


# ---- clusters and collapse -----------------------------------------------------------------

def layered():
    """Two scoped 'layers' in a scoped 'net', and a loss outside."""
    x = Tensor(np.linspace(-1, 1, 8).reshape(4, 2), label="x")
    w1 = Tensor(np.ones((2, 3)), requires_grad=True, label="w1")
    w2 = Tensor(np.ones((3, 1)), requires_grad=True, label="w2")
    with scope("net", "Sequential"):
        with scope("0", "Linear"):
            h = x @ w1
        with scope("1", "BatchNorm1d"):
            z = (h - h.mean(dim=0)) / (h.var(dim=0, correction=0) + 1e-5).sqrt()
        with scope("2", "Linear"):
            out = z @ w2
    loss = (out * out).sum()
    loss.label = "loss"
    return loss


def test_scopes_become_nested_clusters():
    src = draw(layered()).source
    cl = clusters_of(src)
    labels = {label: (members, parent) for label, members, parent in cl.values()}
    assert set(labels) == {"net (Sequential)", "net.0 (Linear)", "net.1 (BatchNorm1d)",
                           "net.2 (Linear)"}
    outer = next(k for k, v in cl.items() if v[0] == "net (Sequential)")
    for inner in ("net.0 (Linear)", "net.1 (BatchNorm1d)", "net.2 (Linear)"):
        assert labels[inner][1] == outer
    named = by_first_line(src)
    # leaves made outside any scope stay outside; the loss too
    everything_clustered = set().union(*(m for _, m, _ in cl.values()))
    assert named["w1"] not in everything_clustered and named["loss"] not in everything_clustered
    # the batch-norm ops: mean, -, var (mean, * -1, +, *, mean), + eps, sqrt, / : 10
    # ops, each with its result
    bn_members = labels["net.1 (BatchNorm1d)"][0]
    assert len([m for m in bn_members if m.endswith("_op")]) == 10
    assert len(bn_members) == 20


@pytest.mark.parametrize("pattern", ["BatchNorm1d", "1", "net.1"])
def test_collapse_by_kind_name_or_path_draws_one_box(pattern):
    loss = layered()
    full = nodes_of(draw(loss).source)
    dot = draw(loss, collapse=(pattern,))
    src = dot.source
    nodes = nodes_of(src)
    boxes = {nid: lines for nid, lines in nodes.items() if nid.startswith("c")}
    assert list(boxes.values()) == [["net.1 (BatchNorm1d)", "10 ops"]]
    assert len(nodes) == len(full) - 20 + 1
    (box,) = boxes
    edges = edges_of(src)
    into = [e for e in edges if e[1] == box]
    out_of = [e for e in edges if e[0] == box]
    named = by_first_line(src)
    # in: the Linear's output h; out: to the matmul of the next Linear
    assert len(into) == 1 and nodes[into[0][0]][1] == "(4, 3) float64"
    assert len(out_of) == 1 and nodes[out_of[0][1]] == ["@"]
    assert named.get("w1") and named.get("w2")
    # the box sits in its parent's cluster, the BatchNorm cluster is gone
    cl = clusters_of(src)
    labels = {v[0]: v[1] for v in cl.values()}
    assert "net.1 (BatchNorm1d)" not in labels
    assert box in labels["net (Sequential)"]


def test_collapsing_the_outer_scope_hides_the_inner_ones():
    src = draw(layered(), collapse=("Sequential",)).source
    assert clusters_of(src) == {}
    boxes = [v for k, v in nodes_of(src).items() if k.startswith("c")]
    assert boxes == [["net (Sequential)", "12 ops"]]
    # x, w1 and w2 feed the box; the box feeds the loss's mul twice, drawn once
    edges = edges_of(src)
    named = by_first_line(src)
    assert sorted(e for e in edges if e[1] == "c0") == sorted(
        [(named["x"], "c0"), (named["w1"], "c0"), (named["w2"], "c0")])
    assert len([e for e in edges if e[0] == "c0"]) == 1


def test_same_graph_twice_gives_the_same_dot_text():
    a, b = layered(), layered()
    assert draw(a).source == draw(b).source
    assert draw(a, collapse=("BatchNorm1d",)).source == draw(b, collapse="BatchNorm1d").source
    x1, *_, y1 = neuron()
    with scope("unrelated"):       # scopes made in between do not change the picture
        pass
    x2, *_, y2 = neuron()
    assert draw(y1).source == draw(y2).source


def test_over_max_nodes_is_a_clear_error():
    loss = layered()
    with pytest.raises(ValueError, match=r"max_nodes=20") as err:
        draw(loss, max_nodes=20)
    assert "collapse=" in str(err.value) and "Sequential" in str(err.value)
    # collapsing brings it under the limit
    draw(loss, max_nodes=20, collapse=("Sequential",))


def test_highlight_marks_the_step_and_shows_grads_so_far():
    x, w, b, y = neuron()
    steps = list(backprop_steps(y))
    tanh_step = steps[0]
    src = draw(y, highlight=tanh_step).source
    named = by_first_line(src)
    hot = {m.group(1) for m in re.finditer(r"^\s*(\w+) \[.*penwidth=3", src, re.M)}
    assert hot == {named["y"], named["y"] + "_op"}
    hot_edges = set(re.findall(r"(\w+ -> \w+) \[color=\"#d9480f\"", src))
    assert hot_edges == {f"{named['y']}_op -> {named['y']}", f"{named['n']} -> {named['y']}_op"}
    nodes = {lines[0]: lines for lines in nodes_of(src).values()}
    assert nodes["y"][2] == "grad 1.0000"
    assert nodes["n"][2] == "grad 0.5000"          # just sent: 1 - tanh^2
    assert nodes["x"][2] == "grad -"               # nothing arrived yet
    # the last step: every leaf shows its full gradient, as .backward() will
    last = draw(y, highlight=steps[-1]).source
    y.backward()
    assert nodes_of(last) == {k: v for k, v in nodes_of(draw(y).source).items()}


# ---- rendering through Graphviz --------------------------------------------------------------

@needs_dot
def test_renders_svg_with_one_group_per_node(tmp_path):
    loss = layered()
    dot = draw(loss)
    path = render(dot, tmp_path / "g.svg")
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    groups = re.findall(r'<g id="(\w+)" class="node', svg)
    assert len(groups) == len(nodes_of(dot.source))
    assert len(re.findall(r'class="cluster"', svg)) == 4
    # save_svg draws and renders in one go, with draw's options
    p2 = save_svg(loss, tmp_path / "c.svg", collapse=("BatchNorm1d",))
    assert len(re.findall(r'class="node', p2.read_text())) == len(nodes_of(dot.source)) - 19


@needs_dot
def test_renders_png_and_pdf(tmp_path):
    *_, y = neuron()
    assert render(draw(y), tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(draw(y), tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_missing_graphviz_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no `dot` anywhere
    *_, y = neuron()
    dot = draw(y)
    assert "digraph" in dot.source                     # the DOT text never needs Graphviz
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as err:
        render(dot, tmp_path / "g.svg")
    assert "brew install graphviz" in str(err.value)
    assert "https://graphviz.org/download/" in str(err.value)
    with pytest.raises(GraphvizNotFound):
        save_svg(y, tmp_path / "g.svg")


# ---- with minigrad.nn ------------------------------------------------------------------------

def _mlp_loss(like=None):
    """A 3-layer MLP with batch norm; with `like`, the same weights as that model."""
    nn = pytest.importorskip("minigrad.nn")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, 1))
    if like is not None:
        for mine, theirs in zip(model.parameters(), like.parameters(), strict=True):
            mine.data = theirs.detach().numpy().copy()
    x = Tensor(rng.standard_normal((16, 4)))
    out = model(x)
    return (out * out).mean(), model


def test_mlp_with_batchnorm_draws_by_layer_and_collapses():
    loss, model = _mlp_loss()
    dot = draw(loss)                                    # fits the default max_nodes
    cl = clusters_of(dot.source)
    bn = [label for label, _, _ in cl.values() if label.endswith("(BatchNorm1d)")]
    assert len(bn) == 2
    assert len([label for label, _, _ in cl.values() if label.endswith("(Linear)")]) == 3
    small = draw(loss, collapse=("BatchNorm1d",))
    boxes = [v for k, v in nodes_of(small.source).items() if k.startswith("c")]
    assert len(boxes) == 2 and all(v[0].endswith("(BatchNorm1d)") for v in boxes)
    assert len(nodes_of(small.source)) < len(nodes_of(dot.source))
    # the same model and data give the same picture
    loss2, _ = _mlp_loss(like=model)
    assert draw(loss2).source == dot.source


# ---- seams: pictures read the public node API, the steppers the engine's walk ---------------

def test_viz_reads_only_the_public_node_api():
    """No module of minigrad.viz touches a node's private fields (`_op`, `_parents`,
    `_saved`, `_scope`, `_g`, ...): pictures read op, parents, scope, label, data, grad and
    the op's own describe()/expression()/rule()."""
    import pathlib

    import minigrad.viz

    private = re.compile(r"\.(_op|_parents|_saved|_scope|_g|_mark|_extra|_label|_needs|_data"
                         r"|_grad)\b")
    for path in pathlib.Path(minigrad.viz.__file__).parent.glob("*.py"):
        hits = [line for line in path.read_text().splitlines() if private.search(line)]
        assert hits == [], f"{path.name} reads private node fields: {hits}"


def test_the_steppers_iterate_the_engines_own_backward_walk(monkeypatch):
    import minigrad.viz.steps as steps_module
    from minigrad.engine import walk_backward

    calls = []

    def spy(root, seed):
        calls.append(root)
        return walk_backward(root, seed)

    monkeypatch.setattr(steps_module, "walk_backward", spy)
    *_, y = neuron()
    steps = list(backprop_steps(y))
    assert calls == [y] and len(steps) == 6
    walked = walk_backward(y, 1.0)
    assert [s.node for s in steps] == [node for node, _, _ in walked]
    assert [s.upstream for s in steps] == [g for _, g, _ in walked]


@needs_dot
def test_a_drawing_shows_itself_in_the_viewer_in_jupyter():
    x, w, b, y = neuron()
    bundle = draw(y, focus=[w])._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    page = bundle["text/html"]
    assert "MinigradViewer" in page and page.count("<svg") == 1
    viewer_id = re.search(r'<div class="mg-viewer" id="([^"]+)"', page).group(1)
    ids = {lines[0]: nid for nid, lines in nodes_of(draw(y).source).items()}
    assert f'"focus": ["{viewer_id}-{ids["w"]}"]' in page
