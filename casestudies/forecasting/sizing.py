"""How big a backtest a series holds: a short series gets a smaller analysis, not a refusal.

The backtest of :func:`casestudies.forecasting.pipeline.backtest_origins` lays out, from the end
of the series backwards, the test origins, the calibration origins and the training stretch:

    window + training windows + H  |  (C - 1) s + H  |  (O - 1) s + H
          training stretch            calibration         test block

with H the horizon, C the calibration origins, O the test origins and s the origin step. When a
series is shorter than the options ask for, the options the user did not give shrink, each down
to a stated smallest value: first the largest horizon (up to the requested one) that the smallest
backtest leaves room for, then the largest origin step, then the training stretch back towards
:data:`TRAINING_WINDOWS`, then the test and calibration origins. Options the user gave are kept;
when they do not fit, the error says the largest value of each that would.

Kept free of torch and statsmodels, like the config: the length check runs before any work.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from casestudies.errors import ConfigError, DataError
from casestudies.forecasting.config import (
    SIZING_OPTIONS,
    ForecastingConfig,
    calibration_needed,
)

# LSTM training windows the training stretch holds beyond the input window and the horizon when
# the series is long enough (about a hundred examples for each network).
TRAINING_WINDOWS = 100
# Fewest training windows: one full mini-batch (32 windows, lstm.BATCH_SIZE) after a fifth of
# them is held out for early stopping (lstm.VALIDATION_SHARE): ceil(32 / 0.8).
MIN_TRAINING_WINDOWS = 40
# Shortest automatic horizon: one step ahead there is no multi-step question, and the recursive
# and direct LSTMs answer the same one.
MIN_HORIZON = 2
# Fewest automatic test origins: 1 / (1 - 0.95), so that a single miss (5 %) is no more than
# the 95 % interval's allowance.
MIN_TEST_ORIGINS = 20
# Test origins must hold at least this many blocks of overlapping forecast windows, or the
# block bootstrap over origins resamples one block and its intervals have no width.
MIN_BLOCKS = 2
MIN_ORIGIN_STEP = 1
# How each sizing option is named to users, and why its smallest value is what it is.
FLAGS = {"horizon": "--horizon", "origins": "--origins",
         "calibration_origins": "--calibration-origins", "origin_step": "--origin-step"}
WHAT = {"horizon": "forecast horizon", "origins": "test origins",
        "calibration_origins": "calibration origins", "origin_step": "origin step",
        "training_windows": "LSTM training windows"}
WHY_SMALLEST = {
    "horizon": "one step ahead there is no multi-step question",
    "origins": "each origin then weighs no more than the 5% the 95% interval may miss, and "
               "the origins hold at least two blocks of overlapping forecasts for the block "
               "bootstrap",
    "calibration_origins": "with fewer errors the split-conformal 95% interval is unbounded",
    "origin_step": "origins one step apart are as close as origins can be",
    "training_windows": "one full mini-batch of LSTM training windows after a fifth is held "
                        "out for early stopping",
}


@dataclass(frozen=True)
class Backtest:
    """The sizes that set how many observations a series needs."""

    horizon: int
    origins: int
    calibration_origins: int
    origin_step: int
    window: int
    training_windows: int

    @property
    def length(self) -> int:
        """Observations needed: training stretch, calibration span and test block."""
        h, s = self.horizon, self.origin_step
        training = self.window + self.training_windows + h
        calibration = (self.calibration_origins - 1) * s + h
        test = (self.origins - 1) * s + h
        return training + calibration + test

    @property
    def blocks(self) -> int:
        """Blocks of test origins whose forecast windows overlap (see evaluation.block_length)."""
        return self.origins // max(1, math.ceil(self.horizon / self.origin_step))

    def describe(self) -> str:
        """The sizes in words, for error messages."""
        return (f"horizon {self.horizon} with {self.calibration_origins} calibration and "
                f"{self.origins} test origins every {self.origin_step} step(s), an LSTM window "
                f"of {self.window} and {self.training_windows} training windows")


@dataclass(frozen=True)
class Adaptation:
    """One setting made smaller to fit a short series.

    Attributes
    ----------
    setting : str
        A sizing option's field name, or ``"training_windows"``.
    what : str
        The setting in words.
    flag : str or None
        The command-line option that would set it (None: not an option).
    requested, used, smallest : int
        The value asked for (the default), the value used and the smallest allowed.
    why_smallest : str
        Why the smallest value is what it is.
    """

    setting: str
    what: str
    flag: str | None
    requested: int
    used: int
    smallest: int
    why_smallest: str


@dataclass(frozen=True)
class Sizing:
    """The configuration a run uses, and how it differs from the one asked for."""

    config: ForecastingConfig
    adaptations: list[Adaptation]


def requested_backtest(config: ForecastingConfig, window: int) -> Backtest:
    """The backtest the options ask for, with the full training stretch."""
    return Backtest(config.horizon, config.origins, config.calibration_origins,
                    config.origin_step, window, TRAINING_WINDOWS)


def smallest_values(config: ForecastingConfig) -> dict[str, int]:
    """Smallest value of each sizing option: a given option keeps its value, the others may
    shrink to their stated floor (never above what was asked)."""
    floors = {"horizon": MIN_HORIZON, "origins": MIN_TEST_ORIGINS,
              "calibration_origins": calibration_needed(max(config.levels)),
              "origin_step": MIN_ORIGIN_STEP}
    return {name: (getattr(config, name) if name in config.fixed
                   else min(getattr(config, name), floors[name])) for name in SIZING_OPTIONS}


def _smallest_backtest(config: ForecastingConfig, window: int, horizon: int, step: int
                       ) -> Backtest | None:
    """The smallest backtest at this horizon and step (None when the origins allowed cannot
    hold two blocks)."""
    floor = smallest_values(config)
    origins = floor["origins"]
    if "origins" not in config.fixed:
        origins = max(origins, MIN_BLOCKS * math.ceil(horizon / step))
    if origins > config.origins or origins // math.ceil(horizon / step) < MIN_BLOCKS:
        return None
    return Backtest(horizon, origins, floor["calibration_origins"], step, window,
                    MIN_TRAINING_WINDOWS)


def _candidates(config: ForecastingConfig, name: str) -> range:
    """Values tried for one sizing option, largest first."""
    low = smallest_values(config)[name]
    return range(getattr(config, name), low - 1, -1)


def largest_fitting(config: ForecastingConfig, n: int, window: int) -> Backtest | None:
    """The smallest backtest with the largest horizon, then the largest step, that ``n``
    observations hold; None if none does."""
    for horizon in _candidates(config, "horizon"):
        for step in _candidates(config, "origin_step"):
            backtest = _smallest_backtest(config, window, horizon, step)
            if backtest is not None and backtest.length <= n:
                return backtest
    return None


def grow(backtest: Backtest, config: ForecastingConfig, n: int) -> Backtest:
    """Give the observations left over back, in turn, to the training stretch (up to
    :data:`TRAINING_WINDOWS`), the test origins and the calibration origins (up to what was
    asked)."""
    spare = n - backtest.length
    training = min(TRAINING_WINDOWS, backtest.training_windows + spare)
    spare -= training - backtest.training_windows
    origins = min(config.origins, backtest.origins + spare // backtest.origin_step)
    spare -= (origins - backtest.origins) * backtest.origin_step
    calibration = min(config.calibration_origins,
                      backtest.calibration_origins + spare // backtest.origin_step)
    return dataclasses.replace(backtest, training_windows=training, origins=origins,
                               calibration_origins=calibration)


def fit_series(config: ForecastingConfig, n: int, window: int, name: str) -> ForecastingConfig:
    """``config`` with its unset sizing options made small enough for a series of ``n``
    observations; DataError when even the smallest analysis allowed does not fit."""
    if requested_backtest(config, window).length <= n:
        return config
    found = largest_fitting(config, n, window)
    if found is None:
        raise DataError(_too_short(config, n, window, name))
    sized = grow(found, config, n)
    return dataclasses.replace(config, horizon=sized.horizon, origins=sized.origins,
                               calibration_origins=sized.calibration_origins,
                               origin_step=sized.origin_step)


def _too_short(config: ForecastingConfig, n: int, window: int, name: str) -> str:
    """The one-line refusal: what the smallest analysis needs, and for every option the user
    gave, the largest value that would work with the others as small as allowed."""
    largest = []
    for option in config.fixed:
        for value in _candidates(dataclasses.replace(config, fixed=()), option):
            if value > n:
                continue
            trial = _with(config, option, value)
            if trial is not None and largest_fitting(trial, n, window) is not None:
                largest.append(f"the largest {FLAGS[option]} that works is {value}")
                break
    smallest = min((b for b in (_smallest_backtest(config, window, h, s)
                                for h in [smallest_values(config)["horizon"]]
                                for s in _candidates(config, "origin_step")) if b is not None),
                   key=lambda b: b.length, default=None)
    head = f"series {name!r} has {n} observations"
    given = ", ".join(f"{FLAGS[o]} {getattr(config, o)}" for o in config.fixed)
    if largest:
        return (f"{head}, too few for {given} with the other sizes as small as allowed; "
                f"{'; '.join(largest)}")
    if smallest is None:
        return (f"{head}, too few for {given}; use a smaller "
                f"{' or '.join(FLAGS[o] for o in config.fixed)}")
    advice = "a longer series" + ("" if config.window else " or a shorter --window")
    return (f"{head} but the smallest analysis, {smallest.describe()}, needs at least "
            f"{smallest.length}; use {advice}")


def _with(config: ForecastingConfig, option: str, value: int) -> ForecastingConfig | None:
    """``config`` with one option changed (None when that value is not allowed)."""
    try:
        return dataclasses.replace(config, **{option: value})
    except ConfigError:  # e.g. fewer calibration origins than split conformal needs
        return None


def smallest_sizes(config: ForecastingConfig) -> dict[str, int]:
    """The floor of every size that may shrink, as the report quotes them."""
    floors = smallest_values(dataclasses.replace(config, fixed=()))
    return {**floors, "training_windows": MIN_TRAINING_WINDOWS}


def training_windows(config: ForecastingConfig, n: int, window: int) -> int:
    """LSTM training windows the training stretch of a series of ``n`` observations holds."""
    backtest = requested_backtest(config, window)
    return n - (backtest.length - backtest.training_windows)


def adaptations(requested: ForecastingConfig, used: ForecastingConfig,
                training_windows: Iterable[int]) -> list[Adaptation]:
    """What changed between the options asked for and those used, and the training stretch
    when it holds fewer than :data:`TRAINING_WINDOWS` windows."""
    floors = smallest_values(dataclasses.replace(requested, fixed=()))
    changed = [Adaptation(name, WHAT[name], FLAGS[name], getattr(requested, name),
                          getattr(used, name), floors[name], WHY_SMALLEST[name])
               for name in SIZING_OPTIONS if getattr(used, name) != getattr(requested, name)]
    fewest = min(training_windows, default=TRAINING_WINDOWS)
    if fewest < TRAINING_WINDOWS:
        changed.append(Adaptation("training_windows", WHAT["training_windows"], None,
                                  TRAINING_WINDOWS, fewest, MIN_TRAINING_WINDOWS,
                                  WHY_SMALLEST["training_windows"]))
    return changed
