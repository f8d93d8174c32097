"""The graph engine shared by both front ends (`Value` and `Tensor`).

A node is the result of one primitive op. It keeps its parents (a tuple, in operand order) and
the op that made it; the op knows how to send a gradient to each parent (see `ops.py`).
`backward` walks the graph once in reverse topological order, built with a loop (no recursion,
so a chain of a million ops is fine), and accumulates gradients with `+=`.

Nothing here knows about nn, pictures or demos.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from .ops import sum_to


class _State:
    """Process-wide switches: grad recording, anomaly detection and the current scope."""

    __slots__ = ("grad_enabled", "anomaly", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: Scope | None = None


STATE = _State()

# The visit mark a node gets once a backward (without retain_graph) has gone through it:
# its graph is released, and a second backward through it is an error, as in PyTorch.
# (The op's parameters stay, so pictures can still show "* 2" or "sum(axis=0)".)
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
        self.enabled = enabled
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


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise at the first op whose forward or backward makes NaN or Inf.

    Inside this block every node remembers where in the user's code it was created, and the
    error names the op and that place.
    """
    outer = STATE.anomaly
    STATE.anomaly = True
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


class Node:
    """What both front ends share: op, parents, saved values, scope, and the engine's marks.

    `_g` holds the sum of the gradients arriving during one backward pass; `_mark` is the
    topological sort's visit mark (RELEASED once a backward went through without
    retain_graph); `_saved` is what the op keeps for backward (its parameters);
    `_extra` is None or a dict for rarely used things (hooks, retain_grad, creation site).
    Scalar nodes leave `_g`, `_extra` and `_label` unset until they are needed (it is faster).
    """

    __slots__ = ("_op", "_parents", "_saved", "_g", "_mark", "_scope", "_extra", "_label",
                 "__weakref__")

    # Overridden by the front ends.
    requires_grad: bool

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
        """The input nodes, in operand order (`a*a` has two)."""
        return self._parents

    @property
    def scope(self) -> Scope | None:
        """The innermost `scope` this node was recorded in, or None."""
        return self._scope

    # Tensor implements this; the engine stores a Value's gradient itself.
    def _arrive(self, g: Any, create_graph: bool, store: bool) -> Any:
        """Called once per backward when this node's total gradient `g` is known. With `store`
        it keeps `g` where the front end shows it (leaf .grad, retained grad, ...). Returns the
        gradient to propagate (hooks may replace it)."""
        raise NotImplementedError

    # True for front ends whose gradients have shapes (the engine then un-broadcasts).
    _shaped = False
    # True for scalar nodes, whose gradient the engine stores directly in `.grad`.
    _scalar = False
    # Reads the raw value (float or ndarray) off a node of this front end.
    _raw = operator.attrgetter("data")


_generation = itertools.count(1)


def toposort(root: Node, leaves: bool = True) -> list[Node]:
    """Nodes that need a gradient, inputs before outputs (root last), with an explicit stack.

    A node enters the order only after all its parents; a parent that needs no gradient
    (requires_grad False) is not visited at all. With `leaves=False` the order has only the
    nodes some op made (the scalar backward sends leaf gradients straight to `.grad`).
    """
    gen = next(_generation)
    seen, done = 2 * gen, 2 * gen + 1      # marks of older passes are always smaller
    order: list[Node] = []
    stack = [root]
    push, pop, append = stack.append, stack.pop, order.append
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark < seen:                    # first visit: expand
            if mark == RELEASED:
                raise RuntimeError(_RELEASED_MESSAGE)
            node._mark = seen
            node._g = None
            for parent in reversed(node._parents):   # so leaves come out in operand order
                if parent._mark < seen and parent.requires_grad:
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


def _check_finite(node: Node, value: Any, what: str) -> None:
    import numpy as np

    arr = value.data if isinstance(value, Node) else value
    if not np.all(np.isfinite(arr)):
        where = (getattr(node, "_extra", None) or {}).get("created_at", "<unknown>")
        raise RuntimeError(
            f"detect_anomaly: op '{node.op}' produced NaN or Inf in its {what}; "
            f"the node was created at {where}"
        )


def run_backward(
    root: Node,
    seed: Any,
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: tuple[Node, ...] | None = None,
) -> dict[int, Any] | None:
    """Send `seed` (d root / d root) back through the graph.

    Each node's total gradient is known once every node that uses it has run (reverse
    topological order); then its op's rule sends a share to each parent, added with `+=`.
    With `inputs`, gradients are collected for those nodes and returned (keyed by id) instead
    of being stored on leaves (this is `minigrad.grad`).
    With `create_graph`, the rules run on nodes with recording on, so the gradients are
    themselves differentiable; otherwise they run on raw floats/arrays.
    """
    order = toposort(root)          # raises if part of the graph was released
    store = inputs is None
    wanted = None if inputs is None else {id(n) for n in inputs}
    collected: dict[int, Any] = {}
    anomaly = STATE.anomaly
    plain = not create_graph and not anomaly and wanted is None   # the usual .backward()
    borrowed: dict[int, Node] = {}      # leaves whose .grad is still someone else's array
    root._g = seed
    outer_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = node._g
            if g is None and plain:           # a leaf that took its shares at once (below)
                continue
            node._g = None
            op = node._op
            if node._scalar:                  # Value: no hooks, no copies
                if op is None:
                    node.grad += g            # leaves accumulate across backward calls
                    continue
                node.grad = g                 # intermediates show the latest pass
            elif op is None or node._extra is not None:
                g = node._arrive(g, create_graph, store)   # leaves, hooks, retain_grad
            if wanted is not None and id(node) in wanted:
                collected[id(node)] = g
            if op is None or g is None:
                continue
            parents = node._parents
            if create_graph:
                grads = op.backward(g, node, parents, node._saved, parents)
            else:
                raw = node._raw
                if not op.uses_inputs:
                    ins = ()
                elif len(parents) == 2:             # (spelled out: the common case)
                    ins = [raw(parents[0]), raw(parents[1])]
                else:
                    ins = list(map(raw, parents))
                grads = op.backward(g, raw(node), ins, node._saved, parents)
            if anomaly:
                for gp in grads:
                    if gp is not None:
                        _check_finite(node, gp, "backward")
            for parent, gp in zip(parents, grads):
                if gp is None or not parent.requires_grad:
                    continue
                if parent._shaped:
                    shape = parent._data.shape
                    if gp.shape != shape:
                        gp = sum_to(gp, shape)    # undo broadcasting, in one place
                    if plain and parent._op is None and parent._extra is None:
                        key = id(parent)             # a leaf without hooks: stored now
                        if parent._take(gp, g, grads, key in borrowed):
                            borrowed[key] = parent
                        else:
                            borrowed.pop(key, None)
                        continue
                total = parent._g
                parent._g = gp if total is None else total + gp
            if not retain_graph:
                node._mark = RELEASED
    except BaseException:
        for node in order:          # never leave half-sent gradients behind
            node._g = None
        raise
    finally:
        STATE.grad_enabled = outer_mode
        for leaf_node in borrowed.values():
            leaf_node._own_grad()
    return collected


def backward_scalar(root: Node) -> None:
    """`run_backward(root, 1.0)` for a graph of Values, with less fixed cost per call.

    The same order (`toposort`) and the same rules from ops.py, run on floats. A scalar graph
    needs none of the general loop's work: no hooks, no shapes, no release (a Value graph
    keeps only its own numbers), no recording mode to switch (rules on floats record nothing).
    Leaves stay out of the order: each share is added straight to the leaf's `.grad`, in the
    order the general loop would sum them. A root whose parents are all leaves (one op) needs
    no sort at all.
    """
    if STATE.anomaly:                      # the general loop checks every gradient
        run_backward(root, 1.0, retain_graph=True)
        return
    if root._op is None:
        root.grad += 1.0
        return
    order: list[Node] | None = None
    for parent in root._parents:
        if parent._parents:
            order = toposort(root, leaves=False)
            order.pop()                    # the root, which goes first anyway
            break
    node, g = root, 1.0
    while True:
        if g is None:                      # every share sent to it was None
            node.grad = 0.0
        else:
            node.grad = g                  # intermediates show the latest pass
            op = node._op
            parents = node._parents
            ins = [parent.data for parent in parents] if op.uses_inputs else ()
            for parent, gp in zip(parents, op.backward(g, node.data, ins, node._saved, parents)):
                if gp is None:
                    continue
                if parent._parents:
                    total = parent._g
                    parent._g = gp if total is None else total + gp
                else:
                    parent.grad += gp      # leaves accumulate across backward calls
        if not order:
            return
        node = order.pop()
        g = node._g


def record(node: Node, op: Any, parents: tuple, saved: Any) -> None:
    """Attach the graph fields to a freshly made node (the front ends call this)."""
    node._op = op
    node._parents = parents
    node._saved = saved
    node._g = None
    node._mark = 0
    node._scope = STATE.scope
    if STATE.anomaly:
        node._extra = {"created_at": user_frame()}
        _check_finite(node, node.data, "forward")
    else:
        node._extra = None


def leaf(node: Node) -> None:
    """Fields of a node that no op made."""
    node._op = None
    node._parents = ()
    node._saved = None
    node._g = None
    node._mark = 0
    node._scope = STATE.scope
    node._extra = None

