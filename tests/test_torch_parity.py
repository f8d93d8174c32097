"""Values and gradients against PyTorch (float64), and float32 results that stay float32."""

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


def all_axes(ax, ndim):
    return tuple(range(ndim)) if ax is None else ax


PAIRS = []


def pair(name, mg, th, *inputs):
    PAIRS.append(Pair(name, mg, th, tuple(inputs)))


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
pair("clip", lambda x: x.clip(-0.7, 0.4), lambda x: x.clamp(-0.7, 0.4), (S, "any"))
pair("clip_func", lambda x: minigrad.clip(x, -0.3, 0.3), lambda x: torch.clamp(x, -0.3, 0.3),
     (S, "any"))
pair("where", lambda a, b: minigrad.where(a > b, a * 2.0, b.exp()),
     lambda a, b: torch.where(a > b, a * 2.0, b.exp()), (S, "any"), ((4,), "any"))

R = (2, 3, 4)
for ax in [None, 0, -1, (0, 2), (1, -1)]:
    for kd in (False, True):
        tag = f"[{ax},{kd}]".replace(" ", "")
        pair(f"sum{tag}", lambda x, ax=ax, kd=kd: x.sum(axis=ax, keepdims=kd),
             lambda x, ax=ax, kd=kd: x.sum(dim=all_axes(ax, x.ndim), keepdim=kd), (R, "any"))
        pair(f"mean{tag}", lambda x, ax=ax, kd=kd: x.mean(axis=ax, keepdims=kd),
             lambda x, ax=ax, kd=kd: x.mean(dim=all_axes(ax, x.ndim), keepdim=kd), (R, "any"))
        for ddof in (0, 1):
            pair(f"var{tag}ddof{ddof}",
                 lambda x, ax=ax, kd=kd, ddof=ddof: x.var(axis=ax, keepdims=kd, ddof=ddof),
                 lambda x, ax=ax, kd=kd, ddof=ddof: torch.var(
                     x, dim=all_axes(ax, x.ndim), correction=ddof, keepdim=kd),
                 (R, "any"))
        # few distinct values: ties everywhere, gradient split evenly like torch.amax/amin
        pair(f"max_ties{tag}", lambda x, ax=ax, kd=kd: x.max(axis=ax, keepdims=kd),
             lambda x, ax=ax, kd=kd: torch.amax(x, dim=all_axes(ax, x.ndim), keepdim=kd),
             (R, "ties"))
        pair(f"min_ties{tag}", lambda x, ax=ax, kd=kd: x.min(axis=ax, keepdims=kd),
             lambda x, ax=ax, kd=kd: torch.amin(x, dim=all_axes(ax, x.ndim), keepdim=kd),
             (R, "ties"))

pair("reshape", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), (R, "any"))
pair("permute", lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), (R, "any"))
pair("transpose", lambda x: x.transpose(1, 0, 2), lambda x: x.permute(1, 0, 2), (R, "any"))
pair("swapaxes", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), (R, "any"))
pair("T", lambda x: x.T, lambda x: x.T, (S, "any"))
pair("expand", lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4), ((3, 1), "any"))
pair("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
     lambda x: torch.broadcast_to(x, (2, 3, 4)), ((4,), "any"))
pair("squeeze", lambda x: x.squeeze(), lambda x: x.squeeze(), ((1, 3, 1, 2), "any"))
pair("squeeze_axis", lambda x: x.squeeze(2), lambda x: x.squeeze(2), ((1, 3, 1, 2), "any"))
pair("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), (S, "any"))
pair("flatten", lambda x: x.flatten(1), lambda x: x.flatten(1), (R, "any"))
pair("flatten_range", lambda x: x.flatten(0, 1), lambda x: x.flatten(0, 1), (R, "any"))

_REP = np.array([0, 2, 0, 2, 2, 1])
_MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])
pair("index_repeats", lambda x: x[_REP], lambda x: x[torch.as_tensor(_REP)], (S, "any"))
pair("index_pair", lambda x: x[_REP, _REP + 1], lambda x: x[torch.as_tensor(_REP),
                                                          torch.as_tensor(_REP + 1)], (S, "any"))
pair("index_mask", lambda x: x[_MASK], lambda x: x[torch.as_tensor(_MASK)], (S, "any"))
pair("index_slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], (S, "any"))
pair("index_none_int", lambda x: x[None, 1, 1:3], lambda x: x[None, 1, 1:3], (S, "any"))
pair("concatenate", lambda a, b: minigrad.concatenate([a, b, a], axis=1),
     lambda a, b: torch.cat([a, b, a], dim=1), (S, "any"), ((3, 2), "any"))
pair("stack", lambda a, b: minigrad.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], 1),
     (S, "any"), (S, "any"))
pair("split", lambda x: minigrad.split(x, [1, 3], axis=1)[1] * 2.0,
     lambda x: torch.tensor_split(x, [1, 3], dim=1)[1] * 2.0, (S, "any"))
pair("split_sections", lambda x: minigrad.split(x, 2, axis=1)[0].exp(),
     lambda x: torch.tensor_split(x, 2, dim=1)[0].exp(), (S, "any"))

for tag, sa, sb in [("1d@1d", (4,), (4,)), ("1d@2d", (4,), (4, 3)), ("2d@1d", (3, 4), (4,)),
                    ("2d@2d", (3, 4), (4, 2)), ("batched@2d", (2, 3, 4), (4, 5)),
                    ("batched_bcast", (2, 1, 3, 4), (5, 4, 2)), ("1d@batched", (4,), (2, 4, 3))]:
    pair(f"matmul_{tag}", lambda a, b: a @ b, torch.matmul, (sa, "any"), (sb, "any"))


# ------------------------------------------------------------------------ composed expressions
def mg_softmax(x, axis=-1):
    e = (x - x.max(axis=axis, keepdims=True)).exp()
    return e / e.sum(axis=axis, keepdims=True)


def mg_logsumexp(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return ((x - m).exp().sum(axis=axis, keepdims=True)).log() + m


_TARGETS = np.array([2, 0, 3, 3, 1])


def mg_cross_entropy(logits):
    logp = logits - mg_logsumexp(logits)
    return -logp[np.arange(len(_TARGETS)), _TARGETS].mean()


def mg_layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / (var + eps).sqrt() * g + b


def mg_mlp_mse(x, w1, b1, w2, b2, y):
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    return ((pred - y) ** 2).mean()


def th_mlp_mse(x, w1, b1, w2, b2, y):
    pred = torch.tanh(x @ w1 + b1) @ w2 + b2
    return ((pred - y) ** 2).mean()


def mg_attention(q, k, v):
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(q.shape[-1])
    return mg_softmax(scores) @ v


def th_attention(q, k, v):
    scores = q @ k.transpose(-1, -2) / np.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v


def mg_gelu_tanh(x):
    return 0.5 * x * (1.0 + ((x + 0.044715 * x**3) * np.sqrt(2.0 / np.pi)).tanh())


def mg_batch_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    return (x - mu) / (var + eps).sqrt() * g + b


def mg_smooth_l1(x, y):
    d = x - y
    return minigrad.where(d.abs() < 1.0, 0.5 * d * d, d.abs() - 0.5).mean()


pair("softmax", mg_softmax, lambda x: torch.softmax(x, -1), ((4, 5), "any"))
pair("softmax_axis0", lambda x: mg_softmax(x, axis=0), lambda x: torch.softmax(x, 0),
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
pair("mlp_mse", mg_mlp_mse, th_mlp_mse, ((5, 3), "any"), ((3, 4), "any"), ((4,), "any"),
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
     lambda a, b: (a * b).sum(axis=-1) / ((a * a).sum(axis=-1).sqrt()
                                          * (b * b).sum(axis=-1).sqrt()),
     lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=0.0), ((3, 5), "any"), ((3, 5), "any"))

PAIR_IDS = [p.name for p in PAIRS]
assert len(set(PAIR_IDS)) == len(PAIR_IDS)


def run_both(p, rng, np_dtype, th_dtype):
    arrays = [make_data(rng, shape, kind).astype(np_dtype) for shape, kind in p.inputs]
    mg_in = [minigrad.Tensor(a.copy(), requires_grad=True) for a in arrays]
    th_in = [torch.tensor(a.copy(), dtype=th_dtype, requires_grad=True) for a in arrays]
    mg_out, th_out = p.mg(*mg_in), p.th(*th_in)
    upstream = np.asarray(rng.standard_normal(tuple(th_out.shape))).astype(np_dtype)
    mg_out.backward(upstream)
    th_out.backward(torch.tensor(upstream, dtype=th_dtype))
    return mg_in, th_in, mg_out, th_out


@pytest.mark.parametrize("p", PAIRS, ids=PAIR_IDS)
def test_float64_values_and_gradients_match_torch(p, rng):
    mg_in, th_in, mg_out, th_out = run_both(p, rng, np.float64, torch.float64)
    assert mg_out.shape == tuple(th_out.shape)
    np.testing.assert_allclose(mg_out.data, th_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i, (m, t) in enumerate(zip(mg_in, th_in, strict=True)):
        expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        assert m.grad is not None, f"input {i} got no gradient"
        np.testing.assert_allclose(m.grad, expected, rtol=1e-9, atol=1e-11,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("p", PAIRS, ids=PAIR_IDS)
def test_float32_matches_torch_and_stays_float32(p, rng):
    mg_in, th_in, mg_out, th_out = run_both(p, rng, np.float32, torch.float32)
    assert mg_out.dtype == np.float32
    np.testing.assert_allclose(mg_out.data, th_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    for i, (m, t) in enumerate(zip(mg_in, th_in, strict=True)):
        assert m.grad.dtype == np.float32, f"gradient of input {i} is {m.grad.dtype}"
        expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape, np.float32)
        np.testing.assert_allclose(m.grad, expected, rtol=1e-3, atol=1e-4,
                                   err_msg=f"gradient of input {i}")


def test_second_order_matches_torch(rng):
    data = rng.standard_normal(5)
    x = minigrad.Tensor(data, requires_grad=True)
    (g,) = minigrad.grad((x.tanh() * x.exp()).sum(), [x], create_graph=True)
    (h,) = minigrad.grad((g * g).sum(), [x])
    xt = torch.tensor(data, requires_grad=True)
    (gt,) = torch.autograd.grad((xt.tanh() * xt.exp()).sum(), [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(h.data, ht.numpy(), rtol=1e-9)
