"""Products: matmul (1-D, 2-D, batched), the affine map of a Linear layer, einsum."""

from __future__ import annotations

import string

import numpy as np

from .base import Op, apply_like, cross, sum_to


class MatMul(Op):
    """out = a @ b (1-D, 2-D or batched);  da = g @ b^T,  db = a^T @ g

    1-D operands are treated as a row (a) or a column (b) and the result squeezed, as numpy
    does; batch dimensions broadcast, so their gradient is summed back.
    """
    name, rule, symbol, infix = "matmul", "d(a@b)/da = g@b^T, d(a@b)/db = a^T@g", "@", True
    grad_fn = "MmBackward0"
    reads = staticmethod(cross)

    @classmethod
    def grad_fn_name(cls, node):
        nd = tuple(getattr(p, "_data", None).ndim for p in node._parents)
        return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                (3, 3): "BmmBackward0"}.get(nd, "UnsafeViewBackward0")

    @classmethod
    def emit(cls, args, saved, c):
        return f"{args[0]} @ {args[1]}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        return f"np.matmul({args[0]}, {args[1]}, out={out})"

    @staticmethod
    def forward(ins, saved):
        return ins[0] @ ins[1]

    @staticmethod
    def backward(g, out, ins, saved, needs):
        a, b = ins
        if a.ndim == 2 and b.ndim == 2:                  # the common case, plainly
            gb = a.swapaxes(0, 1) @ g if needs[1] else None    # first, as Linear's dW
            return (g @ b.swapaxes(0, 1) if needs[0] else None, gb)
        if a.ndim == 1 and b.ndim == 1:                  # dot product: g is 0-d
            return (g * b if needs[0] else None,
                    g * a if needs[1] else None)
        a2 = a.reshape((1, a.shape[0])) if a.ndim == 1 else a
        b2 = b.reshape((b.shape[0], 1)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if needs[0]:
            ga = sum_to(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if needs[1]:
            gb = sum_to(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Op):
    """out = x @ W^T (+ b), x of shape (..., in), W (out, in), b (out,);
        dx = g @ W,  dW = g^T @ x  (over all leading dims),  db = sum of g over leading dims

    One node for an nn layer's affine map, as PyTorch's addmm: no transposed copy of W, and
    dW comes out in W's own layout.
    """
    name, rule = "linear", "d(x@W^T+b)/dx = W, /dW = x, /db = 1"
    grad_fn = "AddmmBackward0"

    @classmethod
    def grad_fn_name(cls, node):
        if node._parents[0]._data.ndim != 2:
            return "ViewBackward0"
        return "AddmmBackward0" if len(node._parents) == 3 else "MmBackward0"

    @staticmethod
    def reads(needs):
        return (needs[1], needs[0]) + (False,) * (len(needs) - 2)

    @classmethod
    def emit(cls, args, saved, c):
        if len(args) == 2:
            return f"{args[0]} @ {args[1]}.T"
        return f"{args[0]} @ {args[1]}.T + {args[2]}"

    @classmethod
    def emit_into(cls, args, saved, c, out):
        product = f"np.matmul({args[0]}, {args[1]}.T, out={out})"
        if len(args) == 2:
            return product
        if len(set(c.dtypes)) != 1:
            return None
        return f"{product}\nnp.add({out}, {args[2]}, out={out})"     # two lines

    @staticmethod
    def forward(ins, saved):
        out = ins[0] @ ins[1].swapaxes(0, 1)
        if len(ins) == 3:
            b = ins[2]
            if type(out) is np.ndarray and out.dtype == b.dtype:
                out += b                    # the matmul's result is ours: no second array
            else:
                out = out + b
        return out

    @staticmethod
    def backward(g, out, ins, saved, needs):
        x, w = ins[0], ins[1]
        n_out, n_in = w.shape
        g2 = g if g.ndim == 2 else g.reshape((-1, n_out))
        gw = gb = None
        if needs[1]:        # dW before dx: measured ~8% less time for B's matmuls this way
            gw = g2.swapaxes(0, 1) @ (x if x.ndim == 2 else x.reshape((-1, n_in)))
        if len(ins) == 3 and needs[2]:
            gb = g2.sum(axis=0)
        gx = g @ w if needs[0] else None
        return (gx, gw) if len(ins) == 2 else (gx, gw, gb)


class Einsum(Op):
    """out = einsum(equation, *inputs) (explicit form "ij,jk->ik", no ellipsis);
        d input_i = einsum of g with the other inputs, back to input i's subscripts
        (dims summed away in forward come back as broadcasts, repeated letters as
        diagonals)."""
    name, rule = "einsum", "d input_i = einsum(g, other inputs -> subscripts of i)"
    reads = staticmethod(lambda needs: tuple(any(n for j, n in enumerate(needs) if j != i)
                                             for i in range(len(needs))))

    @staticmethod
    def forward(ins, equation):
        return np.einsum(equation, *ins, optimize=len(ins) > 2)

    @staticmethod
    def backward(g, out, ins, equation, needs):
        lhs, rhs = equation.split("->")
        subs = lhs.split(",")
        sizes = {}
        for s, x in zip(subs, ins):
            sizes.update(zip(s, x.shape))
        grads = []
        for i, (s_i, need) in enumerate(zip(subs, needs)):
            if not need:
                grads.append(None)
                continue
            terms, operands = [rhs], [g]
            for j, s_j in enumerate(subs):
                if j != i:
                    terms.append(s_j)
                    operands.append(ins[j])
            present = set("".join(terms))
            free = iter(c for c in string.ascii_letters if c not in equation)
            target, seen = [], set()
            dtype = out.dtype
            for c in s_i:
                if c in seen:                  # a repeated letter: the diagonal, via eye
                    f = next(free)
                    terms.append(c + f)
                    operands.append(np.eye(sizes[c], dtype=dtype))
                    target.append(f)
                    continue
                seen.add(c)
                target.append(c)
                if c not in present:           # summed away in forward: broadcast back
                    terms.append(c)
                    operands.append(np.ones(sizes[c], dtype=dtype))
                    present.add(c)
            grads.append(apply_like(Einsum, operands, ",".join(terms) + "->" + "".join(target)))
        return grads

    @classmethod
    def describe(cls, equation):
        return f"einsum {equation}"
