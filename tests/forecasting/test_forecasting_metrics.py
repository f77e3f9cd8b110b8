"""Scores against hand computations and reference integrals."""

import numpy as np
import pytest
from scipy import integrate, stats

from casestudies.forecasting import metrics


def test_interval_score_by_hand():
    lower, upper, alpha = np.array([0.0, 0.0, 0.0]), np.array([2.0, 2.0, 2.0]), 0.1
    y = np.array([1.0, -0.5, 3.0])
    expected = np.array([2.0, 2.0 + 20 * 0.5, 2.0 + 20 * 1.0])
    np.testing.assert_allclose(metrics.interval_score(lower, upper, y, alpha), expected)


def test_interval_score_is_scaled_sum_of_pinball_losses():
    rng = np.random.default_rng(0)
    lower = rng.normal(size=50)
    upper = lower + rng.uniform(0.1, 2, 50)
    y = rng.normal(size=50)
    alpha = 0.2
    pinball = (metrics.pinball_loss(lower, y, alpha / 2)
               + metrics.pinball_loss(upper, y, 1 - alpha / 2))
    np.testing.assert_allclose(metrics.interval_score(lower, upper, y, alpha),
                               2 / alpha * pinball)


def test_pinball_loss_by_hand():
    assert metrics.pinball_loss(1.0, 3.0, 0.9) == pytest.approx(0.9 * 2)
    assert metrics.pinball_loss(1.0, -1.0, 0.9) == pytest.approx(0.1 * 2)


@pytest.mark.parametrize(("mean", "sd", "y"), [(0.0, 1.0, 0.3), (2.0, 0.5, 3.1), (-1, 3, -7)])
def test_gaussian_crps_equals_integral_definition(mean, sd, y):
    def integrand(x):
        return (stats.norm.cdf(x, mean, sd) - (x >= y)) ** 2

    numeric = (integrate.quad(integrand, mean - 12 * sd, y, limit=200)[0]
               + integrate.quad(integrand, y, mean + 12 * sd, limit=200)[0])
    assert metrics.crps_gaussian(mean, sd, y) == pytest.approx(numeric, rel=1e-6)


def test_sample_crps_equals_brute_force_energy_form():
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(3, 60))
    y = np.array([0.2, -1.0, 2.5])
    first = np.abs(samples - y[:, None]).mean(axis=1)
    pairwise = np.abs(samples[:, :, None] - samples[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(metrics.crps_samples(samples, y), first - 0.5 * pairwise,
                               rtol=1e-12)


def test_sample_crps_approaches_gaussian_crps():
    rng = np.random.default_rng(2)
    samples = rng.normal(1.0, 2.0, size=(1, 40000))
    assert metrics.crps_samples(samples, np.array([0.0]))[0] == pytest.approx(
        metrics.crps_gaussian(1.0, 2.0, 0.0), rel=0.02)


def test_conformal_quantile_rank():
    scores = np.arange(1, 20, dtype=float)  # n = 19: rank ceil(20 * 0.95) = 19
    assert metrics.conformal_quantile(scores, 0.05) == 19.0
    assert metrics.conformal_quantile(scores, 0.2) == 16.0  # ceil(20 * 0.8) = 16
    assert np.isinf(metrics.conformal_quantile(scores[:10], 0.05))


def test_conformal_quantile_per_column():
    scores = np.column_stack([np.arange(1, 21), 10 * np.arange(1, 21)]).astype(float)
    np.testing.assert_allclose(metrics.conformal_quantile(scores, 0.1, axis=0), [19, 190])


def test_mase_scale_by_hand():
    assert metrics.mase_scale(np.array([1.0, 3.0, 2.0, 6.0])) == pytest.approx((2 + 1 + 4) / 3)
    assert metrics.mase_scale(np.array([1.0, 3.0, 2.0, 6.0]), season=2) == pytest.approx(2.0)


def test_score_method_coverage_width_and_errors():
    actual = np.array([[1.0, 2.0], [3.0, 10.0]])
    point = np.array([[1.0, 1.0], [2.0, 4.0]])
    forecast = metrics.MethodForecast("m", "m", "test", point,
                                      lower={0.8: point - 1.5}, upper={0.8: point + 1.5})
    scores = metrics.score_method(forecast, actual, scale=2.0)
    np.testing.assert_allclose(scores.coverage[0.8], [1.0, 0.5])
    np.testing.assert_allclose(scores.width[0.8], [3.0, 3.0])
    assert scores.overall["MAE"] == pytest.approx((0 + 1 + 1 + 6) / 4)
    assert scores.overall["MASE"] == pytest.approx(2.0 / 2.0)
    assert scores.overall["RMSE"] == pytest.approx(np.sqrt((0 + 1 + 1 + 36) / 4))
    expected_is = np.mean([3, 3, 3, 3 + 2 / 0.2 * 4.5])
    assert scores.overall["MSIS 80"] == pytest.approx(expected_is / 2.0)


def test_adaptive_conformal_without_feedback_is_split_conformal():
    # Origins one step apart and horizon index 5: no outcome is known before the last origin
    # for k >= 3, so the half-width is the plain split-conformal quantile there.
    calibration = np.tile(np.arange(1, 20, dtype=float)[:, None], (1, 6))
    test_scores = np.full((3, 6), 100.0)
    half, updates = metrics.adaptive_conformal(calibration, test_scores, np.array([10, 11, 12]),
                                               alpha=0.05, gamma=0.02)
    np.testing.assert_allclose(half[:, 3:], 19.0)
    np.testing.assert_array_equal(updates, [2, 1, 0, 0, 0, 0])


def test_adaptive_conformal_update_by_hand():
    # One horizon, origins far apart: every earlier outcome is fed back.
    calibration = np.arange(1, 20, dtype=float)[:, None]  # n = 19
    test_scores = np.array([[50.0], [0.5], [0.5]])
    half, updates = metrics.adaptive_conformal(calibration, test_scores, np.array([0, 10, 20]),
                                               alpha=0.2, gamma=0.1)
    # Origin 0: quantile rank ceil(20 * 0.8) = 16 -> 16.
    assert half[0, 0] == 16.0
    # Origin 10: outcome 0 missed (50 > 16): alpha = 0.2 + 0.1 * (0.2 - 1) = 0.12; pool n = 20,
    # rank ceil(21 * 0.88) = 19 of [1..19, 50] -> 19.
    assert half[1, 0] == 19.0
    # Origin 20: outcome 1 covered: alpha = 0.12 + 0.1 * 0.2 = 0.14; pool n = 21 with 0.5,
    # rank ceil(22 * 0.86) = 19 of [0.5, 1..19, 50] -> 18.
    assert half[2, 0] == 18.0
    assert updates[0] == 2


def test_by_horizon_range_averages_each_bin():
    from casestudies.forecasting.pipeline import HORIZON_BINS, by_horizon_range

    horizon = 60
    values = np.arange(1, horizon + 1, dtype=float)
    table = by_horizon_range({"m": values}, horizon)
    assert list(table.columns) == ["method", "h=1", "h=2–10", "h=11–50", "h=51–60"]
    assert HORIZON_BINS[-1][0] == 51
    np.testing.assert_allclose(table.iloc[0, 1:].to_numpy(float),
                               [1.0, np.mean(values[1:10]), np.mean(values[10:50]),
                                np.mean(values[50:60])])
    short = by_horizon_range({"m": values[:5]}, 5)
    assert list(short.columns) == ["method", "h=1", "h=2–5"]
