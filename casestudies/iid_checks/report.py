"""The IID audit report: figures, tables and the explanation, read from an
:class:`~casestudies.iid_checks.pipeline.IIDResult`."""

from __future__ import annotations

from typing import Any

import markupsafe
import numpy as np
import pandas as pd

from casestudies.iid_checks import STUDY
from casestudies.iid_checks.audit import (
    ASSUMPTION,
    EFFECTS,
    TOO_FEW_ROWS,
    VERDICTS,
    AuditResult,
    Correlogram,
)
from casestudies.iid_checks.leakage import DISGUISED_POWER, MATERIAL_DROP, TEST_TYPES
from casestudies.iid_checks.null_at_n import BY_CONSTRUCTION
from casestudies.iid_checks.pipeline import IIDResult
from casestudies.iid_checks.simulation import SIMULATED_TESTS
from casestudies.iid_checks.verdicts import ASSUMPTION_VERDICTS
from casestudies.report import (
    PALETTE,
    Report,
    columns_as_rows,
    figure_text,
    new_figure,
    user_text,
)
from casestudies.report.formatting import format_ci, format_number

TOP_CHECKS = 25
# One colour per validation scheme in every figure; the hold-out is the grey reference.
SCHEME_COLOURS = {"random K-fold": PALETTE[1], "TimeSeriesSplit": PALETTE[0],
                  "GroupKFold": PALETTE[2], "blocked K-fold": PALETTE[3],
                  "group-time split": PALETTE[4], "hold-out": PALETTE[6]}
VERDICT_MARK = {"violation": "violation", "significant, small effect": "small effect",
                "no evidence": "—", VERDICTS[3]: "not counted (unreliable at this n)",
                TOO_FEW_ROWS: "— (too few rows to see it)"}


def _ratio(frame: pd.DataFrame) -> pd.Series:
    return (frame["effect"].abs() / frame["threshold"]).fillna(0.0)


def _shown(value: float, spec: str = "g") -> markupsafe.Markup:
    """A code constant as typed in the code (``0.9`` rather than ``0.900``), usable in math."""
    return markupsafe.Markup(format(value, spec))


def _linear_formula(coefficients: list[float]) -> markupsafe.Markup:
    """LaTeX of ``sum_j b_j x_j``, e.g. ``x_1 - 0.5x_2 + 0.25x_3``."""
    terms = []
    for j, b in enumerate(coefficients, start=1):
        size = "" if abs(b) == 1 else f"{abs(b):g}"
        sign = ("-" if b < 0 else "") if not terms else (" - " if b < 0 else " + ")
        terms.append(f"{sign}{size}x_{j}")
    return markupsafe.Markup("".join(terms))


def _count(number: int, noun: str) -> str:
    """``"1 violation"``, ``"3 violations"``: a count with its noun in the right number."""
    return f"{format_number(int(number))} {noun}{'' if number == 1 else 's'}"


def _signed(value: float) -> str:
    return f"{value:+.3f}"


def _level(confidence: float | None) -> str:
    """``"95%"`` from an interval's confidence level."""
    return f"{confidence:.0%}" if confidence else ""


ASSUMPTION_WORDS = {"independent": "independence", "identically distributed":
                    "identical distribution", "no leakage": "no leakage"}
NAMED_COLUMNS = 2  # columns named per failed assumption in the short answer


def short_answer(result: IIDResult) -> str:
    """One sentence answering the study's question, chosen from the verdicts."""
    verdicts = result.verdicts
    parts = []
    for row in result.assumptions.to_dict("records"):
        word = ASSUMPTION_WORDS[row["assumption"]]
        state = verdicts[ASSUMPTION_VERDICTS[row["assumption"]]].state
        if state == "yes":
            names = [n for n in str(row.get("which", "")).split("; ") if n]
            shown = ", ".join(names[:NAMED_COLUMNS]) + (
                f" and {len(names) - NAMED_COLUMNS} more" if len(names) > NAMED_COLUMNS else "")
            parts.append(f"{word} fails ({shown})" if shown else f"{word} fails")

        elif state == "no":
            parts.append(f"{word} holds")
    where = f"On {result.table_name}"
    burn = getattr(result, "burn_in", None)
    if burn is not None and burn.used > 0:
        where += f" after a {format_number(burn.used)}-{burn.unit.rstrip('s')} burn-in"
    if any(part.endswith(")") or part.endswith("fails") for part in parts):
        head = f"{where}, {'; '.join(parts)}"
    else:
        head = f"{where}, no assumption is violated in {result.check_counts['total']} checks"
    kfold = verdicts.get("kfold_overstates")
    if kfold is None:
        return head + "."
    metric = result.validation.metric
    interval = (f"{_signed(kfold.estimate)}, {_level(kfold.confidence)} CI "
                f"{_signed(kfold.low)} to {_signed(kfold.high)}")
    if kfold.state == "yes":
        tail = f"random K-fold overstates the hold-out {metric} by {interval}"
    elif kfold.state == "no":
        tail = f"random K-fold does not overstate the hold-out {metric} (difference {interval})"
    else:
        tail = (f"random K-fold is not measurably off the hold-out {metric} (difference "
                f"{interval}, an interval that includes zero)")
    return f"{head}; {tail}."


def _context(result: IIDResult) -> dict[str, Any]:
    """Every value the templates use, looked up in the result (nothing is computed here)."""
    audit = result.audit
    validation = result.validation
    schemes = {s.scheme: s for s in validation.schemes} if validation else {}
    sunspots = result.real_series
    settings = result.settings
    return {
        "r": result, "c": result.config, "audit": audit, "alpha": f"{result.config.alpha:g}",
        "assumptions": {row["assumption"]: row for row in result.assumptions.to_dict("records")},
        "assumption_verdict": ASSUMPTION_VERDICTS, "verdicts": result.verdicts,
        "counts": result.check_counts, "mt": result.multiple_testing,
        "v": validation, "kfold": schemes.get("random K-fold"),
        "tss": schemes.get("TimeSeriesSplit"), "gkf": schemes.get("GroupKFold"),
        "bkf": schemes.get("blocked K-fold"), "gts": schemes.get("group-time split"),
        "gaps": result.gaps,
        "adv": audit.adversarial,
        "top_feature": (audit.adversarial.importance.iloc[0].to_dict()
                        if audit.adversarial is not None else None),
        "sim": result.simulation, "size": result.size_summary,
        "gallery": {e.name: e for e in result.gallery}, "gs": result.gallery_summary,
        "sunspots": sunspots, "sun_lb": result.sunspot_ljung_box,
        "sun_kpss": sunspots.stationarity.get("sunspots") if sunspots else None,
        "sun_kpss_row": _check_row(sunspots, "ADF + KPSS", "sunspots"),
        "band": result.sunspot_band, "dks": result.discrete_ks,
        "small_ks": result.smallest_significant_ks,
        "small_lb": result.smallest_significant_ljung_box,
        "lags": result.lag_sensitivity.to_dict("records"),
        "s": settings, "is_default": result.config.data is None,
        "count": _count, "level": _level, "at_n": result.at_n,
        "burn": result.burn_in, "prior": result.prior, "concept": result.concept,
        "without": result.audit_without_burn_in,
        "kpss_range": [_shown(p) for p in settings["kpss_p_range"]],
        "near_tolerance": _shown(settings["near_tolerance"]),
        "bds_distance": _shown(settings["bds_distance"]),
        "psi_pseudo_count": _shown(settings["psi_pseudo_count"]),
        "strong_phi": _shown(settings["strong_phi"]),
        "weak_phi": _shown(settings["weak_phi"]),
        "ess_factor": _shown(settings["strong_ar1_size_factor"], ".3g"),
        "gallery_formula": _linear_formula(settings["gallery_coefficients"]),
        "n_features": len(settings["gallery_coefficients"]),
        "control": result.leakage_control,
    }


def _check_row(audit: AuditResult | None, test: str, column: str) -> dict | None:
    """The row of one check of an audit, looked up by test and column."""
    if audit is None:
        return None
    rows = audit.checks[(audit.checks["test"] == test) & (audit.checks["column"] == column)]
    return rows.iloc[0].to_dict() if len(rows) else None


REFERENCES = {
    "bergmeir2018": "Bergmeir, C., Hyndman, R. J. & Koo, B. (2018). A note on the validity of "
                    "cross-validation for evaluating autoregressive time series prediction. "
                    "Computational Statistics & Data Analysis 120, 70-83.",
    "kapoor2023": "Kapoor, S. & Narayanan, A. (2023). Leakage and the reproducibility crisis in "
                  "machine-learning-based science. Patterns 4(9).",
    "kunsch1989": "Künsch, H. R. (1989). The jackknife and the bootstrap for general stationary "
                  "observations. Annals of Statistics 17(3), 1217-1241.",
    "kwiatkowski1992": "Kwiatkowski, D., Phillips, P. C. B., Schmidt, P. & Shin, Y. (1992). "
                       "Testing the null hypothesis of stationarity against the alternative of "
                       "a unit root. Journal of Econometrics 54, 159-178.",
    "dickey1979": "Dickey, D. A. & Fuller, W. A. (1979). Distribution of the estimators for "
                  "autoregressive time series with a unit root. JASA 74, 427-431.",
    "ljung1978": "Ljung, G. M. & Box, G. E. P. (1978). On a measure of lack of fit in time "
                 "series models. Biometrika 65(2), 297-303.",
    "szekely2004": "Székely, G. J. & Rizzo, M. L. (2004). Testing for equal distributions in "
                   "high dimension. InterStat 5.",
    "benjamini1995": "Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery "
                     "rate. JRSS B 57(1), 289-300.",
    "holm1979": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. "
                "Scandinavian Journal of Statistics 6(2), 65-70.",
    "james2023": "James, G., Witten, D., Hastie, T., Tibshirani, R. & Taylor, J. (2023). An "
                 "Introduction to Statistical Learning with Applications in Python. Springer.",
    "gama2014": "Gama, J., Žliobaitė, I., Bifet, A., Pechenizkiy, M. & Bouchachia, A. (2014). A "
                "survey on concept drift adaptation. ACM Computing Surveys 46(4), 44.",
    "saerens2002": "Saerens, M., Latinne, P. & Decaestecker, C. (2002). Adjusting the outputs of "
                   "a classifier to new a priori probabilities: a simple procedure. Neural "
                   "Computation 14(1), 21-41.",
    "cox1958": "Cox, D. R. (1958). Two further applications of a model for binary regression. "
               "Biometrika 45(3/4), 562-565.",
    "lopezdeprado2018": "López de Prado, M. (2018). Advances in Financial Machine Learning, "
                        "chapter 7 (purged and embargoed cross-validation). Wiley.",
}
GLOSSARY = {
    "Exchangeability": "The joint distribution of the rows does not change when they are "
                       "permuted; weaker than IID and what K-fold needs of what it scores.",
    "Burn-in": "The early stretch of a log during which trailing-window features have not "
               "filled yet; left out before auditing, training or monitoring.",
    "Block permutation": "A null distribution made by shuffling blocks of consecutive rows "
                         "rather than single rows, so that the dependence within blocks is "
                         "kept.",
    "Covariate shift": r"$P(x)$ changes between periods while $P(y \mid x)$ stays.",
    "Prior shift": "$P(y)$ changes between periods; for a rare target, read it as a relative "
                   "change of the positive rate.",
    "Concept drift": r"$P(y \mid x)$ changes: the same features mean a different outcome.",
    "Purge and embargo": "Training rows too close in time to the validation rows (before: "
                         "purge; after: embargo) are left out, by at least the feature window "
                         "plus the label delay.",
    "PSI": r"Population stability index, $\sum_i (a_i - e_i)\ln(a_i/e_i)$ over bins of the "
           "reference side.",
    "Out-of-fold residual": "The target minus the prediction of a model that did not see that "
                            "row in training.",
}


# ---------------------------------------------------------------------------------- figures


def _trace_figure(result: IIDResult):
    columns = [c for c in result.trace.columns if c != "position"]
    fig, axes = new_figure(7.0, 1.6 * len(columns) + 0.6, nrows=len(columns), ncols=1,
                           squeeze=False, sharex=True)
    for ax, column, color in zip(axes[:, 0], columns, PALETTE, strict=False):
        ax.plot(result.trace["position"], result.trace[column], color=color)
        ax.axvline(0.5, color=PALETTE[6], linestyle="--", linewidth=1)
        ax.set_ylabel(figure_text(column), fontsize=8)
    axes[-1, 0].set_xlabel("position in time order (share of rows)")
    return fig


def _correlogram_figure(grams: list[Correlogram]):
    fig, axes = new_figure(7.0, 1.9 * len(grams) + 0.4, nrows=len(grams), ncols=2,
                           squeeze=False, sharex=True)
    for row, gram in enumerate(grams):
        lags = np.arange(1, len(gram.acf) + 1)
        ax = axes[row, 0]
        ax.fill_between(lags, gram.acf_low, gram.acf_high, color=PALETTE[0], alpha=0.2,
                        label="Bartlett 95% band")
        ax.axhline(gram.white_noise_band, color=PALETTE[1], linestyle=":", linewidth=1,
                   label="white-noise band")
        ax.axhline(-gram.white_noise_band, color=PALETTE[1], linestyle=":", linewidth=1)
        ax.vlines(lags, 0, gram.acf, color=PALETTE[0])
        ax.set_ylabel(figure_text(gram.column), fontsize=8)
        ax.set_title("ACF" if row == 0 else "")
        ax = axes[row, 1]
        ax.axhspan(-gram.white_noise_band, gram.white_noise_band, color=PALETTE[1], alpha=0.15)
        ax.vlines(lags, 0, gram.pacf, color=PALETTE[2])
        ax.set_title("PACF" if row == 0 else "")
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("lag")
    axes[-1, 1].set_xlabel("lag")
    return fig


def _validation_figure(validation, title: str):
    fig, ax = new_figure(7.0, 0.5 * (len(validation.schemes) + 1) + 1.2)
    names = [s.scheme for s in validation.schemes] + ["hold-out"]
    estimates = [s.score for s in validation.schemes] + [validation.holdout]
    y = np.arange(len(names))[::-1]
    for yi, name, est in zip(y, names, estimates, strict=True):
        ax.errorbar(est.value, yi, xerr=[[est.value - est.low], [est.high - est.value]],
                    fmt="o", color=SCHEME_COLOURS[name], capsize=3)
    ax.axvline(validation.holdout.value, color=SCHEME_COLOURS["hold-out"], linestyle="--",
               linewidth=1)
    ax.annotate("hold-out", (validation.holdout.value, y[0]), xytext=(4, 6),
                textcoords="offset points", color=SCHEME_COLOURS["hold-out"])
    ax.set_yticks(y, names)
    ax.set_xlabel(validation.metric)
    ax.set_title(title)
    return fig


def _gallery_figure(result: IIDResult):
    fig, ax = new_figure(7.0, 3.4)
    entries = result.gallery
    x = np.arange(len(entries))
    for offset, scheme in ((-0.3, "random K-fold"), (-0.1, "TimeSeriesSplit"),
                           (0.1, "blocked K-fold"), (0.3, "GroupKFold")):
        color = SCHEME_COLOURS[scheme]
        points = [(i, e.validation.scheme(scheme)) for i, e in enumerate(entries)
                  if e.validation.scheme(scheme) is not None]
        if not points:
            continue
        xs = np.array([i for i, _ in points]) + offset
        est = [s.optimism for _, s in points]
        ax.errorbar(xs, [e.value for e in est],
                    yerr=[[e.value - e.low for e in est], [e.high - e.value for e in est]],
                    fmt="o", color=color, capsize=3, label=scheme)
    ax.axhline(0, color=SCHEME_COLOURS["hold-out"], linewidth=1)
    ax.set_xticks(x, [e.name for e in entries], rotation=20)
    ax.set_ylabel("optimism: CV R² − hold-out R²")
    ax.legend(loc="upper left")
    return fig


def _simulation_figure(result: IIDResult):
    sim = result.simulation
    scenarios = list(dict.fromkeys(sim.rates["scenario"]))
    fig, ax = new_figure(7.0, 3.8)
    pivot = sim.rates.pivot(index="test", columns="scenario", values="rate")
    pivot = pivot.loc[list(SIMULATED_TESTS), scenarios]
    image = ax.imshow(pivot.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(pivot.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > 0.6 else "black")
    ax.set_xticks(np.arange(len(scenarios)), scenarios, rotation=20)
    ax.set_yticks(np.arange(len(pivot)), pivot.index, fontsize=8)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="flag rate")
    return fig


# ----------------------------------------------------------------------------------- tables


def _checks_table(audit: AuditResult, limit: int | None = TOP_CHECKS) -> pd.DataFrame:
    frame = audit.checks.assign(ratio=_ratio(audit.checks))
    order = frame["verdict"].map({v: i for i, v in enumerate(VERDICTS)})
    frame = frame.assign(order=order, context=~frame["decides"]).sort_values(
        ["context", "order", "ratio"], ascending=[True, True, False])
    if limit is not None:
        frame = frame.head(limit)
    reading = frame["reading"] if "reading" in frame else frame["verdict"]
    kind = frame["leakage_type"].fillna("") if "leakage_type" in frame else ""
    return pd.DataFrame({
        "test": frame["test"] + np.where(kind != "", " (" + kind + ")", ""),
        "column": frame["column"], "role": frame["role"],
        "p-value": frame["p_value"], "adjusted p": frame["p_adjusted"],
        "effect": frame["effect"], "effect size": frame["effect_name"],
        "flagged from": frame["detectable"],
        "false alarms at this n": [_false_alarms(r) for r in frame.itertuples()],
        "verdict": reading.map(VERDICT_MARK),
    })


def _false_alarms(row) -> str:
    """A check's false-alarm rate at this n with its Wilson interval, or how it is known."""
    rate = getattr(row, "false_alarm_rate", np.nan)
    if np.isfinite(rate):
        return format_ci(rate, row.false_alarm_low, row.false_alarm_high)
    source = getattr(row, "null_source", "")
    return {BY_CONSTRUCTION: "alpha by construction"}.get(source, source)


def _verdict_table(result: IIDResult) -> pd.DataFrame:
    v = result.assumptions
    states = [result.verdicts[ASSUMPTION_VERDICTS[a]].state for a in v["assumption"]]
    return pd.DataFrame({
        "assumption": v["assumption"], "deciding columns": v["columns"],
        "violated in": v["violations"],
        "verdict": ["violated" if state == "yes" else "no evidence of a violation"
                    for state in states],
        "columns and the checks that flag them": v["which"],
        "context columns flagged": v["context flagged"],
        "too few rows to see it": v["underpowered"],
        "with a check unreliable at this n": v["unreliable"],
    })


def _drift_table(audit: AuditResult) -> pd.DataFrame:
    """Per continuous column: KS and PSI with the smallest value each could flag at this n."""
    frame = audit.checks
    ks = frame[frame["test"] == "Kolmogorov-Smirnov"].set_index("column")
    psi = frame[frame["test"] == "PSI"].set_index("column")
    return pd.DataFrame({
        "column": ks.index, "KS distance": ks["effect"].to_numpy(),
        "KS flagged from": ks["detectable"].to_numpy(),
        "KS p, independent rows": ks["naive_p_value"].to_numpy(),
        "KS p, block permutation": ks["p_value"].to_numpy(),
        "PSI": psi.loc[ks.index, "effect"].to_numpy(),
        "PSI flagged from": psi.loc[ks.index, "detectable"].to_numpy(),
        "verdict": ks["verdict"].map(VERDICT_MARK).to_numpy(),
    })


def _islp_table(result: IIDResult) -> pd.DataFrame:
    rows = []
    for entry in result.islp:
        record = {"dataset": entry["name"], "rows": entry["rows"]}
        for assumption in ("independent", "identically distributed"):
            state = result.verdicts[f"{entry['name'].lower()}_"
                                    f"{ASSUMPTION_VERDICTS[assumption]}"].state
            record[assumption] = {"yes": "violated", "no": "holds"}.get(state, "not tested")
        frame = entry["assumptions"].set_index("assumption")
        record["what flags it"] = "; ".join(
            str(frame.loc[a, "which"]) for a in ("independent", "identically distributed")
            if a in frame.index and frame.loc[a, "which"])
        rows.append(record)
    return pd.DataFrame(rows)


def _burn_in_table(result: IIDResult) -> pd.DataFrame:
    frame = result.burn_in_effects
    return pd.DataFrame({
        "column": frame["column"],
        "KS distance, all rows": frame["KS without"],
        "KS distance, after burn-in": frame["KS with"],
        "PSI, all rows": frame["PSI without"],
        "PSI, after burn-in": frame["PSI with"],
        "level share, all rows": frame["level share without"],
        "level share, after burn-in": frame["level share with"],
    })


def _threshold_table() -> pd.DataFrame:
    return pd.DataFrame([{"check": test, "assumption": ASSUMPTION[test], "effect size": name,
                          "material from": threshold,
                          "leakage type": TEST_TYPES.get(test, "")}
                         for test, (name, threshold) in EFFECTS.items()])


LEAKAGE_ROWS = 15  # features shown in the single-feature power table, most suspicious first


def _flags(checks: pd.DataFrame, tests: tuple[str, ...]) -> pd.Series:
    """Per column, the checks of ``tests`` that flag it, with their leakage type."""
    rows = checks[checks["test"].isin(tests) & (checks["verdict"] == VERDICTS[0])]
    return rows.groupby("column")["test"].agg(
        lambda names: ", ".join(f"{n} ({TEST_TYPES[n]})" for n in names))


def _power_table(audit: AuditResult) -> pd.DataFrame:
    """Per numeric feature: its rank power on the development and later rows and the fall,
    with intervals, and the checks that flag it; most suspicious first."""
    power = audit.power
    flags = _flags(audit.checks, ("label in disguise", "power drop"))
    order = np.fmax(power["early_low"] / DISGUISED_POWER, power["drop_low"] / MATERIAL_DROP)
    power = power.assign(order=order).sort_values("order", ascending=False).head(LEAKAGE_ROWS)
    return pd.DataFrame({
        "feature": power["feature"],
        "power, development rows": power["early"], "e low": power["early_low"],
        "e high": power["early_high"],
        "power, later rows": power["late"], "l low": power["late_low"],
        "l high": power["late_high"],
        "fall": power["drop"], "f low": power["drop_low"], "f high": power["drop_high"],
        "flagged": [flags.get(f, "—") for f in power["feature"]],
    })


POWER_INTERVALS = {"power, development rows": ("e low", "e high"),
                   "power, later rows": ("l low", "l high"), "fall": ("f low", "f high")}


def _control_table(control: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "feature": control["feature"],
        "built to trip": control["truth"].replace("", "none"),
        "power, development rows": control["early"], "e low": control["early_low"],
        "e high": control["early_high"],
        "power, later rows": control["late"], "l low": control["late_low"],
        "l high": control["late_high"],
        "fall": control["drop"], "f low": control["drop_low"], "f high": control["drop_high"],
        "flagged": control["flagged"].replace("", "none"),
    })


def _late_table(audit: AuditResult) -> pd.DataFrame:
    late = audit.late_recordings
    flags = _flags(audit.checks, ("recorded after prediction",))
    return pd.DataFrame({
        "feature": late["feature"], "rows": late["rows"],
        "recorded after their time": late["after"], "share": late["share"],
        f"latest, {late['unit'].iloc[0]} after": late["latest"],
        "flagged": [flags.get(f, "—") for f in late["feature"]],
    })


def _validation_table(validation) -> pd.DataFrame:
    level = _level(validation.holdout.confidence)
    rows = [{"scheme": s.scheme, "rows scored": s.rows_scored, "score": s.score.value,
             f"score {level} CI": f"{s.score.low:.3f} to {s.score.high:.3f}",
             "optimism": s.optimism.value,
             f"optimism {level} CI": f"{s.optimism.low:.3f} to {s.optimism.high:.3f}"}
            for s in validation.schemes]
    rows.append({"scheme": "hold-out (reference)", "rows scored": validation.holdout_rows,
                 "score": validation.holdout.value,
                 f"score {level} CI": (f"{validation.holdout.low:.3f} to "
                                       f"{validation.holdout.high:.3f}"),
                 "optimism": 0.0, f"optimism {level} CI": ""})
    return pd.DataFrame(rows)


def _concept_table(concept) -> pd.DataFrame:
    """The early model on the held-out early slice and on the later scored rows: proper score
    and calibration, each with its interval."""
    level = _level(concept.early.loss.confidence)

    def shown(estimate) -> str:
        return f"{estimate.low:.3f} to {estimate.high:.3f}"

    rows = []
    for name, scores in (("held-out early slice", concept.early),
                         ("later rows", concept.late)):
        row = {"rows scored": name, "rows": scores.rows, concept.loss_name: scores.loss.value,
               f"{level} CI": shown(scores.loss)}
        if scores.brier is not None:
            row |= {"Brier score": scores.brier.value, f"Brier {level} CI": shown(scores.brier)}
        row |= {concept.calibration_name: scores.calibration.value,
                f"calibration {level} CI": shown(scores.calibration)}
        if scores.slope is not None:
            row |= {"calibration slope": scores.slope.value,
                    f"slope {level} CI": shown(scores.slope)}
        rows.append(row)
    return pd.DataFrame(rows)


def _size_table(result: IIDResult) -> pd.DataFrame:
    iid = result.size_summary.iid_rates
    return pd.DataFrame({
        "test": iid["test"], "flagged": iid["flagged"], "replicates": iid["replicates"],
        "size": iid["rate"], "95% Wilson CI": [f"{lo:.3f} to {hi:.3f}" for lo, hi in
                                                zip(iid["low"], iid["high"], strict=True)],
        "within binomial band": iid["inside_band"],
    })


def _plain(value: float | None) -> str:
    """A verdict's number as text: counts without decimals, others to three figures."""
    if value is None or not np.isfinite(value):
        return ""
    return format_number(int(value)) if float(value).is_integer() else format_number(value)


def _conclusions_table(result: IIDResult) -> pd.DataFrame:
    """Every verdict of the run: its state, the number it rests on, its interval, what it was
    compared with and what the interval resampled."""
    rows = []
    for verdict in result.verdict_list():
        interval = (f"{format_number(verdict.low)} to {format_number(verdict.high)}"
                    if verdict.low is not None and np.isfinite(verdict.low) else "")
        rows.append({"conclusion": verdict.name.replace("_", " "), "holds": verdict.state,
                     "estimate": _plain(verdict.estimate), "interval": interval,
                     "compared with": _plain(verdict.threshold), "rule": verdict.rule,
                     "resampled": verdict.unit})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------- report


def build(result: IIDResult) -> Report:
    """The report of an IID audit."""
    ctx = _context(result)
    report = Report(STUDY.name, title=STUDY.title, question=STUDY.question,
                    short_answer=short_answer(result), templates="casestudies.iid_checks")

    ctx["short_answer"] = report.short_answer
    question = report.section("The question")
    question.text("question.md", **ctx)
    question.callout("answer", "answer.md", title="Short answer", **ctx)

    data = report.section("The data")
    data.text("data.md", **ctx)
    data.table(columns_as_rows(result.preview),
               caption=f"The first {len(result.preview)} rows of "
                       f"{user_text(result.table_name)} in time order, one column per row.")

    math = report.section("The math")
    math.text("math_iid.md", **ctx)
    math.text("math_tests.md", **ctx)
    math.text("math_multiple.md", **ctx)
    math.table(_threshold_table(),
               caption="Effect size of each check and the size from which it counts as a "
                       "violation.")
    math.text("math_consequence.md", **ctx)

    evidence = report.section("The evidence")
    evidence.text("evidence_verdicts.md", **ctx)
    evidence.table(_verdict_table(result),
                   caption="One verdict per column and assumption: a column violates it when "
                           "one of its checks is significant after "
                           f"{result.multiple_testing.correction} adjustment **and** has an "
                           "effect beyond its threshold. Only deciding columns count (for "
                           "independence: the target and the model's residuals); context "
                           "columns (features, calendar flags) are counted apart. *Too few rows "
                           "to see it*: deciding columns without a violation none of whose "
                           "checks could tell a material effect from chance at this n; *with a "
                           "check unreliable at this n*: deciding columns with a check whose "
                           "false-alarm rate lies outside the binomial band of alpha.")
    evidence.table(_checks_table(result.audit),
                   caption=f"{min(TOP_CHECKS, len(result.audit.checks))} of "
                           f"{result.check_counts['total']} checks: deciding ones first, "
                           "violations first, by effect relative to its threshold. *Flagged "
                           "from*: the smallest effect the check flags beyond chance at this "
                           "n; *false alarms at this n*: the share of random orders of the "
                           "same values (KPSS: of stationary AR(1) series) it flags, with its "
                           "Wilson interval. Statistics, naive p-values and notes of every "
                           "check are in the JSON output.",
                   pvalues=("p-value", "adjusted p"))
    if result.at_n is not None:
        evidence.text("evidence_at_n.md", **ctx)
    drift = _drift_table(result.audit)
    if len(drift):
        alpha = f"{result.config.alpha:g}"
        evidence.table(drift, caption="Drift per continuous column, after the burn-in: the KS "
                                      "distance with its p-value assuming independent rows and "
                                      "under the block permutation, PSI, and the smallest value "
                                      f"of each that the test flags at alpha = {alpha} with "
                                      "this many rows and this dependence (its minimum "
                                      "detectable effect). A flag-from value above the "
                                      "material threshold means no evidence is not evidence of "
                                      "no drift.",
                       pvalues=("KS p, independent rows", "KS p, block permutation"))
    if result.burn_in_effects is not None:
        evidence.text("evidence_burn_in.md", **ctx)
        evidence.table(_burn_in_table(result),
                       caption="Drift effects per column on all rows and after the burn-in "
                               "(two sides: early and late halves of the rows kept). Look at "
                               "the rolling-window counts.")
    if result.trace.shape[1] > 1:
        evidence.figure(_trace_figure(result),
                        caption="Block means, along the time order, of the columns whose two "
                                "sides differ most; the dashed line is the middle row. Look "
                                "for drift and level shifts.",
                        alt="Line plots of column block means along the time order")
    if result.audit.correlograms:
        evidence.figure(_correlogram_figure(result.audit.correlograms),
                        caption="ACF with Bartlett's 95% band (shaded) and the white-noise band "
                                "$\\pm 1.96/\\sqrt{n}$ (dotted), and PACF. Look at bars outside "
                                "the bands.",
                        alt="Autocorrelation and partial autocorrelation bars per column")
    if result.audit.adversarial is not None:
        evidence.text("evidence_adversarial.md", **ctx)
        evidence.table(result.audit.adversarial.importance.head(8).rename(
                           columns={"auc_drop": "drop in AUC"}),
                       caption="Features that give the split away: drop in the adversarial "
                               "AUC when the feature is shuffled, on "
                               f"{result.audit.adversarial.importance_rows:,} rows held out of "
                               "the classifier's fit.")
    if result.audit.power is not None or result.audit.late_recordings is not None:
        evidence.text("evidence_leakage.md", **ctx)
    if result.audit.power is not None:
        evidence.table(_power_table(result.audit),
                       caption="Single-feature power (|Somers' D| for a 0/1 target, Spearman's "
                               "|rho| for a numeric one; later rows oriented by the sign on the "
                               "development rows) and its fall, with "
                               f"{_level(result.audit.power['confidence'].iloc[0])} intervals "
                               f"over {result.audit.power_clusters}; at most {LEAKAGE_ROWS} "
                               "features, most suspicious first (every one is in the JSON).",
                       intervals=POWER_INTERVALS)
    if result.leakage_control is not None:
        evidence.table(_control_table(result.leakage_control),
                       caption="Control: the same checks on a simulated table whose leaks are "
                               "known. Each feature should be flagged by the check it was "
                               "built to trip, and only by it.",
                       intervals=POWER_INTERVALS)
    if result.audit.late_recordings is not None:
        evidence.text("evidence_recorded_at.md", **ctx)
        evidence.table(_late_table(result.audit),
                       caption="Features declared with --recorded-at: rows whose value was "
                               "recorded after the row's time, the moment it is predicted.",
                       percent=("share",))
    if result.validation is not None:
        level = _level(result.validation.holdout.confidence)
        evidence.text("evidence_validation.md", **ctx)
        evidence.table(_validation_table(result.validation),
                       caption=f"Cross-validated {result.validation.metric} per scheme and "
                               f"its optimism over the hold-out, with {level} cluster-bootstrap "
                               "intervals.")
        evidence.figure(_validation_figure(result.validation, result.table_name),
                        caption=f"Score per validation scheme with {level} intervals; the dashed "
                                "line is the hold-out. A scheme right of it overstates.",
                        alt="Dot plot of validation scores with confidence intervals")
    if result.concept is not None:
        evidence.text("evidence_concept.md", **ctx)
        evidence.table(_concept_table(result.concept),
                       caption="The model fitted on the early training rows, scored on the "
                               "held-out end of the early rows and on the end of the later "
                               f"rows, with {_level(result.concept.early.loss.confidence)} "
                               f"intervals resampling {result.concept.clusters}. This mixes "
                               "covariate, prior and concept drift; the period-blind against "
                               "period-aware comparison above separates the concept.")
    if result.real_series is not None:
        evidence.text("evidence_real.md", **ctx)
        evidence.table(_checks_table(result.real_series, None),
                       caption="Every check on the yearly sunspot numbers (early vs late "
                               "halves for the two-sample tests).",
                       pvalues=("p-value", "adjusted p"))
        evidence.figure(_correlogram_figure(result.real_series.correlograms),
                        caption="Sunspots: ACF with Bartlett's band and PACF. The ACF "
                                "oscillates with the solar cycle.",
                        alt="Autocorrelation of sunspot numbers")
    if result.islp:
        evidence.text("evidence_islp.md", **ctx)
        evidence.table(_islp_table(result),
                       caption="Verdicts on the ISLP datasets: one per assumption, from the "
                               "deciding columns (the target for independence); every check "
                               "is in the JSON output.")
    evidence.text("evidence_gallery.md", **ctx)
    evidence.table(result.gallery_matrix,
                   caption="Known truth against the audit's verdicts on the simulated gallery, "
                           "and the optimism of random K-fold (R²) on each dataset.")
    evidence.figure(_gallery_figure(result),
                    caption="Optimism of each cross-validation scheme over the later hold-out "
                            "on each gallery dataset, with "
                            f"{_level(result.gallery[0].validation.holdout.confidence)} "
                            "cluster-bootstrap intervals. "
                            "Look at where random K-fold sits above zero.",
                    alt="Optimism per gallery dataset and validation scheme")
    if result.simulation is not None:
        evidence.text("evidence_simulation.md", **ctx)
        evidence.figure(_simulation_figure(result),
                        caption="Flag rate of each test per simulated scenario "
                                f"({result.simulation.replicates} replicates of "
                                f"{result.simulation.rows} rows): under iid it is the size, "
                                "elsewhere the power.",
                        alt="Heat map of flag rates, tests by scenarios")
        evidence.table(_size_table(result),
                       caption=f"Size of each test under IID at alpha = {result.config.alpha}; "
                               f"the binomial band is {result.simulation.band_low:.3f} to "
                               f"{result.simulation.band_high:.3f}.", percent=("size",))

    evidence.table(_conclusions_table(result),
                   caption="Every conclusion of this report as the verdict it rests on: the "
                           "estimate, its interval where it has one, the threshold it was "
                           "compared with, the rule, and what the interval resampled. The words "
                           "of the report are chosen from the column *holds*.")

    report.text_section("Pitfalls", "pitfalls.md", **ctx)
    report.text_section("Interview questions", "interview.md", **ctx)
    report.text_section("Use it on your own data", "own_data.md", **ctx)
    report.references(REFERENCES)
    report.glossary(GLOSSARY)
    return report
