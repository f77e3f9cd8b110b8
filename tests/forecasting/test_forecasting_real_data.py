"""Real series shipped with statsmodels, written as a user would hand them over and run end to end
in quick mode: weekly CO2 with missing weeks, the 100 yearly flows of the Nile (short), and the
monthly El Niño table reshaped to one series in a semicolon-separated Latin-1 file with a
byte-order mark and decimal commas. Each test checks what the result says was done."""

import json

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main

datasets = pytest.importorskip("statsmodels.datasets")
pytest.importorskip("torch")


def _run(tmp_path, path, *options):
    out = tmp_path / "out"
    code = main(["forecasting", "--data", str(path), "--out", str(out), "--quick", "--quiet",
                 *options])
    if code != 0:
        return code, None, None
    payload = json.loads((out / "forecasting.json").read_text())
    return code, payload["result"], (out / "forecasting.html").read_text()


def _elnino_monthly() -> pd.DataFrame:
    table = datasets.elnino.load_pandas().data
    months = table.columns[1:]
    values = table[months].to_numpy(float).ravel()
    start = pd.Timestamp(year=int(table["YEAR"].iloc[0]), month=1, day=1)
    time = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"mois": time.strftime("%Y-%m-%d"), "température (°C)": values})


def test_co2_weekly_missing_weeks_are_interpolated_and_stated(tmp_path, capsys):
    frame = datasets.co2.load_pandas().data
    path = tmp_path / "co2.csv"
    pd.DataFrame({"week": frame.index.strftime("%Y-%m-%d"), "co2": frame["co2"]}).to_csv(
        path, index=False)
    gaps = int(frame["co2"].isna().sum())
    code, result, html = _run(tmp_path, path, "--value", "co2", "--time", "week")
    assert code == 0, capsys.readouterr().err
    series = result["series"][0]
    assert gaps > 0 and series["missing"] == {
        "column": "co2", "policy": "default", "fill_any": False, "length": len(frame),
        "missing": gaps,
        "share": gaps / len(frame), "max_missing": 0.05, "interpolated": gaps}
    assert series["interpolated"]["all"] == gaps
    assert series["period"] == pytest.approx(365.25 / 7)
    assert series["reading"]["delimiter"] == "comma" and series["reading"]["encoding"] == "UTF-8"
    assert result["adaptations"] == []
    assert "filled by linear interpolation" in html and "A smaller analysis" not in html


def test_nile_is_too_short_for_the_default_window_and_runs_with_a_shorter_one(tmp_path,
                                                                               capsys):
    frame = datasets.nile.load_pandas().data
    path = tmp_path / "nile.csv"
    pd.DataFrame({"year": [f"{int(y)}-01-01" for y in frame["year"]],
                  "volume": frame["volume"]}).to_csv(path, index=False)
    code, _, _ = _run(tmp_path, path, "--value", "volume", "--time", "year")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "has 100 observations" in err and "needs at least 119" in err and "--window" in err

    code, result, html = _run(tmp_path, path, "--value", "volume", "--time", "year",
                              "--window", "12")
    assert code == 0, capsys.readouterr().err
    changed = {a["setting"]: (a["requested"], a["used"]) for a in result["adaptations"]}
    assert changed == {"horizon": (12, 4), "origin_step": (3, 1), "training_windows": (100, 51)}
    assert result["horizon"] == 4 and result["config"]["origin_step"] == 1
    series = result["series"][0]
    assert series["n"] == 100 and series["period"] is None
    assert len(series["test_origins"]) == 8 and len(series["calibration_origins"]) == 19
    assert "A smaller analysis than the default" in html


def test_el_nino_from_a_semicolon_latin1_file_with_a_byte_order_mark(tmp_path, capsys):
    frame = _elnino_monthly()
    path = tmp_path / "elnino.csv"
    text = frame.to_csv(sep=";", index=False, decimal=",")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    code, result, html = _run(tmp_path, path, "--value", "température (°C)", "--time", "mois")
    assert code == 0, capsys.readouterr().err
    series = result["series"][0]
    assert series["reading"] == {"delimiter": "semicolon", "delimiter_detected": True,
                                 "encoding": "Latin-1", "encoding_detected": True,
                                 "byte_order_mark": True, "decimal_comma": True}
    assert series["n"] == 732 and series["period"] == 12.0
    np.testing.assert_allclose(series["values"], frame["température (°C)"], atol=1e-9)
    assert series["missing"]["missing"] == 0 and result["adaptations"] == []
    assert "semicolon-separated text" in html and "byte-order mark" in html


@pytest.mark.slow
def test_a_150_month_series_runs_with_the_default_options_and_states_the_adaptation(
        tmp_path, capsys):
    frame = _elnino_monthly().tail(150)
    path = tmp_path / "elnino150.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["forecasting", "--data", str(path), "--value", "température (°C)", "--time",
                 "mois", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    result = json.loads((out / "forecasting.json").read_text())["result"]
    assert result["horizon"] == 8
    assert {a["setting"] for a in result["adaptations"]} == {
        "horizon", "origins", "calibration_origins", "origin_step", "training_windows"}
    assert "A smaller analysis than the default" in (out / "forecasting.html").read_text()
