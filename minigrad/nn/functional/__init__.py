"""Neural-network functions composed from minigrad's primitive Tensor ops.

There is NO backward code in this package. Every function is a composition of the primitives
in `minigrad.ops` (add, mul, sum, exp, log, pow, where, maximum, ...), so every gradient here,
batch norm's gradient through the mini-batch mean and variance included, is derived by the
engine. Constants (masks, one-hot targets, the max used to shift log-softmax) enter as
constant tensors of the graph.

Import as ``import minigrad.nn.functional as F``. Signatures are PyTorch's.
"""

from ...functions.linalg import linear
from ...functions.reduction import mean, var
from .activations import (
    gelu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    softmin,
    softplus,
    tanh,
)
from .layers import batch_norm, dropout, layer_norm
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss

__all__ = [
    "batch_norm", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "gelu",
    "layer_norm", "linear", "log_softmax", "logsumexp", "mean", "mse_loss", "nll_loss", "relu",
    "sigmoid", "softmax", "softmin", "softplus", "tanh", "var",
]
