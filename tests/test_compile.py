"""minigrad.compile (issue 13), bullet by bullet:

    step = minigrad.compile(train_step)   # train_step(x, y) builds the loss, may call
    loss = step(x, y)                     # loss.backward() and opt.step(); the same effects
    print(step.source)                    # the generated numpy code of the last trace

- compiled and eager agree (float64 to 1e-12, float32 to rounding) on the networks of the test
  suite and of the demos, over several steps: losses, parameters, .grad, running statistics,
  optimizer state;
- a trace per signature (shapes, dtypes, requires_grad, grad mode, train/eval, Python numbers
  passed in, optimizer options), none when nothing changed; Python control flow frozen at trace
  time (documented); reading a tensor's value in Python is a CompileError, never a stale branch;
- the program is simplified (constant folding, common subexpressions, dead code, the identities
  backward rules produce, elementwise chains fused into planned buffers);
- `step.source` is readable (one numpy call per line, names from labels, arguments, parameters
  and nn scopes, sections marked) and runs as a standalone script with the same numbers;
- plain functions of tensors, with minigrad.grad inside, compile too.

The networks live in tests/_compile_models.py; each `make_*` gives a fresh, identical copy, so
one copy runs eagerly and the other compiled on the same batches.
"""

from __future__ import annotations

import ast
import builtins
import copy
import importlib.util
import inspect
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import Tensor, nn, optim

_spec = importlib.util.spec_from_file_location(
    "_compile_models", Path(__file__).with_name("_compile_models.py"))
M = sys.modules.setdefault("_compile_models", importlib.util.module_from_spec(_spec))
if not hasattr(M, "Case"):
    _spec.loader.exec_module(M)

F64 = dict(rtol=1e-12, atol=1e-12)
F32 = dict(rtol=1e-5, atol=1e-6)


def npy(t):
    return np.array(t.detach().numpy(), copy=True)


def run_both(make, steps=5, tol=F64, min_replays=1):
    """Train two copies of a network, one eagerly and one through minigrad.compile, on the
    same batches; after every step the losses and the whole state agree. Returns the compiled
    step. `min_replays`: how many calls must have replayed a program (not traced) at the end,
    so that the agreement is not only that of tracing (which runs the function eagerly)."""
    eager, comp = make(), make()
    step = minigrad.compile(comp.train_step)
    for k in range(steps):
        want = eager.train_step(*eager.inputs(k))
        got = step(*comp.inputs(k))
        np.testing.assert_allclose(npy(got), npy(want), **tol, err_msg=f"loss of step {k}")
        assert got.dtype == want.dtype and got.shape == want.shape
        M.assert_same_state(comp.state(), eager.state(), when=f"after step {k}", **tol)
        if eager.between is not None:
            eager.between()
            comp.between()
    assert steps - step.traces >= min_replays, f"{step.traces} traces in {steps} calls"
    return step


# ---- compiled and eager agree ---------------------------------------------------------------


def _ghost_bn_mlp():
    pytest.importorskip("matplotlib")        # demos.common draws with it
    from demos.d7_noise import GhostBatchNorm1d
    return M.make_demo_mlp("relu", norm=lambda width: GhostBatchNorm1d(width, 4))


def _demo(**kw):
    def make():
        pytest.importorskip("matplotlib")
        return M.make_demo_mlp(**kw)
    return make


def _d2(mode):
    def make():
        pytest.importorskip("matplotlib")
        return M.make_detached_bn(mode)
    return make


AGREE = {
    # the test suite's networks
    "bn_mlp_sgd_momentum_weight_decay": (M.make_bn_mlp, F64, 1),
    "bn_mlp_float32": (lambda: M.make_bn_mlp(np.float32), F32, 1),
    "nested_modules_tanh_sigmoid_mse_nesterov": (M.make_nested, F64, 1),
    "layernorm_mse_adam_weight_decay": (M.make_layernorm, F64, 1),
    "layernorm_adam_amsgrad_float32": (lambda: M.make_layernorm(np.float32, amsgrad=True),
                                       F32, 1),
    "bn_relu_dropout_eval": (lambda: M.make_dropout(training=False), F64, 1),
    "bn_relu_dropout_train": (lambda: M.make_dropout(training=True), F64, 1),
    "makemore_nesterov_steplr": (lambda: M.make_makemore("sgd", "step", clip=False), F64, 1),
    "makemore_nesterov_steplr_clip_grad_norm": (lambda: M.make_makemore("sgd", "step"), F64, 1),
    "makemore_adamw_steplr_clip_grad_norm": (lambda: M.make_makemore("adamw", "step"), F64, 1),
    "makemore_rmsprop_steplr": (lambda: M.make_makemore("rmsprop", "step", clip=False), F64, 1),
    "makemore_adagrad": (lambda: M.make_makemore("adagrad", "none", clip=False), F64, 1),
    # an lr that changes at every step retraces at every step (the lr is part of the program)
    "makemore_sgd_exponentiallr": (lambda: M.make_makemore("sgd", "exponential", clip=False),
                                   F64, 0),
    # the demos' networks
    "demo_mlp_sigmoid_batchnorm": (_demo(), F64, 1),
    "demo_mlp_relu_batchnorm_dropout": (_demo(activation="relu", dropout=0.3), F64, 1),
    "demo_mlp_tanh_plain_sgd": (_demo(activation="tanh", batchnorm=False, momentum=0.0), F64, 1),
    "demo_d2_batchnorm_from_primitives": (_d2("none"), F64, 1),
    "demo_d2_batchnorm_mean_detached": (_d2("mean"), F64, 1),
    "demo_d2_batchnorm_statistics_detached": (_d2("both"), F64, 1),
    "demo_d3_linear_regression": (M.make_linear_regression, F64, 1),
    "demo_d7_ghost_batchnorm": (_ghost_bn_mlp, F64, 1),
}


@pytest.mark.parametrize("name", list(AGREE))
def test_compiled_and_eager_agree_over_several_steps(name):
    """Losses, parameters, .grad, running statistics and optimizer state (momentum buffers,
    Adam's moments and step, ...) agree after every one of 5 steps; the later steps replay the
    program with optimizer state that already exists."""
    make, tol, min_replays = AGREE[name]
    run_both(make, tol=tol, min_replays=min_replays)


def _accumulating(zero):
    """A Linear trained with mse; `zero`: "none" (no zero_grad: gradients accumulate across
    calls, so the step reads .grad), "zeros" (zero_grad(set_to_none=False), in place) or
    "to_none"."""
    def make():
        model = nn.Linear(3, 2, generator=0)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

        def train_step(x, y):
            if zero != "none":
                opt.zero_grad(set_to_none=zero == "to_none")
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return M.Case(dict(model.named_parameters()), opt, train_step,
                      M._regression(6, 3, 2, 5, 1), module=model)
    return make


@pytest.mark.parametrize("zero", ["none", "zeros", "to_none"])
def test_gradients_that_exist_before_the_call_are_read_and_accumulated(zero):
    run_both(_accumulating(zero))


def test_state_changed_between_calls_is_read_at_every_call():
    """The program reads parameters and buffers at each call: a load_state_dict, an in-place
    change under no_grad and an assignment to .data between calls are all seen."""
    eager, comp = M.make_bn_mlp(), M.make_bn_mlp()
    step = minigrad.compile(comp.train_step)
    other = M.make_bn_mlp().module
    with minigrad.no_grad():
        for p in other.parameters():
            p.mul_(0.5)
    for k in range(5):
        for case in (eager, comp):
            if k == 2:
                case.module.load_state_dict(other.state_dict())
            if k == 3:
                with minigrad.no_grad():
                    case.module[0].weight.add_(0.25)
            if k == 4:
                case.module[3].bias.data = minigrad.ones(6)
        want = eager.train_step(*eager.inputs(k))
        got = step(*comp.inputs(k))
        np.testing.assert_allclose(npy(got), npy(want), **F64, err_msg=f"step {k}")
        M.assert_same_state(comp.state(), eager.state(), when=f"after step {k}", **F64)
    assert step.traces <= 3


def test_results_and_gradients_of_one_call_are_not_overwritten_by_the_next():
    """Planned buffers stay inside the program: the loss returned by one call and the .grad
    tensors it set keep their values after the next call (as in eager mode, where every step
    makes new arrays)."""
    case = M.make_bn_mlp(batch=64, width=34)
    step = minigrad.compile(case.train_step)
    for k in range(3):
        step(*case.inputs(k))
    loss = step(*case.inputs(3))
    kept = {n: (t.grad, npy(t.grad)) for n, t in case.module.named_parameters()}
    loss_value = npy(loss)
    step(*case.inputs(4))
    np.testing.assert_array_equal(npy(loss), loss_value)
    for n, (grad, value) in kept.items():
        np.testing.assert_array_equal(npy(grad), value, err_msg=n)


def test_returned_tensors_carry_no_graph_on_every_call():
    """Documented: returned tensors carry no graph; the first (tracing) call is no exception."""
    case = M.make_bn_mlp()
    step = minigrad.compile(case.train_step)
    for k in range(3):
        loss = step(*case.inputs(k))
        assert loss.grad_fn is None and not loss.requires_grad, f"call {k}"


# ---- numpy arrays and random numbers ----------------------------------------------------------


def _labels_step():
    model = nn.Linear(3, 3, generator=0)
    return model, lambda x, y: F.cross_entropy(model(x), y)


def test_a_numpy_argument_is_read_at_every_call():
    """demos/common.py's train_classifier passes the labels as a numpy array. A new array with
    other values (even one that Python puts at the address of the last one) and the same array
    changed in place both give eager mode's loss."""
    model, f = _labels_step()
    step = minigrad.compile(f)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    for labels in ([0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]):
        y = np.array(labels)
        np.testing.assert_allclose(npy(step(x, y)), npy(f(x, y)), **F64, err_msg=str(labels))
        del y
    y = np.array([0, 1, 2, 0])
    for _ in range(3):
        np.testing.assert_allclose(npy(step(x, y)), npy(f(x, y)), **F64)
        y[:] = (y + 1) % 3


def test_a_numpy_argument_of_the_same_shape_and_dtype_does_not_retrace():
    model, f = _labels_step()
    step = minigrad.compile(f)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    rng = np.random.default_rng(1)
    for _ in range(4):
        step(x, rng.integers(0, 3, 4))
    assert step.traces == 1


def _dropout_net(seed):
    model = nn.Sequential(nn.Linear(4, 6, generator=0), nn.ReLU(),
                          nn.Dropout(0.5, generator=seed), nn.Linear(6, 2, generator=1))
    return model, lambda x: model(x).sum()


def test_dropout_draws_the_same_masks_as_eager_across_retraces_and_reseeding():
    """The compiled step draws from the module's own generator: after a retrace (a new batch
    size, a train/eval switch) and after the generator is reseeded, the masks are still the
    ones eager mode draws."""
    (me, fe), (mc, fc) = _dropout_net(3), _dropout_net(3)
    step = minigrad.compile(fc)
    rng = np.random.default_rng(0)
    plan = [(5, True), (5, True), (5, True), (6, True), (6, True), (5, True), (5, False),
            (5, True), (5, True), ("reseed", True), (5, True)]
    for k, (n, training) in enumerate(plan):
        if n == "reseed":
            me[2].generator.manual_seed(7)
            mc[2].generator.manual_seed(7)
            continue
        me.train(training)
        mc.train(training)
        x = rng.standard_normal((n, 4))
        np.testing.assert_allclose(npy(step(Tensor(x))), npy(fe(Tensor(x))), **F64,
                                   err_msg=f"call {k} (batch {n}, training={training})")


def test_other_random_numbers_inside_the_function_are_a_compile_error():
    """Documented: drawing random numbers other than dropout's is an error, never a frozen
    draw."""
    step = minigrad.compile(lambda x: x + minigrad.randn(3))
    with pytest.raises(minigrad.CompileError):
        step(minigrad.zeros(3))


# ---- a trace per signature ------------------------------------------------------------------


def test_a_trace_per_signature_and_none_when_nothing_changed():
    """Each change of the signature makes exactly one new trace; repeating a signature (or
    going back to one seen before) makes none; every call agrees with eager mode."""
    def make():
        model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.BatchNorm1d(4), nn.Tanh(),
                              nn.Linear(4, 2, generator=1))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def train_step(x, y, scale):
            opt.zero_grad()
            loss = F.mse_loss(model(x) * scale, y)
            loss.backward()
            opt.step()
            return loss
        return model, opt, train_step

    (me, oe, fe), (mc, oc, fc) = make(), make()
    step = minigrad.compile(fc)
    rng = np.random.default_rng(0)

    def call(n=6, dtype=np.float64, scale=1.0, rg=False):
        x, y = rng.standard_normal((n, 3)).astype(dtype), rng.standard_normal((n, 2))
        want = fe(Tensor(x, requires_grad=rg), Tensor(y), scale)
        got = step(Tensor(x, requires_grad=rg), Tensor(y), scale)
        np.testing.assert_allclose(npy(got), npy(want), **F64)
        for (n_, a), (_, b) in zip(mc.state_dict().items(), me.state_dict().items()):
            np.testing.assert_allclose(npy(a), npy(b), **F64, err_msg=n_)
        return step.traces

    call()                               # trace 1: no momentum buffers yet
    base = call()                        # trace 2: with them
    assert call() == base and call() == base, "nothing changed: no new trace"
    assert call(n=7) == base + 1, "input shape"
    assert call(n=7) == base + 1
    assert call(n=6) == base + 1, "back to a signature already traced"
    assert call(dtype=np.float32) == base + 2, "input dtype"
    assert call(scale=2.0) == base + 3, "a Python number's value"
    assert call(scale=2.0) == base + 3
    assert call(rg=True) == base + 4, "requires_grad of an input"
    assert call(rg=True) == base + 4
    for g in oe.param_groups + oc.param_groups:
        g["lr"] = 0.05
    assert call() == base + 5, "the optimizer's lr"
    assert call() == base + 5
    me.eval()
    mc.eval()
    assert call() == base + 6, "train() -> eval()"
    assert call() == base + 6


def test_grad_mode_is_part_of_the_signature():
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.BatchNorm1d(4))
    step = minigrad.compile(lambda x: model(x).sum())
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
    step(x)
    step(x)
    assert step.traces == 1
    with minigrad.no_grad():
        np.testing.assert_allclose(npy(step(x)), npy(model(x).sum()), **F64)
        assert step.traces == 2
        step(x)
        assert step.traces == 2
    step(x)
    assert step.traces == 2


def test_zero_grad_outside_the_step_does_not_retrace_at_every_call():
    """`step(x, y); opt.zero_grad()` in a loop: one trace (every call starts without
    gradients), then replays that agree with eager mode."""
    def make():
        model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.Tanh(), nn.Linear(4, 2,
                                                                               generator=1))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def train_step(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, opt, train_step

    (me, oe, fe), (mc, oc, fc) = make(), make()
    step = minigrad.compile(fc)
    rng = np.random.default_rng(1)
    for _ in range(6):
        x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
        np.testing.assert_allclose(npy(step(Tensor(x), Tensor(y))),
                                   npy(fe(Tensor(x), Tensor(y))), **F64)
        oe.zero_grad()
        oc.zero_grad()
    for a, b in zip(mc.parameters(), me.parameters()):
        np.testing.assert_allclose(npy(a), npy(b), **F64)
    assert step.traces == 1
    assert sum(map(len, step.programs.values())) == 1


def test_a_gradient_set_by_hand_before_the_call_is_used_by_the_update():
    """A parameter outside the loss's graph is updated when its .grad was set before the
    call and left alone when it was not, as in eager mode (the program is traced again for
    each case, then replays)."""
    def make():
        used, unused = nn.Linear(3, 1, generator=0), nn.Linear(3, 1, generator=1)
        opt = optim.SGD([*used.parameters(), *unused.parameters()], lr=0.1)

        def train_step(x):
            loss = used(x).sum()
            loss.backward()
            opt.step()
            return loss
        return unused, opt, train_step

    (ue, oe, fe), (uc, oc, fc) = make(), make()
    step = minigrad.compile(fc)
    x = Tensor(np.ones((2, 3)))
    for k in range(6):
        for u, o in ((ue, oe), (uc, oc)):
            o.zero_grad()
            if k % 2:
                u.weight.grad = Tensor(np.full((1, 3), 1.0 + k))
        fe(x)
        step(x)
        np.testing.assert_allclose(npy(uc.weight), npy(ue.weight), **F64)
    assert npy(ue.weight).tolist() != npy(make()[0].weight).tolist(), "it moved"
    assert step.traces == 2


def test_a_python_argument_that_picks_a_branch_retraces_instead_of_freezing_it():
    """Control flow on a Python argument (a flag, a keyword number) is part of the signature:
    each value gets its own trace, and going back to a value replays its program."""
    def f(x, double, *, shift=0.0):
        return (x * 2 if double else x * 3) + shift
    step = minigrad.compile(f)
    x = minigrad.ones(2)
    assert npy(step(x, True)).tolist() == [2.0, 2.0]
    assert npy(step(x, False)).tolist() == [3.0, 3.0]
    assert npy(step(x, False, shift=1.0)).tolist() == [4.0, 4.0]
    assert npy(step(x, True)).tolist() == [2.0, 2.0]
    assert step.traces == 3


def test_any_optimizer_option_and_a_submodule_mode_are_part_of_the_program():
    """Changing momentum or weight_decay, or switching one submodule (the dropout layer) to
    eval mode, makes a new trace; every call agrees with eager mode."""
    eager, comp = (M.make_dropout(training=True, steps=8, momentum=0.9) for _ in range(2))
    step = minigrad.compile(comp.train_step)
    changes = {2: lambda c: c.opt.param_groups[0].update(momentum=0.5),
               4: lambda c: c.opt.param_groups[0].update(weight_decay=0.01),
               6: lambda c: c.module[3].eval()}
    seen = []
    for k in range(8):
        if k in changes:
            changes[k](eager)
            changes[k](comp)
        want = eager.train_step(*eager.inputs(k))
        got = step(*comp.inputs(k))
        np.testing.assert_allclose(npy(got), npy(want), **F64, err_msg=f"step {k}")
        M.assert_same_state(comp.state(), eager.state(), when=f"after step {k}", **F64)
        seen.append(step.traces)
    assert seen[2] == seen[1] + 1 and seen[4] == seen[3] + 1 and seen[6] == seen[5] + 1, seen
    assert seen[3] == seen[2] and seen[5] == seen[4] and seen[7] == seen[6], seen


def test_tensor_ops_instead_of_a_python_branch_follow_the_data():
    """The replacement the CompileError suggests: minigrad.where computes both sides and picks
    per element at every call, so inputs of other signs take the other branch."""
    def leaky(x):
        return minigrad.where(x > 0, x, 0.1 * x).sum()
    step = minigrad.compile(leaky)
    for values in ([1.0, 2.0], [-1.0, -2.0], [3.0, -4.0]):
        x = Tensor(np.array(values))
        np.testing.assert_allclose(npy(step(x)), npy(leaky(x)), **F64, err_msg=str(values))
    assert step.traces == 1


def test_python_control_flow_is_frozen_at_trace_time_and_documented():
    """As in jax.jit / torch.jit.trace: a branch on a Python value (not an argument) takes the
    branch it took when traced, and the docstring says so."""
    doc = (minigrad.compile.__doc__ or "") + (inspect.getmodule(minigrad.compile).__doc__ or "")
    assert "frozen" in doc and "control flow" in doc
    flag = {"double": False}

    def f(x):
        return x * 2 if flag["double"] else x * 3
    step = minigrad.compile(f)
    x = minigrad.ones(2)
    assert npy(step(x)).tolist() == [3.0, 3.0]
    flag["double"] = True
    assert npy(step(x)).tolist() == [3.0, 3.0]


# ---- reading a tensor's value in Python -----------------------------------------------------


def _reads(how):
    def f(x, w):
        loss = ((x @ w) ** 2).mean()
        if how == "item":
            if loss.item() > 1e6:
                raise AssertionError
        elif how == "bool":
            if loss > 0:
                loss = loss * 2
        elif how == "float":
            float(loss)
        elif how == "tolist":
            w.tolist()
        elif how == "numpy":
            np.asarray(loss)
        loss.backward()
        return loss
    return f


@pytest.mark.parametrize("how", ["item", "bool", "float", "tolist", "numpy"])
def test_reading_a_tensor_value_in_python_is_a_compile_error_that_leaves_nothing_behind(how):
    """.item(), bool(t) (an `if` on a tensor), float(t), .tolist() and np.asarray(t) inside the
    function raise minigrad.CompileError, at every call (no program is kept to replay), and
    leave nothing behind: no .grad, no program, grad mode on, eager mode working."""
    w = Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)
    x = Tensor(np.ones((2, 3)))
    step = minigrad.compile(_reads(how))
    for _ in range(2):
        with pytest.raises(minigrad.CompileError, match="value"):
            step(x, w)
    assert step.traces == 0 and step.program is None
    assert w.grad is None
    assert minigrad.is_grad_enabled()
    loss = ((x @ w) ** 2).mean()                        # eager mode still records graphs
    loss.backward()
    np.testing.assert_allclose(npy(w.grad), [[6.0], [6.0], [6.0]])   # 2 * (x @ w) * x, x = 1
    assert minigrad.compile(_reads("none"))(x, w).shape == ()


def test_an_error_after_the_update_leaves_the_state_as_before_the_call():
    """The failed call has no half-done effects: parameters, .grad and optimizer state are
    those of before the call, as if it had not been made."""
    model = nn.Linear(3, 1, generator=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train_step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        print(f"loss {loss.item():.3f}")
        return loss
    x = Tensor(np.ones((2, 3)))
    before = npy(model.weight)
    with pytest.raises(minigrad.CompileError):
        minigrad.compile(train_step)(x)
    np.testing.assert_array_equal(npy(model.weight), before)
    assert model.weight.grad is None and not opt.state.get(model.weight)


# ---- the program is simplified --------------------------------------------------------------


def _function_lines(source, name):
    """The statements of function `name` in `source` (ast nodes)."""
    tree = ast.parse(source)
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return fn


def _section(source, name):
    """The lines of the source in section `# ---- name` (up to the next section or return)."""
    lines, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("# ----"):
            inside = s == f"# ---- {name}"
            continue
        if s.startswith("return"):
            inside = False
        if inside and s:
            lines.append(s)
    return lines


def test_common_subexpressions_are_computed_once():
    def f(x):
        return ((x.exp() + x.exp()) * x.exp()).sum()

    def once(x):
        e = x.exp()
        return ((e + e) * e).sum()
    x = Tensor(np.linspace(-1, 1, 6))
    step, ref = minigrad.compile(f), minigrad.compile(once)
    np.testing.assert_allclose(npy(step(x)), npy(f(x)), **F64)
    ref(x)
    assert step.source.count("np.exp(") == 1
    assert len(step.program.stmts) == len(ref.program.stmts)


def test_constants_are_folded():
    """Arithmetic on values the function makes from Python numbers is done once, at trace
    time: what is left is the one multiplication by the input and the sum."""
    def f(x):
        c = minigrad.ones(3) * 2 + 1
        return (x * c).sum()
    x = Tensor(np.arange(6.0).reshape(2, 3))
    step = minigrad.compile(f)
    np.testing.assert_allclose(npy(step(x)), 45.0)
    assert len(step.program.stmts) == 2
    assert "3.0" in step.source


# x * 1, 1 * x, x + 0, 0 + x (with 1.0 and 0.0), but not "* 1e-05", "* 10" or "+ 0.5"
IDENTITIES = [re.compile(p) for p in (r"\* 1(\.0*)?(?![\w.])", r"(?<![\w.])1(\.0*)? \*",
                                      r"\+ 0(\.0*)?(?![\w.])", r"(?<![\w.])0(\.0*)? \+")]


def test_the_identities_x_times_1_and_adding_zero_are_removed():
    def f(x, w):
        loss = ((x * w) * 1 + 0).sum()
        loss.backward()
        return loss
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    w = Tensor(np.arange(3.0), requires_grad=True)
    step = minigrad.compile(f)
    step(x, w)
    for line in step.source.splitlines():
        for identity in IDENTITIES:
            assert not identity.search(line), step.source


def test_the_training_step_has_no_identities_left_from_backward_rules():
    """Backward rules multiply by ones, add zeros and broadcast gradients that are summed back;
    none of that is left in the code of the batch-norm MLP's step."""
    case = M.make_bn_mlp()
    step = minigrad.compile(case.train_step)
    for k in range(2):
        step(*case.inputs(k))
    for line in step.source.splitlines():
        for identity in IDENTITIES:
            assert not identity.search(line), line
        assert "broadcast_to" not in line and "Expand" not in line, line


def test_a_broadcast_gradient_summed_back_is_one_reduction():
    """d/dw sum(x * w) for w broadcast over the rows: the backward is the sum of x over the
    rows (one reduction), not a broadcast of ones, a product and a sum."""
    def f(x, w):
        loss = (x * w).sum()
        loss.backward(inputs=[w])
        return loss
    x = Tensor(np.arange(12.0).reshape(4, 3))
    w = Tensor(np.ones(3), requires_grad=True)
    step = minigrad.compile(f)
    step(x, w)
    np.testing.assert_allclose(npy(w.grad), [18.0, 22.0, 26.0])
    assert _section(step.source, "backward") == [
        line for line in _section(step.source, "backward") if "reduce" in line]
    assert len(_section(step.source, "backward")) == 1, step.source


def test_dead_code_gradients_nobody_reads_are_not_computed():
    """Only what the results need is computed: no backward code for a function that calls no
    backward; no gradient of x when only w's is asked for (backward(inputs=[w])); no forward
    code when only the gradient is returned and it does not need the forward values."""
    x = Tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
    w = Tensor(np.linspace(0.5, 1.5, 3).reshape(3, 1), requires_grad=True)

    plain = minigrad.compile(lambda x, w: ((x @ w).tanh() ** 2).sum())
    plain(x, w)
    assert "# ---- backward" not in plain.source and "d_" not in plain.source

    def only_w(x, w):
        loss = ((x @ w).tanh() ** 2).sum()
        loss.backward(inputs=[w])
        return loss
    step = minigrad.compile(only_w)
    step(x, w)
    assert x.grad is None
    assert sum(line.count("@") for line in _section(step.source, "backward")) == 1, step.source

    def cube_grad(x):
        (x ** 3).sum().backward()
        return x.grad
    x3 = Tensor(np.arange(3.0), requires_grad=True)
    step = minigrad.compile(cube_grad)
    np.testing.assert_allclose(npy(step(x3)), 3 * np.arange(3.0) ** 2)
    assert "# ---- forward" not in step.source and "reduce" not in step.source


def test_elementwise_chains_write_into_planned_buffers():
    """A replay of a chain of elementwise ops on a large array holds no more memory than eager
    mode does (one or two arrays of that size), where one array per op would be six."""
    def chain(x):
        return ((x * 2 + 1).tanh() * 3 - 1).exp().sum()
    x = Tensor(np.random.default_rng(0).standard_normal(200_000))
    step = minigrad.compile(chain)
    step(x)
    step(x)

    def peak(fn):
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1] / x.numpy().nbytes
        finally:
            tracemalloc.stop()
    eager, compiled = peak(lambda: chain(x)), peak(lambda: step(x))
    assert compiled <= max(eager, 2.0) + 0.1, (compiled, eager)
    np.testing.assert_allclose(npy(step(x)), npy(chain(x)), **F64)


# ---- the source ---------------------------------------------------------------------------------


def _bn_sequential():
    model = nn.Sequential(nn.Linear(4, 6, generator=0), nn.BatchNorm1d(6), nn.ReLU(),
                          nn.Linear(6, 3, generator=1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = minigrad.compile(train_step)
    rng = np.random.default_rng(0)
    for _ in range(2):
        step(Tensor(rng.standard_normal((8, 4))), minigrad.tensor(rng.integers(0, 3, 8)))
    return model, step


def test_the_source_is_marked_forward_backward_update():
    _, step = _bn_sequential()
    lines = [s.strip() for s in step.source.splitlines()]
    marks = [s for s in lines if s.startswith("# ----")]
    assert marks == ["# ---- forward", "# ---- backward", "# ---- update"]
    assert all(_section(step.source, name) for name in ("forward", "backward", "update"))


def test_the_source_names_arguments_parameters_nn_scopes_and_gradients():
    """fc0_weight, bn1_running_var, ... as arguments; bn1_mean / bn1_var for what batch norm
    computes and d_bn1_var for its gradient; d_fc0_weight for the gradient of fc0.weight;
    fc0_weight_momentum_buffer for the optimizer's state; x and y from the signature."""
    model, step = _bn_sequential()
    names = [n for n, _ in step.program.parameters]
    assert names[:2] == ["x", "y"]
    for n in ("fc0_weight", "fc0_bias", "bn1_weight", "bn1_bias", "bn1_running_mean",
              "bn1_running_var", "bn1_num_batches_tracked", "fc3_weight", "fc3_bias",
              "fc0_weight_momentum_buffer", "bn1_bias_momentum_buffer"):
        assert n in names, n
    tensors = dict(step.program.parameters)
    assert tensors["fc0_weight"] is model[0].weight
    assert tensors["bn1_running_var"] is model[1].running_var
    assert step.program.results == ["loss", "d_fc0_weight", "d_fc0_bias", "d_bn1_weight",
                                    "d_bn1_bias", "d_fc3_weight", "d_fc3_bias"]
    assignments = {line.split(" = ")[0].strip() for line in step.source.splitlines()
                   if " = " in line and line.startswith("    ")}
    assert {"bn1_mean", "bn1_var", "d_bn1_var", "d_fc0_weight", "loss"} <= assignments, \
        sorted(assignments)
    fn = _function_lines(step.source, "train_step")
    assert [a.arg for a in fn.args.args] == names


def test_labels_and_argument_names_name_variables_and_gradients():
    """A user's label names the value; an input's gradient is d_<argument name>."""
    def f(x, w):
        h = x @ w
        h.label = "hidden"
        loss = (h.tanh() ** 2).sum()
        loss.backward()
        return loss
    step = minigrad.compile(f)
    step(Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 2)), requires_grad=True))
    assert "    hidden = " in step.source
    assert step.program.results == ["loss", "d_x", "d_w"]


def test_one_numpy_call_per_line_and_no_builtin_shadowed():
    """Every statement of the generated module takes one line and makes at most one numpy
    call; no name it defines shadows a Python builtin (the dropout network's constants
    included)."""
    _, step = _bn_sequential()
    (mc, fc) = _dropout_net(3)
    drop = minigrad.compile(fc)
    drop(minigrad.ones(5, 4))
    for source in (step.source, drop.source):
        tree = ast.parse(source)
        fn = [n for n in tree.body if isinstance(n, ast.FunctionDef)][-1]
        for st in fn.body:
            assert st.lineno == st.end_lineno, ast.unparse(st)
            calls = [c for c in ast.walk(st) if isinstance(c, ast.Call)
                     and ast.unparse(c.func).startswith("np.")
                     and ast.unparse(c.func) != "np.dtype"]
            assert len(calls) <= 1, ast.unparse(st)
        defined = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   for t in n.targets if isinstance(t, ast.Name)}
        defined |= {a.arg for a in fn.args.args}
        assert not defined & set(dir(builtins)), sorted(defined & set(dir(builtins)))


# ---- step.source runs on its own ------------------------------------------------------------


def _standalone(step, args, name):
    """Replay `step(*args)` and, on copies of what the program read before that call (the
    call's arguments, then the state tensors listed in step.program.parameters), run the
    function that step.source defines: both give the same numbers (returned values, the
    gradients it sets, the state it updates in place). Returns the arrays passed in (updated
    by the run) and the run's results."""
    traces = step.traces
    state = step.program.parameters[len(args):]
    before = [npy(a) for a in args] + [npy(t) if isinstance(t, Tensor) else copy.deepcopy(t)
                                       for _, t in state]
    out = step(*args)
    assert step.traces == traces, "the checked call replays the program (no new trace)"
    ns = {}
    exec(step.source, ns)  # noqa: S102
    got = ns[name](*before)
    _compare_with_call(step, args, out, got, before)
    return before, got


def _compare_with_call(step, args, out, results, arrays):
    """`results` and the `arrays` passed to the source's function (updated in place) against
    the compiled call's result `out`, the gradients it set and the state it updated."""
    names = step.program.results
    assert len(results) == len(names)
    tensors = dict(step.program.parameters)
    outs = [t for t in (out if isinstance(out, tuple | list) else [out])
            if isinstance(t, Tensor)]
    for k, (r, value) in enumerate(zip(names, results)):
        if k < len(outs):                                 # the function's returned tensors
            np.testing.assert_array_equal(value, npy(outs[k]), err_msg=r)
        elif r != "None":                                 # then the gradients it sets
            assert r.startswith("d_") and r[2:] in tensors, r
            np.testing.assert_array_equal(value, npy(tensors[r[2:]].grad), err_msg=r)
    state = step.program.parameters[len(args):]
    for (pname, t), arr in zip(state, arrays[len(args):]):
        if isinstance(t, Tensor):          # (other objects, e.g. a generator, are passed as is)
            np.testing.assert_array_equal(arr, npy(t), err_msg=f"{pname} after the call")


def _warm(case, step, calls=2):
    for k in range(calls):
        step(*case.inputs(k))


def test_the_source_as_exec_gives_the_same_numbers_for_a_training_step():
    case = M.make_bn_mlp(batch=64, width=34)
    step = minigrad.compile(case.train_step)
    _warm(case, step)
    _standalone(step, case.inputs(2), "train_step")


def test_the_source_as_exec_gives_the_same_numbers_for_adam():
    case = M.make_layernorm()
    step = minigrad.compile(case.train_step)
    _warm(case, step)
    _standalone(step, case.inputs(2), "train_step")


def test_the_source_as_exec_gives_the_same_numbers_for_a_plain_function():
    f = minigrad.compile(lambda x, w: ((x @ w).tanh() ** 2).sum(1))
    w = Tensor(np.linspace(0.5, 1.5, 6).reshape(3, 2))
    f(Tensor(np.zeros((4, 3))), w)
    _standalone(f, (Tensor(np.linspace(-1, 1, 12).reshape(4, 3)), w), "step")


def test_the_source_as_exec_gives_the_same_numbers_for_dropout_in_training():
    """The dropout network's program draws its masks from the generator it is given."""
    case = M.make_dropout(training=True)
    step = minigrad.compile(case.train_step)
    _warm(case, step)
    _standalone(step, case.inputs(2), "train_step")


def test_the_source_as_exec_gives_the_same_numbers_for_a_function_with_grad_inside():
    w = Tensor(np.linspace(0.5, 1.5, 6).reshape(3, 2), requires_grad=True)

    def grad_of_w(x):
        return minigrad.grad(((x @ w).tanh() ** 2).sum(), w)[0]
    step = minigrad.compile(grad_of_w)
    step(Tensor(np.zeros((4, 3))))
    _standalone(step, (Tensor(np.linspace(-1, 1, 12).reshape(4, 3)),), "grad_of_w")


def test_the_source_runs_as_a_standalone_script(tmp_path):
    """Written to a file and run by a fresh Python on the saved inputs, the source gives the
    numbers of the compiled call: loss, gradients and the updated parameters, running
    statistics and momentum buffers (with arrays large enough for planned buffers)."""
    case = M.make_bn_mlp(batch=64, width=34)
    step = minigrad.compile(case.train_step)
    _warm(case, step)
    args = case.inputs(2)
    state = step.program.parameters[len(args):]
    np.savez(tmp_path / "inputs.npz", *[npy(a) for a in args], *[npy(t) for _, t in state])
    loss = step(*args)
    assert step.traces == 2
    (tmp_path / "step.py").write_text(step.source)
    (tmp_path / "run.py").write_text(
        "import numpy as np, runpy\n"
        "ns = runpy.run_path('step.py')\n"
        "data = np.load('inputs.npz')\n"
        "args = [data[f'arr_{k}'] for k in range(len(data.files))]\n"
        "out = ns['train_step'](*args)\n"
        "np.savez('outputs.npz', *[np.asarray(r) for r in out])\n"
        "np.savez('state.npz', *args)\n")
    done = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    outs, arrays = np.load(tmp_path / "outputs.npz"), np.load(tmp_path / "state.npz")
    _compare_with_call(step, args, loss, [outs[f"arr_{k}"] for k in range(len(outs.files))],
                       [arrays[f"arr_{k}"] for k in range(len(arrays.files))])


# ---- plain functions ------------------------------------------------------------------------


def test_a_plain_function_of_tensors():
    f = minigrad.compile(lambda x: (x * x).sum())
    for k in range(3):
        x = Tensor(np.arange(4.0) + k)
        np.testing.assert_allclose(npy(f(x)), np.sum((np.arange(4.0) + k) ** 2))
    assert f.traces == 1


def test_a_plain_function_as_a_decorator_with_several_results():
    @minigrad.compile
    def stats(x):
        return x.mean(0), x.var(0), 3
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2)))
    for _ in range(2):
        m, v, three = stats(x)
        np.testing.assert_allclose(npy(m), npy(x.mean(0)), **F64)
        np.testing.assert_allclose(npy(v), npy(x.var(0)), **F64)
        assert three == 3
    assert stats.traces == 1 and stats.__name__ == "stats"


def test_a_function_with_minigrad_grad_inside_returns_the_gradient():
    def f(x):
        y = (x ** 3).sum()
        (g,) = minigrad.grad(y, x)
        return g
    step = minigrad.compile(f)
    for k in range(3):
        x = Tensor(np.linspace(-1, 1, 5) + k, requires_grad=True)
        np.testing.assert_allclose(npy(step(x)), 3 * (np.linspace(-1, 1, 5) + k) ** 2, **F64)
        assert x.grad is None
    assert step.traces == 1


def test_a_function_with_minigrad_grad_of_a_network_agrees_with_eager():
    """The gradient of a loss with respect to the weights of a batch-norm network, as
    minigrad.grad returns it (nothing stored in .grad)."""
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.BatchNorm1d(4), nn.Tanh(),
                          nn.Linear(4, 1, generator=1))
    params = list(model.parameters())

    def grads(x):
        return minigrad.grad(model(x).pow(2).mean(), params)
    step = minigrad.compile(grads)
    for k in range(3):
        x = Tensor(np.random.default_rng(k).standard_normal((6, 3)))
        got = step(x)
        want = grads(x)
        for a, b in zip(got, want):
            np.testing.assert_allclose(npy(a), npy(b), **F64)
    assert all(p.grad is None for p in params)
