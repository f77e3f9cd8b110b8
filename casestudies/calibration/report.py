"""The calibration report: figures, tables and the explanation, read from a
:class:`~casestudies.calibration.pipeline.CalibrationResult`."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from casestudies.calibration.calibrators import LOGIT_CLIP
from casestudies.calibration.config import CalibrationConfig
from casestudies.calibration.data import GRID_SIZE, WINDOWS_DAYS, simulate_transactions
from casestudies.calibration.decisions import amount_thresholds
from casestudies.calibration.metrics import logit
from casestudies.calibration.pipeline import RAW, UNDERSAMPLING, CalibrationResult
from casestudies.report import PALETTE, Report, new_figure

TITLE = "Calibrating the threshold that blocks fraudulent transactions"
QUESTION = ("At what score do we block a transaction, and can we trust the score as a "
            "probability when we set that threshold?")
CONSTANT_RULES = {
    "calibrated": "t* on calibrated probability",
    "raw": "t* on raw score",
    "tuned": "threshold tuned on calibration block",
    "oracle": "oracle threshold on test (lower bound)",
}
AMOUNT_RULES = {
    "calibrated": "amount rule on calibrated probability",
    "raw": "amount rule on raw score",
    "tuned": "one threshold tuned on calibration block",
    "oracle": "oracle single threshold on test (bound)",
}
UNDERSAMPLED_MODEL = "logistic, 1:1 undersample"
# Figures in the order build() adds them: the prose refers to them by these numbers.
FIGURES = ("taxonomy", "reliability", "cost curve", "size sweep", "decay")
# The table of every model and calibrator comes after the data preview and the split.
METRIC_TABLE = 3
# A small and a large payment, to show how the amount-dependent threshold moves.
EXAMPLE_AMOUNTS = (10, 1000)
LOGIT_LIMIT = 1e-4


def _and_list(items: list[str]) -> str:
    """``"a, b and c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): row for row in frame.to_dict("records")}


def _context(result: CalibrationResult) -> dict[str, Any]:
    """Every value the templates use, computed from the result."""
    metrics = result.metrics
    rows = {(r["model"], r["calibrator"]): r for r in metrics.to_dict("records")}
    focus_raw = rows[(result.focus_model, RAW)]
    focus_cal = rows[(result.focus_model, result.chosen_calibrator)]
    constant = _records(result.decisions_constant, "label")
    dc = {short: constant[label] for short, label in CONSTANT_RULES.items()}
    da = None
    if result.decisions_amount is not None:
        amount = _records(result.decisions_amount, "label")
        da = {short: amount[label] for short, label in AMOUNT_RULES.items()}
    under = {name: rows.get((UNDERSAMPLED_MODEL, name)) for name in
             (RAW, UNDERSAMPLING, "temperature", "Platt (logit)", "isotonic (clipped)", "beta")}
    raw_rows = metrics[metrics["calibrator"] == RAW]
    # The same "worst" as the short answer's: farthest from 1 on a ratio scale (x0.5 as far as x2).
    worst = raw_rows.loc[np.log(raw_rows["observed_expected"]).abs().idxmax()]
    sweep = result.size_sweep
    pivot = sweep.pivot(index="frauds", columns="calibrator", values="log_loss")
    # For Platt and beta: the smallest number of frauds from which isotonic stays at or below
    # them for every larger calibration sample (None if it never does).
    isotonic_from = {}
    for rival in ("Platt (logit)", "beta"):
        wins = (pivot["isotonic (clipped)"] <= pivot[rival]).to_numpy()
        stays = np.flatnonzero(np.logical_and.accumulate(wins[::-1])[::-1])
        isotonic_from[rival] = int(pivot.index[stays[0]]) if stays.size else None
    smallest = pivot.iloc[0]
    decay = result.decay
    decay_outside = int(((decay["observed_expected_low"] > 1)
                         | (decay["observed_expected_high"] < 1)).sum())
    interval = _records(result.focus_intervals, "label")
    by_model = metrics.groupby("model", sort=False)
    ap_range = by_model["average_precision"].agg(lambda v: v.max() - v.min())
    log_loss_factor = by_model["log_loss"].agg(lambda v: v.max() / v.min())
    settings = result.settings
    examples = [{"amount": a, "threshold": float(amount_thresholds([a], settings["cost_fp"])[0])}
                for a in EXAMPLE_AMOUNTS]
    factors = [f"{f:g}" for f in settings["prior_shift_factors"] if f != 1]
    attainable = [dc[k] for k in ("calibrated", "raw", "tuned")]
    costs_overlap = (max(row["cost_low"] for row in attainable)
                     <= min(row["cost_high"] for row in attainable))
    return {
        "r": result, "s": result.settings, "focus": result.focus_model,
        "chosen": result.chosen_calibrator, "raw_label": RAW, "focus_raw": focus_raw,
        "focus_cal": focus_cal, "ci_raw": interval[RAW],
        "ci_cal": interval[result.chosen_calibrator], "dc": dc,
        "costs_overlap": costs_overlap, "da": da, "under": under,
        "worst": worst.to_dict(), "noise": _records(result.noise, "metric"),
        "budgets": result.budgets.to_dict("records"),
        "shift": result.prior_shift.to_dict("records"), "decay": decay.to_dict("records"),
        "decay_outside": decay_outside, "params": result.calibrator_parameters,
        "check": result.undersampling_check, "sk": result.sklearn_sigmoid,
        "constant": result.constant_forecast,
        "isotonic_from": isotonic_from, "sweep_smallest": smallest.to_dict(),
        "sweep_smallest_frauds": int(pivot.index[0]), "sweep_largest_frauds": int(pivot.index[-1]),
        "selection": result.calibrator_selection.to_dict("records"),
        "scenarios": result.scenario_counts,
        "split": result.split.to_dict("records"),
        "models": result.models.to_dict("records"),
        "taxonomy": [{**model, **rows[(model["model"], RAW)]}
                     for model in result.models.to_dict("records")],
        "features": ", ".join(result.feature_names),
        "sim": {name: parameter.default for name, parameter in
                inspect.signature(simulate_transactions).parameters.items()},
        "fig": {name: number for number, name in enumerate(FIGURES, start=1)},
        "metric_table": METRIC_TABLE,
        "default_costs": {"cost_fp": CalibrationConfig.cost_fp,
                          "cost_fn": CalibrationConfig.cost_fn},
        "grid": GRID_SIZE, "windows": _and_list([f"{w:g}" for w in WINDOWS_DAYS]),
        "shift_factors": _and_list(factors), "examples": examples,
        "logit_clip": LOGIT_CLIP, "logit_floor": float(logit(np.array([0.0]), LOGIT_CLIP)[0]),
        "ap_shift": float(ap_range.max()), "ap_shift_model": str(ap_range.idxmax()),
        "log_loss_factor": float(log_loss_factor.max()),
        "log_loss_factor_model": str(log_loss_factor.idxmax()),
    }


def _logit_axis(values: np.ndarray) -> np.ndarray:
    return logit(np.clip(values, LOGIT_LIMIT, 1 - LOGIT_LIMIT), LOGIT_LIMIT)


def _probability_ticks(ax, axis: str) -> None:
    ticks = np.array([1e-4, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.99])
    labels = ["0.0001", "0.001", "0.01", "0.1", "0.5", "0.9", "0.99"]
    setter = ax.set_xticks if axis == "x" else ax.set_yticks
    setter(logit(ticks), labels)


def _reliability_panel(ax, table: dict[str, np.ndarray], title: str, color: str,
                       confidence: float) -> None:
    x = _logit_axis(np.asarray(table["mean_predicted"]))
    y = _logit_axis(np.asarray(table["observed"]))
    low = _logit_axis(np.asarray(table["consistency_low"]))
    high = _logit_axis(np.asarray(table["consistency_high"]))
    limits = (logit(np.array([LOGIT_LIMIT]))[0], logit(np.array([0.99]))[0])
    ax.plot(limits, limits, color=PALETTE[6], lw=1, ls="--", label="perfect calibration")
    ax.vlines(x, low, high, color=PALETTE[6], lw=4, alpha=0.35,
              label=f"{confidence:.0%} consistency range")
    ax.plot(x, y, "o-", color=color, ms=4, label="observed fraud rate")
    ax.set_title(title)
    _probability_ticks(ax, "x")
    _probability_ticks(ax, "y")
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)


def _figure_reliability(result: CalibrationResult):
    fig, axes = new_figure(8.5, 4.0, 1, 2)
    _reliability_panel(axes[0], result.reliability[RAW], f"{result.focus_model}: raw score",
                       PALETTE[1], result.settings["confidence"])
    _reliability_panel(axes[1], result.reliability[result.chosen_calibrator],
                       f"after {result.chosen_calibrator}", PALETTE[0],
                       result.settings["confidence"])
    axes[0].set_xlabel("predicted probability (log-odds scale)")
    axes[1].set_xlabel("predicted probability (log-odds scale)")
    axes[0].set_ylabel("observed fraud rate (log-odds scale)")
    axes[1].legend(loc="upper left")
    return fig


def _figure_taxonomy(result: CalibrationResult):
    names = list(result.model_reliability)
    ncols = 4
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(10, 2.6 * nrows, nrows, ncols, squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        _reliability_panel(ax, result.model_reliability[name], name, PALETTE[0],
                           result.settings["confidence"])
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    return fig


def _figure_cost_curve(result: CalibrationResult):
    curve = result.cost_curve
    fig, ax = new_figure(7.5, 3.8)
    ax.plot(curve["thresholds"], curve["chosen"], color=PALETTE[0],
            label=f"threshold on calibrated probability ({result.chosen_calibrator})")
    ax.plot(curve["thresholds"], curve["raw"], color=PALETTE[1], label="threshold on raw score")
    ax.axvline(curve["t_star"], color=PALETTE[2], ls="--",
               label=f"t* = {curve['t_star']:.3g} (from the costs)")
    ax.axvline(curve["tuned"], color=PALETTE[3], ls=":",
               label=f"tuned on calibration block (raw) = {curve['tuned']:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("threshold")
    ax.set_ylabel("expected cost per test transaction")
    # Zoom on the region around the minimum: far from it every rule is obviously bad.
    lowest = float(np.nanmin(np.r_[curve["chosen"], curve["raw"]]))
    if lowest > 0:  # a perfect separation costs nothing: then there is nothing to zoom on
        ax.set_ylim(0, 4 * lowest)
    ax.set_xlim(1e-3, 1)
    ax.legend(loc="upper right")
    return fig


def _curve_minimum(result: CalibrationResult, which: str) -> float:
    """Threshold of the cost curve's lowest point for ``"chosen"`` or ``"raw"`` scores."""
    curve = result.cost_curve
    return float(np.asarray(curve["thresholds"])[int(np.nanargmin(curve[which]))])


def _figure_size_sweep(result: CalibrationResult):
    sweep = result.size_sweep
    fig, ax = new_figure(7.0, 3.6)
    for color, (name, group) in zip(PALETTE, sweep.groupby("calibrator", sort=True),
                                    strict=False):
        ax.errorbar(group["frauds"], group["log_loss"], yerr=group["log_loss_sd"].fillna(0),
                    marker="o", ms=4, capsize=3, color=color, label=name)
    ax.axhline(float(sweep["raw_log_loss"].iloc[0]), color=PALETTE[6], ls="--",
               label="raw score")
    ax.set_xscale("log")
    ax.set_xlabel("frauds in the calibration sample")
    ax.set_ylabel("test log loss")
    ax.legend()
    return fig


def _figure_decay(result: CalibrationResult):
    decay = result.decay
    fig, ax = new_figure(6.5, 3.2)
    x = decay["window"].to_numpy()
    y = decay["observed_expected"].to_numpy()
    errors = [y - decay["observed_expected_low"], decay["observed_expected_high"] - y]
    ax.errorbar(x, y, yerr=errors,
                marker="o", capsize=4, color=PALETTE[0], label="observed / expected frauds")
    ax.axhline(1, color=PALETTE[6], ls="--", label="calibrated")
    ax.set_xticks(x, [f"window {w}" for w in x])
    ax.set_ylabel("observed / expected")
    ax.legend()
    return fig


def _metric_table(result: CalibrationResult) -> pd.DataFrame:
    table = result.metrics[["model", "calibrator", "log_loss", "brier", "observed_expected",
                            "cox_intercept", "cox_slope", "ece_mass",
                            "band_observed_expected", "average_precision",
                            "cost_at_t_star"]]
    return table.rename(columns={
        "log_loss": "log loss", "brier": "Brier", "observed_expected": "O/E",
        "cox_intercept": "Cox a", "cox_slope": "Cox b", "ece_mass": "ECE (mass)",
        "band_observed_expected": "O/E near t*", "average_precision": "avg precision",
        "cost_at_t_star": "cost at t*"})


def _interval_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.focus_intervals
    out = pd.DataFrame({"calibrator": frame["label"]})
    for name, label in (("log_loss", "log loss"), ("brier", "Brier"),
                        ("observed_expected", "O/E"),
                        ("band_observed_expected", "O/E near t*")):
        out[label] = [f"{v:.3g} ({lo:.3g} to {hi:.3g})" for v, lo, hi in
                      zip(frame[name], frame[f"{name}_low"], frame[f"{name}_high"], strict=True)]
    return out


CARD_LABELS = {
    "reliability": "Brier reliability", "resolution": "Brier resolution",
    "cox_intercept": "Cox intercept a", "cox_slope": "Cox slope b",
    "spiegelhalter_z": "Spiegelhalter Z", "ece_width": "ECE, equal width",
    "ece_mass": "ECE, equal mass", "ece_debiased": "debiased ECE (Kumar et al.)",
    "ece_sweep": "ECE sweep (Roelofs et al.)",
}


def _card_table(result: CalibrationResult) -> pd.DataFrame:
    card = result.metric_card
    out = pd.DataFrame({"metric": [CARD_LABELS[m] for m in dict.fromkeys(card["metric"])]})
    for label, group in card.groupby("probabilities", sort=False):
        out[label] = [f"{v:.3g} ({lo:.3g} to {hi:.3g})" for v, lo, hi in
                      zip(group["value"], group["low"], group["high"], strict=True)]
    return out


def _decision_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"rule": frame["label"], "threshold": frame["threshold"]})
    for name, label, scale in (("cost", "cost / transaction", 1), ("block_rate", "blocked %", 100),
                               ("recall", "frauds caught %", 100),
                               ("amount_caught", "fraud amount caught %", 100)):
        if name not in frame:
            continue
        out[label] = [f"{scale * v:.3g} ({scale * lo:.3g} to {scale * hi:.3g})" for v, lo, hi in
                      zip(frame[name], frame[f"{name}_low"], frame[f"{name}_high"], strict=True)]
    return out


def build(result: CalibrationResult) -> Report:
    """The report of a calibration run."""
    ctx = _context(result)
    level = f"{result.settings['confidence']:.0%}"
    tail = (1 - result.settings["confidence"]) / 2
    report = Report("calibration", title=TITLE, question=QUESTION,
                    short_answer=result.short_answer, templates="casestudies.calibration")

    question = report.section("The question")
    question.text("question.md", **ctx)
    question.callout("answer", "answer.md", **ctx)

    data = report.section("The data")
    data.text("data.md", **ctx)
    data.table(result.preview, caption="The first rows of the data as read.", digits=4)
    data.table(result.split.rename(columns={"fraud_rate": "fraud rate"}),
               caption="The time-ordered blocks: models learn on *train*, calibrators on "
                       "*calibration*, every number below is measured on *test*.")

    math = report.section("The math")
    math.text("math_threshold.md", **ctx)
    math.text("math_calibrators.md", **ctx)
    math.text("math_metrics.md", **ctx)

    evidence = report.section("The evidence")
    evidence.text("evidence_taxonomy.md", **ctx)
    evidence.figure(_figure_taxonomy(result),
                    caption="Raw scores of every model on the test block, in bins of equal "
                            "width on the log-odds scale. Points outside the grey consistency "
                            "bars are miscalibrated beyond what chance explains at this bin "
                            "size.",
                    alt="Reliability diagrams of the raw scores of each model")
    evidence.table(_metric_table(result),
                   caption="Calibration of every model and calibrator on the test block. O/E is "
                           "observed over expected frauds (1 is calibrated in the large); Cox a "
                           "and b are the calibration intercept and slope (0 and 1 ideal); "
                           "O/E near t* is measured only on transactions scored in the band "
                           "around the threshold; cost at t* is the cost per transaction of "
                           "blocking at p >= t*.", digits=3)
    evidence.text("evidence_focus.md", **ctx)
    evidence.figure(_figure_reliability(result),
                    caption=f"Reliability of {result.focus_model} before and after "
                            f"{result.chosen_calibrator} calibration. Look at whether the "
                            "coloured points stay within the grey bars, especially around "
                            f"t* = {result.settings['t_star']:.3g}.",
                    alt="Reliability diagrams before and after calibration")
    evidence.table(_interval_table(result),
                   caption=f"{result.focus_model} with each calibrator: point estimates and "
                           f"{level} paired bootstrap intervals ({result.settings['n_bootstrap']} "
                           "resamples of the test transactions).")
    evidence.table(_card_table(result),
                   caption=f"Every calibration metric of {result.focus_model}, raw and after "
                           f"{result.chosen_calibrator}, with {level} paired bootstrap intervals; "
                           "binned metrics keep the full test block's bins in every resample.")
    evidence.text("evidence_noise.md", **ctx)
    evidence.table(result.noise.rename(columns={
        "chosen": "calibrated", "floor_mean": "noise floor mean",
        "floor_low": f"floor {tail:.1%}", "floor_high": f"floor {1 - tail:.1%}"}),
        caption="Each estimator on the real test labels (for the raw and the calibrated "
                "probabilities) and on labels drawn from the calibrated probabilities themselves "
                "(the noise floor: what a perfectly calibrated model scores at this sample size).",
        digits=3)
    evidence.text("evidence_decisions.md", **ctx)
    evidence.figure(_figure_cost_curve(result),
                    caption="Expected cost per test transaction against the threshold. The cost "
                            "curve of calibrated probabilities should reach its minimum near t*; "
                            "the raw score's minimum can sit anywhere. Here the calibrated curve "
                            f"is lowest at {_curve_minimum(result, 'chosen'):.3g} and the raw "
                            f"one at {_curve_minimum(result, 'raw'):.3g}, for t* = "
                            f"{result.settings['t_star']:.3g}.",
                    alt="Cost against threshold for calibrated and raw scores")
    evidence.table(_decision_table(result.decisions_constant),
                   caption=f"Constant costs (c_FP = {result.settings['cost_fp']:g}, c_FN = "
                           f"{result.settings['cost_fn']:g}): each rule on the test block, with "
                           f"{level} bootstrap intervals.")
    if result.decisions_amount is not None:
        evidence.text("evidence_amount.md", **ctx)
        evidence.table(_decision_table(result.decisions_amount),
                       caption="Amount-dependent costs (a missed fraud costs its amount, a "
                               f"blocked genuine payment c_FP = {result.settings['cost_fp']:g}).")
    evidence.text("evidence_budget.md", **ctx)
    evidence.table(result.budgets, caption="Alert budgets: the top k % of test transactions by "
                   "calibrated probability. Predicted frauds is the sum of the probabilities in "
                   "the queue, the workload forecast a team plans with.",
                   percent=("budget", "precision", "precision_low", "precision_high", "recall",
                            "recall_low", "recall_high"))
    evidence.text("evidence_robustness.md", **ctx)
    evidence.figure(_figure_size_sweep(result),
                    caption="Test log loss of calibrators fitted on subsamples of the calibration "
                            "block holding a given number of frauds (mean and standard deviation "
                            "over repeats). Look at where isotonic's curve crosses the parametric "
                            "ones.", alt="Log loss against number of frauds used for calibration")
    evidence.table(result.prior_shift, caption="Prior shift: the test block resampled to "
                   f"{ctx['shift_factors']} times its fraud rate. O/E before and after the "
                   "Saerens EM re-estimation of the rate, and the cost at t* with the "
                   "probabilities as they are, adjusted by EM, and adjusted with the true new "
                   "rate, against the raw-score threshold tuned on the calibration block.",
                   digits=3)
    evidence.figure(_figure_decay(result),
                    caption="Observed over expected frauds in consecutive windows of the test "
                            f"block, with {level} bootstrap intervals: does a calibration fitted "
                            "once hold while fraud patterns drift? Intervals away from 1 say no.",
                    alt="Observed over expected frauds per time window")

    report.text_section("Pitfalls", "pitfalls.md", **ctx)
    report.text_section("Interview questions", "interview.md", **ctx)
    report.text_section("Use it on your own data", "own_data.md", **ctx)
    return report
