"""Options of the calibration study: a frozen dataclass with every parameter, its default, its
range and its value under ``--quick``; the command line is generated from it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from casestudies.config import (
    StudyConfig,
    data_option,
    option,
    quick_option,
    seed_option,
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
        0/1 fraud column of the user's file (the simulator's is ``is_fraud``).
    time : str or None
        Time column used to order the rows; ``None`` keeps the file's row order.
    amount : str or None
        Transaction amount column; needed for the amount-dependent blocking rule.
    cluster : str or None
        Column of --data grouping dependent rows (customer, card, incident): every interval
        resamples its values; ``None`` resamples transactions (the simulator uses incidents).
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
    target: str = option("is_fraud", "0/1 fraud column of --data", metavar="COL")
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

