"""A user's series as it comes: dialects, missing values and short series.

Reading and missing values are checked on the loader (no analysis runs); the sizing of the
backtest on both sides of every floor; the command line's one-line refusals.
"""

import math

import numpy as np
import pandas as pd
import pytest

from casestudies.cli import main
from casestudies.errors import ConfigError, DataError
from casestudies.forecasting import sizing
from casestudies.forecasting.config import ForecastingConfig, calibration_needed
from casestudies.forecasting.data import Series, load_data, size_backtest


def _monthly(n=150, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)
    month = pd.date_range("2000-01-01", periods=n, freq="MS").strftime("%Y-%m-%d")
    return pd.DataFrame({"month": month, "y": values})


def _write(tmp_path, frame, **to_csv):
    path = tmp_path / "series.csv"
    frame.to_csv(path, index=False, **to_csv)
    return path


def _config(path, **options):
    return ForecastingConfig.from_options(data=str(path), value="y", time="month", **options)


def _sized(n, period=12.0, **options):
    config = ForecastingConfig.from_options(**options)
    series = Series("user", "y", np.arange(n, dtype=float), None, period)
    return size_backtest(config, [series])


def _refused(capsys, argv, expect):
    code = main(["forecasting", *argv, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    for text in expect:
        assert text in err, err
    return err


# ---------------------------------------------------------------------------- file dialects

def test_semicolon_latin1_file_with_a_byte_order_mark_and_decimal_commas(tmp_path):
    frame = _monthly(300).rename(columns={"y": "température"})
    path = tmp_path / "export.csv"
    text = frame.to_csv(sep=";", index=False, decimal=",")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    config = ForecastingConfig.from_options(data=str(path), value="température", time="month")
    series = load_data(config).series[0]
    np.testing.assert_allclose(series.values, frame["température"].round(6), atol=1e-6)
    assert series.reading == {"delimiter": "semicolon", "delimiter_detected": True,
                              "encoding": "Latin-1", "encoding_detected": True,
                              "byte_order_mark": True, "decimal_comma": True}


def test_given_delimiter_and_encoding_are_recorded_as_given(tmp_path):
    path = _write(tmp_path, _monthly(300), sep="\t")
    series = load_data(_config(path, sep="tab", encoding="cp1252")).series[0]
    assert series.reading == {"delimiter": "tab", "delimiter_detected": False,
                              "encoding": "cp1252", "encoding_detected": False,
                              "byte_order_mark": False, "decimal_comma": False}


def test_plain_comma_file_is_read_as_utf8_without_a_mark(tmp_path):
    series = load_data(_config(_write(tmp_path, _monthly(300)))).series[0]
    assert series.reading["delimiter"] == "comma" and series.reading["encoding"] == "UTF-8"
    assert not series.reading["byte_order_mark"] and not series.reading["decimal_comma"]


@pytest.mark.parametrize("option", ["--sep", "--encoding", "--missing"])
def test_file_options_without_a_file_are_refused(capsys, option):
    value = {"--sep": ";", "--encoding": "latin-1", "--missing": "error"}[option]
    _refused(capsys, [option, value], expect=["describe a file", "--data"])


def test_unknown_missing_policy_is_refused(tmp_path, capsys):
    path = _write(tmp_path, _monthly())
    _refused(capsys, ["--data", str(path), "--value", "y", "--missing", "drop"],
             expect=["--missing must be one of error, interpolate"])


# ---------------------------------------------------------------------------- missing values

def _with_gaps(share, n=300):
    frame = _monthly(n)
    gaps = np.linspace(10, n - 10, round(share * n)).astype(int)
    frame.loc[gaps, "y"] = np.nan
    return frame, len(gaps)


def test_three_percent_missing_is_interpolated_and_recorded(tmp_path):
    frame, gaps = _with_gaps(0.03)
    series = load_data(_config(_write(tmp_path, frame))).series[0]
    assert series.missing == {"column": "y", "policy": "default", "fill_any": False,
                              "length": 300,
                              "missing": gaps, "share": gaps / 300, "max_missing": 0.05,
                              "interpolated": gaps}
    assert series.interpolated.sum() == gaps and np.isfinite(series.values).all()


def test_thirty_percent_missing_stops_with_one_line_naming_column_count_and_option(
        tmp_path, capsys):
    frame, gaps = _with_gaps(0.30)
    out = tmp_path / "out"
    _refused(capsys, ["--data", str(_write(tmp_path, frame)), "--value", "y", "--out",
                      str(out)],
             expect=["'y'", f"{gaps} missing", "--max-missing", "--missing interpolate"])
    assert not out.exists()


def test_missing_interpolate_fills_beyond_the_tolerance(tmp_path):
    frame, gaps = _with_gaps(0.30)
    series = load_data(_config(_write(tmp_path, frame), missing="interpolate")).series[0]
    assert series.missing["policy"] == "interpolate" and series.missing["fill_any"]
    assert series.missing["interpolated"] == gaps and np.isfinite(series.values).all()


def test_missing_error_refuses_a_single_gap_and_accepts_none(tmp_path, capsys):
    frame, _ = _with_gaps(0.0)
    series = load_data(_config(_write(tmp_path, frame), missing="error")).series[0]
    assert series.missing["missing"] == 0 and series.interpolated is None
    frame.loc[50, "y"] = np.nan
    _refused(capsys, ["--data", str(_write(tmp_path, frame)), "--value", "y", "--missing",
                      "error"], expect=["'y' has 1 missing value", "--missing error"])


def test_periods_inserted_by_the_frequency_count_as_missing(tmp_path):
    frame = _monthly(300).drop(index=[40, 41])
    series = load_data(_config(_write(tmp_path, frame), freq="MS")).series[0]
    assert series.missing["missing"] == 2 and series.missing["length"] == 300


# ---------------------------------------------------------------------------- short series

def test_the_default_series_keep_the_default_sizes():
    config = ForecastingConfig.from_options()
    sized = size_backtest(config, load_data(config).series)
    assert sized.config == config and sized.adaptations == []


def test_a_150_month_series_gets_the_largest_horizon_it_holds():
    sized = _sized(150)
    used = sized.config
    assert (used.horizon, used.origins, used.calibration_origins, used.origin_step) == \
        (8, 20, 19, 1)
    assert {a.setting: (a.requested, a.used) for a in sized.adaptations} == {
        "horizon": (100, 8), "origins": (60, 20), "calibration_origins": (30, 19),
        "origin_step": (10, 1), "training_windows": (100, 41)}
    # Every observation is used, and one more step of horizon would not fit.
    backtest = sizing.requested_backtest(used, 48)
    assert backtest.length - backtest.training_windows + 41 == 150
    longer = sizing.Backtest(9, 20, 19, 1, 48, sizing.MIN_TRAINING_WINDOWS)
    assert longer.length > 150


def test_el_nino_runs_with_the_defaults_at_the_full_horizon():
    config = ForecastingConfig.from_options(series="elnino")
    sized = size_backtest(config, load_data(config).series)
    used = sized.config
    assert used.horizon == 100 and used.calibration_origins == 19
    assert sizing.requested_backtest(used, 48).length - 100 + 40 <= 732
    assert {a.setting for a in sized.adaptations} == {"origins", "calibration_origins",
                                                      "origin_step", "training_windows"}


@pytest.mark.parametrize("n", [131, 150, 200, 300, 732, 1000, 1327])
def test_sized_backtests_fit_and_hold_two_blocks(n):
    used = _sized(n).config
    backtest = sizing.Backtest(used.horizon, used.origins, used.calibration_origins,
                               used.origin_step, 48, sizing.MIN_TRAINING_WINDOWS)
    assert backtest.length <= n and backtest.blocks >= sizing.MIN_BLOCKS
    assert used.origins >= sizing.MIN_TEST_ORIGINS and used.horizon >= sizing.MIN_HORIZON


def test_below_the_smallest_analysis_one_line_names_the_length():
    assert _sized(131).config.horizon == 2
    with pytest.raises(DataError, match="needs at least 131; use a longer series or a shorter "
                                        "--window"):
        _sized(130)


def test_a_given_horizon_is_kept_or_refused_with_the_largest_that_works():
    assert _sized(150, horizon=8).config.horizon == 8
    with pytest.raises(DataError, match="--horizon 9 .*the largest --horizon that works is 8"):
        _sized(150, horizon=9)


def test_given_sizes_are_kept_and_the_others_shrink():
    used = _sized(300, origin_step=3).config
    assert used.origin_step == 3 and used.horizon < 100
    assert _sized(300, origin_step=3).config.fixed == ("origin_step",)


def test_the_floors_are_what_the_methods_need():
    lstm = pytest.importorskip("casestudies.forecasting.lstm")
    assert sizing.MIN_TRAINING_WINDOWS == math.ceil(lstm.BATCH_SIZE
                                                    / (1 - lstm.VALIDATION_SHARE))
    floors = sizing.smallest_sizes(ForecastingConfig())
    assert floors["calibration_origins"] == calibration_needed(0.95) == 19
    assert floors["origins"] == round(1 / (1 - 0.95))


def test_fixed_names_only_sizing_options():
    with pytest.raises(ConfigError, match="fixed names options"):
        ForecastingConfig(fixed=("paths",))


def test_short_series_on_the_command_line_states_the_adaptation(tmp_path, capsys):
    out = tmp_path / "out"
    path = _write(tmp_path, _monthly(150))
    code = main(["forecasting", "--data", str(path), "--value", "y", "--time", "month",
                 "--quick", "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    import json

    result = json.loads((out / "forecasting.json").read_text())["result"]
    assert result["config"]["horizon"] == 4 and result["horizon"] == 4
    assert [a["setting"] for a in result["adaptations"]] == ["horizon", "origin_step",
                                                            "training_windows"]
    assert result["series"][0]["training_windows"] == 40
    html = (out / "forecasting.html").read_text()
    assert "A smaller analysis than the default" in html
    assert "4 instead of\n12" in html or "4 instead of 12" in html


def test_a_dataframe_from_python_has_no_dialect_and_its_gaps_recorded():
    frame, gaps = _with_gaps(0.03)
    config = ForecastingConfig.from_options(data=frame, value="y", time="month")
    series = load_data(config).series[0]
    assert series.reading is None and series.missing["interpolated"] == gaps


@pytest.mark.parametrize(("share", "runs"), [(0.05, True), (0.06, False)])
def test_the_tolerance_is_inclusive(tmp_path, share, runs):
    frame, gaps = _with_gaps(share, n=200)
    config = _config(_write(tmp_path, frame))
    if runs:
        assert load_data(config).series[0].missing["interpolated"] == gaps
    else:
        with pytest.raises(DataError, match=f"{gaps} missing"):
            load_data(config)
