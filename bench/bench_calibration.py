"""Benchmark of the calibration study: the whole default pipeline against its slowest stage
(with its CPU time and the machine's load, since a shared machine inflates wall time), the
incident bootstrap (every statistic on row weights drawn once) against the per-replicate loop
it replaced, the vectorised window features against pandas' groupby-rolling, and the Newton fit
behind Platt / Cox calibration against scikit-learn's general logistic regression.

Both sides of every ratio run with the math libraries limited to one thread, the limit the
pipeline trains its models under (``threadpool_limits(1)`` in
``casestudies.calibration.pipeline.run``); the settings are printed first.

    python bench/bench_calibration.py                  # make bench: about half a minute
    python bench/bench_calibration.py --platt-rows 500000 --repeats 10 --no-pipeline
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from benchlib import best_of_each, print_settings, thread_limit, timed
from sklearn.linear_model import LogisticRegression

from casestudies import progress
from casestudies.calibration import resampling as rs
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import (
    SECONDS_PER_DAY,
    _window_sums,
    load_data,
    simulate_transactions,
)
from casestudies.calibration.metrics import cox_calibration, logit
from casestudies.calibration.pipeline import run
from casestudies.rng import stream
from casestudies.stats import cluster_bootstrap

PIPELINE_THREADS = 1  # as casestudies.calibration.pipeline.run trains its models


def bench_pipeline() -> None:
    config = CalibrationConfig()
    load_before = os.getloadavg()[0]
    cpu_start = time.process_time()
    data, load_seconds = timed(load_data, config)
    result, run_seconds = timed(run, config, data)
    cpu = time.process_time() - cpu_start
    print(f"machine load (1-minute average) before / after: {load_before:.1f} / "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; simulation + pipeline used "
          f"{cpu:.1f} s of CPU for {load_seconds + run_seconds:.1f} s of wall time (on idle "
          "cores wall time is close to the CPU time: the pipeline runs on one thread)")
    stages = result.stage_seconds
    slowest = max(stages, key=stages.get)
    print(f"default data: {result.n_rows:,} transactions, simulated and featurised in "
          f"{load_seconds:.2f} s")
    print(f"pipeline: {run_seconds:.2f} s | slowest stage '{slowest}': {stages[slowest]:.2f} s "
          f"({stages[slowest] / run_seconds:.0%} of the pipeline)")
    for name, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {name:<22} {seconds:7.2f} s")


def bench_bootstrap(rows: int, repeats: int, replicates: int = 200) -> None:
    """Twenty statistics (O/E, cost, log loss, Brier of five sets of probabilities) over
    incident resamples: weights drawn once and shared, against one index resample per
    replicate with every statistic recomputed on it (stats.cluster_bootstrap)."""
    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.01).astype(float)
    clusters = np.where(y == 1, rng.integers(0, max(rows // 500, 1), rows),
                        rows + np.arange(rows))
    probabilities = [np.clip(rng.beta(0.5, 40, rows) + 0.02 * y * k, 1e-6, 1 - 1e-6)
                     for k in range(5)]

    def weighted():
        boot = rs.ClusterBootstrap(clusters, replicates, stream(0, "bench"))
        statistics = {}
        for k, p in enumerate(probabilities):
            loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
            cost = np.where((p >= 0.05) & (y == 0), 5.0, 0.0) + np.where((p < 0.05) & (y == 1),
                                                                         100.0, 0.0)
            statistics.update({f"oe{k}": rs.ratio(y, p), f"cost{k}": rs.mean(cost),
                               f"loss{k}": rs.mean(loss), f"brier{k}": rs.mean((p - y) ** 2)})
        return boot.intervals(statistics)

    codes = rs.cluster_codes(clusters, rows)

    def looped():
        scorers = {}
        for k, p in enumerate(probabilities):
            scorers.update({
                f"oe{k}": lambda i, p=p: y[i].sum() / p[i].sum(),
                f"cost{k}": lambda i, p=p: np.mean(np.where((p[i] >= 0.05) & (y[i] == 0), 5.0, 0)
                                                   + np.where((p[i] < 0.05) & (y[i] == 1), 100.0,
                                                              0)),
                f"loss{k}": lambda i, p=p: -np.mean(y[i] * np.log(p[i])
                                                    + (1 - y[i]) * np.log1p(-p[i])),
                f"brier{k}": lambda i, p=p: np.mean((p[i] - y[i]) ** 2)})
        return cluster_bootstrap(scorers, codes, replicates, stream(0, "bench loop"))

    with thread_limit(PIPELINE_THREADS):
        (_, fast), (_, slow) = best_of_each(repeats, weighted, looped)
    print(f"incident bootstrap, 20 statistics x {replicates} replicates on {rows:,} rows, best "
          f"of {repeats}: weights drawn once {fast:.2f} s | per-replicate loop {slow:.2f} s | "
          f"{slow / fast:.1f}x faster", flush=True)


def bench_windows(transactions, repeats: int) -> None:
    seconds = ((transactions["timestamp"] - transactions["timestamp"].min())
               .dt.total_seconds().to_numpy())
    amount = transactions["amount"].to_numpy()
    customer = transactions["customer_id"].to_numpy()

    def pandas_rolling():
        return (transactions.groupby("customer_id")
                .rolling("7D", on="timestamp")["amount"].agg(["count", "sum"]))

    with thread_limit(PIPELINE_THREADS):
        ((_, (total,)), fast), (baseline, slow) = best_of_each(
            repeats, lambda: _window_sums(customer, seconds, [amount], 7 * SECONDS_PER_DAY, 0.0),
            pandas_rolling)
    # Same numbers, in the baseline's (customer, time) order, except where a customer pays twice
    # in the same second: the window (t - 7 days, t] holds both, pandas only the rows so far.
    order = np.lexsort((seconds, customer))
    differs = ~np.isclose(baseline["sum"].to_numpy(), total[order])
    same_second = transactions.duplicated(["customer_id", "timestamp"], keep=False).to_numpy()
    assert not np.any(differs & ~same_second[order])
    print(f"7-day customer windows on {len(transactions):,} rows, best of {repeats}: cumulative "
          f"sums {fast:.3f} s | pandas groupby-rolling {slow:.3f} s | {slow / fast:.1f}x faster",
          flush=True)


def bench_platt_fit(rows: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(0.3, 25, rows)
    y = (rng.random(p.size) < p).astype(int)

    def general_fit():
        return LogisticRegression(C=np.inf, max_iter=1000, tol=1e-10).fit(logit(p)[:, None], y)

    with thread_limit(PIPELINE_THREADS):
        ((_, slope), newton), (reference, general) = best_of_each(
            repeats, lambda: cox_calibration(y, p), general_fit)
    assert abs(slope - reference.coef_[0, 0]) < 1e-4
    print(f"Platt / Cox fit on {p.size:,} rows, best of {repeats}: Newton "
          f"{newton * 1000:.1f} ms | scikit-learn lbfgs {general * 1000:.1f} ms | "
          f"{general / newton:.1f}x faster", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platt-rows", type=int, default=50_000,
                        help="rows of the Platt / Cox fit (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of each side of a ratio, alternating, the fastest kept "
                             "(default: %(default)s)")
    parser.add_argument("--bootstrap-rows", type=int, default=44_000,
                        help="rows of the bootstrap comparison (default: %(default)s, the size "
                             "of the default test block)")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the whole pipeline")
    args = parser.parse_args()
    progress.set_quiet(True)
    transactions = simulate_transactions(random_state=0)
    with thread_limit(PIPELINE_THREADS):
        print_settings(
            "calibration",
            threads=f"both sides of every ratio under threadpool_limits({PIPELINE_THREADS}) "
                    "(BLAS and OpenMP), as the pipeline trains its models; the pipeline run "
                    "as it is (one thread for training only)",
            sizes=[f"windows on the default simulation, {len(transactions):,} transactions",
                   f"Platt / Cox fit {args.platt_rows:,} rows",
                   f"bootstrap {args.bootstrap_rows:,} rows",
                   "pipeline: default config" + (": skipped" if args.no_pipeline else "")],
            repeats=f"the two sides of a ratio alternate, each best of {args.repeats}; the "
                    "pipeline once",
            packages=("numpy", "scipy", "scikit-learn", "pandas"))
    bench_bootstrap(args.bootstrap_rows, min(args.repeats, 3))
    bench_windows(transactions, args.repeats)
    bench_platt_fit(args.platt_rows, args.repeats)
    if not args.no_pipeline:
        bench_pipeline()


if __name__ == "__main__":
    main()
