"""Benchmark: embedding simulated customers with scikit-learn's TSNE, openTSNE and PCA.

Prints the seconds of each method at each size and the ratios against PCA and against
openTSNE, all measured in the same run and with the same threads: BLAS limited to one thread
as in the pipeline (``threadpool_limits(limits=1, user_api="blas")`` in
``casestudies.clustering.pipeline.run``), both t-SNEs given ``n_jobs=--jobs``, and OpenMP
limited to ``--jobs`` too, because scikit-learn's Barnes-Hut gradient takes its threads from
OpenMP, not from ``n_jobs``. The settings are printed first. Sizes whose estimated time is long
(scikit-learn beyond 10,000 customers, openTSNE beyond 30,000) are skipped unless asked for:

    python bench/bench_clustering.py                      # make bench: 5,000 customers, ~1 min
    python bench/bench_clustering.py --sizes 10000,30000,100000 --all
"""

from __future__ import annotations

import argparse

import numpy as np
import openTSNE  # noqa: F401  (loaded before the limits: threadpoolctl limits loaded libraries)
import sklearn.manifold  # noqa: F401
from benchlib import best_of, print_settings, thread_limit

from casestudies.clustering.data import prepare_features, simulate_customers
from casestudies.clustering.pca import fit_pca
from casestudies.clustering.tsne import opentsne_embedding, sklearn_embedding

SLOW = {"scikit-learn TSNE": 10_000, "openTSNE": 30_000}  # largest size run without --all
PIPELINE_BLAS_THREADS = 1  # as casestudies.clustering.pipeline.run


def _timed_pca(X: np.ndarray, repeats: int) -> float:
    return best_of(repeats, fit_pca, X)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
            packages=("numpy", "scipy", "scikit-learn", "openTSNE"))

        print(f"{'customers':>10} {'method':<20} {'seconds':>9} {'x PCA':>9} {'x openTSNE':>11}")
        for n in sizes:
            table, _ = simulate_customers(n, args.seed)
            X, _, _, _ = prepare_features(table, ("customer_id", "segment"))
            seconds = {"PCA (SVD)": _timed_pca(X, args.pca_repeats)}
            runs = {"openTSNE": opentsne_embedding, "scikit-learn TSNE": sklearn_embedding}
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
