"""Reductions: sum, mean, max/min (ties share), product, cumulative sum, norms, std."""

from __future__ import annotations

import numpy as np

from . import base as _base
from .base import (
    Op,
    _add_reduce,
    apply_like,
    count,
    fill_where,
    fmt_dims,
    is_node,
    kept_shape,
    nothing,
    same_dtype,
    sign,
    spread,
)


class _Reduction(Op):
    """A reduction over `dim` (a sorted tuple, or None for all) with `keepdim`:
    saved = (dim, keepdim, ...)."""

    reads = staticmethod(nothing)

    @classmethod
    def describe(cls, saved):
        args = fmt_dims(saved[0], saved[1])
        return f"{cls.name}({', '.join(args)})" if args else cls.name

    @classmethod
    def node_name(cls, saved):
        return cls.name.capitalize() + ("Backward0" if saved[0] is None else "Backward1")


class Sum(_Reduction):
    """out = sum of a over `dim`;  da = g broadcast back to a's shape"""
    name, rule = "sum", "d(sum a)/da_i = 1"

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.add.reduce({args[0]}, {c(saved[0])}, None, None, {saved[1]})"

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        return _add_reduce(ins[0], axis, None, None, keepdims)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        return (spread(g, ins[0].shape, *saved),)


class Mean(_Reduction):
    """out = sum of a over `dim` / n (n values in each sum);  da = g / n broadcast back"""
    name, rule = "mean", "d(mean a)/da_i = 1/n"

    @classmethod
    def emit(cls, args, saved, c):
        return (f"np.add.reduce({args[0]}, {c(saved[0])}, None, None, {saved[1]}) / "
                f"{count(c.shapes[0], saved[0])}")

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        a = ins[0]
        return _add_reduce(a, axis, None, None, keepdims) / count(a.shape, axis)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        axis, keepdims = saved
        shape = ins[0].shape
        return (spread(g / count(shape, axis), shape, axis, keepdims),)


class _Extreme(_Reduction):
    """max/min over `dim`; the gradient goes to the elements equal to the result, split
    evenly among ties (PyTorch's amax/amin and full max()/min())."""

    reads_output = True

    @classmethod
    def reads(cls, needs):
        return (True,)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        axis, keepdims = saved
        a = ins[0]
        kept = kept_shape(tuple(a.shape), axis)
        hit = a == out.reshape(kept)
        share = same_dtype(hit / hit.sum(axis=axis, keepdims=True), a)
        if not keepdims:
            g = g.reshape(kept)
        return (g * share,)

    @classmethod
    def node_name(cls, saved):
        if saved[0] is None:
            return cls.name.capitalize() + "Backward1"
        return "A" + cls.name + "Backward0"


class Max(_Extreme):
    """out = max of a over `dim`;  da = g at the maximum (split among ties)"""
    name, rule = "max", "d(max a)/da_i = 1 at the maximum (shared by ties)"

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.maximum.reduce({args[0]}, {c(saved[0])}, None, None, {saved[1]})"

    @staticmethod
    def forward(ins, saved):
        return np.maximum.reduce(ins[0], saved[0], None, None, saved[1])


class Min(_Extreme):
    """out = min of a over `dim`;  da = g at the minimum (split among ties)"""
    name, rule = "min", "d(min a)/da_i = 1 at the minimum (shared by ties)"

    @classmethod
    def emit(cls, args, saved, c):
        return f"np.minimum.reduce({args[0]}, {c(saved[0])}, None, None, {saved[1]})"

    @staticmethod
    def forward(ins, saved):
        return np.minimum.reduce(ins[0], saved[0], None, None, saved[1])


class Prod(_Reduction):
    """out = product of a over `dim`;  da_i = g * (product of the others)
    (computed without dividing by a_i, so zeros are exact, as in PyTorch)"""
    name, rule = "prod", "d(prod a)/da_i = prod_{j != i} a_j"
    reads_output = True

    @classmethod
    def reads(cls, needs):
        return (True,)

    @staticmethod
    def forward(ins, saved):
        axis, keepdims = saved
        return np.multiply.reduce(ins[0], axis, None, None, keepdims)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        axis, keepdims = saved
        a = ins[0]
        shape = tuple(a.shape)
        if is_node(g) and _base.grad_mode():   # create_graph: out / a is differentiable
            if not np.all(a._data):
                raise NotImplementedError("prod: the second derivative at an input of 0 is "
                                          "not implemented")
            return (spread(g * out, shape, axis, keepdims) / a,)
        others = apply_like(ProdOthers, (a,), axis)
        return (spread(g, shape, axis, keepdims) * others,)


class ProdOthers(Op):
    """out_i = the product of the other elements of a_i's reduction group (no gradient:
    the second derivative of prod is not derived here)."""
    name, rule = "prod_others", ""
    differentiable = False
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, axis):
        return _prod_of_others(ins[0], axis)

    @staticmethod
    def backward(g, out, ins, axis, needs):
        return (None,)


def _prod_of_others(a: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group: the
    product of everything before it times everything after it (exclusive cumulative
    products along the flattened group)."""
    moved, group_shape = _group_last(a, axis)
    before = np.cumprod(np.concatenate([np.ones_like(moved[..., :1]), moved[..., :-1]], -1), -1)
    rev = moved[..., ::-1]
    after = np.cumprod(np.concatenate([np.ones_like(rev[..., :1]), rev[..., :-1]], -1), -1)
    others = before * after[..., ::-1]
    return _ungroup(others, a.shape, axis, group_shape)


def _group_last(a: np.ndarray, axis: tuple[int, ...] | None):
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else axis
    rest = [d for d in range(nd) if d not in axes]
    moved = np.transpose(a, rest + list(axes))
    group_shape = moved.shape
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), group_shape


def _ungroup(x: np.ndarray, shape: tuple[int, ...], axis, group_shape) -> np.ndarray:
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else axis
    rest = [d for d in range(nd) if d not in axes]
    order = rest + list(axes)
    inverse = np.argsort(order)
    return np.transpose(x.reshape(group_shape), inverse)


class Cumsum(Op):
    """out_i = a_0 + ... + a_i along `dim`;  da_i = g_i + ... + g_last (a reversed cumsum)"""
    name, rule = "cumsum", "d out_j/da_i = 1 for j >= i"
    reads = staticmethod(nothing)

    @staticmethod
    def forward(ins, dim):
        return np.cumsum(ins[0], axis=dim)

    @staticmethod
    def backward(g, out, ins, dim, needs):
        rev = (slice(None),) * dim + (slice(None, None, -1),)
        return (g[rev].cumsum(dim)[rev],)

    @classmethod
    def describe(cls, dim):
        return f"cumsum(dim={dim})"


class Norm(_Reduction):
    """out = (sum |a|^p)^(1/p) over `dim` (p = 2: the Euclidean norm);
        da = g * a |a|^(p-2) / out^(p-1), 0 where out = 0 (PyTorch's value there);
        p = inf: g at the largest |a| (split among ties)."""
    name, rule = "norm", "d|a|_p/da = a|a|^(p-2)/|a|_p^(p-1)"
    reads_output = True

    @classmethod
    def reads(cls, needs):
        return (True,)

    @staticmethod
    def forward(ins, saved):
        axis, keepdims, p = saved
        a = np.abs(ins[0])
        if p == 2:
            return np.sqrt(_add_reduce(a * a, axis, None, None, keepdims))
        if p == np.inf:
            return np.maximum.reduce(a, axis, None, None, keepdims)
        if p == 1:
            return _add_reduce(a, axis, None, None, keepdims)
        return _add_reduce(a ** p, axis, None, None, keepdims) ** (1.0 / p)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        with np.errstate(divide="ignore", invalid="ignore"):    # 0/0 at a zero vector: masked
            return Norm._backward(g, out, ins, saved)

    @staticmethod
    def _backward(g, out, ins, saved):
        axis, keepdims, p = saved
        a = ins[0]
        shape = tuple(a.shape)
        gk = spread(g, shape, axis, keepdims)
        ok = spread(out, shape, axis, keepdims)
        zero = ok == 0
        if p == 2:
            return (fill_where(zero, gk * a / ok),)
        if p == 1:
            return (gk * sign(a),)
        absa = a.abs() if is_node(a) else np.abs(a)
        if p == np.inf:
            hit = absa == ok
            share = hit / hit.sum(axis=axis, keepdims=True)
            return (gk * same_dtype(share * sign(a), a),)
        return (fill_where(zero, gk * a * absa ** (p - 2) / ok ** (p - 1)),)

    @classmethod
    def describe(cls, saved):
        args = fmt_dims(saved[0], saved[1])
        if saved[2] != 2:
            args.insert(0, f"p={saved[2]:g}")
        return f"norm({', '.join(args)})" if args else "norm"

    @classmethod
    def node_name(cls, saved):
        return "LinalgVectorNormBackward0"


class Std(_Reduction):
    """out = sqrt(sum((a - mean)^2) / (n - correction)) over `dim`;
        da = g * (a - mean) / ((n - correction) * out), 0 where out = 0 (PyTorch's value
        there: a constant column has a finite gradient)."""
    name, rule = "std", "d std/da_i = (a_i - mean) / ((n - c) std)"
    reads_output = True

    @classmethod
    def reads(cls, needs):
        return (True,)

    @staticmethod
    def forward(ins, saved):
        axis, keepdims, correction = saved
        a = ins[0]
        n = count(a.shape, axis)
        d = a - _add_reduce(a, axis, None, None, True) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            v = _add_reduce(d * d, axis, None, None, keepdims) / max(n - correction, 0)
        return np.sqrt(v)

    @staticmethod
    def backward(g, out, ins, saved, needs):
        axis, keepdims, correction = saved
        a = ins[0]
        shape = tuple(a.shape)
        n = count(shape, axis)
        mean = a.mean(axis, keepdims=True)
        d = a - mean
        ok = spread(out, shape, axis, keepdims)
        gk = spread(g, shape, axis, keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):    # 0/0 where out = 0: masked
            return (fill_where(ok == 0, gk * d / (ok * float(n - correction))),)

    @classmethod
    def describe(cls, saved):
        args = fmt_dims(saved[0], saved[1])
        if saved[2] != 1:
            args.append(f"correction={saved[2]:g}")
        return f"std({', '.join(args)})" if args else "std"

    @classmethod
    def node_name(cls, saved):
        return "StdBackward0"
