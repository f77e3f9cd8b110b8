"""The study's data: a customer simulator with known segments, scikit-learn's digits, or a
user's customer table, all turned into one standardised feature matrix by :func:`prepare_features`.

The true segment is kept beside the features for evaluation only; it never enters a feature.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from casestudies.clustering import small_data
from casestudies.clustering.config import ClusteringConfig
from casestudies.errors import ConfigError, DataError
from casestudies.io import (
    DELIMITERS,
    fingerprint_arrays,
    fingerprint_frame,
    read_table,
    require_columns,
    source_name,
)
from casestudies.tables import MAX_DROPPED_SHARE, MissingReport, handle_missing, is_identifier

CATEGORIES = ("groceries", "fashion", "electronics", "home", "beauty", "sports", "toys_baby",
              "garden", "books", "pets")
CHANNELS = ("web", "app", "store")
DEVICES = ("mobile", "desktop", "tablet")
TIERS = ("none", "silver", "gold")
REGIONS = ("north", "south", "east", "west")
LIFE_STAGE = "life-stage families"
N_NOISE_COLUMNS = 4
SKEW_THRESHOLD = 1.0  # sample skewness above which a non-negative column is log-transformed
MAX_LEVELS = 50  # categorical columns with more levels are dropped rather than one-hot encoded
WEIGHTINGS = ("equal", "standardised")
"""How one-hot blocks are weighed in distances (see :func:`prepare_features`): ``"equal"`` gives
every original column the same share of the squared distance, ``"standardised"`` standardises
every indicator column on its own (a column of L levels then weighs about L numeric columns)."""


@dataclass(frozen=True)
class Segment:
    """One simulated customer segment: its share of customers, its spread and its habits.

    Location parameters are on the log scale for counts and amounts and on the logit scale for
    probabilities; every per-customer deviation is multiplied by ``spread``.
    """

    name: str
    share: float
    spread: float
    log_recency: float
    log_orders: float
    log_order_value: float
    tenure_months: float
    age: float
    household: float
    category_logit: tuple[float, ...]  # probability of buying in each of CATEGORIES
    category_weight: tuple[float, ...]  # log weight of each category in the basket
    channel_logit: tuple[float, float, float]
    device_p: tuple[float, float, float]
    tier_p: tuple[float, float, float]


SEGMENTS = (
    Segment("bargain hunters", 0.30, 1.0, np.log(12), np.log(24), np.log(25), 24, 45, 1.0,
            (3, -0.5, -1, 0, 0.5, -1, -1, -1, -0.5, 0.5), (1.5, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            (0.0, -1.0, 1.0), (0.5, 0.3, 0.2), (0.8, 0.15, 0.05)),
    Segment("premium loyalists", 0.10, 0.4, np.log(7), np.log(18), np.log(180), 60, 52, 1.5,
            (1, 2.5, 2, 2, 2, 1, -2, 0.5, 1.5, -1), (0, 1, 1.2, 1, 0.8, 0.5, 0, 0, 0, 0),
            (1.0, 0.5, 0.5), (0.3, 0.5, 0.2), (0.1, 0.3, 0.6)),
    Segment("lapsed", 0.22, 1.8, np.log(200), np.log(2), np.log(50), 30, 40, 1.0,
            (0, -1, -1.5, -1.5, -1, -1.5, -2, -2, -1, -1.5), (0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            (0.5, -1.0, 0.5), (0.4, 0.4, 0.2), (0.9, 0.08, 0.02)),
    Segment("digital natives", 0.18, 0.8, np.log(9), np.log(14), np.log(60), 10, 27, 0.5,
            (0.5, 2, 2.5, -1, 1.5, 1.5, -2, -3, 0, -1), (0, 1, 1.5, 0, 0.5, 0.5, 0, 0, 0, 0),
            (0.0, 2.0, -1.5), (0.85, 0.1, 0.05), (0.6, 0.35, 0.05)),
    Segment(LIFE_STAGE, 0.20, 0.6, np.log(15), np.log(12), np.log(70), 0, 0, 0,
            (2, 0, 0, 0, 0, 0, 0, 0, 0, 0), (1, 0, 0, 1, 0, 0, 1, 1, 0, 0),
            (0.5, 0.5, 0.5), (0.5, 0.3, 0.2), (0.5, 0.35, 0.15)),
)


@dataclass
class ClusteringData:
    """Features ready for PCA and t-SNE, plus what the report says about where they came from.

    Attributes
    ----------
    source : str
        Human description of the data.
    fingerprint : str
        SHA-256 of the raw table (or arrays).
    kind : str
        ``"customers"``, ``"digits"`` or ``"user"``.
    table : DataFrame
        The raw table as read or simulated (the report previews its first rows).
    features : ndarray of shape (n, p)
        Standardised features (mean 0, standard deviation 1 per column).
    unscaled : ndarray of shape (n, p)
        The same features before standardisation (after logs and one-hot encoding).
    feature_names : list of str
    labels : ndarray of str or None
        Known segment of each row, for evaluation only.
    label_name : str or None
    life_stage : ndarray or None
        Position of each life-stage customer along the trajectory (NaN for other segments);
        simulator only, for evaluation.
    preprocessing : Preprocessing
        What was transformed, encoded or dropped.
    groups : ndarray or None
        Rows that share attributes by construction (Caravan customers of the same postcode
        profile): the segment accuracy keeps each group in one cross-validation fold.
    group_note : str or None
        What the groups are, for the report.
    duplicates_dropped : int
        Exact duplicate rows removed before the analysis.
    companion : ClusteringData or None
        The real customers scored beside the simulated ones in the default report.
    companion_note : str or None
        Why the companion is missing (ISLP not installed), for the report.
    reading : TableReading or None
        How a user's table was read and cleaned (None for the built-in data).
    """

    source: str
    fingerprint: str
    kind: str
    table: pd.DataFrame
    features: np.ndarray
    unscaled: np.ndarray
    feature_names: list[str]
    labels: np.ndarray | None
    label_name: str | None
    life_stage: np.ndarray | None
    preprocessing: Preprocessing
    groups: np.ndarray | None = None
    group_note: str | None = None
    duplicates_dropped: int = 0
    companion: ClusteringData | None = None
    companion_note: str | None = None
    reading: TableReading | None = None

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])


@dataclass
class Preprocessing:
    """The record of :func:`prepare_features`: which columns became which features and why."""

    numeric: list[str] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)
    one_hot: dict[str, int] = field(default_factory=dict)  # column -> number of levels
    missing_as_level: list[str] = field(default_factory=list)
    dropped_constant: list[str] = field(default_factory=list)
    dropped_many_levels: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # id, label, --drop, not in --columns
    identifiers: list[str] = field(default_factory=list)  # (nearly) every value distinct
    codes: list[str] = field(default_factory=list)  # integer columns encoded as categories
    scaled: bool = True
    weighting: str = "equal"
    feature_columns: list[str] = field(default_factory=list)  # original column of each feature


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _segment_sizes(n: int) -> np.ndarray:
    shares = np.array([s.share for s in SEGMENTS])
    sizes = np.floor(shares * n).astype(int)
    sizes[0] += n - sizes.sum()
    return sizes


def _simulate_segment(segment: Segment, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Customers of one segment; the life-stage segment follows a curved trajectory in t."""
    s = segment.spread
    k = len(CATEGORIES)
    life = segment.name == LIFE_STAGE
    t = rng.uniform(0, 1, n) if life else np.full(n, np.nan)
    z = rng.standard_normal((n, 8))

    category_logit = np.tile(np.asarray(segment.category_logit, float), (n, 1))
    age = segment.age + 7 * s * z[:, 0]
    tenure = segment.tenure_months * np.exp(0.4 * s * z[:, 1])
    household_rate = np.full(n, segment.household)
    log_order_value = segment.log_order_value + 0.35 * s * z[:, 2]
    if life:
        # young single -> young family -> established family -> empty nester
        age = 22 + 50 * t + 3 * s * z[:, 0]
        tenure = (4 + 90 * t) * np.exp(0.2 * s * z[:, 1])
        household_rate = 0.2 + 2.8 * np.sin(np.pi * t)
        log_order_value = np.log(35) + 1.3 * t + 0.3 * s * z[:, 2]
        category_logit[:, CATEGORIES.index("toys_baby")] = -3 + 7 * np.exp(
            -(((t - 0.4) / 0.15) ** 2))
        category_logit[:, CATEGORIES.index("garden")] = -3 + 6 * t
        category_logit[:, CATEGORIES.index("fashion")] = 2.5 - 5 * t
        category_logit[:, CATEGORIES.index("home")] = -1.5 + 4 * np.sin(np.pi * t)
        category_logit[:, CATEGORIES.index("electronics")] = 1.5 - 3 * t

    recency = np.exp(segment.log_recency + 0.5 * s * z[:, 3])
    orders = rng.poisson(np.exp(segment.log_orders + 0.4 * s * z[:, 4]))
    monetary = orders * np.exp(log_order_value)
    buys = rng.uniform(size=(n, k)) < _expit(category_logit + s * rng.standard_normal((n, k)))
    weights = _softmax(np.asarray(segment.category_weight) + 0.7 * s * rng.standard_normal((n, k)))
    weights = np.where(buys, weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    basket = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    spend = basket * monetary[:, None]
    channels = _softmax(np.asarray(segment.channel_logit) + 0.6 * s * z[:, 5:8])

    frame = pd.DataFrame({
        "recency_days": np.clip(np.round(recency), 0, 730).astype(int),
        "orders_12m": orders,
        "monetary_12m": np.round(monetary, 2),
    })
    for j, name in enumerate(CATEGORIES):
        frame[f"spend_{name}"] = np.round(spend[:, j], 2)
    for j, name in enumerate(CHANNELS):
        frame[f"share_{name}"] = np.round(channels[:, j], 3)
    frame["main_device"] = rng.choice(DEVICES, size=n, p=segment.device_p)
    frame["tenure_months"] = np.clip(np.round(tenure), 0, None).astype(int)
    frame["age"] = np.clip(np.round(age), 18, 95).astype(int)
    frame["household_size"] = 1 + rng.poisson(household_rate)
    frame["membership_tier"] = rng.choice(TIERS, size=n, p=segment.tier_p)
    frame["region"] = rng.choice(REGIONS, size=n)
    frame["segment"] = segment.name
    frame["_life_stage"] = t
    return frame


def simulate_customers(n: int = 2500, random_state: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Simulate a customer table with five known segments.

    The segments differ in size (10 % to 30 %) and spread (a tight premium segment, a diffuse
    lapsed one); one of them, the life-stage families, is a curved one-dimensional trajectory
    (age, household size and the categories bought all change non-linearly along it). Spend is
    skewed and zero-inflated; device, membership tier and region are categorical; region and
    ``noise_1`` … ``noise_4`` carry no information about the segment.

    Parameters
    ----------
    n : int
        Number of customers (at least 50).
    random_state : int
        Seed.

    Returns
    -------
    table : DataFrame
        One row per customer: ``customer_id``, the features and the true ``segment``.
    life_stage : ndarray of shape (n,)
        Position along the life-stage trajectory in [0, 1] (NaN outside that segment).
    """
    if n < 50:
        raise DataError(f"--customers must be at least 50, got {n}")
    rng = np.random.default_rng(random_state)
    parts = [_simulate_segment(seg, size, rng) for seg, size in zip(SEGMENTS, _segment_sizes(n),
                                                                     strict=True)]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.iloc[rng.permutation(n)].reset_index(drop=True)
    noise = rng.standard_normal((n, N_NOISE_COLUMNS))
    for j in range(N_NOISE_COLUMNS):
        frame[f"noise_{j + 1}"] = np.round(noise[:, j], 4)
    life_stage = frame.pop("_life_stage").to_numpy()
    frame.insert(0, "customer_id", [f"C{i:06d}" for i in range(1, n + 1)])
    segment = frame.pop("segment")
    frame["segment"] = segment
    return frame, life_stage


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def prepare_features(frame: pd.DataFrame, exclude: tuple[str, ...] = (), log_skewed: bool = True,
                     scale: bool = True, weighting: str = "equal",
                     categorical: tuple[str, ...] = (), identifiers: tuple[str, ...] = ()
                     ) -> tuple[np.ndarray, np.ndarray, list[str], Preprocessing]:
    """Turn a customer table into a numeric feature matrix.

    Numeric columns that are non-negative with sample skewness above 1 (spend, counts) are
    replaced by ``log1p``; text, categorical and boolean-text columns are one-hot encoded (a
    missing category becomes its own level); constant columns, and text columns with more than
    50 levels (free text, e-mail addresses), are dropped with a note; finally every column is
    standardised to mean 0 and standard deviation 1.

    With ``weighting="equal"`` the standardised indicator columns of a categorical column with L
    levels are then divided by :math:`\\sqrt{L}`: the block's variance becomes 1, the variance of
    one numeric column, so that every original column contributes the same expected share of
    the squared distance between two customers (:func:`distance_budget`). Standardised one at a
    time, the L indicators would weigh as much as L numeric columns, and a column that carries no
    information (a sales region) would split the map into one island per level.

    Parameters
    ----------
    frame : DataFrame
    exclude : tuple of str
        Columns that are not features (id, label, ``--drop``).
    log_skewed : bool
        Apply ``log1p`` to skewed non-negative numeric columns.
    scale : bool
        Standardise the columns.
    weighting : {"equal", "standardised"}
        Whether each one-hot block is scaled to the weight of one column (see above).
    categorical : tuple of str
        Numeric columns that are codes (a region number): one-hot encoded like text columns.
    identifiers : tuple of str
        Columns left out because they name rows rather than describe them (recorded apart
        from ``exclude``, so that the report can say why).

    Returns
    -------
    features, unscaled : ndarray of shape (n, p)
    names : list of str
    record : Preprocessing

    Raises
    ------
    DataError
        A numeric column has missing values, or fewer than two feature columns remain.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    record = Preprocessing(excluded=[c for c in exclude if c in frame.columns], scaled=scale,
                           weighting=weighting, codes=list(categorical),
                           identifiers=[c for c in identifiers if c in frame.columns])
    blocks: list[pd.DataFrame] = []
    for name in frame.columns:
        if name in exclude or name in identifiers:
            continue
        column = frame[name]
        if _is_numeric(column) and name not in categorical:
            values = column.astype(float)
            missing = int(values.isna().sum())
            if missing:
                first = int(np.flatnonzero(values.isna().to_numpy())[0])
                raise DataError(
                    f"column {name!r} has {missing} missing value(s) (first at row {first}); "
                    f"fill them, or leave the column out with --drop {name}")
            if not np.isfinite(values.to_numpy()).all():
                raise DataError(f"column {name!r} has infinite values; fix or --drop {name}")
            if values.nunique() <= 1:
                record.dropped_constant.append(name)
                continue
            record.numeric.append(name)
            if log_skewed and values.min() >= 0 and stats.skew(values) > SKEW_THRESHOLD:
                values = np.log1p(values)
                record.logged.append(name)
            blocks.append(values.to_frame(name))
        else:
            text = column.astype("string")
            if text.isna().any():
                record.missing_as_level.append(name)
                text = text.fillna("(missing)")
            levels = text.nunique()
            if levels <= 1:
                record.dropped_constant.append(name)
                continue
            if levels > MAX_LEVELS:
                record.dropped_many_levels.append(name)
                continue
            record.one_hot[name] = int(levels)
            dummies = pd.get_dummies(text, prefix=name, prefix_sep="=", dtype=float)
            blocks.append(dummies)
    if not blocks or sum(b.shape[1] for b in blocks) < 2:
        raise DataError(
            "fewer than two usable feature columns after preprocessing (constant or "
            "high-cardinality columns are dropped); the table needs numeric or categorical "
            "customer attributes")
    table = pd.concat(blocks, axis=1)
    unscaled = table.to_numpy(dtype=float)
    features = unscaled.copy()
    record.feature_columns = [name for block in blocks for name in
                              ([block.columns[0]] * block.shape[1] if block.shape[1] == 1
                               else [_source_column(block)] * block.shape[1])]
    if scale:
        features = (features - features.mean(axis=0)) / features.std(axis=0)
        if weighting == "equal":
            for j, column in enumerate(record.feature_columns):
                if column in record.one_hot:
                    features[:, j] /= np.sqrt(record.one_hot[column])
    return features, unscaled, [str(c) for c in table.columns], record


def _source_column(block: pd.DataFrame) -> str:
    """The original column of a one-hot block (its indicators are named ``column=level``)."""
    return str(block.columns[0]).split("=", 1)[0]


def distance_budget(features: np.ndarray, record: Preprocessing) -> pd.DataFrame:
    """Share of the squared distance each original column contributes.

    The expected squared Euclidean distance between two independently drawn rows is twice the
    total variance, :math:`E\\lVert x - x'\\rVert^2 = 2\\sum_j \\operatorname{Var}(x_j)`, so a
    column's share of it is the summed variance of its features over the total. The table gives
    that share for the features as used and, beside it, for plain standardisation (every feature
    variance 1, so a column's share is its number of features over the total).

    Parameters
    ----------
    features : ndarray of shape (n, p)
        The features as used in distances.
    record : Preprocessing
        From :func:`prepare_features` (its ``feature_columns``).

    Returns
    -------
    DataFrame
        One row per original column: ``column``, ``features`` (count), ``share of squared
        distance`` and ``share if each feature is standardised``, largest share first.
    """
    columns = np.asarray(record.feature_columns)
    variance = np.var(features, axis=0)
    names, first = np.unique(columns, return_index=True)
    names = names[np.argsort(first)]
    counts = np.array([np.sum(columns == c) for c in names])
    shares = np.array([variance[columns == c].sum() for c in names]) / variance.sum()
    table = pd.DataFrame({"column": names, "features": counts.astype(int),
                          "share of squared distance": shares,
                          "share if each feature is standardised": counts / counts.sum()})
    return table.sort_values("share of squared distance", ascending=False,
                             kind="stable").reset_index(drop=True)


def minimum_rows(config: ClusteringConfig) -> int:
    """Fewest rows a run can use: t-SNE needs more than 3 x perplexity neighbours per point
    (and the scorecard's smallest neighbourhood must be below half the rows; larger ones are
    left out on small tables)."""
    return max(int(np.ceil(3 * max(config.perplexities))) + 2, 2 * min(config.neighbours) + 2)


def _check_rows(n: int, config: ClusteringConfig, what: str) -> None:
    """Refuse a table too small for the run before the long work: fewer rows than any run
    needs, or an option given that the rows cannot support (see :mod:`small_data`)."""
    small_data.adapt_to_rows(config, n, what)


# How the encodings tried in turn are named in the report.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "latin-1": "Latin-1",
                  "iso8859-1": "Latin-1"}


@dataclass
class TableReading:
    """How a user's table was read and cleaned before its features were built.

    Attributes
    ----------
    delimiter, encoding, decimal : str or None
        The delimiter (``"comma"``, ``"semicolon"``, ``"tab"``, ``"pipe"``), the text encoding
        and the decimal mark (``"point"`` or ``"comma"``) of a text file; None for Parquet or a
        DataFrame.
    detected : list of str
        Which of ``"sep"``, ``"encoding"`` and ``"decimal"`` were detected rather than given.
    missing : MissingReport
        The missing-value policy on the columns used (:func:`casestudies.tables.handle_missing`).
    key_missing : MissingReport or None
        With ``--missing impute``: the rows dropped because their id or label was missing
        (never imputed).
    """

    delimiter: str | None
    encoding: str | None
    decimal: str | None
    detected: list[str]
    missing: MissingReport
    key_missing: MissingReport | None = None

    def dialect_sentence(self) -> str | None:
        """How the file was read, in words (None for Parquet or a DataFrame)."""
        if self.delimiter is None:
            return None

        def how(setting: str, option: str) -> str:
            return "detected" if setting in self.detected else f"given with {option}"

        encoding = ENCODING_NAMES.get(self.encoding or "", self.encoding)
        why = ("; the file is not valid UTF-8" if encoding == "Latin-1"
               and "encoding" in self.detected else "")
        decimal = " (detected)" if "decimal" in self.detected else ""
        return (f"read as {self.delimiter}-separated text ({how('sep', '--sep')}), encoding "
                f"{encoding} ({how('encoding', '--encoding')}{why}), decimal "
                f"{self.decimal}{decimal}")

    def sentences(self) -> list[str]:
        """What the loader did, one sentence each, for the report's data section."""
        found = [self.dialect_sentence()]
        if self.key_missing is not None and self.key_missing.missing_by_column:
            cells = ", ".join(f"{name!r}: {count:,}" for name, count
                              in self.key_missing.missing_by_column.items())
            found.append(f"dropped {self.key_missing.rows_dropped:,} of "
                         f"{self.key_missing.rows_before:,} rows whose id or label is missing "
                         f"(an id or a label is never imputed); missing cells: {cells}")
        found.append(self.missing.describe())
        return [sentence for sentence in found if sentence]


def _dialect(table: pd.DataFrame) -> dict:
    """What :func:`casestudies.io.read_table` recorded about a text file's dialect."""
    attrs = table.attrs
    if "sep" not in attrs:
        return {"delimiter": None, "encoding": None, "decimal": None, "detected": []}
    return {"delimiter": DELIMITERS.get(attrs["sep"], attrs["sep"]),
            "encoding": attrs["encoding"],
            "decimal": "comma" if attrs["decimal"] == "," else "point",
            "detected": list(attrs["detected"])}


def _feature_candidates(table: pd.DataFrame, config: ClusteringConfig, keys: list[str]
                        ) -> tuple[list[str], list[str]]:
    """The columns to map and the identifier-like columns left out of them.

    A text or integer column whose values are (nearly) all distinct names the rows rather than
    describing them; one-hot encoded it would become one indicator per row. It is left out with
    a note unless the user named it in ``--columns`` or ``--categorical``.
    """
    chosen = list(config.columns) or [c for c in table.columns
                                      if c not in keys and c not in config.drop_columns]
    named = set(config.columns) | set(config.categorical)
    identifiers = [c for c in chosen if c not in named and is_identifier(table[c])]
    features = [c for c in chosen if c not in identifiers]
    unknown = [c for c in config.categorical if c not in features]
    if unknown:
        raise ConfigError(f"--categorical names columns that are not features: "
                          f"{', '.join(repr(c) for c in unknown)}; features are "
                          f"{', '.join(repr(c) for c in features[:10])}")
    return features, identifiers


def _handle_missing(table: pd.DataFrame, config: ClusteringConfig, features: list[str],
                    keys: list[str]) -> tuple[pd.DataFrame, MissingReport, MissingReport | None]:
    """Apply ``--missing`` to the columns used. The id and label are never imputed: with
    ``--missing impute`` rows missing them are dropped when they are at most the share the
    default drops, and otherwise the run stops."""
    if config.missing != "impute" or not keys:
        table, report = handle_missing(table, features + keys, config.missing)
        return table, report, None
    try:
        table, key_report = handle_missing(table, keys, None)
    except DataError:
        counts = ", ".join(f"{c!r} ({int(table[c].isna().sum()):,} of {len(table):,})"
                           for c in keys if table[c].isna().any())
        raise DataError(f"more than {MAX_DROPPED_SHARE:.0%} of rows have no id or label "
                        f"({counts}), which are never imputed; use --missing drop, or run "
                        f"without --id/--label") from None
    table, report = handle_missing(table, features, "impute")
    return table, report, key_report


def load_user_table(config: ClusteringConfig) -> ClusteringData:
    """Read, clean and check a user's customer table (``--data`` and the options that describe
    it); refuse it with one line before the long work when the run cannot use it."""
    table = read_table(config.data_path, sep=config.sep, encoding=config.encoding)
    raw, dialect = table, _dialect(table)
    name = source_name(config.data_path)
    keys = [c for c in (config.id_column, config.label_column) if c]
    require_columns(table, [*keys, *config.drop_columns, *config.columns, *config.categorical],
                    source=name)
    features, identifiers = _feature_candidates(table, config, keys)
    table, missing, key_missing = _handle_missing(table, config, features, keys)
    if config.id_column:
        ids = table[config.id_column]
        duplicated = ids.duplicated()
        if duplicated.any():
            raise DataError(
                f"id column {config.id_column!r} is not unique: {int(duplicated.sum())} "
                f"duplicate(s), e.g. {str(ids[duplicated].iloc[0])[:40]!r}; remove duplicate rows")
    labels = table[config.label_column].astype(str).to_numpy() if config.label_column else None
    _check_rows(len(table), config, name)
    left_out = tuple(c for c in table.columns if c not in features and c not in identifiers)
    features_matrix, unscaled, names, record = prepare_features(
        table, left_out, weighting=config.weighting, categorical=config.categorical,
        identifiers=tuple(identifiers))
    return ClusteringData(
        source=f"{name} ({len(table):,} rows)", fingerprint=fingerprint_frame(raw), kind="user",
        table=table, features=features_matrix, unscaled=unscaled, feature_names=names,
        labels=labels, label_name=config.label_column, life_stage=None, preprocessing=record,
        reading=TableReading(**dialect, missing=missing, key_missing=key_missing))


def load_customers(config: ClusteringConfig) -> ClusteringData:
    """The simulated customers, prepared exactly as a user's table would be."""
    table, life_stage = simulate_customers(config.n_customers, config.seed)
    _check_rows(len(table), config, "the simulated table")
    require_columns(table, list(config.drop_columns), source="the simulated table")
    features, unscaled, names, record = prepare_features(
        table, ("customer_id", "segment", *config.drop_columns), weighting=config.weighting)
    return ClusteringData(
        source=f"simulated customers (n={len(table):,}, seed {config.seed})",
        fingerprint=fingerprint_frame(table), kind="customers", table=table, features=features,
        unscaled=unscaled, feature_names=names, labels=table["segment"].to_numpy(dtype=str),
        label_name="segment", life_stage=life_stage, preprocessing=record)


def load_digits_data(config: ClusteringConfig) -> ClusteringData:
    """scikit-learn's 1,797 handwritten digits (8x8 grey levels 0-16); pixels are not logged."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    table = pd.DataFrame(bunch.data, columns=[f"pixel_{i // 8}_{i % 8}" for i in range(64)])
    table["digit"] = bunch.target
    _check_rows(len(table), config, "the digits data")
    require_columns(table, list(config.drop_columns), source="the digits data")
    features, unscaled, names, record = prepare_features(
        table, ("digit", *config.drop_columns), log_skewed=False, weighting=config.weighting)
    return ClusteringData(
        source=f"scikit-learn digits (n={len(table):,}, {bunch.data.shape[1]} pixels)",
        fingerprint=fingerprint_arrays(bunch.data, bunch.target), kind="digits", table=table,
        features=features, unscaled=unscaled, feature_names=names,
        labels=bunch.target.astype(str), label_name="digit", life_stage=None,
        preprocessing=record)


ISLP_INSTALL = "pip install --no-deps ISLP==0.6.0"
CARAVAN_LABEL = "MOSHOOFD"  # customer main type (L2 in the CoIL 2000 data dictionary)
CARAVAN_SUBTYPE = "MOSTYPE"  # customer subtype (L0): nested in the main type, so left out
CARAVAN_TARGET = "Purchase"  # the CoIL challenge's outcome (caravan policy), not an attribute
CARAVAN_ZIP_COLUMNS = 43  # the first 43 columns describe the customer's postcode, not the person
MAIN_TYPES = {1: "successful hedonists", 2: "driven growers", 3: "average family",
              4: "career loners", 5: "living well", 6: "cruising seniors",
              7: "retired and religious", 8: "family with grown ups",
              9: "conservative families", 10: "farmers"}


def _caravan_table() -> pd.DataFrame:
    try:
        from ISLP import load_data as islp_load
    except ImportError:
        raise DataError(f"--dataset caravan needs the ISLP package: {ISLP_INSTALL}") from None
    return islp_load("Caravan")


def load_caravan(config: ClusteringConfig, rows: int | None = None) -> ClusteringData:
    """The CoIL 2000 insurance customers (ISLP's ``Caravan``: 5,822 customers, 85 attributes)
    with the customer main type as the known segment.

    Exact duplicate rows (602) are dropped: a duplicate sits at distance zero from its twin,
    which would be its own "neighbour" in the data and on every map. The customer subtype
    (nested in the main type) and the challenge's outcome are not features. The first 43
    columns describe the customer's postcode, so customers with the same postcode profile share
    them; those customers form the ``groups`` of the segment accuracy, so that no customer is
    classified by its postcode neighbours (the main type is itself a postcode attribute).

    Parameters
    ----------
    config : ClusteringConfig
    rows : int, optional
        Keep a random subsample of this many (deduplicated) customers.
    """
    raw = _caravan_table()
    table = raw.drop_duplicates().reset_index(drop=True)
    dropped = len(raw) - len(table)
    if rows is not None and rows < len(table):
        keep = np.sort(np.random.default_rng(config.seed).choice(len(table), rows,
                                                                 replace=False))
        table = table.iloc[keep].reset_index(drop=True)
    _check_rows(len(table), config, "the Caravan table")
    zip_columns = list(raw.columns[:CARAVAN_ZIP_COLUMNS])
    groups = pd.factorize(table[zip_columns].astype(str).agg("|".join, axis=1))[0]
    labels = table[CARAVAN_LABEL].map(MAIN_TYPES).to_numpy(dtype=str)
    exclude = (CARAVAN_LABEL, CARAVAN_SUBTYPE, CARAVAN_TARGET, *config.drop_columns)
    require_columns(table, list(config.drop_columns), source="the Caravan table")
    features, unscaled, names, record = prepare_features(table, exclude,
                                                         weighting=config.weighting)
    return ClusteringData(
        source=f"CoIL 2000 insurance customers (ISLP Caravan, {len(table):,} distinct rows"
               f"{' sampled' if rows is not None and rows < len(raw) - dropped else ''})",
        fingerprint=fingerprint_frame(table), kind="caravan", table=table, features=features,
        unscaled=unscaled, feature_names=names, labels=labels, label_name="customer main type",
        life_stage=None, preprocessing=record, groups=groups,
        group_note=(f"{int(groups.max()) + 1:,} postcode profiles (the first "
                    f"{CARAVAN_ZIP_COLUMNS} columns)"),
        duplicates_dropped=int(dropped))


def load_data(config: ClusteringConfig) -> ClusteringData:
    """The data of a run: the user's table if given, else the chosen built-in data set. The
    default simulated customers come with the real Caravan customers as a companion (a
    subsample of ``config.real_customers`` rows), when ISLP is installed."""
    if config.uses_user_data:
        return load_user_table(config)
    if config.dataset == "digits":
        return load_digits_data(config)
    if config.dataset == "caravan":
        return load_caravan(config)
    data = load_customers(config)
    if config.real_customers:
        try:
            data.companion = load_caravan(
                dataclasses.replace(config, drop_columns=()), rows=config.real_customers)
        except DataError as error:
            data.companion_note = str(error)
    return data
