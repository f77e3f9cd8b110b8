"""Every parameter of the clustering study, with its default and meaning."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from casestudies.errors import ConfigError
from casestudies.options import comma_list, comma_numbers

DATASETS = ("customers", "digits")


@dataclass(frozen=True)
class ClusteringConfig:
    """Parameters of one run of the PCA-versus-t-SNE study.

    Attributes
    ----------
    dataset : str
        ``"customers"`` (the seeded customer simulator) or ``"digits"`` (scikit-learn's
        8x8 handwritten digits); ignored when ``data_path`` is set.
    n_customers : int
        Number of simulated customers.
    data_path : str or None
        A user's CSV or Parquet table, one row per customer.
    id_column, label_column : str or None
        The table's unique id column (not used as a feature) and an optional known segment
        (used for evaluation only, never as a feature).
    drop_columns : tuple of str
        Further columns to leave out of the features.
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
    n_jobs : int
        Threads used by the neighbour searches and t-SNE.
    seed : int
        Seed of the simulator, the subsamples and every embedding.
    """

    dataset: str = "customers"
    n_customers: int = 2500
    data_path: str | None = None
    id_column: str | None = None
    label_column: str | None = None
    drop_columns: tuple[str, ...] = ()
    perplexities: tuple[float, ...] = (5.0, 30.0, 100.0, 200.0)
    main_perplexity: float = 30.0
    stability_seeds: int = 3
    neighbours: tuple[int, ...] = (5, 15, 50)
    metric_sample: int = 2000
    max_clusters: int = 8
    parallel_analysis_draws: int = 20
    holdout_fraction: float = 0.1
    pitfall_points: int = 400
    reference_sklearn: bool = True
    large_rows: int = 10_000
    subsample_rows: int = 5_000
    n_jobs: int = 1
    seed: int = 0

    @property
    def uses_user_data(self) -> bool:
        """Whether the run reads a user's table rather than a built-in data set."""
        return self.data_path is not None


QUICK = {"n_customers": 1000, "perplexities": (5.0, 30.0, 100.0), "stability_seeds": 2,
         "metric_sample": 800, "parallel_analysis_draws": 10, "pitfall_points": 240,
         "max_clusters": 8, "reference_sklearn": True}


def _numbers_text(values: tuple[float, ...]) -> str:
    return ",".join(f"{v:g}" for v in values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The study's own options."""
    parser.add_argument("--dataset", choices=DATASETS, default="customers",
                        help="built-in data when --data is not given: simulated customers with "
                             "known segments, or scikit-learn's handwritten digits "
                             "(default: %(default)s)")
    parser.add_argument("--customers", type=int, default=ClusteringConfig.n_customers,
                        help="number of simulated customers (default: %(default)s)")
    parser.add_argument("--id", metavar="COL", help="your table's unique customer id column "
                        "(left out of the features)")
    parser.add_argument("--label", metavar="COL", help="a known segment column in your table, "
                        "used only to score the maps, never as a feature")
    parser.add_argument("--drop", metavar="COLS", default="",
                        help="comma-separated columns to leave out of the features")
    parser.add_argument("--perplexities", metavar="P1,P2,...",
                        default=ClusteringConfig.perplexities,
                        help="t-SNE perplexity sweep (default: "
                             f"{_numbers_text(ClusteringConfig.perplexities)})")
    parser.add_argument("--perplexity", type=float, default=ClusteringConfig.main_perplexity,
                        help="perplexity of the main map, one of the sweep (default: %(default)s)")
    parser.add_argument("--stability-seeds", type=int, default=ClusteringConfig.stability_seeds,
                        help="seeds per initialisation for the stability check "
                             "(default: %(default)s)")
    parser.add_argument("--metric-sample", type=int, default=ClusteringConfig.metric_sample,
                        help="rows on which the all-pairs faithfulness metrics are computed "
                             "(default: %(default)s)")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip the scikit-learn TSNE reference map (the slowest map on large "
                             "tables)")
    parser.add_argument("--jobs", type=int, default=ClusteringConfig.n_jobs,
                        help="threads for neighbour search and t-SNE (default: %(default)s; on a "
                             "busy machine openTSNE's Barnes-Hut runs far slower with more)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a small, fast run ({QUICK['n_customers']:,} customers, perplexities "
                             f"{_numbers_text(QUICK['perplexities'])}) for trying things out")


def make_config(args: argparse.Namespace) -> ClusteringConfig:
    """Options to a :class:`ClusteringConfig`; raises ConfigError for bad values."""
    values = {
        "dataset": args.dataset, "n_customers": args.customers, "data_path": args.data,
        "id_column": args.id, "label_column": args.label,
        "drop_columns": comma_list(args.drop),
        "perplexities": comma_numbers(args.perplexities, "--perplexities"),
        "main_perplexity": float(args.perplexity),
        "stability_seeds": args.stability_seeds, "metric_sample": args.metric_sample,
        "reference_sklearn": not args.no_sklearn, "n_jobs": args.jobs, "seed": args.seed,
    }
    if args.quick:
        for key, value in QUICK.items():
            if key == "perplexities" and values[key] != ClusteringConfig.perplexities:
                continue
            if key == "n_customers" and args.customers != ClusteringConfig.n_customers:
                continue
            if key == "reference_sklearn":
                continue
            values[key] = value
    perplexities = values["perplexities"]
    if any(not math.isfinite(p) or p < 2 for p in perplexities):
        raise ConfigError("--perplexities must all be numbers of at least 2")
    if values["main_perplexity"] not in perplexities:
        raise ConfigError(f"--perplexity {values['main_perplexity']:g} must be one of "
                          f"--perplexities {','.join(f'{p:g}' for p in perplexities)}")
    if values["n_customers"] < 50:
        raise ConfigError(f"--customers must be at least 50, got {values['n_customers']}")
    if values["stability_seeds"] < 2:
        raise ConfigError("--stability-seeds must be at least 2 (stability compares seeds)")
    if values["metric_sample"] < 200:
        raise ConfigError("--metric-sample must be at least 200")
    if values["n_jobs"] == 0 or values["n_jobs"] < -1:
        raise ConfigError("--jobs must be a positive number of threads or -1 for all")
    if values["id_column"] and values["id_column"] == values["label_column"]:
        raise ConfigError("--id and --label must be different columns")
    if (args.id or args.label or values["drop_columns"]) and not args.data:
        raise ConfigError("--id, --label and --drop apply to your own table: add --data PATH")
    return ClusteringConfig(**values)
