"""Workload E, the course's step: batch 32, Linear 30->200 -> BatchNorm1d(200) (training
mode) -> tanh -> Linear 200->27, softmax cross-entropy, SGD (lr 0.1, no momentum); one
zero_grad + forward + backward + step per call, float32 (the course's dtype and PyTorch's
default).

The network of makemore part 3 (three characters of 10-dim embeddings in, 27 characters
out) with the embedding lookup left out: the inputs are fixed float features of shape
(32, 30). Small arrays, so what is measured is mostly per-op overhead; the targets compare
with PyTorch at one thread. The engines are built by ``wl_mlp.py``'s builders."""

from __future__ import annotations

from typing import Any

from benchmarks.common import Settings, Skip
from benchmarks.data import COURSE_BATCH, COURSE_LR, COURSE_SIZES
from benchmarks.wl_mlp import (
    Spec,
    minigrad_case,
    minigrad_compiled_case,
    numpy_case,
    torch_case,
)

E = Spec("E", COURSE_SIZES, COURSE_BATCH, COURSE_LR, "tanh")
ENGINES = ("numpy", "minigrad", "minigrad-compiled", "torch-1t", "torch-2t")
DTYPES = ("float32",)


def cases(workload: str, engine: str, dtype: str, settings: Settings) -> dict[str, Any]:
    def build() -> Any:
        if engine == "numpy":
            return numpy_case(dtype, E)
        if engine == "minigrad":
            return minigrad_case(dtype, E)
        if engine == "minigrad-compiled":
            return minigrad_compiled_case(dtype, E)
        if engine.startswith("torch-"):
            return torch_case(dtype, int(engine.split("-")[1].rstrip("t")), E)
        raise Skip(f"unknown engine {engine!r} for workload E")

    return {"E": build}
