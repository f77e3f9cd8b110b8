"""How sure the backtest is: a moving-block bootstrap over forecast origins, coverage by horizon
band, joint (whole-path) coverage, and paired comparisons of methods by proper scores.

The unit of a backtest is the forecast origin, not the (origin, horizon) pair: the H targets of
one origin share its forecast, and origins ``origin_step`` apart forecast overlapping stretches,
so their hits and misses are correlated for about ``H / origin_step`` origins. Treating the
``origins × H`` pairs, or even the origins, as independent (a binomial band) understates the
uncertainty. Here every statistic is a mean over origins of a per-origin quantity, and its
interval comes from resampling blocks of consecutive origins (Künsch 1989), all statistics and
all methods on the *same* resamples, so that differences between methods are paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from casestudies.forecasting.metrics import MethodForecast, interval_score
from casestudies.stats import Estimate, percentile_interval

RESAMPLES = 2000
"""Bootstrap replicates: enough that the 2.5% and 97.5% percentiles of a replicate distribution
move by well under a percentage point between seeds."""

CONFIDENCE = 0.95
"""Level of every bootstrap interval of the study."""

HORIZON_BANDS = ((1, 10), (11, 50), (51, 100))
"""Horizon bands of the coverage tables: the first ten steps, where the simulated ARMA process
still remembers the origin (its forecast variance reaches most of the unconditional variance by
h = 10), the middle range, and the far range, where a stationary model's interval is its
unconditional band. A longer horizon than 100 extends the last band to H."""


def block_length(horizon: int, origin_step: int, n_origins: int) -> int:
    """Origins per bootstrap block: ``ceil(horizon / origin_step)``, the number of consecutive
    origins whose forecast windows overlap (at most ``n_origins``).

    Two origins further apart than this forecast disjoint stretches, so beyond a block their
    errors are correlated only through the process's memory, which for the series here is much
    shorter than the horizon.
    """
    return int(max(1, min(n_origins, math.ceil(horizon / max(origin_step, 1)))))


def block_indices(n: int, block: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Circular moving-block resamples of positions ``0..n-1``: each row concatenates
    ``ceil(n / block)`` blocks of ``block`` consecutive positions (wrapping at the end) from
    uniformly drawn starts, cut to length n. Shape (resamples, n)."""
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n, size=(resamples, blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return index.reshape(resamples, blocks * block)[:, :n]


@dataclass
class OriginResampler:
    """The shared block resamples of one series' test origins.

    Every estimate is the mean over origins of a per-origin array (or a ratio or difference of
    two such means), with the percentile interval of the same statistic over the resamples.
    """

    index: np.ndarray
    block: int
    confidence: float = CONFIDENCE

    @classmethod
    def build(cls, n: int, block: int, rng: np.random.Generator, resamples: int = RESAMPLES
              ) -> OriginResampler:
        return cls(index=block_indices(n, block, resamples, rng), block=block)

    def _means(self, per_origin: np.ndarray) -> np.ndarray:
        return np.asarray(per_origin, dtype=float)[self.index].mean(axis=1)

    def mean(self, per_origin: np.ndarray) -> Estimate:
        """Mean over origins with its block-bootstrap interval."""
        value = float(np.mean(per_origin))
        return percentile_interval(value, self._means(per_origin), self.confidence)

    def difference(self, a: np.ndarray, b: np.ndarray) -> Estimate:
        """Mean of ``a - b`` (paired by origin) with its interval."""
        return self.mean(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))

    def ratio(self, numerator: np.ndarray, denominator: np.ndarray) -> Estimate:
        """Ratio of the two means, numerator and denominator resampled together."""
        value = float(np.mean(numerator) / np.mean(denominator))
        with np.errstate(divide="ignore", invalid="ignore"):
            replicates = self._means(numerator) / self._means(denominator)
        return percentile_interval(value, replicates, self.confidence)


def horizon_bands(horizon: int) -> list[tuple[str, int, int]]:
    """:data:`HORIZON_BANDS` clipped to ``horizon``: (label, first, last) with 1-based
    horizons; the last band runs to ``horizon``."""
    bands = []
    for i, (low, high) in enumerate(HORIZON_BANDS):
        if low > horizon:
            break
        last = horizon if i == len(HORIZON_BANDS) - 1 else min(high, horizon)
        bands.append((f"h {low}–{last}", low, last))
    return bands


@dataclass
class OriginRecord:
    """One method's backtest as per-origin arrays (origins × H), for resampling."""

    key: str
    label: str
    family: str
    inside: dict[float, np.ndarray]
    width: dict[float, np.ndarray]
    interval_score: dict[float, np.ndarray]
    crps: np.ndarray | None


def origin_record(forecast: MethodForecast, actual: np.ndarray) -> OriginRecord:
    """Hits, widths, interval scores and CRPS of ``forecast`` at every origin and horizon."""
    inside, width, score = {}, {}, {}
    for level, lower in forecast.lower.items():
        upper = forecast.upper[level]
        inside[level] = (actual >= lower) & (actual <= upper)
        width[level] = upper - lower
        score[level] = interval_score(lower, upper, actual, 1 - level)
    return OriginRecord(forecast.key, forecast.label, forecast.family, inside, width, score,
                        forecast.crps)


def joint_hits(inside: np.ndarray) -> np.ndarray:
    """Whether each origin's whole path (every horizon) stayed inside the band."""
    return np.all(inside, axis=1)


def coverage_by_band(records: list[OriginRecord], resampler: OriginResampler, level: float,
                     horizon: int) -> list[dict]:
    """Coverage of every interval method in each horizon band, with block-bootstrap intervals:
    one row per method with ``"BAND"``, ``"BAND low"``, ``"BAND high"`` for each band."""
    rows = []
    for record in records:
        if level not in record.inside:
            continue
        row = {"method": record.label, "key": record.key}
        for label, first, last in horizon_bands(horizon):
            estimate = resampler.mean(record.inside[level][:, first - 1:last].mean(axis=1))
            row[label], row[f"{label} low"], row[f"{label} high"] = (
                estimate.value, estimate.low, estimate.high)
        rows.append(row)
    return rows


def estimate_dict(estimate: Estimate | None, prefix: str) -> dict[str, float]:
    """``{prefix: value, prefix low: low, prefix high: high}`` (NaN when missing)."""
    if estimate is None:
        return {prefix: math.nan, f"{prefix} low": math.nan, f"{prefix} high": math.nan}
    return {prefix: estimate.value, f"{prefix} low": estimate.low,
            f"{prefix} high": estimate.high}


def compare_methods(records: list[OriginRecord], resampler: OriginResampler, scale: float,
                    level: float, reference: str, truth: str | None) -> list[dict]:
    """Every interval method scored with block-bootstrap intervals, paired by origin.

    Per method: coverage and joint (whole-path) coverage at ``level``; coverage minus the
    true distribution's on the same origins (when ``truth`` is given); MSIS (mean interval
    score over the scale) and CRPS; both relative to the ``reference`` method (ratio minus 1,
    positive = worse than the reference); and the mean width over the true mean width.
    """
    by_key = {r.key: r for r in records}
    ref = by_key[reference]
    true = by_key.get(truth) if truth else None
    rows = []
    for record in records:
        if level not in record.inside:
            continue
        inside = record.inside[level]
        per_origin_hits = inside.mean(axis=1)
        score = record.interval_score[level].mean(axis=1) / scale
        row = {"method": record.label, "key": record.key, "family": record.family}
        row |= estimate_dict(resampler.mean(per_origin_hits), "coverage")
        row |= estimate_dict(resampler.mean(joint_hits(inside)), "joint coverage")
        row |= estimate_dict(resampler.mean(score), "MSIS")
        ref_score = ref.interval_score[level].mean(axis=1) / scale
        excess = resampler.ratio(score, ref_score)
        row |= estimate_dict(_minus_one(excess), "MSIS excess")
        crps = None if record.crps is None else record.crps.mean(axis=1)
        row |= estimate_dict(None if crps is None else resampler.mean(crps), "CRPS")
        crps_excess = None
        if crps is not None and ref.crps is not None:
            crps_excess = _minus_one(resampler.ratio(crps, ref.crps.mean(axis=1)))
        row |= estimate_dict(crps_excess, "CRPS excess")
        if true is not None:
            row |= estimate_dict(resampler.difference(
                per_origin_hits, true.inside[level].mean(axis=1)), "coverage minus true")
            row |= estimate_dict(resampler.ratio(record.width[level].mean(axis=1),
                                                 true.width[level].mean(axis=1)),
                                 "width ÷ true")
        rows.append(row)
    return rows


def _minus_one(estimate: Estimate) -> Estimate:
    return Estimate(estimate.value - 1, estimate.low - 1, estimate.high - 1,
                    estimate.confidence)


def score_excess(records: list[OriginRecord], better: str, worse: str,
                 resampler: OriginResampler, level: float) -> Estimate:
    """Mean interval score of ``worse`` over that of ``better``, minus 1, paired by origin
    (positive: ``better`` has the lower score)."""
    by_key = {r.key: r for r in records}
    return _minus_one(resampler.ratio(by_key[worse].interval_score[level].mean(axis=1),
                                      by_key[better].interval_score[level].mean(axis=1)))


def ladder_rows(records: list[OriginRecord], truth: OriginRecord, resampler: OriginResampler,
                level: float, horizon: int) -> list[dict]:
    """Coverage of each rung in each horizon band, and its difference from the true model's
    coverage on the same origins (paired), with block-bootstrap intervals; plus the mean width
    over the true mean width."""
    rows = []
    for record in records:
        row = {"rung": record.label, "key": record.key}
        for label, first, last in horizon_bands(horizon):
            span = slice(first - 1, last)
            hits = record.inside[level][:, span].mean(axis=1)
            true_hits = truth.inside[level][:, span].mean(axis=1)
            row |= estimate_dict(resampler.mean(hits), label)
            row |= estimate_dict(resampler.difference(hits, true_hits), f"{label} minus true")
        row |= estimate_dict(resampler.ratio(record.width[level].mean(axis=1),
                                             truth.width[level].mean(axis=1)), "width ÷ true")
        rows.append(row)
    return rows
