"""Benchmark of the calibration study: the whole default pipeline against its slowest stage,
the vectorised window features against pandas' groupby-rolling, and the Newton fit behind
Platt / Cox calibration against scikit-learn's general logistic regression.

Both sides of every ratio run with the math libraries limited to one thread, the limit the
pipeline trains its models under (``threadpool_limits(1)`` in
``casestudies.calibration.pipeline.run``); the settings are printed first.

    python bench/bench_calibration.py                  # make bench: about half a minute
    python bench/bench_calibration.py --platt-rows 500000 --repeats 10 --no-pipeline
"""

from __future__ import annotations

import argparse

import numpy as np
from benchlib import best_of_each, print_settings, thread_limit, timed
from sklearn.linear_model import LogisticRegression

from casestudies import progress
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import (
    SECONDS_PER_DAY,
    _window_sums,
    load_data,
    simulate_transactions,
)
from casestudies.calibration.metrics import cox_calibration, logit
from casestudies.calibration.pipeline import run

PIPELINE_THREADS = 1  # as casestudies.calibration.pipeline.run trains its models


def bench_pipeline() -> None:
    config = CalibrationConfig()
    data, load_seconds = timed(load_data, config)
    result, run_seconds = timed(run, config, data)
    stages = result.stage_seconds
    slowest = max(stages, key=stages.get)
    print(f"default data: {result.n_rows:,} transactions, simulated and featurised in "
          f"{load_seconds:.2f} s")
    print(f"pipeline: {run_seconds:.2f} s | slowest stage '{slowest}': {stages[slowest]:.2f} s "
          f"({stages[slowest] / run_seconds:.0%} of the pipeline)")
    for name, seconds in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {name:<22} {seconds:7.2f} s")


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
                   "pipeline: default config" + (": skipped" if args.no_pipeline else "")],
            repeats=f"the two sides of a ratio alternate, each best of {args.repeats}; the "
                    "pipeline once",
            packages=("numpy", "scipy", "scikit-learn", "pandas"))
    bench_windows(transactions, args.repeats)
    bench_platt_fit(args.platt_rows, args.repeats)
    if not args.no_pipeline:
        bench_pipeline()


if __name__ == "__main__":
    main()
