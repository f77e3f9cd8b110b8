"""The forecasting study's conclusions: the rules, their thresholds, and the picks they rest on.

Each function returns a :class:`~casestudies.verdicts.Verdict` (or a pick) from numbers the
backtest already measured; the report only chooses its words from them. The thresholds are the
module constants below, each with the reason for its value.
"""

from __future__ import annotations

import math

from casestudies.forecasting.metrics import MethodScores
from casestudies.stats import Estimate
from casestudies.verdicts import Verdict, interval_above, interval_below, point_above

ORIGIN_UNIT = "blocks of consecutive forecast origins"
"""The resampling unit of every backtest interval (see
:mod:`casestudies.forecasting.evaluation`)."""

WIDTH_TOLERANCE = 0.10
"""Relative error of an interval's width against the true interval's within which it counts
as the right width. For a normal forecast a 95% interval 10% too wide covers about 97%, one
10% too narrow about 92%: a smaller error is below what a backtest of this size can tell from
the right coverage, a larger one is a real miscalibration."""

EXCHANGEABILITY_LEVEL = 0.05
"""Significance level of the permutation test of the calibration scores' lag-1
autocorrelation: below it, the time order of the scores is not that of an exchangeable
sequence, and split conformal's guarantee does not apply as stated."""

RESIDUAL_TEST_LEVEL = 0.05
"""Significance level of the residual checks (Ljung-Box, Jarque-Bera): below it the residuals
are not white, or not normal, and the analytic Gaussian interval's assumptions fail."""

UNCONDITIONAL_SHARE = 0.99
"""Share of the unconditional variance that the h-step forecast variance must reach for the
h-step interval to count as "just the unconditional band": at 99% of the variance the
interval's width is within half a percent of the unconditional band's."""

BAND_CONFIDENCE = 0.95
"""Confidence of the binomial band of a correct interval's coverage, the central 95% of
Binomial(n, level)/n over the n test origins. The band is shown only for comparison: it treats
the origins as independent, and overlapping forecast windows make the real spread wider, so no
verdict rests on it (they use the block bootstrap over origins)."""

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


def lower_score(name: str, excess: Estimate, other: str) -> Verdict:
    """Whether a method's mean interval score is lower than ``other``'s: the other's score
    relative to this one's, minus 1 (``excess``, paired block-bootstrap interval over origins),
    lies entirely above 0. Fails when it lies entirely at or below 0; undecided when the
    interval straddles 0 (the origins cannot separate the two)."""
    return interval_above(name, excess, 0.0,
                          rule=f"MSIS of {other} over this method's, minus 1, above 0 "
                               "(paired block-bootstrap interval)", unit=ORIGIN_UNIT)


def width_near_truth(name: str, ratio: Estimate) -> Verdict:
    """Whether an interval has the true interval's width: the whole interval of its mean width
    over the true mean width lies within ``1 ± WIDTH_TOLERANCE``. Fails when the whole interval
    lies outside that range; undecided when it straddles an end."""
    low, high = 1 - WIDTH_TOLERANCE, 1 + WIDTH_TOLERANCE
    if not (math.isfinite(ratio.low) and math.isfinite(ratio.high)):
        holds = None
    elif low <= ratio.low and ratio.high <= high:
        holds = True
    elif ratio.high < low or ratio.low > high:
        holds = False
    else:
        holds = None
    return Verdict(name=name, holds=holds, estimate=ratio.value, low=ratio.low, high=ratio.high,
                   threshold=WIDTH_TOLERANCE, confidence=ratio.confidence, unit=ORIGIN_UNIT,
                   rule="mean width over the true mean width within 1 ± WIDTH_TOLERANCE "
                        "(whole interval)")


def coverage_below(name: str, estimate: Estimate, reference: float, what: str) -> Verdict:
    """Whether a coverage (or a coverage difference) lies below ``reference``: the whole
    block-bootstrap interval below it."""
    return interval_below(name, estimate, reference,
                          rule=f"coverage interval entirely below {what}", unit=ORIGIN_UNIT)


def coverage_above(name: str, estimate: Estimate, reference: float, what: str) -> Verdict:
    """Whether a coverage (or a coverage difference) lies above ``reference``: the whole
    block-bootstrap interval above it."""
    return interval_above(name, estimate, reference,
                          rule=f"coverage interval entirely above {what}", unit=ORIGIN_UNIT)


def unconditional_band(name: str, share: float | None, d: int) -> Verdict:
    """Whether the fitted model's h = H forecast variance has reached
    :data:`UNCONDITIONAL_SHARE` of its unconditional variance (a stationary model, d = 0).
    An integrated model (d = 1) has no unconditional variance: the verdict fails."""
    if d > 0 or share is None:
        return Verdict(name=name, holds=False, threshold=UNCONDITIONAL_SHARE,
                       rule="integrated model: the forecast variance grows without bound")
    return point_above(name, share, UNCONDITIONAL_SHARE,
                       rule="forecast variance at h = H over the unconditional variance, above "
                            "UNCONDITIONAL_SHARE")


def scores_autocorrelated(name: str, pvalue: float) -> Verdict:
    """Whether the calibration scores are autocorrelated in time order: the permutation p-value
    of their lag-1 autocorrelation below :data:`EXCHANGEABILITY_LEVEL`."""
    holds = None if not math.isfinite(pvalue) else bool(pvalue < EXCHANGEABILITY_LEVEL)
    return Verdict(name=name, holds=holds, estimate=pvalue, threshold=EXCHANGEABILITY_LEVEL,
                   rule="permutation p-value of the lag-1 autocorrelation of the calibration "
                        "scores at the last horizon below EXCHANGEABILITY_LEVEL")


def guarantee_vacuous(name: str, bound: float, alpha: float) -> Verdict:
    """Whether adaptive conformal's long-run guarantee says nothing at this length: its bound
    on the gap between long-run miscoverage and ``alpha`` is at least ``alpha`` itself, so it
    does not even exclude an interval that always misses by a few points more."""
    return Verdict(name=name, holds=bool(bound >= alpha), estimate=float(bound),
                   threshold=float(alpha),
                   rule="Gibbs & Candès bound on |long-run miscoverage - alpha| at least alpha")


def residuals_pass(name: str, pvalue: float, test: str) -> Verdict:
    """Whether a residual check passes: its p-value at or above :data:`RESIDUAL_TEST_LEVEL`."""
    holds = None if not math.isfinite(pvalue) else bool(pvalue >= RESIDUAL_TEST_LEVEL)
    return Verdict(name=name, holds=holds, estimate=float(pvalue),
                   threshold=RESIDUAL_TEST_LEVEL,
                   rule=f"{test} p-value of the one-step residuals at or above "
                        "RESIDUAL_TEST_LEVEL")


def amplitude_grows(name: str, growth: float, threshold: float) -> Verdict:
    """Whether the seasonal swings grow with the level by at least ``threshold`` (the rule of
    ``--transform auto``, :data:`~casestudies.forecasting.transforms.AMPLITUDE_GROWTH_THRESHOLD`),
    ``growth`` being the growth its log-log slope implies across the training stretch."""
    return Verdict(name=name, holds=bool(growth >= threshold), estimate=float(growth),
                   threshold=float(threshold),
                   rule="growth of the seasonal swings from the lowest to the highest seasonal "
                        "level, implied by the slope of log amplitude on log level, at least "
                        "AMPLITUDE_GROWTH_THRESHOLD")


def season_differenced(name: str, strength: float, threshold: float) -> Verdict:
    """Whether the STL seasonal strength reaches ``threshold``
    (:data:`~casestudies.forecasting.arima.SEASONAL_STRENGTH_THRESHOLD`), so that the seasonal
    ARIMA candidates difference the season (D = 1)."""
    return Verdict(name=name, holds=bool(strength >= threshold), estimate=float(strength),
                   threshold=float(threshold),
                   rule="STL seasonal strength of the training stretch at least "
                        "SEASONAL_STRENGTH_THRESHOLD (Wang, Smith & Hyndman 2006)")


def season_overdifferenced(name: str, seasonal_ma: float, threshold: float) -> Verdict:
    """Whether the seasonally differenced winner's seasonal MA coefficient is at or below
    ``threshold`` (``-(1 - SEASONAL_MA_CANCELS)``), cancelling the seasonal difference."""
    return Verdict(name=name, holds=bool(seasonal_ma <= threshold), estimate=float(seasonal_ma),
                   threshold=float(threshold),
                   rule="seasonal MA coefficient of the D = 1 winner at most "
                        "-(1 - SEASONAL_MA_CANCELS): the difference is cancelled and the "
                        "model is chosen again among the D = 0 candidates")


# Largest relative difference at which our psi-weight variance and statsmodels' Kalman-filter
# forecast variance count as equal: once the filter's state uncertainty has settled the two are
# the same formula and differ by rounding (far below this); 1e-3 of the variance is 0.05 % of an
# interval's width, invisible in any coverage, while an unsettled filter differs by percents.
PSI_MATCH_TOLERANCE = 1e-3


def psi_matches_statsmodels(name: str, relative_gap: float, tolerance: float) -> Verdict:
    """Whether our psi-weight forecast variance equals statsmodels' Kalman-filter forecast
    variance to a largest relative difference of at most ``tolerance``."""
    return Verdict(name=name, holds=bool(relative_gap <= tolerance),
                   estimate=float(relative_gap), threshold=float(tolerance),
                   rule="largest |psi-weight variance / statsmodels variance - 1| over origins "
                        "and horizons at most PSI_MATCH_TOLERANCE")
