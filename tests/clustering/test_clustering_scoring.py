"""Intervals over seeds and customers, and KNC, checked by hand and on both sides of a tie."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import pdist

from casestudies.clustering import scoring


def test_seed_customer_interval_excludes_zero_only_for_a_real_difference():
    rng = np.random.default_rng(0)
    base = rng.normal(size=500)
    better = [base + 0.3 + 0.01 * rng.normal(size=500) for _ in range(3)]
    same = [base + 0.01 * rng.normal(size=500) for _ in range(3)]
    up = scoring.seed_customer_interval(better, [base], np.random.default_rng(1), 400)
    assert up.low > 0 and up.value == pytest.approx(np.mean(better) - np.mean(base))
    tie = scoring.seed_customer_interval(same, [base], np.random.default_rng(1), 400)
    assert tie.low < 0 < tie.high


def test_seed_disagreement_widens_the_interval():
    rng = np.random.default_rng(2)
    base = rng.normal(size=400)
    agreeing = [base + 0.1 for _ in range(4)]
    disagreeing = [base + shift for shift in (-0.3, 0.0, 0.2, 0.5)]
    narrow = scoring.seed_customer_interval(agreeing, [base], np.random.default_rng(3), 400)
    wide = scoring.seed_customer_interval(disagreeing, [base], np.random.default_rng(3), 400)
    assert wide.high - wide.low > 5 * (narrow.high - narrow.low)


def test_distance_correlation_interval_is_centred_on_the_full_correlation():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 5))
    good, bad = X[:, :2], rng.normal(size=(80, 2))
    found = scoring.distance_correlation_intervals(X, {"good": [good], "bad": [bad]},
                                                   [("good", "bad")], rng, 50)
    estimate = found[("good", "bad")]
    expected = (stats.spearmanr(pdist(X), pdist(good))[0]
                - stats.spearmanr(pdist(X), pdist(bad))[0])
    assert estimate.value == pytest.approx(expected)
    assert estimate.low > 0


def test_seed_range_is_every_pair_of_seeds():
    e = scoring.seed_range([0.5, 0.7], [0.4])
    assert (e.value, e.low, e.high) == pytest.approx((0.2, 0.1, 0.3))
    assert np.isnan(e.confidence)


def test_k_nearest_classes_by_hand():
    labels = np.repeat(["a", "b", "c"], 2)
    X = np.array([[0, 0], [0, 0], [1, 0], [1, 0], [5, 0], [5, 0]], float)
    # On the map c sits next to a: a's nearest class (b) is lost, b's (a) kept, c's (b) lost.
    Y = np.array([[0, 0], [0, 0], [-3, 0], [-3, 0], [1, 0], [1, 0]], float)
    assert scoring.k_nearest_classes(X, Y, labels, 1) == pytest.approx(1 / 3)
    assert scoring.k_nearest_classes(X, X, labels, 1) == 1.0
