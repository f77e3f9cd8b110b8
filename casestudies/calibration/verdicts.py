"""The calibration study's verdict rules and their thresholds.

Each rule turns an estimate with its interval into a :class:`~casestudies.verdicts.Verdict`; the
pipeline applies them, the report only words them. The thresholds are module constants, each with
the reason for its value.

>>> from casestudies.stats import Estimate
>>> ratio_in_band("raw_score_calibrated", Estimate(0.97, 0.92, 1.03)).state
'yes'
>>> ratio_in_band("raw_score_calibrated", Estimate(0.08, 0.07, 0.09)).state
'no'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from casestudies.stats import Estimate
from casestudies.verdicts import NO, UNDECIDED, Verdict, interval_below

CALIBRATED_BAND = (0.8, 1.25)
"""Observed over expected frauds counted as "calibrated in the large".

A ratio between 0.8 and 1.25 (a fifth either way, symmetric on the ratio scale: x0.8 is as far
from 1 as x1.25) means the score forecasts the number of frauds to within a fifth. Fraud volume
itself moves by more than that between periods (see the decay windows), so a finer band would
call a score miscalibrated for errors no recalibration holds for long; a coarser one would accept
the 2x errors of reweighted models, which move t*'s decisions visibly. The verdict holds only when
the whole interval of O/E lies inside the band, fails when the whole interval lies outside it, and
is undecided when the data cannot tell (too few frauds).
"""

IMPROVEMENT_THRESHOLD = 0.0
"""A difference "new minus old" of a cost or a proper score counts as an improvement only when
its whole paired interval lies below zero: any real reduction, but not one that resampling the
same transactions could make vanish. (No practical margin: costs are already in money per
transaction, and the report states the size of each difference.)"""

SPIEGELHALTER_LEVEL = 0.05
"""Level of Spiegelhalter's test of calibration: the conventional 5 % of its original use
(Spiegelhalter 1986). The test is reported as a single check, not used in a multiple comparison."""


def ratio_in_band(name: str, estimate: Estimate, band: tuple[float, float] = CALIBRATED_BAND,
                  *, rule: str = "", unit: str = "transactions") -> Verdict:
    """Holds when the whole interval of a ratio lies inside ``band``, fails when it lies wholly
    outside, undecided when it straddles an edge of the band (or is missing).

    Parameters
    ----------
    name : str
        Key of the verdict.
    estimate : Estimate
        The ratio (observed over expected frauds) and its interval.
    band : (float, float)
        The ratios counted as calibrated, :data:`CALIBRATED_BAND` by default.
    rule, unit : str
        Rule in words (a default naming the band is written when empty) and resampled unit.
    """
    low, high = estimate.low, estimate.high
    if not (_finite(low) and _finite(high)):
        holds = None
    elif band[0] <= low and high <= band[1]:
        holds = True
    elif high < band[0] or low > band[1]:
        holds = False
    else:
        holds = None
    rule = rule or ("observed over expected frauds: holds when its whole interval lies inside "
                    "the calibrated band, fails when it lies wholly outside")
    rule += f" (band {band[0]:g} to {band[1]:g})"
    return Verdict(name=name, holds=holds, estimate=float(estimate.value), low=float(low),
                   high=float(high), threshold=1.0, rule=rule, unit=unit,
                   confidence=float(estimate.confidence))


def lowers(name: str, difference: Estimate, *, rule: str, unit: str = "transactions") -> Verdict:
    """Holds when the paired interval of ``new - old`` lies below
    :data:`IMPROVEMENT_THRESHOLD`, fails when it lies at or above it, undecided otherwise."""
    return interval_below(name, difference, IMPROVEMENT_THRESHOLD, rule=rule, unit=unit)


def costs_more(name: str, difference: Estimate, *, rule: str,
               unit: str = "transactions") -> Verdict:
    """A two-sided comparison of two rules' costs from the paired interval of their difference
    (``first - second``): holds when the whole interval lies above
    :data:`IMPROVEMENT_THRESHOLD` (the first costs more), fails when it lies wholly below (the
    first costs less), undecided when the interval contains it, including the zero-width
    interval of two rules that block the same transactions."""
    low, high = difference.low, difference.high
    if not (_finite(low) and _finite(high)):
        holds = None
    elif low > IMPROVEMENT_THRESHOLD:
        holds = True
    elif high < IMPROVEMENT_THRESHOLD:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(difference.value), low=float(low),
                   high=float(high), threshold=IMPROVEMENT_THRESHOLD, rule=rule, unit=unit,
                   confidence=float(difference.confidence))


def moved(name: str, ratio: Estimate, *, rule: str, unit: str = "transactions") -> Verdict:
    """Holds when the interval of a ratio of two periods (later over earlier) excludes 1 on
    either side: the quantity moved beyond resampling noise. Fails when the interval lies
    inside :data:`CALIBRATED_BAND` (any move is smaller than the tolerance of a calibrated
    score), undecided otherwise."""
    low, high = ratio.low, ratio.high
    if not (_finite(low) and _finite(high)):
        holds = None
    elif low > 1 or high < 1:
        holds = True
    elif CALIBRATED_BAND[0] <= low and high <= CALIBRATED_BAND[1]:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=float(ratio.value), low=float(low),
                   high=float(high), threshold=1.0, rule=rule, unit=unit,
                   confidence=float(ratio.confidence))


def spiegelhalter_rejects(name: str, p_value: float,
                          level: float = SPIEGELHALTER_LEVEL) -> Verdict:
    """Holds when Spiegelhalter's test rejects calibration (two-sided p-value below ``level``).

    ``estimate`` is the p-value and ``threshold`` the level; ``low``/``high`` are not an interval
    here but left empty."""
    holds = None if not _finite(p_value) else bool(p_value < level)
    return Verdict(name=name, holds=holds, estimate=float(p_value), threshold=float(level),
                   rule="Spiegelhalter's test of calibration: holds when its two-sided p-value "
                        "is below the level", unit="")


def every(name: str, parts: Sequence[Verdict], *, rule: str) -> Verdict:
    """A claim made for every part (every budget, every shift): holds when every part holds,
    fails when any part fails, undecided otherwise.

    The estimate and interval are those of the part that decides (:func:`deciding_index`).
    """
    if not parts:
        return Verdict(name=name, holds=None, rule=rule)
    states = [v.state for v in parts]
    deciding = parts[deciding_index(states)]
    holds = False if NO in states else (None if UNDECIDED in states else True)
    return Verdict(name=name, holds=holds, estimate=deciding.estimate, low=deciding.low,
                   high=deciding.high, threshold=deciding.threshold, rule=rule,
                   unit=deciding.unit, confidence=deciding.confidence)


def deciding_index(states: Sequence[str]) -> int:
    """Position of the part an :func:`every` verdict rests on, from the parts' states: the first
    failing part, else the first undecided one, else the last part (-1 when there are none)."""
    for wanted in (NO, UNDECIDED):
        if wanted in states:
            return list(states).index(wanted)
    return len(states) - 1


def beyond_noise_floor(value: float, floor_high: float) -> bool:
    """True when a calibration estimator on the real labels exceeds the upper quantile of its
    noise floor (its values on labels drawn from the forecasts themselves): miscalibration this
    sample size can detect, at the floor's tail level."""
    return bool(_finite(value) and _finite(floor_high) and value > floor_high)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
