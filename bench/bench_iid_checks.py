"""Benchmark of the IID audit: the default report, the audit of a 1,000,000-row, 20-column file
(target: under 2 minutes), and two speed-ups against the obvious baseline measured in the same
run: Ljung-Box from FFT autocorrelations against statsmodels' ``acorr_ljungbox``, and the
energy-distance permutation test as one matrix product against a loop over permutations.

Run with ``python bench/bench_iid_checks.py`` (``make bench``); prints timings and ratios.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from statsmodels.stats.diagnostic import acorr_ljungbox

from casestudies.cli import main
from casestudies.iid_checks import checks
from casestudies.iid_checks.config import IIDConfig

LARGE_ROWS = 1_000_000
LARGE_FEATURES = 17  # plus time, group and target: 20 columns
LARGE_BUDGET_S = 120.0
DEFAULT_BUDGET_S = 60.0


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def large_file(folder: Path, rows: int = LARGE_ROWS, seed: int = 0) -> Path:
    """A time-ordered file with drift, serial dependence and customer groups."""
    rng = np.random.default_rng(seed)
    data = {"ts": pd.date_range("2024-01-01", periods=rows, freq="s"),
            "customer": rng.integers(0, 20_000, rows)}
    trend = np.linspace(0, 1, rows)
    for j in range(LARGE_FEATURES):
        noise = rng.normal(size=rows)
        if j % 3 == 0:  # AR(1): this ewm is the recursion y_t = 0.5 y_{t-1} + 0.5 e_t
            noise = pd.Series(noise).ewm(alpha=0.5, adjust=False).mean().to_numpy()
        data[f"f{j}"] = noise + (0.3 * trend if j % 4 == 0 else 0.0)
    score = data["f0"] - data["f1"] + 0.5 * rng.normal(size=rows)
    data["label"] = (score > 1).astype(int)
    path = folder / "large.parquet"
    pd.DataFrame(data).to_parquet(path)
    return path


def bench_default(folder: Path) -> None:
    code, seconds = timed(main, ["iid_checks", "--out", str(folder / "default"), "--quiet"])
    assert code == 0
    verdict = "within" if seconds < DEFAULT_BUDGET_S else "OVER"
    print(f"default report: {seconds:.1f} s ({verdict} the {DEFAULT_BUDGET_S:.0f} s budget)")


def bench_large(folder: Path) -> None:
    path, make_seconds = timed(large_file, folder)
    print(f"large file: {LARGE_ROWS:,} rows x {LARGE_FEATURES + 3} columns written in "
          f"{make_seconds:.1f} s")
    args = ["iid_checks", "--data", str(path), "--time", "ts", "--target", "label",
            "--group", "customer", "--out", str(folder / "large"), "--quiet"]
    code, seconds = timed(main, args)
    assert code == 0
    verdict = "within" if seconds < LARGE_BUDGET_S else "OVER"
    defaults = IIDConfig()
    print(f"audit of the large file (models on a {defaults.max_rows:,}-row subsample, energy "
          f"test on {defaults.max_energy_rows:,} rows per side, ADF/KPSS/BDS on "
          f"{defaults.max_series:,} block means): {seconds:.1f} s ({verdict} the "
          f"{LARGE_BUDGET_S:.0f} s budget)")


def bench_ljung_box(rows: int = 20_000) -> None:
    x = np.random.default_rng(1).normal(size=rows)
    ours, fast = timed(checks.ljung_box, x, 10)
    reference, slow = timed(acorr_ljungbox, x, lags=[10], return_df=True)
    assert np.isclose(ours.statistic, reference["lb_stat"].iloc[0])
    print(f"Ljung-Box on {rows:,} values: FFT {fast * 1e3:.1f} ms, statsmodels "
          f"{slow * 1e3:.1f} ms, ratio {slow / fast:.0f}x (same Q)")


def _energy_loop(a: np.ndarray, b: np.ndarray, permutations: int, seed: int) -> float:
    """Baseline: one energy statistic per permutation, from the distance matrix blocks."""
    rng = np.random.default_rng(seed)
    pooled = np.vstack([a, b])
    distances = cdist(pooled, pooled)
    first = np.zeros(len(pooled), dtype=bool)
    first[:len(a)] = True

    def energy(mask: np.ndarray) -> float:
        return (2 * distances[np.ix_(mask, ~mask)].mean() - distances[np.ix_(mask, mask)].mean()
                - distances[np.ix_(~mask, ~mask)].mean())

    observed = energy(first)
    exceed = sum(energy(rng.permutation(first)) >= observed for _ in range(permutations))
    return (1 + exceed) / (1 + permutations)


def bench_energy(rows: int = 500, permutations: int = 999) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(rows, 10)), rng.normal(0.1, 1, size=(rows, 10))
    _, fast = timed(checks.energy_test, a, b, permutations, 0)
    _, slow = timed(_energy_loop, a, b, permutations, 0)
    print(f"energy test, {rows} + {rows} rows, {permutations} permutations: matrix product "
          f"{fast:.2f} s, loop {slow:.2f} s, ratio {slow / fast:.1f}x")


def main_bench() -> None:
    bench_ljung_box()
    bench_energy()
    with tempfile.TemporaryDirectory() as folder:
        bench_default(Path(folder))
        bench_large(Path(folder))


if __name__ == "__main__":
    main_bench()
