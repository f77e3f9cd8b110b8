"""How each check behaves at the user's n with the column's own values: its false-alarm rate
and the smallest effect it flags, simulated under its null on the column itself.

A p-value from an asymptotic distribution (Ljung-Box's chi-square, the runs test's normal, BDS's
normal, ANOVA's F) is exact only in the limit; on a short, skewed, heavy-tailed or heavily tied
series its real level can be far from alpha, and a "no evidence" verdict on few rows may only
mean that the check could not see a material effect. Both are measured here, at this n:

* **order-based independence checks** (Ljung-Box, runs, ANOVA across groups, Durbin-Watson):
  the null is "the same values in random order". The column's values (the very series the check
  used) are permuted :data:`NULL_REPLICATES` times (fewer on long series, see
  :func:`replicates_for`), keeping ties, discreteness, skew and heavy tails; every permuted
  series goes through the check. The share flagged at alpha (before
  adjustment) is the false-alarm rate, with a Wilson interval; the ``1 - alpha`` quantile of
  the check's absolute effect size over the permutations is the smallest effect it flags
  beyond chance (its minimum detectable effect). The checks of one column share the same
  permutations.
* **BDS** costs ``O(n^2)`` per series: the same permutation null of the block means it ran on,
  with :data:`BDS_NULL_REPLICATES` replicates only.
* **KPSS** (null: stationary): a stationary AR(1) with the column's lag-1 autocorrelation
  (clipped to :data:`MAX_PERSISTENCE`) of the column's length, reduced to block means as the
  audit does, is what KPSS must not flag; its rejection rate there is its false-alarm rate,
  and the ``1 - alpha`` quantile of the segment share over those series is the smallest level
  movement the check tells from that persistence.
* **two-sample drift checks** under the block permutation keep their own ``detectable`` (the
  ``1 - alpha`` quantile of the block-permutation null); their false-alarm rate under that null
  is alpha by construction and is not simulated.

Every part draws from its own stream, named after the dataset, the column and the check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal, stats

from casestudies.iid_checks import checks
from casestudies.rng import stream
from casestudies.stats import binomial_band, wilson_interval

NULL_REPLICATES = 199
"""Permuted series per column: at alpha = 0.05 the false-alarm rate is then known to about
+-3 points (Wilson), and the 0.95 quantile of the effect is an order statistic with 10 draws
above it."""

NULL_CELLS_PER_CHECK = 2_000_000
"""Most simulated values per column and family of checks: a series longer than
``NULL_CELLS_PER_CHECK / NULL_REPLICATES`` (10,050 rows) gets fewer replicates, at least
:data:`MIN_NULL_REPLICATES`, so that the default report's dozen 30,000-row columns cost about
a second together. Long series are where the asymptotic p-values are closest to exact, so the
coarser rate there loses least."""

MIN_NULL_REPLICATES = 39
"""Fewest replicates of a null: at 39 the 99 % band of alpha = 0.05 ends near 0.15, so a check
that flags a fifth of random series is still told from one of level 0.05."""

BDS_NULL_REPLICATES = 19
"""Permuted series for BDS, whose statistic compares every pair of values (several ms per
order at 2,000 block means even counted on ranks, :func:`close_pair_counts`): 19 keep its null
near a tenth of a second per column. The 99 % band of alpha = 0.05 then ends near 0.21: only a
gross failure (BDS flagging a quarter or more of random orders, as it does on short series) is
called unreliable, and its detectable effect is a coarse quantile."""

RELIABILITY_CONFIDENCE = 0.99
"""A check is *unreliable at this n* when its false-alarm rate lies outside the central 99 %
binomial band of alpha for its replicates. 99 % rather than 95 %: every series check of the
audit is simulated, and at 95 % about one honest check in forty would be called unreliable by
simulation noise alone."""

MAX_PERSISTENCE = 0.99
"""Bound on the absolute lag-1 autocorrelation of the stationary AR(1) of the KPSS null: a
series whose own estimate is at or above it (a random walk, a level shift) is compared with the
most persistent stationary series still called stationary here, not with a unit root."""

MAX_NULL_ROWS = 100_000
"""Longest series whose random orders are simulated whole. A longer one is simulated on a
random ``m``-subset of its values (in random order, that is exactly the null at length ``m``
with the same values' distribution), and the detectable effects of Ljung-Box, runs and
Durbin-Watson, which shrink as ``1 / sqrt(n)`` under the null, are scaled by ``sqrt(m / n)``;
the false-alarm rate at ``m`` stands for the one at ``n``, where the asymptotic null is closer
still. The ANOVA across groups is not simulated there: fewer rows shrink its groups, and the F
test is least robust with small groups, so its rate at ``m`` would not stand for ``n``. Without
this cap the nulls of a 1,000,000-row, 20-column table took over a minute."""

NULL_CELLS = 2_000_000
"""Permuted values held in memory at once (16 MB of floats); longer nulls run in chunks."""

PERMUTED = "the column's values in random order"
PERMUTED_BLOCK_MEANS = "its block means in random order"
PERMUTED_SUBSAMPLE = ("{m:,} of the column's values in random order, flagged-from scaled by "
                      "sqrt({m:,} / n)")
STATIONARY_AR1 = "a stationary AR(1) with the column's lag-1 autocorrelation"
BY_CONSTRUCTION = "alpha by construction (block-permutation p-value)"
NOT_SIMULATED = "not simulated"
"""How each row's false-alarm rate was obtained (the ``null_source`` of a check)."""

# KPSS with a constant: statsmodels' table of critical values and their p-values
# (Kwiatkowski et al. 1992, table 1), interpolated as statsmodels does.
KPSS_CRITICAL = (0.347, 0.463, 0.574, 0.739)
KPSS_P_VALUES = (0.10, 0.05, 0.025, 0.01)


@dataclass(frozen=True)
class NullAtN:
    """A check's behaviour under its null at this n: how often it flags at alpha (with a
    Wilson interval) and the ``1 - alpha`` quantile of its absolute effect size."""

    flagged: int
    replicates: int
    rate: float
    low: float
    high: float
    detectable: float
    source: str


@dataclass(frozen=True)
class NullStreams:
    """The seed and dataset whose streams the nulls draw from, and the level tested."""

    seed: int
    part: str
    alpha: float

    def rng(self, column: str, family: str) -> np.random.Generator:
        """The stream of one column's null of one family of checks."""
        return stream(self.seed, "iid_checks", self.part, "null at n", column, family)


def summarise(p_values: np.ndarray, effects: np.ndarray, alpha: float, source: str) -> NullAtN:
    """Flag rate at ``alpha`` with its Wilson interval, and the ``1 - alpha`` quantile of the
    absolute effects (``nan`` p-values, checks that could not run, count as not flagged)."""
    p_values = np.asarray(p_values, dtype=float)
    flagged = int(np.count_nonzero(p_values < alpha))
    replicates = len(p_values)
    low, high = wilson_interval(flagged, replicates)
    effects = np.abs(np.asarray(effects, dtype=float))
    effects = effects[np.isfinite(effects)]
    detectable = float(np.quantile(effects, 1 - alpha)) if len(effects) else np.nan
    return NullAtN(flagged=flagged, replicates=replicates, rate=flagged / replicates, low=low,
                   high=high, detectable=detectable, source=source)


def reliability(rate: np.ndarray, replicates: np.ndarray, alpha: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per check: the :data:`RELIABILITY_CONFIDENCE` binomial band of ``alpha`` for its
    replicates, whether its false-alarm rate lies outside it (unreliable at this n) and whether
    above it (flags too often: its flags are no evidence). Checks without a simulated rate are
    neither."""
    rate = np.asarray(rate, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    simulated = np.isfinite(rate) & (np.nan_to_num(replicates) > 0)
    band_low = np.full(len(rate), np.nan)
    band_high = np.full(len(rate), np.nan)
    if simulated.any():
        low, high = binomial_band(alpha, replicates[simulated].astype(int),
                                  RELIABILITY_CONFIDENCE)
        band_low[simulated], band_high[simulated] = low, high
    with np.errstate(invalid="ignore"):
        oversized = simulated & (rate > band_high)
        unreliable = oversized | (simulated & (rate < band_low))
    return band_low, band_high, unreliable, oversized


def replicates_for(n: int) -> int:
    """Replicates of a null on ``n`` values: :data:`NULL_REPLICATES`, fewer for series longer
    than :data:`NULL_CELLS_PER_CHECK` allows, at least :data:`MIN_NULL_REPLICATES`."""
    return int(min(NULL_REPLICATES, max(MIN_NULL_REPLICATES, NULL_CELLS_PER_CHECK // max(n, 1))))


def _chunks(replicates: int, n: int) -> list[int]:
    """Sizes of the chunks of permuted series, at most :data:`NULL_CELLS` values each."""
    size = max(1, NULL_CELLS // max(n, 1))
    return [min(size, replicates - start) for start in range(0, replicates, size)]


def permuted_rows(x: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    """``rows`` independent random orders of ``x``, one per row."""
    return rng.permuted(np.tile(np.asarray(x, dtype=float), (rows, 1)), axis=1)


def ljung_box_rows(X: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Ljung-Box p-values and effects (max |ACF|) of every row of ``X``, as
    :func:`~casestudies.iid_checks.checks.ljung_box`: lagged dot products of the centred
    rows."""
    n = X.shape[1]
    centred = X - X.mean(axis=1, keepdims=True)
    denominator = np.einsum("ij,ij->i", centred, centred)
    safe = np.where(denominator > 0, denominator, 1.0)
    rho = np.column_stack([np.einsum("ij,ij->i", centred[:, k:], centred[:, :-k]) / safe
                           for k in range(1, lags + 1)])
    rho[denominator == 0] = 0.0
    q = n * (n + 2) * np.sum(rho**2 / (n - np.arange(1, lags + 1)), axis=1)
    return stats.chi2.sf(q, lags), np.max(np.abs(rho), axis=1)


def runs_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs-test p-values and effects (runs / expected - 1) of every row of ``X``, as
    :func:`~casestudies.iid_checks.checks.runs_test`: the values, the median and the two counts
    are those of the column, so only the order (and the runs) differ between rows."""
    first = X[0]
    levels = np.unique(first)
    if len(levels) == 2:
        above = X == levels[1]
    else:
        median = np.median(first)
        kept = X != median
        width = int(kept[0].sum())
        above = (X[kept] > median).reshape(len(X), width)
    n1 = int(above[0].sum())
    n2 = above.shape[1] - n1
    n = n1 + n2
    if n1 == 0 or n2 == 0:
        return np.full(len(X), np.nan), np.full(len(X), np.nan)
    runs = 1 + np.count_nonzero(above[:, 1:] != above[:, :-1], axis=1)
    expected = 2 * n1 * n2 / n + 1
    variance = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n**2 * (n - 1))
    z = (runs - expected) / np.sqrt(variance)
    return 2 * stats.norm.sf(np.abs(z)), runs / expected - 1


def anova_rows(X: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-way ANOVA p-values and intraclass correlations of every row of ``X`` across the
    fixed ``groups``, as :func:`~casestudies.iid_checks.audit._group_anova`; group sums of all
    rows from one bincount."""
    _, codes = np.unique(groups, return_inverse=True)
    k = int(codes.max()) + 1
    rows, n = X.shape
    counts = np.bincount(codes, minlength=k).astype(float)
    offsets = (codes[None, :] + k * np.arange(rows)[:, None]).ravel()
    sums = np.bincount(offsets, weights=X.ravel(), minlength=rows * k).reshape(rows, k)
    grand = X.mean(axis=1, keepdims=True)
    ss_total = np.sum((X - grand) ** 2, axis=1)
    ss_between = np.sum(counts * (sums / counts - grand) ** 2, axis=1)
    ms_between = ss_between / (k - 1)
    ms_within = np.maximum(ss_total - ss_between, 0.0) / (n - k)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(ms_within > 0, ms_between / ms_within, np.inf)
        k0 = (n - np.sum(counts**2) / n) / (k - 1)
        icc = (ms_between - ms_within) / (ms_between + (k0 - 1) * ms_within)
    return stats.f.sf(f, k - 1, n - k), icc


def durbin_watson_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Durbin-Watson p-values and implied lag-1 correlations of every row of ``X``, as
    :func:`~casestudies.iid_checks.checks.durbin_watson_test`."""
    dw = np.sum(np.diff(X, axis=1) ** 2, axis=1) / np.sum(X**2, axis=1)
    rho = 1 - dw / 2
    z = np.sqrt(X.shape[1]) * rho
    return 2 * stats.norm.sf(np.abs(z)), rho


def order_nulls(x: np.ndarray, groups: np.ndarray | None, alpha: float,
                rng: np.random.Generator, durbin_watson: bool = False,
                replicates: int | None = None) -> dict[str, NullAtN]:
    """False-alarm rates and detectable effects of the order-based checks of one series
    (Ljung-Box, runs, the ANOVA across ``groups``, Durbin-Watson when asked), from the same
    ``replicates`` random orders of its values (default: :func:`replicates_for` its length)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    scale, source = 1.0, PERMUTED
    if n > MAX_NULL_ROWS:
        x = rng.choice(x, MAX_NULL_ROWS, replace=False)
        groups = None  # see MAX_NULL_ROWS
        scale = np.sqrt(MAX_NULL_ROWS / n)
        source = PERMUTED_SUBSAMPLE.format(m=MAX_NULL_ROWS)
    replicates = replicates or replicates_for(len(x))
    # The lag rule of the series checked, not of the subsample.
    lags = checks.ljung_box_lags(n)
    tests = ["Ljung-Box", "runs"] + (["ANOVA across groups"] if groups is not None else []) + (
        ["Durbin-Watson"] if durbin_watson else [])
    found = {test: ([], []) for test in tests}
    for rows in _chunks(replicates, len(x)):
        X = permuted_rows(x, rows, rng)
        results = {"Ljung-Box": ljung_box_rows(X, lags), "runs": runs_rows(X)}
        if groups is not None:
            results["ANOVA across groups"] = anova_rows(X, groups)
        if durbin_watson:
            results["Durbin-Watson"] = durbin_watson_rows(X)
        for test, (p, effect) in results.items():
            found[test][0].append(p)
            found[test][1].append(effect)
    return {test: summarise(np.concatenate(p), np.concatenate(e) * scale, alpha, source)
            for test, (p, e) in found.items()}


RANK_BLOCK = 16
"""Ranks per block of the table of :func:`close_pair_counts` (a square-root decomposition: a
table of ``n^2 / RANK_BLOCK`` counts plus ``RANK_BLOCK`` comparisons per query)."""

BDS_CHUNK = 8  # random orders of one BDS null counted together (memory: chunk x n x block)


def close_pair_counts(ranks: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """For each random order (rows of ``ranks``: the sorted-order ranks of the values in that
    order), the number of ordered pairs of positions ``(s, t)``, both below ``n - 1``, with
    ``u_t`` in ``[low, high)`` of ``u_s`` and ``u_{t+1}`` in that of ``u_{s+1}``: the pairs close
    at two consecutive positions, counted without the ``n x n`` matrix.

    Rank ``a`` is followed by rank ``succ[a]``; a pair count is then a count of points
    ``(a, succ[a])`` in a rectangle, i.e. four counts ``F(a, b) = #{a' < a: succ[a'] < b}``,
    each read from a table at the last block boundary below ``a`` plus at most
    :data:`RANK_BLOCK` comparisons.
    """
    rows, n = ranks.shape
    index = np.arange(rows)[:, None]
    succ = np.full((rows, n + RANK_BLOCK), n, dtype=np.int32)  # n: no successor
    succ[index, ranks[:, :-1]] = ranks[:, 1:]
    blocks = -(-n // RANK_BLOCK)
    width = n + 2
    codes = ((index * (blocks + 1) + np.arange(n) // RANK_BLOCK + 1) * width + succ[:, :n])
    counts = np.bincount(codes.ravel(), minlength=rows * (blocks + 1) * width)
    # table[r, j, v] = #{a < j RANK_BLOCK : succ[a] <= v}
    # Counts stay below n: 16 bits halve the memory the two running sums pass over (up to
    # 32,767 values; BDS runs on at most max_series block means).
    dtype = np.int16 if n < np.iinfo(np.int16).max else np.int32
    table = counts.reshape(rows, blocks + 1, width).astype(dtype)
    np.cumsum(table, axis=2, out=table)
    np.cumsum(table, axis=1, out=table)
    table = table.reshape(rows, -1)
    steps = np.arange(RANK_BLOCK)

    def below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        block = a // RANK_BLOCK
        full = np.take_along_axis(table, block * width + np.maximum(b - 1, 0), axis=1)
        full = np.where(b > 0, full, 0)
        start = block * RANK_BLOCK
        window = np.take_along_axis(succ, (start[..., None] + steps).reshape(rows, -1),
                                    axis=1).reshape(*a.shape, RANK_BLOCK)
        rest = (window < b[..., None]) & (steps < (a - start)[..., None])
        return full + np.count_nonzero(rest, axis=-1)

    low_s, high_s = low[ranks[:, :-1]], high[ranks[:, :-1]]
    low_t, high_t = low[ranks[:, 1:]], high[ranks[:, 1:]]
    inside = (below(high_s, high_t) - below(low_s, high_t) - below(high_s, low_t)
              + below(low_s, low_t))
    return inside.sum(axis=1)


def bds_rows(x: np.ndarray, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BDS p-values and effects (``W / sqrt(n)``) of ``x`` in each order of ``orders`` (rows of
    indices), as ``statsmodels.tsa.stattools.bds`` with embedding dimension 2.

    The pairs ``|x_i - x_j| < eps``, the correlation integral of all ``n`` values and the
    variance term ``K`` do not depend on the order; only ``C_2`` (pairs close at two
    consecutive positions, :func:`close_pair_counts`) and ``C_1`` of the last ``n - 1`` values
    (all pairs but the first value's) do. In sorted order the values close to one value form an
    interval of ranks, ``[low, high)``.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    epsilon = checks.BDS_DISTANCE * x.std(ddof=1)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    # In sorted order the values within epsilon of one value form an interval of ranks.
    low = np.searchsorted(ordered, ordered - epsilon, side="right")
    high = np.searchsorted(ordered, ordered + epsilon, side="left")
    row_sums = (high - low).astype(float)
    pairs_all = (row_sums.sum() - n) / 2
    c1_full = pairs_all / (n * (n - 1) / 2)
    k = ((row_sums**2).sum() - 3 * row_sums.sum() + 2 * n) / (n * (n - 1) * (n - 2))
    variance = 4 * (k**2 + 2 * k * c1_full**2 + c1_full**4 - 4 * k * c1_full**2)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ranks = rank[np.asarray(orders)]
    both = np.concatenate([close_pair_counts(ranks[i:i + BDS_CHUNK], low, high)
                           for i in range(0, len(ranks), BDS_CHUNK)])
    tail_pairs = (n - 1) * (n - 2) / 2
    c2 = (both - (n - 1)) / 2 / tail_pairs
    c1 = (pairs_all - (row_sums[ranks[:, 0]] - 1)) / tail_pairs
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.sqrt(n - 1) * (c2 - c1**2) / np.sqrt(variance)
    return 2 * stats.norm.sf(np.abs(w)), w / np.sqrt(n)


def bds_null(x: np.ndarray, alpha: float, rng: np.random.Generator,
             replicates: int = BDS_NULL_REPLICATES) -> NullAtN:
    """False-alarm rate and detectable effect of BDS on ``x`` (the block means it ran on) in
    ``replicates`` random orders."""
    orders = np.argsort(rng.random((replicates, len(x))), axis=1)
    p_values, effects = bds_rows(x, orders)
    return summarise(p_values, effects, alpha, PERMUTED_BLOCK_MEANS)


def kpss_rows(X: np.ndarray) -> np.ndarray:
    """KPSS p-values (constant, automatic bandwidth) of every row of ``X``, as
    ``statsmodels.tsa.stattools.kpss(x, "c", nlags="auto")``: autocovariances of all lags
    from one FFT per row, the Hobijn et al. (1998) bandwidth per row, the Bartlett-weighted
    long-run variance, and the p-value interpolated in the KPSS table (clipped to 0.01-0.10)."""
    n = X.shape[1]
    resid = X - X.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(resid, size, axis=1)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, :n]
    covlags = int(np.power(n, 2.0 / 9.0))
    lag = np.arange(1, covlags + 1)
    s0 = autocov[:, 0] / n + autocov[:, 1:covlags + 1].sum(axis=1) / (n / 2.0)
    s1 = (autocov[:, 1:covlags + 1] * lag).sum(axis=1) / (n / 2.0)
    gamma = 1.1447 * np.power((s1 / s0) ** 2, 1.0 / 3.0)
    bandwidth = np.minimum((gamma * np.power(n, 1.0 / 3.0)).astype(int), n - 1)
    steps = np.arange(1, n)
    weights = np.clip(1.0 - steps[None, :] / (bandwidth[:, None] + 1.0), 0.0, None)
    weights[steps[None, :] > bandwidth[:, None]] = 0.0
    long_run = (autocov[:, 0] + 2 * np.sum(autocov[:, 1:] * weights, axis=1)) / n
    eta = np.sum(np.cumsum(resid, axis=1) ** 2, axis=1) / n**2
    statistic = eta / long_run
    return np.interp(statistic, KPSS_CRITICAL, KPSS_P_VALUES)


def stationary_ar1(phi: float, rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``rows`` stationary AR(1) series of length ``n`` with coefficient ``phi`` (started from
    the stationary distribution)."""
    noise = rng.standard_normal((rows, n))
    noise[:, 0] /= np.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], noise, axis=1)


def block_mean_rows(X: np.ndarray, blocks: int) -> np.ndarray:
    """:func:`~casestudies.iid_checks.checks.block_means` of every row of ``X``."""
    n = X.shape[1]
    if n <= blocks:
        return X
    edges = np.linspace(0, n, blocks + 1).astype(int)
    return np.add.reduceat(X, edges[:-1], axis=1) / np.diff(edges)


def segment_share_rows(X: np.ndarray, segments: int = checks.STATIONARITY_SEGMENTS
                       ) -> np.ndarray:
    """:func:`~casestudies.iid_checks.checks.segment_share` of every row of ``X``."""
    n = X.shape[1]
    if n < segments:
        return np.zeros(len(X))
    # Sums of squares without a centred copy: the rows are simulated around zero, so the
    # difference of the two sums loses no digits that matter.
    mean = X.mean(axis=1)
    total = np.einsum("ij,ij->i", X, X) - n * mean**2
    edges = np.linspace(0, n, segments + 1).astype(int)
    sizes = np.diff(edges)
    means = np.add.reduceat(X, edges[:-1], axis=1) / sizes
    between = np.sum(sizes * (means - mean[:, None]) ** 2, axis=1)
    return np.where(total > 0, between / np.where(total > 0, total, 1), 0.0)


def persistence(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``x``, clipped to ``+-``:data:`MAX_PERSISTENCE`."""
    rho = float(checks.autocorrelations(np.asarray(x, dtype=float), 1)[0])
    return float(np.clip(rho, -MAX_PERSISTENCE, MAX_PERSISTENCE))


def kpss_null(full: np.ndarray, max_series: int, alpha: float, rng: np.random.Generator,
              replicates: int | None = None) -> tuple[NullAtN, float]:
    """KPSS's false-alarm rate on a stationary AR(1) with the lag-1 autocorrelation of
    ``full`` and its length, reduced to ``max_series`` block means as the audit does, and the
    ``1 - alpha`` quantile of the segment share of those series. Returns the result and the
    coefficient simulated. ``replicates`` defaults to :func:`replicates_for` the length."""
    phi = persistence(full)
    replicates = replicates or replicates_for(len(full))
    p_values, shares = [], []
    for rows in _chunks(replicates, len(full)):
        series = stationary_ar1(phi, rows, len(full), rng)
        p_values.append(kpss_rows(block_mean_rows(series, max_series)))
        shares.append(segment_share_rows(series))
    return summarise(np.concatenate(p_values), np.concatenate(shares), alpha,
                     STATIONARY_AR1), phi


def summary(checks_frame: pd.DataFrame, alpha: float) -> dict:
    """What the simulated nulls say about one audit, as the report states it: how many checks
    were simulated and how, the bands, the checks outside them, the flags not counted and the
    checks that could not see a material effect."""
    from casestudies.iid_checks.audit import TOO_FEW_ROWS, VERDICTS

    frame = checks_frame
    simulated = frame["false_alarm_rate"].notna()
    unreliable = frame[simulated & frame["unreliable"]]
    counts = frame.loc[simulated & (frame["test"] != "BDS"), "null_replicates"]
    subsampled = frame["null_source"] == PERMUTED_SUBSAMPLE.format(m=MAX_NULL_ROWS)
    not_simulated = set(frame.loc[frame["null_source"] == NOT_SIMULATED, "test"])
    # On series past the cap the ANOVA is left out on purpose (MAX_NULL_ROWS), not for cost.
    anova_capped = bool(subsampled.any()) and "ANOVA across groups" in not_simulated
    return {
        "replicates": NULL_REPLICATES, "bds_replicates": BDS_NULL_REPLICATES,
        "min_replicates": MIN_NULL_REPLICATES, "cells": NULL_CELLS_PER_CHECK,
        "full_up_to": NULL_CELLS_PER_CHECK // NULL_REPLICATES,
        "fewest_used": int(counts.min()) if len(counts) else 0,
        "confidence": RELIABILITY_CONFIDENCE, "max_persistence": MAX_PERSISTENCE,
        "simulated": int(simulated.sum()),
        "inside": int((simulated & ~frame["unreliable"]).sum()),
        "by_construction": int((frame["null_source"] == BY_CONSTRUCTION).sum()),
        "not_simulated": sorted(not_simulated - ({"ANOVA across groups"} if anova_capped
                                                 else set())),
        "subsampled": int(subsampled.sum()), "max_rows": MAX_NULL_ROWS,
        "anova_capped": anova_capped,
        "unreliable": [{"test": r.test, "column": r.column, "rate": float(r.false_alarm_rate),
                        "low": float(r.false_alarm_low), "high": float(r.false_alarm_high),
                        "too_often": bool(r.oversized)} for r in unreliable.itertuples()],
        "too_often": int(unreliable["oversized"].sum()),
        "not_counted": [{"test": r.test, "column": r.column}
                        for r in frame[frame["verdict"] == VERDICTS[3]].itertuples()],
        "too_few_rows": int((frame["reading"] == TOO_FEW_ROWS).sum()),
        "too_few_rows_deciding": int(((frame["reading"] == TOO_FEW_ROWS)
                                      & frame["decides"]).sum()),
    }
