"""The block bootstrap over forecast origins, coverage by horizon band, joint coverage and the
paired comparison of methods, on constructed data with a known answer."""

import numpy as np
import pytest

from casestudies.forecasting import evaluation
from casestudies.forecasting.metrics import MethodForecast
from casestudies.stats import binomial_band, wilson_interval


def test_block_length_is_the_number_of_overlapping_windows():
    assert evaluation.block_length(100, 10, 60) == 10
    assert evaluation.block_length(100, 4, 60) == 25
    assert evaluation.block_length(100, 1, 30) == 30      # never longer than the origins
    assert evaluation.block_length(5, 10, 30) == 1


def test_block_indices_are_runs_of_consecutive_origins():
    index = evaluation.block_indices(20, 5, 50, np.random.default_rng(0))
    assert index.shape == (50, 20)
    steps = np.diff(index, axis=1) % 20
    # Within a block the positions advance by one (circularly).
    assert np.all(steps.reshape(50, -1)[:, [0, 1, 2, 3]] == 1)


def _ar1_hits(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Hit indicators whose misses come in long runs: a latent AR(1) above its 5% quantile."""
    x = np.empty(n)
    x[0] = rng.standard_normal()
    for t in range(1, n):
        x[t] = phi * x[t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal()
    return (x > -1.645).astype(float)


def test_block_bootstrap_interval_is_wider_than_binomial_on_dependent_hits():
    rng = np.random.default_rng(3)
    n = 2000
    hits = _ar1_hits(n, 0.95, rng)
    block = 100
    resampler = evaluation.OriginResampler.build(n, block, rng)
    estimate = resampler.mean(hits)
    binomial = wilson_interval(int(hits.sum()), n)
    band = binomial_band(0.95, n)
    assert estimate.high - estimate.low > 1.5 * (binomial[1] - binomial[0])
    assert estimate.high - estimate.low > 1.5 * float(band[1] - band[0])


def test_block_bootstrap_matches_binomial_on_independent_hits():
    # The control: without dependence the two widths agree (within resampling noise).
    rng = np.random.default_rng(4)
    n = 400
    hits = (rng.random(n) < 0.9).astype(float)
    estimate = evaluation.OriginResampler.build(n, 1, rng).mean(hits)
    low, high = wilson_interval(int(hits.sum()), n)
    assert estimate.high - estimate.low == pytest.approx(high - low, rel=0.25)


def test_block_bootstrap_interval_covers_the_true_rate_on_dependent_hits():
    # Over repeated AR(1) series, the block interval holds the true 95% rate about as often as
    # it claims; the naive binomial interval misses far more often.
    rng = np.random.default_rng(5)
    block_hits = wilson_hits = 0
    trials = 60
    for _ in range(trials):
        hits = _ar1_hits(300, 0.9, rng)
        estimate = evaluation.OriginResampler.build(300, 30, rng, resamples=500).mean(hits)
        block_hits += estimate.low <= 0.95 <= estimate.high
        low, high = wilson_interval(int(hits.sum()), 300)
        wilson_hits += low <= 0.95 <= high
    assert block_hits / trials > 0.8
    assert wilson_hits < block_hits


def test_horizon_bands_clip_to_the_horizon():
    assert [b[0] for b in evaluation.horizon_bands(100)] == ["h 1–10", "h 11–50", "h 51–100"]
    assert evaluation.horizon_bands(12) == [("h 1–10", 1, 10), ("h 11–12", 11, 12)]
    assert evaluation.horizon_bands(8) == [("h 1–8", 1, 8)]
    assert evaluation.horizon_bands(300)[-1] == ("h 51–300", 51, 300)


def _forecast(key, lower, upper, family="LSTM"):
    point = (lower + upper) / 2
    return MethodForecast(key, key, family, point, {0.95: lower}, {0.95: upper})


def test_comparison_pairs_methods_by_origin_and_counts_whole_paths():
    n, h = 12, 4
    actual = np.zeros((n, h))
    actual[0, 2] = 1.5                  # one miss of the narrow band only, at origin 0
    narrow = _forecast("narrow", -np.ones((n, h)), np.ones((n, h)))
    wide = _forecast("wide", -2 * np.ones((n, h)), 2 * np.ones((n, h)))
    truth = _forecast("truth", -np.ones((n, h)), np.ones((n, h)), family="truth")
    records = [evaluation.origin_record(f, actual) for f in (narrow, wide, truth)]
    resampler = evaluation.OriginResampler.build(n, 3, np.random.default_rng(0))
    rows = {r["key"]: r for r in evaluation.compare_methods(records, resampler, 1.0, 0.95,
                                                            "narrow", "truth")}
    assert rows["narrow"]["coverage"] == pytest.approx(1 - 1 / (n * h))
    assert rows["narrow"]["joint coverage"] == pytest.approx(1 - 1 / n)
    assert rows["wide"]["joint coverage"] == pytest.approx(1.0)
    assert rows["wide"]["width ÷ true"] == pytest.approx(2.0)
    assert rows["narrow"]["MSIS excess"] == pytest.approx(0.0)
    # The miss costs the narrow band (2 / 0.05) * 0.5 at one of n * h pairs.
    narrow_score = 2 + (2 / 0.05) * 0.5 / (n * h)
    assert rows["narrow"]["MSIS"] == pytest.approx(narrow_score)
    assert rows["wide"]["MSIS excess"] == pytest.approx(4 / narrow_score - 1)
    assert rows["narrow"]["coverage minus true"] == pytest.approx(0.0)
    bands = evaluation.coverage_by_band(records, resampler, 0.95, h)
    assert bands[0]["h 1–4"] == pytest.approx(1 - 1 / (n * h))
