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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from casestudies.errors import DataError
from casestudies.io import (
    datetime_column,
    fingerprint_frame,
    numeric_column,
    read_table,
    require_columns,
    source_name,
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
    dropped_columns : list of str
        Non-numeric columns left out of the features.
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
    dropped_columns: list[str] = field(default_factory=list)
    clusters: np.ndarray | None = None
    cluster_unit: str = "transactions"
    segment: np.ndarray | None = None
    card: np.ndarray | None = None


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


def binary_target(frame: pd.DataFrame, target: str) -> np.ndarray:
    """The 0/1 fraud labels in ``frame[target]``; raise DataError if the column is not binary."""
    require_columns(frame, [target], source="the data (set the label column with --target)")
    raw = frame[target]
    if raw.isna().any():
        raise DataError(f"target column {target!r} has {int(raw.isna().sum())} missing value(s); "
                        "drop those rows first")
    if pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=np.int64)
    values = pd.to_numeric(raw, errors="coerce")
    levels = set(values.dropna().unique())
    if values.isna().any() or not levels <= {0, 1}:
        shown = ", ".join(repr(_plain(v)) for v in list(raw.unique())[:5])
        raise DataError(f"target column {target!r} must hold 0/1 (or true/false) labels, "
                        f"found values such as {shown}")
    if len(levels) < 2:
        raise DataError(f"target column {target!r} has only the value {_plain(levels.pop())!r}; "
                        "both frauds (1) and genuine transactions (0) are needed")
    return values.to_numpy(dtype=np.int64)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so that messages show ``1.5``, not
    ``np.float64(1.5)``."""
    return value.item() if isinstance(value, np.generic) else value


def _time_column(frame: pd.DataFrame, time: str, time_format: str | None = None) -> pd.Series:
    """``frame[time]`` as timestamps. Numbers are read as seconds from an arbitrary origin, as
    in the usual export of the credit-card fraud data (``Time``)."""
    return datetime_column(frame, time, numeric_unit="s", time_format=time_format)


def from_frame(frame: pd.DataFrame, target: str, time: str | None = None,
               amount: str | None = None, *, source: str, kind: str = "file",
               time_format: str | None = None, cluster: str | None = None) -> TransactionData:
    """Validate a table of labelled transactions into :class:`TransactionData`.

    Every numeric column other than the target, the time and the cluster becomes a feature (the
    amount too); text columns are left out and listed. Rows are put in time order when ``time``
    is given. ``cluster`` names the column whose values group dependent rows (a customer, a
    card, an incident): intervals then resample its values, else single transactions.

    Raises
    ------
    DataError
        Missing column, non-binary target, unparseable time, negative or missing amount, missing
        or infinite feature values, or no numeric feature.
    """
    require_columns(frame, [target, time, amount, cluster], source=source)
    labels = binary_target(frame, target)
    preview = frame.head(8)
    order = np.arange(len(frame))
    times = None
    if time is not None:
        parsed = _time_column(frame, time, time_format)
        order = np.argsort(parsed.to_numpy(), kind="stable")
        times = parsed.to_numpy()[order]
    amounts = None
    if amount is not None:
        values = numeric_column(frame, amount)
        if (values < 0).any():
            raise DataError(f"amount column {amount!r} has {int((values < 0).sum())} negative "
                            "value(s); amounts must be 0 or more")
        amounts = values.to_numpy(dtype=np.float64)[order]
    clusters = None
    if cluster is not None:
        raw = frame[cluster]
        if raw.isna().any():
            raise DataError(f"cluster column {cluster!r} has {int(raw.isna().sum())} missing "
                            "value(s); give every row its customer/card/incident, or drop "
                            "--cluster")
        clusters = pd.factorize(raw, sort=False)[0].astype(np.int64)[order]
    candidates = [c for c in frame.columns if c not in (target, time, cluster)]
    numeric = [c for c in candidates
               if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    dropped = [c for c in candidates if c not in numeric]
    if not numeric:
        raise DataError(f"{source} has no numeric feature column besides the target "
                        f"{target!r}; add the model inputs as numeric columns")
    features = pd.DataFrame({c: numeric_column(frame, c) for c in numeric}).iloc[order]
    features = features.reset_index(drop=True)
    canonical = features.assign(**{"__target__": labels[order]})
    return TransactionData(
        features=features, y=labels[order], time=times, amount=amounts, scenario=None,
        preview=preview, source=source, fingerprint=fingerprint_frame(canonical), kind=kind,
        dropped_columns=dropped, clusters=clusters,
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
        frame = read_table(config.data)
        return from_frame(frame, config.target, config.time, config.amount,
                          source=source_name(config.data), time_format=config.time_format,
                          cluster=config.cluster)
    return load_simulated(config.n_customers, config.n_terminals, config.n_days,
                          config.label_delay_days, config.seed)
