"""Devices, as far as a CPU-only engine has them: `minigrad.device("cpu")`, and a `cuda`
namespace that says no GPU is available (so `device = "cuda" if
torch.cuda.is_available() else "cpu"` picks the CPU)."""

from __future__ import annotations

from typing import Any


class device:  # noqa: N801  (PyTorch's name)
    """A device; minigrad has one, the CPU."""

    __slots__ = ("type", "index")

    def __init__(self, spec: Any = "cpu", index: int | None = None) -> None:
        if isinstance(spec, device):
            spec, index = spec.type, spec.index
        text = str(spec)
        kind, _, num = text.partition(":")
        if kind not in ("cpu", "cuda", "mps", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps device type at start of device "
                               f"string: {text}")
        self.type = kind
        self.index = int(num) if num else index

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        try:
            o = device(other)
        except RuntimeError:
            return False
        return o.type == self.type and (o.index or 0) == (self.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = device("cpu")


def check_device(d: Any, what: str) -> None:
    """Accept the CPU; say clearly that anything else is not available here."""
    if d is None:
        return
    if device(d).type != "cpu":
        raise RuntimeError(f"{what}: minigrad runs on the CPU only (asked for device "
                           f"'{d}'); minigrad.cuda.is_available() is False")


class cuda:  # noqa: N801  (a namespace, as torch.cuda)
    """No GPU here: `minigrad.cuda.is_available()` is False."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """Accepted and ignored (there is no GPU generator)."""

    manual_seed_all = manual_seed


class backends:  # noqa: N801
    class mps:  # noqa: N801
        @staticmethod
        def is_available() -> bool:
            return False

    class cudnn:  # noqa: N801
        deterministic = True
        benchmark = False
