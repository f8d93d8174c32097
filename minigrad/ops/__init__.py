"""The primitive ops: the only place in minigrad where derivatives are written.

Each op is a class with its forward and its backward side by side, the formula in the
docstring, and how it is drawn and named beside them (the contract: `base.py`). Everything
else in minigrad (variance, softmax, cross-entropy, batch norm, ...) is composed from these.

    arithmetic.py   + - * / ** neg, constants kept by the node, casts, clone
    elementwise.py  exp log sqrt tanh sigmoid relu abs sin cos erf maximum clamp where, ...
    reductions.py   sum mean max min prod cumsum norm std
    shape.py        reshape permute expand indexing (read and write) cat flip roll gather ...
    linalg.py       matmul, the Linear layer's affine map, einsum
"""

from .arithmetic import (
    Add,
    AddConst,
    Cast,
    Clone,
    Div,
    Mul,
    MulConst,
    Neg,
    Pow,
    PowConst,
    RDivConst,
    Remainder,
    RPowConst,
    RSubConst,
    Sub,
    SubConst,
)
from .base import (
    Identity,
    Op,
    apply_like,
    basic_index,
    count,
    expand,
    fill_where,
    kept_shape,
    named,
    raw,
    same_dtype,
    scatter,
    sign,
    spread,
    sum_to,
)
from .elementwise import (
    Abs,
    Clip,
    Cos,
    Erf,
    Exp,
    Expm1,
    Log,
    Log1p,
    Maximum,
    Minimum,
    NoDerivative,
    NoGrad,
    RandomMask,
    Reciprocal,
    Relu,
    Sigmoid,
    Sin,
    Sqrt,
    Tanh,
    Where,
    ZeroGrad,
)
from .linalg import Einsum, Linear, MatMul
from .reductions import Cumsum, Max, Mean, Min, Norm, Prod, ProdOthers, Std, Sum
from .shape import (
    CheckIndex,
    Concatenate,
    CopySlices,
    Expand,
    Flip,
    Gather,
    GetItem,
    Reshape,
    Roll,
    Scatter,
    ScatterAdd,
    SetItem,
    Slot,
    Transpose,
    Tri,
    check_index,
    fill_index,
    full_index,
    has_slots,
    view_of,
)

__all__ = [
    "RandomMask",
    "NoDerivative",
    "named",
    "CheckIndex", "check_index",
    "Identity", "ProdOthers", "Slot", "fill_index", "has_slots", "same_dtype", "sign",
    "Abs", "Add", "AddConst", "Cast", "Clip", "Clone", "Concatenate", "CopySlices", "Cos",
    "Cumsum", "Div", "Einsum", "Erf", "Exp", "Expand", "Expm1", "Flip", "Gather", "GetItem",
    "Linear", "Log", "Log1p", "MatMul", "Max", "Maximum", "Mean", "Min", "Minimum", "Mul",
    "MulConst", "Neg", "NoGrad", "Norm", "Op", "Pow", "PowConst", "Prod", "RDivConst",
    "RPowConst", "RSubConst", "Reciprocal", "Relu", "Remainder", "Reshape", "Roll", "Scatter",
    "ScatterAdd", "SetItem", "Sigmoid", "Sin", "Sqrt", "Std", "Sub", "SubConst", "Sum", "Tanh",
    "Transpose", "Tri", "Where", "ZeroGrad", "apply_like", "basic_index", "count", "expand",
    "fill_where", "full_index", "kept_shape", "raw", "scatter", "spread", "sum_to", "view_of",
]
