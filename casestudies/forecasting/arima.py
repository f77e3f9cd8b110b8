"""ARIMA as a probabilistic model: order selection, psi-weights, and three kinds of interval.

The model is a regression on a constant (d = 0) or a time trend (d = 1), plus Fourier terms for
a seasonal series, with ARIMA(p, d, q) errors, fitted by exact Gaussian maximum likelihood with
statsmodels' state-space ARIMA. On a monthly or quarterly series seasonal ARIMA orders
(p, d, q)(P, D, Q)_s compete with the Fourier terms. The intervals come (1) from statsmodels'
analytic forecast variance, (2) from our own psi-weights, (3) from simulated future paths,
optionally drawing the parameters from their asymptotic distribution.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from casestudies.errors import DataError
from casestudies.progress import progress

MAX_HARMONICS = 3
# Significance level of the unit-root test that chooses d.
ADF_LEVEL = 0.05
# Periods (steps per year) whose seasonal ARIMA orders join the candidate grid: quarterly and
# monthly. Weekly (52.18 steps) is not a whole number of steps and daily-within-year periods
# would put hundreds of entries in the state vector: their seasonality stays with the Fourier
# terms.
SEASONAL_ARIMA_PERIODS = (4, 12)
# Seasonal AR and MA orders searched (P and Q each in this range): one seasonal lag is what
# monthly and quarterly series usually need, and each extra one adds a season to the state.
SEASONAL_ORDERS = (0, 1)
# Seasonal differencing (D = 1) when the seasonal strength of the STL decomposition,
# max(0, 1 - var(remainder) / var(seasonal + remainder)), reaches this value: the threshold of
# Wang, Smith & Hyndman (2006) that R's auto.arima uses for its seasonal-strength test.
SEASONAL_STRENGTH_THRESHOLD = 0.64
# Fewest seasons of training data for seasonal orders: the STL decomposition needs two, and a
# seasonal difference then leaves at least two for the seasonal AR and MA terms to be estimated.
MIN_SEASONAL_TRAINING = 4
# A seasonal difference is cancelled by a seasonal MA coefficient near -1: (1 - B^s) and
# (1 + Theta B^s) then (nearly) divide out, the season is a fixed pattern and the series was
# over-differenced (Hyndman & Athanasopoulos, FPP). The maximum-likelihood estimate of an MA
# coefficient whose true value is -1 piles up at or just above -1 (the pile-up effect of
# Davis & Dunsmuir), so an estimate within 0.1 of -1 is what a cancelled difference looks like,
# while genuine stochastic seasons (the airline model's Theta is about -0.6) stay well above.
# At or below -(1 - SEASONAL_MA_CANCELS) the model is chosen again without the difference.
SEASONAL_MA_CANCELS = 0.1


def lag_polynomial(coefficients, period: int, sign: float) -> np.ndarray:
    """:math:`1 + \\mathrm{sign}\\sum_i c_i B^{i\\,\\mathrm{period}}` as coefficients of
    :math:`B^0, B^1, \\dots` (sign -1 for an AR polynomial, +1 for an MA one)."""
    coefficients = np.asarray(coefficients, dtype=float)
    polynomial = np.zeros(period * coefficients.size + 1)
    polynomial[0] = 1.0
    polynomial[period::period] = sign * coefficients
    return polynomial


def psi_weights(ar: np.ndarray, ma: np.ndarray, n_weights: int, d: int = 0,
                seasonal_ar=(), seasonal_ma=(), period: int = 0, seasonal_d: int = 0
                ) -> np.ndarray:
    """The first ``n_weights`` psi-weights of an ARIMA(p, d, q)(P, D, Q)_s process.

    The process :math:`\\phi(B)(1-B)^d y_t = \\theta(B)\\varepsilon_t` with
    :math:`\\phi(B) = 1 - \\sum_i \\phi_i B^i` and :math:`\\theta(B) = 1 + \\sum_j \\theta_j B^j`
    has the MA(∞) form :math:`y_t = \\sum_{j \\ge 0} \\psi_j \\varepsilon_{t-j}` with
    :math:`\\psi(B) = \\theta(B) / (\\phi(B)(1-B)^d)`, found by the recursion
    :math:`\\psi_0 = 1,\\ \\psi_j = \\theta_j + \\sum_{i=1}^{j} \\varphi_i \\psi_{j-i}` where
    :math:`\\varphi` are the coefficients of the expanded autoregressive polynomial
    :math:`\\phi(B)(1-B)^d = 1 - \\sum_i \\varphi_i B^i` (Box & Jenkins, ch. 5).

    A seasonal model multiplies in the seasonal polynomials before the recursion runs: the
    autoregressive side becomes :math:`\\phi(B)\\Phi(B^s)(1-B)^d(1-B^s)^D` and the moving-average
    side :math:`\\theta(B)\\Theta(B^s)` (Box & Jenkins, ch. 9), so the same recursion gives the
    weights of the expanded polynomials.

    Parameters
    ----------
    ar : array-like
        :math:`\\phi_1, \\dots, \\phi_p` (the sign convention of ``y_t = phi_1 y_{t-1} + ...``).
    ma : array-like
        :math:`\\theta_1, \\dots, \\theta_q`.
    n_weights : int
        How many weights, :math:`\\psi_0` to :math:`\\psi_{n-1}`.
    d : int, default 0
        Order of differencing.
    seasonal_ar, seasonal_ma : array-like, optional
        :math:`\\Phi_1, \\dots, \\Phi_P` and :math:`\\Theta_1, \\dots, \\Theta_Q`, the
        coefficients of lags s, 2s, ….
    period : int, default 0
        The seasonal period s (0: no seasonal part).
    seasonal_d : int, default 0
        Order of seasonal differencing D.
    """
    polynomial = np.r_[1.0, -np.asarray(ar, dtype=float)]
    theta = np.asarray(ma, dtype=float)
    if period:
        polynomial = np.convolve(polynomial, lag_polynomial(seasonal_ar, period, -1.0))
        for _ in range(seasonal_d):
            polynomial = np.convolve(polynomial, lag_polynomial([1.0], period, -1.0))
        theta = np.convolve(np.r_[1.0, theta], lag_polynomial(seasonal_ma, period, 1.0))[1:]
    for _ in range(d):
        polynomial = np.convolve(polynomial, [1.0, -1.0])
    varphi = -polynomial[1:]
    psi = np.zeros(n_weights)
    for j in range(n_weights):
        value = 1.0 if j == 0 else (theta[j - 1] if j - 1 < theta.size else 0.0)
        for i in range(1, min(j, varphi.size) + 1):
            value += varphi[i - 1] * psi[j - i]
        psi[j] = value
    return psi


def psi_limit(ar: np.ndarray, ma: np.ndarray) -> float:
    """Limit of the psi-weights of an ARIMA(p, 1, q): :math:`\\psi_\\infty = \\theta(1)/\\phi(1)
    = (1 + \\sum_j \\theta_j)/(1 - \\sum_i \\phi_i)`, the weight of a shock on the level
    forever after; far ahead the forecast variance grows by :math:`\\sigma^2\\psi_\\infty^2`
    per step.
    """
    return float((1 + np.sum(ma)) / (1 - np.sum(ar)))


def forecast_variance(ar: np.ndarray, ma: np.ndarray, sigma2: float, horizon: int, d: int = 0
                      ) -> np.ndarray:
    """h-step forecast error variance :math:`\\sigma^2 \\sum_{j<h} \\psi_j^2` for h = 1..horizon.

    This is the variance with known parameters and an infinitely long past; for a long sample it
    equals the state-space (Kalman filter) forecast variance.
    """
    return sigma2 * np.cumsum(psi_weights(ar, ma, horizon, d) ** 2)


def fourier_terms(n_steps: int, period: float | None, harmonics: int) -> np.ndarray | None:
    """Columns :math:`\\sin(2\\pi k t/m), \\cos(2\\pi k t/m)` for k = 1..harmonics, t = 0..n-1."""
    if not period or harmonics < 1:
        return None
    t = np.arange(n_steps)[:, None]
    k = np.arange(1, harmonics + 1)[None, :]
    angle = 2 * np.pi * k * t / period
    return np.column_stack([np.sin(angle), np.cos(angle)])


def harmonics_for(period: float | None) -> int:
    """Fourier pairs used for a seasonal period: up to 3, fewer for short periods."""
    if not period:
        return 0
    return int(min(MAX_HARMONICS, np.floor(period / 2)))


def choose_differencing(train: np.ndarray, level: float = ADF_LEVEL) -> tuple[int, float]:
    """d = 1 when the augmented Dickey–Fuller test cannot reject a unit root at ``level``.

    Orders with different d have likelihoods of different data, so AIC cannot choose d; the
    unit-root test does, as in Hyndman & Khandakar's auto.arima (which uses KPSS).
    """
    from statsmodels.tsa.stattools import adfuller

    with warnings.catch_warnings():
        # A degenerate series (e.g. a strict alternation) makes some lag regressions singular;
        # the test still returns a p-value, and the warnings would only clutter the output.
        warnings.simplefilter("ignore")
        pvalue = float(adfuller(train, autolag="AIC", result_object=False)[1])
    return (0 if pvalue < level else 1), pvalue


def seasonal_arima_period(period: float | None, n_train: int | None = None) -> int | None:
    """The seasonal period of the seasonal ARIMA candidates, or None when they are not tried:
    the period is not in :data:`SEASONAL_ARIMA_PERIODS`, or ``n_train`` training values hold
    fewer than :data:`MIN_SEASONAL_TRAINING` seasons."""
    if not period or round(period) != period or int(period) not in SEASONAL_ARIMA_PERIODS:
        return None
    if n_train is not None and n_train < MIN_SEASONAL_TRAINING * int(period):
        return None
    return int(period)


def seasonal_strength(train: np.ndarray, period: int) -> float:
    """Strength of seasonality :math:`F_S = \\max(0, 1 - \\mathrm{Var}(R_t) /
    \\mathrm{Var}(S_t + R_t))` from an STL decomposition (Wang, Smith & Hyndman 2006): near 0
    when the seasonal component is lost in the remainder, near 1 when it dominates."""
    from statsmodels.tsa.seasonal import STL

    parts = STL(np.asarray(train, dtype=float), period=period).fit()
    remainder = np.asarray(parts.resid)
    return float(max(0.0, 1.0 - np.var(remainder) / np.var(np.asarray(parts.seasonal)
                                                            + remainder)))


def trend_for(d: int, seasonal_d: int = 0) -> str:
    """The deterministic term: a constant without differencing, a linear trend (drift) after
    one difference of either kind, none after two (a drift there would be a quadratic trend,
    which auto.arima also leaves out)."""
    return {0: "c", 1: "t"}.get(d + seasonal_d, "n")


@dataclass
class OverdifferencedModel:
    """A seasonally differenced model whose seasonal MA cancels the difference.

    Attributes
    ----------
    label : str
        The model AIC chose with D = 1, e.g. ``"ARIMA(1,0,0)(0,1,1)[12]"``.
    seasonal_ma : float
        Its seasonal MA coefficient.
    threshold : float
        ``-(1 - SEASONAL_MA_CANCELS)``: at or below it the difference counts as cancelled.
    """

    label: str
    seasonal_ma: float
    threshold: float


@dataclass
class ArimaFit:
    """The chosen ARIMA model and the AIC grid it was chosen from.

    Attributes
    ----------
    order : (p, d, q)
    trend : str
        ``"c"`` (constant, d = 0) or ``"t"`` (linear trend, i.e. drift, d = 1).
    harmonics : int
        Fourier pairs in the regression (0 when not seasonal).
    period : float or None
    adf_pvalue : float
        p-value of the unit-root test that chose d.
    aic_table : DataFrame
        p, q, AIC and whether the optimiser converged, one row per candidate.
    params : dict
        Maximum-likelihood estimates by statsmodels name.
    ar, ma : ndarray
        AR and MA coefficients; ``sigma2`` the innovation variance.
    seasonal_order : (P, D, Q, s)
        The seasonal part, (0, 0, 0, 0) for none.
    seasonal_ar, seasonal_ma : ndarray
        Seasonal AR and MA coefficients (lags s, 2s, …).
    seasonal_strength : float or None
        The STL seasonal strength that chose D (None when seasonal orders were not tried).
    overdifferenced : OverdifferencedModel or None
        The D = 1 winner set aside because its seasonal MA cancelled the difference (None when
        none was).
    """

    order: tuple[int, int, int]
    trend: str
    harmonics: int
    period: float | None
    adf_pvalue: float
    aic_table: pd.DataFrame
    params: dict[str, float]
    param_se: dict[str, float]
    ar: np.ndarray
    ma: np.ndarray
    sigma2: float
    results: Any = field(default=None, repr=False, metadata={"json": False})
    seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0)
    seasonal_ar: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seasonal_ma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seasonal_strength: float | None = None
    overdifferenced: OverdifferencedModel | None = None

    @property
    def label(self) -> str:
        """The model's name, e.g. ``"ARIMA(0,1,1)(0,1,1)[12]"``; see :func:`model_label`."""
        return model_label(self.order, self.seasonal_order, self.harmonics)


def model_label(order: tuple[int, int, int], seasonal_order: tuple[int, int, int, int],
                harmonics: int) -> str:
    """``"ARIMA(1,1,0)"``, ``"ARIMA(0,1,1)(0,1,1)[12]"``, ``"ARIMA(2,0,1) + 3 Fourier pairs"``."""
    p, d, q = order
    text = f"ARIMA({p},{d},{q})"
    big_p, big_d, big_q, period = seasonal_order
    if period:
        text += f"({big_p},{big_d},{big_q})[{period}]"
    return text + (f" + {harmonics} Fourier pairs" if harmonics else "")


def fit_psi_weights(fit: ArimaFit, n_weights: int) -> np.ndarray:
    """The psi-weights of the fitted model, seasonal polynomials expanded."""
    if not fit.seasonal_order[3]:
        return psi_weights(fit.ar, fit.ma, n_weights, fit.order[1])
    _, big_d, _, period = fit.seasonal_order
    return psi_weights(fit.ar, fit.ma, n_weights, fit.order[1], fit.seasonal_ar,
                       fit.seasonal_ma, period, big_d)


def fit_forecast_variance(fit: ArimaFit, horizon: int) -> np.ndarray:
    """:func:`forecast_variance` of the fitted model, seasonal polynomials expanded."""
    return fit.sigma2 * np.cumsum(fit_psi_weights(fit, horizon) ** 2)


def _model(endog: np.ndarray, exog: np.ndarray | None, order: tuple[int, int, int], trend: str,
           seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0)):
    from statsmodels.tsa.arima.model import ARIMA

    return ARIMA(endog, exog=exog, order=order, trend=trend, seasonal_order=seasonal_order)


def _fit(endog: np.ndarray, exog: np.ndarray | None, order: tuple[int, int, int], trend: str,
         seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0)):
    with warnings.catch_warnings():
        # Starting-value and convergence warnings are recorded in the AIC table instead.
        warnings.simplefilter("ignore")
        # Standard errors are computed for the chosen order only (they cost more than the fit).
        return _model(endog, exog, order, trend, seasonal_order).fit(cov_type="none")


def condition(fit: ArimaFit, values: np.ndarray, origin: int, params: np.ndarray | None = None):
    """The fitted model (or ``params``) Kalman-filtered on ``values[:origin]``: its forecasts
    are conditional on the data up to the origin, with the parameters held fixed."""
    exog = fourier_terms(origin, fit.period, fit.harmonics)
    model = _model(values[:origin], exog, fit.order, fit.trend, fit.seasonal_order)
    return model.filter(fit.results.params if params is None else params, cov_type="none")


def _lowest_aic(table: pd.DataFrame) -> int:
    """Row of the candidate ``table`` with the lowest AIC among converged fits (among all fitted
    ones when none converged); marks it in a ``chosen`` column."""
    if not np.isfinite(table["AIC"]).any():
        raise DataError("no ARIMA order on the grid could be fitted to this series; check it "
                        "for extreme values or a very short training stretch")
    # An optimiser that stopped early reports a likelihood that is not the maximum: choose
    # among converged fits, unless none converged.
    eligible = table[table["converged"] & np.isfinite(table["AIC"])]
    if eligible.empty:
        eligible = table[np.isfinite(table["AIC"])]
    chosen = int(eligible["AIC"].idxmin())
    table["chosen"] = table.index == chosen
    return chosen


def select_and_fit(train: np.ndarray, period: float | None, max_p: int, max_q: int
                   ) -> ArimaFit:
    """Choose d by the ADF test, then (p, q) on the grid 0..max_p × 0..max_q by AIC, and fit.

    On a monthly or quarterly series (:func:`seasonal_arima_period`) seasonal orders join the
    grid: see :func:`select_and_fit_seasonal`.
    """
    season = seasonal_arima_period(period, len(train))
    if season is not None:
        return select_and_fit_seasonal(train, period, season, max_p, max_q)
    d, adf_pvalue = choose_differencing(train)
    trend = "c" if d == 0 else "t"
    harmonics = harmonics_for(period)
    exog = fourier_terms(len(train), period, harmonics)
    rows, fitted = [], {}
    grid = [(p, q) for p in range(max_p + 1) for q in range(max_q + 1)]
    for p, q in progress(grid, desc="ARIMA order grid"):
        try:
            results = _fit(train, exog, (p, d, q), trend)
        except (np.linalg.LinAlgError, ValueError):
            # A numerically degenerate candidate is skipped, not fatal: it shows as AIC = inf.
            rows.append({"p": p, "d": d, "q": q, "AIC": np.inf, "converged": False})
            continue
        converged = bool(results.mle_retvals.get("converged", True))
        fitted[(p, q)] = results
        rows.append({"p": p, "d": d, "q": q, "AIC": float(results.aic), "converged": converged})
    table = pd.DataFrame(rows)
    chosen = _lowest_aic(table)
    best = fitted[(int(table.loc[chosen, "p"]), int(table.loc[chosen, "q"]))]
    return _finish(best, d, trend, harmonics, period, adf_pvalue, table)


def _finish(best, d: int, trend: str, harmonics: int, period: float | None, adf_pvalue: float,
            table: pd.DataFrame, seasonal_strength: float | None = None) -> ArimaFit:
    """The chosen fit with its standard errors, as an :class:`ArimaFit`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = best.model.filter(best.params, cov_type="approx")
    names = list(best.model.param_names)
    se = np.sqrt(np.clip(np.diag(best.cov_params()), 0, None))
    seasonal = tuple(int(v) for v in best.model.seasonal_order)
    extra = {}
    if seasonal[3]:
        extra = {"seasonal_order": seasonal,
                 "seasonal_ar": np.asarray(best.seasonalarparams, dtype=float),
                 "seasonal_ma": np.asarray(best.seasonalmaparams, dtype=float),
                 "seasonal_strength": seasonal_strength}
    elif seasonal_strength is not None:
        extra = {"seasonal_strength": seasonal_strength}
    return ArimaFit(
        order=(int(best.model.order[0]), d, int(best.model.order[2])), trend=trend,
        harmonics=harmonics, period=period, adf_pvalue=adf_pvalue, aic_table=table,
        params=dict(zip(names, map(float, best.params), strict=True)),
        param_se=dict(zip(names, map(float, se), strict=True)),
        ar=np.asarray(best.arparams, dtype=float), ma=np.asarray(best.maparams, dtype=float),
        sigma2=float(best.params[names.index("sigma2")]), results=best, **extra,
    )


def seasonal_candidates(d: int, seasonal_d: int, season: int, harmonics: int, max_p: int,
                        max_q: int) -> list[tuple[tuple[int, int, int], tuple, int]]:
    """The (order, seasonal order, Fourier pairs) candidates of a monthly or quarterly series.

    Without seasonal differencing the Fourier regressions (seasonal order none) and the
    seasonal ARMA orders with P or Q positive model the same data, so AIC compares them all.
    With D = 1 the likelihood is of the seasonally differenced series; a Fourier regression
    without that difference is a model of other data, which AIC cannot rank against it, so
    only seasonal orders with D = 1 are candidates.
    """
    arma = [(p, d, q) for p in range(max_p + 1) for q in range(max_q + 1)]
    seasonal = [(big_p, seasonal_d, big_q, season) for big_p in SEASONAL_ORDERS
                for big_q in SEASONAL_ORDERS if seasonal_d or big_p or big_q]
    fourier = [] if seasonal_d else [(order, (0, 0, 0, 0), harmonics) for order in arma]
    return fourier + [(order, s_order, 0) for s_order in seasonal for order in arma]


def season_cancelled(fit: ArimaFit) -> bool:
    """Whether ``fit`` differences the season and its seasonal MA coefficient cancels that
    difference (at or below ``-(1 - SEASONAL_MA_CANCELS)``)."""
    return bool(fit.seasonal_order[1] == 1 and fit.seasonal_ma.size
                and fit.seasonal_ma[0] <= -(1 - SEASONAL_MA_CANCELS))


def _fit_grid(train: np.ndarray, period: float, season: int, seasonal_d: int, max_p: int,
              max_q: int, strength: float) -> ArimaFit:
    """Every candidate of :func:`seasonal_candidates` for one seasonal difference ``D``, with d
    by the ADF test on the (seasonally differenced) series; the converged one with the lowest
    AIC is returned."""
    differenced = train[season:] - train[:-season] if seasonal_d else train
    d, adf_pvalue = choose_differencing(differenced)
    trend = trend_for(d, seasonal_d)
    harmonics = harmonics_for(period)
    rows, fitted = [], []
    candidates = seasonal_candidates(d, seasonal_d, season, harmonics, max_p, max_q)
    for order, s_order, pairs in progress(candidates, desc="ARIMA order grid"):
        exog = fourier_terms(len(train), period, pairs)
        row = {"model": model_label(order, s_order, pairs), "p": order[0], "d": d,
               "q": order[2], "P": s_order[0], "D": s_order[1], "Q": s_order[2],
               "Fourier pairs": pairs}
        try:
            results = _fit(train, exog, order, trend, s_order)
        except (np.linalg.LinAlgError, ValueError):
            rows.append({**row, "AIC": np.inf, "converged": False})
            fitted.append(None)
            continue
        rows.append({**row, "AIC": float(results.aic),
                     "converged": bool(results.mle_retvals.get("converged", True))})
        fitted.append(results)
    table = pd.DataFrame(rows)
    chosen = _lowest_aic(table)
    return _finish(fitted[chosen], d, trend, candidates[chosen][2], period, adf_pvalue, table,
                   seasonal_strength=strength)


def select_and_fit_seasonal(train: np.ndarray, period: float, season: int, max_p: int,
                            max_q: int) -> ArimaFit:
    """Seasonal ARIMA orders and Fourier terms on one AIC grid, as auto.arima orders its tests.

    D = 1 when the STL seasonal strength reaches :data:`SEASONAL_STRENGTH_THRESHOLD`; then d
    by the ADF test on the (seasonally differenced) series; then every candidate of
    :func:`seasonal_candidates` is fitted and the converged one with the lowest AIC is kept.
    When that winner's seasonal MA cancels the difference (:func:`season_cancelled`), the
    season is a fixed pattern: the model is chosen again among the D = 0 candidates (Fourier
    regressions and seasonal ARMA), and the cancelled model is kept in ``overdifferenced``.
    """
    strength = seasonal_strength(train, season)
    seasonal_d = int(strength >= SEASONAL_STRENGTH_THRESHOLD)
    fit = _fit_grid(train, period, season, seasonal_d, max_p, max_q, strength)
    if not season_cancelled(fit):
        return fit
    refit = _fit_grid(train, period, season, 0, max_p, max_q, strength)
    refit.overdifferenced = OverdifferencedModel(
        label=fit.label, seasonal_ma=float(fit.seasonal_ma[0]),
        threshold=float(-(1 - SEASONAL_MA_CANCELS)))
    return refit


@dataclass
class ArimaForecasts:
    """ARIMA forecasts at each origin (rows) for horizons 1..H (columns).

    ``var_statsmodels`` is the analytic forecast variance of the state-space model;
    ``var_psi`` our psi-weight variance; ``samples`` simulated future paths (origins × H ×
    paths) with the estimated parameters.
    """

    mean: np.ndarray
    var_statsmodels: np.ndarray
    var_psi: np.ndarray
    samples: np.ndarray = field(metadata={"json": False})


def arima_backtest(fit: ArimaFit, values: np.ndarray, origins: np.ndarray, horizon: int,
                   paths: int, random_state: np.random.Generator) -> ArimaForecasts:
    """Forecast ``horizon`` steps from each origin with the parameters fixed at ``fit``.

    At origin o the model is re-filtered on ``values[:o]`` (the new data are used, the
    parameters are not re-estimated), the analytic mean and variance are read, and ``paths``
    futures are simulated from the filtered state.
    """
    exog = fourier_terms(len(values), fit.period, fit.harmonics)
    var_psi = fit_forecast_variance(fit, horizon)
    means, variances, samples = [], [], []
    for origin in progress(origins, desc="ARIMA backtest"):
        future = None if exog is None else exog[origin:origin + horizon]
        conditioned = condition(fit, values, origin)
        forecast = conditioned.get_forecast(horizon, exog=future)
        means.append(np.asarray(forecast.predicted_mean))
        variances.append(np.asarray(forecast.var_pred_mean))
        simulated = conditioned.simulate(horizon, anchor="end", repetitions=paths, exog=future,
                                         rng=random_state)
        samples.append(np.asarray(simulated).reshape(horizon, paths))
    n = len(origins)
    return ArimaForecasts(mean=np.array(means), var_statsmodels=np.array(variances),
                          var_psi=np.tile(var_psi, (n, 1)), samples=np.array(samples))


def true_forecasts(truth, values: np.ndarray, origins: np.ndarray, horizon: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the true conditional distribution of a simulated series.

    The Kalman filter with the true order and parameters gives the exact distribution of
    ``y[o:o+h]`` given ``y[:o]``.
    """
    from statsmodels.tsa.arima.model import ARIMA

    means, variances = [], []
    for origin in origins:
        model = ARIMA(values[:origin], order=truth.order, trend=truth.trend)
        forecast = model.filter(np.asarray(truth.params)).get_forecast(horizon)
        means.append(np.asarray(forecast.predicted_mean))
        variances.append(np.asarray(forecast.var_pred_mean))
    return np.array(means), np.array(variances)


def _admissible(fit: ArimaFit, names: list[str], draw: np.ndarray) -> bool:
    """A parameter draw with stationary AR parts, invertible MA parts and sigma² > 0 (the
    seasonal polynomials in :math:`B^s` are checked as polynomials in :math:`B^s`: their roots
    lie outside the unit circle exactly when those in :math:`B` do)."""
    sigma2 = draw[names.index("sigma2")]
    roots_outside = True
    for prefix, sign in (("ar.L", -1.0), ("ma.L", 1.0), ("ar.S.L", -1.0), ("ma.S.L", 1.0)):
        coefficients = [draw[i] for i, n in enumerate(names) if n.startswith(prefix)]
        if coefficients:
            roots = np.roots(np.r_[sign * np.asarray(coefficients)[::-1], 1.0])
            roots_outside = roots_outside and bool(np.all(np.abs(roots) > 1))
    return bool(sigma2 > 0 and roots_outside)


def parameter_uncertainty_paths(fit: ArimaFit, values: np.ndarray, origin: int, horizon: int,
                                draws: int, paths_per_draw: int,
                                random_state: np.random.Generator) -> np.ndarray:
    """Future paths at one origin with the parameters drawn from their estimated distribution.

    Each draw takes the parameters from :math:`N(\\hat\\theta, \\widehat{\\mathrm{Cov}})` (the
    inverse information the fit reports), keeps only admissible draws, re-filters the data with
    them and simulates ``paths_per_draw`` futures: the spread then includes estimation error,
    which the analytic interval treats as zero. Returns an array of shape (horizon, paths).
    """
    names = list(fit.results.model.param_names)
    mean = np.asarray(fit.results.params, dtype=float)
    cov = np.asarray(fit.results.cov_params(), dtype=float)
    exog = fourier_terms(len(values), fit.period, fit.harmonics)
    future = None if exog is None else exog[origin:origin + horizon]
    # A numerically indefinite covariance (a parameter near its boundary) is replaced by its
    # nearest positive semi-definite matrix (negative eigenvalues set to zero) before sampling.
    eigenvalues, eigenvectors = np.linalg.eigh((cov + cov.T) / 2)
    cov = (eigenvectors * np.clip(eigenvalues, 0, None)) @ eigenvectors.T
    collected = []
    for _ in progress(range(draws), desc="ARIMA parameter draws"):
        draw = random_state.multivariate_normal(mean, cov, method="eigh")
        for _retry in range(20):
            if _admissible(fit, names, draw):
                break
            draw = random_state.multivariate_normal(mean, cov, method="eigh")
        else:
            draw = mean
        refiltered = condition(fit, values, origin, draw)
        simulated = refiltered.simulate(horizon, anchor="end", repetitions=paths_per_draw,
                                        exog=future, rng=random_state)
        collected.append(np.asarray(simulated).reshape(horizon, paths_per_draw))
    return np.concatenate(collected, axis=1)


def gaussian_interval(mean: np.ndarray, variance: np.ndarray, level: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval :math:`\\hat y \\pm z_{1-\\alpha/2}\\sqrt{v}` of a normal."""
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * np.sqrt(variance)
    return mean - half, mean + half


RESIDUAL_LAGS = (10, 20)
"""Lags of the Ljung-Box test on the one-step residuals: about two and four weeks on a weekly
series, and beyond the memory of the low-order models searched here."""


def residual_checks(fit: ArimaFit, lags: tuple[int, ...] = RESIDUAL_LAGS) -> dict[str, float]:
    """Before trusting the analytic interval: are the one-step residuals white and normal?

    Ljung-Box p-values at ``lags`` (degrees of freedom reduced by p + q, as Box & Pierce
    prescribe for residuals of a fitted ARMA), and the Jarque-Bera test of normality with the
    residuals' skewness and excess kurtosis. The first ``d + 10`` residuals (the filter's
    start-up) are left out."""
    from statsmodels.stats.diagnostic import acorr_ljungbox

    resid = residuals_of(fit)
    p, _, q = fit.order
    big_p, _, big_q, _ = fit.seasonal_order
    box = acorr_ljungbox(resid, lags=list(lags), model_df=p + q + big_p + big_q)
    out = {f"Ljung-Box p, lag {lag}": float(box.loc[lag, "lb_pvalue"]) for lag in lags}
    jb = stats.jarque_bera(resid)
    out.update({"Jarque-Bera p": float(jb.pvalue), "skewness": float(stats.skew(resid)),
                "excess kurtosis": float(stats.kurtosis(resid)),
                "residuals": len(resid)})
    return out


def residuals_of(fit: ArimaFit) -> np.ndarray:
    """The fitted model's one-step residuals on the training data, after the start-up (which
    includes a whole season per seasonal difference)."""
    start = fit.order[1] + fit.seasonal_order[1] * fit.seasonal_order[3] + 10
    return np.asarray(fit.results.resid, dtype=float)[start:]


def residual_bootstrap_errors(fit: ArimaFit, horizon: int, paths: int,
                              random_state: np.random.Generator) -> np.ndarray:
    """Forecast error paths :math:`e_h = \\sum_{j<h}\\psi_j\\varepsilon^*_{T+h-j}` with the
    shocks resampled from the centred residuals instead of drawn from a normal: the interval
    keeps the model's propagation and drops the Gaussian assumption. Shape (paths, H)."""
    from scipy import signal

    resid = residuals_of(fit)
    resid = resid - resid.mean()
    shocks = random_state.choice(resid, size=(paths, horizon), replace=True)
    return signal.lfilter(fit_psi_weights(fit, horizon), [1.0], shocks, axis=1)
