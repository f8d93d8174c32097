"""minigrad.optim beyond SGD/Adam: RMSprop and Adagrad against their rules written here in
numpy and against torch.optim (100 float64 steps); the state dicts of every optimizer against
torch's (layout, values, resuming, groups with their own options, loading each other's).
The schedulers are in test_lr_scheduler.py.

The runs against torch are written once and run on both libraries (`lib` is torch or
minigrad): minigrad speaks PyTorch."""


import numpy as np
import pytest
from _optim_parity import SHAPES, feed, make, npy, torch  # noqa: F401  (shared; skips without torch)

import minigrad
import minigrad.optim as optim
from minigrad import Tensor


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


# ---- optimizer state dicts against torch -------------------------------------------------

# every optimizer, with two groups that have options of their own
STATE_CASES = {
    "SGD": (dict(lr=0.1, momentum=0.9), {"lr": 0.02, "nesterov": True, "weight_decay": 0.1}),
    "Adam": (dict(lr=1e-2), {"betas": (0.8, 0.9), "amsgrad": True}),
    "AdamW": (dict(lr=1e-2, weight_decay=0.05), {"lr": 3e-3, "maximize": True}),
    "RMSprop": (dict(lr=1e-2, momentum=0.5), {"centered": True, "alpha": 0.9}),
    "Adagrad": (dict(lr=0.1), {"lr_decay": 0.01, "initial_accumulator_value": 0.3}),
}


def grouped(lib, name, p0):
    kw, opts = STATE_CASES[name]
    return make(lib, name, p0, [((0,), {}), ((1,), opts)], **kw)


def convert(x, lib):
    """A state dict with its tensors turned into `lib`'s (through numpy)."""
    if isinstance(x, dict):
        return {k: convert(v, lib) for k, v in x.items()}
    if isinstance(x, list):
        return [convert(v, lib) for v in x]
    if isinstance(x, Tensor | torch.Tensor):
        return lib.tensor(npy(x))
    return x


@pytest.mark.parametrize("name", list(STATE_CASES))
def test_state_dict_layout_and_values_match_torch(name, problem):
    p0, grads = problem
    params, opt = grouped(minigrad, name, p0)
    tparams, topt = grouped(torch, name, p0)
    feed(minigrad, params, opt, grads[:7])
    feed(torch, tparams, topt, grads[:7])
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd) == list(tsd) == ["state", "param_groups"]
    # the groups: the same options (keys and values, torch's implementation switches
    # included) and the parameters numbered across groups
    assert sd["param_groups"] == tsd["param_groups"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert list(sd["state"]) == list(tsd["state"]) == [0, 1]
    for i in (0, 1):
        assert_state_matches(sd["state"][i], tsd["state"][i])
        assert sd["state"][i].get("step", minigrad.tensor(7.0)).item() == 7
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-12)


@pytest.mark.parametrize("name", list(STATE_CASES))
def test_resume_from_a_saved_state_dict_exactly(name, problem, tmp_path):
    """Save after 5 steps, load into a fresh optimizer (built with other options) on copies
    of the parameters: the next 20 steps are bit for bit those of the uninterrupted run,
    and those of torch's optimizer resumed the same way."""
    p0, grads = problem
    params, opt = grouped(minigrad, name, p0)
    feed(minigrad, params, opt, grads[:5])
    saved = minigrad.load(minigrad.save(opt.state_dict(), tmp_path / "opt"))
    before = {k: npy(v) for k, v in saved["state"][0].items()}
    copies = [minigrad.tensor(npy(p), requires_grad=True) for p in params]
    fresh = getattr(optim, name)([{"params": [copies[0]]}, {"params": [copies[1]]}], lr=9.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[1] == {**opt.param_groups[1], "params": [copies[1]]}
    # the loaded state is the optimizer's own (a copy): stepping it leaves `saved` alone
    feed(minigrad, params, opt, grads[5:25])
    feed(minigrad, copies, fresh, grads[5:25])
    for c, p in zip(copies, params):
        np.testing.assert_array_equal(npy(c), npy(p))
    assert all(np.array_equal(npy(v), before[k]) for k, v in saved["state"][0].items())
    # torch resumed from the same point
    tparams, topt = grouped(torch, name, p0)
    feed(torch, tparams, topt, grads[:5])
    tcopies = [torch.tensor(npy(p), requires_grad=True) for p in tparams]
    tfresh = getattr(torch.optim, name)([{"params": [tcopies[0]]}, {"params": [tcopies[1]]}],
                                        lr=9.0)
    tfresh.load_state_dict(topt.state_dict())
    feed(torch, tcopies, tfresh, grads[5:25])
    for c, tc in zip(copies, tcopies):
        np.testing.assert_allclose(npy(c), npy(tc), rtol=1e-12)


@pytest.mark.parametrize("name", list(STATE_CASES))
def test_state_dicts_cross_between_torch_and_minigrad(name, problem):
    """torch's state dict (its tensors turned into minigrad's) resumes a minigrad optimizer
    in step with torch, and the other way round."""
    p0, grads = problem
    tparams, topt = grouped(torch, name, p0)
    feed(torch, tparams, topt, grads[:6])
    params = [minigrad.tensor(npy(p), requires_grad=True) for p in tparams]
    opt = getattr(optim, name)([{"params": [params[0]]}, {"params": [params[1]]}])
    opt.load_state_dict(convert(topt.state_dict(), minigrad))
    for p, tp in zip(params, tparams):
        assert_state_matches(opt.state[p], topt.state[tp], rtol=0)
    feed(torch, tparams, topt, grads[6:16])
    feed(minigrad, params, opt, grads[6:16])
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-12)
    back = [torch.tensor(npy(p), requires_grad=True) for p in params]
    topt2 = getattr(torch.optim, name)([{"params": [back[0]]}, {"params": [back[1]]}])
    topt2.load_state_dict(convert(opt.state_dict(), torch))
    feed(torch, back, topt2, grads[16:20])
    feed(minigrad, params, opt, grads[16:20])
    for p, tp in zip(params, back):
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-12)


def test_state_dict_with_named_parameters_and_a_scheduler_matches_torch(problem):
    """`SGD(model.named_parameters())` keeps "param_names"; a scheduler adds "initial_lr"
    (OneCycleLR also max_lr, min_lr and the momenta): all in the state dict, as in torch."""
    p0, grads = problem
    sds = []
    for lib in (minigrad, torch):
        params = [lib.tensor(p.copy(), requires_grad=True) for p in p0]
        opt = lib.optim.SGD([("w", params[0]), ("b", params[1])], lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.4, total_steps=10)
        feed(lib, params, opt, grads[:3])
        sched.step()
        sds.append(opt.state_dict())
    ours, theirs = sds
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["param_groups"][0]["param_names"] == ["w", "b"]
    assert {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"} <= set(
        ours["param_groups"][0])


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_load_state_dict_mismatches_raise_like_torch(lib, problem):
    p0, _ = problem
    params, opt = make(lib, "Adam", p0, lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        lib.optim.Adam(params[:1]).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        lib.optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    with pytest.raises(TypeError, match="ordered collections"):
        lib.optim.Adam([{"params": set(params)}])


def test_repr_is_torchs(problem):
    """print(opt) shows the same groups and options (PyTorch's defaults, literally)."""
    p0, _ = problem
    for name in STATE_CASES:
        ours = repr(grouped(minigrad, name, p0)[1])
        theirs = repr(grouped(torch, name, p0)[1])
        assert ours == theirs, name
        assert repr(getattr(optim, name)([minigrad.tensor(p0[0], requires_grad=True)])) == \
            repr(getattr(torch.optim, name)([torch.tensor(p0[0], requires_grad=True)]))
