"""minigrad.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates
(and momenta) step by step to the last bit in the course loop `opt.step(); sched.step()`,
the same warnings, closed forms, state dicts and resuming, the same errors.

The runs are written once and run on both libraries (`lib` is torch or minigrad)."""

import math
import warnings

import numpy as np
import pytest
from _optim_parity import SHAPES, feed, make, npy, torch  # noqa: F401  (shared; skips without torch)

import minigrad
import minigrad.optim as optim

# ---- learning-rate schedulers against torch ----------------------------------------------

def S(lib):
    return lib.optim.lr_scheduler


# (optimizer name, optimizer kwargs, per-group options, scheduler factory, steps)
SCHEDULES = {
    "StepLR": ("SGD", dict(lr=0.1), None, lambda L, o: L.StepLR(o, step_size=7, gamma=0.3), 40),
    "MultiStepLR": ("SGD", dict(lr=0.1), None,
                    lambda L, o: L.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.5), 40),
    "ExponentialLR": ("Adam", dict(lr=0.01), None,
                      lambda L, o: L.ExponentialLR(o, gamma=0.93), 60),
    "CosineAnnealingLR": ("SGD", dict(lr=0.1, momentum=0.9), None,
                          lambda L, o: L.CosineAnnealingLR(o, T_max=10), 45),
    "CosineAnnealingLR-eta_min": ("Adam", dict(lr=0.05), None,
                                  lambda L, o: L.CosineAnnealingLR(o, T_max=17, eta_min=1e-3),
                                  100),
    "LambdaLR": ("SGD", dict(lr=0.1), None,
                 lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e if e > 3 else (e + 1) / 4), 50),
    "LambdaLR-per-group": ("SGD", dict(lr=0.1), [((0,), {}), ((1,), {"lr": 0.02})],
                           lambda L, o: L.LambdaLR(o, [lambda e: 1 / (e + 1),
                                                       lambda e: 0.9 ** e]), 30),
    "MultiplicativeLR": ("SGD", dict(lr=0.1), None,
                         lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97), 30),
    "ConstantLR": ("SGD", dict(lr=0.1), None,
                   lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=6), 12),
    "LinearLR": ("AdamW", dict(lr=3e-3), None,
                 lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=9), 20),
    "PolynomialLR": ("SGD", dict(lr=0.1), None,
                     lambda L, o: L.PolynomialLR(o, total_iters=12, power=1.7), 20),
    "CosineAnnealingWarmRestarts": ("SGD", dict(lr=0.1), None,
                                    lambda L, o: L.CosineAnnealingWarmRestarts(
                                        o, T_0=4, T_mult=2, eta_min=1e-4), 40),
    "OneCycleLR-SGD": ("SGD", dict(lr=0.1, momentum=0.9),
                       [((0,), {}), ((1,), {"lr": 0.5})],
                       lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=50), 50),
    "OneCycleLR-Adam-linear": ("Adam", dict(lr=1e-3), None,
                               lambda L, o: L.OneCycleLR(o, max_lr=0.01, epochs=4,
                                                         steps_per_epoch=9, pct_start=0.25,
                                                         anneal_strategy="linear"), 36),
    "OneCycleLR-three-phase": ("RMSprop", dict(lr=1e-3, momentum=0.5), None,
                               lambda L, o: L.OneCycleLR(o, max_lr=0.02, total_steps=33,
                                                         three_phase=True, div_factor=10.0,
                                                         final_div_factor=100.0,
                                                         base_momentum=0.8,
                                                         max_momentum=0.9), 33),
    "OneCycleLR-no-momentum": ("Adagrad", dict(lr=0.1), None,
                               lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=20,
                                                         cycle_momentum=False), 20),
    "SequentialLR-warmup-cosine": ("SGD", dict(lr=0.1), None,
                                   lambda L, o: L.SequentialLR(o, [
                                       L.LinearLR(o, start_factor=0.2, total_iters=5),
                                       L.CosineAnnealingLR(o, T_max=20)], milestones=[5]), 30),
    "ChainedScheduler": ("SGD", dict(lr=0.1), None,
                         lambda L, o: L.ChainedScheduler([
                             L.ConstantLR(o, factor=0.1, total_iters=4),
                             L.ExponentialLR(o, gamma=0.9)]), 15),
}


def lr_run(lib, case, problem, steps=None):
    """The course loop `opt.step(); sched.step()` on `lib`; records per step the groups'
    lr, get_last_lr() and momentum (or beta1), with every warning an error."""
    name, kw, groups, make_sched, n = SCHEDULES[case]
    p0, grads = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params, opt = make(lib, name, p0, groups, **kw)
        sched = make_sched(S(lib), opt)
        rows = []
        for i in range(n if steps is None else steps):
            feed(lib, params, opt, grads[i % len(grads):][:1])
            sched.step()
            rows.append(([g["lr"] for g in opt.param_groups], list(sched.get_last_lr()),
                         [g.get("momentum", g.get("betas", (None,))[0])
                          for g in opt.param_groups]))
    return rows, params, opt, sched


@pytest.mark.parametrize("case", list(SCHEDULES))
def test_schedule_matches_torch_exactly(case, problem):
    ours, params, _, _ = lr_run(minigrad, case, problem)
    theirs, tparams, _, _ = lr_run(torch, case, problem)
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"step {step}: {a} != {b}"          # float equality, not closeness
        assert all(type(x) is float for x in a[0]), a[0]
    for p, tp in zip(params, tparams):              # and so the same trajectory
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-12, atol=1e-14)


def test_schedule_values_follow_the_formulas():
    """Spot values from the documented closed forms (independently of torch)."""
    p = minigrad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.05)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    lrs = []
    for _ in range(90):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[29] == 0.05 and lrs[30] == pytest.approx(0.005) and lrs[60] == pytest.approx(5e-4)
    opt = optim.SGD([p], lr=0.1)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for t in range(1, 11):
        opt.step()
        sched.step()
        want = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_scheduler_warnings(lib):
    """sched.step() before opt.step() warns; so does get_lr() outside step(), and
    step(epoch) (deprecated); the usual order warns nothing."""
    p = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    sched = S(lib).StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    opt = lib.optim.SGD([p], lr=0.1)
    sched = S(lib).ExponentialLR(opt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
        sched.get_last_lr()


def test_step_with_an_epoch_uses_the_closed_form_as_torch():
    out = {}
    for lib in (minigrad, torch):
        lrs = []
        for make_sched in (lambda L, o: L.StepLR(o, 3, gamma=0.5),
                           lambda L, o: L.MultiStepLR(o, [2, 5], gamma=0.3),
                           lambda L, o: L.ExponentialLR(o, 0.9),
                           lambda L, o: L.CosineAnnealingLR(o, T_max=7),
                           lambda L, o: L.LinearLR(o, 0.25, total_iters=4),
                           lambda L, o: L.PolynomialLR(o, 6, 2.0),
                           lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, 2)):
            p = lib.tensor([1.0], requires_grad=True)
            opt = lib.optim.SGD([p], lr=0.2)
            sched = make_sched(S(lib), opt)
            opt.step()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for epoch in (4, 1, 9, 6.5 if "Warm" in type(sched).__name__ else 6):
                    sched.step(epoch)
                    lrs.append(opt.param_groups[0]["lr"])
                    sched.step()
                    lrs.append(opt.param_groups[0]["lr"])
        out[lib.__name__] = lrs
    assert out["minigrad"] == out["torch"]


@pytest.mark.parametrize("case", ["StepLR", "CosineAnnealingLR", "LambdaLR-per-group",
                                  "OneCycleLR-SGD", "SequentialLR-warmup-cosine",
                                  "ChainedScheduler", "CosineAnnealingWarmRestarts"])
def test_scheduler_state_dict_and_resume(case, problem, tmp_path):
    """state_dict() has torch's keys; a new optimizer and scheduler given the saved states
    (the optimizer's first, as a checkpoint is usually restored after building both)
    continue with the same rates as the run that was not interrupted."""
    full, _, _, _ = lr_run(minigrad, case, problem)
    half = len(full) // 2
    _, _, opt, sched = lr_run(minigrad, case, problem, steps=half)
    _, _, topt, tsched = lr_run(torch, case, problem, steps=half)
    sd, tsd = sched.state_dict(), tsched.state_dict()

    def keys(d):
        return {k: ([sorted(keys(x)) for x in v] if k == "_schedulers" else None)
                for k, v in d.items()}
    assert keys(sd) == keys(tsd)
    assert sd.get("last_epoch") == tsd.get("last_epoch") and sd["_last_lr"] == tsd["_last_lr"]
    sd = minigrad.load(minigrad.save({"opt": opt.state_dict(), "sched": sd}, tmp_path / "ck"))
    name, kw, groups, make_sched, _ = SCHEDULES[case]
    params, opt2 = make(minigrad, name, problem[0], groups, **kw)
    sched2 = make_sched(S(minigrad), opt2)
    opt2.load_state_dict(sd["opt"])
    sched2.load_state_dict(sd["sched"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(half, len(full)):
            feed(minigrad, params, opt2, problem[1][i:i + 1])
            sched2.step()
            assert [g["lr"] for g in opt2.param_groups] == full[i][0], i
            assert sched2.get_last_lr() == full[i][1], i


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_resuming_with_last_epoch_needs_initial_lr(lib):
    p = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        S(lib).StepLR(opt, step_size=3, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = S(lib).StepLR(opt, step_size=3, last_epoch=4)
    assert sched.last_epoch == 5 and sched.base_lrs == [0.1]


def plateau_run(lib, problem, metrics, **kw):
    p0, _ = problem
    params, opt = make(lib, "SGD", p0, [((0,), {}), ((1,), {"lr": 0.5})], lr=0.1)
    sched = S(lib).ReduceLROnPlateau(opt, **kw)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for m in metrics:
            opt.step()
            sched.step(lib.tensor(m) if m < 0 else m)     # a 0-d tensor works as a metric
            rows.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter,
                         sched.best, sched.last_epoch))
    return rows, sched


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="min", factor=0.5, patience=2, cooldown=1, min_lr=[0.01, 0.2]),
    dict(mode="max", factor=0.3, patience=0, threshold=0.1, threshold_mode="abs"),
    dict(mode="max", patience=1, threshold_mode="rel", eps=0.05, min_lr=0.04),
])
def test_reduce_lr_on_plateau_matches_torch(kw, problem, rng):
    metrics = list(np.round(np.cumsum(rng.standard_normal(60)) * 0.1 + 3, 3))
    metrics[10:25] = [metrics[10]] * 15                      # a plateau
    metrics[30] = -1.0
    ours, sched = plateau_run(minigrad, problem, metrics, **kw)
    theirs, tsched = plateau_run(torch, problem, metrics, **kw)
    assert ours == theirs
    assert set(sched.state_dict()) == set(tsched.state_dict())


def test_one_cycle_and_plateau_refuse_what_torch_refuses(problem):
    for lib in (minigrad, torch):
        p0, _ = problem
        params, opt = make(lib, "SGD", p0, lr=0.1, momentum=0.9)
        L = S(lib)
        with pytest.raises(ValueError, match="total_steps OR"):
            L.OneCycleLR(opt, max_lr=0.1)
        with pytest.raises(ValueError, match="positive integer total_steps"):
            L.OneCycleLR(opt, max_lr=0.1, total_steps=0)
        with pytest.raises(ValueError, match="pct_start"):
            L.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1)
        with pytest.raises(ValueError, match="anneal_strategy"):
            L.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
        with pytest.raises(ValueError, match="same length"):
            L.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=10)
        _, ada = make(lib, "Adagrad", p0)
        with pytest.raises(ValueError, match="momentum or beta1"):
            L.OneCycleLR(ada, max_lr=0.1, total_steps=10)
        sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        opt.step()
        for _ in range(2):
            sched.step()
        sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()
        with pytest.raises(ValueError, match="Factor should be < 1.0"):
            L.ReduceLROnPlateau(opt, factor=1.0)
        with pytest.raises(ValueError, match="mode avg is unknown"):
            L.ReduceLROnPlateau(opt, mode="avg")
        with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
            L.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
        with pytest.raises(TypeError, match="is not an Optimizer"):
            L.StepLR(object(), 3)
