"""Gradients of gradients through ``minigrad.grad(..., create_graph=True)``."""

import numpy as np
import pytest

import minigrad


def leaf(data):
    return minigrad.tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


def arr(t):
    """A Tensor's values as a numpy array (also when it requires grad)."""
    return t.detach().numpy()


def second_derivative(f, data):
    """Elementwise f'' of an elementwise f, by differentiating the gradient once more."""
    x = leaf(data)
    (g,) = minigrad.grad(f(x).sum(), [x], create_graph=True)
    (h,) = minigrad.grad(g.sum(), [x])
    return g, h


POINTS = np.array([-1.7, -0.4, 0.3, 1.1, 2.2])


def test_cube_first_second_and_third_derivative():
    x = leaf(POINTS)
    (g,) = minigrad.grad((x**3).sum(), [x], create_graph=True)
    (h,) = minigrad.grad(g.sum(), [x], create_graph=True)
    (t,) = minigrad.grad(h.sum(), [x])
    np.testing.assert_allclose(arr(g), 3 * POINTS**2, rtol=1e-12)
    np.testing.assert_allclose(arr(h), 6 * POINTS, rtol=1e-12)
    np.testing.assert_allclose(arr(t), np.full_like(POINTS, 6.0), rtol=1e-12)


def test_tanh_second_derivative():
    g, h = second_derivative(lambda x: x.tanh(), POINTS)
    th = np.tanh(POINTS)
    np.testing.assert_allclose(arr(g), 1 - th**2, rtol=1e-12)
    np.testing.assert_allclose(arr(h), -2 * th * (1 - th**2), rtol=1e-10, atol=1e-14)


def test_exp_second_derivative():
    g, h = second_derivative(lambda x: x.exp(), POINTS)
    np.testing.assert_allclose(arr(g), np.exp(POINTS), rtol=1e-12)
    np.testing.assert_allclose(arr(h), np.exp(POINTS), rtol=1e-12)


@pytest.mark.parametrize(
    "name,f,f2,domain",
    [
        ("log", lambda x: x.log(), lambda x: -1 / x**2, "pos"),
        ("sqrt", lambda x: x.sqrt(), lambda x: -0.25 * x**-1.5, "pos"),
        ("sigmoid", lambda x: x.sigmoid(),
         lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s), "any"),
        ("reciprocal", lambda x: 1.0 / x, lambda x: 2 / x**3, "pos"),
        ("pow_2.5", lambda x: x**2.5, lambda x: 2.5 * 1.5 * x**0.5, "pos"),
        ("rpow", lambda x: 2.0**x, lambda x: np.log(2.0) ** 2 * 2.0**x, "any"),
        ("x_times_exp", lambda x: x * x.exp(), lambda x: (x + 2) * np.exp(x), "any"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_second_derivatives_against_closed_forms(name, f, f2, domain):
    data = np.abs(POINTS) + 0.2 if domain == "pos" else POINTS
    _, h = second_derivative(f, data)
    np.testing.assert_allclose(arr(h), f2(data), rtol=1e-10, atol=1e-12)


def test_mixed_partial_derivatives():
    x, y = leaf([0.7]), leaf([-1.2])
    out = (x * x * y.exp() + x * y).sum()
    gx, gy = minigrad.grad(out, [x, y], create_graph=True)
    (dxy,) = minigrad.grad(gx.sum(), [y], retain_graph=True)
    (dyx,) = minigrad.grad(gy.sum(), [x])
    expected = 2 * 0.7 * np.exp(-1.2) + 1.0
    np.testing.assert_allclose(arr(dxy), [expected], rtol=1e-12)
    np.testing.assert_allclose(arr(dyx), [expected], rtol=1e-12)


def test_create_graph_gradients_are_tensors_that_require_grad():
    x = leaf([1.0, 2.0])
    (g,) = minigrad.grad((x**3).sum(), [x], create_graph=True)
    assert isinstance(g, minigrad.Tensor) and g.requires_grad and g.grad_fn is not None
    (g2,) = minigrad.grad((x**3).sum(), [x])
    assert isinstance(g2, minigrad.Tensor)
    assert not g2.requires_grad and g2.grad_fn is None  # without create_graph: plain values


def init_net(rng):
    return [
        leaf(rng.standard_normal((3, 4)) * 0.7),
        leaf(rng.standard_normal(4) * 0.1),
        leaf(rng.standard_normal((4, 2)) * 0.7),
        leaf(rng.standard_normal(2) * 0.1),
    ]


def net_loss(params, x, y):
    w1, b1, w2, b2 = params
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    return ((pred - y) ** 2).mean()


def test_hessian_vector_product_of_two_layer_tanh_net(rng):
    x = minigrad.tensor(rng.standard_normal((6, 3)))
    y = minigrad.tensor(rng.standard_normal((6, 2)))
    params = init_net(rng)
    vs = [rng.standard_normal(p.shape) for p in params]

    grads = minigrad.grad(net_loss(params, x, y), params, create_graph=True)
    gv = sum((g * minigrad.tensor(v)).sum() for g, v in zip(grads, vs, strict=True))
    hvp = minigrad.grad(gv, params)

    def gradient_at(shift):
        shifted = [leaf(arr(p) + shift * v) for p, v in zip(params, vs, strict=True)]
        return [g.numpy() for g in minigrad.grad(net_loss(shifted, x, y), shifted)]

    eps = 1e-5
    plus, minus = gradient_at(eps), gradient_at(-eps)
    for got, gp, gm in zip(hvp, plus, minus, strict=True):
        np.testing.assert_allclose(arr(got), (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_hessian_is_symmetric_for_small_net(rng):
    x = minigrad.tensor(rng.standard_normal((4, 3)))
    y = minigrad.tensor(rng.standard_normal((4, 2)))
    params = init_net(rng)
    w1 = params[0]
    (g,) = minigrad.grad(net_loss(params, x, y), [w1], create_graph=True)
    flat = g.reshape(-1)
    rows = [minigrad.grad(flat[i], [w1], retain_graph=True)[0].numpy().reshape(-1)
            for i in range(flat.shape[0])]
    hessian = np.stack(rows)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-8, atol=1e-12)
    assert np.abs(hessian).max() > 1e-3  # not trivially zero


OPS_FOR_DOUBLE_BACKWARD = [
    ("mul_div", lambda a, b: a * b / (b * b + 1.0)),
    ("pow", lambda a, b: (a * a + 1.0) ** b),
    ("exp_log", lambda a, b: (a.exp() + b * b).log()),
    ("tanh_sigmoid", lambda a, b: (a * b).tanh() * b.sigmoid()),
    ("sqrt", lambda a, b: (a * a + b * b + 0.5).sqrt()),
    ("matmul", lambda a, b: (a.reshape(2, 3) @ b.reshape(3, 2)).tanh()),
    ("reductions", lambda a, b: a.var(dim=0) * b.mean() + (a * b).sum(dim=1, keepdim=True)),
    ("var_biased", lambda a, b: a.var(dim=1, unbiased=False, keepdim=True) * b),
    ("amax", lambda a, b: (a * b).amax(dim=1) * a.sum()),
    ("max_dim", lambda a, b: (a * b).max(dim=1).values * a.sum()),
    ("index_cat", lambda a, b: minigrad.cat([a[minigrad.tensor([0, 0, 1])], b[1:]]) ** 2),
    ("shape_ops", lambda a, b: (a.transpose(0, 1) * b.T).reshape(6).exp()),
]


@pytest.mark.parametrize("name,f", OPS_FOR_DOUBLE_BACKWARD,
                         ids=[o[0] for o in OPS_FOR_DOUBLE_BACKWARD])
def test_gradient_of_gradient_passes_gradcheck(name, f, rng):
    """The function x -> d f(x) . u / dx is itself differentiable: gradcheck it."""
    a = leaf(rng.standard_normal((2, 3)))
    b = leaf(rng.uniform(0.5, 1.5, (2, 3)))
    u = minigrad.tensor(rng.standard_normal(f(a, b).shape))

    def gradient(p, q):
        # gradcheck may evaluate fn under no_grad for its finite differences; the inner
        # gradient needs a graph either way
        with minigrad.enable_grad():
            gp, gq = minigrad.grad(f(p, q), [p, q], grad_outputs=u, create_graph=True)
            return gp * 1.3 + gq

    assert minigrad.gradcheck(gradient, (a, b)) is True


def test_grad_names_a_value_input_and_the_way_to_its_gradient():
    x = minigrad.Value(2.0)
    with pytest.raises(TypeError, match=r"grad: input 0 is a Value, not a Tensor .*\.backward\(\)"):
        minigrad.grad(x * x, [x])
    t = minigrad.tensor(2.0)
    with pytest.raises(RuntimeError, match=r"\(input 0\) does not require grad"):
        minigrad.grad(t * t, [t])
    u = minigrad.tensor(3.0, requires_grad=True)
    with pytest.raises(RuntimeError,       # PyTorch's words, and which input it is
                       match=r"One of the differentiated Tensors \(input 1\) does not require"
                             r" grad"):
        minigrad.grad(u * t, [u, t])
