"""Calibration metrics against hand computations and reference libraries."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss

from casestudies.calibration import metrics as cm
from casestudies.stats import binomial_band

Y = np.array([0, 0, 1, 0, 1, 1, 0, 0])
P = np.array([0.1, 0.1, 0.1, 0.4, 0.4, 0.8, 0.8, 0.05])


@pytest.fixture(scope="module")
def calibrated():
    rng = np.random.default_rng(1)
    p = 1 / (1 + np.exp(-(rng.normal(-4, 1.5, 20_000))))
    y = (rng.random(p.size) < p).astype(int)
    return y, p


def test_log_loss_and_brier_match_scikit_learn_and_hand():
    hand = -np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P))
    assert cm.log_loss(Y, P) == pytest.approx(hand)
    assert cm.log_loss(Y, P) == pytest.approx(sk_log_loss(Y, P))
    assert cm.brier_score(Y, P) == pytest.approx(np.mean((P - Y) ** 2))
    assert cm.brier_score(Y, P) == pytest.approx(brier_score_loss(Y, P))


def test_brier_decomposition_by_hand_and_exact_for_discrete_forecasts():
    parts = cm.brier_decomposition(Y, P)
    # Groups by distinct forecast: 0.05 {0}, 0.1 {0,0,1}, 0.4 {0,1}, 0.8 {1,0}.
    groups = {0.05: [0], 0.1: [0, 0, 1], 0.4: [0, 1], 0.8: [1, 0]}
    base = Y.mean()
    rel = sum(len(v) * (f - np.mean(v)) ** 2 for f, v in groups.items()) / Y.size
    res = sum(len(v) * (np.mean(v) - base) ** 2 for v in groups.values()) / Y.size
    assert parts["reliability"] == pytest.approx(rel)
    assert parts["resolution"] == pytest.approx(res)
    assert parts["uncertainty"] == pytest.approx(base * (1 - base))
    assert parts["reliability"] - parts["resolution"] + parts["uncertainty"] == pytest.approx(
        cm.brier_score(Y, P))
    assert parts["within"] == pytest.approx(0, abs=1e-12)


def test_brier_decomposition_exact_on_many_discrete_values():
    rng = np.random.default_rng(0)
    p = rng.choice([0.01, 0.02, 0.05, 0.2, 0.6], 5000)
    y = (rng.random(p.size) < p).astype(int)
    parts = cm.brier_decomposition(y, p)
    total = parts["reliability"] - parts["resolution"] + parts["uncertainty"]
    assert total == pytest.approx(parts["brier"], rel=1e-12)


def test_observed_expected():
    assert cm.observed_expected(Y, P) == pytest.approx(3 / P.sum())


def test_cox_calibration_matches_statsmodels(calibrated):
    y, p = calibrated
    p_bent = 1 / (1 + np.exp(-(0.3 + 1.4 * cm.logit(p))))
    a, b = cm.cox_calibration(y, p_bent)
    fit = sm.Logit(y, sm.add_constant(cm.logit(p_bent))).fit(disp=0)
    assert a == pytest.approx(fit.params[0], abs=1e-6)
    assert b == pytest.approx(fit.params[1], abs=1e-6)
    # The true model is a = -0.3/1.4, b = 1/1.4; the estimate should be near it.
    assert b == pytest.approx(1 / 1.4, abs=0.1)


def test_spiegelhalter_by_hand():
    numerator = np.sum((Y - P) * (1 - 2 * P))
    denominator = np.sqrt(np.sum((1 - 2 * P) ** 2 * P * (1 - P)))
    z, p_value = cm.spiegelhalter_z(Y, P)
    assert z == pytest.approx(numerator / denominator)
    from scipy import stats
    assert p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_spiegelhalter_has_nominal_size_on_calibrated_data():
    rng = np.random.default_rng(7)
    n_sims, rejections = 400, 0
    for _ in range(n_sims):
        p = rng.beta(0.5, 20, 2000)
        y = (rng.random(p.size) < p).astype(int)
        rejections += cm.spiegelhalter_z(y, p)[1] < 0.05
    low, high = binomial_band(0.05, n_sims)
    assert low <= rejections / n_sims <= high


def test_ece_by_hand_and_against_calibration_curve():
    # Equal-width, 2 bins: [0, .5) holds rows 0-4 and 7, [.5, 1] rows 5-6.
    low = [0, 1, 2, 3, 4, 7]
    high = [5, 6]
    hand = (len(low) * abs(Y[low].mean() - P[low].mean())
            + len(high) * abs(Y[high].mean() - P[high].mean())) / Y.size
    assert cm.ece(Y, P, 2, "width") == pytest.approx(hand)
    rng = np.random.default_rng(3)
    p = rng.beta(1, 5, 3000)
    y = (rng.random(p.size) < np.sqrt(p)).astype(int)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(cm.equal_width_bins(p, 10), minlength=10)
    counts = counts[counts > 0]
    from_sklearn = np.sum(counts * np.abs(prob_true - prob_pred)) / y.size
    assert cm.ece(y, p, 10, "width") == pytest.approx(from_sklearn)


def test_equal_mass_ece_by_hand():
    # Sorted by P: rows 7, 0, 1, 2 form the lower half, rows 3, 4, 5, 6 the upper half.
    low, high = [7, 0, 1, 2], [3, 4, 5, 6]
    hand = (4 * abs(Y[low].mean() - P[low].mean()) + 4 * abs(Y[high].mean() - P[high].mean())) / 8
    assert cm.ece(Y, P, 2, "mass") == pytest.approx(hand)


def test_noise_floor_draws_labels_from_the_forecasts():
    p = np.array([0.1, 0.5, 0.9, 0.02])
    rates = cm.noise_floor(lambda y_, p_: y_, p, 4000, 0)
    # Each row's label is Bernoulli(p): its mean over the draws is p.
    np.testing.assert_allclose(rates.mean(axis=0), p, atol=0.02)


def test_consistency_bars_are_binomial_quantiles():
    from scipy import stats

    p = np.full(400, 0.1)
    y = np.zeros(400)
    table = cm.reliability_table(y, p, n_consistency=4000, random_state=0)
    low, high = stats.binom.ppf([0.025, 0.975], 400, 0.1) / 400
    assert table["consistency_low"][0] == pytest.approx(low, abs=1.5 / 400)
    assert table["consistency_high"][0] == pytest.approx(high, abs=1.5 / 400)


def test_equal_mass_bins_hold_equal_counts():
    p = np.random.default_rng(0).random(1000)
    assert set(np.bincount(cm.equal_mass_bins(p, 10))) == {100}
    hand_bins = cm.equal_mass_bins(P, 2)
    assert np.bincount(hand_bins).tolist() == [4, 4]


def test_debiased_ece_by_hand():
    bins = cm.equal_mass_bins(P, 2)
    total = 0.0
    for b in (0, 1):
        y, p = Y[bins == b], P[bins == b]
        o, f, n = y.mean(), p.mean(), y.size
        total += n / Y.size * ((o - f) ** 2 - o * (1 - o) / (n - 1))
    assert cm.debiased_ece(Y, P, 2) == pytest.approx(np.sqrt(max(total, 0)))


def test_debiasing_removes_most_of_the_noise_floor(calibrated):
    _, p = calibrated
    plug_in = cm.noise_floor(lambda y_, p_: np.sqrt(np.sum(
        np.bincount(cm.equal_mass_bins(p_, 15), weights=y_ - p_) ** 2
        / np.bincount(cm.equal_mass_bins(p_, 15))) / y_.size), p, 50, 0)
    debiased = cm.noise_floor(lambda y_, p_: cm.debiased_ece(y_, p_, 15), p, 50, 0)
    assert np.mean(debiased) < 0.5 * np.mean(plug_in)


def test_ece_sweep_stops_at_the_last_monotone_binning():
    p = np.linspace(0.05, 0.95, 8)
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    value, n_bins = cm.ece_sweep(y, p, max_bins=8)
    # Every binning up to the chosen one is monotone, the next one is not.
    for k in range(2, n_bins + 1):
        rates = np.bincount(cm.equal_mass_bins(p, k), weights=y) / np.bincount(
            cm.equal_mass_bins(p, k))
        assert np.all(np.diff(rates) >= 0)
    if n_bins < 8:
        k = n_bins + 1
        rates = np.bincount(cm.equal_mass_bins(p, k), weights=y) / np.bincount(
            cm.equal_mass_bins(p, k))
        assert np.any(np.diff(rates) < 0)
    assert value == pytest.approx(cm.ece(y, p, n_bins, "mass"))


def test_noise_floor_is_reproducible_and_positive_for_ece(calibrated):
    _, p = calibrated
    first = cm.noise_floor(lambda y_, p_: cm.ece(y_, p_, 15, "width"), p, 20, 5)
    second = cm.noise_floor(lambda y_, p_: cm.ece(y_, p_, 15, "width"), p, 20, 5)
    np.testing.assert_array_equal(first, second)
    assert np.all(first > 0)


def test_reliability_table_consistency_bars_cover_calibrated_points(calibrated):
    y, p = calibrated
    table = cm.reliability_table(y, p, random_state=0)
    assert table["count"].sum() == y.size
    inside = ((table["observed"] >= table["consistency_low"])
              & (table["observed"] <= table["consistency_high"]))
    assert inside.mean() >= 0.75
    assert np.all(table["consistency_low"] <= table["mean_predicted"] + 1e-12)


def test_logistic_fit_matches_statsmodels():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=3000), rng.normal(size=3000), np.ones(3000)])
    y = (rng.random(3000) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, -2.0])))).astype(int)
    np.testing.assert_allclose(cm.logistic_fit(X, y), sm.Logit(y, X).fit(disp=0).params,
                               atol=1e-6)


def test_consistency_bars_follow_the_confidence_level():
    p = np.full(2000, 0.05)
    y = np.zeros(2000)
    wide = cm.reliability_table(y, p, n_consistency=2000, random_state=0, confidence=0.95)
    narrow = cm.reliability_table(y, p, n_consistency=2000, random_state=0, confidence=0.5)
    assert narrow["consistency_low"][0] > wide["consistency_low"][0]
    assert narrow["consistency_high"][0] < wide["consistency_high"][0]
