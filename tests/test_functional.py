"""minigrad.nn.functional: gradcheck through every composite, values and gradients against
PyTorch, numerical stability with large logits, dropout, and the errors for bad input."""

import inspect

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor


def T(a):
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def check(fn, *arrays):
    """gradcheck fn at float64 copies of arrays."""
    return minigrad.gradcheck(fn, [T(a) for a in arrays])


# ---- composition only --------------------------------------------------------------------

def test_functional_has_no_backward_code():
    src = inspect.getsource(F)
    assert "def backward" not in src and "from ..ops" not in src and "import ops" not in src
    assert "apply(" not in src                      # no primitive is invoked directly
    assert F.mean is minigrad.mean and F.var is minigrad.var


# ---- gradcheck ---------------------------------------------------------------------------

@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False),
                                           (-1, True)])
def test_gradcheck_logsumexp(axis, keepdims, rng):
    assert check(lambda x: F.logsumexp(x, axis, keepdims), rng.standard_normal((3, 4, 2)))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gradcheck_softmax(fn, axis, rng):
    assert check(lambda x: fn(x, axis=axis), rng.standard_normal((3, 4)) * 3)


def test_gradcheck_log_softmax_large_logits():
    x = np.array([[1e4, 0.0, -1e4, 1e4 - 1.0], [-5e3, -5e3 + 2.0, -5e3 + 1.0, -6e3]])
    assert check(lambda x: F.log_softmax(x, axis=1), x)
    y = F.log_softmax(T(x), axis=1)
    assert np.all(np.isfinite(y.data))
    assert y.data[0, 0] == pytest.approx(-np.log1p(np.exp(-1.0)), rel=1e-12)
    assert F.logsumexp(T(x), axis=1).data[0] == pytest.approx(1e4 + np.log1p(np.exp(-1.0)))
    assert np.all(np.isfinite(F.softmax(T(x)).data))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_gradcheck_cross_entropy(reduction, smoothing, rng):
    logits = rng.standard_normal((5, 4)) * 2
    target = np.array([0, 3, 1, 1, 2])
    assert check(lambda x: F.cross_entropy(x, target, reduction, smoothing), logits)
    # extra dims (N, C, L), ignored targets, unbatched input
    x3 = rng.standard_normal((2, 3, 4))
    t3 = np.array([[0, 2, -100, 1], [2, 2, 0, -100]])
    assert check(lambda x: F.cross_entropy(x, t3, reduction, smoothing), x3)
    assert check(lambda x: F.cross_entropy(x, 2, reduction, smoothing), rng.standard_normal(4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_other_losses(reduction, rng):
    logp = rng.standard_normal((4, 3))
    target = [2, 0, 1, 2]
    assert check(lambda x: F.nll_loss(x, target, reduction), logp)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert check(lambda x, y: F.mse_loss(x, y, reduction), a, b)
    x = rng.standard_normal((3, 4)) * 3
    t = rng.uniform(0, 1, (3, 4))
    assert check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction), x, t)
    w, pw = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 3, 4)
    assert check(lambda x, t, w, pw: F.binary_cross_entropy_with_logits(
        x, t, reduction, weight=w, pos_weight=pw), x, t, w, pw)
    q = rng.dirichlet(np.ones(3), size=4)            # class-probability targets
    assert check(lambda x: F.cross_entropy(x, q, reduction, 0.2), logp)


def test_gradcheck_norms_linear_dropout(rng):
    x = rng.standard_normal((3, 2, 4))
    w, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    assert check(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), x, w, b)
    assert check(lambda x: F.layer_norm(x, 4), x)
    x2 = rng.standard_normal((5, 3))
    assert check(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                 x2, rng.uniform(0.5, 2, 3), rng.standard_normal(3))
    assert check(lambda x, w, b: F.linear(x, w, b), x2, rng.standard_normal((4, 3)),
                 rng.standard_normal(4))
    assert check(lambda x: F.dropout(x, 0.4, generator=7), x2)
    assert check(F.softplus, x2 * 5)


# ---- values against closed forms ---------------------------------------------------------

def test_bce_with_logits_stable_and_exact_at_zero():
    x = T([-1e4, -40.0, -1.0, 0.0, 0.0, 1.0, 40.0, 1e4])
    t = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    loss.sum().backward()
    xs = x.data
    ref = np.maximum(xs, 0) - xs * t + np.log1p(np.exp(-np.abs(xs)))
    np.testing.assert_allclose(loss.data, ref, rtol=1e-12, atol=1e-15)
    sig = 0.5 * (1 + np.tanh(xs / 2))
    np.testing.assert_allclose(x.grad, sig - t, rtol=1e-12, atol=1e-15)
    assert x.grad[3] == -0.5 and x.grad[4] == 0.5          # the subgradient at 0 is right


def test_cross_entropy_closed_form(rng):
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 5, 6)
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    nll = -logp[np.arange(6), t]
    assert F.cross_entropy(T(x), t).item() == pytest.approx(nll.mean(), rel=1e-13)
    ls = 0.3
    smooth = (1 - ls) * nll - ls * logp.mean(1)
    np.testing.assert_allclose(F.cross_entropy(T(x), t, "none", ls).data, smooth, rtol=1e-13)
    # gradient of the mean: (softmax - onehot) / N
    xt = T(x)
    F.cross_entropy(xt, list(t)).backward()
    onehot = np.eye(5)[t]
    np.testing.assert_allclose(xt.grad, (np.exp(logp) - onehot) / 6, rtol=1e-12, atol=1e-15)


def test_cross_entropy_large_logits_and_minus_inf():
    x = T([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]])
    loss = F.cross_entropy(x, [1, 0], reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [2e4, 1e4 + np.log(2)], rtol=1e-13)
    assert np.all(np.isfinite(x.grad))
    # masked logits (-inf on a class that is not the target) stay finite without smoothing
    xm = T([[0.0, -np.inf, 1.0]])
    lm = F.cross_entropy(xm, [2])
    lm.backward()
    assert np.isfinite(lm.item()) and np.all(np.isfinite(xm.grad)) and xm.grad[0, 1] == 0


def test_mse_loss_values(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert F.mse_loss(T(a), b).item() == pytest.approx(((a - b) ** 2).mean())
    assert F.mse_loss(T(a), Tensor(b), "sum").item() == pytest.approx(((a - b) ** 2).sum())
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(T(a), b[:1])


def test_layer_norm_closed_form(rng):
    x = rng.standard_normal((4, 6)) * 3 + 2
    y = F.layer_norm(T(x), 6)
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.data, ref, rtol=1e-12)


# ---- dropout -----------------------------------------------------------------------------

def test_dropout_semantics(rng):
    x = T(rng.uniform(1, 2, (200, 50)))
    y = F.dropout(x, 0.3, generator=np.random.default_rng(0))
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], x.data[kept] / 0.7, rtol=1e-15)
    assert abs(kept.mean() - 0.7) < 0.01
    y.backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad, kept / 0.7, rtol=1e-15)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    z = F.dropout(x, 1.0)
    assert np.array_equal(z.data, np.zeros(x.shape))
    # an int seed gives a reproducible mask; float32 stays float32
    a, b = F.dropout(x, 0.5, generator=3), F.dropout(x, 0.5, generator=3)
    assert np.array_equal(a.data, b.data)
    x32 = Tensor(np.ones((4, 4), dtype=np.float32))
    assert F.dropout(x32, 0.5, generator=1).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), p)


# ---- errors ------------------------------------------------------------------------------

def test_loss_errors(rng, shape_regex):
    x = T(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, [0, 1, 2], reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="max")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, [0, 1, 2], label_smoothing=1.5)
    with pytest.raises(ValueError, match=shape_regex((2,)) + ".*" + shape_regex((3, 4))):
        F.cross_entropy(x, [0, 1])
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, [0, 4, 1])
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, [0, -1, 1])
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(x, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(x, ["a", "b", "c"])
    # labels in a (float) Tensor: integral values are class indices
    assert F.cross_entropy(x, Tensor([0, 1, 2])).item() == F.cross_entropy(x, [0, 1, 2]).item()
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy_with_logits(x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"weight of shape \(5, 3\)"):
        F.linear(x, T(np.ones((5, 3))))


# ---- PyTorch -----------------------------------------------------------------------------

def _torch_pair(torch, *arrays):
    ours = [T(a) for a in arrays]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(torch, ours_fn, torch_fn, arrays, rtol=1e-11, atol=1e-13, seed=0):
    ours, theirs = _torch_pair(torch, *arrays)
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=rtol, atol=atol)


def test_softmax_family_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 5, 3)) * 4
    for axis in (0, 1, 2):
        _compare(torch, lambda a, axis=axis: F.softmax(a, axis), lambda a, axis=axis:
                 torch.softmax(a, axis), [x])
        _compare(torch, lambda a, axis=axis: F.log_softmax(a, axis), lambda a, axis=axis:
                 torch.log_softmax(a, axis), [x])
    _compare(torch, lambda a: F.logsumexp(a, (0, 2)), lambda a: torch.logsumexp(a, (0, 2)), [x])
    _compare(torch, lambda a: F.logsumexp(a, 1, True),
             lambda a: torch.logsumexp(a, 1, keepdim=True), [x])
    big = np.array([[1e4, 0.0, -1e4], [3e3, 3e3, 1.0]])
    _compare(torch, F.log_softmax, lambda a: torch.log_softmax(a, -1), [big])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.05, 0.7])
def test_cross_entropy_matches_torch(reduction, smoothing, rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = rng.standard_normal((8, 6)) * 3
    t = rng.integers(0, 6, 8)
    _compare(torch, lambda a: F.cross_entropy(a, t, reduction, smoothing),
             lambda a: tF.cross_entropy(a, torch.tensor(t), reduction=reduction,
                                        label_smoothing=smoothing), [x])
    x3 = rng.standard_normal((3, 4, 5))
    t3 = rng.integers(0, 4, (3, 5))
    t3[0, 1] = t3[2, 4] = -100
    _compare(torch, lambda a: F.cross_entropy(a, t3, reduction, smoothing),
             lambda a: tF.cross_entropy(a, torch.tensor(t3), reduction=reduction,
                                        label_smoothing=smoothing), [x3])
    t_ign = t.copy()
    t_ign[[1, 4]] = 2
    _compare(torch, lambda a: F.cross_entropy(a, t_ign, reduction, smoothing, ignore_index=2),
             lambda a: tF.cross_entropy(a, torch.tensor(t_ign), reduction=reduction,
                                        label_smoothing=smoothing, ignore_index=2), [x])
    q = rng.dirichlet(np.ones(6), size=8)
    _compare(torch, lambda a: F.cross_entropy(a, q, reduction, smoothing),
             lambda a: tF.cross_entropy(a, torch.tensor(q), reduction=reduction,
                                        label_smoothing=smoothing), [x])
    _compare(torch, lambda a: F.cross_entropy(a, 3, reduction, smoothing),
             lambda a: tF.cross_entropy(a, torch.tensor(3), reduction=reduction,
                                        label_smoothing=smoothing), [x[0]])
    logp = np.log(rng.dirichlet(np.ones(6), size=8))
    _compare(torch, lambda a: F.nll_loss(a, t, reduction),
             lambda a: tF.nll_loss(a, torch.tensor(t), reduction=reduction), [logp])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(reduction, rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _compare(torch, lambda x, y: F.mse_loss(x, y, reduction),
             lambda x, y: tF.mse_loss(x, y, reduction=reduction), [a, b])
    x = np.concatenate([rng.standard_normal((4, 3)) * 5, [[0.0, 50.0, -50.0]]])
    t = rng.uniform(0, 1, (5, 3))
    w, pw = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 3, 3)
    _compare(torch, lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction),
             lambda x, t: tF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
             [x, t], atol=1e-12)
    # torch does not differentiate with respect to weight and pos_weight: constants here
    _compare(torch, lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, reduction, weight=w, pos_weight=pw),
        lambda x, t: tF.binary_cross_entropy_with_logits(
            x, t, reduction=reduction, weight=torch.tensor(w), pos_weight=torch.tensor(pw)),
        [x, t], atol=1e-12)


def test_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = rng.standard_normal((5, 3, 4)) * 2 + 1
    w, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _compare(torch, lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
             lambda x, w, b: tF.layer_norm(x, (3, 4), w, b, eps=1e-3), [x, w, b], rtol=1e-10)
    _compare(torch, lambda x: F.layer_norm(x, 4), lambda x: tF.layer_norm(x, (4,)), [x],
             rtol=1e-10)
    x2 = rng.standard_normal((6, 4))
    lw, lb = rng.standard_normal((2, 4)), rng.standard_normal(2)
    _compare(torch, F.linear, tF.linear, [x2, lw, lb])
    _compare(torch, lambda x, w: F.linear(x, w), lambda x, w: tF.linear(x, w), [x, lw])
    g, bb = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    _compare(torch, lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
             lambda x, g, b: tF.batch_norm(x, None, None, g, b, training=True), [x, g, bb],
             rtol=1e-10, atol=1e-12)


def test_dropout_statistics_like_torch(rng):
    torch = pytest.importorskip("torch")
    x = np.ones((400, 500))
    ours = F.dropout(T(x), 0.25, generator=0).data
    theirs = torch.nn.functional.dropout(torch.tensor(x), 0.25).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.75}
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.005
    assert abs(ours.mean() - 1.0) < 0.01


def test_float32_stays_float32(rng):
    """Array constants (targets, weights, buffers) follow the input's dtype."""
    x = Tensor(rng.standard_normal((6, 3)).astype(np.float32), requires_grad=True)
    t = [0, 1, 2, 0, 1, 2]
    cases = [
        lambda a: F.cross_entropy(a, t, label_smoothing=0.1),
        lambda a: F.cross_entropy(a, rng.dirichlet(np.ones(3), 6)),
        lambda a: F.nll_loss(a, t),
        lambda a: F.binary_cross_entropy_with_logits(a, np.ones((6, 3)), weight=np.ones(3),
                                                     pos_weight=np.ones(3)),
        lambda a: F.mse_loss(a, np.zeros((6, 3))),
        lambda a: F.layer_norm(a, 3),
        F.softmax, F.log_softmax, F.softplus,
        lambda a: F.logsumexp(a, 1),
        lambda a: F.batch_norm(a, None, None, training=True),
        lambda a: F.batch_norm(a, np.zeros(3), np.ones(3), training=False),
        lambda a: F.dropout(a, 0.3, generator=1),
        lambda a: F.linear(a, Tensor(np.ones((2, 3), dtype=np.float32))),
    ]
    for fn in cases:
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


# ---- linear: one primitive node ----------------------------------------------------------

@pytest.mark.parametrize("x_shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_is_one_node_with_correct_gradients(x_shape, with_bias, rng):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((3, 4)), rng.standard_normal(3)
    args = [x, w, b] if with_bias else [x, w]
    assert check(lambda *a: F.linear(*a), *args)
    y = F.linear(*[T(a) for a in args])
    assert y.op == "linear" and len(y.parents) == len(args)
    np.testing.assert_allclose(y.data, x @ w.T + (b if with_bias else 0.0), rtol=1e-12)


def test_linear_matches_torch_for_1d_and_3d_inputs(rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    for x in (rng.standard_normal(4), rng.standard_normal((2, 5, 4))):
        _compare(torch, F.linear, tF.linear, [x, w, b])


def test_linear_second_derivatives_match_the_composed_form(rng):
    """The Linear rule also runs on Tensors (create_graph): d/dW of sum((dL/dx)^2) agrees with
    the same thing computed through x @ W.T + b."""
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)

    def second(f):
        xs, ws, bs = T(x), T(w), T(b)
        loss = (f(xs, ws, bs).tanh() ** 2).sum()
        (gx,) = minigrad.grad(loss, [xs], create_graph=True)
        (gw,) = minigrad.grad((gx * gx).sum(), [ws])
        return gw

    np.testing.assert_allclose(second(F.linear), second(lambda x, w, b: x @ w.T + b),
                               rtol=1e-10, atol=1e-12)


def test_linear_keeps_float32_and_checks_the_bias_shape(rng):
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.dtype == np.float32 and {t.grad.dtype for t in (x, w, b)} == {np.dtype(np.float32)}
    assert w.grad.flags.c_contiguous
    with pytest.raises(ValueError, match=r"linear: bias of shape \(1, 3\)"):
        F.linear(x, w, Tensor(np.zeros((1, 3), dtype=np.float32)))
