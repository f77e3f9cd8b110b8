"""The incident bootstrap: resample the units that make frauds dependent, once per replicate, and
compute every statistic of the study on the same resample.

Frauds come in incidents: every payment at a compromised terminal is fraud, a leaked card is
used several times, and only an isolated large payment is a fraud on its own. Resampling single
transactions treats the 40 frauds of one terminal as 40 independent pieces of evidence and makes
intervals too narrow. Here a replicate draws whole clusters (incidents, or the user's
``--cluster`` column) with replacement, as many as there are, and turns the draw into a weight
per row: how many times the row's cluster was drawn. A statistic is then a function of a weight
matrix ``W`` of shape ``(replicates, rows)`` (:class:`WeightedStatistic`); sums become matrix
products, so 200 replicates of 30 statistics cost a few matrix products instead of 6,000 Python
calls, and every statistic of one :func:`intervals` call sees the same resamples (paired).

>>> import numpy as np
>>> from casestudies.rng import stream
>>> y = np.array([1, 1, 0, 0, 0, 0]); p = np.full(6, 1 / 3)
>>> boot = ClusterBootstrap(np.array([0, 0, 1, 2, 3, 4]), n_resamples=50, rng=stream(0, "doc"))
>>> e = boot.intervals({"oe": lambda w: (w @ y) / (w @ p)})["oe"]
>>> round(e.value, 3)
1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse

from casestudies.stats import Estimate, percentile_interval

WeightedStatistic = Callable[[np.ndarray], np.ndarray]
"""``statistic(W) -> array of shape (len(W),)``: the statistic under each row of weights."""

# Weight matrices are built this many cells at a time (8 bytes each): 200 replicates of a
# 50,000-row block fit in one chunk, a 250,000-row block of a 1M-row table takes a few.
CHUNK_CELLS = 12_000_000


def cluster_codes(clusters: np.ndarray | None, n: int) -> np.ndarray:
    """Consecutive integer codes ``0..K-1`` of ``clusters`` (``None``: every row its own)."""
    if clusters is None:
        return np.arange(n)
    _, codes = np.unique(np.asarray(clusters), return_inverse=True)
    return codes.ravel()


class ClusterBootstrap:
    """Bootstrap resamples of whole clusters of rows, as row weights.

    Parameters
    ----------
    clusters : array of int or None
        Cluster of each row (any labels); ``None`` resamples single rows.
    n_resamples : int
        Replicates.
    rng : numpy.random.Generator
        The stream the draws come from (one named stream per resampled block).
    confidence : float, default 0.95
        Level of the percentile intervals.
    """

    def __init__(self, clusters: np.ndarray | None, n_resamples: int,
                 rng: np.random.Generator, confidence: float = 0.95, n: int | None = None):
        size = len(clusters) if clusters is not None else int(n or 0)
        self.codes = cluster_codes(clusters, size)
        self.n_rows = self.codes.size
        self.n_clusters = int(self.codes.max()) + 1 if self.n_rows else 0
        self.n_resamples = int(n_resamples)
        self.confidence = confidence
        chunk = max(1, CHUNK_CELLS // max(self.n_rows, 1))
        # Drawn once: every statistic, whenever it is computed, sees these same resamples.
        self._counts = []
        done = 0
        while done < self.n_resamples:
            b = min(chunk, self.n_resamples - done)
            draws = rng.integers(0, self.n_clusters, size=(b, self.n_clusters))
            offset = (draws + self.n_clusters * np.arange(b)[:, None]).ravel()
            counts = np.bincount(offset, minlength=b * self.n_clusters)
            self._counts.append(counts.reshape(b, self.n_clusters).astype(np.float64))
            done += b
        # When every replicate fits in one chunk, the row weights are built once and kept.
        self._weights = (self._counts[0][:, self.codes] if len(self._counts) == 1 else None)

    def weights(self, rows: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Weight matrices ``(replicates, rows)``, chunk by chunk; ``rows`` restricts them to a
        subset of the rows (a window, a queue) with the subset's clusters drawn as in the
        whole block."""
        if self._weights is not None:
            yield self._weights if rows is None else self._weights[:, rows]
            return
        codes = self.codes if rows is None else self.codes[rows]
        for counts in self._counts:
            yield counts[:, codes]

    def replicates(self, statistic: WeightedStatistic, rows: np.ndarray | None = None
                   ) -> np.ndarray:
        """``statistic`` under every replicate (NaN where it is undefined)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.concatenate([np.asarray(statistic(w), dtype=np.float64)
                                   for w in self.weights(rows)])

    def intervals(self, statistics: dict[str, WeightedStatistic],
                  rows: np.ndarray | None = None) -> dict[str, Estimate]:
        """Point value (all weights 1) and percentile interval of each statistic, all on the
        same resamples."""
        size = self.n_rows if rows is None else len(np.arange(self.n_rows)[rows])
        ones = np.ones((1, size))
        parts: dict[str, list[np.ndarray]] = {name: [] for name in statistics}
        with np.errstate(divide="ignore", invalid="ignore"):
            values = {name: float(np.asarray(f(ones))[0]) for name, f in statistics.items()}
            # One pass over the resamples: each chunk of weights is built once for all
            # statistics.
            for w in self.weights(rows):
                for name, f in statistics.items():
                    parts[name].append(np.asarray(f(w), dtype=np.float64))
        return {name: percentile_interval(values[name], np.concatenate(parts[name]),
                                          self.confidence) for name in statistics}


# Weighted statistics: each takes W (replicates x rows) and returns one value per replicate.

def ratio(numerator: np.ndarray, denominator: np.ndarray) -> WeightedStatistic:
    """``sum w a / sum w b``, e.g. observed over expected frauds with ``a = y, b = p``."""
    a, b = np.asarray(numerator, float), np.asarray(denominator, float)
    return lambda w: (w @ a) / (w @ b)


def mean(values: np.ndarray) -> WeightedStatistic:
    """Weighted mean of a per-row quantity (a loss, a cost, a block indicator)."""
    v = np.asarray(values, float)
    return lambda w: (w @ v) / w.sum(axis=1)


def spiegelhalter(y: np.ndarray, p: np.ndarray) -> WeightedStatistic:
    """Spiegelhalter's Z under the weights."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    numerator = (y - p) * (1 - 2 * p)
    variance = (1 - 2 * p) ** 2 * p * (1 - p)
    return lambda w: (w @ numerator) / np.sqrt(np.maximum(w @ variance, 1e-12))


def _bin_sums(w: np.ndarray, y: np.ndarray, p: np.ndarray, bins: np.ndarray, n_bins: int):
    onehot = np.zeros((y.size, n_bins))
    onehot[np.arange(y.size), bins] = 1.0
    return w @ onehot, w @ (onehot * y[:, None]), w @ (onehot * p[:, None])


def binned_ece(y: np.ndarray, p: np.ndarray, bins: np.ndarray) -> WeightedStatistic:
    """ECE over fixed bins (those of the full block): ``sum_b |O_b - E_b| / N``."""
    y, p, bins = np.asarray(y, float), np.asarray(p, float), np.asarray(bins)
    k = int(bins.max()) + 1

    def statistic(w):
        n, o, e = _bin_sums(w, y, p, bins, k)
        return np.abs(o - e).sum(axis=1) / n.sum(axis=1)
    return statistic


def binned_debiased_ece(y: np.ndarray, p: np.ndarray, bins: np.ndarray) -> WeightedStatistic:
    """Kumar et al.'s debiased l2 calibration error over fixed bins, under the weights."""
    y, p, bins = np.asarray(y, float), np.asarray(p, float), np.asarray(bins)
    k = int(bins.max()) + 1

    def statistic(w):
        n, o_sum, e_sum = _bin_sums(w, y, p, bins, k)
        safe = np.maximum(n, 1)
        o, f = o_sum / safe, e_sum / safe
        noise = np.where(n > 1, o * (1 - o) / np.maximum(n - 1, 1), 0.0)
        squared = (n * ((o - f) ** 2 - noise)).sum(axis=1) / n.sum(axis=1)
        return np.sqrt(np.maximum(squared, 0.0))
    return statistic


def cox(y: np.ndarray, z: np.ndarray, iterations: int = 25) -> tuple[WeightedStatistic,
                                                                        WeightedStatistic]:
    """Cox calibration intercept and slope (logistic regression of ``y`` on the log-odds ``z``)
    under the weights, by Newton's method run on every replicate at once.

    Returns the two statistics; the fit is shared, so a replicate is fitted once for both.
    """
    y, z = np.asarray(y, float), np.asarray(z, float)
    # Rows with the same (label, log-odds) enter the likelihood only through their total weight:
    # a calibrated forest or isotonic step function has a few hundred distinct scores, so the
    # Newton steps run on those instead of on every row.
    pairs, inverse = np.unique(np.column_stack([y, z]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    collapse = sparse.csr_matrix((np.ones(y.size), (np.arange(y.size), inverse)),
                                 shape=(y.size, len(pairs)))
    y_unique, z_unique = pairs[:, 0], pairs[:, 1]
    fit = _LastWeights(lambda w: _batched_logistic(np.asarray((collapse.T @ w.T).T), y_unique,
                                                   z_unique, iterations))

    return (lambda w: fit(w)[:, 0]), (lambda w: fit(w)[:, 1])


def _batched_logistic(w: np.ndarray, y: np.ndarray, z: np.ndarray, iterations: int
                      ) -> np.ndarray:
    coef = np.tile([0.0, 1.0], (w.shape[0], 1))
    wy = w @ y
    for _ in range(iterations):
        eta = coef[:, :1] + coef[:, 1:] * z
        with np.errstate(over="ignore"):  # exp(+inf) -> mu = 0, the right limit
            mu = 1 / (1 + np.exp(-eta))
        r = w * mu
        v = r * (1 - mu)
        g0, g1 = wy - r.sum(axis=1), w @ (y * z) - r @ z
        h00, h01, h11 = v.sum(axis=1), v @ z, v @ (z * z)
        det = h00 * h11 - h01 ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.column_stack([(h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det])
        step = np.where(np.isfinite(step), step, 0.0)
        # Damped: a replicate far from convergence does not overshoot into overflow.
        step = np.clip(step, -5, 5)
        coef = coef + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return coef


def top_share(order: np.ndarray, fraction: float) -> Callable[[np.ndarray], np.ndarray]:
    """Mask ``(replicates, rows)`` of the resampled rows in the top ``fraction`` by score:
    rows sorted by score (``order``, highest first) until their weight reaches ``fraction`` of
    the replicate's total, as :func:`~casestudies.calibration.decisions.top_k` on the data."""
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)

    def mask(w: np.ndarray) -> np.ndarray:
        sorted_w = w[:, order]
        before = np.cumsum(sorted_w, axis=1) - sorted_w
        k = np.ceil(fraction * w.sum(axis=1))
        return (before < k[:, None])[:, inverse] & (w > 0)
    # Several statistics of one queue ask for the same resamples' mask: build it once.
    return _LastWeights(mask)


class _LastWeights:
    """``f(w)`` remembered for the last weight matrix it was called with (the same object, held
    so that its identity cannot be reused), for statistics that share an expensive step."""

    def __init__(self, f):
        self.f = f
        self.w: np.ndarray | None = None
        self.value = None

    def __call__(self, w: np.ndarray):
        if self.w is not w:
            self.w, self.value = w, self.f(w)
        return self.value
