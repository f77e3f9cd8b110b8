"""Options of the calibration study: a frozen dataclass with every parameter and its default."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from casestudies.errors import ConfigError
from casestudies.options import comma_numbers

OPENML_DATASETS = ("creditcard",)
# Bootstrap replicates of a --quick run, and the fewest that give a usable percentile interval.
QUICK_BOOTSTRAP = 40
MIN_BOOTSTRAP = 20


@dataclass(frozen=True)
class CalibrationConfig:
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

    data: str | None = None
    target: str = "is_fraud"
    time: str | None = None
    amount: str | None = None
    openml: str | None = None
    seed: int = 0
    quick: bool = False
    cost_fp: float = 5.0
    cost_fn: float = 100.0
    train_fraction: float = 0.5
    calibration_fraction: float = 0.25
    gap_days: float = 7.0
    budgets: tuple[float, ...] = (0.005, 0.01)
    n_bootstrap: int = 200
    confidence: float = 0.95
    n_noise_floor: int = 200
    n_bins: int = 15
    min_calibration_positives: int = 30
    n_customers: int = 2500
    n_terminals: int = 2000
    n_days: int = 120
    label_delay_days: int = 7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The study's own command-line options (``--data``, ``--out``, ``--seed`` are common)."""
    parser.add_argument("--target", default="is_fraud",
                        help="0/1 fraud column of --data (default: %(default)s)")
    parser.add_argument("--time", metavar="COL",
                        help="time column of --data, used to split train | calibration | test "
                             "in time order: dates, or numbers read as seconds (default: the "
                             "file's row order)")
    parser.add_argument("--amount", metavar="COL",
                        help="amount column of --data, for the amount-dependent blocking rule "
                             "(default: none; the rule is then skipped)")
    parser.add_argument("--openml", choices=OPENML_DATASETS,
                        help="download OpenML's credit-card fraud data (needs internet) instead "
                             "of simulating transactions")
    parser.add_argument("--cost-fp", type=float, default=CalibrationConfig.cost_fp,
                        help="cost of blocking a genuine transaction (default: %(default)s)")
    parser.add_argument("--cost-fn", type=float, default=CalibrationConfig.cost_fn,
                        help="cost of missing a fraud, for the constant-cost threshold "
                             "(default: %(default)s)")
    parser.add_argument("--gap-days", type=float, default=CalibrationConfig.gap_days,
                        help="days left out between train, calibration and test for the label "
                             "delay (default: %(default)s; needs --time on your data)")
    parser.add_argument("--budgets", default="0.5,1",
                        help="alert budgets in percent of transactions, comma-separated "
                             "(default: %(default)s)")
    parser.add_argument("--bootstrap", type=int,
                        help="bootstrap replicates per confidence interval (default: "
                             f"{CalibrationConfig.n_bootstrap}, {QUICK_BOOTSTRAP} with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="small simulation and few bootstrap replicates, for a first look")


def _parse_budgets(text: str) -> tuple[float, ...]:
    """``--budgets`` in percent, as fractions of transactions."""
    values = tuple(v / 100 for v in comma_numbers(text, "--budgets"))
    if any(not 0 < v < 1 for v in values):
        raise ConfigError(f"--budgets must be percentages between 0 and 100, not {text!r}")
    return values


def make_config(args: argparse.Namespace) -> CalibrationConfig:
    """Turn parsed options into a :class:`CalibrationConfig`; raise ConfigError on bad values."""
    for name in ("cost_fp", "cost_fn"):
        value = getattr(args, name)
        if not value > 0 or value == float("inf"):
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive cost, not {value}")
    if args.gap_days < 0:
        raise ConfigError(f"--gap-days must be 0 or more, not {args.gap_days}")
    if args.bootstrap is not None and args.bootstrap < MIN_BOOTSTRAP:
        raise ConfigError(f"--bootstrap must be at least {MIN_BOOTSTRAP} replicates, "
                          f"not {args.bootstrap}")
    if args.data and args.openml:
        raise ConfigError("give either --data or --openml, not both")
    quick = bool(args.quick)
    n_bootstrap = args.bootstrap
    if n_bootstrap is None:
        n_bootstrap = QUICK_BOOTSTRAP if quick else CalibrationConfig.n_bootstrap
    sizes = dict(n_customers=1200, n_terminals=1000, n_days=90) if quick else {}
    return CalibrationConfig(
        data=args.data, target=args.target, time=args.time, amount=args.amount,
        openml=args.openml, seed=args.seed, quick=quick, cost_fp=float(args.cost_fp),
        cost_fn=float(args.cost_fn), gap_days=float(args.gap_days),
        budgets=_parse_budgets(args.budgets), n_bootstrap=n_bootstrap,
        n_noise_floor=n_bootstrap, **sizes,
    )
