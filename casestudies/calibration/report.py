"""The calibration report: figures, tables and the explanation, read from a
:class:`~casestudies.calibration.pipeline.CalibrationResult`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from casestudies.calibration import STUDY
from casestudies.calibration.metrics import logit
from casestudies.calibration.pipeline import (
    AMOUNT_RULES,
    CONSTANT_RULES,
    RAW,
    UNDERSAMPLED_MODEL,
    UNDERSAMPLING,
    CalibrationResult,
)
from casestudies.report import PALETTE, Report, new_figure
from casestudies.report.formatting import format_number

# Figures in the order build() adds them: the prose refers to them by these numbers.
FIGURES = ("taxonomy", "reliability", "cost curve", "size sweep", "decay")
# The table of every model and calibrator comes after the data preview and the split.
METRIC_TABLE = 3
# Lowest probability drawn on the log-odds axes of the reliability diagrams.
LOGIT_LIMIT = 1e-4


def _and_list(items: list[str]) -> str:
    """``"a, b and c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): row for row in frame.to_dict("records")}


def _num(value: float) -> str:
    return format_number(value)


# How the short answer words a calibration verdict (observed over expected frauds in the band).
_CALIBRATED_WORDS = {"yes": "is calibrated", "no": "is not calibrated",
                     "undecided": "is neither shown calibrated nor miscalibrated"}


def _calibrated(verdict, where: str) -> str:
    """``"is calibrated in the large (O/E 0.984, 0.931 to 1.05)"``, worded from the verdict's
    state."""
    return (f"{_CALIBRATED_WORDS[verdict.state]} {where} (O/E {_num(verdict.estimate)}, "
            f"{_num(verdict.low)} to {_num(verdict.high)})")


def short_answer(result: CalibrationResult) -> str:
    """The answer to both parts of the question (where to block, and whether the score is a
    probability), in plain text, worded from the result's verdicts."""
    v = result.verdicts
    cost = _records(result.decisions_constant, "label")
    calibrated = cost[CONSTANT_RULES["calibrated"]]["cost"]
    raw = cost[CONSTANT_RULES["raw"]]["cost"]
    t_star = _num(result.settings["t_star"])
    model, calibrator = result.focus_model, result.chosen_calibrator
    blocking = {
        "yes": f"Block when the calibrated fraud probability ({model} + {calibrator}) exceeds "
               f"t* = c_FP/(c_FP+c_FN) = {t_star}: on the test block it costs {_num(calibrated)} "
               f"per transaction against {_num(raw)} for t* on the raw score.",
        "no": f"Block when the raw {model} score exceeds t* = c_FP/(c_FP+c_FN) = {t_star}: on "
              f"the test block it costs {_num(raw)} per transaction, and {calibrator} "
              f"calibration raises that to {_num(calibrated)}.",
        "undecided": f"Block when the {model} score exceeds t* = c_FP/(c_FP+c_FN) = {t_star}, "
                     f"raw or after {calibrator} calibration: on the test block they cost "
                     f"{_num(raw)} and {_num(calibrated)} per transaction, a difference within "
                     "noise.",
    }[v["calibration_lowers_cost_at_t_star"].state]
    trust = (f"As a probability, the raw score "
             f"{_calibrated(v['raw_score_calibrated'], 'in the large')} and "
             f"{_calibrated(v['raw_score_calibrated_near_t_star'], 'near t*')}; after "
             f"{calibrator} calibration it "
             f"{_calibrated(v['calibrated_score_calibrated'], 'in the large')} and "
             f"{_calibrated(v['calibrated_score_calibrated_near_t_star'], 'near t*')}, and its "
             "test log loss " + {"yes": "falls beyond noise.", "no": "does not fall.",
                                 "undecided": "changes only within noise."}[
                 v["calibration_lowers_log_loss"].state])
    return f"{blocking} {trust}"


def _context(result: CalibrationResult) -> dict[str, Any]:
    """Every value the templates use, looked up in the result (nothing is computed here)."""
    rows = {(r["model"], r["calibrator"]): r for r in result.metrics.to_dict("records")}
    constant = _records(result.decisions_constant, "label")
    dc = {short: constant[label] for short, label in CONSTANT_RULES.items()}
    da = None
    if result.decisions_amount is not None:
        amount = _records(result.decisions_amount, "label")
        da = {short: amount[label] for short, label in AMOUNT_RULES.items()}
    under = {name: rows.get((UNDERSAMPLED_MODEL, name)) for name in
             (RAW, UNDERSAMPLING, "temperature", "Platt (logit)", "isotonic (clipped)", "beta")}
    interval = _records(result.focus_intervals, "label")
    budgets = result.budgets.to_dict("records")
    shift = result.prior_shift.to_dict("records")
    verdicts = result.verdicts
    # The budget and the shift the "every" verdicts rest on: the interview answers quote these
    # rows, not a fixed position.
    deciding = result.deciding_rows
    budget_row = next((row for row in budgets
                       if row["budget"] == deciding.get("workload_forecast_holds")), None)
    shift_row = next((row for row in shift
                      if row["factor"] == deciding.get("em_correction_helps")), None)
    constants = result.constants
    factors = [f"{f:g}" for f in result.settings["shifted_factors"]]
    return {
        "r": result, "s": result.settings, "c": constants, "v": verdicts,
        "focus": result.focus_model,
        "chosen": result.chosen_calibrator, "raw_label": RAW,
        "focus_raw": rows[(result.focus_model, RAW)],
        "focus_cal": rows[(result.focus_model, result.chosen_calibrator)],
        "ci_raw": interval[RAW], "ci_cal": interval[result.chosen_calibrator], "dc": dc,
        "da": da, "under": under, "under_raw": result.undersampled_raw,
        "worst": result.worst_raw, "noise": _records(result.noise, "metric"),
        "noise_summary": result.noise_summary,
        "budgets": budgets, "budget_row": budget_row, "shift": shift, "shift_row": shift_row,
        "decay": result.decay.to_dict("records"),
        "decay_outside": result.decay_windows_excluding_one,
        "params": result.calibrator_parameters,
        "check": result.undersampling_check, "sk": result.sklearn_sigmoid,
        "constant": result.constant_forecast, "sweep": result.size_sweep_summary,
        "selection": result.calibrator_selection.to_dict("records"),
        "scenarios": result.scenario_counts,
        "split": result.split.to_dict("records"),
        "models": result.models.to_dict("records"),
        "taxonomy": [{**model, **rows[(model["model"], RAW)]}
                     for model in result.models.to_dict("records")],
        "features": ", ".join(result.feature_names),
        "sim": constants["simulator"],
        "fig": {name: number for number, name in enumerate(FIGURES, start=1)},
        "metric_table": METRIC_TABLE,
        "windows": _and_list([f"{w:g}" for w in constants["simulator"]["windows_days"]]),
        "shift_factors": _and_list(factors), "examples": constants["example_amounts"],
        "effect": result.calibrator_effect,
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
    lowest = curve["lowest_cost"]
    if lowest > 0:  # a perfect separation costs nothing: then there is nothing to zoom on
        ax.set_ylim(0, 4 * lowest)
    ax.set_xlim(1e-3, 1)
    ax.legend(loc="upper right")
    return fig


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


def _difference_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.paired_differences
    return pd.DataFrame({
        "comparison": frame["comparison"],
        "difference": [f"{v:.3g} ({lo:.3g} to {hi:.3g})" for v, lo, hi in
                       zip(frame["value"], frame["low"], frame["high"], strict=True)],
        "resampled": frame["unit"]})


def _budget_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.budgets
    return pd.DataFrame({
        "budget": frame["budget"], "queue": frame["queue"],
        "frauds found": frame["realised_frauds"],
        "forecast (calibrated)": frame["predicted_frauds"],
        "forecast (raw)": frame["predicted_frauds_raw"],
        "precision": frame["precision"], "recall": frame["recall"],
        "found / forecast": [f"{v:.3g} ({lo:.3g} to {hi:.3g})" for v, lo, hi in zip(
            frame["forecast_observed_expected"], frame["forecast_observed_expected_low"],
            frame["forecast_observed_expected_high"], strict=True)],
        "holds": frame["forecast_holds"]})


def _shift_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.prior_shift
    columns = ["factor", "rows", "true_rate", "mean_predicted", "em_rate", "observed_expected",
               "observed_expected_em", "cost_before", "cost_em", "cost_true_rate",
               "cost_tuned_raw", "em_closer", "em_cost_lower"]
    return frame[columns].rename(columns={
        "true_rate": "true rate", "mean_predicted": "mean prediction", "em_rate": "EM rate",
        "observed_expected": "O/E", "observed_expected_em": "O/E after EM",
        "cost_before": "cost as is", "cost_em": "cost after EM",
        "cost_true_rate": "cost, true rate", "cost_tuned_raw": "cost, tuned raw",
        "em_closer": "EM closer to 1", "em_cost_lower": "EM cost lower"})


def _verdict_table(result: CalibrationResult) -> pd.DataFrame:
    rows = []
    for verdict in result.verdict_list():
        interval = ("" if verdict.low is None or not np.isfinite(verdict.low) else
                    f" ({verdict.low:.3g} to {verdict.high:.3g})")
        estimate = "" if verdict.estimate is None else f"{verdict.estimate:.3g}{interval}"
        rows.append({"verdict": verdict.name.replace("_", " "), "state": verdict.state,
                     "estimate": estimate, "rule": verdict.rule, "resampled": verdict.unit})
    return pd.DataFrame(rows)


def build(result: CalibrationResult) -> Report:
    """The report of a calibration run."""
    ctx = _context(result)
    level = f"{result.settings['confidence']:.0%}"
    tail = result.noise_summary["tail"]
    report = Report("calibration", title=STUDY.title, question=STUDY.question,
                    short_answer=short_answer(result), templates="casestudies.calibration")

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
        "chosen_beyond_floor": "calibrated beyond floor", "raw_beyond_floor": "raw beyond floor",
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
                            f"is lowest at {result.cost_curve['minimum_chosen']:.3g} and the raw "
                            f"one at {result.cost_curve['minimum_raw']:.3g}, for t* = "
                            f"{result.settings['t_star']:.3g}.",
                    alt="Cost against threshold for calibrated and raw scores")
    evidence.table(_decision_table(result.decisions_constant),
                   caption=f"Constant costs (c_FP = {result.settings['cost_fp']:g}, c_FN = "
                           f"{result.settings['cost_fn']:g}): each rule on the test block, with "
                           f"{level} bootstrap intervals.")
    evidence.table(_difference_table(result),
                   caption=f"Paired differences (new minus old) with {level} intervals: both "
                           "rules are evaluated on the same resampled test transactions, so the "
                           "interval is that of the difference, not of each cost apart. Below "
                           "0, the first rule is cheaper.")
    if result.decisions_amount is not None:
        evidence.text("evidence_amount.md", **ctx)
        evidence.table(_decision_table(result.decisions_amount),
                       caption="Amount-dependent costs (a missed fraud costs its amount, a "
                               f"blocked genuine payment c_FP = {result.settings['cost_fp']:g}).")
    evidence.text("evidence_budget.md", **ctx)
    evidence.table(_budget_table(result), caption="Alert budgets: the top k % of test "
                   "transactions by calibrated probability. Predicted frauds is the sum of the "
                   "probabilities in the queue, the workload forecast a team plans with; "
                   "found / forecast is their ratio with a bootstrap interval over the queue, "
                   "and *holds* says whether it lies inside the calibrated band.",
                   percent=("budget", "precision", "recall"))
    evidence.text("evidence_robustness.md", **ctx)
    evidence.figure(_figure_size_sweep(result),
                    caption="Test log loss of calibrators fitted on subsamples of the calibration "
                            "block holding a given number of frauds (mean and standard deviation "
                            "over repeats). Look at where isotonic's curve crosses the parametric "
                            "ones.", alt="Log loss against number of frauds used for calibration")
    evidence.table(_shift_table(result), caption="Prior shift: the test block resampled to "
                   f"{ctx['shift_factors']} times its fraud rate. O/E before and after the "
                   "Saerens EM re-estimation of the rate, and the cost at t* with the "
                   "probabilities as they are, adjusted by EM, and adjusted with the true new "
                   "rate, against the raw-score threshold tuned on the calibration block. "
                   "*EM closer to 1* and *EM cost lower* are paired-interval verdicts on the "
                   "shifted sample's transactions.",
                   digits=3)
    evidence.figure(_figure_decay(result),
                    caption="Observed over expected frauds in consecutive windows of the test "
                            f"block, with {level} bootstrap intervals: does a calibration fitted "
                            "once hold while fraud patterns drift? Intervals away from 1 say no.",
                    alt="Observed over expected frauds per time window")

    evidence.table(_verdict_table(result),
                   caption="The verdicts this report's wording is chosen from: each a rule in "
                           "the study's code with its threshold, applied to the interval shown "
                           f"({level}, resampling the unit named).")

    report.text_section("Pitfalls", "pitfalls.md", **ctx)
    report.text_section("Interview questions", "interview.md", **ctx)
    report.text_section("Use it on your own data", "own_data.md", **ctx)
    return report
