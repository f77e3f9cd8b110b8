"""Calibration metrics for binary probabilities: proper scores, the Brier decomposition,
calibration-in-the-large and slope, Spiegelhalter's test, binned calibration errors and their
noise floor.

Every function takes labels ``y`` (0/1) and probabilities ``p`` of the positive class.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

EPS = 1e-12


def logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``ln(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]`` so that 0 and 1 stay finite."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def log_loss(y: np.ndarray, p: np.ndarray, clip: float = EPS) -> float:
    """Mean negative log-likelihood ``-mean(y ln p + (1 - y) ln(1 - p))`` (p clipped to
    ``[clip, 1 - clip]``, 1e-12 by default)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), clip, 1 - clip)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the probabilities, ``mean((p - y)^2)``."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


def brier_decomposition(y: np.ndarray, p: np.ndarray, n_bins: int | None = None,
                        bins: np.ndarray | None = None) -> dict[str, float]:
    """Murphy's decomposition ``BS = REL - RES + UNC`` (Murphy 1973).

    With ``K`` groups of forecasts (``n_k`` rows, mean forecast ``f_k``, observed rate ``o_k``,
    overall rate ``o``)::

        REL = sum_k n_k (f_k - o_k)^2 / N,  RES = sum_k n_k (o_k - o)^2 / N,  UNC = o (1 - o).

    Parameters
    ----------
    n_bins : int or None
        ``None`` groups rows by their distinct forecast values, and the identity is exact.
        An integer groups continuous forecasts into equal-mass bins; ``within`` then holds the
        remainder ``BS - (REL - RES + UNC)`` due to the spread of forecasts inside the bins.
    bins : array of int, optional
        Precomputed group of each row (overrides ``n_bins``), e.g. the bins of the full sample
        kept fixed across bootstrap resamples.

    Returns
    -------
    dict
        ``brier``, ``reliability``, ``resolution``, ``uncertainty``, ``within``.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if bins is not None:
        group = np.asarray(bins)
    elif n_bins is None:
        _, group = np.unique(p, return_inverse=True)
    else:
        group = equal_mass_bins(p, n_bins)
    n = np.bincount(group).astype(np.float64)
    keep = n > 0
    f = np.bincount(group, weights=p)[keep] / n[keep]
    o = np.bincount(group, weights=y)[keep] / n[keep]
    n = n[keep]
    base = y.mean()
    reliability = float(np.sum(n * (f - o) ** 2) / y.size)
    resolution = float(np.sum(n * (o - base) ** 2) / y.size)
    uncertainty = float(base * (1 - base))
    brier = brier_score(y, p)
    return {"brier": brier, "reliability": reliability, "resolution": resolution,
            "uncertainty": uncertainty,
            "within": brier - (reliability - resolution + uncertainty)}


def corp_decomposition(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """CORP decomposition of the Brier score (Dimitriadis, Gneiting & Jordan 2021).

    Recalibrate the forecasts by isotonic regression of ``y`` on ``p`` (pool-adjacent-violators,
    ties pooled: the calibrated forecast that keeps the ranking and fits the labels best), and
    compare three Brier scores: of the forecasts ``S(p)``, of their recalibration ``S(p_iso)``,
    and of the constant base rate ``S(ybar)``. Then::

        MCB = S(p) - S(p_iso) >= 0      miscalibration
        DSC = S(ybar) - S(p_iso) >= 0   discrimination
        UNC = S(ybar) = ybar (1 - ybar) uncertainty
        S(p) = MCB - DSC + UNC          exactly, with no binning and no leftover term.

    Returns ``brier``, ``miscalibration``, ``discrimination``, ``uncertainty`` and
    ``remainder`` (``S - (MCB - DSC + UNC)``, zero up to rounding).
    """
    from sklearn.isotonic import IsotonicRegression

    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    recalibrated = IsotonicRegression(out_of_bounds="clip").fit(p, y).predict(p)
    score = brier_score(y, p)
    recal = brier_score(y, recalibrated)
    uncertainty = brier_score(y, np.full(y.size, y.mean()))
    mcb, dsc = score - recal, uncertainty - recal
    return {"brier": score, "miscalibration": mcb, "discrimination": dsc,
            "uncertainty": uncertainty, "remainder": score - (mcb - dsc + uncertainty)}


def observed_expected(y: np.ndarray, p: np.ndarray) -> float:
    """Calibration in the large: observed over expected number of events, ``sum y / sum p``."""
    return float(np.sum(y) / max(np.sum(p), EPS))


def logistic_fit(design: np.ndarray, y: np.ndarray, start: np.ndarray | None = None,
                 max_iter: int = 100) -> np.ndarray:
    """Unpenalised maximum-likelihood logistic regression ``P(y=1) = sigmoid(design @ coef)``
    by Newton-Raphson with step halving (a few columns, many rows: faster than a general
    solver). Returns NaNs when the Hessian is singular."""
    y = np.asarray(y, dtype=np.float64)
    coef = np.zeros(design.shape[1]) if start is None else np.asarray(start, dtype=np.float64)

    def loglik(c: np.ndarray) -> float:
        eta = design @ c
        return float(np.sum(y * eta - np.logaddexp(0, eta)))

    current = loglik(coef)
    for _ in range(max_iter):
        with np.errstate(over="ignore"):  # exp(+inf) -> mu = 0, the right limit
            mu = 1 / (1 + np.exp(-(design @ coef)))
        gradient = design.T @ (y - mu)
        hessian = design.T @ (design * (mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return np.full(design.shape[1], np.nan)
        # Halve the step until the likelihood improves: plain Newton can overshoot when
        # forecasts sit at the clipping limits.
        for _ in range(30):
            candidate = loglik(coef + step)
            if candidate >= current - 1e-12:
                break
            step = step / 2
        coef, improvement, current = coef + step, candidate - current, candidate
        if np.max(np.abs(step)) < 1e-9 or abs(improvement) < 1e-12:
            break
    return coef


def cox_calibration(y: np.ndarray, p: np.ndarray, clip: float = 1e-6) -> tuple[float, float]:
    """Cox (1958) calibration intercept ``a`` and slope ``b``: the maximum-likelihood logistic
    regression ``logit P(y=1) = a + b logit(p)``.

    Perfect calibration is ``a = 0, b = 1``; ``b < 1`` means over-confident forecasts (too
    extreme), ``b > 1`` under-confident ones. NaN when ``y`` holds a single class. ``p`` is
    clipped to ``[clip, 1 - clip]`` before its log-odds are taken.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    design = np.column_stack([np.ones(y.size), logit(p, clip)])
    a, b = logistic_fit(design, y, start=np.array([0.0, 1.0]))
    return float(a), float(b)


def spiegelhalter_z(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Spiegelhalter's (1986) test of calibration.

    ``Z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p))`` is standard normal when the
    ``p`` are the true probabilities. Returns ``(Z, two-sided p-value)``.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    numerator = np.sum((y - p) * (1 - 2 * p))
    variance = np.sum((1 - 2 * p) ** 2 * p * (1 - p))
    z = float(numerator / np.sqrt(max(variance, EPS)))
    return z, float(2 * stats.norm.sf(abs(z)))


def equal_width_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each ``p`` among ``n_bins`` equal-width bins of [0, 1]."""
    return np.clip((np.asarray(p) * n_bins).astype(np.int64), 0, n_bins - 1)


def equal_mass_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each ``p`` among ``n_bins`` bins holding (nearly) equal numbers of rows,
    by rank so that ties at the same value may straddle a bin edge."""
    p = np.asarray(p)
    ranks = np.empty(p.size, dtype=np.int64)
    ranks[np.argsort(p, kind="stable")] = np.arange(p.size)
    return (ranks * n_bins // max(p.size, 1)).astype(np.int64)


def _bin_means(y: np.ndarray, p: np.ndarray, bins: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.bincount(bins).astype(np.float64)
    keep = n > 0
    f = np.bincount(bins, weights=p)[keep] / n[keep]
    o = np.bincount(bins, weights=y)[keep] / n[keep]
    return n[keep], f, o


def ece(y: np.ndarray, p: np.ndarray, n_bins: int = 15, strategy: str = "width",
        bins: np.ndarray | None = None) -> float:
    """Expected calibration error ``sum_b (n_b / N) |o_b - f_b|`` over equal-width
    (``strategy="width"``) or equal-mass (``"mass"``) bins, or over precomputed ``bins``."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if bins is None:
        bins = equal_width_bins(p, n_bins) if strategy == "width" else equal_mass_bins(p, n_bins)
    n, f, o = _bin_means(y, p, bins)
    return float(np.sum(n * np.abs(o - f)) / y.size)


def debiased_ece(y: np.ndarray, p: np.ndarray, n_bins: int = 15,
                 bins: np.ndarray | None = None) -> float:
    """Debiased l2 calibration error over equal-mass bins (Kumar, Liang & Ma 2019).

    The plug-in ``sum_b (n_b/N)(o_b - f_b)^2`` is biased upwards by the binomial noise of
    ``o_b``; subtracting its estimate ``o_b (1 - o_b) / (n_b - 1)`` removes it. Returns the square
    root of the debiased squared error, 0 when the debiased estimate is negative (no
    miscalibration detectable above noise). ``bins`` overrides the equal-mass binning.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n, f, o = _bin_means(y, p, equal_mass_bins(p, n_bins) if bins is None else bins)
    noise = np.where(n > 1, o * (1 - o) / np.maximum(n - 1, 1), 0.0)
    squared = float(np.sum(n * ((o - f) ** 2 - noise)) / y.size)
    return float(np.sqrt(max(squared, 0.0)))


def ece_sweep(y: np.ndarray, p: np.ndarray, max_bins: int = 200) -> tuple[float, int]:
    """ECE_sweep (Roelofs et al. 2022): equal-mass ECE with the largest number of bins for which
    the observed rates still increase monotonically with the bins.

    Returns ``(ece, n_bins)``.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    ranks = np.empty(p.size, dtype=np.int64)
    ranks[np.argsort(p, kind="stable")] = np.arange(p.size)
    chosen, chosen_ece = 1, abs(y.mean() - p.mean())
    for n_bins in range(2, min(max_bins, y.size) + 1):
        n, f, o = _bin_means(y, p, ranks * n_bins // p.size)
        if np.any(np.diff(o) < 0):
            break
        chosen, chosen_ece = n_bins, float(np.sum(n * np.abs(o - f)) / y.size)
    return chosen_ece, chosen


def noise_floor(metric, p: np.ndarray, n_resamples: int = 200,
                random_state: int | np.random.Generator | None = 0) -> np.ndarray:
    """Values of ``metric(y_star, p)`` on labels drawn from the forecasts themselves,
    ``y_star ~ Bernoulli(p)``: what a *perfectly calibrated* model scores at this sample size.

    A metric on real labels inside the range of these values shows no miscalibration that this
    many rows can detect.
    """
    rng = np.random.default_rng(random_state)
    p = np.asarray(p, dtype=np.float64)
    return np.array([metric((rng.random(p.size) < p).astype(np.float64), p)
                     for _ in range(n_resamples)])


def logit_bins(p: np.ndarray, n_bins: int = 14, low: float = -9.0, high: float = 5.0
               ) -> np.ndarray:
    """Bin index of each ``p`` among ``n_bins`` equal-width bins of the log-odds on
    ``[low, high]`` (scores beyond fall in the end bins): at a low base rate these resolve the
    tail where thresholds lie, which equal-mass bins spend on near-zero scores."""
    edges = np.linspace(low, high, n_bins + 1)[1:-1]
    return np.searchsorted(edges, logit(p), side="right").astype(np.int64)


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 14, n_consistency: int = 500,
                      random_state: int | np.random.Generator | None = 0,
                      confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Reliability diagram over log-odds bins (:func:`logit_bins`) with Bröcker & Smith (2007)
    consistency bars.

    For each non-empty bin: mean forecast, observed rate, count, and the central ``confidence``
    range (2.5 % to 97.5 % quantiles by default) of the observed rate when labels are drawn
    from the bin's own forecasts (where a perfectly calibrated model's point would fall).
    """
    rng = np.random.default_rng(random_state)
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    bins = logit_bins(p, n_bins)
    n, f, o = _bin_means(y, p, bins)
    low, high = np.empty_like(f), np.empty_like(f)
    for b, label in enumerate(np.unique(bins)):
        forecasts = p[bins == label]
        draws = (rng.random((n_consistency, forecasts.size)) < forecasts).mean(axis=1)
        low[b], high[b] = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return {"count": n, "mean_predicted": f, "observed": o, "consistency_low": low,
            "consistency_high": high}
