"""Values and gradients against PyTorch (float64), and float32 results that stay float32."""

import math
from dataclasses import dataclass

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
F = torch.nn.functional


@dataclass(frozen=True)
class Pair:
    name: str
    mg: object  # (*minigrad Tensors) -> Tensor
    th: object  # (*torch tensors) -> torch tensor
    inputs: tuple  # ((shape, kind), ...)


def make_data(rng, shape, kind):
    if kind == "any":
        return np.asarray(rng.standard_normal(shape))
    if kind == "pos":
        return np.asarray(rng.uniform(0.5, 2.0, shape))
    if kind == "nonzero":
        sign = rng.choice([-1.0, 1.0], shape)
        return np.asarray(sign * (0.2 + np.abs(rng.standard_normal(shape))))
    if kind == "ties":  # few distinct values: max/min must split the gradient among ties
        return np.asarray(rng.integers(0, 3, shape).astype(np.float64))
    raise ValueError(kind)  # pragma: no cover


PAIRS = []


def pair(name, mg, th, *inputs):
    PAIRS.append(Pair(name, mg, th, tuple(inputs)))


def same(name, fn, *inputs):
    """One expression, written once in PyTorch's dialect, run on both engines."""
    pair(name, fn, fn, *inputs)


for sa, sb in [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3))]:
    tag = f"{sa}x{sb}".replace(" ", "")
    pair(f"add{tag}", lambda a, b: a + b, lambda a, b: a + b, (sa, "any"), (sb, "any"))
    pair(f"sub{tag}", lambda a, b: a - b, lambda a, b: a - b, (sa, "any"), (sb, "any"))
    pair(f"mul{tag}", lambda a, b: a * b, lambda a, b: a * b, (sa, "any"), (sb, "any"))
    pair(f"div{tag}", lambda a, b: a / b, lambda a, b: a / b, (sa, "any"), (sb, "nonzero"))
    pair(f"pow{tag}", lambda a, b: a**b, lambda a, b: a**b, (sa, "pos"), (sb, "any"))
    pair(f"maximum{tag}", minigrad.maximum, torch.maximum, (sa, "any"), (sb, "any"))
    pair(f"minimum{tag}", minigrad.minimum, torch.minimum, (sa, "any"), (sb, "any"))

# equal operands: torch sends half of the gradient each way
pair("maximum_ties", minigrad.maximum, torch.maximum, ((3, 4), "ties"), ((4,), "ties"))
pair("minimum_ties", minigrad.minimum, torch.minimum, ((3, 4), "ties"), ((3, 1), "ties"))

S = (3, 4)
pair("numbers_both_sides", lambda x: 2.0 - x * 3 + 1.5 / (x * x + 1) - x / 4,
     lambda x: 2.0 - x * 3 + 1.5 / (x * x + 1) - x / 4, (S, "any"))
pair("rpow", lambda x: 3.0**x, lambda x: 3.0**x, (S, "any"))
pair("pow_num", lambda x: x**2.5 + x**-1, lambda x: x**2.5 + x**-1, (S, "pos"))
pair("neg", lambda x: -x, lambda x: -x, (S, "any"))
pair("exp", lambda x: x.exp(), torch.exp, (S, "any"))
pair("log", lambda x: x.log(), torch.log, (S, "pos"))
pair("sqrt", lambda x: x.sqrt(), torch.sqrt, (S, "pos"))
pair("tanh", lambda x: x.tanh(), torch.tanh, (S, "any"))
pair("sigmoid", lambda x: x.sigmoid(), torch.sigmoid, (S, "any"))
pair("relu", lambda x: x.relu(), torch.relu, (S, "nonzero"))
pair("abs", lambda x: x.abs(), torch.abs, (S, "nonzero"))
same("clamp", lambda x: x.clamp(-0.7, 0.4), (S, "any"))
same("clip", lambda x: x.clip(-0.7, 0.4), (S, "any"))
pair("clip_func", lambda x: minigrad.clip(x, -0.3, 0.3), lambda x: torch.clip(x, -0.3, 0.3),
     (S, "any"))
pair("where", lambda a, b: minigrad.where(a > b, a * 2.0, b.exp()),
     lambda a, b: torch.where(a > b, a * 2.0, b.exp()), (S, "any"), ((4,), "any"))

R = (2, 3, 4)
for ax in [None, 0, -1, (0, 2), (1, -1)]:
    for kd in (False, True):
        tag = f"[{ax},{kd}]".replace(" ", "")
        same(f"sum{tag}", lambda x, ax=ax, kd=kd: x.sum(dim=ax, keepdim=kd), (R, "any"))
        same(f"mean{tag}", lambda x, ax=ax, kd=kd: x.mean(dim=ax, keepdim=kd), (R, "any"))
        # the default is the unbiased estimate; correction= and unbiased= choose
        same(f"var{tag}", lambda x, ax=ax, kd=kd: x.var(dim=ax, keepdim=kd), (R, "any"))
        same(f"std{tag}", lambda x, ax=ax, kd=kd: x.std(dim=ax, keepdim=kd), (R, "any"))
        for c in (0, 1):
            same(f"var{tag}correction{c}",
                 lambda x, ax=ax, kd=kd, c=c: x.var(dim=ax, correction=c, keepdim=kd),
                 (R, "any"))
        same(f"var{tag}unbiased_False",
             lambda x, ax=ax, kd=kd: x.var(dim=ax, unbiased=False, keepdim=kd), (R, "any"))
        # few distinct values: ties everywhere, gradient split evenly among them
        same(f"amax_ties{tag}", lambda x, ax=ax, kd=kd: x.amax(dim=ax, keepdim=kd), (R, "ties"))
        same(f"amin_ties{tag}", lambda x, ax=ax, kd=kd: x.amin(dim=ax, keepdim=kd), (R, "ties"))
same("max_ties_all", lambda x: x.max(), (R, "ties"))
same("min_ties_all", lambda x: x.min(), (R, "ties"))
for d in (0, 1, -1):
    for kd in (False, True):
        # max(dim) / min(dim): the gradient goes to the (first) index they return
        same(f"max_ties_dim[{d},{kd}]", lambda x, d=d, kd=kd: x.max(d, keepdim=kd).values,
             (R, "ties"))
        same(f"min_ties_dim[{d},{kd}]", lambda x, d=d, kd=kd: x.min(dim=d, keepdim=kd)[0],
             (R, "ties"))

same("reshape", lambda x: x.reshape(4, 6), (R, "any"))
same("view", lambda x: x.view(6, -1), (R, "any"))
same("permute", lambda x: x.permute(2, 0, 1), (R, "any"))
same("transpose", lambda x: x.transpose(0, 1), (R, "any"))
same("transpose_neg", lambda x: x.transpose(-1, 0), (R, "any"))
same("swapaxes", lambda x: x.swapaxes(0, 2), (R, "any"))
same("T", lambda x: x.T, (S, "any"))
same("mT", lambda x: x.mT, (R, "any"))
same("expand", lambda x: x.expand(2, 3, 4), ((3, 1), "any"))
pair("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
     lambda x: torch.broadcast_to(x, (2, 3, 4)), ((4,), "any"))
same("squeeze", lambda x: x.squeeze(), ((1, 3, 1, 2), "any"))
same("squeeze_dim", lambda x: x.squeeze(2), ((1, 3, 1, 2), "any"))
same("unsqueeze", lambda x: x.unsqueeze(-1), (S, "any"))
same("flatten", lambda x: x.flatten(1), (R, "any"))
same("flatten_range", lambda x: x.flatten(0, 1), (R, "any"))

_REP = np.array([0, 2, 0, 2, 2, 1])
_MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])
pair("index_repeats", lambda x: x[minigrad.as_tensor(_REP)], lambda x: x[torch.as_tensor(_REP)],
     (S, "any"))
pair("index_pair", lambda x: x[minigrad.as_tensor(_REP), minigrad.as_tensor(_REP + 1)],
     lambda x: x[torch.as_tensor(_REP), torch.as_tensor(_REP + 1)], (S, "any"))
pair("index_mask", lambda x: x[minigrad.as_tensor(_MASK)], lambda x: x[torch.as_tensor(_MASK)],
     (S, "any"))
same("index_numpy_repeats", lambda x: x[_REP], (S, "any"))
same("index_numpy_mask", lambda x: x[_MASK], (S, "any"))
same("index_slices", lambda x: x[1:, ::2], (S, "any"))
same("index_none_int", lambda x: x[None, 1, 1:3], (S, "any"))
pair("cat", lambda a, b: minigrad.cat([a, b, a], dim=1),
     lambda a, b: torch.cat([a, b, a], dim=1), (S, "any"), ((3, 2), "any"))
pair("concatenate", lambda a, b: minigrad.concatenate([a, b, a], axis=1),
     lambda a, b: torch.concatenate([a, b, a], axis=1), (S, "any"), ((3, 2), "any"))
pair("stack", lambda a, b: minigrad.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1),
     (S, "any"), (S, "any"))
pair("split_sizes", lambda x: minigrad.split(x, [1, 2, 1], dim=1)[1] * 2.0,
     lambda x: torch.split(x, [1, 2, 1], dim=1)[1] * 2.0, (S, "any"))
same("split_size", lambda x: x.split(3, dim=1)[1].exp() + x.split(3, dim=1)[0].sum(),
     (S, "any"))
pair("chunk", lambda x: minigrad.chunk(x, 2, dim=1)[0].exp(),
     lambda x: torch.chunk(x, 2, dim=1)[0].exp(), (S, "any"))

for tag, sa, sb in [("1d@1d", (4,), (4,)), ("1d@2d", (4,), (4, 3)), ("2d@1d", (3, 4), (4,)),
                    ("2d@2d", (3, 4), (4, 2)), ("batched@2d", (2, 3, 4), (4, 5)),
                    ("batched_bcast", (2, 1, 3, 4), (5, 4, 2)), ("1d@batched", (4,), (2, 4, 3))]:
    pair(f"matmul_{tag}", lambda a, b: a @ b, torch.matmul, (sa, "any"), (sb, "any"))


# ------------------------------------------------------------------------ composed expressions
# minigrad's side is composed from primitives, in PyTorch's spelling; torch's side uses its
# built-in functions where it has them.
def mg_softmax(x, dim=-1):
    e = (x - x.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def mg_logsumexp(x, dim=-1):
    m = x.max(dim, keepdim=True).values      # the course spelling: max(dim) -> (values, indices)
    return ((x - m).exp().sum(dim=dim, keepdim=True)).log() + m


_TARGETS = np.array([2, 0, 3, 3, 1])


def mg_cross_entropy(logits):
    logp = logits - mg_logsumexp(logits)
    return -logp[minigrad.arange(len(_TARGETS)), minigrad.tensor(_TARGETS)].mean()


def mg_layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)     # layer norm uses the biased one
    return (x - mu) / (var + eps).sqrt() * g + b


def mlp_mse(x, w1, b1, w2, b2, y):
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    return ((pred - y) ** 2).mean()


def mg_attention(q, k, v):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
    return mg_softmax(scores) @ v


def th_attention(q, k, v):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
    return torch.softmax(scores, dim=-1) @ v


def mg_gelu_tanh(x):
    return 0.5 * x * (1.0 + ((x + 0.044715 * x**3) * math.sqrt(2.0 / math.pi)).tanh())


def mg_batch_norm(x, g, b, eps=1e-5):
    mu = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)        # batch norm normalises with the biased one
    return (x - mu) / (var + eps).sqrt() * g + b


def mg_smooth_l1(x, y):
    d = x - y
    return minigrad.where(d.abs() < 1.0, 0.5 * d * d, d.abs() - 0.5).mean()


pair("softmax", mg_softmax, lambda x: torch.softmax(x, -1), ((4, 5), "any"))
pair("softmax_dim0", lambda x: mg_softmax(x, dim=0), lambda x: torch.softmax(x, 0),
     ((4, 5), "any"))
pair("logsumexp", lambda x: mg_logsumexp(x).squeeze(-1), lambda x: torch.logsumexp(x, -1),
     ((4, 5), "any"))
pair("cross_entropy", mg_cross_entropy,
     lambda z: F.cross_entropy(z, torch.as_tensor(_TARGETS)), ((5, 4), "any"))
pair("layer_norm", mg_layer_norm, lambda x, g, b: F.layer_norm(x, (6,), g, b, eps=1e-5),
     ((3, 6), "any"), ((6,), "any"), ((6,), "any"))
pair("batch_norm_train", mg_batch_norm,
     lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
     ((8, 3), "any"), ((3,), "any"), ((3,), "any"))
same("mlp_mse", mlp_mse, ((5, 3), "any"), ((3, 4), "any"), ((4,), "any"),
     ((4, 2), "any"), ((2,), "any"), ((5, 2), "any"))
pair("attention", mg_attention, th_attention, ((2, 3, 4), "any"), ((2, 5, 4), "any"),
     ((2, 5, 3), "any"))
pair("gelu_tanh", mg_gelu_tanh, lambda x: F.gelu(x, approximate="tanh"), ((3, 4), "any"))
pair("smooth_l1", mg_smooth_l1, lambda x, y: F.smooth_l1_loss(x, y), ((4, 5), "any"),
     ((4, 5), "any"))
pair("sigmoid_bce", lambda z, y: -(y * z.sigmoid().log() + (1 - y) * (1 - z.sigmoid()).log())
     .mean(), lambda z, y: F.binary_cross_entropy_with_logits(z, y), ((6,), "any"),
     ((6,), "pos"))
pair("cosine_similarity",
     lambda a, b: (a * b).sum(dim=-1) / ((a * a).sum(dim=-1).sqrt()
                                         * (b * b).sum(dim=-1).sqrt()),
     lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=0.0), ((3, 5), "any"), ((3, 5), "any"))

PAIR_IDS = [p.name for p in PAIRS]
assert len(set(PAIR_IDS)) == len(PAIR_IDS)


def run_both(p, rng, np_dtype, th_dtype):
    arrays = [make_data(rng, shape, kind).astype(np_dtype) for shape, kind in p.inputs]
    mg_in = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    th_in = [torch.tensor(a, dtype=th_dtype, requires_grad=True) for a in arrays]
    mg_out, th_out = p.mg(*mg_in), p.th(*th_in)
    upstream = np.asarray(rng.standard_normal(tuple(th_out.shape))).astype(np_dtype)
    mg_out.backward(minigrad.tensor(upstream))
    th_out.backward(torch.tensor(upstream, dtype=th_dtype))
    return mg_in, th_in, mg_out, th_out


@pytest.mark.parametrize("p", PAIRS, ids=PAIR_IDS)
def test_float64_values_and_gradients_match_torch(p, rng):
    mg_in, th_in, mg_out, th_out = run_both(p, rng, np.float64, torch.float64)
    assert mg_out.shape == tuple(th_out.shape)
    assert mg_out.dtype == minigrad.float64
    np.testing.assert_allclose(mg_out.detach().numpy(), th_out.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for i, (m, t) in enumerate(zip(mg_in, th_in, strict=True)):
        assert (m.grad is None) == (t.grad is None), f"input {i}: {m.grad} vs {t.grad}"
        if t.grad is not None:
            assert m.grad.shape == tuple(t.grad.shape)
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("p", PAIRS, ids=PAIR_IDS)
def test_float32_matches_torch_and_stays_float32(p, rng):
    mg_in, th_in, mg_out, th_out = run_both(p, rng, np.float32, torch.float32)
    assert mg_out.dtype == minigrad.float32
    np.testing.assert_allclose(mg_out.detach().numpy(), th_out.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    for i, (m, t) in enumerate(zip(mg_in, th_in, strict=True)):
        assert (m.grad is None) == (t.grad is None), f"input {i}: {m.grad} vs {t.grad}"
        if t.grad is not None:
            assert m.grad.dtype == minigrad.float32, f"gradient of input {i} is {m.grad.dtype}"
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-3, atol=1e-4,
                                       err_msg=f"gradient of input {i}")


def test_second_order_matches_torch(rng):
    data = rng.standard_normal(5)
    x = minigrad.tensor(data, requires_grad=True)
    (g,) = minigrad.grad((x.tanh() * x.exp()).sum(), [x], create_graph=True)
    (h,) = minigrad.grad((g * g).sum(), [x])
    xt = torch.tensor(data, requires_grad=True)
    (gt,) = torch.autograd.grad((xt.tanh() * xt.exp()).sum(), [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-9)


@pytest.mark.parametrize("kwargs", [{"axis": 1}, {"axis": -1, "keepdims": True},
                                    {"dim": 0, "keepdims": True}])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_numpy_keywords_mean_what_they_mean_in_torch(op, kwargs, rng):
    """torch takes axis=/keepdims= as aliases of dim=/keepdim=, so x.max(axis=1) is the
    (values, indices) pair there too, and code like `x.max(axis=1)[0]` must pick the values."""
    data = rng.integers(0, 3, (2, 3, 4)).astype(np.float64)
    x = minigrad.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    got, expected = getattr(x, op)(**kwargs), getattr(xt, op)(**kwargs)
    assert isinstance(got, tuple) and len(got) == 2, f"{op}(**{kwargs}) gave {got!r}"
    np.testing.assert_array_equal(got[0].detach().numpy(), expected[0].detach().numpy())
    np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
    got.values.sum().backward()
    expected.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def describe_grad_fn(fn, depth=3):
    """A backward node as text: its class name and, recursively, its next_functions."""
    if fn is None:
        return "None"
    if depth == 0:
        return type(fn).__name__
    inner = ", ".join(f"{describe_grad_fn(f, depth - 1)}:{i}" for f, i in fn.next_functions)
    return f"{type(fn).__name__}[{inner}]"


# composites (var, std, softmax ...) are built from primitives on purpose: their grad_fn is
# the last primitive's, so they are not compared here
GRAPHS = {
    "t*2.0": lambda t, u: t * 2.0, "2.0*t": lambda t, u: 2.0 * t,
    "t+2": lambda t, u: t + 2, "t-2.0": lambda t, u: t - 2.0, "2.0-t": lambda t, u: 2.0 - t,
    "t/2.0": lambda t, u: t / 2.0, "2.0/t": lambda t, u: 2.0 / t,
    "t**0.5": lambda t, u: t**0.5, "2.0**t": lambda t, u: 2.0**t, "t**u": lambda t, u: t**u,
    "-t": lambda t, u: -t, "t*u": lambda t, u: t * u, "t/u": lambda t, u: t / u,
    "t-u": lambda t, u: t - u, "t+u": lambda t, u: t + u,
    "exp": lambda t, u: t.exp(), "log": lambda t, u: t.log(), "tanh": lambda t, u: t.tanh(),
    "relu": lambda t, u: t.relu(), "sigmoid": lambda t, u: t.sigmoid(),
    "sum": lambda t, u: t.sum(), "mean": lambda t, u: t.mean(), "max": lambda t, u: t.max(),
    "t[0]": lambda t, u: t[0], "reshape": lambda t, u: t.reshape(2, 1),
    "dot": lambda t, u: t @ u, "mm": lambda t, u: t.reshape(2, 1) @ u.reshape(1, 2),
    "chain": lambda t, u: ((t * u).exp() + u).sum(),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_grad_fn_and_next_functions_are_pytorchs(name):
    """Graph tools written against PyTorch's autograd graph walk grad_fn.next_functions: the
    node names and the edges, (None, 0) for a number operand included, are PyTorch's."""
    fn = GRAPHS[name]
    mg = fn(minigrad.tensor([1.0, 4.0], requires_grad=True),
            minigrad.tensor([2.0, 3.0], requires_grad=True))
    th = fn(torch.tensor([1.0, 4.0], dtype=torch.float64, requires_grad=True),
            torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True))
    assert describe_grad_fn(mg.grad_fn) == describe_grad_fn(th.grad_fn)
