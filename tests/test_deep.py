"""Deep graphs: no recursion limits, bounded memory during backward, memory freed afterwards.

The chain ``x = x * A + B`` repeated n times has the closed form
``x_n = A**n x_0 + B (A**n - 1) / (A - 1)`` and ``d x_n / d x_0 = A**n``.
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, Value

A, B = 1.0001, 0.0001


def arr(t):
    """A Tensor's values as a numpy array (also when it requires grad)."""
    return t.detach().numpy()


def closed_form(x0, n):
    an = A**n
    return an * x0 + B * (an - 1) / (A - 1), an


def value_chain(x0, n):
    """n steps = 2n Value ops; returns (leaf, root)."""
    leaf = Value(x0)
    x = leaf
    for _ in range(n):
        x = x * A + B
    return leaf, x


def tensor_chain(x0, n):
    """n steps = 2n Tensor ops; returns (leaf, root)."""
    leaf = minigrad.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    x = leaf
    for _ in range(n):
        x = x * A + B
    return leaf, x


def check_value_chain(n):
    leaf, root = value_chain(0.5, n)
    expected, slope = closed_form(0.5, n)
    assert root.data == pytest.approx(expected, rel=1e-8)
    root.backward()
    assert leaf.grad == pytest.approx(slope, rel=1e-8)


def check_tensor_chain(n):
    x0 = np.array([0.5, -1.0, 2.0])
    leaf, root = tensor_chain(x0, n)
    expected, slope = closed_form(x0, n)
    np.testing.assert_allclose(arr(root), expected, rtol=1e-8)
    root.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.full(3, slope), rtol=1e-8)


def test_value_chain_20k_ops():
    check_value_chain(10_000)


def test_tensor_chain_5k_ops():
    check_tensor_chain(2_500)


@pytest.mark.slow
def test_value_chain_1m_ops():
    check_value_chain(500_000)


@pytest.mark.slow
def test_tensor_chain_100k_ops():
    check_tensor_chain(50_000)


def test_second_derivative_through_a_deep_chain():
    n = 1_000  # 2,000 ops forward; the gradient graph is as deep again
    x0 = minigrad.tensor([0.5, -0.25], dtype=minigrad.float64, requires_grad=True)
    x = x0
    for _ in range(n):
        x = x * A + B
    (g,) = minigrad.grad((x**2).sum(), [x0], create_graph=True)
    np.testing.assert_allclose(arr(g), 2 * arr(x) * A**n, rtol=1e-9)
    (h,) = minigrad.grad(g.sum(), [x0])
    np.testing.assert_allclose(h.numpy(), np.full(2, 2 * A ** (2 * n)), rtol=1e-9)


def backward_overhead(build, n):
    """(bytes the graph holds, extra peak bytes while backward runs), via tracemalloc."""
    tracemalloc.start()
    try:
        warm_up()
        base = tracemalloc.get_traced_memory()[0]
        leaf, root = build(n)
        graph = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        root.backward()
        extra = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return graph, extra


def summed_tensor_chain(n):
    leaf, root = tensor_chain([0.5], n)
    return leaf, root.sum()


def warm_up():
    """Run each kind of graph once so that first-use allocations, and the interpreter's free
    lists (freed small tuples and floats are kept for reuse, and tracemalloc still counts
    them), are in place before a baseline is taken."""
    for build in (lambda: value_chain(0.5, 3_000), lambda: summed_tensor_chain(3_000)):
        build()[1].backward()
    gc.collect()


@pytest.mark.parametrize(
    "build", [lambda n: value_chain(0.5, n), summed_tensor_chain], ids=["value", "tensor"]
)
def test_backward_needs_no_more_memory_than_the_graph_holds(build):
    graph, extra = backward_overhead(build, 5_000)
    assert graph > 0
    assert extra <= graph, f"backward needed {extra} extra bytes for a {graph}-byte graph"


@pytest.mark.slow
def test_backward_memory_bounded_on_1m_value_chain():
    graph, extra = backward_overhead(lambda n: value_chain(0.5, n), 500_000)
    assert extra <= graph, f"backward needed {extra} extra bytes for a {graph}-byte graph"


def assert_freed_after_del(build):
    """With gc off (refcounting only), dropping the root frees every intermediate node."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        leaf, root, mid, call_backward = build()
        probes = [weakref.ref(mid), weakref.ref(root)]
        if call_backward:
            root.backward()
        del mid, root
        assert all(p() is None for p in probes), "graph kept alive by a reference cycle"
        assert leaf is not None  # the leaf the user holds stays alive
    finally:
        if was_enabled:
            gc.enable()


def _value_graph(call_backward):
    def build():
        leaf, x = Value(0.3), None
        x = leaf
        mid = None
        for i in range(200):
            x = (x * A + B).tanh() * 2.0 + x
            if i == 100:
                mid = x
        return leaf, x, mid, call_backward

    return build


def _tensor_graph(call_backward):
    def build():
        leaf = minigrad.tensor([0.3, -0.2], dtype=minigrad.float64, requires_grad=True)
        swap = minigrad.tensor([1, 0])
        x, mid = leaf, None
        for i in range(200):
            x = (x * A + B).tanh() * 2.0 + x[swap]
            if i == 100:
                mid = x
                mid.retain_grad()
                mid.register_hook(lambda g: g)
        return leaf, x.sum(), mid, call_backward

    return build


@pytest.mark.parametrize("call_backward", [True, False], ids=["after_backward", "no_backward"])
@pytest.mark.parametrize("kind", ["value", "tensor"])
def test_graph_freed_when_root_dropped(kind, call_backward):
    build = (_value_graph if kind == "value" else _tensor_graph)(call_backward)
    assert_freed_after_del(build)


def cyclic_garbage_nodes():
    """Run the cycle collector and return the graph nodes it had to free (refcounting could
    not: they were in reference cycles)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, (Value, Tensor))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("kind", ["value", "tensor"])
@pytest.mark.parametrize("call_backward", [True, False], ids=["after_backward", "no_backward"])
def test_no_reference_cycles_in_graphs(kind, call_backward):
    build = (_value_graph if kind == "value" else _tensor_graph)(call_backward)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        leaf, root, mid, _ = build()
        if call_backward:
            root.backward()
        del root, mid
        assert cyclic_garbage_nodes() == []
    finally:
        if was_enabled:
            gc.enable()


def test_no_reference_cycles_after_retain_graph_and_higher_order_grad(rng):
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        x = minigrad.tensor(rng.standard_normal(4), requires_grad=True)
        mid = (x * x).exp()
        out = mid.sum()
        out.backward(retain_graph=True)
        (g,) = minigrad.grad(out, [x], create_graph=True)
        (h,) = minigrad.grad(g.sum(), [x])
        del mid, out, g
        assert cyclic_garbage_nodes() == []
        x0 = arr(x)
        np.testing.assert_allclose(h.numpy(), np.exp(x0**2) * (2 + 4 * x0**2))
    finally:
        if was_enabled:
            gc.enable()


def test_memory_returns_to_baseline_after_del():
    """Everything the graphs allocated is released once the roots are dropped.

    A full collection also empties the interpreter's free lists (which tracemalloc counts);
    with DEBUG_SAVEALL it keeps any cyclic garbage alive in gc.garbage, so a graph that
    refcounting alone could not free still shows up as held memory.
    """
    was_enabled = gc.isenabled()
    tracemalloc.start()
    try:
        warm_up()
        gc.disable()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        leaf, root = value_chain(0.5, 5_000)
        leaf_t, root_t = tensor_chain([0.5, 1.5], 2_000)
        root.backward()
        root_t.sum().backward()
        held = tracemalloc.get_traced_memory()[0] - base
        del root, root_t
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    assert held > 1_000_000  # the graphs were big
    assert left < held / 100, f"{left} of {held} bytes still held after dropping the roots"
    assert leaf.grad != 0.0 and leaf_t.grad is not None
