"""minigrad: a small autograd engine on numpy that shows its work.

Two front ends on one engine: `Value` (scalars, micrograd-style) and `Tensor` (numpy arrays,
PyTorch-style names). Derivatives live only in `minigrad.ops`; everything else, batch norm
included, is composed from those primitives.
"""

from . import data, ops
from .autodiff import GradcheckError, grad, gradcheck
from .composite import (
    cat,
    clip,
    concatenate,
    flatten,
    matmul,
    maximum,
    mean,
    minimum,
    split,
    squeeze,
    stack,
    unsqueeze,
    var,
    where,
)
from .engine import (
    Scope,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
    toposort,
)
from .tensor import (
    Tensor,
    get_default_dtype,
    ones,
    ones_like,
    rand,
    randn,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from .serialization import load, save
from .value import Value

__version__ = "0.1.0"

__all__ = [
    "GradcheckError", "Scope", "Tensor", "Value", "cat", "clip", "concatenate",
    "detect_anomaly", "enable_grad", "flatten", "get_default_dtype", "grad", "gradcheck",
    "is_grad_enabled", "matmul", "maximum", "mean", "minimum", "no_grad", "ones", "ones_like",
    "data", "load", "ops", "rand", "randn", "save", "scope", "set_default_dtype", "split", "squeeze", "stack", "tensor",
    "toposort", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
