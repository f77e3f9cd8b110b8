"""Variance-stabilising transforms of a series: log and Box-Cox, and the rule that picks one.

A series whose seasonal swings grow with its level (multiplicative seasonality) breaks the
constant-variance assumption of ARIMA on the raw scale: its intervals come out too wide where the
level is low and too narrow where it is high. On the log or Box-Cox scale the swings have one
size, the models are fitted there, and every quantile is mapped back through the inverse
transform. The inverse is increasing, so a quantile maps to the same quantile, and the
back-transformed point forecast (the transformed-scale mean of a symmetric distribution) is the
median on the original scale; the mean is larger and is given by :func:`bias_adjusted_mean`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from casestudies.errors import DataError
from casestudies.forecasting.config import TRANSFORM_NAMES as TRANSFORMS

# Box-Cox lambda searched by Guerrero's method. R's forecast package searches -1..2; here the
# range stops at 0 because with lambda < 0 the inverse (lambda z + 1)^(1/lambda) is infinite
# once a Gaussian quantile on the transformed scale passes -1/lambda, so far upper quantiles of
# a long horizon would be infinite; and at 1 because lambda = 1 is already the raw scale
# shifted by one, and larger values stretch the upper tail of series whose swings shrink with
# the level, which a seasonal model on the raw scale handles.
LAMBDA_BOUNDS = (0.0, 1.0)
# An estimate this close to a bound of the search is the bound: the bounded search stops within
# its tolerance of an edge, and lambda = 0 is then exactly the log.
LAMBDA_SNAP = 1e-4
# Subseries length of Guerrero's method for a series without a seasonal period (as in R).
NONSEASONAL_SUBSERIES = 2
# ``auto`` transforms when the seasonal amplitude grows with the level by enough to matter. The
# slope b of log amplitude on log level across seasons is 0 for additive seasonality (swings of
# one size) and 1 for multiplicative seasonality (swings in proportion to the level); the
# measurement is the growth of the swings that slope implies from the lowest to the highest
# seasonal level, (high / low)^b. At 1.5 the swings at the top are half as large again as at
# the bottom, and one interval width for both is visibly wrong at one end; a series whose level
# moves little (Mauna Loa CO2 rises by a sixth over decades) stays below it even when its swings
# are proportional to the level, and there a transform would change next to nothing.
AMPLITUDE_GROWTH_THRESHOLD = 1.5
# Fewest complete seasons (after the moving-average trend's half-season at each end) on which a
# slope across seasons is measured at all.
MIN_AMPLITUDE_SEASONS = 4
# Seasons whose levels barely differ cannot show growth with the level: below this spread of
# log levels (about a 5% change of level) the slope is not measured.
MIN_LOG_LEVEL_SPREAD = 0.05


@dataclass
class AmplitudeMeasure:
    """How the seasonal amplitude moves with the level, season by season.

    Attributes
    ----------
    slope : float or None
        Least-squares slope of log amplitude (standard deviation of the detrended values in a
        season) on log level (mean of the trend in that season); None when not measurable.
    growth : float or None
        The growth of the amplitude the slope implies from the lowest to the highest level,
        ``(level_high / level_low) ** slope``: the rule's measurement.
    seasons : int
        Complete seasons measured.
    level_low, level_high : float or None
        The lowest and highest seasonal level.
    amplitude_low, amplitude_high : float or None
        The amplitudes of those two seasons.
    threshold : float
        :data:`AMPLITUDE_GROWTH_THRESHOLD`.
    grows : bool or None
        Whether ``growth`` reaches the threshold (None when not measured).
    why_not_measured : str
        Plain words when ``slope`` is None, else ``""``.
    """

    slope: float | None
    growth: float | None
    seasons: int
    level_low: float | None
    level_high: float | None
    amplitude_low: float | None
    amplitude_high: float | None
    threshold: float
    grows: bool | None
    why_not_measured: str = ""


@dataclass
class Transform:
    """The transform a series is modelled on, and why.

    Attributes
    ----------
    requested : str
        ``"none"``, ``"log"``, ``"boxcox"`` or ``"auto"``.
    name : str
        What is applied: ``"none"``, ``"log"`` or ``"boxcox"``.
    lam : float or None
        The Box-Cox lambda (0 for the log, None for none).
    lambda_bounds : tuple of float
        The range Guerrero's method searched.
    subseries : int or None
        Length of the subseries of Guerrero's method (None when it was not run).
    amplitude : AmplitudeMeasure or None
        The measurement of ``auto`` (None when ``auto`` was not asked).
    fallback : str
        Why ``auto`` kept the raw scale without measuring (non-positive values), else ``""``.
    """

    requested: str
    name: str
    lam: float | None = None
    lambda_bounds: tuple[float, float] = LAMBDA_BOUNDS
    subseries: int | None = None
    amplitude: AmplitudeMeasure | None = None
    fallback: str = ""

    @property
    def applied(self) -> bool:
        """Whether the models see anything other than the raw values."""
        return self.name != "none"

    def forward(self, values: np.ndarray) -> np.ndarray:
        """The values on the modelling scale."""
        if not self.applied:
            return values
        return boxcox(values, self.lam)

    def mean(self, median: np.ndarray, variance: np.ndarray) -> np.ndarray:
        """The original-scale mean of a forecast with transformed-scale mean ``median`` and
        ``variance`` (:func:`bias_adjusted_mean`; the mean itself without a transform)."""
        if not self.applied:
            return median
        return bias_adjusted_mean(median, variance, self.lam)

    def inverse(self, transformed: np.ndarray) -> np.ndarray:
        """Transformed-scale values (quantiles, paths, medians) back on the original scale."""
        if not self.applied:
            return transformed
        return inverse_boxcox(transformed, self.lam)


def boxcox(values: np.ndarray, lam: float) -> np.ndarray:
    """Box-Cox transform :math:`(y^\\lambda - 1)/\\lambda`, or :math:`\\log y` for λ = 0."""
    values = np.asarray(values, dtype=float)
    if lam == 0:
        return np.log(values)
    return (values ** lam - 1.0) / lam


def inverse_boxcox(transformed: np.ndarray, lam: float) -> np.ndarray:
    """Inverse Box-Cox :math:`(\\lambda z + 1)^{1/\\lambda}`, or :math:`e^z` for λ = 0.

    For λ > 0 a transformed value below :math:`-1/\\lambda` has no preimage (it would be a
    negative original value); it maps to 0, the edge of the positive values the transform was
    fitted on, which keeps the map increasing.
    """
    transformed = np.asarray(transformed, dtype=float)
    if lam == 0:
        return np.exp(transformed)
    return np.maximum(lam * transformed + 1.0, 0.0) ** (1.0 / lam)


def bias_adjusted_mean(median: np.ndarray, variance: np.ndarray, lam: float) -> np.ndarray:
    """Mean on the original scale of a forecast whose transformed-scale distribution has mean
    ``median`` (w) and ``variance`` (σ²), by Hyndman & Athanasopoulos (FPP3, section 5.6):

    .. math:: \\hat y = e^{w}\\left(1 + \\tfrac{\\sigma^2}{2}\\right) \\ (\\lambda = 0),\\qquad
              \\hat y = (\\lambda w + 1)^{1/\\lambda}
              \\left(1 + \\frac{\\sigma^2 (1 - \\lambda)}{2 (\\lambda w + 1)^2}\\right)

    a second-order Taylor expansion of the inverse transform around w (exact for λ = 1/2).
    """
    median, variance = np.asarray(median, dtype=float), np.asarray(variance, dtype=float)
    if lam == 0:
        return np.exp(median) * (1.0 + variance / 2.0)
    base = np.maximum(lam * median + 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = np.where(base > 0, variance * (1.0 - lam) / (2.0 * base ** 2), 0.0)
    return base ** (1.0 / lam) * (1.0 + correction)


def _complete_subseries(values: np.ndarray, length: int) -> np.ndarray:
    """The last whole multiple of ``length`` values as rows of ``length`` (as R's forecast does,
    the incomplete subseries is the oldest one, left out)."""
    rows = len(values) // length
    return np.asarray(values[len(values) - rows * length:], dtype=float).reshape(rows, length)


def guerrero_cv(lam: float, values: np.ndarray, length: int) -> float:
    """Guerrero's criterion: the coefficient of variation, across subseries of ``length``
    values, of :math:`s_k / m_k^{1-\\lambda}` (subseries standard deviation over its mean to
    the power 1 - λ). The λ that makes it smallest makes the spread of the transformed
    subseries most nearly constant."""
    blocks = _complete_subseries(values, length)
    ratio = blocks.std(axis=1, ddof=1) / blocks.mean(axis=1) ** (1.0 - lam)
    return float(ratio.std(ddof=1) / ratio.mean())


def guerrero_lambda(values: np.ndarray, period: float | None,
                    bounds: tuple[float, float] = LAMBDA_BOUNDS) -> tuple[float, int]:
    """Box-Cox λ by Guerrero's (1993) method: the minimiser of :func:`guerrero_cv` over
    ``bounds`` on subseries of one season (or of :data:`NONSEASONAL_SUBSERIES` values without a
    period). Returns λ and the subseries length."""
    length = max(NONSEASONAL_SUBSERIES, round(period)) if period else NONSEASONAL_SUBSERIES
    if len(values) < 2 * length:
        raise DataError(f"--transform boxcox needs at least two seasons of {length} training "
                        f"values to estimate lambda, got {len(values)}; use --transform log")
    found = optimize.minimize_scalar(guerrero_cv, bounds=bounds, args=(values, length),
                                     method="bounded", options={"xatol": 1e-6})
    lam = float(found.x)
    for bound in bounds:
        if abs(lam - bound) < LAMBDA_SNAP:
            lam = float(bound)
    return lam, length


def centred_moving_average(values: np.ndarray, period: int) -> np.ndarray:
    """The classical-decomposition trend: a centred moving average over one season (a 2 × m
    average for even m), NaN for the half-season at each end."""
    values = np.asarray(values, dtype=float)
    if period % 2:
        weights = np.full(period, 1.0 / period)
    else:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    half = len(weights) // 2
    trend = np.full(len(values), np.nan)
    trend[half:len(values) - half] = np.convolve(values, weights, mode="valid")
    return trend


def measure_amplitude(values: np.ndarray, period: float | None) -> AmplitudeMeasure:
    """Does the seasonal amplitude grow with the level? See :data:`AMPLITUDE_GROWTH_THRESHOLD`.

    The trend is the centred moving average over one season; in each complete season of the
    detrended values the amplitude is their standard deviation and the level the trend's mean.
    The slope of log amplitude on log level is about 0 for additive seasonality and 1 for
    multiplicative seasonality (it is 1 - λ for swings proportional to level^(1-λ)).
    """
    def unmeasured(reason: str, seasons: int = 0) -> AmplitudeMeasure:
        return AmplitudeMeasure(None, None, seasons, None, None, None, None,
                                AMPLITUDE_GROWTH_THRESHOLD, None, reason)

    if not period or round(period) < 2:
        return unmeasured("the series has no seasonal period")
    length = round(period)
    trend = centred_moving_average(values, length)
    kept = np.isfinite(trend)
    detrended = _complete_subseries((values - trend)[kept], length)
    levels = _complete_subseries(trend[kept], length).mean(axis=1)
    seasons = len(levels)
    if seasons < MIN_AMPLITUDE_SEASONS:
        return unmeasured(f"the training stretch holds {seasons} complete seasons, fewer than "
                          f"the {MIN_AMPLITUDE_SEASONS} the measurement needs", seasons)
    if np.any(levels <= 0):
        return unmeasured("the seasonal level is not positive throughout", seasons)
    amplitudes = detrended.std(axis=1, ddof=1)
    if np.any(amplitudes <= 0):
        return unmeasured("some season has no swing at all", seasons)
    log_level, log_amplitude = np.log(levels), np.log(amplitudes)
    if np.ptp(log_level) < MIN_LOG_LEVEL_SPREAD:
        return unmeasured("the level hardly changes across seasons, so growth with the level "
                          "cannot be seen", seasons)
    slope = float(np.polyfit(log_level, log_amplitude, 1)[0])
    low, high = int(np.argmin(levels)), int(np.argmax(levels))
    growth = float((levels[high] / levels[low]) ** slope)
    return AmplitudeMeasure(slope, growth, seasons, float(levels[low]), float(levels[high]),
                            float(amplitudes[low]), float(amplitudes[high]),
                            AMPLITUDE_GROWTH_THRESHOLD, growth >= AMPLITUDE_GROWTH_THRESHOLD)


def _non_positive(values: np.ndarray) -> int:
    return int(np.sum(np.asarray(values) <= 0))


def choose_transform(values: np.ndarray, train_end: int, period: float | None, requested: str,
                     name: str) -> Transform:
    """The transform of one series: ``requested`` as asked, or chosen by ``auto``.

    Lambda and the amplitude rule use the training part (``values[:train_end]``) only; the
    positivity check covers every value, since all are transformed (later ones as inputs at
    the forecast origins and as the targets the paths are compared with).

    Raises
    ------
    DataError
        ``log`` or ``boxcox`` on a series with values at or below zero (one line naming the
        count, the smallest value and the way out).
    """
    if requested not in TRANSFORMS:
        raise DataError(f"--transform must be one of {', '.join(TRANSFORMS)}, got {requested!r}")
    if requested == "none":
        return Transform(requested, "none")
    train = np.asarray(values[:train_end], dtype=float)
    bad = _non_positive(values)
    if requested in ("log", "boxcox"):
        if bad:
            raise DataError(f"--transform {requested} needs positive values, but {name!r} has "
                            f"{bad} value(s) at or below zero (smallest "
                            f"{float(np.min(values)):g}); use --transform none")
        if requested == "log":
            return Transform(requested, "log", lam=0.0)
        lam, length = guerrero_lambda(train, period)
        return Transform(requested, "boxcox", lam=lam, subseries=length)
    if bad:
        return Transform(requested, "none",
                         fallback=f"{bad} value(s) are at or below zero, where log and Box-Cox "
                                  "are undefined")
    measured = measure_amplitude(train, period)
    if not measured.grows:
        return Transform(requested, "none", amplitude=measured)
    lam, length = guerrero_lambda(train, period)
    return Transform(requested, "boxcox", lam=lam, subseries=length, amplitude=measured)
