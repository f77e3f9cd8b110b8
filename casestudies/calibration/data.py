"""Data for the calibration study: a seeded card-transaction simulator, its fraud-team features,
and the loaders that turn the simulator, a user's file or OpenML's credit-card data into the
arrays the pipeline wants.

The simulator follows the design of the Fraud Detection Handbook's transaction generator (Le
Borgne et al., 2022), written afresh and vectorised:

* customers and terminals live on a ``GRID_SIZE`` x ``GRID_SIZE`` grid; a customer pays at its
  ``k`` nearest terminals, spends ``Normal(mu_c, mu_c / 2)`` per transaction with
  ``mu_c ~ U(5, 100)`` (``amount_sd_ratio``, ``mean_amount_range``), and makes
  ``Poisson(lambda_c)`` transactions a day with ``lambda_c ~ U(0, max_tx_per_day)``;
* the time of day is ``Normal(noon, time_of_day_sd)`` (20 000 s) kept inside the day;
* three fraud scenarios, applied in order:

  1. any transaction above ``large_amount`` (220 by default) is fraud (easy to catch);
  2. every day a Poisson number of terminals is compromised for ``terminal_days`` days: all their
     transactions are fraud (caught through the terminal's delayed fraud rate);
  3. every day a Poisson number of customers' card details leak for ``customer_days`` days: a
     share ``leaked_share`` (a third) of their transactions have amounts multiplied by
     ``inflation`` and are fraud (caught through the customer's spending history).

Because the compromised terminals and customers change every day, the fraud pattern drifts over
time, and labels (needed by the terminal-risk features) arrive ``label_delay_days`` late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from casestudies.errors import DataError
from casestudies.io import (
    DELIMITERS,
    datetime_column,
    fingerprint_frame,
    numeric_column,
    read_table,
    require_columns,
    source_name,
)
from casestudies.tables import (
    MAX_DROPPED_SHARE,
    EncodingReport,
    LabelMapping,
    binary_labels,
    encode_features,
    handle_missing,
    is_categorical,
    is_identifier,
)

SECONDS_PER_DAY = 86_400
START_DATE = pd.Timestamp("2025-01-01")
WINDOWS_DAYS = (1, 7, 30)
GRID_SIZE = 100.0


def _compromise_schedule(rng: np.random.Generator, n_items: int, n_days: int,
                         per_day: float, duration_days: int) -> np.ndarray:
    """Boolean ``(n_items, n_days)`` matrix: item compromised on day ``d``.

    Each day a ``Poisson(per_day)`` number of items, drawn at random, becomes compromised for
    ``duration_days`` days starting that day.
    """
    compromised = np.zeros((n_items, n_days), dtype=bool)
    for day in range(n_days):  # one iteration per day, not per transaction
        items = rng.choice(n_items, size=min(rng.poisson(per_day), n_items), replace=False)
        compromised[items, day:day + duration_days] = True
    return compromised


def simulate_transactions(n_customers: int = 2500, n_terminals: int = 2000, n_days: int = 120,
                          random_state: int | None = 0, *, max_tx_per_day: float = 1.5,
                          terminals_per_customer: int = 8, large_amount: float = 220.0,
                          compromised_terminals_per_day: float = 0.5, terminal_days: int = 28,
                          compromised_customers_per_day: float = 1.5, customer_days: int = 14,
                          inflation: float = 5.0, leaked_share: float = 1 / 3,
                          mean_amount_range: tuple[float, float] = (5.0, 100.0),
                          amount_sd_ratio: float = 0.5,
                          time_of_day_sd: float = 20_000.0) -> pd.DataFrame:
    """Simulate card transactions with labelled fraud (see the module docstring for the design).

    Parameters
    ----------
    n_customers, n_terminals : int
        Numbers of customers and of payment terminals.
    n_days : int
        Days simulated, starting on 2025-01-01.
    random_state : int or None, default 0
        Seed; the same seed gives the same transactions.
    max_tx_per_day : float, default 1.5
        A customer's mean number of transactions a day is drawn from ``U(0, max_tx_per_day)``.
    terminals_per_customer : int, default 8
        A customer pays at this many nearest terminals.
    large_amount : float, default 220
        Scenario 1: every transaction above this amount is fraud.
    compromised_terminals_per_day : float, default 0.5
        Scenario 2: mean number of terminals compromised each day.
    terminal_days : int, default 28
        Scenario 2: how long a terminal stays compromised.
    compromised_customers_per_day : float, default 1.5
        Scenario 3: mean number of customers whose card leaks each day.
    customer_days : int, default 14
        Scenario 3: how long the leaked card is used.
    inflation : float, default 5
        Scenario 3: factor applied to the amount of the fraudulent transactions.
    leaked_share : float, default 1/3
        Scenario 3: share of a leaked customer's transactions that are fraud.
    mean_amount_range : (float, float), default (5, 100)
        A customer's mean amount ``mu_c`` is drawn from ``U(low, high)``.
    amount_sd_ratio : float, default 0.5
        Standard deviation of a customer's amounts as a multiple of ``mu_c``.
    time_of_day_sd : float, default 20 000
        Standard deviation, in seconds, of the time of day around noon.

    Returns
    -------
    pandas.DataFrame
        One row per transaction, sorted by time, with columns ``transaction_id``, ``timestamp``
        (datetime64), ``day`` (days since the start), ``customer_id``, ``terminal_id``,
        ``amount`` (float > 0), ``is_fraud`` (0/1) and ``fraud_scenario`` (0 genuine, 1, 2, 3).
    """
    rng = np.random.default_rng(random_state)
    customer_xy = rng.uniform(0, GRID_SIZE, size=(n_customers, 2))
    terminal_xy = rng.uniform(0, GRID_SIZE, size=(n_terminals, 2))
    mean_amount = rng.uniform(*mean_amount_range, n_customers)
    std_amount = amount_sd_ratio * mean_amount
    tx_per_day = rng.uniform(0, max_tx_per_day, n_customers)
    k = min(terminals_per_customer, n_terminals)
    _, nearest = cKDTree(terminal_xy).query(customer_xy, k=k)
    nearest = np.asarray(nearest).reshape(n_customers, k)

    counts = rng.poisson(np.repeat(tx_per_day[:, None], n_days, axis=1))
    customer = np.repeat(np.repeat(np.arange(n_customers), n_days), counts.ravel())
    day = np.repeat(np.tile(np.arange(n_days), n_customers), counts.ravel())
    n = customer.size

    seconds = rng.normal(SECONDS_PER_DAY / 2, time_of_day_sd, n)
    outside = (seconds < 0) | (seconds >= SECONDS_PER_DAY)
    seconds[outside] = rng.uniform(0, SECONDS_PER_DAY, int(outside.sum()))
    amount = rng.normal(mean_amount[customer], std_amount[customer])
    negative = amount <= 0
    # A negative draw becomes a uniform amount below twice the mean, as in the Handbook.
    amount[negative] = rng.uniform(0, 2 * mean_amount[customer[negative]])
    amount = np.maximum(np.round(amount, 2), 0.01)
    terminal = nearest[customer, rng.integers(0, k, n)]

    scenario = np.zeros(n, dtype=np.int8)
    scenario[amount > large_amount] = 1
    terminal_bad = _compromise_schedule(rng, n_terminals, n_days,
                                        compromised_terminals_per_day, terminal_days)
    scenario[terminal_bad[terminal, day]] = 2
    customer_bad = _compromise_schedule(rng, n_customers, n_days,
                                        compromised_customers_per_day, customer_days)
    leaked = customer_bad[customer, day] & (rng.random(n) < leaked_share)
    amount[leaked] = np.round(amount[leaked] * inflation, 2)
    scenario[leaked] = 3

    timestamp = (START_DATE + pd.to_timedelta(day, unit="D")
                 + pd.to_timedelta(np.floor(seconds).astype(np.int64), unit="s"))
    frame = pd.DataFrame({
        "timestamp": timestamp,
        "day": day.astype(np.int64),
        "customer_id": customer.astype(np.int64),
        "terminal_id": terminal.astype(np.int64),
        "amount": amount,
        "is_fraud": (scenario > 0).astype(np.int64),
        "fraud_scenario": scenario.astype(np.int64),
    })
    frame = frame.sort_values(["timestamp", "customer_id"], kind="stable", ignore_index=True)
    frame.insert(0, "transaction_id", np.arange(len(frame), dtype=np.int64))
    return frame


def _window_sums(group: np.ndarray, seconds: np.ndarray, values: list[np.ndarray],
                 start_lag: float, end_lag: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per row, the count and sums of ``values`` over the same group's rows with time in
    ``(t - start_lag, t - end_lag]``, by cumulative sums and binary search (no Python loop).

    Returns counts and sums in the original row order.
    """
    order = np.lexsort((seconds, group))
    g, t = group[order], seconds[order]
    span = float(t.max() - t.min()) + start_lag + 1.0 if t.size else 1.0
    # Sorting key that is monotone over (group, time): groups are spread far apart in "time".
    key = g.astype(np.float64) * 2 * span + (t - t.min())
    right = np.searchsorted(key, key - end_lag, side="right")
    left = np.searchsorted(key, key - start_lag, side="right")
    counts = np.empty(len(order), dtype=np.int64)
    counts[order] = right - left
    sums = []
    for v in values:
        cumulative = np.concatenate([[0.0], np.cumsum(v[order], dtype=np.float64)])
        out = np.empty(len(order))
        out[order] = cumulative[right] - cumulative[left]
        sums.append(out)
    return counts, sums


def add_features(transactions: pd.DataFrame, label_delay_days: int = 7) -> pd.DataFrame:
    """Add the features a fraud team computes from the transaction log.

    For a transaction at time ``t`` of customer ``c`` at terminal ``m``:

    * ``amount``; ``is_weekend`` and ``is_night`` (before 06:00);
    * ``customer_nb_tx_{w}d`` and ``customer_mean_amount_{w}d``: number and mean amount of
      ``c``'s transactions in ``(t - w days, t]``, this one included, for ``w`` in 1, 7, 30;
    * ``terminal_nb_tx_{w}d`` and ``terminal_risk_{w}d``: number of ``m``'s transactions and their
      fraud rate in ``(t - D - w, t - D]`` where ``D`` is the label delay: a fraud is known only
      ``D`` days after it happens, so the most recent days cannot be used (0 when no transaction).

    Parameters
    ----------
    transactions : DataFrame
        As returned by :func:`simulate_transactions` (needs ``timestamp``, ``customer_id``,
        ``terminal_id``, ``amount``, ``is_fraud``).
    label_delay_days : int, default 7
        ``D`` above.

    Returns
    -------
    DataFrame
        The same rows in the same order, with the feature columns of :func:`feature_columns`.
    """
    out = transactions.copy()
    seconds = ((out["timestamp"] - START_DATE).dt.total_seconds()).to_numpy(dtype=np.float64)
    out["is_weekend"] = (out["timestamp"].dt.day_of_week >= 5).astype(np.int64)
    out["is_night"] = (out["timestamp"].dt.hour < 6).astype(np.int64)
    amount = out["amount"].to_numpy(dtype=np.float64)
    fraud = out["is_fraud"].to_numpy(dtype=np.float64)
    customer = out["customer_id"].to_numpy()
    terminal = out["terminal_id"].to_numpy()
    delay = label_delay_days * SECONDS_PER_DAY
    for w in WINDOWS_DAYS:
        width = w * SECONDS_PER_DAY
        count, (total,) = _window_sums(customer, seconds, [amount], width, 0.0)
        out[f"customer_nb_tx_{w}d"] = count
        out[f"customer_mean_amount_{w}d"] = total / np.maximum(count, 1)
        count, (frauds,) = _window_sums(terminal, seconds, [fraud], delay + width, delay)
        out[f"terminal_nb_tx_{w}d"] = count
        out[f"terminal_risk_{w}d"] = np.where(count > 0, frauds / np.maximum(count, 1), 0.0)
    return out


def feature_columns() -> list[str]:
    """Names of the columns :func:`add_features` adds, plus ``amount``, in model order."""
    names = ["amount", "is_weekend", "is_night"]
    for w in WINDOWS_DAYS:
        names += [f"customer_nb_tx_{w}d", f"customer_mean_amount_{w}d"]
    for w in WINDOWS_DAYS:
        names += [f"terminal_nb_tx_{w}d", f"terminal_risk_{w}d"]
    return names


@dataclass
class TransactionData:
    """Labelled transactions in time order, as the pipeline wants them.

    Attributes
    ----------
    features : DataFrame
        Numeric model inputs, one row per transaction, no missing or infinite value.
    y : ndarray of int
        1 for fraud, 0 for genuine.
    time : ndarray of datetime64 or None
        Transaction times (sorted), or ``None`` when the file had no time column.
    amount : ndarray of float or None
        Transaction amounts (>= 0), or ``None`` when unknown.
    scenario : ndarray of int or None
        The simulator's fraud scenario (0 genuine, 1, 2, 3); ``None`` for other data.
    preview : DataFrame
        The first rows as read, for the report.
    source : str
        Where the data came from.
    fingerprint : str
        SHA-256 of the canonical data.
    kind : str
        ``"simulated"``, ``"file"`` or ``"openml"``.
    clusters : ndarray or None
        The unit each row belongs to for resampling (an incident, a customer), or ``None``
        when every transaction is resampled on its own.
    cluster_unit : str
        What a cluster is, in words (the resampling unit the report and the JSON state).
    segment : ndarray of bool or None
        Customer segment of each row for the calibration-by-segment check: ``True`` for a
        customer with little history (see :data:`LITTLE_HISTORY`), ``None`` when unknown.
    card : ndarray or None
        The card (customer) of each row, for card precision@k; ``None`` when unknown.
    loading : DataLoading or None
        What the loader did to a user's table (labels, missing values, features, file
        dialect); ``None`` for the simulated data.
    """

    features: pd.DataFrame
    y: np.ndarray
    time: np.ndarray | None
    amount: np.ndarray | None
    scenario: np.ndarray | None
    preview: pd.DataFrame
    source: str
    fingerprint: str
    kind: str
    clusters: np.ndarray | None = None
    cluster_unit: str = "transactions"
    segment: np.ndarray | None = None
    card: np.ndarray | None = None
    loading: DataLoading | None = None


LITTLE_HISTORY = 5
"""A customer with at most this many payments in the 30 days up to a payment (that one
included) has "little history": its spending profile, which the leaked-card features compare
against, rests on a handful of payments. The simulator has no sign-up date, so history length
stands in for "new customer"."""


INCIDENT_UNIT = ("incidents (a compromised terminal, a leaked card, or the single transaction "
                 "for an isolated large payment and for every genuine payment)")


def incidents(scenario: np.ndarray, terminal: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """The incident each simulated transaction belongs to, as an integer label.

    Frauds of a compromised terminal share the terminal's incident, frauds of a leaked card the
    customer's; an isolated large payment (scenario 1) and every genuine payment are incidents
    of their own. A terminal compromised twice counts as one incident (conservative: it only
    widens intervals).
    """
    scenario = np.asarray(scenario)
    n = scenario.size
    n_terminals = int(np.max(terminal)) + 1 if n else 0
    n_customers = int(np.max(customer)) + 1 if n else 0
    label = n_terminals + n_customers + np.arange(n, dtype=np.int64)
    label = np.where(scenario == 2, terminal, label)
    return np.where(scenario == 3, n_terminals + customer, label).astype(np.int64)


def load_simulated(n_customers: int = 2500, n_terminals: int = 2000, n_days: int = 120,
                   label_delay_days: int = 7, random_state: int = 0) -> TransactionData:
    """Simulate transactions, add their features and package them as :class:`TransactionData`."""
    transactions = simulate_transactions(n_customers, n_terminals, n_days, random_state)
    frame = add_features(transactions, label_delay_days)
    features = frame[feature_columns()].astype(np.float64)
    return TransactionData(
        features=features,
        y=frame["is_fraud"].to_numpy(dtype=np.int64),
        time=frame["timestamp"].to_numpy(),
        amount=frame["amount"].to_numpy(dtype=np.float64),
        scenario=frame["fraud_scenario"].to_numpy(dtype=np.int64),
        preview=frame.head(8),
        source=(f"simulated transactions ({n_customers:,} customers, {n_terminals:,} terminals, "
                f"{n_days} days, seed {random_state})"),
        fingerprint=fingerprint_frame(transactions),
        kind="simulated",
        clusters=incidents(frame["fraud_scenario"].to_numpy(), frame["terminal_id"].to_numpy(),
                           frame["customer_id"].to_numpy()),
        cluster_unit=INCIDENT_UNIT,
        segment=frame["customer_nb_tx_30d"].to_numpy() <= LITTLE_HISTORY,
        card=frame["customer_id"].to_numpy(),
    )


def binary_target(frame: pd.DataFrame, target: str, positive: str | None = None
                  ) -> tuple[np.ndarray, LabelMapping]:
    """The 0/1 fraud labels in ``frame[target]`` and how they were read.

    Booleans, 0/1 and the usual pairs (yes/no, true/false, pos/neg ...) are recognised; any other
    two values need ``positive`` (``--positive``), the value that means fraud.

    Raises
    ------
    DataError
        The column is missing, is not binary, is not a recognised pair without ``positive``, or
        holds one class only.
    ConfigError
        ``positive`` is not a value of the column.
    """
    require_columns(frame, [target], source="the data (set the label column with --target)")
    labels, mapping = binary_labels(frame[target], target, positive)
    if labels.min() == labels.max():
        only = mapping.positive if labels[0] == 1 else mapping.negative
        raise DataError(f"target column {target!r} has only the value {only!r}; both frauds "
                        f"and genuine transactions are needed")
    return labels.astype(np.int64), mapping


def _time_column(frame: pd.DataFrame, time: str, time_format: str | None = None) -> pd.Series:
    """``frame[time]`` as timestamps. Numbers are read as seconds from an arbitrary origin, as
    in the usual export of the credit-card fraud data (``Time``)."""
    return datetime_column(frame, time, numeric_unit="s", time_format=time_format)


@dataclass(frozen=True)
class FileReading:
    """How a delimited text file was read (from ``frame.attrs`` of :func:`read_table`).

    Attributes
    ----------
    delimiter : str
        ``"comma"``, ``"semicolon"``, ``"tab"`` or ``"pipe"``.
    encoding : str
        The text encoding, as Python names it (``"utf-8-sig"`` is UTF-8, with or without a
        byte-order mark).
    decimal : str
        ``"."`` or ``","`` (decimal commas).
    byte_order_mark : bool
        Whether the file began with a UTF-8 byte-order mark.
    detected : list of str
        Which of ``"delimiter"``, ``"encoding"`` and ``"decimal mark"`` were detected rather
        than given with ``--sep`` and ``--encoding``.
    """

    delimiter: str
    encoding: str
    decimal: str
    byte_order_mark: bool
    detected: list[str]

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> FileReading | None:
        """The record of a text file's ``frame.attrs``; ``None`` for Parquet or a DataFrame,
        which have no delimiter or encoding."""
        if "sep" not in attrs:
            return None
        names = {"sep": "delimiter", "encoding": "encoding", "decimal": "decimal mark"}
        return cls(delimiter=DELIMITERS.get(attrs["sep"], attrs["sep"]),
                   encoding=attrs["encoding"], decimal=attrs["decimal"],
                   byte_order_mark=bool(attrs.get("byte_order_mark", False)),
                   detected=[what for name, what in names.items()
                             if name in attrs.get("detected", ())])


@dataclass(frozen=True)
class MissingHandling:
    """What was done about missing values in the columns the study uses.

    Attributes
    ----------
    policy : str
        ``"drop"`` (also the default), ``"impute"`` or ``"error"`` (nothing was missing).
    default : bool
        Whether no ``--missing`` was given.
    max_dropped_share : float
        The largest share of rows the default drops.
    rows_before, rows_after, rows_dropped : int
        Rows before and after, and their difference.
    missing_by_column : dict of str to int
        Missing cells per column used (only columns with any).
    filled_with : dict of str to object
        With ``impute``: the value each feature or amount column's missing cells received.
    dropped_for : list of str
        With ``impute``: the target, time and cluster columns whose missing values removed their
        rows, because a label, a time or a group is never guessed from other rows.
    """

    policy: str
    default: bool
    max_dropped_share: float
    rows_before: int
    rows_after: int
    rows_dropped: int
    missing_by_column: dict[str, int]
    filled_with: dict[str, Any]
    dropped_for: list[str]


@dataclass(frozen=True)
class DataLoading:
    """What the loader did to a user's table, stated in the report's data section.

    Attributes
    ----------
    reading : FileReading or None
        How a text file was read; ``None`` for Parquet or a DataFrame.
    labels : LabelMapping
        Which value of the target became fraud (1).
    missing : MissingHandling
        What was done about missing values.
    features : EncodingReport
        Which columns became which features.
    dropped : list of str
        Columns left out of the features with ``--drop``.
    not_listed : list of str
        Columns left out because ``--columns`` does not list them.
    """

    reading: FileReading | None
    labels: LabelMapping
    missing: MissingHandling
    features: EncodingReport
    dropped: list[str]
    not_listed: list[str]


def _check_named_columns(frame: pd.DataFrame, source: str, **named: tuple[str, ...]) -> None:
    """Raise DataError naming the first option (``columns=...`` is ``--columns``) that names a
    column the table does not have."""
    for option_name, names in named.items():
        unknown = [name for name in names if name not in frame.columns]
        if unknown:
            shown = ", ".join(repr(c) for c in frame.columns[:12])
            more = " …" if frame.shape[1] > 12 else ""
            raise DataError(f"--{option_name} names {', '.join(repr(c) for c in unknown)}, not "
                            f"a column of {source}; its columns are {shown}{more}")


def _identifier_columns(frame: pd.DataFrame, candidates: list[str],
                        categorical: tuple[str, ...]) -> list[str]:
    """Text columns that name rows rather than describe them; encode_features leaves them out,
    so their missing values must not cost rows."""
    return [name for name in candidates if name not in categorical
            and is_categorical(frame[name]) and is_identifier(frame[name])]


# Columns whose missing values are never imputed: a median label or timestamp would be made up.
UNIMPUTABLE = ("label", "time", "group")


def _unimputable_note(frame: pd.DataFrame, keys: list[str]) -> str:
    """What ``--missing impute`` would do about missing values in ``keys``: drop their rows, if
    few enough."""
    names = _and_names(keys)
    if frame[keys].isna().any(axis=1).mean() > MAX_DROPPED_SHARE:
        return (f"a missing value in {names} is never imputed (a {'/'.join(UNIMPUTABLE)} is not "
                f"guessed), so only --missing drop or filling the file helps there")
    return (f"--missing impute would drop the rows missing {names} (a "
            f"{'/'.join(UNIMPUTABLE)} is not guessed) and fill the other columns")


def _and_names(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def apply_missing_policy(frame: pd.DataFrame, keys: list[str], values: list[str],
                         policy: str | None) -> tuple[pd.DataFrame, MissingHandling]:
    """Apply ``--missing`` to the columns used: ``keys`` (target, time, cluster) and ``values``
    (amount, features).

    A missing label, time or group is never imputed: with ``impute`` those rows are dropped
    (at most :data:`~casestudies.tables.MAX_DROPPED_SHARE` of the rows, else an error), and only
    the ``values`` columns are imputed.

    Raises
    ------
    DataError
        One line naming the columns, the counts and ``--missing``.
    """
    rows = len(frame)
    if policy != "impute":
        try:
            kept, report = handle_missing(frame, keys + values, policy)
        except DataError as exc:
            missing_keys = [name for name in keys if frame[name].isna().any()]
            if not missing_keys:
                raise
            raise DataError(f"{exc}; {_unimputable_note(frame, missing_keys)}") from exc
        return kept, MissingHandling(
            report.policy, report.default, MAX_DROPPED_SHARE, rows, report.rows_after,
            report.rows_dropped, dict(report.missing_by_column), {}, [])
    incomplete = frame[keys].isna().any(axis=1)
    key_counts = {name: int(frame[name].isna().sum()) for name in keys if frame[name].isna().any()}
    if incomplete.mean() > MAX_DROPPED_SHARE:
        listing = ", ".join(f"{name!r} ({count:,} of {rows:,})"
                            for name, count in key_counts.items())
        raise DataError(f"{incomplete.mean():.0%} of rows miss a value in {listing}, which "
                        f"--missing impute does not fill (a {'/'.join(UNIMPUTABLE)} is not "
                        f"guessed) and drops only up to {MAX_DROPPED_SHARE:.0%} of rows; use "
                        f"--missing drop or fill them in the file")
    kept = frame.loc[~incomplete].reset_index(drop=True)
    filled, report = handle_missing(kept, values, "impute")
    return filled, MissingHandling(
        "impute", False, MAX_DROPPED_SHARE, rows, len(filled), rows - len(filled),
        {**key_counts, **report.missing_by_column}, dict(report.filled_with), list(key_counts))


def from_frame(frame: pd.DataFrame, target: str, time: str | None = None,
               amount: str | None = None, *, source: str, kind: str = "file",
               time_format: str | None = None, cluster: str | None = None,
               positive: str | None = None, missing: str | None = None,
               columns: tuple[str, ...] = (), drop: tuple[str, ...] = (),
               categorical: tuple[str, ...] = ()) -> TransactionData:
    """Validate a table of labelled transactions into :class:`TransactionData`.

    The features are ``columns`` (default: every column other than the target, the time and the
    cluster, the amount included) less ``drop``: numbers as they are, text and ``categorical``
    columns one-hot encoded, identifier-like text columns left out (see
    :func:`casestudies.tables.encode_features`). Missing values in the columns used are handled
    first (:func:`apply_missing_policy`), then the target is read as 0/1
    (:func:`binary_target`). Rows are put in time order when ``time`` is given. ``cluster``
    names the column whose values group dependent rows (a customer, a card, an incident):
    intervals then resample its values, else single transactions. What was done is recorded in
    ``TransactionData.loading``.

    Raises
    ------
    DataError
        Missing column, missing values the policy refuses, non-binary target, unparseable time,
        negative amount, infinite feature values, or no feature.
    ConfigError
        ``positive`` is not a value of the target.
    """
    require_columns(frame, [target, time, amount, cluster], source=source)
    _check_named_columns(frame, source, columns=columns, drop=drop, categorical=categorical)
    roles = [name for name in (target, time, cluster) if name is not None]
    candidates = list(columns) if columns else [
        name for name in frame.columns if name not in roles and name not in drop]
    identifiers = _identifier_columns(frame, candidates, categorical)
    used = [name for name in candidates if name not in identifiers]
    values = [name for name in dict.fromkeys([amount, *used]) if name is not None]
    preview = frame.head(8)
    reading = FileReading.from_attrs(frame.attrs)
    frame, missing_handling = apply_missing_policy(frame, roles, values, missing)
    labels, mapping = binary_target(frame, target, positive)
    order = np.arange(len(frame))
    times = None
    if time is not None:
        parsed = _time_column(frame, time, time_format)
        order = np.argsort(parsed.to_numpy(), kind="stable")
        times = parsed.to_numpy()[order]
    amounts = None
    if amount is not None:
        amounts_read = numeric_column(frame, amount)
        if (amounts_read < 0).any():
            raise DataError(f"amount column {amount!r} has {int((amounts_read < 0).sum())} "
                            "negative value(s); amounts must be 0 or more")
        amounts = amounts_read.to_numpy(dtype=np.float64)[order]
    clusters = None
    if cluster is not None:
        clusters = pd.factorize(frame[cluster], sort=False)[0].astype(np.int64)[order]
    for name in used:  # infinite numbers are not "missing": they are refused, naming the column
        if not (name in categorical or is_categorical(frame[name])):
            numeric_column(frame, name)
    features, encoding = encode_features(frame, candidates, categorical)
    features = features.iloc[order].reset_index(drop=True)
    canonical = features.assign(**{"__target__": labels[order]})
    loading = DataLoading(
        reading=reading, labels=mapping, missing=missing_handling, features=encoding,
        dropped=list(drop),
        not_listed=([name for name in frame.columns
                     if name not in candidates and name not in roles] if columns else []))
    return TransactionData(
        features=features, y=labels[order], time=times, amount=amounts, scenario=None,
        preview=preview, source=source, fingerprint=fingerprint_frame(canonical), kind=kind,
        clusters=clusters, loading=loading,
        cluster_unit=(f"values of the column {cluster!r}" if cluster is not None
                      else "transactions"),
    )


def load_openml_creditcard() -> TransactionData:
    """OpenML's credit-card fraud data (ULB, 284,807 September-2013 transactions, 492 frauds).

    Downloads through :func:`sklearn.datasets.fetch_openml` (needs internet the first time);
    ``Time`` (seconds since the first transaction) orders the rows, ``Amount`` is the amount and
    ``Class`` the label.
    """
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml(name="creditcard", version=1, as_frame=True)
    except Exception as exc:  # network errors come in many types; the user can only retry
        raise DataError(f"cannot download OpenML 'creditcard' ({type(exc).__name__}: {exc}); "
                        "check the internet connection or pass the CSV with --data") from exc
    frame = bunch.frame.copy()
    frame["Time"] = START_DATE + pd.to_timedelta(pd.to_numeric(frame["Time"]), unit="s")
    frame["Class"] = pd.to_numeric(frame["Class"].astype(str), errors="coerce")
    return from_frame(frame, target="Class", time="Time", amount="Amount",
                      source="OpenML creditcard (ULB, September 2013)", kind="openml")


def load_data(config) -> TransactionData:
    """The data a :class:`~casestudies.calibration.config.CalibrationConfig` asks for."""
    if config.openml == "creditcard":
        return load_openml_creditcard()
    if config.data:
        frame = read_table(config.data, sep=config.sep, encoding=config.encoding)
        return from_frame(frame, config.target, config.time, config.amount,
                          source=source_name(config.data), time_format=config.time_format,
                          cluster=config.cluster, positive=config.positive,
                          missing=config.missing, columns=config.columns, drop=config.drop,
                          categorical=config.categorical)
    return load_simulated(config.n_customers, config.n_terminals, config.n_days,
                          config.label_delay_days, config.seed)
