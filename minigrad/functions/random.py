"""Random numbers with PyTorch's API: `Generator`, `manual_seed`, randn, rand, randint,
randperm, normal, bernoulli, multinomial, and the in-place initialisers (normal_, uniform_,
...). Every function takes `generator=` (a minigrad Generator, a numpy Generator or an int
seed) and shapes as one tuple or as separate ints.

minigrad draws from its own stream (numpy's PCG64), so the numbers differ from PyTorch's
for the same seed; the same seed always gives the same numbers here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import dtypes, ops
from .._bind import export
from .._tensor import Tensor, _wrap, apply, constant_leaf, default_float, inplace
from ..engine import STATE
from ._args import shape_args
from .creation import _dtype, _finish, _size

DEFAULT_SEED = 67280421310721     # the seed a fresh process starts from (PyTorch's default)


class Generator:
    """A random number generator (torch.Generator): `manual_seed(s)` returns it, `seed()`
    reseeds from the OS and returns the new seed, `initial_seed()` the last seed set."""

    def __init__(self, device: Any = "cpu") -> None:
        self._seed = DEFAULT_SEED
        self.rng = np.random.default_rng(DEFAULT_SEED)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        self._seed = seed
        # reseeded in place: a compiled step that holds this stream keeps drawing from it
        self.rng.bit_generator.state = np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF).state
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (restore it with `set_state`)."""
        text = json.dumps(self.rng.bit_generator.state)
        return constant_leaf(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> Generator:
        arr = state._data if isinstance(state, Tensor) else np.asarray(state)
        self.rng.bit_generator.state = json.loads(arr.astype(np.uint8).tobytes().decode())
        return self

    def __repr__(self) -> str:
        return f"<minigrad.Generator object (seed {self._seed})>"


default_generator = Generator()


def dropout_mask(x: Tensor, p: float, generator: Any = None) -> Tensor:
    """(u >= p) / (1 - p), u uniform per element of x: inverted dropout's mask (an op: a
    compiled step draws a new one at every call)."""
    return apply(ops.RandomMask, (x,), (rng_of(generator), float(p)))


def _not_traced(what: str) -> None:
    if STATE.tracer is not None:
        from ..compiler.trace import CompileError
        raise CompileError(f"minigrad.compile: {what}() draws random numbers while the "
                           f"function is traced; they would be frozen into the compiled "
                           f"program. Draw them outside and pass them in (dropout is fine).")


def rng_of(generator: Any = None) -> np.random.Generator:
    """numpy's Generator behind `generator` (None: the default one; an int: a fresh one
    seeded with it; a numpy Generator is used as is)."""
    if generator is None:
        return default_generator.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int | np.integer):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be a minigrad.Generator, a numpy Generator or an int "
                    f"seed, got {type(generator).__name__}")


@export(method=False)
def manual_seed(seed: int) -> Generator:
    """Seed the default generator (all functions called without `generator=`)."""
    return default_generator.manual_seed(seed)


@export(method=False)
def seed() -> int:
    return default_generator.seed()


@export(method=False)
def initial_seed() -> int:
    return default_generator.initial_seed()


@export(method=False)
def get_rng_state() -> Tensor:
    return default_generator.get_state()


@export(method=False)
def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _pick_rng(generator: Any, seed: Any) -> np.random.Generator:
    if generator is not None and seed is not None:
        raise ValueError("give generator or seed, not both")
    return rng_of(seed if generator is None else generator)


@export(method=False)
def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Any = None, seed: Any = None) -> Tensor:
    """Samples of the standard normal distribution N(0, 1)."""
    _not_traced("randn")
    rng = _pick_rng(generator, seed)
    data = rng.standard_normal(_size(size, {}))
    return _finish(data.astype(_dtype(dtype)), requires_grad, device, "randn")


@export(method=False)
def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None, seed: Any = None) -> Tensor:
    """Samples of the uniform distribution on [0, 1)."""
    _not_traced("rand")
    rng = _pick_rng(generator, seed)
    data = rng.random(_size(size, {}))
    return _finish(data.astype(_dtype(dtype)), requires_grad, device, "rand")


@export(method=False)
def randint(*args: Any, size: Any = None, generator: Any = None, dtype: Any = None,
            device: Any = None, requires_grad: bool = False, low: Any = None,
            high: Any = None) -> Tensor:
    """Integers uniform in [low, high): `randint(high, size)` or `randint(low, high, size)`
    (int64 unless `dtype`)."""
    _not_traced("randint")
    args = list(args)
    if size is None and args and isinstance(args[-1], tuple | list):
        size = args.pop()
    if high is None:
        if not args:
            raise TypeError("randint() missing required argument 'high'")
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args or size is None:
        raise TypeError("randint(low=0, high, size, *, generator=None, dtype=None): give size "
                        "as a tuple")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    data = rng_of(generator).integers(int(low), int(high), size=shape_args((size,), "randint"))
    return _finish(data.astype(dtypes.to_numpy(dtype) if dtype is not None else np.int64),
                   requires_grad, device, "randint")


@export(method=False)
def randperm(n: int, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    _not_traced("randperm")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    data = rng_of(generator).permutation(int(n))
    return _finish(data.astype(dtypes.to_numpy(dtype) if dtype is not None else np.int64),
                   requires_grad, device, "randperm")


@export(method=False)
def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, generator: Any = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False,
           out: Any = None) -> Tensor:
    """Samples of N(mean, std^2): tensors `mean`/`std` give one sample per element (their
    broadcast shape); numbers need `size`."""
    _not_traced("normal")
    rng = rng_of(generator)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is not None:
        shape = shape_args((size,), "normal")
    else:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    nd = dtypes.to_numpy(dtype) if dtype is not None else (
        m.dtype if isinstance(m, np.ndarray) else s.dtype if isinstance(s, np.ndarray)
        else default_float())
    data = m + s * rng.standard_normal(shape)
    return _finish(np.asarray(data).astype(nd), requires_grad, device, "normal")


@export
def bernoulli(input: Tensor, p: Any = None, generator: Any = None) -> Tensor:
    """1 with probability `input` (or `p`) per element, else 0 (input's dtype)."""
    _not_traced("bernoulli")
    probs = input._data if p is None else np.broadcast_to(p, input._data.shape)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("bernoulli: all elements of input should be between 0 and 1")
    draws = rng_of(generator).random(input._data.shape) < probs
    return _wrap(draws.astype(input._data.dtype))


@export
def multinomial(input: Tensor, num_samples: int, replacement: bool = False,
                generator: Any = None) -> Tensor:
    """Indices drawn with probabilities proportional to the rows of `input` (1-D or 2-D,
    non-negative, not necessarily normalised), int64."""
    _not_traced("multinomial")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{dtypes.scalar_name(input._data.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    w = input._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows.sum(1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not replacement and np.any((rows > 0).sum(1) < num_samples):
        raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                           "enough non-negative category to sample)")
    rng = rng_of(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i] = rng.choice(r.size, size=num_samples, replace=replacement, p=r / r.sum())
    return _wrap(out.reshape(w.shape[:-1] + (num_samples,)))


def _like_random(input: Any, draw: Any, dtype: Any, requires_grad: bool) -> Tensor:
    shape = input._data.shape if isinstance(input, Tensor) else np.shape(input)
    nd = dtypes.to_numpy(dtype) if dtype is not None else (
        input._data.dtype if isinstance(input, Tensor) else default_float())
    return _finish(np.asarray(draw(shape)).astype(nd), requires_grad)


@export(method=False)
def rand_like(input: Any, dtype: Any = None, requires_grad: bool = False,
              generator: Any = None, **unused: Any) -> Tensor:
    _not_traced("rand_like")
    return _like_random(input, rng_of(generator).random, dtype, requires_grad)


@export(method=False)
def randn_like(input: Any, dtype: Any = None, requires_grad: bool = False,
               generator: Any = None, **unused: Any) -> Tensor:
    _not_traced("randn_like")
    return _like_random(input, rng_of(generator).standard_normal, dtype, requires_grad)


@export(method=False)
def randint_like(input: Any, low: int = 0, high: Any = None, dtype: Any = None,
                 requires_grad: bool = False, generator: Any = None) -> Tensor:
    _not_traced("randint_like")
    if high is None:
        low, high = 0, low
    rng = rng_of(generator)
    return _like_random(input, lambda s: rng.integers(low, high, size=s), dtype, requires_grad)


# ---- in-place initialisers (what nn.init uses) ----------------------------------------------

def _fill_with(t: Tensor, values: np.ndarray) -> Tensor:
    """Write freshly drawn values into `t` (an in-place op: its version goes up, and on a
    leaf that requires grad it needs `no_grad`, as in PyTorch; nn.init takes care of it)."""
    return inplace(t, ops.SetItem, _wrap(values.astype(t._data.dtype, copy=False)), Ellipsis)


@export(function=False)
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    return _fill_with(self, rng_of(generator).normal(mean, std, self._data.shape))


@export(function=False)
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None,
             **bounds: Any) -> Tensor:
    """Values uniform in [a, b) (PyTorch's `from`/`to` keywords work too)."""
    a, b = bounds.get("from", a), bounds.get("to", b)
    return _fill_with(self, rng_of(generator).uniform(a, b, self._data.shape))


@export(function=False)
def bernoulli_(self: Tensor, p: Any = 0.5, generator: Any = None) -> Tensor:
    probs = p._data if isinstance(p, Tensor) else p
    return _fill_with(self, rng_of(generator).random(self._data.shape) < probs)


@export(function=False)
def exponential_(self: Tensor, lambd: float = 1.0, generator: Any = None) -> Tensor:
    return _fill_with(self, rng_of(generator).exponential(1.0 / lambd, self._data.shape))


@export(function=False)
def random_(self: Tensor, low: int = 0, high: Any = None, generator: Any = None) -> Tensor:
    if high is None:
        low, high = 0, (low if low else 2 ** 24 if self._data.dtype.kind == "f" else
                        np.iinfo(self._data.dtype).max)
    return _fill_with(self, rng_of(generator).integers(low, high, self._data.shape))
