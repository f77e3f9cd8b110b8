"""The series the study forecasts: two simulated with known truth, two real ones shipped with
statsmodels, and a user's file.

Every loader returns :class:`Series` objects on a regular grid with no missing values; how they
got there (interpolated weeks, sorted rows) is recorded in ``Series.notes`` for the report, and
for a user's file also as data: how the file was read (``Series.reading``) and what was done
about missing values (``Series.missing``). :func:`load_data` then sizes the backtest to the
series (:mod:`casestudies.forecasting.sizing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casestudies.errors import DataError
from casestudies.forecasting import sizing
from casestudies.forecasting.config import MIN_WINDOW, ForecastingConfig, parse_frequency
from casestudies.io import (
    DELIMITERS,
    datetime_column,
    fingerprint_arrays,
    numeric_column,
    read_table,
    source_name,
)
from casestudies.rng import stream

WEEKS_PER_YEAR = 365.25 / 7
# Seasonal period (in steps) implied by a pandas frequency code, for ARIMA's Fourier terms.
PERIOD_OF_FREQ = {"W": WEEKS_PER_YEAR, "M": 12.0, "MS": 12.0, "ME": 12.0, "Q": 4.0, "QS": 4.0,
                  "QE": 4.0, "D": 7.0, "B": 5.0, "h": 24.0, "H": 24.0}
SIMULATED_TRAINING = 800
# Simulated values dropped at the start so that a series begins in its stationary distribution.
BURN_IN = 500
# Level at which the simulated integrated series starts.
ARIMA_START = 50.0


@dataclass(frozen=True)
class TrueModel:
    """The data-generating process of a simulated series, in statsmodels' ARIMA parameterisation
    (a regression on a constant or a time trend with ARIMA errors)."""

    order: tuple[int, int, int]
    trend: str
    params: tuple[float, ...]

    @property
    def label(self) -> str:
        """``"ARMA(p,q)"`` for a stationary process, ``"ARIMA(p,d,q)"`` for an integrated one."""
        p, d, q = self.order
        return f"ARMA({p},{q})" if d == 0 else f"ARIMA({p},{d},{q})"

    @property
    def ar(self) -> tuple[float, ...]:
        """AR coefficients (the parameters after the trend coefficient)."""
        return self.params[1:1 + self.order[0]]

    @property
    def ma(self) -> tuple[float, ...]:
        """MA coefficients (after the AR ones; sigma² is last)."""
        return self.params[1 + self.order[0]:1 + self.order[0] + self.order[2]]

    @property
    def formula(self) -> str:
        """LaTeX of the process, written from its parameters, for the report.

        With ``x_t`` the series (d = 0) or its difference (d = 1) and ``c`` the mean of ``x``
        (the trend coefficient): :math:`x_t - c = \\sum_i \\phi_i (x_{t-i} - c) + \\varepsilon_t
        + \\sum_j \\theta_j \\varepsilon_{t-j}`.
        """
        x = "y" if self.order[1] == 0 else r"\Delta y"
        c = f"{self.params[0]:g}"
        ar = "".join(f" {_signed(phi)}\\,({x}_{{t-{i}}} - {c})"
                     for i, phi in enumerate(self.ar, start=1))
        ma = "".join(f" {_signed(theta)}\\,\\varepsilon_{{t-{j}}}"
                     for j, theta in enumerate(self.ma, start=1))
        lhs = f"{x}_t - {c}"
        rhs = (ar.lstrip(" +") if ar else "") + (" + " if ar else "") + r"\varepsilon_t" + ma
        return (f"{lhs} = {rhs},\\quad \\varepsilon_t \\sim N(0, {self.params[-1]:g})")


def _signed(value: float) -> str:
    """``"+ 0.3"`` or ``"- 0.4"``: a coefficient with its sign as an operator."""
    return f"{'-' if value < 0 else '+'} {abs(value):g}"


@dataclass
class Series:
    """One univariate series on a regular grid.

    Attributes
    ----------
    key : str
        ``"arma"``, ``"arima"``, ``"co2"``, ``"elnino"`` or ``"user"``.
    name : str
        What the series is, for titles.
    values : ndarray
        The observations, finite.
    time : DatetimeIndex or None
        Timestamps when known.
    period : float or None
        Seasonal period in steps (None: no seasonality modelled).
    truth : TrueModel or None
        The generating process of a simulated series.
    notes : list of str
        What was done to the raw data (Markdown sentences).
    interpolated : ndarray of bool or None
        Which values were missing and filled by interpolation (None: none were).
    reading : dict or None
        How a user's text file was read (see :func:`reading_record`; None otherwise).
    missing : dict or None
        What was done about missing values in a user's series (see :func:`fill_missing`).
    """

    key: str
    name: str
    values: np.ndarray
    time: pd.DatetimeIndex | None
    period: float | None
    truth: TrueModel | None = None
    notes: list[str] = field(default_factory=list)
    interpolated: np.ndarray | None = None
    reading: dict | None = None
    missing: dict | None = None

    @property
    def n(self) -> int:
        return len(self.values)


@dataclass
class ForecastingData:
    """What :func:`load_data` returns: the series plus their description and fingerprint."""

    series: list[Series]
    source: str
    fingerprint: str


def lstm_window(config: ForecastingConfig, period: float | None) -> int:
    """Input window of the LSTM: ``--window``, or two seasons and at least ``MIN_WINDOW``."""
    if config.window:
        return config.window
    seasons = int(np.ceil(2 * period)) if period else 0
    return max(MIN_WINDOW, seasons)


def required_length(config: ForecastingConfig, period: float | None) -> tuple[int, int]:
    """Observations a series needs, and how many of them train the models.

    The test origins are the last ``origins`` points spaced by ``origin_step`` whose ``horizon``
    future values are observed; the calibration origins come before them, with their forecasts
    ending before the first test origin; at least ``window + horizon + 100`` observations before
    the first calibration origin train the models (about 100 training windows).
    """
    backtest = sizing.requested_backtest(config, lstm_window(config, period))
    return backtest.length, backtest.window + backtest.horizon + backtest.training_windows


def size_backtest(config: ForecastingConfig, series: list[Series]) -> sizing.Sizing:
    """The configuration that fits every series, and what was made smaller for it.

    Each series in turn shrinks the sizing options the user did not give (sizes only shrink, so
    a later series never undoes what an earlier one needs); :class:`DataError` when a series is
    too short even for the smallest analysis, or for the options given.
    """
    used = config
    for item in series:
        used = sizing.fit_series(used, item.n, lstm_window(used, item.period), item.name)
    windows = [sizing.training_windows(used, item.n, lstm_window(used, item.period))
               for item in series]
    return sizing.Sizing(config=used, adaptations=sizing.adaptations(config, used, windows))


def check_not_constant(series: Series) -> None:
    """Raise :class:`DataError` when ``series`` has (numerically) no variation."""
    values = series.values
    if np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())):
        raise DataError(f"series {series.name!r} is constant ({values[0]:g}); there is nothing "
                        f"to forecast")


# --------------------------------------------------------------------------- simulated series

ARMA_TRUTH = TrueModel(order=(2, 0, 1), trend="c", params=(10.0, 1.2, -0.4, 0.3, 1.0))
ARIMA_TRUTH = TrueModel(order=(1, 1, 1), trend="t", params=(0.05, 0.5, 0.3, 1.0))


def simulate_arma_process(ar: tuple[float, ...], ma: tuple[float, ...], n: int, sigma: float,
                          random_state: int | np.random.Generator, burn_in: int = BURN_IN
                          ) -> np.ndarray:
    """Simulate a zero-mean ARMA process ``(1 - sum ar_i B^i) x = (1 + sum ma_j B^j) e``.

    Gaussian shocks of standard deviation ``sigma``; the first ``burn_in`` values are dropped so
    that the series starts in the stationary distribution.
    """
    rng = np.random.default_rng(random_state)
    shocks = sigma * rng.standard_normal(n + burn_in)
    x = np.zeros(n + burn_in)
    for t in range(n + burn_in):
        ar_part = sum(a * x[t - i - 1] for i, a in enumerate(ar) if t - i - 1 >= 0)
        ma_part = sum(m * shocks[t - j - 1] for j, m in enumerate(ma) if t - j - 1 >= 0)
        x[t] = ar_part + shocks[t] + ma_part
    return x[burn_in:]


def simulated_length(config: ForecastingConfig) -> int:
    """Length of a simulated series: the backtest's need plus a long training stretch."""
    needed, _ = required_length(config, None)
    return needed + SIMULATED_TRAINING


def simulate_arma(config: ForecastingConfig) -> Series:
    """The stationary ARMA process of :data:`ARMA_TRUTH`, seeded by ``config.seed``."""
    n = simulated_length(config)
    mean, sigma2 = ARMA_TRUTH.params[0], ARMA_TRUTH.params[-1]
    x = simulate_arma_process(ARMA_TRUTH.ar, ARMA_TRUTH.ma, n, np.sqrt(sigma2),
                              random_state=stream(config.seed, "forecasting", "arma", "simulation"))
    return Series(key="arma", name=f"simulated {ARMA_TRUTH.label}", values=mean + x, time=None,
                  period=None, truth=ARMA_TRUTH,
                  notes=[f"Simulated with seed {config.seed}: {n} steps after a {BURN_IN}-step "
                         "burn-in, Gaussian shocks."])


def simulate_arima(config: ForecastingConfig) -> Series:
    """The integrated ARIMA process with drift of :data:`ARIMA_TRUTH`, seeded."""
    n = simulated_length(config)
    drift, sigma2 = ARIMA_TRUTH.params[0], ARIMA_TRUTH.params[-1]
    shocks = stream(config.seed, "forecasting", "arima", "simulation")
    w = simulate_arma_process(ARIMA_TRUTH.ar, ARIMA_TRUTH.ma, n, np.sqrt(sigma2),
                              random_state=shocks)
    values = ARIMA_START + np.cumsum(drift + w)
    return Series(key="arima", name=f"simulated {ARIMA_TRUTH.label}", values=values, time=None,
                  period=None, truth=ARIMA_TRUTH,
                  notes=[f"Simulated with seed {config.seed}: {n} steps, the differences after a "
                         f"{BURN_IN}-step burn-in, started at {ARIMA_START:g}."])


# --------------------------------------------------------------------------- real series

def load_co2() -> Series:
    """Weekly Mauna Loa CO2 (ppm) from ``statsmodels.datasets.co2``; missing weeks interpolated."""
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    interpolated = frame["co2"].isna().to_numpy()
    values = frame["co2"].interpolate(method="linear", limit_direction="both")
    return Series(key="co2", name="Mauna Loa CO2 (weekly, ppm)", values=values.to_numpy(float),
                  time=pd.DatetimeIndex(frame.index), period=WEEKS_PER_YEAR,
                  notes=[f"{int(interpolated.sum())} missing weeks of {len(frame)} were filled "
                         "by linear interpolation between neighbouring weeks."],
                  interpolated=interpolated)


def load_elnino() -> Series:
    """Monthly El Niño sea surface temperature (°C) from ``statsmodels.datasets.elnino``."""
    from statsmodels.datasets import elnino

    frame = elnino.load_pandas().data
    months = frame.columns[1:]
    values = frame[months].to_numpy(float).ravel()
    start = pd.Timestamp(year=int(frame["YEAR"].iloc[0]), month=1, day=1)
    time = pd.date_range(start, periods=len(values), freq="MS")
    return Series(key="elnino", name="El Niño sea surface temperature (monthly, °C)",
                  values=values, time=time, period=12.0,
                  notes=["The year × month table was reshaped to one monthly series."])


BUILT_IN = {"arma": simulate_arma, "arima": simulate_arima, "co2": lambda config: load_co2(),
            "elnino": lambda config: load_elnino()}


# --------------------------------------------------------------------------- a user's file

def _infer_offset(time: pd.DatetimeIndex) -> pd.DateOffset | None:
    if len(time) < 3:
        return None
    with pd.option_context("future.infer_freq_returns_offset", True):
        return pd.infer_freq(time)


def period_of_offset(offset: pd.DateOffset | None) -> float | None:
    """Seasonal period implied by a frequency (weekly data: 52.18 per year), or None."""
    if offset is None:
        return None
    code = offset.rule_code.split("-")[0]
    return PERIOD_OF_FREQ.get(code)


def check_grid_length(index: pd.DatetimeIndex, offset: pd.DateOffset, freq: str) -> None:
    """Refuse a frequency whose regular grid would be mostly missing, before building it.

    More than twice as many periods as rows means more than half the grid is missing, beyond any
    ``--max-missing``; a typo such as ``ms`` (milliseconds) for ``MS`` (month start) would
    otherwise allocate a grid of billions of points.
    """
    first, last = index.min(), index.max()
    step = (first + 2 * offset) - first  # exact for fixed steps, an average for calendar ones
    periods = (last - first) / (step / 2) + 1 if step > pd.Timedelta(0) else float("inf")
    if periods > 2 * len(index):
        raise DataError(f"--freq {freq!r} puts about {periods:,.0f} periods between the first "
                        f"and last timestamp, for only {len(index):,} rows: most of the grid "
                        f"would be missing; give the frequency of the data (pandas frequencies "
                        f"are case-sensitive: MS is month start, ms is milliseconds)")


ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "latin-1": "Latin-1",
                  "iso8859-1": "Latin-1"}


def reading_record(frame: pd.DataFrame) -> dict | None:
    """How a text file was read, from what :func:`~casestudies.io.read_table` records in
    ``frame.attrs``: delimiter, encoding, byte-order mark and decimal mark, each detected or
    given (None for Parquet or a DataFrame, which have no dialect)."""
    attrs = frame.attrs
    if "sep" not in attrs:
        return None
    detected = set(attrs.get("detected", ()))
    encoding = attrs["encoding"]
    return {"delimiter": DELIMITERS[attrs["sep"]], "delimiter_detected": "sep" in detected,
            "encoding": ENCODING_NAMES.get(encoding, encoding),
            "encoding_detected": "encoding" in detected,
            "byte_order_mark": bool(attrs.get("byte_order_mark", False)),
            "decimal_comma": attrs.get("decimal") == ","}


def fill_missing(values: pd.Series, config: ForecastingConfig) -> tuple[pd.Series, dict]:
    """Apply ``--missing`` to the value column (on its regular grid, so that inserted periods
    count): interpolate linearly, or refuse with one line naming the column, the count and the
    options. Returns the filled values and the record the report states."""
    missing = int(values.isna().sum())
    share = missing / len(values)
    policy = config.missing or "default"
    # "fill_any": --missing interpolate, which fills beyond the --max-missing tolerance.
    record = {"column": config.value, "policy": policy, "fill_any": policy == "interpolate",
              "length": len(values), "missing": missing, "share": share,
              "max_missing": config.max_missing, "interpolated": 0}
    if not missing:
        return values, record
    if policy == "error":
        raise DataError(f"column {config.value!r} has {missing} missing value(s) ({share:.1%}) "
                        f"and --missing error refuses any; fill them, or leave out --missing to "
                        f"interpolate up to --max-missing {config.max_missing:.0%}")
    if policy == "default" and share > config.max_missing:
        raise DataError(f"column {config.value!r} has {missing} missing value(s) ({share:.1%}), "
                        f"more than the --max-missing tolerance of {config.max_missing:.0%}; "
                        f"fill them, raise --max-missing, or give --missing interpolate")
    if values.notna().sum() < 2:
        raise DataError(f"column {config.value!r} has fewer than two values to interpolate "
                        f"between")
    record["interpolated"] = missing
    return values.interpolate(method="linear", limit_direction="both"), record


def load_user_series(config: ForecastingConfig) -> Series:
    """Read ``config.data`` and validate it into a regular, complete :class:`Series`.

    The file is read with ``--sep`` and ``--encoding`` or what is detected. Rows are sorted by
    ``--time`` when given; with ``--freq`` (or a frequency pandas can infer) missing periods are
    inserted. Missing values are handled by :func:`fill_missing`; text values, infinite values,
    unparseable or duplicated timestamps and a constant series are errors.
    """
    frame = read_table(config.data, sep=config.sep, encoding=config.encoding)
    name = f"{config.value} ({source_name(config.data)})"
    values = numeric_column(frame, config.value, allow_nan=True)
    if np.isinf(values.to_numpy()).any():
        raise DataError(f"column {config.value!r} has infinite values; remove or fix them")
    notes = []
    time = None
    offset = None
    if config.time:
        stamps = datetime_column(frame, config.time, time_format=config.time_format)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        duplicated = stamps.duplicated()
        if duplicated.any():
            raise DataError(f"time column {config.time!r} has {int(duplicated.sum())} duplicated "
                            f"timestamp(s), e.g. {stamps[duplicated].iloc[0]}; aggregate them "
                            f"to one row per time first")
        order = np.argsort(stamps.to_numpy(), kind="stable")
        if (np.diff(order) < 0).any():
            notes.append(f"Rows were sorted by {config.time!r}.")
        series = pd.Series(values.to_numpy()[order],
                           index=pd.DatetimeIndex(stamps.to_numpy()[order]))
        if config.freq:
            offset = parse_frequency(config.freq)
            check_grid_length(series.index, offset, config.freq)
            regular = series.asfreq(offset)
            if regular.index.size and not series.index.isin(regular.index).all():
                raise DataError(f"timestamps in {config.time!r} do not fall on the --freq "
                                f"{config.freq!r} grid; choose the frequency of the data")
            if len(regular) > len(series):
                notes.append(f"{len(regular) - len(series)} missing period(s) were inserted on "
                             f"the {config.freq} grid.")
            series = regular
        else:
            offset = _infer_offset(series.index)
            if offset is None:
                notes.append("No regular frequency could be inferred from the timestamps; the "
                             "series is treated as equally spaced in row order.")
        time = pd.DatetimeIndex(series.index)
        values = series
    values = values.reset_index(drop=True)
    interpolated = values.isna().to_numpy()
    values, missing = fill_missing(values, config)
    if config.season is not None:
        period = config.season or None
    else:
        period = period_of_offset(offset)
    return Series(key="user", name=name, values=values.to_numpy(float), time=time,
                  period=period, notes=notes,
                  interpolated=interpolated if missing["interpolated"] else None,
                  reading=reading_record(frame), missing=missing)


def load_data(config: ForecastingConfig) -> ForecastingData:
    """The series of this run: the user's file, or the built-in ``config.series``."""
    if config.data:
        series = [load_user_series(config)]
        source = f"{source_name(config.data)}, column {config.value!r}"
    else:
        series = [BUILT_IN[key](config) for key in config.series]
        if config.season is not None:
            for item in series:
                if item.truth is None:
                    item.period = config.season or None
        source = "; ".join(f"{s.name} (n={s.n:,})" for s in series)
    for item in series:
        check_not_constant(item)
    # Sized again by the pipeline; here so that a series too short for any analysis is refused
    # before the long work.
    size_backtest(config, series)
    fingerprint = fingerprint_arrays(*(s.values for s in series))
    return ForecastingData(series=series, source=source, fingerprint=fingerprint)
