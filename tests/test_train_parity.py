"""A 20-32-32-32-5 MLP with BatchNorm1d and ReLU trained for 100 steps in minigrad and in
PyTorch from the same initial weights on the same batches (float64): the same losses at every
step, the same final parameters and running statistics, the same eval-mode outputs."""

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad import Tensor

torch = pytest.importorskip("torch")


def npy(t):
    """A minigrad tensor's values as an ndarray (a copy); torch.tensor() takes this, not a
    minigrad tensor."""
    return np.array(t.detach().numpy(), copy=True)

SIZES = (20, 32, 32, 32, 5)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny matrices: torch's thread pool only adds contention (seconds per test on a busy
    machine). Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


STEPS, BATCH = 100, 48


def build(momenta):
    """The same MLP in both libraries; minigrad initialises, torch copies the weights."""
    ours, theirs = [], []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        lin = nn.Linear(n_in, n_out, generator=100 + i)
        tlin = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            tlin.weight.copy_(torch.tensor(npy(lin.weight)))
            tlin.bias.copy_(torch.tensor(npy(lin.bias)))
        ours.append(lin)
        theirs.append(tlin)
        if i < len(SIZES) - 2:
            ours += [nn.BatchNorm1d(n_out, momentum=momenta[i]), nn.ReLU()]
            theirs += [torch.nn.BatchNorm1d(n_out, momentum=momenta[i], dtype=torch.float64),
                       torch.nn.ReLU()]
    return nn.Sequential(*ours), torch.nn.Sequential(*theirs)


def batches(seed):
    """A learnable task: labels from a fixed random linear map of the inputs."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((SIZES[0], SIZES[-1]))
    for _ in range(STEPS):
        x = rng.standard_normal((BATCH, SIZES[0])) * 2 + 0.5
        yield x, np.argmax(x @ w + 0.5 * rng.standard_normal((BATCH, SIZES[-1])), axis=1)


# Linear layers followed by BatchNorm: their bias cancels in the normalisation, so its true
# gradient is exactly 0 and both libraries compute rounding noise (~1e-17) for it. SGD scales
# that noise by lr (invisible); Adam divides it by sqrt(v) + eps, which turns it into steps of
# ~lr * 1e-9 whose sign is the noise's, so those biases (and the running means they shift)
# can only agree to ~1e-9 absolute. Every other entry is compared at rtol 1e-9.
PRE_BN = {"0.bias", "1.running_mean", "3.bias", "4.running_mean", "6.bias", "7.running_mean"}

OPTIMIZERS = {
    "sgd_momentum": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4)),
    "sgd_nesterov": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    "adam": (lambda ps: optim.Adam(ps, lr=3e-3),
             lambda ps: torch.optim.Adam(ps, lr=3e-3)),
    "adamw": (lambda ps: optim.AdamW(ps, lr=3e-3, weight_decay=0.05),
              lambda ps: torch.optim.AdamW(ps, lr=3e-3, weight_decay=0.05)),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_matches_torch(name):
    model, tmodel = build(momenta=(0.1, None, 0.3))
    make, tmake = OPTIMIZERS[name]
    opt, topt = make(model.parameters()), tmake(tmodel.parameters())
    losses, tlosses = [], []
    max_pre_bn_grad = 0.0
    for x, y in batches(seed=7):
        opt.zero_grad()
        loss = F.cross_entropy(model(Tensor(x)), minigrad.tensor(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        max_pre_bn_grad = max(max_pre_bn_grad, *(float(tmodel[i].bias.grad.abs().max())
                                                 for i in (0, 3, 6)))
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-9)
    assert losses[-1] < 0.7 * losses[0]                       # it did learn something
    assert max_pre_bn_grad < 1e-14                            # the premise of PRE_BN

    ours, theirs = model.state_dict(), tmodel.state_dict()
    assert list(ours) == list(theirs)
    adam_like = name.startswith("adam")
    for key, value in ours.items():
        ref = theirs[key].numpy()
        atol = 1e-9 if adam_like and key in PRE_BN else 1e-12
        assert value.dtype == minigrad.float64 or key.endswith("num_batches_tracked")
        np.testing.assert_allclose(npy(value), ref, rtol=1e-9, atol=atol, err_msg=key)
    for key in ("1.num_batches_tracked", "4.num_batches_tracked"):
        assert ours[key].dtype == minigrad.int64 and ours[key].item() == STEPS

    # eval mode uses the running statistics; the outputs agree too
    model.eval()
    tmodel.eval()
    x = np.random.default_rng(99).standard_normal((16, SIZES[0]))
    np.testing.assert_allclose(npy(model(Tensor(x))), tmodel(torch.tensor(x)).detach().numpy(),
                               rtol=1e-8, atol=1e-9)
