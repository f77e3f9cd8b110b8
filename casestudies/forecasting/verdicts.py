"""The forecasting study's conclusions: the rules, their thresholds, and the picks they rest on.

Each function returns a :class:`~casestudies.verdicts.Verdict` (or a pick) from numbers the
backtest already measured; the report only chooses its words from them. The thresholds are the
module constants below, each with the reason for its value.
"""

from __future__ import annotations

import math

from casestudies.forecasting.metrics import MethodScores
from casestudies.verdicts import Verdict, point_above

BAND_CONFIDENCE = 0.95
"""Confidence of the binomial band of a correct interval's coverage: the central 95% of
Binomial(n, level)/n over the n test origins. A correct interval's coverage falls outside it one
time in twenty if the origins were independent; overlapping forecast windows make the real
spread wider, so "outside the band" is strong evidence and "inside" is weak."""

RECOMMENDATION_SCORE = "MSIS 95"
"""Summary column by which the recommended LSTM interval method is picked: the lowest mean
interval (Winkler) score of the 95% interval, scaled by the naive in-sample MAE. The interval
score is proper (its expectation is smallest for the true quantiles), so it rewards coverage
and sharpness together; "coverage closest to nominal" is not a proper criterion, since an
interval of the right coverage can be uselessly wide or placed at random."""

PARAMETER_EFFECT = 0.05
"""Relative change of the 95% width at the last horizon, when the parameters are drawn from
their sampling distribution, that counts as a change. With the default 3,000 paths (100 draws ×
30) the width of a normal 95% interval is estimated to within about 2% (one standard error), so
5% is about three standard errors: smaller changes are not told apart from simulation noise. In
a --quick run, with a tenth of the paths, the noise alone is of this size."""

MAE_MARGIN = 0.02
"""Relative MAE difference (as a share of the other method's MAE) within which two point
forecasters are called equally accurate. The comparison is a point comparison on one backtest
whose forecast windows overlap, so there is no honest interval of the difference from these
origins; a 2% difference is below what would change a choice between two forecasters and
within the variation between any two backtests, so the report calls it neither better nor
worse."""


def coverage_within_band(name: str, coverage: float, band_low: float, band_high: float,
                         level: float) -> Verdict:
    """Whether an interval's pooled coverage lies within the binomial band of a correct
    interval (see :data:`BAND_CONFIDENCE`).

    Holds when ``band_low <= coverage <= band_high``; ``threshold`` records the nominal level,
    and the band itself is in the series result (``binomial_low``, ``binomial_high``).
    """
    holds = None if not math.isfinite(coverage) else bool(band_low <= coverage <= band_high)
    return Verdict(name=name, holds=holds, estimate=float(coverage), threshold=float(level),
                   rule=f"pooled coverage within the central {BAND_CONFIDENCE:.0%} range of "
                        f"Binomial(n, {level:g})/n over the n test origins",
                   confidence=BAND_CONFIDENCE)


def coverage_below_band(name: str, coverage: float, band_low: float, level: float
                        ) -> Verdict:
    """Whether an interval under-covers: its pooled coverage lies below the binomial band of a
    correct interval. ``threshold`` is the band's lower end."""
    holds = None if not math.isfinite(coverage) else bool(coverage < band_low)
    return Verdict(name=name, holds=holds, estimate=float(coverage), threshold=float(band_low),
                   rule=f"pooled coverage below the central {BAND_CONFIDENCE:.0%} range of "
                        f"Binomial(n, {level:g})/n over the n test origins",
                   confidence=BAND_CONFIDENCE)


def rank_interval_methods(scores: list[MethodScores], family: str = "LSTM") -> list[str]:
    """Keys of the methods of ``family`` with intervals, from the lowest
    :data:`RECOMMENDATION_SCORE` up (ties keep the order of ``scores``)."""
    candidates = [s for s in scores if s.family == family and s.coverage
                  and math.isfinite(s.overall.get(RECOMMENDATION_SCORE, math.nan))]
    return [s.key for s in sorted(candidates, key=lambda s: s.overall[RECOMMENDATION_SCORE])]


def recommend_interval_method(scores: list[MethodScores], family: str = "LSTM") -> str:
    """Key of the method of ``family`` with intervals and the lowest
    :data:`RECOMMENDATION_SCORE` (ties: the first in ``scores``)."""
    ranked = rank_interval_methods(scores, family)
    if not ranked:
        raise ValueError(f"no {family} method with a finite {RECOMMENDATION_SCORE}")
    return ranked[0]


def parameter_draws_widen(name: str, width_ratio: float) -> Verdict:
    """Whether drawing the parameters widens the 95% interval by more than
    :data:`PARAMETER_EFFECT` (ratio of widths above ``1 + PARAMETER_EFFECT``)."""
    return point_above(name, width_ratio, 1 + PARAMETER_EFFECT,
                       rule="95% width with drawn parameters over the analytic width at the "
                            "last horizon and origin, above 1 + PARAMETER_EFFECT")


def parameter_draws_narrow(name: str, width_ratio: float) -> Verdict:
    """Whether the 95% interval with drawn parameters comes out narrower than the analytic one
    by more than :data:`PARAMETER_EFFECT` (ratio below ``1 - PARAMETER_EFFECT``), which drawing
    parameters cannot do on average: simulation noise."""
    holds = None if not math.isfinite(width_ratio) else bool(width_ratio < 1 - PARAMETER_EFFECT)
    return Verdict(name=name, holds=holds, estimate=float(width_ratio),
                   threshold=1 - PARAMETER_EFFECT,
                   rule="95% width with drawn parameters over the analytic width at the last "
                        "horizon and origin, below 1 - PARAMETER_EFFECT")


def lower_mae(name: str, mae: float, other_mae: float, other: str) -> Verdict:
    """Whether a method's MAE is lower than ``other``'s.

    The estimate is the relative difference ``(other_mae - mae) / other_mae`` (positive: this
    method is more accurate). Holds above :data:`MAE_MARGIN`, fails below ``-MAE_MARGIN``
    (higher MAE), undecided within the margin (equally accurate).
    """
    relative = (other_mae - mae) / other_mae if other_mae > 0 else math.nan
    if not math.isfinite(relative):
        holds = None
    elif relative > MAE_MARGIN:
        holds = True
    elif relative < -MAE_MARGIN:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(relative), threshold=MAE_MARGIN,
                   rule=f"MAE of {other} minus this MAE, relative to the former, above "
                        "MAE_MARGIN (below minus MAE_MARGIN: higher MAE; within: equal); a "
                        "point comparison, since overlapping forecast windows give no honest "
                        "interval")


def same_order(name: str, chosen: tuple[int, int, int], true: tuple[int, int, int]) -> Verdict:
    """Whether the order search found the true (p, d, q) of a simulated series."""
    return Verdict(name=name, holds=tuple(chosen) == tuple(true),
                   rule="ARIMA order chosen by the unit-root test and AIC equals the true order")


def all_hold(name: str, verdicts: list[Verdict], rule: str) -> Verdict:
    """Holds when every verdict holds, fails when any fails, undecided otherwise."""
    states = [v.holds for v in verdicts]
    holds = False if False in states else (None if None in states or not states else True)
    return Verdict(name=name, holds=holds, rule=rule)
