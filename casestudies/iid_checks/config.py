"""Options of the IID audit: a frozen dataclass with every parameter, its default, range and
value under ``--quick``; the command line is generated from it."""

from __future__ import annotations

from dataclasses import dataclass

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

CORRECTIONS = ("holm", "bh")
# Beyond these a run takes hours for intervals and rates that no longer change in the digits
# shown.
MAX_REPLICATES = 5000
MAX_PERMUTATIONS = 100_000


@dataclass(frozen=True)
class IIDConfig(StudyConfig):
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
    drop : tuple of str
        Columns left out of the features.
    categorical : tuple of str
        Integer columns that are codes: audited as categories and one-hot encoded for the
        models, like text columns.
    positive : str or None
        The value of a two-valued target that is the positive class; ``None`` recognises the
        usual pairs (0/1, yes/no, ...).
    missing : str or None
        ``"error"``, ``"drop"`` or ``"impute"`` for missing values in the columns used; ``None``
        drops the rows when they are at most 5 % of the table. Time, group, split and target
        values are never imputed.
    sep, encoding : str or None
        Delimiter and text encoding of a text file; ``None`` detects them.
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
    max_columns : int
        Most feature columns audited; a wider table is audited on its first columns.
    bootstrap : int
        Bootstrap replicates of each confidence interval.
    burn_in : str or None
        Rows earlier than this duration after the first row are left out of the audit and the
        validation (``"37D"``, ``"12h"``, a number; ``"0"``: none); ``None`` takes the
        detected warm-up of the rolling-window features.
    feature_window, label_delay : str or None
        The longest window a feature looks back over and the delay before a label is known:
        time-ordered validation leaves their sum as a gap between training and validation
        rows. ``None``: 30 and 7 days on the default transactions, 0 on a user's file.
    recorded_at : tuple of str
        ``FEATURE=TIME_COLUMN`` pairs: the column holding when each row's value of the feature
        was recorded. A value recorded after the row's time (its prediction moment) could not
        have been used to predict it.
    n_customers, n_terminals, n_days : int
        Size of the default transaction simulation.
    """

    data: str | None = data_option("a table, one row per example")
    target: str | None = option(None, "column a model predicts (0/1 for classification, "
                                      "numbers for regression); without it the validation "
                                      "comparison is skipped", metavar="COL")
    time: str | None = option(None, "column ordering the rows (dates or numbers); without it "
                                    "the file's row order is taken as time order", metavar="COL")
    time_format: str | None = time_format_option()
    group: str | None = option(None, "column whose rows share an effect (customer, patient, "
                                     "store): checks groups across the split and adds GroupKFold",
                               metavar="COL")
    split: str | None = option(None, "two-valued train/test column (the value 'test' is the "
                                     "test side, else the later one in sorted order): compared "
                                     "instead of early vs late rows", metavar="COL")
    columns: tuple[str, ...] | None = option(None, "comma-separated feature columns to audit "
                                                   "(default: every column without a role)",
                                             metavar="COL,COL")
    drop: tuple[str, ...] = option((), "comma-separated columns to leave out of the features",
                                   metavar="COLS")
    categorical: tuple[str, ...] = categorical_option()
    positive: str | None = positive_option("--target")
    missing: str | None = missing_option()
    sep: str | None = sep_option()
    encoding: str | None = encoding_option()
    seed: int = seed_option()
    quick: bool = quick_option("small simulations and few replicates")
    alpha: float = option(0.05, "level of every test after adjustment", gt=0, lt=0.5)
    correction: str = option("bh", "multiple-testing adjustment: holm (family-wise) or bh "
                                   "(Benjamini-Hochberg false discovery rate)",
                             choices=CORRECTIONS)
    folds: int = option(5, "folds of every cross-validation scheme", ge=2, le=100)
    gap: int | None = option(None, "rows skipped between training and validation in "
                                   "TimeSeriesSplit (default: 1% of the rows)", ge=0,
                             le=10_000_000)
    holdout: float = option(0.3, "share of the latest rows kept as the hold-out", ge=0.05,
                            le=0.5)
    replicates: int = option(200, "simulated datasets per scenario for the size and power of "
                                  "the checks, 0 to skip", ge=0, le=MAX_REPLICATES, quick=40)
    sim_rows: int = option(200, "rows of each simulated dataset", flag=False, ge=60, quick=120)
    gallery_rows: int = option(600, "rows of each gallery dataset", flag=False, ge=60, quick=300)
    permutations: int = option(999, "permutations of the energy-distance test (at least 19 for "
                                    "a p-value below 0.05)", ge=19, le=MAX_PERMUTATIONS,
                               quick=199)
    max_rows: int = option(20_000, "rows subsampled for the adversarial classifier and the "
                                   "validation comparison", ge=500, le=10_000_000)
    max_energy_rows: int = option(500, "rows per side of the energy-distance test", flag=False,
                                  ge=20, quick=200)
    max_series: int = option(2_000, "longer series are reduced to this many block means for "
                                    "ADF, KPSS and BDS", ge=100, le=1_000_000)
    max_levels: int = 10
    max_columns: int = option(100, "most feature columns audited: a wider table is audited on "
                                   "its first columns in file order (stated in the report)",
                              ge=1, le=10_000)
    bootstrap: int = option(200, "bootstrap replicates of each interval", flag=False, ge=20,
                            quick=100)
    burn_in: str | None = option(None, "leave out rows earlier than this after the first row "
                                       "(37D, 12h, or a number in the time column's units; 0 "
                                       "for none; default: the detected warm-up of "
                                       "rolling-window features)", metavar="DURATION")
    feature_window: str | None = option(None, "longest look-back window of a feature (default: "
                                              "30D on the default data, 0 otherwise)",
                                        metavar="DURATION")
    label_delay: str | None = option(None, "delay before a label is known (default: 7D on the "
                                           "default data, 0 otherwise)", metavar="DURATION")
    recorded_at: tuple[str, ...] = option((), "FEATURE=TIME_COLUMN: the column holding when "
                                              "each row's value of FEATURE was recorded; rows "
                                              "recorded after their --time are flagged "
                                              "(repeatable, or comma-separated)",
                                          metavar="COL=TIME_COL", repeat=True)
    n_customers: int = option(360, "simulated customers", flag=False, ge=20, quick=120)
    n_terminals: int = option(800, "simulated terminals", flag=False, ge=20, quick=300)
    n_days: int = option(150, "simulated days", flag=False, ge=14, quick=100)

    def check(self) -> None:
        """Rules across options."""
        if self.columns is not None and not self.columns:
            raise ConfigError("--columns is empty; give comma-separated column names")
        for flag, text in (("--burn-in", self.burn_in), ("--feature-window", self.feature_window),
                           ("--label-delay", self.label_delay)):
            if text is not None:
                _check_duration(flag, text)
        roles = [r for r in (self.target, self.time, self.group, self.split) if r is not None]
        if len(set(roles)) < len(roles):
            raise ConfigError("--target, --time, --group and --split must name different columns")
        self._check_table_options(roles)
        self._check_recorded_at(roles)

    @property
    def recorded_pairs(self) -> dict[str, str]:
        """``--recorded-at`` as feature -> column of its recording times."""
        pairs = (item.partition("=") for item in self.recorded_at)
        return {feature.strip(): column.strip() for feature, _, column in pairs}

    def _check_recorded_at(self, roles: list[str]) -> None:
        """Each ``--recorded-at`` item is ``FEATURE=TIME_COLUMN`` with two names, one per
        feature; the feature is not a role column; the times are compared with ``--time``."""
        if not self.recorded_at:
            return
        seen = set()
        for item in self.recorded_at:
            feature, _, column = (part.strip() for part in item.partition("="))
            if "=" not in item or not feature or not column:
                raise ConfigError(f"--recorded-at {item!r} must be FEATURE=TIME_COLUMN, e.g. "
                                  f"balance=balance_updated_at")
            if feature in seen:
                raise ConfigError(f"--recorded-at names {feature!r} twice")
            seen.add(feature)
            if feature in roles:
                raise ConfigError(f"--recorded-at names {feature!r}, which is the --target, "
                                  f"--time, --group or --split column, not a feature")
            if feature in self.drop:
                raise ConfigError(f"--recorded-at names {feature!r}, which --drop leaves out")
        if self.time is None:
            raise ConfigError("--recorded-at compares recording times with each row's "
                              "prediction moment: add --time COL")

    def _check_table_options(self, roles: list[str]) -> None:
        """The options about reading a user's table need one, and the feature options must not
        name a role column (it is not a feature) or contradict each other."""
        given = {"--drop": self.drop, "--categorical": self.categorical,
                 "--positive": self.positive, "--missing": self.missing, "--sep": self.sep,
                 "--encoding": self.encoding, "--recorded-at": self.recorded_at}
        if self.data is None:
            used = [flag for flag, value in given.items() if value not in (None, ())]
            if used:
                raise ConfigError(f"{used[0]} describes your own table: add --data FILE")
        if self.positive is not None and self.target is None:
            raise ConfigError("--positive names a value of the --target column: add --target COL")
        for flag, names in (("--drop", self.drop), ("--categorical", self.categorical)):
            clash = [name for name in names if name in roles]
            if clash:
                raise ConfigError(f"{flag} names {clash[0]!r}, which is the --target, --time, "
                                  f"--group or --split column, not a feature")
        both = [name for name in self.drop if name in (self.columns or ())
                or name in self.categorical]
        if both:
            raise ConfigError(f"--drop leaves out {both[0]!r}, which --columns or --categorical "
                              f"names as a feature")


def _check_duration(flag: str, text: str) -> None:
    """A duration option is a number at least 0 or a duration pandas reads (37D, 12h)."""
    import pandas as pd

    try:
        value = float(text)
    except ValueError:
        try:
            value = pd.Timedelta(str(text)).total_seconds()
        except ValueError:
            raise ConfigError(f"{flag} {text!r} is not a duration; write it like 37D, 12h or "
                              f"a number") from None
    if not value >= 0:
        raise ConfigError(f"{flag} must be at least 0, got {text!r}")
