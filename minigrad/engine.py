"""The graph engine shared by both front ends (`Value` and `Tensor`).

A node is the result of one primitive op. It keeps its parents (a tuple, in operand order),
the op that made it, and which parents wanted a gradient when it was made (`_needs`); the op
knows how to send a gradient to each parent (see `ops/`). `backward` walks the graph once in
reverse topological order, built with a loop (no recursion, so a chain of a million ops is
fine), and accumulates gradients with `+=`.

The engine's side of the contract with the front ends is the `Node` class below: every field
and method the engine touches is declared there. Two more mechanisms live here, once each:
- versions: every in-place change of a tensor's storage is stamped (`bump`); before a rule
  reads a saved value, `check_versions` makes sure it did not change since the op ran;
- rebasing: an in-place op recorded on a tensor moves the tensor's old node into a new object
  (`evict`), and ops recorded earlier find that object through the stamps (`resolved`).

Nothing here knows about nn, pictures or demos.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import operator
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from . import ops as _ops
from .ops import base as _ops_base
from .ops import sum_to


class _State:
    """Process-wide switches and counters."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "last_mutation", "evictions", "tracer",
                 "inference", "inference_made")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: Scope | None = None
        self.last_mutation = 0      # stamp of the latest in-place change of any tensor
        self.evictions = 0          # how many in-place ops were recorded in a graph
        self.tracer: Any = None     # minigrad.compile's recorder while it traces
        self.inference = False      # inside inference_mode: new tensors are inference tensors
        self.inference_made = 0     # how many were made (0: nothing to check)


STATE = _State()
_ops_base.grad_mode = lambda: STATE.grad_enabled      # what rules ask (see ops/base.py)

# Stamps: every recorded node and every in-place change takes the next number, so "was this
# storage changed after that node was made?" is one comparison.
stamp = itertools.count(1).__next__

# The visit mark a node gets once a backward (without retain_graph) has gone through it:
# its graph is released, and a second backward through it is an error, as in PyTorch.
RELEASED = -1

_RELEASED_MESSAGE = (
    "Trying to backward through the graph a second time (or to read saved values after they "
    "were released). The first backward released what the graph saved; pass "
    "retain_graph=True to the first backward if you need to call it again."
)


class Scope:
    """A named group of ops (e.g. one nn layer); scopes nest. Pictures draw one as a box."""

    __slots__ = ("name", "kind", "parent")

    def __init__(self, name: str, kind: str = "", parent: Scope | None = None) -> None:
        self.name = name
        self.kind = kind
        self.parent = parent

    def path(self) -> tuple[Scope, ...]:
        """Outermost scope first."""
        chain = []
        node: Scope | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    def __repr__(self) -> str:
        return f"Scope({'/'.join(s.name for s in self.path())!r})"


class scope:  # noqa: N801  (used like a function: `with scope("layer1"):`)
    """Mark every op recorded inside the block as belonging to the scope `name`.

    >>> with scope("layer1", kind="Linear"):
    ...     y = x * w            # y.scope.name == "layer1"
    """

    __slots__ = ("name", "kind", "_outer")

    def __init__(self, name: str, kind: str = "") -> None:
        self.name = name
        self.kind = kind

    def __enter__(self) -> Scope:
        self._outer = STATE.scope
        inner = STATE.scope = Scope(self.name, self.kind, self._outer)
        return inner

    def __exit__(self, *exc: object) -> None:
        STATE.scope = self._outer


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self._outer: list[bool] = []

    def __enter__(self) -> None:
        self._outer.append(STATE.grad_enabled)
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self._outer.pop()


def no_grad(func: Callable | None = None) -> Any:
    """Context manager and decorator (`@no_grad()` or `@no_grad`): ops inside record no
    graph (their results are leaves)."""
    mode = _GradMode(False)
    return mode if func is None else mode(func)


def enable_grad(func: Callable | None = None) -> Any:
    """Context manager and decorator: turn recording back on (e.g. inside `no_grad`)."""
    mode = _GradMode(True)
    return mode if func is None else mode(func)


class set_grad_enabled(_GradMode):  # noqa: N801  (PyTorch's name)
    """`set_grad_enabled(False)` as a context manager or decorator, or as a plain call that
    switches recording until switched back (as PyTorch)."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        super().__init__(mode)
        self._before = STATE.grad_enabled
        STATE.grad_enabled = self.enabled        # a plain call takes effect at once

    def __enter__(self) -> None:
        self._outer.append(self._before)
        STATE.grad_enabled = self.enabled

    def __call__(self, func: Callable) -> Callable:     # as a decorator: restore first
        STATE.grad_enabled = self._before
        return super().__call__(func)


class inference_mode(_GradMode):  # noqa: N801  (PyTorch's name)
    """`with inference_mode():` (or as a decorator) records no graph, as `no_grad`, and the
    tensors made inside are inference tensors (`is_inference()`): outside the mode they may not
    be saved by a recorded op, changed in place or made to require grad (clone them first),
    as in PyTorch. `inference_mode(False)` is a block with recording on (as enable_grad)."""

    def __init__(self, mode: Any = True) -> None:
        self._func = mode if callable(mode) else None
        self.mode = True if self._func is not None else bool(mode)
        super().__init__(False if self.mode else True)

    def __enter__(self) -> None:
        self._outer.append((STATE.grad_enabled, STATE.inference))
        STATE.grad_enabled = not self.mode       # mode=False turns recording on, as PyTorch
        STATE.inference = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled, STATE.inference = self._outer.pop()

    def __new__(cls, mode: Any = True) -> Any:
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):      # bare @inference_mode
            self.__init__(True)
            return self(mode)
        return self


def is_inference_mode_enabled() -> bool:
    return STATE.inference


def mark_inference(node: Node) -> None:
    """Make a tensor made inside inference_mode an inference tensor."""
    node._extra = {"inference": True}
    STATE.inference_made += 1


def check_inference(parents: tuple, op: Any, needs: tuple) -> None:
    """Outside inference_mode, a recorded op may not save an inference tensor."""
    reads = op.reads(needs)
    for p, r in zip(parents, reads):
        extra = p._extra
        if r and extra is not None and extra.get("inference"):
            raise RuntimeError("Inference tensors cannot be saved for backward. To work around "
                               "you can make a clone to get a normal tensor and use it in "
                               "autograd.")


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


@contextlib.contextmanager
def detect_anomaly(check_nan: bool = True) -> Iterator[None]:
    """Raise at the first op whose forward or backward makes NaN or Inf, and say where in the
    user's code each failing op (also one whose saved input changed in place) was created."""
    outer = STATE.anomaly
    STATE.anomaly = bool(check_nan) or True
    try:
        yield
    finally:
        STATE.anomaly = outer


def user_frame() -> str:
    """`file:line in function` of the innermost frame outside the minigrad package."""
    here = __file__.rsplit("/", 1)[0]
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(here):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


class Version:
    """The version record of a tensor's storage, shared by the tensor and its views:
    how many in-place changes it had, and the stamps of the latest ones."""

    __slots__ = ("count", "stamps", "views")
    KEEP = 256                        # stamps kept; older ones only count

    def __init__(self) -> None:
        self.count = 0
        self.stamps: list[int] = [0]
        self.views: Any = None        # a WeakSet of live views whose graph follows the base

    def at(self, when: int) -> int:
        """The version the storage had at stamp `when` (a lower bound once stamps were
        dropped)."""
        return self.count - (len(self.stamps) - bisect.bisect_left(self.stamps, when))


def bump(version: Version) -> int:
    """Record an in-place change of the storage; returns its stamp."""
    s = stamp()
    version.count += 1
    version.stamps.append(s)
    if len(version.stamps) > Version.KEEP:
        del version.stamps[: Version.KEEP // 2]
    STATE.last_mutation = s
    return s


class Node:
    """What both front ends share, and everything the engine uses of them.

    Fields: `_op` (None for a leaf), `_parents` (tuple, operand order), `_needs` (which
    parents wanted a gradient when the op ran), `_saved` (the op's parameters), `_g` (the sum
    of gradients arriving during one backward), `_mark` (the sort's visit mark; RELEASED once
    a backward went through without retain_graph), `_scope`, `_extra` (None or a dict of rare
    things: hooks, retain_grad, creation site, earlier versions after in-place ops), `_label`,
    `_seq` (creation stamp). Scalar nodes leave `_g`, `_extra`, `_label` and `_seq` unset,
    and keep their parents in two fields of their own, `_a` and `_b` (None for a one-input
    op), which `backward_scalar` reads; their `_parents` is a tuple made from those.
    """

    __slots__ = ("_op", "_parents", "_needs", "_saved", "_g", "_mark", "_scope", "_extra",
                 "_label", "_seq", "__weakref__")

    requires_grad: bool
    _shaped = False     # gradients have shapes: the engine un-broadcasts and casts them
    _scalar = False     # the engine stores the gradient in `.grad` itself (Value)
    _raw = operator.attrgetter("data")      # the raw value (float or ndarray) of a node
    _ver: Version | None = None              # storage version (tensors)

    # ---- the public node API (pictures, the stepper, graph tools read only this) ----------
    @property
    def label(self) -> str:
        """The user's name for this node ("" if none); pictures and the stepper show it."""
        try:
            return self._label
        except AttributeError:          # scalar nodes leave it unset until asked: faster
            return ""

    @label.setter
    def label(self, value: str) -> None:
        self._label = str(value)

    @property
    def op(self) -> str:
        """The name of the op that made this node ("" for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def parents(self) -> tuple:
        """The input nodes, in operand order (`a*a` has two); after an in-place op, the
        version of each input this node actually used."""
        return resolved(self)

    @property
    def scope(self) -> Scope | None:
        """The innermost `scope` this node was recorded in, or None."""
        return self._scope

    def describe(self) -> str:
        """The op's text for pictures: "*", "* 2", "sum(dim=0)"; "" for a leaf."""
        return "" if self._op is None else self._op.describe(self._saved)

    def rule(self) -> str:
        """The op's local derivative as text ("d(a*b)/da = b, ..."); "" for a leaf."""
        return "" if self._op is None else self._op.rule

    def expression(self, args: list[str]) -> str:
        """How this node is computed from its parents' names: "x*w", "mean(x, dim=0)"."""
        if self._op is None:
            return self.label
        return self._op.expression(list(args), self._saved)

    # ---- what the front ends implement ------------------------------------------------------
    def _arrive(self, g: Any, create_graph: bool, store: bool) -> Any:
        """Called once per backward when this node's total gradient `g` is known (leaves and
        nodes with hooks or retain_grad). With `store` it keeps `g` where the front end
        shows it. Returns the gradient to propagate (hooks may replace it)."""
        raise NotImplementedError

    def _take(self, share: Any, upstream: Any, shares: tuple, borrowed: bool) -> bool:
        """Add one share of a plain backward to a leaf's gradient (see Tensor._take)."""
        raise NotImplementedError

    def _own_grad(self) -> None:
        """Make a borrowed leaf gradient the leaf's own array (see Tensor._take)."""


_TRUE = (True, True, True)


def resolved(node: Node) -> tuple:
    """`node`'s parents, each as the version `node` used: an in-place op recorded after
    `node` was made moved the parent's old node into another object (`evict`)."""
    parents = node._parents
    if not STATE.evictions or node._scalar:
        return parents
    fixed = None
    for i, p in enumerate(parents):
        extra = getattr(p, "_extra", None)
        if extra is not None and "evicted" in extra:
            for when, old in extra["evicted"]:
                if node._seq < when:
                    fixed = fixed or list(parents)
                    fixed[i] = old
                    break
    if fixed is not None:
        node._parents = parents = tuple(fixed)      # resolved once for all later walks
    return parents


def evict(node: Node, when: int, fields: tuple[str, ...]) -> Node:
    """Move `node`'s current graph state (the `fields`) into a new object of its class, and
    remember that ops made before stamp `when` used that object. The caller then records the
    in-place op on `node` itself."""
    old = object.__new__(type(node))
    for f in fields:
        setattr(old, f, getattr(node, f))
    try:
        old._label = node._label
    except AttributeError:
        pass
    extra = node._extra
    history = extra.get("evicted", []) if extra else []
    old._extra = {k: v for k, v in extra.items() if k != "evicted"} or None if extra else None
    node._extra = {"evicted": [*history, (when, old)]}
    STATE.evictions += 1
    return old


_generation = itertools.count(1)


def toposort(root: Node, leaves: bool = True) -> list[Node]:
    """Nodes that need a gradient, inputs before outputs (root last), with an explicit stack.

    A node enters the order only after all its parents; a parent that needed no gradient
    when the op ran is not visited at all. With `leaves=False` the order has only the nodes
    some op made (the scalar backward sends leaf gradients straight to `.grad`).
    """
    gen = next(_generation)
    seen, done = 2 * gen, 2 * gen + 1      # marks of older passes are always smaller
    order: list[Node] = []
    stack = [root]
    push, pop, append = stack.append, stack.pop, order.append
    rebased = STATE.evictions and not root._scalar
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark < seen:                    # first visit: expand
            if mark == RELEASED and _reads_something(node):
                raise RuntimeError(_RELEASED_MESSAGE)
            node._mark = seen
            node._g = None
            parents = resolved(node) if rebased else node._parents
            needs = node._needs
            for i in range(len(parents) - 1, -1, -1):   # so leaves come out in operand order
                parent = parents[i]
                if needs[i] and parent._mark < seen:
                    if parent._parents:
                        push(parent)
                    elif leaves:           # a leaf: nothing to expand, it is done at once
                        parent._mark = done
                        parent._g = None
                        append(parent)
        else:
            pop()
            if mark == seen:               # all parents are done now
                node._mark = done
                append(node)
    return order


def _reads_something(node: Node) -> bool:
    """Whether the node's backward reads a saved value (PyTorch releases only those, so a
    second backward through nodes that read nothing, such as -x or a view, still runs)."""
    op = node._op
    if op is None or node._scalar:
        return False
    return op.reads_output or op.saves_value or any(op.reads(node._needs))


def _check_finite(node: Node, value: Any, what: str) -> None:
    import numpy as np

    arr = getattr(value, "_data", value)
    if not np.all(np.isfinite(arr)):
        where = (getattr(node, "_extra", None) or {}).get("created_at", "<unknown>")
        raise RuntimeError(
            f"detect_anomaly: op '{node.op}' produced NaN or Inf in its {what}; "
            f"the node was created at {where}"
        )


def check_versions(node: Node) -> None:
    """Raise if a value `node`'s rule reads (its op's `reads`, and its output if the op reads
    it) was changed in place after `node` was made: computing with it would give a silently
    wrong gradient (PyTorch raises the same error). The backward loop calls it when the
    node or one of its parents changed since the node was made."""
    seq = node._seq
    op = node._op
    reads = op.reads(node._needs)
    extra = node._extra
    own = extra is not None and "saved_ins" in extra   # in-place: input 0 is a private copy
    written = extra.get("written_at", seq) if extra else seq   # in-place: the output is
    items = [(p, f"input {i}", seq) for i, (p, r) in enumerate(zip(node._parents, reads))
             if r and not (own and i == 0)]                    # read after the op's write
    if op.reads_output:
        items.append((node, "output 0", written))
    for t, which, seq in items:
        v = t._ver
        if v is not None and v.stamps[-1] > seq:
            shape = list(getattr(t, "shape", ()))
            dtype = getattr(getattr(t, "_data", None), "dtype", "")
            where = ""
            if node._extra and "created_at" in node._extra:
                where = f" The op was created at {node._extra['created_at']}."
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{dtype} tensor of shape {shape}], which is {which} "
                f"of {op.node_name(node._saved)} (op '{op.name}'), is at version {v.count}; "
                f"expected version {v.at(seq)} instead.{where} Hint: the op saved this "
                f"tensor for backward; change a copy (.clone()) instead, or run the in-place "
                f"op after backward (inside detect_anomaly() errors say where each op was "
                f"created).")


def _glance(node: Node) -> None:
    """The backward loops' first look at a node made before the latest in-place change:
    `check_versions` only if a parent's storage, or the node's own, changed since."""
    seq = node._seq
    for t in node._parents:
        v = t._ver
        if v is not None and v.stamps[-1] > seq:
            check_versions(node)
            return
    v = node._ver
    if v is not None and v.stamps[-1] > seq:
        check_versions(node)


def run_backward(
    root: Node,
    seed: Any,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: tuple[Node, ...] | None = None,
    observe: Callable[[Node, Any, list], None] | None = None,
) -> dict[int, Any] | None:
    """Send `seed` (d root / d root) back through the graph.

    Each node's total gradient is known once every node that uses it has run (reverse
    topological order); then its op's rule sends a share to each parent, added with `+=`.
    With `inputs`, gradients are collected for those nodes and returned (keyed by id) instead
    of being stored on leaves (this is `minigrad.grad`). With `create_graph`, the rules run on
    nodes with recording on, so the gradients are themselves differentiable; otherwise they
    run on raw floats/arrays. With `observe`, nothing is stored or released and
    `observe(node, g, [(parent, share), ...])` sees every step (the stepper's view).
    The usual `loss.backward()` of a Tensor graph runs in `_backward_plain`.
    """
    order = toposort(root)          # raises if part of the graph was released
    if (inputs is None and observe is None and not create_graph and STATE.tracer is None
            and not STATE.anomaly and not root._scalar):
        _backward_plain(order, seed, retain_graph)
        return {}
    store = inputs is None and observe is None
    wanted = None if inputs is None else {id(n) for n in inputs}
    collected: dict[int, Any] = {}
    anomaly = STATE.anomaly
    tracer = STATE.tracer
    tensors = create_graph or tracer is not None   # rules run on tensors (compile records them)
    plain = store and not tensors and not anomaly            # (here: a Value graph's)
    last_mutation = STATE.last_mutation
    retain_graph = retain_graph or observe is not None
    root._g = seed
    outer_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = node._g
            if g is None and plain:           # every share sent to it was None
                continue
            node._g = None
            op = node._op
            if node._scalar:                  # Value: no hooks, no copies, no versions
                if store:
                    if op is None:
                        node.grad += g        # leaves accumulate across backward calls
                        continue
                    node.grad = g             # intermediates show the latest pass
            elif op is None or node._extra is not None:
                g = node._arrive(g, tensors, store)   # leaves, hooks, retain_grad
            if wanted is not None and id(node) in wanted:
                collected[id(node)] = g
            if op is None or g is None:
                if observe is not None:
                    observe(node, g, [])
                continue
            parents = node._parents
            needs = node._needs
            if not node._scalar and node._seq < last_mutation:
                _glance(node)                 # something changed in place since: look
            extra = None if node._scalar else node._extra
            if tensors:
                if tracer is not None:
                    tracer.backward_of(node, g)
                ins = extra["saved_ins"] if extra and "saved_ins" in extra else parents
                grads = op.backward(g, node, ins, node._saved, needs)
            else:
                raw = node._raw
                if not op.uses_inputs:
                    ins = ()
                elif extra is not None and "saved_ins" in extra:
                    ins = [raw(p) for p in extra["saved_ins"]]
                elif len(parents) == 2:             # (spelled out: the common case)
                    ins = [raw(parents[0]), raw(parents[1])]
                else:
                    ins = list(map(raw, parents))
                grads = op.backward(g, raw(node), ins, node._saved, needs)
            if anomaly:
                for gp in grads:
                    if gp is not None:
                        _check_finite(node, gp, "backward")
            sends = [] if observe is not None else None
            for parent, need, gp in zip(parents, needs, grads):
                if gp is None or not need:
                    continue
                if parent._shaped:
                    data = parent._data
                    if gp.shape != data.shape:
                        gp = sum_to(gp, data.shape)    # undo broadcasting, in one place
                    if gp.dtype != data.dtype:         # keep each gradient in its node's dtype
                        gp = gp.astype(data.dtype) if not tensors else gp.to(data.dtype)
                if sends is not None:
                    sends.append((parent, gp))
                total = parent._g
                parent._g = gp if total is None else total + gp
                if tracer is not None:
                    tracer.share(parent, parent._g)
            if observe is not None:
                observe(node, g, sends)
            if not retain_graph:
                node._mark = RELEASED       # (toposort lets a node that read nothing run again)
    except BaseException:
        for node in order:          # never leave half-sent gradients behind
            node._g = None
        raise
    finally:
        STATE.grad_enabled = outer_mode
        if tracer is not None:
            tracer.backward_done()
    return collected


def _backward_plain(order: list[Node], seed: Any, retain_graph: bool) -> None:
    """`run_backward` for the usual `loss.backward()` on a Tensor graph: gradients as raw
    arrays, stored on leaves, nothing observed, traced or checked for NaN. The same steps as
    the general loop, without its branches for those cases (this loop is the hot path)."""
    root = order[-1]
    root._g = seed
    last_mutation = STATE.last_mutation
    borrowed: dict[int, Node] = {}      # leaves whose .grad is still someone else's array
    outer_mode = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        for node in reversed(order):
            g = node._g
            if g is None:                     # a leaf that took its shares at once (below)
                continue
            node._g = None
            op = node._op
            extra = node._extra
            if op is None or extra is not None:
                g = node._arrive(g, False, True)      # leaves, hooks, retain_grad
                if op is None or g is None:
                    continue
            parents = node._parents
            needs = node._needs
            if node._seq < last_mutation:     # something changed in place since: look
                _glance(node)
            if not op.uses_inputs:
                ins = ()
            elif extra is not None and "saved_ins" in extra:
                ins = [p._data for p in extra["saved_ins"]]
            elif len(parents) == 1:           # (the common arities spelled out: faster)
                ins = [parents[0]._data]
            elif len(parents) == 2:
                ins = [parents[0]._data, parents[1]._data]
            else:
                ins = [p._data for p in parents]
            grads = op.backward(g, node._data, ins, node._saved, needs)
            for parent, need, gp in zip(parents, needs, grads):
                if gp is None or not need:
                    continue
                data = parent._data
                if gp.shape != data.shape:
                    gp = sum_to(gp, data.shape)        # undo broadcasting, in one place
                if gp.dtype != data.dtype:             # keep each gradient in its node's dtype
                    gp = gp.astype(data.dtype)
                if parent._op is None and parent._extra is None:
                    key = id(parent)                 # a leaf without hooks: stored now
                    if parent._take(gp, g, grads, key in borrowed):
                        borrowed[key] = parent
                    else:
                        borrowed.pop(key, None)
                    continue
                total = parent._g
                parent._g = gp if total is None else total + gp
            if not retain_graph:
                node._mark = RELEASED       # (toposort lets a node that read nothing run again)
    except BaseException:
        for node in order:          # never leave half-sent gradients behind
            node._g = None
        raise
    finally:
        STATE.grad_enabled = outer_mode
        for leaf_node in borrowed.values():
            leaf_node._own_grad()


def walk_backward(root: Node, seed: Any) -> list[tuple[Node, Any, list[tuple[Node, Any]]]]:
    """The engine's own backward walk, step by step, without side effects: for each node in
    the order `.backward()` processes them, (node, its total gradient, [(parent, share), ...])
    with each share already summed back to the parent's shape. No `.grad` is written and
    nothing is released (pictures and the stepper use this)."""
    steps: list[tuple[Node, Any, list]] = []
    run_backward(root, seed, retain_graph=True,
                 observe=lambda node, g, sends: steps.append((node, g, sends)))
    return steps


def backward_scalar(root: Node) -> None:
    """`run_backward(root, 1.0)` for a graph of Values, with less fixed cost per call and less
    cost per node.

    The same order as `toposort` (`_scalar_order`) and the same rules, on floats, so the same
    sums bit for bit. A scalar graph needs none of the general loop's work: no hooks, no
    shapes, no versions, no release (a Value graph keeps only its own numbers), no recording
    mode to switch (rules on floats record nothing). Leaves stay out of the order: each share
    is added straight to the leaf's `.grad`, in the order the general loop would sum them. A
    root whose parents are all leaves (one op) needs no sort at all. The ops a network is made
    of run their rule written out here (the formula of `ops.X.backward`, on floats; a test
    checks they agree with the rules bit for bit), the others call their rule.
    """
    if STATE.anomaly:                      # the general loop checks every gradient
        run_backward(root, 1.0, retain_graph=True)
        return
    if root._op is None:
        root.grad += 1.0
        return
    a, b = root._a, root._b
    if a._op is None and (b is None or b._op is None):
        order = [root]
    else:
        order = _scalar_order(root)
    root._g = 1.0
    Add, Mul, MulConst, AddConst, Relu, Tanh, Sub, Neg, Exp, Log = _SCALAR_RULES
    for node in reversed(order):
        g = node._g
        if g is None:                      # every share sent to it was None
            node.grad = 0.0
            continue
        node.grad = g                      # intermediates show the latest pass
        op, a, b = node._op, node._a, node._b
        if op is Add:                      # d(a+b)/da = 1, d(a+b)/db = 1
            ga = gb = g
        elif op is Mul:                    # d(a*b)/da = b, d(a*b)/db = a
            ga, gb = g * b.data, g * a.data
        elif op is MulConst:               # d(a*c)/da = c
            ga = g * node._saved
        elif op is Relu:                   # d(relu a)/da = 1 if a > 0 else 0
            ga = g * (node.data > 0)
        elif op is AddConst:               # d(a+c)/da = 1
            ga = g
        elif op is Tanh:                   # d(tanh a)/da = 1 - tanh(a)^2
            ga = g * (1.0 - node.data * node.data)
        elif op is Sub:                    # d(a-b)/da = 1, d(a-b)/db = -1
            ga, gb = g, -g
        elif op is Neg:                    # d(-a)/da = -1
            ga = -g
        elif op is Exp:                    # d(exp a)/da = exp(a)
            ga = g * node.data
        elif op is Log:                    # d(log a)/da = 1/a
            ga = g / a.data
        else:                              # any other op: its own rule
            ins = () if not op.uses_inputs else [a.data] if b is None else [a.data, b.data]
            grads = op.backward(g, node.data, ins, node._saved, _TRUE)
            for parent, gp in zip(node._parents, grads):
                if gp is not None:
                    _send_scalar(parent, gp)
            continue
        # send `ga` to a and `gb` to b (spelled out: this runs for every node)
        if a._op is None:
            a.grad += ga                   # leaves accumulate across backward calls
        else:
            total = a._g
            a._g = ga if total is None else total + ga
        if b is not None:
            if b._op is None:
                b.grad += gb
            else:
                total = b._g
                b._g = gb if total is None else total + gb


# The ops whose rules backward_scalar writes out, the most frequent first.
_SCALAR_RULES = (_ops.Add, _ops.Mul, _ops.MulConst, _ops.AddConst, _ops.Relu, _ops.Tanh, _ops.Sub,
                 _ops.Neg, _ops.Exp, _ops.Log)


def _send_scalar(parent: Node, gp: float) -> None:
    """Add one share to a Value: a leaf's `.grad`, or the sum `_g` of an op's result."""
    if parent._op is None:
        parent.grad += gp
    else:
        total = parent._g
        parent._g = gp if total is None else total + gp


def _scalar_order(root: Node) -> list[Node]:
    """`toposort(root, leaves=False)` for a graph of Values: the same order, found faster
    (parents are `_a` and `_b`, every input wants a gradient, nothing is released)."""
    gen = next(_generation)
    seen, done = 2 * gen, 2 * gen + 1      # marks of older passes are always smaller
    order: list[Node] = []
    stack = [root]
    push, pop, append = stack.append, stack.pop, order.append
    while stack:
        node = pop()
        mark = node._mark
        if mark < seen:                    # first visit: expand, come back when parents are done
            node._mark = seen
            node._g = None
            push(node)
            b = node._b                    # pushed first, so a comes out first
            if b is not None and b._mark < seen and b._op is not None:
                push(b)
            a = node._a
            if a._mark < seen and a._op is not None:
                push(a)
        elif mark == seen:                 # all parents are done now
            node._mark = done
            append(node)
    return order


def record(node: Node, op: Any, parents: tuple, needs: tuple, saved: Any) -> None:
    """Attach the graph fields to a freshly made node (the front ends call this)."""
    node._op = op
    node._parents = parents
    if not node._scalar:                # Values take `_needs` from their class: all True
        node._needs = needs
    node._saved = saved
    node._g = None
    node._mark = 0
    node._scope = STATE.scope
    node._seq = stamp()
    if STATE.anomaly:
        node._extra = {"created_at": user_frame()}
        _check_finite(node, node._raw(node), "forward")
    else:
        node._extra = None


def leaf(node: Node) -> None:
    """Fields of a node that no op made (inside inference_mode: an inference tensor)."""
    node._op = None
    node._parents = ()
    if not node._scalar:
        node._needs = ()
    node._saved = None
    node._g = None
    node._mark = 0
    node._scope = STATE.scope
    node._extra = None
    node._seq = 0
    if STATE.inference and not node._scalar:
        mark_inference(node)
