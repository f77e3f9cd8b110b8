"""Paired bootstrap intervals: several statistics computed on the same resampled rows.

A comparison of two rules or two sets of probabilities on the same test transactions is a
statistic of its own (their difference), computed inside each resample, so that its interval keeps
the pairing. :func:`casestudies.stats.bootstrap_ci` does this for one statistic; the calibration
verdicts need several differences from one set of resamples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from casestudies import progress
from casestudies.stats import Estimate, percentile_interval


def paired_bootstrap(statistics: dict[str, Callable[..., float]], *arrays: np.ndarray,
                     n_resamples: int, confidence: float, rng: np.random.Generator,
                     desc: str = "paired bootstrap") -> dict[str, Estimate]:
    """Percentile intervals of several statistics computed on the *same* resamples of rows.

    A difference between two rules or two sets of probabilities on the same transactions is
    computed inside each resample, so that its interval keeps the pairing (the two are never
    resampled apart).

    Parameters
    ----------
    statistics : dict of str to callable
        ``statistic(*resampled_arrays) -> float`` by name.
    *arrays : ndarray
        Arrays of equal length, resampled jointly by row.
    n_resamples, confidence : int, float
        Bootstrap replicates and interval level.
    rng : Generator
        The named stream of this unit of work.

    Returns
    -------
    dict of str to Estimate
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    values = {name: float(f(*arrays)) for name, f in statistics.items()}
    replicates = {name: np.empty(n_resamples) for name in statistics}
    for b in progress.progress(range(n_resamples), desc=desc):
        index = rng.integers(0, n, n)
        resampled = tuple(a[index] for a in arrays)
        for name, f in statistics.items():
            replicates[name][b] = f(*resampled)
    return {name: percentile_interval(values[name], replicates[name], confidence)
            for name in statistics}
