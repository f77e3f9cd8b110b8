"""Options of the forecasting study: a frozen dataclass and its command-line front end.

Kept free of heavy imports (no torch, no statsmodels) so that ``--help`` stays quick.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from casestudies.errors import ConfigError

SERIES_NAMES = ("arma", "arima", "co2", "elnino")
DEFAULT_SERIES = ("arma", "co2")
# Shortest automatic LSTM input window, in steps.
MIN_WINDOW = 48


@dataclass(frozen=True)
class ForecastingConfig:
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
    max_missing : float
        Largest share of missing values in a user's series that is interpolated.
    hidden, window, max_epochs, patience, max_windows : int
        LSTM size, input window (0 = automatic), training budget and training-set size.
    dropout : float
        Dropout rate of the direct LSTM (used again at prediction time for MC dropout).
    paths : int
        Sampled paths per origin for simulation-based intervals.
    max_p, max_q : int
        The ARMA order grid searched by AIC: p in 0..max_p, q in 0..max_q.
    seed : int
        Seeds simulation, LSTM initialisation, dropout and path sampling.
    quick : bool
        Whether the tiny configuration of ``--quick`` is in use (reported).
    """

    series: tuple[str, ...] = DEFAULT_SERIES
    data: str | None = None
    value: str | None = None
    time: str | None = None
    freq: str | None = None
    season: float | None = None
    horizon: int = 100
    origins: int = 30
    calibration_origins: int = 30
    origin_step: int = 4
    max_missing: float = 0.05
    hidden: int = 32
    window: int = 0
    max_epochs: int = 60
    patience: int = 8
    max_windows: int = 400
    dropout: float = 0.1
    paths: int = 300
    max_p: int = 2
    max_q: int = 2
    seed: int = 0
    quick: bool = False

    @property
    def levels(self) -> tuple[float, float]:
        """Nominal coverages of the intervals."""
        return (0.80, 0.95)


QUICK = dict(horizon=12, origins=3, calibration_origins=19, origin_step=2, hidden=8,
             max_epochs=3, patience=2, max_windows=64, paths=40, max_p=1, max_q=1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the forecasting options to ``parser``."""
    parser.add_argument("--series", nargs="+", choices=SERIES_NAMES, default=list(DEFAULT_SERIES),
                        help="built-in series to analyse: arma = simulated ARMA(2,1), arima = "
                             "simulated ARIMA(1,1,1), co2 = weekly Mauna Loa CO2, elnino = "
                             "monthly El Niño sea temperature (default: "
                             f"{' '.join(DEFAULT_SERIES)}; ignored with --data)")
    parser.add_argument("--value", metavar="COL",
                        help="with --data: the column holding the series (required)")
    parser.add_argument("--time", metavar="COL",
                        help="with --data: the column of timestamps (optional; sorted, checked "
                             "for duplicates)")
    parser.add_argument("--freq", metavar="F",
                        help="with --data and --time: pandas frequency such as D, W, MS; missing "
                             "periods are interpolated (default: inferred)")
    parser.add_argument("--season", type=float, metavar="P",
                        help="seasonal period in steps for ARIMA's Fourier terms (0 = none; "
                             "default: from the frequency)")
    parser.add_argument("--horizon", type=int, default=ForecastingConfig.horizon,
                        help="forecast horizon in steps (default: %(default)s)")
    parser.add_argument("--origins", type=int, default=ForecastingConfig.origins,
                        help="forecast origins in the test backtest (default: %(default)s)")
    parser.add_argument("--calibration-origins", type=int,
                        default=ForecastingConfig.calibration_origins,
                        help="origins before the test block used to calibrate conformal "
                             "intervals (default: %(default)s)")
    parser.add_argument("--origin-step", type=int, default=ForecastingConfig.origin_step,
                        help="steps between forecast origins (default: %(default)s)")
    parser.add_argument("--max-missing", type=float, default=ForecastingConfig.max_missing,
                        help="largest share of missing values interpolated in a user series "
                             "(default: %(default)s)")
    parser.add_argument("--hidden", type=int, default=ForecastingConfig.hidden,
                        help="LSTM hidden units (default: %(default)s)")
    parser.add_argument("--window", type=int, default=ForecastingConfig.window,
                        help="LSTM input window in steps (default: 0 = two seasons, at least "
                             f"{MIN_WINDOW})")
    parser.add_argument("--max-epochs", type=int, default=ForecastingConfig.max_epochs,
                        help="most LSTM training epochs, with early stopping "
                             "(default: %(default)s)")
    parser.add_argument("--paths", type=int, default=ForecastingConfig.paths,
                        help="sampled future paths per origin (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny configuration for tests: short horizon, few origins, tiny "
                             f"LSTM, {QUICK['max_epochs']} epochs")


# The simulated series grow with the horizon (several origins of it, plus training), and the
# real ones are a few thousand points long: beyond this a run takes minutes for nothing.
MAX_SIMULATED_HORIZON = 1000


def make_config(args: argparse.Namespace) -> ForecastingConfig:
    """Turn parsed options into a :class:`ForecastingConfig`; raise ConfigError if invalid."""
    values = dict(
        series=tuple(dict.fromkeys(args.series or DEFAULT_SERIES)),
        data=args.data, value=args.value, time=args.time, freq=args.freq, season=args.season,
        horizon=args.horizon, origins=args.origins,
        calibration_origins=args.calibration_origins, origin_step=args.origin_step,
        max_missing=args.max_missing, hidden=args.hidden, window=args.window,
        max_epochs=args.max_epochs, paths=args.paths, seed=args.seed, quick=bool(args.quick),
    )
    if args.quick:
        defaults = ForecastingConfig()
        for key, small in QUICK.items():
            # --quick shrinks only what the user left at its default.
            if values.get(key, getattr(defaults, key)) == getattr(defaults, key):
                values[key] = small
    config = ForecastingConfig(**values)
    _validate(config)
    return config


def _calibration_needed(level: float) -> int:
    """Fewest calibration errors n with a finite conformal quantile: (n + 1) * level <= n."""
    return math.ceil(level / (1 - level) - 1e-9)


def _validate(config: ForecastingConfig) -> None:
    if config.horizon < 1:
        raise ConfigError(f"--horizon must be at least 1, got {config.horizon}")
    if config.data is None and config.horizon > MAX_SIMULATED_HORIZON:
        raise ConfigError(f"--horizon {config.horizon} is beyond what the built-in series "
                          f"support (at most {MAX_SIMULATED_HORIZON}); use your own long series "
                          f"with --data for longer horizons")
    for name in ("origins", "calibration_origins", "origin_step", "hidden", "max_epochs",
                 "paths"):
        if getattr(config, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be at least 1, got {getattr(config, name)}")
    needed = _calibration_needed(max(config.levels))
    if config.calibration_origins < needed:
        raise ConfigError(f"--calibration-origins must be at least {needed}: with fewer, the "
                          f"split-conformal {max(config.levels):.0%} interval is unbounded")
    if config.paths < 20:
        raise ConfigError(f"--paths must be at least 20 to estimate 95% quantiles, "
                          f"got {config.paths}")
    if config.window < 0:
        raise ConfigError(f"--window must be 0 (automatic) or positive, got {config.window}")
    if not 0 <= config.max_missing < 0.5:
        raise ConfigError(f"--max-missing must be in [0, 0.5), got {config.max_missing}")
    if config.season is not None and config.season != 0 and config.season < 2:
        raise ConfigError(f"--season must be 0 (none) or at least 2, got {config.season}")
    if config.data is None:
        if config.value or config.time or config.freq:
            raise ConfigError("--value, --time and --freq describe a file: add --data PATH")
    elif not config.value:
        raise ConfigError("--data needs --value COL naming the column that holds the series")
    if config.freq and not config.time:
        raise ConfigError("--freq needs --time COL naming the column of timestamps")
