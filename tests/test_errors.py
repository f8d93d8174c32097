"""Every error the spec promises: its type and what its message names."""

import re

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, Value

BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a**b),
    ("maximum", minigrad.maximum),
    ("minimum", minigrad.minimum),
]


def leaf(data):
    return minigrad.tensor(np.asarray(data, dtype=np.float64), requires_grad=True)


def op_name(fn, *shapes):
    """The ``.op`` string fn produces on compatible operands: what an error must name."""
    return fn(*(leaf(np.ones(s)) for s in shapes)).op


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("sa,sb", [((2, 3), (4,)), ((3, 1), (2, 4)), ((5,), (2, 3, 4))])
def test_binary_shape_mismatch_names_op_and_both_shapes(name, fn, sa, sb, shape_regex):
    a = leaf(np.ones(sa))
    b = leaf(np.ones(sb) * 2.0)
    with pytest.raises(RuntimeError) as info:          # PyTorch's class for a size mismatch
        fn(a, b)
    message = str(info.value)
    assert op_name(fn, sa, sa) in message, message
    assert re.search(shape_regex(sa), message), message
    assert re.search(shape_regex(sb), message), message


@pytest.mark.parametrize(
    "sa,sb",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (3, 4, 5)), ((4,), (3, 2)), ((2, 3), (2,))],
)
def test_matmul_shape_mismatch_names_op_and_both_shapes(sa, sb, shape_regex):
    a = leaf(np.ones(sa))
    b = leaf(np.ones(sb))
    name = op_name(lambda p, q: p @ q, (2, 3), (3, 2))
    for spelled in (lambda p, q: p @ q, lambda p, q: p.matmul(q), minigrad.matmul):
        with pytest.raises(RuntimeError) as info:      # PyTorch's class
            spelled(a, b)
        message = str(info.value)
        assert name in message, message
        assert re.search(shape_regex(sa), message), message
        assert re.search(shape_regex(sb), message), message


# (data, error of Tensor(data), error of tensor(data)): PyTorch's classes (torch==2.13.0) where
# PyTorch refuses the data; complex data, which PyTorch accepts, is a TypeError (minigrad has no
# complex dtypes)
BAD_DATA = [
    ("str", "abc", TypeError, TypeError),
    ("str_list", ["a", "b"], ValueError, ValueError),       # torch: "too many dimensions 'str'"
    ("none", None, TypeError, RuntimeError),                # torch: "Could not infer dtype"
    ("dict", {"x": 1.0}, TypeError, RuntimeError),
    ("complex", 1 + 2j, TypeError, TypeError),
    ("complex_array", np.array([1.0 + 0.5j, 2.0]), TypeError, TypeError),
    ("complex_list", [1.0, 2j], TypeError, TypeError),
    ("object_numeric", np.array([1.0, 2.0], dtype=object), TypeError, TypeError),
    ("object_none", np.array([1, None], dtype=object), TypeError, TypeError),
    ("str_array", np.array(["1.0", "2.0"]), TypeError, TypeError),
]


@pytest.mark.parametrize("data,class_error,tensor_error", [b[1:] for b in BAD_DATA],
                         ids=[b[0] for b in BAD_DATA])
def test_tensor_refuses_non_numeric_complex_and_object_data(data, class_error, tensor_error):
    with pytest.raises(class_error):
        Tensor(data)
    with pytest.raises(tensor_error):
        minigrad.tensor(data)


@pytest.mark.parametrize("data", ["abc", None, 1 + 2j, [1.0]], ids=["str", "none", "complex",
                                                                   "list"])
def test_value_refuses_non_numeric_and_complex_data(data):
    with pytest.raises(TypeError):
        Value(data)


def test_backward_on_something_that_does_not_require_grad():
    t = minigrad.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"(?i)requires?[ _]grad"):
        (t * 2.0).sum().backward()
    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match=r"(?i)requires?[ _]grad"):
        y.backward()


def test_non_scalar_backward_without_gradient_is_runtime_error():
    x = minigrad.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError,
                       match="grad can be implicitly created only for scalar outputs"):
        (x * 2.0).backward()


def test_second_backward_through_released_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


@pytest.mark.parametrize(
    "bad",
    [
        lambda v: v ** Value(2.0),
        lambda v: 2.0 ** v,
        lambda v: v ** "2",
        lambda v: v + "a",
        lambda v: "a" + v,
        lambda v: v * None,
        lambda v: None * v,
        lambda v: v - [1.0],
        lambda v: v / "x",
        lambda v: v @ v,
    ],
    ids=["pow_value", "rpow", "pow_str", "add_str", "radd_str", "mul_none", "rmul_none",
         "sub_list", "div_str", "matmul"],
)
def test_value_unsupported_operands_raise_type_error(bad):
    with pytest.raises(TypeError):
        bad(Value(2.0))


@pytest.mark.parametrize(
    "bad",
    [lambda t: t + "abc", lambda t: "abc" * t, lambda t: t * None, lambda t: t ** "2",
     lambda t: t @ "abc"],
    ids=["add_str", "rmul_str", "mul_none", "pow_str", "matmul_str"],
)
def test_tensor_unsupported_operands_raise_type_error(bad):
    with pytest.raises(TypeError):
        bad(minigrad.tensor([1.0, 2.0], requires_grad=True))


def test_grad_of_non_scalar_output_needs_grad_outputs():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError,
                       match="grad can be implicitly created only for scalar outputs"):
        minigrad.grad(x * 2.0, [x])


def test_grad_unused_input_without_allow_unused():
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises((RuntimeError, ValueError), match="(?i)unused|not.*(used|reachable)|allow"):
        minigrad.grad((x * 3.0).sum(), [x, y])


def test_gradcheck_refuses_non_float64_with_clear_message():
    x = minigrad.ones(2, dtype=minigrad.float32, requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        minigrad.gradcheck(lambda t: t.exp(), [x])


def test_gradcheck_error_is_an_assertion_error():
    x = leaf([1.0, 2.0])
    with pytest.raises(AssertionError):
        minigrad.gradcheck(lambda t: t * 2.0 + t.detach() * 3.0, [x])


def test_detect_anomaly_raises_runtime_error_on_inf():
    x = leaf([800.0])
    exp_name = leaf([0.0]).exp().op
    with minigrad.detect_anomaly(), np.errstate(over="ignore"):
        with pytest.raises(RuntimeError, match=re.escape(exp_name)):
            x.exp()
