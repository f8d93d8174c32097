"""Optimizers with PyTorch's update rules and state dicts: SGD (momentum, Nesterov), Adam
(AMSGrad), AdamW; learning-rate schedules in `lr_scheduler`."""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
