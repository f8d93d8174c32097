"""Keep freed array memory in the process instead of handing it back to the OS.

A training step makes and frees many arrays of the same large size. With glibc's defaults
the top of the heap is trimmed after each step and the next step faults every page in
again, which was measured here to make batch norm's forward + backward 3-5x slower. Asking
glibc to keep 64 MiB of slack at the top of the heap (M_TOP_PAD, the same knob as the
MALLOC_TOP_PAD_ environment variable) removes that churn. Only on Linux with glibc; skipped
when MALLOC_TOP_PAD_ is already set or MINIGRAD_MALLOC_TUNING=0.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameter numbers in glibc's malloc.h
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
TOP_PAD_BYTES = 64 * 1024 * 1024
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024      # glibc's own ceiling for its dynamic threshold


def tune_malloc() -> bool:
    """Set glibc's M_TOP_PAD once; returns True when it was set."""
    if not sys.platform.startswith("linux") or os.environ.get("MINIGRAD_MALLOC_TUNING") == "0":
        return False
    if "MALLOC_TOP_PAD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not hasattr(libc, "gnu_get_libc_version"):
            return False            # not glibc (e.g. musl)
        # Setting any of these switches off glibc's dynamic mmap threshold, so set it too:
        # arrays up to 32 MiB come from the heap, which keeps 64 MiB of slack on top.
        return all(libc.mallopt(param, value) for param, value in (
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (_M_TRIM_THRESHOLD, 2 * TOP_PAD_BYTES),
            (_M_TOP_PAD, TOP_PAD_BYTES),
        ))
    except OSError:
        return False
