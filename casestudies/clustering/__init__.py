"""PCA or t-SNE for visualising high-dimensional customer data?

Light on import: the pipeline and the report (openTSNE, scikit-learn, matplotlib) are imported
only when the study runs.
"""

from __future__ import annotations

import argparse
import math

from casestudies.clustering.config import DATASETS, ClusteringConfig
from casestudies.errors import ConfigError
from casestudies.study import Study

QUICK = {"n_customers": 1000, "perplexities": (5.0, 30.0, 100.0), "stability_seeds": 2,
         "metric_sample": 800, "parallel_analysis_draws": 10, "pitfall_points": 240,
         "max_clusters": 8, "reference_sklearn": True}


def _number_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


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
    parser.add_argument("--perplexities", metavar="P1,P2,...", type=_number_list,
                        default=ClusteringConfig.perplexities,
                        help="t-SNE perplexity sweep (default: 5,30,100,200)")
    parser.add_argument("--perplexity", type=float, default=ClusteringConfig.main_perplexity,
                        help="perplexity of the main map, one of the sweep (default: %(default)s)")
    parser.add_argument("--stability-seeds", type=int, default=ClusteringConfig.stability_seeds,
                        help="seeds per initialisation for the stability check "
                             "(default: %(default)s)")
    parser.add_argument("--metric-sample", type=int, default=ClusteringConfig.metric_sample,
                        help="rows on which the all-pairs faithfulness metrics are computed "
                             "(default: %(default)s)")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip the scikit-learn TSNE reference map (slow beyond ~20,000 rows)")
    parser.add_argument("--jobs", type=int, default=ClusteringConfig.n_jobs,
                        help="threads for neighbour search and t-SNE (default: %(default)s; on a "
                             "busy machine openTSNE's Barnes-Hut runs far slower with more)")
    parser.add_argument("--quick", action="store_true",
                        help="a small, fast run (1,000 customers, perplexities 5,30,100) for "
                             "trying things out")


def make_config(args: argparse.Namespace) -> ClusteringConfig:
    """Options to a :class:`ClusteringConfig`; raises ConfigError for bad values."""
    values = {
        "dataset": args.dataset, "n_customers": args.customers, "data_path": args.data,
        "id_column": args.id, "label_column": args.label,
        "drop_columns": tuple(c.strip() for c in (args.drop or "").split(",") if c.strip()),
        "perplexities": tuple(args.perplexities), "main_perplexity": float(args.perplexity),
        "stability_seeds": args.stability_seeds, "metric_sample": args.metric_sample,
        "reference_sklearn": not args.no_sklearn, "n_jobs": args.jobs, "seed": args.seed,
    }
    if args.quick:
        for key, value in QUICK.items():
            if key == "perplexities" and args.perplexities != ClusteringConfig.perplexities:
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


def load_data(config: ClusteringConfig):
    """Simulated customers, the digits, or the user's table (see :mod:`.data`)."""
    from casestudies.clustering.data import load_data as load

    return load(config)


def run(config: ClusteringConfig, data):
    """The analysis (see :func:`casestudies.clustering.pipeline.run`)."""
    from casestudies.clustering.pipeline import run as run_pipeline

    return run_pipeline(config, data)


def build_report(result):
    """The report (see :func:`casestudies.clustering.report.build`)."""
    from casestudies.clustering.report import build

    return build(result)


STUDY = Study(
    name="clustering",
    title="PCA or t-SNE for visualising high-dimensional customer data?",
    question="What method should I use to visualise high-dimensional customer data: PCA or "
             "t-SNE?",
    add_arguments=add_arguments,
    make_config=make_config,
    load_data=load_data,
    run=run,
    build_report=build_report,
)
