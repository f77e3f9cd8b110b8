"""The ARIMA math: psi-weights, forecast variance and the coverage of the analytic interval."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import arma2ma
from threadpoolctl import threadpool_limits

from casestudies.forecasting import arima
from casestudies.forecasting.data import simulate_arma_process

ORDERS = [((0.5,), ()), ((), (0.4,)), ((1.2, -0.4), (0.3,)), ((0.6, 0.2, -0.3), (0.5, -0.2)),
          ((-0.7,), (0.9, 0.3))]


@pytest.mark.parametrize(("ar", "ma"), ORDERS)
def test_psi_weights_equal_statsmodels_arma2ma(ar, ma):
    ours = arima.psi_weights(ar, ma, 40)
    reference = arma2ma(np.r_[1, -np.asarray(ar)], np.r_[1, np.asarray(ma)], lags=40)
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-14)


def test_psi_weights_with_differencing_are_cumulative_sums():
    # (1-B)^{-1} psi(B): the weights of an ARIMA(p,1,q) are partial sums of the ARMA weights.
    stationary = arima.psi_weights((0.5,), (0.3,), 30)
    integrated = arima.psi_weights((0.5,), (0.3,), 30, d=1)
    np.testing.assert_allclose(integrated, np.cumsum(stationary), rtol=1e-12)


def test_random_walk_variance_is_h_sigma2():
    variance = arima.forecast_variance((), (), sigma2=2.5, horizon=50, d=1)
    np.testing.assert_allclose(variance, 2.5 * np.arange(1, 51), rtol=1e-12)


def test_stationary_variance_converges_to_unconditional_variance():
    ar, ma, sigma2 = (0.5,), (), 1.0
    variance = arima.forecast_variance(ar, ma, sigma2, 200)
    np.testing.assert_allclose(variance[-1], sigma2 / (1 - 0.5**2), rtol=1e-10)
    assert np.all(np.diff(variance) >= 0)


@pytest.mark.parametrize(("order", "params", "trend"), [
    ((2, 0, 1), (0.0, 1.2, -0.4, 0.3, 1.0), "c"),
    ((1, 0, 2), (0.0, 0.6, 0.4, -0.3, 2.0), "c"),
    ((1, 1, 1), (0.05, 0.5, 0.3, 1.0), "t"),
    ((0, 1, 2), (0.0, 0.2, 0.1, 0.5), "t"),
])
def test_psi_variance_equals_state_space_forecast_variance(order, params, trend):
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.standard_normal(600)) if order[1] else rng.standard_normal(600)
    results = ARIMA(y, order=order, trend=trend).filter(np.asarray(params))
    statsmodels_var = results.get_forecast(100).var_pred_mean
    p, q = order[0], order[2]
    ar, ma, sigma2 = params[1:1 + p], params[1 + p:1 + p + q], params[-1]
    ours = arima.forecast_variance(ar, ma, sigma2, 100, d=order[1])
    np.testing.assert_allclose(ours, statsmodels_var, rtol=1e-8)


def test_fitted_model_psi_variance_matches_statsmodels_with_fourier_terms():
    rng = np.random.default_rng(5)
    t = np.arange(500)
    # A period of 13 steps is not monthly or quarterly: no seasonal ARIMA orders compete, and
    # the seasonality is modelled by the Fourier terms under test.
    y = np.cumsum(0.1 + rng.standard_normal(500)) + 3 * np.sin(2 * np.pi * t / 13)
    fit = arima.select_and_fit(y[:400], period=13.0, max_p=1, max_q=1)
    assert fit.order[1] == 1 and fit.harmonics == 3
    forecasts = arima.arima_backtest(fit, y, np.array([400, 420]), 30, paths=50,
                                     random_state=np.random.default_rng(0))
    np.testing.assert_allclose(forecasts.var_psi, forecasts.var_statsmodels, rtol=1e-8)
    assert forecasts.samples.shape == (2, 30, 50)


def test_analytic_interval_with_known_parameters_covers_at_nominal_rate():
    # Many independent series from a known ARMA(2,1); the analytic 95% interval with the true
    # parameters must cover the h-step value at a rate within binomial error of 95%.
    ar, ma, sigma2 = (1.2, -0.4), (0.3,), 1.0
    horizons = np.array([1, 5, 20])
    variance = arima.forecast_variance(ar, ma, sigma2, int(horizons.max()))
    rng = np.random.default_rng(11)
    trials = 800
    with threadpool_limits(limits=1):
        hits = _count_hits(ar, ma, sigma2, horizons, variance, trials, rng)
    lower = stats.binom.ppf(0.0005, trials, 0.95) / trials
    upper = stats.binom.ppf(0.9995, trials, 0.95) / trials
    assert np.all((hits / trials >= lower) & (hits / trials <= upper)), hits / trials


def _count_hits(ar, ma, sigma2, horizons, variance, trials, rng):
    longest = int(horizons.max())
    hits = np.zeros(len(horizons))
    for _ in range(trials):
        y = simulate_arma_process(ar, ma, 220, 1.0, rng, burn_in=200)
        origin = 200
        results = ARIMA(y[:origin], order=(2, 0, 1), trend="n").filter(
            np.r_[ar, ma, sigma2])
        mean = results.get_forecast(longest).predicted_mean[horizons - 1]
        low, high = arima.gaussian_interval(mean, variance[horizons - 1], 0.95)
        truth = y[origin + horizons - 1]
        hits += (truth >= low) & (truth <= high)
    return hits


def test_gaussian_interval_uses_normal_quantile():
    low, high = arima.gaussian_interval(np.array([1.0]), np.array([4.0]), 0.95)
    np.testing.assert_allclose(high - 1.0, 1.959963984540054 * 2.0)
    np.testing.assert_allclose(1.0 - low, high - 1.0)


def test_parameter_uncertainty_paths_have_expected_shape_and_spread():
    rng = np.random.default_rng(2)
    y = 5 + simulate_arma_process((0.7,), (), 400, 1.0, rng)
    fit = arima.select_and_fit(y[:300], None, 1, 0)
    paths = arima.parameter_uncertainty_paths(fit, y, 300, 10, draws=20, paths_per_draw=25,
                                              random_state=np.random.default_rng(0))
    assert paths.shape == (10, 500)
    analytic_sd = np.sqrt(arima.forecast_variance(fit.ar, fit.ma, fit.sigma2, 10))
    np.testing.assert_allclose(paths.std(axis=1), analytic_sd, rtol=0.2)
