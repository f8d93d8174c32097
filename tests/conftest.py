"""Shared fixtures for the minigrad core test suite.

Helpers are exposed as fixtures (not imported from this module) so that the test files stay
independent of how pytest puts ``tests/`` on ``sys.path``.
"""

import re

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """Every test starts and ends with minigrad's default dtype untouched.

    A test that calls ``minigrad.set_default_dtype`` must not leak its choice into the next
    test, even when it fails half-way.
    """
    try:
        import minigrad
    except ImportError:  # the package is not importable: nothing to protect
        yield
        return
    saved = minigrad.get_default_dtype()
    try:
        yield
    finally:
        minigrad.set_default_dtype(saved)


@pytest.fixture
def rng():
    """A freshly seeded numpy Generator: each test sees the same numbers on every run."""
    return np.random.default_rng(20240607)


def _numeric_grad(f, arrays, eps=1e-6):
    """Central differences of the scalar function ``f(*arrays)`` w.r.t. each array.

    ``f`` takes numpy float64 arrays and returns something ``float()`` accepts. The
    arrays are copied, never modified in place.
    """
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            saved = a[idx]
            a[idx] = saved + eps
            plus = float(f(*arrays))
            a[idx] = saved - eps
            minus = float(f(*arrays))
            a[idx] = saved
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


@pytest.fixture(scope="session")
def numeric_grad():
    """``numeric_grad(f, arrays, eps=1e-6)`` -> list of central-difference gradients."""
    return _numeric_grad


def _shape_regex(shape):
    """A regex matching a shape the way an error message may print it: (2, 3), [2, 3], 2x3."""
    dims = [str(int(d)) for d in shape]
    if len(dims) == 1:
        tup = rf"\(\s*{dims[0]}\s*,?\s*\)"
        return rf"(?:{tup}|\[\s*{dims[0]}\s*\])"
    sep = r"\s*,\s*"
    tup = r"\(\s*" + sep.join(dims) + r"\s*\)"
    lst = r"\[\s*" + sep.join(dims) + r"\s*\]"
    times = r"\s*[x×]\s*".join(dims)
    return rf"(?:{tup}|{lst}|\b{times}\b)"


@pytest.fixture(scope="session")
def shape_regex():
    """``shape_regex(shape)`` -> a regex that finds ``shape`` printed in a message."""
    return _shape_regex


def _floats_in(message):
    """Every number printed in ``message`` (plain or scientific notation), as floats."""
    found = re.findall(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?", message)
    return [float(s) for s in found]


@pytest.fixture(scope="session")
def floats_in():
    """``floats_in(message)`` -> list of the numbers printed in an error message."""
    return _floats_in


@pytest.fixture
def problem(rng):
    """Starting values and 100 steps of gradients (numpy) for the optimizer tests, the same
    for torch and minigrad (shapes: _optim_parity.SHAPES)."""
    p0 = [rng.standard_normal(s) for s in ((3, 2), (4,))]
    grads = [[rng.standard_normal(s) for s in ((3, 2), (4,))] for _ in range(100)]
    return p0, grads
