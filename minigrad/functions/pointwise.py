"""Elementwise functions and operators: math, arithmetic with PyTorch's keywords (alpha,
rounding_mode), comparisons and logic (bool tensors), clamp, where, masked_fill, closeness.

Derivatives come from the primitives in ops/; functions here only pick the op, convert the
operands and promote dtypes. A math function of an integer tensor (exp, sqrt, ...) works on
the default float dtype, as PyTorch's; comparisons and logical ops give bool tensors.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import ops
from .._bind import export
from .._tensor import Tensor, _wrap, apply, binary, cast, constant_leaf, default_float, inplace
from ._args import as_tensor_arg


def _floating(x: Tensor) -> Tensor:
    """x itself if it is floating, else x as the default float dtype (no graph: integers
    never require grad)."""
    return x if x._data.dtype.kind == "f" else cast(x, default_float())


def _unary(op: type[ops.Op], floats: bool = True) -> Any:
    def fn(input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{op.name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return apply(op, (_floating(input) if floats else input,))
    fn.__name__ = op.name
    return fn


exp = export("exp")(_unary(ops.Exp))
log = export("log")(_unary(ops.Log))
sqrt = export("sqrt")(_unary(ops.Sqrt))
tanh = export("tanh")(_unary(ops.Tanh))
sigmoid = export("sigmoid")(_unary(ops.Sigmoid))
log1p = export("log1p")(_unary(ops.Log1p))
expm1 = export("expm1")(_unary(ops.Expm1))
sin = export("sin")(_unary(ops.Sin))
cos = export("cos")(_unary(ops.Cos))
erf = export("erf")(_unary(ops.Erf))
reciprocal = export("reciprocal")(_unary(ops.Reciprocal))
relu = export("relu")(_unary(ops.Relu, floats=False))
abs = export("abs", "absolute", "__abs__")(_unary(ops.Abs, floats=False))  # noqa: A001


@export("neg", "negative")
def neg(input: Tensor) -> Tensor:
    return -input


@export
def log2(input: Tensor) -> Tensor:
    """log(x) / log(2)"""
    return log(input) * (1.0 / math.log(2.0))


@export
def log10(input: Tensor) -> Tensor:
    """log(x) / log(10)"""
    return log(input) * (1.0 / math.log(10.0))


@export
def rsqrt(input: Tensor) -> Tensor:
    """x ** -0.5"""
    return apply(ops.PowConst, (_floating(input),), ops.named(-0.5, "RsqrtBackward0"))


@export
def square(input: Tensor) -> Tensor:
    """x ** 2 (integers stay integers)"""
    return input ** 2 if input._data.dtype.kind == "f" else input * input


def _step(fn: Any) -> Any:
    def step(input: Tensor) -> Tensor:
        return apply(ops.ZeroGrad, (input,), fn)
    return step


sign = export("sign")(_step(np.sign))
floor = export("floor")(_step(np.floor))
ceil = export("ceil")(_step(np.ceil))
trunc = export("trunc", "fix")(_step(np.trunc))


@export
def frac(input: Tensor) -> Tensor:
    """x - trunc(x)"""
    return input - trunc(input)


def _round_to(decimals: int) -> Any:
    def round_to(a: np.ndarray) -> np.ndarray:
        return np.round(a, decimals)
    round_to.__name__ = "round"
    return round_to


@export
def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even (as PyTorch), optionally to `decimals` places; integers stay."""
    if input._data.dtype.kind in "iub":
        return apply(ops.Clone, (input,))
    return apply(ops.ZeroGrad, (input,), np.rint if not decimals else _round_to(decimals))


# ---- arithmetic with PyTorch's keywords ---------------------------------------------------

@export
def add(input: Any, other: Any, alpha: Any = 1, out: Any = None) -> Tensor:
    """input + alpha * other"""
    if alpha == 1:
        return input + other
    a, b = _promoted(input, other)
    return apply(ops.Add, (a, b), float(alpha))


@export("sub", "subtract")
def sub(input: Any, other: Any, alpha: Any = 1, out: Any = None) -> Tensor:
    """input - alpha * other"""
    if alpha == 1:
        return input - other
    a, b = _promoted(input, other)
    return apply(ops.Add, (a, b), ops.named(-float(alpha), "SubBackward0"))


@export("mul", "multiply")
def mul(input: Any, other: Any, out: Any = None) -> Tensor:
    return input * other


@export("div", "divide", "true_divide")
def div(input: Any, other: Any, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """input / other; rounding_mode "trunc" or "floor" rounds the quotient (integers stay
    integers; the gradient is then 0, as PyTorch's)."""
    if rounding_mode is None:
        return input / other
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = _promoted(input, other)
        if a._data.dtype.kind == "f":
            return apply(ops.ZeroGrad, (a, b), _trunc_divide)
        return apply(ops.NoGrad, (a, b), _trunc_divide)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


def _trunc_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    q = np.trunc(a / b) if a.dtype.kind == "f" else np.fix(np.true_divide(a, b))
    return q.astype(a.dtype, copy=False)


def _promoted(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    from .. import dtypes
    from .._tensor import default_float as df
    target = dtypes.result_type(a, b, default_float=df())
    return cast(a, target), cast(b, target)


@export("floor_divide", "__floordiv__")
def floor_divide(input: Any, other: Any, out: Any = None) -> Tensor:
    """floor(input / other) (Python's //: integers stay integers)."""
    a, b = _promoted(input, other)
    if a._data.dtype.kind == "f":        # the gradient is 0 (in place: no derivative)
        return apply(ops.ZeroGrad, (a, b), np.floor_divide)
    if np.any(b._data == 0):
        raise RuntimeError("ZeroDivisionError")
    return apply(ops.NoGrad, (a, b), np.floor_divide)


@export(function=False)
def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
    return floor_divide(other, self)


@export("remainder", "__mod__")
def remainder(input: Any, other: Any, out: Any = None) -> Tensor:
    """input mod other with the sign of other (Python's %)."""
    a, b = _promoted(input, other)
    if a._data.dtype.kind != "f" and np.any(b._data == 0):
        raise RuntimeError("ZeroDivisionError")
    return apply(ops.Remainder if a._data.dtype.kind == "f" else ops.NoGrad, (a, b),
                 np.remainder)


@export(function=False)
def __rmod__(self: Tensor, other: Any) -> Tensor:
    return remainder(other, self)


@export
def fmod(input: Any, other: Any, out: Any = None) -> Tensor:
    """input mod other with the sign of input (C's fmod)."""
    a, b = _promoted(input, other)
    return apply(ops.Remainder if a._data.dtype.kind == "f" else ops.NoGrad, (a, b), np.fmod)


@export(method=True)
def pow(input: Any, exponent: Any, out: Any = None) -> Tensor:  # noqa: A001
    """input ** exponent (either may be a number)."""
    if isinstance(input, Tensor):
        return input ** exponent
    return as_tensor_arg(exponent).__rpow__(input)


@export
def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent in float64."""
    a = cast(input, np.dtype(np.float64))
    return a ** (cast(exponent, np.dtype(np.float64)) if isinstance(exponent, Tensor)
                 else exponent)


@export
def maximum(input: Tensor, other: Any) -> Tensor:
    """Elementwise max(a, b); ties share the gradient evenly (as PyTorch)."""
    return binary(ops.Maximum, input, other)


@export
def minimum(input: Tensor, other: Any) -> Tensor:
    """Elementwise min(a, b); ties share the gradient evenly (as PyTorch)."""
    return binary(ops.Minimum, input, other)


@export
def addcmul(input: Tensor, tensor1: Any, tensor2: Any, value: float = 1) -> Tensor:
    """input + value * tensor1 * tensor2"""
    return input + tensor1 * tensor2 * value if value != 1 else input + tensor1 * tensor2


@export
def addcdiv(input: Tensor, tensor1: Any, tensor2: Any, value: float = 1) -> Tensor:
    """input + value * tensor1 / tensor2"""
    return input + tensor1 / tensor2 * value if value != 1 else input + tensor1 / tensor2


@export
def lerp(input: Tensor, end: Any, weight: Any) -> Tensor:
    """input + weight * (end - input)"""
    return input + (end - input) * weight


# ---- comparisons and logic: bool tensors, no gradient -------------------------------------

def _compare(fn: Any) -> Any:
    def compare(input: Any, other: Any, out: Any = None) -> Tensor:
        a = input if isinstance(input, Tensor) else as_tensor_arg(input)
        b = other if isinstance(other, Tensor) else as_tensor_arg(other, a)
        return apply(ops.NoGrad, (a, b), fn)
    compare.__name__ = fn.__name__
    compare.__doc__ = f"Elementwise {fn.__name__} (a bool tensor)."
    return compare


eq = export("eq", "__eq__")(_compare(np.equal))
ne = export("ne", "not_equal", "__ne__")(_compare(np.not_equal))
lt = export("lt", "less", "__lt__")(_compare(np.less))
le = export("le", "less_equal", "__le__")(_compare(np.less_equal))
gt = export("gt", "greater", "__gt__")(_compare(np.greater))
ge = export("ge", "greater_equal", "__ge__")(_compare(np.greater_equal))
logical_and = export("logical_and")(_compare(np.logical_and))
logical_or = export("logical_or")(_compare(np.logical_or))
logical_xor = export("logical_xor")(_compare(np.logical_xor))


def _bitwise(fn: Any, what: str) -> Any:
    def bitwise(input: Any, other: Any) -> Tensor:
        a = input if isinstance(input, Tensor) else as_tensor_arg(input)
        b = other if isinstance(other, Tensor) else as_tensor_arg(other, a)
        for t in (a, b):
            if t._data.dtype.kind == "f":
                raise NotImplementedError(f'"{what}_cpu" not implemented for '
                                          f"'{'Float' if t._data.itemsize == 4 else 'Double'}'")
        return apply(ops.NoGrad, (a, b), fn)
    return bitwise


bitwise_and = export("bitwise_and", "__and__", "__rand__")(_bitwise(np.bitwise_and,
                                                                     "bitwise_and"))
bitwise_or = export("bitwise_or", "__or__", "__ror__")(_bitwise(np.bitwise_or, "bitwise_or"))
bitwise_xor = export("bitwise_xor", "__xor__", "__rxor__")(_bitwise(np.bitwise_xor,
                                                                     "bitwise_xor"))


@export("bitwise_not", "__invert__")
def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return apply(ops.NoGrad, (input,), np.invert)


def _test(fn: Any) -> Any:
    def test(input: Tensor) -> Tensor:
        return apply(ops.NoGrad, (input,), fn)
    test.__name__ = fn.__name__
    return test


logical_not = export("logical_not")(_test(np.logical_not))
isnan = export("isnan")(_test(np.isnan))
isinf = export("isinf")(_test(np.isinf))
isfinite = export("isfinite")(_test(np.isfinite))
isposinf = export("isposinf")(_test(np.isposinf))
isneginf = export("isneginf")(_test(np.isneginf))
signbit = export("signbit")(_test(np.signbit))


@export
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf (default: the dtype's largest), -inf -> neginf."""
    x = input
    for mask, value in ((isnan(x), nan),
                        (isposinf(x), np.finfo(x._data.dtype).max if posinf is None
                         else posinf),
                        (isneginf(x), np.finfo(x._data.dtype).min if neginf is None
                         else neginf)):
        if mask._data.any():
            x = masked_fill(x, mask, value)
    return x


# ---- clamp, where, masked_fill ------------------------------------------------------------

@export("clamp", "clip")
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Into [min, max] (either may be None; numbers or tensors). The gradient passes where
    min <= x <= max (at the bounds too, as PyTorch)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        if input._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
            input = _floating(input)
        return apply(ops.Clip, (input,), (min, max))
    out = input
    if min is not None:
        out = where(out < min, min, out)
    if max is not None:
        out = where(out > max, max, out)
    return out


@export
def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """input where condition else other (condition: a bool tensor; the others tensors or
    numbers, promoted together). `where(condition)` alone is `nonzero(as_tuple=True)`."""
    cond = condition if isinstance(condition, Tensor) else as_tensor_arg(condition)
    if input is None and other is None:
        return tuple(_wrap(i) for i in np.nonzero(cond._data))
    if cond._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {cond.dtype}")
    from .. import dtypes
    target = dtypes.result_type(*(x for x in (input, other)), default_float=default_float())
    a, b = cast(input, target), cast(other, target)
    try:
        np.broadcast_shapes(cond._data.shape, a._data.shape, b._data.shape)
    except ValueError:
        raise RuntimeError(f"where: shapes {tuple(cond.shape)}, {tuple(a.shape)} and "
                           f"{tuple(b.shape)} cannot be broadcast together") from None
    return apply(ops.Where, (cond, a, b))


@export("where", function=False)
def where_method(self: Tensor, condition: Any, other: Any) -> Tensor:
    """self.where(condition, other) = where(condition, self, other) (PyTorch's method order)."""
    return where(condition, self, other)


@export
def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """input with `value` where mask is True (value: a number or a 0-d tensor)."""
    m = mask if isinstance(mask, Tensor) else as_tensor_arg(np.asarray(mask))
    if m._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    v = value if isinstance(value, Tensor) else \
        constant_leaf(np.asarray(value, dtype=input._data.dtype))
    name = "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0"
    return apply(ops.Where, (m, cast(v, input._data.dtype), input), ops.named((), name))


# ---- closeness ----------------------------------------------------------------------------

@export
def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise (a bool tensor)."""
    b = other._data if isinstance(other, Tensor) else np.asarray(other)
    return _wrap(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@export
def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element is close (see isclose)."""
    b = other._data if isinstance(other, Tensor) else np.asarray(other)
    _same_size(input._data.shape, np.shape(b))
    return builtins.bool(np.allclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _same_size(a: tuple, b: tuple) -> None:
    """PyTorch's broadcasting error for two shapes that do not broadcast."""
    for k, (m, n) in enumerate(zip(reversed(a), reversed(b))):
        if m != n and m != 1 and n != 1:
            raise RuntimeError(f"The size of tensor a ({m}) must match the size of tensor b "
                               f"({n}) at non-singleton dimension {max(len(a), len(b)) - 1 - k}")


@export
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    a, b = input._data, other._data if isinstance(other, Tensor) else np.asarray(other)
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


# ---- in-place variants --------------------------------------------------------------------

def _inplace_unary(op: type[ops.Op]) -> Any:
    def fn(self: Tensor) -> Tensor:
        return inplace(self, op)
    return fn


for _name, _op in (("exp_", ops.Exp), ("log_", ops.Log), ("sqrt_", ops.Sqrt),
                   ("tanh_", ops.Tanh), ("sigmoid_", ops.Sigmoid), ("relu_", ops.Relu),
                   ("abs_", ops.Abs), ("neg_", ops.Neg), ("sin_", ops.Sin), ("cos_", ops.Cos),
                   ("log1p_", ops.Log1p), ("expm1_", ops.Expm1), ("erf_", ops.Erf),
                   ("reciprocal_", ops.Reciprocal)):
    export(_name, function=False)(_inplace_unary(_op))
    if _name == "neg_":
        export("negative_", function=False)(_inplace_unary(_op))


def _inplace_step(fn: Any) -> Any:
    def step(self: Tensor) -> Tensor:
        return inplace(self, ops.ZeroGrad, saved=fn)
    return step


for _name, _fn in (("sign_", np.sign), ("floor_", np.floor), ("ceil_", np.ceil),
                   ("trunc_", np.trunc)):
    export(_name, function=False)(_inplace_step(_fn))


def _via_copy(self: Tensor, result: Any) -> Tensor:
    """`self.copy_(result(self))` for in-place ops written out of place: the function reads
    a copy of self (so its own rule never sees self changed), then self takes the result
    (cast to self's dtype, as PyTorch's in-place ops do)."""
    from .shaping import clone
    return copy_(self, result(clone(self)))


for _name, _fn in (("absolute_", abs), ("fix_", trunc), ("frac_", frac), ("log2_", log2),
                   ("log10_", log10), ("bitwise_not_", bitwise_not)):
    export(_name, function=False)((lambda f: lambda self: _via_copy(self, f))(_fn))

for _name, _fn in (("subtract_", sub), ("float_power_", float_power), ("fmod_", fmod),
                   ("remainder_", remainder), ("bitwise_and_", bitwise_and),
                   ("bitwise_or_", bitwise_or), ("bitwise_xor_", bitwise_xor)):
    export(_name, function=False)(
        (lambda f: lambda self, other, *args, **kw: _via_copy(
            self, lambda me: f(me, other, *args, **kw)))(_fn))


def _inplace_compare(fn: Any, op: type[ops.Op]) -> Any:
    """t.eq_(other) and friends: the 0/1 result written into t (keeping its dtype). As
    PyTorch's: comparisons are recorded with a zero gradient for both inputs; the logical
    ops are not recorded at all (the graph keeps t's earlier history)."""
    def compare_(self: Tensor, other: Any = None) -> Tensor:
        return inplace(self, op, other, fn)
    return compare_


for _names, _fn in ((("eq_",), np.equal), (("ne_", "not_equal_"), np.not_equal),
                    (("lt_", "less_"), np.less), (("le_", "less_equal_"), np.less_equal),
                    (("gt_", "greater_"), np.greater),
                    (("ge_", "greater_equal_"), np.greater_equal)):
    export(*_names, function=False)(_inplace_compare(_fn, ops.ZeroGrad))
for _names, _fn in ((("logical_and_",), np.logical_and), (("logical_or_",), np.logical_or),
                    (("logical_xor_",), np.logical_xor), (("logical_not_",), np.logical_not)):
    export(*_names, function=False)(_inplace_compare(_fn, ops.NoGrad))


@export(function=False)
def floor_divide_(self: Tensor, other: Any) -> Tensor:
    if self._data.dtype.kind == "f":
        return inplace(self, ops.NoDerivative, other, np.floor_divide)
    return _via_copy(self, lambda me: floor_divide(me, other))


@export(function=False)
def nan_to_num_(self: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    return _via_copy(self, lambda me: nan_to_num(me, nan, posinf, neginf))


@export(function=False)
def round_(self: Tensor, decimals: int = 0) -> Tensor:
    return _via_copy(self, lambda me: round(me, decimals))


@export(function=False)
def add_(self: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """self += alpha * other, in place (one op: PyTorch's add with alpha; a 0-d tensor alpha,
    as optimizers keep their step counts, multiplies `other` first: no value read in Python)"""
    if isinstance(alpha, Tensor):
        return inplace(self, ops.Add, other * alpha)
    if alpha == 1:
        return inplace(self, ops.Add, other)
    return inplace(self, ops.Add, other, float(alpha))


@export(function=False)
def sub_(self: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """self -= alpha * other, in place"""
    if isinstance(alpha, Tensor):
        return inplace(self, ops.Sub, other * alpha)
    if alpha == 1:
        return inplace(self, ops.Sub, other)
    return inplace(self, ops.Add, other, -float(alpha))


@export("mul_", "multiply_", function=False)
def mul_(self: Tensor, other: Any) -> Tensor:
    return inplace(self, ops.Mul, other)


@export("div_", "divide_", "true_divide_", function=False)
def div_(self: Tensor, other: Any, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is None:
        return inplace(self, ops.Div, other)
    return copy_(self, div(self, other, rounding_mode=rounding_mode))


@export(function=False)
def pow_(self: Tensor, exponent: Any) -> Tensor:
    if isinstance(exponent, int | float) and self._data.dtype.kind == "f":
        return inplace(self, ops.PowConst, saved=exponent)
    return inplace(self, ops.Pow, exponent)


@export(function=False)
def square_(self: Tensor) -> Tensor:
    return pow_(self, 2)


@export(function=False)
def rsqrt_(self: Tensor) -> Tensor:
    return pow_(self, -0.5)


@export("clamp_", "clip_", function=False)
def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return copy_(self, clamp(self, min, max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return inplace(self, ops.Clip, saved=(min, max))


@export(function=False)
def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    m = mask if isinstance(mask, Tensor) else as_tensor_arg(np.asarray(mask))
    v = value if isinstance(value, Tensor) else \
        constant_leaf(np.asarray(value, dtype=self._data.dtype))
    return inplace(self, ops.SetItem, v, m._data.copy() if m._data.shape == self._data.shape
                   else np.broadcast_to(m._data, self._data.shape).copy())


@export(function=False)
def zero_(self: Tensor) -> Tensor:
    """Fill with zeros, in place."""
    return inplace(self, ops.SetItem, constant_leaf(np.zeros((), dtype=self._data.dtype)), Ellipsis)


@export(function=False)
def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with `value` (a number or a 0-d tensor), in place."""
    v = value if isinstance(value, Tensor) else \
        constant_leaf(np.asarray(value, dtype=self._data.dtype))
    return inplace(self, ops.SetItem, v, Ellipsis)


@export(function=False)
def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy `src` (broadcast to this tensor's shape, cast to its dtype) into it, in place;
    the gradient flows to `src`."""
    s = src if isinstance(src, Tensor) else as_tensor_arg(src)
    return inplace(self, ops.SetItem, s, Ellipsis)


@export(function=False)
def addcmul_(self: Tensor, tensor1: Any, tensor2: Any, value: float = 1) -> Tensor:
    return add_(self, tensor1 * tensor2, alpha=value)


@export(function=False)
def addcdiv_(self: Tensor, tensor1: Any, tensor2: Any, value: float = 1) -> Tensor:
    return add_(self, tensor1 / tensor2, alpha=value)


@export(function=False)
def lerp_(self: Tensor, end: Any, weight: Any) -> Tensor:
    return add_(self, (end - self) * weight)
