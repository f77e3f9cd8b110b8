"""The analysis: for each series, fit ARIMA and the LSTMs once, forecast 1..H steps from every
origin of a rolling-origin backtest, and score every method's intervals.

No I/O and no HTML: :func:`run` returns a :class:`ForecastingResult` that the report reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casestudies import progress
from casestudies.forecasting import arima
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import (
    ARIMA_TRUTH,
    ARMA_TRUTH,
    ForecastingData,
    Series,
    lstm_window,
)
from casestudies.forecasting.metrics import (
    MethodForecast,
    MethodScores,
    crps_gaussian,
    crps_samples,
    mase_scale,
    sample_intervals,
    score_method,
)
from casestudies.provenance import StageTimer
from casestudies.stats import binomial_band

PARAMETER_DRAWS = 100
# Horizons of the theory curves at least, and psi-weights summed for an unconditional variance
# (the tail of a stationary model's weights is negligible long before).
THEORY_HORIZON = 100
UNCONDITIONAL_TERMS = 5000
# Horizon bins of the coverage table: short, medium and long range.
HORIZON_BINS = ((1, 1), (2, 10), (11, 50), (51, None))


def backtest_origins(n: int, config: ForecastingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Calibration and test origins: the test block ends where the last forecast reaches the
    series' end; calibration forecasts end before the first test origin."""
    step, horizon = config.origin_step, config.horizon
    last = n - horizon
    test = last - step * np.arange(config.origins)[::-1]
    calibration = test[0] - horizon - step * np.arange(config.calibration_origins)[::-1]
    return calibration, test


@dataclass
class Showcase:
    """One origin (the last) in detail, for the fan charts."""

    origin: int
    history_time: np.ndarray
    history: np.ndarray
    future_time: np.ndarray
    actual: np.ndarray
    bands: dict[str, dict[str, np.ndarray]]
    points: dict[str, np.ndarray]
    parameter_paths_width95: np.ndarray
    parameter_path_count: int
    analytic_width95: np.ndarray


@dataclass
class SeriesResult:
    """Everything measured on one series.

    ``summary`` has one row per method (coverage, width, MSIS, CRPS, pinball, MAE, RMSE,
    MASE); ``coverage_by_horizon`` the 95% coverage and ``crps_by_horizon`` the mean CRPS by
    horizon bin; ``truth_comparison``
    (simulated series) each method's width relative to the true interval.
    """

    key: str
    name: str
    n: int
    notes: list[str]
    period: float | None
    time_range: tuple[str, str] | None
    truth_formula: str | None
    truth_order: tuple[int, int, int] | None
    truth_psi_max_gap: float | None
    interpolated: dict[str, int]
    preview: pd.DataFrame
    values: np.ndarray
    time: np.ndarray
    train_end: int
    calibration_origins: np.ndarray
    test_origins: np.ndarray
    scale: float
    arima: arima.ArimaFit
    psi: np.ndarray
    psi_variance: np.ndarray
    psi_max_relative_gap: float
    unconditional_variance: float | None
    lstm_window: int
    lstm_logs: list
    lstm_seconds: float
    conformal_halfwidth: dict[float, np.ndarray]
    adaptive_updates: np.ndarray
    residual_sd: float
    scores: list[MethodScores]
    summary: pd.DataFrame
    coverage_by_horizon: pd.DataFrame
    crps_by_horizon: pd.DataFrame
    truth_comparison: pd.DataFrame | None
    binomial_low: dict[float, float]
    binomial_high: dict[float, float]
    showcase: Showcase

    def score(self, key: str) -> MethodScores:
        """The scores of method ``key`` (``"arima"``, ``"conformal"`` …)."""
        return next(s for s in self.scores if s.key == key)


@dataclass
class MethodConstants:
    """Fixed settings of the methods (module constants, not options), for the report."""

    adf_level: float
    max_harmonics: int
    parameter_draws: int
    lstm_layers: int
    batch_size: int
    learning_rate: float
    adaptive_step: float


@dataclass
class ForecastingResult:
    """The study's result: one :class:`SeriesResult` per series, plus the theory curves of the
    two simulated processes (``theory_arima_psi_limit`` is the integrated one's
    :math:`\\psi_\\infty = \\theta(1)/\\phi(1)`)."""

    short_answer: str
    horizon: int
    levels: tuple[float, float]
    quick: bool
    config: ForecastingConfig
    constants: MethodConstants
    series: list[SeriesResult]
    theory_arma_label: str
    theory_arima_label: str
    theory_psi_arma: np.ndarray
    theory_variance_arma: np.ndarray
    theory_unconditional_arma: float
    theory_variance_arima: np.ndarray
    theory_arima_psi_limit: float
    stage_seconds: dict[str, float] = field(default_factory=dict)


def _gaussian_method(key: str, label: str, family: str, mean: np.ndarray, variance: np.ndarray,
                     actual: np.ndarray, levels) -> MethodForecast:
    lower, upper = {}, {}
    for level in levels:
        lower[level], upper[level] = arima.gaussian_interval(mean, variance, level)
    return MethodForecast(key, label, family, mean, lower, upper,
                          crps=crps_gaussian(mean, np.sqrt(variance), actual))


def _sample_method(key: str, label: str, family: str, samples: np.ndarray, actual: np.ndarray,
                   levels) -> MethodForecast:
    lower, upper = {}, {}
    for level in levels:
        lower[level], upper[level] = sample_intervals(samples, level)
    return MethodForecast(key, label, family, samples.mean(axis=-1), lower, upper,
                          crps=crps_samples(samples, actual))


def _summary_table(scores: list[MethodScores]) -> pd.DataFrame:
    rows = []
    for score in scores:
        row = {"method": score.label}
        row.update(score.summary)
        rows.append(row)
    return pd.DataFrame(rows)


def by_horizon_range(per_horizon: dict[str, np.ndarray], horizon: int) -> pd.DataFrame:
    """Average each method's per-horizon values (arrays of length ``horizon``) over the
    :data:`HORIZON_BINS` ranges: one row per method, one column per range."""
    rows = []
    for label, values in per_horizon.items():
        row = {"method": label}
        for low, high in HORIZON_BINS:
            high_ = horizon if high is None else min(high, horizon)
            if low > horizon:
                continue
            name = f"h={low}" if low == high_ else f"h={low}–{high_}"
            row[name] = float(np.mean(values[low - 1:high_]))
        rows.append(row)
    return pd.DataFrame(rows)


def _truth_comparison(scores: list[MethodScores], level: float) -> pd.DataFrame:
    truth = next(s for s in scores if s.key == "truth")
    rows = []
    for score in scores:
        if level not in score.width or score.key == "truth":
            continue
        ratio = score.width[level] / truth.width[level]
        rows.append({"method": score.label, "width ÷ true width, h=1": float(ratio[0]),
                     f"h={len(ratio)}": float(ratio[-1]), "mean over h": float(ratio.mean()),
                     "coverage": score.summary[f"coverage {round(100 * level)}"],
                     "true coverage": truth.summary[f"coverage {round(100 * level)}"]})
    return pd.DataFrame(rows)


def analyse_series(series: Series, config: ForecastingConfig, timer: StageTimer,
                   rng: np.random.Generator) -> SeriesResult:
    """Fit, forecast and score every method on one series."""
    from casestudies.forecasting import lstm

    horizon, levels = config.horizon, config.levels
    values = series.values
    calibration, test = backtest_origins(series.n, config)
    train_end = int(calibration[0])
    actual = values[test[:, None] + np.arange(horizon)[None, :]]
    season = round(series.period) if series.period else 1
    scale = mase_scale(values[:train_end], season)

    progress.status(f"  {series.name}: ARIMA order search and backtest")
    with timer.stage(f"{series.key}: ARIMA"):
        fit = arima.select_and_fit(values[:train_end], series.period, config.max_p, config.max_q)
        forecasts = arima.arima_backtest(fit, values, test, horizon, config.paths, rng)
        parameter_paths = arima.parameter_uncertainty_paths(
            fit, values, int(test[-1]), horizon, PARAMETER_DRAWS,
            max(config.paths // 10, 2), rng)
    methods = [
        _gaussian_method("arima", "ARIMA analytic (statsmodels)", "ARIMA", forecasts.mean,
                         forecasts.var_statsmodels, actual, levels),
        _gaussian_method("arima_psi", "ARIMA psi-weights (ours)", "ARIMA", forecasts.mean,
                         forecasts.var_psi, actual, levels),
        _sample_method("arima_paths", "ARIMA simulated paths", "ARIMA", forecasts.samples,
                       actual, levels),
    ]
    gap = float(np.max(np.abs(forecasts.var_psi / forecasts.var_statsmodels - 1)))
    if series.truth is not None:
        with timer.stage(f"{series.key}: true distribution"):
            true_mean, true_var = arima.true_forecasts(series.truth, values, test, horizon)
        methods.append(_gaussian_method("truth", "true distribution", "truth", true_mean,
                                        true_var, actual, levels))

    progress.status(f"  {series.name}: training the LSTMs")
    with timer.stage(f"{series.key}: LSTM"):
        run = lstm.fit_and_forecast(
            values, fit.order[1], train_end, calibration, test, horizon,
            lstm_window(config, series.period), levels, config.hidden, config.dropout,
            config.max_epochs, config.patience, config.max_windows, config.paths, config.seed)
    methods.extend(run.methods)
    scores = [score_method(m, actual, scale) for m in methods]

    level95 = max(levels)
    low, high = {}, {}
    for level in levels:
        band = binomial_band(level, len(test))
        low[level], high[level] = float(band[0]), float(band[1])

    by_key = {m.key: m for m in methods}
    last = -1
    history_len = min(3 * horizon, int(test[-1]))
    origin = int(test[last])
    steps = np.arange(series.n)
    time_axis = series.time.to_numpy() if series.time is not None else steps
    bands = {}
    for key in ("arima", "truth", "gaussian", "conformal", "quantile", "dropout", "bootstrap",
                "arima_paths"):
        if key in by_key:
            bands[key] = {f"{round(100 * lv)}": np.stack([by_key[key].lower[lv][last],
                                                          by_key[key].upper[lv][last]])
                          for lv in levels}
    parameter_width = np.diff(
        np.stack(sample_intervals(parameter_paths, level95)), axis=0)[0]
    analytic_width = np.diff(np.stack(arima.gaussian_interval(
        forecasts.mean[last], forecasts.var_statsmodels[last], level95)), axis=0)[0]
    showcase = Showcase(
        origin=origin, history_time=time_axis[origin - history_len:origin],
        history=values[origin - history_len:origin],
        future_time=time_axis[origin:origin + horizon], actual=actual[last], bands=bands,
        points={key: by_key[key].point[last] for key in
                ("arima", "lstm_recursive", "lstm_direct", "truth") if key in by_key},
        parameter_paths_width95=parameter_width, parameter_path_count=parameter_paths.shape[1],
        analytic_width95=analytic_width)

    psi = arima.psi_weights(fit.ar, fit.ma, horizon, fit.order[1])
    truth_gap = None
    if series.truth is not None:
        true_psi = arima.psi_weights(series.truth.ar, series.truth.ma, horizon,
                                     series.truth.order[1])
        truth_gap = float(np.max(np.abs(psi - true_psi)))
    unconditional = None
    if fit.order[1] == 0:
        unconditional = float(arima.forecast_variance(fit.ar, fit.ma, fit.sigma2,
                                                     UNCONDITIONAL_TERMS)[-1])
    if series.time is not None:
        time_range = (str(series.time[0].date()), str(series.time[-1].date()))
        preview = pd.DataFrame({"time": [str(t.date()) for t in series.time[:5]],
                                "value": values[:5]})
    else:
        time_range = None
        preview = pd.DataFrame({"step": np.arange(5), "value": values[:5]})
    filled = (np.zeros(series.n, dtype=bool) if series.interpolated is None
              else series.interpolated)
    interpolated = {"all": int(filled.sum()), "training": int(filled[:train_end].sum()),
                    "calibration": int(filled[train_end:int(test[0])].sum()),
                    "test": int(filled[int(test[0]):].sum())}
    shown = [s for s in scores if s.key != "arima_psi"]
    return SeriesResult(
        key=series.key, name=series.name, n=series.n, notes=series.notes, period=series.period,
        time_range=time_range,
        truth_formula=series.truth.formula if series.truth is not None else None,
        truth_order=series.truth.order if series.truth is not None else None,
        truth_psi_max_gap=truth_gap, interpolated=interpolated,
        preview=preview, values=values, time=time_axis, train_end=train_end,
        calibration_origins=calibration, test_origins=test, scale=scale, arima=fit, psi=psi,
        psi_variance=forecasts.var_psi[0], psi_max_relative_gap=gap,
        unconditional_variance=unconditional, lstm_window=run.window, lstm_logs=run.logs,
        lstm_seconds=run.seconds, conformal_halfwidth=run.conformal_halfwidth,
        adaptive_updates=run.adaptive_updates,
        residual_sd=run.residual_sd, scores=scores, summary=_summary_table(shown),
        coverage_by_horizon=by_horizon_range(
            {s.label: s.coverage[level95] for s in shown if level95 in s.coverage}, horizon),
        crps_by_horizon=by_horizon_range(
            {s.label: s.crps for s in shown if s.crps is not None}, horizon),
        truth_comparison=(_truth_comparison(shown, level95) if series.truth is not None
                          else None),
        binomial_low=low, binomial_high=high, showcase=showcase)


def short_answer(result: ForecastingResult) -> str:
    """One line with the headline numbers of the first series."""
    first = result.series[0]
    level = max(result.levels)
    tag = f"coverage {round(100 * level)}"
    arima_cov = first.score("arima").summary[tag]
    lstm = {s.key: s.summary[tag] for s in first.scores
            if s.family == "LSTM" and tag in s.summary}
    best = min(lstm, key=lambda k: abs(lstm[k] - level))
    worst = min(lstm, key=lambda k: lstm[k])
    label = {s.key: s.label.replace("LSTM ", "") for s in first.scores}
    low, high = first.binomial_low[level], first.binomial_high[level]
    where = "within" if low <= arima_cov <= high else ("below" if arima_cov < low else "above")
    return (f"ARIMA is a probabilistic model whose forecast variance follows from its "
            f"psi-weights, so its {level:.0%} interval is a formula: on {first.name} it covered "
            f"{arima_cov:.0%} of 1–{result.horizon}-step-ahead values ({where} the binomial "
            f"range of a correct interval over {len(first.test_origins)} origins, "
            f"{low:.0%}–{high:.0%}); an MSE-trained LSTM "
            f"predicts only the mean and has no interval until one is added: "
            f"{label[best]} covered {lstm[best]:.0%}, {label[worst]} only {lstm[worst]:.0%}.")


def run(config: ForecastingConfig, data: ForecastingData) -> ForecastingResult:
    """Run the study on every series of ``data``."""
    from threadpoolctl import threadpool_limits

    timer = StageTimer()
    rng = np.random.default_rng([config.seed, 7])
    results = []
    # The Kalman filter's many tiny matrix products run far slower with multithreaded BLAS
    # (thread start-up dominates, and worse on a busy machine): one thread is much faster.
    with threadpool_limits(limits=1):
        for series in data.series:
            results.append(analyse_series(series, config, timer, rng))
    from casestudies.forecasting import lstm

    theory_h = max(config.horizon, THEORY_HORIZON)
    arma_, arima_ = ARMA_TRUTH, ARIMA_TRUTH
    constants = MethodConstants(
        adf_level=arima.ADF_LEVEL, max_harmonics=arima.MAX_HARMONICS,
        parameter_draws=PARAMETER_DRAWS, lstm_layers=lstm.LAYERS, batch_size=lstm.BATCH_SIZE,
        learning_rate=lstm.LEARNING_RATE, adaptive_step=lstm.ADAPTIVE_STEP)
    result = ForecastingResult(
        short_answer="", horizon=config.horizon, levels=config.levels, quick=config.quick,
        config=config, constants=constants, series=results,
        theory_arma_label=arma_.label, theory_arima_label=arima_.label,
        theory_psi_arma=arima.psi_weights(arma_.ar, arma_.ma, theory_h),
        theory_variance_arma=arima.forecast_variance(arma_.ar, arma_.ma, arma_.params[-1],
                                                     theory_h),
        theory_unconditional_arma=float(arima.forecast_variance(
            arma_.ar, arma_.ma, arma_.params[-1], UNCONDITIONAL_TERMS)[-1]),
        theory_variance_arima=arima.forecast_variance(arima_.ar, arima_.ma, arima_.params[-1],
                                                      theory_h, d=arima_.order[1]),
        theory_arima_psi_limit=arima.psi_limit(arima_.ar, arima_.ma),
        stage_seconds=timer.seconds)
    result.short_answer = short_answer(result)
    return result
