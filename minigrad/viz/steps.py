"""Backprop one node at a time, in exactly the order `.backward()` uses.

`backprop_steps(root)` iterates the engine's own backward walk (`engine.walk_backward`: the
same loop `.backward()` runs, observed instead of stored) and records, per node, who sent what
and the running sums. It writes nothing on the graph: no `.grad` changes, nothing is
released, so you can step through and still call `.backward()` afterwards.

>>> from minigrad import Value
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> y = x * w
>>> [s.op or "leaf" for s in backprop_steps(y)]
['mul', 'leaf', 'leaf']
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._tensor import Tensor, _seed
from ..engine import Node, walk_backward


class _History:
    """Every value each node's gradient took during the pass, with the step it happened in."""

    def __init__(self) -> None:
        self.steps: dict[int, list[int]] = {}
        self.values: dict[int, list[Any]] = {}
        self.nodes: list[tuple[int, Node]] = []      # (first step, node), in first-seen order

    def record(self, node: Node, step: int, value: Any) -> None:
        key = id(node)
        if key not in self.steps:
            self.steps[key] = []
            self.values[key] = []
            self.nodes.append((step, node))
        self.steps[key].append(step)
        self.values[key].append(value)


class Accumulated(Mapping):
    """node -> gradient accumulated so far (after a given step). Keyed by identity (tensors
    compare elementwise, so never by value); a read-only view, cheap to keep for every step."""

    __slots__ = ("_history", "_step")

    def __init__(self, history: _History, step: int) -> None:
        self._history = history
        self._step = step

    def __getitem__(self, node: Node) -> Any:
        steps = self._history.steps.get(id(node))
        if steps is not None:
            k = bisect.bisect_right(steps, self._step)
            if k:
                return self._history.values[id(node)][k - 1]
        raise KeyError(node)

    def __contains__(self, node: object) -> bool:
        steps = self._history.steps.get(id(node))
        return steps is not None and steps[0] <= self._step

    def __iter__(self) -> Iterator[Node]:
        for first, node in self._history.nodes:
            if first <= self._step:
                yield node

    def __len__(self) -> int:
        return sum(1 for first, _ in self._history.nodes if first <= self._step)

    def __repr__(self) -> str:
        return f"<Accumulated after step {self._step}: {len(self)} nodes>"


@dataclass(eq=False, repr=False)
class Step:
    """One node's turn in backprop.

    `upstream` is the node's total gradient d(root)/d(node) (all consumers have sent theirs);
    `contributions` lists (consumer, share) that were summed into it, one per use (a reused
    node has several; the root has none: its gradient is the seed); `rule` is the op's local
    derivative; `sends` lists (parent, share) for each input the op sends a gradient to, in
    operand order, shares already summed back to the parent's shape; `local` holds, for each
    send, the op's local derivative d(node)/d(parent) when both are single numbers (so that
    upstream x local = share; None for arrays); `totals` holds, for each send, the parent's
    gradient before and after this share was added (before is None for its first share);
    `accumulated` maps each node to its gradient summed so far, after this step's shares.
    """

    index: int
    total: int
    node: Node
    op: str
    upstream: Any
    rule: str
    sends: list[tuple[Node, Any]]
    contributions: list[tuple[Node, Any]]
    accumulated: Accumulated
    local: list[Any] = field(default_factory=list)
    totals: list[tuple[Any, Any]] = field(default_factory=list)

    @property
    def reused(self) -> bool:
        """True when the node's gradient is a sum of more than one share."""
        return len(self.contributions) > 1

    @property
    def is_leaf(self) -> bool:
        return not self.node.op

    def __repr__(self) -> str:
        return (f"Step({self.index + 1}/{self.total}, op={self.op or 'leaf'!r}, "
                f"sends={len(self.sends)}, reused={self.reused})")


def _as_grad(node: Node, g: Any) -> Any:
    """The gradient the way the front end stores it (tensors: an array of the node's dtype)."""
    if isinstance(node, Tensor):
        return np.asarray(g, dtype=node.dtype)
    return g


def backprop_steps(root: Node, gradient: Any = None) -> Iterator[Step]:
    """One `Step` per node, in the order `.backward()` processes them (reversed toposort).

    Summing every step's shares gives exactly the gradients `.backward()` would give; the graph
    and every `.grad` are left untouched. `gradient` seeds a non-scalar Tensor root, as in
    `Tensor.backward`. Raises the engine's RuntimeError if a backward already released the
    graph.
    """
    if not isinstance(root, Node):
        raise TypeError(f"backprop_steps: expected a Value or Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError("backprop_steps: this tensor does not require grad and has no graph")
    if isinstance(root, Tensor):
        seed: Any = _seed(root, gradient, "backprop_steps")
    else:
        seed = 1.0 if gradient is None else float(gradient)
    return _replay(root, seed)


def _replay(root: Node, seed: Any) -> Iterator[Step]:
    steps = walk_backward(root, seed)    # raises the engine's error if the graph was released
    history = _History()
    running: dict[int, Any] = {id(root): seed}
    received: dict[int, list[tuple[Node, Any]]] = {}
    history.record(root, 0, _as_grad(root, seed))
    total = len(steps)
    for index, (node, g, sends) in enumerate(steps):
        contributions = received.pop(id(node), [])
        totals: list[tuple[Any, Any]] = []
        for parent, share in sends:
            key = id(parent)
            before = running.get(key)
            running[key] = share if before is None else before + share
            received.setdefault(key, []).append((node, share))
            history.record(parent, index, _as_grad(parent, running[key]))
            totals.append((None if before is None else _as_grad(parent, before),
                           _as_grad(parent, running[key])))
        yield Step(index=index, total=total, node=node, op=node.op, upstream=g,
                   rule=node.rule(), sends=list(sends),
                   contributions=contributions, accumulated=Accumulated(history, index),
                   local=local_derivatives(node, g, sends), totals=totals)


def _single(x: Any) -> bool:
    return x is not None and np.size(np.asarray(x)) == 1


def _number(x: Any) -> float:
    return float(np.asarray(x).reshape(()))


def local_derivatives(node: Node, upstream: Any, sends: list[tuple[Node, Any]]) -> list[Any]:
    """d(node)/d(parent) for each send, when the node, the parent and the shares are single
    numbers (None for arrays: a Jacobian, not a number): share / upstream, or, when the
    upstream gradient is 0, the shares of the engine's walk from `node` with a seed of 1."""
    if not sends or not _single(node.data) or not _single(upstream):
        return [None] * len(sends)
    if all(_single(p.data) and _single(s) for p, s in sends) and _number(upstream) != 0.0:
        g = _number(upstream)
        return [_number(s) / g for _, s in sends]
    seed = _seed(node, None, "local_derivatives") if isinstance(node, Tensor) else 1.0
    first = walk_backward(node, seed)[0]           # the node's own step comes first
    units = list(first[2])
    out = []
    for parent, _ in sends:
        k = next(i for i, (q, _) in enumerate(units) if q is parent)
        _, unit = units.pop(k)
        out.append(_number(unit) if _single(parent.data) and _single(unit) else None)
    return out
