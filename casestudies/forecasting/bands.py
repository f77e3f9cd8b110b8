"""Simultaneous bands: intervals that hold a whole future path, not each step on its own.

A pointwise 95% band holds each future value with probability 0.95, but the chance that the
whole path 1..H stays inside is much lower, because every step is another chance to miss. Two
ways to widen the band until the whole path is covered with probability ``level``:

* **Bonferroni**: each step at level :math:`1 - (1 - \\text{level})/H`; valid for any dependence,
  conservative when the steps are correlated (they are: neighbouring forecast errors share
  shocks);
* **sup-t**: the ``level`` quantile :math:`c` of :math:`\\max_h |e_h| / \\mathrm{sd}(e_h)` over
  simulated error paths, and the band :math:`\\hat y_h \\pm c\\,\\mathrm{sd}(e_h)`. For ARIMA the
  error path is :math:`e_h = \\sum_{j<h}\\psi_j\\varepsilon_{T+h-j}` whatever the origin, so the
  paths are simulated once from the psi-weights (Montiel Olea & Plagborg-Møller 2019).
"""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

SUP_T_PATHS = 20000
"""Simulated error paths for the sup-t critical value: its Monte-Carlo standard error is then
about 0.005 in coverage terms, below the backtest's resolution."""


def error_paths(psi: np.ndarray, sigma2: float, paths: int, rng: np.random.Generator
                ) -> np.ndarray:
    """Forecast error paths :math:`e_h = \\sum_{j<h}\\psi_j\\varepsilon_{T+h-j}`, h = 1..H, with
    i.i.d. N(0, sigma2) shocks: the convolution of the psi-weights with the shocks. Shape
    (paths, H)."""
    shocks = rng.standard_normal((paths, len(psi))) * np.sqrt(sigma2)
    return signal.lfilter(np.asarray(psi, dtype=float), [1.0], shocks, axis=1)


def sup_t_critical(paths: np.ndarray, level: float) -> float:
    """The ``level`` quantile of :math:`\\max_h |e_h| / \\mathrm{sd}(e_h)` over ``paths``
    (rows), with the standard deviation estimated from the same paths."""
    paths = np.asarray(paths, dtype=float)
    sd = paths.std(axis=0)
    return float(np.quantile(np.max(np.abs(paths) / sd, axis=1), level))


def bonferroni_critical(level: float, horizon: int) -> float:
    """Normal critical value of a pointwise interval at level
    :math:`1 - (1 - \\text{level})/H`: the Bonferroni simultaneous band."""
    return float(stats.norm.ppf(1 - (1 - level) / (2 * horizon)))


def simultaneous_band(mean: np.ndarray, variance: np.ndarray, critical: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """:math:`\\hat y \\pm c\\sqrt{v}` for every origin and horizon."""
    half = critical * np.sqrt(variance)
    return mean - half, mean + half
