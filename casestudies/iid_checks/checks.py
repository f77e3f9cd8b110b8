"""The statistical checks of the IID audit, each on plain arrays.

Where statsmodels or scipy has the test it is called (Ljung-Box, Durbin-Watson, BDS, ADF, KPSS,
Kolmogorov-Smirnov, chi-square, Anderson-Darling); the runs test, the population stability
index, the energy-distance permutation test and the multiple-testing adjustments are written
here and checked against hand computations in the tests.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial.distance import cdist
from statsmodels.stats.stattools import durbin_watson
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import adfuller, bds, kpss


@dataclass(frozen=True)
class TestResult:
    """A test's statistic, p-value and effect size (``nan`` p-value: no test, a measure only)."""

    statistic: float
    p_value: float
    effect: float


# The Ljung-Box lag rule h = min(LJUNG_BOX_MAX_LAGS, n // LJUNG_BOX_ROWS_PER_LAG).
LJUNG_BOX_MAX_LAGS = 10
LJUNG_BOX_ROWS_PER_LAG = 5
BDS_DIMENSION = 2  # embedding dimension m of the BDS test
BDS_DISTANCE = 1.5  # BDS epsilon, in standard deviations of the series
# BDS needs at least this many distinct values. On a two-valued series any epsilon between 0 and
# the gap makes "close" mean "equal", and at a share of 1/2 the variance term K - C^2 of the
# statistic vanishes, so W is huge for IID coin flips (about 93 % rejections at 5 %, measured).
BDS_MIN_DISTINCT = 3
PSI_BINS = 10  # quantile bins of the population stability index (deciles)
PSI_PSEUDO_COUNT = 0.5  # rows added to every PSI bin
# Ranges to which the libraries clip interpolated p-values (scipy's anderson_ksamp,
# statsmodels' kpss): a p-value at a bound means "at most" or "at least" that.
ANDERSON_P_RANGE = (0.001, 0.25)
KPSS_P_RANGE = (0.01, 0.10)


def ljung_box_lags(n: int) -> int:
    """The lag rule: ``h = min(10, n // 5)`` (Hyndman & Athanasopoulos, FPP3 section 5.4), with
    the constants :data:`LJUNG_BOX_MAX_LAGS` and :data:`LJUNG_BOX_ROWS_PER_LAG`."""
    return max(1, min(LJUNG_BOX_MAX_LAGS, n // LJUNG_BOX_ROWS_PER_LAG))


def autocorrelations(x: np.ndarray, lags: int) -> np.ndarray:
    """Sample autocorrelations ``rho_1..rho_h`` from lagged dot products of the centred series.

    .. math:: \\hat\\rho_k = \\frac{\\sum_{t=k+1}^{n} (x_t - \\bar x)(x_{t-k} - \\bar x)}
                               {\\sum_t (x_t - \\bar x)^2}

    ``h`` dot products cost ``O(n h)``, cheaper than an FFT of the whole series for the few
    lags Ljung-Box uses (statsmodels' ``acf`` gives the same numbers).
    """
    x = np.asarray(x, dtype=float)
    centred = x - x.mean()
    denominator = float(centred @ centred)
    if denominator == 0:
        return np.zeros(lags)
    return np.array([centred[k:] @ centred[:-k] for k in range(1, lags + 1)]) / denominator


def ljung_box(x: np.ndarray, lags: int | None = None) -> TestResult:
    """Ljung-Box portmanteau test of no autocorrelation up to lag ``h``.

    .. math:: Q = n(n+2)\\sum_{k=1}^{h} \\frac{\\hat\\rho_k^2}{n-k} \\sim \\chi^2_h

    The autocorrelations come from :func:`autocorrelations` (the same Q as
    ``statsmodels.stats.diagnostic.acorr_ljungbox``). Effect size: the largest absolute
    autocorrelation among lags ``1..h``.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    h = lags or ljung_box_lags(n)
    rho = autocorrelations(x, h)
    q = n * (n + 2) * np.sum(rho**2 / (n - np.arange(1, h + 1)))
    return TestResult(float(q), float(stats.chi2.sf(q, h)), float(np.max(np.abs(rho))))


def runs_test(x: np.ndarray) -> TestResult:
    """Wald-Wolfowitz runs test of randomness above and below the median.

    Values equal to the median are dropped (a two-valued series uses its two values). With
    ``n1`` values above, ``n2`` below and ``R``
    runs, under independence

    .. math:: E[R] = \\frac{2 n_1 n_2}{n} + 1, \\quad
              \\operatorname{Var} R = \\frac{2 n_1 n_2 (2 n_1 n_2 - n)}{n^2 (n - 1)}

    and ``z = (R - E[R]) / sd(R)`` is standard normal (two-sided p-value). Effect size:
    ``R / E[R] - 1`` (negative: too few runs, i.e. positive dependence).
    """
    x = np.asarray(x, dtype=float)
    levels = np.unique(x)
    if len(levels) == 2:  # a binary series: its two values are the two kinds of run
        above = x == levels[1]
    else:
        above = x[x != np.median(x)] > np.median(x)
    n1, n2 = int(above.sum()), int((~above).sum())
    n = n1 + n2
    if n1 == 0 or n2 == 0:
        return TestResult(np.nan, np.nan, np.nan)
    runs = 1 + int(np.count_nonzero(above[1:] != above[:-1]))
    expected = 2 * n1 * n2 / n + 1
    variance = 2 * n1 * n2 * (2 * n1 * n2 - n) / (n**2 * (n - 1))
    z = (runs - expected) / np.sqrt(variance)
    return TestResult(float(z), float(2 * stats.norm.sf(abs(z))), float(runs / expected - 1))


def durbin_watson_test(residuals: np.ndarray) -> TestResult:
    """Durbin-Watson statistic of regression residuals with its large-sample p-value.

    .. math:: DW = \\frac{\\sum_{t=2}^n (e_t - e_{t-1})^2}{\\sum_t e_t^2}
              \\approx 2(1 - \\hat\\rho_1)

    Under no autocorrelation ``sqrt(n) (1 - DW/2)`` is approximately standard normal, which gives
    the two-sided p-value. Effect size: ``1 - DW/2``, the implied lag-1 autocorrelation.
    """
    residuals = np.asarray(residuals, dtype=float)
    dw = float(durbin_watson(residuals))
    rho = 1 - dw / 2
    z = np.sqrt(len(residuals)) * rho
    return TestResult(dw, float(2 * stats.norm.sf(abs(z))), float(rho))


def bds_test(x: np.ndarray) -> TestResult:
    """BDS test of IID against any (also nonlinear) dependence, embedding dimension
    :data:`BDS_DIMENSION` (2).

    ``statsmodels.tsa.stattools.bds`` with ``epsilon = BDS_DISTANCE sd`` (1.5): compares the
    correlation integral ``C_m(eps)`` with ``C_1(eps)^m``; the standardised difference ``W`` is
    N(0, 1) under IID. Effect size: ``W / sqrt(n)``.
    """
    x = np.asarray(x, dtype=float)
    statistic, p_value = bds(x, max_dim=BDS_DIMENSION, distance=BDS_DISTANCE)
    statistic = float(np.atleast_1d(statistic)[-1])
    return TestResult(statistic, float(np.atleast_1d(p_value)[-1]),
                      statistic / np.sqrt(len(x)))


def block_means(x: np.ndarray, blocks: int) -> np.ndarray:
    """Means of ``blocks`` consecutive, (almost) equal blocks of ``x``; ``x`` itself if shorter."""
    x = np.asarray(x, dtype=float)
    if len(x) <= blocks:
        return x
    edges = np.linspace(0, len(x), blocks + 1).astype(int)
    sums = np.add.reduceat(x, edges[:-1])
    return sums / np.diff(edges)


@dataclass(frozen=True)
class StationarityResult:
    """ADF and KPSS with the same deterministic terms on one series, and their joint reading."""

    adf_statistic: float
    adf_p_value: float
    adf_lags: int
    persistence: float
    kpss_statistic: float
    kpss_p_value: float
    kpss_critical_5: float
    reading: str
    terms: str = "c"


# The deterministic terms both tests are run with: the same in ADF's regression and in KPSS's
# null, so that the pair asks one question (a constant mean; a constant plus a linear trend).
DETERMINISTIC_TERMS = {"c": "constant", "ct": "constant and trend"}

# The four-way reading of ADF (null: unit root) and KPSS (null: stationary) at level alpha.
# When both reject, ADF has just rejected the unit root that a difference-stationary series
# would have, so the pair contradicts itself: the reading names the usual causes (a level shift
# or break, long memory, a trend the constant-only pair misses, an over-sized KPSS) rather than
# a model.
READINGS = {
    (True, False): "stationary",
    (False, True): "non-stationary (unit root)",
    (False, False): "inconclusive: neither rejects (too short to tell)",
    (True, True): "conflicting: structural break, long memory or a missed trend",
}
STATIONARITY_SEGMENTS = 10
"""Consecutive segments whose means measure how far the level of a series moves: the effect
size of the stationarity check is the share of the variance lying between them."""


def segment_share(x: np.ndarray, segments: int = STATIONARITY_SEGMENTS) -> float:
    """Share of the variance of ``x`` between the means of ``segments`` consecutive segments.

    .. math:: \\eta^2 = \\frac{\\sum_s n_s (\\bar x_s - \\bar x)^2}{\\sum_t (x_t - \\bar x)^2}

    About ``(segments - 1) / n`` for independent rows with a constant mean, 0.2 for a shift of
    one SD at the middle, near 1 for a random walk: how much the level moves, in a unit that
    does not shrink with n.
    """
    x = np.asarray(x, dtype=float)
    total = float(np.sum((x - x.mean()) ** 2))
    if total == 0 or len(x) < segments:
        return 0.0
    edges = np.linspace(0, len(x), segments + 1).astype(int)
    sizes = np.diff(edges)
    means = np.add.reduceat(x, edges[:-1]) / sizes
    return float(np.sum(sizes * (means - x.mean()) ** 2) / total)


def adf_kpss(x: np.ndarray, alpha: float = 0.05, terms: str = "c") -> StationarityResult:
    """Augmented Dickey-Fuller (lag by AIC) and KPSS (automatic bandwidth) with the same
    deterministic ``terms`` (``"c"``: constant, ``"ct"``: constant and trend).

    ADF regresses ``dx_t`` on the terms, ``x_{t-1}`` and lagged differences; its null is a unit
    root (``gamma = 0``), so a small p-value is evidence *for* stationarity around the terms.
    KPSS's null is stationarity around the same terms. The reading follows the four
    combinations of :data:`READINGS`. The KPSS p-value is interpolated in a table and clipped to
    :data:`KPSS_P_RANGE`. ``persistence`` is the ADF estimate ``1 + gamma`` (near 1: a unit
    root).
    """
    if terms not in DETERMINISTIC_TERMS:
        raise ValueError(f"terms must be one of {list(DETERMINISTIC_TERMS)}, got {terms!r}")
    x = np.asarray(x, dtype=float)
    adf = adfuller(x, regression=terms, autolag="AIC", regresults=True, result_object=True)
    gamma = float(adf.resstore.resols.params[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)
        kpss_stat, kpss_p, _, critical = kpss(x, regression=terms, nlags="auto",
                                              result_object=False)
    rejects_unit_root = adf.pvalue < alpha
    rejects_stationarity = kpss_p < alpha
    return StationarityResult(
        adf_statistic=float(adf.statistic), adf_p_value=float(adf.pvalue),
        adf_lags=int(adf.lags), persistence=1 + gamma,
        kpss_statistic=float(kpss_stat), kpss_p_value=float(kpss_p),
        kpss_critical_5=float(critical["5%"]),
        reading=READINGS[(bool(rejects_unit_root), bool(rejects_stationarity))], terms=terms,
    )


@dataclass(frozen=True)
class Stationarity:
    """Both pairs on one series and the size of its level movements.

    ``level`` is the pair with a constant, ``trend`` the pair with a constant and a linear
    trend; ``share`` is :func:`segment_share` of the series (the effect size).
    """

    level: StationarityResult
    trend: StationarityResult
    share: float

    @property
    def reading(self) -> str:
        """The joint reading, the trend pair's when only it finds the series stationary."""
        if self.level.reading != "stationary" and self.trend.reading == "stationary":
            return "trend-stationary (stationary around a linear trend)"
        return self.level.reading


def stationarity(x: np.ndarray, alpha: float = 0.05) -> Stationarity:
    """ADF + KPSS with a constant and with a constant and trend, and :func:`segment_share`."""
    x = np.asarray(x, dtype=float)
    return Stationarity(level=adf_kpss(x, alpha, "c"), trend=adf_kpss(x, alpha, "ct"),
                        share=segment_share(x))


def ks_test(a: np.ndarray, b: np.ndarray) -> TestResult:
    """Two-sample Kolmogorov-Smirnov: ``D = sup |F_a - F_b|`` (scipy); the effect size is D."""
    result = stats.ks_2samp(a, b)
    return TestResult(float(result.statistic), float(result.pvalue), float(result.statistic))


def chi_square_test(a: np.ndarray, b: np.ndarray) -> TestResult:
    """Chi-square test of homogeneity of a categorical column across two samples.

    Effect size: Cramér's V, ``sqrt(chi2 / n)`` for two samples (a 2 x k table).
    """
    levels, codes = np.unique(np.concatenate([a, b]).astype(str), return_inverse=True)
    table = np.zeros((2, len(levels)))
    np.add.at(table, (np.r_[np.zeros(len(a), int), np.ones(len(b), int)], codes), 1)
    table = table[:, table.sum(axis=0) > 0]
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return TestResult(float(chi2), float(p_value), float(np.sqrt(chi2 / table.sum())))


def anderson_test(a: np.ndarray, b: np.ndarray) -> TestResult:
    """Anderson-Darling k-sample test (scipy; p-value clipped to :data:`ANDERSON_P_RANGE`).

    Effect size: the Wasserstein-1 distance between the samples in units of the pooled
    standard deviation (how far, in SDs, mass must move to turn one sample into the other).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the p-value clipping warning
        result = stats.anderson_ksamp([a, b], variant="midrank")
    scale = np.std(np.concatenate([a, b]))
    effect = stats.wasserstein_distance(a, b) / scale if scale > 0 else 0.0
    return TestResult(float(result.statistic), float(result.pvalue), float(effect))


def psi_bins(expected: np.ndarray, bins: int = PSI_BINS) -> tuple[np.ndarray, np.ndarray]:
    """The bins of the population stability index: point masses and quantile edges.

    Built on the unique values of ``expected``: with at most ``bins`` distinct values each is
    its own bin; otherwise every value holding at least ``1 / bins`` of the rows (a point mass,
    such as the zeros of a zero-inflated column) is its own bin, and the other values are cut
    at their quantiles into the remaining bins. Quantile edges of a column with 93 % zeros would
    all be zero: one bin, and a PSI of zero whatever the zero share does.

    Returns
    -------
    atoms, edges : ndarray
        Values with a bin of their own, and the inner edges of the other bins.
    """
    expected = np.asarray(expected, dtype=float)
    values, counts = np.unique(expected, return_counts=True)
    if len(values) <= bins:
        return values, np.array([])
    atoms = values[counts >= len(expected) / bins]
    rest = expected[~np.isin(expected, atoms)]
    pieces = max(bins - len(atoms), 1)
    edges = np.unique(np.quantile(rest, np.linspace(0, 1, pieces + 1))[1:-1])
    return atoms, edges


def psi_codes(x: np.ndarray, atoms: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: ``0..len(atoms)-1`` for the point masses, then the quantile bins."""
    x = np.asarray(x, dtype=float)
    codes = len(atoms) + np.searchsorted(edges, x, side="right")
    if len(atoms):
        position = np.clip(np.searchsorted(atoms, x), 0, len(atoms) - 1)
        is_atom = atoms[position] == x
        codes[is_atom] = position[is_atom]
    return codes


def psi_from_counts(e: np.ndarray, a: np.ndarray, pseudo_count: float = PSI_PSEUDO_COUNT
                    ) -> np.ndarray:
    """PSI from bin counts (the last axis), with ``pseudo_count`` rows added to every bin."""
    e = (e + pseudo_count) / (e.sum(axis=-1, keepdims=True) + pseudo_count * e.shape[-1])
    a = (a + pseudo_count) / (a.sum(axis=-1, keepdims=True) + pseudo_count * a.shape[-1])
    return np.sum((a - e) * np.log(a / e), axis=-1)


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = PSI_BINS,
        pseudo_count: float = PSI_PSEUDO_COUNT) -> TestResult:
    """Population stability index of ``actual`` against ``expected``, with an approximate
    p-value.

    Bins come from :func:`psi_bins` (point masses of ``expected`` get their own bin, the rest
    its quantiles); the shares ``e_i`` and ``a_i`` add ``pseudo_count`` to every bin's count,
    so that an empty bin does not give an infinite log (a floor such as 1e-4 instead would make
    one empty bin of a small sample add about 0.7):

    .. math:: PSI = \\sum_i (a_i - e_i) \\ln(a_i / e_i)

    To second order ``PSI ~ sum (a_i - e_i)^2 / e_i``, so under equal distributions of
    independent rows ``PSI / (1/n_e + 1/n_a)`` is approximately chi-square with ``bins - 1``
    degrees of freedom; this gives the p-value. Usual reading of the effect: below 0.1 stable,
    0.1-0.25 moderate, above 0.25 major shift, whatever the sample size.
    """
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    atoms, edges = psi_bins(expected, bins)
    k = len(atoms) + len(edges) + 1
    e = np.bincount(psi_codes(expected, atoms, edges), minlength=k)
    a = np.bincount(psi_codes(actual, atoms, edges), minlength=k)
    value = float(psi_from_counts(e, a, pseudo_count))
    scale = 1 / len(expected) + 1 / len(actual)
    p_value = float(stats.chi2.sf(value / scale, k - 1)) if k > 1 else np.nan
    return TestResult(value, p_value, value)


def energy_statistics(distances: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, float]:
    """Energy distances of one or many labellings from a pooled distance matrix.

    ``first`` is a boolean vector (or an ``n x B`` matrix of them) marking the rows of the first
    sample. With V-statistic means,

    .. math:: \\mathcal{E} = 2\\,\\overline{|X-Y|} - \\overline{|X-X'|} - \\overline{|Y-Y'|}

    computed from the quadratic forms ``z'Dz`` so that all labellings cost one matrix product.
    Returns the energy distances and ``2 mean|X - Y|`` of the first labelling.
    """
    z = first.reshape(len(distances), -1).astype(float)
    n1 = z.sum(axis=0)
    n2 = len(distances) - n1
    dz = distances @ z
    within_first = np.sum(z * dz, axis=0)
    cross = dz.sum(axis=0) - within_first
    within_second = distances.sum() - 2 * cross - within_first
    cross_mean = cross / (n1 * n2)
    energy = 2 * cross_mean - within_first / n1**2 - within_second / n2**2
    return energy, float(2 * cross_mean[0])


def energy_test(a: np.ndarray, b: np.ndarray, permutations: int = 999,
                random_state: int | np.random.Generator | None = 0) -> TestResult:
    """Energy-distance two-sample test of equal joint distributions (Székely & Rizzo 2004).

    The samples (rows: observations, columns: standardised features) are pooled; the p-value
    is ``(1 + #{E* >= E}) / (1 + B)`` over ``B`` random relabellings. Effect size: the energy
    coefficient ``H = E / (2 mean|X - Y|)`` in [0, 1] (0 when the distributions are equal).
    """
    rng = np.random.default_rng(random_state)
    a = np.asarray(a, dtype=float).reshape(len(a), -1)
    b = np.asarray(b, dtype=float).reshape(len(b), -1)
    pooled = np.vstack([a, b])
    distances = cdist(pooled, pooled)
    first = np.zeros(len(pooled), dtype=bool)
    first[:len(a)] = True
    (observed,), cross = energy_statistics(distances, first)
    shuffled = np.column_stack([rng.permutation(first) for _ in range(permutations)])
    null, _ = energy_statistics(distances, shuffled)
    p_value = (1 + np.count_nonzero(null >= observed - 1e-12 * abs(observed))) / (
        1 + permutations)
    return TestResult(float(observed), float(p_value),
                      float(observed / cross) if cross > 0 else 0.0)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error rate).

    Sorted ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate).

    Sorted ascending, ``p~_(i) = min_{j >= i} min(1, m p_(j) / j)``.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = m * p[order] / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out
