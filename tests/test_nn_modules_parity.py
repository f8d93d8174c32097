"""minigrad.nn's modules against torch==2.13.0 (the functions are in test_nn_parity.py): the
activation, loss and Embedding modules, the containers, Module's walks, submodules, modes,
hooks and repr, and nn.utils, each run twice, once with `lib = torch` and once with
`lib = minigrad` (only the import differs), and compared: values, dtypes, shapes, gradients of
inputs and parameters (float64, to 1e-12), state dict keys, reprs, and the exception class for
bad input.
"""

import warnings
from collections import OrderedDict

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
import minigrad.nn as mnn

R = np.random.default_rng(11)
X = R.standard_normal((4, 5)) * 3
P = 1 / (1 + np.exp(-R.standard_normal((4, 3)) * 2))          # probabilities in (0, 1)
T01 = R.random((4, 3))
W = R.standard_normal((7, 3))
IDX = np.array([[0, 2, 2, 6], [1, 0, 2, 4]])



def test_dropout_module_signature_and_inplace():
    for lib in LIBS:
        x = lib.ones(200, 5)
        y = lib.nn.Dropout(0.5, True)(x)                     # inplace, positionally
        assert y is x and set(np.unique(_np(x))) == {0.0, 2.0}
        ev = lib.nn.Dropout(0.5).eval()
        assert (_np(ev(x)) == _np(x)).all()
        keep = lib.ones(3)
        lib.nn.Dropout(0.5)(keep)
        assert (_np(keep) == 1).all()                        # not in place by default
    a = mnn.Dropout(0.5, generator=1)(minigrad.ones(50))
    b = mnn.Dropout(0.5, generator=1)(minigrad.ones(50))
    assert (_np(a) == _np(b)).all()                          # minigrad's generator keyword


def test_everything_of_issue_11_is_exported():
    modules = ["Embedding", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
               "Flatten", "Identity", "Tanh", "Sigmoid", "GELU", "SiLU", "LeakyReLU", "ELU",
               "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
               "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
               "Softplus"]
    functions = ["softmax", "log_softmax", "one_hot", "embedding", "gelu", "silu",
                 "leaky_relu", "elu", "logsigmoid", "softplus", "normalize", "pad", "nll_loss",
                 "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
                 "smooth_l1_loss", "huber_loss", "kl_div", "mse_loss"]
    for name in modules:
        assert issubclass(getattr(mnn, name), mnn.Module) and name in mnn.__all__
    for name in functions:
        assert callable(getattr(minigrad.nn.functional, name))
    import minigrad.nn.utils as utils
    from minigrad.nn.utils import clip_grad_norm_
    assert mnn.utils is utils and utils.clip_grad_norm_ is clip_grad_norm_
    for name in mnn.__all__:
        assert getattr(mnn, name) is not None
    for name in minigrad.nn.functional.__all__:
        assert callable(getattr(minigrad.nn.functional, name))


# ---- activation and loss modules ------------------------------------------------------------

MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("Tanh", (), {}), ("Sigmoid", (), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (), {}),
    ("SELU", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"inplace": True}),
    ("ELU", (0.5,), {}), ("CELU", (2.0,), {}), ("Hardtanh", (-2.0, 3.0), {}),
    ("ReLU6", (), {}), ("Threshold", (0.1, 20.0), {}), ("Softplus", (2.0, 4.0), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}), ("GLU", (0,), {}),
    ("Softmax", (1,), {}), ("Softmin", (0,), {}), ("LogSoftmax", (-1,), {}),
    ("PReLU", (), {}), ("PReLU", (5,), {"init": 0.1}), ("Identity", (3,), {"x": 1}),
    ("Flatten", (), {}), ("Flatten", (0, 1), {}), ("Unflatten", (1, (5, 1)), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=lambda v: str(v))
def test_activation_modules(name, args, kwargs):
    def fn(lib, a):
        m = getattr(lib.nn, name)(*args, **kwargs)
        assert repr(m) == repr(getattr(torch.nn, name)(*args, **kwargs))
        x = a * 1.0 if kwargs.get("inplace") or True in args else a
        out = m(x)
        params = list(m.parameters())
        return lib.cat([out.reshape(-1)] + [p.reshape(-1) for p in params])
    check_parity(fn, [X])


def test_prelu_parameter_gradient():
    def grads(lib):
        m = lib.nn.PReLU(5, init=0.1)
        m(lib.tensor(X * 1.0)).pow(2).sum().backward()
        return m.weight.grad
    same(grads(torch), grads(minigrad))


LOSS_MODULES = [
    ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}), ("KLDivLoss", {"reduction": "batchmean"}),
    ("KLDivLoss", {"log_target": True, "reduction": "sum"}), ("BCELoss", {}),
    ("BCEWithLogitsLoss", {}), ("NLLLoss", {"ignore_index": 1}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}), ("MSELoss", {"size_average": False}),
    ("L1Loss", {"reduce": False}),
]


@pytest.mark.parametrize("name,kw", LOSS_MODULES, ids=lambda v: str(v))
def test_loss_modules(name, kw):
    classes = name in ("NLLLoss", "CrossEntropyLoss")
    x = P if name == "BCELoss" else X[:, :3]
    t = np.array([0, 2, 1, 1]) if classes else (np.log(T01 + 0.1) if kw.get("log_target")
                                                else T01)

    def fn(lib, a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")              # size_average's deprecation
            m = getattr(lib.nn, name)(**kw)
            theirs = getattr(torch.nn, name)(**kw)
        assert repr(m) == repr(theirs) and m.reduction == theirs.reduction
        return m(a, b)
    check_parity(fn, [x, t], [True, not classes])


@pytest.mark.parametrize("name", ["NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss"])
def test_loss_module_weights_are_buffers(name):
    w = R.random(3) + 0.5
    x = P if name.startswith("BCE") else X[:, :3]
    t = T01 if name.startswith("BCE") else np.array([0, 2, 1, 1])

    def fn(lib, a, b, c):
        extra = {"pos_weight": c * 2} if name == "BCEWithLogitsLoss" else {}
        m = getattr(lib.nn, name)(weight=c, **extra)
        keys = list(m.state_dict())
        assert keys == list(getattr(torch.nn, name)(weight=torch.tensor(w), **{
            k: torch.tensor(w) for k in extra}).state_dict())
        assert list(dict(m.named_buffers())) == keys and not list(m.parameters())
        return m(a, b)
    check_parity(fn, [x, t, w], [True, False, False])


# ---- Embedding module -----------------------------------------------------------------------

def test_embedding_module():
    def fn(lib, i, w):
        m = lib.nn.Embedding(7, 3, padding_idx=2)
        assert (m.weight[2] == 0).all() and m.weight.requires_grad
        assert m.weight.dtype == lib.float64 or lib is torch
        with lib.no_grad():
            m.weight.copy_(w)
        m.weight.retain_grad()
        out = m(i)
        return out
    check_parity(fn, [IDX, W], [False, True])
    for kw in ({}, {"padding_idx": -1}, {"max_norm": 1.0, "norm_type": 1.0},
               {"scale_grad_by_freq": True, "sparse": True}):
        assert repr(mnn.Embedding(7, 3, **kw)) == repr(torch.nn.Embedding(7, 3, **kw))
        assert mnn.Embedding(7, 3, **kw).padding_idx == torch.nn.Embedding(7, 3, **kw).padding_idx
    same_error(lambda lib: lib.nn.Embedding(7, 3, padding_idx=7))
    same_error(lambda lib: lib.nn.Embedding(7, 3, padding_idx=-8))
    w = mnn.Embedding(1000, 4, generator=0).weight.detach().numpy()
    assert abs(w.mean()) < 0.1 and abs(w.std() - 1) < 0.1            # N(0, 1)


def test_embedding_parameter_gradient_and_from_pretrained():
    def grads(lib):
        m = lib.nn.Embedding.from_pretrained(lib.tensor(W), freeze=False, padding_idx=0)
        m(lib.tensor(IDX)).pow(2).sum().backward()
        frozen = lib.nn.Embedding.from_pretrained(lib.tensor(W))
        assert not frozen.weight.requires_grad
        return m.weight.grad, frozen(lib.tensor(IDX))
    same(grads(torch), grads(minigrad))


# ---- containers -----------------------------------------------------------------------------

def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            shared = nn.Linear(3, 3)
            self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3), shared, shared])
            self.heads = nn.ModuleDict({"b": nn.Linear(3, 2), "a": nn.Sequential(nn.Tanh())})
            self.scales = nn.ParameterList([lib.ones(3), nn.Parameter(lib.zeros(2, 3))])
            self.extra = nn.ParameterDict({"z": lib.ones(1), "y": nn.Parameter(lib.ones(2))})
            self.emb = nn.Embedding(5, 3)
            self.register_buffer("steps", lib.zeros(1))

        def forward(self, idx):
            x = self.emb(idx)
            for blk in self.blocks:
                x = blk(x).relu()
            x = x * self.scales[0] + self.extra["z"]
            return self.heads["b"](self.heads["a"](x))
    return Net()


def test_containers_register_what_they_hold():
    theirs, ours = _net(torch), _net(minigrad)
    names = [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters()] == names
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_modules(remove_duplicate=False)]
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.children()] == \
        [type(m).__name__ for m in theirs.children()]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert repr(ours).replace("minigrad.", "torch.") == repr(theirs)
    order = {lib: [] for lib in LIBS}
    for lib, net in ((torch, theirs), (minigrad, ours)):
        net.apply(lambda m, lib=lib: order[lib].append(type(m).__name__))
    assert order[minigrad] == order[torch]


def test_containers_forward_and_gradients_with_copied_weights():
    def fn(lib, idx):
        net = _net(lib)
        state = {k: v.detach().numpy() for k, v in _net(torch).state_dict().items()}
        rng = np.random.default_rng(3)
        net.load_state_dict({k: lib.tensor(rng.standard_normal(v.shape)) for k, v in
                             state.items()})
        out = net(idx)
        out.pow(2).sum().backward()
        grads = [p.grad if p.grad is not None else lib.zeros(p.shape)
                 for _, p in net.named_parameters()]
        return lib.cat([out.reshape(-1)] + [g.reshape(-1) for g in grads])
    check_parity(fn, [IDX[:, :3] % 5])


def test_module_list_behaves_like_a_list():
    def ops(lib):
        nn = lib.nn
        ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        ml.append(nn.Sigmoid())
        ml.extend([nn.GELU()])
        ml.insert(1, nn.SiLU())
        ml += [nn.ELU()]
        ml2 = ml + nn.ModuleList([nn.Identity()])
        popped = ml.pop(0)
        del ml[1]
        ml[-1] = nn.Softsign()
        sub = ml[1:3]
        ml[0] = nn.Hardtanh()                    # replacing keeps the place
        seq = nn.Sequential(nn.ReLU(), nn.Tanh())
        seq[0] = nn.GELU()
        return [repr(seq), repr(ml), repr(ml2), repr(popped), repr(sub), type(sub).__name__,
                len(ml),
                [type(m).__name__ for m in ml], [k for k, _ in ml.named_children()],
                repr(nn.ModuleList()), repr(nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU()]))]
    assert ops(minigrad) == ops(torch)
    same_error(lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[1])
    same_error(lambda lib: lib.nn.ModuleList().extend(3))
    same_error(lambda lib: lib.nn.ModuleList()(1))
    same_error(lambda lib: lib.nn.ModuleList([3]))


def test_module_dict_and_parameter_containers():
    def ops(lib):
        nn = lib.nn
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md.update([("c", nn.GELU())])
        md["d"] = nn.Identity()
        popped = md.pop("b")
        out = [list(md.keys()), [type(m).__name__ for m in md.values()], "a" in md, len(md),
               repr(popped), list(md)]
        pl = nn.ParameterList([lib.ones(2)])
        pl.append(lib.zeros(3, 2))
        pl.extend([nn.Parameter(lib.ones(1))])
        pl[0] = lib.full((2,), 3.0)
        out += [len(pl), [type(p).__name__ for p in pl], [p.requires_grad for p in pl],
                [n for n, _ in pl.named_parameters()], len(pl[1:]),
                repr(pl).replace("minigrad.", "torch.")]
        pd = nn.ParameterDict({"w": lib.ones(2), "b": lib.zeros(1)})
        pd["c"] = nn.Parameter(lib.ones(3))
        pd.update(OrderedDict([("e", lib.ones(1)), ("d", lib.ones(1))]))
        pd.update({"g": lib.ones(1), "f": lib.ones(1)})
        del pd["w"]
        out += [list(pd.keys()), [n for n, _ in pd.named_parameters()], "b" in pd,
                pd.get("x") is None, len(pd), repr(pd).replace("minigrad.", "torch."),
                type(pd["b"]).__name__]
        return out
    assert ops(minigrad) == ops(torch)
    same_error(lambda lib: lib.nn.ModuleDict().update(3))
    same_error(lambda lib: lib.nn.ModuleDict().update([("a",)]))
    same_error(lambda lib: lib.nn.ModuleDict({"training": lib.nn.ReLU()}))
    same_error(lambda lib: lib.nn.ModuleDict()["missing"])
    same_error(lambda lib: lib.nn.ParameterList()(1))
    same_error(lambda lib: lib.nn.ParameterList().extend(lib.ones(2)))
    same_error(lambda lib: lib.nn.ParameterDict()[0])


def test_parameter_list_shares_the_tensor_it_wraps():
    t = minigrad.ones(3)
    pl = mnn.ParameterList([t])
    assert isinstance(pl[0], mnn.Parameter) and pl[0].requires_grad
    with minigrad.no_grad():
        pl[0].mul_(2.0)
    assert (t == 2).all()


# ---- Module: walks, submodules, modes, hooks, repr --------------------------------------------

def test_get_submodule_parameter_buffer():
    def ops(lib):
        net = _net(lib)
        return [type(net.get_submodule("")).__name__, type(net.get_submodule("blocks.1")).__name__,
                type(net.get_submodule("heads.a.0")).__name__,
                tuple(net.get_parameter("blocks.0.weight").shape),
                tuple(net.get_buffer("steps").shape), tuple(net.get_parameter("scales.1").shape)]
    assert ops(minigrad) == ops(torch)
    for call in (lambda n: n.get_submodule("blocks.9"), lambda n: n.get_submodule("steps"),
                 lambda n: n.get_submodule("blocks.0.weight"),
                 lambda n: n.get_parameter("steps"), lambda n: n.get_parameter("blocks.0.nope"),
                 lambda n: n.get_buffer("blocks.0.weight"), lambda n: n.get_buffer("x.y")):
        theirs, ours = same_error(lambda lib, c=call: c(_net(lib)))
        assert str(ours) == str(theirs)


def test_train_eval_go_through_children_train():
    def ops(lib):
        seen = []

        class Loud(lib.nn.Module):
            def train(self, mode=True):
                seen.append(mode)
                return super().train(mode)

        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(Loud(), lib.nn.Dropout()))
        assert net.eval() is net and net.train() is net
        net[1].eval()
        return seen, [m.training for m in net.modules()]
    assert ops(minigrad) == ops(torch)
    same_error(lambda lib: lib.nn.Linear(2, 2).train("yes"))


def test_forward_hooks():
    def run(lib):
        nn, log = lib.nn, []
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        with lib.no_grad():
            for i, p in enumerate(net.parameters()):
                p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)) + i))
        h1 = net[0].register_forward_hook(lambda m, a, o: log.append(("post", len(a))))
        h2 = net[0].register_forward_pre_hook(lambda m, a: log.append(("pre", len(a))))
        h3 = net[1].register_forward_hook(lambda m, a, o: o * 2)            # replaces output
        h4 = net[2].register_forward_pre_hook(lambda m, a: a[0] + 1)         # replaces input
        h5 = net[0].register_forward_hook(lambda m, a, o: log.append("first"), prepend=True)
        h6 = net.register_forward_pre_hook(
            lambda m, a, kw: (a, kw) if log.append(("kw", sorted(kw))) else None,
            with_kwargs=True)
        h7 = net.register_forward_hook(lambda m, a, kw, o: log.append(("kwpost", tuple(o.shape))),
                                       with_kwargs=True)
        x = lib.tensor(np.linspace(-2, 2, 6).reshape(2, 3), requires_grad=True)
        y1 = net(x)
        y1.sum().backward()
        grad = x.grad.clone()
        for h in (h1, h2, h3, h4, h5, h6, h7):
            h.remove()
        h1.remove()                                  # twice is harmless
        y2 = net(x)
        with net.register_forward_hook(lambda m, a, o: log.append("ctx")):
            net(x)
        net(x)
        return log, y1, grad, y2, len(net._forward_hooks), len(net[0]._forward_pre_hooks)
    theirs, ours = run(torch), run(minigrad)
    assert ours[0] == theirs[0]
    same(theirs[1:4], ours[1:4])
    assert ours[4:] == theirs[4:] == (0, 0)


def test_forward_hooks_always_call_and_bad_pre_hook_result():
    def run(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, a, o: log.append("plain"))
        m.register_forward_hook(lambda mod, a, o: log.append(("always", o)), always_call=True)
        with pytest.raises(ValueError):
            m(lib.ones(1))
        return log
    assert run(minigrad) == run(torch) == [("always", None)]

    def bad(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, a, kw: 3, with_kwargs=True)
        m(lib.ones(1))
    same_error(bad)


def test_missing_forward_is_not_implemented():
    theirs, ours = same_error(lambda lib: lib.nn.Module()(1))
    assert str(ours) == str(theirs)


def test_repr_of_a_model_using_the_new_modules():
    def build(lib):
        nn = lib.nn
        return nn.Sequential(OrderedDict([
            ("emb", nn.Embedding(27, 10, padding_idx=0)), ("flat", nn.Flatten()),
            ("blocks", nn.ModuleList([nn.Sequential(nn.Linear(30, 30), nn.GELU())
                                      for _ in range(3)] + [nn.LeakyReLU(0.1, inplace=True)])),
            ("heads", nn.ModuleDict({"act": nn.ELU(), "out": nn.LogSoftmax(dim=1)})),
            ("loss", nn.CrossEntropyLoss()), ("p", nn.PReLU()), ("empty", nn.ModuleList()),
        ]))
    assert repr(build(minigrad)) == repr(build(torch))


def test_module_conveniences():
    def ops(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
        net(lib.ones(4, 2)).sum().backward()
        assert net.cpu() is net and net.requires_grad_(False) is net
        frozen = [p.requires_grad for p in net.parameters()]
        net.requires_grad_()
        net.zero_grad()
        return frozen, [p.grad for p in net.parameters()], net._get_name()
    assert ops(minigrad) == ops(torch)


# ---- nn.utils ---------------------------------------------------------------------------------

GRADS = [R.standard_normal((3, 4)), R.standard_normal(5), R.standard_normal((2, 2)) * 10]


def _with_grads(lib, grads=GRADS, none_at=None):
    ps = []
    for i, g in enumerate(grads):
        p = lib.nn.Parameter(lib.zeros(g.shape, dtype=lib.float64))
        if i != none_at:
            p.grad = lib.tensor(g)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 0.5, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    def run(lib):
        ps = _with_grads(lib, none_at=1)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        return [total] + [p.grad for p in ps]
    same(run(torch), run(minigrad))


def test_clip_grad_norm_special_cases():
    def run(lib):
        one = _with_grads(lib)[0]
        single = lib.nn.utils.clip_grad_norm_(one, 1.0)              # a single tensor
        gen = lib.nn.utils.clip_grad_norm_((p for p in _with_grads(lib)), 2.0)
        nothing = lib.nn.utils.clip_grad_norm_([lib.nn.Parameter(lib.ones(2))], 1.0)
        total = lib.nn.utils.get_total_norm([lib.tensor(g) for g in GRADS], 2.0)
        ps = _with_grads(lib)
        lib.nn.utils.clip_grads_with_norm_(ps, 1.0, total)
        return [single, one.grad, gen, nothing.to(lib.float64), total] + [p.grad for p in ps]
    same(run(torch), run(minigrad))
    for lib in LIBS:
        with pytest.warns(UserWarning, match="empty generator"):
            lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    same_error(lambda lib: lib.nn.utils.clip_grad_norm_(
        _with_grads(lib, [np.array([np.inf, 1.0])]), 1.0, error_if_nonfinite=True))


def test_clip_grad_value_and_vectors():
    def run(lib):
        ps = _with_grads(lib, none_at=0)
        assert lib.nn.utils.clip_grad_value_(ps, 0.7) is None
        lib.nn.utils.clip_grad_value_(ps[1], 0.1)
        net = lib.nn.Linear(3, 2)
        vec = lib.nn.utils.parameters_to_vector(net.parameters())
        new = lib.tensor(np.arange(8.0))
        lib.nn.utils.vector_to_parameters(new, net.parameters())
        return [p.grad for p in ps] + [tuple(vec.shape), net.weight, net.bias]
    theirs, ours = run(torch), run(minigrad)
    same(theirs[:3], ours[:3])
    assert theirs[3] == tuple(ours[3])
    same([p.detach().to(torch.float64) for p in theirs[4:]], [p.detach() for p in ours[4:]])
    same_error(lambda lib: lib.nn.utils.vector_to_parameters([1.0], [lib.ones(1)]))


def test_clip_grad_norm_in_a_training_step():
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.SiLU(), lib.nn.Linear(8, 3))
        state = {k: lib.tensor(np.random.default_rng(5).standard_normal(tuple(v.shape)))
                 for k, v in net.state_dict().items()}
        net.load_state_dict(state)
        opt = lib.optim.SGD(net.parameters(), lr=0.1)
        x = lib.tensor(np.random.default_rng(6).standard_normal((16, 4)))
        y = lib.tensor(np.random.default_rng(7).integers(0, 3, 16))
        norms = []
        for _ in range(3):
            opt.zero_grad()
            loss = lib.nn.CrossEntropyLoss()(net(x), y)
            loss.backward()
            norms.append(lib.nn.utils.clip_grad_norm_(net.parameters(), 0.5))
        opt.step()
        return norms + [p.detach() for p in net.parameters()]
    same(run(torch), run(minigrad), rtol=1e-10, atol=1e-12)


# ---- composition only ------------------------------------------------------------------------

def test_new_modules_have_no_backward_code():
    import inspect

    from minigrad.nn import activation, containers, embedding, hooks, loss, utils
    for mod in (activation, containers, embedding, hooks, loss, utils):
        src = inspect.getsource(mod)
        assert "def backward" not in src and "apply(" not in src.replace(".apply(", ""), mod
