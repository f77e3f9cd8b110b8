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
from scipy import stats

from casestudies import progress
from casestudies.forecasting import arima, conformal, evaluation, sizing, transforms
from casestudies.forecasting import verdicts as rules
from casestudies.forecasting.config import ForecastingConfig, calibration_needed
from casestudies.forecasting.data import (
    ARIMA_TRUTH,
    ARMA_TRUTH,
    PERIOD_OF_FREQ,
    ForecastingData,
    Series,
    lstm_window,
    size_backtest,
)
from casestudies.forecasting.metrics import (
    MethodForecast,
    MethodScores,
    back_transformed_band,
    back_transformed_gaussian,
    crps_gaussian,
    crps_samples,
    mase_scale,
    sample_intervals,
    score_method,
)
from casestudies.forecasting.published import PUBLISHED_COVERAGE
from casestudies.provenance import StageTimer
from casestudies.results import StudyResult
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate, binomial_band, wilson_interval
from casestudies.verdicts import Verdict

PARAMETER_DRAWS = 100
# Horizons of the theory curves at least, and psi-weights summed for an unconditional variance
# (the tail of a stationary model's weights is negligible long before).
THEORY_HORIZON = 100
UNCONDITIONAL_TERMS = 5000
# Horizon bins of the coverage table: short, medium and long range.
HORIZON_BINS = ((1, 1), (2, 10), (11, 50), (51, None))
# Pairs of methods compared head to head by interval score: does the noise term repair MC
# dropout, and does a deep ensemble beat its single Gaussian-head member?
COMPARED_PAIRS = (("dropout_noise", "dropout"), ("ensemble", "gaussian"))
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

    ``score_table`` has one row per method (point values: coverage, width, MSIS, CRPS,
    pinball, MAE, RMSE, MASE); ``comparison`` the same methods with block-bootstrap intervals
    over origins (coverage, whole-path coverage, MSIS, CRPS, their excess over the recommended
    method, and against the true distribution on a simulated series); ``coverage_bands`` the
    95% coverage by horizon band with intervals; ``joint_coverage`` adds the simultaneous
    bands; ``ladder`` the uncertainty ladder (stationary simulated series);
    ``conformal_checks`` split conformal's validity; ``residual_checks`` ARIMA's residual
    tests. ``coverage_by_horizon``, ``crps_by_horizon`` and ``truth_comparison`` are the point
    summaries by horizon bin. ``binomial_low``/``binomial_high`` (the band that treats origins
    as independent) and ``naive_arima_interval`` (independent pairs) are kept for comparison.

    The picks and verdicts the report states: ``recommended_lstm_method`` (lowest
    :data:`~casestudies.forecasting.verdicts.RECOMMENDATION_SCORE` among the LSTM interval
    methods, all of them ranked in ``lstm_methods_by_interval_score``), the runner-up, and
    ``verdicts`` (by name, see :func:`series_verdicts`).

    ``transform`` is the scale the models were fitted on and why (the rule's measurement and
    verdict for ``auto``); with a transform, every interval, path and score is on the original
    scale, ``arima_median_last`` is ARIMA's back-transformed point forecast (the median) at the
    last origin and ``arima_mean_last`` its bias-adjusted mean (both None without a transform,
    where the two coincide with the point forecast).
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
    unconditional_share: float | None
    lstm_window: int
    lstm_logs: list
    lstm_seconds: float
    conformal_halfwidth: dict[float, np.ndarray]
    adaptive_updates: np.ndarray
    residual_sd: float
    heldout_residual_variance: np.ndarray
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
    runner_up_lstm_method: str
    recommended_approach: str
    lstm_methods_by_interval_score: list[str]
    origin_block: int
    origin_blocks: int
    comparison: pd.DataFrame
    coverage_bands: pd.DataFrame
    joint_coverage: pd.DataFrame
    simultaneous_critical: dict[str, float]
    conformal_checks: pd.DataFrame
    ladder: pd.DataFrame | None
    ladder_info: dict
    residual_checks: dict[str, float]
    naive_pairs: int
    naive_arima_interval: tuple[float, float]
    conformal_calibration_n: int
    conformal_rank: int
    conformal_min_n: int
    conformal_uses_maximum: bool
    verdicts: dict[str, Verdict]
    reading: dict | None = None
    missing: dict | None = None
    training_windows: int | None = None
    transform: transforms.Transform = field(
        default_factory=lambda: transforms.Transform("none", "none"))
    arima_median_last: np.ndarray | None = None
    arima_mean_last: np.ndarray | None = None

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
    ensemble_members: int
    width_tolerance: float
    resamples: int
    seasonal_strength_threshold: float = arima.SEASONAL_STRENGTH_THRESHOLD
    seasonal_ma_cancels: float = arima.SEASONAL_MA_CANCELS
    psi_match_tolerance: float = rules.PSI_MATCH_TOLERANCE


@dataclass
class ForecastingResult(StudyResult):
    """The study's result: one :class:`SeriesResult` per series, plus the theory curves of the
    two simulated processes (``theory_arima_psi_limit`` is the integrated one's
    :math:`\\psi_\\infty = \\theta(1)/\\phi(1)`).

    ``verdicts`` holds every series' verdicts under ``"SERIES.NAME"`` and the study-wide ones
    under their own names; the short answer is worded from them by the report layer.
    ``adaptations`` lists what was made smaller than asked to fit a short series (``config``
    holds the sizes used).
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
    periods_of_frequency: dict[str, float]
    published_coverage: list[dict]
    verdicts: dict[str, Verdict]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    adaptations: list = field(default_factory=list)
    smallest_sizes: dict[str, int] = field(default_factory=dict)

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
                     "comparison": series.comparison,
                     "coverage_bands": series.coverage_bands,
                     "joint_coverage": series.joint_coverage,
                     "conformal_checks": series.conformal_checks,
                     "ladder": series.ladder,
                     "aic_table": series.arima.aic_table}
            tables.update({f"{series.key}.{name}": table for name, table in named.items()
                           if table is not None})
        tables["verdicts"] = self.verdict_frame()
        return tables


def _gaussian_method(key: str, label: str, family: str, mean: np.ndarray, variance: np.ndarray,
                     actual: np.ndarray, levels,
                     transform: transforms.Transform | None = None) -> MethodForecast:
    if transform is not None and transform.applied:
        return back_transformed_gaussian(key, label, family, mean, variance, actual, levels,
                                         transform.inverse)
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


def _uncertainty_ladder(fit, values, train_end, test, horizon, level, config, actual, records,
                        resampler, rng) -> tuple[pd.DataFrame, dict]:
    """The uncertainty ladder on a stationary simulated series (see
    :mod:`casestudies.forecasting.ladder`): (a) the true model, (b) the fitted model's analytic
    interval, (c) + parameter uncertainty from bootstrap refits, (d) + order uncertainty from
    an order search inside every refit. Returns the table (coverage by horizon band against the
    truth's, width over the true width) and the refits' facts (orders, the spread of the mean
    forecast at the last horizon against the prediction interval's width)."""
    from casestudies.forecasting import ladder

    by_key = {r.key: r for r in records}
    rungs = [dataclasses.replace(by_key["truth"], key="ladder_known",
                                 label="(a) known order and parameters"),
             dataclasses.replace(by_key["arima"], key="ladder_estimated",
                                 label="(b) estimated parameters")]
    spreads, orders = {}, {}
    for key, label, search in (
            ("ladder_parameters", "(c) + parameter uncertainty", None),
            ("ladder_order", "(d) + order uncertainty", (config.max_p, config.max_q))):
        lower, upper, spread, refit_orders = ladder.bootstrap_rung(
            values, train_end, test, horizon, level, ladder.REFITS,
            (fit.order[0], fit.order[2]), search, rng)
        forecast = MethodForecast(key, label, "ARIMA", (lower + upper) / 2, {level: lower},
                                  {level: upper})
        rungs.append(evaluation.origin_record(forecast, actual))
        spreads[key], orders[key] = spread, refit_orders
    # The same ladder with the model estimated on a short stretch, where estimation matters.
    start = train_end - ladder.SHORT_TRAINING
    lower, upper, short_order, short_variance = ladder.estimated_rung(
        values, start, train_end, test, horizon, level, config.max_p, config.max_q)
    rungs.append(evaluation.origin_record(MethodForecast(
        "ladder_short_estimated", f"(b) estimated on the last {ladder.SHORT_TRAINING} "
        "observations", "ARIMA", (lower + upper) / 2, {level: lower}, {level: upper}), actual))
    for key, label, search in (
            ("ladder_short_parameters", "(c) + parameter uncertainty, short", None),
            ("ladder_short_order", "(d) + order uncertainty, short",
             (config.max_p, config.max_q))):
        lower, upper, _spread, refit_orders = ladder.bootstrap_rung(
            values, train_end, test, horizon, level, ladder.REFITS, short_order, search, rng,
            train_start=start)
        rungs.append(evaluation.origin_record(MethodForecast(
            key, label, "ARIMA", (lower + upper) / 2, {level: lower}, {level: upper}), actual))
        orders[key] = refit_orders
    table = pd.DataFrame(evaluation.ladder_rows(rungs, by_key["truth"], resampler, level,
                                                horizon))
    z = float(stats.norm.ppf(0.5 + level / 2))
    chosen = (fit.order[0], fit.order[2])
    info = {
        "refits": ladder.REFITS,
        "short_training": ladder.SHORT_TRAINING,
        "short_order": list(short_order),
        # Why the short fit's interval is as wide as it is: its variance far ahead follows the
        # short stretch's own variance, against the true process's.
        "short_variance_at_horizon": short_variance,
        "short_stretch_variance": float(np.var(values[start:train_end])),
        "true_variance_at_horizon": float(by_key["truth"].width[level][:, -1].mean() / (2 * z))
        ** 2,
        "short_order_refits_other_order": int(sum(o != short_order
                                                  for o in orders["ladder_short_order"])),
        "refits_kept": {key: len(o) for key, o in orders.items()},
        "order_refits_other_order": int(sum(o != chosen for o in orders["ladder_order"])),
        # A 95% confidence interval for the mean forecast at h = H, from the spread of the
        # refits' means, against the prediction interval's width at the same horizon.
        "mean_ci_width_at_horizon": float(2 * z * spreads["ladder_parameters"][:, -1].mean()),
        "prediction_width_at_horizon": float(rungs[2].width[level][:, -1].mean()),
    }
    return table, info


def _conformal_checks(run, adaptive: MethodScores, level: float, horizon: int,
                      rng: np.random.Generator) -> pd.DataFrame:
    """Split conformal's validity at a few horizons (1, 10 and H): calibration scores, the
    finite-sample rank and half-width, the lag-1 autocorrelation of the calibration scores in
    time order with its permutation p-value, the test-to-calibration ratio of mean scores, and
    adaptive conformal's long-run miscoverage over the test origins against Gibbs & Candès'
    bound around the target."""
    from casestudies.forecasting import lstm

    n, steps = run.calibration_scores.shape[0], run.test_scores.shape[0]
    alpha = 1 - level
    rows = []
    for h in sorted({1, min(SHORT_HORIZON, horizon), horizon}):
        scores = run.calibration_scores[:, h - 1]
        autocorrelation, pvalue = conformal.exchangeability_test(scores, rng)
        rows.append({
            "horizon": h, "calibration scores": n,
            "rank": conformal.finite_sample_rank(n, level),
            "half-width": float(run.conformal_halfwidth[level][h - 1]),
            "lag-1 autocorrelation": autocorrelation, "permutation p": pvalue,
            "test ÷ calibration mean score": float(run.test_scores[:, h - 1].mean()
                                                   / scores.mean()),
            "adaptive miscoverage": float(1 - adaptive.coverage[level][h - 1]),
            "target miscoverage": alpha,
            "guarantee bound": conformal.adaptive_bound(alpha, lstm.ADAPTIVE_STEP, steps)})
    return pd.DataFrame(rows)


def _simultaneous_methods(fit, psi, forecasts, series, true_psi, truth_moments, level: float,
                          horizon: int, rng: np.random.Generator,
                          transform: transforms.Transform | None = None
                          ) -> tuple[list[MethodForecast], dict[str, float]]:
    """Bands meant to hold the whole path 1..H: ARIMA's sup-t band (critical value from error
    paths simulated with the fitted psi-weights) and Bonferroni band, and the true model's
    sup-t band on a simulated series. Returns the methods and their critical values (the
    pointwise one for comparison)."""
    from casestudies.forecasting import bands

    sup_t = bands.sup_t_critical(bands.error_paths(psi, fit.sigma2, bands.SUP_T_PATHS, rng),
                                 level)
    bonferroni = bands.bonferroni_critical(level, horizon)
    critical = {"pointwise": float(stats.norm.ppf(0.5 + level / 2)), "ARIMA sup-t": sup_t,
                "Bonferroni": bonferroni}
    mean, variance = forecasts.mean, forecasts.var_statsmodels
    methods = []
    for key, label, c in (("arima_sup_t", "ARIMA sup-t band (whole path)", sup_t),
                          ("arima_bonferroni", "ARIMA Bonferroni band (whole path)",
                           bonferroni)):
        lower, upper = bands.simultaneous_band(mean, variance, c)
        band = MethodForecast(key, label, "ARIMA", mean, {level: lower}, {level: upper})
        # Built on the modelling scale, the band holds the whole path there exactly when its
        # increasing back-transform holds it on the original scale.
        methods.append(band if transform is None or not transform.applied
                       else back_transformed_band(band, transform.inverse))
    if true_psi is not None:
        true_sup_t = bands.sup_t_critical(
            bands.error_paths(true_psi, series.truth.params[-1], bands.SUP_T_PATHS, rng), level)
        critical["true sup-t"] = true_sup_t
        lower, upper = bands.simultaneous_band(*truth_moments, true_sup_t)
        methods.append(MethodForecast("truth_sup_t", "true sup-t band (whole path)", "truth",
                                      truth_moments[0], {level: lower}, {level: upper}))
    return methods, critical


def series_streams(seed: int, key: str) -> dict[str, np.random.Generator | int]:
    """The random streams of one series, each named after its unit of work, so that adding a
    series or a method leaves the numbers of the others unchanged: ARIMA's simulated paths,
    its parameter draws, and the root seed of the LSTMs (whose networks and samplers derive
    their own streams from it)."""
    return {"arima_paths": stream(seed, "forecasting", key, "arima_paths"),
            "parameter_draws": stream(seed, "forecasting", key, "parameter_draws"),
            "lstm": stream_seed(seed, "forecasting", key, "lstm"),
            "origins": stream(seed, "forecasting", key, "origin_bootstrap"),
            "sup_t": stream(seed, "forecasting", key, "sup_t"),
            "exchangeability": stream(seed, "forecasting", key, "exchangeability"),
            "ladder": stream(seed, "forecasting", key, "ladder"),
            "arima_residuals": stream(seed, "forecasting", key, "arima_residuals")}


def _estimate(row: pd.Series, name: str) -> Estimate:
    return Estimate(float(row[name]), float(row[f"{name} low"]), float(row[f"{name} high"]),
                    evaluation.CONFIDENCE)


def _seasonal_ma_of_differenced_winner(fit: arima.ArimaFit) -> float | None:
    """The seasonal MA coefficient of the model AIC chose with D = 1: of the set-aside model
    when the over-differencing rule fired, of the kept one otherwise; None when no seasonally
    differenced model with a seasonal MA term won."""
    if fit.overdifferenced is not None:
        return fit.overdifferenced.seasonal_ma
    if fit.seasonal_order[1] == 1 and fit.seasonal_ma.size:
        return float(fit.seasonal_ma[0])
    return None


def series_verdicts(comparison: pd.DataFrame, level: float, recommended: str, runner_up: str,
                    width_ratio: float, chosen_order: tuple[int, int, int],
                    true_order: tuple[int, int, int] | None, unconditional_share: float | None,
                    pairs: dict[tuple[str, str], Estimate] | None = None,
                    mae: dict[str, float] | None = None) -> dict[str, Verdict]:
    """Every verdict the report states about one series, by name.

    From the block-bootstrap comparison (``comparison``, one row per method, see
    :func:`~casestudies.forecasting.evaluation.compare_methods`):
    ``recommended_beats_runner_up`` (interval score), ``recommended_width_near_truth``,
    ``arima_below_truth`` / ``arima_above_truth`` (coverage on the same origins, simulated
    series), ``arima_below_nominal``, ``dropout_below_nominal`` and
    ``dropout_noise_below_nominal``; ``A_beats_B`` for every pair of ``pairs`` (the MSIS
    of B over A's, minus 1, with its paired interval); ``parameter_draws_widen`` / ``_narrow`` for
    the parameter-uncertainty width ratio; ``arima_interval_is_unconditional`` for the
    stationary limit; ``aic_found_true_order`` on a simulated series.
    """
    rows = {row["key"]: row for _, row in comparison.iterrows()}
    nominal = f"the nominal {level:.0%}"

    verdicts = [
        rules.lower_score("recommended_beats_runner_up",
                          _estimate(rows[runner_up], "MSIS excess"), "the runner-up"),
        rules.coverage_below("arima_below_nominal", _estimate(rows["arima"], "coverage"),
                             level, nominal),
        rules.coverage_below("dropout_below_nominal", _estimate(rows["dropout"], "coverage"),
                             level, nominal),
        rules.coverage_below("dropout_noise_below_nominal",
                             _estimate(rows["dropout_noise"], "coverage"), level, nominal),
        rules.parameter_draws_widen("parameter_draws_widen", width_ratio),
        rules.parameter_draws_narrow("parameter_draws_narrow", width_ratio),
        rules.unconditional_band("arima_interval_is_unconditional", unconditional_share,
                                 chosen_order[1]),
    ]
    verdicts += [rules.lower_score(f"{a}_beats_{b}", estimate, b)
                 for (a, b), estimate in (pairs or {}).items()]
    if mae:
        verdicts += [
            rules.lower_mae("direct_lower_mae_than_recursive", mae["lstm_direct"],
                            mae["lstm_recursive"], "the recursive LSTM"),
            rules.lower_mae("direct_lower_mae_than_arima", mae["lstm_direct"], mae["arima"],
                            "ARIMA")]
    if "coverage minus true" in comparison.columns:
        diff = _estimate(rows["arima"], "coverage minus true")
        verdicts += [
            rules.coverage_below("arima_below_truth", diff, 0.0,
                                 "the true distribution's coverage on the same origins"),
            rules.coverage_above("arima_above_truth", diff, 0.0,
                                 "the true distribution's coverage on the same origins"),
            rules.width_near_truth("recommended_width_near_truth",
                                   _estimate(rows[recommended], "width ÷ true")),
        ]
    if true_order is not None:
        verdicts.append(rules.same_order("aic_found_true_order", chosen_order, true_order))
    return {v.name: v for v in verdicts}


def series_transform(series: Series, config: ForecastingConfig) -> transforms.Transform:
    """The scale ``series`` is modelled on (:func:`transforms.choose_transform` on its training
    part). A simulated series keeps its raw scale whatever is asked: its true distribution,
    which the report compares every method with, is Gaussian on that scale."""
    requested = config.transform_for(user_data=series.key == "user")
    if series.truth is not None:
        if requested == "none":
            return transforms.Transform("none", "none")
        return transforms.Transform(requested, "none",
                                    fallback="a simulated series keeps the scale its true "
                                             "distribution is Gaussian on")
    calibration, _test = backtest_origins(series.n, config)
    return transforms.choose_transform(series.values, int(calibration[0]), series.period,
                                       requested, series.name)


def analyse_series(series: Series, config: ForecastingConfig, timer: StageTimer,
                   transform: transforms.Transform | None = None) -> SeriesResult:
    """Fit, forecast and score every method on one series, each random part from the
    series' own named streams (:func:`series_streams`).

    With a ``transform`` (default: :func:`series_transform`), ARIMA and the LSTMs are fitted
    to the transformed values and every interval, path and point is mapped back before it is
    scored against the original values.
    """
    from casestudies.forecasting import lstm

    horizon, levels = config.horizon, config.levels
    streams = series_streams(config.seed, series.key)
    values = series.values
    calibration, test = backtest_origins(series.n, config)
    train_end = int(calibration[0])
    actual = values[test[:, None] + np.arange(horizon)[None, :]]
    season = round(series.period) if series.period else 1
    scale = mase_scale(values[:train_end], season)
    transform = series_transform(series, config) if transform is None else transform
    modelled = transform.forward(values)
    back = transform.inverse

    progress.status(f"  {series.name}: ARIMA order search and backtest")
    with timer.stage(f"{series.key}: ARIMA"):
        fit = arima.select_and_fit(modelled[:train_end], series.period, config.max_p,
                                   config.max_q)
        forecasts = arima.arima_backtest(fit, modelled, test, horizon, config.paths,
                                         streams["arima_paths"])
        parameter_paths = back(arima.parameter_uncertainty_paths(
            fit, modelled, int(test[-1]), horizon, PARAMETER_DRAWS,
            max(config.paths // 10, 2), streams["parameter_draws"]))
    methods = [
        _gaussian_method("arima", "ARIMA analytic (statsmodels)", "ARIMA", forecasts.mean,
                         forecasts.var_statsmodels, actual, levels, transform),
        _gaussian_method("arima_psi", "ARIMA psi-weights (ours)", "ARIMA", forecasts.mean,
                         forecasts.var_psi, actual, levels, transform),
        _sample_method("arima_paths", "ARIMA simulated paths", "ARIMA", back(forecasts.samples),
                       actual, levels),
    ]
    # Bootstrapped residuals: the same propagation, shocks resampled from the residuals.
    errors = arima.residual_bootstrap_errors(fit, horizon, config.paths,
                                             streams["arima_residuals"])
    methods.append(_sample_method("arima_residuals", "ARIMA bootstrapped residuals", "ARIMA",
                                  back(forecasts.mean[:, :, None] + errors.T[None, :, :]),
                                  actual, levels))
    checks = arima.residual_checks(fit)
    gap = float(np.max(np.abs(forecasts.var_psi / forecasts.var_statsmodels - 1)))
    if series.truth is not None:
        with timer.stage(f"{series.key}: true distribution"):
            true_mean, true_var = arima.true_forecasts(series.truth, values, test, horizon)
        methods.append(_gaussian_method("truth", "true distribution", "truth", true_mean,
                                        true_var, actual, levels))

    progress.status(f"  {series.name}: training the LSTMs")
    with timer.stage(f"{series.key}: LSTM"):
        run = lstm.fit_and_forecast(
            modelled, fit.order[1], train_end, calibration, test, horizon,
            lstm_window(config, series.period), levels, config.hidden, config.dropout,
            config.max_epochs, config.patience, config.max_windows, config.paths,
            streams["lstm"], **({"inverse": back, "original": values}
                                if transform.applied else {}))
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
    analytic_width = np.diff(np.stack(back(np.stack(arima.gaussian_interval(
        forecasts.mean[last], forecasts.var_statsmodels[last], level95)))), axis=0)[0]
    showcase = Showcase(
        origin=origin, history_time=time_axis[origin - history_len:origin],
        history=values[origin - history_len:origin],
        future_time=time_axis[origin:origin + horizon], actual=actual[last], bands=bands,
        points={key: by_key[key].point[last] for key in
                ("arima", "lstm_recursive", "lstm_direct", "truth") if key in by_key},
        parameter_paths_width95=parameter_width, parameter_path_count=parameter_paths.shape[1],
        analytic_width95=analytic_width)

    psi = arima.fit_psi_weights(fit, horizon)
    truth_gap = None
    if series.truth is not None:
        true_psi = arima.psi_weights(series.truth.ar, series.truth.ma, horizon,
                                     series.truth.order[1])
        truth_gap = float(np.max(np.abs(psi - true_psi)))
    unconditional = None
    if fit.order[1] == 0 and fit.seasonal_order[1] == 0:
        unconditional = float(arima.fit_forecast_variance(fit, UNCONDITIONAL_TERMS)[-1])
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

    # Uncertainty of the backtest: blocks of origins whose forecast windows overlap.
    block = evaluation.block_length(horizon, config.origin_step, len(test))
    resampler = evaluation.OriginResampler.build(len(test), block, streams["origins"])
    records = [evaluation.origin_record(m, actual) for m in methods if m.key != "arima_psi"]
    ranked = rules.rank_interval_methods(scores)
    by_score = {s.key: s for s in scores}
    recommended = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else ranked[0]
    truth_key = "truth" if series.truth is not None else None
    comparison = pd.DataFrame(evaluation.compare_methods(records, resampler, scale, level95,
                                                         recommended, truth_key))
    # The interval a reader would get by treating every (origin, horizon) pair as independent.
    arima_hits = next(r for r in records if r.key == "arima").inside[level95]
    naive = wilson_interval(int(arima_hits.sum()), arima_hits.size)
    bands_table = pd.DataFrame(evaluation.coverage_by_band(records, resampler, level95,
                                                           horizon))
    # Simultaneous bands for whole paths: ARIMA (and the truth) with sup-t and Bonferroni.
    joint_methods, critical = _simultaneous_methods(
        fit, psi, forecasts, series, true_psi if series.truth is not None else None,
        (true_mean, true_var) if series.truth is not None else None, level95, horizon,
        streams["sup_t"], transform)
    joint_records = [evaluation.origin_record(m, actual) for m in joint_methods]
    joint_rows = evaluation.compare_methods(records + joint_records, resampler, scale, level95,
                                            recommended, truth_key)
    joint_table = pd.DataFrame([
        {k: row[k] for k in ("method", "key", "coverage", "coverage low", "coverage high",
                             "joint coverage", "joint coverage low", "joint coverage high",
                             "MSIS")} for row in joint_rows])
    ladder_table, ladder_info = None, {}
    if series.truth is not None and fit.order[1] == 0 and series.truth.order[1] == 0 \
            and not fit.harmonics:
        with timer.stage(f"{series.key}: uncertainty ladder"):
            ladder_table, ladder_info = _uncertainty_ladder(
                fit, values, train_end, test, horizon, level95, config, actual, records,
                resampler, streams["ladder"])
    conformal_table = _conformal_checks(run, by_score["adaptive"], level95, horizon,
                                        streams["exchangeability"])
    width_ratio = float(parameter_width[-1] / analytic_width[-1])
    share = (None if unconditional is None
             else float(forecasts.var_psi[0][-1] / unconditional))
    pairs = {pair: evaluation.score_excess(records, *pair, resampler, level95)
             for pair in COMPARED_PAIRS}
    verdicts = series_verdicts(comparison, level95, recommended, runner_up, width_ratio,
                               fit.order, series.truth.order if series.truth else None, share,
                               pairs, {s.key: s.overall["MAE"] for s in scores})
    if ladder_table is not None:
        far = evaluation.horizon_bands(horizon)[-1][0]
        rungs = {row["key"]: row for _, row in ladder_table.iterrows()}
        for name, key in (("ladder_estimated_below_truth_far", "ladder_estimated"),
                          ("ladder_order_below_truth_far", "ladder_order"),
                          ("ladder_short_estimated_below_truth_far", "ladder_short_estimated"),
                          ("ladder_short_order_below_truth_far", "ladder_short_order")):
            verdicts[name] = rules.coverage_below(
                name, _estimate(rungs[key], f"{far} minus true"), 0.0,
                "the true model's coverage on the same origins, in the last horizon band")
    # Only for what was measured: a series without a seasonal measurement keeps its verdicts.
    measured = transform.amplitude
    if measured is not None and measured.growth is not None:
        verdicts["seasonal_amplitude_grows"] = rules.amplitude_grows(
            "seasonal_amplitude_grows", measured.growth, measured.threshold)
    if fit.seasonal_strength is not None:
        verdicts["season_differenced"] = rules.season_differenced(
            "season_differenced", fit.seasonal_strength, arima.SEASONAL_STRENGTH_THRESHOLD)
    cancelled = _seasonal_ma_of_differenced_winner(fit)
    if cancelled is not None:
        verdicts["season_overdifferenced"] = rules.season_overdifferenced(
            "season_overdifferenced", cancelled, -(1 - arima.SEASONAL_MA_CANCELS))
    verdicts["psi_matches_statsmodels"] = rules.psi_matches_statsmodels(
        "psi_matches_statsmodels", gap, rules.PSI_MATCH_TOLERANCE)
    verdicts["arima_residuals_white"] = rules.residuals_pass(
        "arima_residuals_white", checks[f"Ljung-Box p, lag {arima.RESIDUAL_LAGS[-1]}"],
        "Ljung-Box")
    verdicts["arima_residuals_normal"] = rules.residuals_pass(
        "arima_residuals_normal", checks["Jarque-Bera p"], "Jarque-Bera")
    last = conformal_table.iloc[-1]
    verdicts["calibration_scores_autocorrelated"] = rules.scores_autocorrelated(
        "calibration_scores_autocorrelated", float(last["permutation p"]))
    verdicts["adaptive_guarantee_vacuous"] = rules.guarantee_vacuous(
        "adaptive_guarantee_vacuous", float(last["guarantee bound"]), 1 - level95)
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
        unconditional_variance=unconditional, unconditional_share=share,
        lstm_window=run.window, lstm_logs=run.logs,
        lstm_seconds=run.seconds, conformal_halfwidth=run.conformal_halfwidth,
        adaptive_updates=run.adaptive_updates,
        residual_sd=run.residual_sd, heldout_residual_variance=run.residual_variance,
        scores=scores, score_table=_summary_table(shown),
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
        lstm_interval_methods=[s.key for s in scores if s.family == "LSTM" and s.coverage],
        recommended_lstm_method=recommended, runner_up_lstm_method=runner_up,
        recommended_approach=lstm.APPROACH.get(recommended, "other"),
        lstm_methods_by_interval_score=ranked,
        origin_block=block, origin_blocks=int(np.ceil(len(test) / block)),
        comparison=comparison, coverage_bands=bands_table, joint_coverage=joint_table,
        simultaneous_critical=critical, conformal_checks=conformal_table,
        ladder=ladder_table, ladder_info=ladder_info, residual_checks=checks,
        naive_pairs=int(arima_hits.size), naive_arima_interval=naive,
        conformal_calibration_n=len(calibration),
        conformal_rank=conformal.finite_sample_rank(len(calibration), level95),
        conformal_min_n=calibration_needed(level95),
        conformal_uses_maximum=conformal.finite_sample_rank(len(calibration), level95)
        == len(calibration),
        verdicts=verdicts, reading=series.reading, missing=series.missing,
        training_windows=train_end - lstm_window(config, series.period) - horizon,
        transform=transform,
        arima_median_last=back(forecasts.mean[-1]) if transform.applied else None,
        arima_mean_last=(transform.mean(forecasts.mean[-1], forecasts.var_statsmodels[-1])
                         if transform.applied else None))


def run(config: ForecastingConfig, data: ForecastingData) -> ForecastingResult:
    """Run the study on every series of ``data``, with the backtest sized to them (a short
    series gets a smaller analysis; see :mod:`casestudies.forecasting.sizing`)."""
    from threadpoolctl import threadpool_limits

    sized = size_backtest(config, data.series)
    smallest = sizing.smallest_sizes(config)
    config = sized.config
    timer = StageTimer()
    results = []
    # Every series' transform first: a log of a negative value stops the run before any fit.
    scales = [series_transform(series, config) for series in data.series]
    # The Kalman filter's many tiny matrix products run far slower with multithreaded BLAS
    # (thread start-up dominates, and worse on a busy machine): one thread is much faster.
    with threadpool_limits(limits=1):
        for series, transform in zip(data.series, scales, strict=True):
            results.append(analyse_series(series, config, timer, transform))
    from casestudies.forecasting import lstm

    theory_h = max(config.horizon, THEORY_HORIZON)
    arma_, arima_ = ARMA_TRUTH, ARIMA_TRUTH
    constants = MethodConstants(
        adf_level=arima.ADF_LEVEL, max_harmonics=arima.MAX_HARMONICS,
        parameter_draws=PARAMETER_DRAWS, lstm_layers=lstm.LAYERS, batch_size=lstm.BATCH_SIZE,
        learning_rate=lstm.LEARNING_RATE, adaptive_step=lstm.ADAPTIVE_STEP,
        band_confidence=rules.BAND_CONFIDENCE, parameter_effect=rules.PARAMETER_EFFECT,
        mae_margin=rules.MAE_MARGIN, recommendation_score=rules.RECOMMENDATION_SCORE,
        ensemble_members=lstm.ENSEMBLE_MEMBERS, width_tolerance=rules.WIDTH_TOLERANCE,
        resamples=evaluation.RESAMPLES)
    theory_arma = arima.forecast_variance(arma_.ar, arma_.ma, arma_.params[-1], theory_h)
    theory_arima = arima.forecast_variance(arima_.ar, arima_.ma, arima_.params[-1], theory_h,
                                           d=arima_.order[1])
    unconditional_arma = float(arima.forecast_variance(
        arma_.ar, arma_.ma, arma_.params[-1], UNCONDITIONAL_TERMS)[-1])

    verdicts: dict[str, Verdict] = {}
    for item in results:
        for name, verdict in item.verdicts.items():
            # Study-wide names carry the series, as in "arma.dropout_below_nominal".
            qualified = f"{item.key}.{name}"
            verdicts[qualified] = dataclasses.replace(verdict, name=qualified)
    verdicts["psi_matches_statsmodels"] = rules.psi_matches_statsmodels(
        "psi_matches_statsmodels", max(s.psi_max_relative_gap for s in results),
        rules.PSI_MATCH_TOLERANCE)
    verdicts["dropout_below_nominal_everywhere"] = rules.all_hold(
        "dropout_below_nominal_everywhere",
        [s.verdicts["dropout_below_nominal"] for s in results],
        rule="MC dropout's 95% coverage interval below the nominal level on every series")
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
        periods_of_frequency={name: PERIOD_OF_FREQ[code] for name, code in QUOTED_FREQUENCIES},
        published_coverage=PUBLISHED_COVERAGE,
        verdicts=verdicts, stage_seconds=timer.seconds, adaptations=sized.adaptations,
        smallest_sizes=smallest)
