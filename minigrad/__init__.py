"""minigrad: a small autograd engine on numpy that shows its work.

Two front ends on one engine: `Value` (scalars, micrograd-style) and `Tensor` (numpy arrays,
PyTorch-style names). Derivatives live only in `minigrad.ops`; everything else, batch norm
included, is composed from those primitives.
"""

from . import data, nn, ops, optim, viz
from ._malloc import tune_malloc
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
from .serialization import load, save
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
from .value import Value
from .viz import backprop_steps, draw, save_backprop_html, step_through

tune_malloc()

__version__ = "0.1.0"

__all__ = [
    "GradcheckError", "Scope", "Tensor", "Value", "backprop_steps", "cat", "clip",
    "concatenate", "data", "detect_anomaly", "draw", "enable_grad", "flatten",
    "get_default_dtype", "grad", "gradcheck", "is_grad_enabled", "load", "matmul", "maximum",
    "mean", "minimum", "nn", "no_grad", "ones", "ones_like", "ops", "optim", "rand", "randn",
    "save", "save_backprop_html", "scope", "set_default_dtype", "split", "squeeze", "stack",
    "step_through", "tensor", "toposort", "unsqueeze", "var", "viz", "where", "zeros",
    "zeros_like",
]
