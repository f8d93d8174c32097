"""minigrad.nn: modules, layers, losses, functional ops and initialisers on top of the
Tensor engine, with PyTorch's names and signatures.

    import minigrad.nn as nn
    import minigrad.nn.functional as F

Everything here is composed from the primitive ops of `minigrad.ops`; no backward code.
Where things live: modules.py (Parameter, Module), containers.py (Sequential, ModuleList,
ModuleDict, ParameterList, ParameterDict), layers.py (Linear, BatchNorm1d, LayerNorm,
Dropout, ...), embedding.py, activation.py, loss.py, distance.py, hooks.py (forward hooks), utils.py
(gradient clipping), init.py, functional/ (the formulas).
"""

from . import functional, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .distance import CosineSimilarity, PairwiseDistance
from .embedding import Embedding
from .hooks import RemovableHandle
from .layers import BatchNorm1d, Dropout, Flatten, Identity, LayerNorm, Linear, Unflatten
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .modules import IncompatibleKeys, Module, Parameter

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CELU", "CosineSimilarity",
    "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten", "GELU", "GLU", "Hardtanh",
    "HuberLoss", "Identity", "IncompatibleKeys", "KLDivLoss", "L1Loss", "LayerNorm",
    "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss", "Mish", "Module",
    "ModuleDict", "ModuleList", "NLLLoss", "PReLU", "PairwiseDistance", "Parameter",
    "ParameterDict", "ParameterList", "ReLU", "ReLU6", "RemovableHandle", "SELU", "Sequential",
    "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softmin", "Softplus", "Softsign", "Tanh",
    "Tanhshrink", "Threshold", "Unflatten", "functional", "init", "utils",
]
