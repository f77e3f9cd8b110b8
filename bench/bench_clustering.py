"""Benchmark: embedding simulated customers with scikit-learn's TSNE, openTSNE and PCA.

Prints the seconds of each method at each size and the ratios against PCA and against
openTSNE, all measured in the same run. Sizes whose estimated time is long (scikit-learn beyond
10,000 customers, anything at 100,000) are skipped unless asked for:

    python bench/bench_clustering.py                      # 10,000 customers, all methods
    python bench/bench_clustering.py --sizes 10000,30000,100000 --all
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from casestudies.clustering.data import prepare_features, simulate_customers
from casestudies.clustering.pca import fit_pca
from casestudies.clustering.tsne import opentsne_embedding, sklearn_embedding

SLOW = {"scikit-learn TSNE": 10_000, "openTSNE": 30_000}  # largest size run without --all


def _timed_pca(X: np.ndarray) -> float:
    started = time.perf_counter()
    fit_pca(X)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000",
                        help="comma-separated numbers of customers (default: %(default)s)")
    parser.add_argument("--all", action="store_true",
                        help="also run the slow combinations (scikit-learn above 10,000 rows, "
                             "openTSNE above 30,000): expect tens of minutes")
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=1, help="threads for t-SNE")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"{'customers':>10} {'method':<20} {'seconds':>9} {'x PCA':>9} {'x openTSNE':>11}")
    for n in (int(s) for s in args.sizes.split(",")):
        table, _ = simulate_customers(n, args.seed)
        X, _, _, _ = prepare_features(table, ("customer_id", "segment"))
        seconds = {"PCA (SVD)": _timed_pca(X)}
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
            print(f"{n:>10,} {method:<20} {value:>9.2f} {vs_pca:>9.0f} {vs_open}", flush=True)


if __name__ == "__main__":
    main()
