"""Shared by test_optim_more.py and test_lr_scheduler.py: the same parameters and
gradients fed to torch's and minigrad's optimizers (imported after torch is found)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

SHAPES = ((3, 2), (4,))


def npy(t):
    return np.array(t.detach().numpy(), copy=True)


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
