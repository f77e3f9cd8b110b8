"""Benchmark of the forecasting study: ARIMA fit + forecast against LSTM training, per series
and per origin, side by side in one run; and the Kalman filter with one BLAS thread against the
default thread pool.

Run with ``python bench/bench_forecasting.py`` (``make bench``); prints timings and ratios.
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.forecasting import arima, lstm
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import load_data, lstm_window
from casestudies.forecasting.pipeline import backtest_origins

FILTER_REPEATS = 20


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def row(label: str, value: str) -> None:
    print(f"  {label:<58}{value:>10}")


def bench_series(series, config: ForecastingConfig) -> None:
    calibration, test = backtest_origins(series.n, config)
    train_end = int(calibration[0])
    values = series.values
    with threadpool_limits(limits=1):
        fit, fit_seconds = timed(arima.select_and_fit, values[:train_end], series.period,
                                 config.max_p, config.max_q)
        _, forecast_seconds = timed(arima.arima_backtest, fit, values, test, config.horizon,
                                    config.paths, np.random.default_rng(0))
    run, lstm_seconds = timed(
        lstm.fit_and_forecast, values, fit.order[1], train_end, calibration, test,
        config.horizon, lstm_window(config, series.period), config.levels, config.hidden,
        config.dropout, config.max_epochs, config.patience, config.max_windows, config.paths,
        config.seed)
    train_seconds = sum(log.seconds for log in run.logs)
    grid = len(fit.aic_table)
    per_origin_arima = forecast_seconds / len(test)
    print(f"\n{series.name}: {series.n:,} observations, {len(test)} test origins, "
          f"horizon {config.horizon}")
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
          f"{refit:.0f} s for refitting the chosen ARIMA ({retrain / refit:.1f}x)")


def bench_blas_threads(series, config: ForecastingConfig) -> None:
    calibration, test = backtest_origins(series.n, config)
    fit = arima.select_and_fit(series.values[:int(calibration[0])], series.period, 1, 1)
    origin = int(test[0])

    def filter_many():
        for _ in range(FILTER_REPEATS):
            arima.condition(fit, series.values, origin).get_forecast(
                config.horizon, exog=arima.fourier_terms(origin + config.horizon, fit.period,
                                                         fit.harmonics)[origin:])

    _, default_seconds = timed(filter_many)
    with threadpool_limits(limits=1):
        _, single_seconds = timed(filter_many)
    print(f"\nKalman filter + forecast on {series.name}, {FILTER_REPEATS} times: default BLAS "
          f"threads {default_seconds:.2f} s, one thread {single_seconds:.2f} s "
          f"({default_seconds / single_seconds:.1f}x)")


def main() -> None:
    progress.set_quiet(True)
    config = ForecastingConfig()
    data, seconds = timed(load_data, config)
    print(f"loaded {data.source} in {seconds:.2f} s")
    for series in data.series:
        bench_series(series, config)
    bench_blas_threads(data.series[-1], config)


if __name__ == "__main__":
    main()
