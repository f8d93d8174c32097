"""minigrad.optim: SGD, Adam and AdamW against their update rules written here in numpy and
against torch.optim; skipping params without grad; state dicts; param groups; bad options."""

import math

import numpy as np
import pytest

import minigrad
import minigrad.optim as optim
from minigrad import Tensor
from minigrad.nn import Parameter


def npy(t):
    """A tensor's values as an ndarray (a copy), for comparing with numpy references."""
    return np.array(t.detach().numpy(), copy=True)


def storage(t):
    """The ndarray behind a tensor (shares its memory): to check that a change is in place."""
    return t.detach().numpy()


def make_params(rng, shapes=((3, 2), (4,))):
    return [Parameter(rng.standard_normal(s)) for s in shapes]


def grads_for(rng, params, steps):
    """numpy arrays: the references take them as they are, the optimizers as tensors."""
    return [[rng.standard_normal(tuple(p.shape)) for p in params] for _ in range(steps)]


def run(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = minigrad.tensor(g)
        opt.step()


# ---- the documented rules, written independently -----------------------------------------

def sgd_ref(p0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    p, b = p0.copy(), None
    for g in grads:
        g = -g if maximize else g.copy()
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def adam_ref(p0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False):
    b1, b2 = betas
    p = p0.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            v_hat = vmax / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
    dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, momentum=0.5, maximize=True),
]
ADAM_CASES = [
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=5e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=3e-2, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.9))),
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_rule(kw, rng):
    params = make_params(rng)
    p0 = [npy(p) for p in params]
    arrays = [storage(p) for p in params]
    grads = grads_for(rng, params, 6)
    run(optim.SGD(params, **kw), params, grads)
    for i, p in enumerate(params):
        # in place (the same storage), no graph
        assert np.shares_memory(storage(p), arrays[i])
        assert p.is_leaf and p.grad_fn is None and p.requires_grad
        np.testing.assert_allclose(npy(p), sgd_ref(p0[i], [g[i] for g in grads], **kw),
                                   rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name,kw", ADAM_CASES)
def test_adam_rule(name, kw, rng):
    params = make_params(rng)
    p0 = [npy(p) for p in params]
    grads = grads_for(rng, params, 8)
    opt = getattr(optim, name)(params, **kw)
    run(opt, params, grads)
    ref_kw = dict(kw)
    if name == "AdamW":
        ref_kw.setdefault("weight_decay", 1e-2)
    for i, p in enumerate(params):
        np.testing.assert_allclose(
            npy(p), adam_ref(p0[i], [g[i] for g in grads], decoupled=name == "AdamW", **ref_kw),
            rtol=1e-12, atol=1e-14)
    step = opt.state[params[0]]["step"]            # a 0-d tensor, as PyTorch's
    assert isinstance(step, Tensor) and step.dim() == 0 and step.item() == 8
    for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if kw.get("amsgrad") else ()):
        buf = opt.state[params[0]][key]
        assert isinstance(buf, Tensor) and buf.shape == params[0].shape
        assert not buf.requires_grad


def test_adamw_default_weight_decay():
    p = Parameter(np.ones(2))
    assert optim.AdamW([p]).param_groups[0]["weight_decay"] == 1e-2
    assert optim.Adam([p]).param_groups[0]["weight_decay"] == 0


@pytest.mark.parametrize("name,kw", [("SGD", kw) for kw in SGD_CASES] + ADAM_CASES)
def test_matches_torch(name, kw, rng):
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = [torch.tensor(npy(p), requires_grad=True) for p in params]
    grads = grads_for(rng, params, 10)
    opt = getattr(optim, name)(params, **kw)
    topt = getattr(torch.optim, name)(tparams, **kw)
    for gs in grads:
        for p, tp, g in zip(params, tparams, gs):
            p.grad = minigrad.tensor(g)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    # the state: the same keys, tensors of the same values (and a 0-d "step")
    for p, tp in zip(params, tparams):
        ours, theirs = opt.state.get(p, {}), topt.state.get(tp, {})
        assert set(ours) == set(theirs)
        for k, v in theirs.items():
            assert isinstance(ours[k], Tensor) and tuple(ours[k].shape) == tuple(v.shape)
            np.testing.assert_allclose(npy(ours[k]), v.numpy(), rtol=1e-12, atol=1e-14)


def test_param_groups_match_torch(rng):
    torch = pytest.importorskip("torch")
    params = make_params(rng, ((2, 2), (3,), (2,)))
    tparams = [torch.tensor(npy(p), requires_grad=True) for p in params]
    opt = optim.SGD([{"params": params[:2]}, {"params": [params[2]], "lr": 0.5,
                                              "momentum": 0.0}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": tparams[:2]}, {"params": [tparams[2]], "lr": 0.5,
                                                      "momentum": 0.0}], lr=0.1, momentum=0.9)
    for gs in grads_for(rng, params, 4):
        for p, tp, g in zip(params, tparams, gs):
            p.grad, tp.grad = minigrad.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(npy(p), tp.detach().numpy(), rtol=1e-13)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [params[0]]})
    with pytest.raises(ValueError, match="unknown option"):
        optim.SGD([{"params": params, "betas": (0.9, 0.9)}], lr=0.1)


# ---- behaviour -----------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW])
def test_params_without_grad_are_skipped(cls, rng):
    a, b = make_params(rng)
    a0, b0 = npy(a), npy(b)
    opt = cls([a, b], lr=0.1)
    a.grad = minigrad.ones_like(a)
    opt.step()
    assert np.array_equal(npy(b), b0) and not opt.state.get(b)
    assert np.all(npy(a) < a0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_state_of_a_parameter_without_state_is_empty(rng):
    """`opt.state` is a defaultdict(dict) in PyTorch: `opt.state[p]` is {} before p has state
    (code reading `opt.state[p].get("momentum_buffer")` relies on it)."""
    a, b = make_params(rng)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    assert opt.state[a] == {}
    a.grad = minigrad.ones_like(a)
    opt.step()
    assert set(opt.state[a]) == {"momentum_buffer"} and opt.state[b] == {}


def test_zero_grad_in_place_and_float32(rng):
    p = Parameter(rng.standard_normal(3).astype(np.float32))
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    assert (g != 0).all()
    opt.step()
    f32 = minigrad.float32
    assert p.dtype == f32 and opt.state[p]["exp_avg"].dtype == f32
    assert opt.state[p]["exp_avg_sq"].dtype == f32
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and (g == 0).all()


def test_closure_is_called(rng):
    p = Parameter(minigrad.tensor([3.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0 and p[0].item() == pytest.approx(3.0 - 0.25 * 6.0)


def test_minimises_a_quadratic(rng):
    target = rng.standard_normal(5)
    for opt_fn in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                   lambda ps: optim.Adam(ps, lr=0.1), lambda ps: optim.AdamW(ps, lr=0.1,
                                                                          weight_decay=0.0)):
        p = Parameter(minigrad.zeros(5))
        opt = opt_fn([p])
        for _ in range(300):
            opt.zero_grad()
            d = p - target
            (d * d).sum().backward()
            opt.step()
        np.testing.assert_allclose(npy(p), target, atol=1e-3)


# ---- state dicts ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=1e-2, amsgrad=True)),
                                     ("AdamW", dict(lr=1e-2))])
def test_state_dict_round_trip_resumes_exactly(name, kw, rng, tmp_path):
    params = make_params(rng)
    clone = [Parameter(p.detach().clone()) for p in params]
    grads = grads_for(rng, params, 6)
    opt = getattr(optim, name)(params, **kw)
    run(opt, params, grads[:3])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["lr"] == kw["lr"]
    assert set(sd["state"]) == {0, 1}
    key = "momentum_buffer" if name == "SGD" else "exp_avg"
    buf = sd["state"][0][key]
    # PyTorch's semantics: the state's own tensors, not copies
    assert isinstance(buf, Tensor) and buf is opt.state[params[0]][key]
    if name != "SGD":
        assert isinstance(sd["state"][0]["step"], Tensor) and sd["state"][0]["step"].item() == 3
    from minigrad import serialization
    sd = serialization.load(serialization.save(sd, tmp_path / "opt"))
    assert isinstance(sd["state"][0][key], Tensor)
    # a fresh optimizer on the clones, given the state, continues identically
    with minigrad.no_grad():
        for c, p in zip(clone, params):
            c.copy_(p)
    opt2 = getattr(optim, name)(clone, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    run(opt, params, grads[3:])
    run(opt2, clone, grads[3:])
    for c, p in zip(clone, params):
        np.testing.assert_array_equal(npy(c), npy(p))


def test_load_state_dict_mismatch(rng):
    params = make_params(rng)
    sd = optim.SGD(params, lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD(params[:1], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)


# ---- bad options ---------------------------------------------------------------------------

def test_bad_hyperparameters(rng):
    ps = make_params(rng)
    cases = [
        (lambda: optim.SGD(ps, lr=-0.1), "learning rate: -0.1"),
        (lambda: optim.SGD(ps, lr=0.1, momentum=-0.5), "momentum value: -0.5"),
        (lambda: optim.SGD(ps, lr=0.1, weight_decay=-1), "weight_decay value: -1"),
        (lambda: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
         "zero dampening"),
        (lambda: optim.Adam(ps, lr=-1e-3), "learning rate"),
        (lambda: optim.Adam(ps, betas=(1.0, 0.999)), "beta parameter at index 0: 1.0"),
        (lambda: optim.Adam(ps, betas=(0.9, -0.1)), "beta parameter at index 1: -0.1"),
        (lambda: optim.AdamW(ps, betas=(0.9, 1.5)), "beta parameter at index 1"),
        (lambda: optim.Adam(ps, eps=-1e-8), "epsilon value"),
        (lambda: optim.AdamW(ps, weight_decay=-0.1), "weight_decay value"),
        (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda: optim.SGD(ps, lr=math.nan), "learning rate"),
    ]
    for make, msg in cases:
        with pytest.raises(ValueError, match=msg):
            make()
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(ps[0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([ps[0] * 2.0], lr=0.1)
    assert isinstance(ps[0] * 2.0, Tensor)
