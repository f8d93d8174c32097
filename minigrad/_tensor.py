"""`Tensor`: the numpy-backed front end of the engine, in PyTorch's dialect.

A Tensor wraps one ndarray (any of minigrad's dtypes: floats, integers, bool). Ops on tensors
that require grad record a node (see engine.py); the derivatives live in ops/, and the
functions and methods (`minigrad.sum` and `Tensor.sum`, ...) are declared once in
`minigrad/functions/` and bound to both names.

What this file holds: the class itself (data, grad, the engine's hooks, operators), `apply`
(run an op and record it), the in-place machinery (`inplace`: version counters, rebasing the
graph, writing through views) and views (`link_view`).

dtype rules (PyTorch's): Python floats, and integer or bool input to `Tensor(...)`, give the
default dtype (float64 here, see `set_default_dtype`); `tensor(...)` infers int64 from Python
ints and bool from bools; numpy arrays keep their dtype; ops promote as PyTorch does
(`dtypes.result_type`); a Python number never widens a tensor (float32 * 2.5 is float32).
"""

from __future__ import annotations

import numbers
import operator
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import dtypes, ops
from .engine import (
    STATE,
    Node,
    check_inference,
    leaf,
    mark_inference,
    record,
    run_backward,
    stamp,
)

_default_dtype = np.dtype(np.float64)


def set_default_dtype(d: Any) -> None:
    """The dtype Python floats become (float32 or float64; minigrad's default is float64,
    PyTorch's float32)."""
    global _default_dtype
    nd = dtypes.to_numpy(d)
    if nd.kind != "f" or nd.itemsize < 4:
        raise TypeError(f"set_default_dtype: only float32 or float64, got {nd}")
    _default_dtype = nd


def get_default_dtype() -> dtypes.dtype:
    return dtypes.from_numpy_dtype(_default_dtype)


def default_float() -> np.dtype:
    return _default_dtype


class Size(tuple):
    """A tensor's shape: a tuple of ints (`t.shape`, `t.size()`), as torch.Size."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, i: Any) -> Any:
        out = tuple.__getitem__(self, i)
        return Size(out) if isinstance(i, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


class _ViewOf:
    """What makes a tensor a view: its root base, the ops from the base to it, and whether
    grad mode was on when it was made (PyTorch forbids recorded in-place ops otherwise)."""

    __slots__ = ("base", "chain", "grad_mode", "multi")

    def __init__(self, base: Tensor, chain: tuple, grad_mode: bool, multi: str = "") -> None:
        self.base = base
        self.chain = chain
        self.grad_mode = grad_mode
        self.multi = multi


class Tensor(Node):
    """An n-dimensional array that records the ops applied to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad            # d(sum x^2)/dx = 2x
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_grad", "_rg", "_ver", "_view")
    __hash__ = Node.__hash__      # identity, though == is elementwise
    _shaped = True
    _raw = operator.attrgetter("_data")    # the slot itself, not the `.data` property
    is_cuda = False
    is_sparse = False
    is_quantized = False

    def __init__(self, data: Any = (), requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        if isinstance(data, Tensor) and dtype is None:
            arr = data._data                  # the legacy constructor aliases a tensor
        else:
            arr = as_array(data, dtype, infer=False, what="Tensor")
        self._data = arr
        self._grad = None
        self._rg = False
        self._ver = None
        self._view = None
        leaf(self)
        if requires_grad:
            self.requires_grad = True
        if label:
            self.label = label

    # ---- requires_grad, leaves, grad_fn -------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self._op is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if value and self._extra is not None and self._extra.get("inference") \
                and not STATE.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(this one is {dtypes.from_numpy_dtype(self._data.dtype)})")
        self._rg = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def grad_fn(self) -> Any:
        """The node that made this tensor, PyTorch-style (`name()`, `next_functions`), or
        None for a leaf."""
        if self._op is None:
            return None
        from .autograd.graph import grad_fn_of
        return grad_fn_of(self)

    # ---- the engine's hooks -------------------------------------------------------------
    def _arrive(self, g: Any, create_graph: bool, store: bool) -> Any:
        extra = self._extra
        if extra is not None and "hooks" in extra:
            for hook in list(extra["hooks"].values()):
                replaced = hook(g if create_graph else _wrap(np.asarray(g)))
                if replaced is not None:
                    g = replaced if create_graph else self._check_grad(replaced, "hook")
        if store and (self._op is None or (extra is not None and extra.get("retain"))):
            tracer = STATE.tracer
            if tracer is not None and not STATE.grad_enabled:   # compile: as ops, in place
                tracer.note_grads((self,))
                if self._grad is None:
                    self._grad = g.clone() if g._data.dtype == self._data.dtype else \
                        g.to(self._data.dtype)
                    tracer.set_grad(self, self._grad)
                else:
                    self._grad.add_(g)
                    tracer.set_grad(self, self._grad)
            elif create_graph:
                self._grad = g if self._grad is None else self._grad + g
            elif self._take(g, g, (g,), False):   # g may be held elsewhere: borrowed
                self._own_grad()
        return g

    def _take(self, share: Any, upstream: Any, shares: tuple, borrowed: bool) -> bool:
        """Add one share of a plain backward to the leaf's .grad at once (the engine calls
        this for leaves without hooks). Returns True while .grad holds a borrowed array.

        The first share is kept as it is. It is the leaf's own when nothing else can hold it
        (a fresh array, not the node's upstream gradient, not a view, not sent twice); otherwise
        it is borrowed: the next share makes a new sum that is ours, and if none comes the
        engine calls `_own_grad` at the end. So .grad is always the leaf's own array, and a
        gradient made of two shares costs one new array, not a copy plus an add. The .grad
        Tensor object stays the same across backwards (as PyTorch's accumulates in place)."""
        acc = self._grad
        dtype = self._data.dtype
        if acc is None:
            if type(share) is not np.ndarray or share.dtype != dtype:
                self._grad = _wrap(np.array(share, dtype=dtype))
                return False
            self._grad = _wrap(share)
            return not (share.base is None and share is not upstream
                        and _sent_once(share, shares))
        total = acc._data
        if acc._op is not None or acc._rg:      # a grad with a graph (create_graph): detach
            self._grad = acc = _wrap(np.array(total, dtype=dtype))
            total = acc._data
        if borrowed or total.size <= 4096:
            # numpy's in-place add costs ~2x a plain add on tiny arrays (measured): a new sum,
            # kept in the same .grad Tensor
            total = total + share
            if type(total) is not np.ndarray:       # 0-d arrays add up to a numpy scalar
                total = np.asarray(total)
            acc._data = total if total.dtype == dtype else total.astype(dtype)
        else:
            np.add(total, share, out=total, casting="unsafe")   # in place: no new big array
        return False

    def _own_grad(self) -> None:
        """Replace a borrowed .grad array by a copy (see `_take`)."""
        self._grad._data = np.array(self._grad._data, dtype=self._data.dtype)

    def _check_grad(self, g: Any, what: str) -> np.ndarray:
        g = np.asarray(g._data if isinstance(g, Tensor) else g)
        if g.shape != self._data.shape:
            raise ValueError(f"{what}: gradient of shape {g.shape} for a tensor of shape "
                             f"{self._data.shape}")
        return g.astype(self._data.dtype, copy=False)

    def _apply(self, op: type[ops.Op], ins: Any, saved: Any) -> Tensor:
        """`op` on `ins` (Tensors and arrays): the hook rules use on the create_graph path."""
        return apply(op, tuple(x if isinstance(x, Tensor) else _constant(x, None)
                               for x in ins), saved)

    def _scatter(self, index: Any, shape: tuple[int, ...]) -> Tensor:
        return apply(ops.Scatter, (self,), (index, shape))

    # ---- data, grad ---------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same storage as a new leaf outside the graph, with a version counter of its
        own: in-place changes through `.data` are not tracked (as PyTorch). (An earlier
        version of a tensor changed in place, reached through a graph, shows its own values.)"""
        extra = self._extra
        if extra is not None and "snapshot" in extra:
            return extra["snapshot"]
        t = _wrap(self._data)
        t._label = self.label
        if STATE.tracer is not None:
            STATE.tracer.alias(t, self)
        return t

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has had (shared with its views)."""
        return 0 if self._ver is None else self._ver.count

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else as_array(value, self._data.dtype)
        self._data = arr

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None.
        Reading it on a non-leaf that does not retain its gradient warns, as PyTorch does."""
        if self._grad is None and self._op is not None and not (
                self._extra and self._extra.get("retain")):
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                          "accessed. Its .grad attribute won't be populated during "
                          "autograd.backward(). If you indeed want the .grad field to be "
                          "populated for a non-leaf Tensor, use .retain_grad() on the non-leaf "
                          "Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        if isinstance(value, Tensor):
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value._data.shape)} for a tensor of size "
                                   f"{list(self._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value.dtype} for a tensor of {self.dtype}")
            self._grad = value
            return
        self._grad = _wrap(np.array(self._check_grad(value, "Tensor.grad")))

    # ---- shape, dtype, device -----------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape as a `Size`, or the length of dimension `dim`."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> Any:
        from .device import CPU
        return CPU

    @property
    def T(self) -> Tensor:
        """The dims reversed (PyTorch deprecates it beyond 2-D; here it reverses them all)."""
        nd = self._data.ndim
        if nd < 2:
            return self
        return apply(ops.Transpose, (self,), tuple(range(nd - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802  (PyTorch's name)
        """The last two dims swapped (a batch of matrices transposed)."""
        nd = self._data.ndim
        if nd < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of "
                               f"matrices. Got {nd}-D tensor.")
        return apply(ops.Transpose, (self,),
                     ops.named(tuple(range(nd - 2)) + (nd - 1, nd - 2), "TransposeBackward0"))

    # ---- gradients ----------------------------------------------------------------------
    def retain_grad(self) -> None:
        """Keep (accumulate) this non-leaf tensor's gradient in `.grad` during backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._op is not None:
            self._extras()["retain"] = True

    @property
    def retains_grad(self) -> bool:
        return bool(self._extra and self._extra.get("retain"))

    def register_hook(self, fn: Callable[[Any], Any]) -> _HookHandle:
        """Call `fn(grad)` when this tensor's gradient is computed; a non-None return value
        replaces the gradient (for storing and for sending further back)."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        hooks = self._extras().setdefault("hooks", {})
        handle = _HookHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def _extras(self) -> dict:
        if self._extra is None:
            self._extra = {}
        return self._extra

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) * gradient into the `.grad` of every leaf that requires
        grad (or only of `inputs`). `gradient` defaults to 1 and is required when self has
        more than one element."""
        if not self._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        seed = _seed(self, gradient, "backward")
        if STATE.tracer is not None:
            STATE.tracer.differentiated(self)
            seed = _constant(seed, None)
        elif create_graph:
            seed = _wrap(seed)
        retain = create_graph if retain_graph is None else retain_graph
        if inputs is None:
            run_backward(self, seed, retain, create_graph)
            return
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        got = run_backward(self, seed, retain, create_graph, inputs)
        for t in inputs:
            g = got.get(id(t))
            if g is not None:
                g = g if isinstance(g, Tensor) else _wrap(np.array(g, dtype=t._data.dtype))
                t._grad = g if t._grad is None else t._grad + g
                if STATE.tracer is not None:
                    STATE.tracer.set_grad(t, t._grad)

    # ---- Python protocols ---------------------------------------------------------------
    def __repr__(self) -> str:
        from ._format import tensor_repr
        return tensor_repr(self)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return self.__repr__().__format__(spec)

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __contains__(self, x: Any) -> bool:
        return bool(np.any(self._data == _raw(x)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is "
                               f"ambiguous (shape {tuple(self._data.shape)})")
        if STATE.tracer is not None:
            STATE.tracer.reads_value(self, "bool()")
        return bool(self._data)

    def item(self) -> Any:
        """The one element as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        if STATE.tracer is not None:
            STATE.tracer.reads_value(self, ".item()")
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if STATE.tracer is not None:
            STATE.tracer.reads_value(self, "numpy's view of a tensor (np.asarray)")
        arr = self._data
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError("__array__: a dtype change needs a copy, but copy=False")
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy functions on tensors: the ufuncs minigrad has an op for run as that op
        (`ndarray * t` and `np.exp(t)` give Tensors in the graph, as with PyTorch's tensors);
        other ufuncs (and `out=`, reductions) run on the data and give plain results."""
        if method == "__call__" and not kwargs:
            fn = _UFUNCS.get(ufunc.__name__)
            if fn is not None:
                return fn(*inputs)
        raw = [x._data if isinstance(x, Tensor) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o._data if isinstance(o, Tensor) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*raw, **kwargs)
        if method == "__call__" and isinstance(result, np.ndarray) and "out" not in kwargs:
            return _wrap(result)
        return result

    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as an ndarray sharing this tensor's memory (changes show on both sides
        and are not tracked by autograd, as PyTorch). `force=True` allows it also for a tensor
        that requires grad (as `detach().numpy()`)."""
        if STATE.tracer is not None:
            STATE.tracer.reads_value(self, ".numpy()")
        if force:
            return self._data
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def tolist(self) -> Any:
        if STATE.tracer is not None:
            STATE.tracer.reads_value(self, ".tolist()")
        return self._data.tolist()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("minigrad tensors are not pickled; use minigrad.save (npz)")

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A leaf's copy with its own storage (and a copy of its .grad), as PyTorch's."""
        if self._op is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        if id(self) in memo:
            return memo[id(self)]
        new = _new(type(self))
        for f in ("_grad", "_ver", "_view"):
            setattr(new, f, None)
        new._data = self._data.copy()
        new._rg = self._rg
        leaf(new)
        if self._grad is not None:
            new._grad = _wrap(self._grad._data.copy())
        if self.label:
            new.label = self.label
        memo[id(self)] = new
        return new

    def __copy__(self) -> Tensor:
        return self.__deepcopy__({})

    # ---- arithmetic ---------------------------------------------------------------------
    # A Python float or int with a float tensor stays inside the op (`x * 0.5` is one node
    # that remembers 0.5, as for Values); numpy keeps the tensor's dtype (NEP 50). Anything
    # else goes through `binary`, which promotes as PyTorch does.
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.dtype is self._data.dtype:
            return apply(ops.Add, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.AddConst, (self,), other)
        return binary(ops.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.AddConst, (self,), other)
        return binary(ops.Add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.dtype is self._data.dtype \
                and self._data.dtype.kind != "b":
            return apply(ops.Sub, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.SubConst, (self,), other)
        return binary(ops.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.RSubConst, (self,), other)
        return binary(ops.Sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.dtype is self._data.dtype:
            return apply(ops.Mul, (self, other))
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.MulConst, (self,), other)
        return binary(ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.MulConst, (self,), other)
        return binary(ops.Mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor) and other._data.dtype is self._data.dtype \
                and self._data.dtype.kind == "f":
            return apply(ops.Div, (self, other))
        return binary(ops.Div, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            # c / x = reciprocal(x) * c, as PyTorch computes it
            return apply(ops.MulConst, (apply(ops.Reciprocal, (self,)),), other)
        return binary(ops.Div, other, self)

    def __pow__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.PowConst, (self,), other)
        return binary(ops.Pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and self._data.dtype.kind == "f":
            return apply(ops.RPowConst, (self,), other)
        return binary(ops.Pow, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return binary(ops.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return binary(ops.MatMul, other, self)

    def __neg__(self) -> Tensor:
        if self._data.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return apply(ops.Neg, (self,))

    def __pos__(self) -> Tensor:
        return self

    # ---- in-place operators (PyTorch updates the tensor itself) --------------------------
    def __iadd__(self, other: Any) -> Tensor:
        return inplace(self, ops.Add, other)

    def __isub__(self, other: Any) -> Tensor:
        return inplace(self, ops.Sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return inplace(self, ops.Mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return inplace(self, ops.Div, other)

    def __ipow__(self, other: Any) -> Tensor:
        return inplace(self, ops.Pow, other)

    # ---- indexing -----------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Tensor:
        template, arrays = to_index(index)
        try:
            self._data[ops.fill_index(template, [a._data for a in arrays])]
        except (IndexError, ValueError, TypeError) as err:
            raise IndexError(f"getitem: bad index for a tensor of shape "
                             f"{tuple(self._data.shape)}: {err}") from None
        return apply(ops.GetItem, (self, *arrays), template)

    def __setitem__(self, index: Any, value: Any) -> None:
        template, arrays = to_index(index)
        value = value if isinstance(value, Tensor) else _constant(value, self._data.dtype)
        try:
            picked = self._data[ops.fill_index(template, [a._data for a in arrays])].shape
            if np.broadcast_shapes(value._data.shape, picked) != picked:
                raise ValueError
        except (IndexError, TypeError) as err:
            raise IndexError(f"setitem: bad index for a tensor of shape "
                             f"{tuple(self._data.shape)}: {err}") from None
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape "
                               f"{list(value._data.shape)} cannot be broadcast to indexing "
                               f"result of shape {list(picked)}") from None
        inplace(self, ops.SetItem, (value, *arrays), template)


def _ufunc_table() -> dict[str, Callable]:
    """numpy ufunc name -> how minigrad computes it on tensors (operators and functions)."""
    def t(x: Any) -> Tensor:
        return x if isinstance(x, Tensor) else _constant(x, None)

    table: dict[str, Callable] = {
        "add": lambda a, b: t(a) + b, "subtract": lambda a, b: t(a) - b,
        "multiply": lambda a, b: t(a) * b, "true_divide": lambda a, b: t(a) / b,
        "divide": lambda a, b: t(a) / b, "power": lambda a, b: t(a) ** b,
        "matmul": lambda a, b: t(a) @ b, "negative": lambda a: -t(a),
        "floor_divide": lambda a, b: t(a) // b, "remainder": lambda a, b: t(a) % b,
        "less": lambda a, b: t(a) < b, "less_equal": lambda a, b: t(a) <= b,
        "greater": lambda a, b: t(a) > b, "greater_equal": lambda a, b: t(a) >= b,
        "equal": lambda a, b: t(a) == b, "not_equal": lambda a, b: t(a) != b,
    }
    for name, method in (("absolute", "abs"), ("exp", "exp"), ("log", "log"),
                         ("sqrt", "sqrt"), ("tanh", "tanh"), ("sin", "sin"), ("cos", "cos"),
                         ("log1p", "log1p"), ("expm1", "expm1"), ("sign", "sign"),
                         ("floor", "floor"), ("ceil", "ceil"), ("trunc", "trunc"),
                         ("isnan", "isnan"), ("isfinite", "isfinite"), ("isinf", "isinf")):
        table[name] = (lambda m: lambda a: getattr(t(a), m)())(method)
    table["maximum"] = lambda a, b: t(a).maximum(t(b))
    table["minimum"] = lambda a, b: t(a).minimum(t(b))
    return table


_UFUNCS = _ufunc_table()


class _HookHandle:
    _next = 0

    def __init__(self, hooks: dict) -> None:
        _HookHandle._next += 1
        self.id = _HookHandle._next
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


_new = object.__new__


def _sent_once(share: Any, shares: tuple) -> bool:
    """True if `share` is in `shares` at most once (by identity: a rule may send one array
    twice; a share the engine made after the rule, summing back a broadcast, is not there)."""
    seen = 0
    for other in shares:
        if other is share:
            seen += 1
    return seen <= 1


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _dim(d: Any, ndim: int, what: str) -> int:
    d = int(d)
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{what}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {d})")
    return d % n


def _wrap(arr: np.ndarray) -> Tensor:
    """A leaf Tensor around `arr` (no copy, no checks): gradients, constants, `.data`."""
    t = _new(Tensor)
    t._data = arr
    t._grad = None
    t._rg = False
    t._ver = None
    t._view = None
    t._op = None
    t._parents = ()
    t._needs = ()
    t._saved = None
    t._g = None
    t._mark = 0
    t._scope = STATE.scope
    t._extra = None
    t._seq = 0
    if STATE.inference:
        mark_inference(t)
    if STATE.tracer is not None:
        STATE.tracer.made(arr)
    return t


def constant_leaf(arr: np.ndarray) -> Tensor:
    """A leaf around an array made from Python values, not from any tensor's data (what
    `minigrad.compile` may bake into a program as a constant)."""
    if STATE.tracer is not None:
        STATE.tracer.constant(arr)
    return _wrap(arr)


def _constant(x: Any, dtype: Any) -> Tensor:
    """A leaf holding a number or an array (a copy, so a later change of the caller's array
    cannot change a gradient) as `dtype` (None: PyTorch's inference)."""
    if isinstance(x, Tensor):
        if dtype is None or x._data.dtype == dtype:
            return x
        return cast(x, np.dtype(dtype))
    arr = as_array(x) if dtype is None else np.array(x, dtype=dtype, copy=True)
    if STATE.tracer is not None:
        STATE.tracer.constant(arr)
    return _wrap(arr)


# ---- running ops ------------------------------------------------------------------------------

def apply(op: type[ops.Op], parents: tuple, saved: Any = None) -> Tensor:
    """Run `op` forward on the parents' data and record the result as a node."""
    try:
        n = len(parents)                    # (the common arities spelled out: faster)
        if n == 1:
            data = op.forward([parents[0]._data], saved)
        elif n == 2:
            data = op.forward([parents[0]._data, parents[1]._data], saved)
        else:
            data = op.forward([p._data for p in parents], saved)
    except ValueError as err:
        shapes = " and ".join(str(tuple(p._data.shape)) for p in parents)
        raise RuntimeError(f"{op.name}: incompatible shapes {shapes} ({err})") from None
    out = _new(Tensor)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = None
    out._ver = None
    out._view = None
    if op.view and op.makes_view(saved):
        link_view(out, parents[0], op, saved)
    state = STATE
    if state.tracer is not None:
        state.tracer.record(out, op, parents, saved)
    if state.grad_enabled and op.differentiable:
        if n == 1:
            needs = _ONE if parents[0]._rg else None
        elif n == 2:
            r0, r1 = parents[0]._rg, parents[1]._rg
            needs = (r0, r1) if r0 or r1 else None
        else:
            needs = tuple(p._rg for p in parents)
            if True not in needs:
                needs = None
        if needs is not None:
            out._rg = True
            if state.inference_made:
                check_inference(parents, op, needs)
            if state.anomaly:
                record(out, op, parents, needs, saved)
            else:                           # record(), inlined: this is the hot path
                out._op = op
                out._parents = parents
                out._needs = needs
                out._saved = saved
                out._g = None
                out._mark = 0
                out._scope = state.scope
                out._extra = None
                out._seq = stamp()
            return out
    out._rg = False
    leaf(out)
    return out


_ONE = (True,)


def binary(op: type[ops.Op], a: Any, b: Any) -> Tensor:
    """`op` on two operands (Tensors, numbers, arrays), promoted as PyTorch promotes them;
    a float op (`/`, `**` with a negative exponent) on integers gives the default float."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return NotImplemented
    if not _operand_ok(a) or not _operand_ok(b):
        return NotImplemented
    target = dtypes.result_type(a, b, default_float=_default_dtype)
    if target.kind == "b" and op is ops.Sub:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if op is ops.Div and target.kind != "f":
        target = _default_dtype
    return apply(op, (cast(a, target), cast(b, target)))


def _operand_ok(x: Any) -> bool:
    return isinstance(x, Tensor | np.ndarray | numbers.Number | np.generic)


def cast(x: Any, target: np.dtype) -> Tensor:
    """`x` as a Tensor of dtype `target`: numbers and arrays become constants (a copy); a
    tensor that requires grad goes through the differentiable `Cast` op."""
    if isinstance(x, Tensor):
        if x._data.dtype == target:
            return x
        if (x._rg and STATE.grad_enabled and target.kind == "f") or STATE.tracer is not None:
            return apply(ops.Cast, (x,), (x._data.dtype, target))
        return _wrap(x._data.astype(target))
    arr = np.array(x, dtype=target, copy=True)
    if STATE.tracer is not None:
        STATE.tracer.constant(arr)
    return _wrap(arr)


from ._convert import _seed, as_array, to_index  # noqa: E402, F401
from ._inplace import _new_version, inplace, link_view, zero_grads  # noqa: E402, F401
