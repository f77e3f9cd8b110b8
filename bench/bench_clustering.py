"""Benchmark: embedding simulated customers with scikit-learn's TSNE, openTSNE, UMAP and PCA;
exact against approximate t-SNE affinities; umap-learn's compilation with and without the
on-disk cache; and the default report's stages.

Prints the seconds of each method at each size and the ratios against PCA and against
openTSNE, all measured in the same run and with the same threads: BLAS limited to one thread
as in the pipeline (``threadpool_limits(limits=1, user_api="blas")`` in
``casestudies.clustering.pipeline.run``), both t-SNEs given ``n_jobs=--jobs``, and OpenMP
limited to ``--jobs`` too, because scikit-learn's Barnes-Hut gradient takes its threads from
OpenMP, not from ``n_jobs``. The settings are printed first. Sizes whose estimated time is long
(scikit-learn beyond 10,000 customers, openTSNE beyond 30,000) are skipped unless asked for:

    python bench/bench_clustering.py                      # make bench: 5,000 customers, ~1 min
    python bench/bench_clustering.py --sizes 10000,30000,100000 --all
    python bench/bench_clustering.py --part affinities    # exact vs approximate neighbours
    python bench/bench_clustering.py --part umap-cache    # first UMAP fit in a fresh process
    python bench/bench_clustering.py --part report        # the default report, stage by stage

The ``report`` part runs the default configuration (simulated and real customers, UMAP, two
maps at a time) and prints each stage's seconds and its ratio to one t-SNE map of the same
customers measured first in the same process (the baseline).
"""

from __future__ import annotations

import argparse

import numpy as np
import openTSNE  # noqa: F401  (loaded before the limits: threadpoolctl limits loaded libraries)
import sklearn.manifold  # noqa: F401
from benchlib import best_of, print_settings, thread_limit, timed

from casestudies.clustering.data import prepare_features, simulate_customers
from casestudies.clustering.pca import fit_pca
from casestudies.clustering.tsne import (
    opentsne_affinities,
    opentsne_embedding,
    opentsne_on_affinities,
    sklearn_embedding,
)
from casestudies.clustering.umap_map import umap_embedding

SLOW = {"scikit-learn TSNE": 10_000, "openTSNE": 30_000, "UMAP": 100_000}  # without --all
PIPELINE_BLAS_THREADS = 1  # as casestudies.clustering.pipeline.run


def _timed_pca(X: np.ndarray, repeats: int) -> float:
    return best_of(repeats, fit_pca, X)[1]


def _customers(n: int, seed: int) -> np.ndarray:
    table, _ = simulate_customers(n, seed)
    return prepare_features(table, ("customer_id", "segment"))[0]


def bench_affinities(sizes: list[int], perplexity: float, seed: int) -> None:
    """Exact against approximate (Annoy) neighbours for the affinities, and one map from the
    shared exact affinities against a map that builds its own (openTSNE's default)."""
    from openTSNE import affinity

    print(f"{'customers':>10} {'step':<36} {'seconds':>9} {'x exact':>9}")
    for n in sizes:
        X = _customers(n, seed)
        _, exact = timed(opentsne_affinities, X, perplexity)
        _, annoy = timed(affinity.PerplexityBasedNN, X, perplexity=perplexity,
                         method="annoy", n_jobs=1, random_state=seed)
        P = opentsne_affinities(X, perplexity)
        shared = opentsne_on_affinities(X, P, perplexity, seed).seconds
        own = opentsne_embedding(X, perplexity, seed, 1).seconds
        for step, value in (("affinities, exact neighbours", exact),
                            ("affinities, Annoy neighbours", annoy),
                            ("map from shared exact affinities", shared),
                            ("map building its own affinities", own)):
            print(f"{n:>10,} {step:<36} {value:>9.3f} {value / exact:>9.1f}", flush=True)


_UMAP_FIRST_FIT = """
import time, numpy as np
started = time.perf_counter()
from casestudies.clustering import umap_map
if {cache}:
    umap_map.enable_compilation_cache()
import umap
X = np.random.default_rng(0).standard_normal((2000, 30))
fit = time.perf_counter()
umap.UMAP(random_state=0, n_jobs=1).fit_transform(X)
first = time.perf_counter() - fit
fit = time.perf_counter()
umap.UMAP(random_state=1, n_jobs=1).fit_transform(X)
print(first, time.perf_counter() - fit)
"""


def bench_umap_cache() -> None:
    """The first UMAP fit in a fresh process, with umap-learn as shipped (only some functions
    cached, the rest compiled again in every process) and with the on-disk cache switched on
    for all of them (:func:`casestudies.clustering.umap_map.enable_compilation_cache`; the
    first such run writes the cache, so it runs twice). Baseline: the second fit in the same
    process, which compiles nothing."""
    import subprocess
    import sys

    def run(cache: bool) -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", _UMAP_FIRST_FIT.format(cache=cache)],
                             capture_output=True, text=True, check=True).stdout.split()
        return float(out[0]), float(out[1])

    run(True)  # writes the cache if it is not there yet
    for label, cache in (("as shipped", False), ("with the on-disk cache", True)):
        first, second = run(cache)
        print(f"UMAP, 2,000 x 30, {label:<24} first fit {first:7.2f} s, second {second:6.2f} s,"
              f" ratio {first / second:5.1f}", flush=True)


def bench_report(seed: int, jobs: int) -> None:
    """The default report's analysis, stage by stage, against one t-SNE map of the same
    simulated customers (the baseline, measured first in the same process)."""
    from casestudies.clustering.config import ClusteringConfig
    from casestudies.clustering.data import load_data
    from casestudies.clustering.pipeline import run

    config = ClusteringConfig(seed=seed, n_jobs=jobs)
    X = _customers(config.n_customers, seed)
    baseline = opentsne_on_affinities(X, opentsne_affinities(X, 30.0), 30.0, seed).seconds
    (result, total) = timed(lambda: run(config, load_data(config)))
    print(f"baseline: one t-SNE map of {config.n_customers:,} customers {baseline:.2f} s")
    print(f"{'stage':<34} {'seconds':>9} {'x map':>7}")
    for stage, seconds in sorted(result.stage_seconds.items(), key=lambda item: -item[1]):
        print(f"{stage:<34} {seconds:>9.2f} {seconds / baseline:>7.1f}")
    print(f"{'total (data, analysis)':<34} {total:>9.2f} {total / baseline:>7.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("methods", "affinities", "umap-cache", "report"),
                        default="methods", help="what to measure (default: %(default)s)")
    parser.add_argument("--sizes", default="5000",
                        help="comma-separated numbers of customers (default: %(default)s)")
    parser.add_argument("--all", action="store_true",
                        help="also run the slow combinations (scikit-learn above 10,000 rows, "
                             "openTSNE above 30,000): expect tens of minutes")
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=1,
                        help="threads for both t-SNEs (n_jobs and the OpenMP limit); the "
                             "pipeline's default is 1 (default: %(default)s)")
    parser.add_argument("--pca-repeats", type=int, default=5,
                        help="runs of PCA, the fastest kept (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.part == "umap-cache":
        bench_umap_cache()
        return
    if args.part == "report":
        with thread_limit(PIPELINE_BLAS_THREADS, user_api="blas"):
            bench_report(args.seed, max(args.jobs, 2))
        return
    if args.part == "affinities":
        with thread_limit(1):
            bench_affinities(sizes, args.perplexity, args.seed)
        return

    # BLAS as the pipeline limits it; OpenMP to the t-SNE threads, so that scikit-learn's
    # gradient (OpenMP) runs with as many threads as openTSNE (n_jobs).
    with (thread_limit(PIPELINE_BLAS_THREADS, user_api="blas"),
          thread_limit(args.jobs, user_api="openmp")):
        print_settings(
            "clustering: PCA and t-SNE",
            threads=f"BLAS {PIPELINE_BLAS_THREADS} (threadpool_limits, user_api='blas', as the "
                    f"pipeline) for every method; both t-SNEs n_jobs={args.jobs} and OpenMP "
                    f"limited to {args.jobs}",
            sizes=[f"{', '.join(f'{n:,}' for n in sizes)} simulated customers (seed "
                   f"{args.seed})", f"perplexity {args.perplexity:g}",
                   "without --all: scikit-learn TSNE up to "
                   f"{SLOW['scikit-learn TSNE']:,}, openTSNE up to {SLOW['openTSNE']:,}"],
            repeats=f"PCA best of {args.pca_repeats}; each t-SNE once",
            packages=("numpy", "scipy", "scikit-learn", "openTSNE", "umap-learn"))

        print(f"{'customers':>10} {'method':<20} {'seconds':>9} {'x PCA':>9} {'x openTSNE':>11}")
        for n in sizes:
            table, _ = simulate_customers(n, args.seed)
            X, _, _, _ = prepare_features(table, ("customer_id", "segment"))
            seconds = {"PCA (SVD)": _timed_pca(X, args.pca_repeats)}
            runs = {"openTSNE": opentsne_embedding, "scikit-learn TSNE": sklearn_embedding,
                    "UMAP": lambda X, _p, seed, _jobs: umap_embedding(X, seed)}
            for method, embed in runs.items():
                if n > SLOW[method] and not args.all:
                    print(f"{n:>10,} {method:<20} {'skipped':>9}   (use --all)")
                    continue
                seconds[method] = embed(X, args.perplexity, args.seed, args.jobs).seconds
            for method, value in seconds.items():
                vs_pca = value / seconds["PCA (SVD)"]
                vs_open = (f"{value / seconds['openTSNE']:>11.2f}" if "openTSNE" in seconds
                           else f"{'—':>11}")
                print(f"{n:>10,} {method:<20} {value:>9.3f} {vs_pca:>9.0f} {vs_open}",
                      flush=True)


if __name__ == "__main__":
    main()
