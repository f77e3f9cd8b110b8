"""The analysis: for each series, fit ARIMA and the LSTMs once, forecast 1..H steps from every
origin of a rolling-origin backtest, and score every method's intervals.

No I/O and no HTML: :func:`run` returns a :class:`ForecastingResult` that the report reads. It
holds every number the report shows and every conclusion as a verdict (rules and thresholds in
:mod:`casestudies.forecasting.verdicts`); each series, network and sampler draws from its own
named random stream (:func:`series_streams`), so adding a series changes no other series'
numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from casestudies import progress
from casestudies.forecasting import arima
from casestudies.forecasting import verdicts as rules
from casestudies.forecasting.config import ForecastingConfig
from casestudies.forecasting.data import (
    ARIMA_TRUTH,
    ARMA_TRUTH,
    PERIOD_OF_FREQ,
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
from casestudies.results import StudyResult
from casestudies.rng import stream, stream_seed
from casestudies.stats import binomial_band
from casestudies.verdicts import Verdict

PARAMETER_DRAWS = 100
# Horizons of the theory curves at least, and psi-weights summed for an unconditional variance
# (the tail of a stationary model's weights is negligible long before).
THEORY_HORIZON = 100
UNCONDITIONAL_TERMS = 5000
# Horizon bins of the coverage table: short, medium and long range.
HORIZON_BINS = ((1, 1), (2, 10), (11, 50), (51, None))
# Horizon at which the math section shows how far the stationary variance has converged.
SHORT_HORIZON = 10
# Seasonal periods the report quotes for the common frequencies (own-data section).
QUOTED_FREQUENCIES = (("weekly", "W"), ("monthly", "MS"), ("daily", "D"))


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

    ``score_table`` has one row per method (coverage, width, MSIS, CRPS, pinball, MAE, RMSE,
    MASE); ``coverage_by_horizon`` the 95% coverage and ``crps_by_horizon`` the mean CRPS by
    horizon bin; ``truth_comparison``
    (simulated series) each method's width relative to the true interval.

    The picks and verdicts the report states: ``recommended_lstm_method`` (lowest
    :data:`~casestudies.forecasting.verdicts.RECOMMENDATION_SCORE` among the LSTM interval
    methods, all of them ranked in ``lstm_methods_by_interval_score``), the LSTM methods of
    lowest and highest 95% coverage, those within the binomial band, and ``verdicts`` (by name,
    see :func:`series_verdicts`).
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
    arima_sigma: float
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
    score_table: pd.DataFrame
    coverage_by_horizon: pd.DataFrame
    crps_by_horizon: pd.DataFrame
    truth_comparison: pd.DataFrame | None
    binomial_low: dict[float, float]
    binomial_high: dict[float, float]
    showcase: Showcase
    parameter_width_ratio: float
    width_at_horizon: dict[str, float]
    lstm_networks: int
    lstm_interval_methods: list[str]
    recommended_lstm_method: str
    lstm_methods_by_interval_score: list[str]
    lowest_coverage_lstm_method: str
    highest_coverage_lstm_method: str
    lstm_methods_within_band: list[str]
    arima_truth_coverage_gap_points: float | None
    verdicts: dict[str, Verdict]

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
    band_confidence: float
    parameter_effect: float
    mae_margin: float
    recommendation_score: str


@dataclass
class ForecastingResult(StudyResult):
    """The study's result: one :class:`SeriesResult` per series, plus the theory curves of the
    two simulated processes (``theory_arima_psi_limit`` is the integrated one's
    :math:`\\psi_\\infty = \\theta(1)/\\phi(1)`).

    ``verdicts`` holds every series' verdicts under ``"SERIES.NAME"`` and the study-wide ones
    under their own names; the short answer is worded from them by the report layer.
    """

    study: ClassVar[str] = "forecasting"

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
    theory_horizon: int
    theory_short_horizon: int
    theory_arma_variance_at_short: float
    theory_arma_share_at_short: float
    theory_arima_slope: float
    max_psi_relative_gap: float
    lstm_interval_ways: int
    lstm_methods_within_band_everywhere: list[str]
    periods_of_frequency: dict[str, float]
    verdicts: dict[str, Verdict]
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each series' tables, named ``"SERIES.TABLE"``: the scores of every method, coverage
        and CRPS by horizon range, the widths against the true interval (simulated series) and
        the ARIMA order grid; and ``"verdicts"``."""
        tables = {}
        for series in self.series:
            named = {"score_table": series.score_table,
                     "coverage_by_horizon": series.coverage_by_horizon,
                     "crps_by_horizon": series.crps_by_horizon,
                     "truth_comparison": series.truth_comparison,
                     "aic_table": series.arima.aic_table}
            tables.update({f"{series.key}.{name}": table for name, table in named.items()
                           if table is not None})
        tables["verdicts"] = self.verdict_frame()
        return tables


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
        row.update(score.overall)
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
                     "coverage": score.overall[f"coverage {round(100 * level)}"],
                     "true coverage": truth.overall[f"coverage {round(100 * level)}"]})
    return pd.DataFrame(rows)


def series_streams(seed: int, key: str) -> dict[str, np.random.Generator | int]:
    """The random streams of one series, each named after its unit of work, so that adding a
    series or a method leaves the numbers of the others unchanged: ARIMA's simulated paths,
    its parameter draws, and the root seed of the LSTMs (whose networks and samplers derive
    their own streams from it)."""
    return {"arima_paths": stream(seed, "forecasting", key, "arima_paths"),
            "parameter_draws": stream(seed, "forecasting", key, "parameter_draws"),
            "lstm": stream_seed(seed, "forecasting", key, "lstm")}


def series_verdicts(scores: list[MethodScores], band_low: dict[float, float],
                    band_high: dict[float, float], recommended: str, width_ratio: float,
                    chosen_order: tuple[int, int, int],
                    true_order: tuple[int, int, int] | None) -> dict[str, Verdict]:
    """Every verdict the report states about one series, by name.

    ``arima_coverage_within_band`` / ``arima_coverage_below_band``: ARIMA's analytic 95%
    interval against the binomial band of a correct interval; the same for the true
    distribution (simulated series), for the recommended LSTM method, and
    ``dropout_below_band`` for MC dropout; ``parameter_draws_widen`` / ``_narrow`` for the
    parameter-uncertainty width ratio; ``direct_lower_mae_than_recursive`` and
    ``direct_lower_mae_than_arima`` for point accuracy; ``aic_found_true_order`` on a simulated
    series.
    """
    level = max(band_low)
    tag = f"coverage {round(100 * level)}"
    by_key = {s.key: s for s in scores}
    low, high = band_low[level], band_high[level]

    def coverage(key: str) -> float:
        return by_key[key].overall[tag]

    verdicts = [
        rules.coverage_within_band("arima_coverage_within_band", coverage("arima"), low, high,
                                   level),
        rules.coverage_below_band("arima_coverage_below_band", coverage("arima"), low, level),
        rules.coverage_within_band("recommended_lstm_within_band", coverage(recommended), low,
                                   high, level),
        rules.coverage_below_band("dropout_below_band", coverage("dropout"), low, level),
        rules.parameter_draws_widen("parameter_draws_widen", width_ratio),
        rules.parameter_draws_narrow("parameter_draws_narrow", width_ratio),
        rules.lower_mae("direct_lower_mae_than_recursive", by_key["lstm_direct"].overall["MAE"],
                        by_key["lstm_recursive"].overall["MAE"], "the recursive LSTM"),
        rules.lower_mae("direct_lower_mae_than_arima", by_key["lstm_direct"].overall["MAE"],
                        by_key["arima"].overall["MAE"], "ARIMA"),
    ]
    if "truth" in by_key:
        verdicts.append(rules.coverage_within_band("truth_coverage_within_band",
                                                   coverage("truth"), low, high, level))
    if true_order is not None:
        verdicts.append(rules.same_order("aic_found_true_order", chosen_order, true_order))
    return {v.name: v for v in verdicts}


def analyse_series(series: Series, config: ForecastingConfig, timer: StageTimer
                   ) -> SeriesResult:
    """Fit, forecast and score every method on one series, each random part from the
    series' own named streams (:func:`series_streams`)."""
    from casestudies.forecasting import lstm

    horizon, levels = config.horizon, config.levels
    streams = series_streams(config.seed, series.key)
    values = series.values
    calibration, test = backtest_origins(series.n, config)
    train_end = int(calibration[0])
    actual = values[test[:, None] + np.arange(horizon)[None, :]]
    season = round(series.period) if series.period else 1
    scale = mase_scale(values[:train_end], season)

    progress.status(f"  {series.name}: ARIMA order search and backtest")
    with timer.stage(f"{series.key}: ARIMA"):
        fit = arima.select_and_fit(values[:train_end], series.period, config.max_p, config.max_q)
        forecasts = arima.arima_backtest(fit, values, test, horizon, config.paths,
                                         streams["arima_paths"])
        parameter_paths = arima.parameter_uncertainty_paths(
            fit, values, int(test[-1]), horizon, PARAMETER_DRAWS,
            max(config.paths // 10, 2), streams["parameter_draws"])
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
            config.max_epochs, config.patience, config.max_windows, config.paths,
            streams["lstm"])
    methods.extend(run.methods)
    scores = [score_method(m, actual, scale) for m in methods]

    level95 = max(levels)
    low, high = {}, {}
    for level in levels:
        band = binomial_band(level, len(test), confidence=rules.BAND_CONFIDENCE)
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

    # Picks and verdicts: every number and conclusion the report states about this series.
    tag = f"coverage {round(100 * level95)}"
    lstm_interval = [s for s in scores if s.family == "LSTM" and s.coverage]
    recommended = rules.recommend_interval_method(scores)
    width_ratio = float(parameter_width[-1] / analytic_width[-1])
    within = [s.key for s in lstm_interval
              if rules.coverage_within_band(s.key, s.overall[tag], low[level95], high[level95],
                                            level95).holds]
    by_score = {s.key: s for s in scores}
    truth_gap_points = (abs(by_score["arima"].overall[tag] - by_score["truth"].overall[tag])
                        * 100 if "truth" in by_score else None)
    verdicts = series_verdicts(
        scores, low, high, recommended, width_ratio, fit.order,
        series.truth.order if series.truth is not None else None)
    return SeriesResult(
        key=series.key, name=series.name, n=series.n, notes=series.notes, period=series.period,
        time_range=time_range,
        truth_formula=series.truth.formula if series.truth is not None else None,
        truth_order=series.truth.order if series.truth is not None else None,
        truth_psi_max_gap=truth_gap, interpolated=interpolated,
        preview=preview, values=values, time=time_axis, train_end=train_end,
        calibration_origins=calibration, test_origins=test, scale=scale, arima=fit,
        arima_sigma=float(np.sqrt(fit.sigma2)), psi=psi,
        psi_variance=forecasts.var_psi[0], psi_max_relative_gap=gap,
        unconditional_variance=unconditional, lstm_window=run.window, lstm_logs=run.logs,
        lstm_seconds=run.seconds, conformal_halfwidth=run.conformal_halfwidth,
        adaptive_updates=run.adaptive_updates,
        residual_sd=run.residual_sd, scores=scores, score_table=_summary_table(shown),
        coverage_by_horizon=by_horizon_range(
            {s.label: s.coverage[level95] for s in shown if level95 in s.coverage}, horizon),
        crps_by_horizon=by_horizon_range(
            {s.label: s.crps for s in shown if s.crps is not None}, horizon),
        truth_comparison=(_truth_comparison(shown, level95) if series.truth is not None
                          else None),
        binomial_low=low, binomial_high=high, showcase=showcase,
        parameter_width_ratio=width_ratio,
        width_at_horizon={s.key: float(s.width[level95][-1]) for s in scores
                          if level95 in s.width},
        lstm_networks=len(run.logs),
        lstm_interval_methods=[s.key for s in lstm_interval],
        recommended_lstm_method=recommended,
        lstm_methods_by_interval_score=rules.rank_interval_methods(scores),
        lowest_coverage_lstm_method=min(lstm_interval, key=lambda s: s.overall[tag]).key,
        highest_coverage_lstm_method=max(lstm_interval, key=lambda s: s.overall[tag]).key,
        lstm_methods_within_band=within,
        arima_truth_coverage_gap_points=truth_gap_points,
        verdicts=verdicts)


def run(config: ForecastingConfig, data: ForecastingData) -> ForecastingResult:
    """Run the study on every series of ``data``."""
    from threadpoolctl import threadpool_limits

    timer = StageTimer()
    results = []
    # The Kalman filter's many tiny matrix products run far slower with multithreaded BLAS
    # (thread start-up dominates, and worse on a busy machine): one thread is much faster.
    with threadpool_limits(limits=1):
        for series in data.series:
            results.append(analyse_series(series, config, timer))
    from casestudies.forecasting import lstm

    theory_h = max(config.horizon, THEORY_HORIZON)
    arma_, arima_ = ARMA_TRUTH, ARIMA_TRUTH
    constants = MethodConstants(
        adf_level=arima.ADF_LEVEL, max_harmonics=arima.MAX_HARMONICS,
        parameter_draws=PARAMETER_DRAWS, lstm_layers=lstm.LAYERS, batch_size=lstm.BATCH_SIZE,
        learning_rate=lstm.LEARNING_RATE, adaptive_step=lstm.ADAPTIVE_STEP,
        band_confidence=rules.BAND_CONFIDENCE, parameter_effect=rules.PARAMETER_EFFECT,
        mae_margin=rules.MAE_MARGIN,        recommendation_score=rules.RECOMMENDATION_SCORE)
    theory_arma = arima.forecast_variance(arma_.ar, arma_.ma, arma_.params[-1], theory_h)
    theory_arima = arima.forecast_variance(arima_.ar, arima_.ma, arima_.params[-1], theory_h,
                                           d=arima_.order[1])
    unconditional_arma = float(arima.forecast_variance(
        arma_.ar, arma_.ma, arma_.params[-1], UNCONDITIONAL_TERMS)[-1])

    verdicts: dict[str, Verdict] = {}
    for item in results:
        for name, verdict in item.verdicts.items():
            # Study-wide names carry the series, as in "arma.dropout_below_band".
            qualified = f"{item.key}.{name}"
            verdicts[qualified] = dataclasses.replace(verdict, name=qualified)
    verdicts["dropout_below_band_everywhere"] = rules.all_hold(
        "dropout_below_band_everywhere", [s.verdicts["dropout_below_band"] for s in results],
        rule="MC dropout's 95% coverage below the binomial band on every series")
    labels = {s.key: s.label for s in results[0].scores}
    everywhere = [labels[key] for key in results[0].lstm_interval_methods
                  if all(key in s.lstm_methods_within_band for s in results)]
    return ForecastingResult(
        horizon=config.horizon, levels=config.levels, quick=config.quick,
        config=config, constants=constants, series=results,
        theory_arma_label=arma_.label, theory_arima_label=arima_.label,
        theory_psi_arma=arima.psi_weights(arma_.ar, arma_.ma, theory_h),
        theory_variance_arma=theory_arma,
        theory_unconditional_arma=unconditional_arma,
        theory_variance_arima=theory_arima,
        theory_arima_psi_limit=arima.psi_limit(arima_.ar, arima_.ma),
        theory_horizon=theory_h, theory_short_horizon=SHORT_HORIZON,
        theory_arma_variance_at_short=float(theory_arma[SHORT_HORIZON - 1]),
        theory_arma_share_at_short=float(theory_arma[SHORT_HORIZON - 1] / unconditional_arma),
        theory_arima_slope=float(theory_arima[-1] - theory_arima[-2]),
        max_psi_relative_gap=max(s.psi_max_relative_gap for s in results),
        # The adaptive variant of split conformal is counted apart from the ways.
        lstm_interval_ways=len([k for k in results[0].lstm_interval_methods
                                if k != "adaptive"]),
        lstm_methods_within_band_everywhere=everywhere,
        periods_of_frequency={name: PERIOD_OF_FREQ[code] for name, code in QUOTED_FREQUENCIES},
        verdicts=verdicts, stage_seconds=timer.seconds)
