"""demos/stats.py: the t quantiles against closed forms and printed tables, interval coverage
by simulation, paired comparisons, the smallest detectable effect, and the verdict rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from demos.stats import (
    CANNOT_TELL,
    NOT_SUPPORTED,
    SUPPORTED,
    Estimate,
    Verdict,
    band,
    betainc,
    bootstrap_ci,
    decide,
    mean_ci,
    paired_diff,
    paired_ratio,
    smallest_detectable,
    t_cdf,
    t_ppf,
)

# ---- Student's t -----------------------------------------------------------------------------


@pytest.mark.parametrize("t", [-30.0, -2.5, -0.3, 0.0, 0.7, 1.0, 4.0, 100.0])
def test_t_cdf_has_closed_forms_for_one_and_two_degrees_of_freedom(t):
    # df = 1 is the Cauchy distribution; df = 2 has cdf 1/2 + t / (2 sqrt(2 + t^2))
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-13)
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-13)


@pytest.mark.parametrize("df, q975, q80", [
    # two-sided 95% and one-sided 80% points from printed t tables
    (1, 12.7062, 1.3764), (2, 4.3027, 1.0607), (4, 2.7764, 0.9410), (9, 2.2622, 0.8834),
    (19, 2.0930, 0.8610), (29, 2.0452, 0.8542), (120, 1.9799, 0.8446),
])
def test_t_ppf_matches_the_tables(df, q975, q80):
    assert t_ppf(0.975, df) == pytest.approx(q975, abs=5e-5)
    assert t_ppf(0.80, df) == pytest.approx(q80, abs=5e-5)
    assert t_ppf(0.025, df) == pytest.approx(-q975, abs=5e-5)


def test_t_ppf_tends_to_the_normal_quantile():
    assert t_ppf(0.975, 1e9) == pytest.approx(1.959964, abs=1e-6)
    assert t_ppf(0.5, 7) == 0.0


def test_t_ppf_inverts_t_cdf():
    for df in (1, 3, 10, 50):
        for p in (0.01, 0.3, 0.9, 0.999):
            assert t_cdf(t_ppf(p, df), df) == pytest.approx(p, abs=1e-10)


def test_betainc_symmetry_and_a_closed_form():
    # I_x(a, 1) = x^a and I_x(a, b) = 1 - I_{1-x}(b, a)
    for x in (0.1, 0.5, 0.93):
        assert betainc(3.5, 1.0, x) == pytest.approx(x ** 3.5, rel=1e-12)
        assert betainc(2.0, 5.0, x) == pytest.approx(1 - betainc(5.0, 2.0, 1 - x), abs=1e-14)
    with pytest.raises(ValueError):
        betainc(1.0, 1.0, 1.5)


# ---- intervals ---------------------------------------------------------------------------------


def test_mean_ci_by_hand():
    # mean 3, s = sqrt(2.5), se = sqrt(0.5), t(0.975, 4) = 2.776445
    e = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451 * math.sqrt(0.5)
    assert (e.value, e.n, e.method) == (3.0, 5, "t")
    assert e.lo == pytest.approx(3 - half, abs=1e-6)
    assert e.hi == pytest.approx(3 + half, abs=1e-6)
    assert e.se == pytest.approx(math.sqrt(0.5))


def test_one_sample_gives_an_unbounded_interval():
    e = mean_ci([0.7])
    assert e.value == 0.7 and e.lo == -math.inf and e.hi == math.inf
    assert smallest_detectable(e) == math.inf


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    samples = rng.normal(2.0, 3.0, size=(4000, 5))
    hits = sum(e.lo <= 2.0 <= e.hi for e in map(mean_ci, samples))
    # binomial sd of the coverage over 4000 trials is ~0.0034
    assert abs(hits / 4000 - 0.95) < 0.012


def test_bootstrap_interval_covers_a_skewed_mean_about_95_percent_of_the_time():
    # exponential(1): true mean 1; the percentile bootstrap slightly under-covers at n = 40
    rng = np.random.default_rng(2)
    trials = 300
    hits = 0
    for k in range(trials):
        x = rng.exponential(1.0, 40)
        e = bootstrap_ci(x, n_boot=1000, seed=k)
        hits += e.lo <= 1.0 <= e.hi
    assert 0.88 <= hits / trials <= 0.98


def test_bootstrap_of_a_median_of_pairs():
    rng = np.random.default_rng(3)
    pairs = np.column_stack([rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 30)])
    e = bootstrap_ci(pairs, stat=lambda p: float(np.median(p[:, 0] - p[:, 1])), seed=0)
    assert e.method == "bootstrap" and e.n == 30
    assert e.lo < e.value < e.hi and e.lo > 0          # an effect of 1 sd, 30 pairs


def test_paired_difference_removes_the_shared_seed_effect():
    rng = np.random.default_rng(4)
    seed_effect = rng.normal(0.0, 5.0, 10)        # large, shared by both variants
    a = seed_effect + 1.0 + rng.normal(0.0, 0.1, 10)
    b = seed_effect + rng.normal(0.0, 0.1, 10)
    paired = paired_diff(a, b)
    assert 0.7 < paired.lo < 1.0 < paired.hi < 1.3
    unpaired_half = (mean_ci(a).hi - mean_ci(a).lo) / 2
    assert paired.hi - paired.lo < unpaired_half / 10
    with pytest.raises(ValueError):
        paired_diff([1.0, 2.0], [1.0])


def test_paired_ratio_is_a_geometric_mean_with_a_log_interval():
    e = paired_ratio([2.0, 8.0, 4.0], [1.0, 2.0, 1.0])     # ratios 2, 4, 4
    assert e.value == pytest.approx((2 * 4 * 4) ** (1 / 3))
    logs = np.log([2.0, 4.0, 4.0])
    half = t_ppf(0.975, 2) * logs.std(ddof=1) / math.sqrt(3)
    assert e.lo == pytest.approx(math.exp(logs.mean() - half))
    assert e.hi == pytest.approx(math.exp(logs.mean() + half))
    assert e.log_scale
    with pytest.raises(ValueError):
        paired_ratio([1.0, -1.0], [1.0, 1.0])


def test_smallest_detectable_effect_has_about_80_percent_power():
    # simulate paired differences with a true effect equal to the formula's value
    rng = np.random.default_rng(5)
    n, sigma = 10, 1.0
    effect = (t_ppf(0.975, n - 1) + t_ppf(0.8, n - 1)) * sigma / math.sqrt(n)
    detected = 0
    trials = 2000
    for _ in range(trials):
        e = mean_ci(rng.normal(effect, sigma, n))
        detected += e.lo > 0 or e.hi < 0
    assert 0.72 <= detected / trials <= 0.88
    e = mean_ci(rng.normal(0.0, sigma, n))
    assert smallest_detectable(e) == pytest.approx(
        (t_ppf(0.975, n - 1) + t_ppf(0.8, n - 1)) * e.se)


# ---- verdicts ----------------------------------------------------------------------------------


def _est(value, lo, hi, se=0.1, n=10, log=False):
    return Estimate(value, lo, hi, n, "paired t", se, log_scale=log)


def test_decide_reads_the_interval_against_the_claim():
    assert decide(_est(0.5, 0.2, 0.8), +1) == SUPPORTED
    assert decide(_est(-0.5, -0.8, -0.2), +1) == NOT_SUPPORTED          # the opposite
    assert decide(_est(-0.5, -0.8, -0.2), -1) == SUPPORTED
    # around zero, without a smallest effect that matters: the interval cannot tell
    assert decide(_est(0.0, -0.2, 0.2), +1) == CANNOT_TELL
    assert decide(_est(0.15, -0.05, 0.35), +1) == CANNOT_TELL
    # with one: not supported when the interval rules it out
    assert decide(_est(0.0, -0.2, 0.2), +1, meaningful=0.3) == NOT_SUPPORTED
    assert decide(_est(0.15, -0.05, 0.35), +1, meaningful=1.0) == NOT_SUPPORTED
    assert decide(_est(0.15, -0.05, 0.35), +1, meaningful=0.1) == CANNOT_TELL


def test_decide_on_ratios_works_on_the_log_scale():
    assert decide(_est(2.0, 1.5, 2.7, log=True), +1, null=1.0) == SUPPORTED
    assert decide(_est(0.5, 0.4, 0.6, log=True), -1, null=1.0) == SUPPORTED
    assert decide(_est(1.0, 0.9, 1.1, log=True), +1, null=1.0,
                  meaningful=1.5) == NOT_SUPPORTED


def test_decide_on_a_predicted_equality_needs_the_interval_inside_the_tolerance():
    assert decide(_est(-0.48, -0.52, -0.44), 0, null=-0.5, meaningful=0.1) == SUPPORTED
    assert decide(_est(-0.48, -0.62, -0.34), 0, null=-0.5, meaningful=0.1) == CANNOT_TELL
    assert decide(_est(-0.2, -0.3, -0.1), 0, null=-0.5, meaningful=0.1) == NOT_SUPPORTED
    with pytest.raises(ValueError):
        Verdict("equal", "x", _est(0.0, -1.0, 1.0, n=2), 0, [0, 1], paired=False)


def test_verdict_records_its_inputs_and_checks_the_seed_count():
    e = paired_diff([1.0, 1.2, 0.9], [0.1, 0.0, 0.2])
    v = Verdict("a claim", "a - b", e, +1, [0, 1, 2], paired=True)
    assert v.outcome == SUPPORTED
    d = v.as_dict()
    assert d["seeds"] == [0, 1, 2] and d["paired"] is True
    assert d["estimate"]["n"] == 3 and d["estimate"]["lo"] == e.lo
    assert math.isfinite(d["smallest detectable effect"])
    assert "95% CI" in v.sentence() and "supported" in v.sentence()
    with pytest.raises(ValueError):
        Verdict("a claim", "a - b", e, +1, [0, 1], paired=True)


def test_band_is_the_pointwise_t_interval():
    curves = np.array([[1.0, 2.0, np.nan], [3.0, 2.0, 5.0], [2.0, 2.0, np.nan]])
    mean, lo, hi = band(curves)
    assert mean[0] == 2.0 and lo[0] == pytest.approx(mean_ci([1, 3, 2]).lo)
    assert lo[1] == hi[1] == 2.0                     # no spread
    assert mean[2] == 5.0 and lo[2] == hi[2] == 5.0  # one finite value: no band
