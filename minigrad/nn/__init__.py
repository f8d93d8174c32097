"""minigrad.nn: modules, layers, functional ops and initialisers on top of the Tensor engine.

    import minigrad.nn as nn
    import minigrad.nn.functional as F

Everything here is composed from the primitive ops of `minigrad.ops`; no backward code.
"""

from . import functional, init
from .layers import (
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    ReLU,
    Sigmoid,
    Tanh,
)
from .modules import IncompatibleKeys, Module, Parameter, Sequential

__all__ = [
    "BatchNorm1d", "Dropout", "Flatten", "Identity", "IncompatibleKeys", "LayerNorm", "Linear",
    "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "init",
]
