"""minigrad.optim beyond SGD/Adam: RMSprop and Adagrad against their rules written here in
numpy and against torch.optim (100 float64 steps); optimizer state dicts against torch's
(layout, values, resuming, groups with their own options); the lr schedulers against
torch.optim.lr_scheduler (the same learning rates to the last bit, the same warnings).

The runs against torch are written once and run on both libraries (`lib` is torch or
minigrad): minigrad speaks PyTorch."""


import numpy as np
import pytest

import minigrad
import minigrad.optim as optim
from minigrad import Tensor

torch = pytest.importorskip("torch")

SHAPES = ((3, 2), (4,))


def npy(t):
    return np.array(t.detach().numpy(), copy=True)


@pytest.fixture
def problem(rng):
    """Starting values and 100 steps of gradients (numpy), the same for both libraries."""
    p0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(100)]
    return p0, grads


def make(lib, name, p0, groups=None, **kw):
    params = [lib.tensor(p.copy(), requires_grad=True) for p in p0]
    if groups is None:
        return params, getattr(lib.optim, name)(params, **kw)
    spec = [{"params": [params[i] for i in idx], **opts} for idx, opts in groups]
    return params, getattr(lib.optim, name)(spec, **kw)


def feed(lib, params, opt, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g)
        opt.step()


def assert_state_matches(ours, theirs, rtol=1e-12):
    """minigrad's optimizer state (Tensors) against torch's: keys, shapes, values."""
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        mine = ours[k]
        if isinstance(v, torch.Tensor):
            assert isinstance(mine, Tensor), k
            assert tuple(mine.shape) == tuple(v.shape), k
            np.testing.assert_allclose(npy(mine), v.numpy(), rtol=rtol, atol=1e-14)
        else:
            assert mine == v, k


# ---- the documented rules, written independently in numpy ---------------------------------

def rmsprop_ref(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    p = p.copy()
    v, m, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g
            d = np.sqrt(v - m * m) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d
    return p


def adagrad_ref(p, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p = p.copy()
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


RMSPROP_CASES = [
    dict(),
    dict(lr=1e-3, alpha=0.9, eps=1e-6),
    dict(lr=1e-2, momentum=0.9),
    dict(lr=1e-2, centered=True),
    dict(lr=5e-3, momentum=0.5, centered=True, weight_decay=0.1),
    dict(lr=1e-2, maximize=True, weight_decay=0.01),
]
ADAGRAD_CASES = [
    dict(),
    dict(lr=0.1, lr_decay=0.01),
    dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.1, eps=1e-6, maximize=True),
    dict(lr=0.3, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-4),
]
CASES = [("RMSprop", kw) for kw in RMSPROP_CASES] + [("Adagrad", kw) for kw in ADAGRAD_CASES]
REFS = {"RMSprop": rmsprop_ref, "Adagrad": adagrad_ref}


@pytest.mark.parametrize("name,kw", CASES)
def test_rule_matches_numpy_reference(name, kw, problem):
    p0, grads = problem
    params, opt = make(minigrad, name, p0, **kw)
    storage = [p.detach().numpy() for p in params]
    feed(minigrad, params, opt, grads[:30])
    for i, p in enumerate(params):
        assert np.shares_memory(p.detach().numpy(), storage[i])      # updated in place
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        ref = REFS[name](p0[i], [g[i] for g in grads[:30]], **kw)
        np.testing.assert_allclose(npy(p), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", CASES)
def test_hundred_steps_match_torch(name, kw, problem):
    """The same float64 trajectory as torch.optim over 100 steps, and the same state."""
    p0, grads = problem
    ours, opt = make(minigrad, name, p0, **kw)
    theirs, topt = make(torch, name, p0, **kw)
    feed(minigrad, ours, opt, grads)
    feed(torch, theirs, topt, grads)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-12, atol=1e-14)
    for p, tp in zip(ours, theirs):
        assert_state_matches(opt.state[p], topt.state[tp])
        step = opt.state[p]["step"]
        assert step.dim() == 0 and step.item() == 100.0 and not step.requires_grad


def test_rmsprop_state_keys_follow_the_options(problem):
    p0, grads = problem
    for kw, keys in [({}, {"step", "square_avg"}),
                     ({"momentum": 0.9}, {"step", "square_avg", "momentum_buffer"}),
                     ({"centered": True}, {"step", "square_avg", "grad_avg"})]:
        params, opt = make(minigrad, "RMSprop", p0, **kw)
        assert opt.state[params[0]] == {}
        feed(minigrad, params, opt, grads[:1])
        assert set(opt.state[params[0]]) == keys


def test_adagrad_state_exists_before_the_first_step(problem):
    """As torch: Adagrad fills "step" (0) and "sum" (initial_accumulator_value) at once."""
    p0, _ = problem
    params, opt = make(minigrad, "Adagrad", p0, initial_accumulator_value=0.25)
    tparams, topt = make(torch, "Adagrad", p0, initial_accumulator_value=0.25)
    for p, tp in zip(params, tparams):
        assert_state_matches(opt.state[p], topt.state[tp])
    assert set(opt.state_dict()["state"]) == set(topt.state_dict()["state"]) == {0, 1}
    assert np.all(npy(opt.state[params[1]]["sum"]) == 0.25)


def test_float32_parameters_keep_float32_state(rng):
    for name in ("RMSprop", "Adagrad"):
        p = minigrad.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
        opt = getattr(optim, name)([p], lr=0.1, **({"centered": True, "momentum": 0.5}
                                                   if name == "RMSprop" else {}))
        (p * p).sum().backward()
        opt.step()
        assert p.dtype == minigrad.float32
        for k, v in opt.state[p].items():
            if k != "step":
                assert v.dtype == minigrad.float32, (name, k)


def test_params_without_grad_are_skipped(problem):
    p0, grads = problem
    for name in ("RMSprop", "Adagrad"):
        params, opt = make(minigrad, name, p0, lr=0.1)
        params[0].grad = minigrad.tensor(grads[0][0])
        opt.step()
        assert np.array_equal(npy(params[1]), p0[1])
        assert not np.array_equal(npy(params[0]), p0[0])


@pytest.mark.parametrize("make_bad,cls,msg", [
    (lambda ps: optim.RMSprop(ps, lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.5), ValueError, "Invalid alpha value: -0.5"),
    (lambda ps: optim.RMSprop(ps, eps=-1e-8), ValueError, "Invalid epsilon value"),
    (lambda ps: optim.RMSprop(ps, momentum=-0.1), ValueError, "Invalid momentum value"),
    (lambda ps: optim.RMSprop(ps, weight_decay=-1), ValueError, "Invalid weight_decay value"),
    (lambda ps: optim.Adagrad(ps, lr=-1), ValueError, "Invalid learning rate"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), ValueError, "Invalid lr_decay value"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value"),
    (lambda ps: optim.Adagrad(ps, eps=-1), ValueError, "Invalid epsilon value"),
    (lambda ps: optim.Adagrad(ps, fused=True, foreach=True), RuntimeError,
     "cannot be `True` together"),
])
def test_bad_options_raise_like_torch(make_bad, cls, msg, problem):
    p0, _ = problem
    with pytest.raises(cls, match=msg):
        make_bad([minigrad.tensor(p, requires_grad=True) for p in p0])
    with pytest.raises(cls, match=msg):      # the same class and words in torch
        _torch_twin(make_bad)([torch.tensor(p, requires_grad=True) for p in p0])


def _torch_twin(make_bad):
    """The same constructor call on torch.optim (the lambda's globals rebound)."""
    import types
    g = dict(make_bad.__globals__, optim=torch.optim)
    return types.FunctionType(make_bad.__code__, g)
