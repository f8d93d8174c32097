"""The contract every primitive op follows, and the shape helpers its rules may use.

An op is a class with static methods, its forward and backward side by side:

    forward(ins, saved)                  -> output value
    backward(g, out, ins, saved, needs)  -> one gradient (or None) per input

`g` is d(loss)/d(out); `ins` are the input values (floats or arrays; empty for ops marked
`uses_inputs = False`); `out` is the output value; `saved` holds the op's parameters (a
dim, a shape, an index, a constant, ...); `needs[i]` says whether input i wants a gradient, so
a rule can skip work nobody needs (teenygrad's `needs_input_grad`).

Each op also declares, beside its rule:
- `reads(needs)`: which values its backward reads (inputs by position, and `reads_output`),
  as PyTorch saves them. The engine checks that none of these changed in place since the
  forward ran (version counters) and raises instead of computing with changed data. A rule
  may always read an input's *shape* (an in-place op never changes it).
- how pictures show it: `symbol` (e.g. "*"), `describe(saved)` for the op box ("sum(dim=0)"),
  `expression(args, saved)` for a node's name ("x*w", "mean(x, dim=0)");
- `grad_fn`, the name PyTorch gives its backward node ("MulBackward0");
- for in-place use, `ufunc` (a numpy ufunc computing forward with `out=`).

Every backward rule is written once, with operations that floats, numpy arrays and minigrad
Tensors all understand (`+ - * / **`, `@`, `.reshape`, `.transpose`, `.sum(axis, keepdims)`,
indexing, and the helpers `expand`, `sum_to` and `scatter` below). Normally the engine runs the
rules on raw floats/arrays (fast); for `create_graph=True` it runs the same rules on Tensors
with recording on, so gradients are differentiable again. A gradient may come back with a
broadcast shape: the engine sums it back to the input's shape in one place (`sum_to`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np


def raw(x: Any) -> Any:
    """The plain value under a node (float or ndarray); values pass through."""
    return x._data if hasattr(x, "_data") else x.data if hasattr(x, "_op") else x


# ---- the shape helpers every rule may use (numpy and Tensor alike) -------------------------

def compact(x: Any) -> Any:
    """A broadcast array as the small array it repeats (one element along each axis it
    repeats): work on it, and broadcasting puts the result back in place. Anything else is
    returned as it is."""
    if type(x) is not np.ndarray:
        return x
    strides = x.strides
    if len(strides) == 2 and strides[0] == 0 and strides[1]:    # a row repeated: the row
        return x[:1]
    if 0 in strides:
        return x[tuple(slice(0, 1) if s == 0 else slice(None) for s in strides)]
    return x


def expand(x: Any, shape: tuple[int, ...]) -> Any:
    """Broadcast `x` to `shape` (a read-only view: nothing is copied)."""
    if type(x) is np.ndarray and x.flags.c_contiguous:
        strides = _expanded_strides(x.shape, shape, x.itemsize)
        if strides is not None:         # np.broadcast_to, without its ~2 us of checks
            view = np.ndarray(shape, x.dtype, x, 0, strides)
            view.flags.writeable = False
            return view
    if isinstance(x, np.ndarray | float | int | np.generic):
        return np.broadcast_to(x, shape)
    return x.expand(shape)


@functools.lru_cache(maxsize=1024)
def _expanded_strides(small: tuple[int, ...], shape: tuple[int, ...],
                      itemsize: int) -> tuple[int, ...] | None:
    """Strides that show a C-contiguous array of shape `small` as `shape` (0 along the
    broadcast axes), or None when `small` does not broadcast to `shape` that simply."""
    if len(small) != len(shape) or any(n != m and n != 1 for n, m in zip(small, shape)):
        return None
    strides, step = [], itemsize
    for n, m in zip(reversed(small), reversed(shape)):
        strides.append(step if n == m else 0)
        step *= n
    return tuple(reversed(strides))


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum `x` down to `shape`: the backward of broadcasting (expand's backward is a sum)."""
    if x.shape == shape:
        return x
    axes, keepdims, reshape = _broadcast_axes(x.shape, shape)
    if type(x) is np.ndarray:           # the ufunc itself: ndarray.sum adds a Python layer
        x = _add_reduce(x, axes, None, None, keepdims)
        if type(x) is not np.ndarray:   # a full sum gives a numpy scalar: keep an array
            x = np.asarray(x)
    else:
        x = x.sum(axis=axes, keepdims=keepdims)
    return x.reshape(shape) if reshape else x


_add_reduce = np.add.reduce


@functools.lru_cache(maxsize=1024)
def _broadcast_axes(big: tuple[int, ...], shape: tuple[int, ...]) -> tuple[tuple, bool, bool]:
    """The axes along which `shape` was broadcast to `big`; whether summing over them must
    keep dims (some were size 1 in `shape`); whether the sum then needs a reshape to `shape`.
    Cached: a training loop asks for the same few pairs of shapes at every step."""
    lead = len(big) - len(shape)
    inner = tuple(lead + i for i, n in enumerate(shape) if n == 1 and big[lead + i] != 1)
    axes = tuple(range(lead)) + inner
    keepdims = bool(inner)
    return axes, keepdims, keepdims and lead > 0


def basic_index(index: Any) -> bool:
    """True when `index` selects each element at most once and gives a view (ints, slices,
    None, Ellipsis): numpy's basic indexing."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, int | slice | np.integer)
               for i in items)


def scatter(x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of `shape` with `x` added at `index`; repeated indices accumulate."""
    if isinstance(x, np.ndarray | np.generic):
        out = np.zeros(shape, dtype=x.dtype)
        if basic_index(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out
    return x._scatter(index, shape)


@functools.lru_cache(maxsize=1024)
def kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """`shape` with the reduced axes kept as 1."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


@functools.lru_cache(maxsize=1024)
def count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    """How many values each sum over `axis` adds up."""
    return math.prod(shape if axis is None else (shape[a] for a in axis))


def spread(g: Any, shape: tuple[int, ...], axis: tuple[int, ...] | None,
           keepdims: bool) -> Any:
    """A reduction's output gradient `g` broadcast back to the input's `shape`."""
    if not keepdims:
        g = g.reshape(kept_shape(shape, axis))
    return expand(g, shape)


def is_node(x: Any) -> bool:
    return hasattr(x, "_op")


def apply_like(op: Any, ins: Any, saved: Any) -> Any:
    """`op` applied to values that may be Tensors (a rule on the create_graph path records
    it, so it is differentiable again) or plain arrays (just its forward)."""
    for x in ins:
        if is_node(x):
            return x._apply(op, ins, saved)
    return op.forward(list(ins), saved)


def fill_where(mask: Any, x: Any, value: float = 0.0) -> Any:
    """`x` with `value` where `mask` is True: how a rule sets PyTorch's value at a singular
    point (np.where on arrays; masked_fill on Tensors, so create_graph and compile record
    it as ops)."""
    if is_node(x) or is_node(mask):
        if not is_node(x):
            x = mask._apply(Identity, (x,), None)
        return x.masked_fill(mask, value)
    if not np.any(mask):
        return x
    return np.where(mask, value, x)


def grad_mode() -> bool:
    """Whether ops record a graph now (the engine replaces this at import: ops/ does not
    import the engine). A rule asks it when its create_graph form must differ."""
    return False


def sign(x: Any) -> Any:
    """sign of an array or a Tensor (rules use it for |x| and norms)."""
    return x.sign() if is_node(x) else np.sign(x)


def same_dtype(x: Any, like: Any) -> Any:
    """`x` converted to `like`'s dtype (arrays and Tensors alike)."""
    if is_node(x):
        return x.to(like.dtype)
    return np.asarray(x).astype(like.dtype, copy=False)


def log(a: Any) -> Any:
    """Natural log of an array, a float or a Tensor (rules run on all three)."""
    return a.log() if is_node(a) else np.log(a)


# ---- how pictures write things ----------------------------------------------------------------

def fmt_number(c: Any) -> str:
    """A constant as pictures write it: `2`, `0.5`, `1e-05`."""
    try:
        return f"{float(c):g}"
    except (TypeError, ValueError):
        return "c"


def atom(text: str) -> str:
    """`text` in parentheses when it is a compound expression (so "x*(w+b)" stays right)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and i > 0 and ch in "+-*/@ <>=&|%":
            if ch in "+-" and text[i - 1] in "eE" and i > 1 and text[i - 2].isdigit():
                continue                        # the exponent of a number: 1e-05
            return f"({text})"
    return text


def fmt_dims(axis: tuple[int, ...] | None, keepdims: bool) -> list[str]:
    """["dim=0", "keepdim=True"] for a reduction's parameters."""
    out = [] if axis is None else [f"dim={axis[0] if len(axis) == 1 else axis}"]
    if keepdims:
        out.append("keepdim=True")
    return out


def fmt_index(index: Any) -> str:
    """numpy-style text for an index: `0, 1:3`, `..., None`, `[idx]` for arrays."""
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if type(i).__name__ == "Slot":
            parts.append("idx")
        elif i is None:
            parts.append("None")
        elif i is Ellipsis:
            parts.append("...")
        elif isinstance(i, slice):
            a = "" if i.start is None else str(i.start)
            b = "" if i.stop is None else str(i.stop)
            parts.append(f"{a}:{b}" + ("" if i.step is None else f":{i.step}"))
        elif isinstance(i, np.ndarray):
            parts.append("mask" if i.dtype == np.bool_ else "idx" if i.size > 4 else
                         str(i.tolist()).replace(" ", ""))
        else:
            parts.append(str(i))
    return ", ".join(parts)


class Op:
    """Base of all primitives (see the module docstring for the contract)."""


    name = ""               # what pictures and the stepper show
    rule = ""               # the local derivative as text, for the stepper
    symbol = ""             # short text for the op box; "" means `name`
    infix = False           # a binary op written between its operands (a*b)
    grad_fn = ""            # PyTorch's name of the backward node; "" -> NameBackward0
    uses_inputs = True      # the engine passes the input values to backward
    reads_output = False    # backward reads `out` (PyTorch saves the result)
    differentiable = True   # False: the output never requires grad (comparisons, argmax)
    view = False            # the output shares the first input's storage (reshape, slicing)
    ufunc: Any = None       # numpy ufunc computing forward elementwise (in-place ops use it)
    saves_value = False     # keeps a value PyTorch frees after backward (beyond `reads`)

    @staticmethod
    def forward(ins: list, saved: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(g: Any, out: Any, ins: list, saved: Any, needs: tuple) -> tuple:
        raise NotImplementedError

    @classmethod
    def emit(cls, args: list[str], saved: Any, c: Any) -> str:
        """The Python (numpy) expression computing this op's forward from its inputs'
        variable names: the code `minigrad.compile` writes. `c(value)` gives the source of a
        parameter (a literal, or the name of a constant). By default, a call of the op's own
        forward, or, for an op whose forward is its ufunc (`saved` None), that ufunc; ops used
        often write plain numpy or Python's operators instead."""
        if cls.ufunc is not None and saved is None:
            return f"np.{cls.ufunc.__name__}({', '.join(args)})"
        return f"{c(cls)}.forward([{', '.join(args)}], {c(saved)})"

    @classmethod
    def emit_into(cls, args: list[str], saved: Any, c: Any, out: str) -> str | None:
        """The code computing this op's forward into `out`, an array of the result's shape
        and dtype (so that a compiled step reuses its arrays); None if the op cannot. By
        default an op whose forward is its ufunc (`saved` None) calls it with `out=`. More
        lines (one numpy call each) may follow the first, the result's expression."""
        if cls.ufunc is not None and saved is None:
            return f"np.{cls.ufunc.__name__}({', '.join(args)}, out={out})"
        return None

    @classmethod
    def reads(cls, needs: tuple) -> tuple[bool, ...]:
        """Which inputs' values backward reads (default: all, if it uses inputs)."""
        return (cls.uses_inputs,) * len(needs)

    @classmethod
    def makes_view(cls, saved: Any) -> bool:
        """True when the output shares the first input's storage (numpy permitting)."""
        return cls.view

    @classmethod
    def describe(cls, saved: Any) -> str:
        """The op box's text in pictures."""
        return cls.symbol or cls.name

    @classmethod
    def expression(cls, args: list[str], saved: Any) -> str:
        """How a node made by this op is written from its inputs' names."""
        if cls.infix and len(args) == 2:
            return f"{atom(args[0])}{cls.symbol}{atom(args[1])}"
        extra = cls.describe(saved)
        inner = ", ".join(args)
        if extra.startswith(cls.name + "(") and extra.endswith(")"):    # sum(dim=0)
            params = extra[len(cls.name) + 1:-1]
            return f"{cls.name}({inner}, {params})" if params else f"{cls.name}({inner})"
        return f"{cls.name}({inner})"

    # A Python number kept by the node (x * 2.0): PyTorch's node lists it as an input too,
    # so its next_functions end with (None, 0).
    wrapped_number = False

    @classmethod
    def node_name(cls, saved: Any) -> str:
        """PyTorch's name for this op's backward node, e.g. "MulBackward0"."""
        return cls.grad_fn or cls.name.capitalize() + "Backward0"

    @classmethod
    def grad_fn_name(cls, node: Any) -> str:
        """The backward node's name for this node: the name the front end gave the op's
        parameters (`named`), else the op's own (ops whose name depends on the input shapes
        override this)."""
        return getattr(node._saved, "grad_fn", None) or cls.node_name(node._saved)

    @classmethod
    def graph_inputs(cls, n: int, saved: Any = None) -> tuple[int, ...]:
        """Which of the n inputs PyTorch's graph lists as inputs of this node (index and
        condition tensors are not: they are data, not differentiable inputs)."""
        return tuple(range(n))


class Identity(Op):
    """out = a (lifts a value into the graph as a constant node);  da = g"""
    name, rule = "identity", "d a/da = 1"
    uses_inputs = False

    @staticmethod
    def forward(ins, saved):
        return ins[0]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (g,)


class _NamedTuple(tuple):
    grad_fn = ""


class _NamedInt(int):
    grad_fn = ""


class _NamedFloat(float):
    grad_fn = ""


def named(saved: Any, grad_fn: str) -> Any:
    """`saved` (a tuple, int or float: an op's parameters) carrying the name PyTorch gives the
    node (`transpose` and `squeeze` are Permute and Reshape here, but TransposeBackward0 and
    SqueezeBackward0 there). It behaves as the plain value everywhere else."""
    cls = {tuple: _NamedTuple, int: _NamedInt, float: _NamedFloat}[type(saved)]
    out = cls(saved)
    out.grad_fn = grad_fn
    return out


def cross(needs: tuple) -> tuple[bool, bool]:
    """`reads` of a product: input 0 is read when input 1 needs a gradient, and vice versa."""
    return needs[1], needs[0]


def nothing(needs: tuple) -> tuple[bool, ...]:
    """`reads` of a rule that needs only shapes."""
    return (False,) * len(needs)
