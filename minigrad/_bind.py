"""One declaration, two names: a function written once is both `minigrad.X` and `Tensor.X`
(as PyTorch binds `torch.sum` and `Tensor.sum` from one entry of native_functions.yaml).

    @export                       # minigrad.exp(t) and t.exp()
    def exp(input): ...

    @export(method=False)         # minigrad.zeros(...) only
    def zeros(*size, ...): ...

    @export("absolute", "abs")    # several names
    def abs(input): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FUNCTIONS: dict[str, Callable] = {}     # minigrad.<name>
METHODS: dict[str, Callable] = {}       # Tensor.<name>


def export(*names: Any, method: bool = True, function: bool = True) -> Any:
    """Register a function under its name (or `names`) as a minigrad function and/or a
    Tensor method (the tensor is the first argument)."""
    if len(names) == 1 and callable(names[0]):      # bare @export
        return export(method=method, function=function)(names[0])

    def register(fn: Callable) -> Callable:
        for name in names or (fn.__name__,):
            if function:
                FUNCTIONS[name] = fn
            if method:
                METHODS[name] = fn
        return fn

    return register


def attach(cls: type, namespace: dict[str, Any]) -> None:
    """Put every registered method on `cls` (unless the class defines it itself) and every
    function into `namespace` (a package's globals)."""
    for name, fn in METHODS.items():
        if name not in cls.__dict__:
            setattr(cls, name, fn)
    for name, fn in FUNCTIONS.items():
        namespace[name] = fn
