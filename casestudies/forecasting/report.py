"""The forecasting report: fan charts, width and coverage by horizon, the tables and the
explanation, read from a :class:`~casestudies.forecasting.pipeline.ForecastingResult`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from casestudies.forecasting import STUDY, question_for, title_for
from casestudies.forecasting.arima import gaussian_interval
from casestudies.forecasting.pipeline import ForecastingResult, SeriesResult
from casestudies.report import PALETTE, Report, new_figure, user_text

COLOURS = {
    "arima": PALETTE[0], "arima_paths": "#5b8bd0", "truth": "#222222",
    "quantile": PALETTE[3], "gaussian": PALETTE[1], "dropout": PALETTE[6],
    "bootstrap": PALETTE[4], "conformal": PALETTE[2], "adaptive": "#8fc99a",
    "lstm_recursive": PALETTE[7],
    "lstm_direct": PALETTE[5],
}
SUMMARY_COLUMNS = ["method", "coverage 80", "coverage 95", "width 95", "MSIS 95", "CRPS",
                   "pinball", "MAE", "RMSE", "MASE"]


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
    fig, ax = new_figure(7.5, 4.4)
    h = np.arange(1, result.horizon + 1)
    for score in series.scores:
        if 0.95 in score.width and score.key not in ("arima_psi",):
            style = "--" if score.key == "truth" else "-"
            ax.plot(h, score.width[0.95], color=COLOURS[score.key], ls=style, lw=1.3,
                    label=score.label)
    low, high = gaussian_interval(0.0, series.psi_variance, 0.95)
    predicted = high - low
    ax.plot(h, predicted, color="#000000", lw=2.2, alpha=0.35,
            label=r"psi-weights: $2 \times 1.96\,\hat\sigma\sqrt{\sum_{j<h}\hat\psi_j^2}$")
    ax.plot(h, series.showcase.parameter_paths_width95, color=COLOURS["arima"], ls=":",
            lw=1.3, label="ARIMA + parameter uncertainty (last origin)")
    ax.set_xlabel("horizon h (steps ahead)")
    ax.set_ylabel("mean width of 95% interval")
    fig.legend(loc="outside lower center", fontsize=7, ncols=3)
    return fig


def figure_coverage(series: SeriesResult, result: ForecastingResult):
    """Coverage by horizon for every interval method with the binomial band of the nominal."""
    fig, axes = new_figure(7.5, 4.4, 1, 2, sharey=True)
    h = np.arange(1, result.horizon + 1)
    for ax, level in zip(axes, result.levels, strict=True):
        ax.axhspan(series.binomial_low[level], series.binomial_high[level], color="#bbbbbb",
                   alpha=0.35, lw=0, label="binomial 95% band")
        ax.axhline(level, color="#555555", lw=0.8)
        for score in series.scores:
            if level in score.coverage and score.key != "arima_psi":
                ax.plot(h, score.coverage[level], color=COLOURS[score.key], lw=1.1,
                        ls="--" if score.key == "truth" else "-", label=score.label)
        ax.set_title(f"nominal {level:.0%}")
        ax.set_xlabel("horizon h")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel(f"share of {len(series.test_origins)} origins covered")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=7)
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


def _summary_frame(series: SeriesResult) -> pd.DataFrame:
    table = series.score_table
    return table[[c for c in SUMMARY_COLUMNS if c in table.columns]]


def _view(series: SeriesResult) -> dict[str, Any]:
    """Lookups the per-series templates use: the series, its scores and labels by method key,
    its fitted model and its verdicts (no value is computed here)."""
    return {"s": series, "sc": {s.key: s.overall for s in series.scores},
            "label": {s.key: s.label for s in series.scores}, "fit": series.arima,
            "v": series.verdicts}


def _short_label(label: str) -> str:
    return label.replace("LSTM ", "")


def short_answer(result: ForecastingResult) -> str:
    """The answer in two sentences, worded from the first series' verdicts.

    Parameters
    ----------
    result : ForecastingResult

    Returns
    -------
    str
        Plain text: ARIMA's coverage placed against the binomial band of a correct interval,
        then the LSTM interval method with the lowest interval score and, when MC dropout
        under-covered, its coverage.
    """
    first = result.series[0]
    level = max(result.levels)
    tag = f"coverage {round(100 * level)}"
    coverage = {s.key: s.overall[tag] for s in first.scores if tag in s.overall}
    label = {s.key: _short_label(s.label) for s in first.scores}
    verdicts = first.verdicts
    if verdicts["arima_coverage_within_band"].holds:
        where = "within"
    elif verdicts["arima_coverage_below_band"].holds:
        where = "below"
    else:
        where = "above"
    low, high = first.binomial_low[level], first.binomial_high[level]
    best = first.recommended_lstm_method
    best_where = ("within" if verdicts["recommended_lstm_within_band"].holds
                  else "outside")
    arima_sentence = (
        f"ARIMA's {level:.0%} interval is a formula of its fitted psi-weights: on {first.name} "
        f"it covered {coverage['arima']:.0%} of the 1–{result.horizon}-step-ahead values, "
        f"{where} the binomial range of a correct interval over {len(first.test_origins)} "
        f"origins ({low:.0%}–{high:.0%}).")
    lstm_sentence = (
        "An MSE-trained LSTM predicts only the mean and has no interval until one is added; "
        f"of the added ones, {label[best]} had the lowest interval score and covered "
        f"{coverage[best]:.0%} ({best_where} that range)")
    if verdicts["dropout_below_band"].holds:
        lstm_sentence += f", while {label['dropout']} covered only {coverage['dropout']:.0%}"
    return f"{arima_sentence} {lstm_sentence}."


def build(result: ForecastingResult) -> Report:
    """The report of ``result``."""
    report = Report(STUDY.name, title=title_for(result.horizon),
                    question=question_for(result.horizon),
                    short_answer=short_answer(result), templates="casestudies.forecasting")
    per_series = [_view(s) for s in result.series]
    first = per_series[0]
    common = {"r": result, "c": result.constants, "first": first, "all": per_series,
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
        evidence.table(series.arima.aic_table, caption=f"{shown}: the ARMA order grid "
                       "by AIC, with d fixed by the unit-root test.", digits=5)
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
                                "grey curve is the psi-weight formula; ARIMA's analytic width "
                                "lies on it by construction, the LSTM methods' widths come "
                                "from training data or calibration errors.",
                        alt="Interval width against horizon for every method")
        evidence.figure(figure_coverage(series, result),
                        caption=f"{shown}: share of the {result.config.origins} test origins "
                                "whose interval held the truth, by horizon. Inside the grey "
                                "band a method is consistent with its nominal coverage if the "
                                "origins were independent; overlapping forecast windows make "
                                "the real spread wider, and neighbouring horizons share "
                                "origins, so the curves are smooth, not independent.",
                        alt="Coverage against horizon for every method")
        evidence.table(_summary_frame(series),
                       caption=f"{shown}: backtest over {result.config.origins} origins × "
                               f"{result.horizon} horizons. Coverage should be near nominal; "
                               "among methods that cover, smaller MSIS, CRPS and pinball are "
                               "better. MSIS and MASE are scaled by the in-sample naive MAE.",
                       percent=("coverage 80", "coverage 95"))
        evidence.table(series.coverage_by_horizon,
                       caption=f"{shown}: 95% coverage by horizon range.",
                       percent=tuple(c for c in series.coverage_by_horizon.columns
                                     if c != "method"))
        evidence.table(series.crps_by_horizon,
                       caption=f"{shown}: mean CRPS by horizon range, for the methods "
                               "with a full predictive distribution; compare methods within "
                               "a column, lower is better.")
        if series.truth_comparison is not None:
            evidence.table(series.truth_comparison,
                           caption=f"{shown}: each 95% interval's width relative to the "
                                   "true conditional interval (1 = exact).",
                           percent=("coverage", "true coverage"))
        logs = pd.DataFrame([{"network": log.name, "training windows": log.windows,
                              "epochs run": log.epochs_run, "epoch kept": log.best_epoch,
                              "validation loss": log.best_validation_loss,
                              "seconds": log.seconds} for log in series.lstm_logs])
        evidence.text("evidence_lstm.md", **view, **common)
        evidence.table(logs, caption=f"{shown}: how the {series.lstm_networks} networks "
                                     "trained (early stopping on a later validation block).")

    report.text_section("Pitfalls", "pitfalls.md", **common)
    report.text_section("Interview questions", "interview.md", **common)
    report.text_section("Use it on your own data", "own_data.md", **common)
    return report
