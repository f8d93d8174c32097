"""minigrad.nn.functional: gradcheck through every composite, values and gradients against
PyTorch, numerical stability with large logits, dropout, and the errors for bad input."""

import ast
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor


def T(a):
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def L(a):
    """Class targets as PyTorch takes them: an int64 tensor."""
    return minigrad.tensor(np.asarray(a, dtype=np.int64))


def npy(t):
    """A tensor's values as an ndarray (a copy), for comparing with numpy references."""
    return np.array(t.detach().numpy(), copy=True)


def check(fn, *arrays):
    """gradcheck fn at float64 copies of arrays."""
    return minigrad.gradcheck(fn, [T(a) for a in arrays])


# ---- composition only --------------------------------------------------------------------

def _imports_ops(tree):
    """True if the module imports the ops package (from ...ops import X, from ... import ops,
    import minigrad.ops)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module and "ops" in node.module.split("."):
                return True
            if any(a.name == "ops" for a in node.names):
                return True
        elif isinstance(node, ast.Import):
            if any("ops" in a.name.split(".") for a in node.names):
                return True
    return False


def test_functional_has_no_backward_code():
    # the checker itself sees each way of importing the primitives
    for line in ("from ...ops import Add", "from ... import dtypes, ops", "import minigrad.ops",
                 "from minigrad.ops.arithmetic import Mul"):
        assert _imports_ops(ast.parse(line)), line
    assert not _imports_ops(ast.parse("from ...functions.pointwise import maximum"))
    names = sorted(m.name for m in pkgutil.iter_modules(F.__path__))
    assert {"activations", "layers", "losses"} <= set(names)
    for mod in [F] + [importlib.import_module(f"{F.__name__}.{n}") for n in names]:
        src = inspect.getsource(mod)
        assert "def backward" not in src, mod.__name__
        assert not _imports_ops(ast.parse(src)), mod.__name__
        assert "apply(" not in src, mod.__name__      # no primitive is invoked directly
    assert F.mean is minigrad.mean and F.var is minigrad.var


# ---- gradcheck ---------------------------------------------------------------------------

@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False),
                                         (-1, True)])
def test_gradcheck_logsumexp(dim, keepdim, rng):
    # dim=None (all dims) is minigrad's; torch.logsumexp requires dim
    assert check(lambda x: F.logsumexp(x, dim, keepdim), rng.standard_normal((3, 4, 2)))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradcheck_softmax(fn, dim, rng):
    x = rng.standard_normal((3, 4)) * 3
    assert check(lambda x: fn(x, dim), x)
    assert check(lambda x: fn(x, dim=dim), x)
    # numpy's spelling stays as an alias
    np.testing.assert_array_equal(npy(fn(T(x), axis=dim)), npy(fn(T(x), dim=dim)))


def test_gradcheck_log_softmax_large_logits():
    x = np.array([[1e4, 0.0, -1e4, 1e4 - 1.0], [-5e3, -5e3 + 2.0, -5e3 + 1.0, -6e3]])
    assert check(lambda x: F.log_softmax(x, dim=1), x)
    y = F.log_softmax(T(x), dim=1)
    assert np.all(np.isfinite(npy(y)))
    assert y[0, 0].item() == pytest.approx(-np.log1p(np.exp(-1.0)), rel=1e-12)
    assert F.logsumexp(T(x), dim=1)[0].item() == pytest.approx(1e4 + np.log1p(np.exp(-1.0)))
    assert np.all(np.isfinite(npy(F.softmax(T(x), dim=1))))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_gradcheck_cross_entropy(reduction, smoothing, rng):
    logits = rng.standard_normal((5, 4)) * 2
    target = L([0, 3, 1, 1, 2])
    assert check(lambda x: F.cross_entropy(x, target, reduction=reduction,
                                           label_smoothing=smoothing), logits)
    # extra dims (N, C, L), ignored targets, unbatched input
    x3 = rng.standard_normal((2, 3, 4))
    t3 = L([[0, 2, -100, 1], [2, 2, 0, -100]])
    assert check(lambda x: F.cross_entropy(x, t3, reduction=reduction,
                                           label_smoothing=smoothing), x3)
    assert check(lambda x: F.cross_entropy(x, L(2), reduction=reduction,
                                           label_smoothing=smoothing), rng.standard_normal(4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_other_losses(reduction, rng):
    logp = rng.standard_normal((4, 3))
    target = L([2, 0, 1, 2])
    assert check(lambda x: F.nll_loss(x, target, reduction=reduction), logp)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert check(lambda x, y: F.mse_loss(x, y, reduction=reduction), a, b)
    x = rng.standard_normal((3, 4)) * 3
    t = rng.uniform(0, 1, (3, 4))
    assert check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                 x, t)
    # minigrad also differentiates with respect to weight and pos_weight (PyTorch refuses
    # weights that require grad); checked against central differences
    w, pw = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 3, 4)
    assert check(lambda x, t, w, pw: F.binary_cross_entropy_with_logits(
        x, t, reduction=reduction, weight=w, pos_weight=pw), x, t, w, pw)
    q = rng.dirichlet(np.ones(3), size=4)            # class-probability targets
    assert check(lambda x: F.cross_entropy(x, Tensor(q), reduction=reduction,
                                           label_smoothing=0.2), logp)


def test_gradcheck_norms_linear_dropout(rng):
    x = rng.standard_normal((3, 2, 4))
    w, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    assert check(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), x, w, b)
    assert check(lambda x: F.layer_norm(x, (4,)), x)
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
    loss = F.binary_cross_entropy_with_logits(x, Tensor(t), reduction="none")
    loss.sum().backward()
    xs = npy(x)
    ref = np.maximum(xs, 0) - xs * t + np.log1p(np.exp(-np.abs(xs)))
    np.testing.assert_allclose(npy(loss), ref, rtol=1e-12, atol=1e-15)
    sig = 0.5 * (1 + np.tanh(xs / 2))
    np.testing.assert_allclose(npy(x.grad), sig - t, rtol=1e-12, atol=1e-15)
    assert x.grad[3].item() == -0.5 and x.grad[4].item() == 0.5   # the subgradient at 0


def test_cross_entropy_closed_form(rng):
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 5, 6)
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    nll = -logp[np.arange(6), t]
    assert F.cross_entropy(T(x), L(t)).item() == pytest.approx(nll.mean(), rel=1e-13)
    ls = 0.3
    smooth = (1 - ls) * nll - ls * logp.mean(1)
    np.testing.assert_allclose(
        npy(F.cross_entropy(T(x), L(t), reduction="none", label_smoothing=ls)), smooth,
        rtol=1e-13)
    # gradient of the mean: (softmax - onehot) / N
    xt = T(x)
    F.cross_entropy(xt, L(t)).backward()
    onehot = np.eye(5)[t]
    np.testing.assert_allclose(npy(xt.grad), (np.exp(logp) - onehot) / 6, rtol=1e-12,
                               atol=1e-15)


def test_cross_entropy_large_logits_and_minus_inf():
    x = T([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]])
    loss = F.cross_entropy(x, L([1, 0]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(npy(loss), [2e4, 1e4 + np.log(2)], rtol=1e-13)
    assert np.all(np.isfinite(npy(x.grad)))
    # masked logits (-inf on a class that is not the target) stay finite without smoothing
    xm = T([[0.0, -np.inf, 1.0]])
    lm = F.cross_entropy(xm, L([2]))
    lm.backward()
    assert np.isfinite(lm.item()) and np.all(np.isfinite(npy(xm.grad)))
    assert xm.grad[0, 1].item() == 0


def test_mse_loss_values(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    assert F.mse_loss(T(a), Tensor(b)).item() == pytest.approx(((a - b) ** 2).mean())
    assert F.mse_loss(T(a), Tensor(b), reduction="sum").item() == pytest.approx(
        ((a - b) ** 2).sum())
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(T(a), Tensor(b[:1]))


def test_layer_norm_closed_form(rng):
    x = rng.standard_normal((4, 6)) * 3 + 2
    y = F.layer_norm(T(x), (6,))
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(npy(y), ref, rtol=1e-12)


# ---- dropout -----------------------------------------------------------------------------

def test_dropout_semantics(rng):
    x = T(rng.uniform(1, 2, (200, 50)))
    y = F.dropout(x, 0.3, generator=np.random.default_rng(0))
    kept = npy(y) != 0
    np.testing.assert_allclose(npy(y)[kept], npy(x)[kept] / 0.7, rtol=1e-15)
    assert abs(kept.mean() - 0.7) < 0.01
    # the same in PyTorch's spelling: a bool tensor, made float64 to average it
    assert (y != 0).double().mean().item() == pytest.approx(kept.mean(), abs=1e-15)
    y.backward(minigrad.ones_like(y))
    np.testing.assert_allclose(npy(x.grad), kept / 0.7, rtol=1e-15)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    z = F.dropout(x, 1.0)
    assert np.array_equal(npy(z), np.zeros(x.shape))
    # an int seed gives a reproducible mask; float32 stays float32
    a, b = F.dropout(x, 0.5, generator=3), F.dropout(x, 0.5, generator=3)
    assert np.array_equal(npy(a), npy(b))
    x32 = Tensor(np.ones((4, 4), dtype=np.float32))
    assert F.dropout(x32, 0.5, generator=1).dtype == minigrad.float32


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), p)


# ---- errors ------------------------------------------------------------------------------

def test_loss_errors(rng, shape_regex):
    x = T(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(x, L([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="max is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="max")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, L([0, 1, 2]), label_smoothing=1.5)
    # PyTorch: "Expected input batch_size (3) to match target batch_size (2)"; minigrad
    # names both shapes
    with pytest.raises(ValueError, match=shape_regex((2,)) + ".*" + shape_regex((3, 4))):
        F.cross_entropy(x, L([0, 1]))
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, L([0, 4, 1]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, L([0, -1, 1]))
    # class targets must be integers (PyTorch: "expected target dtype to be Long or Byte")
    with pytest.raises(RuntimeError, match="Long"):
        F.cross_entropy(x, Tensor([0.5, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Long"):
        F.nll_loss(x, Tensor([0.5, 1.0, 2.0]))
    # minigrad is lenient where PyTorch wants int64: a float tensor of whole numbers is read
    # as class indices
    assert F.cross_entropy(x, Tensor([0, 1, 2])).item() == \
        F.cross_entropy(x, L([0, 1, 2])).item()
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(x, minigrad.ones((4, 3)))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[3\]"):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(3x4 and 3x5\)"):
        F.linear(x, T(np.ones((5, 3))))


def test_target_of_strings_is_a_type_error(rng):
    """A target that is not numbers is a TypeError, as in PyTorch ("argument 'target' must be
    Tensor, not list"; minigrad also takes lists of class indices)."""
    x = T(rng.standard_normal((3, 4)))
    with pytest.raises(TypeError, match="integers|Tensor"):
        F.nll_loss(x, ["a", "b", "c"])
    with pytest.raises(TypeError, match="integers|Tensor"):
        F.cross_entropy(x, ["a", "b", "c"])


# ---- PyTorch -----------------------------------------------------------------------------

def _torch_pair(torch, *arrays):
    ours = [T(a) for a in arrays]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(torch, ours_fn, torch_fn, arrays, rtol=1e-11, atol=1e-13, seed=0):
    ours, theirs = _torch_pair(torch, *arrays)
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    y.backward(minigrad.tensor(g))
    ty.backward(torch.tensor(g))
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(npy(a.grad), ta.grad.numpy(), rtol=rtol, atol=atol)


def test_softmax_family_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 5, 3)) * 4
    for dim in (0, 1, 2):
        _compare(torch, lambda a, dim=dim: F.softmax(a, dim), lambda a, dim=dim:
                 torch.softmax(a, dim), [x])
        _compare(torch, lambda a, dim=dim: F.log_softmax(a, dim=dim), lambda a, dim=dim:
                 torch.nn.functional.log_softmax(a, dim=dim), [x])
    _compare(torch, lambda a: F.logsumexp(a, (0, 2)), lambda a: torch.logsumexp(a, (0, 2)), [x])
    _compare(torch, lambda a: F.logsumexp(a, 1, True),
             lambda a: torch.logsumexp(a, 1, keepdim=True), [x])
    big = np.array([[1e4, 0.0, -1e4], [3e3, 3e3, 1.0]])
    _compare(torch, lambda a: F.log_softmax(a, -1), lambda a: torch.log_softmax(a, -1), [big])
    # no dim: PyTorch's implicit choice (dim 1 for 2-D input), with its deprecation warning
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        _compare(torch, F.log_softmax, lambda a: torch.log_softmax(a, 1), [big])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.05, 0.7])
def test_cross_entropy_matches_torch(reduction, smoothing, rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = rng.standard_normal((8, 6)) * 3
    t = rng.integers(0, 6, 8)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    _compare(torch, lambda a: F.cross_entropy(a, L(t), **kw),
             lambda a: tF.cross_entropy(a, torch.tensor(t), **kw), [x])
    x3 = rng.standard_normal((3, 4, 5))
    t3 = rng.integers(0, 4, (3, 5))
    t3[0, 1] = t3[2, 4] = -100
    _compare(torch, lambda a: F.cross_entropy(a, L(t3), **kw),
             lambda a: tF.cross_entropy(a, torch.tensor(t3), **kw), [x3])
    t_ign = t.copy()
    t_ign[[1, 4]] = 2
    _compare(torch, lambda a: F.cross_entropy(a, L(t_ign), ignore_index=2, **kw),
             lambda a: tF.cross_entropy(a, torch.tensor(t_ign), ignore_index=2, **kw), [x])
    q = rng.dirichlet(np.ones(6), size=8)
    _compare(torch, lambda a: F.cross_entropy(a, Tensor(q), **kw),
             lambda a: tF.cross_entropy(a, torch.tensor(q), **kw), [x])
    _compare(torch, lambda a: F.cross_entropy(a, L(3), **kw),
             lambda a: tF.cross_entropy(a, torch.tensor(3), **kw), [x[0]])
    logp = np.log(rng.dirichlet(np.ones(6), size=8))
    _compare(torch, lambda a: F.nll_loss(a, L(t), reduction=reduction),
             lambda a: tF.nll_loss(a, torch.tensor(t), reduction=reduction), [logp])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(reduction, rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _compare(torch, lambda x, y: F.mse_loss(x, y, reduction=reduction),
             lambda x, y: tF.mse_loss(x, y, reduction=reduction), [a, b])
    x = np.concatenate([rng.standard_normal((4, 3)) * 5, [[0.0, 50.0, -50.0]]])
    t = rng.uniform(0, 1, (5, 3))
    w, pw = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 3, 3)
    _compare(torch, lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
             lambda x, t: tF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
             [x, t], atol=1e-12)
    # torch does not differentiate with respect to weight and pos_weight: constants here
    _compare(torch, lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, reduction=reduction, weight=Tensor(w), pos_weight=Tensor(pw)),
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
    _compare(torch, lambda x: F.layer_norm(x, (4,)), lambda x: tF.layer_norm(x, (4,)), [x],
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
    ours = npy(F.dropout(T(x), 0.25, generator=0))
    theirs = torch.nn.functional.dropout(torch.tensor(x), 0.25).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.75}
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.005
    assert abs(ours.mean() - 1.0) < 0.01


def test_float32_stays_float32(rng):
    """Array constants (targets, weights, buffers) follow the input's dtype."""
    x = Tensor(rng.standard_normal((6, 3)).astype(np.float32), requires_grad=True)
    t = L([0, 1, 2, 0, 1, 2])
    f32 = minigrad.float32
    cases = [
        lambda a: F.cross_entropy(a, t, label_smoothing=0.1),
        lambda a: F.cross_entropy(a, Tensor(rng.dirichlet(np.ones(3), 6).astype(np.float32))),
        lambda a: F.nll_loss(a, t),
        lambda a: F.nll_loss(a, t, weight=minigrad.ones(3, dtype=f32)),
        lambda a: F.binary_cross_entropy_with_logits(
            a, minigrad.ones((6, 3), dtype=f32), weight=minigrad.ones(3, dtype=f32),
            pos_weight=minigrad.ones(3, dtype=f32)),
        lambda a: F.mse_loss(a, minigrad.zeros((6, 3), dtype=f32)),
        lambda a: F.layer_norm(a, (3,)),
        lambda a: F.softmax(a, 1), lambda a: F.log_softmax(a, 1), F.softplus,
        lambda a: F.logsumexp(a, 1),
        lambda a: F.batch_norm(a, None, None, training=True),
        lambda a: F.batch_norm(a, minigrad.zeros(3, dtype=f32), minigrad.ones(3, dtype=f32),
                               training=False),
        lambda a: F.dropout(a, 0.3, generator=1),
        lambda a: F.linear(a, Tensor(np.ones((2, 3), dtype=np.float32))),
    ]
    for fn in cases:
        x.grad = None
        y = fn(x)
        y.sum().backward()
        assert y.dtype == minigrad.float32 and x.grad.dtype == minigrad.float32


# ---- linear: one primitive node ----------------------------------------------------------

@pytest.mark.parametrize("x_shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_is_one_node_with_correct_gradients(x_shape, with_bias, rng):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((3, 4)), rng.standard_normal(3)
    args = [x, w, b] if with_bias else [x, w]
    assert check(lambda *a: F.linear(*a), *args)
    y = F.linear(*[T(a) for a in args])
    assert y.op == "linear" and len(y.parents) == len(args)
    np.testing.assert_allclose(npy(y), x @ w.T + (b if with_bias else 0.0), rtol=1e-12)


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

    np.testing.assert_allclose(npy(second(F.linear)), npy(second(lambda x, w, b: x @ w.T + b)),
                               rtol=1e-10, atol=1e-12)


def test_linear_keeps_float32_and_checks_the_bias_shape(rng):
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.dtype == minigrad.float32
    assert {t.grad.dtype for t in (x, w, b)} == {minigrad.float32}
    assert w.grad.is_contiguous() and w.grad.numpy().flags.c_contiguous
    # a bias that does not broadcast to the output is an error
    with pytest.raises(RuntimeError, match=r"\(2,\)|\[2\]"):
        F.linear(x, w, Tensor(np.zeros(2, dtype=np.float32)))


def test_linear_bias_broadcasts_like_torch(rng):
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    # as in PyTorch, a bias that broadcasts to the output (here (1, 3)) is accepted
    b13 = Tensor(np.arange(3, dtype=np.float32).reshape(1, 3), requires_grad=True)
    y13 = F.linear(x, w, b13)
    y13.sum().backward()
    assert tuple(y13.shape) == (5, 3) and b13.grad.dtype == minigrad.float32
    np.testing.assert_allclose(npy(y13), npy(x) @ npy(w).T + npy(b13), rtol=1e-6)
    np.testing.assert_array_equal(npy(b13.grad), np.full((1, 3), 5.0, dtype=np.float32))
