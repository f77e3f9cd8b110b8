"""Decision rules: the Bayes threshold, costs, tuned thresholds, budgets and Saerens EM."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from casestudies.calibration import decisions as dec


@pytest.fixture(scope="module")
def known():
    """Transactions whose fraud probability is known exactly."""
    rng = np.random.default_rng(11)
    p = rng.beta(0.4, 12, 100_000)
    y = (rng.random(p.size) < p).astype(int)
    amount = rng.lognormal(3.5, 1.0, p.size)
    return p, y, amount


def test_t_star_formula():
    assert dec.bayes_threshold(5, 100) == pytest.approx(5 / 105)
    np.testing.assert_allclose(dec.amount_thresholds([10, 95], 5), [5 / 15, 5 / 100])


def test_t_star_minimises_expected_cost_with_known_probabilities(known):
    p, _, _ = known
    cost_fp, cost_fn = 5.0, 100.0
    grid = np.linspace(0.001, 0.2, 500)
    # Expected cost of "block iff p >= t" computed from the true probabilities themselves.
    expected = [np.mean(np.where(p >= t, (1 - p) * cost_fp, p * cost_fn)) for t in grid]
    best = grid[int(np.argmin(expected))]
    assert best == pytest.approx(dec.bayes_threshold(cost_fp, cost_fn), abs=0.002)


def test_t_star_is_near_the_realised_cost_minimum(known):
    p, y, _ = known
    grid = np.linspace(0.005, 0.3, 300)
    costs = dec.cost_by_threshold(y, p, grid, 5.0, 100.0)
    t_star = dec.bayes_threshold(5.0, 100.0)
    at_t_star = dec.constant_cost(y, p >= t_star, 5.0, 100.0)
    assert at_t_star <= costs.min() * 1.01


def test_cost_by_threshold_matches_direct_computation(known):
    p, y, amount = known
    p, y, amount = p[:3000], y[:3000], amount[:3000]
    grid = np.array([0.0, 0.01, 0.05, float(p[10]), 0.2, 1.1])
    fast = dec.cost_by_threshold(y, p, grid, 5.0, 80.0)
    slow = [dec.constant_cost(y, p >= t, 5.0, 80.0) for t in grid]
    np.testing.assert_allclose(fast, slow)
    fast = dec.cost_by_threshold(y, p, grid, 5.0, amount=amount)
    slow = [dec.amount_cost(y, p >= t, amount, 5.0) for t in grid]
    np.testing.assert_allclose(fast, slow)


def test_costs_by_hand():
    y = np.array([1, 0, 1, 0])
    blocked = np.array([1, 1, 0, 0])
    assert dec.constant_cost(y, blocked, 2.0, 10.0) == pytest.approx((2 + 10) / 4)
    amount = np.array([50.0, 5.0, 30.0, 1.0])
    assert dec.amount_cost(y, blocked, amount, 2.0) == pytest.approx((2 + 30) / 4)


def test_amount_rule_beats_any_single_threshold_with_known_probabilities(known):
    p, y, amount = known
    rule = dec.amount_cost(y, p >= dec.amount_thresholds(amount, 5.0), amount, 5.0)
    grid = dec.threshold_grid(p)
    single = dec.cost_by_threshold(y, p, grid, 5.0, amount=amount).min()
    assert rule < single


def test_tuned_threshold_agrees_with_grid_search():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20_000, 2))
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(X @ [1.5, -1.0] - 4)))).astype(int)
    model = LogisticRegression().fit(X[:10_000], y[:10_000])
    scores = model.predict_proba(X[10_000:])[:, 1]
    grid = dec.threshold_grid(scores, 500)
    tuned = dec.tune_threshold(model, X[10_000:], y[10_000:], grid, 5.0, 100.0)
    costs = dec.cost_by_threshold(y[10_000:], scores, grid, 5.0, 100.0)
    assert dec.constant_cost(y[10_000:], scores >= tuned, 5.0, 100.0) == pytest.approx(
        costs.min())
    assert dec.best_threshold(y[10_000:], scores, grid, 5.0, 100.0) == pytest.approx(
        grid[int(np.argmin(costs))])


def test_top_k_takes_the_highest_scores():
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.2])
    np.testing.assert_array_equal(dec.top_k(scores, 0.4), [False, True, False, True, False])
    assert dec.top_k(scores, 0.01).sum() == 1


def test_saerens_em_recovers_a_shifted_prior():
    rng = np.random.default_rng(4)
    train_prior = 0.02
    # Class-conditional scores fixed (label shift): x | y ~ N(2y, 1).
    n = 200_000
    for new_prior in (0.01, 0.05):
        y = rng.random(n) < new_prior
        x = rng.normal(2.0 * y, 1.0)
        likelihood_ratio = np.exp(2 * x - 2)
        odds = likelihood_ratio * train_prior / (1 - train_prior)
        p_train = odds / (1 + odds)  # calibrated for the training prior
        estimate, adjusted = dec.saerens_em(p_train, train_prior)
        assert estimate == pytest.approx(y.mean(), rel=0.1)
        assert adjusted.mean() == pytest.approx(estimate)


def test_adjust_to_prior_by_hand_and_as_odds():
    p = np.array([0.001, 0.02, 0.3, 0.9])
    pi, new = 0.02, 0.05
    hand = (new / pi * p) / (new / pi * p + (1 - new) / (1 - pi) * (1 - p))
    adjusted = dec.adjust_to_prior(p, pi, new)
    np.testing.assert_allclose(adjusted, hand, rtol=1e-12)
    # Bayes' rule multiplies the odds by the ratio of the prior odds.
    odds_ratio = (new / (1 - new)) / (pi / (1 - pi))
    np.testing.assert_allclose(adjusted / (1 - adjusted), odds_ratio * p / (1 - p), rtol=1e-10)
    np.testing.assert_allclose(dec.adjust_to_prior(p, pi, pi), p, rtol=1e-12)


def test_saerens_em_stops_at_its_fixed_point():
    rng = np.random.default_rng(9)
    p = rng.beta(0.5, 15, 50_000)
    estimate, adjusted = dec.saerens_em(p, 0.02)
    # pi' is the mean of the probabilities adjusted to pi' itself.
    assert np.mean(dec.adjust_to_prior(p, 0.02, estimate)) == pytest.approx(estimate, abs=1e-7)
    np.testing.assert_allclose(adjusted, dec.adjust_to_prior(p, 0.02, estimate), atol=1e-6)
