"""Small data utilities: a mini-batch loader, the bundled digits data and toy datasets.

Everything here depends only on numpy (``load_digits`` additionally needs scikit-learn,
which ships the 8x8 digits inside its wheel, so nothing is downloaded).

All random functions take ``seed``: ``None`` (fresh entropy), an ``int``, or a
``numpy.random.Generator`` (used as is, so its state advances).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DataLoader",
    "load_digits",
    "train_test_split",
    "standardize",
    "make_moons",
    "CovariateShiftData",
    "covariate_shift_label",
    "make_covariate_shift",
    "make_scaled_features",
    "SCALED_FEATURES_WEIGHTS",
    "SCALED_FEATURES_BIAS",
    "SCALED_FEATURES_NOISE",
]

Seed = int | np.random.Generator | None


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


# ----------------------------------------------------------------------------- loader


class DataLoader:
    """Iterate mini-batches over one or more arrays that share their first dimension.

    ``DataLoader(X, y, batch_size=32)`` yields ``(X_batch, y_batch)`` tuples; with a single
    array it yields the batch array itself. ``len(loader)`` is the number of batches per
    epoch. With ``drop_last=True`` a final batch shorter than ``batch_size`` is skipped.

    With ``shuffle=True`` the loader owns a ``numpy.random.default_rng(seed)`` and draws a
    new permutation every time iteration starts (every epoch), so consecutive epochs differ
    but the whole sequence of epochs is reproducible for a given integer seed. Without
    shuffling, batches are views (slices) of the input arrays; with shuffling they are copies.
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: Seed = None,
    ) -> None:
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        arrs = tuple(np.asarray(a) for a in arrays)
        shapes = [a.shape for a in arrs]
        if any(a.ndim == 0 for a in arrs):
            raise ValueError(
                f"DataLoader arrays must have at least one dimension (samples); got shapes {shapes}"
            )
        n = arrs[0].shape[0]
        if any(a.shape[0] != n for a in arrs):
            raise ValueError(
                "all arrays given to DataLoader must have the same first dimension "
                f"(number of samples); got shapes {shapes}"
            )
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.arrays: tuple[np.ndarray, ...] = arrs
        self.batch_size: int = int(batch_size)
        self.shuffle: bool = bool(shuffle)
        self.drop_last: bool = bool(drop_last)
        self.rng: np.random.Generator = np.random.default_rng(seed)

    @property
    def n_samples(self) -> int:
        """Number of samples (the shared first dimension)."""
        return int(self.arrays[0].shape[0])

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n, bs = self.n_samples, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        stop = (n // bs) * bs if self.drop_last else n
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            if order is None:
                batch = tuple(a[start:end] for a in self.arrays)
            else:
                idx = order[start:end]
                batch = tuple(a[idx] for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch

    def __repr__(self) -> str:
        return (
            f"DataLoader(n_arrays={len(self.arrays)}, n_samples={self.n_samples}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


# ----------------------------------------------------------------------------- digits


_SKLEARN_HINT = (
    "load_digits needs scikit-learn (it ships the 8x8 digits data). "
    'Install the demos extra: pip install "minigrad[demos]" (or: pip install scikit-learn)'
)


def load_digits(as_float: bool = True, scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return the 1797 8x8 handwritten digits bundled with scikit-learn as ``(X, y)``.

    ``X`` has shape (1797, 64): float64 in [0, 1] (pixel / 16) by default, float64 in
    [0, 16] with ``scaled=False``, or int64 in [0, 16] with ``as_float=False, scaled=False``.
    ``y`` is int64 in 0..9. Scaling needs floats, so ``as_float=False`` with ``scaled=True``
    raises ValueError. No download happens; raises ImportError if scikit-learn is missing.
    """
    if not as_float and scaled:
        raise ValueError("scaled=True needs as_float=True; pass scaled=False for integer pixels")
    try:
        from sklearn.datasets import load_digits as _sklearn_load_digits
    except ImportError as err:
        raise ImportError(_SKLEARN_HINT) from err
    bunch = _sklearn_load_digits()
    X = np.array(bunch.data, dtype=np.float64)
    y = np.array(bunch.target, dtype=np.int64)
    if scaled:
        X /= 16.0
    elif not as_float:
        X = np.rint(X).astype(np.int64)
    return X, y


# ----------------------------------------------------------------------------- splitting


def train_test_split(
    X: Any, y: Any, test_fraction: float = 0.25, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` by a seeded random permutation into ``X_train, X_test, y_train, y_test``.

    The test set gets ``round(n * test_fraction)`` samples, clipped so that both parts keep at
    least one sample. Not stratified.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same first dimension; got shapes {X.shape} and {y.shape}"
        )
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}")
    n = X.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    n_test = min(max(int(round(n * test_fraction)), 1), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def standardize(X_train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Standardise features with the training set's per-column mean and std.

    Returns a flat tuple ``(X_train_std, *others_std, mean, std)`` of new float64 arrays, e.g.
    ``Xtr, Xte, mean, std = standardize(Xtr, Xte)``. Columns that are constant in
    ``X_train`` get std 1 (and become exactly 0 in the training set), so nothing divides by 0.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim == 0 or X_train.shape[0] == 0:
        raise ValueError(f"X_train must have at least one sample, got shape {X_train.shape}")
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    constant = np.ptp(X_train, axis=0) == 0
    std = np.where(constant, 1.0, std)
    mean = np.where(constant, X_train[0], mean)
    outputs = [(X_train - mean) / std]
    for i, other in enumerate(others):
        arr = np.asarray(other, dtype=np.float64)
        if arr.shape[1:] != X_train.shape[1:]:
            raise ValueError(
                f"array {i + 1} of others has shape {arr.shape}, incompatible with X_train "
                f"shape {X_train.shape} (feature dimensions must match)"
            )
        outputs.append((arr - mean) / std)
    return (*outputs, mean, std)


# ----------------------------------------------------------------------------- toys


def make_moons(
    n: int = 100, noise: float = 0.1, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in 2-D: ``X`` float64 (n, 2), ``y`` int64 in {0, 1}.

    Class 0 lies on the upper unit half circle ``(cos t, sin t)``; class 1 on the lower half
    circle ``(1 - cos t, 0.5 - sin t)``, with angles ``t`` uniform in [0, pi]. Class 0 gets
    ``n // 2`` points, class 1 the rest; Gaussian noise of std ``noise`` is added to both
    coordinates and the rows are shuffled.
    """
    if not _is_int(n) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n0 = int(n) // 2
    n1 = int(n) - n0
    t0 = rng.uniform(0.0, np.pi, size=n0)
    t1 = rng.uniform(0.0, np.pi, size=n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([upper, lower]).reshape(int(n), 2)
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    X = X + rng.normal(0.0, noise, size=X.shape)
    perm = rng.permutation(int(n))
    return X[perm], y[perm]


_SHIFT_RADIUS = 2.0
_SHIFT_TRAIN_CENTER = (-1.8, 0.0)
_SHIFT_TEST_CENTER = (1.3, 1.3)
_SHIFT_STD = 0.8


def covariate_shift_label(X: Any) -> np.ndarray:
    """The true rule of :func:`make_covariate_shift`: 1 inside the circle of radius 2 at 0.

    ``y = 1`` if ``x1**2 + x2**2 < 4`` else ``0``; ``X`` has shape (n, 2), returns int64 (n,).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    return (np.sum(X * X, axis=1) < _SHIFT_RADIUS**2).astype(np.int64)


@dataclass(frozen=True)
class CovariateShiftData:
    """Train/test arrays of :func:`make_covariate_shift` plus the shared labelling rule.

    Fields are also reachable dict-style, e.g. ``data["X_train"]``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_center: tuple[float, float] = _SHIFT_TRAIN_CENTER
    test_center: tuple[float, float] = _SHIFT_TEST_CENTER
    radius: float = _SHIFT_RADIUS

    def true_label(self, X: Any) -> np.ndarray:
        """Label any (n, 2) inputs with the rule shared by train and test."""
        return covariate_shift_label(X)

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__ and key != "true_label":
            raise KeyError(key)
        return getattr(self, key)


def make_covariate_shift(
    n_train: int = 200, n_test: int = 200, seed: Seed = None
) -> CovariateShiftData:
    """A 2-D covariate-shift toy: train and test inputs differ, the labelling rule does not.

    Rule (the same everywhere): ``y = 1`` if ``x1**2 + x2**2 < 4`` (inside the circle of
    radius 2 around the origin), else ``y = 0``; see :func:`covariate_shift_label`.

    Train inputs are Gaussian with mean (-1.8, 0) and std 0.8 per coordinate; test inputs are
    Gaussian with mean (1.3, 1.3) and std 0.8. Both centres sit just inside the circle, so each
    region holds both classes in roughly equal proportions, but the boundary runs in a different
    direction in each region (near-vertical for train, diagonal for test): a model that only
    learns the boundary locally around the training data extrapolates badly to the test data.
    Labels are noise-free.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    rng = np.random.default_rng(seed)
    X_train = rng.normal(_SHIFT_TRAIN_CENTER, _SHIFT_STD, size=(int(n_train), 2))
    X_test = rng.normal(_SHIFT_TEST_CENTER, _SHIFT_STD, size=(int(n_test), 2))
    return CovariateShiftData(
        X_train=X_train,
        y_train=covariate_shift_label(X_train),
        X_test=X_test,
        y_test=covariate_shift_label(X_test),
    )


SCALED_FEATURES_WEIGHTS: tuple[float, float] = (3.0, 0.003)
SCALED_FEATURES_BIAS: float = 1.0
SCALED_FEATURES_NOISE: float = 0.05


def make_scaled_features(n: int = 512, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Regression toy where one input is ~1000x larger than the other: ``(X, y)``.

    ``X`` float64 (n, 2): column 0 uniform on [0, 1], column 1 uniform on [1, 1000].
    ``y`` float64 (n,): ``3.0 * x0 + 0.003 * x1 + 1.0 + noise``, noise Gaussian with std 0.05
    (constants ``SCALED_FEATURES_WEIGHTS``, ``SCALED_FEATURES_BIAS``, ``SCALED_FEATURES_NOISE``).
    Both features move ``y`` by about the same amount, but on the raw inputs gradient descent
    must use a tiny learning rate (the loss curvature along column 1 is ~10^5 times larger),
    so the weight of column 0 barely moves; after :func:`standardize` it converges quickly.
    Use ``y[:, None]`` for an (n, 1) target.
    """
    if not _is_int(n) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0.0, 1.0, size=int(n))
    x1 = rng.uniform(1.0, 1000.0, size=int(n))
    X = np.column_stack([x0, x1])
    w0, w1 = SCALED_FEATURES_WEIGHTS
    y = w0 * x0 + w1 * x1 + SCALED_FEATURES_BIAS + rng.normal(0.0, SCALED_FEATURES_NOISE, int(n))
    return X, y
