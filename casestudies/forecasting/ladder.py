"""The uncertainty ladder: which sources of uncertainty an ARMA interval needs to cover.

On a series with a known data-generating process, four intervals for the same origins:

(a) the true model's interval (known order and parameters: only the noise is uncertain);
(b) the fitted model's analytic interval (estimated parameters treated as the truth);
(c) plus parameter uncertainty: the fitted model simulates training-length series (a parametric
    bootstrap), the same order is refitted to each, the refits are bias-corrected, and the
    forecast distribution is the equal mixture of the refits' normal forecast distributions;
(d) plus order uncertainty: the same, with the order searched by AIC inside every refit.

Refits use conditional sum of squares (the residual recursion is a linear filter, so a refit
takes milliseconds); forecasts condition on the real data up to each origin with the refitted
parameters. Intervals computed as if the model were known ignore (c) and (d), which is the
classic explanation of why published ARIMA intervals are too narrow (Chatfield 1993).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize, signal, stats

from casestudies.forecasting.arima import forecast_variance

REFITS = 40
"""Bootstrap refits per rung: the mixture's 95% quantiles then rest on 40 parameter draws, enough
to show a widening of a few percent (the ladder's point) at a cost of about a second."""

SHORT_TRAINING = 100
"""Observations of the short training stretch of the ladder's second half: the length of many
business series (eight years of monthly data), where estimation error is no longer small."""

BURN_IN = 200
"""Steps dropped at the start of every simulated bootstrap series (the filter starts at zero)."""


def _polynomials(ar: np.ndarray, ma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[1.0, -np.asarray(ar, dtype=float)], np.r_[1.0, np.asarray(ma, dtype=float)]


def admissible(ar: np.ndarray, ma: np.ndarray) -> bool:
    """A stationary AR part and an invertible MA part (all roots outside the unit circle)."""
    phi, theta = _polynomials(ar, ma)
    return all(np.all(np.abs(np.roots(poly[::-1])) > 1.0 + 1e-6)
               for poly in (phi, theta) if len(poly) > 1)


def css_residuals(y: np.ndarray, mean: float, ar: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Innovations of an ARMA(p, q) with mean ``mean``: :math:`\\theta(B) e_t = \\phi(B)(y_t -
    \\mu)`, started from zero (a linear filter)."""
    phi, theta = _polynomials(ar, ma)
    return signal.lfilter(phi, theta, np.asarray(y, dtype=float) - mean)


@dataclass(frozen=True)
class CssFit:
    """An ARMA fitted by conditional sum of squares, and its AIC."""

    p: int
    q: int
    mean: float
    ar: np.ndarray
    ma: np.ndarray
    sigma2: float
    aic: float


def css_fit(y: np.ndarray, p: int, q: int) -> CssFit:
    """Least squares on the innovations after the first ``max(p, q)`` steps; AIC
    :math:`n\\log\\hat\\sigma^2 + 2(p + q + 2)` (the Gaussian conditional likelihood)."""
    y = np.asarray(y, dtype=float)
    skip = max(p, q)

    def residuals(theta: np.ndarray) -> np.ndarray:
        return css_residuals(y, theta[0], theta[1:1 + p], theta[1 + p:])[skip:]

    start = np.r_[np.mean(y), np.zeros(p + q)]
    solution = optimize.least_squares(residuals, start, method="lm")
    mean, ar, ma = solution.x[0], solution.x[1:1 + p], solution.x[1 + p:]
    e = residuals(solution.x)
    sigma2 = float(np.mean(e**2))
    return CssFit(p, q, float(mean), ar, ma, sigma2,
                  float(len(e) * np.log(sigma2) + 2 * (p + q + 2)))


def css_order_search(y: np.ndarray, max_p: int, max_q: int) -> CssFit:
    """The admissible CSS fit of lowest AIC on the grid 0..max_p × 0..max_q."""
    fits = [css_fit(y, p, q) for p, q in itertools.product(range(max_p + 1), range(max_q + 1))]
    fits = [f for f in fits if admissible(f.ar, f.ma) and np.isfinite(f.aic)]
    return min(fits, key=lambda f: f.aic)


def simulate(mean: float, ar: np.ndarray, ma: np.ndarray, sigma2: float, n: int,
             rng: np.random.Generator) -> np.ndarray:
    """An ARMA series of length n (after :data:`BURN_IN` dropped steps)."""
    phi, theta = _polynomials(ar, ma)
    shocks = rng.standard_normal(n + BURN_IN) * np.sqrt(sigma2)
    return mean + signal.lfilter(theta, phi, shocks)[BURN_IN:]


def conditional_forecasts(values: np.ndarray, origins: np.ndarray, mean: float,
                          ar: np.ndarray, ma: np.ndarray, sigma2: float, horizon: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Mean (origins × H) and variance (H,) of the ARMA forecast from each origin, given
    ``values[:origin]``: the innovations are recovered by the filter, future ones set to zero."""
    ar, ma = np.asarray(ar, dtype=float), np.asarray(ma, dtype=float)
    p, q = len(ar), len(ma)
    e = css_residuals(values, mean, ar, ma)
    x = np.asarray(values, dtype=float) - mean
    lags = max(p, q, 1)
    # Per origin, the last `lags` deviations and innovations before it, newest last.
    past_x = np.stack([x[o - lags:o] for o in origins])
    past_e = np.stack([e[o - lags:o] for o in origins])
    out = np.empty((len(origins), horizon))
    for h in range(horizon):
        value = np.zeros(len(origins))
        if p:
            value += past_x[:, -p:][:, ::-1] @ ar
        if q:
            value += past_e[:, -q:][:, ::-1] @ ma
        out[:, h] = value
        past_x = np.column_stack([past_x[:, 1:], value])
        past_e = np.column_stack([past_e[:, 1:], np.zeros(len(origins))])
    return mean + out, forecast_variance(ar, ma, sigma2, horizon)


def mixture_interval(means: np.ndarray, variances: np.ndarray, level: float,
                     iterations: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval of the equal mixture of normals N(means[b], variances[b]).

    ``means`` has shape (B, origins, H) and ``variances`` (B, H); the quantiles are found by
    bisection on the mixture's distribution function."""
    sd = np.sqrt(variances)[:, None, :]

    def quantile(tau: float) -> np.ndarray:
        low = np.min(means - 10 * sd, axis=0)
        high = np.max(means + 10 * sd, axis=0)
        for _ in range(iterations):
            mid = (low + high) / 2
            below = stats.norm.cdf((mid[None] - means) / sd).mean(axis=0) < tau
            low, high = np.where(below, mid, low), np.where(below, high, mid)
        return (low + high) / 2

    alpha = 1 - level
    return quantile(alpha / 2), quantile(1 - alpha / 2)


def bias_corrected(refits: list[CssFit], train: np.ndarray) -> list[CssFit]:
    """Refits shifted so that, for every order, their average equals the fit of that order to
    the real training data (Kilian 1998): finite-sample estimates of persistence are biased
    towards zero, and an uncorrected bootstrap centres the mixture on a less persistent, hence
    narrower, model. Shifted refits that leave the admissible region are dropped."""
    corrected = []
    for order in sorted({(f.p, f.q) for f in refits}):
        group = [f for f in refits if (f.p, f.q) == order]
        real = css_fit(train, *order)
        shift = {name: np.mean([getattr(f, name) for f in group], axis=0) - getattr(real, name)
                 for name in ("mean", "ar", "ma", "sigma2")}
        for f in group:
            moved = CssFit(f.p, f.q, float(f.mean - shift["mean"]), f.ar - shift["ar"],
                           f.ma - shift["ma"], float(f.sigma2 - shift["sigma2"]), f.aic)
            if admissible(moved.ar, moved.ma) and moved.sigma2 > 0:
                corrected.append(moved)
    return corrected


def bootstrap_rung(values: np.ndarray, train_end: int, origins: np.ndarray, horizon: int,
                   level: float, refits: int, order: tuple[int, int],
                   search: tuple[int, int] | None, rng: np.random.Generator,
                   train_start: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Rung (c) (``search`` None: the fitted ``order``) or (d) (``search`` = (max_p, max_q)).

    The real training data are fitted by CSS at ``order``; that fit simulates ``refits``
    bootstrap series, each refitted (at ``order``, or at the order AIC picks), bias-corrected
    (:func:`bias_corrected`), and the forecast distribution at each origin is the mixture of
    the refits' normal forecasts. Returns the interval bounds (origins × H), the spread
    (standard deviation over refits) of the forecast mean (origins × H), and every refit's
    order. ``train_start`` shortens the training stretch to ``values[train_start:train_end]``
    (forecasts still condition on all the data up to each origin)."""
    train = np.asarray(values[train_start:train_end], dtype=float)
    fitted = css_fit(train, *order)
    fits = []
    while len(fits) < refits:
        series = simulate(fitted.mean, fitted.ar, fitted.ma, fitted.sigma2, len(train), rng)
        refit = css_fit(series, *order) if search is None else css_order_search(series, *search)
        if admissible(refit.ar, refit.ma):
            fits.append(refit)
    fits = bias_corrected(fits, train)
    means, variances = zip(*(conditional_forecasts(values, origins, f.mean, f.ar, f.ma,
                                                   f.sigma2, horizon) for f in fits),
                           strict=True)
    means_a, variances_a = np.array(means), np.array(variances)
    lower, upper = mixture_interval(means_a, variances_a, level)
    return lower, upper, means_a.std(axis=0), [(f.p, f.q) for f in fits]


def estimated_rung(values: np.ndarray, train_start: int, train_end: int, origins: np.ndarray,
                   horizon: int, level: float, max_p: int, max_q: int
                   ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], float]:
    """Rung (b) on a stretch of the data: the order searched by AIC and the parameters fitted
    by CSS on ``values[train_start:train_end]``, and the normal interval those imply at every
    origin. Returns the bounds (origins × H), the order and the fitted h = H forecast
    variance."""
    fit = css_order_search(np.asarray(values[train_start:train_end], dtype=float), max_p, max_q)
    mean, variance = conditional_forecasts(values, origins, fit.mean, fit.ar, fit.ma,
                                           fit.sigma2, horizon)
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(variance)[None, :]
    return mean - half, mean + half, (fit.p, fit.q), float(variance[-1])
