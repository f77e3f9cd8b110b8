"""Simultaneous bands: the sup-t band holds whole simulated ARMA error paths at its nominal rate
(within Monte-Carlo error), Bonferroni at least at it, and the pointwise band far less often."""

import numpy as np
import pytest

from casestudies.forecasting import bands
from casestudies.forecasting.arima import forecast_variance, psi_weights
from casestudies.forecasting.data import simulate_arma_process

AR, MA, SIGMA2, H = (1.2, -0.4), (0.3,), 1.0, 50


def _fresh_error_paths(n_paths: int, seed: int) -> np.ndarray:
    """Errors of the optimal forecast from long ARMA histories, simulated independently of the
    psi-weight convolution: run the ARMA recursion forward from a common past and subtract the
    forecast the same recursion gives with the future shocks set to zero."""
    rng = np.random.default_rng(seed)
    past = simulate_arma_process(AR, MA, 200, np.sqrt(SIGMA2), random_state=rng)
    # Every path shares the same past; the last past shock is taken as known (zero).
    shocks = rng.standard_normal((n_paths, H)) * np.sqrt(SIGMA2)
    x = [np.full(n_paths, past[-2]), np.full(n_paths, past[-1])]
    mean = [past[-2], past[-1]]
    prev_shock, prev_known = np.zeros(n_paths), 0.0
    errors = np.empty((n_paths, H))
    for h in range(H):
        value = AR[0] * x[-1] + AR[1] * x[-2] + MA[0] * prev_shock + shocks[:, h]
        forecast = AR[0] * mean[-1] + AR[1] * mean[-2] + MA[0] * prev_known
        x.append(value)
        mean.append(forecast)
        prev_shock, prev_known = shocks[:, h], 0.0
        errors[:, h] = value - forecast
    return errors


@pytest.fixture(scope="module")
def fresh():
    return _fresh_error_paths(4000, seed=11)


def test_error_paths_have_the_psi_weight_variance():
    psi = psi_weights(AR, MA, H)
    paths = bands.error_paths(psi, SIGMA2, 20000, np.random.default_rng(0))
    np.testing.assert_allclose(paths.var(axis=0), forecast_variance(AR, MA, SIGMA2, H),
                               rtol=0.05)


def test_sup_t_band_reaches_its_nominal_joint_coverage(fresh):
    psi = psi_weights(AR, MA, H)
    simulated = bands.error_paths(psi, SIGMA2, bands.SUP_T_PATHS, np.random.default_rng(1))
    critical = bands.sup_t_critical(simulated, 0.95)
    sd = np.sqrt(forecast_variance(AR, MA, SIGMA2, H))
    joint = np.mean(np.all(np.abs(fresh) <= critical * sd, axis=1))
    mc_error = np.sqrt(0.95 * 0.05 / len(fresh)) + np.sqrt(0.95 * 0.05 / bands.SUP_T_PATHS)
    assert joint == pytest.approx(0.95, abs=3 * mc_error)
    # Bonferroni is valid but conservative here (neighbouring errors are correlated) ...
    bonferroni = bands.bonferroni_critical(0.95, H)
    assert bonferroni > critical
    assert np.mean(np.all(np.abs(fresh) <= bonferroni * sd, axis=1)) >= 0.95 - 3 * mc_error
    # ... and the pointwise band holds far fewer whole paths.
    pointwise = np.mean(np.all(np.abs(fresh) <= 1.959964 * sd, axis=1))
    assert pointwise < 0.85


def test_bonferroni_critical_value_by_hand():
    # 1 - 0.05 / (2 * 10) = 0.9975: the normal quantile is 2.807.
    assert bands.bonferroni_critical(0.95, 10) == pytest.approx(2.807034, abs=1e-6)
