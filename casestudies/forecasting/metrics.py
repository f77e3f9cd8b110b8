"""Scores of probabilistic forecasts: coverage, width, interval score, CRPS, pinball and point
errors, plus the split-conformal quantile.

All functions are vectorised over any leading shape (origins × horizons) so that the backtest
scores every method the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats


def interval_score(lower: np.ndarray, upper: np.ndarray, y: np.ndarray, alpha: float
                   ) -> np.ndarray:
    """Interval (Winkler) score of a central ``1 - alpha`` interval (Gneiting & Raftery 2007).

    .. math:: S_\\alpha(l, u; y) = (u - l) + \\tfrac{2}{\\alpha}(l - y)\\,1\\{y < l\\}
              + \\tfrac{2}{\\alpha}(y - u)\\,1\\{y > u\\}

    Lower is better: width, plus a penalty proportional to how far the truth falls outside.
    """
    lower, upper, y = np.asarray(lower), np.asarray(upper), np.asarray(y)
    below = np.maximum(lower - y, 0.0)
    above = np.maximum(y - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def pinball_loss(quantile: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Pinball (quantile) loss :math:`\\rho_\\tau(y - q) = \\max(\\tau (y-q), (\\tau-1)(y-q))`."""
    diff = np.asarray(y) - np.asarray(quantile)
    return np.maximum(tau * diff, (tau - 1.0) * diff)


def crps_gaussian(mean: np.ndarray, sd: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Closed-form CRPS of a normal forecast N(mean, sd²) (Gneiting et al. 2005).

    .. math:: \\mathrm{CRPS} = \\sigma\\left[z(2\\Phi(z) - 1) + 2\\varphi(z)
              - 1/\\sqrt{\\pi}\\right],\\quad z = (y - \\mu)/\\sigma
    """
    sd = np.asarray(sd, dtype=float)
    z = (np.asarray(y) - np.asarray(mean)) / sd
    return sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def crps_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample CRPS :math:`E|X - y| - \\tfrac12 E|X - X'|` over the last axis of ``samples``.

    ``E|X - X'|`` is computed exactly from the sorted sample in O(m log m):
    :math:`\\tfrac{2}{m^2}\\sum_i (2i - m - 1) x_{(i)}` for i = 1..m.
    """
    samples = np.asarray(samples, dtype=float)
    y = np.asarray(y, dtype=float)
    m = samples.shape[-1]
    first = np.abs(samples - y[..., None]).mean(axis=-1)
    ordered = np.sort(samples, axis=-1)
    weights = 2 * np.arange(1, m + 1) - m - 1
    spread = 2.0 * (ordered * weights).sum(axis=-1) / m**2
    return first - 0.5 * spread


# Quantile levels of the CRPS of a back-transformed Gaussian: the midpoints of K equal slices
# of (0, 1). The midpoint rule's error is far below the third digit the report shows.
CRPS_QUANTILE_LEVELS = 400


def crps_quantiles(quantiles: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CRPS from quantiles at the midpoint levels :math:`\\tau_k = (k - 1/2)/K` on the last
    axis: :math:`\\mathrm{CRPS}(F, y) = 2\\int_0^1 \\rho_\\tau(y - F^{-1}(\\tau))\\,d\\tau`
    (Laio & Tamea 2007), integrated by the midpoint rule."""
    quantiles = np.asarray(quantiles, dtype=float)
    k = quantiles.shape[-1]
    taus = (np.arange(k) + 0.5) / k
    diff = np.asarray(y, dtype=float)[..., None] - quantiles
    return 2.0 * np.maximum(taus * diff, (taus - 1.0) * diff).mean(axis=-1)


def back_transformed_gaussian(key: str, label: str, family: str, mean: np.ndarray,
                              variance: np.ndarray, actual: np.ndarray, levels,
                              inverse) -> MethodForecast:
    """A normal forecast N(mean, variance) on a transformed scale, seen on the original scale.

    ``inverse`` is increasing, so the central interval's bounds and the median map through it
    exactly: the point forecast is the back-transformed mean, which is the median on the
    original scale. The CRPS is computed on the original scale from
    :data:`CRPS_QUANTILE_LEVELS` back-transformed quantiles (:func:`crps_quantiles`).
    """
    sd = np.sqrt(np.asarray(variance, dtype=float))
    lower, upper = {}, {}
    for level in levels:
        z = stats.norm.ppf(0.5 + level / 2)
        lower[level], upper[level] = inverse(mean - z * sd), inverse(mean + z * sd)
    taus = (np.arange(CRPS_QUANTILE_LEVELS) + 0.5) / CRPS_QUANTILE_LEVELS
    quantiles = inverse(mean[..., None] + sd[..., None] * stats.norm.ppf(taus))
    return MethodForecast(key, label, family, inverse(mean), lower, upper,
                          crps=crps_quantiles(quantiles, actual))


def back_transformed_band(forecast: MethodForecast, inverse) -> MethodForecast:
    """A band (point and bounds, no CRPS) built on a transformed scale, on the original one."""
    return MethodForecast(forecast.key, forecast.label, forecast.family,
                          inverse(forecast.point),
                          {lv: inverse(b) for lv, b in forecast.lower.items()},
                          {lv: inverse(b) for lv, b in forecast.upper.items()})


def conformal_quantile(scores: np.ndarray, alpha: float, axis: int = 0) -> np.ndarray:
    """Split-conformal quantile of nonconformity ``scores`` along ``axis``.

    The :math:`\\lceil (n+1)(1-\\alpha) \\rceil`-th smallest of n scores: for exchangeable
    scores, a new score falls at or below it with probability at least ``1 - alpha``. When that
    rank exceeds n the quantile is infinite (too few calibration points for this level).
    """
    scores = np.sort(np.asarray(scores, dtype=float), axis=axis)
    n = scores.shape[axis]
    rank = int(np.ceil((n + 1) * (1 - alpha)))
    if rank > n:
        shape = list(scores.shape)
        del shape[axis]
        return np.full(shape, np.inf)
    return np.take(scores, rank - 1, axis=axis)


def mase_scale(train: np.ndarray, season: int = 1) -> float:
    """In-sample MAE of the (seasonal) naive forecast :math:`y_{t-m}`: the MASE/MSIS scale."""
    train = np.asarray(train, dtype=float)
    season = max(int(season), 1)
    return float(np.mean(np.abs(train[season:] - train[:-season])))


def sample_intervals(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval from sampled values on the last axis (empirical quantiles)."""
    alpha = 1.0 - level
    lower, upper = np.quantile(samples, [alpha / 2, 1 - alpha / 2], axis=-1)
    return lower, upper


@dataclass
class MethodForecast:
    """One forecasting method's output at every test origin (rows) and horizon (columns).

    Attributes
    ----------
    key, label : str
        Identifier and name shown in the report.
    family : str
        ``"ARIMA"``, ``"LSTM"`` or ``"truth"``.
    point : ndarray
        Point forecasts.
    lower, upper : dict
        Interval bounds by nominal level (empty for a point forecaster).
    crps : ndarray or None
        CRPS of the predictive distribution (None when the method has no distribution).
    """

    key: str
    label: str
    family: str
    point: np.ndarray
    lower: dict[float, np.ndarray] = field(default_factory=dict)
    upper: dict[float, np.ndarray] = field(default_factory=dict)
    crps: np.ndarray | None = None


@dataclass
class MethodScores:
    """Backtest scores of one method: per horizon (arrays of length H) and overall.

    ``coverage[level]`` is the share of origins whose interval held the truth at each horizon;
    ``width``, ``interval_score`` likewise; ``overall`` averages over origins and horizons
    (MSIS and MASE divide by the naive in-sample MAE).
    """

    key: str
    label: str
    family: str
    coverage: dict[float, np.ndarray]
    width: dict[float, np.ndarray]
    interval_score: dict[float, np.ndarray]
    crps: np.ndarray | None
    abs_error: np.ndarray
    overall: dict[str, float]


def score_method(forecast: MethodForecast, actual: np.ndarray, scale: float) -> MethodScores:
    """Score ``forecast`` against ``actual`` (origins × horizons); ``scale`` from
    :func:`mase_scale`."""
    error = actual - forecast.point
    overall = {"MAE": float(np.mean(np.abs(error))), "RMSE": float(np.sqrt(np.mean(error**2)))}
    overall["MASE"] = overall["MAE"] / scale
    coverage, width, score, losses = {}, {}, {}, []
    for level, lower in forecast.lower.items():
        upper = forecast.upper[level]
        inside = (actual >= lower) & (actual <= upper)
        coverage[level] = inside.mean(axis=0)
        width[level] = (upper - lower).mean(axis=0)
        score[level] = interval_score(lower, upper, actual, 1 - level).mean(axis=0)
        alpha = 1 - level
        losses.append(pinball_loss(lower, actual, alpha / 2).mean()
                      + pinball_loss(upper, actual, 1 - alpha / 2).mean())
        tag = f"{round(100 * level)}"
        overall[f"coverage {tag}"] = float(inside.mean())
        overall[f"width {tag}"] = float(np.mean(upper - lower))
        overall[f"MSIS {tag}"] = float(score[level].mean() / scale)
    # Mean pinball loss of the interval bounds; S_alpha = (2/alpha)(pinball of l + pinball of u).
    overall["pinball"] = float(np.sum(losses) / (2 * len(losses))) if losses else float("nan")
    crps = None if forecast.crps is None else forecast.crps.mean(axis=0)
    overall["CRPS"] = float("nan") if crps is None else float(crps.mean())
    return MethodScores(key=forecast.key, label=forecast.label, family=forecast.family,
                        coverage=coverage, width=width, interval_score=score, crps=crps,
                        abs_error=np.abs(error).mean(axis=0), overall=overall)


def adaptive_conformal(calibration_scores: np.ndarray, test_scores: np.ndarray,
                       test_origins: np.ndarray, alpha: float, gamma: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive conformal inference per horizon (Gibbs & Candès 2021) with delayed feedback.

    For each horizon index k (h = k + 1), the test origins are processed in time order. Before
    forecasting at origin :math:`o_i`, every earlier test origin :math:`o_j` whose target
    :math:`y_{o_j + k}` has been observed (:math:`o_j + k < o_i`) is fed back: its score joins
    the calibration scores and the working level moves by
    :math:`\\alpha_{t+1} = \\alpha_t + \\gamma(\\alpha - \\mathrm{err}_t)`, where err is 1 when
    the interval missed. The half-width is the split-conformal quantile of the pooled scores at
    the working level, clipped to ``[1/(n+1), 1)`` so that it stays finite.

    Parameters
    ----------
    calibration_scores : ndarray (n_cal, H)
        Absolute errors at the calibration origins.
    test_scores : ndarray (n_test, H)
        Absolute errors at the test origins (each used only once observed).
    test_origins : ndarray (n_test,)
        Increasing origins, in the series' time steps.
    alpha : float
        Target miscoverage.
    gamma : float
        Step size of the level update.

    Returns
    -------
    halfwidth : ndarray (n_test, H)
    updates : ndarray (H,)
        How many test outcomes were fed back at each horizon before the last origin.
    """
    n_test, horizon = test_scores.shape
    halfwidth = np.empty((n_test, horizon))
    updates = np.zeros(horizon, dtype=int)
    for k in range(horizon):
        level_alpha = alpha
        pool = list(calibration_scores[:, k])
        fed = 0
        for i in range(n_test):
            while fed < i and test_origins[fed] + k < test_origins[i]:
                missed = float(test_scores[fed, k] > halfwidth[fed, k])
                level_alpha += gamma * (alpha - missed)
                pool.append(test_scores[fed, k])
                fed += 1
            working = min(max(level_alpha, 1.0 / (len(pool) + 1)), 1.0 - 1e-12)
            halfwidth[i, k] = conformal_quantile(np.asarray(pool), working)
        updates[k] = fed
    return halfwidth, updates
