"""The Python API on a real study, with Python-typed values, as a notebook user would call it."""

import json

import pandas as pd
import pytest

import casestudies
from casestudies.errors import ConfigError, DataError
from casestudies.verdicts import Verdict


@pytest.mark.parametrize(("options", "message"), [
    ({"seed": "x"}, "--seed must be a whole number"),
    ({"cost_fp": -1}, "--cost-fp must be greater than 0, not -1"),
    ({"budgets": "abc"}, "--budgets must be comma-separated numbers"),
    ({"bootstrap": 2.5}, "--bootstrap must be a whole number"),
    ({"quick": "perhaps"}, "--quick must be true or false"),
])
def test_bad_values_raise_the_command_lines_one_line_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        casestudies.run("calibration", **options)


def test_a_dataframe_without_the_target_is_a_data_error():
    with pytest.raises(DataError, match="is_fraud"):
        casestudies.run("calibration", data=pd.DataFrame({"x": [1.0, 2.0]}), quick=True)


@pytest.mark.slow
def test_run_returns_a_result_with_verdicts_and_tables_and_report_writes_it(tmp_path):
    result = casestudies.run("calibration", quick=True, bootstrap=20, budgets=[0.5, 1],
                             cost_fp=5, seed=2, quiet=True)
    assert result.verdicts and all(isinstance(v, Verdict) for v in result.verdicts.values())
    summary = result.summary()
    assert summary.startswith(result.short_answer) and "Verdicts:" in summary
    assert all(f"{name}: " in summary for name in result.verdicts)
    tables = result.tables()
    assert tables and all(isinstance(t, pd.DataFrame) for t in tables.values())
    assert result.provenance.seed == 2
    assert result.provenance.command.startswith("casestudies.run('calibration'")
    assert list(tmp_path.iterdir()) == []  # run() writes nothing
    html, payload = casestudies.report(result, out=tmp_path)
    record = json.loads(payload.read_text())
    assert record["short_answer"] == result.short_answer
    assert set(record["result"]["verdicts"]) == set(result.verdicts)
    assert html.read_text().startswith("<!DOCTYPE html>")
