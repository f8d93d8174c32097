"""Shared by test_nn_parity.py and test_nn_modules_parity.py: run code twice, once with
`lib = torch` and once with `lib = minigrad`, and compare what comes out (imported by those
files after they have checked that torch is installed)."""


import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

LIBS = (torch, minigrad)
RTOL, ATOL = 1e-12, 1e-13


@pytest.fixture(autouse=True)
def _torch_float64():
    """torch's default dtype set to minigrad's (float64) for the layers built here."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


# ---- running the same script on both libraries ------------------------------------------

def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach().numpy()) if isinstance(t, minigrad.Tensor) else np.asarray(t)


def _dtype(t):
    return str(t.dtype).replace("minigrad.", "torch.")


def same(theirs, ours, rtol=RTOL, atol=ATOL, what="value"):
    """torch's result and minigrad's agree: structure, dtype, shape, values (nan where nan)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(theirs) == len(ours), what
        for i, (a, b) in enumerate(zip(theirs, ours)):
            same(a, b, rtol, atol, f"{what}[{i}]")
        return
    if theirs is None:
        assert ours is None, what
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, minigrad.Tensor), (what, type(ours))
        assert _dtype(ours) == _dtype(theirs), (what, ours.dtype, theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape), (what, ours.shape, theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol, err_msg=what)


def grads_of(lib, fn, arrays, requires_grad, seed=0):
    """(output, grads of the inputs that require grad) of fn(lib, *tensors), the output
    weighted by a fixed random upstream gradient."""
    xs = [lib.tensor(a, requires_grad=bool(rg)) for a, rg in zip(arrays, requires_grad)]
    out = fn(lib, *xs)
    if not any(requires_grad):
        return out, []
    up = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * lib.tensor(up)).sum().backward()
    return out, [x.grad for x, rg in zip(xs, requires_grad) if rg]


def check_parity(fn, arrays, requires_grad=None, rtol=RTOL, atol=ATOL):
    """fn(lib, *tensors) agrees between torch and minigrad, values and input gradients."""
    arrays = [np.asarray(a) for a in arrays]
    if requires_grad is None:
        requires_grad = [a.dtype.kind == "f" for a in arrays]
    theirs = grads_of(torch, fn, arrays, requires_grad)
    ours = grads_of(minigrad, fn, arrays, requires_grad)
    same(theirs[0], ours[0], rtol, atol, "output")
    same(theirs[1], ours[1], rtol, atol, "grad")


def same_error(fn):
    """fn(lib) raises, and minigrad raises torch's exception class."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(minigrad)
    assert isinstance(ours.value, type(theirs.value)), (theirs.value, ours.value)
    return theirs.value, ours.value
