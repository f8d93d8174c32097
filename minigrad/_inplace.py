"""In-place operations and views: how `t.add_(x)`, `t[i] = v`, `t.zero_()` change a tensor's
storage while keeping every gradient right (PyTorch's semantics: version counters, rebasing the
graph onto the new value, views that see and propagate writes)."""

from __future__ import annotations

import numbers
import weakref
from typing import Any

import numpy as np

from . import _tensor, dtypes, ops
from ._tensor import (
    STATE,
    Tensor,
    _constant,
    _ViewOf,
    _wrap,
    apply,
)
from .engine import Version, bump, evict, stamp, user_frame

# ---- views --------------------------------------------------------------------------------

def link_view(out: Tensor, base: Tensor, op: type[ops.Op], saved: Any) -> None:
    """Make `out` a view of `base`'s storage (if numpy made it one): it shares the version
    counter, and in-place ops on either keep both graphs right."""
    if not np.may_share_memory(out._data, base._data):
        return
    root = base._view.base if base._view is not None else base
    chain = (base._view.chain if base._view is not None else ()) + ((op, saved),)
    if root._ver is None:
        root._ver = Version()
    out._ver = root._ver
    out._view = _ViewOf(root, chain, STATE.grad_enabled)
    # A grad leaf's graph never changes in place, nor does an integer or bool tensor's (it
    # never requires grad): only other views need their graph redone after an in-place op.
    if not (root._op is None and root._rg) and root._data.dtype.kind in "fc":
        views = root._ver.views
        if views is None:
            views = root._ver.views = weakref.WeakSet()
        views.add(out)


# The graph fields an in-place op moves out of a tensor into its old version.
_NODE_FIELDS = ("_op", "_parents", "_needs", "_saved", "_mark", "_scope", "_seq", "_rg",
                "_data", "_ver", "_view", "_g")


def inplace(t: Tensor, op: type[ops.Op], other: Any = None, saved: Any = None) -> Tensor:
    """Run `op` with `t` as its first input and write the result into `t`'s storage.

    As PyTorch: the storage's version goes up (saved copies of it become stale, and backward
    through them raises); if the op is recorded, `t` becomes the op's output node and its
    old node moves into a new object for the ops that used it before; an in-place op on a
    view also rewrites its base's graph (CopySlices); a leaf that requires grad may only be
    changed under `no_grad` (or through `.data`).
    """
    if STATE.tracer is None and t._view is None and t._extra is None:
        done = _inplace_fast(t, op, other, saved)
        if done:
            return t
    if other is None:
        others: tuple = ()
    elif type(other) is tuple:
        others = tuple(o if isinstance(o, Tensor) else _constant(o, _operand_dtype(t, o))
                       for o in other)
    elif isinstance(other, Tensor):
        others = (other,)
    else:
        others = (_constant(other, _operand_dtype(t, other)),)
    if t._extra is not None and t._extra.get("inference") and not STATE.inference:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")
    dt = t._data.dtype
    if op is not ops.SetItem and op is not ops.CopySlices:
        if op is ops.Div and dt.kind != "f" or any(o._data.dtype != dt for o in others):
            _check_castable(t, op, others)    # promotion may not widen t's category
    target = t._data[fill_written(op, saved, others)] if op is ops.SetItem else t._data
    for o in others:
        if o is not t and np.may_share_memory(o._data, t._data) \
                and not _same_layout(o._data, target):
            raise RuntimeError("unsupported operation: some elements of the input tensor and "
                               "the written-to tensor refer to a single memory location. "
                               "Please clone() the tensor before performing the operation.")
    record_it = False
    if STATE.grad_enabled:
        view = t._view
        record_it = op.differentiable and (t._rg or any(o._rg for o in others))
        if t._rg or record_it or (view is not None and view.base._rg):
            _check_inplace_allowed(t, view)
    snapshot = None
    if record_it:
        needs = (t._rg,) + tuple(o._rg for o in others)
        snapshot = _wrap(t._data.copy())      # the old version's values (rules, pictures)
        if STATE.tracer is not None:
            STATE.tracer.record(snapshot, ops.Clone, (t,), None)
        before = stamp()                      # the operands are read as of now
    if STATE.tracer is not None:
        STATE.tracer.before_write(t)
    _write(t, op, t._data, others, saved)
    ver = t._ver
    when = bump(ver if ver is not None else _new_version(t))
    if record_it:
        if t._view is not None:
            _rebase_view(t, op, others, saved, needs, when, snapshot, before)
        else:
            _rebase(t, op, others, saved, needs, when, snapshot, before)
        _regenerate_views(t)
    if STATE.tracer is not None:
        STATE.tracer.record_inplace(t, op, others, saved)
    return t


def _inplace_fast(t: Tensor, op: type[ops.Op], other: Any, saved: Any) -> bool:
    """The common in-place update done at once, when nothing is recorded and nothing needs
    checking (what `inplace` would do, in fewer steps): a float tensor, not a view, that
    owns its memory, updated by a ufunc op with a float number or a tensor of its own dtype
    and shape that does not overlap it (SGD's `p.add_(g, alpha=-lr)`), or an integer tensor
    by an int (`count.add_(1)`). Returns False (nothing done) in every other case."""
    out = t._data
    if op.ufunc is None or not out.flags.writeable:
        return False
    if out.dtype.kind != "f":                # integers: counting (`count.add_(1)`)
        if type(other) is not int or out.dtype.kind not in "iu" or saved is not None \
                or op not in (ops.Add, ops.Sub, ops.Mul):
            return False
    if isinstance(other, Tensor):
        if other._rg and STATE.grad_enabled or other._extra is not None:
            return False
        b = other._data
        if b.dtype != out.dtype or b.shape != out.shape or b is out:
            return False
        if (b.base is not None or out.base is not None) and np.may_share_memory(b, out):
            return False                      # (two arrays that own their memory never overlap)
    elif type(other) is float or type(other) is int:
        b = other
    else:
        return False
    if t._rg and STATE.grad_enabled or out.base is not None and 0 in out.strides:
        return False                          # (an array that owns its memory has no 0 stride)
    if saved is None:
        op.ufunc(out, b, out=out)
    elif op is ops.Add and type(saved) is float:
        np.add(out, b * saved, out=out, casting="unsafe")
    else:
        return False
    ver = t._ver
    bump(ver if ver is not None else _new_version(t))
    return True


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    """The same elements in the same places (`a.add_(a)` is fine; `a[1:].add_(a[:2])` not)."""
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _check_castable(t: Tensor, op: type[ops.Op], others: tuple) -> None:
    """PyTorch's rule: an in-place result may not be of a higher category than the tensor
    (a float result into an integer tensor, an integer into a bool tensor)."""
    dt = t._data.dtype
    result = dtypes.result_type(t, *others, default_float=_tensor._default_dtype)
    if op is ops.Div and result.kind != "f":
        result = _tensor._default_dtype
    if dtypes.category(result) > dtypes.category(dt):
        raise RuntimeError(f"result type {dtypes.scalar_name(result)} can't be cast to "
                           f"the desired output type {dtypes.scalar_name(dt)}")


def _operand_dtype(t: Tensor, o: Any) -> Any:
    """The dtype a non-tensor operand of an in-place op becomes: a number joins `t`'s dtype
    when it fits its category (PyTorch's wrapped numbers); otherwise its own."""
    kind = t._data.dtype.kind
    if isinstance(o, bool | np.bool_) or (isinstance(o, numbers.Integral) and kind in "iuf") \
            or (isinstance(o, numbers.Real) and kind == "f"):
        return t._data.dtype
    return None


def _new_version(t: Tensor) -> Version:
    t._ver = Version()
    return t._ver


def _check_inplace_allowed(t: Tensor, view: _ViewOf | None) -> None:
    if view is None:
        if t._op is None and t._rg:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return
    if not view.grad_mode:
        raise RuntimeError("A view was created in no_grad mode and is being modified inplace "
                           "with grad mode enabled. Given that this use case is ambiguous and "
                           "error-prone, it is forbidden. You can clarify your code by moving "
                           "both the view and the inplace either both inside the no_grad "
                           "block (if you don't want the inplace to be tracked) or both "
                           "outside (if you want the inplace to be tracked).")
    base = view.base
    if base._op is None and base._rg:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if view.multi:
        raise RuntimeError(f"Output {view.multi[1]} of {view.multi[0]} is a view and is being "
                           f"modified inplace. This view is the output of a function that "
                           f"returns multiple views. Such functions do not allow the output "
                           f"views to be modified inplace. You should replace the inplace "
                           f"operation by an out-of-place one.")


def _write(t: Tensor, op: type[ops.Op], out: np.ndarray, others: tuple, saved: Any) -> None:
    """Compute `op` on (t, *others) into `t`'s storage `out` (a ufunc with out=, the op's own
    `inplace`, else forward and a copy)."""
    try:
        if not out.flags.writeable:
            raise _ReadOnly
        if 0 in out.strides:               # an expanded tensor: check what is written
            written = out[fill_written(op, saved, others)] if op is ops.SetItem else out
            if any(st == 0 and n > 1 for st, n in zip(written.strides, written.shape)):
                raise _ReadOnly                 # several elements share one place
        if op.ufunc is not None and saved is None:
            if not others:
                op.ufunc(out, out=out)
                return
            if len(others) == 1:
                b = others[0]._data
                if b.dtype == out.dtype:
                    op.ufunc(out, b, out=out)
                    return
        ins = [out] + [o._data for o in others]
        if hasattr(op, "inplace"):
            op.inplace(out, ins, saved)
            return
        result = op.forward(ins, saved)
        if np.shape(result) != out.shape:
            raise ValueError(f"output with shape {list(out.shape)} doesn't match the "
                             f"broadcast shape {list(np.shape(result))}")
        np.copyto(out, result, casting="unsafe")
    except _ReadOnly:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.") from None
    except ValueError as err:
        text = str(err)
        if "non-broadcastable output" in text or "broadcast shape" in text:
            shapes = [out.shape] + [o._data.shape for o in others]
            raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(*shapes))}"
                               ) from None
        raise RuntimeError(f"{op.name}_: {text}") from None


def fill_written(op: type[ops.Op], template: Any, others: tuple) -> Any:
    """The part of the tensor a SetItem writes (its index, with index tensors filled in)."""
    index = ops.fill_index(template, [o._data for o in others[1:]])
    return index if ops.basic_index(index) else ...


class _ReadOnly(Exception):
    pass


def _graph_of(t: Tensor, op: type[ops.Op], parents: tuple, needs: tuple, saved: Any,
              snapshot: Tensor | None, before: int | None) -> None:
    """Make `t` the node of `op` on `parents` (its data is already the result). For an
    in-place op, `snapshot` holds t's old values (what the rule reads as its input 0) and
    `before` the stamp as of which the other inputs were read (a change by the op's own write
    then shows as a change of a saved input, as in PyTorch: `a *= a` cannot be derived)."""
    t._op = op
    t._parents = parents
    t._needs = needs
    t._saved = saved
    t._g = None
    t._mark = 0
    t._scope = STATE.scope
    t._rg = True
    if before is None:
        t._seq = stamp()
    else:                       # made before its own write, which its output reads after
        t._seq = before
        t._extra["written_at"] = stamp()
    if snapshot is not None and op.reads(needs)[0]:
        t._extra["saved_ins"] = (snapshot,) + parents[1:]
    if STATE.anomaly:
        t._extra["created_at"] = user_frame()


def _rebase(t: Tensor, op, others, saved, needs, when, snapshot, before) -> None:
    old = evict(t, when, _NODE_FIELDS)
    old._grad = None
    if snapshot is not None:
        old._extra = dict(old._extra or {}, snapshot=snapshot)
    if t._op is None:                   # a constant leaf becomes a node: no .grad of its own
        t._grad = None
    parents = (old,) + tuple(old if o is t else o for o in others)
    _graph_of(t, op, parents, needs, saved, snapshot, before)


def _rebase_view(t: Tensor, op, others, saved, needs, when, snapshot, before) -> None:
    """An in-place op on a view: the view becomes the op's output, and its base becomes
    CopySlices(old base, view) so that everything computed from the base sees the change."""
    base = t._view.base
    chain = t._view.chain
    old_t = evict(t, when, _NODE_FIELDS)
    old_t._grad = None
    parents = (old_t,) + tuple(old_t if o is t else o for o in others)
    _graph_of(t, op, parents, needs, saved, snapshot, before)
    old_base = evict(base, when, _NODE_FIELDS)
    old_base._grad = None
    _graph_of(base, ops.CopySlices, (old_base, t), (old_base._rg, True), chain, None, None)


def _regenerate_views(t: Tensor) -> None:
    """After the graph of a storage changed in place, every other live view of it follows
    the base's new node (PyTorch regenerates a view's grad_fn the same way)."""
    root = t._view.base if t._view is not None else t
    views = root._ver.views if root._ver is not None else None
    if not views:
        return
    for v in list(views):
        if v is t or v._view is None or v._view.base is not root or not v._view.grad_mode:
            continue
        x = root
        for op, saved in v._view.chain:
            x = apply(op, (x,), saved)
        if not x._rg:
            continue
        if v._op is not None or v._rg:
            evict(v, root._ver.stamps[-1], _NODE_FIELDS)._grad = None
        for f in ("_op", "_parents", "_needs", "_saved", "_mark", "_scope", "_seq", "_rg"):
            setattr(v, f, getattr(x, f))
        v._g = None



def zero_grads(params: Any, set_to_none: bool = True) -> None:
    """Reset the gradients of `params`: to None (default), or to zeros in place (what
    `Module.zero_grad` and `Optimizer.zero_grad` do)."""
    tracer = STATE.tracer
    params = list(params)
    if tracer is not None:
        tracer.note_grads(params)
        tracer.guard_grads_at_start(params)
    for p in params:
        g = p._grad
        if set_to_none or g is None:
            p._grad = None
            if tracer is not None:
                tracer.set_grad(p, None)
        elif g._op is not None or g._rg:          # a grad with a graph: replace it
            p._grad = _wrap(np.zeros(p._data.shape, dtype=p._data.dtype))
        elif tracer is not None:
            inplace(g, ops.SetItem, _constant(0.0, g._data.dtype), Ellipsis)
        else:
            g._data[...] = 0
            if g._ver is not None:
                bump(g._ver)


