"""Log and Box-Cox transforms: Guerrero's lambda, the rule of ``--transform auto`` on both sides,
the back-transformed median and bias-adjusted mean, and the CRPS on the original scale."""

import numpy as np
import pytest
from scipy import stats

from casestudies.errors import DataError
from casestudies.forecasting import transforms
from casestudies.forecasting.metrics import (
    back_transformed_gaussian,
    crps_gaussian,
    crps_quantiles,
)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.5, 1.0])
def test_inverse_undoes_boxcox(lam):
    y = np.array([0.5, 1.0, 7.0, 120.0])
    np.testing.assert_allclose(transforms.inverse_boxcox(transforms.boxcox(y, lam), lam), y,
                               rtol=1e-12)


def test_inverse_below_the_range_maps_to_zero():
    # lambda = 0.5: z = -2 is the image of y = 0; below it there is no preimage.
    assert transforms.inverse_boxcox(np.array([-3.0, -2.0]), 0.5).tolist() == [0.0, 0.0]


def test_guerrero_criterion_by_hand():
    # Subseries [1, 3] and [2, 6]: means 2 and 4, standard deviations sqrt(2) and 2 sqrt(2).
    # lambda = 0: ratios sd/mean are equal, coefficient of variation 0.
    # lambda = 1: ratios sqrt(2) and 2 sqrt(2), mean 1.5 sqrt(2), sd 1, CV = 1/(1.5 sqrt(2)).
    x = np.array([1.0, 3.0, 2.0, 6.0])
    assert transforms.guerrero_cv(0.0, x, 2) == pytest.approx(0.0, abs=1e-12)
    assert transforms.guerrero_cv(1.0, x, 2) == pytest.approx(1 / (1.5 * np.sqrt(2)))
    # The oldest, incomplete subseries is left out, as in R's forecast package.
    assert transforms.guerrero_cv(1.0, np.r_[99.0, x], 2) == pytest.approx(
        transforms.guerrero_cv(1.0, x, 2))


@pytest.mark.parametrize("true_lambda", [0.0, 0.3, 0.7])
def test_guerrero_recovers_the_lambda_that_makes_the_spread_constant(true_lambda):
    # Seasons whose standard deviation is exactly c * mean^(1 - lambda): the criterion is 0
    # at that lambda and positive elsewhere.
    shape = np.sin(2 * np.pi * np.arange(12) / 12)
    shape = shape / shape.std(ddof=1)
    means = np.linspace(20, 400, 15)
    x = np.concatenate([m + 0.1 * m ** (1 - true_lambda) * shape for m in means])
    lam, length = transforms.guerrero_lambda(x, 12.0)
    assert length == 12
    assert lam == pytest.approx(true_lambda, abs=1e-3)


@pytest.mark.parametrize("seed", range(4))
def test_auto_rule_on_both_sides(seed, airline_like, additive_like):
    multiplicative = transforms.measure_amplitude(airline_like(seed=seed), 12.0)
    additive = transforms.measure_amplitude(additive_like(seed=seed), 12.0)
    threshold = transforms.AMPLITUDE_GROWTH_THRESHOLD
    assert multiplicative.grows and multiplicative.growth > threshold
    assert multiplicative.slope == pytest.approx(1.0, abs=0.25)
    assert additive.grows is False and additive.growth < threshold
    assert additive.slope == pytest.approx(0.0, abs=0.25)


def test_auto_picks_boxcox_near_log_on_the_airline_like_series(airline_like, additive_like):
    y = airline_like()
    chosen = transforms.choose_transform(y, 120, 12.0, "auto", "passengers")
    assert chosen.name == "boxcox" and chosen.amplitude.grows
    assert 0.0 <= chosen.lam <= 0.2
    kept = transforms.choose_transform(additive_like(), 120, 12.0, "auto", "sales")
    assert kept.name == "none" and kept.amplitude.grows is False


def test_auto_on_co2_keeps_the_raw_scale():
    # Mauna Loa CO2: the seasonal swings do grow roughly in proportion to the level, but the
    # level rises by a sixth over the record, so the swings grow by far less than the threshold.
    from casestudies.forecasting.data import load_co2

    series = load_co2()
    measured = transforms.measure_amplitude(series.values, series.period)
    assert measured.slope is not None and measured.grows is False
    assert measured.growth < transforms.AMPLITUDE_GROWTH_THRESHOLD
    chosen = transforms.choose_transform(series.values, len(series.values), series.period,
                                         "auto", series.name)
    assert chosen.name == "none"


def test_auto_without_a_period_or_with_few_seasons_does_not_measure(airline_like):
    y = airline_like()
    assert transforms.measure_amplitude(y, None).slope is None
    few = transforms.measure_amplitude(y[:48], 12.0)
    assert few.slope is None and "fewer than" in few.why_not_measured


@pytest.mark.parametrize("requested", ["log", "boxcox"])
def test_log_and_boxcox_refuse_non_positive_values_in_one_line(requested, airline_like):
    y = airline_like()
    y[7] = -1.0
    with pytest.raises(DataError) as caught:
        transforms.choose_transform(y, 120, 12.0, requested, "passengers")
    message = str(caught.value)
    assert "\n" not in message and "--transform none" in message and "'passengers'" in message


def test_auto_falls_back_to_the_raw_scale_on_non_positive_values(airline_like):
    y = airline_like()
    y[7] = 0.0
    chosen = transforms.choose_transform(y, 120, 12.0, "auto", "passengers")
    assert chosen.name == "none" and "at or below zero" in chosen.fallback


def test_log_median_and_bias_adjusted_mean():
    mu, var = np.array([1.0, 2.0]), np.array([0.01, 0.04])
    # The median of a log-normal is exp(mu); its mean exp(mu + var/2), which the FPP3
    # second-order formula exp(mu)(1 + var/2) matches up to a relative var^2/8.
    log = transforms.Transform("log", "log", lam=0.0)
    np.testing.assert_allclose(log.inverse(mu), np.exp(mu))
    np.testing.assert_allclose(log.mean(mu, var), np.exp(mu + var / 2), rtol=var.max() ** 2)
    draws = np.exp(mu[0] + np.sqrt(0.3) * np.random.default_rng(0).standard_normal(400_000))
    assert np.median(draws) == pytest.approx(np.exp(mu[0]), rel=0.01)


def test_bias_adjusted_mean_is_exact_for_lambda_one_half():
    # (z/2 + 1)^2 with z ~ N(w, s2) has mean (w/2 + 1)^2 + s2/4, which the formula gives exactly.
    w, s2 = np.array([3.0, 10.0]), np.array([0.5, 2.0])
    np.testing.assert_allclose(transforms.bias_adjusted_mean(w, s2, 0.5),
                               (w / 2 + 1) ** 2 + s2 / 4, rtol=1e-12)


def test_bias_adjusted_mean_by_simulation():
    w, s2, lam = 4.0, 0.3, 0.25
    z = w + np.sqrt(s2) * np.random.default_rng(1).standard_normal(1_000_000)
    simulated = transforms.inverse_boxcox(z, lam).mean()
    assert transforms.bias_adjusted_mean(w, s2, lam) == pytest.approx(simulated, rel=2e-3)


def test_quantile_crps_matches_closed_forms():
    y = np.array([0.5, 2.0, 3.0, 9.0])
    mu, sigma = np.full(4, 0.8), np.full(4, 0.6)
    # Identity: the normal's closed form.
    normal = back_transformed_gaussian("m", "m", "ARIMA", mu, sigma ** 2, y, (0.95,),
                                       lambda v: v)
    np.testing.assert_allclose(normal.crps, crps_gaussian(mu, sigma, y), rtol=2e-3)
    # Exp: the log-normal's closed form (Baran & Lerch 2015).
    z = (np.log(y) - mu) / sigma
    lognormal = (y * (2 * stats.norm.cdf(z) - 1) - 2 * np.exp(mu + sigma ** 2 / 2)
                 * (stats.norm.cdf(z - sigma) + stats.norm.cdf(sigma / np.sqrt(2)) - 1))
    back = back_transformed_gaussian("m", "m", "ARIMA", mu, sigma ** 2, y, (0.95,), np.exp)
    np.testing.assert_allclose(back.crps, lognormal, rtol=5e-3)
    # Bounds and point map through the inverse: the point is the median.
    np.testing.assert_allclose(back.upper[0.95], np.exp(mu + 1.959963985 * sigma))
    np.testing.assert_allclose(back.point, np.exp(mu))


def test_crps_quantiles_of_a_point_mass_is_the_absolute_error():
    assert crps_quantiles(np.full((1, 50), 3.0), np.array([5.0]))[0] == pytest.approx(2.0)


def test_transform_and_differencing_verdicts_on_both_sides_of_their_thresholds():
    from casestudies.forecasting import arima
    from casestudies.forecasting import verdicts as rules

    threshold = transforms.AMPLITUDE_GROWTH_THRESHOLD
    assert rules.amplitude_grows("g", threshold * 1.01, threshold).holds
    assert not rules.amplitude_grows("g", threshold * 0.99, threshold).holds
    strength = arima.SEASONAL_STRENGTH_THRESHOLD
    assert rules.season_differenced("d", strength + 0.01, strength).holds
    assert not rules.season_differenced("d", strength - 0.01, strength).holds


def test_season_overdifferenced_on_both_sides_of_the_threshold():
    from casestudies.forecasting import arima
    from casestudies.forecasting import verdicts as rules
    threshold = -(1 - arima.SEASONAL_MA_CANCELS)
    assert rules.season_overdifferenced("o", threshold - 0.01, threshold).holds
    assert not rules.season_overdifferenced("o", threshold + 0.01, threshold).holds


def test_psi_match_on_both_sides_of_the_tolerance():
    from casestudies.forecasting import verdicts as rules
    tolerance = rules.PSI_MATCH_TOLERANCE
    assert rules.psi_matches_statsmodels("m", tolerance / 2, tolerance).holds
    assert not rules.psi_matches_statsmodels("m", 0.04, tolerance).holds


def test_psi_match_words_on_both_sides_of_the_tolerance():
    from casestudies.forecasting import report
    from casestudies.forecasting import verdicts as rules
    tolerance = rules.PSI_MATCH_TOLERANCE
    close = report.psi_match_words(rules.psi_matches_statsmodels("m", 1e-12, tolerance), "it")
    far = report.psi_match_words(rules.psi_matches_statsmodels("m", 0.0398, tolerance), "it")
    assert close.startswith("equals it") and "Kalman" not in close
    assert far.startswith("differs from it by up to 4.0%")
    assert "not settled" in far and "statsmodels'" in far
