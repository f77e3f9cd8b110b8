"""Calibrators against reference fits, and the undersampling correction on a known posterior."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from casestudies.calibration import metrics as cm
from casestudies.calibration.calibrators import (
    BetaCalibrator,
    ClippedIsotonicCalibrator,
    PlattCalibrator,
    TemperatureCalibrator,
    undersampling_correction,
)


@pytest.fixture(scope="module")
def miscalibrated():
    """Scores that are too extreme and too high: true log-odds = 0.6 * score log-odds - 1."""
    rng = np.random.default_rng(0)
    z = rng.normal(-3, 2, 30_000)
    p_true = 1 / (1 + np.exp(-(0.6 * z - 1)))
    y = (rng.random(z.size) < p_true).astype(int)
    return 1 / (1 + np.exp(-z)), y, p_true


def test_platt_is_logistic_regression_on_the_logit(miscalibrated):
    s, y, _ = miscalibrated
    platt = PlattCalibrator().fit(s, y)
    fit = sm.Logit(y, sm.add_constant(cm.logit(s, 1e-6))).fit(disp=0)
    assert platt.intercept_ == pytest.approx(fit.params[0], abs=1e-6)
    assert platt.slope_ == pytest.approx(fit.params[1], abs=1e-6)
    assert platt.slope_ == pytest.approx(0.6, abs=0.05)
    expected = 1 / (1 + np.exp(-(fit.params[0] + fit.params[1] * cm.logit(s[:5], 1e-6))))
    np.testing.assert_allclose(platt.predict(s[:5]), expected)


def test_platt_leaves_a_calibrated_model_alone(miscalibrated):
    _, y, p_true = miscalibrated
    platt = PlattCalibrator().fit(p_true, y)
    assert platt.slope_ == pytest.approx(1, abs=0.05)
    assert platt.intercept_ == pytest.approx(0, abs=0.1)


def test_isotonic_matches_scikit_learn_and_is_clipped(miscalibrated):
    s, y, _ = miscalibrated
    X = cm.logit(s, 1e-12)[:, None]
    model = LogisticRegression().fit(X[:5000], y[:5000])
    scores = model.predict_proba(X)[:, 1]
    iso = ClippedIsotonicCalibrator().fit(scores, y)
    # scikit-learn fits isotonic on decision_function, an increasing map of the probability:
    # the fitted values on the calibration rows are the same.
    reference = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic").fit(X, y)
    expected = reference.predict_proba(X)[:, 1]
    eps = 1 / (2 * y.size)
    np.testing.assert_allclose(iso.predict(scores), np.clip(expected, eps, 1 - eps), atol=1e-9)
    assert iso.predict(scores).min() >= eps > 0


def test_beta_is_logistic_regression_on_log_features(miscalibrated):
    s, y, _ = miscalibrated
    beta = BetaCalibrator().fit(s, y)
    features = np.column_stack([np.log(s), -np.log1p(-s)])
    reference = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-12).fit(features, y)
    assert beta.a_ == pytest.approx(reference.coef_[0, 0], abs=1e-4)
    assert beta.b_ == pytest.approx(reference.coef_[0, 1], abs=1e-4)
    assert beta.c_ == pytest.approx(reference.intercept_[0], abs=1e-3)
    np.testing.assert_allclose(beta.predict(s), reference.predict_proba(features)[:, 1],
                               atol=1e-5)


def test_temperature_minimises_the_log_loss(miscalibrated):
    s, y, _ = miscalibrated
    temperature = TemperatureCalibrator().fit(s, y)
    z = cm.logit(s, 1e-6)

    def loss(t):
        return cm.log_loss(y, 1 / (1 + np.exp(-z / t)))

    best = loss(temperature.temperature_)
    for factor in (0.9, 0.97, 1.03, 1.1):
        assert best <= loss(temperature.temperature_ * factor)


def test_temperature_cannot_undo_a_base_rate_shift_but_platt_can(miscalibrated):
    _, y, p_true = miscalibrated
    beta = 0.05
    shifted = p_true / (p_true + beta * (1 - p_true))  # the undersampled model's view
    t_scaled = TemperatureCalibrator().fit(shifted, y).predict(shifted)
    platt = PlattCalibrator().fit(shifted, y).predict(shifted)
    assert abs(cm.observed_expected(y, platt) - 1) < 0.02
    assert abs(cm.observed_expected(y, t_scaled) - 1) > 0.2


def test_undersampling_correction_inverts_the_bias_exactly():
    p = np.linspace(0.001, 0.999, 50)
    beta = 0.03
    p_s = p / (p + beta * (1 - p))
    np.testing.assert_allclose(undersampling_correction(p_s, beta), p, rtol=1e-12)


def test_undersampling_correction_recovers_a_known_posterior():
    rng = np.random.default_rng(5)
    x = rng.normal(size=300_000)
    p_true = 1 / (1 + np.exp(-(-4 + 1.2 * x)))
    y = rng.random(x.size) < p_true
    beta = 0.05
    kept = y | (rng.random(x.size) < beta)
    model = LogisticRegression().fit(x[kept, None], y[kept])
    p_s = model.predict_proba(x[:, None])[:, 1]
    corrected = undersampling_correction(p_s, beta)
    assert np.mean(np.abs(p_s - p_true)) > 0.1
    assert np.mean(np.abs(corrected - p_true)) < 0.005
    assert cm.observed_expected(y, corrected) == pytest.approx(1, abs=0.05)


def test_temperature_prediction_is_sigmoid_of_scaled_log_odds(miscalibrated):
    s, y, _ = miscalibrated
    temperature = TemperatureCalibrator().fit(s, y)
    z = np.log(s[:20]) - np.log1p(-s[:20])
    np.testing.assert_allclose(temperature.predict(s[:20]),
                               1 / (1 + np.exp(-z / temperature.temperature_)), rtol=1e-10)


def test_beta_with_equal_shapes_is_platt_on_the_log_odds(miscalibrated):
    s, _, _ = miscalibrated
    beta = BetaCalibrator()
    beta.a_, beta.b_, beta.c_ = 0.7, 0.7, -0.4
    platt = PlattCalibrator()
    platt.slope_, platt.intercept_ = 0.7, -0.4
    np.testing.assert_allclose(beta.predict(s), platt.predict(s), rtol=1e-9)
