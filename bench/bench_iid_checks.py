"""Benchmark of the IID audit: speed-ups against the obvious baseline measured in the same run
(Ljung-Box from lagged dot products against statsmodels' ``acorr_ljungbox`` and against FFT
autocorrelations; KS, Wasserstein and PSI of a column from one sort against scipy's
``ks_2samp`` + ``wasserstein_distance`` + a PSI; the energy-distance permutation test as one
matrix product against a loop over permutations); the default report with a cold and a warm
cache of the gallery and simulation; and, with ``--large``, the audit of a 1,000,000-row,
20-column file (target: under 2 minutes). The machine's load average is printed with each
timing: on a shared machine the absolute times move, the ratios much less.

Both sides of every ratio run with the math libraries limited to one thread, as the pipeline
runs (``threadpool_limits(1)`` in ``casestudies.iid_checks.pipeline.run``); the settings are
printed first.

    python bench/bench_iid_checks.py                 # make bench: about a minute
    python bench/bench_iid_checks.py --large --ljung-box-rows 20000,200000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from benchlib import best_of_each, print_settings, thread_limit, timed
from scipy import stats
from scipy.spatial.distance import cdist
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tsa.stattools import acf

from casestudies.cli import main
from casestudies.iid_checks import checks
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.dependent import dependent_two_sample

LARGE_ROWS = 1_000_000
LARGE_FEATURES = 17  # plus time, group and target: 20 columns
LARGE_BUDGET_S = 120.0
DEFAULT_BUDGET_S = 60.0
PIPELINE_THREADS = 1  # as casestudies.iid_checks.pipeline.run: threadpool_limits(1)


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


def load() -> str:
    """The 1-minute load average and the cores: how busy the machine was."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def bench_default(folder: Path) -> None:
    """The default report twice: with an empty cache, then with the gallery and simulation
    cached (the reports must be identical apart from the stage timings)."""
    os.environ["CASESTUDIES_CACHE_DIR"] = str(folder / "cache")
    outputs = []
    for label in ("cold cache", "warm cache"):
        out = folder / label.replace(" ", "-")
        code, seconds = timed(main, ["iid_checks", "--out", str(out), "--quiet"])
        assert code == 0
        verdict = "within" if seconds < DEFAULT_BUDGET_S else "OVER"
        print(f"default report, {label}: {seconds:.1f} s ({verdict} the "
              f"{DEFAULT_BUDGET_S:.0f} s budget; {load()})", flush=True)
        payload = json.loads((out / "iid_checks.json").read_text())
        payload["result"].pop("stage_seconds", None)
        outputs.append(payload["result"])
    assert outputs[0] == outputs[1], "the cached report differs from the computed one"
    print("cold and warm reports: identical results")


def bench_large(folder: Path) -> None:
    path, make_seconds = timed(large_file, folder)
    print(f"large file: {LARGE_ROWS:,} rows x {LARGE_FEATURES + 3} columns written in "
          f"{make_seconds:.1f} s")
    args = ["iid_checks", "--data", str(path), "--time", "ts", "--target", "label",
            "--group", "customer", "--out", str(folder / "large"), "--quiet"]
    code, seconds = timed(main, args)
    assert code == 0
    verdict = "within" if seconds < LARGE_BUDGET_S else "OVER"
    print(f"({load()})")
    defaults = IIDConfig()
    print(f"audit of the large file (models on a {defaults.max_rows:,}-row subsample, energy "
          f"test on {defaults.max_energy_rows:,} rows per side, ADF/KPSS/BDS on "
          f"{defaults.max_series:,} block means): {seconds:.1f} s ({verdict} the "
          f"{LARGE_BUDGET_S:.0f} s budget)")


def bench_ljung_box(rows: int, repeats: int) -> None:
    x = np.random.default_rng(1).normal(size=rows)
    with thread_limit(PIPELINE_THREADS):
        (ours, fast), (reference, slow) = best_of_each(
            repeats, lambda: checks.ljung_box(x, 10),
            lambda: acorr_ljungbox(x, lags=[10], return_df=True))
    assert np.isclose(ours.statistic, reference["lb_stat"].iloc[0])
    with thread_limit(PIPELINE_THREADS):
        (_, fast), (_, fft) = best_of_each(
            repeats, lambda: checks.ljung_box(x, 10),
            lambda: acf(x, nlags=10, fft=True, result_object=False))
    print(f"Ljung-Box (10 lags) on {rows:,} values, best of {repeats}: dot products "
          f"{fast * 1e3:.1f} ms, statsmodels {slow * 1e3:.1f} ms, ratio {slow / fast:.1f}x "
          f"(same Q); FFT autocorrelations alone {fft * 1e3:.1f} ms, ratio {fft / fast:.1f}x "
          f"({load()})", flush=True)


def _three_sorts(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Baseline: KS, Wasserstein / SD and PSI each from its own library call."""
    pooled = np.concatenate([a, b])
    return (stats.ks_2samp(a, b).statistic,
            stats.wasserstein_distance(a, b) / pooled.std(), checks.psi(a, b).statistic)


def bench_distribution(rows: int, repeats: int) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=rows) + np.linspace(0, 0.2, rows)
    side = np.arange(rows) >= rows // 2
    with thread_limit(PIPELINE_THREADS):
        (ours, fast), (reference, slow) = best_of_each(
            repeats, lambda: dependent_two_sample(x, side, discrete=False, permutations=0,
                                                  rng=rng, max_rows=rows, block=1),
            lambda: _three_sorts(x[~side], x[side]))
    assert np.isclose(ours.statistics["Kolmogorov-Smirnov"], reference[0])
    print(f"KS + Wasserstein + PSI of one column, {rows:,} values, best of {repeats}: one sort "
          f"{fast:.2f} s, three library calls {slow:.2f} s, ratio {slow / fast:.1f}x "
          f"({load()})", flush=True)


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


def bench_energy(rows: int, permutations: int, repeats: int) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(rows, 10)), rng.normal(0.1, 1, size=(rows, 10))
    with thread_limit(PIPELINE_THREADS):
        (fast_test, fast), (slow_p, slow) = best_of_each(
            repeats, lambda: checks.energy_test(a, b, permutations, 0),
            lambda: _energy_loop(a, b, permutations, 0))
    print(f"energy test, {rows:,} + {rows:,} rows x 10 columns, {permutations} permutations, "
          f"best of {repeats}: matrix product {fast:.2f} s, loop {slow:.2f} s, ratio "
          f"{slow / fast:.1f}x (p = {fast_test.p_value:.3g} and {slow_p:.3g})", flush=True)


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ljung-box-rows", default="20000",
                        help="comma-separated series lengths for Ljung-Box (default: %(default)s)")
    parser.add_argument("--distribution-rows", type=int, default=1_000_000,
                        help="values of the one-sort distribution tests (default: %(default)s)")
    parser.add_argument("--energy-rows", type=int, default=500,
                        help="rows per side of the energy test (default: %(default)s)")
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--repeats", type=int, default=5,
                        help="runs of each side of a ratio, alternating, the fastest kept; the "
                             "energy test runs at most 2 times (default: %(default)s)")
    parser.add_argument("--large", action="store_true",
                        help=f"also audit a {LARGE_ROWS:,}-row file (a few minutes)")
    parser.add_argument("--no-report", action="store_true",
                        help="skip the default report")
    args = parser.parse_args()
    lb_rows = [int(n) for n in args.ljung_box_rows.split(",")]
    energy_repeats = min(args.repeats, 2)
    defaults = IIDConfig()
    with thread_limit(PIPELINE_THREADS):
        print_settings(
            "IID audit",
            threads=f"both sides of every ratio under threadpool_limits({PIPELINE_THREADS}) "
                    "(BLAS and OpenMP), as the pipeline",
            sizes=[f"Ljung-Box {', '.join(f'{n:,}' for n in lb_rows)} values, 10 lags",
                   f"energy test {args.energy_rows:,} + {args.energy_rows:,} rows x 10, "
                   f"{args.permutations} permutations",
                   f"default report (seed {defaults.seed})"
                   + (": skipped" if args.no_report else ""),
                   f"large file {LARGE_ROWS:,} rows x {LARGE_FEATURES + 3}"
                   + ("" if args.large else ": skipped (--large)")],
            repeats=f"the two sides of a ratio alternate; Ljung-Box best of {args.repeats}, "
                    f"energy test best of {energy_repeats}; reports once",
            packages=("numpy", "scipy", "statsmodels", "scikit-learn", "pandas"))
    for rows in lb_rows:
        bench_ljung_box(rows, args.repeats)
    bench_distribution(args.distribution_rows, min(args.repeats, 3))
    bench_energy(args.energy_rows, args.permutations, energy_repeats)
    with tempfile.TemporaryDirectory() as folder:
        if not args.no_report:
            bench_default(Path(folder))
        if args.large:
            bench_large(Path(folder))


if __name__ == "__main__":
    main_bench()
