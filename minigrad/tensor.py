"""`Tensor`: the numpy-backed front end of the engine.

A Tensor wraps one ndarray. Ops on tensors that require grad record a node (see engine.py);
the derivatives live in ops.py, composites (mean, var, stack, ...) in composite.py.

dtype rules: float32 stays float32 through every op and gradient (a Python number never
promotes it, as in PyTorch and numpy >= 2); Python numbers, lists, integer and bool input
become the default dtype (float64, see `set_default_dtype`); an explicit `dtype` wins; a
numpy float array keeps its dtype.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from . import ops
from .engine import STATE, Node, leaf, record, run_backward

_default_dtype: type = np.float64


def set_default_dtype(dtype: Any) -> None:
    """Dtype given to Python numbers, lists, integer and bool input (float32 or float64)."""
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"set_default_dtype: only float32 or float64, got {dt}")
    _default_dtype = dt.type


def get_default_dtype() -> type:
    return _default_dtype


def _as_array(data: Any, dtype: Any = None, what: str = "Tensor") -> np.ndarray:
    """Validate and convert input data to a float ndarray following the dtype rules."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{what}: dtype must be a floating type, got {dtype}")
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{what}: cannot make an array from {type(data).__name__}: {err}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{what}: complex data is not supported (dtype {arr.dtype})")
    if kind not in "fiub":
        raise TypeError(
            f"{what}: data must be numeric (float, int or bool), got dtype {arr.dtype} "
            f"from {type(data).__name__}"
        )
    if dtype is None:
        dtype = arr.dtype if kind == "f" and isinstance(data, np.ndarray | np.generic) \
            else _default_dtype
    return np.array(arr, dtype=dtype, copy=None)


class Tensor(Node):
    """An n-dimensional array that records the ops applied to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad            # d(sum x^2)/dx = 2x
    array([2., 4., 6.])
    """

    __slots__ = ("_data", "_grad", "requires_grad")
    __array_ufunc__ = None        # numpy defers to our reflected ops: ndarray * Tensor -> Tensor
    __hash__ = Node.__hash__      # identity, though == is elementwise
    _shaped = True
    _raw = operator.attrgetter("_data")   # the slot itself, not the validating property

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        self._data = _as_array(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        leaf(self)
        if label:
            self.label = label

    # ---- the engine's hooks -------------------------------------------------------------
    def _arrive(self, g: Any, create_graph: bool, store: bool) -> Any:
        extra = self._extra
        if extra is not None and "hooks" in extra:
            for hook in extra["hooks"].values():
                replaced = hook(g)
                if replaced is not None:
                    g = replaced if create_graph else self._check_grad(replaced, "hook")
        if store and (self._op is None or (extra is not None and extra.get("retain"))):
            if create_graph:
                self._grad = g if self._grad is None else self._grad + g
            elif self._take(g, g, (g,), False):   # g may be held elsewhere: borrowed
                self._own_grad()
        return g

    def _take(self, share: Any, upstream: Any, shares: tuple, borrowed: bool) -> bool:
        """Add one share of a plain backward to the leaf's .grad at once (the engine calls
        this for leaves without hooks). Returns True while .grad is a borrowed array.

        The first share is kept as it is. It is the leaf's own when nothing else can hold it
        (a fresh array, not the node's upstream gradient, not a view, sent once); otherwise
        it is borrowed: the next share makes a new sum that is ours, and if none comes the
        engine calls `_own_grad` at the end. So .grad is always the leaf's own array, and a
        gradient made of two shares costs one new array, not a copy plus an add."""
        acc = self._grad
        dtype = self._data.dtype
        if acc is None:
            if type(share) is not np.ndarray or share.dtype != dtype:
                self._grad = np.array(share, dtype=dtype)
                return False
            self._grad = share
            return not (share.base is None and share is not upstream
                        and _sent_once(share, shares))
        if borrowed:
            total = acc + share                   # a new array: ours
            self._grad = total if total.dtype == dtype else total.astype(dtype)
        elif acc.size > 4096:
            acc += share                          # in place: no new big array
        else:
            # numpy's in-place add costs ~3x a plain add on tiny arrays (measured)
            self._grad = acc + share
        return False

    def _own_grad(self) -> None:
        """Replace a borrowed .grad by a copy (see `_take`)."""
        self._grad = np.array(self._grad, dtype=self._data.dtype)

    def _check_grad(self, g: Any, what: str) -> np.ndarray:
        g = np.asarray(g._data if isinstance(g, Tensor) else g)
        if g.shape != self._data.shape:
            raise ValueError(f"{what}: gradient of shape {g.shape} for a tensor of shape "
                             f"{self._data.shape}")
        return g.astype(self._data.dtype, copy=False)

    # ---- data, grad and friends ---------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else _as_array(value, what="Tensor.data")
        if arr.shape != self._data.shape:
            raise ValueError(f"Tensor.data: new data has shape {arr.shape}, the tensor has "
                             f"shape {self._data.shape}")
        self._data = arr

    @property
    def grad(self) -> Any:
        """The accumulated gradient (an ndarray), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None or isinstance(value, Tensor):
            self._grad = value
        else:
            self._grad = np.array(self._check_grad(value, "Tensor.grad"))

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def item(self) -> float:
        return self._data.item()

    def numpy(self) -> np.ndarray:
        return self._data

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this data, outside the graph."""
        return Tensor(self._data, label=self.label)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._op is not None and not requires_grad:
            raise RuntimeError("requires_grad_: can only change requires_grad of a leaf tensor "
                               "(use .detach() for a non-leaf)")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep (accumulate) this non-leaf tensor's gradient in `.grad` during backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        if self._op is not None:
            self._extras()["retain"] = True

    def register_hook(self, fn: Callable[[Any], Any]) -> _HookHandle:
        """Call `fn(grad)` when this tensor's gradient is computed; a non-None return value
        replaces the gradient (for storing and for sending further back)."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        hooks = self._extras().setdefault("hooks", {})
        handle = _HookHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def _extras(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) * gradient into the `.grad` of every leaf that requires
        grad. `gradient` defaults to 1 and is required when self has more than one element."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(create the inputs with requires_grad=True, outside no_grad)")
        seed = _seed(self, gradient, "backward")
        if create_graph:
            seed = Tensor(seed)
        run_backward(self, seed, retain_graph or create_graph, create_graph)

    # ---- printing -----------------------------------------------------------------------
    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = []
        if self._data.dtype != np.dtype(_default_dtype):
            extras.append(f"dtype={self._data.dtype}")
        if self._op is not None:
            extras.append(f"op={self._op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    # ---- arithmetic ---------------------------------------------------------------------
    # A Python float or int with a float tensor stays inside the op (`x * 0.5` is one node
    # that remembers 0.5, as for Values); numpy keeps the tensor's dtype (NEP 50). Anything
    # else becomes a constant tensor of the tensor's dtype.
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return apply(ops.Add, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.AddConst, (self,), other)
        return _binary(ops.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.AddConst, (self,), other)
        return _binary(ops.Add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return apply(ops.Sub, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.AddConst, (self,), -other)    # x + (-c) == x - c exactly
        return _binary(ops.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.RSubConst, (self,), other)
        return _binary(ops.Sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return apply(ops.Mul, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.MulConst, (self,), other)
        return _binary(ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.MulConst, (self,), other)
        return _binary(ops.Mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return apply(ops.Div, (self, other))
        return _binary(ops.Div, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(ops.Div, other, self)

    def __pow__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.PowConst, (self,), other)
        return _binary(ops.Pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(ops.Pow, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return apply(ops.MatMul, (self, other))
        return _binary(ops.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(ops.MatMul, other, self)

    def __neg__(self) -> Tensor:
        return apply(ops.Neg, (self,))

    def matmul(self, other: Any) -> Tensor:
        return _binary(ops.MatMul, self, other)

    # Comparisons give plain boolean arrays (not differentiable).
    def __lt__(self, other: Any) -> np.ndarray:
        return self._data < _raw(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self._data <= _raw(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self._data > _raw(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self._data >= _raw(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._data == _raw(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._data != _raw(other)

    # ---- elementwise functions ----------------------------------------------------------
    def exp(self) -> Tensor:
        """e**x"""
        return apply(ops.Exp, (self,))

    def log(self) -> Tensor:
        """natural logarithm"""
        return apply(ops.Log, (self,))

    def sqrt(self) -> Tensor:
        return apply(ops.Sqrt, (self,))

    def tanh(self) -> Tensor:
        return apply(ops.Tanh, (self,))

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-x), computed without overflow"""
        return apply(ops.Sigmoid, (self,))

    def relu(self) -> Tensor:
        """max(x, 0)"""
        return apply(ops.Relu, (self,))

    def abs(self) -> Tensor:
        return apply(ops.Abs, (self,))

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Clamp into [min, max] (either bound may be None)."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return apply(ops.Clip, (self,), (min, max))

    clamp = clip

    # ---- reductions ---------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (int, tuple or None for all)."""
        return apply(ops.Sum, (self,), (_axes(axis, self.ndim, "sum"), keepdims))

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Largest value over `axis`; ties share the gradient evenly."""
        return apply(ops.Max, (self,), (_axes(axis, self.ndim, "max"), keepdims))

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Smallest value over `axis`; ties share the gradient evenly."""
        return apply(ops.Min, (self,), (_axes(axis, self.ndim, "min"), keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Average over `axis` (int, tuple or None for all); NaN when there is nothing."""
        return apply(ops.Mean, (self,), (_axes(axis, self.ndim, "mean"), keepdims))

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        from .composite import var
        return var(self, axis, ddof, keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        from .composite import var
        return var(self, axis, ddof, keepdims).sqrt()

    # ---- shapes -------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape (one dimension may be -1)."""
        shape = _shape_args(shape)
        try:
            target = self._data.reshape(shape).shape
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"into {shape}") from None
        if target == self._data.shape:
            return self
        return apply(ops.Reshape, (self,), target)

    view = reshape

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes (reversed when none are given), like numpy."""
        nd = self._data.ndim
        if not axes:
            return apply(ops.Transpose, (self,), tuple(range(nd - 1, -1, -1)))
        axes = _shape_args(axes)
        if len(axes) != nd or sorted(a % max(nd, 1) for a in axes) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} do not permute a tensor of shape "
                             f"{self.shape}")
        return apply(ops.Transpose, (self,), tuple(a % nd for a in axes))

    def permute(self, *axes: Any) -> Tensor:
        return self.transpose(*axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return apply(ops.Transpose, (self,), tuple(axes))

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to `shape` (-1 keeps a dimension); the gradient is summed back."""
        shape = _shape_args(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        if shape == self.shape:
            return self
        try:
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}") from None
        return apply(ops.Expand, (self,), shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return self.expand(tuple(shape))

    def squeeze(self, axis: Any = None) -> Tensor:
        from .composite import squeeze
        return squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        from .composite import unsqueeze
        return unsqueeze(self, axis)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        from .composite import flatten
        return flatten(self, start_dim, end_dim)

    def __getitem__(self, index: Any) -> Tensor:
        index = _index(index)
        try:
            self._data[index]
        except (IndexError, ValueError, TypeError) as err:
            raise IndexError(f"getitem: bad index for a tensor of shape {self.shape}: "
                             f"{err}") from None
        return apply(ops.GetItem, (self,), index)

    def _scatter(self, index: Any, shape: tuple[int, ...]) -> Tensor:
        return apply(ops.Scatter, (self,), (index, shape))


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Reset the gradients of `params`: to None (default), or to zeros in place (what
    `Module.zero_grad` and `Optimizer.zero_grad` do)."""
    for p in params:
        if set_to_none or p._grad is None:
            p._grad = None
        elif isinstance(p._grad, Tensor):
            p._grad = np.zeros(p.shape, dtype=p.dtype)
        else:
            p._grad[...] = 0


class _HookHandle:
    _next = 0

    def __init__(self, hooks: dict) -> None:
        _HookHandle._next += 1
        self.id = _HookHandle._next
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _sent_once(share: Any, shares: tuple) -> bool:
    """True if `share` is in `shares` once (by identity: a rule may send one array twice)."""
    seen = 0
    for other in shares:
        if other is share:
            seen += 1
    return seen == 1


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _shape_args(args: tuple) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


# Tuples of axes that are already normalised (sorted, non-negative), per number of dims.
_SORTED_AXES = {nd: {tuple(a for a in range(nd) if m >> a & 1) for m in range(1, 1 << nd)}
                for nd in range(1, 5)}


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Normalise `axis` to a sorted tuple of non-negative ints (None means all)."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:      # the common cases
        return (axis % ndim,)
    if type(axis) is tuple and axis in _SORTED_AXES.get(ndim, ()):
        return axis
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else None


def _index(index: Any) -> Any:
    """Tensors and lists inside an index become numpy arrays."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        return i._data.astype(np.int64) if i._data.dtype.kind == "f" else i._data
    if isinstance(i, list):
        return np.asarray(i)
    return i


def _operand(x: Any, like: np.dtype, op: str) -> Tensor:
    """Turn the other operand of a binary op into a Tensor of the right dtype."""
    if isinstance(x, Tensor):
        return x
    if type(x) is float or type(x) is int or isinstance(x, numbers.Real) or (
            isinstance(x, np.ndarray) and x.dtype.kind in "iub"):
        return _constant(x, like)
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return _constant(x, x.dtype)      # a float array keeps its dtype, as Tensor(x) does
    if isinstance(x, np.ndarray | np.generic):
        return Tensor(_as_array(x, what=op))
    if isinstance(x, numbers.Number):
        raise TypeError(f"{op}: unsupported operand {x!r} ({type(x).__name__})")
    return NotImplemented


def _binary(op: type[ops.Op], a: Any, b: Any) -> Tensor:
    if type(a) is Tensor and type(b) is Tensor:
        return apply(op, (a, b))
    if not isinstance(a, Tensor):
        a = _operand(a, b._data.dtype, op.name)
        if a is NotImplemented:
            return NotImplemented
    elif not isinstance(b, Tensor):
        b = _operand(b, a._data.dtype, op.name)
        if b is NotImplemented:
            return NotImplemented
    return apply(op, (a, b))


def apply(op: type[ops.Op], parents: tuple, saved: Any = None) -> Tensor:
    """Run `op` forward on the parents' data and record the result as a node."""
    try:
        n = len(parents)                    # (the common arities spelled out: faster)
        if n == 1:
            data = op.forward([parents[0]._data], saved)
        elif n == 2:
            data = op.forward([parents[0]._data, parents[1]._data], saved)
        else:
            data = op.forward(list(map(_data_of, parents)), saved)
    except ValueError as err:
        shapes = " and ".join(str(p._data.shape) for p in parents)
        raise ValueError(f"{op.name}: incompatible shapes {shapes} ({err})") from None
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = None
    if STATE.grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                if STATE.anomaly:
                    record(out, op, parents, saved)
                else:                       # record(), inlined: this is the hot path
                    out._op = op
                    out._parents = parents
                    out._saved = saved
                    out._g = None
                    out._mark = 0
                    out._scope = STATE.scope
                    out._extra = None
                return out
    out.requires_grad = False
    leaf(out)
    return out


_new = object.__new__
_data_of = operator.attrgetter("_data")


def _constant(x: Any, dtype: Any) -> Tensor:
    """A leaf holding a number or an int/bool array as `dtype` (the other operand's)."""
    t = _new(Tensor)
    t._data = np.asarray(x, dtype=dtype)
    t._grad = None
    t.requires_grad = False
    leaf(t)
    return t


def _seed(root: Tensor, gradient: Any, what: str) -> np.ndarray:
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"{what}: the output has shape {root.shape} ({root.size} elements); a gradient "
                f"can be created implicitly only for a one-element output: pass gradient=")
        return np.ones(root._data.shape, dtype=root._data.dtype)
    g = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                   dtype=root._data.dtype)
    if g.shape != root._data.shape:
        if g.size == 1 and root._data.size == 1:
            return g.reshape(root._data.shape)
        raise ValueError(f"{what}: gradient has shape {g.shape}, the output has shape "
                         f"{root._data.shape}")
    return g


# ---- factories ----------------------------------------------------------------------------

def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, label: str = "") -> Tensor:
    """Make a Tensor (like torch.tensor)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape_args(shape), dtype=dtype or _default_dtype),
                  requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape_args(shape), dtype=dtype or _default_dtype),
                  requires_grad=requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = _raw(t)
    return Tensor(np.zeros(np.shape(arr), dtype=dtype or _like_dtype(arr)),
                  requires_grad=requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = _raw(t)
    return Tensor(np.ones(np.shape(arr), dtype=dtype or _like_dtype(arr)),
                  requires_grad=requires_grad)


def _like_dtype(arr: Any) -> Any:
    dt = np.asarray(arr).dtype
    return dt if dt.kind == "f" else _default_dtype


def as_generator(generator: Any = None) -> np.random.Generator:
    """A numpy Generator from None, an int seed, or a Generator (returned as is)."""
    if isinstance(generator, np.random.Generator):
        return generator
    return np.random.default_rng(generator)


def randn(*shape: Any, generator: Any = None, seed: int | None = None, dtype: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples; `generator` is a numpy Generator or an int seed
    (`seed=` also works)."""
    if generator is not None and seed is not None:
        raise ValueError("randn: give generator or seed, not both")
    rng = as_generator(seed if generator is None else generator)
    data = rng.standard_normal(_shape_args(shape))
    return Tensor(data.astype(dtype or _default_dtype), requires_grad=requires_grad)


def rand(*shape: Any, generator: Any = None, seed: int | None = None, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1); `generator` is a numpy Generator or an int seed
    (`seed=` also works)."""
    if generator is not None and seed is not None:
        raise ValueError("rand: give generator or seed, not both")
    rng = as_generator(seed if generator is None else generator)
    data = rng.random(_shape_args(shape))
    return Tensor(data.astype(dtype or _default_dtype), requires_grad=requires_grad)
