"""--freq is checked before any work: a step forward in time, and a grid the data can fill."""

import numpy as np
import pandas as pd
import pytest

from casestudies.errors import ConfigError, DataError
from casestudies.forecasting.config import ForecastingConfig, parse_frequency
from casestudies.forecasting.data import check_grid_length


def _options(freq):
    return dict(data="series.csv", value="y", time="t", freq=freq)


@pytest.mark.parametrize(("freq", "message"), [
    ("0D", "must step forward in time"),
    ("-1D", "must step forward in time"),
    ("xyz", "is not a pandas frequency"),
])
def test_bad_frequencies_are_config_errors(freq, message):
    with pytest.raises(ConfigError, match=message):
        ForecastingConfig.from_options(**_options(freq))


@pytest.mark.parametrize("season", ["nan", "inf", "-3"])
def test_season_must_be_a_finite_period(season):
    with pytest.raises(ConfigError, match="--season"):
        ForecastingConfig.from_options(season=season)


def test_a_grid_mostly_missing_is_refused_before_it_is_built():
    index = pd.DatetimeIndex(pd.date_range("2020-01-01", periods=400, freq="3D"))
    # 'ms' (milliseconds) for 'MS' (month start): about 1e11 periods for 400 rows.
    with pytest.raises(DataError, match="MS is month start, ms is milliseconds"):
        check_grid_length(index, parse_frequency("ms"), "ms")
    with pytest.raises(DataError, match="periods between the first and last"):
        check_grid_length(index, parse_frequency("D"), "D")  # 3 periods per row: 2/3 missing
    check_grid_length(index, parse_frequency("3D"), "3D")
    # A few gaps are what interpolation is for: 400 days with 40 rows missing passes.
    gappy = pd.DatetimeIndex(np.delete(pd.date_range("2020-01-01", periods=400), range(0, 400, 10)))
    check_grid_length(gappy, parse_frequency("D"), "D")
