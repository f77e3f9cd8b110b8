"""Verdict rules on both sides of their threshold, and the independent random streams."""

import math

import numpy as np

from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate
from casestudies.verdicts import interval_above, interval_below, interval_within, point_above


def test_interval_above_holds_fails_and_is_undecided():
    rule = "difference above 0"
    assert interval_above("d", Estimate(0.2, 0.1, 0.3), 0.0, rule=rule).holds is True
    assert interval_above("d", Estimate(-0.2, -0.3, -0.1), 0.0, rule=rule).holds is False
    straddling = interval_above("d", Estimate(0.05, -0.1, 0.2), 0.0, rule=rule)
    assert straddling.holds is None and straddling.state == "undecided"
    missing = interval_above("d", Estimate(0.05, math.nan, math.nan), 0.0, rule=rule)
    assert missing.holds is None


def test_interval_below_mirrors_above():
    rule = "ratio below 1"
    assert interval_below("r", Estimate(0.8, 0.7, 0.9), 1.0, rule=rule).holds is True
    assert interval_below("r", Estimate(1.2, 1.1, 1.3), 1.0, rule=rule).holds is False
    assert interval_below("r", Estimate(1.0, 0.9, 1.1), 1.0, rule=rule).holds is None


def test_interval_within_band():
    rule = "O/E consistent with 0.9 to 1.1"
    assert interval_within("c", Estimate(1.0, 0.95, 1.2), 0.9, 1.1, rule=rule).holds is True
    assert interval_within("c", Estimate(1.3, 1.2, 1.4), 0.9, 1.1, rule=rule).holds is False
    assert interval_within("c", Estimate(0.5, 0.4, 0.85), 0.9, 1.1, rule=rule).holds is False


def test_point_verdict_and_description():
    verdict = point_above("many", 12.0, 10.0, rule="more than 10 islands")
    assert verdict.holds is True
    assert point_above("many", 8.0, 10.0, rule="").holds is False
    text = interval_above("d", Estimate(0.2, 0.1, 0.3), 0.0, rule="above 0",
                          unit="customers").describe()
    assert text.startswith("d: yes") and "0.1 to 0.3" in text and "customers" in text


def test_streams_are_reproducible_and_independent_of_other_names():
    first = stream(3, "forecasting", "arma").normal(size=5)
    again = stream(3, "forecasting", "arma").normal(size=5)
    other = stream(3, "forecasting", "co2").normal(size=5)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first, stream(4, "forecasting", "arma").normal(size=5))
    assert stream_seed(3, "lstm") == stream_seed(3, "lstm") != stream_seed(3, "ensemble")
    assert 0 <= stream_seed(2**32 - 1, "x") < 2**31
