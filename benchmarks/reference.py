"""Hand-written numpy references: the ratio-1.00 rows of workloads B, C and E and the
gradient oracle of every row.

Every backward pass here is closed form, written out by hand:

* Linear ``z = h @ W.T + b``: ``dW = dz.T @ h``, ``db = sum(dz, 0)``, ``dh = dz @ W``.
* ReLU: ``dh = dout * (a > 0)``; tanh ``h = tanh(a)``: ``da = dh * (1 - h**2)``.
* Softmax cross-entropy (mean over the batch): ``dz = (softmax(z) - onehot(y)) / N``.
* Batch norm in training mode (Ioffe & Szegedy 2015, section 3): with
  ``xhat = (x - mu) / sqrt(var + eps)`` (biased variance) and ``y = gamma * xhat + beta``,
  ``dbeta = sum(dy)``, ``dgamma = sum(dy * xhat)`` and, collecting the paper's terms for
  ``dvar`` and ``dmu``, ``dx = (1 / (N * sqrt(var + eps))) *
  (N * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))`` with ``dxhat = dy * gamma``
  (sums over the batch axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.data import BN_EPS, BN_MOMENTUM

# ----------------------------------------------------------------------------- batch norm


@dataclass
class BNCache:
    xhat: np.ndarray
    invstd: np.ndarray
    gamma: np.ndarray


def bn_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = BN_EPS) -> tuple[
    np.ndarray, BNCache, np.ndarray, np.ndarray
]:
    """Training-mode batch norm over axis 0. Returns (y, cache, batch mean, biased var)."""
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = xc * invstd
    return gamma * xhat + beta, BNCache(xhat, invstd, gamma), mu, var


def bn_backward(dy: np.ndarray, cache: BNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form batch-norm backward. Returns (dx, dgamma, dbeta)."""
    n = dy.shape[0]
    xhat = cache.xhat
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dxhat = dy * cache.gamma
    dx = (cache.invstd / n) * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def bn_loss_and_grads(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, R: np.ndarray,
                      eps: float = BN_EPS) -> tuple[float, list[np.ndarray]]:
    """Workload C: ``loss = sum(batch_norm(x) * R)``; returns (loss, [dx, dgamma, dbeta])."""
    y, cache, _, _ = bn_forward(x, gamma, beta, eps)
    loss = float((y * R).sum())
    dx, dgamma, dbeta = bn_backward(R, cache)
    return loss, [dx, dgamma, dbeta]


# ----------------------------------------------------------------------------- MLP (B and E)


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z`` (N, C) against integer targets ``y``.
    Returns (loss, dloss/dz)."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) - shifted[rows, y]))
    dz = e / s
    dz[rows, y] -= 1.0
    dz /= n
    return loss, dz


def mlp_loss_and_grads(
    params: Sequence[np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    eps: float = BN_EPS,
    running: list[list[np.ndarray]] | None = None,
    momentum: float = BN_MOMENTUM,
    activation: str = "relu",
) -> tuple[float, list[np.ndarray]]:
    """Forward and backward of ``[Linear -> BatchNorm1d -> act] * k -> Linear -> CE`` with
    ``act`` ReLU (workload B) or tanh (workload E).

    ``params`` is in the canonical order of :func:`benchmarks.data.mlp_init`. When
    ``running`` (one ``[mean, var]`` pair per batch norm) is given, the running statistics
    are updated as PyTorch's BatchNorm1d does in training mode (unbiased variance)."""
    if activation not in ("relu", "tanh"):
        raise ValueError(f"activation must be 'relu' or 'tanh', not {activation!r}")
    n_hidden = (len(params) - 2) // 4
    n = X.shape[0]
    h = X
    saved = []
    for i in range(n_hidden):
        W, b, gamma, beta = params[4 * i: 4 * i + 4]
        z = h @ W.T + b
        a, cache, mu, var = bn_forward(z, gamma, beta, eps)
        if running is not None:
            rm, rv = running[i]
            rm *= 1.0 - momentum
            rm += momentum * mu
            rv *= 1.0 - momentum
            rv += (momentum * n / (n - 1)) * var
        # local: d act(a) / da (ReLU's as a mask; tanh's from its output)
        if activation == "relu":
            local = a > 0
            h_out = a * local
        else:
            h_out = np.tanh(a)
            local = 1.0 - h_out * h_out
        saved.append((h, cache, local))
        h = h_out
    W_out, b_out = params[-2], params[-1]
    logits = h @ W_out.T + b_out
    loss, dz = softmax_cross_entropy(logits, y)

    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    grads[-2] = dz.T @ h
    grads[-1] = dz.sum(axis=0)
    dh = dz @ W_out
    for i in reversed(range(n_hidden)):
        h_in, cache, local = saved[i]
        da = dh * local
        dz, dgamma, dbeta = bn_backward(da, cache)
        grads[4 * i + 0] = dz.T @ h_in
        grads[4 * i + 1] = dz.sum(axis=0)
        grads[4 * i + 2] = dgamma
        grads[4 * i + 3] = dbeta
        if i > 0:
            dh = dz @ params[4 * i]
    return loss, grads


def mlp_loss(params: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray,
             eps: float = BN_EPS, activation: str = "relu") -> float:
    """Loss only (used by the finite-difference test)."""
    return mlp_loss_and_grads(params, X, y, eps, activation=activation)[0]


def mlp_sgd_step(params: list[np.ndarray], X: np.ndarray, y: np.ndarray, lr: float,
                 running: list[list[np.ndarray]] | None = None,
                 activation: str = "relu") -> float:
    """One forward + backward + SGD step (no momentum), updating ``params`` in place."""
    loss, grads = mlp_loss_and_grads(params, X, y, running=running, activation=activation)
    for p, g in zip(params, grads, strict=True):
        p -= lr * g
    return loss


# ----------------------------------------------------------------------------- scalar MLP (A)


def scalar_mlp_loss_and_grads(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    X: np.ndarray,
    y: np.ndarray,
    alpha: float,
) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
    """Vectorised oracle for workload A: ReLU MLP (linear last layer), loss
    ``mean(relu(1 - y * score)) + alpha * sum(p * p)``. Returns (loss, [(dW, db), ...])."""
    acts = [X]
    pre = []
    h = X
    for i, (W, b) in enumerate(layers):
        z = h @ W.T + b
        pre.append(z)
        h = np.maximum(z, 0.0) if i < len(layers) - 1 else z
        acts.append(h)
    score = h[:, 0]
    margin = 1.0 - y * score
    n = X.shape[0]
    reg = sum(float((W * W).sum() + (b * b).sum()) for W, b in layers)
    loss = float(np.maximum(margin, 0.0).mean()) + alpha * reg
    dscore = np.where(margin > 0, -y, 0.0) / n
    dz = dscore[:, None]
    grads: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(layers)
    for i in reversed(range(len(layers))):
        W, b = layers[i]
        if i < len(layers) - 1:
            dz = dz * (pre[i] > 0)
        grads[i] = (dz.T @ acts[i] + 2 * alpha * W, dz.sum(axis=0) + 2 * alpha * b)
        dz = dz @ W
    return loss, grads
