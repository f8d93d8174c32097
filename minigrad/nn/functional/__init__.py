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
    celu,
    elu,
    gelu,
    glu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    logsumexp,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    tanh,
    tanhshrink,
    threshold,
)
from .distance import cosine_similarity, pairwise_distance, scaled_dot_product_attention
from .embedding import embedding, one_hot
from .layers import batch_norm, dropout, layer_norm
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    nll_loss,
)
from .normalization import normalize
from .padding import pad
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu",
    "cosine_similarity", "cross_entropy", "dropout", "elu", "embedding", "gelu", "glu",
    "hardtanh", "huber_loss", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "logsigmoid", "logsumexp", "mean", "mish", "mse_loss", "nll_loss",
    "normalize", "one_hot", "pad", "pairwise_distance", "prelu", "relu", "relu6",
    "scaled_dot_product_attention", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax",
    "softmin", "softplus", "softsign", "tanh", "tanhshrink", "threshold", "var",
]
