"""Dependence-aware two-sample tests, PSI with point masses, the stationarity pairs, the
warm-up detector, calendar flags and the prior-shift effect."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from casestudies.iid_checks import checks
from casestudies.iid_checks.burnin import detect_warmup, detect_warmups, parse_duration
from casestudies.iid_checks.data import calendar_columns, load_transactions, prepare_table
from casestudies.iid_checks.dependent import (
    block_permutations,
    dependence_length,
    dependent_two_sample,
)
from casestudies.iid_checks.drift import relative_rate_change


def _ar1(rng, n, phi):
    shocks = rng.normal(size=n) * np.sqrt(1 - phi**2)
    x = np.empty(n)
    x[0] = rng.normal()
    for t in range(1, n):
        x[t] = phi * x[t - 1] + shocks[t]
    return x


def test_block_ks_keeps_its_level_on_a_stationary_ar1_where_naive_ks_does_not():
    """Acceptance: a stationary AR(1) (phi = 0.9) split in halves is flagged at most 10 % of
    the time over 200 replicates by the block-permutation KS; the naive KS flags far more."""
    block, naive = 0, 0
    for replicate in range(200):
        rng = np.random.default_rng(replicate)
        x = _ar1(rng, 400, 0.9)
        result = dependent_two_sample(x, np.arange(400) >= 200, discrete=False,
                                      permutations=199, rng=rng)
        block += result.p_values["Kolmogorov-Smirnov"] < 0.05
        naive += result.naive_p_values["Kolmogorov-Smirnov"] < 0.05
    assert block / 200 <= 0.10
    assert naive / 200 >= 0.5


def test_block_ks_still_sees_a_level_shift():
    rng = np.random.default_rng(0)
    flagged = 0
    for _ in range(20):
        x = rng.normal(size=400) + 0.5 * (np.arange(400) >= 200)
        result = dependent_two_sample(x, np.arange(400) >= 200, discrete=False,
                                      permutations=99, rng=rng)
        flagged += result.p_values["Kolmogorov-Smirnov"] < 0.05
    assert flagged >= 16


def test_statistics_from_one_sort_match_scipy():
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(size=300), 1)  # ties
    side = np.arange(300) >= 170
    result = dependent_two_sample(x, side, discrete=False, permutations=0, rng=rng, block=1)
    a, b = x[~side], x[side]
    assert result.statistics["Kolmogorov-Smirnov"] == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert result.statistics["Wasserstein"] == pytest.approx(
        stats.wasserstein_distance(a, b) / np.std(x))
    assert result.statistics["PSI"] == pytest.approx(checks.psi(a, b).statistic)


def test_chi_square_of_the_block_test_matches_the_plain_one():
    levels = np.array(["a", "b", "c"])[np.random.default_rng(2).integers(0, 3, 200)]
    side = np.arange(200) >= 100
    result = dependent_two_sample(levels, side, discrete=True, permutations=0,
                                  rng=np.random.default_rng(0), block=1)
    plain = checks.chi_square_test(levels[~side], levels[side])
    assert result.statistics["chi-square"] == pytest.approx(plain.statistic)
    assert result.naive_p_values["chi-square"] == pytest.approx(plain.p_value)


def test_block_permutations_move_whole_blocks():
    sigma = block_permutations(10, 3, 5, np.random.default_rng(0))
    for row in sigma:
        assert sorted(row) == list(range(10))
        starts = [i for i in range(10) if i == 0 or row[i] != row[i - 1] + 1]
        assert all(row[s] % 3 == 0 for s in starts)  # every run starts at a block start


def test_dependence_length_of_white_noise_and_ar1():
    rng = np.random.default_rng(3)
    assert dependence_length(rng.normal(size=5000)) <= 2
    # 1 + 2 sum 0.9^k = 19 for phi = 0.9; the truncated estimate is a bit shorter.
    assert 10 <= dependence_length(_ar1(rng, 5000, 0.9)) <= 25


def test_psi_sees_a_zero_share_move_from_93_to_77_percent():
    """Acceptance: with over 90 % zeros every decile edge is zero; the point mass gets its own
    bin and PSI sees the move."""
    rng = np.random.default_rng(4)
    early = np.where(rng.random(20_000) < 0.93, 0.0, rng.exponential(size=20_000))
    late = np.where(rng.random(20_000) < 0.77, 0.0, rng.exponential(size=20_000))
    assert checks.psi(early, late).statistic > 0.1
    assert checks.psi(early, early[::-1].copy()).statistic < 0.01


def test_psi_bins_put_point_masses_apart():
    values = np.concatenate([np.zeros(60), np.arange(1.0, 41.0)])
    atoms, edges = checks.psi_bins(values, 10)
    assert list(atoms) == [0.0]
    assert len(edges) == 8  # nine bins for the 40 other values
    codes = checks.psi_codes(values, atoms, edges)
    assert np.all(codes[:60] == 0) and np.all(codes[60:] >= 1)
    assert np.bincount(codes[60:]).max() <= 6


def test_stationarity_pairs_share_their_terms_and_see_a_trend():
    rng = np.random.default_rng(5)
    n = 1000
    trend = np.linspace(0, 3, n) + rng.normal(size=n)
    result = checks.stationarity(trend)
    assert result.level.terms == "c" and result.trend.terms == "ct"
    assert result.level.reading != "stationary"
    assert result.trend.reading == "stationary"
    assert result.reading.startswith("trend-stationary")
    noise = checks.stationarity(rng.normal(size=n))
    assert noise.reading == "stationary" and noise.share < 0.02


def test_segment_share_by_hand():
    x = np.r_[np.zeros(50), np.ones(50)]
    # Ten segments: five of mean 0, five of mean 1; all the variance is between them.
    assert checks.segment_share(x) == pytest.approx(1.0)
    rng = np.random.default_rng(6)
    shift = rng.normal(size=4000) + np.where(np.arange(4000) < 2000, 0.0, 1.0)
    assert checks.segment_share(shift) == pytest.approx(0.25 / 1.25, abs=0.02)


def test_warmup_of_the_simulated_rolling_windows_is_detected_and_ends_near_its_window():
    """The simulator's 30-day windows with a 7-day label delay fill in 30 (customer) and 37
    (terminal) days: the detected burn-in lies near that."""
    frame = load_transactions(600, 800, 90, 0)
    table = prepare_table(frame, name="t", target="is_fraud", time="timestamp",
                          group="customer_id")
    warmups = detect_warmups(table.frame, table.times,
                             [c for c in table.numeric if c not in table.calendar])
    by_column = {w.column: w for w in warmups}
    assert "terminal_nb_tx_30d" in by_column and "customer_nb_tx_30d" in by_column
    assert 30 <= by_column["terminal_nb_tx_30d"].end <= 42
    assert 24 <= by_column["customer_nb_tx_30d"].end <= 34
    assert "amount" not in by_column
    after = table.since(warmups[0].end)
    late = detect_warmups(after.frame, after.times, ["terminal_nb_tx_30d",
                                                      "customer_nb_tx_30d"])
    assert late == []  # after the burn-in, no warm-up is left


def test_no_warmup_on_noise_or_a_late_trend():
    rng = np.random.default_rng(7)
    times = np.arange(5000) / 50.0
    assert detect_warmup(times, rng.normal(size=5000)) is None
    trend = np.linspace(0, 5, 5000) + rng.normal(size=5000)
    assert detect_warmup(times, trend) is None  # still moving in the second half: drift


def test_calendar_flags_are_found_and_random_flags_are_not():
    stamps = pd.date_range("2024-01-01", periods=24 * 7 * 16, freq="h")
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"weekend": (stamps.day_of_week >= 5).astype(int),
                          "night": (stamps.hour < 6).astype(int),
                          "coin": rng.integers(0, 2, len(stamps)),
                          "x": rng.normal(size=len(stamps))})
    assert calendar_columns(frame, list(frame), pd.DatetimeIndex(stamps)) == [
        "weekend", "night"]
    assert calendar_columns(frame, list(frame), None) == []


@pytest.mark.parametrize(("text", "unit", "value"), [
    ("37D", "days", 37.0), ("12h", "days", 0.5), ("37 days", "days", 37.0),
    ("5", "days", 5.0), ("250", "rows", 250.0)])
def test_parse_duration(text, unit, value):
    assert parse_duration(text, unit) == pytest.approx(value)


@pytest.mark.parametrize(("text", "unit"), [("37D", "rows"), ("soon", "days"), ("-1", "days")])
def test_parse_duration_refuses(text, unit):
    with pytest.raises(ValueError):
        parse_duration(text, unit)


def test_relative_rate_change_by_hand():
    y = np.r_[np.zeros(90), np.ones(10), np.zeros(85), np.ones(15)]
    side = np.arange(200) >= 100
    change = relative_rate_change(y, side, 200, np.random.default_rng(0), blocks=10)
    assert change.value == pytest.approx(0.15 / 0.10 - 1)
    assert change.low <= change.value <= change.high


def test_block_labels_are_the_labels_of_the_block_permutations():
    from casestudies.iid_checks.dependent import block_labels, permuted_labels

    side = np.random.default_rng(9).random(23) < 0.4
    sigma = block_permutations(23, 4, 6, np.random.default_rng(5))
    fast = block_labels(side, 4, 6, np.random.default_rng(5))
    np.testing.assert_array_equal(fast, permuted_labels(side, sigma))


def test_detectable_effect_follows_n_and_dependence():
    """The minimum detectable KS distance is about 1.36 sqrt(2/m) for independent halves of m
    rows (Smirnov's 5 % critical value), and larger for dependent rows (fewer effective
    rows)."""
    rng = np.random.default_rng(10)
    side = np.arange(800) >= 400
    iid = dependent_two_sample(rng.normal(size=800), side, discrete=False, permutations=499,
                               rng=rng, block=1)
    assert iid.critical["Kolmogorov-Smirnov"] == pytest.approx(1.358 * np.sqrt(2 / 400),
                                                                rel=0.15)
    dependent = dependent_two_sample(_ar1(rng, 800, 0.9), side, discrete=False,
                                     permutations=499, rng=rng)
    assert dependent.critical["Kolmogorov-Smirnov"] > 2 * iid.critical["Kolmogorov-Smirnov"]
