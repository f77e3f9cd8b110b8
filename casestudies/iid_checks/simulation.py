"""Known-truth calibration of the checks: how often each test flags a violation on simulated
data where the truth is known.

On IID data the flag rate of a test at level alpha is its *size* and should be alpha within
binomial error; on data with a violation it is its *power*. ADF is the exception: its null is
the violation (a unit root), so it "flags" when it fails to reject, and its rate under IID is
one minus its power against a unit root, not alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from casestudies.iid_checks import checks
from casestudies.iid_checks.data import COEFFICIENTS, simulate_gallery
from casestudies.iid_checks.dependent import dependent_two_sample
from casestudies.progress import progress
from casestudies.rng import stream, stream_seed
from casestudies.stats import binomial_band, wilson_interval

# The scenarios simulated: the gallery datasets whose violation is in the rows' order or
# distribution (duplicates are found by the leakage checks, not by a test with a level).
SCENARIOS = ("iid", "ar1_weak", "ar1_strong", "mean_shift", "variance_change", "grouped")
SIMULATED_TESTS = ("Ljung-Box", "runs", "BDS", "Durbin-Watson", "Kolmogorov-Smirnov",
                   "KS, block permutation", "PSI", "energy distance", "KPSS",
                   "ADF (flags if not rejected)")
SIMULATION_PERMUTATIONS = 199


@dataclass
class SizePower:
    """Flag rates of each test in each scenario, with Wilson intervals."""

    rates: pd.DataFrame  # scenario, test, flagged, replicates, rate, low, high
    alpha: float
    replicates: int
    rows: int
    band_low: float
    band_high: float

    def rate(self, scenario: str, test: str) -> float:
        row = self.rates[(self.rates["scenario"] == scenario) & (self.rates["test"] == test)]
        return float(row["rate"].iloc[0])


def flags(frame: pd.DataFrame, alpha: float, rng: np.random.Generator) -> dict[str, bool]:
    """Whether each test of :data:`SIMULATED_TESTS` flags a violation on one gallery dataset.

    Series tests use ``x1`` in row order; Durbin-Watson uses the residuals of the least-squares
    fit of ``y`` on ``x1..x4``; two-sample tests compare the first and second halves of ``x1``
    (energy distance: of ``x1..x4`` jointly), KS both with its usual p-value (independent
    rows) and under the block-permutation null of :mod:`~casestudies.iid_checks.dependent`.
    """
    x = frame["x1"].to_numpy()
    features = frame[[f"x{j + 1}" for j in range(len(COEFFICIENTS))]].to_numpy()
    half = len(x) // 2
    design = np.column_stack([np.ones(len(x)), features])
    y = frame["y"].to_numpy()
    residuals = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    stationarity = checks.adf_kpss(x, alpha)  # the constant pair, as the audit's p-value
    p_values = {
        "Ljung-Box": checks.ljung_box(x).p_value,
        "runs": checks.runs_test(x).p_value,
        "BDS": checks.bds_test(x).p_value,
        "Durbin-Watson": checks.durbin_watson_test(residuals).p_value,
        "Kolmogorov-Smirnov": checks.ks_test(x[:half], x[half:]).p_value,
        "KS, block permutation": dependent_two_sample(
            x, np.arange(len(x)) >= half, discrete=False, permutations=SIMULATION_PERMUTATIONS,
            rng=rng).p_values["Kolmogorov-Smirnov"],
        "PSI": checks.psi(x[:half], x[half:]).p_value,
        "energy distance": checks.energy_test(features[:half], features[half:],
                                              SIMULATION_PERMUTATIONS, rng).p_value,
        "KPSS": stationarity.kpss_p_value,
    }
    result = {name: bool(p < alpha) for name, p in p_values.items()}
    result["ADF (flags if not rejected)"] = bool(stationarity.adf_p_value >= alpha)
    return result


def size_and_power(replicates: int, rows: int, alpha: float = 0.05,
                   random_state: int = 0,
                   scenarios: tuple[str, ...] = SCENARIOS) -> SizePower:
    """Flag rate of every test under every scenario of :data:`SCENARIOS`.

    Parameters
    ----------
    replicates : int
        Simulated datasets per scenario.
    rows : int
        Rows of each simulated dataset.
    alpha : float, default 0.05
        Level of each test (unadjusted: this is each test's own size).
    random_state : int
        Seed. Replicate ``r`` of scenario ``s`` simulates its data and draws its permutations
        from streams named ``(s, r)``, so that adding a scenario or replicates leaves the
        datasets and flags of the others unchanged.
    scenarios : tuple of str
        The scenarios simulated (default: all of :data:`SCENARIOS`).
    """
    counts = {(s, t): 0 for s in scenarios for t in SIMULATED_TESTS}
    work = [(s, r) for s in scenarios for r in range(replicates)]
    for scenario, replicate in progress(work, desc="size and power simulation"):
        unit = ("iid_checks", "size and power", scenario, str(replicate))
        frame = simulate_gallery(scenario, rows,
                                 random_state=stream_seed(random_state, *unit, "data"))
        permutations = stream(random_state, *unit, "energy distance")
        for test, flagged in flags(frame, alpha, permutations).items():
            counts[(scenario, test)] += flagged
    records = []
    for (scenario, test), flagged in counts.items():
        low, high = wilson_interval(flagged, replicates)
        records.append({"scenario": scenario, "test": test, "flagged": flagged,
                        "replicates": replicates, "rate": flagged / replicates,
                        "low": low, "high": high})
    band_low, band_high = binomial_band(alpha, replicates)
    return SizePower(rates=pd.DataFrame(records), alpha=alpha, replicates=replicates, rows=rows,
                     band_low=float(band_low), band_high=float(band_high))
