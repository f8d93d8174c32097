"""minigrad.nn modules: Parameter, registration and tree walks, train/eval, state dicts
(round trips, strict-load errors), dtype conversion, repr, Sequential, layers and their
initialisation (against PyTorch's formulas and samples), nn.init, scopes."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import Tensor


def npy(t):
    """A tensor's values as an ndarray (a copy), for comparing with numpy references."""
    return np.array(t.detach().numpy(), copy=True)


def storage(t):
    """The ndarray behind a tensor (shares its memory): to check that a change is in place."""
    return t.detach().numpy()


def mlp(seed=0, dtype=None):
    return nn.Sequential(nn.Linear(4, 8, generator=seed, dtype=dtype),
                         nn.BatchNorm1d(8, dtype=dtype), nn.ReLU(),
                         nn.Linear(8, 3, generator=seed + 1, dtype=dtype))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5, generator=1)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(5, 2, bias=False, generator=2)
        self.scale = nn.Parameter(np.ones(2))
        self.register_buffer("count", Tensor(np.zeros(1)))
        self.register_buffer("scratch", Tensor(np.zeros(2)), persistent=False)
        self.note = "not registered"

    def forward(self, x, *, double=False):
        y = self.fc2(self.act(self.fc1(x))) * self.scale
        return y * 2.0 if double else y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(2, 2, generator=3), nn.Sigmoid())

    def forward(self, x):
        return self.head(self.block(x))


# ---- Parameter ---------------------------------------------------------------------------

def test_parameter_is_a_tensor_and_ops_give_plain_tensors():
    p = nn.Parameter(np.arange(3.0))
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    for out in (p * 2.0, p + p, -p, p.sum(), p[1:], p.exp(), p.detach()):
        assert type(out) is Tensor
    assert "Parameter containing" in repr(p)
    assert nn.Parameter(np.ones(2), requires_grad=False).requires_grad is False
    (p * p).sum().backward()
    np.testing.assert_array_equal(npy(p.grad), 2 * np.arange(3.0))
    assert nn.Parameter([1, 2]).dtype == minigrad.float64      # the Tensor constructor's rule
    assert nn.Parameter(minigrad.ones(2, dtype=minigrad.float32)).dtype == minigrad.float32


# ---- registration and walks --------------------------------------------------------------

def test_registration_and_named_walks():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc1.weight", "block.fc1.bias", "block.fc2.weight",
                     "head.0.weight", "head.0.bias"]
    assert [n for n, _ in net.named_buffers()] == ["block.count", "block.scratch"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc1", "block.act",
                                                   "block.fc2", "head", "head.0", "head.1"]
    assert list(net.children()) == [net.block, net.head]
    assert len(list(net.modules())) == 8
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert net.block.fc2.bias is None and net.block.note == "not registered"
    assert "note" not in dict(net.block.named_parameters())
    # state dict: parameters and persistent buffers, own first, PyTorch's naming
    assert list(net.state_dict()) == ["block.scale", "block.count", "block.fc1.weight",
                                      "block.fc1.bias", "block.fc2.weight", "head.0.weight",
                                      "head.0.bias"]


def test_reassignment_deletion_and_type_errors():
    m = Block()
    new = nn.Parameter(np.zeros(2))
    m.scale = new
    assert m.scale is new and dict(m.named_parameters())["scale"] is new
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = Tensor(np.zeros(2))
    with pytest.raises(TypeError, match="child module 'act'"):
        m.act = 3
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    m.act = nn.ReLU()                                   # a module replaces a module
    assert isinstance(m.act, nn.ReLU)
    m.fc1 = nn.Parameter(np.ones(1))                    # a parameter replaces a module
    assert "fc1" not in dict(m.named_children()) and m.fc1.shape == (1,)
    del m.fc1
    with pytest.raises(AttributeError):
        _ = m.fc1
    m.count = Tensor(np.ones(1))
    assert dict(m.named_buffers())["count"][0].item() == 1
    with pytest.raises(TypeError, match="buffer 'count'"):
        m.count = 5
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        m.register_buffer("note", None)
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)


def test_missing_super_init():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Bad()


def test_shared_modules_are_walked_once():
    lin = nn.Linear(2, 2, generator=0)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_call_passes_arguments_and_zero_grad(rng):
    m = Block()
    x = Tensor(rng.standard_normal((4, 3)))
    y1, y2 = m(x), m(x, double=True)
    np.testing.assert_allclose(npy(y2), 2 * npy(y1))
    y1.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m(x).sum().backward()
    grads = [p.grad for p in m.parameters()]
    assert all((g != 0).any() for g in grads)
    m.zero_grad(set_to_none=False)
    # zeroed in place, as PyTorch's zero_grad(set_to_none=False)
    assert all(p.grad is g and (p.grad == 0).all() for p, g in zip(m.parameters(), grads))


def test_train_eval_is_recursive_and_local(rng):
    net = nn.Sequential(nn.Linear(4, 4, generator=0), nn.BatchNorm1d(4), nn.Dropout(0.5, 0))
    other = nn.Dropout(0.5)
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert other.training                               # no global flag
    x = Tensor(rng.standard_normal((6, 4)))
    y1, y2 = net(x), net(x)
    np.testing.assert_array_equal(npy(y1), npy(y2))     # eval: no dropout, running stats
    net[1].train()
    assert net[1].training and not net[0].training and not net.training
    assert net.train() is net and all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")


# ---- state dicts -------------------------------------------------------------------------

def test_state_dict_shares_storage_and_round_trip(tmp_path, rng):
    m = mlp()
    x = Tensor(rng.standard_normal((6, 4)))
    m(x)                                                # move the running statistics
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"]
    # PyTorch's semantics: plain tensors, detached, sharing the model's storage
    assert all(type(v) is Tensor and not v.requires_grad and v.grad_fn is None
               for v in sd.values())
    nbt = sd["1.num_batches_tracked"]
    assert nbt.dtype == minigrad.int64 and nbt.dim() == 0 and nbt.item() == 1
    assert np.shares_memory(storage(sd["0.weight"]), storage(m[0].weight))
    sd["0.weight"][0, 0] = 123.0                        # shows in the model
    assert m[0].weight[0, 0].item() == 123.0
    copy = {k: v.clone() for k, v in sd.items()}        # clone() is the way to a copy
    copy["0.weight"][...] = 0
    assert m[0].weight[0, 0].item() == 123.0 and (m[0].weight != 0).any()
    sd = m.state_dict()
    from minigrad import serialization
    path = serialization.save(sd, tmp_path / "ckpt")
    loaded = serialization.load(path)
    assert list(loaded) == list(sd)
    for k in sd:
        assert isinstance(loaded[k], Tensor)
        assert loaded[k].dtype == sd[k].dtype and minigrad.equal(loaded[k], sd[k])
    fresh = mlp(seed=10)
    arrays_before = [storage(t) for t in fresh.state_dict().values()]
    assert not minigrad.equal(fresh[0].weight, m[0].weight)
    assert fresh.load_state_dict(loaded) == ([], [])
    for a, t in zip(arrays_before, fresh.state_dict().values()):
        assert np.shares_memory(a, storage(t))                              # in place
    for k, v in fresh.state_dict().items():
        assert v.dtype == sd[k].dtype and minigrad.equal(v, sd[k])
    m.eval()
    fresh.eval()
    np.testing.assert_array_equal(npy(m(x)), npy(fresh(x)))


def test_strict_load_errors_listed_together():
    m = mlp()
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    before = {k: v.clone() for k, v in m.state_dict().items()}   # (state_dict shares storage)
    bad = dict(sd)
    del bad["0.bias"], bad["1.running_var"]
    bad["extra.weight"] = minigrad.zeros(2)
    bad["3.weight"] = minigrad.full((8, 3), 7.0)
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(bad)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential")
    assert 'Missing key(s) in state_dict: "0.bias", "1.running_var".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert "size mismatch for 3.weight" in msg and "(8, 3)" in msg and "(3, 8)" in msg
    for k, v in m.state_dict().items():                 # nothing was loaded
        assert minigrad.equal(v, before[k])
    # strict=False: missing and unexpected are returned, shape mismatches still raise
    del bad["3.weight"]
    result = m.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["0.bias", "1.running_var", "3.weight"]
    assert result.unexpected_keys == ["extra.weight"]
    assert isinstance(result, tuple) and result == (result.missing_keys, result.unexpected_keys)
    bad["3.weight"] = minigrad.zeros(3)
    with pytest.raises(RuntimeError, match="size mismatch for 3.weight"):
        m.load_state_dict(bad, strict=False)


def test_load_keeps_dtype_and_accepts_torch_state(rng):
    m = mlp(dtype=minigrad.float32)
    sd = {k: v.double() if v.is_floating_point() else v
          for k, v in mlp(5).state_dict().items()}
    m.load_state_dict(sd)
    assert all(p.dtype == minigrad.float32 for p in m.parameters())
    assert m[1].num_batches_tracked.dtype == minigrad.int64
    np.testing.assert_allclose(npy(m[0].weight), npy(sd["0.weight"]), rtol=1e-7)
    torch = pytest.importorskip("torch")
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                             torch.nn.Linear(8, 3)).double()
    tm(torch.tensor(rng.standard_normal((5, 4))))
    ours = mlp()
    tsd = tm.state_dict()
    assert list(ours.state_dict()) == list(tsd)         # same keys in the same order
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in tsd.items()})
    assert ours[1].num_batches_tracked.item() == tsd["1.num_batches_tracked"].item() == 1
    x = rng.standard_normal((5, 4))
    ours.eval()
    tm.eval()
    np.testing.assert_allclose(npy(ours(Tensor(x))), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


# ---- dtypes ------------------------------------------------------------------------------

def test_to_float32_and_back(rng):
    m = mlp()
    params = list(m.parameters())
    f32, f64 = minigrad.float32, minigrad.float64
    assert all(p.dtype == f64 for p in params)
    m(Tensor(rng.standard_normal((5, 4)))).sum().backward()
    assert m.to(f32) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]       # same objects
    assert all(p.dtype == f32 and p.grad.dtype == f32 for p in m.parameters())
    bn = m[1]
    assert bn.running_mean.dtype == f32 and bn.running_var.dtype == f32
    assert bn.num_batches_tracked.dtype == minigrad.int64
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    y = m(x)
    assert y.dtype == f32
    F.cross_entropy(y, minigrad.tensor([0, 1, 2, 0, 1])).backward()
    assert x.grad.dtype == f32 and all(p.grad.dtype == f32 for p in m.parameters())
    m.eval()
    assert m(x).dtype == f32
    assert m.double() is m and all(p.dtype == f64 for p in m.parameters())
    assert m.float() is m and m[0].weight.dtype == f32
    with pytest.raises(TypeError, match="floating"):
        m.to(minigrad.int32)


def test_layer_dtype_argument_and_default():
    f32 = minigrad.float32
    assert nn.Linear(2, 3, dtype=f32).weight.dtype == f32
    assert nn.LayerNorm(3, dtype=f32).bias.dtype == f32
    assert nn.Linear(2, 3).weight.dtype == minigrad.float64
    minigrad.set_default_dtype(f32)                     # restored by conftest
    assert nn.Linear(2, 3).bias.dtype == f32
    assert nn.BatchNorm1d(3).running_var.dtype == f32


# ---- repr --------------------------------------------------------------------------------

def test_repr():
    m = nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
                      nn.Linear(32, 5, bias=False))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=20, out_features=32, bias=True)\n"
        "  (1): BatchNorm1d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (2): ReLU()\n"
        "  (3): Dropout(p=0.2)\n"
        "  (4): Linear(in_features=32, out_features=5, bias=False)\n"
        ")")
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc1): Linear(in_features=3, out_features=5, bias=True)\n"
        "    (act): Tanh()\n"
        "    (fc2): Linear(in_features=5, out_features=2, bias=False)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")")
    assert repr(nn.LayerNorm((2, 3))) == (
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)")


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=None), nn.Tanh(),
                         nn.Identity(), nn.BatchNorm1d(4, bias=False), nn.LayerNorm(4),
                         nn.BatchNorm1d(4, affine=False, track_running_stats=False))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=None),
                                 torch.nn.Tanh(), torch.nn.Identity(),
                                 torch.nn.BatchNorm1d(4, bias=False), torch.nn.LayerNorm(4),
                                 torch.nn.BatchNorm1d(4, affine=False,
                                                      track_running_stats=False))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ---- Sequential --------------------------------------------------------------------------

def test_sequential_container(rng):
    a, b, c = nn.Linear(2, 3, generator=0), nn.ReLU(), nn.Linear(3, 1, generator=1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert [n for n, _ in tail.named_children()] == ["1", "2"]     # names kept, as PyTorch
    x = Tensor(rng.standard_normal((4, 2)))
    np.testing.assert_array_equal(npy(seq(x)), npy(c(b(a(x)))))
    with pytest.raises(IndexError):
        seq[3]
    d = nn.Sigmoid()
    assert seq.append(d) is seq and len(seq) == 4 and seq[3] is d
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert [n for n, _ in named.named_children()] == ["fc", "act"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is c
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(a, "relu")


# ---- layers ------------------------------------------------------------------------------

def test_linear_init_bounds_and_generator():
    lin = nn.Linear(400, 300, generator=0)
    bound = 1 / math.sqrt(400)
    for t in (npy(lin.weight), npy(lin.bias)):
        assert np.abs(t).max() <= bound and np.abs(t).max() > 0.98 * bound
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)
    assert abs(npy(lin.weight).std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(npy(lin.weight).mean()) < 0.01 * bound
    again = nn.Linear(400, 300, generator=0)
    assert minigrad.equal(again.weight, lin.weight)
    assert minigrad.equal(again.bias, lin.bias)
    assert not minigrad.equal(nn.Linear(400, 300, generator=1).weight, lin.weight)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_init_like_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for n_in, n_out in [(7, 500), (300, 200)]:
        ours, theirs = nn.Linear(n_in, n_out, generator=0), torch.nn.Linear(n_in, n_out)
        for a, b in ((npy(ours.weight), theirs.weight.detach().numpy()),
                     (npy(ours.bias), theirs.bias.detach().numpy())):
            bound = 1 / math.sqrt(n_in)
            assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
            if a.size > 1000:
                assert abs(a.std() - b.std()) < 0.05 * b.std()


def test_layers_forward(rng):
    x = rng.standard_normal((5, 4))
    xt = Tensor(x)
    np.testing.assert_array_equal(npy(nn.ReLU()(xt)), np.maximum(x, 0))
    np.testing.assert_allclose(npy(nn.Tanh()(xt)), np.tanh(x))
    np.testing.assert_allclose(npy(nn.Sigmoid()(xt)), 1 / (1 + np.exp(-x)))
    assert nn.Identity(3, foo=1)(xt) is xt
    assert nn.Flatten()(Tensor(np.ones((2, 3, 4)))).shape == (2, 12)
    d = nn.Dropout(0.5, generator=0)
    m1, m2 = npy(d(xt)), npy(d(xt))
    np.testing.assert_array_equal(npy(xt), x)           # the input is left alone
    assert not np.array_equal(m1, m2)                   # one generator, successive masks
    assert np.all((m1 == 0) | (m1 == 2 * x)) and np.all((m2 == 0) | (m2 == 2 * x))
    assert np.array_equal(npy(nn.Dropout(0.5, generator=0)(xt)), m1)
    assert d.eval()(xt) is xt
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.2)
    ln = nn.LayerNorm(4)
    np.testing.assert_allclose(npy(ln(xt)), npy(F.layer_norm(xt, (4,))))
    torch = pytest.importorskip("torch")
    tln = torch.nn.LayerNorm(4, dtype=torch.float64)
    np.testing.assert_allclose(npy(ln(xt)), tln(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert list(ln.state_dict()) == list(tln.state_dict())


# ---- nn.init -----------------------------------------------------------------------------

def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    tinit = torch.nn.init
    cases = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
             ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
             ("selu", None)]
    for nl, param in cases:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(tinit.calculate_gain(nl, param),
                                                                  rel=1e-15)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        nn.init.calculate_gain("leaky_relu", "0.1")


INIT_CASES = [
    ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict()),
    ("kaiming_normal_", dict(a=0.1, mode="fan_out", nonlinearity="leaky_relu")),
    ("xavier_uniform_", dict(gain=2.0)),
    ("xavier_normal_", dict(gain=0.5)),
    ("uniform_", dict(a=-0.3, b=0.7)),
    ("normal_", dict(mean=1.5, std=0.2)),
]


def _expected_bounds(name, kw, shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    if name.startswith("kaiming"):
        fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
        gain = nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
        std = gain / math.sqrt(fan)
    elif name.startswith("xavier"):
        std = kw["gain"] * math.sqrt(2 / (fan_in + fan_out))
    elif name == "uniform_":
        return (kw["a"] + kw["b"]) / 2, (kw["b"] - kw["a"]) / math.sqrt(12), kw["a"], kw["b"]
    else:
        return kw["mean"], kw["std"], None, None
    if name.endswith("uniform_"):
        b = math.sqrt(3) * std
        return 0.0, std, -b, b
    return 0.0, std, None, None


@pytest.mark.parametrize("name,kw", INIT_CASES)
def test_init_statistics_like_torch(name, kw):
    torch = pytest.importorskip("torch")
    shape = (300, 200, 3)
    t = Tensor(np.zeros(shape))
    data = storage(t)
    assert getattr(nn.init, name)(t, **kw, generator=0) is t
    assert np.shares_memory(storage(t), data)           # in place
    tt = torch.empty(shape, dtype=torch.float64)
    getattr(torch.nn.init, name)(tt, **kw)
    ours, theirs = npy(t), tt.numpy()
    assert np.array_equal(data, ours)
    mean, std, lo, hi = _expected_bounds(name, kw, shape)
    for a in (ours, theirs):
        assert abs(a.mean() - mean) < 0.01 * std + 1e-12
        assert abs(a.std() - std) < 0.01 * std
        if lo is not None:
            assert a.min() >= lo and a.max() <= hi
            assert a.min() < lo + 0.001 * (hi - lo) and a.max() > hi - 0.001 * (hi - lo)
    # the same seed gives the same sample, float32 stays float32
    t2 = Tensor(np.zeros(shape))
    getattr(nn.init, name)(t2, **kw, generator=np.random.default_rng(0))
    assert np.array_equal(npy(t2), ours)
    t32 = minigrad.zeros((4, 5), dtype=minigrad.float32)
    getattr(nn.init, name)(t32, **kw, generator=1)
    assert t32.dtype == minigrad.float32 and (t32 != 0).any()
    # a parameter (a leaf that requires grad) is initialised in place too (under no_grad)
    p = nn.Parameter(minigrad.zeros(shape))
    getattr(nn.init, name)(p, **kw, generator=0)
    assert p.is_leaf and p.requires_grad and np.array_equal(npy(p), ours)


def test_init_constants_and_errors():
    t = Tensor(np.full((3, 2), 7.0))
    data = storage(t)
    assert (nn.init.zeros_(t) == 0).all() and np.all(data == 0)      # in place
    assert (nn.init.ones_(t) == 1).all() and np.all(data == 1)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.kaiming_uniform_(Tensor(np.zeros(5)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_normal_(Tensor(np.zeros(5)))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        nn.init.kaiming_normal_(Tensor(np.zeros((2, 2))), mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.kaiming_normal_(Tensor(np.zeros((2, 2))), nonlinearity="gelu")


# ---- scopes ------------------------------------------------------------------------------

def _scope_names(t):
    return [s.name for s in t.scope.path()], [s.kind for s in t.scope.path()]


def test_scope_names(rng):
    x = Tensor(rng.standard_normal((3, 3)))
    net = Net()
    y = net(x)                                           # root without a name: class name
    assert _scope_names(y) == (["Net", "head", "1"], ["Net", "Sequential", "Sigmoid"])
    fc1_out = y.parents[0]                               # sigmoid <- head's linear <- ... block
    while fc1_out.scope.kind != "Block":
        fc1_out = fc1_out.parents[0]
    assert _scope_names(fc1_out) == (["Net", "block"], ["Net", "Block"])
    net.name = "classifier"
    assert net(x).scope.path()[0].name == "classifier"
    lin = nn.Linear(3, 2, generator=0)
    assert _scope_names(lin(x)) == (["Linear"], ["Linear"])
    # a module shared by two parents is named by the parent that calls it
    p1 = nn.Sequential(lin)
    p2 = nn.Sequential(nn.Identity(), lin)
    assert _scope_names(p1(x))[0] == ["Sequential", "0"]
    assert _scope_names(p2(x))[0] == ["Sequential", "1"]
    assert x.scope is None and minigrad.engine.STATE.scope is None


def test_scope_restored_after_an_error(rng):
    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        net(Tensor(np.ones((2, 5))))
    assert minigrad.engine.STATE.scope is None
    y = nn.ReLU()(Tensor(np.ones(2), requires_grad=True))
    assert _scope_names(y) == (["ReLU"], ["ReLU"])


def test_calling_a_model_labels_its_parameters_with_their_names():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net[0].bias.label = "my bias"                  # a user's label is kept
    net(minigrad.Tensor(np.ones((5, 3))))
    labels = [p.label for p in net.parameters()]
    assert labels == ["0.weight", "my bias", "1.weight", "1.bias"]
