"""Two-sample tests that stay valid on dependent rows: a block-permutation null.

A two-sample test that shuffles single rows (or uses the asymptotic distribution of KS, which
assumes the same) treats every row as an independent draw. On a stationary but autocorrelated
series, where early and late rows have the same distribution, neighbouring rows resemble each
other, each half holds far fewer independent draws than rows, and such a test flags "drift"
far more often than its level (an AR(1) with coefficient 0.9, split in halves: most of the
time). Here the rows, in time order, are cut into blocks about as long as the dependence, the
blocks are permuted, and the labels (which side a position is on) stay where they are: each
permuted dataset keeps the dependence within blocks, and the statistic's null distribution
carries it (Kunsch 1989 for the block idea; Politis & Romano 1994).

Every statistic of one column comes from a single sort: the KS distance, the Wasserstein-1
distance and the population stability index of each permutation are read from the cumulative
count of test-side rows along the sorted values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.tsa.stattools import acf

from casestudies.iid_checks import checks

MAX_LAG_SHARE = 0.1
"""The autocorrelations summed into the dependence length stop at ``n * MAX_LAG_SHARE`` lags:
beyond that they are estimated from too few pairs."""

BAND_Z = 1.96
"""Autocorrelations are summed while they stay above the white-noise band ``BAND_Z / sqrt(n)``
(Geyer's initial sequence idea): past that, they are indistinguishable from noise and adding
them adds only variance."""

BLOCK_FACTOR = 3
"""Blocks are this many dependence lengths long. The estimated length falls short of the true
one on strongly dependent series (ACF estimates are biased down and the sum is cut at the
noise band), and blocks that short leak dependence across their seams: a stationary AR(1) with
coefficient 0.9 split in halves was flagged in 12-18 % of 200 replicates of 500 rows at level
0.05 with one or two lengths, and in 3.5-8 % on 200 to 800 rows with three (measured when this
was written; a test keeps it at most 10 %)."""

NULL_CHUNK = 64  # permutations evaluated together (memory: chunk x rows)


def dependence_length(x: np.ndarray) -> int:
    """Rows over which a series stays dependent: its integrated autocorrelation time.

    .. math:: \\tau = 1 + 2 \\sum_{k=1}^{K} \\hat\\rho_k

    summed while ``rho_k`` is above the white-noise band (:data:`BAND_Z`), at most
    ``n * MAX_LAG_SHARE`` lags; ``n / tau`` is about the effective number of independent rows
    (``(1 + phi) / (1 - phi)`` for an AR(1)). Returns ``ceil(tau)``, at least 1.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    lags = max(1, int(n * MAX_LAG_SHARE))
    if np.std(x) == 0 or n < 4:
        return 1
    rho = acf(x, nlags=lags, fft=True, result_object=False)[1:]
    below = np.flatnonzero(rho < BAND_Z / np.sqrt(n))
    last = below[0] if len(below) else len(rho)
    tau = 1 + 2 * float(np.sum(rho[:last]))
    return max(1, int(np.ceil(tau)))


def block_permutations(n: int, block: int, permutations: int, rng: np.random.Generator
                       ) -> np.ndarray:
    """``permutations`` rearrangements of ``n`` rows in time order by whole blocks of
    ``block`` consecutive rows: row ``sigma[b, i]`` moves to position ``i`` in rearrangement
    ``b``. A shorter last block stays at the end (blocks of one length are exchangeable with
    each other, a short one is not)."""
    block = max(1, min(block, n))
    if permutations == 0:
        return np.empty((0, n), dtype=np.int64)
    full = n // block
    # rank[b, k]: the position block k moves to (as in block_labels); order: its inverse.
    rank = np.argsort(rng.random((permutations, full)), axis=1)
    order = np.argsort(rank, axis=1)
    rows = (order[:, :, None] * block + np.arange(block)).reshape(permutations, full * block)
    tail = np.broadcast_to(np.arange(full * block, n), (permutations, n - full * block))
    return np.concatenate([rows, tail], axis=1)


def permuted_labels(is_test: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Side of every row after each rearrangement: the row moved to position ``i`` takes the
    side of position ``i``."""
    labels = np.empty(sigma.shape, dtype=bool)
    np.put_along_axis(labels, sigma, np.broadcast_to(is_test, sigma.shape), axis=1)
    return labels


def block_labels(is_test: np.ndarray, block: int, permutations: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Side of every row under each block rearrangement: the same as
    ``permuted_labels(is_test, block_permutations(...))`` with the same ``rng`` draws, computed
    as one gather (the block of a row lands at its block's new position)."""
    n = len(is_test)
    block = max(1, min(block, n))
    if permutations == 0:
        return np.empty((0, n), dtype=bool)
    full = n // block
    rank = np.argsort(rng.random((permutations, full)), axis=1).astype(np.int32)
    head = np.arange(full * block, dtype=np.int32)
    position = rank[:, head // block] * np.int32(block) + head % block
    tail = np.broadcast_to(np.asarray(is_test[full * block:], dtype=bool),
                           (permutations, n - full * block))
    return np.concatenate([np.asarray(is_test, dtype=bool)[position], tail], axis=1)


def permutation_p_value(observed: float, null: np.ndarray) -> float:
    """``(1 + #{null >= observed}) / (1 + B)``, with a relative tolerance for rounding."""
    exceed = np.count_nonzero(null >= observed - 1e-12 * abs(observed))
    return float((1 + exceed) / (1 + len(null)))


@dataclass(frozen=True)
class DependentTwoSample:
    """Two-sample statistics of one column with naive and block-permutation p-values.

    ``statistics`` maps a test name to its observed value, ``p_values`` to the p-value under
    the block-permutation null, ``naive_p_values`` to the p-value that assumes independent
    rows (scipy's KS, the chi-square approximations). ``block`` is the block length in rows of
    the sample permuted (``rows`` of them, every ``step``-th row of the column).
    """

    statistics: dict[str, float]
    p_values: dict[str, float]
    naive_p_values: dict[str, float]
    block: int
    rows: int
    step: int
    permutations: int
    # The (1 - alpha) quantile of each statistic's null distribution: the smallest value this
    # test, at this many rows and this dependence, flags before adjustment (its minimum
    # detectable effect); nan without permutations.
    critical: dict[str, float] | None = None


def _thin(n: int, max_rows: int) -> np.ndarray:
    """Every ``step``-th row, so that at most ``max_rows`` remain (the time order is kept)."""
    step = max(1, int(np.ceil(n / max_rows)))
    return np.arange(0, n, step)


def _continuous_null(x: np.ndarray, labels: np.ndarray, codes: np.ndarray, bins: int
                     ) -> dict[str, np.ndarray]:
    """KS, Wasserstein-1 / SD and PSI of every labelling (rows of ``labels``: test side)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ends = np.flatnonzero(xs[1:] != xs[:-1])  # last position of each distinct value but the top
    gaps = xs[ends + 1] - xs[ends]
    scale = np.std(x)
    n = len(x)
    out = {"Kolmogorov-Smirnov": [], "Wasserstein": [], "PSI": []}
    onehot = np.zeros((n, bins))
    onehot[np.arange(n), codes] = 1.0
    totals = onehot.sum(axis=0)
    for start in range(0, len(labels), NULL_CHUNK):
        chunk = labels[start:start + NULL_CHUNK]
        n_test = chunk.sum(axis=1, keepdims=True)
        n_train = n - n_test
        cum_test = np.cumsum(chunk[:, order], axis=1)[:, ends]
        seen = ends + 1
        diff = (seen - cum_test) / n_train - cum_test / n_test
        out["Kolmogorov-Smirnov"].append(np.max(np.abs(diff), axis=1, initial=0.0))
        out["Wasserstein"].append(np.abs(diff) @ gaps / scale if scale > 0
                                  else np.zeros(len(chunk)))
        test_counts = chunk.astype(float) @ onehot
        out["PSI"].append(checks.psi_from_counts(totals - test_counts, test_counts))
    return {name: np.concatenate(values) for name, values in out.items()}


def _chi_square(table_test: np.ndarray, totals: np.ndarray, n_test: np.ndarray, n: int
                ) -> np.ndarray:
    """Pearson chi-square of 2 x k tables given the test-side counts (rows of ``table_test``)."""
    n_test = n_test.reshape(-1, 1)
    expected_test = totals * n_test / n
    expected_train = totals * (n - n_test) / n
    table_train = totals - table_test
    keep = totals > 0
    return (np.sum(((table_test - expected_test) ** 2 / expected_test)[:, keep], axis=1)
            + np.sum(((table_train - expected_train) ** 2 / expected_train)[:, keep], axis=1))


def dependent_two_sample(values: np.ndarray, is_test: np.ndarray, *, discrete: bool,
                         permutations: int, rng: np.random.Generator, max_rows: int = 20_000,
                         block: int | None = None, alpha: float = 0.05) -> DependentTwoSample:
    """Two-sample tests of one column (rows in time order) under a block-permutation null.

    Continuous columns: KS distance ``D``, Wasserstein-1 distance over the pooled SD, and PSI
    (bins of :func:`~casestudies.iid_checks.checks.psi_bins` on the first side, held fixed
    across permutations). Discrete or categorical columns: the chi-square statistic of the
    2 x k table. Columns longer than ``max_rows`` are thinned to every ``step``-th row for the
    permutation null (the statistics reported are those of the thinned sample; the time order
    and hence the dependence are kept). ``block`` defaults to :data:`BLOCK_FACTOR` times the
    :func:`dependence_length` of the (thinned) column, of its level codes for a categorical
    column.
    """
    keep = _thin(len(values), max_rows)
    step = int(keep[1] - keep[0]) if len(keep) > 1 else 1
    side = np.asarray(is_test, dtype=bool)[keep]
    if discrete:
        _, codes = np.unique(np.asarray(values)[keep].astype(str), return_inverse=True)
        series = codes.astype(float)
    else:
        series = np.asarray(values, dtype=float)[keep]
    if block is None:
        block = BLOCK_FACTOR * dependence_length(series)
    labels = np.vstack([side, block_labels(side, block, permutations, rng)])
    n = len(series)
    if discrete:
        k = int(codes.max()) + 1
        onehot = np.zeros((n, k))
        onehot[np.arange(n), codes] = 1.0
        totals = onehot.sum(axis=0)
        chi2 = _chi_square(labels.astype(float) @ onehot, totals, labels.sum(axis=1), n)
        naive = stats.chi2.sf(chi2[0], max(int(np.sum(totals > 0)) - 1, 1))
        statistics = {"chi-square": float(chi2[0])}
        p_values = {"chi-square": permutation_p_value(chi2[0], chi2[1:])}
        nulls = {"chi-square": chi2[1:]}
        naive_p = {"chi-square": float(naive)}
    else:
        atoms, edges = checks.psi_bins(series[~side])
        bins = len(atoms) + len(edges) + 1
        null = _continuous_null(series, labels, checks.psi_codes(series, atoms, edges), bins)
        statistics = {name: float(v[0]) for name, v in null.items()}
        p_values = {name: permutation_p_value(v[0], v[1:]) for name, v in null.items()}
        nulls = {name: v[1:] for name, v in null.items()}
        naive_p = {"Kolmogorov-Smirnov": float(stats.ks_2samp(series[~side],
                                                               series[side]).pvalue)}
    critical = {name: float(np.quantile(v, 1 - alpha)) if len(v) else np.nan
                for name, v in nulls.items()}
    return DependentTwoSample(statistics=statistics, p_values=p_values,
                              naive_p_values=naive_p, block=int(block), rows=n, step=step,
                              permutations=permutations, critical=critical)


def dependent_energy_test(features: np.ndarray, is_test: np.ndarray, block: int,
                          permutations: int, rng: np.random.Generator
                          ) -> tuple[checks.TestResult, float]:
    """Energy-distance test of equal joint distributions under the block-permutation null.

    ``features`` (rows in time order, standardised) are compared across ``is_test``; the null
    rearranges blocks of ``block`` consecutive rows. Returns the result (effect: the energy
    coefficient ``H``) and the p-value of the same statistic under row permutations (which
    assumes independent rows), for comparison.
    """
    from scipy.spatial.distance import cdist

    distances = cdist(features, features)
    first = ~np.asarray(is_test, dtype=bool)
    labels = block_labels(first, block, permutations, rng)
    (observed,), cross = checks.energy_statistics(distances, first)
    null, _ = checks.energy_statistics(distances, labels.T)
    rows = np.column_stack([rng.permutation(first) for _ in range(permutations)])
    naive_null, _ = checks.energy_statistics(distances, rows)
    effect = float(observed / cross) if cross > 0 else 0.0
    return (checks.TestResult(float(observed), permutation_p_value(observed, null), effect),
            permutation_p_value(observed, naive_null))
