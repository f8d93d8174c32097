"""Optimizers with PyTorch's update rules and state dicts: SGD (momentum, Nesterov), Adam
(AMSGrad), AdamW, RMSprop, Adagrad; learning-rate schedules in `lr_scheduler`."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
