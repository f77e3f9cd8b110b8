"""Options of the calibration study: a frozen dataclass with every parameter, its default, its
range and its value under ``--quick``; the command line is generated from it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from casestudies.config import (
    StudyConfig,
    categorical_option,
    data_option,
    encoding_option,
    missing_option,
    option,
    positive_option,
    quick_option,
    seed_option,
    sep_option,
    time_format_option,
)
from casestudies.errors import ConfigError
from casestudies.options import comma_numbers

OPENML_DATASETS = ("creditcard",)
# Bootstrap replicates of a --quick run, and the fewest that give a usable percentile interval.
QUICK_BOOTSTRAP = 40
MIN_BOOTSTRAP = 20
# Beyond this a run takes hours for intervals that no longer change in the digits shown.
MAX_BOOTSTRAP = 10_000


def parse_budgets(value: Any) -> tuple[float, ...]:
    """``--budgets`` in percent of transactions (``"0.5,1"`` or ``[0.5, 1]``), as fractions."""
    percents = comma_numbers(value, "--budgets")
    if any(not (math.isfinite(v) and 0 < v < 100) for v in percents):
        shown = ",".join(f"{v:g}" for v in percents)
        raise ConfigError(f"--budgets must be percentages between 0 and 100, not {shown}")
    return tuple(v / 100 for v in percents)


@dataclass(frozen=True)
class CalibrationConfig(StudyConfig):
    """Every parameter of a calibration run.

    Attributes
    ----------
    data : str or None
        A user's CSV/Parquet file of labelled transactions; ``None`` simulates them.
    target : str
        Binary fraud column of the user's file (the simulator's is ``is_fraud``).
    positive : str or None
        The value of ``target`` that means fraud; ``None`` recognises the usual pairs (0/1,
        true/false, yes/no ...).
    time : str or None
        Time column used to order the rows; ``None`` keeps the file's row order.
    amount : str or None
        Transaction amount column; needed for the amount-dependent blocking rule.
    cluster : str or None
        Column of --data grouping dependent rows (customer, card, incident): every interval
        resamples its values; ``None`` resamples transactions (the simulator uses incidents).
    missing : str or None
        What to do with missing values in the columns used: ``"error"``, ``"drop"`` (the rows)
        or ``"impute"``; ``None`` drops them when they are few (see
        :data:`casestudies.tables.MAX_DROPPED_SHARE`), else stops.
    columns : tuple of str
        The feature columns of --data; empty: every column except the target, time and cluster.
    drop : tuple of str
        Columns of --data left out of the features.
    categorical : tuple of str
        Integer columns of --data that are codes, one-hot encoded like text columns.
    sep, encoding : str or None
        Delimiter and text encoding of a text --data file; ``None`` detects them.
    openml : str or None
        ``"creditcard"`` downloads OpenML's credit-card fraud data instead of simulating.
    seed : int
        Seed of the simulator, the models and every resampling.
    quick : bool
        Small simulation and few bootstrap replicates (tests, a first look).
    cost_fp : float
        Cost of blocking a genuine transaction (friction, support call).
    cost_fn : float
        Cost of letting a fraud through, for the constant-cost threshold ``t*``.
    cost_step_up : float
        Cost of a step-up check (approve / step-up / block policy) to a genuine customer.
    step_up_catch : float
        Share of frauds a step-up check stops.
    train_fraction, calibration_fraction : float
        Shares of the time-ordered rows for training and for calibration; the rest is test.
    gap_days : float
        Days dropped between consecutive blocks (labels of the last days are not known yet).
    budgets : tuple of float
        Alert budgets: fractions of transactions sent to review, highest scores first.
    n_bootstrap : int
        Bootstrap replicates of every confidence interval.
    confidence : float
        Level of every interval: bootstrap, Wilson, noise floor and consistency bars.
    n_noise_floor : int
        Label resamplings from the predictions for the noise floor of each metric.
    n_bins : int
        Bins of the ECE and the reliability diagram.
    min_calibration_positives : int
        Fewest frauds the calibration block must hold.
    n_customers, n_terminals, n_days : int
        Size of the simulation.
    label_delay_days : int
        Delay after which a fraud label is known (used by the terminal-risk features).
    """

    data: str | None = data_option("labelled transactions, one row each")
    target: str = option("is_fraud", "fraud column of --data: 0/1, true/false, yes/no ... or two "
                                     "values with --positive", metavar="COL")
    positive: str | None = positive_option("--target")
    time: str | None = option(
        None, "time column of --data, used to split train | calibration | test in time order: "
              "dates, or numbers read as seconds (default: the file's row order)", metavar="COL")
    time_format: str | None = time_format_option()
    amount: str | None = option(
        None, "amount column of --data, for the amount-dependent blocking rule (default: none; "
              "the rule is then skipped)", metavar="COL")
    cluster: str | None = option(
        None, "column of --data whose values group dependent transactions (customer, card or "
              "incident id): every interval resamples whole groups (default: single "
              "transactions)", metavar="COL")
    missing: str | None = missing_option()
    columns: tuple[str, ...] = option(
        (), "the feature columns of --data, comma-separated (default: every column except "
            "--target, --time and --cluster; the amount is a feature unless left out)",
        metavar="COLS")
    drop: tuple[str, ...] = option((), "columns of --data to leave out of the features, "
                                       "comma-separated", metavar="COLS")
    categorical: tuple[str, ...] = categorical_option()
    sep: str | None = sep_option()
    encoding: str | None = encoding_option()
    openml: str | None = option(
        None, "download OpenML's credit-card fraud data (needs internet) instead of simulating "
              "transactions", choices=OPENML_DATASETS)
    seed: int = seed_option()
    quick: bool = quick_option("a smaller simulation and few bootstrap replicates")
    cost_fp: float = option(5.0, "cost of blocking a genuine transaction", gt=0)
    cost_fn: float = option(100.0, "cost of missing a fraud, for the constant-cost threshold",
                            gt=0)
    cost_step_up: float = option(1.0, "cost of a step-up check (3-D Secure challenge) to a "
                                      "genuine customer, for the three-action policy", gt=0)
    step_up_catch: float = option(0.9, "share of frauds a step-up check stops, for the "
                                       "three-action policy", gt=0, lt=1)
    train_fraction: float = 0.5
    calibration_fraction: float = 0.25
    gap_days: float = option(7.0, "days left out between train, calibration and test for the "
                                  "label delay (needs --time on your data)", ge=0, le=365)
    budgets: tuple[float, ...] = option(
        (0.005, 0.01), "alert budgets in percent of transactions, comma-separated",
        metavar="PERCENTS", parse=parse_budgets, show_default="0.5,1", gt=0, lt=1)
    n_bootstrap: int = option(200, "bootstrap replicates per confidence interval",
                              flag="--bootstrap", ge=MIN_BOOTSTRAP, le=MAX_BOOTSTRAP,
                              quick=QUICK_BOOTSTRAP)
    confidence: float = 0.95
    n_noise_floor: int = option(200, "label resamplings for the noise floor of each metric "
                                     "(default: as many as --bootstrap)", flag=False,
                                ge=MIN_BOOTSTRAP, le=MAX_BOOTSTRAP)
    n_bins: int = 15
    min_calibration_positives: int = 30
    n_customers: int = option(2500, "simulated customers", flag=False, ge=100, le=1_000_000,
                              quick=1200)
    n_terminals: int = option(2000, "simulated terminals", flag=False, ge=100, le=1_000_000,
                              quick=1000)
    n_days: int = option(120, "simulated days", flag=False, ge=30, le=3650, quick=90)
    label_delay_days: int = 7

    @classmethod
    def complete(cls, values: dict[str, Any], given: set[str]) -> dict[str, Any]:
        """The noise floor uses as many label resamplings as the bootstrap has replicates."""
        if "n_noise_floor" not in given:
            values["n_noise_floor"] = values.get("n_bootstrap", cls.n_bootstrap)
        return values

    def check(self) -> None:
        """Rules across options."""
        if self.data is not None and self.openml:
            raise ConfigError("give either --data or --openml, not both")
        if self.cluster is not None and self.data is None:
            raise ConfigError("--cluster names a column of --data; the simulated data are "
                              "resampled by incident already")
        self._check_reading_options()
        self._check_feature_columns()

    def _check_reading_options(self) -> None:
        """Options about reading --data need --data: the simulated and OpenML data are read
        without them."""
        if self.data is not None:
            return
        given = [flag for flag, value in (
            ("--positive", self.positive), ("--missing", self.missing),
            ("--columns", self.columns), ("--drop", self.drop),
            ("--categorical", self.categorical), ("--sep", self.sep),
            ("--encoding", self.encoding)) if value]
        if given:
            raise ConfigError(f"{', '.join(given)} describe{'s' if len(given) == 1 else ''} "
                              f"your --data file; add --data FILE or leave "
                              f"{'it' if len(given) == 1 else 'them'} out")

    def _check_feature_columns(self) -> None:
        """--columns, --drop and --categorical name features: not the target, time or cluster
        columns, and no column in two contradicting lists."""
        roles = {name: flag for flag, name in (("--cluster", self.cluster), ("--time", self.time),
                                               ("--target", self.target)) if name is not None}
        for flag, names in (("--columns", self.columns), ("--drop", self.drop),
                            ("--categorical", self.categorical)):
            taken = [name for name in names if name in roles]
            if taken:
                name = taken[0]
                raise ConfigError(f"{flag} names {name!r}, which is the {roles[name]} column, "
                                  f"not a feature; leave it out of {flag}")
        for first, second, names in (
                ("--columns", "--drop", set(self.columns) & set(self.drop)),
                ("--categorical", "--drop", set(self.categorical) & set(self.drop))):
            if names:
                shown = ", ".join(repr(name) for name in sorted(names))
                raise ConfigError(f"{first} and {second} both name {shown}; a column is either "
                                  f"a feature or left out")
        if self.columns:
            unlisted = [name for name in self.categorical if name not in self.columns]
            if unlisted:
                shown = ", ".join(repr(name) for name in unlisted)
                raise ConfigError(f"--categorical names {shown}, which --columns does not "
                                  f"list; add it to --columns or leave it out of --categorical")

