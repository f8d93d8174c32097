"""Safe mutation (issue 10), checked against torch==2.13.0.

In-place ops and augmented assignments update the tensor itself and are recorded in the graph;
PyTorch's rules for mutation (leaves, views, no_grad, `.data`); version counters, so backward
raises instead of computing with changed data; copies where PyTorch copies; tensors as
indices; singular points; the "also found" items; and random short programs of mutations that
must give PyTorch's gradients or raise where PyTorch raises.

Most checks run one program, written once in PyTorch's dialect, on both engines (`lib` is
`torch` or `minigrad`) with the same float64 data: values and every leaf's gradient must agree
to 1e-12, or, where PyTorch raises, minigrad must raise the same class (with PyTorch's words
where the bullet asks for them).
"""

from __future__ import annotations

import inspect
import operator
import re
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad

torch = pytest.importorskip("torch")

S = (3, 4)
TOL = {"rtol": 1e-12, "atol": 1e-12}
LEAF_WORDS = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_WORDS = ("a view of a leaf Variable that requires grad is being used in an "
                      "in-place operation.")
MODIFIED_WORDS = "modified by an inplace operation"


# ---- helpers ----------------------------------------------------------------------------------

def data(kind: str, shape: tuple = S, seed: object = 0) -> np.ndarray:
    """Test data of a kind (the same numbers on every run for the same seed)."""
    rng = np.random.default_rng(zlib.crc32(repr((kind, shape, seed)).encode()))
    if kind == "any":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * (0.3 + np.abs(rng.standard_normal(shape)))
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "ties":              # few distinct values: comparisons are sometimes equal
        return rng.integers(0, 3, shape).astype(np.float64)
    if kind == "int":
        return rng.integers(-8, 9, shape).astype(np.int64)
    if kind == "mask":
        m = rng.random(shape) < 0.5
        m.flat[0], m.flat[-1] = True, False
        return m
    if kind == "naninf":
        a = rng.standard_normal(shape)
        a.flat[1], a.flat[2], a.flat[3] = np.nan, np.inf, -np.inf
        return a
    if kind == "col":               # indices into the last dim of S (scatter_add_)
        return rng.integers(0, S[-1], shape).astype(np.int64)
    raise ValueError(kind)


def values_of(t) -> np.ndarray:
    """A tensor's values (either engine) as a fresh ndarray."""
    return np.array(t.detach().numpy(), copy=True)


def dtype_name(t) -> str:
    return str(t.dtype).rsplit(".", 1)[-1]


def assert_close(mine: np.ndarray, theirs: np.ndarray, what: str) -> None:
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape}, PyTorch {theirs.shape}"
    if theirs.dtype.kind in "biu" or mine.dtype.kind in "biu":
        np.testing.assert_array_equal(mine, theirs, err_msg=what)
    elif np.float32 in (mine.dtype, theirs.dtype):      # float32 results: to float32's eps
        assert mine.dtype == theirs.dtype, f"{what}: dtype {mine.dtype}, PyTorch {theirs.dtype}"
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6, err_msg=what)
    else:       # NaN and inf must be where PyTorch has them
        np.testing.assert_allclose(mine, theirs, **TOL, err_msg=what)


@dataclass
class Outcome:
    values: list
    dtypes: list
    grads: list
    error: BaseException | None = None


def run(lib, program, arrays, requires_grad: bool = True) -> Outcome:
    """`program(lib, *leaves)` on one engine. Float arrays become leaves that require grad
    (with `requires_grad`); others (ints, masks) plain tensors. The program returns None, a
    tensor or a tuple of tensors (their values are compared)."""
    xs = [lib.tensor(np.array(a, copy=True),
                     requires_grad=requires_grad and np.asarray(a).dtype.kind == "f")
          for a in arrays]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch's deprecations (uint8 masks, ...)
            out = program(lib, *xs)
    except Exception as err:  # noqa: BLE001  (any error is compared with PyTorch's)
        return Outcome([], [], [], err)
    outs = () if out is None else out if isinstance(out, tuple) else (out,)
    return Outcome([values_of(o) for o in outs], [dtype_name(o) for o in outs],
                   [None if x.grad is None else values_of(x.grad) for x in xs])


def check_same(program, *arrays, words=(), requires_grad: bool = True) -> Outcome:
    """Run `program` on both engines: PyTorch's values and gradients (every leaf's, to 1e-12),
    or PyTorch's error class (and `words`, which must be in PyTorch's message too)."""
    th = run(torch, program, arrays, requires_grad)
    mg = run(minigrad, program, arrays, requires_grad)
    if isinstance(th.error, AssertionError):    # a program's own check fails on PyTorch
        raise AssertionError("the test's expectation does not hold for PyTorch") from th.error
    if th.error is not None:
        for w in words:
            assert w in str(th.error), f"the test's words {w!r} are not PyTorch's: {th.error}"
        if mg.error is None:
            pytest.fail(f"PyTorch raises {type(th.error).__name__}: {th.error}\n"
                        f"minigrad does not (values {mg.values}, grads {mg.grads})")
        if not isinstance(mg.error, type(th.error)):
            pytest.fail(f"PyTorch raises {type(th.error).__name__}: {th.error}\n"
                        f"minigrad raises {type(mg.error).__name__}: {mg.error}")
        for w in words:
            if w not in str(mg.error):
                pytest.fail(f"{w!r} missing from minigrad's message: {mg.error}")
        return mg
    assert not words, f"PyTorch does not raise (the test expected {words})"
    if mg.error is not None:
        raise AssertionError(f"minigrad raises where PyTorch gives values {th.values} and "
                             f"grads {th.grads}") from mg.error
    assert len(mg.values) == len(th.values)
    for i, (a, b) in enumerate(zip(mg.values, th.values)):
        assert_close(a, b, f"value {i}")
    assert mg.dtypes == th.dtypes, f"dtypes {mg.dtypes}, PyTorch {th.dtypes}"
    for i, (a, b) in enumerate(zip(mg.grads, th.grads)):
        assert (a is None) == (b is None), (
            f"leaf {i}: .grad is {'None' if a is None else 'set'} in minigrad, "
            f"{'None' if b is None else 'set'} in PyTorch")
        if a is not None:
            assert_close(a, b, f"grad of leaf {i}")
    return mg


def raised(lib, fn) -> BaseException:
    """The error `fn(lib)` raises (fails if it raises nothing)."""
    try:
        fn(lib)
    except Exception as err:  # noqa: BLE001
        return err
    pytest.fail(f"{lib.__name__}: no error")


def weights(shape: tuple = S, seed: object = "w") -> np.ndarray:
    """Fixed upstream weights, so gradients are not all ones."""
    return data("any", shape, seed)


# ---- in-place ops: every one against PyTorch ----------------------------------------------

@dataclass(frozen=True)
class Arg:
    """An operand the test draws: a kind of data (see `data`), a shape and a dtype."""
    kind: str = "any"
    shape: tuple = S
    dtype: str = "float64"


@dataclass(frozen=True)
class V:
    """One call of an in-place method: `self.<name>(*args, **kwargs)` on data of `self_kind`."""
    name: str
    args: tuple = ()
    kwargs: tuple = ()                 # (key, value) pairs
    self_kind: str = "any"
    tag: str = ""

    @property
    def id(self) -> str:
        return self.name + (f"-{self.tag}" if self.tag else "")

    def arrays(self) -> list[np.ndarray]:
        """self's data, then each Arg's, in order."""
        out = [data(self.self_kind, S, (self.id, "self"))]
        for i, a in enumerate(self.placeholders()):
            arr = data(a.kind, a.shape, (self.id, i))
            out.append(arr.astype(a.dtype) if arr.dtype.kind == "f" else arr)
        return out

    def placeholders(self) -> list[Arg]:
        return [a for a in list(self.args) + [v for _, v in self.kwargs] if isinstance(a, Arg)]

    def call(self, t, operands):
        """`t.<name>(...)` with the operands (tensors of either engine) in the Args' places."""
        it = iter(operands)
        args = [next(it) if isinstance(a, Arg) else a for a in self.args]
        kwargs = {k: next(it) if isinstance(v, Arg) else v for k, v in self.kwargs}
        return getattr(t, self.name)(*args, **kwargs)


A, POS, NZ, ROW = Arg(), Arg("pos"), Arg("nonzero"), Arg("any", (S[-1],))
MASK, TIES, INT = Arg("mask", S, "bool"), Arg("ties"), Arg("int", S, "int64")
SCALAR = Arg("any", ())

VARIANTS = [
    V("add_", (A,)), V("add_", (ROW,), tag="broadcast"), V("add_", (2.5,), tag="number"),
    V("add_", (A,), (("alpha", 0.5),), tag="alpha"),
    V("add_", (Arg("any", S, "float32"),), tag="float32"),
    V("sub_", (A,)), V("sub_", (A,), (("alpha", 2.0),), tag="alpha"),
    V("sub_", (1.5,), tag="number"), V("subtract_", (A,)),
    V("mul_", (A,)), V("mul_", (ROW,), tag="broadcast"), V("mul_", (-3.0,), tag="number"),
    V("mul_", (SCALAR,), tag="0d"), V("mul_", (Arg("any", S, "float32"),), tag="float32"),
    V("multiply_", (A,)),
    V("div_", (NZ,)), V("div_", (2.0,), tag="number"),
    V("div_", (NZ,), (("rounding_mode", "floor"),), tag="floor"),
    V("div_", (NZ,), (("rounding_mode", "trunc"),), tag="trunc"),
    V("divide_", (NZ,)), V("true_divide_", (NZ,)),
    V("pow_", (2,), tag="2"), V("pow_", (0.5,), self_kind="pos", tag="half"),
    V("pow_", (-1,), self_kind="nonzero", tag="-1"), V("pow_", (A,), self_kind="pos", tag="tensor"),
    V("float_power_", (2.0,)), V("float_power_", (A,), self_kind="pos", tag="tensor"),
    V("square_"), V("sqrt_", self_kind="pos"), V("rsqrt_", self_kind="pos"),
    V("reciprocal_", self_kind="nonzero"),
    V("neg_"), V("negative_"), V("abs_", self_kind="nonzero"),
    V("absolute_", self_kind="nonzero"),
    V("exp_"), V("expm1_"), V("log_", self_kind="pos"), V("log1p_", self_kind="pos"),
    V("log2_", self_kind="pos"), V("log10_", self_kind="pos"),
    V("sin_"), V("cos_"), V("tanh_"), V("sigmoid_"), V("erf_"),
    V("relu_", self_kind="nonzero"), V("sign_", self_kind="nonzero"),
    V("floor_"), V("ceil_"), V("trunc_"), V("fix_"), V("frac_"), V("round_"),
    V("round_", (), (("decimals", 2),), tag="decimals"),
    V("clamp_", (-0.5, 0.5)), V("clamp_", (), (("min", -0.3),), tag="min"),
    V("clamp_", (), (("max", 0.2),), tag="max"),
    V("clamp_", (), (("min", A),), tag="tensor_min"),
    V("clamp_", (A, Arg("any", S, "float64")), tag="tensor_both"),
    V("clip_", (-0.5, 0.5)),
    V("fmod_", (NZ,)), V("fmod_", (0.7,), tag="number"),
    V("remainder_", (NZ,)), V("remainder_", (0.7,), tag="number"),
    V("floor_divide_", (NZ,)),
    V("addcmul_", (A, A), (("value", -2.0),)), V("addcmul_", (A, ROW), tag="broadcast"),
    V("addcdiv_", (A, NZ), (("value", 0.5),)), V("addcdiv_", (A, NZ), tag="value1"),
    V("lerp_", (A, 0.3)), V("lerp_", (A, Arg("unit")), tag="tensor_weight"),
    V("masked_fill_", (MASK, 0.5)), V("masked_fill_", (Arg("mask", (S[-1],), "bool"), -1.0),
                                      tag="broadcast"),
    V("masked_fill_", (MASK, SCALAR), tag="0d_value"),
    V("fill_", (1.5,)), V("fill_", (SCALAR,), tag="0d_tensor"), V("zero_"),
    V("copy_", (A,)), V("copy_", (ROW,), tag="broadcast"),
    V("copy_", (Arg("any", S, "float32"),), tag="float32"),
    V("scatter_add_", (1, Arg("col", (S[0], 2), "int64"), Arg("any", (S[0], 2)))),
    V("nan_to_num_", self_kind="naninf"), V("nan_to_num_", (), (("nan", 0.5), ("posinf", 9.0)),
                                            self_kind="naninf", tag="values"),
    V("eq_", (TIES,), self_kind="ties"), V("ne_", (TIES,), self_kind="ties"),
    V("not_equal_", (TIES,), self_kind="ties"),
    V("lt_", (TIES,), self_kind="ties"), V("le_", (TIES,), self_kind="ties"),
    V("gt_", (1.0,), self_kind="ties"), V("ge_", (TIES,), self_kind="ties"),
    V("less_", (TIES,), self_kind="ties"), V("less_equal_", (TIES,), self_kind="ties"),
    V("greater_", (TIES,), self_kind="ties"), V("greater_equal_", (TIES,), self_kind="ties"),
    V("logical_and_", (TIES,), self_kind="ties"), V("logical_or_", (TIES,), self_kind="ties"),
    V("logical_xor_", (TIES,), self_kind="ties"), V("logical_not_", self_kind="ties"),
    V("bitwise_and_", (INT,), self_kind="int"), V("bitwise_or_", (INT,), self_kind="int"),
    V("bitwise_xor_", (INT,), self_kind="int"), V("bitwise_not_", self_kind="int"),
]
# Random fills: their values are drawn, so they are checked by their distribution (below).
RANDOM = {"normal_", "uniform_", "bernoulli_", "exponential_", "random_"}
# Methods that end in "_" without changing the data: checked on their own (below).
FLAGS = {"requires_grad_", "detach_"}
GRAD_VARIANTS = [v for v in VARIANTS if v.self_kind not in ("int",)]


def test_every_inplace_method_of_tensor_is_checked_here():
    """Deliverable "every elementwise op that PyTorch has in place": each in-place method
    minigrad has is in this file's table (so each is compared with PyTorch), and each exists
    in PyTorch under the same name."""
    names = {n for n in dir(minigrad.Tensor) if n.endswith("_") and not n.startswith("_")}
    checked = {v.name for v in VARIANTS} | RANDOM | FLAGS
    assert names - checked == set(), "in-place methods without a check in test_mutation.py"
    assert {n for n in names if not hasattr(torch.Tensor, n)} == set()


def _elementwise_functions() -> list[str]:
    """The elementwise functions minigrad provides (declared in functions/pointwise.py)."""
    from minigrad import _bind
    from minigrad.functions import pointwise
    return sorted(n for n, f in _bind.METHODS.items()
                  if getattr(f, "__module__", "") == pointwise.__name__
                  and not n.endswith("_") and not n.startswith("__"))


def test_elementwise_functions_have_pytorchs_inplace_variants():
    """Deliverable: "every elementwise op that PyTorch has in place": for each elementwise
    function minigrad provides, if PyTorch has `name_`, minigrad has it too (each is then
    compared with PyTorch in test_inplace_op_updates_the_tensor_itself)."""
    names = _elementwise_functions()
    assert {"exp", "add", "mul", "clamp", "sqrt"} <= set(names)    # the discovery works
    wanted = {n + "_" for n in names if hasattr(torch.Tensor, n + "_")}
    missing = sorted(n for n in wanted if not hasattr(minigrad.Tensor, n))
    assert missing == [], f"PyTorch has these in place, minigrad does not: {missing}"
    assert wanted <= {v.name for v in VARIANTS}, "a PyTorch in-place variant is not in the table"


@pytest.mark.parametrize("v", VARIANTS, ids=lambda v: v.id)
def test_inplace_op_updates_the_tensor_itself(v):
    """Deliverable, in-place ops as in PyTorch: `t.op_(...)` returns t itself, writes into
    t's own storage, keeps t's dtype, and gives PyTorch's values."""
    arrays = v.arrays()
    got = {}
    for lib in (torch, minigrad):
        t = lib.tensor(arrays[0].copy())
        storage = t.numpy()
        operands = [lib.tensor(a.copy()) for a in arrays[1:]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = v.call(t, operands)
        got[lib] = (out is t, np.shares_memory(storage, t.numpy()), values_of(t), dtype_name(t))
    same_object, same_storage, values, dtype = got[minigrad]
    assert same_object, f"{v.name} returned a new object"
    assert same_storage, f"{v.name} did not write into the tensor's storage"
    assert dtype == got[torch][3]
    assert_close(values, got[torch][2], v.id)


@pytest.mark.parametrize("v", GRAD_VARIANTS, ids=lambda v: v.id)
def test_inplace_op_in_a_graph_gives_pytorchs_gradients(v):
    """Deliverable: an in-place op on a tensor that is part of a graph is recorded, so every
    leaf (the tensor's input and each tensor operand) gets PyTorch's gradient."""
    w = weights()

    def program(lib, x, *operands):
        y = x.clone()                    # a non-leaf: in-place ops on it are recorded
        v.call(y, operands)
        (y * lib.tensor(w)).sum().backward()
        return y

    check_same(program, *v.arrays())


@pytest.mark.parametrize("v", [v for v in GRAD_VARIANTS if v.self_kind != "naninf"],
                         ids=lambda v: v.id)
def test_inplace_op_bumps_the_version_of_a_saved_tensor(v):
    """Deliverable, version counters: every in-place op bumps its tensor's version, so
    backward through an op that saved the old value raises (as in PyTorch), naming the
    change."""
    def program(lib, x, k, *operands):
        y = x.clone()
        z = y * k                        # saves y (k requires grad)
        v.call(y, operands)
        z.sum().backward()

    check_same(program, v.arrays()[0], data("any", S, "k"), *v.arrays()[1:],
               words=(MODIFIED_WORDS,))


@pytest.mark.parametrize("name,args", [
    ("normal_", (0.5, 2.0)), ("uniform_", (-1.0, 3.0)), ("exponential_", (2.0,)),
    ("bernoulli_", (0.3,)), ("random_", (3, 9)),
])
def test_random_fill_is_in_place_and_drawn_as_pytorchs(name, args):
    """Deliverable, in-place initialisers: `normal_ uniform_ exponential_ bernoulli_ random_`
    fill the tensor itself (same object and storage, dtype kept) with draws of PyTorch's
    distribution (mean, spread and range agree with PyTorch's own draws), reproducibly with a
    seeded generator."""
    shape = (200, 100)
    got = {}
    for lib in (torch, minigrad):
        t = lib.zeros(shape, dtype=lib.float64)
        storage = t.numpy()
        out = getattr(t, name)(*args, generator=lib.Generator().manual_seed(3))
        again = getattr(lib.zeros(shape, dtype=lib.float64), name)(
            *args, generator=lib.Generator().manual_seed(3))
        vals = values_of(t)
        got[lib] = vals
        if lib is minigrad:
            assert out is t and np.shares_memory(storage, t.numpy())
            assert dtype_name(t) == "float64"
            np.testing.assert_array_equal(vals, values_of(again))
    mine, theirs = got[minigrad], got[torch]
    n = mine.size
    assert abs(mine.mean() - theirs.mean()) < 6 * theirs.std() / np.sqrt(n)
    assert abs(mine.std() - theirs.std()) < 0.05 * theirs.std()
    assert theirs.min() - 0.05 * theirs.std() <= mine.min()
    assert mine.max() <= theirs.max() + 0.05 * theirs.std()
    integral = lambda a: bool(np.all(a == np.round(a)))  # noqa: E731
    assert integral(mine) == integral(theirs)


@pytest.mark.parametrize("name,args", [
    ("normal_", ()), ("uniform_", ()), ("exponential_", ()), ("bernoulli_", (0.5,)),
    ("random_", (0, 5)),
])
def test_random_fill_in_a_graph_gives_pytorchs_gradients(name, args):
    """Deliverable: a random fill on a non-leaf is recorded (what flowed to the old values is
    cut, as PyTorch's); on a leaf that requires grad it raises PyTorch's error."""
    def program(lib, x, k):
        y = x * k
        getattr(y, name)(*args)
        (y * lib.tensor(weights())).sum().backward()

    check_same(program, data("any"), data("any", S, 1))

    def on_leaf(lib, x):
        getattr(x, name)(*args)

    check_same(on_leaf, data("any"), words=(LEAF_WORDS,))


def test_requires_grad_and_detach_in_place_flags():
    """`requires_grad_` and `detach_` change flags, not data, as in PyTorch: detach_ turns a
    non-leaf into a leaf outside the graph; on a view it raises; requires_grad_(False) on a
    non-leaf raises."""
    def flags(lib, x):
        y = x * 2
        z = y.detach_()
        c = lib.tensor(np.ones(3)).requires_grad_()
        return lib.tensor([z is y, y.requires_grad, y.is_leaf, y.grad_fn is None,
                           c.requires_grad, c.is_leaf]), y

    check_same(flags, np.ones(3))

    def detach_view(lib, x):
        (x * 1)[1:].detach_()

    check_same(detach_view, np.ones(3), words=("Can't detach views in-place",))

    def nonleaf_off(lib, x):
        (x * 1).requires_grad_(False)

    check_same(nonleaf_off, np.ones(3))


# ---- augmented assignment ---------------------------------------------------------------------

AUGMENTED = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
             "/=": operator.itruediv, "**=": operator.ipow}
OPERANDS = {"tensor": (S, "nonzero"), "row": ((S[-1],), "nonzero"), "number": None}


@pytest.mark.parametrize("operand", OPERANDS)
@pytest.mark.parametrize("op", AUGMENTED)
def test_augmented_assignment_updates_in_place(op, operand):
    """Deliverable: `+= -= *= /= **=` on a Tensor update it in place (the same object and
    storage afterwards), with PyTorch's values."""
    base = data("pos", S, op)
    other = 1.7 if operand == "number" else data(OPERANDS[operand][1], OPERANDS[operand][0], op)
    got = {}
    for lib in (torch, minigrad):
        t = lib.tensor(base.copy())
        before, storage = t, t.numpy()
        t = AUGMENTED[op](t, other if operand == "number" else lib.tensor(other.copy()))
        got[lib] = (t is before, np.shares_memory(storage, t.numpy()), values_of(t))
    assert got[minigrad][0], f"{op} rebound the name to a new tensor"
    assert got[minigrad][1], f"{op} did not write into the tensor's storage"
    assert_close(got[minigrad][2], got[torch][2], op)


@pytest.mark.parametrize("operand", OPERANDS)
@pytest.mark.parametrize("op", AUGMENTED)
def test_augmented_assignment_in_a_graph_gives_pytorchs_gradients(op, operand):
    """Deliverable: an augmented assignment on a non-leaf is recorded in the graph (the
    gradient reaches the tensor's input and the operand as in PyTorch)."""
    def program(lib, x, *other):
        y = x * 1.5
        y = AUGMENTED[op](y, other[0] if other else 1.7)
        (y * lib.tensor(weights())).sum().backward()
        return y

    others = () if operand == "number" else (data(OPERANDS[operand][1], OPERANDS[operand][0],
                                                  op),)
    check_same(program, data("pos", S, op), *others)


@pytest.mark.parametrize("op", AUGMENTED)
def test_augmented_assignment_on_a_leaf_that_requires_grad_raises(op):
    """Rules: `x += 1` on a leaf that requires grad raises PyTorch's error (it does not turn
    x into a new non-leaf), and x is unchanged."""
    def program(lib, x):
        AUGMENTED[op](x, 1.5)

    check_same(program, data("pos"), words=(LEAF_WORDS,))
    x = minigrad.tensor(data("pos"), requires_grad=True)
    with pytest.raises(RuntimeError):
        AUGMENTED[op](x, 1.5)
    assert x.is_leaf and x.grad_fn is None
    np.testing.assert_array_equal(values_of(x), data("pos"))


@pytest.mark.parametrize("op", ["-=", "+="])
def test_hand_written_sgd_under_no_grad_updates_the_parameter(op):
    """Issue: `with no_grad(): p -= lr * p.grad` (the classic loop) updates p in place: the
    same leaf, still requiring grad, with PyTorch's values after three steps."""
    def program(lib, p, x):
        storage = p.detach().numpy()
        for _ in range(3):
            loss = ((x @ p).tanh() ** 2).sum()
            loss.backward()
            with lib.no_grad():
                AUGMENTED[op](p, (-0.1 if op == "+=" else 0.1) * p.grad)
            assert p.is_leaf and p.requires_grad
            assert np.shares_memory(storage, p.detach().numpy())
            p.grad = None
        return p

    check_same(program, data("any", (4, 2)), data("any", (5, 4)))


@pytest.mark.parametrize("op,kind,other", [
    ("/=", "int", 2), ("*=", "int", 2.5), ("+=", "int", "float_tensor"),
    ("+=", "float32", "float64_tensor"), ("*=", "float32", 0.5), ("+=", "int", 3),
])
def test_augmented_assignment_keeps_the_tensors_dtype(op, kind, other):
    """Deliverable (PyTorch's rules): an in-place result keeps the tensor's dtype; a result
    of a higher category (a float into an integer tensor) raises RuntimeError as PyTorch's
    "result type Float can't be cast to the desired output type Long"."""
    base = data("int") if kind == "int" else data("any").astype(np.float32)

    def program(lib, t):
        o = lib.tensor(data("any")) if isinstance(other, str) else other    # a float64 tensor
        t = AUGMENTED[op](t, o)
        return t

    check_same(program, base, requires_grad=False)


# ---- __setitem__ ------------------------------------------------------------------------------

def _t(lib, value, dtype=None):
    return lib.tensor(value) if dtype is None else lib.tensor(value, dtype=dtype)


SETITEM = {
    "int": lambda lib, y, v: y.__setitem__(1, v[0] * 2),
    "negative_int_number": lambda lib, y, v: y.__setitem__(-1, 0.5),
    "int_pair": lambda lib, y, v: y.__setitem__((2, 1), v[0, 3]),
    "slice": lambda lib, y, v: y.__setitem__(slice(1, None), v[:2]),
    "slice_step": lambda lib, y, v: y.__setitem__((slice(None, None, 2), slice(1, 3)),
                                                  v[:2, :2]),
    "broadcast_row": lambda lib, y, v: y.__setitem__(slice(1, None), v[0]),
    "broadcast_0d": lambda lib, y, v: y.__setitem__((slice(None), 2), v[0, 0]),
    "ellipsis": lambda lib, y, v: y.__setitem__((Ellipsis, 0), v[:, 1]),
    "everything": lambda lib, y, v: y.__setitem__(slice(None), v),
    "bool_mask_number": lambda lib, y, v: y.__setitem__(_t(lib, data("mask")), 0.0),
    "bool_mask_values": lambda lib, y, v: y.__setitem__(_t(lib, data("mask")),
                                                        v[_t(lib, data("mask"))] * 3),
    "bool_mask_rows": lambda lib, y, v: y.__setitem__(_t(lib, [True, False, True]), v[0]),
    "bool_mask_and_slice": lambda lib, y, v: y.__setitem__(
        (_t(lib, [False, True, True]), slice(None, 2)), v[0, :2]),
    "int_tensor": lambda lib, y, v: y.__setitem__(_t(lib, [2, 0]), v[:2]),
    "int_tensor_negative": lambda lib, y, v: y.__setitem__(_t(lib, [-1]), v[1]),
    "int_tensor_and_slice": lambda lib, y, v: y.__setitem__(
        (_t(lib, [0, 2]), slice(1, None)), v[0, 1:]),
    "two_int_tensors": lambda lib, y, v: y.__setitem__((_t(lib, [0, 2]), _t(lib, [1, 3])),
                                                       v[1, :2]),
    "int32_tensor": lambda lib, y, v: y.__setitem__(_t(lib, [1, 2], lib.int32), v[0] + 1),
    "0d_int_tensor": lambda lib, y, v: y.__setitem__(_t(lib, 2), v[1]),
    "list": lambda lib, y, v: y.__setitem__([0, 2], 1.0),
    "numpy_index": lambda lib, y, v: y.__setitem__(np.array([1, 2]), v[0]),
    "numpy_mask": lambda lib, y, v: y.__setitem__(data("mask"), -2.0),
    "twice": lambda lib, y, v: (y.__setitem__(0, v[0]), y.__setitem__((0, slice(1, 3)),
                                                                       v[1, :2] * 2)),
    "value_without_grad": lambda lib, y, v: y.__setitem__(1, _t(lib, data("any", (4,)))),
}


@pytest.mark.parametrize("case", SETITEM)
def test_setitem_in_a_graph_gives_pytorchs_values_and_gradients(case):
    """Deliverable: `__setitem__` with ints, slices, bool masks, integer tensors and
    broadcasting values is recorded: the overwritten positions get no gradient, the value's
    source gets the gradient of the positions it was written to (PyTorch's CopySlices)."""
    def program(lib, x, v):
        y = x * 1.0
        SETITEM[case](lib, y, v)
        (y * lib.tensor(weights())).sum().backward()
        return y

    check_same(program, data("any", S, "x"), data("any", S, "v"))


@pytest.mark.parametrize("case", SETITEM)
def test_setitem_writes_into_the_tensor_itself(case):
    """Deliverable: `t[index] = value` on a plain tensor changes t's own storage (views of t
    see the change), with PyTorch's values."""
    def program(lib, t, v):
        storage = t.numpy()
        view = t[1:]
        SETITEM[case](lib, t, v)
        assert np.shares_memory(storage, t.numpy())
        return t, view

    check_same(program, data("any", S, "x"), data("any", S, "v"), requires_grad=False)


def test_setitem_into_a_tensor_without_grad_records_the_value():
    """Deliverable: writing a value that requires grad into a plain tensor (a buffer) makes it
    part of the graph: the buffer is no longer a leaf and the value's leaf gets PyTorch's
    gradient."""
    def program(lib, x):
        buf = lib.zeros(5, 4, dtype=lib.float64)
        buf[1:4] = x
        buf[0].copy_(x[2] * 3)
        assert not buf.is_leaf and buf.requires_grad
        (buf ** 2).sum().backward()
        return buf

    check_same(program, data("any"))


@pytest.mark.parametrize("case,words", [
    ("shape_mismatch", ()), ("float_index", ("tensors used as indices",)),
    ("out_of_range", ()), ("overlapping_value", ("single memory location",)),
    ("leaf", (LEAF_WORDS,)),
])
def test_setitem_errors_are_pytorchs(case, words):
    """Deliverable: setitem raises where PyTorch raises, with its class: a value that does not
    broadcast, a float index, an index out of range, a value overlapping the target's memory,
    a leaf that requires grad."""
    def program(lib, x):
        y = x * 1 if case != "leaf" else x
        if case == "shape_mismatch":
            y[:2] = lib.ones(3, dtype=lib.float64)
        elif case == "float_index":
            y[lib.tensor([0.0, 1.0])] = 1.0
        elif case == "out_of_range":
            y[5] = 1.0
        elif case == "overlapping_value":
            y[1:] = y[:-1]
        else:
            y[0] = 1.0
        y.sum().backward()

    check_same(program, data("any", (4,)), words=words)


def test_overlapping_setitem_without_grad_raises_as_pytorch():
    """Rules: `t[1:] = t[:-1]` (source and target overlap) raises in PyTorch even without
    grad; minigrad must not silently pick an answer."""
    def program(lib, t):
        t[1:] = t[:-1]
        return t

    check_same(program, data("any", (4,)), requires_grad=False,
               words=("single memory location",))


# ---- initialisers and nn.init -----------------------------------------------------------------

INITS = {
    "normal_": (lambda lib, w: lib.nn.init.normal_(w, 0.5, 2.0), "normal"),
    "uniform_": (lambda lib, w: lib.nn.init.uniform_(w, -1.0, 2.0), "uniform"),
    "constant_": (lambda lib, w: lib.nn.init.constant_(w, 0.25), "exact"),
    "zeros_": (lambda lib, w: lib.nn.init.zeros_(w), "exact"),
    "ones_": (lambda lib, w: lib.nn.init.ones_(w), "exact"),
    "xavier_uniform_": (lambda lib, w: lib.nn.init.xavier_uniform_(w), "uniform"),
    "xavier_normal_": (lambda lib, w: lib.nn.init.xavier_normal_(w, gain=2.0), "normal"),
    "kaiming_uniform_": (lambda lib, w: lib.nn.init.kaiming_uniform_(w, nonlinearity="relu"),
                         "uniform"),
    "kaiming_normal_": (lambda lib, w: lib.nn.init.kaiming_normal_(w, mode="fan_out"),
                        "normal"),
}


@pytest.mark.parametrize("name", INITS)
def test_nn_init_fills_a_parameter_in_place_as_pytorch(name):
    """Deliverable: nn.init works through the in-place initialisers: the same Parameter, its
    storage, still a leaf that requires grad, no .grad, values drawn as PyTorch's (exact for
    constants; mean and spread of the draws otherwise), and the parameter trains afterwards."""
    init, how = INITS[name]
    got = {}
    for lib in (torch, minigrad):
        lib.manual_seed(0)
        w = lib.nn.Parameter(lib.zeros(300, 200, dtype=lib.float64))
        storage = w.detach().numpy()
        out = init(lib, w)
        assert out is w and np.shares_memory(storage, w.detach().numpy())
        assert w.is_leaf and w.requires_grad and w.grad is None
        (w * 2).sum().backward()
        got[lib] = (values_of(w), values_of(w.grad))
    (mine, mine_grad), (theirs, theirs_grad) = got[minigrad], got[torch]
    assert_close(mine_grad, theirs_grad, "gradient after init")
    if how == "exact":
        assert_close(mine, theirs, name)
    else:
        assert abs(mine.mean() - theirs.mean()) < 6 * theirs.std() / np.sqrt(mine.size)
        assert abs(mine.std() - theirs.std()) < 0.02 * theirs.std()
    if how == "uniform":        # the same bounds: the extremes of 60000 draws are close to them
        assert abs(mine.min() - theirs.min()) < 0.01 * theirs.std()
        assert abs(mine.max() - theirs.max()) < 0.01 * theirs.std()


def test_initialiser_on_a_parameter_outside_no_grad_raises():
    """Rules: `w.normal_()` (outside nn.init and no_grad) on a parameter raises PyTorch's leaf
    error; under no_grad it works."""
    def program(lib, w):
        w.uniform_(-1, 1)

    check_same(program, data("any"), words=(LEAF_WORDS,))

    def under_no_grad(lib, w):
        with lib.no_grad():
            w.fill_(0.5)
        (w * w).sum().backward()
        return w

    check_same(under_no_grad, data("any"))


# ---- in-place ops recorded in a graph ---------------------------------------------------------

def _issue_example(lib, x):
    y = x * 2
    y[0] = 0
    y.sum().backward()
    return y


def _on_view_of_nonleaf(lib, x, w):
    y = x * 1.5
    v = y[1:]
    v.mul_(w[1:])
    (y * y).sum().backward()
    return y, v


def _view_follows_base(lib, x, w):
    y = x.clone()
    v = y[:2]
    y.mul_(w)
    (v.exp() * v).sum().backward()
    return y, v


def _view_of_view(lib, x, w):
    y = x.clone()
    v = y.view(12)[2:8].view(2, 3)
    v.exp_()
    (y * w).sum().backward()
    return y, v


def _transposed_view(lib, x, w):
    y = x.clone()
    y.t()[1].add_(w[:, 0])
    y.mT[2:].mul_(w[:, 1:3].t())
    (y * y).sum().backward()
    return y


def _chain(lib, x, w, b):
    y = x.clone()
    y.add_(b).mul_(w).tanh_().pow_(2).sub_(x)
    (y * y).sum().backward()
    return y


def _mul_needs_old_value(lib, x, b):
    y = x.sin()
    y.mul_(b)                      # d/db needs y's value before the change
    (y * lib.tensor(weights())).sum().backward()
    return y


def _div_needs_old_value(lib, x, b):
    y = x.exp()
    y.div_(b * b + 1)
    (y * lib.tensor(weights())).sum().backward()
    return y


def _pow_tensor_exponent(lib, x, b):
    y = x.exp()
    y.pow_(b)
    y.sum().backward()
    return y


def _used_before_and_after(lib, x, w):
    y = x * 1
    a = y * 2                      # sees y before the change
    y.add_(w)
    b = y * y                      # sees it after
    (a + b).sum().backward()
    return a, b, y


def _sibling_views(lib, x, w):
    y = x.clone()
    a, b = y[:2], y[1:]            # overlap in row 1
    a.mul_(w[:2])
    (b * b).sum().backward()
    return a, b


def _base_then_view(lib, x, w):
    y = x.clone()
    v = y[0]
    y.exp_()
    v.mul_(w[0])
    (y * y).sum().backward()
    return y, v


def _copy_into_view_of_buffer(lib, x):
    buf = lib.zeros(3, 4, dtype=lib.float64)
    buf[:, 1:3].copy_(x[:, :2])
    buf.exp_()
    (buf * lib.tensor(weights())).sum().backward()
    return buf


def _relu_inplace_layer(lib, x, w, v):
    h = x @ w
    h.relu_()
    (h @ v).sum().backward()
    return h


def _sigmoid_inplace_then_used(lib, x):
    y = x.clone()
    y.sigmoid_()
    (y * y).sum().backward()
    return y


def _constant_becomes_node(lib, x):
    c = lib.tensor(data("any", S, "c"))
    c.mul_(x)
    assert c.requires_grad and not c.is_leaf and c.grad_fn is not None
    (c * c).sum().backward()
    return c


def _reshape_view_then_setitem(lib, x):
    y = x.clone()
    r = y.reshape(12)
    y[0] = 5.0
    (r * r).sum().backward()
    return r


def _no_grad_change_of_base_seen_by_view(lib, x):
    y = x * 1
    v = y[:2]
    with lib.no_grad():
        y.add_(1)
    (v * v).sum().backward()
    return v


def _permute_unsqueeze_views(lib, x, w):
    y = x.clone()
    y.unsqueeze(0).permute(2, 0, 1)[1:3].mul_(w[:, :2].t().unsqueeze(1))
    (y.exp()).sum().backward()
    return y


def _masked_fill_on_view(lib, x):
    y = x.clone()
    y[:, 1:].masked_fill_(lib.tensor(data("mask", (3, 3))), 0.0)
    (y * y).sum().backward()
    return y


def _twice_backward_with_mutation_in_between(lib, x):
    y = x * 2
    (y * y).sum().backward()
    y.add_(1)                      # after backward: a new graph continues from here
    (y * y).sum().backward()
    return y


GRAPHS = {
    "issue_example": (_issue_example, ("any",)),
    "inplace_on_view_of_nonleaf": (_on_view_of_nonleaf, ("any", "any")),
    "view_follows_base": (_view_follows_base, ("any", "any")),
    "view_of_view": (_view_of_view, ("any", "any")),
    "transposed_view": (_transposed_view, ("any", "any")),
    "chain_of_inplace_ops": (_chain, ("any", "unit", "any")),
    "mul_needs_old_value": (_mul_needs_old_value, ("any", "any")),
    "div_needs_old_value": (_div_needs_old_value, ("any", "any")),
    "pow_tensor_exponent": (_pow_tensor_exponent, ("any", "any")),
    "used_before_and_after": (_used_before_and_after, ("any", "any")),
    "sibling_views": (_sibling_views, ("any", "any")),
    "base_then_view": (_base_then_view, ("any", "any")),
    "copy_into_view_of_buffer": (_copy_into_view_of_buffer, ("any",)),
    "relu_inplace_layer": (_relu_inplace_layer, ("any", ((4, 5), "any"), ((5, 2), "any"))),
    "sigmoid_inplace_then_used": (_sigmoid_inplace_then_used, ("any",)),
    "constant_becomes_node": (_constant_becomes_node, ("any",)),
    "reshape_view_then_setitem": (_reshape_view_then_setitem, ("any",)),
    "no_grad_change_seen_by_view": (_no_grad_change_of_base_seen_by_view, ("any",)),
    "permute_unsqueeze_views": (_permute_unsqueeze_views, ("any", "any")),
    "masked_fill_on_view": (_masked_fill_on_view, ("any",)),
    "mutation_between_backwards": (_twice_backward_with_mutation_in_between, ("any",)),
}


def _arrays_for(name, specs):
    out = []
    for i, spec in enumerate(specs):
        shape, kind = spec if isinstance(spec, tuple) else (S, spec)
        out.append(data(kind, shape, (name, i)))
    return out


@pytest.mark.parametrize("name", GRAPHS)
def test_inplace_ops_in_a_graph_give_pytorchs_gradients(name):
    """Deliverable: in-place ops recorded in a graph give PyTorch's values and gradients:
    `y = x * 2; y[0] = 0` (the issue's example), in-place on views of non-leaves
    (CopySlices), views that follow their base after it changed, chains of in-place ops,
    rules that need the old value (`y.mul_(b)`), tensors used before and after a change."""
    program, specs = GRAPHS[name]
    check_same(program, *_arrays_for(name, specs))


ALIASED_OPERANDS = {
    "add_self": lambda a: a.add_(a),
    "mul_self": lambda a: a.mul_(a),
    "imul_self": lambda a: operator.imul(a, a),
    "sub_self": lambda a: a.sub_(a),
    "div_self": lambda a: a.div_(a),
    "copy_self": lambda a: a.copy_(a),
    "copy_identity_view": lambda a: a.copy_(a.t()),
    "mul_full_view": lambda a: a.mul_(a.view(3)),
    "iadd_element_view": lambda a: operator.iadd(a, a[0]),
    "add_overlapping_slice": lambda a: a[1:].add_(a[:2]),
    "addcmul_self": lambda a: a.addcmul_(a, a),
}


@pytest.mark.parametrize("case", ALIASED_OPERANDS)
def test_inplace_op_whose_operand_aliases_the_tensor(case):
    """Deliverable (never a silently wrong gradient): an in-place op whose operand is the
    tensor itself or a view of its storage (`a.add_(a)`, `a *= a`, `a += a[0]`) gives
    PyTorch's values and gradients, or raises where PyTorch raises (a partial overlap, or a
    saved operand the op itself overwrote)."""
    def program(lib, x):
        a = x * 1.0
        ALIASED_OPERANDS[case](a)
        (a * lib.tensor(weights((3,)))).sum().backward()
        return a

    check_same(program, data("nonzero", (3,)))


def test_inplace_ops_are_drawn_as_versions_with_their_own_values(floats_in):
    """Deliverable: in-place ops recorded in the graph are "drawn as such in pictures": the
    picture of `y = x * 2; y[0] = 0; y.add_(1)` has a box for each op (its own description)
    feeding a node for each version of y, and a version that shows its data shows the values
    it had then (PyTorch's values after that step), not the storage's latest values."""
    start = np.array([0.5, 1.5, -2.0])
    tx = torch.tensor(start)
    ty = tx * 2
    after = [ty.clone()]
    ty[0] = 0.0
    after.append(ty.clone())
    ty.add_(1)
    after.append(ty.clone())

    x = minigrad.tensor(start, requires_grad=True)
    x.label = "x"
    y = x * 2
    y.label = "y"
    y[0] = 0.0
    y.add_(1)
    versions = [y.parents[0].parents[0], y.parents[0], y]
    assert [v.op for v in versions] == ["mul", "setitem", "add"]
    source = minigrad.draw(y).source
    labels = dict(re.findall(r'^\s*(\w+) \[label="([^"]*)"', source, re.M))
    drawn = {}                                    # op description -> that version's lines
    for node, label in labels.items():
        if node + "_op" in labels:
            drawn[labels[node + "_op"]] = label.split("\\n")
    for version, values in zip(versions, after):
        # the op box starts with the op's own description (a folded constant may follow it:
        # "[0] = 0")
        lines = next((v for k, v in drawn.items() if k.startswith(version.describe())), None)
        assert lines is not None, f"no box {version.describe()!r} in the picture"
        assert lines[0].split(" ")[0] == "y"      # later versions may read "y (2)"
        shown = [ln for ln in lines if ln.startswith("data")]
        if shown:
            np.testing.assert_allclose(floats_in(shown[0]), values.numpy(), atol=1e-3,
                                       err_msg=f"data drawn for the version after "
                                               f"{version.describe()!r}")


# ---- PyTorch's rules for mutation ---------------------------------------------------------------

LEAF_MUTATIONS = {
    "add_": lambda lib, x: x.add_(1),
    "mul_": lambda lib, x: x.mul_(2),
    "exp_": lambda lib, x: x.exp_(),
    "clamp_": lambda lib, x: x.clamp_(-1, 1),
    "setitem": lambda lib, x: x.__setitem__(0, 1.0),
    "setitem_mask": lambda lib, x: x.__setitem__(x > 0, 1.0),
    "fill_": lambda lib, x: x.fill_(2.0),
    "zero_": lambda lib, x: x.zero_(),
    "copy_": lambda lib, x: x.copy_(lib.ones(S, dtype=lib.float64)),
    "masked_fill_": lambda lib, x: x.masked_fill_(x > 0, 0.0),
    "normal_": lambda lib, x: x.normal_(),
    "iadd": lambda lib, x: operator.iadd(x, 1),
}
VIEW_MUTATIONS = {
    "select": lambda lib, x: x[0].add_(1),
    "slice": lambda lib, x: x[1:].mul_(2),
    "view": lambda lib, x: x.view(12).zero_(),
    "transpose": lambda lib, x: x.t().exp_(),
    "setitem_on_view": lambda lib, x: x[0].__setitem__(1, 5.0),
    "reshape": lambda lib, x: x.reshape(2, 6).fill_(1.0),
    "column": lambda lib, x: x[:, 1].copy_(lib.zeros(3, dtype=lib.float64)),
}


@pytest.mark.parametrize("case", LEAF_MUTATIONS)
def test_inplace_on_a_leaf_that_requires_grad_raises_and_changes_nothing(case):
    """Rules: in-place on a leaf that requires grad, outside no_grad, raises PyTorch's error
    ("a leaf Variable that requires grad is being used in an in-place operation.") before
    writing anything."""
    def program(lib, x):
        LEAF_MUTATIONS[case](lib, x)

    check_same(program, data("any"), words=(LEAF_WORDS,))
    x = minigrad.tensor(data("any"), requires_grad=True)
    with pytest.raises(RuntimeError):
        LEAF_MUTATIONS[case](minigrad, x)
    np.testing.assert_array_equal(values_of(x), data("any"))
    assert x.is_leaf


@pytest.mark.parametrize("case", VIEW_MUTATIONS)
def test_inplace_on_a_view_of_such_a_leaf_raises(case):
    """Rules: in-place on a view of a leaf that requires grad raises PyTorch's "a view of a
    leaf Variable ..." error."""
    def program(lib, x):
        VIEW_MUTATIONS[case](lib, x)

    check_same(program, data("any"), words=(VIEW_OF_LEAF_WORDS,))


DETERMINISTIC_MUTATIONS = {k: f for k, f in {**LEAF_MUTATIONS, **VIEW_MUTATIONS}.items()
                           if k != "normal_"}      # random values: see the nn.init tests


@pytest.mark.parametrize("case", DETERMINISTIC_MUTATIONS)
def test_no_grad_is_the_way_around_the_rule(case):
    """Rules: under no_grad the same change works, is not recorded (x stays a leaf that
    requires grad), and gives PyTorch's values; later backwards give PyTorch's gradients."""
    mutate = DETERMINISTIC_MUTATIONS[case]

    def program(lib, x):
        (x * x).sum().backward()
        with lib.no_grad():
            mutate(lib, x)
        assert x.is_leaf and x.requires_grad and x.grad_fn is None
        (x * x).sum().backward()
        return x

    check_same(program, data("any"))


@pytest.mark.parametrize("how", ["data_iadd", "data_isub", "data_add_", "data_setitem",
                                 "data_assign"])
def test_data_is_the_other_way_around(how):
    """Rules: `.data` bypasses tracking: `p.data += -lr * p.grad` keeps working (outside
    no_grad), changes p's own storage, and p stays a leaf; PyTorch's values and gradients."""
    def program(lib, p, x):
        storage = p.detach().numpy()
        for _ in range(2):
            ((x @ p) ** 2).sum().backward()
            if how == "data_iadd":
                p.data += -0.05 * p.grad
            elif how == "data_isub":
                p.data -= 0.05 * p.grad
            elif how == "data_add_":
                p.data.add_(p.grad, alpha=-0.05)
            elif how == "data_setitem":
                p.data[0] = p.data[0] - 0.05 * p.grad[0]
            else:
                p.data = p.data - 0.05 * p.grad      # rebinding .data: a new storage
            p.grad = None
        assert p.is_leaf and p.requires_grad
        if how != "data_assign":
            assert np.shares_memory(storage, p.detach().numpy())
        ((x @ p) ** 2).sum().backward()
        return p

    check_same(program, data("any", (4, 2)), data("any", (5, 4)))


@pytest.mark.parametrize("case", ["nonleaf_base", "buffer_with_grad_value", "leaf_base",
                                  "nonleaf_base_no_grad_change", "plain_buffer"])
def test_view_made_in_no_grad_then_changed_with_grad(case):
    """Rules: a view created under no_grad and modified in place with grad mode on raises
    PyTorch's "A view was created in no_grad mode ..." error; when both happen under no_grad,
    or nothing requires grad, it works as in PyTorch."""
    def program(lib, x):
        if case == "leaf_base":
            base = x
        elif case == "plain_buffer" or case == "buffer_with_grad_value":
            base = lib.zeros(4, dtype=lib.float64)
        else:
            base = x * 1
        with lib.no_grad():
            v = base[:2]
            if case == "nonleaf_base_no_grad_change":
                v.mul_(2)
        if case == "buffer_with_grad_value":
            v.copy_(x[:2])
        elif case == "plain_buffer":
            v.add_(1)
        elif case != "nonleaf_base_no_grad_change":
            v.mul_(2)
        if base.requires_grad:
            (base * base).sum().backward()
        return base

    words = (() if case in ("nonleaf_base_no_grad_change", "plain_buffer")
             else ("A view was created in no_grad mode",))
    check_same(program, data("any", (4,)), words=words)


MULTI = {
    "split_0": lambda y: y.split(2)[0],
    "split_1": lambda y: y.split(2)[1],
    "split_sizes_1": lambda y: y.split([1, 3])[1],
    "chunk_1": lambda y: y.chunk(2)[1],
    "unbind_0": lambda y: y.unbind()[0],
    "unbind_2": lambda y: y.unbind()[2],
}


@pytest.mark.parametrize("piece", MULTI)
def test_pieces_of_split_chunk_unbind_cannot_change_in_place(piece):
    """Rules: the outputs of split/chunk/unbind are views that may not be modified in place
    when grad is involved (PyTorch: "Output i of Split is a view and is being modified
    inplace. This view is the output of a function that returns multiple views."), naming
    which output."""
    def program(lib, x):
        MULTI[piece](x * 1).mul_(2)

    th = raised(torch, lambda lib: program(lib, torch.tensor(data("any", (4,)),
                                                             requires_grad=True)))
    index = re.search(r"Output (\d+) of", str(th)).group(1)
    check_same(program, data("any", (4,)),
               words=(f"Output {index} of", "is a view and is being modified inplace",
                      "returns multiple views"))


@pytest.mark.parametrize("piece", MULTI)
def test_pieces_change_in_place_when_no_grad_is_involved(piece):
    """Rules (PyTorch allows it): pieces of a tensor that does not require grad, or pieces
    changed under no_grad, are ordinary views: the change shows in the base."""
    def program(lib, x):
        plain = lib.tensor(data("any", (4,)))
        MULTI[piece](plain).add_(1)
        y = x * 1
        with lib.no_grad():
            MULTI[piece](y).mul_(3)
        (y * y).sum().backward()
        return plain, y

    check_same(program, data("any", (4,)))


@pytest.mark.parametrize("case", ["add_", "setitem_column", "nonleaf", "expand_as"])
def test_writing_into_an_expanded_tensor_raises(case):
    """Rules: an in-place write where several elements share one memory location (an expanded
    tensor) raises PyTorch's "unsupported operation: more than one element of the
    written-to tensor refers to a single memory location"."""
    def program(lib, x):
        if case == "add_":
            lib.zeros(3, dtype=lib.float64).expand(2, 3).add_(1)
        elif case == "setitem_column":
            lib.zeros(1, 3, dtype=lib.float64).expand(2, 3)[:, 0] = 1.0
        elif case == "nonleaf":
            (x * 1).expand(2, 3).mul_(2)
        else:
            (x * 1).expand_as(lib.zeros(4, 3)).exp_()

    check_same(program, data("any", (3,)),
               words=("more than one element of the written-to tensor refers to a single "
                      "memory location",))


def test_writing_one_row_of_an_expanded_tensor_is_allowed():
    """Rules (PyTorch allows it): a row of an expanded tensor has no repeated element, so
    writing it works and shows in every row."""
    def program(lib):
        e = lib.zeros(1, 3, dtype=lib.float64).expand(2, 3)
        e[0] = 1.0
        return e

    check_same(program)


# ---- version counters ---------------------------------------------------------------------------

def test_version_counter_is_public_as_in_pytorch():
    """Deliverable, version counters: `t._version` counts in-place changes of the storage;
    views share the base's counter; `detach()` shares it; `.data` has its own; out-of-place
    ops give a new counter (PyTorch's numbers, step by step)."""
    def history(lib):
        t = lib.tensor(np.zeros(4))
        seen = [t._version]
        t.add_(1)
        seen.append(t._version)
        v = t[1:]
        v.mul_(2)
        seen += [t._version, v._version]
        t[0] = 5.0
        seen += [t._version, v._version]
        t += 1
        seen.append(t._version)
        d = t.detach()
        d.zero_()
        seen += [t._version, d._version]
        data_ = t.data
        data_.add_(1)
        seen += [t._version, data_._version]
        r = t.reshape(2, 2)
        r.exp_()
        seen += [t._version, r._version]
        c = t * 1
        seen.append(c._version)
        with lib.no_grad():
            t.fill_(0.5)
        seen.append(t._version)
        return seen

    assert history(minigrad) == history(torch)


def _saved_change(case):
    """Programs whose backward reads a value changed in place (PyTorch raises)."""
    def program(lib, x, w):
        if case == "exp_output":
            y = x.exp()
            y.add_(1)
        elif case == "mul_input":
            a = x * 1
            y = a * w
            a.mul_(2)
        elif case == "pow_input":
            a = x * 1
            y = a ** 2
            a[0] = 0.0
        elif case == "sigmoid_output":
            y = x.sigmoid()
            y.mul_(2)
        elif case == "tanh_output_view":
            y = x.tanh()
            y[1:].zero_()
        elif case == "log_input_via_detach":
            a = x * x + 3
            y = a.log()
            a.detach().add_(1)
        elif case == "matmul_input":
            a = x * 1
            y = a @ w.t()
            a.sub_(1)
        elif case == "div_denominator":
            a = w * w + 1
            y = x / a
            a.div_(2)
        elif case == "relu_output_base":
            a = x * 1
            y = a.view(12).relu()
            y.view(3, 4)[0].add_(1)
        elif case == "sqrt_output":
            y = (x * x + 1).sqrt()
            y.exp_()
        elif case == "saved_view_base_changed":
            a = x * 1
            v = a.view(12)
            y = v * w.view(12)
            a.add_(1)
        elif case == "twice":
            a = x * 1
            y = a * w
            a.add_(1)
            a.add_(1)
        elif case == "expand_view_saved":
            a = x[:, :1] * 1
            y = a.expand(3, 4) * w            # saves the expanded view
            a.mul_(2)
        elif case == "T_view_saved":
            a = x * 1
            y = a.T @ w                       # saves the transposed view
            a[1, 1] = 0.0
        (y * 1).sum().backward()
    return program


SAVED_CHANGES = ["exp_output", "mul_input", "pow_input", "sigmoid_output", "tanh_output_view",
                 "log_input_via_detach", "matmul_input", "div_denominator", "relu_output_base",
                 "sqrt_output", "saved_view_base_changed", "twice", "expand_view_saved",
                 "T_view_saved"]


@pytest.mark.parametrize("case", SAVED_CHANGES)
def test_backward_after_a_saved_tensor_changed_raises_naming_op_shape_versions(case):
    """Deliverable: backward after a tensor an op saved was changed in place raises a
    RuntimeError naming the op (the backward node PyTorch reports, e.g. ExpBackward0), the
    tensor's shape and both versions (PyTorch's numbers)."""
    program = _saved_change(case)
    arrays = (data("any"), data("any", S, "w"))
    with warnings.catch_warnings(record=True) as caught, torch.autograd.detect_anomaly():
        warnings.simplefilter("always")
        th = raised(torch, lambda lib: program(lib, *[torch.tensor(a, requires_grad=True)
                                                       for a in arrays]))
    node = re.search(r"Error detected in (\w+)", " ".join(str(w.message) for w in caught))
    assert node, "PyTorch names the failing node in anomaly mode"
    shape = re.search(r"Tensor \[([\d, ]*)\]\]", str(th)).group(1)
    now, expected = re.search(r"is at version (\d+); expected version (\d+)", str(th)).groups()
    mg = check_same(program, *arrays, words=(MODIFIED_WORDS,)).error
    message = str(mg)
    assert node.group(1) in message, f"the op {node.group(1)} is not named: {message}"
    assert re.search(r"\[\s*" + re.escape(shape) + r"\s*\]", message), f"shape [{shape}]"
    assert re.search(rf"\bversion {now}\b", message), f"current version {now}"
    assert re.search(rf"expected version {expected}\b", message), f"version {expected}"


def test_inside_detect_anomaly_the_error_says_where_the_op_was_created():
    """Deliverable: inside detect_anomaly the version error also says where in the user's
    code the op was created (the file and line PyTorch's anomaly traceback ends at)."""
    def program(lib, x):
        y = x.exp()
        y.add_(1)
        y.sum().backward()

    line = inspect.getsourcelines(program)[1] + 1         # the line of `y = x.exp()`
    with warnings.catch_warnings(record=True) as caught, torch.autograd.detect_anomaly():
        warnings.simplefilter("always")
        raised(torch, lambda lib: program(lib, torch.tensor(data("any"), requires_grad=True)))
    trace = " ".join(str(w.message) for w in caught)
    assert f'line {line}, in program' in trace                # PyTorch points there
    with minigrad.autograd.detect_anomaly():
        err = raised(minigrad, lambda lib: program(
            lib, minigrad.tensor(data("any"), requires_grad=True)))
    assert isinstance(err, RuntimeError) and MODIFIED_WORDS in str(err)
    assert re.search(rf"{re.escape(__file__)}:{line}\b", str(err)) or (
        f"{__file__}" in str(err) and f"line {line}" in str(err)), str(err)


@pytest.mark.parametrize("case", ["detach_shares", "data_does_not", "numpy_does_not",
                                  "view_shares", "clone_does_not"])
def test_which_aliases_share_the_version_counter(case):
    """Deliverable: views and `detach()` share the counter (a change through them makes
    backward raise); `.data`, `.numpy()` writes and clones do not (backward runs, with the
    values the storage has then, as in PyTorch)."""
    def program(lib, x, k):
        a = x * 1
        y = a * k                               # saves a (k requires grad)
        if case == "detach_shares":
            a.detach().mul_(3)
        elif case == "data_does_not":
            a.data.mul_(3)
        elif case == "numpy_does_not":
            n = a.detach().numpy()
            n *= 3
        elif case == "view_shares":
            a.view(12)[3:].mul_(3)
        else:
            a.clone().mul_(3)
        y.sum().backward()
        return a, y

    check_same(program, data("any"), data("any", S, "k"),
               words=(MODIFIED_WORDS,) if case in ("detach_shares", "view_shares") else ())


def test_retained_graph_then_optimizer_step_then_backward_raises():
    """Issue: `loss.backward(retain_graph=True); opt.step(); loss.backward()` raises
    PyTorch's "modified by an inplace operation" instead of mixing old activations with new
    weights."""
    def program(lib, w, b, x):
        opt = lib.optim.SGD([w, b], lr=0.1)
        loss = ((x @ w + b).tanh() ** 2).sum()
        loss.backward(retain_graph=True)
        opt.step()
        loss.backward()

    check_same(program, data("any", (4, 3)), data("any", (3,)), data("any", (5, 4)),
               words=(MODIFIED_WORDS,))


def test_retained_graph_with_module_and_adam_raises():
    """Issue, with nn.Linear and Adam (the step writes the parameters in place)."""
    def program(lib, x):
        lib.manual_seed(0)
        model = lib.nn.Linear(4, 2).double()
        with lib.no_grad():
            model.weight.copy_(lib.tensor(data("any", (2, 4), "W")))
            model.bias.copy_(lib.tensor(data("any", (2,), "B")))
        opt = lib.optim.Adam(model.parameters(), lr=0.01)
        loss = (model(x).sigmoid() ** 2).sum()
        loss.backward(retain_graph=True)
        opt.step()
        loss.backward()

    check_same(program, data("any", (5, 4)), words=(MODIFIED_WORDS,))


SECOND_BACKWARD = {
    "neg": lambda lib, x: -x,
    "add_number": lambda lib, x: x + 1,
    "sum_then_view": lambda lib, x: x.view(12).sum(dim=0),
    "mul_by_number": lambda lib, x: x * 3.0,
    "clone_and_slice": lambda lib, x: x.clone()[1:],
    "exp": lambda lib, x: x.exp(),
    "mul_tensors": lambda lib, x: x * x,
    "tanh_of_sum": lambda lib, x: (x + 1).tanh(),
}


@pytest.mark.parametrize("case", SECOND_BACKWARD)
def test_second_backward_without_retain_graph_as_pytorch(case):
    """Tests (backward calls with and without retain_graph): a second backward through a
    released graph raises where PyTorch raises ("Trying to backward through the graph a
    second time": an op needs a value it saved), and runs where PyTorch runs it (no op in
    the graph saved anything), giving PyTorch's gradients."""
    def program(lib, x):
        y = SECOND_BACKWARD[case](lib, x)
        (y * 2).sum().backward()
        (y * 2).sum().backward()
        return y

    check_same(program, data("any"))


NOT_SAVED = {
    "add_input": lambda lib, a, k: (a + 1, a.mul_(2)),
    "mul_by_constant_input": lambda lib, a, k: (a * lib.tensor(data("any")), a.add_(1)),
    "exp_input": lambda lib, a, k: (a.exp(), a.add_(1)),
    "sigmoid_input": lambda lib, a, k: (a.sigmoid(), a.mul_(2)),
    "relu_input": lambda lib, a, k: (a.relu(), a.sub_(1)),
    "sum_input": lambda lib, a, k: (a.sum(), a.zero_()),
    "mean_input": lambda lib, a, k: (a.mean(dim=0), a.fill_(3.0)),
    "div_numerator": lambda lib, a, k: (a / lib.tensor(data("pos")), a.add_(1)),
    "matmul_by_constant": lambda lib, a, k: (a @ lib.tensor(data("any", (4, 2))), a.add_(1)),
    "reshape_input": lambda lib, a, k: (a.reshape(12) * 2, a.mul_(5)),
    "clone_input": lambda lib, a, k: (a.clone(), a.zero_()),
    "where_branch": lambda lib, a, k: (lib.where(lib.tensor(data("mask")), a, k), a.add_(1)),
    "mul_output": lambda lib, a, k: (lambda y: (y, y.add_(1)))(a * k),
    "pow_output": lambda lib, a, k: (lambda y: (y, y.mul_(2)))(a ** 2),
    "log_output": lambda lib, a, k: (lambda y: (y, y.exp_()))((a * a + 1).log()),
    "getitem_input": lambda lib, a, k: (a[1:] * 3, a.mul_(2)),
    "cat_input": lambda lib, a, k: (lib.cat([a, k]), a.add_(1)),
    "transpose_input": lambda lib, a, k: (a.t() + 1, a.mul_(2)),
}


@pytest.mark.parametrize("case", NOT_SAVED)
def test_changing_a_value_no_op_saved_does_not_raise(case):
    """Deliverable: where PyTorch does not raise (the changed tensor was not saved by any op
    that needs it: `y = a + 1` then `a.mul_(2)`, `a.exp()` saves its output, `a * c` with a
    constant c saves only c, ...), minigrad does not raise either, and the gradients are
    PyTorch's."""
    def program(lib, x, k):
        a = x * 1
        y, _ = NOT_SAVED[case](lib, a, k)
        (y * 2).sum().backward()
        return y, a

    check_same(program, data("any", S, case), data("any", S, (case, "k")))


# ---- copies where PyTorch copies ----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["float64", "float32", "int64", "bool"])
def test_tensor_of_an_array_is_a_copy(kind):
    """Deliverable: `tensor(a)` copies (as PyTorch): changing the array later does not change
    the tensor, and changing the tensor does not change the array."""
    base = data("any").astype(kind) if kind != "bool" else data("mask")
    got = {}
    for lib in (torch, minigrad):
        a = base.copy()
        t = lib.tensor(a)
        a[...] = a[::-1, ::-1]
        t.zero_()
        got[lib] = (values_of(t), a.copy())
    assert_close(got[minigrad][0], got[torch][0], "tensor")
    assert_close(got[minigrad][1], got[torch][1], "array")


def test_legacy_tensor_constructor_copies_an_array():
    """Deliverable (issue 10): `Tensor(ndarray)` copies the array. (PyTorch's legacy
    constructor aliases an array that already has the default dtype; the issue asks for a
    copy, as `tensor(...)`.)"""
    for a in (data("any"), data("any").astype(np.float32)):
        before = a.copy()
        t = minigrad.Tensor(a)
        assert not np.shares_memory(t.numpy(), a)
        a += 1
        np.testing.assert_array_equal(values_of(t), before)


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor", "as_tensor_same_dtype"])
def test_from_numpy_and_as_tensor_share_memory(make):
    """Deliverable: `from_numpy` and `as_tensor` share memory with the array (changes show on
    both sides, as PyTorch); `as_tensor` with another dtype copies."""
    got = {}
    for lib in (torch, minigrad):
        a = data("any")
        if make == "from_numpy":
            t = lib.from_numpy(a)
        elif make == "as_tensor":
            t = lib.as_tensor(a, dtype=lib.float32)
        else:
            t = lib.as_tensor(a, dtype=lib.float64)
        a[0, 0] = 100.0
        t[1, 1] = -100.0
        got[lib] = (np.shares_memory(a, t.numpy()), values_of(t), a.copy())
    assert got[minigrad][0] == got[torch][0]
    assert_close(got[minigrad][1], got[torch][1], "tensor")
    assert_close(got[minigrad][2], got[torch][2], "array")


NUMPY_OPERANDS = {
    "mul": (lambda lib, x, b: x * b, "any"),
    "rmul": (lambda lib, x, b: b * x, "any"),
    "div": (lambda lib, x, b: x / b, "nonzero"),
    "rdiv": (lambda lib, x, b: b / x, "any"),
    "pow": (lambda lib, x, b: x.abs() ** b, "any"),
    "matmul": (lambda lib, x, b: x @ b.T, "any"),
    "where": (lambda lib, x, b: lib.where(lib.as_tensor(data("mask")), x * x, b) if lib is torch
              else lib.where(data("mask"), x * x, b), "any"),
    "maximum": (lambda lib, x, b: lib.maximum(x, b), "any"),
    "inplace_mul": (lambda lib, x, b: (x * 1).mul_(b), "any"),
    "lerp_weight": (lambda lib, x, b: lib.lerp(x, x * x, b), "unit"),
}


@pytest.mark.parametrize("case", NUMPY_OPERANDS)
def test_numpy_operand_is_copied_so_later_changes_cannot_change_the_gradient(case):
    """Deliverable: a numpy operand of an op (`x * buf`, `x @ m`, `where(cond, ...)`) is
    converted as PyTorch converts it (a copy): changing the array after the op and before
    backward changes neither the value nor the gradient (PyTorch's, computed with a tensor
    of the array's values at the time of the op)."""
    fn, kind = NUMPY_OPERANDS[case]
    b0 = data(kind, S, case)
    x0 = data("nonzero", S, "x")
    w = weights()
    th_x = torch.tensor(x0, requires_grad=True)
    th_y = fn(torch, th_x, torch.tensor(b0))
    (th_y * torch.tensor(w)[..., :th_y.shape[-1]]).sum().backward()
    buf = b0.copy()
    x = minigrad.tensor(x0, requires_grad=True)
    y = fn(minigrad, x, buf)
    buf[...] = -buf + 7.0                     # the user reuses the array
    (y * minigrad.tensor(w)[..., :y.shape[-1]]).sum().backward()
    assert_close(values_of(y), values_of(th_y), "value")
    assert_close(values_of(x.grad), values_of(th_x.grad), "gradient")


def test_numpy_index_array_is_copied():
    """Deliverable: an integer index array is copied when indexing: changing it before
    backward does not move the gradient."""
    idx = np.array([2, 0, 2])
    x = minigrad.tensor(data("any"), requires_grad=True)
    y = x[idx]
    idx[:] = 1
    (y * minigrad.tensor(weights((3, 4)))).sum().backward()
    th_x = torch.tensor(data("any"), requires_grad=True)
    (th_x[torch.tensor([2, 0, 2])] * torch.tensor(weights((3, 4)))).sum().backward()
    assert_close(values_of(x.grad), values_of(th_x.grad), "gradient")


def test_array_protocol_honours_copy():
    """Deliverable: `__array__` honours `copy=`: `np.array(t)` and `np.array(t, copy=True)`
    are copies, `np.asarray(t)` shares memory (as PyTorch), `np.array(t, copy=False)` shares
    (numpy 2's protocol), and a dtype change with copy=False raises ValueError."""
    for lib in (torch, minigrad):
        t = lib.tensor(data("any"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)     # torch's __array__
            assert not np.shares_memory(np.array(t), t.numpy())
            assert not np.shares_memory(np.array(t, copy=True), t.numpy())
            assert np.shares_memory(np.asarray(t), t.numpy())
    t = minigrad.tensor(data("any"))
    assert np.shares_memory(np.array(t, copy=False), t.numpy())
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float32, copy=False)
    c = np.array(t, copy=True)
    c += 1
    np.testing.assert_array_equal(values_of(t), data("any"))


@pytest.mark.parametrize("force", [False, True])
def test_numpy_shares_memory_as_pytorch(force):
    """Deliverable: `.numpy()` shares memory as in PyTorch (writes show on both sides);
    `numpy(force=True)` on a tensor that does not require grad shares too (PyTorch: it is
    `detach().numpy()`); on one that requires grad, `numpy()` raises PyTorch's error."""
    got = {}
    for lib in (torch, minigrad):
        t = lib.tensor(data("any"))
        n = t.numpy(force=force)
        n[0, 0] = 42.0
        t[1, 1] = -42.0
        got[lib] = (np.shares_memory(n, t.numpy()), values_of(t), n.copy())
    assert got[minigrad][0] == got[torch][0]
    assert_close(got[minigrad][1], got[torch][1], "tensor")
    assert_close(got[minigrad][2], got[torch][2], "array")

    def program(lib, x):
        x.numpy()

    check_same(program, data("any"), words=("Can't call numpy() on Tensor that requires grad",))


# ---- tensors as indices -----------------------------------------------------------------------

INDICES = {
    "bool_rows": lambda lib: lib.tensor([True, False, True]),
    "bool_2d": lambda lib: lib.tensor(data("mask")),
    "bool_with_slice": lambda lib: (lib.tensor([False, True, True]), slice(1, 3)),
    "bool_0d_true": lambda lib: lib.tensor(True),
    "bool_0d_false": lambda lib: lib.tensor(False),
    "bool_list": lambda lib: [True, False, True],
    "bool_numpy": lambda lib: np.array([True, True, False]),
    "int64": lambda lib: lib.tensor([2, 0]),
    "int64_repeated": lambda lib: lib.tensor([2, 0, 2, 2]),
    "int64_negative": lambda lib: lib.tensor([-1, 0]),
    "int32": lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    "int64_0d": lambda lib: lib.tensor(1),
    "int64_2d": lambda lib: lib.tensor([[0, 1], [2, 2]]),
    "int_and_int": lambda lib: (lib.tensor([0, 2]), lib.tensor([3, 1])),
    "int_after_slice": lambda lib: (slice(None), lib.tensor([3, 0, 3])),
    "uint8": lambda lib: lib.tensor([1, 0, 1], dtype=lib.uint8),
}


@pytest.mark.parametrize("case", INDICES)
def test_tensor_indices_as_pytorch(case):
    """Deliverable: bool tensors are masks (rows 0 and 2 for [True, False, True], not rows
    [1, 0, 1]), integer tensors index (repeats accumulate in the gradient), as PyTorch:
    values, shapes and gradients. (uint8 tensors are masks too in PyTorch, deprecated.)"""
    def program(lib, x):
        y = x[INDICES[case](lib)]
        (y * y).sum().backward()
        return y

    check_same(program, data("any"))


@pytest.mark.parametrize("dtype", ["float64", "float32", "empty_float"])
@pytest.mark.parametrize("where", ["getitem", "setitem", "in_tuple"])
def test_float_tensor_index_raises_index_error_naming_the_dtype(dtype, where):
    """Deliverable: a float tensor as an index raises IndexError (PyTorch: "tensors used as
    indices must be long, int, byte or bool tensors"), and minigrad's message names the
    dtype it got."""
    def index(lib):
        if dtype == "empty_float":
            return lib.tensor([], dtype=lib.float32)
        return lib.tensor([0.7, 1.9], dtype=getattr(lib, dtype))

    def program(lib, x):
        i = index(lib)
        if where == "getitem":
            x[i]
        elif where == "setitem":
            x.detach()[i] = 1.0
        else:
            x[1:, i]

    err = check_same(program, data("any"), words=("tensors used as indices must be long",)
                     ).error
    named = "float64" if dtype == "float64" else "float32"
    assert named in str(err), f"the dtype {named} is not named: {err}"


# ---- singular points ---------------------------------------------------------------------------

SINGULAR = {
    "std_constant_column": (lambda lib, x: x.std(dim=0), "constcol"),
    "var_constant_column": (lambda lib, x: x.var(dim=0), "constcol"),
    "std_all_equal": (lambda lib, x: x.std(), "const"),
    "var_all_equal_biased": (lambda lib, x: x.var(correction=0), "const"),
    "std_keepdim_rows": (lambda lib, x: x.std(dim=1, keepdim=True), "constrow"),
    "pow_const_0_at_0": (lambda lib, x: (x * 0) ** 0, "any"),
    "pow_const_2_at_0": (lambda lib, x: (x * 0) ** 2, "any"),
    "pow_const_half_at_0": (lambda lib, x: (x * 0) ** 0.5, "any"),
    "pow_const_-1_at_0": (lambda lib, x: (x * 0) ** -1, "any"),
    "sqrt_at_0": (lambda lib, x: (x * 0).sqrt(), "any"),
    "abs_at_0": (lambda lib, x: (x * 0).abs(), "any"),
    "relu_at_0": (lambda lib, x: (x * 0).relu(), "any"),
    "sign_at_0": (lambda lib, x: (x * 0).sign() + x, "any"),
    "log_at_0": (lambda lib, x: (x * 0).log(), "any"),
    "log1p_at_-1": (lambda lib, x: (x * 0 - 1).log1p(), "any"),
    "div_by_0": (lambda lib, x: x / (x * 0), "any"),
    "max_ties": (lambda lib, x: x.max(), "ties"),
    "min_ties": (lambda lib, x: x.min(), "ties"),
    "max_dim_ties": (lambda lib, x: x.max(dim=1).values, "ties"),
    "amax_ties": (lambda lib, x: x.amax(dim=0), "ties"),
    "amin_ties": (lambda lib, x: x.amin(dim=(0, 1)), "ties"),
    "maximum_ties": (lambda lib, x: lib.maximum(x, x.detach().flip(0)), "ties"),
    "clamp_at_bounds": (lambda lib, x: x.clamp(0.0, 1.0), "ties"),
    "norm_of_zero": (lambda lib, x: (x * 0).norm(), "any"),
    "norm_dim_zero_row": (lambda lib, x: (x * lib.tensor([[0.0], [1.0], [1.0]])).norm(dim=1),
                          "any"),
    "prod_one_zero": (lambda lib, x: (x * lib.tensor([1.0, 1.0, 0.0, 1.0])).prod(dim=1), "any"),
    "prod_two_zeros": (lambda lib, x: (x * lib.tensor([0.0, 1.0, 0.0, 1.0])).prod(), "any"),
    "where_nan_branch": (lambda lib, x: lib.where(x > 0, x.sqrt(), x * 0), "any"),
    "relu_inplace_at_0": (lambda lib, x: (x * 0).relu_(), "any"),
}


def _singular_data(kind):
    if kind == "constcol":
        a = data("any")
        a[:, 1] = 0.75
        return a
    if kind == "constrow":
        a = data("any")
        a[2] = -1.5
        return a
    if kind == "const":
        return np.full(S, 2.5)
    return data(kind)


@pytest.mark.parametrize("case", SINGULAR)
def test_singular_points_as_pytorch(case):
    """Deliverable, singular points: std/var where the spread is 0, `x ** 0` and other powers
    at 0, sqrt/abs/relu/log at 0, max/min/maximum at ties, clamp at its bounds, norm and prod
    at zeros: PyTorch's values and gradients (the same finite numbers, the same inf and
    NaN)."""
    fn, kind = SINGULAR[case]

    def program(lib, x):
        y = fn(lib, x)
        (y * 1.5).sum().backward()
        return y

    check_same(program, _singular_data(kind))


@pytest.mark.parametrize("exponent", [[2.0, 0.0, 0.5, 3.0], [0.0, 0.0, 0.0, 0.0],
                                      [-1.0, 1.0, 2.0, -0.5]])
def test_tensor_power_at_zero_base_as_pytorch(exponent):
    """Deliverable: `a ** b` with a tensor exponent at a == 0: d/db is PyTorch's (0 where
    b >= 0, not NaN from 0 * log 0), d/da too."""
    def program(lib, a, b):
        base = a * lib.tensor([0.0, 0.0, 1.0, 0.0])
        e = b * 0 + lib.tensor(exponent)
        y = base ** e
        y.sum().backward()
        return y

    check_same(program, data("pos", (4,)), data("any", (4,)))


# ---- also found ----------------------------------------------------------------------------------

@pytest.mark.parametrize("left,right", [
    ("float32", "float64_0d"), ("float64", "float32_0d"), ("float32", "int64_0d"),
    ("int32", "int64_0d"), ("float32", "float64_1d"), ("int64", "float32_0d"),
    ("float32", "bool_0d"),
])
def test_0d_tensor_promotes_only_across_kinds(left, right):
    """Also found: a 0-d tensor does not promote a tensor of the same kind (`x32 *
    tensor(0.5)` stays float32, as PyTorch's type promotion); a 1-d one does; the gradient of
    each leaf keeps its own dtype."""
    def program(lib):
        a = lib.ones(3, dtype=getattr(lib, left))
        kind, rank = right.split("_")
        value = True if kind == "bool" else 0.5 if kind.startswith("float") else 2
        b = lib.tensor(value if rank == "0d" else [value] * 3, dtype=getattr(lib, kind))
        out = [a * b, b * a, a + b]
        if left.startswith("float"):
            a.requires_grad_()
            if kind.startswith("float"):
                b.requires_grad_()
            (a * b).sum().backward()
            out += [a.grad] + ([b.grad] if b.requires_grad else [])
        return tuple(out)

    check_same(program)


def test_grad_of_a_gradient_wrt_its_grad_outputs_jvp_trick():
    """Also found: `grad(g, u)` works when u was the `grad_outputs` of a create_graph call
    (the double-backward trick PyTorch's jvp uses): it gives PyTorch's J v."""
    def program(lib, x, v):
        y = (x.sin() * x).tanh() @ lib.tensor(data("any", (4, 2)))
        u = lib.zeros_like(y, requires_grad=True)
        (g,) = lib.autograd.grad(y, x, grad_outputs=u, create_graph=True)
        (jv,) = lib.autograd.grad(g, u, grad_outputs=v.detach())
        return jv

    check_same(program, data("any"), data("any", S, "v"))


def test_gradcheck_with_a_function_that_registers_hooks():
    """Also found: gradcheck evaluates the function with recording on, so a function that
    registers a hook on an intermediate works (PyTorch's gradcheck does), and the hook runs."""
    for lib in (torch, minigrad):
        calls = []

        def fn(x, lib=lib, calls=calls):
            y = x * x
            y.register_hook(lambda g: calls.append(1))
            return (y.sin() * 3).sum()

        x = lib.tensor(data("any", (2, 3)), requires_grad=True)
        assert lib.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-5) is True
        assert calls, f"{lib.__name__}: the hook never ran"


@pytest.mark.parametrize("how", ["two_casts", "promoted_twice", "double_and_to"])
def test_float32_leaf_keeps_float32_grad_when_shares_arrive_in_float64(how):
    """Also found: a float32 leaf whose gradient arrives as float64 shares from several
    outputs ends with a float32 `.grad` (PyTorch keeps the leaf's dtype), with PyTorch's
    values."""
    def program(lib, *_):
        x = lib.tensor(data("any", (5,)), dtype=lib.float32, requires_grad=True)
        big = lib.tensor(data("any", (5,), "big"))
        if how == "two_casts":
            out = x.double() * 2 + x.to(lib.float64) * big
        elif how == "promoted_twice":
            out = x * big + (x * big).exp()
        else:
            out = x.double().sin() + (x * 3).double()
        out.sum().backward()
        return x.grad, out

    check_same(program)


@pytest.mark.parametrize("n,start", [(5000, "user_zeros"), (5000, "create_graph"),
                                     (100, "user_zeros"), (8192, "backward")])
def test_tensor_grad_keeps_accumulating_at_any_size(n, start):
    """Also found: a leaf's `.grad` that is a Tensor (set by the user, or left by
    `backward(create_graph=True)`) keeps accumulating over later backwards above 4096
    elements; a user's .grad object is updated in place (as PyTorch's AccumulateGrad)."""
    def program(lib, x):
        if start == "user_zeros":
            x.grad = lib.zeros_like(x)
        elif start == "create_graph":
            (x * x).sum().backward(create_graph=True)
        else:
            (x * 3).sum().backward()
        first = x.grad
        for _ in range(2):
            (x * 2).sum().backward()
        if start == "create_graph":      # .grad had a graph: only its values are PyTorch's
            return x.grad
        return x.grad, lib.tensor(x.grad is first), first

    check_same(program, data("any", (n,)))


# ---- random programs: PyTorch's gradients or PyTorch's error -------------------------------------

SHAPE = (2, 3)
UNARY = ["exp", "sigmoid", "tanh", "relu", "sin", "mul_const", "square", "neg", "clone"]
BINARY = ["add", "sub", "mul", "div"]
VIEWS = ["view", "slice_all", "tt", "reshape", "detach"]
INPLACE = ["add_", "sub_", "mul_", "mul_num", "div_", "exp_", "sigmoid_", "tanh_", "relu_",
           "clamp_", "pow_", "copy_", "zero_", "fill_", "iadd", "imul"]
PIECES = [0, (slice(None), 1), (slice(1, None),), (slice(None), slice(0, 2))]


def _unary(lib, t, f):
    if f == "mul_const":
        return t * 2.5
    if f == "square":
        return t ** 2
    if f == "neg":
        return -t
    return getattr(t, f)()


def _binary(a, b, f):
    if f == "div":
        return a / (b * b + 1)
    return {"add": operator.add, "sub": operator.sub, "mul": operator.mul}[f](a, b)


def _view(t, f):
    if f == "view":
        return t.view(SHAPE)
    if f == "slice_all":
        return t[:]
    if f == "tt":
        return t.t().t()
    if f == "reshape":
        return t.reshape(SHAPE)
    return t.detach()


def _inplace(t, f, other):
    """An in-place op on t with `other` (of t's shape)."""
    if f in ("add_", "sub_", "mul_", "copy_"):
        return getattr(t, f)(other)
    if f == "div_":
        return t.div_(other * other + 1)
    if f == "mul_num":
        return t.mul_(-1.5)
    if f == "clamp_":
        return t.clamp_(-0.5, 0.7)
    if f == "pow_":
        return t.pow_(2)
    if f == "fill_":
        return t.fill_(0.25)
    if f == "iadd":
        t += other
        return t
    if f == "imul":
        t *= other
        return t
    return getattr(t, f)()


IDX = st.integers(0, 11)
TARGET = st.integers(0, 15)
STEP = st.one_of(
    st.tuples(st.just("unary"), IDX, st.sampled_from(UNARY)),
    st.tuples(st.just("binary"), IDX, IDX, st.sampled_from(BINARY)),
    st.tuples(st.just("view"), IDX, st.sampled_from(VIEWS)),
    st.tuples(st.just("inplace"), TARGET, st.sampled_from(INPLACE), IDX),
    st.tuples(st.just("inplace_piece"), TARGET, st.integers(0, len(PIECES) - 1),
              st.sampled_from(INPLACE), IDX),
    st.tuples(st.just("setitem"), TARGET, st.integers(0, len(PIECES) - 1), IDX),
    st.tuples(st.just("data"), IDX, st.sampled_from(["mul_", "iadd", "setitem"])),
    st.tuples(st.just("no_grad"), IDX, st.sampled_from(INPLACE + ["new"]), IDX),
    st.tuples(st.just("backward"), IDX, st.booleans()),
)


def play(lib, program, arrays):
    """Run a program of steps on one engine. Tensors live in a list: leaves x and y that
    require grad, a constant c, then non-leaves; each new tensor is appended. A step's first
    number picks its tensor modulo the list's length; in-place steps pick among all but the
    two leaves, but for 1 in 16 (`no_grad` and `.data` steps pick any). Returns
    ("ok", values of every tensor, grads of x and y) or ("raised", class, step, error)."""
    x = lib.tensor(arrays[0].copy(), requires_grad=True)
    y = lib.tensor(arrays[1].copy(), requires_grad=True)
    c = lib.tensor(arrays[2].copy())
    env = [x, y, c, x * 1.0, y.tanh(), x * y]
    w = lib.tensor(weights(SHAPE))

    def pick(k):
        return env[k % len(env)]

    def target(k):                          # mostly a tensor other than the leaves x, y
        return x if k == 15 else env[2 + k % (len(env) - 2)]

    step = -1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for step, s in enumerate(program):  # noqa: B007  (read in `except`)
                kind = s[0]
                if kind == "unary":
                    env.append(_unary(lib, pick(s[1]), s[2]))
                elif kind == "binary":
                    env.append(_binary(pick(s[1]), pick(s[2]), s[3]))
                elif kind == "view":
                    env.append(_view(pick(s[1]), s[2]))
                elif kind == "inplace":
                    _inplace(target(s[1]), s[2], pick(s[3]))
                elif kind == "inplace_piece":
                    piece = PIECES[s[2]]
                    _inplace(target(s[1])[piece], s[3], pick(s[4])[piece])
                elif kind == "setitem":
                    piece = PIECES[s[2]]
                    target(s[1])[piece] = pick(s[3])[piece] * 0.5
                elif kind == "data":
                    t = pick(s[1])
                    if s[2] == "mul_":
                        t.data.mul_(0.5)
                    elif s[2] == "iadd":
                        d = t.data
                        d += 0.25
                    else:
                        t.data[0] = 1.5
                elif kind == "no_grad":
                    with lib.no_grad():
                        if s[2] == "new":
                            env.append(pick(s[1]) * 2)
                        else:
                            _inplace(pick(s[1]), s[2], pick(s[3]))
                elif kind == "backward":
                    t = pick(s[1])
                    if t.requires_grad:
                        (t * w).sum().backward(retain_graph=s[2])
                for t in env:
                    # PyTorch regenerates a view's grad_fn lazily, when it is read (whether a
                    # later in-place op on the view raises depends on it): read them all
                    _ = t.grad_fn
            step = len(program)
            live = [t for t in env if t.requires_grad]
            if live:
                sum((t * w).sum() for t in live).backward()
    except Exception as err:  # noqa: BLE001
        return ("raised", type(err), step, err)
    return ("ok", [values_of(t) for t in env],
            [None if leaf.grad is None else values_of(leaf.grad) for leaf in (x, y)])


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=8))
def test_random_programs_give_pytorchs_gradients_or_pytorchs_error(program):
    """Tests: random short programs of out-of-place ops, in-place ops (also on pieces of a
    tensor and by setitem), `.data` writes, no_grad blocks and backwards (with and without
    retain_graph) either both run, with the same values of every tensor and the same
    gradient of every leaf (1e-12), or both raise the same class at the same step."""
    arrays = [data("unit", SHAPE, k) for k in ("x", "y", "c")]
    th = play(torch, program, arrays)
    mg = play(minigrad, program, arrays)
    if th[0] == "raised":
        assert mg[0] == "raised", (
            f"PyTorch raises {th[1].__name__} at step {th[2]}: {th[3]}\nminigrad does not")
        assert issubclass(mg[1], th[1]) and mg[2] == th[2], (
            f"PyTorch: {th[1].__name__} at step {th[2]}: {th[3]}\n"
            f"minigrad: {mg[1].__name__} at step {mg[2]}: {mg[3]}")
        return
    if mg[0] == "raised":
        raise AssertionError(f"minigrad raises at step {mg[2]}; PyTorch does not") from mg[3]
    for k, (a, b) in enumerate(zip(mg[1], th[1])):
        assert_close(a, b, f"tensor {k}")
    for name, a, b in zip("xy", mg[2], th[2]):
        assert (a is None) == (b is None), f"{name}.grad None in one engine only"
        if a is not None:
            assert_close(a, b, f"{name}.grad")
