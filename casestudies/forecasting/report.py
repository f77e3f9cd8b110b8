"""The forecasting report: fan charts, width and coverage by horizon, the tables and the
explanation, read from a :class:`~casestudies.forecasting.pipeline.ForecastingResult`."""

from __future__ import annotations

from typing import Any

import markupsafe
import numpy as np
import pandas as pd

from casestudies.forecasting import STUDY, question_for, title_for
from casestudies.forecasting.arima import gaussian_interval
from casestudies.forecasting.evaluation import horizon_bands
from casestudies.forecasting.pipeline import ForecastingResult, SeriesResult
from casestudies.report import PALETTE, Report, new_figure, user_text
from casestudies.report.formatting import (
    format_ci,
    format_number,
    format_percent,
    format_pvalue,
)

# One colour per method in every figure; the true distribution is the black dashed reference.
COLOURS = {
    "arima": PALETTE[0], "arima_paths": "#5b8bd0", "arima_residuals": "#0b2e59",
    "truth": "#222222",
    "quantile": PALETTE[3], "gaussian": PALETTE[1], "dropout": "#8c564b",
    "dropout_noise": "#c49c94", "bootstrap": PALETTE[4], "ensemble": "#808000",
    "conformal": PALETTE[2], "adaptive": "#8fc99a",
    "lstm_recursive": PALETTE[7],
    "lstm_direct": PALETTE[5],
}
REFERENCES = {
    "boxjenkins": "Box, G. E. P., Jenkins, G. M., Reinsel, G. C. & Ljung, G. M. (2015). Time "
                  "Series Analysis: Forecasting and Control, 5th edition. Wiley.",
    "fpp3": "Hyndman, R. J. & Athanasopoulos, G. (2021). Forecasting: Principles and Practice, "
            "3rd edition. OTexts (neural network autoregression and its simulated intervals).",
    "gal2016": "Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian approximation: "
               "representing model uncertainty in deep learning. ICML.",
    "zhu2017": "Zhu, L. & Laptev, N. (2017). Deep and confident prediction for time series at "
               "Uber. IEEE ICDM Workshops.",
    "lakshminarayanan2017": "Lakshminarayanan, B., Pritzel, A. & Blundell, C. (2017). Simple "
                            "and scalable predictive uncertainty estimation using deep "
                            "ensembles. NeurIPS.",
    "gneiting2007": "Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, "
                    "prediction, and estimation. Journal of the American Statistical "
                    "Association 102, 359-378.",
    "kunsch1989": "Künsch, H. R. (1989). The jackknife and the bootstrap for general "
                  "stationary observations. Annals of Statistics 17, 1217-1241.",
    "makridakis2020": "Makridakis, S., Spiliotis, E. & Assimakopoulos, V. (2020). The M4 "
                      "Competition: 100,000 time series and 61 forecasting methods. "
                      "International Journal of Forecasting 36, 54-74.",
    "hyndman2002": "Hyndman, R. J., Koehler, A. B., Snyder, R. D. & Grose, S. (2002). A state "
                   "space framework for automatic forecasting using exponential smoothing "
                   "methods. International Journal of Forecasting 18, 439-454.",
    "chatfield1993": "Chatfield, C. (1993). Calculating interval forecasts. Journal of Business "
                     "& Economic Statistics 11, 121-135.",
    "gibbs2021": "Gibbs, I. & Candès, E. (2021). Adaptive conformal inference under "
                 "distribution shift. NeurIPS.",
    "guerrero1993": "Guerrero, V. M. (1993). Time-series analysis supported by power "
                    "transformations. Journal of Forecasting 12, 37-48.",
    "wang2006": "Wang, X., Smith, K. A. & Hyndman, R. J. (2006). Characteristic-based "
                "clustering for time series data. Data Mining and Knowledge Discovery 13, "
                "335-364.",
}
GLOSSARY = {
    "Prediction interval": "An interval meant to hold the next observed value with a stated "
                           "probability: it carries the noise as well as the uncertainty of "
                           "the estimated mean.",
    "Confidence interval": "An interval for a fixed unknown quantity, such as the mean "
                           "forecast; it shrinks as data accumulate and does not cover new "
                           "values.",
    "Psi-weights": "The coefficients $\\psi_j$ of an ARIMA model written as a sum of past "
                   "shocks; the $h$-step forecast variance is $\\sigma^2\\sum_{j<h}\\psi_j^2$.",
    "Interval score": "Width plus $2/\\alpha$ times the distance by which the value falls "
                      "outside; a proper score. MSIS divides its mean by the in-sample naive "
                      "MAE.",
    "CRPS": "Continuous ranked probability score: the squared distance between the forecast "
            "distribution function and the step at the observed value; proper, in the units "
            "of the data.",
    "Coverage": "The share of values that fell inside their intervals; a calibration check.",
    "Whole-path coverage": "The share of origins whose entire path of future values stayed "
                           "inside the band (joint coverage).",
    "Block bootstrap": "Resampling blocks of consecutive forecast origins, so that the "
                       "interval of a backtest statistic respects the overlap of forecast "
                       "windows.",
    "Conformal interval": "A point forecast plus or minus a quantile of held-out absolute "
                          "errors; valid when calibration and test errors are exchangeable.",
    "MC dropout": "Dropout left on at prediction time; the spread of the outputs approximates "
                  "the uncertainty of the network's mean.",
    "Deep ensemble": "Several networks trained from different seeds, whose predictive "
                     "distributions are mixed.",
}
# How the recommended LSTM method gets its spread, in the short answer's words.
APPROACH_WORDS = {
    "simulation": " (an assumed noise model fed through simulated paths: ARIMA's own recipe)",
    "noise added": " (the held-out noise variance added to the spread of the mean)",
    "calibration": " (the spread calibrated on held-out errors)",
    "quantiles": " (quantiles learned directly by the pinball loss)",
}
# The psi-weight formula in the width figure: a colour no method uses.
PSI_COLOUR = "#c51b8a"

def figure_series(series: SeriesResult):
    """The whole series with the training, calibration and test stretches shaded."""
    fig, ax = new_figure(7.5, 2.8)
    time = series.time
    ax.plot(time, series.values, color=PALETTE[0], lw=0.8)
    cal0 = time[series.train_end]
    test0 = time[int(series.test_origins[0])]
    ax.axvspan(cal0, test0, color=PALETTE[3], alpha=0.18, lw=0, label="calibration origins")
    ax.axvspan(test0, time[-1], color=PALETTE[2], alpha=0.15, lw=0, label="test backtest")
    ax.set_xlabel("time" if series.time_range else "step")
    ax.set_ylabel("value")
    ax.legend(loc="best")
    return fig


def _history(ax, series: SeriesResult):
    show = series.showcase
    future = show.future_time
    ax.plot(show.history_time, show.history, color="#555555", lw=0.9, label="observed")
    ax.plot(future, show.actual, color="#000000", lw=0.9, ls=":", label="what happened")
    ax.axvline(future[0], color="#999999", lw=0.8)
    return future


def figure_fan_arima(series: SeriesResult):
    """ARIMA fan chart at the last origin, with the true interval on a simulated series."""
    fig, ax = new_figure(7.5, 3.8)
    future = _history(ax, series)
    show = series.showcase
    for level, alpha in (("95", 0.18), ("80", 0.3)):
        low, high = show.bands["arima"][level]
        ax.fill_between(future, low, high, color=COLOURS["arima"], alpha=alpha, lw=0,
                        label=f"ARIMA {level}% interval")
    if series.transform.applied:
        # Back-transformed, the model's mean is the forecast's median; the mean lies above it.
        ax.plot(future, show.points["arima"], color=COLOURS["arima"], label="ARIMA median")
        ax.plot(future, series.arima_mean_last, color=COLOURS["arima"], ls="--", lw=1.0,
                label="ARIMA mean (bias-adjusted)")
    else:
        ax.plot(future, show.points["arima"], color=COLOURS["arima"], label="ARIMA mean")
    if "truth" in show.bands:
        low, high = show.bands["truth"]["95"]
        ax.plot(future, low, color=COLOURS["truth"], lw=1.0, ls="--",
                label="true 95% interval")
        ax.plot(future, high, color=COLOURS["truth"], lw=1.0, ls="--")
    ax.set_xlabel("time" if series.time_range else "step")
    fig.legend(loc="outside lower center", ncols=3)
    return fig


def figure_fan_lstm(series: SeriesResult):
    """LSTM point forecasts alone, then with two kinds of interval, at the last origin."""
    fig, axes = new_figure(7.5, 3.8, 1, 2, sharey=True)
    show = series.showcase
    future = _history(axes[0], series)
    axes[0].plot(future, show.points["lstm_recursive"], color=COLOURS["lstm_recursive"],
                 label="recursive (MSE)")
    axes[0].plot(future, show.points["lstm_direct"], color=COLOURS["lstm_direct"],
                 label="direct (MSE)")
    axes[0].set_title("the point forecaster: no interval")
    _history(axes[1], series)
    for key, label in (("gaussian", "Gaussian head (a)"), ("conformal", "conformal (d)")):
        low, high = show.bands[key]["95"]
        axes[1].fill_between(future, low, high, color=COLOURS[key], alpha=0.22, lw=0,
                             label=f"{label} 95%")
    if "truth" in show.bands:
        low, high = show.bands["truth"]["95"]
        axes[1].plot(future, low, color=COLOURS["truth"], lw=1.0, ls="--",
                     label="true 95% interval")
        axes[1].plot(future, high, color=COLOURS["truth"], lw=1.0, ls="--")
    axes[1].set_title("with 95% intervals added")
    handles, labels = axes[0].get_legend_handles_labels()
    more = axes[1].get_legend_handles_labels()
    fig.legend(handles + more[0][2:], labels + more[1][2:], loc="outside lower center", ncols=3)
    for ax in axes:
        ax.set_xlabel("time" if series.time_range else "step")
    return fig


def figure_width(series: SeriesResult, result: ForecastingResult):
    """Mean 95% width by horizon for every method against the psi-weight prediction."""
    fig, ax = new_figure(7.5, 5.6)
    h = np.arange(1, result.horizon + 1)
    for score in series.scores:
        if 0.95 in score.width and score.key not in ("arima_psi",):
            style = "--" if score.key == "truth" else "-"
            ax.plot(h, score.width[0.95], color=COLOURS[score.key], ls=style, lw=1.3,
                    label=score.label)
    centre = 0.0
    if series.transform.applied:
        # On the original scale the width depends on the level: the formula's interval is
        # drawn around ARIMA's forecast from the last origin and mapped back.
        centre = series.transform.forward(series.arima_median_last)
    low, high = gaussian_interval(centre, series.psi_variance, 0.95)
    predicted = series.transform.inverse(high) - series.transform.inverse(low)
    ax.plot(h, predicted, color=PSI_COLOUR, lw=2.6, alpha=0.45,
            label=r"psi-weights: $2 \times 1.96\,\hat\sigma\sqrt{\sum_{j<h}\hat\psi_j^2}$"
            + (", mapped back at the last origin" if series.transform.applied else ""))
    ax.plot(h, series.showcase.parameter_paths_width95, color=COLOURS["arima"], ls=":",
            lw=1.3, label="ARIMA + parameter uncertainty (last origin)")
    ax.set_xlabel("horizon h (steps ahead)")
    ax.set_ylabel("mean width of 95% interval")
    fig.legend(loc="outside lower center", ncols=3)
    return fig


def figure_coverage(series: SeriesResult, result: ForecastingResult):
    """Coverage by horizon for every interval method against the nominal level."""
    fig, axes = new_figure(7.5, 5.6, 1, 2, sharey=True)
    h = np.arange(1, result.horizon + 1)
    for ax, level in zip(axes, result.levels, strict=True):
        ax.axhline(level, color="#555555", lw=0.8)
        ax.annotate(f"nominal {level:.0%}", (1, level), xytext=(2, 3),
                    textcoords="offset points", fontsize=8, color="#555555")
        for score in series.scores:
            if level in score.coverage and score.key != "arima_psi":
                ax.plot(h, score.coverage[level], color=COLOURS[score.key], lw=1.1,
                        ls="--" if score.key == "truth" else "-", label=score.label)
        ax.set_title(f"nominal {level:.0%}")
        ax.set_xlabel("horizon h")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel(f"share of {len(series.test_origins)} origins covered")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    return fig


def figure_theory(result: ForecastingResult):
    """Forecast error variance by horizon for the two simulated processes."""
    fig, axes = new_figure(7.5, 3.0, 1, 2)
    h = np.arange(1, len(result.theory_variance_arma) + 1)
    axes[0].plot(h, result.theory_variance_arma, color=PALETTE[0], label=result.theory_arma_label)
    axes[0].axhline(result.theory_unconditional_arma, color="#555555", ls="--",
                    label="unconditional variance")
    axes[0].set_title("stationary: converges")
    axes[1].plot(h, result.theory_variance_arima, color=PALETTE[1], label=result.theory_arima_label)
    # psi_0 = 1, so the first variance is the process's sigma^2.
    sigma2 = result.theory_variance_arima[0]
    axes[1].plot(h, h * sigma2, color="#555555", ls="--", label=r"random walk $h\sigma^2$")
    axes[1].set_title("integrated: grows without bound")
    for ax in axes:
        ax.set_xlabel("horizon h")
        ax.set_ylabel(r"$\mathrm{Var}(e_h)$")
        ax.legend(loc="best")
    return fig


def _view(series: SeriesResult, constants) -> dict[str, Any]:
    """Lookups the per-series templates use: the series, its scores and labels by method key,
    its fitted model and its verdicts, and the sentences about the transform and the seasonal
    model (no value is computed here)."""
    return {"s": series, "sc": {s.key: s.overall for s in series.scores},
            "label": {s.key: s.label for s in series.scores}, "fit": series.arima,
            "v": series.verdicts,
            "rows": {row["key"]: row for row in series.comparison.to_dict("records")},
            "seasonal_arima": bool(series.arima.seasonal_order[3]),
            # Markdown written here from fixed words and numbers (no user text): shown as is.
            "transform_text": markupsafe.Markup(transform_words(series)),
            "model_text": markupsafe.Markup(
                model_choice_words(series, constants.seasonal_strength_threshold)),
            "psi_text": markupsafe.Markup(psi_match_words(
                series.verdicts["psi_matches_statsmodels"], "statsmodels' forecast variance"))}


def aic_caption(series: SeriesResult) -> str:
    """The caption of the AIC table: what the grid held and what fixed the differencing."""
    fit = series.arima
    if fit.seasonal_strength is None:
        return "the ARMA order grid by AIC, with d fixed by the unit-root test."
    if fit.aic_table["D"].max() == 1:
        return ("the seasonal ARIMA orders by AIC, with D fixed by the seasonal strength and d "
                "by the unit-root test on the seasonally differenced series.")
    return ("the order grid by AIC: Fourier regressions and seasonal ARMA orders on the same "
            "data, with d fixed by the unit-root test.")


def width_psi_words(series: SeriesResult) -> str:
    """How the width figure's psi-weight curve relates to ARIMA's analytic width."""
    if series.transform.applied:
        return ("thick magenta curve is the psi-weight interval around ARIMA's forecast from "
                "the last origin, mapped back to the original scale, where the width grows "
                "with the level: ARIMA's mean width over the origins lies near it, not on it")
    return "thick magenta curve is the psi-weight formula; ARIMA's analytic width lies on it " \
           "by construction"


def _n(value, digits: int = 3) -> str:
    return format_number(value, digits)


def _measured_words(measured) -> str:
    """What the amplitude rule of ``--transform auto`` measured, as one sentence."""
    direction = "grow" if measured.slope > 0 else "shrink"
    return (f"across the {measured.seasons} complete seasons of the training stretch the "
            f"seasonal swings {direction} with the level at a log-log slope of "
            f"{_n(measured.slope)} (0 for swings of one size, 1 for swings in proportion to "
            f"the level), from a standard deviation of {_n(measured.amplitude_low)} at the "
            f"lowest seasonal level, {_n(measured.level_low)}, to {_n(measured.amplitude_high)} "
            f"at the highest, {_n(measured.level_high)}: the slope makes the swings at the top "
            f"{_n(measured.growth)} times those at the bottom, against a threshold of "
            f"{_n(measured.threshold)}")


def transform_words(series: SeriesResult) -> str:
    """The data section's account of the scale the models were fitted on (Markdown; empty when
    the raw scale was kept without anything asked or measured)."""
    chosen = series.transform
    asked = f"`--transform {chosen.requested}`"
    if chosen.fallback:
        return f"The models were fitted on the raw scale although {asked} was asked: " \
               f"{chosen.fallback}."
    if chosen.requested == "none":
        return ""
    lead = ""
    if chosen.amplitude is not None:
        measured = chosen.amplitude
        if measured.slope is None:
            return f"{asked} kept the raw scale: {measured.why_not_measured}."
        if not measured.grows:
            return (f"{asked} kept the raw scale: {_measured_words(measured)}, so one interval "
                    "width serves the whole series.")
        lead = f"{asked} chose a Box-Cox transform: {_measured_words(measured)}. "
    if chosen.name == "log":
        scale = "the logarithm of the series (`--transform log`)"
    else:
        low, high = chosen.lambda_bounds
        log_note = ", the logarithm" if chosen.lam == 0 else ""
        scale = (f"its Box-Cox transform with $\\lambda = {_n(chosen.lam)}${log_note}, "
                 f"estimated on the training stretch by Guerrero's method (the λ between "
                 f"{_n(low)} and {_n(high)} that makes the standard deviation over the mean to "
                 f"the power 1 − λ most nearly constant across subseries of "
                 f"{chosen.subseries} values)")
    horizon = len(series.arima_median_last)
    return (f"{lead}ARIMA and the LSTMs were fitted to {scale}. Every interval, sampled path and "
            "quantile was mapped back through the inverse transform and every score is on the "
            "original scale; the model's own quantities (σ̂, the psi-weight variances, the "
            "conformal half-widths and the residuals) stay on the transformed scale. The "
            "inverse is increasing, so each quantile maps to the same quantile: the "
            "back-transformed point forecast is the **median** of the forecast distribution, "
            "not its mean. The mean is higher; by the bias adjustment of Hyndman & "
            "Athanasopoulos (FPP3, section 5.6) ARIMA's forecast from the last origin has, at "
            f"h = {horizon}, median {_n(series.arima_median_last[-1])} and mean "
            f"{_n(series.arima_mean_last[-1])} (the whole path of both is in the JSON).")


def model_choice_words(series: SeriesResult, threshold: float) -> str:
    """Which model won the order search of a monthly or quarterly series and why (Markdown;
    empty when no seasonal ARIMA orders were tried); ``threshold`` is the seasonal strength
    at which the season is differenced."""
    fit = series.arima
    if fit.seasonal_strength is None:
        return ""
    table = fit.aic_table
    ranked = table[table["converged"] & np.isfinite(table["AIC"])].sort_values("AIC")
    best = table[table["chosen"]].iloc[0]
    others = ranked[ranked.index != best.name]
    strength = (f"The STL seasonal strength of the training stretch is "
                f"{_n(fit.seasonal_strength)}")
    if best["D"] == 1:
        why = (f"{strength}, at least the {_n(threshold)} of the auto.arima "
               "rule, so the season was differenced (D = 1) and d chosen on the seasonally "
               "differenced series. A Fourier regression does not difference the season: its "
               "likelihood is of other data, which AIC cannot rank against these, so only "
               "seasonal orders were candidates.")
        rival = others.iloc[0] if len(others) else None
    else:
        same_data = ("seasonal ARMA orders and Fourier terms then model the same data, and AIC "
                     "ranked them together")
        if fit.overdifferenced is None:
            why = (f"{strength}, below the {_n(threshold)} of the auto.arima "
                   f"rule, so the season was not differenced; {same_data}.")
        else:
            why = (f"{strength}, at least the {_n(threshold)} of the auto.arima rule, so the "
                   f"season was differenced first (D = 1).{overdifferenced_words(series)} "
                   f"Without the seasonal difference {same_data} (the table shows "
                   "that grid).")
        kind = best["Fourier pairs"] > 0
        rivals = others[(others["Fourier pairs"] > 0) != kind]
        rival = rivals.iloc[0] if len(rivals) else None
    won = f" AIC chose {best['model']} (AIC {_n(best['AIC'], 5)})"
    if rival is not None:
        won += f" over {rival['model']} (AIC {_n(rival['AIC'], 5)}), the best " + (
            "other order" if best["D"] == 1 else
            ("seasonal ARIMA" if best["Fourier pairs"] > 0 else "Fourier regression"))
    kept = overdifferenced_words(series) if best["D"] == 1 else ""
    return why + won + "." + kept


def overdifferenced_words(series: SeriesResult) -> str:
    """What the over-differencing rule found for a seasonally differenced winner (Markdown of
    fixed words and numbers; empty when no such model won)."""
    verdict = series.verdicts.get("season_overdifferenced")
    if verdict is None:
        return ""
    coefficient = (f"seasonal MA coefficient {_n(verdict.estimate)}, "
                   f"{'at or below' if verdict.holds else 'above'} the {_n(verdict.threshold)} "
                   "at which it counts as cancelling the seasonal difference")
    if not verdict.holds:
        return (f" The winner's {coefficient}: the season is stochastic enough to be "
                "differenced.")
    rejected = series.arima.overdifferenced.label
    return (f" But the seasonally differenced winner, {rejected}, had a {coefficient}: "
            r"$(1 - B^{s})$ and $(1 + \Theta B^{s})$ nearly divide out, so the seasonal "
            "pattern is fixed and the series was over-differenced (Hyndman & Athanasopoulos, "
            "FPP), and a seasonal MA this close to -1 leaves the model nearly non-invertible. "
            "So the model was chosen again without it.")


def psi_match_words(verdict, what: str) -> str:
    """Whether our psi-weight variance equals ``what`` (Markdown of fixed words and numbers)."""
    if verdict.holds:
        return (f"equals {what} to a largest relative difference of {_n(verdict.estimate)} "
                f"(within the tolerance of {_n(verdict.threshold)})")
    return (f"differs from {what} by up to {format_percent(verdict.estimate)} (more than the "
            f"tolerance of {_n(verdict.threshold)}): the Kalman filter's state uncertainty at "
            "the origin has not settled to the infinite-past form the psi-weights assume, as "
            "happens near a unit MA root, and the intervals scored as ARIMA analytic are "
            "statsmodels'")


def _short_label(label: str) -> str:
    return label.replace("LSTM ", "")


def short_answer(result: ForecastingResult) -> str:
    """The one-sentence verdict, worded from the first series' verdicts and picks.

    Parameters
    ----------
    result : ForecastingResult

    Returns
    -------
    str
        Plain text without numbers of the run: the interval asked about is a prediction
        interval; ARIMA's follows in closed form from its explicit noise model (on a stationary
        fit, far ahead, it is the unconditional band); an MSE-trained LSTM is a point estimator
        that needs an assumed noise model and simulation; and the LSTM interval method with the
        lowest interval score, with whether the origins separate it from the runner-up.
    """
    first = result.series[0]
    verdicts = first.verdicts
    label = {s.key: _short_label(s.label) for s in first.scores}
    best, runner_up = first.recommended_lstm_method, first.runner_up_lstm_method
    far = (", which at the question's horizon on a stationary series is just its "
           "unconditional band" if verdicts["arima_interval_is_unconditional"].holds else "")
    where = "the simulated series" if first.truth_order else first.name
    how = APPROACH_WORDS.get(first.recommended_approach, "")
    if verdicts["recommended_beats_runner_up"].holds:
        ranking = f"ahead of {label[runner_up]}"
    else:
        ranking = f"though this backtest cannot separate it from {label[runner_up]}"
    return (
        "What a forecast needs is a prediction interval for the next values, not a confidence "
        "interval for the mean: ARIMA has one because its explicit Gaussian noise model "
        f"propagates through the psi-weights in closed form{far}, while an LSTM trained by "
        "squared error is a point estimator that needs an assumed noise model and simulation "
        "(as R's nnetar does); of the LSTM interval methods, "
        f"{label[best]}{how} had the lowest interval score on {where}, {ranking}.")


def _pct_ci(row, name: str, digits: int = 0) -> str:
    """``"91% (81%–100%)"`` from the columns ``name``, ``name low``, ``name high``."""
    value, low, high = row[name], row[f"{name} low"], row[f"{name} high"]
    if not np.isfinite(value):
        return "—"
    return (f"{format_percent(value, digits)} ({format_percent(low, digits)} to "
            f"{format_percent(high, digits)})")


def _num_ci(row, name: str, digits: int = 3) -> str:
    """``"12.8 (11.9 to 13.7)"`` from the columns ``name``, ``name low``, ``name high``."""
    if not np.isfinite(row[name]):
        return "—"
    return format_ci(row[name], row[f"{name} low"], row[f"{name} high"], digits)


def score_frame(series: SeriesResult) -> pd.DataFrame:
    """The proper-score comparison as shown: at most eight columns, each estimate with its
    block-bootstrap interval (the full table, with every column, is in the JSON)."""
    rows = []
    has_truth = "width ÷ true" in series.comparison.columns
    best = series.recommended_lstm_method
    for _, row in series.comparison.iterrows():
        shown = {"method": row["method"], "MSIS": _num_ci(row, "MSIS"),
                 "MSIS vs best LSTM": ("reference" if row["key"] == best
                                       else _pct_ci(row, "MSIS excess", 1)),
                 "CRPS": _num_ci(row, "CRPS")}
        if has_truth:
            shown["width ÷ true width"] = _num_ci(row, "width ÷ true", 3)
        shown["coverage"] = _pct_ci(row, "coverage")
        if has_truth:
            shown["coverage − true coverage"] = _pct_ci(row, "coverage minus true", 1)
        shown["whole-path coverage"] = _pct_ci(row, "joint coverage")
        rows.append(shown)
    return pd.DataFrame(rows)


def ladder_frame(series: SeriesResult, horizon: int) -> pd.DataFrame:
    """The uncertainty ladder as shown (every column with its interval is in the JSON)."""
    bands = horizon_bands(horizon)
    far = bands[-1][0]
    rows = []
    for _, row in series.ladder.iterrows():
        shown = {"interval": row["rung"]}
        for label, _first, _last in bands:
            shown[label] = _pct_ci(row, label)
        shown[f"{far}: minus true"] = _pct_ci(row, f"{far} minus true", 1)
        shown["width ÷ true width"] = _num_ci(row, "width ÷ true", 3)
        rows.append(shown)
    return pd.DataFrame(rows)


def joint_frame(series: SeriesResult) -> pd.DataFrame:
    """Pointwise and whole-path coverage of every band, with intervals, as shown."""
    return pd.DataFrame([{"band": row["method"], "pointwise coverage": _pct_ci(row, "coverage"),
                          "whole-path coverage": _pct_ci(row, "joint coverage")}
                         for _, row in series.joint_coverage.iterrows()])


def conformal_frame(series: SeriesResult) -> pd.DataFrame:
    """The conformal checks, the columns a reader needs (the rest are in the JSON)."""
    table = series.conformal_checks
    return pd.DataFrame({
        "horizon": table["horizon"], "scores": table["calibration scores"],
        "rank": table["rank"], "half-width": table["half-width"],
        "lag-1 autocorrelation": table["lag-1 autocorrelation"],
        "permutation p": [format_pvalue(p) for p in table["permutation p"]],
        "adaptive miscoverage": table["adaptive miscoverage"],
        "guarantee bound": table["guarantee bound"]})


def band_frame(series: SeriesResult, horizon: int) -> pd.DataFrame:
    """Coverage by horizon band with block-bootstrap intervals, as shown."""
    rows = []
    for _, row in series.coverage_bands.iterrows():
        shown = {"method": row["method"]}
        for label, _first, _last in horizon_bands(horizon):
            shown[label] = _pct_ci(row, label)
        rows.append(shown)
    return pd.DataFrame(rows)


def build(result: ForecastingResult) -> Report:
    """The report of ``result``."""
    report = Report(STUDY.name, title=title_for(result.horizon),
                    question=question_for(result.horizon),
                    short_answer=short_answer(result), templates="casestudies.forecasting")
    per_series = [_view(s, result.constants) for s in result.series]
    first = per_series[0]
    common = {"r": result, "c": result.constants, "first": first, "all": per_series,
              "psi_run_text": markupsafe.Markup(psi_match_words(
                  result.verdicts["psi_matches_statsmodels"],
                  "statsmodels' Kalman-filter forecast variance")),
              "several": len(per_series) > 1,
              "H": result.horizon, "short_answer": report.short_answer,
              # Periods as written by hand (52.18, 12, 7): no trailing zeros.
              "periods": {name: f"{period:.4g}"
                          for name, period in result.periods_of_frequency.items()}}

    question = report.section("The question")
    question.text("question.md", **common)
    question.callout("answer", "answer.md", title="Short answer", **common)

    data = report.section("The data")
    data.text("data.md", **common)
    for view in per_series:
        series = view["s"]
        shown = user_text(series.name)  # a user's column or file name: never Markdown or math
        data.text("data_series.md", **view)
        data.table(series.preview, caption=f"First rows of {shown}.", digits=4)
        data.figure(figure_series(series),
                    caption=f"{shown}: the models are fitted once on the unshaded start; "
                            "conformal intervals are calibrated on forecasts from the stretch "
                            "shaded as calibration origins; every score comes from forecasts "
                            "made in the stretch shaded as the test backtest.",
                    alt=f"Line plot of {series.name} with the backtest stretches shaded")

    math = report.section("The math")
    math.text("math_arima.md", **common)
    math.figure(figure_theory(result),
                caption="Forecast error variance by horizon computed from the psi-weights of "
                        "the two simulated processes: the stationary one levels off at its "
                        "unconditional variance, the integrated one keeps growing, like a "
                        "random walk's $h\\sigma^2$.",
                alt="Two line plots of forecast variance against horizon")
    math.text("math_lstm.md", **common)
    math.text("math_scores.md", **common)

    evidence = report.section("The evidence")
    evidence.text("evidence_intro.md", **common)
    for view in per_series:
        series = view["s"]
        shown = user_text(series.name)
        has_truth = series.truth_order is not None
        evidence.text("evidence_arima.md", **view, **common)
        evidence.table(series.arima.aic_table, caption=f"{shown}: {aic_caption(series)}",
                       digits=5)
        evidence.figure(figure_fan_arima(series),
                        caption=f"{shown}: ARIMA's {result.horizon}-step fan chart at the "
                                "last origin. Look at how the band widens with the horizon"
                                + (", and how close it is to the true interval (dashed)."
                                   if has_truth else "."),
                        alt="Fan chart of the ARIMA forecast")
        evidence.figure(figure_fan_lstm(series),
                        caption=f"{shown}: the MSE-trained LSTM gives one path (left); "
                                "intervals exist only once a method adds them (right)"
                                + (", to compare with the true interval (dashed)."
                                   if has_truth else "."),
                        alt="LSTM point forecasts and LSTM intervals")
        evidence.figure(figure_width(series, result),
                        caption=f"{shown}: mean width of the 95% intervals by horizon. The "
                                + width_psi_words(series) + ", the LSTM methods' "
                                "widths come from training data or calibration errors"
                                + (", and the true interval is the black dashed line."
                                   if has_truth else "."),
                        alt="Interval width against horizon for every method")
        evidence.figure(figure_coverage(series, result),
                        caption=f"{shown}: share of the {len(series.test_origins)} test origins "
                                "whose interval held the truth, by horizon, against the "
                                "nominal level (grey line)"
                                + (" and the true distribution's own coverage (black dashed)"
                                   if has_truth else "")
                                + ". Neighbouring horizons and origins share targets, so the "
                                  "curves move together: read the banded table below, not "
                                  "single horizons.",
                        alt="Coverage against horizon for every method")
        evidence.text("evidence_scores.md", **view, **common)
        evidence.table(score_frame(series),
                       caption=f"{shown}: every interval method by proper scores, over "
                               f"{len(series.test_origins)} origins × {result.horizon} "
                               "horizons, each with its 95% block-bootstrap interval over "
                               "origins. Lower MSIS (interval score over the naive MAE) and "
                               "CRPS are better; \"MSIS vs best LSTM\" is how much higher "
                               "than the recommended method's, paired by origin"
                               + ("; width and coverage are compared with the true "
                                  "distribution on the same origins" if has_truth else "")
                               + ". The full table, with point accuracy, is in the JSON.")
        evidence.table(band_frame(series, result.horizon),
                       caption=f"{shown}: 95% coverage by horizon band, each with its "
                               "block-bootstrap interval over origins. Pooling h = 1 to "
                               f"{result.horizon} hides errors of opposite sign in different "
                               "bands.")
        evidence.text("evidence_joint.md", **view, **common)
        evidence.table(joint_frame(series),
                       caption=f"{shown}: pointwise and whole-path coverage of every 95% band "
                               "over the test origins, with block-bootstrap intervals; the last "
                               "rows are bands built for whole paths.")
        if series.ladder is not None:
            evidence.text("evidence_ladder.md", **view, **common)
            evidence.table(ladder_frame(series, result.horizon),
                           caption=f"{shown}: the uncertainty ladder. 95% coverage by horizon "
                                   "band of intervals that admit more and more sources of "
                                   "uncertainty, the last band's difference from the true "
                                   "model's coverage on the same origins (paired), and the "
                                   "mean width over the true width; 95% block-bootstrap "
                                   "intervals over origins.")
        evidence.text("evidence_conformal.md", **view, **common)
        evidence.table(conformal_frame(series),
                       caption=f"{shown}: split conformal at three horizons: the calibration "
                               "scores, the rank of the quantile used, the lag-1 "
                               "autocorrelation of the scores in time order with its "
                               "permutation p-value, and adaptive conformal's miscoverage over "
                               "the test origins against the Gibbs–Candès bound (the target "
                               "miscoverage and the test-to-calibration score ratio are in the "
                               "JSON).")
        logs = pd.DataFrame([{"network": log.name, "training windows": log.windows,
                              "epochs run": log.epochs_run, "epoch kept": log.best_epoch,
                              "validation loss": log.best_validation_loss}
                             for log in series.lstm_logs])
        evidence.text("evidence_lstm.md", **view, **common)
        evidence.table(logs, caption=f"{shown}: how the {series.lstm_networks} networks "
                                     "trained (early stopping on a later validation block; each "
                                     "network's training time is in the JSON).")

    report.text_section("Pitfalls", "pitfalls.md", **common)
    report.text_section("Interview questions", "interview.md", **common)
    report.text_section("Use it on your own data", "own_data.md", **common)
    report.references(REFERENCES)
    report.glossary(GLOSSARY)
    return report
