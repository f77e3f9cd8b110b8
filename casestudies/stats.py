"""Statistics every study needs: bootstrap confidence intervals and binomial bands.

Kept here, once, so that the calibration metrics, the forecast coverage and the IID test sizes
all report uncertainty the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from casestudies.progress import progress


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    low: float
    high: float
    confidence: float = 0.95


def bootstrap_intervals(statistics: dict[str, Callable[..., float]], *arrays: np.ndarray,
                        n_resamples: int = 1000, confidence: float = 0.95,
                        random_state: int | np.random.Generator | None = 0,
                        desc: str = "bootstrap") -> dict[str, Estimate]:
    """Percentile bootstrap intervals of several statistics computed on the *same* resamples.

    Rows of all ``arrays`` are resampled with the same indices, and every statistic is computed
    on each resample: a statistic that compares two models on the same rows (their difference)
    keeps their pairing, and statistics computed together are paired with each other.

    Parameters
    ----------
    statistics : dict of str to callable
        ``statistic(*resampled_arrays) -> float`` by name.
    *arrays : array-like
        Arrays of equal length along axis 0.
    n_resamples : int, default 1000
        Bootstrap replicates.
    confidence : float, default 0.95
        Coverage of the intervals.
    random_state : int, Generator or None
        Seed or named stream of the resampling.
    desc : str
        Label of the progress bar.

    Returns
    -------
    dict of str to Estimate
        Each ``value`` is the statistic on the original data; replicates where a statistic is
        not finite (a resample with no positives, say) are dropped from its interval.
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("all arrays must have the same length")
    rng = np.random.default_rng(random_state)
    values = {name: float(f(*arrays)) for name, f in statistics.items()}
    replicates = {name: np.empty(n_resamples) for name in statistics}
    for b in progress(range(n_resamples), desc=desc):
        index = rng.integers(0, n, n)
        resampled = tuple(a[index] for a in arrays)
        for name, f in statistics.items():
            replicates[name][b] = f(*resampled)
    return {name: percentile_interval(values[name], replicates[name], confidence)
            for name in statistics}


def bootstrap_ci(statistic: Callable[..., float], *arrays: np.ndarray, n_resamples: int = 1000,
                 confidence: float = 0.95, random_state: int | np.random.Generator | None = 0,
                 desc: str = "bootstrap") -> Estimate:
    """Percentile bootstrap interval of one ``statistic(*arrays)``, resampling rows jointly (a
    paired bootstrap); see :func:`bootstrap_intervals`."""
    return bootstrap_intervals({"statistic": statistic}, *arrays, n_resamples=n_resamples,
                               confidence=confidence, random_state=random_state,
                               desc=desc)["statistic"]


def cluster_bootstrap(scorers: dict[str, Callable[[np.ndarray], float]], clusters: np.ndarray,
                      n_resamples: int, rng: np.random.Generator, desc: str = "bootstrap"
                      ) -> dict[str, np.ndarray]:
    """Replicates of each ``scorer(row_index)`` over resamples of whole clusters (positions
    into ``clusters``), drawn with replacement as many as there are clusters."""
    members = np.split(np.argsort(clusters, kind="stable"),
                       np.cumsum(np.bincount(clusters))[:-1])
    n_clusters = len(members)
    replicates = {name: np.full(n_resamples, np.nan) for name in scorers}
    for b in progress(range(n_resamples), desc=desc):
        index = np.concatenate([members[c] for c in rng.integers(0, n_clusters, n_clusters)])
        for name, scorer in scorers.items():
            replicates[name][b] = scorer(index)
    return replicates


def percentile_interval(value: float, replicates: np.ndarray, confidence: float = 0.95
                        ) -> Estimate:
    """``value`` with the percentile interval of the finite bootstrap ``replicates``."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return Estimate(value, np.nan, np.nan, confidence)
    low, high = np.quantile(finite, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Estimate(float(value), float(low), float(high), confidence)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    .. math:: \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}
    """
    if trials <= 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denominator
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    return (float(centre - half), float(centre + half))


def binomial_band(p: float, trials: int | np.ndarray, confidence: float = 0.95
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Range of observed proportions consistent with a true rate ``p`` over ``trials`` trials.

    The central ``confidence`` interval of Binomial(trials, p) / trials: an empirical coverage
    or rejection rate outside it differs from ``p`` by more than chance.
    """
    trials = np.asarray(trials)
    alpha = 1.0 - confidence
    low = stats.binom.ppf(alpha / 2, trials, p) / trials
    high = stats.binom.ppf(1 - alpha / 2, trials, p) / trials
    return low, high
