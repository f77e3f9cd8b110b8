"""Comparisons of map-making methods with intervals over both sources of chance: the seed of the
map (t-SNE and UMAP give a different map for every seed) and the customers that were scored.

Each method has one or more maps (one per seed; PCA has one). A replicate draws one map of each
method at random and resamples the scored customers: with replacement for the per-customer
scores (trustworthiness and continuity contributions, whether the segment is predicted right),
and as a subsample of half the rows without replacement for the distance correlation (a
correlation over pairs, which duplicated rows would distort). The percentile interval of the
difference of the two methods' scores over the replicates is the interval of the claim "method A
scores higher than method B"; both methods see the same customers in every replicate (paired).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist, squareform

from casestudies.stats import Estimate

CONFIDENCE = 0.95


def _percentile(values: np.ndarray, value: float, confidence: float = CONFIDENCE) -> Estimate:
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return Estimate(float(value), float(low), float(high), confidence)


def seed_customer_interval(first: Sequence[np.ndarray], second: Sequence[np.ndarray],
                           rng: np.random.Generator, n_resamples: int = 1000) -> Estimate:
    """Interval of mean(first) - mean(second) over seeds and customers.

    Parameters
    ----------
    first, second : sequence of ndarray of shape (n,)
        Per-customer scores of each seed's map of the two methods, on the same n customers.
    rng : Generator
    n_resamples : int

    Returns
    -------
    Estimate
        The difference of the means over all seeds and customers, and its percentile interval
        over replicates that draw one seed of each method and resample the customers.
    """
    A = np.asarray([np.asarray(a, float) for a in first])
    B = np.asarray([np.asarray(b, float) for b in second])
    n = A.shape[1]
    value = float(A.mean() - B.mean())
    seeds_a = rng.integers(A.shape[0], size=n_resamples)
    seeds_b = rng.integers(B.shape[0], size=n_resamples)
    rows = rng.integers(n, size=(n_resamples, n))
    replicates = A[seeds_a[:, None], rows].mean(axis=1) - B[seeds_b[:, None], rows].mean(axis=1)
    return _percentile(replicates, value)


def _upper(D: np.ndarray, rows: np.ndarray) -> np.ndarray:
    sub = D[np.ix_(rows, rows)]
    return sub[np.triu_indices(rows.size, k=1)]


def distance_correlation_intervals(X: np.ndarray, maps: dict[str, Sequence[np.ndarray]],
                                   pairs: Sequence[tuple[str, str]], rng: np.random.Generator,
                                   n_resamples: int = 200) -> dict[tuple[str, str], Estimate]:
    """Intervals of the difference in Spearman distance correlation for each pair of methods.

    Parameters
    ----------
    X : ndarray of shape (m, p)
        The data rows on which distances are correlated.
    maps : dict of str to sequence of ndarray of shape (m, 2)
        Each method's maps (one per seed) on the same rows.
    pairs : sequence of (str, str)
        The (first, second) methods to compare: first minus second.
    rng : Generator
    n_resamples : int
        Replicates; each draws one map per method and half of the rows without replacement.

    Returns
    -------
    dict of (str, str) to Estimate
        The difference of the mean correlation over seeds on all rows, with its interval.
    """
    m = X.shape[0]
    data = squareform(pdist(np.asarray(X, float)))
    on_map = {name: [squareform(pdist(np.asarray(Y, float))) for Y in seeds]
              for name, seeds in maps.items()}
    full = np.arange(m)
    whole = {name: float(np.mean([stats.spearmanr(_upper(data, full), _upper(D, full))[0]
                                  for D in seeds])) for name, seeds in on_map.items()}
    replicates: dict[tuple[str, str], list[float]] = {pair: [] for pair in pairs}
    half = m // 2
    for _ in range(n_resamples):
        rows = np.sort(rng.choice(m, size=half, replace=False))
        data_ranks = stats.rankdata(_upper(data, rows))
        rho = {}
        for name, seeds in on_map.items():
            D = seeds[int(rng.integers(len(seeds)))]
            rho[name] = float(np.corrcoef(data_ranks, stats.rankdata(_upper(D, rows)))[0, 1])
        for first, second in pairs:
            replicates[(first, second)].append(rho[first] - rho[second])
    return {pair: _percentile(np.asarray(values), whole[pair[0]] - whole[pair[1]])
            for pair, values in replicates.items()}


def seed_range(first: Sequence[float], second: Sequence[float]) -> Estimate:
    """Difference of the mean of ``first`` and ``second`` (one value per seed's map), with the
    smallest and largest pairwise difference as its range (no resampling: a handful of seeds).
    The confidence is NaN, marking a range rather than an interval."""
    a, b = np.asarray(first, float), np.asarray(second, float)
    differences = (a[:, None] - b[None, :]).ravel()
    return Estimate(float(a.mean() - b.mean()), float(differences.min()),
                    float(differences.max()), float("nan"))


def k_nearest_classes(X: np.ndarray, Y: np.ndarray, labels: np.ndarray, k: int) -> float:
    """KNC (Kobak & Berens 2019): the share of each class's k nearest class means in the data
    that are also among its k nearest class means on the map, averaged over classes; mid-scale
    structure between the fine neighbourhoods of kNN recall and the global distances."""
    classes = np.unique(labels)
    k = min(k, classes.size - 1)
    if k < 1:
        return float("nan")
    means_x = np.array([X[labels == c].mean(axis=0) for c in classes])
    means_y = np.array([Y[labels == c].mean(axis=0) for c in classes])
    order_x = np.argsort(squareform(pdist(means_x)) + np.diag(np.full(classes.size, np.inf)),
                         axis=1)[:, :k]
    order_y = np.argsort(squareform(pdist(means_y)) + np.diag(np.full(classes.size, np.inf)),
                         axis=1)[:, :k]
    return float(np.mean([np.intersect1d(a, b).size / k for a, b in zip(order_x, order_y,
                                                                          strict=True)]))
