"""Batch norm from primitive ops: the engine's gradient against the closed-form backward of
Ioffe and Szegedy (2015) written here in numpy, against finite differences, and against
PyTorch (values, gradients, running buffers); shape errors; BatchNorm1d's buffers and scopes.
"""

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import Tensor

EPS = 1e-5


def npy(t):
    """A tensor's values as an ndarray (a copy), for comparing with numpy references."""
    return np.array(t.detach().numpy(), copy=True)


# ---- an independent numpy reference ------------------------------------------------------

def _stat_axes(x):
    return (0,) if x.ndim == 2 else (0, 2)


def _chan(v, x):
    """A per-channel vector shaped to broadcast against x ((C,) or (C, 1))."""
    return v if x.ndim == 2 else v.reshape(-1, 1)


def bn_forward_ref(x, gamma, beta, eps=EPS):
    axes = _stat_axes(x)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)          # biased
    xhat = (x - mu) / np.sqrt(var + eps)
    return xhat * _chan(gamma, x) + _chan(beta, x), xhat, var


def bn_backward_ref(dy, x, gamma, eps=EPS):
    """Ioffe & Szegedy's closed form, m values per channel:
    dx = (1/m) * gamma / sqrt(var + eps) * (m*dy - sum(dy) - xhat*sum(dy*xhat)),
    dgamma = sum(dy*xhat), dbeta = sum(dy)."""
    axes = _stat_axes(x)
    m = x.size // x.shape[1]
    _, xhat, var = bn_forward_ref(x, gamma, np.zeros_like(gamma), eps)
    sum_dy = dy.sum(axis=axes, keepdims=True)
    sum_dy_xhat = (dy * xhat).sum(axis=axes, keepdims=True)
    dx = (1.0 / m) * _chan(gamma, x) / np.sqrt(var + eps) * (m * dy - sum_dy - xhat * sum_dy_xhat)
    return dx, sum_dy_xhat.reshape(-1), sum_dy.reshape(-1)


SHAPES = [(2, 1), (2, 3), (5, 4), (16, 7), (64, 3), (3, 4, 1), (2, 3, 5), (7, 2, 9), (1, 4, 6)]


@pytest.mark.parametrize("shape", SHAPES)
def test_engine_gradient_matches_closed_form(shape, rng):
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 1
    gamma = rng.uniform(0.5, 2.0, c)
    beta = rng.standard_normal(c)
    dy = rng.standard_normal(shape)
    xt, gt, bt = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    y = F.batch_norm(xt, None, None, gt, bt, training=True, eps=EPS)
    y.backward(Tensor(dy))
    y_ref, _, _ = bn_forward_ref(x, gamma, beta)
    dx, dgamma, dbeta = bn_backward_ref(dy, x, gamma)
    np.testing.assert_allclose(npy(y), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(npy(xt.grad), dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(npy(gt.grad), dgamma, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(npy(bt.grad), dbeta, rtol=1e-10, atol=1e-10)


def test_gradient_sums_to_zero_over_the_batch(rng):
    # a consequence of normalisation: shifting a channel by a constant changes nothing
    x = Tensor(rng.standard_normal((10, 4)), requires_grad=True)
    F.batch_norm(x, None, None, training=True).backward(Tensor(rng.standard_normal((10, 4))))
    np.testing.assert_allclose(npy(x.grad.sum(dim=0)), 0.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4)])
def test_gradcheck_train_and_eval(shape, rng):
    c = shape[1]
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    w = Tensor(rng.uniform(0.5, 1.5, c), requires_grad=True)
    b = Tensor(rng.standard_normal(c), requires_grad=True)
    assert minigrad.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                              [x, w, b])
    rm, rv = Tensor(rng.standard_normal(c)), Tensor(rng.uniform(0.5, 2.0, c))
    assert minigrad.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False),
                              [x, w, b])


def test_constant_feature_is_finite(rng):
    x = rng.standard_normal((8, 3))
    x[:, 1] = 4.25                                     # constant over the batch
    xt = Tensor(x, requires_grad=True)
    w = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    y = F.batch_norm(xt, None, None, w, b, training=True)
    y.backward(Tensor(rng.standard_normal((8, 3))))
    assert np.all(np.isfinite(npy(y))) and np.all(npy(y)[:, 1] == 0.0)
    for g in (xt.grad, w.grad, b.grad):
        assert np.all(np.isfinite(npy(g)))
    dx, _, _ = bn_backward_ref(np.ones((8, 3)), x, np.ones(3))
    assert np.all(np.isfinite(dx))


def test_running_buffers_updated_in_place(rng):
    x = rng.standard_normal((6, 3)) * 2 + 1
    rm_t, rv_t = minigrad.zeros(3), minigrad.ones(3)
    before = (rm_t.numpy(), rv_t.numpy())                           # share the storage
    F.batch_norm(Tensor(x), rm_t, rv_t, training=True, momentum=0.25)
    mean, var_unbiased = x.mean(axis=0), x.var(axis=0, ddof=1)
    for got_m, got_v in ((npy(rm_t), npy(rv_t)), before):           # in place
        np.testing.assert_allclose(got_m, 0.25 * mean, rtol=1e-13)
        np.testing.assert_allclose(got_v, 0.75 + 0.25 * var_unbiased, rtol=1e-13)
    # and the buffers stay outside the graph, also when the input requires grad
    xg = Tensor(x, requires_grad=True)
    F.batch_norm(xg, rm_t, rv_t, training=True, momentum=0.25).sum().backward()
    assert not rm_t.requires_grad and not rv_t.requires_grad and rm_t.grad_fn is None


def test_numpy_buffers_are_a_type_error(rng):
    """PyTorch takes Tensors only ("argument 'running_mean' must be Tensor, not
    numpy.ndarray"); an ndarray must not fail deep inside with an AttributeError."""
    x = Tensor(rng.standard_normal((6, 3)))
    for training in (True, False):
        with pytest.raises(TypeError, match="running_mean"):
            F.batch_norm(x, np.zeros(3), np.ones(3), training=training)


def test_eval_uses_running_buffers_and_leaves_them(rng):
    x = rng.standard_normal((5, 3))
    rm_np, rv_np = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    rm, rv = Tensor(rm_np), Tensor(rv_np)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    y = F.batch_norm(Tensor(x), rm, rv, Tensor(w), Tensor(b), training=False)
    np.testing.assert_allclose(npy(y), (x - rm_np) / np.sqrt(rv_np + EPS) * w + b, rtol=1e-13)
    assert np.array_equal(npy(rm), rm_np) and np.array_equal(npy(rv), rv_np)
    # eval with a single sample is fine
    F.batch_norm(Tensor(x[:1]), rm, rv, training=False)


def test_float32_stays_float32(rng):
    x = Tensor(rng.standard_normal((6, 3)).astype(np.float32), requires_grad=True)
    f32 = minigrad.float32
    bn = nn.BatchNorm1d(3, dtype=f32)
    y = bn(x)
    y.sum().backward()
    assert y.dtype == f32 and x.grad.dtype == f32
    assert bn.running_mean.dtype == f32 and bn.running_var.dtype == f32
    assert bn.num_batches_tracked.dtype == minigrad.int64
    bn.eval()
    assert bn(x).dtype == f32


# ---- errors ------------------------------------------------------------------------------

def test_bad_shapes(rng, shape_regex):
    # BatchNorm1d: PyTorch's ValueError "expected 2D or 3D input (got 4D input)"
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=shape_regex((2, 3, 4, 5)) + "|got 4D input"):
        bn(Tensor(np.ones((2, 3, 4, 5))))
    with pytest.raises(ValueError, match=shape_regex((3,)) + "|got 1D input"):
        bn(Tensor(np.ones(3)))


def test_channel_mismatch_is_a_runtime_error(rng):
    """PyTorch raises RuntimeError ("running_mean should contain 5 elements not 3"); minigrad
    names the vector and both sizes."""
    rm, rv = minigrad.zeros(3), minigrad.ones(3)
    x = Tensor(rng.standard_normal((4, 5)))
    with pytest.raises(RuntimeError, match=r"running_mean.*(3.*5|5.*3)"):
        F.batch_norm(x, rm, rv, training=True)
    with pytest.raises(RuntimeError, match=r"weight.*(3.*5|5.*3)"):
        F.batch_norm(x, None, None, Tensor(np.ones(3)), training=True)
    with pytest.raises(RuntimeError, match=r"bias.*(2.*5|5.*2)"):
        F.batch_norm(x, None, None, None, Tensor(np.ones(2)), training=True)
    with pytest.raises(RuntimeError, match=r"running_mean.*(3.*5|5.*3)"):
        nn.BatchNorm1d(3)(x)
    # a 1-D input has no channel dim: PyTorch raises RuntimeError too
    with pytest.raises(RuntimeError):
        F.batch_norm(Tensor(np.ones(3)), rm, rv, training=True)


def test_functional_takes_4d_input_like_torch(rng):
    """F.batch_norm normalises any (N, C, *) input per channel C (BatchNorm2d's case)."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 5)) * 2 + 1
    rm, rv = minigrad.zeros(3), minigrad.ones(3)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    xt, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.batch_norm(xt, rm, rv, training=True)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, training=True)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(npy(rm), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(npy(rv), trv.numpy(), rtol=1e-12)
    dy = rng.standard_normal(x.shape)
    y.backward(Tensor(dy))
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(npy(xt.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_one_value_per_channel_in_training(rng, shape_regex):
    msg = r"Expected more than 1 value per channel when training, got input size .*" + \
        shape_regex((1, 4))
    with pytest.raises(ValueError, match=msg):
        F.batch_norm(Tensor(np.ones((1, 4))), None, None, training=True)
    with pytest.raises(ValueError, match=r"input size .*" + shape_regex((1, 4, 1))):
        F.batch_norm(Tensor(np.ones((1, 4, 1))), None, None, training=True)
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=msg):
        bn(Tensor(np.ones((1, 4))))
    # a rejected batch is not counted (minigrad's choice: PyTorch 2.13 has already counted it
    # when it raises)
    assert bn.num_batches_tracked.item() == 0
    F.batch_norm(Tensor(np.ones((1, 4, 2))), None, None, training=True)   # N*L = 2 is fine


def test_buffers_required_in_eval(rng):
    x = Tensor(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match="both running_mean and running_var|both be None"):
        F.batch_norm(x, minigrad.zeros(3), None, training=True)
    # without tracked statistics BatchNorm1d uses batch statistics in eval mode, as PyTorch
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    y = bn(x)
    np.testing.assert_allclose(npy(y), bn_forward_ref(npy(x), np.ones(3), np.zeros(3))[0],
                               rtol=1e-12, atol=1e-12)


def test_eval_without_buffers_is_a_runtime_error(rng):
    # PyTorch: RuntimeError "running_mean must be defined in evaluation mode"
    x = Tensor(rng.standard_normal((4, 3)))
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(x, None, None, training=False)


# ---- BatchNorm1d -------------------------------------------------------------------------

def test_batchnorm1d_buffers_and_state_keys():
    bn = nn.BatchNorm1d(4)
    assert isinstance(bn.running_mean, Tensor) and isinstance(bn.running_var, Tensor)
    assert not bn.running_mean.requires_grad and not bn.running_var.requires_grad
    assert np.array_equal(npy(bn.running_mean), np.zeros(4))
    assert np.array_equal(npy(bn.running_var), np.ones(4))
    nbt = bn.num_batches_tracked
    assert nbt.item() == 0 and nbt.dtype == minigrad.int64 and nbt.dim() == 0
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    bn2 = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(bn2.state_dict()) == [] and list(bn2.parameters()) == []


def test_batchnorm1d_cumulative_average(rng):
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = [rng.standard_normal((5, 3)) * (i + 1) + i for i in range(4)]
    for xb in batches:
        bn(Tensor(xb))
    assert bn.num_batches_tracked.item() == 4
    np.testing.assert_allclose(npy(bn.running_mean), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-12)
    # the first batch replaces the initial ones entirely (factor 1/1)
    np.testing.assert_allclose(npy(bn.running_var),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)


def test_scopes_in_an_mlp(rng):
    """Every op recorded by BatchNorm1d's forward carries a scope of kind BatchNorm1d whose
    path starts with the parent Sequential and names the layer by its index."""
    model = nn.Sequential(nn.Linear(5, 6, generator=0), nn.BatchNorm1d(6), nn.ReLU(),
                          nn.Linear(6, 6, generator=1), nn.BatchNorm1d(6), nn.ReLU(),
                          nn.Linear(6, 2, generator=2))
    model.name = "mlp"
    x = Tensor(rng.standard_normal((8, 5)))
    y = model(x)
    # collect every node between each BatchNorm's input (a Linear output) and its output
    seen, stack, nodes = set(), [y], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        nodes.append(n)
        stack.extend(n.parents)
    bn_nodes = [n for n in nodes if n.scope is not None and n.scope.kind == "BatchNorm1d"]
    assert {n.scope.name for n in bn_nodes} == {"1", "4"}
    for n in bn_nodes:
        path = n.scope.path()
        assert [s.name for s in path] == ["mlp", n.scope.name]
        assert [s.kind for s in path] == ["Sequential", "BatchNorm1d"]
    # the ops inside the BatchNorm: everything from its output back to its input
    for idx in (1, 4):
        bn_out = next(n for n in nodes if n.op == "relu" and n.scope.name == str(idx + 1)
                      ).parents[0]
        lin_out = None
        inside, stack = [], [bn_out]
        while stack:
            n = stack.pop()
            if n.scope is not None and n.scope.kind == "Linear":
                lin_out = n
                continue
            if n.op == "" and n.scope is None:            # parameters, made outside
                continue
            inside.append(n)
            stack.extend(n.parents)
        assert lin_out is not None and len(inside) >= 8
        for n in inside:
            assert n.scope.kind == "BatchNorm1d" and n.scope.name == str(idx), n.op
            assert n.scope.path()[0].name == "mlp"


# ---- PyTorch -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batchnorm1d_matches_torch(shape, momentum, rng):
    torch = pytest.importorskip("torch")
    c = shape[1]
    bn = nn.BatchNorm1d(c, momentum=momentum)
    tbn = torch.nn.BatchNorm1d(c, momentum=momentum, dtype=torch.float64)
    w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    with minigrad.no_grad():
        bn.weight.copy_(Tensor(w))
        bn.bias.copy_(Tensor(b))
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor(w))
        tbn.bias.copy_(torch.tensor(b))
    for step in range(5):
        bn.train(step < 3)
        tbn.train(step < 3)
        x = rng.standard_normal(shape) * (step + 1) + step
        dy = rng.standard_normal(shape)
        xt = Tensor(x, requires_grad=True)
        y = bn(xt)
        y.backward(Tensor(dy))
        tx = torch.tensor(x, requires_grad=True)
        ty = tbn(tx)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(npy(xt.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(npy(bn.weight.grad), tbn.weight.grad.numpy(), rtol=1e-9,
                                   atol=1e-11)
        np.testing.assert_allclose(npy(bn.bias.grad), tbn.bias.grad.numpy(), rtol=1e-9,
                                   atol=1e-11)
        np.testing.assert_allclose(npy(bn.running_mean), tbn.running_mean.numpy(), rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(npy(bn.running_var), tbn.running_var.numpy(), rtol=1e-12)
        assert bn.num_batches_tracked.item() == tbn.num_batches_tracked.item()
        bn.zero_grad()
        tbn.zero_grad()


def test_functional_matches_torch(rng):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = rng.standard_normal((7, 3, 2))
    rm_np, rv_np = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    rm, rv = Tensor(rm_np), Tensor(rv_np)
    trm, trv = torch.tensor(rm_np), torch.tensor(rv_np)
    for training in (True, False):
        y = F.batch_norm(Tensor(x), rm, rv, training=training, momentum=0.3, eps=1e-3)
        ty = tF.batch_norm(torch.tensor(x), trm, trv, training=training, momentum=0.3, eps=1e-3)
        np.testing.assert_allclose(npy(y), ty.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(npy(rm), trm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(npy(rv), trv.numpy(), rtol=1e-12)
    assert not np.allclose(npy(rm), rm_np)              # the training step moved them
