"""Simulated monthly series with known seasonal structure, shared by the transform and
seasonal-ARIMA tests."""

import numpy as np
import pytest
from scipy import signal


def _airline_like(n=144, seed=0):
    """Monthly, trend and multiplicative seasonality: on the log scale an airline model
    ARIMA(0,1,1)(0,1,1)_12 (theta = -0.4, Theta = -0.6, sigma = 0.03) around a trend and a
    seasonal pattern, as Box & Jenkins fitted to the airline passengers."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    pattern = np.sin(2 * np.pi * t / 12) + 0.5 * np.cos(4 * np.pi * t / 12)
    ar = np.convolve([1.0, -1.0], np.r_[1.0, np.zeros(11), -1.0])
    ma = np.convolve([1.0, -0.4], np.r_[1.0, np.zeros(11), -0.6])
    noise = signal.lfilter(ma, ar, rng.normal(0, 0.03, n))
    return np.exp(np.log(110) + 0.01 * t + 0.15 * pattern + noise)


def _additive_like(n=144, seed=0):
    """Monthly, the same trend growth and seasonal swings of one size."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    pattern = np.sin(2 * np.pi * t / 12) + 0.5 * np.cos(4 * np.pi * t / 12)
    return 110 + 2.5 * t + 25 * pattern + rng.normal(0, 5, n)


@pytest.fixture(scope="session")
def airline_like():
    """:func:`_airline_like`: multiplicative seasonality, like the airline passengers."""
    return _airline_like


@pytest.fixture(scope="session")
def additive_like():
    """:func:`_additive_like`: seasonal swings of one size."""
    return _additive_like
