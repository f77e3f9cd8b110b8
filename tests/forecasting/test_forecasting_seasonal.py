"""Seasonal ARIMA orders: the expanded psi-weights, the candidate grid and its differencing
rules, and the intervals against statsmodels' SARIMAX on the same order."""

import warnings

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.statespace.sarimax import SARIMAX

from casestudies.forecasting import arima, transforms

# Relative tolerance of the interval bounds against SARIMAX, as a share of the interval's
# width: both maximise the same exact likelihood, so only the optimiser's stopping point could
# separate them.
SARIMAX_WIDTH_TOLERANCE = 1e-4


@pytest.mark.parametrize(("order", "seasonal_order", "params"), [
    ((1, 0, 1), (1, 0, 1, 12), (0.5, 0.3, 0.6, -0.4, 1.0)),
    ((0, 1, 1), (0, 1, 1, 12), (-0.4, -0.6, 0.5)),
    ((1, 1, 0), (1, 1, 0, 4), (0.3, -0.5, 2.0)),
])
def test_seasonal_psi_variance_equals_state_space_forecast_variance(order, seasonal_order,
                                                                     params):
    # After 600 observations the Kalman filter's forecast variance is the infinite-past one,
    # sigma^2 * sum psi_j^2 with psi from the expanded seasonal polynomials.
    rng = np.random.default_rng(2)
    y = np.cumsum(rng.standard_normal(600)) if order[1] else rng.standard_normal(600)
    results = ARIMA(y, order=order, seasonal_order=seasonal_order, trend="n").filter(
        np.asarray(params))
    expected = results.get_forecast(60).var_pred_mean
    p, q = order[0], order[2]
    big_p, big_d, _, period = seasonal_order
    ar, ma = params[:p], params[p:p + q]
    seasonal_ar, seasonal_ma = params[p + q:p + q + big_p], params[p + q + big_p:-1]
    psi = arima.psi_weights(ar, ma, 60, order[1], seasonal_ar, seasonal_ma, period, big_d)
    np.testing.assert_allclose(params[-1] * np.cumsum(psi ** 2), expected, rtol=1e-8)


def test_seasonal_psi_weights_by_hand():
    # (1 - B^4) y = (1 + 0.5 B^4) e: psi_0 = 1, psi_4 = 1.5, psi_8 = 1.5, other weights 0.
    psi = arima.psi_weights((), (), 10, 0, (), (0.5,), 4, 1)
    np.testing.assert_allclose(psi, [1, 0, 0, 0, 1.5, 0, 0, 0, 1.5, 0])


@pytest.mark.parametrize(("period", "expected"), [
    (12.0, 12), (4.0, 4), (365.25 / 7, None), (7.0, None), (None, None), (12.5, None)])
def test_seasonal_orders_join_for_monthly_and_quarterly_only(period, expected):
    assert arima.seasonal_arima_period(period) == expected


def test_seasonal_orders_need_four_seasons_of_training():
    assert arima.seasonal_arima_period(12.0, 48) == 12
    assert arima.seasonal_arima_period(12.0, 47) is None


def test_candidates_keep_fourier_terms_only_without_seasonal_differencing():
    undifferenced = arima.seasonal_candidates(1, 0, 12, 3, 1, 1)
    differenced = arima.seasonal_candidates(1, 1, 12, 3, 1, 1)
    assert sum(pairs == 3 for _, _, pairs in undifferenced) == 4
    assert {s for _, s, _ in undifferenced} == {(0, 0, 0, 0), (0, 0, 1, 12), (1, 0, 0, 12),
                                                 (1, 0, 1, 12)}
    assert all(pairs == 0 and s[1] == 1 for _, s, pairs in differenced)
    assert len(differenced) == 16


def test_trend_term_follows_the_total_differencing():
    assert [arima.trend_for(0), arima.trend_for(1), arima.trend_for(0, 1),
            arima.trend_for(1, 1)] == ["c", "t", "t", "n"]


def test_seasonal_strength_on_both_sides_of_the_threshold():
    rng = np.random.default_rng(0)
    t = np.arange(240)
    strong = 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 240)
    noise = rng.normal(0, 1, 240)
    assert arima.seasonal_strength(strong, 12) >= arima.SEASONAL_STRENGTH_THRESHOLD
    assert arima.seasonal_strength(noise, 12) < arima.SEASONAL_STRENGTH_THRESHOLD


@pytest.fixture(scope="module")
def airline_fit(airline_like):
    y = airline_like()
    chosen = transforms.choose_transform(y, len(y), 12.0, "auto", "passengers")
    z = chosen.forward(y)
    return y, chosen, z, arima.select_and_fit(z, 12.0, max_p=1, max_q=1)


def test_airline_like_series_gets_a_seasonal_arima(airline_fit):
    _, chosen, _, fit = airline_fit
    assert chosen.name in ("log", "boxcox")
    assert fit.seasonal_order[3] == 12 and fit.seasonal_order[1] == 1
    assert fit.seasonal_strength >= arima.SEASONAL_STRENGTH_THRESHOLD
    table = fit.aic_table
    eligible = table[table["converged"]]
    assert table.loc[table["chosen"], "AIC"].item() == eligible["AIC"].min()
    assert fit.label.startswith("ARIMA(") and "[12]" in fit.label


def test_seasonal_intervals_match_sarimax_on_both_scales(airline_fit):
    _, chosen, z, fit = airline_fit
    horizon = 24
    ours = fit.results.get_forecast(horizon)
    low, high = arima.gaussian_interval(np.asarray(ours.predicted_mean),
                                        np.asarray(ours.var_pred_mean), 0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SARIMAX(z, order=fit.order, seasonal_order=fit.seasonal_order,
                            trend=fit.trend).fit(disp=False)
    bounds = reference.get_forecast(horizon).conf_int(alpha=0.05)
    width = high - low
    np.testing.assert_allclose(bounds[:, 0], low, atol=SARIMAX_WIDTH_TOLERANCE * width.min())
    np.testing.assert_allclose(bounds[:, 1], high, atol=SARIMAX_WIDTH_TOLERANCE * width.min())
    # Back-transformed: the same quantiles on the original scale.
    original = chosen.inverse(np.stack([low, high]))
    np.testing.assert_allclose(chosen.inverse(bounds.T), original,
                               rtol=SARIMAX_WIDTH_TOLERANCE)
    # And our psi-weights give the same variance as the state-space filter.
    np.testing.assert_allclose(arima.fit_forecast_variance(fit, horizon), ours.var_pred_mean,
                               rtol=1e-6)


def test_admissible_checks_the_seasonal_polynomials(airline_fit):
    fit = airline_fit[3]
    names = ["ar.L1", "ar.S.L12", "sigma2"]
    assert arima._admissible(fit, names, np.array([0.3, -0.5, 1.0]))
    assert not arima._admissible(fit, names, np.array([0.3, -1.2, 1.0]))


def _fixed_season_plus_ar(n: int = 180, seed: int = 3) -> np.ndarray:
    # A seasonal pattern that repeats exactly, plus AR(1) noise: differencing the season
    # leaves (1 - B^12) applied to stationary noise, which a seasonal MA near -1 undoes.
    rng = np.random.default_rng(seed)
    pattern = 5 * np.sin(2 * np.pi * np.arange(12) / 12) + 2 * np.cos(4 * np.pi * np.arange(12)
                                                                       / 12)
    noise = np.zeros(n)
    shocks = rng.normal(0, 1, n)
    for t in range(1, n):
        noise[t] = 0.6 * noise[t - 1] + shocks[t]
    return 20 + np.tile(pattern, n // 12 + 1)[:n] + noise


def _stochastic_season(n: int = 180, seed: int = 6, theta: float = -0.4) -> np.ndarray:
    # (1 - B^12) y_t = (1 + theta B^12) e_t: a season that wanders, started from a fixed
    # pattern so that it is strong enough to be differenced.
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, 1, n)
    y = np.zeros(n)
    y[:12] = 8 * np.sin(2 * np.pi * np.arange(12) / 12)
    for t in range(12, n):
        y[t] = y[t - 12] + shocks[t] + theta * shocks[t - 12]
    return y


def test_fixed_season_is_over_differenced_and_chosen_again_without_the_difference():
    fit = arima.select_and_fit(_fixed_season_plus_ar(), 12.0, max_p=1, max_q=0)
    assert fit.overdifferenced is not None
    assert fit.overdifferenced.seasonal_ma <= -(1 - arima.SEASONAL_MA_CANCELS)
    assert "(0,1,1)[12]" in fit.overdifferenced.label or ",1,1)[12]" in fit.overdifferenced.label
    # The kept model does not difference the season, and it won the D = 0 grid by AIC.
    assert fit.seasonal_order[1] == 0
    assert fit.aic_table["D"].max() == 0
    eligible = fit.aic_table[fit.aic_table["converged"]]
    assert fit.aic_table.loc[fit.aic_table["chosen"], "AIC"].item() == eligible["AIC"].min()


def test_stochastic_season_keeps_its_seasonal_difference():
    fit = arima.select_and_fit(_stochastic_season(), 12.0, max_p=1, max_q=0)
    assert fit.overdifferenced is None
    assert fit.seasonal_order[1] == 1
    assert fit.seasonal_ma.size and fit.seasonal_ma[0] > -(1 - arima.SEASONAL_MA_CANCELS)
    assert not arima.season_cancelled(fit)


def _words_for(fit):
    from types import SimpleNamespace

    from casestudies.forecasting import pipeline, report
    from casestudies.forecasting import verdicts as rules
    coefficient = pipeline._seasonal_ma_of_differenced_winner(fit)
    verdicts = {}
    if coefficient is not None:
        verdicts["season_overdifferenced"] = rules.season_overdifferenced(
            "season_overdifferenced", coefficient, -(1 - arima.SEASONAL_MA_CANCELS))
    series = SimpleNamespace(arima=fit, verdicts=verdicts)
    return report.model_choice_words(series, arima.SEASONAL_STRENGTH_THRESHOLD)


def test_report_words_follow_the_over_differencing_verdict():
    fixed = _words_for(arima.select_and_fit(_fixed_season_plus_ar(), 12.0, max_p=1, max_q=0))
    stochastic = _words_for(arima.select_and_fit(_stochastic_season(), 12.0, max_p=1, max_q=0))
    assert "over-differenced" in fixed and "chosen again without it" in fixed
    assert "below the 0.640" not in fixed
    assert "over-differenced" not in stochastic
    assert "stochastic enough to be differenced" in stochastic
