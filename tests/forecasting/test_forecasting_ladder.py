"""The ladder's machinery against independent references: CSS refits recover the parameters,
conditional forecasts equal statsmodels' Kalman-filter forecasts, the mixture interval of one
component is the normal interval; and the conformal checks on data with and without
dependence."""

import numpy as np
import pytest
from scipy import stats

from casestudies.forecasting import conformal, ladder
from casestudies.forecasting.data import simulate_arma_process

AR, MA = (1.2, -0.4), (0.3,)


@pytest.fixture(scope="module")
def series():
    return 10 + simulate_arma_process(AR, MA, 3000, 1.0, random_state=7)


def test_css_fit_recovers_the_parameters(series):
    fit = ladder.css_fit(series, 2, 1)
    np.testing.assert_allclose(fit.ar, AR, atol=0.06)
    np.testing.assert_allclose(fit.ma, MA, atol=0.08)
    assert fit.mean == pytest.approx(10, abs=0.5) and fit.sigma2 == pytest.approx(1, abs=0.08)
    assert ladder.css_order_search(series, 2, 2).aic <= fit.aic


def test_conditional_forecasts_match_statsmodels(series):
    from statsmodels.tsa.arima.model import ARIMA

    origins = np.array([2500, 2800])
    params = (10.0, *AR, *MA, 1.0)
    mean, variance = ladder.conditional_forecasts(series, origins, 10.0, np.array(AR),
                                                  np.array(MA), 1.0, 30)
    for row, origin in enumerate(origins):
        model = ARIMA(series[:origin], order=(2, 0, 1), trend="c").filter(np.array(params))
        forecast = model.get_forecast(30)
        np.testing.assert_allclose(mean[row], forecast.predicted_mean, atol=1e-6)
        np.testing.assert_allclose(variance, forecast.var_pred_mean, rtol=1e-6)


def test_mixture_interval_of_one_normal_is_the_normal_interval():
    means = np.full((1, 2, 3), 5.0)
    variances = np.full((1, 3), 4.0)
    lower, upper = ladder.mixture_interval(means, variances, 0.95)
    np.testing.assert_allclose(upper, 5 + stats.norm.ppf(0.975) * 2, atol=1e-8)
    np.testing.assert_allclose(lower, 5 - stats.norm.ppf(0.975) * 2, atol=1e-8)
    # Two components far apart: the mixture interval spans both.
    two = np.stack([np.zeros((1, 1)), np.full((1, 1), 100.0)])
    lower, upper = ladder.mixture_interval(two, np.ones((2, 1)), 0.95)
    assert lower[0, 0] < 0 and upper[0, 0] > 100


def test_bias_correction_centres_refits_on_the_real_fit(series):
    train = series[:800]
    rng = np.random.default_rng(0)
    real = ladder.css_fit(train, 2, 1)
    refits = [ladder.css_fit(ladder.simulate(real.mean, real.ar, real.ma, real.sigma2, 800,
                                             rng), 2, 1) for _ in range(15)]
    corrected = ladder.bias_corrected(refits, train)
    assert len(corrected) >= 12
    if len(corrected) == len(refits):
        np.testing.assert_allclose(np.mean([f.ar for f in corrected], axis=0), real.ar,
                                   atol=1e-9)


def test_finite_sample_rank():
    assert conformal.finite_sample_rank(19, 0.95) == 19
    assert conformal.finite_sample_rank(30, 0.95) == 30       # the largest of 30 errors
    assert conformal.finite_sample_rank(18, 0.95) > 18        # no finite interval
    assert conformal.finite_sample_rank(99, 0.95) == 95


def test_exchangeability_test_flags_dependence_and_not_its_absence():
    rng = np.random.default_rng(2)
    dependent = np.abs(simulate_arma_process((0.9,), (), 60, 1.0, random_state=3))
    _, p_dependent = conformal.exchangeability_test(dependent, rng, permutations=999)
    assert p_dependent < 0.01
    # The control: independent scores give a non-small p-value most of the time.
    pvalues = [conformal.exchangeability_test(np.abs(rng.standard_normal(60)), rng,
                                              permutations=199)[1] for _ in range(40)]
    assert np.mean(np.array(pvalues) < 0.05) < 0.2


def test_adaptive_bound_by_hand():
    # (max(0.05, 0.95) + 0.02) / (0.02 * 60) = 0.97 / 1.2
    assert conformal.adaptive_bound(0.05, 0.02, 60) == pytest.approx(0.97 / 1.2)
