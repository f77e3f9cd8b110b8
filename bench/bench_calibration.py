"""Benchmark of the calibration study: the whole default pipeline against its slowest stage,
the vectorised window features against pandas' groupby-rolling, and the Newton fit behind
Platt / Cox calibration against scikit-learn's general logistic regression.

Run with ``python bench/bench_calibration.py`` (``make bench``); prints timings and ratios.
"""

from __future__ import annotations

import time

import numpy as np
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


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


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


def bench_windows() -> None:
    transactions = simulate_transactions(random_state=0)
    seconds = ((transactions["timestamp"] - transactions["timestamp"].min())
               .dt.total_seconds().to_numpy())
    amount = transactions["amount"].to_numpy()
    customer = transactions["customer_id"].to_numpy()
    (_, (total,)), fast = timed(_window_sums, customer, seconds, [amount],
                                    7 * SECONDS_PER_DAY, 0.0)

    def pandas_rolling():
        return (transactions.groupby("customer_id")
                .rolling("7D", on="timestamp")["amount"].agg(["count", "sum"]))

    baseline, slow = timed(pandas_rolling)
    # Same numbers, in the baseline's (customer, time) order, except where a customer pays twice
    # in the same second: the window (t - 7 days, t] holds both, pandas only the rows so far.
    order = np.lexsort((seconds, customer))
    differs = ~np.isclose(baseline["sum"].to_numpy(), total[order])
    same_second = transactions.duplicated(["customer_id", "timestamp"], keep=False).to_numpy()
    assert not np.any(differs & ~same_second[order])
    print(f"7-day customer windows on {len(transactions):,} rows: cumulative sums {fast:.3f} s | "
          f"pandas groupby-rolling {slow:.3f} s | {slow / fast:.1f}x faster")


def bench_platt_fit() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(0.3, 25, 50_000)
    y = (rng.random(p.size) < p).astype(int)
    (_, slope), newton = timed(cox_calibration, y, p)
    reference, general = timed(
        lambda: LogisticRegression(C=np.inf, max_iter=1000, tol=1e-10).fit(logit(p)[:, None], y))
    assert abs(slope - reference.coef_[0, 0]) < 1e-4
    print(f"Platt / Cox fit on {p.size:,} rows: Newton {newton * 1000:.1f} ms | "
          f"scikit-learn lbfgs {general * 1000:.1f} ms | {general / newton:.1f}x faster")


if __name__ == "__main__":
    progress.set_quiet(True)
    bench_windows()
    bench_platt_fit()
    bench_pipeline()
