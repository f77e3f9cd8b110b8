"""Options of the IID audit: a frozen dataclass with every parameter and its default."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from casestudies.errors import ConfigError
from casestudies.options import comma_list

CORRECTIONS = ("holm", "bh")


@dataclass(frozen=True)
class IIDConfig:
    """Every parameter of an IID audit.

    Attributes
    ----------
    data : str or None
        A user's CSV/Parquet file; ``None`` audits the simulated card transactions.
    target, time, group, split : str or None
        Roles of the user's columns: the label a model predicts, the time that orders the rows,
        the unit whose rows share an effect (a customer), and a two-valued train/test column.
    columns : tuple of str or None
        Feature columns to audit; ``None`` takes every column that has no role.
    seed : int
        Seed of the simulations, the models and every resampling.
    quick : bool
        Small simulations and few replicates (tests, a first look).
    alpha : float
        Level of every test, applied to the adjusted p-values.
    correction : str
        ``"holm"`` (family-wise error) or ``"bh"`` (Benjamini-Hochberg false discovery rate).
    folds : int
        Folds of every cross-validation scheme (and splits of TimeSeriesSplit).
    gap : int or None
        Rows left out between training and validation in TimeSeriesSplit; ``None`` takes 1 % of
        the rows that are cross-validated.
    holdout : float
        Share of the latest rows kept as the genuine hold-out when there is no split column.
    replicates : int
        Simulated datasets per scenario for the size and power of the checks (0 skips it).
    sim_rows : int
        Rows of each simulated dataset in the size and power study.
    gallery_rows : int
        Rows of each dataset of the known-truth gallery.
    permutations : int
        Permutations of the energy-distance test.
    max_rows : int
        Rows kept (a random subsample, in time order) for the adversarial classifier and the
        validation comparison; every other check sees all rows.
    max_energy_rows : int
        Rows per side kept for the energy-distance permutation test (quadratic cost).
    max_series : int
        Series longer than this are reduced to this many consecutive block means for ADF, KPSS
        and BDS (whose cost grows with n squared or with the lag search).
    max_levels : int
        Numeric columns with at most this many distinct values are treated as discrete.
    bootstrap : int
        Bootstrap replicates of each confidence interval.
    n_customers, n_terminals, n_days : int
        Size of the default transaction simulation.
    """

    data: str | None = None
    target: str | None = None
    time: str | None = None
    group: str | None = None
    split: str | None = None
    columns: tuple[str, ...] | None = None
    seed: int = 0
    quick: bool = False
    alpha: float = 0.05
    correction: str = "bh"
    folds: int = 5
    gap: int | None = None
    holdout: float = 0.3
    replicates: int = 200
    sim_rows: int = 200
    gallery_rows: int = 600
    permutations: int = 999
    max_rows: int = 20_000
    max_energy_rows: int = 500
    max_series: int = 2_000
    max_levels: int = 10
    bootstrap: int = 200
    n_customers: int = 600
    n_terminals: int = 800
    n_days: int = 90

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"--alpha must be between 0 and 0.5, got {self.alpha}")
        if self.correction not in CORRECTIONS:
            raise ConfigError(f"--correction must be one of {', '.join(CORRECTIONS)}, "
                              f"got {self.correction!r}")
        if self.folds < 2:
            raise ConfigError(f"--folds must be at least 2, got {self.folds}")
        if self.gap is not None and self.gap < 0:
            raise ConfigError(f"--gap must be 0 or more rows, got {self.gap}")
        if not 0.05 <= self.holdout <= 0.5:
            raise ConfigError(f"--holdout must be between 0.05 and 0.5, got {self.holdout}")
        if self.replicates < 0:
            raise ConfigError(f"--replicates must be 0 (skip) or more, got {self.replicates}")
        if self.sim_rows < 60:
            raise ConfigError(f"--sim-rows must be at least 60, got {self.sim_rows}")
        if self.permutations < 19:
            raise ConfigError(f"--permutations must be at least 19 for a p-value below 0.05, "
                              f"got {self.permutations}")
        if self.max_rows < 500:
            raise ConfigError(f"--max-rows must be at least 500, got {self.max_rows}")
        if self.max_series < 100:
            raise ConfigError(f"--max-series must be at least 100, got {self.max_series}")
        roles = [r for r in (self.target, self.time, self.group, self.split) if r is not None]
        if len(set(roles)) < len(roles):
            raise ConfigError("--target, --time, --group and --split must name different columns")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The study's own options (``--data``, ``--out``, ``--seed``, ``--quiet`` are common)."""
    parser.add_argument("--target", metavar="COL",
                        help="column a model predicts (0/1 for classification, numbers for "
                             "regression); without it the validation comparison is skipped")
    parser.add_argument("--time", metavar="COL",
                        help="column ordering the rows (dates or numbers); without it the file's "
                             "row order is taken as time order")
    parser.add_argument("--group", metavar="COL",
                        help="column whose rows share an effect (customer, patient, store): "
                             "checks groups across the split and adds GroupKFold")
    parser.add_argument("--split", metavar="COL",
                        help="two-valued train/test column (the value 'test' is the test side, "
                             "else the later one in sorted order): compared instead of early vs "
                             "late rows")
    parser.add_argument("--columns", metavar="COL,COL",
                        help="comma-separated feature columns to audit (default: every column "
                             "without a role)")
    parser.add_argument("--quick", action="store_true",
                        help="small simulations and few replicates, for a first look")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="level of every test after adjustment (default: %(default)s)")
    parser.add_argument("--correction", choices=CORRECTIONS, default="bh",
                        help="multiple-testing adjustment: holm (family-wise) or bh "
                             "(Benjamini-Hochberg false discovery rate) (default: %(default)s)")
    parser.add_argument("--folds", type=int, default=5,
                        help="folds of every cross-validation scheme (default: %(default)s)")
    parser.add_argument("--gap", type=int, default=None,
                        help="rows skipped between training and validation in TimeSeriesSplit "
                             "(default: 1%% of the rows)")
    parser.add_argument("--holdout", type=float, default=0.3,
                        help="share of the latest rows kept as the hold-out (default: "
                             "%(default)s)")
    parser.add_argument("--replicates", type=int, default=None,
                        help="simulated datasets per scenario for the size and power of the "
                             "checks, 0 to skip (default: 200, 40 with --quick)")
    parser.add_argument("--permutations", type=int, default=None,
                        help="permutations of the energy-distance test (default: 999, 199 with "
                             "--quick)")
    parser.add_argument("--max-rows", type=int, default=20_000,
                        help="rows subsampled for the adversarial classifier and the validation "
                             "comparison (default: %(default)s)")
    parser.add_argument("--max-series", type=int, default=2_000,
                        help="longer series are reduced to this many block means for ADF, KPSS "
                             "and BDS (default: %(default)s)")


def make_config(args: argparse.Namespace) -> IIDConfig:
    """Turn parsed options into an :class:`IIDConfig` (raises ConfigError on bad values)."""
    quick = bool(getattr(args, "quick", False))
    columns = None
    if getattr(args, "columns", None):
        columns = comma_list(args.columns)
        if not columns:
            raise ConfigError("--columns is empty; give comma-separated column names")
    replicates = args.replicates if args.replicates is not None else (40 if quick else 200)
    permutations = args.permutations if args.permutations is not None else (
        199 if quick else 999)
    sizes = dict(sim_rows=120, gallery_rows=300, bootstrap=100, max_energy_rows=200,
                 n_customers=200, n_terminals=300, n_days=60) if quick else {}
    return IIDConfig(
        data=args.data, target=args.target, time=args.time, group=args.group, split=args.split,
        columns=columns, seed=args.seed, quick=quick, alpha=args.alpha,
        correction=args.correction, folds=args.folds, gap=args.gap, holdout=args.holdout,
        replicates=replicates, permutations=permutations, max_rows=args.max_rows,
        max_series=args.max_series, **sizes,
    )
