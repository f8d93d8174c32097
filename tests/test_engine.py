"""Tensor construction, dtype rules, backward/grad semantics, no_grad, hooks, gradcheck and
detect_anomaly."""

import inspect
import os

import numpy as np
import pytest

import minigrad
from minigrad import Tensor

HERE = os.path.basename(__file__)


def leaf(data, **kw):
    return minigrad.tensor(np.asarray(data, dtype=np.float64), requires_grad=True, **kw)


def arr(t):
    """A Tensor's values as a numpy array (also when it requires grad)."""
    return t.detach().numpy()


def gen(seed):
    """A minigrad.Generator seeded as torch.Generator().manual_seed(seed) is."""
    return minigrad.Generator().manual_seed(seed)


# --------------------------------------------------------------------- construction, attributes
def test_tensor_attributes():
    data = np.arange(6.0).reshape(2, 3)
    t = minigrad.tensor(data, label="t")
    assert isinstance(t.data, Tensor) and not t.data.requires_grad   # .data is a Tensor
    np.testing.assert_array_equal(t.data.numpy(), data)
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and t.nelement() == 6
    assert t.dtype == minigrad.float64
    assert t.label == "t" and minigrad.tensor(1.0).label == ""
    assert Tensor(data, label="u").label == "u"
    assert t.requires_grad is False and t.is_leaf
    assert t.grad is None and t.grad_fn is None
    assert t.op == "" and t.parents == ()
    np.testing.assert_array_equal(t.T.numpy(), data.T)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), data)
    one = minigrad.tensor([[2.5]])
    assert isinstance(one.item(), float) and one.item() == 2.5


def test_tensor_function_builds_tensors():
    t = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert isinstance(t, Tensor) and t.requires_grad and t.shape == (3,)
    t32 = minigrad.tensor([1, 2], dtype=minigrad.float32)
    assert t32.dtype == minigrad.float32
    np.testing.assert_array_equal(t32.numpy(), np.array([1, 2], dtype=np.float32))
    # tensor() infers as PyTorch: ints are int64, bools bool; the Tensor class stays float
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.Tensor([1, 2]).dtype == minigrad.get_default_dtype()


@pytest.mark.parametrize("factory,fill", [(minigrad.zeros, 0.0), (minigrad.ones, 1.0)])
def test_zeros_ones_factories(factory, fill):
    for t in (factory(2, 3), factory((2, 3))):
        assert t.shape == (2, 3) and t.dtype == minigrad.get_default_dtype()
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))
        assert not t.requires_grad
    t = factory(4, dtype=minigrad.float32, requires_grad=True)
    assert t.shape == (4,) and t.dtype == minigrad.float32 and t.requires_grad and t.is_leaf


def test_zeros_like_ones_like_keep_shape_and_dtype():
    base = minigrad.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    z, o = minigrad.zeros_like(base), minigrad.ones_like(base)
    assert z.shape == o.shape == (3, 2)
    assert z.dtype == o.dtype == minigrad.float32
    np.testing.assert_array_equal(z.numpy(), 0.0)
    np.testing.assert_array_equal(o.numpy(), 1.0)


@pytest.mark.parametrize("factory", [minigrad.randn, minigrad.rand], ids=["randn", "rand"])
def test_random_factories_shapes_seeds_dtypes(factory):
    assert factory(2, 3, generator=gen(0)).shape == (2, 3)
    assert factory((2, 3), generator=gen(0)).shape == (2, 3)
    np.testing.assert_array_equal(factory(5, generator=gen(7)).numpy(),
                                  factory(5, generator=gen(7)).numpy())
    assert not np.array_equal(factory(5, generator=gen(7)).numpy(),
                              factory(5, generator=gen(8)).numpy())
    g1, g2 = gen(3), gen(3)
    np.testing.assert_array_equal(factory(4, generator=g1).numpy(),
                                  factory(4, generator=g2).numpy())
    # a Generator advances: the next draw differs from the first
    first = factory(4, generator=g1).numpy()
    assert not np.array_equal(first, factory(4, generator=g1).numpy())
    # manual_seed rewinds it (and returns the generator)
    assert g1.manual_seed(3) is g1
    np.testing.assert_array_equal(factory(4, generator=g1).numpy(),
                                  factory(4, generator=gen(3)).numpy())
    # the global generator: manual_seed makes the default stream repeat
    minigrad.manual_seed(5)
    again = factory(3).numpy()
    minigrad.manual_seed(5)
    np.testing.assert_array_equal(factory(3).numpy(), again)
    t = factory(3, dtype=minigrad.float32, requires_grad=True, generator=gen(1))
    assert t.dtype == minigrad.float32 and t.requires_grad
    assert factory(3).dtype == minigrad.get_default_dtype()


def test_randn_and_rand_distributions():
    n = minigrad.randn(20000, generator=gen(11)).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05
    u = minigrad.rand(20000, generator=gen(12)).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02


def test_tensors_use_slots(rng):
    x = leaf(rng.standard_normal(3))
    for node in (x, x * 2.0, x.sum()):
        assert not hasattr(node, "__dict__")


# ------------------------------------------------------------------------------ dtype rules
def test_default_dtype_is_float64_and_tensor_infers_as_pytorch():
    """The default float is float64 (documented; PyTorch's is float32). The Tensor class
    makes floats of anything, as torch.Tensor; tensor() infers: Python floats -> default,
    ints -> int64, bools -> bool, arrays keep their dtype."""
    assert minigrad.get_default_dtype() == minigrad.float64
    for data in ([1.5], [3], [1, 2], np.array([1, 2], dtype=np.int32), [True, False],
                 np.array([True])):
        assert Tensor(data).dtype == minigrad.float64, data
    for data, dtype in [(1.5, minigrad.float64), (3, minigrad.int64),
                        ([1, 2], minigrad.int64), (np.array([1, 2], dtype=np.int32),
                                                   minigrad.int32),
                        ([True, False], minigrad.bool), (np.array([True]), minigrad.bool),
                        (np.array([1.0], dtype=np.float32), minigrad.float32)]:
        assert minigrad.tensor(data).dtype == dtype, data


def f32_leaf(data):
    return minigrad.tensor(np.array(data, dtype=np.float32), requires_grad=True)


def test_float32_input_stays_float32_and_numbers_do_not_promote():
    x = f32_leaf([1.0, 2.0])
    assert x.dtype == minigrad.float32
    y = 2.5 * x + 1 - 0.5 / (x + 3) ** 2
    assert y.dtype == minigrad.float32
    y.sum().backward()
    assert x.grad.dtype == minigrad.float32


def test_float32_gradients_stay_float32_whatever_the_seed_dtype():
    for seed in (minigrad.ones(2, dtype=minigrad.float64), minigrad.tensor([1.0, 1.0])):
        x = f32_leaf([1.0, 2.0])
        (x * 2.0).backward(seed)
        assert x.grad.dtype == minigrad.float32
    x = f32_leaf([1.0, 2.0])
    (x * 2.0).sum().backward(minigrad.tensor(1.0, dtype=minigrad.float64))
    assert x.grad.dtype == minigrad.float32


def test_numpy_float_scalars_count_as_numbers_and_do_not_promote():
    x = f32_leaf([1.0, 2.0])
    for y in (np.float64(2.0) * x, x * np.float64(2.0), np.pi - x, x / np.sqrt(2.0)):
        assert isinstance(y, Tensor) and y.dtype == minigrad.float32
    (np.float64(3.0) * x).sum().backward()
    assert x.grad.dtype == minigrad.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_explicit_dtype_wins():
    assert minigrad.tensor([1, 2], dtype=minigrad.float32).dtype == minigrad.float32
    assert minigrad.tensor(np.ones(2, dtype=np.float32),
                           dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.zeros(2, dtype=minigrad.float32).dtype == minigrad.float32
    assert minigrad.tensor([1.5, 2.5], dtype=minigrad.int64).dtype == minigrad.int64


def test_set_default_dtype_changes_new_tensors():
    minigrad.set_default_dtype(minigrad.float32)
    assert minigrad.get_default_dtype() == minigrad.float32
    for t in (Tensor([1, 2]), minigrad.tensor(1.5), minigrad.tensor([1.0, 2.0]),
              minigrad.zeros(2), minigrad.ones(2), minigrad.randn(2, generator=gen(0)),
              minigrad.rand(2, generator=gen(0))):
        assert t.dtype == minigrad.float32
    # the default is for floats only: ints and bools keep their own kinds
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.tensor([True]).dtype == minigrad.bool
    assert minigrad.tensor([1, 2], dtype=minigrad.float64).dtype == minigrad.float64
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    assert x.grad.dtype == minigrad.float32
    minigrad.set_default_dtype(minigrad.float64)
    assert Tensor([1, 2]).dtype == minigrad.float64


# -------------------------------------------------------------------------- graph structure
def test_op_and_parents():
    x = leaf([1.0, 2.0])
    y = leaf([3.0, 4.0])
    p = x * y
    assert isinstance(p.op, str) and p.op != ""
    assert p.parents[0] is x and p.parents[1] is y
    sq = x * x
    assert len(sq.parents) == 2 and sq.parents[0] is x and sq.parents[1] is x
    assert not p.is_leaf and x.is_leaf
    assert x.exp().parents == (x,)


@pytest.mark.parametrize(
    "make,op,const",
    [(lambda t: t * 2.0, "mul", 2.0), (lambda t: 2.0 * t, "mul", 2.0),
     (lambda t: t - 2.0, "sub", 2.0), (lambda t: 2.0 - t, "sub", 2.0),
     (lambda t: t + 2, "add", 2), (lambda t: t ** 0.5, "pow", 0.5)],
    ids=["mul", "rmul", "sub", "rsub", "add_int", "pow"],
)
def test_python_number_stays_inside_the_op(make, op, const):
    """As for Values: `t * 2.0` is one node with one parent; the op keeps the number."""
    t = leaf([1.0, 4.0])
    out = make(t)
    assert out.parents == (t,) and out.op == op and out._saved == const
    out.sum().backward()
    eps = 1e-6
    numeric = (arr(make(minigrad.tensor(arr(t) + eps)))
               - arr(make(minigrad.tensor(arr(t) - eps)))) / (2 * eps)
    np.testing.assert_allclose(t.grad.numpy(), numeric, rtol=1e-6)


@pytest.mark.parametrize(
    "make,pos",
    [(lambda t: t / 2.0, 1), (lambda t: t * np.float32(2.0), 1)],
    ids=["div", "numpy_scalar"],
)
def test_other_numbers_become_a_constant_0d_parent(make, pos):
    t = leaf([1.0, 4.0])
    out = make(t)
    assert len(out.parents) == 2
    const, other = out.parents[pos], out.parents[1 - pos]
    assert other is t
    assert isinstance(const, Tensor) and const.shape == () and const.is_leaf
    assert const.requires_grad is False
    assert const.item() == 2.0


def test_number_divided_by_a_tensor_is_reciprocal_times_the_number():
    """2.0 / t is built as PyTorch builds it: reciprocal(t) * 2.0 (MulBackward0 over
    ReciprocalBackward0), with the number kept inside the mul."""
    t = leaf([1.0, 4.0])
    out = 2.0 / t
    (r,) = out.parents
    assert r.parents == (t,)
    assert type(out.grad_fn).__name__ == "MulBackward0"
    assert type(r.grad_fn).__name__ == "ReciprocalBackward0"
    assert out._saved == 2.0
    np.testing.assert_array_equal(arr(out), [2.0, 0.5])
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), -2.0 / np.array([1.0, 4.0]) ** 2, rtol=1e-15)


# -------------------------------------------------------------------------------- backward
def test_backward_gradient_argument_forms(rng):
    w = rng.standard_normal(3)
    for upstream in (minigrad.tensor(w), Tensor(w)):
        x = leaf([1.0, 2.0, 3.0])
        (x * x).backward(upstream)
        np.testing.assert_allclose(x.grad.numpy(), 2 * arr(x) * w)
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward(minigrad.tensor(2.5))
    np.testing.assert_allclose(x.grad.numpy(), 2.5 * 2 * arr(x))
    x = leaf([1.0, 2.0, 3.0])
    minigrad.autograd.backward([(x * x).sum(), x * 3.0], [None, minigrad.tensor(w)])
    np.testing.assert_allclose(x.grad.numpy(), 2 * arr(x) + 3.0 * w)


def test_backward_on_non_scalar_without_gradient_is_an_error():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError,
                       match="grad can be implicitly created only for scalar outputs"):
        (x * 2.0).backward()


def test_single_element_output_needs_no_gradient():
    x = leaf([3.0])
    (x * x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0])


def test_leaf_grads_accumulate_across_backward_calls(rng):
    x = leaf(rng.standard_normal(4))
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 + 2 * arr(x))


def test_only_leaves_requiring_grad_and_retained_non_leaves_get_grad(rng):
    x = leaf(rng.standard_normal(3))
    c = minigrad.tensor(rng.standard_normal(3))  # no requires_grad
    y = x * c
    z = y.exp()
    z.retain_grad()
    z.sum().backward()
    assert c.grad is None
    with pytest.warns(UserWarning, match="not a leaf Tensor"):   # PyTorch warns here
        assert y.grad is None
    np.testing.assert_allclose(z.grad.numpy(), np.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), np.exp(arr(x) * c.numpy()) * c.numpy())


def test_released_graph_raises_mentioning_retain_graph():
    x = leaf([0.5, -1.0])
    y = (x * x).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward_and_grads_double(rng):
    x = leaf(rng.standard_normal(3))
    y = (x * x).tanh().sum()
    y.backward(retain_graph=True)
    once = x.grad.clone()
    np.testing.assert_allclose(once.numpy(), (1 - np.tanh(arr(x) ** 2) ** 2) * 2 * arr(x))
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * once.numpy())


def test_results_require_grad_only_if_an_input_does():
    a, b = minigrad.tensor([1.0, 2.0]), minigrad.tensor([3.0, 4.0])
    assert not (a * b).requires_grad
    assert not (a.exp() + 1.0).requires_grad
    assert (a * leaf([1.0, 1.0])).requires_grad


def test_backward_from_intermediate_of_a_larger_graph():
    x = leaf([2.0])
    y = x * x
    z = y * 3.0  # never differentiated
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0])
    assert z.requires_grad


# ------------------------------------------------------------------------------ minigrad.grad
def test_grad_returns_tuple_of_tensors(rng):
    x = leaf(rng.standard_normal(3))
    y = leaf(rng.standard_normal(3))
    out = (x * y + x.exp()).sum()
    gx, gy = result = minigrad.grad(out, [x, y])
    assert isinstance(result, tuple) and len(result) == 2
    assert isinstance(gx, Tensor) and isinstance(gy, Tensor)
    assert not gx.requires_grad and not gy.requires_grad
    np.testing.assert_allclose(gx.numpy(), arr(y) + np.exp(arr(x)))
    np.testing.assert_allclose(gy.numpy(), arr(x))


def test_grad_with_grad_outputs(rng):
    x = leaf(rng.standard_normal((2, 3)))
    v = rng.standard_normal((2, 3))
    (g,) = minigrad.grad(x.tanh(), (x,), grad_outputs=minigrad.tensor(v))
    np.testing.assert_allclose(g.numpy(), v * (1 - np.tanh(arr(x)) ** 2))


def test_grad_of_several_outputs_sums_them(rng):
    x = leaf(rng.standard_normal(3))
    (g,) = minigrad.grad([(x * x).sum(), (x * 3.0).sum()], [x])
    np.testing.assert_allclose(g.numpy(), 2 * arr(x) + 3.0)


def test_grad_unused_input():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises((RuntimeError, ValueError), match="(?i)unused|not.*(used|reachable)|allow"):
        minigrad.grad((x * 2.0).sum(), [x, unused])
    gx, gu = minigrad.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0])
    assert gu is None


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    (gy, gx) = minigrad.grad((y * y).sum(), [y, x])
    np.testing.assert_allclose(gy.numpy(), 2 * arr(y))
    np.testing.assert_allclose(gx.numpy(), 2 * arr(y) * 3.0)


def test_grad_releases_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    (g1,) = minigrad.grad(y, [x], retain_graph=True)
    (g2,) = minigrad.grad(y, [x])
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="retain_graph"):
        minigrad.grad(y, [x])


# ------------------------------------------------------------------------- no_grad, enable_grad
def test_no_grad_context():
    x = leaf([1.0, 2.0])
    with minigrad.no_grad():
        y = x * 2.0 + x.exp()
    assert y.requires_grad is False and y.parents == () and y.grad_fn is None
    np.testing.assert_allclose(y.numpy(), arr(x) * 2 + np.exp(arr(x)))
    z = x * 2.0
    assert z.requires_grad and z.parents


def test_no_grad_decorator():
    @minigrad.no_grad()
    def step(t):
        return (t * t).sum()

    x = leaf([1.0, 2.0])
    out = step(x)
    assert out.requires_grad is False and out.parents == ()
    assert (x * x).requires_grad  # grad mode is back after the call


def test_no_grad_restores_mode_after_exception():
    x = leaf([1.0])
    with pytest.raises(ZeroDivisionError), minigrad.no_grad():
        raise ZeroDivisionError
    assert (x * 2.0).requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with minigrad.no_grad():
        with minigrad.enable_grad():
            y = (x * x).sum()
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * arr(x))


# ------------------------------------------------------------------ hooks, retain_grad, grad/data
def test_hook_observes_gradient_as_a_tensor(rng):
    x = leaf(rng.standard_normal(3))
    y = x * 2.0
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    (y * y).sum().backward()
    assert len(seen) == 1 and isinstance(seen[0], Tensor) and not seen[0].requires_grad
    np.testing.assert_allclose(seen[0].numpy(), 2 * arr(y))
    np.testing.assert_allclose(x.grad.numpy(), 2 * arr(y) * 2.0)


def test_hook_can_replace_gradient(rng):
    x = leaf(rng.standard_normal(3))
    y = x * 2.0
    y.register_hook(lambda g: g * 10.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 20.0))


def test_hook_on_leaf_replaces_accumulated_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: -g)
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-3.0, -3.0])


def test_retain_grad_on_non_leaf(rng):
    x = leaf(rng.standard_normal(3))
    y = x * 3.0
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * arr(y))
    np.testing.assert_allclose(x.grad.numpy(), 2 * arr(y) * 3.0)


def test_grad_assignment_and_clearing():
    x = leaf([1.0, 2.0])
    (x * 2.0).sum().backward()
    x.grad = None
    assert x.grad is None
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    x.grad = minigrad.tensor([100.0, 200.0])
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [105.0, 205.0])


def test_data_assignment_is_used_by_later_graphs():
    x = leaf([1.0, 2.0])
    x.data = minigrad.tensor([3.0, -4.0])
    np.testing.assert_array_equal(x.data.numpy(), [3.0, -4.0])
    assert x.requires_grad and x.is_leaf
    y = (x * x).sum()
    assert y.item() == pytest.approx(25.0)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([3.0, -4.0]))


def test_detach_cuts_the_graph(rng):
    x = leaf(rng.standard_normal(3))
    y = x * 2.0
    d = y.detach()
    assert d.requires_grad is False and d.is_leaf and d.parents == () and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), arr(y))
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d.numpy())  # no second term through d


def test_requires_grad_and_is_leaf():
    x = minigrad.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad and x.is_leaf
    y = x * x
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# -------------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_correct_gradients(rng):
    a = leaf(rng.standard_normal((2, 3)))
    b = leaf(rng.standard_normal(3))
    assert minigrad.gradcheck(lambda p, q: (p * q).tanh(), [a, b]) is True
    assert minigrad.gradcheck(lambda p: (p * p).sum(), (a,)) is True


def test_gradcheck_reports_input_element_and_both_values(floats_in):
    a = leaf([1.0, 2.0, 3.0], label="alpha")
    b = leaf([0.5, -0.5, 0.25], label="beta")

    def wrong(p, q):
        # q's element 2 also enters through a detached copy the engine cannot see:
        # numerically d/dq[2] = p[2] + 5, the engine says p[2]
        return (p * q).sum() + q.detach()[2] * 5.0

    with pytest.raises(minigrad.GradcheckError) as info:
        minigrad.gradcheck(wrong, (a, b))
    assert issubclass(minigrad.GradcheckError, AssertionError)
    message = str(info.value)
    assert "beta" in message or any(
        s in message.lower() for s in ("input 1", "inputs[1]", "input #1", "input[1]")
    ), message
    assert "2" in message, message
    # the engine's value (3) and the numerical one (8), possibly both scaled by the same
    # random output projection: look for two printed numbers in the ratio 3 : 8
    numbers = [v for v in floats_in(message) if v != 0.0]
    assert any(abs(num / eng - 8.0 / 3.0) < 1e-4 for eng in numbers for num in numbers), message


def test_gradcheck_only_checks_inputs_that_require_grad():
    a = leaf([1.0, 2.0, 3.0])
    b = minigrad.tensor([0.5, -0.5, 0.25])  # a wrong gradient would show here; b is not checked
    assert minigrad.gradcheck(lambda p, q: (p * q).sum() + q.detach()[2] * 5.0, (a, b)) is True


def test_gradcheck_leaves_input_data_unchanged():
    a = leaf([0.3, -1.2, 2.0])
    original = arr(a).copy()
    assert minigrad.gradcheck(lambda p: (p * p).tanh(), (a,)) is True
    np.testing.assert_array_equal(arr(a), original)
    with pytest.raises(minigrad.GradcheckError):
        minigrad.gradcheck(lambda p: p * 2.0 + p.detach() * 3.0, (a,))
    np.testing.assert_array_equal(arr(a), original)
    assert a.grad is None and a.requires_grad and a.is_leaf   # as torch's gradcheck


def test_gradcheck_refuses_float32():
    a = minigrad.ones(3, dtype=minigrad.float32, requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        minigrad.gradcheck(lambda p: p * 2.0, (a,))


# ------------------------------------------------------------------------------ detect_anomaly
def test_detect_anomaly_names_forward_op_and_location():
    x = leaf([-1.0, 1.0])
    log_name = leaf([1.0]).log().op
    line = inspect.currentframe().f_lineno + 3
    with minigrad.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(RuntimeError) as info:
            x.log()
    message = str(info.value)
    assert log_name in message, message
    assert f"{HERE}:{line}" in message, message


def test_detect_anomaly_names_backward_op_and_where_it_was_created():
    x = leaf([0.0, 4.0])
    sqrt_name = leaf([1.0]).sqrt().op
    with minigrad.detect_anomaly(), np.errstate(all="ignore"):
        line = inspect.currentframe().f_lineno + 1
        y = x.sqrt()  # forward is finite; backward divides by sqrt(0)
        assert y.isfinite().all()
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    message = str(info.value)
    assert sqrt_name in message, message
    assert f"{HERE}:{line}" in message, message


def test_detect_anomaly_catches_value_ops():
    v = minigrad.Value(1e308)
    mul_name = (minigrad.Value(1.0) * 2.0).op
    line = inspect.currentframe().f_lineno + 3
    with minigrad.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            v * 10.0  # overflows to inf
    message = str(info.value)
    assert mul_name in message and f"{HERE}:{line}" in message, message


def test_detect_anomaly_mode_ends_with_its_block_even_after_an_error():
    x = leaf([-1.0])
    with pytest.raises(RuntimeError), minigrad.detect_anomaly(), np.errstate(all="ignore"):
        x.log()
    with np.errstate(all="ignore"):
        assert x.log().isnan().all()  # no longer raises


def test_without_detect_anomaly_nan_propagates_silently():
    x = leaf([-1.0])
    with np.errstate(all="ignore"):
        y = x.log()
        assert y.isnan().all()
        y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0])


def test_detect_anomaly_is_quiet_on_finite_graphs(rng):
    x = leaf(rng.uniform(0.5, 2.0, 4))
    with minigrad.detect_anomaly():
        (x.log() * x.sqrt()).sum().backward()
    x0 = arr(x)
    np.testing.assert_allclose(x.grad.numpy(), np.sqrt(x0) / x0 + np.log(x0) * 0.5 / np.sqrt(x0))


def test_no_grad_works_as_a_bare_decorator_too():
    @minigrad.no_grad
    def double(t):
        return t * 2

    x = minigrad.tensor([1.0], requires_grad=True)
    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_random_factories_take_seed_or_generator():
    """minigrad's own shortcuts, beside PyTorch's generator=: seed=, an int or a numpy
    Generator as the generator."""
    a = minigrad.randn(2, 3, seed=5)
    b = minigrad.randn((2, 3), generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(minigrad.rand(4, seed=1).numpy(),
                                  minigrad.rand(4, generator=1).numpy())
    with pytest.raises(ValueError, match="not both"):
        minigrad.randn(2, seed=1, generator=1)


# ------------------------------------------------------------- leaf gradients are their own
def test_leaf_grad_never_aliases_the_seed_or_another_leaf(rng):
    """Leaves keep fresh gradient arrays without a copy; anything that something else may hold
    (the seed, an array sent to two parents, a view) is copied."""
    seed = minigrad.tensor(rng.standard_normal((2, 3)))
    a, b = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal((2, 3)))
    (a + b).backward(seed)                       # add sends the seed itself to both
    assert not np.shares_memory(a.grad.numpy(), seed.numpy())
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    x = leaf(rng.standard_normal(6))
    x.reshape(2, 3).backward(seed)               # a view of the seed
    assert not np.shares_memory(x.grad.numpy(), seed.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), seed.numpy().ravel())
    before = a.grad.clone()
    seed.zero_()                                 # the user's seed changes later: grads don't
    b.grad.fill_(7.0)                            # nor does one leaf's grad change another's
    np.testing.assert_array_equal(a.grad.numpy(), before.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), np.full((2, 3), 7.0))


def test_leaf_grads_accumulate_over_shares_and_calls(rng):
    w = leaf(rng.standard_normal((3, 4)))
    x = minigrad.tensor(rng.standard_normal((5, 4)))
    for _ in range(2):
        y = x @ w.T + (x @ w.T) * 0.5            # w is used twice: two shares per pass
        (y * y + y).sum().backward()
    y = 1.5 * (x.numpy() @ arr(w).T)
    expected = 2 * 1.5 * ((2 * y + 1).T @ x.numpy())
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
    g = w.grad.numpy()
    assert g.flags.owndata or g.base is None


def test_leaf_grad_from_borrowed_shares_is_its_own(rng):
    seed = minigrad.tensor(rng.standard_normal(4))
    x = leaf(rng.standard_normal(4))
    (x + x).backward(seed)                    # two shares, both the seed itself
    np.testing.assert_array_equal(x.grad.numpy(), 2 * seed.numpy())
    assert not np.shares_memory(x.grad.numpy(), seed.numpy())
    y = leaf(rng.standard_normal((3, 4)))
    y.sum(dim=0).backward(seed)               # one share: a read-only broadcast view
    assert y.grad.numpy().flags.writeable and not np.shares_memory(y.grad.numpy(), seed.numpy())
    y.grad *= 2.0                             # the leaf's own array: fine to change in place
    np.testing.assert_array_equal(y.grad.numpy(), np.broadcast_to(2 * seed.numpy(), (3, 4)))
