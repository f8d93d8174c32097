"""Confidence intervals and verdicts for the demos: the one place where uncertainty is computed.

Every comparison in the report runs the two variants on the same seeds (same initial weights,
same mini-batches) and works on the per-seed differences, so the seed-to-seed spread that both
variants share cancels:

    t-interval        mean +- t(0.975, n-1) * s / sqrt(n)          (s: sample std, ddof 1)
    paired            the t-interval of d_i = a_i - b_i
    ratio             the t-interval of log(a_i / b_i), exponentiated (a geometric-mean ratio)
    bootstrap         percentiles 2.5 and 97.5 of a statistic over resamples of the seeds
    smallest detectable effect (80% power, two-sided 5% test):
                      (t(0.975, n-1) + t(0.80, n-1)) * standard error

A verdict reads the interval against what a claim predicts: "supported" when the whole
interval lies on the predicted side of "no effect", "not supported" when it lies on the other
side or rules out every effect as large as the smallest one that matters (when the claim says
what that is), and "this set-up cannot tell" otherwise. Every verdict also states the smallest
effect the set-up could detect, so that "cannot tell" says how blunt the instrument was.

Only numpy and the standard library: the t quantiles come from the regularised incomplete beta
function, computed here by its continued fraction.

>>> round(t_ppf(0.975, 9), 4)
2.2622
>>> e = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
>>> round(e.lo, 4), round(e.hi, 4)
(1.0368, 4.9632)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LEVEL = 0.95        # every interval in the report
POWER = 0.80        # for the smallest detectable effect

# ---------------------------------------------------------------------------- Student's t


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))        # even step
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))   # odd step
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) = B(x; a, b) / B(a, b), for 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc: x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # the continued fraction converges fast for x < (a + 1) / (a + b + 2); else use symmetry
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom:
    1 - I_{df / (df + t^2)}(df / 2, 1 / 2) / 2 for t >= 0, and symmetric."""
    if df <= 0:
        raise ValueError(f"t_cdf: df must be positive, got {df}")
    if df > 1e7:                       # the normal limit (the beta function loses digits)
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.lru_cache(maxsize=1024)
def t_ppf(p: float, df: float) -> float:
    """The p-quantile of Student's t (inverse of `t_cdf`), by bisection to 1e-12."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_ppf: p must be in (0, 1), got {p}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class Estimate:
    """A number with its 95% confidence interval, how many seeds made it, and how.

    `se` is the standard error behind the interval (on the log scale for ratios), used for the
    smallest detectable effect."""

    value: float
    lo: float
    hi: float
    n: int
    method: str
    se: float = float("nan")
    log_scale: bool = False          # a ratio: the interval came from log(a / b)

    def __str__(self) -> str:
        return f"{_num(self.value)} [{_num(self.lo)}, {_num(self.hi)}]"

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return f"{self.value:{spec}} [{self.lo:{spec}}, {self.hi:{spec}}]"

    def pct(self, digits: int = 1) -> str:
        """As percentages, e.g. "93.1% [92.0%, 94.2%]"."""
        return (f"{100 * self.value:.{digits}f}% [{100 * self.lo:.{digits}f}%, "
                f"{100 * self.hi:.{digits}f}%]")

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n,
                "method": self.method, "se": self.se, "level": LEVEL}


def number_text(v: float, digits: int = 3) -> str:
    """A number in `digits` significant digits; scientific when tiny or huge."""
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


_num = number_text


def _clean(x: Sequence[float] | np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel()
    if a.size == 0:
        raise ValueError("no samples")
    return a


def mean_ci(x: Sequence[float] | np.ndarray, level: float = LEVEL) -> Estimate:
    """The mean of `x` with its t-interval: mean +- t((1 + level) / 2, n - 1) s / sqrt(n).

    One sample gives an interval of (-inf, inf): one seed says nothing about the spread."""
    a = _clean(x)
    n = a.size
    m = float(a.mean())
    if n < 2:
        return Estimate(m, -math.inf, math.inf, n, "t", math.inf)
    se = float(a.std(ddof=1) / math.sqrt(n))
    half = t_ppf(0.5 + level / 2.0, n - 1) * se
    return Estimate(m, m - half, m + half, n, "t", se)


def paired_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                level: float = LEVEL) -> Estimate:
    """Mean of a_i - b_i over paired seeds, with the t-interval of the differences."""
    a, b = _clean(a), _clean(b)
    if a.shape != b.shape:
        raise ValueError(f"paired_diff: {a.size} and {b.size} samples are not paired")
    e = mean_ci(a - b, level)
    return Estimate(e.value, e.lo, e.hi, e.n, "paired t", e.se)


def paired_ratio(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                 level: float = LEVEL) -> Estimate:
    """Geometric mean of a_i / b_i over paired seeds: exp of the t-interval of log(a_i / b_i).
    Needs positive numbers."""
    a, b = _clean(a), _clean(b)
    if a.shape != b.shape:
        raise ValueError(f"paired_ratio: {a.size} and {b.size} samples are not paired")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("paired_ratio: every value must be positive")
    e = mean_ci(np.log(a) - np.log(b), level)
    return Estimate(math.exp(e.value), math.exp(e.lo), math.exp(e.hi), e.n,
                    "paired log-ratio t", e.se, log_scale=True)


def bootstrap_ci(samples: Sequence[Any] | np.ndarray,
                 stat: Callable[[np.ndarray], float] = np.mean, n_boot: int = 4000,
                 seed: int = 0, level: float = LEVEL) -> Estimate:
    """Percentile bootstrap: resample the rows of `samples` (one row per seed; a row may hold
    a pair or a whole curve) with replacement, and take the (1 -+ level) / 2 quantiles of
    stat(resample). `se` is the standard deviation of the resampled statistic."""
    data = np.asarray(samples, dtype=float)
    n = data.shape[0]
    value = float(stat(data))
    if n < 2:
        return Estimate(value, -math.inf, math.inf, n, "bootstrap", math.inf)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    boots = np.array([stat(data[i]) for i in idx], dtype=float)
    boots = boots[np.isfinite(boots)]
    lo, hi = np.quantile(boots, [0.5 - level / 2.0, 0.5 + level / 2.0])
    return Estimate(value, float(lo), float(hi), n, "bootstrap", float(boots.std(ddof=1)))


def smallest_detectable(e: Estimate, power: float = POWER, level: float = LEVEL) -> float:
    """The smallest true effect that a two-sided test at 1 - level detects with probability
    `power`, given the standard error behind `e`: (t(1 - alpha/2) + t(power)) * se, with n - 1
    degrees of freedom (normal quantiles for a bootstrap). On the log scale for ratios."""
    if not math.isfinite(e.se) or e.n < 2:
        return math.inf
    if e.method == "bootstrap":
        q = t_ppf(0.5 + level / 2.0, 1e9) + t_ppf(power, 1e9)
    else:
        q = t_ppf(0.5 + level / 2.0, e.n - 1) + t_ppf(power, e.n - 1)
    return q * e.se


# ---------------------------------------------------------------------------- verdicts

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
CANNOT_TELL = "this set-up cannot tell"


@dataclass
class Verdict:
    """What a claim predicts, what was measured, and what the interval says.

    `predicts` is +1 when the claim predicts `estimate` above `null` (0 for a difference, 1
    for a ratio), -1 when below, and 0 when it predicts `estimate` equal to `null` within
    `meaningful` (then required: the tolerance). Otherwise `meaningful` is the smallest effect
    that would matter (in the estimate's units, as a distance from `null`; a factor for
    ratios): an interval around `null` that excludes it means "not supported".
    """

    claim: str
    quantity: str
    estimate: Estimate
    predicts: int
    seeds: list[int]
    paired: bool
    null: float = 0.0
    meaningful: float | None = None
    samples: dict[str, list[float]] | None = None    # the per-seed numbers behind it
    outcome: str = field(init=False)
    detectable: float = field(init=False)

    @classmethod
    def compare(cls, claim: str, quantity: str, a: Sequence[float] | np.ndarray,
                b: Sequence[float] | np.ndarray, predicts: int, seeds: Sequence[int],
                ratio: bool = False, meaningful: float | None = None) -> Verdict:
        """Two variants on the same seeds: a_i - b_i (or a_i / b_i with `ratio`), with the
        per-seed numbers kept beside the interval."""
        a = [float(v) for v in np.asarray(a, dtype=float).ravel()]
        b = [float(v) for v in np.asarray(b, dtype=float).ravel()]
        e = paired_ratio(a, b) if ratio else paired_diff(a, b)
        return cls(claim, quantity, e, predicts, list(seeds), paired=True,
                   null=1.0 if ratio else 0.0, meaningful=meaningful,
                   samples={"a": a, "b": b})

    @classmethod
    def measure(cls, claim: str, quantity: str, x: Sequence[float] | np.ndarray,
                predicts: int, seeds: Sequence[int], null: float = 0.0,
                meaningful: float | None = None) -> Verdict:
        """One quantity per seed against `null` (its t-interval)."""
        x = [float(v) for v in np.asarray(x, dtype=float).ravel()]
        return cls(claim, quantity, mean_ci(x), predicts, list(seeds), paired=False,
                   null=null, meaningful=meaningful, samples={"x": x})

    def __post_init__(self) -> None:
        if self.predicts not in (1, -1, 0):
            raise ValueError("Verdict: predicts must be +1, -1 or 0")
        if self.predicts == 0 and self.meaningful is None:
            raise ValueError("Verdict: a predicted equality needs a tolerance (meaningful)")
        e = self.estimate
        if e.n != len(self.seeds):
            raise ValueError(f"Verdict: the estimate has {e.n} samples but {len(self.seeds)} "
                             "seeds were given")
        self.detectable = self._in_units(smallest_detectable(e))
        self.outcome = decide(e, self.predicts, self.null, self.meaningful)

    def _in_units(self, d: float) -> float:
        """A log-scale distance as a factor for ratios; as it is otherwise."""
        return math.exp(d) if self.estimate.log_scale and math.isfinite(d) else d

    def detectable_text(self) -> str:
        if not math.isfinite(self.detectable):
            return "no effect (one seed)"
        if self.estimate.log_scale:
            return f"a factor of {self.detectable:.3g}"
        return f"{_num(self.detectable)}"

    def meaningful_text(self) -> str:
        """The smallest effect that matters (or the tolerance of a predicted equality)."""
        if self.meaningful is None:
            return "not stated"
        if self.predicts == 0:
            return f"+- {_num(self.meaningful)}"
        if self.estimate.log_scale:
            return f"a factor of {self.meaningful:.3g}"
        return _num(self.meaningful)

    def sentence(self) -> str:
        """One sentence for the report: measured, interval, seeds, verdict, detectable."""
        e = self.estimate
        pairing = "paired seeds" if self.paired else "seeds"
        predicted = (f", predicted {_num(self.null)} +- {_num(self.meaningful or 0.0)}"
                     if self.predicts == 0 else "")
        matters = ("" if self.meaningful is None or self.predicts == 0
                   else f", the smallest that matters {self.meaningful_text()}")
        quantity = self.quantity[:1].upper() + self.quantity[1:]
        return (f"{quantity}: {e} (95% CI, {e.n} {pairing}, {e.method}{predicted}) - "
                f"{self.outcome}; the smallest effect this set-up detects (80% power) is "
                f"{self.detectable_text()}{matters}.")

    def as_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "quantity": self.quantity,
                "estimate": self.estimate.as_dict(), "predicts": self.predicts,
                "null": self.null, "meaningful": self.meaningful, "seeds": list(self.seeds),
                "paired": self.paired, "outcome": self.outcome,
                "smallest detectable effect": self.detectable, "samples": self.samples}


def decide(e: Estimate, predicts: int, null: float = 0.0,
           meaningful: float | None = None) -> str:
    """"supported", "not supported" or "this set-up cannot tell", from the interval.

    Distances from `null` are measured on the log scale when `e` is a ratio, and signed so
    that the claim's direction is positive: [lo, hi] above 0 -> supported; below 0 -> not
    supported; around 0 -> not supported if hi is under the smallest effect that matters
    (`meaningful`), else cannot tell.
    A predicted equality (`predicts` 0, tolerance `meaningful`): [lo, hi] inside
    null +- tolerance -> supported; entirely outside it -> not supported; else cannot tell."""
    if predicts == 0:
        if meaningful is None:
            raise ValueError("decide: a predicted equality needs a tolerance")
        if null - meaningful <= e.lo and e.hi <= null + meaningful:
            return SUPPORTED
        if e.lo > null + meaningful or e.hi < null - meaningful:
            return NOT_SUPPORTED
        return CANNOT_TELL
    if e.log_scale:
        if e.lo <= 0 or null <= 0:
            raise ValueError("decide: a ratio needs positive bounds")
        lo, hi = math.log(e.lo) - math.log(null), math.log(e.hi) - math.log(null)
        m = None if meaningful is None else abs(math.log(meaningful))
    else:
        lo, hi = e.lo - null, e.hi - null
        m = None if meaningful is None else abs(meaningful)
    if predicts < 0:
        lo, hi = -hi, -lo
    if lo > 0:
        return SUPPORTED
    if hi < 0:
        return NOT_SUPPORTED
    if m is not None and hi < m:
        return NOT_SUPPORTED
    return CANNOT_TELL


# The smallest effects that matter, used by the demos' verdicts.
ACCURACY_POINT = 0.01      # one percentage point of accuracy
RATIO_FACTOR = 1.1         # 10% for a ratio of two variants


def band(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """Pointwise mean and t-interval of curves (rows: seeds, columns: points), for plots.
    NaNs (a run that stopped early) are left out column by column."""
    a = np.asarray(samples, dtype=float)
    if a.ndim != 2:
        raise ValueError("band: expected a 2-D array (seeds x points)")
    mean = np.full(a.shape[1], np.nan)
    lo = np.full(a.shape[1], np.nan)
    hi = np.full(a.shape[1], np.nan)
    for j in range(a.shape[1]):
        col = a[:, j][np.isfinite(a[:, j])]
        if col.size == 0:
            continue
        e = mean_ci(col, level)
        mean[j] = e.value
        lo[j], hi[j] = (e.lo, e.hi) if col.size > 1 else (e.value, e.value)
    return mean, lo, hi
