"""minigrad.nn.functional against torch==2.13.0 (the modules are in test_nn_modules_parity.py):
every nn function of issue 11 run twice, once with `lib = torch` and once with `lib = minigrad`
(only the import differs), and compared: values, dtypes, shapes, gradients of inputs
(float64, to 1e-12), reductions, and the exception class for bad input; plus
minigrad.gradcheck on each new composite.
"""

import warnings

import numpy as np
import pytest
from _nn_parity import (  # noqa: F401  (shared with the other nn parity file; skips without torch)
    ATOL,
    LIBS,
    RTOL,
    _dtype,
    _np,
    _torch_float64,
    check_parity,
    grads_of,
    same,
    same_error,
    torch,
)

import minigrad


def gradcheck(fn, *arrays):
    ins = [minigrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return minigrad.gradcheck(fn, ins)


R = np.random.default_rng(11)
X = R.standard_normal((4, 5)) * 3
# exact corners and saturated values, where the formulas have their edge cases
EDGES = np.array([[-1e3, -50.0, -6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 50.0, 1e3, 0.5]])


# ---- activations --------------------------------------------------------------------------

ACTIVATIONS = {
    "silu": lambda F, x: F.silu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu_default": lambda F, x: F.leaky_relu(x),
    "elu": lambda F, x: F.elu(x, 0.5),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 2.0),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, beta=2.0, threshold=5.0),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "hardtanh": lambda F, x: F.hardtanh(x),
    "hardtanh_range": lambda F, x: F.hardtanh(x, -3.0, 6.0),
    "relu6": lambda F, x: F.relu6(x),
    "threshold": lambda F, x: F.threshold(x, 1.0, -5.0),
    "mish": lambda F, x: F.mish(x),
    "softsign": lambda F, x: F.softsign(x),
    "tanhshrink": lambda F, x: F.tanhshrink(x),
    "relu": lambda F, x: F.relu(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "tanh": lambda F, x: F.tanh(x),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients(name):
    f = ACTIVATIONS[name]
    check_parity(lambda lib, x: f(lib.nn.functional, x), [X])
    # corners (0, +-1, 3, 6) and saturation (+-50, +-1000): finite, and torch's gradients
    check_parity(lambda lib, x: f(lib.nn.functional, x), [EDGES])


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"relu", "sigmoid", "tanh"}))
def test_activation_gradcheck(name):
    f = ACTIVATIONS[name]
    away = X + 0.01 * np.sign(X)            # no kink within eps
    assert gradcheck(lambda x: f(minigrad.nn.functional, x), away)


def test_activations_keep_float32():
    x32 = X.astype(np.float32)
    for name, f in ACTIVATIONS.items():
        theirs = f(torch.nn.functional, torch.tensor(x32))
        ours = f(minigrad.nn.functional, minigrad.tensor(x32))
        same(theirs, ours, rtol=2e-6, atol=1e-6, what=name)


@pytest.mark.parametrize("name,call", [
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.1, inplace=True)),
    ("elu", lambda F, x: F.elu(x, 1.0, inplace=True)),
    ("silu", lambda F, x: F.silu(x, inplace=True)),
    ("hardtanh", lambda F, x: F.hardtanh(x, inplace=True)),
    ("relu", lambda F, x: F.relu(x, inplace=True)),
])
def test_inplace_activations_overwrite_a_non_leaf(name, call):
    def fn(lib, a):
        x = a * 1.0
        y = call(lib.nn.functional, x)
        assert y is x
        return x * 2.0
    check_parity(fn, [X])
    # a leaf that requires grad is refused (RuntimeError in both)
    same_error(lambda lib: call(lib.nn.functional, lib.tensor(X, requires_grad=True)))


def test_glu_and_prelu():
    x = R.standard_normal((3, 4, 2))
    for dim in (1, -1, 2):
        check_parity(lambda lib, a, d=dim: lib.nn.functional.glu(a, d), [x])
    assert gradcheck(lambda a: minigrad.nn.functional.glu(a, 1), x)
    same_error(lambda lib: lib.nn.functional.glu(lib.tensor(x), 0))       # odd size
    same_error(lambda lib: lib.nn.functional.glu(lib.tensor(1.0)))
    w3, w1 = np.array([0.1, -0.3, 2.0, 0.25]), np.array([0.25])
    check_parity(lambda lib, a, w: lib.nn.functional.prelu(a, w), [x, w3])
    check_parity(lambda lib, a, w: lib.nn.functional.prelu(a, w), [x, w1])
    check_parity(lambda lib, a, w: lib.nn.functional.prelu(a, w), [x[0, 0], w1])
    same_error(lambda lib: lib.nn.functional.prelu(lib.tensor(x[0, 0]), lib.tensor(w3[:2])))
    same_error(lambda lib: lib.nn.functional.prelu(lib.tensor(x), lib.tensor(w3[:3])))
    assert gradcheck(lambda a, w: minigrad.nn.functional.prelu(a, w), x + 0.01 * np.sign(x), w3)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(fn, dim):
    x = R.standard_normal((3, 4, 5)) * 4
    check_parity(lambda lib, a: getattr(lib.nn.functional, fn)(a, dim=dim), [x])
    big = np.array([[1e4, 0.0, -1e4], [1e3, 1e3, 1e3]])
    check_parity(lambda lib, a: getattr(lib.nn.functional, fn)(a, dim=1), [big])


def test_hardtanh_bad_range():
    same_error(lambda lib: lib.nn.functional.hardtanh(lib.tensor(X), 2.0, 1.0))


# ---- losses -------------------------------------------------------------------------------

REDUCTIONS = ["mean", "sum", "none"]
P = 1 / (1 + np.exp(-R.standard_normal((4, 3)) * 2))          # probabilities in (0, 1)
T01 = R.random((4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [
    ("l1_loss", {}), ("mse_loss", {}), ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}), ("huber_loss", {"delta": 0.4}), ("huber_loss", {"delta": 3.0}),
])
def test_regression_losses(name, kw, reduction):
    y = X + R.standard_normal(X.shape)
    y[0, :2] = X[0, :2]                              # d = 0 exactly
    y[1, 0], y[1, 1] = X[1, 0] + 1.0, X[1, 1] - 0.5     # |d| at beta / delta
    check_parity(lambda lib, a, b: getattr(lib.nn.functional, name)(a, b, reduction=reduction,
                                                                    **kw), [X, y])
    assert gradcheck(lambda a, b: getattr(minigrad.nn.functional, name)(
        a, b, reduction=reduction, **kw), X, X + R.standard_normal(X.shape))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
def test_weighted_regression_losses(name, reduction):
    y, w = R.standard_normal(X.shape), R.random(X.shape) + 0.1
    check_parity(lambda lib, a, b, c: getattr(lib.nn.functional, name)(
        a, b, reduction=reduction, weight=c), [X, y, w])
    same_error(lambda lib: getattr(lib.nn.functional, name)(
        lib.tensor(X), lib.tensor(y), weight=lib.tensor(w[0])))
    same_error(lambda lib: getattr(lib.nn.functional, name)(
        lib.tensor(X), lib.tensor(y), reduction="bad", weight=lib.tensor(w)))


def test_regression_broadcast_warns_and_bad_arguments():
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        def fn(lib, a, b, name=name):
            with pytest.warns(UserWarning, match="target size"):
                return getattr(lib.nn.functional, name)(a, b)
        check_parity(fn, [X[:, :1], X[0]])
        same_error(lambda lib, n=name: getattr(lib.nn.functional, n)(
            lib.tensor(X), lib.tensor(X), reduction="avg"))
    same_error(lambda lib: lib.nn.functional.smooth_l1_loss(lib.tensor(X), lib.tensor(X),
                                                            beta=-1.0))
    same_error(lambda lib: lib.nn.functional.huber_loss(lib.tensor(X), lib.tensor(X),
                                                        delta=0.0))


def test_legacy_size_average_and_reduce():
    y = R.standard_normal(X.shape)
    for kw in ({"size_average": False}, {"reduce": False}, {"size_average": True}):
        for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "binary_cross_entropy"):
            def fn(lib, a, b, n=name, k=kw):
                with pytest.warns(UserWarning, match="size_average and reduce args will be"):
                    return getattr(lib.nn.functional, n)(a, b, **k)
            check_parity(fn, [X, y] if name != "binary_cross_entropy" else [P, T01])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    check_parity(lambda lib, p, t: lib.nn.functional.binary_cross_entropy(
        p, t, reduction=reduction), [P, T01])
    w = R.random(3) + 0.5                                   # broadcast over the batch
    check_parity(lambda lib, p, t, c: lib.nn.functional.binary_cross_entropy(
        p, t, weight=c, reduction=reduction), [P, T01, w], [True, True, False])
    assert gradcheck(lambda p, t: minigrad.nn.functional.binary_cross_entropy(
        p, t, reduction=reduction), P, T01)


def test_binary_cross_entropy_at_saturated_probabilities():
    # probabilities of exactly 0 and 1: the logs are clamped at -100 and the loss is finite
    # and PyTorch's
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5, 1e-6, 1 - 1e-6])
    t = np.array([0.0, 1.0, 0.3, 0.9, 0.0, 0.5, 0.2, 0.7])
    check_parity(lambda lib, a, b: lib.nn.functional.binary_cross_entropy(
        a, b, reduction="none"), [p, t], [False, False])
    # the gradients are the derivatives of the clamped expression: the same as PyTorch's
    # where x (1 - x) >= 1e-12, and finite everywhere (PyTorch's hand-written backward
    # divides by max(x (1 - x), 1e-12) for the input, and uses unclamped logs, +-inf, for
    # the target)
    check_parity(lambda lib, a, b: lib.nn.functional.binary_cross_entropy(a, b),
                 [p[5:], t[5:]])
    x, y = minigrad.tensor(p, requires_grad=True), minigrad.tensor(t, requires_grad=True)
    minigrad.nn.functional.binary_cross_entropy(x, y).backward()
    assert np.isfinite(_np(x.grad)).all() and np.isfinite(_np(y.grad)).all()


def test_binary_cross_entropy_errors():
    same_error(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([1.2, 0.5]), lib.tensor([0.0, 1.0])))
    same_error(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.2, 0.5]), lib.tensor([2.0, 1.0])))
    same_error(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([float("nan"), 0.5]), lib.tensor([0.0, 1.0])))
    same_error(lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.2, 0.5]), lib.tensor([[0.0], [1.0]])))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    logits = np.concatenate([X[:, :3], [[80.0, -80.0, 0.0]]])
    t = np.concatenate([T01, [[1.0, 0.0, 0.5]]])
    check_parity(lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b, reduction=reduction), [logits, t])
    pw, w = R.random(3) + 0.5, R.random(3) + 0.5
    check_parity(lambda lib, a, b, c, d: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b, weight=d, pos_weight=c, reduction=reduction), [logits, t, pw, w],
        [True, True, False, False])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    logq = np.log(np.abs(R.standard_normal((4, 5))) + 0.1)
    p = np.abs(R.standard_normal((4, 5)))
    p[0, :2] = 0.0                                       # x log x = 0 at 0
    target = np.log(p + 0.05) if log_target else p

    def fn(lib, a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target)
    check_parity(fn, [logq, target], [True, False])
    positive = np.log(p + 0.05) if log_target else p + 0.05     # target gradient too
    check_parity(fn, [logq, positive])
    assert gradcheck(lambda a, b: fn(minigrad, a, b), logq, positive)


def test_kl_div_warns_on_mean_and_rejects_bad_reduction():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="batchmean"):
            lib.nn.functional.kl_div(lib.tensor(X), lib.tensor(np.abs(X)))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.nn.functional.kl_div(lib.tensor(X), lib.tensor(np.abs(X)), reduction="sum")
    same_error(lambda lib: lib.nn.functional.kl_div(lib.tensor(X), lib.tensor(X),
                                                    reduction="avg"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_and_cross_entropy(reduction):
    logits = R.standard_normal((6, 4)) * 2
    target = np.array([0, 3, 1, 1, 2, -100])
    w = R.random(4) + 0.5
    for name in ("nll_loss", "cross_entropy"):
        check_parity(lambda lib, a, t, n=name: getattr(lib.nn.functional, n)(
            a, t, reduction=reduction), [logits, target])
        check_parity(lambda lib, a, t, c, n=name: getattr(lib.nn.functional, n)(
            a, t, weight=c, reduction=reduction), [logits, target, w], [True, False, False])
    check_parity(lambda lib, a, t: lib.nn.functional.cross_entropy(
        a, t, label_smoothing=0.2, reduction=reduction), [logits, target])


# ---- one_hot, embedding ---------------------------------------------------------------------

def test_one_hot():
    for a, n in [([0, 2, 1], -1), ([0, 2, 1], 5), ([[0, 2], [1, 1]], -1), (2, 3), ([], 3)]:
        theirs = torch.nn.functional.one_hot(torch.tensor(a, dtype=torch.int64), n)
        ours = minigrad.nn.functional.one_hot(minigrad.tensor(np.array(a, dtype=np.int64)), n)
        same(theirs, ours)
    for a, n in [([0, 3], 3), ([-1, 0], -1), ([], -1), ([0, 1], 0)]:
        same_error(lambda lib, a=a, n=n: lib.nn.functional.one_hot(
            lib.tensor(np.array(a, dtype=np.int64)), n))
    same_error(lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0]), 2))
    same_error(lambda lib: lib.nn.functional.one_hot(
        lib.tensor(np.array([0, 1], dtype=np.int32)), 2))


W = R.standard_normal((7, 3))
IDX = np.array([[0, 2, 2, 6], [1, 0, 2, 4]])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding(kw):
    check_parity(lambda lib, i, w: lib.nn.functional.embedding(i, w, **kw), [IDX, W])
    check_parity(lambda lib, i, w: lib.nn.functional.embedding(i, w, **kw), [IDX[0, 1], W])
    if not kw:      # padding_idx and scale_grad_by_freq change the gradient on purpose
        assert gradcheck(lambda w: minigrad.nn.functional.embedding(minigrad.tensor(IDX), w), W)


def test_embedding_max_norm_renormalises_the_rows_read_in_place():
    def fn(lib, i, w):
        w2 = w * 1.0                              # a non-leaf: renormalised in place
        out = lib.nn.functional.embedding(i, w2, max_norm=1.0, norm_type=1.0)
        return lib.cat([out.reshape(-1), w2.detach().reshape(-1)])
    check_parity(fn, [IDX, W * 3])


def test_embedding_errors():
    w = torch.tensor(W), minigrad.tensor(W)
    for idx in ([0, 7], [-1], [[0.5]]):
        same_error(lambda lib, idx=idx: lib.nn.functional.embedding(
            lib.tensor(idx), w[lib is minigrad]))
    same_error(lambda lib: lib.nn.functional.embedding(lib.tensor([1]), w[lib is minigrad],
                                                       padding_idx=7))
    same_error(lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.tensor(W[0])))
    int32 = np.array([1, 3], dtype=np.int32)
    check_parity(lambda lib, i, ww: lib.nn.functional.embedding(i, ww), [int32, W])


# ---- pad, normalize ---------------------------------------------------------------------------

X3 = R.standard_normal((2, 3, 4))
X4 = R.standard_normal((2, 2, 3, 4))


@pytest.mark.parametrize("x,pad,mode,value", [
    (X3, (1, 2), "constant", None), (X3, (1, 2, 0, 1, 2, 0), "constant", 1.5),
    (X3, (-1, 2), "constant", None), (X3, (0, 0, -1, -1), "constant", None),
    (X3, (), "constant", None), (X4, (1, 1, 2, 0, 0, 0, 1, 1), "constant", -2.0),
    (X3, (2, 3), "reflect", None), (X3, (-1, 2), "reflect", None),
    (X4, (1, 3, 2, 0), "reflect", None), (X3[0], (3, 1), "reflect", None),
    (X3, (5, 1), "replicate", None), (X4, (2, 0, 1, 3), "replicate", None),
    (X4[None], (1, 1, 1, 1, 1, 1), "replicate", None), (X3, (4, 3), "circular", None),
    (X4, (2, 1, 3, 0), "circular", None), (X3, (-1, 1), "circular", None),
    (X3, (1, 1), "reflect", 0.0),
])
def test_pad(x, pad, mode, value):
    check_parity(lambda lib, a: lib.nn.functional.pad(a, pad, mode, value), [x])
    if pad:
        assert gradcheck(lambda a: minigrad.nn.functional.pad(a, pad, mode, value), x)


def test_pad_of_integers_and_errors():
    ints = np.arange(6).reshape(2, 3)
    check_parity(lambda lib, a: lib.nn.functional.pad(a, (1, 1), value=2.7), [ints])
    for x, pad, mode, value in [
        (X3, (1,), "constant", None), (X3, (1,) * 8, "constant", None),
        (X3, (-3, -2), "constant", None), (X3, (4, 0), "reflect", None),
        (X3, (5, 0), "circular", None), (X3, (1, 1), "reflect", 2.0),
        (X3, (1, 1), "bogus", None), (X3[0, 0], (1, 1), "reflect", None),
        (X4, (1, 1), "replicate", None), (X3, (1,) * 6, "reflect", None),
        (np.ones((1, 3, 0)), (1, 1), "replicate", None), (X3, (1.5, 1), "constant", None),
    ]:
        same_error(lambda lib, x=x, p=pad, m=mode, v=value: lib.nn.functional.pad(
            lib.tensor(x), p, m, v))


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize(p, dim):
    x = R.standard_normal((3, 4))
    check_parity(lambda lib, a: lib.nn.functional.normalize(a, p, dim), [x])
    zero_row = x.copy()
    zero_row[1] = 0.0
    if p == 2.0:                                      # eps applies: the gradient still agrees
        check_parity(lambda lib, a: lib.nn.functional.normalize(a, p, dim), [zero_row])
    if np.isfinite(p):
        assert gradcheck(lambda a: minigrad.nn.functional.normalize(a, p, dim), x)


@pytest.mark.parametrize("shapes,dim", [(((3, 4), (3, 4)), 1), (((3, 4), (1, 4)), 0),
                                        (((2, 3, 4), (3, 4)), -1)])
def test_cosine_similarity_and_pairwise_distance(shapes, dim):
    a, b = R.standard_normal(shapes[0]), R.standard_normal(shapes[1])
    check_parity(lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y, dim), [a, b])
    check_parity(lambda lib, x, y: lib.nn.CosineSimilarity(dim)(x, y), [a, b])
    for p, keepdim in ((2.0, False), (1.0, True), (3.0, False)):
        check_parity(lambda lib, x, y, p=p, k=keepdim: lib.nn.functional.pairwise_distance(
            x, y, p, keepdim=k), [a, b])
        check_parity(lambda lib, x, y, p=p, k=keepdim: lib.nn.PairwiseDistance(p, keepdim=k)(
            x, y), [a, b])
    assert gradcheck(lambda x, y: minigrad.nn.functional.cosine_similarity(x, y, dim), a, b)
    assert gradcheck(lambda x, y: minigrad.nn.functional.pairwise_distance(x, y), a, b)


Q, K, V = R.standard_normal((2, 4, 5)), R.standard_normal((2, 6, 5)), R.standard_normal((2, 6, 3))


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"},
                                {"mask": "float"}])
def test_scaled_dot_product_attention(kw):
    kw = dict(kw)
    masks = {"bool": np.arange(24).reshape(4, 6) % 5 != 1, "float": R.standard_normal((4, 6))}
    arrays = [Q, K, V]
    if "mask" in kw:
        arrays.append(masks[kw.pop("mask")])

    def fn(lib, q, k, v, *mask):
        return lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[0] if mask else None, **kw)
    check_parity(fn, arrays, [True, True, True, False][:len(arrays)])
    assert gradcheck(lambda a, b, c: fn(minigrad, a, b, c, *[minigrad.tensor(m) for m in
                                                                arrays[3:]]), Q, K, V)
    same_error(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        lib.tensor(Q), lib.tensor(K), lib.tensor(V), attn_mask=lib.ones(4, 6), is_causal=True))
