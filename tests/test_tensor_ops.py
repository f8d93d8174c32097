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
case("where_same", lambda a, b: minigrad.where(minigrad.tensor(_COND), a, b),
     lambda a, b: np.where(_COND, a, b),
     ((3, 4), "any"), ((3, 4), "any"))
_COND_COL = np.array([[True], [False], [True]])
case("where_bcast", lambda a, b: minigrad.where(minigrad.tensor(_COND_COL), a, b),
     lambda a, b: np.where(_COND_COL, a, b), ((3, 4), "any"), ((4,), "any"))
case("where_from_comparison", lambda x: minigrad.where(x > 0, x, x * 0.1),
     lambda x: np.where(x > 0, x, x * 0.1), ((3, 4), "nonzero"))

# ------------------------------------------------------------------------------ reductions
R = (2, 3, 4)
AXES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]
for ax in AXES:
    for kd in (False, True):
        for op, np_op, kind in (("sum", np.sum, "any"), ("mean", np.mean, "any"),
                                ("amax", np.max, "grid"), ("amin", np.min, "grid")):
            case(f"{op}[dim={ax},keepdim={kd}]".replace(" ", ""),
                 lambda x, op=op, ax=ax, kd=kd: getattr(x, op)(dim=ax, keepdim=kd),
                 lambda x, f=np_op, ax=ax, kd=kd: f(x, axis=ax, keepdims=kd), (R, kind))
        # PyTorch's var is the unbiased estimate by default (numpy's ddof=1)
        case(f"var[dim={ax},keepdim={kd}]".replace(" ", ""),
             lambda x, ax=ax, kd=kd: x.var(dim=ax, keepdim=kd),
             lambda x, ax=ax, kd=kd: np.var(x, axis=ax, keepdims=kd, ddof=1), (R, "any"))
        case(f"var[dim={ax},keepdim={kd},correction=0]".replace(" ", ""),
             lambda x, ax=ax, kd=kd: x.var(dim=ax, keepdim=kd, correction=0),
             lambda x, ax=ax, kd=kd: np.var(x, axis=ax, keepdims=kd), (R, "any"))
for ax in (0, 1, 2, -1, -2):
    for kd in (False, True):
        for op, np_op in (("max", np.max), ("min", np.min)):
            # max(dim) / min(dim): a (values, indices) pair; no ties in "grid" data
            case(f"{op}[dim={ax},keepdim={kd}].values".replace(" ", ""),
                 lambda x, op=op, ax=ax, kd=kd: getattr(x, op)(dim=ax, keepdim=kd).values,
                 lambda x, f=np_op, ax=ax, kd=kd: f(x, axis=ax, keepdims=kd), (R, "grid"))
# numpy's spellings, accepted as aliases (axis=, keepdims=, ddof=)
case("sum[axis=(0,2),keepdims=True]", lambda x: x.sum(axis=(0, 2), keepdims=True),
     lambda x: np.sum(x, axis=(0, 2), keepdims=True), (R, "any"))
case("mean[axis=-1,keepdims=True]", lambda x: x.mean(axis=-1, keepdims=True),
     lambda x: np.mean(x, axis=-1, keepdims=True), (R, "any"))
case("var[axis=1,ddof=0]", lambda x: x.var(axis=1, ddof=0), lambda x: np.var(x, axis=1),
     (R, "any"))
case("var[dim=(0,2),unbiased=False]", lambda x: x.var(dim=(0, 2), unbiased=False),
     lambda x: np.var(x, axis=(0, 2)), (R, "any"))
case("var[dim=1,correction=2]", lambda x: x.var(1, correction=2),
     lambda x: np.var(x, axis=1, ddof=2), (R, "any"))
case("sum_default", lambda x: x.sum(), np.sum, (R, "any"))
case("mean_default", lambda x: x.mean(), np.mean, (R, "any"))
case("var_default", lambda x: x.var(), lambda x: np.var(x, ddof=1), (R, "any"))
case("max_default", lambda x: x.max(), np.max, (R, "grid"))
case("min_default", lambda x: x.min(), np.min, (R, "grid"))
case("sum_1d", lambda x: x.sum(dim=0), lambda x: np.sum(x, axis=0), ((5,), "any"))
case("sum_0d", lambda x: x.sum(), np.sum, ((), "any"))
case("mean_0d", lambda x: x.mean(), np.mean, ((), "any"))

# -------------------------------------------------------------------------- shape changes
case("reshape_ints", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), (R, "any"))
case("reshape_tuple", lambda x: x.reshape((6, 4)), lambda x: x.reshape((6, 4)), (R, "any"))
case("reshape_minus1", lambda x: x.reshape(2, -1), lambda x: x.reshape(2, -1), (R, "any"))
case("reshape_flat", lambda x: x.reshape(24), lambda x: x.reshape(24), (R, "any"))
case("reshape_to_0d", lambda x: x.reshape(()), lambda x: x.reshape(()), ((1, 1), "any"))
# transpose(d0, d1) swaps two dims (PyTorch); permute takes the whole order
case("transpose_02", lambda x: x.transpose(0, 2), lambda x: np.swapaxes(x, 0, 2), (R, "any"))
case("transpose_10", lambda x: x.transpose(1, 0), lambda x: np.swapaxes(x, 1, 0), (R, "any"))
case("transpose_neg", lambda x: x.transpose(-1, 1), lambda x: np.swapaxes(x, -1, 1), (R, "any"))
case("transpose_2d", lambda x: x.transpose(0, 1), lambda x: x.T, ((3, 4), "any"))
case("permute_reverse", lambda x: x.permute(2, 1, 0), lambda x: x.transpose(), (R, "any"))
case("permute_102", lambda x: x.permute(1, 0, 2), lambda x: x.transpose(1, 0, 2), (R, "any"))
case("permute_201", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), (R, "any"))
case("permute_120", lambda x: x.permute(1, 2, 0), lambda x: x.transpose(1, 2, 0), (R, "any"))
case("swapaxes_02", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), (R, "any"))
case("swapaxes_neg", lambda x: x.swapaxes(-1, 1), lambda x: x.swapaxes(-1, 1), (R, "any"))
case("T_2d", lambda x: x.T, lambda x: x.T, ((3, 4), "any"))
case("mT_3d", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), (R, "any"))
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
    # tensors as keys: int64 tensors index, bool tensors are masks (as PyTorch)
    ("int_tensor_repeats", minigrad.tensor([0, 2, 0, 3, 0])),
    ("int_tensor_2d", minigrad.tensor([[0, 1], [1, 1]])),
    ("bool_tensor_rows", minigrad.tensor([True, False, True, True, False])),
    ("bool_tensor_mask", minigrad.tensor(np.arange(20).reshape(5, 4) % 3 == 0)),
    ("pair_tensors", (minigrad.tensor([0, 0, 1, 0]), minigrad.tensor([2, 2, 3, 2]))),
]


def _np_key(key):
    """The same key with its Tensors as numpy arrays (for the numpy reference)."""
    if isinstance(key, tuple):
        return tuple(_np_key(k) for k in key)
    return np.asarray(key) if isinstance(key, minigrad.Tensor) else key


for tag, key in IDX:
    case(f"index_{tag}", lambda x, key=key: x[key], lambda x, key=key: x[_np_key(key)],
         ((5, 4), "any"))
_K3 = (slice(None), np.array([1, 1, 3]), None)
case("index_3d_mixed", lambda x: x[_K3], lambda x: x[_K3], ((3, 4, 2), "any"))

# ------------------------------------------------------------- concatenate, stack, split
case("cat_dim0", lambda a, b: minigrad.cat([a, b]),
     lambda a, b: np.concatenate([a, b]), ((2, 3), "any"), ((4, 3), "any"))
case("cat_dim1_three", lambda a, b, c: minigrad.cat([a, b, c], dim=1),
     lambda a, b, c: np.concatenate([a, b, c], axis=1),
     ((2, 3), "any"), ((2, 1), "any"), ((2, 2), "any"))
case("cat_dim_neg", lambda a, b: minigrad.cat((a, b), dim=-1),
     lambda a, b: np.concatenate((a, b), axis=-1), ((2, 2, 3), "any"), ((2, 2, 1), "any"))
case("concatenate_axis_neg", lambda a, b: minigrad.concatenate((a, b), axis=-1),
     lambda a, b: np.concatenate((a, b), axis=-1), ((2, 2, 3), "any"), ((2, 2, 1), "any"))
case("cat_reused", lambda a: minigrad.cat([a, a * 2.0, a]),
     lambda a: np.concatenate([a, a * 2.0, a]), ((2, 3), "any"))
for ax in (0, 1, 2, -1):
    case(f"stack_dim{ax}", lambda a, b, c, ax=ax: minigrad.stack([a, b, c], dim=ax),
         lambda a, b, c, ax=ax: np.stack([a, b, c], axis=ax),
         ((2, 3), "any"), ((2, 3), "any"), ((2, 3), "any"))
case("stack_default", lambda a, b: minigrad.stack([a, b]), lambda a, b: np.stack([a, b]),
     ((3,), "any"), ((3,), "any"))


def np_split_like_torch(x, split_size_or_sections, dim=0):
    """numpy reference of torch.split: pieces of one size (the last may be shorter), or
    pieces of the listed sizes."""
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        cuts = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        cuts = list(np.cumsum(split_size_or_sections)[:-1])
    return np.split(x, cuts, axis=dim)


def _weighted_pieces(pieces, dim, cat):
    scaled = [p * float(i + 1) for i, p in enumerate(pieces)]
    return cat(scaled[::-1], dim)


SPLITS = [("size2", 2, 0), ("size4_shorter_last", 4, 0), ("sizes", [1, 3, 2], 0),
          ("size_dim1", 2, 1), ("sizes_5_1", [5, 1], 0), ("sizes_dim_neg", [1, 2, 1], -1),
          ("one_piece", 6, 0)]
for tag, spec, d in SPLITS:
    case(f"split_{tag}",
         lambda x, spec=spec, d=d: _weighted_pieces(minigrad.split(x, spec, dim=d), d,
                                                    minigrad.cat),
         lambda x, spec=spec, d=d: _weighted_pieces(np_split_like_torch(x, spec, d), d,
                                                    lambda ps, d: np.concatenate(ps, axis=d)),
         ((6, 4), "any"))
case("split_method_one_piece_used", lambda x: x.split(2)[1],
     lambda x: np_split_like_torch(x, 2)[1], ((6, 4), "any"))
# chunk: numpy's "equal sections" meaning of split, under PyTorch's name
case("chunk_3", lambda x: _weighted_pieces(minigrad.chunk(x, 3), 0, minigrad.cat),
     lambda x: _weighted_pieces(np.split(x, 3), 0, lambda ps, d: np.concatenate(ps, axis=d)),
     ((6, 4), "any"))
case("chunk_one_piece_used", lambda x: x.chunk(2, dim=1)[1],
     lambda x: np.split(x, 2, axis=1)[1], ((6, 4), "any"))

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
case("softmax", lambda x: (lambda e: e / e.sum(dim=-1, keepdim=True))(
        (x - x.amax(dim=-1, keepdim=True)).exp()),
     lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(
        -1, keepdims=True),
     ((3, 4), "grid"))
case("normalize", lambda x: (x - x.mean(dim=0)) / (x.var(dim=0, unbiased=False) + 1e-3).sqrt(),
     lambda x: (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), ((5, 3), "any"))
case("mlp", lambda x, w, b: (x @ w + b).tanh().sum(dim=1),
     lambda x, w, b: np.tanh(x @ w + b).sum(axis=1), ((4, 3), "any"), ((3, 2), "any"),
     ((2,), "any"))

CASE_IDS = [c.name for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case names"


def build(case_, rng, dtype=np.float64):
    arrays = [make_data(rng, shape, kind).astype(dtype) for shape, kind in case_.inputs]
    tensors = [minigrad.tensor(a, requires_grad=True) for a in arrays]   # tensor() copies
    return arrays, tensors


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_forward_matches_numpy(case_, rng):
    arrays, tensors = build(case_, rng)
    out = case_.fn(*tensors)
    expected = np.asarray(case_.ref(*arrays))
    assert isinstance(out, minigrad.Tensor)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
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
    out.backward(minigrad.tensor(upstream))
    expected = numeric_grad(lambda *arrs: np.sum(case_.ref(*arrs) * upstream), arrays)
    for t, a, g in zip(tensors, arrays, expected, strict=True):
        assert isinstance(t.grad, minigrad.Tensor)
        assert t.grad.shape == a.shape
        np.testing.assert_allclose(np.asarray(t.grad), g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case_", CASES, ids=CASE_IDS)
def test_float32_stays_float32_in_values_and_gradients(case_, rng):
    arrays, tensors = build(case_, rng, dtype=np.float32)
    assert all(t.dtype == minigrad.float32 for t in tensors)
    # feed the op non-leaf copies whose hooks see the gradient exactly as the op's backward
    # produced it (before anything could cast it back for storage in a leaf)
    seen = []
    mids = [t * 1.0 for t in tensors]
    for m in mids:
        m.register_hook(lambda g: seen.append(g.dtype))
        m.retain_grad()
    out = case_.fn(*mids)
    assert out.dtype == minigrad.float32
    assert out.detach().numpy().dtype == np.float32
    expected = np.asarray(case_.ref(*[a.astype(np.float64) for a in arrays]))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=2e-4, atol=2e-5)
    out.backward(minigrad.ones_like(out))
    assert len(seen) == len(mids)
    assert all(d == minigrad.float32 for d in seen), f"{case_.name} backward produced {seen}"
    for t in [*tensors, *mids]:
        assert t.grad is not None
        assert t.grad.dtype == minigrad.float32, \
            f"gradient of {case_.name} promoted to {t.grad.dtype}"
        assert t.grad.shape == t.shape


# ------------------------------------------------------------------ closed-form spot checks
@pytest.mark.parametrize(
    "key",
    [np.array([0, 2, 0, 3, 0]), np.array([[4, 4], [4, 1]]), np.array([-1, 4, -1, 0]),
     np.array([True, False, True, False, True]), slice(None, None, 2), (None, slice(4, 0, -3)),
     minigrad.tensor([0, 2, 0, 3, 0]), minigrad.tensor([[4, 4], [4, 1]]),
     minigrad.tensor([True, False, True, False, True])],
    ids=["repeats", "2d_repeats", "negative_repeats", "bool", "step", "newaxis_neg_step",
         "tensor_repeats", "tensor_2d_repeats", "bool_tensor"],
)
def test_index_gradient_is_scatter_add(key, rng):
    data = rng.standard_normal(5)
    x = minigrad.tensor(data, requires_grad=True)
    out = x[key]
    w = rng.standard_normal(out.shape)
    (out * minigrad.tensor(w)).sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, (np.arange(5)[_np_key(key)],), w)  # where each output element came from
    np.testing.assert_allclose(np.asarray(x.grad), expected, rtol=1e-12, atol=1e-12)


def test_repeated_index_accumulates_counts():
    x = minigrad.zeros(4, dtype=minigrad.float64, requires_grad=True)
    x[minigrad.tensor([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 3.0, 0.0, 1.0])


def test_max_min_ties_split_gradient_evenly():
    """max()/amax/amin share the gradient among ties; max(dim)/min(dim) give it all to the
    index they return (the first extreme), as PyTorch."""
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = minigrad.tensor(data, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[0, 0.5, 0.5], [0, 0, 0]])

    x = minigrad.tensor(data, requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])

    x = minigrad.tensor(data, requires_grad=True)
    x.amin(dim=0, keepdim=True).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[1, 0, 0], [0, 1, 1]])

    x = minigrad.tensor(-data, requires_grad=True)
    x.amin(dim=(0, 1)).backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[0, 0.5, 0.5], [0, 0, 0]])

    x = minigrad.tensor(data, requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(np.asarray(indices), [1, 0])
    assert indices.dtype == minigrad.int64
    values.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[0, 1, 0], [1, 0, 0]])

    x = minigrad.tensor(data, requires_grad=True)
    out = x.min(dim=0, keepdim=True)
    np.testing.assert_array_equal(np.asarray(out.indices), [[0, 1, 1]])
    out.values.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[1, 0, 0], [0, 1, 1]])


def test_relu_abs_clip_gradient_is_piecewise_constant():
    data = np.array([-2.0, -0.3, 0.4, 1.7])
    x = minigrad.tensor(data, requires_grad=True)
    (x.relu() + x.abs() * 2.0 + x.clip(-0.5, 0.5) * 3.0 + x.clamp(-0.5, 0.5)).sum().backward()
    expected = (data > 0) * 1.0 + np.sign(data) * 2.0 + ((data > -0.5) & (data < 0.5)) * 4.0
    np.testing.assert_allclose(np.asarray(x.grad), expected)


def test_split_follows_pytorch_semantics(rng):
    """split(x, n) cuts pieces of n (the last may be shorter); split(x, [sizes]) cuts pieces
    of those sizes; the sizes must add up."""
    data = rng.standard_normal((6, 4))
    x = minigrad.tensor(data, requires_grad=True)
    for spec, d in [(2, 0), (4, 0), ([1, 3, 2], 0), (2, 1), ([5, 1], 0), ([2, 2], 1), (6, 0),
                    (10, 0), (3, -1)]:
        for pieces in (minigrad.split(x, spec, dim=d), x.split(spec, d)):
            ref = np_split_like_torch(data, spec, d)
            assert isinstance(pieces, tuple)
            assert len(pieces) == len(ref)
            for p, r in zip(pieces, ref, strict=True):
                assert isinstance(p, minigrad.Tensor)
                np.testing.assert_array_equal(p.detach().numpy(), r)
    with pytest.raises(RuntimeError, match="sum"):
        minigrad.split(x, [1, 2])


def test_unused_split_pieces_get_zero_gradient(rng):
    x = minigrad.tensor(rng.standard_normal((6, 2)), requires_grad=True)
    minigrad.split(x, [2, 3, 1])[1].sum().backward()
    expected = np.zeros((6, 2))
    expected[2:5] = 1.0
    np.testing.assert_array_equal(np.asarray(x.grad), expected)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_return_bool_tensors(op, rng):
    a_data = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    b_data = np.array([2.0, 2.0, 1.0])
    a = minigrad.tensor(a_data, requires_grad=True)
    b = minigrad.tensor(b_data)
    compare = {
        "<": lambda p, q: p < q, "<=": lambda p, q: p <= q, ">": lambda p, q: p > q,
        ">=": lambda p, q: p >= q, "==": lambda p, q: p == q, "!=": lambda p, q: p != q,
    }[op]
    for got, expected in [
        (compare(a, b), compare(a_data, b_data)),
        (compare(a, 2.0), compare(a_data, 2.0)),
        (compare(2.0, a), compare(2.0, a_data)),
    ]:
        assert type(got) is minigrad.Tensor
        assert got.dtype == minigrad.bool
        assert not got.requires_grad and got.grad_fn is None
        np.testing.assert_array_equal(got.numpy(), expected)


def test_matmul_spellings_agree(rng):
    a = minigrad.tensor(rng.standard_normal((2, 3, 4)))
    b = minigrad.tensor(rng.standard_normal((4, 5)))
    expected = a.numpy() @ b.numpy()
    for got in (a @ b, a.matmul(b), minigrad.matmul(a, b)):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_broadcast_gradient_is_summed_back_to_input_shape(rng):
    a = minigrad.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal((1, 4)), requires_grad=True)
    c = minigrad.tensor(rng.standard_normal(), requires_grad=True)
    (a * b + c).sum().backward()
    a_np, b_np = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(np.asarray(a.grad),
                               np.broadcast_to(b_np.sum(axis=1, keepdims=True), (3, 1)))
    np.testing.assert_allclose(np.asarray(b.grad),
                               np.broadcast_to(a_np.sum(axis=0, keepdims=True), (1, 4)))
    assert c.grad.shape == ()
    np.testing.assert_allclose(np.asarray(c.grad), 3 * 4)  # one per element of the (3, 4) result


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
    x = minigrad.tensor(rng.standard_normal((4, 5, 3)), requires_grad=True)
    m = x.mean(dim=(0, 2))
    assert m.op == "mean" and m.parents == (x,)
    assert minigrad.gradcheck(lambda t: t.mean(dim=(0, 2), keepdim=True), [x])
    m.backward(minigrad.tensor(np.arange(5.0)))
    np.testing.assert_allclose(np.asarray(x.grad),
                               np.broadcast_to(np.arange(5.0)[None, :, None] / 12, (4, 5, 3)),
                               rtol=1e-15)
    x32 = minigrad.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x32.mean().backward()
    assert x32.mean().dtype == minigrad.float32 and x32.grad.dtype == minigrad.float32
    with np.errstate(invalid="ignore"):
        assert minigrad.zeros(0, 3).mean().isnan().item()      # as numpy and torch


@pytest.mark.parametrize("b_shape", [(3,), (1, 3), (4, 1), ()])
def test_sub_of_a_broadcast_operand_gradient(b_shape, rng):
    """a - b with b broadcast: db = -sum of g over the broadcast axes (also as a graph)."""
    a = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal(b_shape), requires_grad=True)
    assert minigrad.gradcheck(lambda a, b: a - b, [a, b])
    (gb,) = minigrad.grad(((a - b) ** 2).sum(), [b], create_graph=True)
    (ggb,) = minigrad.grad(gb.sum(), [b])             # d/db of sum(-2 (a - b)) = 2 * count
    np.testing.assert_allclose(np.asarray(ggb), np.full(b_shape, 2.0 * 12 / max(b.numel(), 1)),
                               rtol=1e-12)


@pytest.mark.parametrize("b_shape", [(3,), (1, 3), (4, 1), ()])
def test_div_by_a_broadcast_operand_gradient(b_shape, rng):
    """a / b with b broadcast: db = -sum of g a / b^2 over the broadcast axes; and the second
    derivative through the same rule: d/db sum(db) = 2 sum(a) / b^3."""
    from minigrad.ops import sum_to

    a = minigrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = minigrad.tensor(rng.uniform(0.5, 2.0, b_shape), requires_grad=True)
    assert minigrad.gradcheck(lambda a, b: a / b, [a, b])
    (gb,) = minigrad.grad((a / b).sum(), [b], create_graph=True)
    a_np, b_np = a.detach().numpy(), b.detach().numpy()
    summed_a = sum_to(np.broadcast_to(a_np, (4, 3)) + 0 * b_np, b_shape)
    np.testing.assert_allclose(gb.detach().numpy(), -summed_a / b_np ** 2, rtol=1e-12)
    (ggb,) = minigrad.grad(gb.sum(), [b])
    np.testing.assert_allclose(ggb.numpy(), 2 * summed_a / b_np ** 3, rtol=1e-12)
