"""Property tests: random compositions of ops on random small shapes, checked against numpy
forward values and finite differences; broadcasting, reductions, indexing and permutations
against their closed-form gradients."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad

SETTINGS = settings(max_examples=30, deadline=None)

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def leaf(data):
    return minigrad.tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


def arr(t):
    """A Tensor's values (or gradient) as a numpy array."""
    return np.asarray(t)


def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the reverse of numpy broadcasting)."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return g


# ------------------------------------------------------------------ random op compositions
# smooth unary steps: (name, minigrad, numpy)
UNARY = [
    ("tanh", lambda x: x.tanh(), np.tanh),
    ("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("exp_tanh", lambda x: x.tanh().exp(), lambda x: np.exp(np.tanh(x))),
    ("log1p_sq", lambda x: (x * x + 1.0).log(), lambda x: np.log(x * x + 1.0)),
    ("sqrt1p_sq", lambda x: (x * x + 1.0).sqrt(), lambda x: np.sqrt(x * x + 1.0)),
    ("square", lambda x: x**2, lambda x: x**2),
    ("neg_scale", lambda x: -0.5 * x + 0.25, lambda x: -0.5 * x + 0.25),
    ("rational", lambda x: x / (x * x + 1.0), lambda x: x / (x * x + 1.0)),
    ("rpow", lambda x: 1.5 ** x.tanh(), lambda x: 1.5 ** np.tanh(x)),
]

# smooth binary steps with a second operand of a broadcastable shape
BINARY = [
    ("add", lambda x, y: x + y, np.add),
    ("sub", lambda x, y: y - x, lambda x, y: y - x),
    ("mul", lambda x, y: x * y, np.multiply),
    ("div", lambda x, y: x / (y * y + 0.5), lambda x, y: x / (y * y + 0.5)),
    ("pow", lambda x, y: (x * x + 0.5) ** y.tanh(), lambda x, y: (x * x + 0.5) ** np.tanh(y)),
]


@st.composite
def compositions(draw):
    shape = draw(shapes)
    steps = []
    cur = shape
    n_extra = 0
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce", "shape"]))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(range(len(UNARY))))))
        elif kind == "binary":
            # the other operand: drop some leading dims and set some dims to 1
            drop = draw(st.integers(0, len(cur)))
            other = tuple(n if draw(st.booleans()) else 1 for n in cur[drop:])
            steps.append(("binary", draw(st.sampled_from(range(len(BINARY)))), other))
            n_extra += 1
        elif kind == "reduce" and len(cur) >= 1:
            ax = draw(st.integers(-len(cur), len(cur) - 1))
            keep = draw(st.booleans()) or len(cur) == 1
            op = draw(st.sampled_from(["sum", "mean", "var", "var_biased"]))
            if op == "var" and cur[ax] < 2:
                op = "var_biased"  # the unbiased estimate needs two elements
            steps.append(("reduce", op, ax, keep))
            cur = tuple(1 if i == ax % len(cur) else n for i, n in enumerate(cur)) if keep \
                else tuple(n for i, n in enumerate(cur) if i != ax % len(cur))
        elif kind == "shape":
            if len(cur) >= 2 and draw(st.booleans()):
                steps.append(("transpose",))
                cur = (cur[-1], *cur[1:-1], cur[0])
            else:
                steps.append(("flatten_unsqueeze",))
                cur = (1, int(np.prod(cur)))
    return shape, steps, draw(seeds)


def run_steps(steps, x, extras, lib):
    """Apply ``steps`` with minigrad (lib == "mg") or numpy (lib == "np")."""
    extras = list(extras)
    for step in steps:
        if step[0] == "unary":
            _, mg, ref = UNARY[step[1]]
            x = mg(x) if lib == "mg" else ref(x)
        elif step[0] == "binary":
            _, mg, ref = BINARY[step[1]]
            y = extras.pop(0)
            x = mg(x, y) if lib == "mg" else ref(x, y)
        elif step[0] == "reduce":
            _, op, ax, keep = step
            if lib == "np":
                ddof = {"var": 1, "var_biased": 0}.get(op)
                f = np.var if ddof is not None else getattr(np, op)
                x = f(x, axis=ax, keepdims=keep, **({} if ddof is None else {"ddof": ddof}))
            elif op == "var_biased":
                x = x.var(dim=ax, keepdim=keep, unbiased=False)
            else:  # sum, mean, var (the unbiased estimate, as PyTorch's default)
                x = getattr(x, op)(dim=ax, keepdim=keep)
        elif step[0] == "transpose":  # swap the first and the last dims
            x = x.transpose(0, -1) if lib == "mg" else np.swapaxes(x, 0, -1)
        else:  # flatten then add a leading axis
            x = x.flatten().unsqueeze(0) if lib == "mg" else x.reshape(1, -1)
    return x


@SETTINGS
@given(comp=compositions())
@example(comp=((1,), [("binary", 3, ())], 0))   # a 0-d operand used twice (y * y)
def test_random_composition_matches_numpy_and_finite_differences(comp, numeric_grad):
    shape, steps, seed = comp
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    extra0 = [rng.standard_normal(s[2]) for s in steps if s[0] == "binary"]
    x = leaf(x0)
    extras = [leaf(e) for e in extra0]
    out = run_steps(steps, x, extras, "mg")
    expected = np.asarray(run_steps(steps, x0, extra0, "np"))
    assert out.shape == expected.shape
    np.testing.assert_allclose(arr(out), expected, rtol=1e-10, atol=1e-12)

    w = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(w))
    fd = numeric_grad(lambda a, *es: np.sum(run_steps(steps, a, es, "np") * w), [x0, *extra0])
    for t, g in zip([x, *extras], fd, strict=True):
        assert t.grad.shape == t.shape
        np.testing.assert_allclose(arr(t.grad), g, rtol=1e-4, atol=1e-6)


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       st.sampled_from(["add", "sub", "mul", "div"]), seeds)
def test_broadcast_binary_gradients_sum_back_to_input_shapes(bshapes, op, seed):
    (sa, sb), out_shape = bshapes.input_shapes, bshapes.result_shape
    rng = np.random.default_rng(seed)
    a0 = rng.standard_normal(sa)
    b0 = rng.uniform(0.5, 2.0, sb) * rng.choice([-1.0, 1.0], sb)
    w = rng.standard_normal(out_shape)
    a, b = leaf(a0), leaf(b0)
    out = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    assert out.shape == tuple(out_shape)
    out.backward(minigrad.tensor(w))
    da, db = {
        "add": (w, w),
        "sub": (w, -w),
        "mul": (w * b0, w * a0),
        "div": (w / b0, -w * a0 / b0**2),
    }[op]
    np.testing.assert_allclose(arr(a.grad), sum_to_shape(da, sa), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(arr(b.grad), sum_to_shape(db, sb), rtol=1e-12, atol=1e-12)
    assert a.grad.shape == tuple(sa) and b.grad.shape == tuple(sb)


@st.composite
def reductions(draw):
    shape = draw(shapes)
    axes = draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    axis = None if not axes else (tuple(axes) if draw(st.booleans()) or len(axes) > 1
                                  else axes[0] - len(shape) * draw(st.integers(0, 1)))
    return shape, axis, draw(st.booleans()), draw(seeds)


@SETTINGS
@given(reductions(), st.sampled_from(["sum", "mean", "var", "var0", "max", "min"]))
def test_reduction_gradients_closed_form(red, op):
    shape, axis, keep, seed = red
    rng = np.random.default_rng(seed)
    n_total = int(np.prod(shape))
    x0 = (rng.permutation(n_total).reshape(shape) - n_total / 2) * 0.1  # distinct values
    ax_tuple = tuple(range(len(shape))) if axis is None else (
        axis if isinstance(axis, tuple) else (axis,))
    n = int(np.prod([shape[a] for a in ax_tuple]))
    if op == "var" and n < 2:
        op = "var0"  # the unbiased estimate (PyTorch's default) needs two elements
    x = leaf(x0)
    if op == "var":
        out = x.var(dim=axis, keepdim=keep)
        ref = np.var(x0, axis=axis, keepdims=keep, ddof=1)
    elif op == "var0":
        out = x.var(dim=axis, keepdim=keep, correction=0)
        ref = np.var(x0, axis=axis, keepdims=keep)
    elif op in ("max", "min") and isinstance(axis, int):
        out = getattr(x, op)(dim=axis, keepdim=keep).values  # max(dim): (values, indices)
        ref = getattr(np, op)(x0, axis=axis, keepdims=keep)
    elif op in ("max", "min"):
        out = getattr(x, "a" + op)(dim=axis, keepdim=keep)   # amax/amin: several dims
        ref = getattr(np, op)(x0, axis=axis, keepdims=keep)
    else:
        out = getattr(x, op)(dim=axis, keepdim=keep)
        ref = getattr(np, op)(x0, axis=axis, keepdims=keep)
    np.testing.assert_allclose(arr(out), ref, rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(np.shape(ref))
    out.backward(minigrad.tensor(w))
    wk = np.broadcast_to(np.reshape(w, np.shape(np.sum(x0, axis=axis, keepdims=True))), shape)
    mean_k = x0.mean(axis=axis, keepdims=True)
    if op == "sum":
        expected = wk
    elif op == "mean":
        expected = wk / n
    elif op in ("var", "var0"):
        expected = wk * 2 * (x0 - mean_k) / (n - (op == "var"))
    else:
        extreme = getattr(np, op)(x0, axis=axis, keepdims=True)
        expected = wk * (x0 == extreme)
    np.testing.assert_allclose(arr(x.grad), expected, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 3), st.data())
def test_integer_index_gradient_is_scatter_add(n, m, data):
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=8)))
    seed = data.draw(seeds)
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((n, m))
    x = leaf(x0)
    index = minigrad.tensor(idx)
    assert index.dtype == minigrad.int64
    out = x[index]
    np.testing.assert_array_equal(arr(out), x0[idx])
    w = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(w))
    expected = np.zeros((n, m))
    np.add.at(expected, idx, w)
    np.testing.assert_allclose(arr(x.grad), expected, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shapes, seeds)
def test_boolean_mask_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    mask = rng.random(shape) < 0.5
    x = leaf(x0)
    out = x[minigrad.tensor(mask)]          # a bool tensor is a mask
    np.testing.assert_array_equal(arr(out), x0[mask])
    w = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(w))
    expected = np.zeros(shape)
    expected[mask] = w
    np.testing.assert_array_equal(arr(x.grad), expected)


@SETTINGS
@given(shapes, seeds, st.data())
def test_permute_gradient_is_inverse_permutation(shape, seed, data):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    out = x.permute(*perm)
    assert out.shape == tuple(shape[p] for p in perm)
    w = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(w))
    np.testing.assert_array_equal(arr(x.grad), np.transpose(w, np.argsort(perm)))


@SETTINGS
@given(shapes, shapes, seeds)
def test_matmul_gradients_closed_form(sa, sb, seed):
    rng = np.random.default_rng(seed)
    k = sa[-1]
    b_shape = (*sb[:-1], k, sb[-1]) if len(sb) > 1 else (k,)
    try:
        out_shape = np.matmul(np.zeros(sa), np.zeros(b_shape)).shape
    except ValueError:
        return  # batch dims that do not broadcast: not a valid matmul
    a0, b0 = rng.standard_normal(sa), rng.standard_normal(b_shape)
    a, b = leaf(a0), leaf(b0)
    out = a @ b
    np.testing.assert_allclose(arr(out), a0 @ b0, rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(out_shape)
    out.backward(minigrad.tensor(w))
    # promote 1-D operands the way matmul does, then undo
    a2 = a0[None, :] if a0.ndim == 1 else a0
    b2 = b0[:, None] if b0.ndim == 1 else b0
    w2 = np.asarray(w)
    if b0.ndim == 1:
        w2 = np.expand_dims(w2, -1)
    if a0.ndim == 1:
        w2 = np.expand_dims(w2, -2)
    ga = sum_to_shape(w2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a0.shape)
    gb = sum_to_shape(np.swapaxes(a2, -1, -2) @ w2, b2.shape).reshape(b0.shape)
    np.testing.assert_allclose(arr(a.grad), ga, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(arr(b.grad), gb, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(st.lists(shapes, min_size=1, max_size=3), seeds, st.data())
def test_gradcheck_accepts_random_smooth_functions(shape_list, seed, data):
    rng = np.random.default_rng(seed)
    op = data.draw(st.sampled_from(range(len(UNARY))))
    inputs = [leaf(rng.standard_normal(s)) for s in shape_list]
    _, mg, _ = UNARY[op]

    def fn(*ts):
        return sum(mg(t).sum() * float(i + 1) for i, t in enumerate(ts))

    assert minigrad.gradcheck(fn, inputs) is True
