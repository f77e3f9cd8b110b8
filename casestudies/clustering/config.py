"""Every parameter of the clustering study, with its default, range, meaning and value under
``--quick``; the command line is generated from it."""

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
    quick_option,
    seed_option,
    sep_option,
)
from casestudies.errors import ConfigError

DATASETS = ("customers", "digits", "caravan")
# Beyond these a run takes hours; t-SNE's own limit is the row count (3 x perplexity + 2).
MAX_PERPLEXITY = 10_000
MAX_CUSTOMERS = 1_000_000


@dataclass(frozen=True)
class ClusteringConfig(StudyConfig):
    """Parameters of one run of the PCA-versus-t-SNE study.

    Attributes
    ----------
    dataset : str
        ``"customers"`` (the seeded customer simulator), ``"digits"`` (scikit-learn's
        8x8 handwritten digits) or ``"caravan"`` (the CoIL 2000 insurance customers shipped by
        the ISLP package); ignored when ``data_path`` is set.
    n_customers : int
        Number of simulated customers.
    data_path : str or None
        A user's CSV or Parquet table, one row per customer.
    id_column, label_column : str or None
        The table's unique id column (not used as a feature) and an optional known segment
        (used for evaluation only, never as a feature).
    drop_columns : tuple of str
        Further columns to leave out of the features.
    columns : tuple of str
        The columns to map (default: every column but the id, label and ``--drop`` columns).
    categorical : tuple of str
        Integer columns that are codes, one-hot encoded like text columns.
    sep, encoding : str or None
        Delimiter and text encoding of a text ``--data`` file (default: detected).
    missing : str or None
        ``"error"``, ``"drop"`` or ``"impute"`` for missing values in the columns used (default:
        drop the rows when they are at most 5 % of the table, else an error).
    weighting : str
        ``"equal"`` or ``"standardised"``: how one-hot blocks weigh in distances
        (:func:`casestudies.clustering.data.prepare_features`).
    perplexities : tuple of float
        The t-SNE perplexity sweep; the main map uses ``main_perplexity``.
    main_perplexity : float
        Perplexity of the map that is scored against PCA, clustered and checked for stability.
    stability_seeds : int
        Number of seeds the main map is repeated with to measure seed-to-seed stability.
    neighbours : tuple of int
        Neighbourhood sizes k of the faithfulness scorecard.
    metric_sample : int
        Rows (drawn at random) on which the scorecard's all-pairs metrics are computed.
    max_clusters : int
        Largest number of Gaussian-mixture components tried when choosing k by BIC.
    parallel_analysis_draws : int
        Column-permuted copies of the data used by parallel analysis.
    holdout_fraction : float
        Share of customers left out of a map and then placed into it (openTSNE ``transform``).
    pitfall_points : int
        Points per synthetic pitfall data set.
    reference_sklearn : bool
        Also embed the main perplexity with scikit-learn's Barnes-Hut TSNE (the reference).
    large_rows : int
        Above this many rows, the seed-stability maps, the placement of new customers and the
        clustering run on a random subsample of ``subsample_rows`` rows (their cost grows with n,
        their conclusions do not need every row).
    subsample_rows : int
    real_customers : int
        With the simulated customers, also score PCA, t-SNE and UMAP on this many real customers
        of the Caravan table (0: do not).
    n_jobs : int
        Maps (t-SNE, UMAP, the pitfalls) computed at the same time, each in its own
        single-threaded process.
    seed : int
        Seed of the simulator, the subsamples and every embedding.
    quick : bool
        A small, fast run (fewer customers, a shorter sweep, smaller samples).
    explicit : tuple of str
        The options the user gave (filled by :meth:`from_options`). On a table too small for a
        default, the default shrinks (:mod:`casestudies.clustering.small_data`); a value the
        user gave is never changed, and is an error when the rows cannot support it.
    """

    dataset: str = option("customers", "built-in data when --data is not given: simulated "
                                       "customers with known segments, scikit-learn's "
                                       "handwritten digits, or the CoIL 2000 insurance "
                                       "customers (needs ISLP)", choices=DATASETS)
    n_customers: int = option(2500, "number of simulated customers", flag="--customers", ge=50,
                              le=MAX_CUSTOMERS, quick=1000)
    data_path: str | None = data_option("a customer table, one row per customer")
    id_column: str | None = option(None, "your table's unique customer id column (left out of "
                                         "the features)", flag="--id", metavar="COL")
    label_column: str | None = option(None, "a known segment column in your table, used only "
                                            "to score the maps, never as a feature",
                                      flag="--label", metavar="COL")
    drop_columns: tuple[str, ...] = option((), "comma-separated columns to leave out of the "
                                               "features (e.g. columns known to be noise)",
                                           flag="--drop", metavar="COLS")
    columns: tuple[str, ...] = option((), "comma-separated columns to map (default: every "
                                          "column but the --id, --label and --drop columns)",
                                      metavar="COLS")
    categorical: tuple[str, ...] = categorical_option()
    sep: str | None = sep_option()
    encoding: str | None = encoding_option()
    missing: str | None = missing_option()
    weighting: str = option("equal", "how categorical columns weigh in distances: 'equal' "
                                     "gives every original column the same share of the squared "
                                     "distance (one-hot blocks divided by the square root of "
                                     "their levels), 'standardised' standardises every "
                                     "indicator on its own", choices=("equal", "standardised"))
    perplexities: tuple[float, ...] = option(
        (5.0, 30.0, 100.0, 200.0), "t-SNE perplexity sweep, comma-separated", ge=2,
        le=MAX_PERPLEXITY, metavar="P1,P2,...", quick=(5.0, 30.0, 100.0))
    main_perplexity: float = option(30.0, "perplexity of the main map, one of the sweep",
                                    flag="--perplexity", ge=2, le=MAX_PERPLEXITY)
    stability_seeds: int = option(2, "seeds per method for the stability check and the "
                                     "intervals over seeds", ge=2, le=50)
    neighbours: tuple[int, ...] = (5, 15, 50)
    metric_sample: int = option(2000, "rows on which the all-pairs faithfulness metrics are "
                                      "computed", ge=200, le=20_000, quick=800)
    max_clusters: int = 8
    parallel_analysis_draws: int = option(20, "column-permuted copies for parallel analysis",
                                          flag=False, ge=2, quick=10)
    holdout_fraction: float = 0.1
    pitfall_points: int = option(400, "points per synthetic pitfall data set", flag=False,
                                 ge=50, quick=240)
    reference_sklearn: bool = option(True, "skip the scikit-learn TSNE reference map (the "
                                           "slowest map on large tables)", flag="--no-sklearn",
                                     negate=True)
    large_rows: int = 10_000
    subsample_rows: int = 5_000
    real_customers: int = option(2500, "real Caravan customers (a random subsample) scored "
                                       "beside the simulated ones; 0 to leave them out",
                                 ge=0, le=6000, quick=800)
    n_jobs: int = option(2, "maps computed at the same time, one single-threaded process "
                            "each (-1 for one per core)", flag="--jobs", ge=-1, le=256)
    seed: int = seed_option()
    quick: bool = quick_option("fewer customers, a shorter perplexity sweep, smaller samples")
    explicit: tuple[str, ...] = ()

    @classmethod
    def complete(cls, values: dict[str, Any], given: set[str]) -> dict[str, Any]:
        """Record which options the user gave: only the others adapt to a small table."""
        values["explicit"] = tuple(sorted(given))
        return values

    @property
    def uses_user_data(self) -> bool:
        """Whether the run reads a user's table rather than a built-in data set."""
        return self.data_path is not None

    def check(self) -> None:
        """Rules across options."""
        if not all(math.isfinite(p) for p in self.perplexities):
            raise ConfigError("--perplexities must all be finite numbers")
        if self.main_perplexity not in self.perplexities:
            raise ConfigError(f"--perplexity {self.main_perplexity:g} must be one of "
                              f"--perplexities {','.join(f'{p:g}' for p in self.perplexities)}")
        if self.n_jobs == 0:
            raise ConfigError("--jobs must be a positive number of threads or -1 for all")
        if self.id_column and self.id_column == self.label_column:
            raise ConfigError("--id and --label must be different columns")
        if (self.id_column or self.label_column) and not self.uses_user_data:
            raise ConfigError("--id and --label apply to your own table: add --data PATH")
        for name in ("columns", "categorical", "sep", "encoding", "missing"):
            if getattr(self, name) not in (None, ()) and not self.uses_user_data:
                flag = self.specs()[name].flag
                raise ConfigError(f"{flag} applies to your own table: add --data PATH")
        keys = [c for c in (self.id_column, self.label_column, *self.drop_columns) if c]
        overlap = [c for c in self.columns if c in keys]
        if overlap:
            raise ConfigError(f"--columns names {', '.join(repr(c) for c in overlap)}, which "
                              f"--id, --label or --drop leave out of the features")
