"""Bootstrap intervals and binomial bands against hand computations and known behaviour."""

import numpy as np
import pytest
from scipy import stats

from casestudies.stats import (
    binomial_band,
    bootstrap_ci,
    cluster_bootstrap,
    percentile_interval,
    wilson_interval,
)


def test_bootstrap_interval_of_a_mean_matches_the_normal_theory_width():
    rng = np.random.default_rng(1)
    x = rng.normal(10, 2, 2000)
    estimate = bootstrap_ci(np.mean, x, n_resamples=2000, random_state=0)
    standard_error = x.std(ddof=1) / np.sqrt(x.size)
    assert estimate.value == pytest.approx(x.mean())
    assert estimate.high - estimate.low == pytest.approx(2 * 1.96 * standard_error, rel=0.1)
    assert estimate.low < x.mean() < estimate.high


def test_bootstrap_is_paired_and_deterministic():
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    y = x + rng.normal(scale=0.01, size=300)
    difference = bootstrap_ci(lambda a, b: np.mean(a - b), x, y, n_resamples=300, random_state=3)
    # paired: the interval of the mean difference is as narrow as the noise, not as the data
    assert difference.high - difference.low < 0.01
    again = bootstrap_ci(lambda a, b: np.mean(a - b), x, y, n_resamples=300, random_state=3)
    assert difference == again


def test_bootstrap_drops_undefined_replicates():
    y = np.array([0] * 99 + [1])
    estimate = bootstrap_ci(lambda v: 1 / v.sum() if v.sum() else np.nan, y, n_resamples=200)
    assert np.isfinite(estimate.low) and np.isfinite(estimate.high)


def test_wilson_interval_by_hand():
    k, n, z = 7, 50, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half))


@pytest.mark.parametrize(("successes", "trials", "confidence"), [
    (0, 10, 0.95),        # no successes: the interval starts at 0
    (10, 10, 0.95),       # all successes: it ends at 1
    (0, 1, 0.90),
    (1, 1, 0.99),
    (7, 50, 0.95),
    (3, 1000, 0.99),      # a rare event
    (500, 1000, 0.80),
    (1, 3, 0.50),
    (0, 5000, 0.999),
    (5000, 5000, 0.999),
    (42, 97, 0.6827),
])
def test_wilson_interval_matches_statsmodels(successes, trials, confidence):
    from statsmodels.stats.proportion import proportion_confint

    reference = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    assert wilson_interval(successes, trials, confidence) == pytest.approx(
        reference, rel=1e-9, abs=1e-12)


def test_binomial_band_holds_the_nominal_share_of_simulated_proportions():
    rng = np.random.default_rng(4)
    low, high = binomial_band(0.8, 200)
    observed = rng.binomial(200, 0.8, size=4000) / 200
    inside = np.mean((observed >= low) & (observed <= high))
    assert inside >= 0.95


def test_cluster_bootstrap_resamples_whole_clusters_by_hand():
    values = np.array([1.0, 2.0, 10.0, 11.0, 12.0, 30.0])
    clusters = np.array([0, 0, 1, 1, 1, 2])
    replicates = cluster_bootstrap({"mean": lambda index: values[index].mean()}, clusters, 50,
                                   np.random.default_rng(4))["mean"]
    replay = np.random.default_rng(4)
    members = [np.array([0, 1]), np.array([2, 3, 4]), np.array([5])]
    expected = [values[np.concatenate([members[c] for c in replay.integers(0, 3, 3)])].mean()
                for _ in range(50)]
    np.testing.assert_allclose(replicates, expected)
    interval = percentile_interval(values.mean(), replicates)
    assert (interval.low, interval.high) == pytest.approx(np.quantile(expected, [0.025, 0.975]))
