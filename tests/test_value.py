"""Scalar ``minigrad.Value``: forward values, gradients, graph structure, accumulation rules."""

import math

import pytest

import minigrad
from minigrad import Value


def fd(f, x, h=1e-6):
    """Central difference of a float -> float function built from Values."""
    return (f(Value(x + h)).data - f(Value(x - h)).data) / (2 * h)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# name, f(Value) -> Value, forward closed form, derivative closed form, points
UNARY = [
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-1.3, 0.4, 2.0]),
    ("exp", lambda v: v.exp(), math.exp, math.exp, [-2.0, 0.0, 1.5]),
    ("log", lambda v: v.log(), math.log, lambda x: 1.0 / x, [0.3, 1.0, 4.2]),
    ("tanh", lambda v: v.tanh(), math.tanh, lambda x: 1.0 - math.tanh(x) ** 2, [-1.1, 0.0, 0.7]),
    (
        "sigmoid",
        lambda v: v.sigmoid(),
        sigmoid,
        lambda x: sigmoid(x) * (1.0 - sigmoid(x)),
        [-3.0, 0.0, 2.5],
    ),
    ("relu", lambda v: v.relu(), lambda x: max(0.0, x), lambda x: float(x > 0), [-2, -0.1, 0.5, 3]),
    ("sqrt", lambda v: v.sqrt(), math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 1.0, 7.0]),
    ("pow3", lambda v: v**3, lambda x: x**3, lambda x: 3 * x**2, [-1.5, 0.5, 2.0]),
    ("pow_neg2", lambda v: v**-2, lambda x: x**-2, lambda x: -2 * x**-3, [-1.5, 0.5, 2.0]),
    ("pow_half", lambda v: v**0.5, lambda x: x**0.5, lambda x: 0.5 * x**-0.5, [0.5, 2.0]),
    ("add_num", lambda v: v + 2.5, lambda x: x + 2.5, lambda x: 1.0, [-1.0, 3.0]),
    ("radd_num", lambda v: 2.5 + v, lambda x: 2.5 + x, lambda x: 1.0, [-1.0, 3.0]),
    ("sub_num", lambda v: v - 2.5, lambda x: x - 2.5, lambda x: 1.0, [-1.0, 3.0]),
    ("rsub_num", lambda v: 2.5 - v, lambda x: 2.5 - x, lambda x: -1.0, [-1.0, 3.0]),
    ("mul_num", lambda v: v * -3.0, lambda x: -3.0 * x, lambda x: -3.0, [-1.0, 3.0]),
    ("rmul_num", lambda v: -3.0 * v, lambda x: -3.0 * x, lambda x: -3.0, [-1.0, 3.0]),
    ("div_num", lambda v: v / 4.0, lambda x: x / 4.0, lambda x: 0.25, [-1.0, 3.0]),
    ("rdiv_num", lambda v: 4.0 / v, lambda x: 4.0 / x, lambda x: -4.0 / x**2, [-1.0, 3.0]),
    ("int_operand", lambda v: 3 * v + 1, lambda x: 3 * x + 1, lambda x: 3.0, [-1.0, 3.0]),
]


@pytest.mark.parametrize("name,f,forward,deriv,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_value_and_gradient_match_closed_form(name, f, forward, deriv, points):
    for x0 in points:
        x = Value(x0)
        y = f(x)
        y.backward()
        assert y.data == pytest.approx(forward(x0), rel=1e-12, abs=1e-12)
        assert x.grad == pytest.approx(deriv(x0), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name,f,forward,deriv,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_gradient_matches_finite_difference(name, f, forward, deriv, points):
    for x0 in points:
        if name == "relu" and abs(x0) < 1e-3:
            continue  # no finite difference at the kink
        x = Value(x0)
        f(x).backward()
        assert x.grad == pytest.approx(fd(f, x0), rel=1e-6, abs=1e-7)


# name, f(a, b), forward, (da, db) closed forms
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: (b, a)),
    ("div", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: (1.0 / b, -a / b**2)),
]


@pytest.mark.parametrize("name,f,forward,partials", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a0,b0", [(1.5, -2.0), (-0.3, 0.7), (4.0, 4.0)])
def test_binary_value_op_matches_closed_form(name, f, forward, partials, a0, b0):
    a, b = Value(a0), Value(b0)
    out = f(a, b)
    out.backward()
    da, db = partials(a0, b0)
    assert out.data == pytest.approx(forward(a0, b0), rel=1e-12)
    assert a.grad == pytest.approx(da, rel=1e-12)
    assert b.grad == pytest.approx(db, rel=1e-12)


def test_data_is_float_and_label_is_kept():
    v = Value(3, label="three")
    assert isinstance(v.data, float) and v.data == 3.0
    assert v.label == "three"
    assert Value(1.0).label == ""
    assert isinstance((v * 2).data, float)


def test_backward_sets_float_grad_on_every_node_micrograd_neuron():
    # the neuron from micrograd's README: o = tanh(x1*w1 + x2*w2 + b)
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    o.backward()

    n_val = 2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432
    assert o.data == pytest.approx(math.tanh(n_val), rel=1e-12)
    dn = 1.0 - math.tanh(n_val) ** 2  # d o / d n
    assert o.grad == 1.0
    for node in (n, s, x1w1, x2w2, b):
        assert node.grad == pytest.approx(dn, rel=1e-12)
    assert x1.grad == pytest.approx(-3.0 * dn, rel=1e-12)
    assert w1.grad == pytest.approx(2.0 * dn, rel=1e-12)
    assert x2.grad == pytest.approx(1.0 * dn, rel=1e-12)
    assert w2.grad == pytest.approx(0.0, abs=1e-15)
    for node in (x1, x2, w1, w2, b, x1w1, x2w2, s, n, o):
        assert isinstance(node.grad, float)


def test_composed_expression_matches_finite_differences(numeric_grad):
    def f(a, b, c):
        t = (a * b + c).tanh() * a - b / c
        return (t * 0.5).exp() + (a**2 + 1.0).log() + (c * c).sqrt().sigmoid() + (-b).relu()

    point = (0.7, -1.3, 2.1)
    vs = [Value(p) for p in point]
    out = f(*vs)
    out.backward()
    expected = numeric_grad(lambda *xs: f(*(Value(float(x)) for x in xs)).data, point)
    for v, g in zip(vs, expected, strict=True):
        assert v.grad == pytest.approx(float(g), rel=1e-6, abs=1e-8)


def test_reused_node_gradients_accumulate_within_one_pass():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == pytest.approx(2 * 3.0)

    a = Value(3.0)
    (a + a).backward()
    assert a.grad == pytest.approx(2.0)

    a = Value(3.0)
    (a * a * a + a).backward()
    assert a.grad == pytest.approx(3 * 3.0**2 + 1)

    a = Value(-1.5)
    b = a * 2.0
    c = b * b + b  # b used twice: dc/db = 2b + 1
    c.backward()
    assert b.grad == pytest.approx(2 * b.data + 1)
    assert a.grad == pytest.approx((2 * b.data + 1) * 2.0)


def test_leaf_grad_accumulates_across_two_separate_graphs():
    a, b, c = Value(2.0), Value(-3.0), Value(5.0)
    (a * b).backward()
    assert a.grad == pytest.approx(-3.0)
    (a * c).backward()
    assert a.grad == pytest.approx(-3.0 + 5.0)
    assert b.grad == pytest.approx(2.0)
    assert c.grad == pytest.approx(2.0)


def test_second_backward_on_same_graph_doubles_leaves_but_not_intermediates():
    a, b = Value(0.5), Value(-2.0)
    m = a * b
    t = m.tanh()
    out = t * 3.0
    # a scalar graph keeps nothing to release: backward can run again on it
    out.backward()
    first = {"m": m.grad, "t": t.grad, "out": out.grad, "a": a.grad, "b": b.grad}
    out.backward()
    # intermediate nodes show the latest pass, not a stale sum
    assert out.grad == pytest.approx(first["out"])
    assert t.grad == pytest.approx(first["t"])
    assert m.grad == pytest.approx(first["m"])
    # leaves accumulate across calls
    assert a.grad == pytest.approx(2 * first["a"])
    assert b.grad == pytest.approx(2 * first["b"])
    assert first["m"] == pytest.approx(3.0 * (1 - math.tanh(-1.0) ** 2))


def test_shared_intermediate_shows_latest_pass_while_leaf_accumulates():
    a, b = Value(1.5), Value(2.0)
    m = a * b  # intermediate reused by two different roots
    (m * 3.0).backward()
    assert m.grad == pytest.approx(3.0)
    assert a.grad == pytest.approx(3.0 * 2.0)
    (m * 5.0).backward()
    assert m.grad == pytest.approx(5.0)  # not 3 + 5
    assert a.grad == pytest.approx(3.0 * 2.0 + 5.0 * 2.0)
    assert b.grad == pytest.approx(3.0 * 1.5 + 5.0 * 1.5)


def test_op_and_parents_structure():
    a, b = Value(2.0), Value(3.0)
    assert a.op == "" and a.parents == ()
    p = a * b
    assert isinstance(p.op, str) and p.op != ""
    assert len(p.parents) == 2 and p.parents[0] is a and p.parents[1] is b
    d = b - a
    assert d.parents[0] is b and d.parents[1] is a
    sq = a * a
    assert len(sq.parents) == 2 and all(q is a for q in sq.parents)
    assert (a + a).op == (a + b).op
    assert (a * b).op != (a + b).op
    assert a.exp().parents == (a,) and a.exp().op not in ("", p.op)


@pytest.mark.parametrize(
    "make",
    [
        lambda v: v * 3.0,
        lambda v: 3.0 * v,
        lambda v: v + 1,
        lambda v: 1 + v,
        lambda v: v - 2.0,
        lambda v: 2.0 - v,
        lambda v: v / 2.0,
        lambda v: 2.0 / v,
        lambda v: v**2,
    ],
    ids=["mul", "rmul", "add", "radd", "sub", "rsub", "div", "rdiv", "pow"],
)
def test_python_numbers_are_not_graph_nodes(make):
    v = Value(2.0)
    out = make(v)
    assert len(out.parents) == 1
    assert out.parents[0] is v


def test_values_use_slots():
    leaf = Value(1.0)
    result = leaf * leaf + 1.0
    for node in (leaf, result):
        assert not hasattr(node, "__dict__")
    assert isinstance(minigrad.Value(0.0), Value)


def test_backward_through_relu_and_sqrt_chain():
    x = Value(4.0)
    y = ((x - 5.0).relu() + x.sqrt()) * 2.0  # relu branch is off: only sqrt contributes
    y.backward()
    assert y.data == pytest.approx(4.0)
    assert x.grad == pytest.approx(2.0 * 0.5 / math.sqrt(4.0))



def _random_value_graph(seed, values=(0.7, 1.3, 1.9)):
    """A random scalar graph over three leaves, with nodes that feed several consumers. The
    shape depends only on `seed`, so the same graph can be rebuilt at other leaf values."""
    import random

    rng = random.Random(seed)
    leaves = [Value(v, label=f"x{i}") for i, v in enumerate(values)]
    nodes = list(leaves)
    for _ in range(25):
        a, b = rng.choice(nodes), rng.choice(nodes[-6:])
        kind = rng.randrange(5)
        if kind == 0:
            out = a + b
        elif kind == 1:
            out = a * b
        elif kind == 2:
            out = (a - b).tanh()
        elif kind == 3:
            out = a * 0.5 + 1.0
        else:
            out = (a * a + 1.0).log()
        nodes.append(out)
    root = nodes[-1] + nodes[-2] + nodes[-3]
    return leaves, nodes, root


@pytest.mark.parametrize("seed", range(8))
def test_value_backward_equals_the_general_engine_loop_exactly(seed):
    """Value.backward takes a shorter path through the engine than Tensor.backward; it must
    give bit-for-bit the gradients of the general loop (run_backward) on every node."""
    from minigrad.engine import run_backward

    _, nodes, root = _random_value_graph(seed)
    root.backward()
    fast = [n.grad for n in nodes + [root]]
    for n in nodes + [root]:
        n.grad = 0.0
    run_backward(root, 1.0, retain_graph=True)
    general = [n.grad for n in nodes + [root]]
    assert fast == general
    assert any(g != 0.0 for g in fast[:3])


@pytest.mark.parametrize("seed", range(4))
def test_value_backward_matches_finite_differences_on_random_graphs(seed):
    values = (0.7, 1.3, 1.9)
    leaves, _, root = _random_value_graph(seed, values)
    root.backward()
    h = 1e-6
    for i, leaf in enumerate(leaves):
        up = [v + h * (j == i) for j, v in enumerate(values)]
        down = [v - h * (j == i) for j, v in enumerate(values)]
        numeric = (_random_value_graph(seed, up)[2].data
                   - _random_value_graph(seed, down)[2].data) / (2 * h)
        assert leaf.grad == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_backward_of_a_leaf_and_of_one_op_over_leaves():
    x = Value(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0
    a, b = Value(1.5), Value(2.0)
    c = a * b
    c.backward()
    assert (c.grad, a.grad, b.grad) == (1.0, 2.0, 1.5)
    c.backward()                       # leaves accumulate, the root shows the latest pass
    assert (c.grad, a.grad, b.grad) == (1.0, 4.0, 3.0)


def _every_op_graph(seed):
    """A random graph using every Value op (each applied where it is defined), with nodes that
    feed several consumers and relus that are off (their shares are signed zeros)."""
    import random

    rng = random.Random(seed)
    leaves = [Value(v, label=f"x{i}") for i, v in enumerate((0.7, -1.3, 1.9, -0.4))]
    nodes = list(leaves)
    ops = [
        lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
        lambda a, b: a / (b * b + 1.0), lambda a, b: -a, lambda a, b: (a * 0.3).exp(),
        lambda a, b: (a * a + 1.0).log(), lambda a, b: (a * a + 0.5).sqrt(),
        lambda a, b: a.tanh(), lambda a, b: a.sigmoid(), lambda a, b: a.relu(),
        lambda a, b: (-a).relu(), lambda a, b: a**2, lambda a, b: a**3, lambda a, b: a**0,
        lambda a, b: (a * a + 1.0) ** 0.5, lambda a, b: (a * a + 1.0) ** -1.5,
        lambda a, b: 2.0 - a, lambda a, b: 3.0 / (a * a + 1.0), lambda a, b: 1.5 + a,
        lambda a, b: a - 0.25, lambda a, b: -2.0 * a, lambda a, b: a / 4.0,
    ]
    for _ in range(60):
        a, b = rng.choice(nodes), rng.choice(nodes[-5:])
        nodes.append(rng.choice(ops)(a, b))
    root = nodes[-1] * nodes[-2] + nodes[-3] - nodes[-4]
    return leaves, nodes, root


@pytest.mark.parametrize("seed", range(12))
def test_value_backward_equals_the_general_loop_bit_for_bit_for_every_op(seed):
    """backward_scalar writes the rules of the common ops out; on a graph of every op they must
    agree with the ops' own rules run by the general loop, bit for bit (signed zeros too)."""
    from minigrad.engine import run_backward

    _, nodes, root = _every_op_graph(seed)
    root.backward()
    fast = [n.grad.hex() for n in nodes + [root]]
    for n in nodes + [root]:
        n.grad = 0.0
    run_backward(root, 1.0, retain_graph=True)
    general = [n.grad.hex() for n in nodes + [root]]
    assert fast == general
    assert any(float.fromhex(g) != 0.0 for g in fast[:4])


@pytest.mark.parametrize("seed", range(4))
def test_value_backward_walks_the_graph_in_the_engine_order(seed):
    """backward_scalar's own sort gives exactly the order of the engine's `toposort`."""
    from minigrad.engine import _scalar_order, toposort

    _, _, root = _every_op_graph(seed)
    assert _scalar_order(root) == toposort(root, leaves=False)
    a = Value(0.5)
    chain = a
    for _ in range(3000):               # deeper than the recursion limit
        chain = (chain * a).tanh() + chain
    assert _scalar_order(chain) == toposort(chain, leaves=False)


def test_parents_of_values_made_in_each_mode():
    a, b = Value(2.0), Value(3.0)
    assert (a * b).parents == (a, b) and (a * 2.0).parents == (a,) and a.tanh().parents == (a,)
    assert a.parents == () and (a * b).parents[1] is b
    with minigrad.no_grad():
        c = a * b + 1.0
    assert c.parents == () and c.op == "" and c.data == 7.0
    (c * a).backward()                  # c is a leaf of this graph
    assert (c.grad, a.grad, b.grad) == (2.0, 7.0, 0.0)


def test_graph_made_under_detect_anomaly_gives_the_same_gradients():
    def f(x, y):
        return ((x * y + 1.0).tanh() - y / x) * x + (x * x).relu()

    plain = [Value(0.8), Value(-1.1)]
    f(*plain).backward()
    with minigrad.detect_anomaly():
        checked = [Value(0.8), Value(-1.1)]
        out = f(*checked)
    assert [p.label for p in out.parents] == ["", ""] and len(out.parents) == 2
    out.backward()                      # outside the block: the fast path, on the same graph
    assert [v.grad for v in checked] == [v.grad for v in plain]
