"""minigrad.autograd against torch.autograd: `grad` and `backward` (signatures, options,
errors), `functional` (vjp, jvp, jacobian, hessian, vhp, hvp: values for single and tuple
inputs and outputs, create_graph, strict, vectorize, errors), `gradcheck` / `gradgradcheck`,
(the grad modes are in test_grad_modes.py).

Most checks are written once and run on both libraries (`lib` is torch or minigrad, which
speaks PyTorch): the results must be the same values, tuple structure and requires_grad, or
the same exception class with the same words."""

import re

import numpy as np
import pytest

import minigrad
from minigrad import Tensor

torch = pytest.importorskip("torch")

LIBS = [minigrad, torch]


def run(lib, f):
    """('ok', result) or ('err', exception class name, message)."""
    try:
        return ("ok", f(lib))
    except Exception as e:  # noqa: BLE001  (the class is what is compared)
        return ("err", type(e).__name__, str(e))


def plain(r):
    """Results as nested tuples of (values, requires_grad) so the libraries compare."""
    if isinstance(r, tuple | list):
        return tuple(plain(x) for x in r)
    if isinstance(r, dict):
        return {k: plain(v) for k, v in r.items()}
    if isinstance(r, Tensor | torch.Tensor):
        return (np.asarray(r.detach().numpy()), bool(r.requires_grad))
    return r


def assert_same(a, b, path="result"):
    if isinstance(b, tuple) and len(b) == 2 and isinstance(b[0], np.ndarray):
        assert isinstance(a, tuple) and isinstance(a[0], np.ndarray), f"{path}: {a!r}"
        assert a[0].shape == b[0].shape, f"{path}: shape {a[0].shape} != {b[0].shape}"
        np.testing.assert_allclose(a[0], b[0], rtol=1e-10, atol=1e-12, err_msg=path)
        assert a[1] == b[1], f"{path}: requires_grad {a[1]} != {b[1]}"
    elif isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys(), path
        for k in b:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def norm(msg):
    return msg.replace("torch.", "").replace("minigrad.", "")


def check_both(f, match=None):
    """f(lib) on both libraries: the same results, or the same exception class whose
    message contains torch's (or, where minigrad words it otherwise, matches `match`)."""
    ours, theirs = run(minigrad, f), run(torch, f)
    assert ours[0] == theirs[0], f"minigrad {ours} / torch {theirs}"
    if ours[0] == "ok":
        assert_same(plain(ours[1]), plain(theirs[1]))
        return ours[1]
    assert ours[1] == theirs[1], f"minigrad {ours} / torch {theirs}"
    if match is None:
        assert norm(theirs[2]) in norm(ours[2]), f"minigrad {ours[2]!r} / torch {theirs[2]!r}"
    else:
        assert re.search(match, ours[2]) and re.search(match, theirs[2]), (ours, theirs)


def X(lib):
    return lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)


def Y(lib):
    return lib.tensor([[0.5, 1.1], [0.7, -0.4]], dtype=lib.float64, requires_grad=True)


def C(lib):
    """A constant input (no requires_grad)."""
    return lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)


def F(lib):
    return lib.autograd.functional


# ---- grad ---------------------------------------------------------------------------------

GRAD_CASES = {
    "outputs and inputs as tuples": lambda L: (lambda a, b: L.autograd.grad(
        ((a * b.sum()).sin().sum(), (a ** 2).sum()), (a, b)))(X(L), Y(L)),
    "grad_outputs": lambda L: (lambda a: L.autograd.grad(a.exp(), a, L.tensor(
        [1.0, -2.0, 0.5], dtype=L.float64)))(X(L)),
    "grad_outputs with None for a scalar": lambda L: (lambda a: L.autograd.grad(
        [(a * a).sum(), a * 2], [a], [None, L.ones(3, dtype=L.float64)]))(X(L)),
    "extra grad_outputs are ignored": lambda L: (lambda a: L.autograd.grad(
        [a * 2], a, [L.ones(3, dtype=L.float64), L.ones(3, dtype=L.float64)]))(X(L)),
    "only_inputs positionally": lambda L: (lambda a, b: L.autograd.grad(
        (a * 2).sum(), [a, b], None, None, False, True, True))(X(L), Y(L)),
    "dict inputs give a dict": lambda L: (lambda a, b: L.autograd.grad(
        (a.sum() * b).sum(), {"a": a, "b": b}))(X(L), Y(L)),
    "allow_unused gives None": lambda L: (lambda a, b: L.autograd.grad(
        (a * 2).sum(), [a, b], allow_unused=True))(X(L), Y(L)),
    "materialize_grads gives zeros": lambda L: (lambda a, b: L.autograd.grad(
        (a * 2).sum(), [a, b], materialize_grads=True))(X(L), Y(L)),
    "materialize_grads with create_graph": lambda L: (lambda a, b: L.autograd.grad(
        (a * a).sum(), [a, b], create_graph=True, materialize_grads=True))(X(L), Y(L)),
    "create_graph then grad again": lambda L: (lambda a: L.autograd.grad(
        L.autograd.grad((a ** 3).sum(), a, create_graph=True)[0].sum(), a))(X(L)),
    "is_grads_batched": lambda L: (lambda a: L.autograd.grad(
        a * a, a, L.eye(3, dtype=L.float64), is_grads_batched=True))(X(L)),
    "is_grads_batched, two inputs": lambda L: (lambda a, b: L.autograd.grad(
        (a.sum() * b).reshape(-1), (a, b), L.eye(4, dtype=L.float64)[:3],
        is_grads_batched=True))(X(L), Y(L)),
    "a leaf as the output": lambda L: (lambda a: L.autograd.grad(
        a, a, L.ones(3, dtype=L.float64)))(X(L)),
    "retain_graph=True allows a second call": lambda L: (lambda a: (lambda y: (
        L.autograd.grad(y, a, retain_graph=True), L.autograd.grad(y, a)))((a * a).sum()))(X(L)),
    # errors
    "input that does not require grad": lambda L: L.autograd.grad((X(L) * 2).sum(), C(L)),
    "output that does not require grad": lambda L: L.autograd.grad(C(L).sum(), X(L)),
    "unused input": lambda L: (lambda a, b: L.autograd.grad((a * 2).sum(), [a, b]))(X(L), Y(L)),
    "non-scalar output without grad_outputs": lambda L: (lambda a: L.autograd.grad(
        a * 2, a))(X(L)),
    "fewer grad_outputs than outputs": lambda L: (lambda a: L.autograd.grad(
        [a * 2, a * 3], a, [L.ones(3, dtype=L.float64)]))(X(L)),
    "grad_outputs of numbers": lambda L: (lambda a: L.autograd.grad(
        a * 2, a, [1.0, 1.0, 1.0]))(X(L)),
    "empty inputs": lambda L: L.autograd.grad(X(L).sum(), []),
    "materialize_grads with allow_unused=False": lambda L: (lambda a, b: L.autograd.grad(
        (a * 2).sum(), [a, b], allow_unused=False, materialize_grads=True))(X(L), Y(L)),
    "is_grads_batched with a wrong shape": lambda L: (lambda a: L.autograd.grad(
        a * a, a, L.ones(3, 2, dtype=L.float64), is_grads_batched=True))(X(L)),
}
GRAD_MATCH = {   # minigrad's words differ from torch's (the engine's own, or say which input)
    "input that does not require grad": r"One of the differentiated Tensors.* does not "
                                        r"require grad",
    "non-scalar output without grad_outputs": "grad can be implicitly created only for scalar",
    "is_grads_batched with a wrong shape": "we interpret the first dimension of each "
                                           "grad_output as the batch dimension",
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_grad_like_torch(case):
    check_both(GRAD_CASES[case], GRAD_MATCH.get(case))


def test_grad_of_a_released_graph_raises_like_torch():
    check_both(lambda L: (lambda a: (lambda y: (L.autograd.grad(y, a), L.autograd.grad(y, a)))(
        (a * a).sum()))(X(L)), match="Trying to backward through the graph a second time")


def test_grad_mismatched_shapes_raise_like_torch():
    check_both(lambda L: (lambda a: L.autograd.grad(a * 2, a, L.ones(2, dtype=L.float64)))(
        X(L)), match=r"Mismatch in shape: grad_output\[0\] has a shape of .*2.* and output\[0\]")


def test_only_inputs_false_warns_like_torch():
    for lib in LIBS:
        a = X(lib)
        with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
            (g,) = lib.autograd.grad((a * a).sum(), a, only_inputs=False)
        assert a.grad is None and np.allclose(g.detach().numpy(), 2 * a.detach().numpy())


def test_grad_stores_nothing_in_dot_grad():
    a, b = X(minigrad), Y(minigrad)
    minigrad.autograd.grad((a.sum() * b).sum(), [a, b])
    assert a.grad is None and b.grad is None


# ---- backward -----------------------------------------------------------------------------

BACKWARD_CASES = {
    "several outputs sum into .grad": lambda L: (lambda a: (
        L.autograd.backward([(a * a).sum(), (a * 3).sum()]), a.grad)[1])(X(L)),
    "grad_tensors": lambda L: (lambda a: (
        L.autograd.backward(a * a, L.ones(3, dtype=L.float64) * 2), a.grad)[1])(X(L)),
    "inputs": lambda L: (lambda a, b: (
        L.autograd.backward((a.sum() * b).sum(), inputs=[a]), a.grad, b.grad)[1:])(X(L), Y(L)),
    "inputs as one tensor": lambda L: (lambda a, b: (
        L.autograd.backward((a.sum() * b).sum(), inputs=b), a.grad, b.grad)[1:])(X(L), Y(L)),
    "create_graph": lambda L: (lambda a: (
        L.autograd.backward((a ** 3).sum(), create_graph=True), a.grad)[1])(X(L)),
    "accumulates": lambda L: (lambda a: (L.autograd.backward((a * a).sum()),
                                         L.autograd.backward((a * 2).sum()), a.grad)[2])(X(L)),
    # errors
    "a tensor without grad": lambda L: L.autograd.backward(C(L).sum()),
    "second tensor without grad": lambda L: L.autograd.backward([X(L).sum(), C(L).sum()]),
    "non-scalar without grad_tensors": lambda L: L.autograd.backward(X(L) * 2),
    "empty inputs": lambda L: L.autograd.backward(X(L).sum(), inputs=[]),
    "fewer grad_tensors": lambda L: (lambda a: L.autograd.backward(
        [a * 2, a * 3], [L.ones(3, dtype=L.float64)]))(X(L)),
    "both grad_tensors and grad_variables": lambda L: (lambda a: L.autograd.backward(
        a * 2, L.ones(3, dtype=L.float64), grad_variables=L.ones(3, dtype=L.float64)))(X(L)),
}
BACKWARD_MATCH = {"non-scalar without grad_tensors": "grad can be implicitly created"}


@pytest.mark.parametrize("case", list(BACKWARD_CASES))
def test_backward_like_torch(case):
    check_both(BACKWARD_CASES[case], BACKWARD_MATCH.get(case))


def test_backward_grad_variables_is_deprecated_like_torch():
    for lib in LIBS:
        a = X(lib)
        with pytest.warns(FutureWarning, match="`grad_variables` is deprecated"):
            lib.autograd.backward(a * a, grad_variables=lib.ones(3, dtype=lib.float64))
        np.testing.assert_allclose(a.grad.numpy(), 2 * a.detach().numpy())


# ---- functional: values -------------------------------------------------------------------

def f_vec(a):
    return (a.sin() * a.exp()).cumsum(0)


def f_two(a, b):
    return (a.exp() * b.sum()).tanh(), (b * b).sum(0) * a[:2]


def f_scalar(a):
    return (a ** 3).sum() * a[1] + (a[0] * a[2]).sin()


def f_scalar_two(a, b):
    return ((a.sum() * b) ** 2).sum() + (a * a).prod()


FUNCTIONAL_CASES = {
    "jacobian": lambda L: F(L).jacobian(f_vec, X(L).detach()),
    "jacobian, tuple in and out": lambda L: F(L).jacobian(f_two, (X(L), Y(L))),
    "jacobian, tuple out, single in": lambda L: F(L).jacobian(
        lambda a: (a.sin(), a.sum()), X(L)),
    "jacobian, single out, tuple in": lambda L: F(L).jacobian(
        lambda a, b: a.sum() * b, (X(L), Y(L))),
    "jacobian, 0-d in and out": lambda L: F(L).jacobian(lambda a: a.exp(),
                                                        L.tensor(0.5, dtype=L.float64)),
    "jacobian of a constant": lambda L: F(L).jacobian(lambda a: L.ones(2), X(L)),
    "jacobian, an unused input": lambda L: F(L).jacobian(lambda a, b: a * 2, (X(L), Y(L))),
    "jacobian of the identity": lambda L: F(L).jacobian(lambda a: a, X(L)),
    "jacobian of an integer output": lambda L: F(L).jacobian(lambda a: (a > 1).long(), X(L)),
    "jacobian, vectorize": lambda L: F(L).jacobian(f_two, (X(L), Y(L)), vectorize=True),
    "jacobian, vectorize, constant": lambda L: F(L).jacobian(
        lambda a, b: (L.ones(2), a * 2), (X(L), Y(L)), vectorize=True),
    "jacobian, forward-mode": lambda L: F(L).jacobian(f_vec, X(L), vectorize=True,
                                                      strategy="forward-mode"),
    "jacobian, create_graph": lambda L: F(L).jacobian(f_vec, X(L), create_graph=True),
    "jacobian, create_graph, constant input": lambda L: F(L).jacobian(
        f_vec, C(L), create_graph=True),
    "hessian": lambda L: F(L).hessian(f_scalar, X(L)),
    "hessian, tuple": lambda L: F(L).hessian(f_scalar_two, (X(L), Y(L))),
    "hessian, one-element output": lambda L: F(L).hessian(
        lambda a: (a ** 2).sum().reshape(1, 1), X(L)),
    "hessian of a linear function": lambda L: F(L).hessian(lambda a: a.sum(), X(L)),
    "hessian, vectorize": lambda L: F(L).hessian(f_scalar_two, (X(L), Y(L)), vectorize=True),
    "hessian, create_graph": lambda L: F(L).hessian(f_scalar, X(L), create_graph=True),
    "vjp": lambda L: F(L).vjp(f_vec, X(L), L.tensor([1.0, 0.0, 2.0], dtype=L.float64)),
    "vjp, tuples": lambda L: F(L).vjp(f_two, (X(L), Y(L)), (
        L.tensor([1.0, -1.0, 0.5], dtype=L.float64), L.tensor([2.0, 3.0], dtype=L.float64))),
    "vjp, v None for a scalar": lambda L: F(L).vjp(f_scalar, X(L)),
    "vjp of a constant": lambda L: F(L).vjp(lambda a: L.ones(3), X(L), L.ones(3)),
    "vjp, create_graph": lambda L: F(L).vjp(f_vec, X(L), L.ones(3, dtype=L.float64),
                                            create_graph=True),
    "vjp, create_graph, constant input": lambda L: F(L).vjp(
        f_vec, C(L), L.ones(3, dtype=L.float64), create_graph=True),
    "jvp": lambda L: F(L).jvp(f_vec, X(L), L.tensor([1.0, 0.0, 2.0], dtype=L.float64)),
    "jvp, tuples": lambda L: F(L).jvp(f_two, (X(L), Y(L)), (
        L.ones(3, dtype=L.float64), L.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=L.float64))),
    "jvp, v None for a 0-d input": lambda L: F(L).jvp(lambda a: a ** 3, L.tensor(2.0)),
    "jvp of a linear function": lambda L: F(L).jvp(lambda a: a * 2, X(L), L.ones(3),
                                                   strict=True),
    "jvp of the identity": lambda L: F(L).jvp(lambda a: a, X(L), L.ones(3, dtype=L.float64)),
    "jvp of a constant": lambda L: F(L).jvp(lambda a: L.ones(3), X(L), L.ones(3)),
    "jvp, create_graph": lambda L: F(L).jvp(f_vec, X(L), L.ones(3, dtype=L.float64),
                                            create_graph=True),
    "jvp, create_graph, linear": lambda L: F(L).jvp(lambda a: a * 2, X(L), L.ones(3),
                                                    create_graph=True),
    "vhp": lambda L: F(L).vhp(f_scalar, X(L), L.tensor([1.0, -1.0, 2.0], dtype=L.float64)),
    "hvp": lambda L: F(L).hvp(f_scalar, X(L), L.tensor([1.0, -1.0, 2.0], dtype=L.float64)),
    "vhp, tuples": lambda L: F(L).vhp(f_scalar_two, (X(L), Y(L)), (
        L.ones(3, dtype=L.float64), L.ones(2, 2, dtype=L.float64))),
    "hvp, tuples": lambda L: F(L).hvp(f_scalar_two, (X(L), Y(L)), (
        L.ones(3, dtype=L.float64), L.ones(2, 2, dtype=L.float64))),
    "hvp, v None for a 0-d input": lambda L: F(L).hvp(lambda a: a ** 3, L.tensor(2.0)),
    "hvp of a linear function": lambda L: F(L).hvp(lambda a: a.sum(), X(L), L.ones(3)),
    "hvp, create_graph": lambda L: F(L).hvp(f_scalar, X(L), L.ones(3, dtype=L.float64),
                                            create_graph=True),
    "vhp, create_graph": lambda L: F(L).vhp(f_scalar, X(L), L.ones(3, dtype=L.float64),
                                            create_graph=True),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL_CASES))
def test_functional_values_like_torch(case):
    check_both(FUNCTIONAL_CASES[case])


def test_functional_results_against_finite_differences(rng):
    """Without a reference: the Jacobian by central differences, the Hessian as the
    Jacobian of the gradient, J v and H v as matrix products."""
    F_ = minigrad.autograd.functional
    x0 = rng.standard_normal(3)
    J = F_.jacobian(f_vec, minigrad.tensor(x0)).numpy()
    eps = 1e-6
    numeric = np.stack([(f_vec(minigrad.tensor(x0 + eps * e)).numpy()
                         - f_vec(minigrad.tensor(x0 - eps * e)).numpy()) / (2 * eps)
                        for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(J, numeric, rtol=1e-6, atol=1e-8)
    v = rng.standard_normal(3)
    _, jv = F_.jvp(f_vec, minigrad.tensor(x0), minigrad.tensor(v))
    _, vj = F_.vjp(f_vec, minigrad.tensor(x0), minigrad.tensor(v))
    np.testing.assert_allclose(jv.numpy(), J @ v, rtol=1e-12)
    np.testing.assert_allclose(vj.numpy(), v @ J, rtol=1e-12)
    H = F_.hessian(f_scalar, minigrad.tensor(x0)).numpy()
    np.testing.assert_allclose(H, H.T, rtol=1e-12)
    grad_f = lambda t: F_.vjp(f_scalar, t, create_graph=True)[1]   # noqa: E731
    np.testing.assert_allclose(H, F_.jacobian(grad_f, minigrad.tensor(x0)).numpy(), rtol=1e-12)
    _, hv = F_.hvp(f_scalar, minigrad.tensor(x0), minigrad.tensor(v))
    _, vh = F_.vhp(f_scalar, minigrad.tensor(x0), minigrad.tensor(v))
    np.testing.assert_allclose(hv.numpy(), H @ v, rtol=1e-12)
    np.testing.assert_allclose(vh.numpy(), v @ H, rtol=1e-12)


CREATE_GRAPH_CASES = {
    # the result is differentiated again, back to the caller's input
    "jacobian": lambda L, a: F(L).jacobian(f_vec, a, create_graph=True).pow(2).sum(),
    "hessian": lambda L, a: F(L).hessian(f_scalar, a, create_graph=True).sum(),
    "vjp": lambda L, a: F(L).vjp(f_vec, a, a * 1.0, create_graph=True)[1].sum(),
    "jvp": lambda L, a: F(L).jvp(f_vec, a, L.ones(3, dtype=L.float64),
                                 create_graph=True)[1].pow(2).sum(),
    "hvp": lambda L, a: F(L).hvp(f_scalar, a, L.ones(3, dtype=L.float64),
                                 create_graph=True)[1].sum(),
    "vhp": lambda L, a: F(L).vhp(f_scalar, a, L.ones(3, dtype=L.float64),
                                 create_graph=True)[1].sum(),
    "function value": lambda L, a: F(L).vjp(f_scalar, a, create_graph=True)[0],
}


@pytest.mark.parametrize("case", list(CREATE_GRAPH_CASES))
def test_create_graph_results_differentiate_back_to_the_inputs(case):
    def f(lib):
        a = X(lib)
        CREATE_GRAPH_CASES[case](lib, a).backward()
        return a.grad
    check_both(f)


def test_functional_leaves_the_callers_tensors_alone():
    a = X(minigrad)
    F(minigrad).jacobian(f_vec, a)
    F(minigrad).hvp(f_scalar, a, minigrad.ones(3))
    assert a.grad is None and a.is_leaf and a.requires_grad


# ---- functional: errors -------------------------------------------------------------------

FUNCTIONAL_ERRORS = {
    "jacobian, strict, constant output": lambda L: F(L).jacobian(
        lambda a: L.ones(2), X(L), strict=True),
    "jacobian, strict, unused input": lambda L: F(L).jacobian(
        lambda a, b: a * 2, (X(L), Y(L)), strict=True),
    "jacobian, strict, create_graph, linear": lambda L: F(L).jacobian(
        lambda a: a * 2, X(L), strict=True, create_graph=True),
    "jacobian, a list of inputs": lambda L: F(L).jacobian(
        lambda a, b: a.sum() * b, [X(L), Y(L)]),
    "jacobian, a number as input": lambda L: F(L).jacobian(lambda a: a ** 3, 3.0),
    "jacobian, a number as output": lambda L: F(L).jacobian(lambda a: 3.0, X(L)),
    "jacobian, a number in a tuple": lambda L: F(L).jacobian(lambda a: a, (X(L), 2.0)),
    "jacobian, vectorize and strict": lambda L: F(L).jacobian(
        f_vec, X(L), vectorize=True, strict=True),
    "jacobian, forward-mode without vectorize": lambda L: F(L).jacobian(
        f_vec, X(L), strategy="forward-mode"),
    "jacobian, forward-mode and create_graph": lambda L: F(L).jacobian(
        f_vec, X(L), strategy="forward-mode", vectorize=True, create_graph=True),
    "jacobian, forward-mode and strict": lambda L: F(L).jacobian(
        f_vec, X(L), strategy="forward-mode", vectorize=True, strict=True),
    "jacobian, unknown strategy": lambda L: F(L).jacobian(f_vec, X(L), strategy="sideways"),
    "hessian of a vector": lambda L: F(L).hessian(lambda a: a ** 2, X(L)),
    "hessian of a tuple": lambda L: F(L).hessian(lambda a: ((a ** 3).sum(), a.sum()), X(L)),
    "hessian, strict, linear": lambda L: F(L).hessian(lambda a: a.sum(), X(L), strict=True),
    "hessian, unknown strategy": lambda L: F(L).hessian(
        f_scalar, X(L), outer_jacobian_strategy="sideways"),
    "vjp, v None for a vector output": lambda L: F(L).vjp(f_vec, X(L)),
    "vjp, v of the wrong size": lambda L: F(L).vjp(f_vec, X(L), L.ones(2)),
    "vjp, v tuple of the wrong length": lambda L: F(L).vjp(f_two, (X(L), Y(L)), (L.ones(3),)),
    "vjp, v tuple entry of the wrong size": lambda L: F(L).vjp(
        f_two, (X(L), Y(L)), (L.ones(3), L.ones(3))),
    "vjp, strict, constant output": lambda L: F(L).vjp(
        lambda a: L.ones(3), X(L), L.ones(3), strict=True),
    "vjp, strict, unused input": lambda L: F(L).vjp(
        lambda a, b: a * 2, (X(L), Y(L)), L.ones(3), strict=True),
    "jvp, v None for a vector input": lambda L: F(L).jvp(f_vec, X(L)),
    "jvp, v of the wrong size": lambda L: F(L).jvp(f_vec, X(L), L.ones(2)),
    "jvp, strict, constant output": lambda L: F(L).jvp(
        lambda a: L.ones(3), X(L), L.ones(3), strict=True),
    "jvp, strict, unused input": lambda L: F(L).jvp(
        lambda a, b: a * 2, (X(L), Y(L)), (L.ones(3), L.ones(2, 2)), strict=True),
    "hvp of a vector": lambda L: F(L).hvp(lambda a: a ** 3, X(L), L.ones(3)),
    "hvp of a tuple": lambda L: F(L).hvp(lambda a: ((a ** 3).sum(),), X(L), L.ones(3)),
    "vhp of a vector": lambda L: F(L).vhp(lambda a: a ** 3, X(L), L.ones(3)),
    "hvp, v None for a vector input": lambda L: F(L).hvp(f_scalar, X(L)),
    "hvp, v of the wrong size": lambda L: F(L).hvp(f_scalar, X(L), L.ones(2)),
    "hvp, strict, linear": lambda L: F(L).hvp(lambda a: a.sum(), X(L), L.ones(3), strict=True),
    "vhp, strict, linear": lambda L: F(L).vhp(lambda a: a.sum(), X(L), L.ones(3), strict=True),
    "vhp, strict, quadratic, create_graph": lambda L: F(L).vhp(
        lambda a: (a * a).sum(), X(L), L.ones(3), strict=True, create_graph=True),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL_ERRORS))
def test_functional_errors_like_torch(case):
    assert run(torch, FUNCTIONAL_ERRORS[case])[0] == "err"      # the case is an error
    check_both(FUNCTIONAL_ERRORS[case])


# ---- gradcheck / gradgradcheck ------------------------------------------------------------

def AG(lib):
    return lib.autograd


GRADCHECK_CASES = {
    "passes": lambda L: AG(L).gradcheck(lambda a, b: (a.sin() * b.sum()).exp(), (X(L), Y(L))),
    "a single tensor": lambda L: AG(L).gradcheck(lambda a: a.tanh(), X(L)),
    "a tuple of outputs": lambda L: AG(L).gradcheck(lambda a: (a.tanh(), a * 2), X(L)),
    "a number among the inputs": lambda L: AG(L).gradcheck(lambda a, k: a * k, (X(L), 2.0)),
    "torch's keywords": lambda L: AG(L).gradcheck(lambda a: a.exp(), (X(L),), eps=1e-6,
                                                  atol=1e-5, rtol=1e-3, fast_mode=True,
                                                  nondet_tol=0.0, check_undefined_grad=True),
    "a constant output": lambda L: AG(L).gradcheck(lambda a: L.ones(2, dtype=L.float64), X(L)),
    "a wrong gradient, raise_exception=False": lambda L: AG(L).gradcheck(
        lambda a: a * a.detach(), X(L), raise_exception=False),
    "no input requires grad": lambda L: AG(L).gradcheck(lambda a: a * 2, C(L)),
    "gradgradcheck passes": lambda L: AG(L).gradgradcheck(
        lambda a, b: (a.sin() * b.sum()).exp(), (X(L), Y(L))),
    "gradgradcheck, grad_outputs": lambda L: AG(L).gradgradcheck(
        lambda a: a ** 3, (X(L),), (L.tensor([1.0, 2.0, 3.0], dtype=L.float64,
                                             requires_grad=True),)),
    "gradgradcheck, grad_outputs as one tensor": lambda L: AG(L).gradgradcheck(
        lambda a: a ** 3, X(L), L.tensor([1.0, 2.0, 3.0], dtype=L.float64)),
    "gradgradcheck of a linear function": lambda L: AG(L).gradgradcheck(lambda a: a * 2, X(L)),
    "gradgradcheck, a wrong second derivative, no raise": lambda L: AG(L).gradgradcheck(
        lambda a: a * a * a.detach(), X(L), raise_exception=False),
}


@pytest.mark.parametrize("case", list(GRADCHECK_CASES))
def test_gradcheck_like_torch(case):
    check_both(GRADCHECK_CASES[case])


@pytest.mark.parametrize("fn,match", [
    (lambda L: AG(L).gradcheck(lambda a: a * a.detach(), X(L)),
     "Jacobian mismatch for output 0 with respect to input 0"),
    (lambda L: AG(L).gradcheck(lambda a, b: (a.sum() * b, a * b.detach().sum()), (X(L), Y(L))),
     "Jacobian mismatch for output 1 with respect to input 1"),
    (lambda L: AG(L).gradcheck(lambda a: a.detach() * 2, X(L)),
     "Numerical gradient for function expected to be zero"),
    (lambda L: AG(L).gradgradcheck(lambda a: a * a * a.detach(), X(L)),
     "Jacobian mismatch for output 0 with respect to input 0"),
])
def test_gradcheck_failures_raise_like_torch(fn, match):
    """GradcheckError (a RuntimeError; torch.autograd.gradcheck.GradcheckError in torch)
    naming the output and the input."""
    for lib in LIBS:
        with pytest.raises(RuntimeError, match=match) as info:
            fn(lib)
        assert type(info.value).__name__ == "GradcheckError"
    assert issubclass(minigrad.autograd.GradcheckError, RuntimeError)


def test_gradcheck_restores_the_inputs():
    a = X(minigrad)
    before = a.detach().numpy().copy()
    minigrad.autograd.gradcheck(lambda t: t.exp() * t, (a,))
    assert np.array_equal(a.detach().numpy(), before) and a.grad is None
