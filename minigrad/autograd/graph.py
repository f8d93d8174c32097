"""PyTorch's view of the autograd graph: `t.grad_fn`, `name()`, `next_functions`.

`t.grad_fn` is an object whose class is named as PyTorch names the node (`MulBackward0`,
`AddmmBackward0`, ...); its `next_functions` lists, per input, (the input's grad_fn, 0),
(AccumulateGrad of the leaf, 0), or (None, 0) for an input that needs no gradient. So a
tool written against PyTorch's graph (walking `next_functions` from `loss.grad_fn`, reading
`type(fn).__name__` and `fn.variable`) walks minigrad's graph the same way.
"""

from __future__ import annotations

import weakref
from typing import Any

_CLASSES: dict[str, type] = {}
_LIVE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class GradFn:
    """One backward node (a view of a minigrad node; equal views compare equal)."""

    __slots__ = ("_node", "__weakref__")

    def __init__(self, node: Any) -> None:
        self._node = node

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        node = self._node
        out = []
        for parent, need in zip(node.parents, node._needs):
            out.append((_of(parent) if need else None, 0))
        if node._op.wrapped_number:
            out.append((None, 0))
        return tuple(out)

    @property
    def metadata(self) -> dict:
        return {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GradFn) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


class AccumulateGrad(GradFn):
    """The node that stores a leaf's gradient in `.grad`; `variable` is the leaf."""

    __slots__ = ()

    @property
    def variable(self) -> Any:
        return self._node

    @property
    def next_functions(self) -> tuple:
        return ()


def _cls(name: str) -> type:
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = type(name, (GradFn,), {"__slots__": ()})
    return cls


def _of(node: Any) -> GradFn:
    key = id(node)
    fn = _LIVE.get(key)
    if fn is not None and fn._node is node:
        return fn
    if node._op is None:
        fn = AccumulateGrad(node)
    else:
        fn = _cls(node._op.grad_fn_name(node))(node)
    _LIVE[key] = fn
    return fn


def grad_fn_of(t: Any) -> GradFn | None:
    """`t.grad_fn`: the node that made `t`, or None for a leaf."""
    return None if t._op is None else _of(t)
