"""Deterministic inputs shared by every engine (numpy seeds only)."""

from __future__ import annotations

import numpy as np

SEED = 1234

# Workload A
MOONS_N = 100
SCALAR_SIZES = (2, 16, 16, 1)
SCALAR_ALPHA = 1e-4
SCALAR_LR = 0.05

# Workload B
MLP_SIZES = (64, 256, 256, 256, 10)
MLP_BATCH = 128
MLP_LR = 0.01
BN_EPS = 1e-5
BN_MOMENTUM = 0.1

# Workload C
BN_N, BN_D = 256, 1024

# Workload E, the course's step (makemore part 3's network: 3 characters x 10-dim embeddings
# in, 27 characters out): Linear 30->200 -> BatchNorm1d -> tanh -> Linear 200->27, batch 32.
# Parameters and data come from mlp_init / mlp_data with these sizes.
COURSE_SIZES = (30, 200, 27)
COURSE_BATCH = 32
COURSE_LR = 0.1


def make_moons(n: int = MOONS_N, noise: float = 0.1, seed: int = SEED) -> tuple[
    np.ndarray, np.ndarray
]:
    """Two interleaving half circles; labels are -1.0 / +1.0 (for the hinge loss)."""
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([-np.ones(n_upper), np.ones(n_lower)])
    order = rng.permutation(n)
    return X[order], y[order]


def scalar_mlp_init(sizes: tuple[int, ...] = SCALAR_SIZES, seed: int = SEED) -> list[
    tuple[np.ndarray, np.ndarray]
]:
    """(W (out, in), b (out,)) per layer, uniform in [-1, 1] (micrograd's scheme, but a
    non-zero bias so that the bias gradients are checked too)."""
    rng = np.random.default_rng(seed + 1)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = rng.uniform(-1.0, 1.0, (n_out, n_in))
        b = rng.uniform(-0.1, 0.1, n_out)
        layers.append((W, b))
    return layers


def mlp_init(sizes: tuple[int, ...] = MLP_SIZES, dtype: type = np.float64, seed: int = SEED) -> (
    list[np.ndarray]
):
    """Parameters of workload B in canonical order:
    ``[W1, b1, gamma1, beta1, W2, b2, gamma2, beta2, W3, b3, gamma3, beta3, W4, b4]``.
    Linear weights are (out, in), uniform in +-1/sqrt(in) (PyTorch's default scale);
    gamma and beta are perturbed from 1 and 0 so their gradients are not degenerate."""
    rng = np.random.default_rng(seed + 2)
    params: list[np.ndarray] = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)))
        params.append(rng.uniform(-bound, bound, n_out))
        if i < n_layers - 1:
            params.append(1.0 + 0.1 * rng.standard_normal(n_out))
            params.append(0.1 * rng.standard_normal(n_out))
    return [p.astype(dtype) for p in params]


def mlp_param_names(sizes: tuple[int, ...] = MLP_SIZES) -> list[str]:
    names = []
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        names += [f"linear{i + 1}.weight", f"linear{i + 1}.bias"]
        if i < n_layers - 1:
            names += [f"bn{i + 1}.weight", f"bn{i + 1}.bias"]
    return names


def mlp_data(sizes: tuple[int, ...] = MLP_SIZES, batch: int = MLP_BATCH, dtype: type = np.float64,
             seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (batch, sizes[0]) and integer class targets (batch,)."""
    rng = np.random.default_rng(seed + 3)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    return X, y


def bn_data(n: int = BN_N, d: int = BN_D, dtype: type = np.float64, seed: int = SEED) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:
    """x (n, d), gamma (d,), beta (d,), R (n, d) for workload C."""
    rng = np.random.default_rng(seed + 4)
    x = (2.0 * rng.standard_normal((n, d)) + 0.5).astype(dtype)
    gamma = (1.0 + 0.1 * rng.standard_normal(d)).astype(dtype)
    beta = (0.1 * rng.standard_normal(d)).astype(dtype)
    R = rng.standard_normal((n, d)).astype(dtype)
    return x, gamma, beta, R
