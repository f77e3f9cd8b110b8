"""Benchmark of the forecasting study: ARIMA fit + forecast against LSTM training, per series
and per origin, side by side in one run; and the Kalman filter with one BLAS thread against the
default thread pool.

ARIMA and the LSTMs run as in the pipeline: the math libraries limited to one thread
(``threadpool_limits(limits=1)`` in ``casestudies.forecasting.pipeline.run``) and PyTorch set to
one thread while it trains and forecasts (``lstm.deterministic_torch``). The Kalman-filter ratio
is the one ratio that compares thread settings, on purpose: it shows why the pipeline limits
the threads. The settings are printed first.

    python bench/bench_forecasting.py                    # make bench: about half a minute
    python bench/bench_forecasting.py --repeats 3 --filter-repeats 10
    python bench/bench_forecasting.py --pipeline         # plus the whole study, by stage
"""

from __future__ import annotations

import argparse

import numpy as np
from benchlib import best_of, print_settings, thread_limit, threads_now, timed

from casestudies import progress
from casestudies.forecasting import arima, lstm
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import load_data, lstm_window
from casestudies.forecasting.pipeline import backtest_origins

FILTER_RUNS = 20  # Kalman filter + forecast runs per timing
PIPELINE_THREADS = 1  # as casestudies.forecasting.pipeline.run; PyTorch: one thread as well


def row(label: str, value: str) -> None:
    print(f"  {label:<58}{value:>10}")


def bench_series(series, config: ForecastingConfig, repeats: int) -> None:
    calibration, test = backtest_origins(series.n, config)
    train_end = int(calibration[0])
    values = series.values
    with thread_limit(PIPELINE_THREADS, torch_threads=PIPELINE_THREADS):
        fit, fit_seconds = best_of(repeats, arima.select_and_fit, values[:train_end],
                                   series.period, config.max_p, config.max_q)
        _, forecast_seconds = best_of(repeats, arima.arima_backtest, fit, values, test,
                                      config.horizon, config.paths, np.random.default_rng(0))
        runs = [timed(lstm.fit_and_forecast, values, fit.order[1], train_end, calibration, test,
                      config.horizon, lstm_window(config, series.period), config.levels,
                      config.hidden, config.dropout, config.max_epochs, config.patience,
                      config.max_windows, config.paths, config.seed)
                for _ in range(max(1, repeats))]
    # the fastest run (the same seed trains the same networks each time)
    run, lstm_seconds = min(runs, key=lambda r: sum(log.seconds for log in r[0].logs))
    train_seconds = sum(log.seconds for log in run.logs)
    grid = len(fit.aic_table)
    per_origin_arima = forecast_seconds / len(test)
    print(f"\n{series.name}: {series.n:,} observations, {len(test)} test origins, "
          f"horizon {config.horizon}, best of {repeats}")
    row(f"ARIMA order search ({grid} fits) + final fit", f"{fit_seconds:.2f} s")
    row(f"ARIMA forecast + {config.paths} paths, per origin",
        f"{1000 * per_origin_arima:.1f} ms")
    row(f"LSTM training, {len(run.logs)} networks, once", f"{train_seconds:.2f} s")
    for log in run.logs:
        row(f"  {log.name} ({len(log.train_loss)} epochs, {log.windows} windows)",
            f"{log.seconds:.2f} s")
    row("LSTM forecasts, all methods, all origins", f"{lstm_seconds - train_seconds:.2f} s")
    print(f"  ratio LSTM training / ARIMA order search + fit: {train_seconds / fit_seconds:.2f}")
    retrain = train_seconds * len(test)
    refit = fit_seconds / grid * len(test)
    print(f"  retraining per origin would cost {retrain:.0f} s for the LSTMs against "
          f"{refit:.0f} s for refitting the chosen ARIMA ({retrain / refit:.1f}x)", flush=True)


def bench_blas_threads(series, config: ForecastingConfig, repeats: int) -> None:
    calibration, test = backtest_origins(series.n, config)
    with thread_limit(PIPELINE_THREADS):
        fit = arima.select_and_fit(series.values[:int(calibration[0])], series.period, 1, 1)
    origin = int(test[0])

    def filter_many():
        for _ in range(FILTER_RUNS):
            arima.condition(fit, series.values, origin).get_forecast(
                config.horizon, exog=arima.fourier_terms(origin + config.horizon, fit.period,
                                                         fit.harmonics)[origin:])

    # The two settings alternate, so that both meet the same spells of load from other work;
    # the limit is entered outside the timing.
    default_threads = threads_now()
    default_seconds = single_seconds = float("inf")
    for _ in range(max(1, repeats)):
        default_seconds = min(default_seconds, timed(filter_many)[1])
        with thread_limit(PIPELINE_THREADS):
            single_threads = threads_now()
            single_seconds = min(single_seconds, timed(filter_many)[1])
    print(f"\nKalman filter + forecast on {series.name}, {FILTER_RUNS} runs, best of {repeats} "
          f"(this ratio compares thread settings, on purpose):\n"
          f"  default threads ({default_threads}) {default_seconds:.2f} s, "
          f"one thread ({single_threads}) {single_seconds:.2f} s: "
          f"{default_seconds / single_seconds:.1f}x", flush=True)


def bench_pipeline(config: ForecastingConfig, data) -> None:
    """The whole default study (no report): wall time of every stage, as a share of the run
    and against the first series' ARIMA stage, the baseline of the same run. The budget of
    ``make report-forecasting`` is three minutes on two idle cores; the machine's load is
    printed because a shared machine inflates every timing."""
    import os

    from casestudies.forecasting.pipeline import run

    load = os.getloadavg()
    result, seconds = timed(run, config, data)
    stages = result.stage_seconds
    baseline = stages[f"{data.series[0].key}: ARIMA"]
    print(f"\nwhole pipeline (default options, no report): {seconds:.1f} s; load average "
          f"before {load[0]:.1f}, after {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, value in sorted(stages.items(), key=lambda item: -item[1]):
        row(f"{name}", f"{value:.1f} s")
        print(f"  {'':<4}share of the run {value / seconds:.0%}, "
              f"{value / baseline:.1f}x the {data.series[0].key} ARIMA stage")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of ARIMA and LSTM per series, the fastest kept "
                             "(default: %(default)s)")
    parser.add_argument("--pipeline", action="store_true",
                        help="also time the whole default pipeline, stage by stage")
    parser.add_argument("--filter-repeats", type=int, default=3,
                        help=f"timings of the {FILTER_RUNS} Kalman-filter runs on each side, "
                             "the fastest kept (default: %(default)s)")
    args = parser.parse_args()
    progress.set_quiet(True)
    config = ForecastingConfig()
    data, seconds = timed(load_data, config)
    with thread_limit(PIPELINE_THREADS, torch_threads=PIPELINE_THREADS):
        print_settings(
            "forecasting: ARIMA and LSTM",
            threads=f"ARIMA and LSTM under threadpool_limits({PIPELINE_THREADS}) (BLAS and "
                    f"OpenMP) and PyTorch {PIPELINE_THREADS} thread, as the pipeline; the "
                    "Kalman-filter ratio: default threads against one thread",
            sizes=[f"{series.name} {series.n:,} observations" for series in data.series]
                  + [f"default config: horizon {config.horizon}, {config.paths} paths, "
                     f"ARIMA grid p <= {config.max_p}, q <= {config.max_q}, LSTM hidden "
                     f"{config.hidden}, at most {config.max_epochs} epochs"],
            repeats=f"ARIMA and LSTM best of {args.repeats}; Kalman filter {FILTER_RUNS} runs, "
                    f"the two settings alternating, each best of {args.filter_repeats}",
            packages=("numpy", "scipy", "statsmodels", "torch"))
    print(f"loaded {data.source} in {seconds:.2f} s")
    for series in data.series:
        bench_series(series, config, args.repeats)
    bench_blas_threads(data.series[-1], config, args.filter_repeats)
    if args.pipeline:
        bench_pipeline(config, data)


if __name__ == "__main__":
    main()
