"""minigrad: a small autograd engine on numpy that shows its work, in PyTorch's dialect.

Two front ends on one engine: `Value` (scalars, micrograd-style) and `Tensor` (numpy arrays
with PyTorch's API: `import minigrad as torch` runs code written for PyTorch). Derivatives
live only in `minigrad.ops`; everything else, batch norm included, is composed from those
primitives.
"""

from . import _bind, dtypes, functions, ops
from ._format import set_printoptions
from ._malloc import tune_malloc
from ._tensor import Size, Tensor, get_default_dtype, set_default_dtype
from .device import backends, cuda, device
from .dtypes import (
    bool,
    double,
    dtype,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    short,
    uint8,
)
from .dtypes import float as float  # noqa: PLC0414
from .dtypes import int as int  # noqa: PLC0414
from .engine import (
    Scope,
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    scope,
    set_grad_enabled,
    toposort,
)
from .functions.random import Generator, default_generator
from .value import Value

_bind.attach(Tensor, globals())

from . import autograd, data, nn, optim, viz  # noqa: E402
from .autograd import GradcheckError, grad, gradcheck, gradgradcheck  # noqa: E402
from .compiler import CompileError, compile  # noqa: E402
from .serialization import load, save  # noqa: E402
from .viz import backprop_steps, draw, save_backprop_html, step_through  # noqa: E402

_bind.attach(Tensor, globals())          # nn.functional adds softmax & co. as methods
tune_malloc()

__version__ = "0.2.0"


def result_type(*tensors: object) -> dtype:
    """The dtype an op on these operands gives (PyTorch's promotion)."""
    from ._tensor import default_float
    return dtypes.from_numpy_dtype(dtypes.result_type(*tensors, default_float=default_float()))
