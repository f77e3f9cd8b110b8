"""Is split conformal valid here? The finite-sample rank, an exchangeability check of the
calibration scores, and adaptive conformal's long-run coverage against its guarantee.

Split conformal's guarantee, coverage at least :math:`1 - \\alpha`, needs the calibration and test
scores to be exchangeable, and the :math:`\\lceil (n+1)(1-\\alpha) \\rceil`-th smallest of n scores
exists only when :math:`n \\ge (1-\\alpha)/\\alpha` (19 for 95%). Scores of forecasts from
overlapping windows are autocorrelated, which breaks exchangeability in time order; the check
here is a permutation test of their lag-1 autocorrelation (under exchangeability every order
of the scores is equally likely). Adaptive conformal (Gibbs & Candès 2021) promises only a
long-run average: :math:`|\\frac1T\\sum_t \\mathrm{err}_t - \\alpha| \\le
\\frac{\\max(\\alpha_1, 1-\\alpha_1) + \\gamma}{\\gamma T}` for any sequence.
"""

from __future__ import annotations

import math

import numpy as np

PERMUTATIONS = 2000
"""Random orders of the calibration scores in the permutation test: the p-value's Monte-Carlo
standard error is then at most about 0.011."""


def finite_sample_rank(n: int, level: float) -> int:
    """Rank :math:`\\lceil (n+1)\\,\\text{level} \\rceil` of the split-conformal quantile among n
    scores (larger than n: no finite interval)."""
    return math.ceil((n + 1) * level - 1e-9)


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Sample lag-1 autocorrelation :math:`\\sum_t (x_t-\\bar x)(x_{t+1}-\\bar x)/\\sum_t
    (x_t-\\bar x)^2`."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    denominator = float(np.sum(x * x))
    return float(np.sum(x[:-1] * x[1:]) / denominator) if denominator > 0 else math.nan


def exchangeability_test(scores: np.ndarray, rng: np.random.Generator,
                         permutations: int = PERMUTATIONS) -> tuple[float, float]:
    """Lag-1 autocorrelation of ``scores`` in time order and its one-sided permutation p-value
    (how often a random order of the same scores is at least as autocorrelated)."""
    observed = lag1_autocorrelation(scores)
    shuffled = np.array([lag1_autocorrelation(rng.permutation(scores))
                         for _ in range(permutations)])
    pvalue = (1 + np.sum(shuffled >= observed)) / (permutations + 1)
    return observed, float(pvalue)


def adaptive_bound(alpha: float, gamma: float, steps: int, start: float | None = None
                   ) -> float:
    """Gibbs & Candès' bound on the gap between adaptive conformal's long-run miscoverage over
    ``steps`` predictions and the target ``alpha``, started at level ``start`` (default
    ``alpha``)."""
    start = alpha if start is None else start
    return (max(start, 1 - start) + gamma) / (gamma * steps)
