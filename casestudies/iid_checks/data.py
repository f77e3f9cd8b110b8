"""Data for the IID audit: a gallery of simulated datasets whose violations are known, the default
card transactions (from the calibration study's simulator) and sunspots (shipped with
statsmodels), and the validation of a user's file into an :class:`AuditTable`.

Every problem with a user's file is a :class:`~casestudies.errors.DataError` with a one-line
message naming the column and what to do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from casestudies.errors import ConfigError, DataError
from casestudies.io import (
    DELIMITERS,
    InMemoryTable,
    datetime_column,
    fingerprint_frame,
    numeric_column,
    read_table,
)
from casestudies.rng import stream
from casestudies.tables import (
    MAX_DROPPED_SHARE,
    LabelMapping,
    MissingReport,
    binary_labels,
    encode_features,
    handle_missing,
)

# Fewest rows each check needs, in the order they are verified (the largest first); a smaller
# file is refused naming the check.
MIN_ROWS = {"BDS test": 50, "ADF test": 30, "Ljung-Box test": 20}
MIN_ROWS_PER_SIDE = 10
PREVIEW_ROWS = 5
SECONDS_PER_DAY = 86_400.0
CALENDAR_ROWS_PER_CELL = 5  # rows per calendar cell on average before flags are looked for

GALLERY = ("iid", "ar1_weak", "ar1_strong", "mean_shift", "variance_change", "grouped",
           "duplicates")
# Which assumption each simulated dataset breaks, by construction.
GALLERY_TRUTH = {
    "iid": (),
    "ar1_weak": ("independent",),
    "ar1_strong": ("independent",),
    "mean_shift": ("identically distributed",),
    "variance_change": ("identically distributed",),
    "grouped": ("independent", "no leakage"),
    "duplicates": ("no leakage",),
}
AR_COEFFICIENTS = {"ar1_weak": 0.3, "ar1_strong": 0.9}
COEFFICIENTS = np.array([1.0, -0.5, 0.5, 0.25])  # of x1..x4 in the target
SHIFT_SD = 1.0  # mean shift of x1, x2 and the target's intercept, in SDs
VARIANCE_FACTOR = 2.0  # factor applied to the SD of the features and noise
GROUP_SIZE = 10
ROW_LEVEL_FEATURES = 2  # grouped data: x1, x2 vary by row, the others are group attributes
GROUP_EFFECT_SD = 1.5  # SD of the random group effect on the target
EXACT_SHARE, NEAR_SHARE = 0.15, 0.10  # rows that copy another row, exactly or nearly
NEAR_NOISE_SD = 0.01  # noise added to a near copy
TEST_SHARE = 0.3  # chance of a row being on the test side of the random split
GALLERY_DESCRIPTION = {
    "iid": "independent standard-normal features, linear target plus noise",
    "ar1_weak": f"features and noise are AR(1) with coefficient {AR_COEFFICIENTS['ar1_weak']:g}",
    "ar1_strong": f"features and noise are AR(1) with coefficient "
                  f"{AR_COEFFICIENTS['ar1_strong']:g}",
    "mean_shift": f"at the middle row x1, x2 and the target's intercept shift by {SHIFT_SD:g} SD",
    "variance_change": f"at the middle row the SD of features and noise is multiplied by "
                       f"{VARIANCE_FACTOR:g}",
    "grouped": f"rows come in groups of {GROUP_SIZE} sharing a random effect (SD "
               f"{GROUP_EFFECT_SD:g}) on the target and {len(COEFFICIENTS) - ROW_LEVEL_FEATURES} "
               f"group-level features; groups arrive over time",
    "duplicates": f"{EXACT_SHARE:.0%} exact and {NEAR_SHARE:.0%} near copies (noise SD "
                  f"{NEAR_NOISE_SD:g}) of other rows, a random train/test split with "
                  f"{TEST_SHARE:.0%} on the test side",
}


@dataclass
class AuditTable:
    """A dataset validated for the audit, rows in time order.

    Attributes
    ----------
    name : str
        Short name shown in the report.
    frame : DataFrame
        Feature columns (and the target), rows sorted by time, index 0..n-1.
    numeric, categorical : list of str
        Feature columns by kind; ``discrete`` lists the numeric ones with few distinct values.
    target : str or None
        The column a model predicts; ``task`` is ``"classification"`` (0/1) or ``"regression"``.
    groups : ndarray or None
        Group of each row, as integer codes (``group_name`` is the column).
    is_test : ndarray of bool
        The side each row is on in the identical-distribution comparison: the test side of
        the split column, else the later half of the rows.
    comparison : str
        ``"train vs test"`` or ``"early vs late"``.
    order : str
        What orders the rows (a time column or the file's row order).
    preview : DataFrame
        The first rows of the file in time order, as read.
    split_by_column : bool
        Whether ``is_test`` comes from a split column (then the hold-out is its test side).
    notes : list of str
        Columns skipped and why.
    times : ndarray or None
        Time of each row as a number: days since the first row for dates, the time column's
        own values for numbers, the row position without a time column.
    time_unit : str
        ``"days"``, ``"time units"`` or ``"rows"``: what one unit of ``times`` is.
    calendar : list of str
        Columns that are deterministic functions of the calendar (day of week and hour):
        their order-based checks show the calendar, not dependence between rows.
    labels : LabelMapping or None
        How a two-valued target was read as 0/1.
    missing : MissingReport or None
        What the missing-value policy did to the columns used.
    declared : list of str
        Integer columns declared categorical (``--categorical``): audited and encoded as
        categories.
    dropped : list of str
        Columns left out of the features with ``--drop``.
    recorded_at : dict of str to ndarray
        For the features named with ``--recorded-at``: when each row's value was recorded, in
        the unit and origin of :attr:`times`.
    """

    name: str
    frame: pd.DataFrame
    numeric: list[str]
    discrete: list[str]
    categorical: list[str]
    target: str | None
    task: str | None
    groups: np.ndarray | None
    group_name: str | None
    is_test: np.ndarray
    comparison: str
    order: str
    preview: pd.DataFrame | None = None
    split_by_column: bool = False
    notes: list[str] = field(default_factory=list)
    times: np.ndarray | None = None
    time_unit: str = "rows"
    calendar: list[str] = field(default_factory=list)
    labels: LabelMapping | None = None
    missing: MissingReport | None = None
    declared: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    recorded_at: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def since(self, start: float) -> AuditTable:
        """The rows at or after time ``start`` (in :attr:`time_unit`), with the early/late
        halves recomputed on them (a split column keeps its sides)."""
        times = self.times if self.times is not None else np.arange(len(self.frame), dtype=float)
        keep = times >= start
        n = int(keep.sum())
        is_test = self.is_test[keep] if self.split_by_column else np.arange(n) >= n // 2
        return replace(self, frame=self.frame[keep].reset_index(drop=True),
                       groups=None if self.groups is None else self.groups[keep],
                       is_test=is_test, times=times[keep], notes=list(self.notes),
                       recorded_at={c: v[keep] for c, v in self.recorded_at.items()})

    @property
    def series_columns(self) -> list[str]:
        """Columns whose order-based checks (independence, stationarity) are run."""
        columns = list(self.numeric)
        if self.target is not None and self.task == "regression":
            columns.append(self.target)
        return columns


# How encodings are named in the report: Python's codec names are not what users call them.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "iso8859-1": "Latin-1",
                  "latin-1": "Latin-1"}


@dataclass
class FileReading:
    """How a user's table was read.

    Attributes
    ----------
    kind : str
        ``"text"`` (delimited), ``"Parquet"`` or ``"DataFrame"`` (given from Python).
    delimiter : str or None
        For text: ``"comma"``, ``"semicolon"``, ``"tab"`` or ``"pipe"``.
    encoding : str or None
        For text: the codec that decoded it (``"utf-8-sig"`` reads UTF-8 with or without a
        byte-order mark, ``"latin-1"`` any byte).
    byte_order_mark : bool
        Whether the file starts with a UTF-8 byte-order mark.
    decimal : str or None
        For text: the decimal mark, ``"."`` or ``","``.
    detected : list of str
        Which of ``"sep"``, ``"encoding"`` and ``"decimal"`` were detected rather than given.
    """

    kind: str
    delimiter: str | None = None
    encoding: str | None = None
    byte_order_mark: bool = False
    decimal: str | None = None
    detected: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One sentence for the report's data section."""
        if self.kind == "DataFrame":
            return "The table was given as a DataFrame, so there was no file format to detect."
        if self.kind == "Parquet":
            return "The table was read from Parquet, which stores its columns' types."
        encoding = ENCODING_NAMES.get(str(self.encoding), str(self.encoding))
        mark = ", after a UTF-8 byte-order mark" if self.byte_order_mark else ""
        decimals = ", with decimal commas" if self.decimal == "," else ""
        settings = {"sep": ("delimiter", "--sep"), "encoding": ("encoding", "--encoding"),
                    "decimal": ("decimal mark", "")}
        found = [name for key, (name, _) in settings.items() if key in self.detected]
        given = [flag for key, (_, flag) in settings.items()
                 if flag and key not in self.detected]
        how = []
        if found:
            how.append(f"the {_listing(found)} {'were' if len(found) > 1 else 'was'} detected")
        if given:
            how.append(f"{_listing(given)} {'were' if len(given) > 1 else 'was'} given")
        return (f"The file was read as {self.delimiter}-separated text in {encoding}{mark}"
                f"{decimals}; {' and '.join(how)}.")


def _listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def file_reading(source, frame: pd.DataFrame) -> FileReading:
    """What :func:`~casestudies.io.read_table` recorded in ``frame.attrs`` about ``source``."""
    if isinstance(source, InMemoryTable):
        return FileReading("DataFrame")
    if "sep" not in frame.attrs:
        return FileReading("Parquet")
    return FileReading("text", delimiter=DELIMITERS[frame.attrs["sep"]],
                       encoding=frame.attrs["encoding"],
                       byte_order_mark=bool(frame.attrs.get("byte_order_mark", False)),
                       decimal=frame.attrs["decimal"], detected=list(frame.attrs["detected"]))


@dataclass
class IIDData:
    """What :func:`load_data` returns: the table to audit and, by default, a real series."""

    table: AuditTable
    source: str
    fingerprint: str
    reading: FileReading | None = None  # how the user's file was read
    real_series: AuditTable | None = None
    real_series_span: str | None = None  # first and last year of the real series
    islp: list = field(default_factory=list)  # (AuditTable, description) of the ISLP datasets


# --------------------------------------------------------------------------------------------
# The known-truth gallery


def _ar1(rng: np.random.Generator, n: int, columns: int, phi: float) -> np.ndarray:
    """``columns`` independent AR(1) series with coefficient ``phi`` and unit marginal variance,
    started from the stationary distribution."""
    shocks = rng.normal(size=(n, columns)) * np.sqrt(1 - phi**2)
    out = np.empty((n, columns))
    out[0] = rng.normal(size=columns)
    for t in range(1, n):  # a recursion: each row depends on the previous one
        out[t] = phi * out[t - 1] + shocks[t]
    return out


def simulate_gallery(kind: str, n: int = 600, random_state: int | None = 0) -> pd.DataFrame:
    """One dataset of the known-truth gallery.

    Every dataset has a time index ``t``, four features ``x1..x4`` and a target
    ``y = 1 x1 - 0.5 x2 + 0.5 x3 + 0.25 x4 + noise`` with unit noise variance; the violation of
    ``kind`` is described in :data:`GALLERY_DESCRIPTION`.

    Parameters
    ----------
    kind : str
        One of :data:`GALLERY`.
    n : int, default 600
        Rows.
    random_state : int or None, default 0
        Seed.

    Returns
    -------
    DataFrame
        Columns ``t, x1..x4, y``, plus ``group`` for ``"grouped"`` and ``split`` (train/test)
        for ``"duplicates"``.
    """
    if kind not in GALLERY:
        raise ValueError(f"unknown gallery dataset {kind!r}; choose one of {GALLERY}")
    # Each gallery dataset has its own stream: adding one never changes the others.
    rng = stream(random_state or 0, "iid_checks", "gallery", kind)
    p = len(COEFFICIENTS)
    extra: dict[str, np.ndarray] = {}
    if kind in AR_COEFFICIENTS:
        phi = AR_COEFFICIENTS[kind]
        features = _ar1(rng, n, p, phi)
        noise = _ar1(rng, n, 1, phi)[:, 0]
        y = features @ COEFFICIENTS + noise
    elif kind in ("mean_shift", "variance_change"):
        features = rng.normal(size=(n, p))
        noise = rng.normal(size=n)
        late = np.arange(n) >= n // 2
        if kind == "mean_shift":
            features[late, :2] += SHIFT_SD
            y = features @ COEFFICIENTS + noise + SHIFT_SD * late
        else:
            features[late] *= VARIANCE_FACTOR
            noise[late] *= VARIANCE_FACTOR
            y = features @ COEFFICIENTS + noise
    elif kind == "grouped":
        n_groups = max(n // GROUP_SIZE, 2)
        # Groups arrive over time, each active for a few groups' spans (customers who join and
        # stay a while), so that the latest rows belong mostly to groups not seen before.
        arrival = np.arange(n) % n_groups + rng.uniform(0, 3, n)
        group = (np.arange(n) % n_groups)[np.argsort(arrival, kind="stable")]
        # x1, x2 vary by row; x3, x4 are attributes of the group (constant within it), which
        # lets a model recognise a group it has seen and memorise its effect.
        features = rng.normal(size=(n, p))
        features[:, ROW_LEVEL_FEATURES:] = rng.normal(
            size=(n_groups, p - ROW_LEVEL_FEATURES))[group]
        y = (features @ COEFFICIENTS + rng.normal(size=n)
             + GROUP_EFFECT_SD * rng.normal(size=n_groups)[group])
        extra["group"] = group
    elif kind == "duplicates":
        n_exact, n_near = int(EXACT_SHARE * n), int(NEAR_SHARE * n)
        n_fresh = n - n_exact - n_near
        fresh = rng.normal(size=(n_fresh, p))
        y_fresh = fresh @ COEFFICIENTS + rng.normal(size=n_fresh)
        exact = rng.integers(0, n_fresh, n_exact)
        near = rng.integers(0, n_fresh, n_near)
        features = np.vstack([fresh, fresh[exact],
                              fresh[near] + NEAR_NOISE_SD * rng.normal(size=(n_near, p))])
        y = np.concatenate([y_fresh, y_fresh[exact],
                            y_fresh[near] + NEAR_NOISE_SD * rng.normal(size=n_near)])
        order = rng.permutation(n)
        features, y = features[order], y[order]
        extra["split"] = np.where(rng.random(n) < TEST_SHARE, "test", "train")
    else:  # "iid"
        features = rng.normal(size=(n, p))
        y = features @ COEFFICIENTS + rng.normal(size=n)
    frame = pd.DataFrame(features, columns=[f"x{j + 1}" for j in range(p)])
    frame.insert(0, "t", np.arange(n))
    frame["y"] = y
    for name, values in extra.items():
        frame[name] = values
    return frame


def gallery_table(kind: str, n: int, random_state: int | None, max_levels: int = 10
                  ) -> AuditTable:
    """A gallery dataset prepared for the audit (roles set as the simulation defines them)."""
    frame = simulate_gallery(kind, n, random_state)
    return prepare_table(
        frame, name=kind, target="y", time="t",
        group="group" if "group" in frame else None,
        split="split" if "split" in frame else None, max_levels=max_levels,
    )


# --------------------------------------------------------------------------------------------
# Default data: simulated transactions and sunspots


TRANSACTION_ROLES = {"target": "is_fraud", "time": "timestamp", "group": "customer_id"}


def transaction_windows() -> tuple[float, float]:
    """The longest look-back window of the simulated fraud features and their label delay, in
    days, as the calibration study's feature code defines them."""
    import inspect

    from casestudies.calibration.data import WINDOWS_DAYS, add_features

    delay = inspect.signature(add_features).parameters["label_delay_days"].default
    return float(max(WINDOWS_DAYS)), float(delay)


def load_transactions(n_customers: int, n_terminals: int, n_days: int,
                      random_state: int | None) -> pd.DataFrame:
    """Card transactions and their fraud-team features from the calibration study's simulator."""
    from casestudies.calibration.data import add_features, feature_columns, simulate_transactions

    transactions = simulate_transactions(n_customers=n_customers, n_terminals=n_terminals,
                                         n_days=n_days, random_state=random_state)
    features = add_features(transactions)
    return features[["timestamp", "customer_id", *feature_columns(), "is_fraud"]]


def load_sunspots() -> pd.DataFrame:
    """Yearly sunspot numbers 1700-2008 (Wolf/Zurich series, shipped with statsmodels)."""
    import statsmodels.api as sm

    frame = sm.datasets.sunspots.load_pandas().data
    return pd.DataFrame({"year": frame["YEAR"].astype(int), "sunspots": frame["SUNACTIVITY"]})


ISLP_DATASETS = ("NYSE", "Bikeshare")


def load_islp() -> list[tuple[AuditTable, str]]:
    """The daily NYSE series (1962-1986) and the hourly Bikeshare counts that ship with the
    ISLP package, prepared for the audit, each with a one-line description; an empty list when
    ISLP is not installed.

    NYSE: ``log_volume`` (the series ISLP's lab forecasts, detrended there) is the target,
    ``DJ_return`` and ``log_volatility`` the features, the trading day orders the rows and
    ``day_of_week`` is a calendar column. Bikeshare: ``bikers`` is the target, the weather and
    calendar columns the features, and hours since the first row order the rows; ``casual``
    and ``registered`` are left out, because they add up to the target.
    """
    try:
        from ISLP import load_data as islp_data
    except ImportError:
        return []
    nyse = islp_data("NYSE").reset_index()
    nyse = nyse[["date", "DJ_return", "log_volatility", "day_of_week", "log_volume"]]
    nyse = nyse.assign(day_of_week=nyse["day_of_week"].astype(str))
    bikes = islp_data("Bikeshare")
    bikes = bikes.assign(hour_index=(bikes["day"].astype(int) - 1) * 24 + bikes["hr"].astype(int),
                         mnth=bikes["mnth"].astype(str), weathersit=bikes["weathersit"].astype(str))
    bikes = bikes[["hour_index", "temp", "atemp", "hum", "windspeed", "weathersit", "hr",
                   "workingday", "holiday", "weekday", "mnth", "bikers"]]
    span = f"{pd.Timestamp(nyse['date'].iloc[0]).year}-{pd.Timestamp(nyse['date'].iloc[-1]).year}"
    return [
        (prepare_table(nyse, name="NYSE", target="log_volume", time="date"),
         f"daily NYSE trading, {span} ({len(nyse):,} days, ISLP)"),
        (prepare_table(bikes, name="Bikeshare", target="bikers", time="hour_index"),
         f"hourly bike-share counts ({len(bikes):,} hours, ISLP)"),
    ]


def load_data(config) -> IIDData:
    """The data of a run: the user's file if ``config.data`` is set, else the defaults."""
    if config.data is not None:
        frame = read_table(config.data, sep=config.sep, encoding=config.encoding)
        reading = file_reading(config.data, frame)
        name = str(config.data).replace("\\", "/").rsplit("/", 1)[-1]
        table = prepare_table(frame, name=name, target=config.target, time=config.time,
                              group=config.group, split=config.split, columns=config.columns,
                              max_levels=config.max_levels, time_format=config.time_format,
                              max_columns=config.max_columns, drop=config.drop,
                              categorical=config.categorical, positive=config.positive,
                              missing=config.missing, recorded_at=config.recorded_pairs)
        return IIDData(table=table, source=f"{name} ({len(frame):,} rows, "
                                           f"{frame.shape[1]} columns)",
                       fingerprint=fingerprint_frame(frame), reading=reading)
    frame = load_transactions(config.n_customers, config.n_terminals, config.n_days, config.seed)
    table = prepare_table(frame, name="transactions", max_levels=config.max_levels,
                          **TRANSACTION_ROLES)
    sunspots = load_sunspots()
    series = prepare_table(sunspots, name="sunspots", time="year", max_levels=config.max_levels)
    span = f"{sunspots['year'].min()}-{sunspots['year'].max()}"
    islp = load_islp()
    digest = hashlib.sha256("".join([fingerprint_frame(frame), fingerprint_frame(sunspots)]
                                    + [fingerprint_frame(t.frame) for t, _ in islp]).encode())
    source = (f"simulated card transactions ({config.n_customers:,} customers, {config.n_days} "
              f"days, {len(frame):,} rows, seed {config.seed}), yearly sunspots {span} "
              f"(statsmodels)" + "".join(f"; {description}" for _, description in islp))
    return IIDData(table=table, source=source, fingerprint=digest.hexdigest(),
                   real_series=series, real_series_span=span, islp=islp)


# --------------------------------------------------------------------------------------------
# Validation of a table into the audit's shape


def _time_order(frame: pd.DataFrame, time: str, time_format: str | None = None) -> np.ndarray:
    """Values of the time column that sort: numbers, or parsed dates (DataError otherwise)."""
    raw = frame[time]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = numeric_column(frame, time)
        return values.to_numpy()
    parsed = datetime_column(frame, time, time_format=time_format)
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise DataError(f"time column {time!r} mixes time zones or formats and cannot be sorted; "
                        f"convert it to one time zone first")
    return parsed.to_numpy()


def _is_mixed(raw: pd.Series) -> str | None:
    """The first non-numeric value of a text column whose other values are numbers, else None."""
    present = raw.dropna()
    as_number = pd.to_numeric(present, errors="coerce")
    numeric = as_number.notna()
    if numeric.any() and not numeric.all():
        return str(present[~numeric].iloc[0])
    return None


def _codes(raw: pd.Series, column: str) -> pd.Series:
    """A column declared categorical as text levels, missing values kept: whole numbers are
    written without a decimal part (``3.0``, read from a file with gaps, is the code ``3``), so
    that a missing code is imputed with the most frequent code rather than a median."""
    if pd.api.types.is_bool_dtype(raw) or not pd.api.types.is_numeric_dtype(raw):
        return raw
    values = raw.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(values)
    whole = np.isfinite(values[present]) & (values[present] == np.round(values[present]))
    if not whole.all():
        raise DataError(f"--categorical: column {column!r} holds numbers that are not whole "
                        f"(e.g. {values[present][~whole][0]:g}), so they are not codes; leave "
                        f"it out of --categorical")
    codes = pd.Series(None, index=raw.index, dtype=object)
    codes[present] = values[present].astype(np.int64).astype(str)
    return codes


def _classify_column(frame: pd.DataFrame, column: str, declared: bool = False
                     ) -> tuple[str, pd.Series | None]:
    """Kind of a feature column ("numeric", "categorical", "constant", "identifier") and its
    cleaned values; a ``declared`` categorical column is categorical whatever its type.
    Missing values were handled before (:func:`apply_missing`)."""
    raw = frame[column]
    if raw.nunique() <= 1:
        return "constant", None
    if declared:
        return "categorical", raw.astype(str)
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        values = numeric_column(frame, column)
        if pd.api.types.is_integer_dtype(raw) and raw.is_unique:
            return "identifier", None
        return "numeric", values
    if pd.api.types.is_datetime64_any_dtype(raw):
        return "date", None
    mixed = _is_mixed(raw)
    if mixed is not None:
        raise DataError(f"column {column!r} mixes numbers and text (e.g. {mixed[:30]!r}); clean "
                        f"it or leave it out with --columns")
    if pd.to_numeric(raw, errors="coerce").notna().all():
        return "numeric", numeric_column(frame, column)
    if raw.is_unique:
        return "identifier", None
    return "categorical", raw.astype(str)


def _target(frame: pd.DataFrame, target: str, positive: str | None = None
            ) -> tuple[pd.Series, str, LabelMapping | None]:
    """The target's values, the task, and for a two-valued target how it was read as 0/1.

    Two values make a classification target, read by :func:`~casestudies.tables.binary_labels`
    (0/1, booleans, the usual pairs such as yes/no, or ``--positive``); more than two numbers
    a regression target.
    """
    raw = frame[target]
    levels = raw.nunique()
    if levels < 2:
        raise DataError(f"target column {target!r} is constant; nothing to predict")
    if levels == 2 or positive is not None:
        labels, mapping = binary_labels(raw, target, positive)
        return pd.Series(labels, index=frame.index, name=target), "classification", mapping
    if _is_mixed(raw) is not None or not pd.to_numeric(raw, errors="coerce").notna().all():
        raise DataError(f"target column {target!r} must be two-valued or numeric, but it has "
                        f"{levels} text values; recode it")
    return numeric_column(frame, target), "regression", None


# Role options whose values are never imputed: an invented time, group, split side or target
# would be analysed as if it had been observed.
ROLE_FLAGS = ("--target", "--time", "--group", "--split")


def apply_missing(frame: pd.DataFrame, roles: dict[str, str | None], features: list[str],
                  policy: str | None = None) -> tuple[pd.DataFrame, MissingReport]:
    """Apply the ``--missing`` policy to the role and feature columns, before any other check.

    The policy is :func:`~casestudies.tables.handle_missing`'s, except that the role columns
    (target, time, group, split) are never imputed: with ``impute``, a missing role value is an
    error asking for ``--missing drop``; with ``error``, and without a policy when more than
    :data:`~casestudies.tables.MAX_DROPPED_SHARE` of the rows would be dropped, the error offers
    ``drop`` only when a role column is among those with gaps.

    Parameters
    ----------
    frame : DataFrame
        The user's table.
    roles : dict of str to str or None
        Role option (``"--target"`` ...) to its column.
    features : list of str
        The candidate feature columns.
    policy : {None, "error", "drop", "impute"}

    Returns
    -------
    frame : DataFrame
        The rows kept (or the cells filled), index 0..n-1.
    report : MissingReport
    """
    role_columns = {flag: column for flag, column in roles.items() if column is not None}
    named = {column: f"{flag} {column!r}" for flag, column in role_columns.items()}
    named |= {column: repr(column) for column in features if column not in named}
    gaps = {column: int(frame[column].isna().sum()) for column in named}
    gaps = {column: count for column, count in gaps.items() if count}
    if any(column in gaps for column in role_columns.values()):
        rows = len(frame)
        listing = ", ".join(f"{named[column]} ({count:,} of {rows:,})"
                            for column, count in gaps.items())
        if policy == "impute":
            raise DataError(f"missing values in {listing}: --missing impute fills feature "
                            f"columns only, because an imputed time, group, split side or target "
                            f"would be invented data; use --missing drop to drop those rows")
        if policy == "error":
            raise DataError(f"missing values in {listing}; use --missing drop (a time, group, "
                            f"split side or target is never imputed), or fill them in the file")
        share = float(frame[list(gaps)].isna().any(axis=1).mean())
        if policy is None and share > MAX_DROPPED_SHARE:
            raise DataError(f"{share:.0%} of rows have a missing value (in {listing}), more than "
                            f"the {MAX_DROPPED_SHARE:.0%} dropped by default; use --missing drop "
                            f"(a time, group, split side or target is never imputed)")
    if policy == "impute":
        kept, report = handle_missing(frame, features, policy)
    else:
        kept, report = handle_missing(frame, [*role_columns.values(), *features], policy)
    return kept, report


def _split_side(frame: pd.DataFrame, split: str) -> np.ndarray:
    raw = frame[split]
    levels = sorted(pd.unique(raw), key=str)
    if len(levels) != 2:
        shown = ", ".join(repr(str(v)) for v in levels[:5])
        raise DataError(f"split column {split!r} must have exactly two values (train and test), "
                        f"found {len(levels)}: {shown}")
    named = [v for v in levels if str(v).lower() in ("test", "holdout", "valid", "validation")]
    test_value = named[0] if named else levels[1]
    return (raw == test_value).to_numpy()


def prepare_table(frame: pd.DataFrame, *, name: str, target: str | None = None,
                  time: str | None = None, group: str | None = None, split: str | None = None,
                  columns: tuple[str, ...] | None = None, max_levels: int = 10,
                  time_format: str | None = None, max_columns: int = 100,
                  drop: tuple[str, ...] = (), categorical: tuple[str, ...] = (),
                  positive: str | None = None, missing: str | None = None,
                  recorded_at: dict[str, str] | None = None) -> AuditTable:
    """Validate ``frame`` and put it in the audit's shape.

    The missing-value policy (:func:`apply_missing`) comes first, on the role columns and the
    candidate features only. Rows are then sorted by ``time`` (stably; without it the row order
    is kept). Feature columns are ``columns`` or every column without a role, less ``drop``;
    constant columns and identifiers (all values distinct integers or text) are skipped with a
    note, and so are columns the models cannot use (see
    :func:`~casestudies.tables.encode_features`).

    Raises
    ------
    DataError
        Unknown column names, missing values the policy does not allow, a time column that does
        not parse or sort, a column mixing numbers and text, a target that is neither two-valued
        nor numeric (or two values that are not a recognised pair, without ``positive``), a split
        column without exactly two values, too few rows for a check or on a side.
    ConfigError
        ``categorical`` or ``recorded_at`` names a column that is not a feature, or
        ``positive`` is not a value of the target.
    """
    roles = {"--target": target, "--time": time, "--group": group, "--split": split}
    recorded_at = dict(recorded_at or {})
    _check_names(frame, name, roles, columns, drop, categorical)
    _check_recorded_names(frame, name, recorded_at, roles)
    # A recording-time column describes a feature; it is never a feature itself.
    role_columns = {c for c in [*roles.values(), *recorded_at.values()] if c is not None}
    candidates = list(columns) if columns is not None else [
        c for c in frame.columns if c not in role_columns]
    candidates = [c for c in candidates if c not in role_columns and c not in drop]
    notes = []
    if len(candidates) > max_columns:
        # Every column costs a dozen tests and a share of the multiple-testing budget: a wide
        # table is audited on its first columns, and says so.
        notes.append(f"{len(candidates):,} feature columns: the first {max_columns} in file order "
                     f"were audited and modelled (--max-columns); name others with --columns")
        candidates = candidates[:max_columns]
    outside = [c for c in categorical if c not in candidates]
    if outside:
        raise ConfigError(f"--categorical names {outside[0]!r}, which is not among the feature "
                          f"columns audited; add it to --columns or leave it out")
    empty = [c for c in candidates if frame[c].isna().all()]
    notes += [f"{column!r} has no values at all and was skipped" for column in empty]
    candidates = [c for c in candidates if c not in empty]
    frame = frame.assign(**{c: _codes(frame[c], c) for c in categorical if c in candidates})
    rows_read = len(frame)
    frame, missing_report = apply_missing(
        frame, roles | {f"--recorded-at {feature}": column
                        for feature, column in recorded_at.items()}, candidates, missing)
    n = len(frame)
    after = (f" after dropping {rows_read - n:,} rows with a missing value" if n < rows_read
             else "")
    for check, needed in MIN_ROWS.items():
        if n < needed:
            raise DataError(f"too few rows in {name}{after}: the {check} needs at least {needed} "
                            f"rows, the data has {n}")
    order_note = "the file's row order"
    times, time_unit, stamps = np.arange(n, dtype=float), "rows", None
    if time is not None:
        values = _time_order(frame, time, time_format)
        order = np.argsort(values, kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        values = values[order]
        order_note = f"the time column {time!r}"
        if np.issubdtype(values.dtype, np.datetime64):
            stamps = pd.DatetimeIndex(values)
            times = ((values - values[0]) / np.timedelta64(1, "s")).astype(float) / SECONDS_PER_DAY
            time_unit = "days"
        else:
            times, time_unit = values.astype(float), "time units"
    else:
        frame = frame.reset_index(drop=True)

    numeric, categorical_kept, discrete = [], [], []
    kept = {}
    for column in candidates:
        kind, values = _classify_column(frame, column, declared=column in categorical)
        if kind == "identifier" and columns is not None and pd.api.types.is_numeric_dtype(
                frame[column]):
            # Named with --columns: an integer column with distinct values is a feature after all.
            kind, values = "numeric", numeric_column(frame, column)
        if kind == "constant":
            notes.append(f"{column!r} is constant and was skipped")
        elif kind == "date":
            notes.append(f"{column!r} holds dates and was skipped (give it as --time to order "
                         f"the rows)")
        elif kind == "identifier":
            notes.append(f"{column!r} looks like an identifier (every value distinct) and was "
                         f"skipped; name it with --columns to audit it")
        else:
            kept[column] = values
            if kind == "numeric":
                numeric.append(column)
                if values.nunique() <= max_levels:
                    discrete.append(column)
            else:
                categorical_kept.append(column)
    unknown = [f for f in recorded_at if f not in numeric and f not in categorical_kept]
    if unknown:
        raise ConfigError(f"--recorded-at names {unknown[0]!r}, which is not among the feature "
                          f"columns audited (it is skipped, or not a feature); leave it out")
    recorded = {feature: _recorded_times(frame, feature, column, time, stamps)
                for feature, column in recorded_at.items()}
    task, labels = None, None
    if target is not None:
        kept[target], task, labels = _target(frame, target, positive)
    if not numeric and not categorical_kept:
        raise DataError(f"{name} has no usable feature column (all are constant, identifiers or "
                        f"roles); name them with --columns")
    groups = None
    if group is not None:
        groups = pd.factorize(frame[group])[0]
    if split is not None:
        is_test = _split_side(frame, split)
        comparison = "train vs test"
    else:
        is_test = np.arange(n) >= n // 2
        comparison = "early vs late"
    for side, count in (("train", int((~is_test).sum())), ("test", int(is_test.sum()))):
        if count < MIN_ROWS_PER_SIDE:
            raise DataError(f"too few rows on the {side} side of the split: the two-sample tests "
                            f"need at least {MIN_ROWS_PER_SIDE}, found {count}")
    table = pd.DataFrame(kept)
    declared = [c for c in categorical if c in categorical_kept]
    # The models' features: checked here, so that a table whose every feature is an identifier
    # stops before the long work rather than in the middle of it.
    _, encoding = encode_features(table, numeric + categorical_kept, declared)
    if encoding.identifiers:
        notes.append(f"{', '.join(map(repr, encoding.identifiers))} nearly always differ from "
                     f"row to row, like identifiers: audited, but left out of the models' "
                     f"features")
    calendar = calendar_columns(table, [c for c in numeric + categorical_kept], stamps)
    return AuditTable(
        name=name, frame=table, numeric=numeric, discrete=discrete,
        categorical=categorical_kept, target=target, task=task, groups=groups, group_name=group,
        is_test=is_test, comparison=comparison, order=order_note,
        preview=frame.head(PREVIEW_ROWS), split_by_column=split is not None, notes=notes,
        times=times, time_unit=time_unit, calendar=calendar, labels=labels,
        missing=missing_report, declared=declared, dropped=list(drop), recorded_at=recorded,
    )


def _check_recorded_names(frame: pd.DataFrame, name: str, recorded_at: dict[str, str],
                          roles: dict[str, str | None]) -> None:
    """Raise :class:`DataError` when a ``--recorded-at`` feature or time column is not in
    ``frame``, or the time column is a role column other than ``--time``; ConfigError without
    a ``--time`` column to compare with."""
    if recorded_at and roles["--time"] is None:
        raise ConfigError("--recorded-at compares recording times with each row's prediction "
                          "moment: add --time COL")
    available = ", ".join(map(repr, frame.columns[:12]))
    for feature, column in recorded_at.items():
        for kind, named in (("feature", feature), ("time column", column)):
            if named not in frame.columns:
                raise DataError(f"--recorded-at {kind} {named!r} not found in {name}; available "
                                f"columns: {available}")
        clash = [flag for flag, role in roles.items() if role == column and flag != "--time"]
        if clash:
            raise DataError(f"--recorded-at {feature}={column}: {column!r} is the {clash[0]} "
                            f"column, not a recording time")


def _recorded_times(frame: pd.DataFrame, feature: str, column: str, time: str,
                    stamps: pd.DatetimeIndex | None) -> np.ndarray:
    """When each row's value of ``feature`` was recorded (``frame[column]``, rows already in
    time order), in the unit and origin of the table's times: days since the first row when
    ``--time`` holds dates, the column's own numbers when it holds numbers.

    Raises
    ------
    DataError
        The column is not a time of the same kind as ``--time`` (dates for dates, numbers for
        numbers).
    """
    raw = frame[column]
    numbers = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    prefix = f"--recorded-at {feature}={column}:"
    if stamps is None:
        if not numbers:
            raise DataError(f"{prefix} {column!r} must hold numbers like the --time column "
                            f"{time!r}, e.g. {str(raw.iloc[0])[:40]!r} is not one")
        return numeric_column(frame, column).to_numpy(dtype=float)
    if numbers:
        raise DataError(f"{prefix} {column!r} holds numbers, but the --time column {time!r} "
                        f"holds dates; give dates such as 2024-01-31 13:45")
    try:
        recorded = pd.DatetimeIndex(datetime_column(frame, column))
        seconds = (recorded - stamps[0]).total_seconds().to_numpy(dtype=float)
    except DataError as error:
        raise DataError(f"{prefix} {error}") from None
    except (TypeError, ValueError):
        raise DataError(f"{prefix} {column!r} and the --time column {time!r} cannot be "
                        f"compared (one has a time zone, the other not)") from None
    return seconds / SECONDS_PER_DAY


def _check_names(frame: pd.DataFrame, name: str, roles: dict[str, str | None],
                 columns: tuple[str, ...] | None, drop: tuple[str, ...],
                 categorical: tuple[str, ...]) -> None:
    """Raise :class:`DataError` naming the first option that names a column not in ``frame``."""
    available = ", ".join(map(repr, frame.columns[:12]))
    for option, column in roles.items():
        if column is not None and column not in frame.columns:
            raise DataError(f"{option} column {column!r} not found in {name}; available "
                            f"columns: {available}")
    for option, names in (("--columns", columns or ()), ("--drop", drop),
                          ("--categorical", categorical)):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"{option}: column {', '.join(map(repr, missing))} not found in "
                            f"{name}; available columns: {available}")


def calendar_columns(frame: pd.DataFrame, columns: list[str],
                     stamps: pd.DatetimeIndex | None) -> list[str]:
    """Columns that are deterministic functions of the calendar: constant within every
    (day of week, hour) cell of the timestamps (``is_weekend``, ``is_night``).

    Such a column is not a random draw per row: its autocorrelation and its early/late
    difference are the calendar's, so the audit reports them as context and keeps them out of
    its verdicts. Checked only with dates and when the cells hold :data:`CALENDAR_ROWS_PER_CELL`
    rows on average, so that a column is not constant within its cells by chance.
    """
    if stamps is None:
        return []
    cells = pd.Series(stamps.day_of_week * 100 + stamps.hour)
    occupied = cells.nunique()
    if len(frame) < CALENDAR_ROWS_PER_CELL * occupied:
        return []
    found = []
    for column in columns:
        if frame[column].nunique() < 2:
            continue
        per_cell = frame[column].groupby(cells.to_numpy()).nunique()
        if int(per_cell.max()) == 1:
            found.append(column)
    return found
