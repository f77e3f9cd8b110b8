"""Options of the forecasting study: a frozen dataclass with every parameter, its default, its
range and its value under ``--quick``; the command line is generated from it.

Kept free of heavy imports (no torch, no statsmodels) so that ``--help`` stays quick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from casestudies.config import (
    StudyConfig,
    data_option,
    encoding_option,
    missing_option,
    option,
    quick_option,
    seed_option,
    sep_option,
    time_format_option,
)
from casestudies.errors import ConfigError

SERIES_NAMES = ("arma", "arima", "co2", "elnino")
# Scales the models can be fitted on (see casestudies.forecasting.transforms).
TRANSFORM_NAMES = ("none", "log", "boxcox", "auto")
DEFAULT_SERIES = ("arma", "co2")
# Shortest automatic LSTM input window, in steps.
MIN_WINDOW = 48
# The simulated series grow with the horizon (several origins of it, plus training), and the
# real ones are a few thousand points long: beyond this a run takes minutes for nothing.
MAX_SIMULATED_HORIZON = 1000
# Beyond these a run takes hours (paths x origins x horizon samples, LSTM sizes) for nothing the
# report's digits would show.
MAX_PATHS = 5000
MAX_ORIGINS = 500
# What --missing may say about a user's series: refuse any gap, or fill gaps by interpolation.
MISSING_CHOICES = ("error", "interpolate")
# The options that size the backtest: those a user gives stay as given, the others shrink to fit
# a short series (see casestudies.forecasting.sizing).
SIZING_OPTIONS = ("horizon", "origins", "calibration_origins", "origin_step")


@dataclass(frozen=True)
class ForecastingConfig(StudyConfig):
    """Every parameter of the study, with its default.

    Attributes
    ----------
    series : tuple of str
        Built-in series to analyse (ignored when ``data`` is given).
    data, value, time, freq : str or None
        A user's file, its value column, optional time column and optional pandas frequency.
    season : float or None
        Seasonal period in observations for the Fourier terms of ARIMA; ``None`` infers it from
        the frequency, ``0`` turns seasonality off.
    horizon : int
        Forecast horizon in steps (100 in the question).
    origins : int
        Forecast origins of the test backtest.
    calibration_origins : int
        Origins before the test block whose errors calibrate conformal intervals.
    origin_step : int
        Steps between consecutive origins.
    sep, encoding : str or None
        Delimiter and text encoding of a user's text file (None: detected).
    missing : str or None
        ``"error"`` refuses any missing value, ``"interpolate"`` fills every one; None
        interpolates up to ``max_missing`` and refuses more.
    max_missing : float
        Largest share of missing values in a user's series that is interpolated by default.
    hidden, window, max_epochs, patience, max_windows : int
        LSTM size, input window (0 = automatic), training budget and training-set size.
    dropout : float
        Dropout rate of the direct LSTM (used again at prediction time for MC dropout).
    paths : int
        Sampled paths per origin for simulation-based intervals.
    max_p, max_q : int
        The ARMA order grid searched by AIC: p in 0..max_p, q in 0..max_q.
    transform : str or None
        The scale the models are fitted on: ``"none"``, ``"log"``, ``"boxcox"`` or ``"auto"``;
        ``None`` means ``"auto"`` for a user's series and ``"none"`` for the built-in ones
        (see :meth:`transform_for`).
    seed : int
        Seeds simulation, LSTM initialisation, dropout and path sampling.
    quick : bool
        Whether the tiny configuration of ``--quick`` is in use (reported).
    fixed : tuple of str
        The :data:`SIZING_OPTIONS` the user gave (filled by ``from_options``); the others may
        shrink to fit a short series.
    """

    series: tuple[str, ...] = option(
        DEFAULT_SERIES, "built-in series to analyse: arma = simulated ARMA(2,1), arima = "
        "simulated ARIMA(1,1,1), co2 = weekly Mauna Loa CO2, elnino = monthly El Niño sea "
        "temperature (ignored with --data)", choices=SERIES_NAMES)
    data: str | None = data_option("a time series, one row per time point")
    value: str | None = option(None, "with --data: the column holding the series (required)",
                               metavar="COL")
    time: str | None = option(None, "with --data: the column of timestamps (optional; sorted, "
                                    "checked for duplicates)", metavar="COL")
    time_format: str | None = time_format_option()
    sep: str | None = sep_option()
    encoding: str | None = encoding_option()
    freq: str | None = option(None, "with --data and --time: pandas frequency such as D, W, MS; "
                                    "missing periods are interpolated (default: inferred)",
                              metavar="F")
    season: float | None = option(None, "seasonal period in steps for ARIMA's Fourier terms "
                                        "(0 = none; default: from the frequency)", metavar="P",
                                  ge=0, le=10_000)
    horizon: int = option(100, "forecast horizon in steps (unless given, a short series gets the "
                                "largest it holds)", ge=1, le=100_000, quick=12)
    origins: int = option(60, "forecast origins in the test backtest (unless given, fewer on a "
                                "short series)", ge=2, le=MAX_ORIGINS,
                          quick=8)
    calibration_origins: int = option(
        30, "origins before the test block used to calibrate conformal intervals (unless "
            "given, fewer on a short series)", ge=1,
        le=MAX_ORIGINS, quick=19)
    origin_step: int = option(10, "steps between forecast origins (unless given, fewer on a short "
                                  "series)", ge=1, le=10_000, quick=3)
    missing: str | None = missing_option(
        MISSING_CHOICES, help="missing values in the --value column (and periods the --freq grid "
                              "inserts): error refuses any, interpolate fills every one linearly",
        show_default="interpolate up to --max-missing of the series, else an error")
    max_missing: float = option(0.05, "largest share of missing values interpolated in a user "
                                      "series without --missing interpolate", ge=0, lt=0.5)
    hidden: int = option(32, "LSTM hidden units", ge=1, le=1024, quick=8)
    window: int = option(0, f"LSTM input window in steps (0 = two seasons, at least "
                            f"{MIN_WINDOW})", ge=0, le=10_000)
    max_epochs: int = option(60, "most LSTM training epochs, with early stopping", ge=1,
                             le=10_000, quick=3)
    patience: int = option(8, "epochs without improvement before early stopping", flag=False,
                           ge=1, quick=2)
    max_windows: int = option(400, "training windows of the LSTM", flag=False, ge=16, quick=64)
    dropout: float = 0.1
    paths: int = option(300, "sampled future paths per origin (at least 20, to estimate 95% "
                             "quantiles)", ge=20, le=MAX_PATHS, quick=40)
    max_p: int = option(2, "largest AR order searched by AIC", flag=False, ge=0, le=5, quick=1)
    max_q: int = option(2, "largest MA order searched by AIC", flag=False, ge=0, le=5, quick=1)
    # The default differs by source: a user's series gets ``auto``, which keeps the raw scale
    # unless the seasonal swings grow with the level, while the built-in series keep the raw
    # scale their documented numbers were measured on (the simulated ones' true distribution is
    # Gaussian on it, so they keep it even when a transform is asked for).
    transform: str | None = option(
        None, "scale the models are fitted on: none, log, boxcox (lambda by Guerrero's method "
              "on the training part) or auto (Box-Cox when the seasonal swings grow with the "
              "level); intervals are mapped back to the original scale", choices=TRANSFORM_NAMES,
        show_default="auto with --data, none for the built-in series")
    seed: int = seed_option()
    quick: bool = quick_option("short horizon, few origins, a tiny LSTM trained for a few "
                               "epochs")
    # Not in STUDY.json: the result records every option that was changed, and why.
    fixed: tuple[str, ...] = field(default=(), metadata={"json": False})

    @classmethod
    def complete(cls, values: dict, given: set[str]) -> dict:
        """Record which sizing options the user gave: only those are kept on a short series."""
        values["fixed"] = tuple(name for name in SIZING_OPTIONS if name in given)
        return values

    def transform_for(self, user_data: bool) -> str:
        """The transform asked for a series: ``--transform``, or its default by source."""
        if self.transform is not None:
            return self.transform
        return "auto" if user_data else "none"

    @property
    def levels(self) -> tuple[float, float]:
        """Nominal coverages of the intervals."""
        return (0.80, 0.95)

    def check(self) -> None:
        """Rules across options."""
        if self.data is None and self.horizon > MAX_SIMULATED_HORIZON:
            raise ConfigError(f"--horizon {self.horizon} is beyond what the built-in series "
                              f"support (at most {MAX_SIMULATED_HORIZON}); use your own long "
                              f"series with --data for longer horizons")
        needed = calibration_needed(max(self.levels))
        if self.calibration_origins < needed:
            raise ConfigError(f"--calibration-origins must be at least {needed}: with fewer, "
                              f"the split-conformal {max(self.levels):.0%} interval is unbounded")
        if self.season is not None and self.season != 0 and self.season < 2:
            raise ConfigError(f"--season must be 0 (none) or at least 2, got {self.season:g}")
        if self.data is None:
            if self.value or self.time or self.freq:
                raise ConfigError("--value, --time and --freq describe a file: add --data PATH")
            if self.sep or self.encoding or self.missing:
                raise ConfigError("--sep, --encoding and --missing describe a file: add --data "
                                  "PATH")
        elif not self.value:
            raise ConfigError("--data needs --value COL naming the column that holds the series")
        if self.freq and not self.time:
            raise ConfigError("--freq needs --time COL naming the column of timestamps")
        if self.freq:
            parse_frequency(self.freq)
        unknown = set(self.fixed) - set(SIZING_OPTIONS)
        if unknown:
            raise ConfigError(f"fixed names options that size the backtest "
                              f"({', '.join(SIZING_OPTIONS)}), not {', '.join(sorted(unknown))}")


def calibration_needed(level: float) -> int:
    """Fewest calibration errors n with a finite conformal quantile: (n + 1) * level <= n."""
    return math.ceil(level / (1 - level) - 1e-9)


def parse_frequency(freq: str):
    """``--freq`` as a pandas offset of one or more positive steps; ConfigError otherwise."""
    import pandas as pd  # here, not at the top: --help stays quick

    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        offset = None
    if offset is None:
        raise ConfigError(f"--freq {freq!r} is not a pandas frequency such as D, W, MS or h")
    if offset.n <= 0:
        raise ConfigError(f"--freq {freq!r} must step forward in time (a positive count, e.g. "
                          f"D or 2D)")
    return offset
