"""Meeting a user's table half-way: binary labels, missing values and categorical columns.

A refusal is right when the data cannot answer a study's question, and wrong when a reasonable,
stated default would do. Each function here applies one such default and returns a record of what
it did, so that the report can say it: which label counts as positive, how many rows or cells a
missing-value policy touched per column, which columns were one-hot encoded and which were left
out as identifiers.

All problems are raised as :class:`~casestudies.errors.DataError` (the data) or
:class:`~casestudies.errors.ConfigError` (an option) with one line that names the column and the
option that resolves it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from casestudies.errors import ConfigError, DataError

# ---- binary labels -------------------------------------------------------------------------------
# Pairs of labels recognised without --positive, positive first; compared after stripping spaces
# and ignoring case. Anything else needs the user to say which value is the positive class.
LABEL_PAIRS = (
    ("1", "0"),
    ("true", "false"),
    ("yes", "no"),
    ("y", "n"),
    ("pos", "neg"),
    ("positive", "negative"),
    ("t", "f"),
)


@dataclasses.dataclass(frozen=True)
class LabelMapping:
    """How a binary target column was read: which value became 1.

    Attributes
    ----------
    column : str
        The target column.
    positive, negative : str
        The values (as written in the data) read as 1 and 0; ``negative`` is ``""`` when the
        column holds only the positive value.
    how : str
        ``"numeric"`` (0/1 numbers), ``"boolean"``, ``"recognised pair"`` or ``"--positive"``.
    """

    column: str
    positive: str
    negative: str
    how: str

    def describe(self) -> str:
        """One sentence for the report's data section."""
        negative = f"; {self.negative!r} as 0" if self.negative else ""
        return f"target {self.column!r}: {self.positive!r} read as 1{negative} ({self.how})"


def _normal(value: Any) -> str:
    return str(value).strip().casefold()


def binary_labels(series: pd.Series, column: str, positive: Any = None
                  ) -> tuple[np.ndarray, LabelMapping]:
    """Read a binary target column as 0/1.

    Parameters
    ----------
    series : pandas.Series
        The column, without missing values (apply a missing-value policy first).
    column : str
        Its name, for messages.
    positive : optional
        The value that means the positive class (compared as text, spaces stripped, case
        ignored). Without it, booleans, the numbers 0/1 and the pairs of :data:`LABEL_PAIRS`
        are recognised.

    Returns
    -------
    labels : numpy.ndarray of int
        1 for the positive class, 0 otherwise.
    mapping : LabelMapping
        What was read as what, for the report.

    Raises
    ------
    DataError
        The column holds more than two values, or two values that are not a recognised pair and
        no ``positive`` was given, or missing values.
    ConfigError
        ``positive`` is not one of the column's values.
    """
    if series.isna().any():
        raise DataError(f"target column {column!r} has {int(series.isna().sum())} missing "
                        f"values; drop those rows or choose a --missing policy")
    if len(series) == 0:
        raise DataError(f"target column {column!r} is empty")
    if positive is None and pd.api.types.is_bool_dtype(series):
        labels = series.to_numpy(dtype=int)
        return labels, LabelMapping(column, "True", "False" if (labels == 0).any() else "",
                                    "boolean")
    if positive is None and pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float)
        if np.isin(values, (0.0, 1.0)).all():
            labels = values.astype(int)
            return labels, LabelMapping(column, "1", "0" if (labels == 0).any() else "",
                                        "numeric")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = series.to_numpy(dtype=float)
        if np.isfinite(numbers).all() and (numbers == np.round(numbers)).all():
            series = pd.Series(numbers.astype(np.int64), index=series.index)  # 1.0 reads as "1"
    text = series.map(_normal)
    # The spelling shown in messages and reports: the first occurrence of each value.
    spelled = dict(zip(text, series.astype(str).str.strip(), strict=True))
    levels = sorted(spelled)
    shown = ", ".join(repr(spelled[level]) for level in levels[:6])
    if len(levels) > 6:
        shown += f" and {len(levels) - 6} more"
    if len(levels) > 2:
        raise DataError(f"target column {column!r} must have two values (a binary outcome); it "
                        f"has {len(levels)}: {shown}")
    if positive is not None:
        wanted = _normal(positive)
        if wanted not in spelled:
            raise ConfigError(f"--positive {str(positive)!r} is not a value of target column "
                              f"{column!r}; its values are {shown}")
        how = "--positive"
    else:
        wanted = next((pos for pos, neg in LABEL_PAIRS if set(levels) <= {pos, neg}), None)
        if wanted is None:
            raise DataError(f"target column {column!r} holds {shown}; say which value is the "
                            f"positive class with --positive, e.g. --positive "
                            f"{spelled[levels[-1]]!r}")
        how = "recognised pair"
    labels = (text == wanted).to_numpy(dtype=int)
    other = next((spelled[level] for level in levels if level != wanted), "")
    # A column holding only the negative label of a recognised pair: every row is 0.
    return labels, LabelMapping(column, spelled.get(wanted, wanted), other, how)


# ---- missing values ------------------------------------------------------------------------------
MISSING_POLICIES = ("error", "drop", "impute")
# Without a policy, rows with a missing value are dropped when they are at most this share of the
# table: few enough that dropping them cannot change a conclusion much, and the report says so.
# Above it the user decides, because dropping a third of a table is a choice about the data.
MAX_DROPPED_SHARE = 0.05


@dataclasses.dataclass(frozen=True)
class MissingReport:
    """What a missing-value policy did.

    Attributes
    ----------
    policy : str
        ``"error"``, ``"drop"`` or ``"impute"``; ``"drop"`` also when it was the default.
    default : bool
        Whether the policy was the default rather than given.
    rows_before, rows_after : int
        Table size before and after.
    missing_by_column : dict of str to int
        Missing cells per column the study uses (only columns with any).
    filled_with : dict of str to object
        For ``impute``: the value each column's missing cells received.
    """

    policy: str
    default: bool
    rows_before: int
    rows_after: int
    missing_by_column: dict[str, int]
    filled_with: dict[str, Any]

    @property
    def rows_dropped(self) -> int:
        return self.rows_before - self.rows_after

    def describe(self) -> str:
        """One sentence for the report's data section."""
        if not self.missing_by_column:
            return "no missing values in the columns used"
        cells = ", ".join(f"{name!r}: {count:,}" for name, count in self.missing_by_column.items())
        if self.policy == "drop":
            how = "default" if self.default else "--missing drop"
            return (f"dropped {self.rows_dropped:,} of {self.rows_before:,} rows with a missing "
                    f"value ({how}); missing cells per column: {cells}")
        filled = ", ".join(f"{name!r} with {value!r}" for name, value in self.filled_with.items())
        return f"imputed missing cells ({cells}): {filled}"


def handle_missing(frame: pd.DataFrame, columns: Sequence[str], policy: str | None = None,
                   max_share: float = MAX_DROPPED_SHARE) -> tuple[pd.DataFrame, MissingReport]:
    """Apply a missing-value policy to the columns a study uses.

    Parameters
    ----------
    frame : pandas.DataFrame
        The user's table.
    columns : sequence of str
        The columns the study uses; missing values elsewhere are ignored.
    policy : {None, "error", "drop", "impute"}
        ``None`` (the default) drops rows with a missing value when they are at most
        ``max_share`` of the rows and raises otherwise. ``"drop"`` drops them whatever their
        share, ``"error"`` refuses any, and ``"impute"`` fills numeric columns with their median
        and other columns with their most frequent value (ties: the first in sorted order).
    max_share : float
        The largest share of rows the default may drop.

    Returns
    -------
    frame : pandas.DataFrame
        The table after the policy, with a fresh index.
    report : MissingReport

    Raises
    ------
    DataError
        Missing values the policy does not allow, with the columns, counts and the option; or no
        rows left after dropping; or a column with no value to impute from.
    """
    if policy is not None and policy not in MISSING_POLICIES:
        raise ConfigError(f"--missing must be one of {', '.join(MISSING_POLICIES)}, "
                          f"not {policy!r}")
    columns = list(dict.fromkeys(columns))
    counts = {name: int(frame[name].isna().sum()) for name in columns}
    counts = {name: count for name, count in counts.items() if count}
    rows = len(frame)
    chosen = "drop" if policy is None else policy

    def report(after: int, filled: dict[str, Any] | None = None) -> MissingReport:
        return MissingReport(chosen, policy is None, rows, after, counts, filled or {})

    if not counts:
        return frame.reset_index(drop=True), report(rows)
    listing = ", ".join(f"{name!r} ({count:,} of {rows:,})" for name, count in counts.items())
    incomplete = frame[list(counts)].isna().any(axis=1)
    share = float(incomplete.mean())
    if policy == "error":
        raise DataError(f"missing values in {listing}; use --missing drop or --missing impute, "
                        f"or fill them in the file")
    if policy is None and share > max_share:
        raise DataError(f"{share:.0%} of rows have a missing value (in {listing}), more than the "
                        f"{max_share:.0%} dropped by default; choose --missing drop or "
                        f"--missing impute")
    if chosen == "drop":
        kept = frame.loc[~incomplete].reset_index(drop=True)
        if kept.empty:
            raise DataError(f"every row has a missing value (in {listing}); nothing is left "
                            f"after --missing drop; try --missing impute")
        return kept, report(len(kept))
    filled_frame = frame.copy()
    filled: dict[str, Any] = {}
    for name in counts:
        column = frame[name]
        present = column.dropna()
        if present.empty:
            raise DataError(f"column {name!r} has no values at all; there is nothing to impute "
                            f"it from; leave it out with --drop")
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            value: Any = float(present.median())
        else:
            frequency = present.value_counts()
            top = frequency[frequency == frequency.max()].index
            value = sorted(top, key=str)[0]
        filled[name] = value.item() if isinstance(value, np.generic) else value
        filled_frame[name] = column.fillna(value)
    return filled_frame.reset_index(drop=True), report(rows, filled)


# ---- categorical and identifier columns ---------------------------------------------------------
# Integer columns with at most this many distinct values may be declared categorical; text columns
# always are. One-hot encoding keeps the most frequent levels up to MAX_LEVELS and pools the rest.
MAX_LEVELS = 10
# A text column whose values are (nearly) all distinct names rows rather than describing them:
# a customer id, an e-mail, a transaction hash. One-hot encoding it would give every row its own
# feature, so it is left out of the features, with a note.
IDENTIFIER_UNIQUE_SHARE = 0.95
# ... but only in tables large enough for "nearly all distinct" to mean something.
IDENTIFIER_MIN_ROWS = 20


def is_identifier(series: pd.Series) -> bool:
    """Whether a column looks like a row identifier: text or integers with (nearly) all values
    distinct (at least :data:`IDENTIFIER_UNIQUE_SHARE`), in a table of at least
    :data:`IDENTIFIER_MIN_ROWS` rows. Floats are measurements, never identifiers."""
    present = series.dropna()
    if len(present) < IDENTIFIER_MIN_ROWS or pd.api.types.is_float_dtype(present):
        return False
    if pd.api.types.is_bool_dtype(present):
        return False
    return present.nunique() >= IDENTIFIER_UNIQUE_SHARE * len(present)


def is_categorical(series: pd.Series) -> bool:
    """Text, categorical and boolean columns are categorical; numbers are not unless declared."""
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


@dataclasses.dataclass(frozen=True)
class EncodingReport:
    """Which columns became which features.

    Attributes
    ----------
    numeric : list of str
        Columns used as they are.
    encoded : dict of str to list of str
        Categorical columns and the levels kept as indicator features (most frequent first).
    pooled : dict of str to int
        For categorical columns with more than :data:`MAX_LEVELS` levels, how many rare levels
        were pooled into one ``other`` indicator.
    identifiers : list of str
        Columns left out because they look like row identifiers.
    """

    numeric: list[str]
    encoded: dict[str, list[str]]
    pooled: dict[str, int]
    identifiers: list[str]

    def describe(self) -> str:
        """One sentence for the report's data section."""
        parts = [f"{len(self.numeric)} numeric column(s) used as they are"]
        for name, levels in self.encoded.items():
            extra = f" plus 'other' for {self.pooled[name]} rarer levels" if name in self.pooled \
                else ""
            parts.append(f"{name!r} one-hot encoded into {len(levels)} levels{extra}")
        if self.identifiers:
            names = ", ".join(repr(name) for name in self.identifiers)
            parts.append(f"left out as identifiers (nearly every value distinct): {names}")
        return "; ".join(parts)


def encode_features(frame: pd.DataFrame, columns: Iterable[str], categorical: Iterable[str] = (),
                    max_levels: int = MAX_LEVELS) -> tuple[pd.DataFrame, EncodingReport]:
    """Numeric features from a user's columns: numbers as they are, categories one-hot encoded.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, without missing values in ``columns``.
    columns : iterable of str
        The candidate feature columns.
    categorical : iterable of str
        Integer columns to treat as categories (codes such as a region number); text and boolean
        columns are categorical anyway. A declared column with more than ``max_levels`` levels
        keeps its most frequent ones.
    max_levels : int
        Indicator features per categorical column at most; rarer levels share an ``other``
        indicator.

    Returns
    -------
    features : pandas.DataFrame of float
        One column per numeric feature and one indicator per kept level, named
        ``"column=level"``; rows aligned with ``frame``.
    report : EncodingReport

    Raises
    ------
    ConfigError
        A name in ``categorical`` is not among ``columns``.
    DataError
        No feature is left.
    """
    columns = list(dict.fromkeys(columns))
    declared = list(dict.fromkeys(categorical))
    unknown = [name for name in declared if name not in columns]
    if unknown:
        raise ConfigError(f"--categorical names columns that are not features: "
                          f"{', '.join(repr(name) for name in unknown)}; features are "
                          f"{', '.join(repr(name) for name in columns[:10])}")
    parts: list[pd.DataFrame] = []
    numeric: list[str] = []
    encoded: dict[str, list[str]] = {}
    pooled: dict[str, int] = {}
    identifiers: list[str] = []
    for name in columns:
        column = frame[name]
        if name not in declared and not is_categorical(column):
            numeric.append(name)
            parts.append(column.astype(float).to_frame(name))
            continue
        if name not in declared and is_identifier(column):
            identifiers.append(name)
            continue
        text = column.astype(str).str.strip()
        frequency = text.value_counts(sort=False)
        # Most frequent first; ties in sorted order, so the encoding does not depend on row order.
        order = sorted(frequency.index, key=lambda level: (-frequency[level], level))
        kept = order[:max_levels] if len(order) > max_levels else order
        encoded[name] = kept
        indicators = {f"{name}={level}": (text == level).to_numpy(dtype=float) for level in kept}
        if len(order) > len(kept):
            pooled[name] = len(order) - len(kept)
            indicators[f"{name}=other"] = (~text.isin(kept)).to_numpy(dtype=float)
        parts.append(pd.DataFrame(indicators, index=frame.index))
    if not parts:
        raise DataError("no feature columns are left after leaving out identifiers "
                        f"({', '.join(repr(name) for name in identifiers)}); name the feature "
                        "columns with --columns")
    features = pd.concat(parts, axis=1)
    return features, EncodingReport(numeric, encoded, pooled, identifiers)
