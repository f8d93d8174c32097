"""The grad modes against torch: `set_grad_enabled` as a context manager, a decorator and a
plain call, `no_grad` / `enable_grad` (with and without parentheses), `inference_mode`
(including mode=False and inference tensors), their `minigrad.autograd` names, and the mode
restored after an exception. Each check runs the same code on both libraries."""

import warnings

import pytest

import minigrad

torch = pytest.importorskip("torch")

LIBS = [minigrad, torch]


def run(lib, f):
    """('ok', result) or ('err', exception class name, message)."""
    try:
        return ("ok", f(lib))
    except Exception as e:  # noqa: BLE001  (the class is what is compared)
        return ("err", type(e).__name__, str(e))


def X(lib):
    return lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)


# ---- grad modes ---------------------------------------------------------------------------

def grad_modes(L):
    a, out = X(L), []
    with L.set_grad_enabled(False):
        out.append(((a * 2).requires_grad, L.is_grad_enabled()))
        with L.set_grad_enabled(True):
            out.append((a * 2).requires_grad)
        with L.enable_grad():
            out.append((a * 2).requires_grad)
    out.append(L.is_grad_enabled())
    L.set_grad_enabled(False)                   # a plain call switches until switched back
    out.append(((a * 2).requires_grad, L.is_grad_enabled()))
    L.set_grad_enabled(True)
    out.append(L.is_grad_enabled())

    @L.set_grad_enabled(False)
    def decorated(t):
        return (t * 2).requires_grad, L.is_grad_enabled()
    out.append(L.is_grad_enabled())             # building the decorator changes nothing
    out.append(decorated(a))
    out.append(L.is_grad_enabled())

    @L.no_grad()
    def f(t):
        return (t * 2).requires_grad

    @L.no_grad
    def g(t):
        return (t * 2).requires_grad

    @L.enable_grad()
    def h(t):
        return (t * 2).requires_grad
    out += [f(a), g(a)]
    with L.no_grad():
        out.append(h(a))
        L.set_grad_enabled(True)                # inside no_grad, then no_grad restores
        out.append(L.is_grad_enabled())
    out.append(L.is_grad_enabled())
    with L.no_grad() as value:
        out.append(value)
    out.append(L.autograd.set_grad_enabled is L.set_grad_enabled)
    out.append(L.autograd.no_grad is L.no_grad and L.autograd.enable_grad is L.enable_grad)
    return out


def test_grad_modes_like_torch():
    assert run(minigrad, grad_modes) == run(torch, grad_modes)
    assert minigrad.is_grad_enabled()


def test_a_grad_mode_is_restored_after_an_exception():
    for lib in LIBS:
        with pytest.raises(ValueError):
            with lib.set_grad_enabled(False):
                raise ValueError
        with pytest.raises(ValueError):
            with lib.inference_mode():
                raise ValueError
        assert lib.is_grad_enabled()


def inference_basics(L):
    a, out = X(L), []
    with L.inference_mode():
        b = a * 2
        out.append((b.requires_grad, L.is_grad_enabled()))
    out.append(L.is_grad_enabled())

    @L.inference_mode()
    def f(t):
        return (t * 2).requires_grad

    @L.inference_mode
    def g(t):
        return (t * 2).requires_grad
    out += [f(a), g(a), L.is_grad_enabled()]
    out.append(L.autograd.inference_mode is L.inference_mode)
    return out


def test_inference_mode_records_nothing_like_torch():
    assert run(minigrad, inference_basics) == run(torch, inference_basics)


def inference_off(L):
    a, out = X(L), []
    with L.inference_mode(False):                       # mode=False: a normal block
        out.append(((a * 2).requires_grad, L.is_grad_enabled()))
    with L.no_grad():
        with L.inference_mode(mode=False):
            out.append(L.is_grad_enabled())

    @L.inference_mode(mode=False)
    def f(t):
        return (t * 2).requires_grad
    out.append(f(a))
    return out


def test_inference_mode_false_is_a_normal_block_like_torch():
    """core bug filed: minigrad's inference_mode is no_grad, whose argument is a function."""
    assert run(minigrad, inference_off) == run(torch, inference_off)


def inference_tensors(L):
    out = [L.is_inference_mode_enabled(), X(L).is_inference()]
    with L.inference_mode():
        out.append(L.is_inference_mode_enabled())
        made = L.ones(2, dtype=L.float64)
        out.append(made.is_inference())
    a = X(L)
    out.append(run(L, lambda _: (made * a).sum().backward())[:2])
    out.append(run(L, lambda _: made.add_(1))[:2])
    out.append(run(L, lambda _: made.requires_grad_(True))[:2])
    out.append(made.clone().is_inference())
    return out


def test_inference_tensors_like_torch():
    """Tensors made in inference mode are inference tensors: they cannot join a graph that
    is recorded or be changed in place outside the mode (core bug filed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run(minigrad, inference_tensors) == run(torch, inference_tensors)


def test_set_grad_enabled_refuses_a_non_bool_like_torch():
    """core bug filed: minigrad takes bool("yes") and switches."""
    for lib in LIBS:
        with pytest.raises(TypeError, match="must be bool"):
            lib.set_grad_enabled("yes")
    assert minigrad.is_grad_enabled()
