"""minigrad.viz.backprop_steps and the terminal stepper: the order of `.backward()`, the same
totals, nothing written on the graph."""

import io
import sys

import numpy as np
import pytest

from minigrad import Tensor, Value, scope, toposort
from minigrad.viz import Step, backprop_steps, draw, step_through


def neuron():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8814, "b")
    y = (x * w + b).tanh()
    return [x, w, b], y


def reused_scalar():
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    c = a * b
    d = c * c + a                     # c used twice by one op, a used by two ops
    e = (d / 3.0).exp() - b * 2.0
    return [a, b], e


def batchnorm_composed(rng, dtype=np.float64):
    x = Tensor(rng.standard_normal((6, 3)), requires_grad=True, dtype=dtype, label="x")
    gamma = Tensor(rng.standard_normal(3), requires_grad=True, dtype=dtype, label="gamma")
    beta = Tensor(rng.standard_normal(3), requires_grad=True, dtype=dtype, label="beta")
    r = Tensor(rng.standard_normal((6, 3)), dtype=dtype)
    with scope("bn", "BatchNorm1d"):
        xhat = (x - x.mean(dim=0)) / (x.var(dim=0, correction=0) + 1e-5).sqrt()
        y = xhat * gamma + beta
    loss = (y * r).sum()
    return [x, gamma, beta], loss


def totals_match_backward(leaves, root, exact=True, **kw):
    """Step through, then backward; compare every leaf's final accumulated gradient."""
    steps = list(backprop_steps(root, **kw))
    final = steps[-1].accumulated
    got = [final[leaf] for leaf in leaves]
    if isinstance(root, Tensor):
        root.backward(kw.get("gradient"))
    else:
        root.backward()
    for leaf, g in zip(leaves, got):
        if isinstance(leaf, Tensor):
            assert g.dtype == leaf.grad.dtype and g.shape == leaf.grad.shape
            if exact:
                np.testing.assert_array_equal(g, leaf.grad)
            else:
                np.testing.assert_allclose(g, leaf.grad, rtol=1e-12, atol=1e-12)
        else:
            assert g == leaf.grad
    return steps


# ---- order -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [neuron, reused_scalar])
def test_order_is_reversed_toposort_for_values(make):
    _, y = make()
    steps = list(backprop_steps(y))
    expected = list(reversed(toposort(y)))
    assert [id(s.node) for s in steps] == [id(n) for n in expected]
    assert [s.index for s in steps] == list(range(len(expected)))
    assert all(s.total == len(expected) for s in steps)
    assert [s.op for s in steps] == [n.op for n in expected]


def test_order_is_reversed_toposort_for_tensors(rng):
    _, loss = batchnorm_composed(rng)
    steps = list(backprop_steps(loss))
    assert [id(s.node) for s in steps] == [id(n) for n in reversed(toposort(loss))]
    # constants and data that need no gradient are not steps
    assert all(s.node.requires_grad for s in steps)


def test_neuron_step_by_step():
    (x, w, b), y = neuron()
    steps = list(backprop_steps(y))
    assert [s.op or "leaf" for s in steps] == ["tanh", "add", "mul", "leaf", "leaf", "leaf"]
    tanh, add, mul = steps[:3]
    assert tanh.upstream == 1.0 and tanh.contributions == []
    assert tanh.rule == "d(tanh a)/da = 1 - tanh(a)^2"
    ((n, share),) = tanh.sends
    assert n is add.node and share == pytest.approx(1 - y.data ** 2)
    assert add.upstream == share
    assert [p for p, _ in mul.sends] == [x, w]
    assert mul.sends[0][1] == pytest.approx(w.data * mul.upstream)
    assert mul.sends[1][1] == pytest.approx(x.data * mul.upstream)
    leaf_x = steps[3]
    assert leaf_x.node is x and leaf_x.is_leaf and leaf_x.sends == [] and leaf_x.rule == ""
    assert leaf_x.contributions == [(mul.node, mul.sends[0][1])]


# ---- totals --------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [neuron, reused_scalar])
def test_totals_equal_backward_on_values(make):
    leaves, y = make()
    totals_match_backward(leaves, y)


def test_totals_equal_backward_on_tensors_with_broadcasting(rng):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True, label="x")
    b = Tensor(rng.standard_normal(3), requires_grad=True, label="b")
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True, label="w")
    h = ((x + b) @ w).tanh()
    loss = (h * h).mean() + (x * 2.0).sum()
    steps = totals_match_backward([x, b, w], loss)
    add = next(s for s in steps if s.op == "add" and s.node.parents[1] is b)
    # the share sent to b is already summed back to b's shape, as the engine adds it
    assert dict((id(p), g.shape) for p, g in add.sends)[id(b)] == (3,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_totals_equal_backward_on_composed_batchnorm(rng, dtype):
    leaves, loss = batchnorm_composed(rng, dtype)
    steps = totals_match_backward(leaves, loss)
    x = leaves[0]
    xs = next(s for s in steps if s.node is x)
    # x feeds the mean, the centring, and the variance's own mean and centring: its
    # gradient is the sum of 4 shares
    assert xs.reused and len(xs.contributions) == 4
    np.testing.assert_allclose(sum(g for _, g in xs.contributions), xs.upstream, rtol=1e-5)


def test_non_scalar_root_takes_a_gradient(rng):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="gradient"):
        backprop_steps(y)
    seed = rng.standard_normal((2, 3))
    steps = totals_match_backward([x], y, gradient=seed)
    np.testing.assert_array_equal(steps[0].upstream, seed)


def test_every_upstream_is_the_sum_of_its_contributions():
    leaves, y = reused_scalar()
    for s in backprop_steps(y):
        if s.index:
            assert s.upstream == pytest.approx(sum(g for _, g in s.contributions))


def test_reused_node_lists_each_consumers_share():
    (a, b), e = reused_scalar()
    steps = list(backprop_steps(e))
    c_step = next(s for s in steps if s.op == "mul" and s.node.parents[0] is a)
    # c*c: the same consumer twice
    assert c_step.reused and len(c_step.contributions) == 2
    consumer = c_step.contributions[0][0]
    assert c_step.contributions[1][0] is consumer and consumer.parents == (c_step.node,) * 2
    a_step = next(s for s in steps if s.node is a)
    assert {c.op for c, _ in a_step.contributions} == {"add", "mul"}
    assert repr(a_step).startswith("Step(") and "reused=True" in repr(a_step)


# ---- accumulated ---------------------------------------------------------------------------

def test_accumulated_grows_step_by_step():
    (a, b), e = reused_scalar()
    steps = list(backprop_steps(e))
    a_step = next(s for s in steps if s.node is a)
    first, second = a_step.contributions
    k1 = next(s.index for s in steps if s.node is first[0])
    k2 = next(s.index for s in steps if s.node is second[0])
    assert a not in steps[0].accumulated
    assert steps[k1].accumulated[a] == first[1]               # one share so far
    assert steps[k2].accumulated[a] == first[1] + second[1]   # both
    assert steps[0].accumulated[e] == 1.0
    assert len(steps[0].accumulated) == 1 + len(steps[0].sends)
    assert len(steps[-1].accumulated) == len(steps)
    with pytest.raises(KeyError):
        steps[0].accumulated[a]
    assert steps[0].accumulated.get(a) is None


def test_accumulated_is_keyed_by_identity_for_tensors():
    x1 = Tensor([1.0, 2.0], requires_grad=True)
    x2 = Tensor([1.0, 2.0], requires_grad=True)       # equal data, different node
    y = (x1 * 3.0 + x2).sum()
    acc = list(backprop_steps(y))[-1].accumulated
    np.testing.assert_array_equal(acc[x1], [3.0, 3.0])
    np.testing.assert_array_equal(acc[x2], [1.0, 1.0])
    assert sum(1 for node in acc if node is x1) == 1


# ---- nothing written on the graph -----------------------------------------------------------

def test_steps_change_no_grad_and_release_nothing(rng):
    leaves, loss = batchnorm_composed(rng)
    list(backprop_steps(loss))
    assert all(t.grad is None for t in leaves)
    again = list(backprop_steps(loss))                 # still there
    loss.backward()                                    # and backward still works
    np.testing.assert_array_equal(again[-1].accumulated[leaves[0]].shape, leaves[0].shape)
    vs, y = neuron()
    list(backprop_steps(y))
    assert [v.grad for v in vs] == [0.0, 0.0, 0.0] and y.grad == 0.0


def test_released_graph_raises_the_engines_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        list(backprop_steps(y))
    y2 = (x.exp() * x).sum()
    y2.backward(retain_graph=True)
    assert len(list(backprop_steps(y2))) == 4      # sum, mul, exp, x


def test_scalar_graph_can_be_stepped_after_backward():
    _, y = neuron()
    y.backward()                     # a Value graph keeps nothing to release
    assert len(list(backprop_steps(y))) == 6


def test_steps_of_a_graph_without_grad_are_refused():
    with pytest.raises(RuntimeError):
        backprop_steps(Tensor([1.0]) * 2.0)
    with pytest.raises(TypeError):
        backprop_steps(1.0)


def test_draw_highlight_accepts_every_step():
    _, y = reused_scalar()
    for s in backprop_steps(y):
        assert isinstance(s, Step)
        src = draw(y, highlight=s).source
        assert "#d9480f" in src            # the current node is marked


# ---- with minigrad.nn ------------------------------------------------------------------------

def test_totals_equal_backward_through_nn_batchnorm(rng):
    nn = pytest.importorskip("minigrad.nn")
    bn = nn.BatchNorm1d(4)
    x = Tensor(rng.standard_normal((8, 4)), requires_grad=True)
    r = Tensor(rng.standard_normal((8, 4)))
    loss = (bn(x) * r).sum()
    steps = totals_match_backward([x, bn.weight, bn.bias], loss)
    assert any(s.node.scope is not None and s.node.scope.kind == "BatchNorm1d" for s in steps)


def test_totals_equal_backward_through_an_mlp_with_batchnorm(rng):
    nn = pytest.importorskip("minigrad.nn")
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, 1))
    x = Tensor(rng.standard_normal((16, 4)))
    out = model(x)
    loss = (out * out).mean()
    totals_match_backward(list(model.parameters()), loss)


# ---- the terminal stepper -------------------------------------------------------------------

def test_step_through_prints_every_step_as_a_table():
    _, y = neuron()
    out = io.StringIO()
    shown = step_through(y, file=out, interactive=False)
    text = out.getvalue()
    assert len(shown) == 6
    for k in range(1, 7):
        assert f"step {k}/6" in text
    assert "d(tanh a)/da = 1 - tanh(a)^2" in text
    assert "-> x" in text and "-> w" in text and "-> b" in text
    assert "leaf: this is its final gradient" in text


def test_step_through_shows_the_sum_for_a_reused_node():
    _, e = reused_scalar()
    out = io.StringIO()
    step_through(e, file=out, interactive=False)
    text = out.getvalue()
    # a = 1.5 is used by a*b and by (a*b)*(a*b) + a: its shares and their running sum
    assert "+ from a*b (mul)" in text and "= running sum" in text
    assert "#" not in text                          # nodes are named, never numbered


def test_step_through_waits_for_enter_on_a_terminal(monkeypatch):
    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    _, y = neuron()
    monkeypatch.setattr(sys, "stdin", FakeTTY("\n\nq\n"))
    out = io.StringIO()
    shown = step_through(y, file=out)                 # interactive: stdin is a tty
    assert len(shown) == 3                            # Enter, Enter, then q
    assert out.getvalue().count("[Enter: next step, q: quit]") == 3

    monkeypatch.setattr(sys, "stdin", FakeTTY(""))    # closed stdin: run through
    out = io.StringIO()
    assert len(step_through(y, file=out)) == 6


def test_step_through_runs_straight_through_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    _, y = neuron()
    out = io.StringIO()
    assert len(step_through(y, file=out)) == 6
    assert "[Enter" not in out.getvalue()


def test_step_through_in_a_notebook_shows_the_html_stepper(monkeypatch):
    import minigrad.viz.terminal as terminal

    shown = []
    monkeypatch.setattr(terminal, "in_notebook", lambda: True)
    monkeypatch.setattr(terminal, "show_html", shown.append)
    _, y = neuron()
    steps = step_through(y)
    assert len(steps) == 6 and all(isinstance(s, Step) for s in steps)
    (fragment,) = shown
    assert fragment.startswith("<iframe srcdoc=") and "steps-data" in fragment
    assert "&lt;svg" in fragment                  # the whole page, escaped into srcdoc
    # an explicit file or interactive= keeps the terminal behaviour, even in a notebook
    out = io.StringIO()
    assert len(step_through(y, file=out)) == 6 and "step 1/6" in out.getvalue()
    assert len(shown) == 1


def test_in_notebook_is_false_outside_a_kernel():
    from minigrad.viz.notebook import in_notebook

    assert in_notebook() is False
