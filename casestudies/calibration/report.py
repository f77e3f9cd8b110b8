"""The calibration report: figures, tables and the explanation, read from a
:class:`~casestudies.calibration.pipeline.CalibrationResult`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from casestudies.calibration import STUDY
from casestudies.calibration.data import DataLoading, FileReading, MissingHandling
from casestudies.calibration.metrics import logit
from casestudies.calibration.pipeline import (
    AMOUNT_RULES,
    CONSTANT_RULES,
    RAW,
    SCENARIO_NAMES,
    UNDERSAMPLED_MODEL,
    UNDERSAMPLING,
    CalibrationResult,
)
from casestudies.report import PALETTE, Report, new_figure
from casestudies.report.formatting import format_number, format_percent

# Figures in the order build() adds them: the prose refers to them by these numbers.
FIGURES = ("taxonomy", "reliability", "groups", "cost curve", "size sweep", "decay",
           "cost ratio")
# The table of every model and calibrator comes after the data preview and the split.
METRIC_TABLE = 3
# Lowest probability drawn on the log-odds axes of the reliability diagrams.
LOGIT_LIMIT = 1e-4
# One colour per calibrator in every figure (the raw score is PALETTE[1]; grey is for references).
CALIBRATOR_COLOURS = {"Platt (logit)": PALETTE[2], "isotonic (clipped)": PALETTE[0],
                      "beta": PALETTE[3], "temperature": PALETTE[4]}


def _and_list(items: list[str]) -> str:
    """``"a, b and c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): row for row in frame.to_dict("records")}


def _num(value: float) -> str:
    return format_number(value)


# How the report names the text encodings read_table uses or users commonly give.
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "latin-1": "Latin-1",
                  "iso8859-1": "Latin-1", "cp1252": "Windows-1252"}
LABEL_HOW = {"numeric": "as 0/1 numbers", "boolean": "as true/false values",
             "recognised pair": "a pair recognised without --positive",
             "--positive": "as --positive says"}


def _quoted(text: Any) -> str:
    """A user's name or value as written, in quotes (``repr`` would double its backslashes)."""
    return f"'{text}'"


def _names(names: list[str]) -> str:
    """``'a', 'b' and 'c'``: column names as written, quoted."""
    return _and_list([_quoted(name) for name in names])


def _reading_sentence(reading: FileReading) -> str:
    """How a text file was read, and which of its settings were detected."""
    encoding = ENCODING_NAMES.get(reading.encoding, reading.encoding)
    decimal = " with decimal commas" if reading.decimal == "," else ""
    mark = ", after a UTF-8 byte-order mark" if reading.byte_order_mark else ""
    sentence = f"The file was read as {reading.delimiter}-separated {encoding} text{decimal}{mark}"
    given = [flag for what, flag in (("delimiter", "--sep"), ("encoding", "--encoding"))
             if what not in reading.detected]
    if reading.detected:
        verb = "was" if len(reading.detected) == 1 else "were"
        sentence += f"; the {_and_list(reading.detected)} {verb} detected"
    if given:
        sentence += f"; {' and '.join(given)} {'was' if len(given) == 1 else 'were'} given"
    return sentence + "."


def _label_sentence(loading: DataLoading) -> str:
    labels = loading.labels
    positive, negative = _quoted(labels.positive), _quoted(labels.negative)
    return (f"The target {_quoted(labels.column)} holds {positive} and {negative}: {positive} is "
            f"read as fraud (1) and {negative} as genuine (0), "
            f"{LABEL_HOW.get(labels.how, labels.how)}.")


def _missing_sentence(missing: MissingHandling) -> str:
    """What was done about missing values, per column."""
    if not missing.missing_by_column:
        return "No value is missing in the columns used."
    rows = f"{missing.rows_dropped:,} of {missing.rows_before:,} rows"
    if missing.policy == "drop":
        why = (f"by default, as they are at most {format_percent(missing.max_dropped_share, 0)} "
               f"of the rows" if missing.default else "with --missing drop")
        cells = _and_list([f"{count:,} in {_quoted(name)}"
                           for name, count in missing.missing_by_column.items()])
        return f"{rows} had a missing value and were dropped ({why}); missing cells: {cells}."
    parts = []
    for name, count in missing.missing_by_column.items():
        if name in missing.filled_with:
            value = missing.filled_with[name]
            how = (f"its median, {format_number(value)}" if isinstance(value, float)
                   else f"its most frequent value, {_quoted(value)}")
            parts.append(f"{count:,} missing cells of {_quoted(name)} were filled with {how}")
        else:
            parts.append(f"{count:,} rows missing {_quoted(name)} were dropped, because a "
                         f"label, a time or a group is not guessed from other rows")
    return f"With --missing impute, {_and_list(parts)}."


def _feature_sentences(loading: DataLoading) -> list[str]:
    """Which columns became features, which were encoded, and which were left out and why."""
    encoding = loading.features
    sentences = []
    if encoding.numeric:
        sentences.append(f"Numeric columns used as they are: {_names(encoding.numeric)}.")
    for name, levels in encoding.encoded.items():
        if name in encoding.pooled:
            which = (f"one indicator for each of its most frequent levels ({_names(levels)}), "
                     f"plus one 'other' indicator for its {encoding.pooled[name]:,} rarer levels")
        else:
            which = f"one indicator per level ({_names(levels)})"
        sentences.append(f"{_quoted(name)} is one-hot encoded: {which}.")
    if encoding.identifiers:
        sentences.append(f"Left out as row identifiers (nearly every value is distinct, so they "
                         f"name rows rather than describe them): {_names(encoding.identifiers)}.")
    if loading.dropped:
        sentences.append(f"Left out with --drop: {_names(loading.dropped)}.")
    if loading.not_listed:
        sentences.append(f"Left out because --columns does not list them: "
                         f"{_names(loading.not_listed)}.")
    return sentences


def loading_sentences(loading: DataLoading | None) -> list[str]:
    """The data section's account of what the loader did to a user's table, in words."""
    if loading is None:
        return []
    sentences = [_reading_sentence(loading.reading)] if loading.reading is not None else []
    return [*sentences, _label_sentence(loading), _missing_sentence(loading.missing),
            *_feature_sentences(loading)]


def short_answer(result: CalibrationResult) -> str:
    """The answer to both parts of the question (where to block; can the score be read as a
    probability, and did calibrating it help on later data), worded from the verdicts."""
    v = result.verdicts
    t_star = _num(result.settings["t_star"])
    model, calibrator = result.focus_model, result.chosen_calibrator
    where = {
        "yes": f"Block a payment when its {model} score, calibrated by {calibrator}, exceeds "
               f"t* = {t_star} (cheaper than t* on the raw score beyond noise)",
        "no": f"Block a payment when its raw {model} score exceeds t* = {t_star} "
              f"({calibrator} calibration did not lower the cost)",
        "undecided": f"Block a payment when its {model} score exceeds t* = {t_star}, raw or "
                     f"after {calibrator} calibration (their costs differ only within noise)",
    }[v["calibration_lowers_cost_at_t_star"].state]
    in_the_large = v["raw_score_calibrated"].state
    trust = {"yes": "Yes, in the large", "no": "No, not in the large",
             "undecided": "In the large this test block cannot tell"}[in_the_large]
    near = {("yes", "yes"): ", and near t* too", ("yes", "no"): ", but not near t*",
            ("no", "yes"): ", though near t* it is one", ("no", "no"): ", nor near t*",
            ("undecided", "yes"): ", but near t* it is one",
            ("undecided", "no"): ", and near t* it is not one",
            }.get((in_the_large, v["raw_score_calibrated_near_t_star"].state), "")
    helped = {
        "yes": "calibrating it on the preceding block helped on the later test block",
        "no": "calibrating it on the preceding block did not help on the later test block",
        "undecided": "calibrating it on the preceding block did not help beyond noise on the "
                     "later test block",
    }[v["calibration_helps_on_test"].state]
    if v["calibration_hurts_on_test"].state == "yes":
        helped = "calibrating it on the preceding block made the later test block worse"
    return f"{where}. Is the raw score a probability? {trust}{near}; {helped}."


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
    drift = _records(result.drift, "block")
    focus_model = _records(result.models, "model")[result.focus_model]
    return {
        "short_answer": short_answer(result), "unit_short": result.resampling["unit_short"],
        "rs": result.resampling, "drift": drift, "drift_ratios": result.drift_ratios,
        "focus_model_row": focus_model, "farthest": result.decay_farthest,
        "scenario_names": SCENARIO_NAMES,
        "r": result, "s": result.settings, "c": constants, "v": verdicts,
        "focus": result.focus_model,
        "chosen": result.chosen_calibrator, "raw_label": RAW,
        "focus_raw": rows[(result.focus_model, RAW)],
        "focus_cal": rows[(result.focus_model, result.chosen_calibrator)],
        "ci_raw": interval[RAW], "ci_cal": interval[result.chosen_calibrator], "dc": dc,
        "da": da, "under": under, "under_raw": result.undersampled_raw,
        # A training block with as many frauds as genuine payments is not undersampled.
        "undersampled": under[UNDERSAMPLING] is not None,
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
        "loading": loading_sentences(result.loading),
        "sim": constants["simulator"],
        "fig": {name: number for number, name in enumerate(
            (f for f in FIGURES if f != "groups" or not result.groups.empty), start=1)},
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


def _decision_marks(result: CalibrationResult) -> list[tuple[float, str]]:
    """Where decisions are made, for the reliability figures: t* and, with amounts, the
    amount rule's thresholds for the example payments."""
    marks = [(result.settings["t_star"], "t*")]
    if result.has_amount:
        marks += [(e["threshold"], f"amount {e['amount']:g}")
                  for e in result.constants["example_amounts"]]
    return marks


def _mark_thresholds(ax, marks: list[tuple[float, str]], small: bool = False) -> None:
    """Vertical reference lines at the decision thresholds, labelled where they are."""
    top = logit(np.array([0.9]))[0]
    for k, (threshold, label) in enumerate(marks):
        x = _logit_axis(np.array([threshold]))[0]
        ax.axvline(x, color=PALETTE[6], lw=1, ls=":")
        if not small or k == 0:
            ax.text(x, top - 1.3 * k, f" {label}", color=PALETTE[6], va="top", ha="left")


def _reliability_panel(ax, table: dict[str, np.ndarray], title: str, color: str,
                       confidence: float, marks: list[tuple[float, str]] | None = None,
                       small: bool = False) -> None:
    x = _logit_axis(np.asarray(table["mean_predicted"]))
    y = _logit_axis(np.asarray(table["observed"]))
    low = _logit_axis(np.asarray(table["consistency_low"]))
    high = _logit_axis(np.asarray(table["consistency_high"]))
    limits = (logit(np.array([LOGIT_LIMIT]))[0], logit(np.array([0.99]))[0])
    ax.plot(limits, limits, color=PALETTE[6], lw=1, ls="--", label="perfect calibration")
    ax.vlines(x, low, high, color=PALETTE[6], lw=4, alpha=0.35,
              label=f"{confidence:.0%} consistency range")
    ax.plot(x, y, "o-", color=color, ms=4, label="observed fraud rate")
    _mark_thresholds(ax, marks or [], small)
    ax.set_title(title)
    _probability_ticks(ax, "x")
    _probability_ticks(ax, "y")
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)


def _figure_reliability(result: CalibrationResult):
    fig, axes = new_figure(8.5, 4.0, 1, 2)
    marks = _decision_marks(result)
    _reliability_panel(axes[0], result.reliability[RAW], f"{result.focus_model}: raw score",
                       PALETTE[1], result.settings["confidence"], marks)
    _reliability_panel(axes[1], result.reliability[result.chosen_calibrator],
                       f"after {result.chosen_calibrator}",
                       CALIBRATOR_COLOURS.get(result.chosen_calibrator, PALETTE[0]),
                       result.settings["confidence"], marks)
    axes[0].set_xlabel("predicted probability (log-odds scale)")
    axes[1].set_xlabel("predicted probability (log-odds scale)")
    axes[0].set_ylabel("observed fraud rate (log-odds scale)")
    axes[1].legend(loc="lower right")
    return fig


def _figure_taxonomy(result: CalibrationResult):
    names = list(result.model_reliability)
    ncols = 4
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(10, 2.6 * nrows, nrows, ncols, squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        _reliability_panel(ax, result.model_reliability[name], name, PALETTE[1],
                           result.settings["confidence"], _decision_marks(result),
                           small=True)
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    return fig


def _figure_cost_curve(result: CalibrationResult):
    curve = result.cost_curve
    fig, ax = new_figure(7.5, 3.8)
    ax.plot(curve["thresholds"], curve["chosen"],
            color=CALIBRATOR_COLOURS.get(result.chosen_calibrator, PALETTE[0]),
            label=f"calibrated ({result.chosen_calibrator})")
    ax.plot(curve["thresholds"], curve["raw"], color=PALETTE[1], label="raw score")
    ax.axvline(curve["t_star"], color=PALETTE[6], ls="--",
               label=f"t* = {curve['t_star']:.3g}")
    ax.axvline(curve["tuned"], color=PALETTE[6], ls=":",
               label=f"tuned (raw) = {curve['tuned']:.3g}")
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
        ax.errorbar(group["frauds"], group["brier"], yerr=group["brier_sd"].fillna(0),
                    marker="o", ms=4, capsize=3, color=CALIBRATOR_COLOURS.get(name, color),
                    label=name)
    ax.axhline(float(sweep["raw_brier"].iloc[0]), color=PALETTE[6], ls="--",
               label="raw score")
    ax.set_xscale("log")
    ax.set_xlabel("frauds in the calibration sample")
    ax.set_ylabel("test Brier score")
    ax.legend()
    return fig


def _figure_decay(result: CalibrationResult):
    decay = result.decay
    fig, ax = new_figure(6.5, 3.2)
    x = decay["window"].to_numpy()
    y = decay["observed_expected"].to_numpy()
    errors = [y - decay["observed_expected_low"], decay["observed_expected_high"] - y]
    ax.errorbar(x, y, yerr=errors, marker="o", capsize=4,
                color=CALIBRATOR_COLOURS.get(result.chosen_calibrator, PALETTE[0]),
                label="observed / expected frauds")
    ax.axhline(1, color=PALETTE[6], ls="--", label="calibrated")
    ax.set_xticks(x, [f"window {w}" for w in x])
    ax.set_ylabel("observed / expected")
    ax.legend()
    return fig


def _ci(values, lows, highs, scale: float = 1.0) -> list[str]:
    return [f"{scale * v:.3g} ({scale * lo:.3g} to {scale * hi:.3g})" for v, lo, hi in
            zip(values, lows, highs, strict=True)]


def _group_labels(groups: pd.DataFrame) -> list[str]:
    labels = []
    for row in groups.to_dict("records"):
        if row["kind"] == "amount":
            high = "" if not np.isfinite(row["amount_to"]) else f"{row['amount_to']:.3g}"
            labels.append(f"{row['amount_from']:.3g}–{high}" if high
                          else f"≥ {row['amount_from']:.3g}")
        else:
            labels.append(row["group"])
    return labels


def _figure_groups(result: CalibrationResult):
    groups = result.groups
    fig, ax = new_figure(7.0, 3.4)
    x = np.arange(len(groups))
    for offset, key, label, color in (
            (-0.12, "raw", "raw score", PALETTE[1]),
            (0.12, "calibrated", f"after {result.chosen_calibrator}",
             CALIBRATOR_COLOURS.get(result.chosen_calibrator, PALETTE[0]))):
        value = groups[f"{key}_observed_expected"].to_numpy(dtype=float)
        errors = [value - groups[f"{key}_observed_expected_low"].to_numpy(dtype=float),
                  groups[f"{key}_observed_expected_high"].to_numpy(dtype=float) - value]
        ax.errorbar(x + offset, value, yerr=errors, fmt="o", capsize=3, color=color,
                    label=label)
    band = result.constants["calibrated_band"]
    ax.axhspan(band[0], band[1], color=PALETTE[6], alpha=0.15, label="calibrated band")
    ax.axhline(1, color=PALETTE[6], ls="--", lw=1)
    ax.set_xticks(x, _group_labels(groups))
    ax.set_xlabel("amount band | customer segment")
    ax.set_ylabel("observed / expected frauds")
    ax.legend(loc="upper left")
    return fig


def _group_table(result: CalibrationResult) -> pd.DataFrame:
    groups = result.groups
    return pd.DataFrame({
        "group": [("amount " + g) if k == "amount" else g for g, k in
                  zip(_group_labels(groups), groups["kind"], strict=True)],
        "transactions": groups["rows"], "frauds": groups["frauds"],
        "O/E raw": _ci(groups["raw_observed_expected"], groups["raw_observed_expected_low"],
                       groups["raw_observed_expected_high"]),
        "O/E calibrated": _ci(groups["calibrated_observed_expected"],
                              groups["calibrated_observed_expected_low"],
                              groups["calibrated_observed_expected_high"])})


def _figure_cost_ratio(result: CalibrationResult):
    frame = result.cost_ratio
    fig, ax = new_figure(7.0, 3.4)
    x = frame["ratio"].to_numpy(dtype=float)
    colour = CALIBRATOR_COLOURS.get(result.chosen_calibrator, PALETTE[0])
    ax.fill_between(x, 100 * frame["relative_regret_low"], 100 * frame["relative_regret_high"],
                    color=colour, alpha=0.2, lw=0)
    ax.plot(x, 100 * frame["relative_regret"], "o-", color=colour, ms=4,
            label="extra cost of the configured t*")
    ax.axhline(100 * result.constants["regret_tolerance"], color=PALETTE[6], ls="--", lw=1,
               label="tolerance")
    ax.axvline(result.settings["cost_fn"] / result.settings["cost_fp"], color=PALETTE[6],
               ls=":", lw=1, label="configured ratio")
    ax.set_xscale("log")
    ax.set_xlabel("true cost ratio c_FN / c_FP")
    ax.set_ylabel("regret (% of the right cost)")
    ax.legend(loc="upper left")
    return fig


def _prequential_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.prequential
    out = pd.DataFrame({
        "window": frame["window"], "start": frame["start"], "frauds": frame["frauds"],
        "labels added": frame["new_labels"],
        "O/E fitted once": _ci(frame["fixed"], frame["fixed_low"], frame["fixed_high"]),
        "O/E re-fitted": _ci(frame["refit"], frame["refit_low"], frame["refit_high"]),
        "Brier change": _ci(frame["brier_change"], frame["brier_change_low"],
                            frame["brier_change_high"])})
    if "card_precision" in frame:
        out["card precision@k %"] = 100 * frame["card_precision"]
    return out


def _censoring_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.censoring
    return pd.DataFrame({
        "retrained on": frame["training"], "rows": frame["rows"], "frauds": frame["frauds"],
        "test O/E": _ci(frame["observed_expected"], frame["observed_expected_low"],
                        frame["observed_expected_high"]),
        "O/E over reference": _ci(frame["relative_to_reference"],
                                  frame["relative_to_reference_low"],
                                  frame["relative_to_reference_high"]),
        "frauds caught % at t*": _ci(frame["recall"], frame["recall_low"], frame["recall_high"],
                                     100),
        "cost / transaction": _ci(frame["cost"], frame["cost_low"], frame["cost_high"])})


def _actions_table(result: CalibrationResult) -> pd.DataFrame:
    a = result.three_actions
    return pd.DataFrame({
        "policy": ["block or approve at t*", "approve / step-up / block"],
        "step-up from": [float("nan"), a["threshold_step_up"]],
        "block from": [result.settings["t_star"], a["threshold_block"]],
        "cost / transaction": _ci([a["cost_two"], a["cost_three"]],
                                  [a["cost_two_low"], a["cost_three_low"]],
                                  [a["cost_two_high"], a["cost_three_high"]])})


def _metric_table(result: CalibrationResult) -> pd.DataFrame:
    table = result.metrics[["model", "calibrator", "brier", "log_loss", "observed_expected",
                            "band_observed_expected", "cox_slope", "cost_at_t_star"]]
    return table.rename(columns={
        "log_loss": "log loss", "brier": "Brier", "observed_expected": "O/E",
        "cox_slope": "Cox slope", "band_observed_expected": "O/E near t*",
        "cost_at_t_star": "cost at t*"})


def _interval_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.focus_intervals
    out = pd.DataFrame({"calibrator": frame["label"]})
    for name, label in (("brier", "Brier"), ("log_loss", "log loss"),
                        ("observed_expected", "O/E"),
                        ("band_observed_expected", "O/E near t*")):
        out[label] = _ci(frame[name], frame[f"{name}_low"], frame[f"{name}_high"])
    return out


CARD_LABELS = {
    "cox_intercept": "Cox intercept a", "cox_slope": "Cox slope b",
    "spiegelhalter_z": "Spiegelhalter Z", "ece_width": "ECE, equal width",
    "ece_mass": "ECE, equal mass", "ece_debiased": "debiased ECE (Kumar et al.)",
    "ece_sweep": "ECE sweep (Roelofs et al.)",
}


def _card_table(result: CalibrationResult) -> pd.DataFrame:
    card = result.metric_card
    out = pd.DataFrame({"metric": [CARD_LABELS[m] for m in dict.fromkeys(card["metric"])]})
    for label, group in card.groupby("probabilities", sort=False):
        out[label] = _ci(group["value"], group["low"], group["high"])
    return out


def _noise_frame(result: CalibrationResult) -> pd.DataFrame:
    tail, upper = result.noise_summary["tail"], result.noise_summary["upper_tail"]
    frame = result.noise
    return pd.DataFrame({
        "metric": [CARD_LABELS[m] for m in frame["metric"]],
        "calibrated": frame["chosen"], "raw": frame["raw"],
        "noise floor mean": frame["floor_mean"],
        f"floor {tail:.1%}": frame["floor_low"], f"floor {upper:.1%}": frame["floor_high"],
        "calibrated beyond floor": frame["chosen_beyond_floor"],
        "raw beyond floor": frame["raw_beyond_floor"]})


def _decision_table(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"rule": frame["label"], "threshold": frame["threshold"]})
    for name, label, scale in (("cost", "cost / transaction", 1), ("block_rate", "blocked %", 100),
                               ("recall", "frauds caught %", 100),
                               ("amount_caught", "fraud amount caught %", 100)):
        if name not in frame:
            continue
        out[label] = _ci(frame[name], frame[f"{name}_low"], frame[f"{name}_high"], scale)
    return out


def _difference_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.paired_differences
    return pd.DataFrame({"comparison": frame["comparison"],
                         "difference": _ci(frame["value"], frame["low"], frame["high"])})


def _budget_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.budgets
    return pd.DataFrame({
        "budget": frame["budget"], "frauds found": frame["realised_frauds"],
        "forecast (calibrated)": frame["predicted_frauds"],
        "forecast (raw)": frame["predicted_frauds_raw"],
        "precision %": _ci(frame["precision"], frame["precision_low"], frame["precision_high"],
                           100),
        "recall %": _ci(frame["recall"], frame["recall_low"], frame["recall_high"], 100),
        "found / forecast": _ci(frame["forecast_observed_expected"],
                                frame["forecast_observed_expected_low"],
                                frame["forecast_observed_expected_high"]),
        "holds": frame["forecast_holds"]})


def _shift_tables(result: CalibrationResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = result.prior_shift
    calibration = frame[["factor", "rows", "true_rate", "em_rate", "observed_expected",
                         "observed_expected_em", "em_closer"]].rename(columns={
        "true_rate": "true rate", "em_rate": "EM rate", "observed_expected": "O/E",
        "observed_expected_em": "O/E after EM", "em_closer": "EM closer to 1"})
    cost = frame[["factor", "cost_before", "cost_em", "cost_true_rate", "cost_tuned_raw",
                  "em_cost_lower"]].rename(columns={
        "cost_before": "cost as is", "cost_em": "cost after EM",
        "cost_true_rate": "cost, true rate", "cost_tuned_raw": "cost, tuned raw",
        "em_cost_lower": "EM cost lower"})
    return calibration, cost


def _drift_table(result: CalibrationResult) -> pd.DataFrame:
    """What changed between the calibration and the test block, one row per quantity."""
    blocks = _records(result.drift, "block")
    cal, test = blocks["calibration"], blocks["test"]
    ratios = result.drift_ratios

    def cell(row, key, scale=1.0):
        return _ci([row[key]], [row[f"{key}_low"]], [row[f"{key}_high"]], scale)[0]

    rows = [
        ("transactions", cal["rows"], test["rows"], ""),
        ("frauds", cal["frauds"], test["frauds"], ""),
        ("fraud incidents" if result.resampling["clustered"] else "fraud units",
         cal["fraud_clusters"], test["fraud_clusters"], ""),
        ("fraud rate %", cell(cal, "fraud_rate", 100), cell(test, "fraud_rate", 100),
         _ci([ratios["fraud_rate"]["value"]], [ratios["fraud_rate"]["low"]],
             [ratios["fraud_rate"]["high"]])[0]),
        ("raw score O/E", cell(cal, "raw_observed_expected"),
         cell(test, "raw_observed_expected"),
         _ci([ratios["raw_observed_expected"]["value"]],
             [ratios["raw_observed_expected"]["low"]],
             [ratios["raw_observed_expected"]["high"]])[0]),
    ]
    for code, name in SCENARIO_NAMES.items():
        if f"share_{code}" in cal:
            rows.append((f"{name} frauds % ({'incidents' if code != 1 else 'payments'})",
                         f"{cell(cal, f'share_{code}', 100)}; {cal[f'clusters_{code}']}",
                         f"{cell(test, f'share_{code}', 100)}; {test[f'clusters_{code}']}", ""))
    return pd.DataFrame(rows, columns=["quantity", "calibration block", "test block",
                                       "test over calibration"])


def _selection_table(result: CalibrationResult) -> pd.DataFrame:
    return result.calibrator_selection.rename(columns={
        "holdout_brier": "held-out Brier (criterion)", "holdout_log_loss": "held-out log loss",
        "holdout_log_loss_nonzero": "log loss without exact zeros"})


def _corp_table(result: CalibrationResult) -> pd.DataFrame:
    frame = result.metrics[result.metrics["model"] == result.focus_model]
    return pd.DataFrame({
        "calibrator": frame["calibrator"], "Brier": frame["brier"],
        "miscalibration (MCB)": frame["miscalibration"],
        "discrimination (DSC)": frame["discrimination"],
        "uncertainty (UNC)": frame["corp_uncertainty"],
        "binned leftover %": 100 * frame["within_bins_share"]})


def _verdict_table(result: CalibrationResult) -> pd.DataFrame:
    rows = []
    for verdict in result.verdict_list():
        interval = ("" if verdict.low is None or not np.isfinite(verdict.low) else
                    f" ({verdict.low:.3g} to {verdict.high:.3g})")
        estimate = "" if verdict.estimate is None else f"{verdict.estimate:.3g}{interval}"
        rows.append({"verdict": verdict.name.replace("_", " "), "state": verdict.state,
                     "estimate": estimate, "rule": verdict.rule})
    return pd.DataFrame(rows)


REFERENCES = {
    "dimitriadis2021": "Dimitriadis, T., Gneiting, T. & Jordan, A. I. (2021). Stable reliability "
                       "diagrams for probabilistic classifiers. PNAS 118(8), e2016191118.",
    "elkan2001": "Elkan, C. (2001). The foundations of cost-sensitive learning. IJCAI 2001.",
    "platt1999": "Platt, J. (1999). Probabilistic outputs for support vector machines and "
                 "comparisons to regularized likelihood methods. Advances in Large Margin "
                 "Classifiers, MIT Press.",
    "zadrozny2002": "Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into "
                    "accurate multiclass probability estimates. KDD 2002.",
    "kull2017": "Kull, M., Silva Filho, T. & Flach, P. (2017). Beta calibration: a well-founded "
                "and easily implemented improvement on logistic calibration for binary "
                "classifiers. AISTATS 2017.",
    "guo2017": "Guo, C., Pleiss, G., Sun, Y. & Weinberger, K. Q. (2017). On calibration of "
               "modern neural networks. ICML 2017.",
    "dalpozzolo2015": "Dal Pozzolo, A., Caelen, O., Johnson, R. A. & Bontempi, G. (2015). "
                      "Calibrating probability with undersampling for unbalanced "
                      "classification. IEEE SSCI 2015.",
    "saerens2002": "Saerens, M., Latinne, P. & Decaestecker, C. (2002). Adjusting the outputs "
                   "of a classifier to new a priori probabilities: a simple procedure. Neural "
                   "Computation 14(1).",
    "niculescu2005": "Niculescu-Mizil, A. & Caruana, R. (2005). Predicting good probabilities "
                     "with supervised learning. ICML 2005.",
    "murphy1973": "Murphy, A. H. (1973). A new vector partition of the probability score. "
                  "Journal of Applied Meteorology 12(4).",
    "spiegelhalter1986": "Spiegelhalter, D. J. (1986). Probabilistic prediction in patient "
                         "management and clinical trials. Statistics in Medicine 5(5).",
    "cox1958": "Cox, D. R. (1958). Two further applications of a model for binary regression. "
               "Biometrika 45(3/4).",
    "brocker2007": "Bröcker, J. & Smith, L. A. (2007). Increasing the reliability of "
                   "reliability diagrams. Weather and Forecasting 22(3).",
    "kumar2019": "Kumar, A., Liang, P. & Ma, T. (2019). Verified uncertainty calibration. "
                 "NeurIPS 2019.",
    "roelofs2022": "Roelofs, R., Cain, N., Shlens, J. & Mozer, M. C. (2022). Mitigating bias in "
                   "calibration error estimation. AISTATS 2022.",
    "leborgne2022": "Le Borgne, Y.-A., Siblini, W., Lebichot, B. & Bontempi, G. (2022). "
                    "Reproducible Machine Learning for Credit Card Fraud Detection: Practical "
                    "Handbook. Université Libre de Bruxelles.",
    "davison1997": "Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their "
                   "Application. Cambridge University Press (resampling clusters: section "
                   "3.8).",
}

GLOSSARY = {
    "Calibrated": "A score $q$ is calibrated when, among payments scored $q$, a share $q$ are "
                  "frauds.",
    "O/E": "Observed over expected frauds, $\\sum y_i / \\sum p_i$: 1 when calibrated in the "
           "large, below 1 when the score forecasts too many frauds.",
    "Incident": "One fraud event that produces several fraudulent payments: a compromised "
                "terminal, a leaked card; an isolated large fraud is an incident of one.",
    "Incident bootstrap": "Resampling whole incidents with replacement (and genuine payments "
                          "one by one) so that an interval reflects how many independent "
                          "fraud events there were, not how many payments.",
    "Brier score": "Mean squared difference between probability and outcome, a proper score.",
    "Log loss": "Mean negative log-likelihood of the outcomes, a proper score that punishes a "
                "fraud scored near 0 without bound.",
    "CORP decomposition": "Brier score = miscalibration − discrimination + uncertainty, with "
                          "the miscalibration measured against the isotonic recalibration of "
                          "the forecasts (exact, no bins).",
    "t*": "The cost-optimal threshold $c_{\\mathrm{FP}}/(c_{\\mathrm{FP}}+c_{\\mathrm{FN}})$ "
          "for calibrated probabilities.",
    "Paired interval": "An interval of a difference computed on the same resamples for both "
                       "sides, so that shared noise cancels.",
    "Prior shift": "A change of the fraud rate with the fraud and genuine score distributions "
                   "unchanged.",
    "Noise floor": "What a calibration metric scores on labels drawn from the forecasts "
                   "themselves: a perfectly calibrated model's value at this sample size.",
}


def build(result: CalibrationResult) -> Report:
    """The report of a calibration run."""
    ctx = _context(result)
    level = f"{result.settings['confidence']:.0%}"
    unit = result.resampling["unit_short"]
    replicates = result.resampling["replicates"]
    report = Report("calibration", title=STUDY.title, question=STUDY.question,
                    short_answer=short_answer(result), templates="casestudies.calibration")

    question = report.section("The question")
    question.text("question.md", **ctx)
    question.callout("answer", "answer.md", **ctx)

    data = report.section("The data")
    data.text("data.md", **ctx)
    preview = result.preview
    data.table(preview.iloc[:, :8],
               caption="The first rows of the data as read"
                       + (" (the first 8 columns; every column is in the JSON)."
                          if preview.shape[1] > 8 else "."), digits=4)
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
                            "width on the log-odds scale, with t* (labelled) and, with amounts, "
                            "the amount rule's thresholds for the example payments marked "
                            "(dotted). Points "
                            "outside the grey consistency bars are miscalibrated beyond what "
                            "chance explains at this bin size.",
                    alt="Reliability diagrams of the raw scores of each model")
    evidence.table(_metric_table(result),
                   caption="Calibration of every model and calibrator on the test block (a "
                           "chosen subset of columns; every metric of every row, ECE and "
                           "average precision included, is in the JSON under *metrics*). O/E "
                           "is observed over expected frauds (1 is calibrated in the large); "
                           "O/E near t* is measured only on transactions scored in the band "
                           "around the threshold; cost at t* is the cost per transaction of "
                           "blocking at p >= t*.", digits=3)
    evidence.text("evidence_focus.md", **ctx)
    evidence.table(_selection_table(result),
                   caption="Choosing the calibrator on the calibration block alone: fitted on "
                           "its first half, scored on its second half. The Brier score decides; "
                           "the log loss is shown with and without the payments the raw score "
                           "puts at exactly 0.", digits=4)
    evidence.figure(_figure_reliability(result),
                    caption=f"Reliability of {result.focus_model} before and after "
                            f"{result.chosen_calibrator} calibration, with t*"
                            + (" and the amount rule's thresholds for two example payments"
                               if result.has_amount else "")
                            + " marked (dotted). Look at whether the coloured points stay "
                              "within the grey bars at those thresholds, where blocking is "
                              "decided.",
                    alt="Reliability diagrams before and after calibration")
    if not result.groups.empty:
        evidence.text("evidence_groups.md", **ctx)
        evidence.figure(_figure_groups(result),
                        caption="Observed over expected frauds by amount band and customer "
                                f"segment, raw and after {result.chosen_calibrator}, with "
                                f"{level} intervals over {unit}; the grey band is the calibrated "
                                "band. The amount rule needs every amount band inside it.",
                        alt="Observed over expected frauds per amount band and segment")
        evidence.table(_group_table(result),
                       caption="Calibration by amount band (cut at quantiles of the test "
                               "block's amounts) and by customer segment, with "
                               f"{level} intervals over {unit}.")
    evidence.table(_interval_table(result),
                   caption=f"{result.focus_model} with each calibrator: point estimates and "
                           f"{level} intervals from the {unit} bootstrap ({replicates} "
                           "resamples, the same for every row: paired).")
    evidence.text("evidence_drift.md", **ctx)
    evidence.table(_drift_table(result),
                   caption=f"What changed between the calibration block and the test block, "
                           f"with {level} intervals over {unit} (each block resampled on its "
                           "own; a ratio pairs the two blocks' replicates). Scenario rows give "
                           "the share of frauds and the number of incidents.")
    evidence.text("evidence_corp.md", **ctx)
    evidence.table(_corp_table(result),
                   caption=f"CORP decomposition of the Brier score of {result.focus_model}: "
                           "Brier = MCB − DSC + UNC exactly. The last column is the share of "
                           "the Brier score that the binned Murphy decomposition leaves "
                           "unexplained (its within-bin term).", digits=3)
    evidence.table(_card_table(result),
                   caption=f"Calibration metrics of {result.focus_model}, raw and after "
                           f"{result.chosen_calibrator}, with {level} paired intervals over "
                           f"{unit}; binned metrics keep the full test block's bins in every "
                           "resample.")
    evidence.text("evidence_noise.md", **ctx)
    evidence.table(_noise_frame(result),
                   caption="Each estimator on the real test labels (for the raw and the "
                           "calibrated probabilities) and on labels drawn from the calibrated "
                           "probabilities themselves (the noise floor: what a perfectly "
                           "calibrated model scores at this sample size).", digits=3)
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
                           f"{level} intervals over {unit}.")
    evidence.table(_difference_table(result),
                   caption=f"Paired differences (new minus old) with {level} intervals over "
                           f"{unit}: both rules are evaluated on the same resamples, so the "
                           "interval is that of the difference, not of each cost apart. Below "
                           "0, the first rule is cheaper.")
    if result.decisions_amount is not None:
        evidence.text("evidence_amount.md", **ctx)
        evidence.table(_decision_table(result.decisions_amount),
                       caption="Amount-dependent costs (a missed fraud costs its amount, a "
                               f"blocked genuine payment c_FP = {result.settings['cost_fp']:g}), "
                               f"with {level} intervals over {unit}.")
    evidence.text("evidence_budget.md", **ctx)
    evidence.table(_budget_table(result), caption="Alert budgets: the top k % of test "
                   "transactions by calibrated probability. The forecasts are the sums of the "
                   "probabilities in the queue, the workload a team plans with; found / "
                   f"forecast is their ratio with a {level} interval over {unit} (the queue "
                   "re-drawn in every resample), and *holds* says whether it lies inside the "
                   "calibrated band.", percent=("budget",))
    evidence.text("evidence_robustness.md", **ctx)
    evidence.figure(_figure_size_sweep(result),
                    caption="Test Brier score of calibrators fitted on subsamples of the "
                            "calibration block holding a given number of frauds (mean and "
                            "standard deviation over repeats); the log-odds calibrators use the "
                            "same clip as the pipeline, so the curves compare calibrators. "
                            "Look at where isotonic's curve crosses the parametric ones.",
                    alt="Brier score against number of frauds used for calibration")
    shift_calibration, shift_cost = _shift_tables(result)
    evidence.table(shift_calibration, caption="Prior shift: the test block resampled to "
                   f"{ctx['shift_factors']} times its fraud rate. O/E before and after the "
                   "Saerens EM re-estimation of the rate; *EM closer to 1* is a paired-interval "
                   f"verdict over the shifted sample's {unit}.", digits=3)
    evidence.table(shift_cost, caption="Prior shift, costs per transaction at t*: with the "
                   "probabilities as they are, adjusted by EM, adjusted with the true new rate, "
                   "and the raw-score threshold tuned on the calibration block.", digits=3)
    evidence.figure(_figure_decay(result),
                    caption="Observed over expected frauds in consecutive windows of the test "
                            f"block, with {level} intervals over {unit}: does a calibration "
                            "fitted once hold while fraud patterns drift? Intervals away from 1 "
                            "say no.",
                    alt="Observed over expected frauds per time window")

    evidence.text("evidence_questions.md", **ctx)
    evidence.figure(_figure_cost_ratio(result),
                    caption="Regret of keeping the configured t* when the true cost ratio "
                            "c_FN/c_FP is different (c_FP fixed): its extra cost per transaction "
                            "as a share of the cost of the right threshold, on the calibrated "
                            f"probabilities, with {level} intervals over {unit}. The dashed "
                            "line is the tolerance, the dotted one the configured ratio.",
                    alt="Regret against the true cost ratio")
    evidence.table(_actions_table(result),
                   caption="Two actions against three: the thresholds on the calibrated "
                           "probability and the cost per transaction, with "
                           f"{level} intervals over {unit}. The step-up cost and the share of "
                           "frauds it stops are assumptions (--cost-step-up, --step-up-catch).")
    if not result.censoring.empty:
        evidence.table(_censoring_table(result),
                       caption="One retraining cycle on censored labels: a logistic regression "
                               "retrained on the calibration block with every label (the "
                               "reference nobody has), without the payments the rule blocked, "
                               "and with a random hold-out of them let through and reweighted; "
                               f"scored on the test block with {level} intervals over {unit} "
                               "(the test block is resampled; the hold-out draw is not).")
    if not result.prequential.empty:
        evidence.table(_prequential_table(result),
                       caption="Prequential evaluation: consecutive windows of the test block. "
                               "The calibrator fitted once on the calibration block against the "
                               "same calibrator re-fitted at each window's start on every label "
                               "known by then; Brier change is re-fitted minus fitted once "
                               f"(paired, {level} intervals over {unit}); card precision@k is "
                               "the mean over the window's days.", digits=3)
    evidence.table(_verdict_table(result),
                   caption="The verdicts this report's wording is chosen from: each a rule in "
                           "the study's code with its threshold, applied to the interval shown "
                           f"({level}; every interval resamples {unit}, except Spiegelhalter's "
                           "test, which has none).")

    report.text_section("Pitfalls", "pitfalls.md", **ctx)
    report.text_section("Interview questions", "interview.md", **ctx)
    report.text_section("Use it on your own data", "own_data.md", **ctx)
    report.references(REFERENCES)
    report.glossary(GLOSSARY)
    return report
