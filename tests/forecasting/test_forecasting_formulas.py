"""Formulas the report states that the other test files do not cover: AIC, the unit-root choice
of d, Fourier terms, the limit of integrated psi-weights, the true conditional variance, the
pinball column, and the simulator's formula written from its parameters."""

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.stattools import adfuller
from threadpoolctl import threadpool_limits

from casestudies.forecasting import arima, metrics
from casestudies.forecasting.data import ARIMA_TRUTH, ARMA_TRUTH, TrueModel, simulate_arma_process


def test_aic_table_is_minus_two_loglik_plus_two_k_and_chosen_is_smallest():
    y = 3 + simulate_arma_process((0.6,), (0.3,), 300, 1.0, random_state=8)
    with threadpool_limits(limits=1):
        fit = arima.select_and_fit(y, None, max_p=1, max_q=1)
        for row in fit.aic_table.itertuples():
            reference = ARIMA(y, order=(row.p, row.d, row.q), trend=fit.trend).fit()
            loglik, k = reference.llf, len(reference.params)
            assert row.AIC == pytest.approx(-2 * loglik + 2 * k, rel=1e-6)
    converged = fit.aic_table[fit.aic_table["converged"]]
    chosen = fit.aic_table[fit.aic_table["chosen"]].iloc[0]
    assert chosen["AIC"] == converged["AIC"].min()
    assert fit.order == (int(chosen["p"]), int(chosen["d"]), int(chosen["q"]))


def test_differencing_follows_the_adf_pvalue_at_the_stated_level():
    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.standard_normal(400))
    noise = rng.standard_normal(400)
    for series, expected_d in ((walk, 1), (noise, 0)):
        d, pvalue = arima.choose_differencing(series)
        reference = adfuller(series, autolag="AIC", result_object=False)[1]
        assert pvalue == pytest.approx(reference, rel=1e-12)
        assert d == int(pvalue >= arima.ADF_LEVEL) == expected_d


def test_fourier_terms_by_hand():
    terms = arima.fourier_terms(5, 12.0, 2)
    t = np.arange(5)
    expected = np.column_stack([np.sin(2 * np.pi * t / 12), np.sin(4 * np.pi * t / 12),
                                np.cos(2 * np.pi * t / 12), np.cos(4 * np.pi * t / 12)])
    np.testing.assert_allclose(terms, expected, atol=1e-15)
    assert arima.harmonics_for(52.18) == arima.MAX_HARMONICS
    assert arima.harmonics_for(5.0) == 2 and arima.harmonics_for(None) == 0
    assert arima.fourier_terms(5, None, 3) is None


@pytest.mark.parametrize(("ar", "ma"), [((0.5,), (0.3,)), ((0.3, -0.2), ()), ((), (0.4, 0.1))])
def test_integrated_psi_weights_tend_to_theta1_over_phi1(ar, ma):
    limit = arima.psi_limit(ar, ma)
    psi = arima.psi_weights(ar, ma, 300, d=1)
    assert psi[-1] == pytest.approx((1 + sum(ma)) / (1 - sum(ar)), rel=1e-12)
    assert limit == pytest.approx(psi[-1], rel=1e-10)
    # Far ahead the variance grows by sigma^2 psi_inf^2 per step.
    variance = arima.forecast_variance(ar, ma, 2.0, 300, d=1)
    assert variance[-1] - variance[-2] == pytest.approx(2.0 * limit**2, rel=1e-10)


@pytest.mark.parametrize("truth", [ARMA_TRUTH, ARIMA_TRUTH])
def test_true_conditional_variance_is_the_true_psi_weight_variance(truth):
    # The Kalman filter with the true parameters on a long past gives sigma^2 sum psi_j^2.
    rng = np.random.default_rng(6)
    values = 10 + np.cumsum(rng.standard_normal(500)) * truth.order[1]
    values = values + (0 if truth.order[1] else rng.standard_normal(500))
    _, variance = arima.true_forecasts(truth, values, np.array([400, 450]), 30)
    expected = arima.forecast_variance(truth.ar, truth.ma, truth.params[-1], 30,
                                       d=truth.order[1])
    np.testing.assert_allclose(variance, np.tile(expected, (2, 1)), rtol=1e-8)


def test_pinball_column_is_mean_pinball_loss_of_the_interval_bounds():
    rng = np.random.default_rng(9)
    actual = rng.normal(size=(4, 6))
    point = np.zeros((4, 6))
    lower = {0.8: point - 1.0, 0.95: point - 2.0}
    upper = {0.8: point + 1.0, 0.95: point + 2.0}
    scores = metrics.score_method(metrics.MethodForecast("m", "m", "test", point, lower, upper),
                                  actual, scale=1.0)
    losses = [metrics.pinball_loss(lower[lv], actual, (1 - lv) / 2).mean()
              for lv in (0.8, 0.95)]
    losses += [metrics.pinball_loss(upper[lv], actual, 1 - (1 - lv) / 2).mean()
               for lv in (0.8, 0.95)]
    assert scores.overall["pinball"] == pytest.approx(np.mean(losses), rel=1e-12)


def test_simulator_formula_is_written_from_its_parameters():
    model = TrueModel(order=(2, 0, 1), trend="c", params=(4.0, 0.7, -0.25, -0.5, 2.0))
    assert model.label == "ARMA(2,1)"
    assert model.formula == (r"y_t - 4 = 0.7\,(y_{t-1} - 4) - 0.25\,(y_{t-2} - 4) "
                             r"+ \varepsilon_t - 0.5\,\varepsilon_{t-1},"
                             r"\quad \varepsilon_t \sim N(0, 2)")
    integrated = TrueModel(order=(0, 1, 1), trend="t", params=(0.1, 0.4, 1.0))
    assert integrated.label == "ARIMA(0,1,1)"
    assert integrated.formula.startswith(r"\Delta y_t - 0.1 = \varepsilon_t + 0.4")
