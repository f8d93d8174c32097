"""Every differentiable Tensor op: forward against numpy, gradients through ``minigrad.gradcheck``
and against independent finite differences of the numpy reference, float32 preservation.

Each case is declared once (minigrad function, numpy reference, input shapes and domains) and
runs through all the checks below.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import minigrad


@dataclass(frozen=True)
class Case:
    name: str
    fn: object  # (*Tensors) -> Tensor
    ref: object  # (*ndarrays) -> ndarray, the numpy meaning of fn
    inputs: tuple  # ((shape, kind), ...)


def make_data(rng, shape, kind):
    """float64 data of ``shape`` in the domain ``kind`` asks for (away from kinks and poles)."""
    size = int(np.prod(shape, dtype=int))
    if kind == "any":
        a = rng.standard_normal(size)
    elif kind == "pos":
        a = rng.uniform(0.5, 2.0, size)
    elif kind == "nonzero":  # |a| >= 0.2: safe for abs, relu, division
        a = rng.choice([-1.0, 1.0], size) * (0.2 + np.abs(rng.standard_normal(size)))
    elif kind in ("grid", "grid_half"):
        # distinct multiples of 0.1 (grid) or of 0.1 shifted by 0.05 (grid_half): no two
        # elements tie, and a grid value never ties a grid_half value
        a = (rng.permutation(size) - size // 2) * 0.1
        if kind == "grid_half":
            a = a + 0.05
    elif kind == "clip":  # keep clear of the bounds -0.5 and 0.5 used by the clip cases
        a = rng.uniform(-1.5, 1.5, size)
        near = np.abs(np.abs(a) - 0.5) < 0.1
        a[near] += 0.25
    else:  # pragma: no cover - a typo in a case table
        raise ValueError(kind)
    return np.asarray(a.reshape(shape), dtype=np.float64)


CASES = []


def case(name, fn, ref, *inputs):
    CASES.append(Case(name, fn, ref, tuple(inputs)))


# ---------------------------------------------------------------- binary ops, broadcasting
BCAST = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 3), ()), ((3, 4), (3, 4)),
         ((2, 1, 4), (3, 1))]

for sa, sb in BCAST:
    tag = f"{sa}x{sb}".replace(" ", "")
    case(f"add{tag}", lambda a, b: a + b, np.add, (sa, "any"), (sb, "any"))
    case(f"sub{tag}", lambda a, b: a - b, np.subtract, (sa, "any"), (sb, "any"))
    case(f"mul{tag}", lambda a, b: a * b, np.multiply, (sa, "any"), (sb, "any"))
    case(f"div{tag}", lambda a, b: a / b, np.divide, (sa, "any"), (sb, "nonzero"))
    case(f"pow{tag}", lambda a, b: a**b, np.power, (sa, "pos"), (sb, "any"))
    case(f"maximum{tag}", minigrad.maximum, np.maximum, (sa, "grid"), (sb, "grid_half"))
    case(f"minimum{tag}", minigrad.minimum, np.minimum, (sa, "grid"), (sb, "grid_half"))

# --------------------------------------------------------------- Python numbers either side
S = (2, 3)
case("add_num", lambda x: x + 2.5, lambda x: x + 2.5, (S, "any"))
case("radd_num", lambda x: 2.5 + x, lambda x: 2.5 + x, (S, "any"))
case("sub_num", lambda x: x - 2.5, lambda x: x - 2.5, (S, "any"))
case("rsub_num", lambda x: 2.5 - x, lambda x: 2.5 - x, (S, "any"))
case("mul_num", lambda x: x * -1.5, lambda x: x * -1.5, (S, "any"))
case("rmul_num", lambda x: -1.5 * x, lambda x: -1.5 * x, (S, "any"))
case("mul_int", lambda x: 3 * x * 2, lambda x: 3 * x * 2, (S, "any"))
case("div_num", lambda x: x / 2.5, lambda x: x / 2.5, (S, "any"))
case("rdiv_num", lambda x: 2.5 / x, lambda x: 2.5 / x, (S, "nonzero"))
case("pow_int2", lambda x: x**2, lambda x: x**2, (S, "any"))
case("pow_3", lambda x: x**3.0, lambda x: x**3.0, (S, "any"))
case("pow_neg", lambda x: x**-1.5, lambda x: x**-1.5, (S, "pos"))
case("pow_half", lambda x: x**0.5, lambda x: x**0.5, (S, "pos"))
case("rpow_num", lambda x: 2.0**x, lambda x: 2.0**x, (S, "any"))

# ------------------------------------------------------------------------- unary functions
case("neg", lambda x: -x, np.negative, (S, "any"))
case("exp", lambda x: x.exp(), np.exp, (S, "any"))
case("log", lambda x: x.log(), np.log, (S, "pos"))
case("sqrt", lambda x: x.sqrt(), np.sqrt, (S, "pos"))
case("tanh", lambda x: x.tanh(), np.tanh, (S, "any"))
case("sigmoid", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + np.exp(-x)), (S, "any"))
case("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0.0), (S, "nonzero"))
case("abs", lambda x: x.abs(), np.abs, (S, "nonzero"))
case("exp_0d", lambda x: x.exp(), np.exp, ((), "any"))
case("clip_method", lambda x: x.clip(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), ((3, 4), "clip"))
case("clip_func", lambda x: minigrad.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
     ((3, 4), "clip"))

# -------------------------------------------------------------------------------- where
_COND = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 1]], dtype=bool)
case("where_same", lambda a, b: minigrad.where(_COND, a, b), lambda a, b: np.where(_COND, a, b),
     ((3, 4), "any"), ((3, 4), "any"))
_COND_COL = np.array([[True], [False], [True]])
case("where_bcast", lambda a, b: minigrad.where(_COND_COL, a, b),
     lambda a, b: np.where(_COND_COL, a, b), ((3, 4), "any"), ((4,), "any"))
case("where_from_comparison", lambda x: minigrad.where(x > 0, x, x * 0.1),
     lambda x: np.where(x > 0, x, x * 0.1), ((3, 4), "nonzero"))

# ------------------------------------------------------------------------------ reductions
R = (2, 3, 4)
AXES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]
for op in ("sum", "mean", "var", "max", "min"):
    kind = "grid" if op in ("max", "min") else "any"
    for ax in AXES:
        for kd in (False, True):
            tag = f"{op}[axis={ax},keepdims={kd}]".replace(" ", "")
            case(tag,
                 lambda x, op=op, ax=ax, kd=kd: getattr(x, op)(axis=ax, keepdims=kd),
                 lambda x, op=op, ax=ax, kd=kd: getattr(np, op)(x, axis=ax, keepdims=kd),
                 (R, kind))
for ax in AXES:
    for kd in (False, True):
        case(f"var[axis={ax},keepdims={kd},ddof=1]".replace(" ", ""),
             lambda x, ax=ax, kd=kd: x.var(axis=ax, keepdims=kd, ddof=1),
             lambda x, ax=ax, kd=kd: np.var(x, axis=ax, keepdims=kd, ddof=1), (R, "any"))
case("sum_default", lambda x: x.sum(), np.sum, (R, "any"))
case("mean_default", lambda x: x.mean(), np.mean, (R, "any"))
case("var_default", lambda x: x.var(), np.var, (R, "any"))
case("max_default", lambda x: x.max(), np.max, (R, "grid"))
case("min_default", lambda x: x.min(), np.min, (R, "grid"))
case("sum_1d", lambda x: x.sum(axis=0), lambda x: np.sum(x, axis=0), ((5,), "any"))
case("sum_0d", lambda x: x.sum(), np.sum, ((), "any"))
case("mean_0d", lambda x: x.mean(), np.mean, ((), "any"))

# -------------------------------------------------------------------------- shape changes
case("reshape_ints", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), (R, "any"))
case("reshape_tuple", lambda x: x.reshape((6, 4)), lambda x: x.reshape((6, 4)), (R, "any"))
case("reshape_minus1", lambda x: x.reshape(2, -1), lambda x: x.reshape(2, -1), (R, "any"))
case("reshape_flat", lambda x: x.reshape(24), lambda x: x.reshape(24), (R, "any"))
case("reshape_to_0d", lambda x: x.reshape(()), lambda x: x.reshape(()), ((1, 1), "any"))
case("transpose_reverse", lambda x: x.transpose(), lambda x: x.transpose(), (R, "any"))
case("transpose_201", lambda x: x.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1), (R, "any"))
case("transpose_102", lambda x: x.transpose(1, 0, 2), lambda x: x.transpose(1, 0, 2), (R, "any"))
case("permute_201", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), (R, "any"))
case("permute_120", lambda x: x.permute(1, 2, 0), lambda x: x.transpose(1, 2, 0), (R, "any"))
case("swapaxes_02", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), (R, "any"))
case("swapaxes_neg", lambda x: x.swapaxes(-1, 1), lambda x: x.swapaxes(-1, 1), (R, "any"))
case("T_2d", lambda x: x.T, lambda x: x.T, ((3, 4), "any"))
case("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
     ((3, 1), "any"))
case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
     lambda x: np.broadcast_to(x, (2, 3, 4)), ((4,), "any"))
case("broadcast_0d", lambda x: x.broadcast_to((3,)), lambda x: np.broadcast_to(x, (3,)),
     ((), "any"))
case("squeeze_all", lambda x: x.squeeze(), lambda x: x.squeeze(), ((1, 3, 1, 2), "any"))
case("squeeze_0", lambda x: x.squeeze(0), lambda x: x.squeeze(0), ((1, 3, 1, 2), "any"))
case("squeeze_2", lambda x: x.squeeze(2), lambda x: x.squeeze(2), ((1, 3, 1, 2), "any"))
case("squeeze_neg", lambda x: x.squeeze(-2), lambda x: x.squeeze(-2), ((1, 3, 1, 2), "any"))
case("unsqueeze_0", lambda x: x.unsqueeze(0), lambda x: np.expand_dims(x, 0), ((3, 4), "any"))
case("unsqueeze_1", lambda x: x.unsqueeze(1), lambda x: np.expand_dims(x, 1), ((3, 4), "any"))
case("unsqueeze_neg", lambda x: x.unsqueeze(-1), lambda x: np.expand_dims(x, -1), ((3, 4), "any"))
case("flatten_all", lambda x: x.flatten(), lambda x: x.reshape(-1), (R, "any"))
case("flatten_1", lambda x: x.flatten(1), lambda x: x.reshape(2, 12), (R, "any"))
case("flatten_01", lambda x: x.flatten(0, 1), lambda x: x.reshape(6, 4), (R, "any"))
case("flatten_kw_neg", lambda x: x.flatten(start_dim=-2), lambda x: x.reshape(2, 12), (R, "any"))
case("flatten_end_neg", lambda x: x.flatten(0, -2), lambda x: x.reshape(6, 4), (R, "any"))

# ----------------------------------------------------------------------- indexing, slicing
IDX = [
    ("int", 1),
    ("neg_int", -1),
    ("slice", slice(1, 3)),
    ("step", slice(None, None, 2)),
    ("reverse", slice(None, None, -1)),
    ("steps_2d", (slice(1, 5, 2), slice(None, None, -2))),
    ("scalar_elem", (2, 3)),
    ("column", (slice(None), 1)),
    ("newaxis", None),
    ("newaxis_mid_step", (slice(None), None, slice(1, 4, 2))),
    ("int_array_repeats", np.array([0, 2, 0, 3, 0])),
    ("int_array_2d", np.array([[0, 1], [1, 1]])),
    ("int_array_negative", np.array([-1, 0, -1])),
    ("pair_arrays_repeats", (np.array([0, 0, 1, 0]), np.array([2, 2, 3, 2]))),
    ("slice_and_array", (slice(1, None), np.array([0, 0, 2]))),
    ("bool_rows", np.array([True, False, True, True, False])),
    ("bool_mask", np.arange(20).reshape(5, 4) % 3 == 0),
    ("bool_cols_and_int", (2, np.array([True, True, False, True]))),
]
for tag, key in IDX:
    case(f"index_{tag}", lambda x, key=key: x[key], lambda x, key=key: x[key], ((5, 4), "any"))
_K3 = (slice(None), np.array([1, 1, 3]), None)
case("index_3d_mixed", lambda x: x[_K3], lambda x: x[_K3], ((3, 4, 2), "any"))

# ------------------------------------------------------------- concatenate, stack, split
case("concat_axis0", lambda a, b: minigrad.concatenate([a, b]),
     lambda a, b: np.concatenate([a, b]), ((2, 3), "any"), ((4, 3), "any"))
case("concat_axis1_three", lambda a, b, c: minigrad.concatenate([a, b, c], axis=1),
     lambda a, b, c: np.concatenate([a, b, c], axis=1),
     ((2, 3), "any"), ((2, 1), "any"), ((2, 2), "any"))
case("concat_axis_neg", lambda a, b: minigrad.concatenate((a, b), axis=-1),
     lambda a, b: np.concatenate((a, b), axis=-1), ((2, 2, 3), "any"), ((2, 2, 1), "any"))
case("concat_reused", lambda a: minigrad.concatenate([a, a * 2.0, a]),
     lambda a: np.concatenate([a, a * 2.0, a]), ((2, 3), "any"))
for ax in (0, 1, 2, -1):
    case(f"stack_axis{ax}", lambda a, b, c, ax=ax: minigrad.stack([a, b, c], axis=ax),
         lambda a, b, c, ax=ax: np.stack([a, b, c], axis=ax),
         ((2, 3), "any"), ((2, 3), "any"), ((2, 3), "any"))
case("stack_default", lambda a, b: minigrad.stack([a, b]), lambda a, b: np.stack([a, b]),
     ((3,), "any"), ((3,), "any"))


def _weighted_pieces(pieces, axis, lib):
    scaled = [p * float(i + 1) for i, p in enumerate(pieces)]
    return lib.concatenate(scaled[::-1], axis=axis)


for tag, spec, ax in [("sections", 3, 0), ("indices", [1, 4], 0), ("axis1", 2, 1),
                      ("one_index", [5], 0), ("indices_axis_neg", [1, 3], -1)]:
    case(f"split_{tag}",
         lambda x, spec=spec, ax=ax: _weighted_pieces(minigrad.split(x, spec, axis=ax), ax,
                                                      minigrad),
         lambda x, spec=spec, ax=ax: _weighted_pieces(np.split(x, spec, axis=ax), ax, np),
         ((6, 4), "any"))
case("split_one_piece_used", lambda x: minigrad.split(x, 3)[1], lambda x: np.split(x, 3)[1],
     ((6, 4), "any"))

# ---------------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ("1d@1d", (4,), (4,)),
    ("1d@2d", (4,), (4, 3)),
    ("2d@1d", (3, 4), (4,)),
    ("2d@2d", (3, 4), (4, 2)),
    ("batched@2d", (2, 3, 4), (4, 5)),
    ("2d@batched", (3, 4), (2, 4, 5)),
    ("batched@batched", (2, 3, 4), (2, 4, 5)),
    ("batched_bcast", (2, 1, 3, 4), (5, 4, 2)),
    ("1d@batched", (4,), (2, 4, 3)),
    ("batched@1d", (2, 3, 4), (4,)),
]
for tag, sa, sb in MATMUL_SHAPES:
    case(f"matmul_op_{tag}", lambda a, b: a @ b, np.matmul, (sa, "any"), (sb, "any"))
    case(f"matmul_method_{tag}", lambda a, b: a.matmul(b), np.matmul, (sa, "any"), (sb, "any"))
    case(f"matmul_func_{tag}", minigrad.matmul, np.matmul, (sa, "any"), (sb, "any"))

# ------------------------------------------------------------------------ small compositions
case("softmax", lambda x: (lambda e: e / e.sum(axis=-1, keepdims=True))(
        (x - x.max(axis=-1, keepdims=True)).exp()),
     lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(
        -1, keepdims=True),
     ((3, 4), "grid"))
case("normalize", lambda x: (x - x.mean(axis=0)) / (x.var(axis=0) + 1e-3).sqrt(),
     lambda x: (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), ((5, 3), "any"))
case("mlp", lambda x, w, b: (x @ w + b).tanh().sum(axis=1),
     lambda x, w, b: np.tanh(x @ w + b).sum(axis=1), ((4, 3), "any"), ((3, 2), "any"),
     ((2,), "any"))

CASE_IDS = [c.name for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case names"


def build(case_, rng, dtype=np.float64):
    arrays = [make_data(rng, shape, kind).astype(dtype) for shape, kind in case_.inputs]
    tensors = [minigrad.Tensor(a.copy(), requires_grad=True) for a in arrays]
    return arrays, tensors


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_forward_matches_numpy(case_, rng):
    arrays, tensors = build(case_, rng)
    out = case_.fn(*tensors)
    expected = np.asarray(case_.ref(*arrays))
    assert isinstance(out, minigrad.Tensor)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.requires_grad


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_gradcheck(case_, rng):
    _, tensors = build(case_, rng)
    assert minigrad.gradcheck(case_.fn, tensors) is True


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_gradient_matches_finite_differences_of_numpy_reference(case_, rng, numeric_grad):
    arrays, tensors = build(case_, rng)
    out = case_.fn(*tensors)
    upstream = rng.standard_normal(out.shape)  # a random vector-Jacobian product
    out.backward(upstream)
    expected = numeric_grad(lambda *arrs: np.sum(case_.ref(*arrs) * upstream), arrays)
    for t, a, g in zip(tensors, arrays, expected, strict=True):
        assert t.grad is not None
        assert t.grad.shape == a.shape
        np.testing.assert_allclose(t.grad, g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_float32_stays_float32_in_values_and_gradients(case_, rng):
    arrays, tensors = build(case_, rng, dtype=np.float32)
    assert all(t.dtype == np.float32 for t in tensors)
    # feed the op non-leaf copies whose hooks see the gradient exactly as the op's backward
    # produced it (before anything could cast it back for storage in a leaf)
    seen = []
    mids = [t * 1.0 for t in tensors]
    for m in mids:
        m.register_hook(lambda g: seen.append(np.asarray(g).dtype))
        m.retain_grad()
    out = case_.fn(*mids)
    assert out.dtype == np.float32
    assert out.data.dtype == np.float32
    expected = np.asarray(case_.ref(*[a.astype(np.float64) for a in arrays]))
    np.testing.assert_allclose(out.data, expected, rtol=2e-4, atol=2e-5)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert len(seen) == len(mids)
    assert all(d == np.float32 for d in seen), f"{case_.name} backward produced {seen}"
    for t in [*tensors, *mids]:
        assert t.grad is not None
        assert t.grad.dtype == np.float32, f"gradient of {case_.name} promoted to {t.grad.dtype}"
        assert t.grad.shape == t.shape


# ------------------------------------------------------------------ closed-form spot checks
@pytest.mark.parametrize(
    "key",
    [np.array([0, 2, 0, 3, 0]), np.array([[4, 4], [4, 1]]), np.array([-1, 4, -1, 0]),
     np.array([True, False, True, False, True]), slice(None, None, 2), (None, slice(4, 0, -3))],
    ids=["repeats", "2d_repeats", "negative_repeats", "bool", "step", "newaxis_neg_step"],
)
def test_index_gradient_is_scatter_add(key, rng):
    data = rng.standard_normal(5)
    x = minigrad.Tensor(data, requires_grad=True)
    out = x[key]
    w = rng.standard_normal(out.shape)
    (out * minigrad.Tensor(w)).sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, (np.arange(5)[key],), w)  # where each output element came from
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-12)


def test_repeated_index_accumulates_counts():
    x = minigrad.Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 3.0, 0.0, 1.0])


def test_max_min_ties_split_gradient_evenly():
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = minigrad.Tensor(data, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])

    x = minigrad.Tensor(data, requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])

    x = minigrad.Tensor(data, requires_grad=True)
    x.min(axis=0, keepdims=True).sum().backward()
    np.testing.assert_allclose(x.grad, [[1, 0, 0], [0, 1, 1]])

    x = minigrad.Tensor(-data, requires_grad=True)
    x.min(axis=(0, 1)).backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])


def test_relu_abs_clip_gradient_is_piecewise_constant():
    data = np.array([-2.0, -0.3, 0.4, 1.7])
    x = minigrad.Tensor(data, requires_grad=True)
    (x.relu() + x.abs() * 2.0 + x.clip(-0.5, 0.5) * 3.0).sum().backward()
    expected = (data > 0) * 1.0 + np.sign(data) * 2.0 + ((data > -0.5) & (data < 0.5)) * 3.0
    np.testing.assert_allclose(x.grad, expected)


def test_split_follows_numpy_semantics(rng):
    data = rng.standard_normal((6, 4))
    x = minigrad.Tensor(data, requires_grad=True)
    for spec, ax in [(3, 0), ([1, 4], 0), (2, 1), ([5], 0), ([2, 2], 1)]:
        pieces = minigrad.split(x, spec, axis=ax)
        ref = np.split(data, spec, axis=ax)
        assert len(pieces) == len(ref)
        for p, r in zip(pieces, ref, strict=True):
            assert isinstance(p, minigrad.Tensor)
            np.testing.assert_array_equal(p.data, r)


def test_unused_split_pieces_get_zero_gradient(rng):
    x = minigrad.Tensor(rng.standard_normal((6, 2)), requires_grad=True)
    minigrad.split(x, [2, 5])[1].sum().backward()
    expected = np.zeros((6, 2))
    expected[2:5] = 1.0
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_return_plain_boolean_arrays(op, rng):
    a_data = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    b_data = np.array([2.0, 2.0, 1.0])
    a = minigrad.Tensor(a_data, requires_grad=True)
    b = minigrad.Tensor(b_data)
    compare = {
        "<": lambda p, q: p < q, "<=": lambda p, q: p <= q, ">": lambda p, q: p > q,
        ">=": lambda p, q: p >= q, "==": lambda p, q: p == q, "!=": lambda p, q: p != q,
    }[op]
    for got, expected in [
        (compare(a, b), compare(a_data, b_data)),
        (compare(a, 2.0), compare(a_data, 2.0)),
        (compare(2.0, a), compare(2.0, a_data)),
    ]:
        assert type(got) is np.ndarray
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, expected)


def test_matmul_spellings_agree(rng):
    a = minigrad.Tensor(rng.standard_normal((2, 3, 4)))
    b = minigrad.Tensor(rng.standard_normal((4, 5)))
    expected = a.data @ b.data
    for got in (a @ b, a.matmul(b), minigrad.matmul(a, b)):
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)


def test_broadcast_gradient_is_summed_back_to_input_shape(rng):
    a = minigrad.Tensor(rng.standard_normal((3, 1)), requires_grad=True)
    b = minigrad.Tensor(rng.standard_normal((1, 4)), requires_grad=True)
    c = minigrad.Tensor(np.asarray(rng.standard_normal()), requires_grad=True)
    (a * b + c).sum().backward()
    np.testing.assert_allclose(a.grad, np.broadcast_to(b.data.sum(axis=1, keepdims=True), (3, 1)))
    np.testing.assert_allclose(b.grad, np.broadcast_to(a.data.sum(axis=0, keepdims=True), (1, 4)))
    assert c.grad.shape == ()
    np.testing.assert_allclose(c.grad, 3 * 4)  # one per element of the (3, 4) result


@pytest.mark.parametrize("small,big", [
    ((1, 4), (3, 4)), ((3, 1), (3, 5)), ((2, 1, 3), (2, 5, 3)), ((1,), (7,)), ((4,), (4,)),
    ((1, 3), (0, 3)), ((3,), (2, 3))])
def test_expand_is_a_read_only_broadcast_view(small, big, rng):
    from minigrad.ops import expand

    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(small).astype(dtype)
        view = expand(x, big)
        assert view.shape == big and view.dtype == dtype and not view.flags.writeable
        np.testing.assert_array_equal(view, np.broadcast_to(x, big))
    with pytest.raises(ValueError):
        expand(np.zeros((2, 3)), (4, 3))


def test_mean_is_one_node_with_gradient_one_over_n(rng):
    Tensor = minigrad.Tensor
    x = Tensor(rng.standard_normal((4, 5, 3)), requires_grad=True)
    m = x.mean(axis=(0, 2))
    assert m.op == "mean" and m.parents == (x,)
    assert minigrad.gradcheck(lambda t: t.mean(axis=(0, 2), keepdims=True), [x])
    m.backward(np.arange(5.0))
    np.testing.assert_allclose(x.grad, np.broadcast_to(np.arange(5.0)[None, :, None] / 12,
                                                       (4, 5, 3)), rtol=1e-15)
    x32 = Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x32.mean().backward()
    assert x32.mean().dtype == np.float32 and x32.grad.dtype == np.float32
    with np.errstate(invalid="ignore"):
        assert np.isnan(Tensor(np.zeros((0, 3))).mean().data)      # as numpy and torch


@pytest.mark.parametrize("b_shape", [(3,), (1, 3), (4, 1), ()])
def test_sub_of_a_broadcast_operand_gradient(b_shape, rng):
    """a - b with b broadcast: db = -sum of g over the broadcast axes (also as a graph)."""
    Tensor = minigrad.Tensor
    a = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(b_shape), requires_grad=True)
    assert minigrad.gradcheck(lambda a, b: a - b, [a, b])
    (gb,) = minigrad.grad(((a - b) ** 2).sum(), [b], create_graph=True)
    (ggb,) = minigrad.grad(gb.sum(), [b])             # d/db of sum(-2 (a - b)) = 2 * count
    np.testing.assert_allclose(ggb, np.full(b_shape, 2.0 * 12 / max(b.size, 1)), rtol=1e-12)


@pytest.mark.parametrize("b_shape", [(3,), (1, 3), (4, 1), ()])
def test_div_by_a_broadcast_operand_gradient(b_shape, rng):
    """a / b with b broadcast: db = -sum of g a / b^2 over the broadcast axes; and the second
    derivative through the same rule: d/db sum(db) = 2 sum(a) / b^3."""
    from minigrad.ops import sum_to

    Tensor = minigrad.Tensor
    a = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = Tensor(rng.uniform(0.5, 2.0, b_shape), requires_grad=True)
    assert minigrad.gradcheck(lambda a, b: a / b, [a, b])
    (gb,) = minigrad.grad((a / b).sum(), [b], create_graph=True)
    summed_a = sum_to(np.broadcast_to(a.data, (4, 3)) + 0 * b.data, b_shape)
    np.testing.assert_allclose(gb.data, -summed_a / b.data ** 2, rtol=1e-12)
    (ggb,) = minigrad.grad(gb.sum(), [b])
    np.testing.assert_allclose(ggb.data, 2 * summed_a / b.data ** 3, rtol=1e-12)
