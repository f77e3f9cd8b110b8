"""A balanced table (frauds are most of the test block) runs: prior shifts the block cannot be
resampled to are left out instead of crashing the run."""

import json

import numpy as np
import pandas as pd

from casestudies.calibration.robustness import (
    MAX_SHIFTED_RATE,
    PRIOR_SHIFT_FACTORS,
    feasible_shift_factors,
)
from casestudies.cli import main


def test_feasible_factors_keep_the_shifted_rate_below_the_bound():
    assert PRIOR_SHIFT_FACTORS == (0.5, 1.0, 2.0) and MAX_SHIFTED_RATE == 0.9
    assert feasible_shift_factors(0.01) == [0.5, 1.0, 2.0]
    assert feasible_shift_factors(0.45) == [0.5, 1.0, 2.0]  # 0.9 exactly is still feasible
    assert feasible_shift_factors(0.6) == [0.5, 1.0]
    assert feasible_shift_factors(0.95) == [0.5]


def test_balanced_table_runs_and_reports_only_feasible_shifts(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 3000
    fraud = (rng.random(n) < np.linspace(0.05, 0.7, n)).astype(int)
    pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
                  "y": fraud, "x": rng.normal(size=n) + fraud,
                  "z": rng.normal(size=n)}).to_csv(tmp_path / "balanced.csv", index=False)
    out = tmp_path / "out"
    code = main(["calibration", "--data", str(tmp_path / "balanced.csv"), "--target", "y",
                 "--time", "t", "--gap-days", "1", "--quick", "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    result = json.loads((out / "calibration.json").read_text())["result"]
    factors = [row[0] for row in result["prior_shift"]["data"]]
    assert factors == result["settings"]["prior_shift_factors"] == [0.5, 1.0]
