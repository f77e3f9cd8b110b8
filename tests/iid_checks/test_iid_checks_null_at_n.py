"""Each check's false-alarm rate and detectable effect at this n: the vectorised statistics
against the single-series checks and statsmodels, hand-checked counts, and the rules on both
sides of their thresholds."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import bds, kpss

from casestudies.iid_checks import checks
from casestudies.iid_checks import null_at_n as at_n
from casestudies.iid_checks import verdicts as rules
from casestudies.iid_checks.audit import (
    TOO_FEW_ROWS,
    VERDICTS,
    _group_anova,
    adjust,
    column_verdicts,
    series_rows,
)
from casestudies.stats import wilson_interval


def _orders(n: int, count: int, seed: int = 0) -> np.ndarray:
    return np.argsort(np.random.default_rng(seed).random((count, n)), axis=1)


def test_vectorised_statistics_equal_the_checks_on_each_order():
    """Every row of the permutation matrix gives the p-value and effect of the single-series
    check on that order (ties, a binary series and unequal groups included)."""
    rng = np.random.default_rng(1)
    heavy = rng.standard_t(3, 240)
    tied = np.round(heavy)
    binary = (rng.random(240) < 0.3).astype(float)
    groups = rng.integers(0, 7, 240)
    orders = _orders(240, 3)
    for x in (heavy, tied, binary):
        X = x[orders]
        lb_p, lb_effect = at_n.ljung_box_rows(X, checks.ljung_box_lags(240))
        runs_p, runs_effect = at_n.runs_rows(X)
        anova_p, icc = at_n.anova_rows(X, groups)
        dw_p, rho = at_n.durbin_watson_rows(X)
        for i, series in enumerate(X):
            for (p, effect), single in (
                    ((lb_p[i], lb_effect[i]), checks.ljung_box(series)),
                    ((runs_p[i], runs_effect[i]), checks.runs_test(series)),
                    ((anova_p[i], icc[i]), _group_anova(series, groups)),
                    ((dw_p[i], rho[i]), checks.durbin_watson_test(series))):
                assert p == pytest.approx(single.p_value, rel=1e-9, abs=1e-12)
                assert effect == pytest.approx(single.effect, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n", [40, 301])
def test_bds_of_each_order_equals_statsmodels(n):
    """The order-free parts of BDS computed once and C_2 counted on ranks give statsmodels'
    W on every reordered series, tied values included."""
    x = np.round(np.random.default_rng(2).standard_t(3, n), 1)
    orders = _orders(n, 4, seed=3)
    p_values, effects = at_n.bds_rows(x, orders)
    for order, p, effect in zip(orders, p_values, effects, strict=True):
        w, reference_p = bds(x[order], max_dim=2, distance=checks.BDS_DISTANCE)
        assert effect * np.sqrt(n) == pytest.approx(float(w), rel=1e-9)
        assert p == pytest.approx(float(reference_p), rel=1e-9)


def test_close_pair_counts_by_hand():
    """Values 0, 0.1, 5, 5.1 with pairs close within 1: in their own order only each position
    with itself is close at two consecutive positions (3 pairs of the first three positions);
    in the order 0, 5, 0.1, 5.1 positions 0 and 2 are too, in both orders of the pair: 5."""
    x = np.array([0.0, 0.1, 5.0, 5.1])  # already sorted: rank = index
    low, high = np.array([0, 0, 2, 2]), np.array([2, 2, 4, 4])
    close = np.abs(x[:, None] - x) < 1
    assert np.array_equal(high - low, close.sum(axis=1))
    counts = at_n.close_pair_counts(np.array([[0, 1, 2, 3], [0, 2, 1, 3]]), low, high)
    assert counts.tolist() == [3, 5]


def test_kpss_rows_equal_statsmodels():
    """KPSS with a constant and automatic bandwidth, one FFT per row, gives statsmodels'
    p-value on stationary, persistent and trending series."""
    rng = np.random.default_rng(4)
    series = np.vstack([at_n.stationary_ar1(phi, 2, 400, rng) for phi in (0.0, 0.6, 0.97)])
    series[-1] += np.linspace(0, 3, 400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)
        reference = [kpss(s, regression="c", nlags="auto")[1] for s in series]
    assert at_n.kpss_rows(series) == pytest.approx(reference, rel=1e-9)


def test_summarise_by_hand():
    """Two of four p-values below 0.05: rate 1/2 with the Wilson interval of 2 in 4; the
    detectable effect is the 0.95 quantile of the absolute effects."""
    result = at_n.summarise(np.array([0.01, 0.2, 0.04, 0.5]), np.array([-0.4, 0.1, 0.2, 0.3]),
                            0.05, at_n.PERMUTED)
    assert (result.flagged, result.replicates, result.rate) == (2, 4, 0.5)
    assert (result.low, result.high) == wilson_interval(2, 4)
    # sorted |effects| 0.1, 0.2, 0.3, 0.4: position 0.95 * 3 = 2.85 -> 0.3 + 0.85 * 0.1
    assert result.detectable == pytest.approx(0.385)


def test_ljung_box_on_iid_gaussian_is_reliable():
    """The permutation false-alarm rate of Ljung-Box on IID Gaussian data lies inside the
    binomial band of alpha (its chi-square approximation holds at 500 rows)."""
    x = np.random.default_rng(5).standard_normal(500)
    result = at_n.order_nulls(x, None, 0.05, np.random.default_rng(6))["Ljung-Box"]
    low, high, unreliable, oversized = at_n.reliability(
        np.array([result.rate]), np.array([result.replicates]), 0.05)
    assert result.replicates == at_n.NULL_REPLICATES
    assert low[0] <= result.rate <= high[0]
    assert not unreliable[0] and not oversized[0]


def test_bds_on_a_short_iid_series_flags_too_often():
    """BDS's normal approximation is far off on 30 IID values: random orders are flagged far
    more often than alpha."""
    x = np.random.default_rng(7).standard_normal(30)
    result = at_n.bds_null(x, 0.05, np.random.default_rng(8), replicates=99)
    _, high, unreliable, oversized = at_n.reliability(
        np.array([result.rate]), np.array([result.replicates]), 0.05)
    assert result.rate > high[0]
    assert unreliable[0] and oversized[0]


def test_runs_on_a_heavily_tied_series_flags_too_rarely():
    """A series almost always equal to its median leaves the runs test a dozen values: its
    normal p-values almost never fall below alpha, so it is unreliable (conservative), but its
    flags would still count."""
    x = np.random.default_rng(9).choice([0.0, 1.0, 5.0], 300, p=[0.96, 0.02, 0.02])
    result = at_n.order_nulls(x, None, 0.05, np.random.default_rng(10))["runs"]
    low, _, unreliable, oversized = at_n.reliability(
        np.array([result.rate]), np.array([result.replicates]), 0.05)
    assert result.rate < low[0]
    assert unreliable[0] and not oversized[0]


def test_short_series_have_a_large_detectable_effect():
    """At 60 rows chance alone gives Ljung-Box's max |ACF| above its material 0.1 one time in
    twenty; at 5,000 rows it stays far below."""
    rng = np.random.default_rng(11)
    short = at_n.order_nulls(rng.standard_normal(60), None, 0.05, rng)["Ljung-Box"]
    long = at_n.order_nulls(rng.standard_normal(5000), None, 0.05, rng)["Ljung-Box"]
    assert short.detectable > 0.1 > long.detectable


def test_kpss_flags_persistent_stationary_series_too_often():
    """KPSS's false-alarm rate on a stationary AR(1) of coefficient 0.95 and 500 rows is far
    above alpha (its bandwidth is too short for that persistence); on white noise it is within
    the band."""
    rng = np.random.default_rng(12)
    persistent, phi = at_n.kpss_null(at_n.stationary_ar1(0.95, 1, 500, rng)[0], 2000, 0.05,
                                     np.random.default_rng(13))
    white, _ = at_n.kpss_null(rng.standard_normal(500), 2000, 0.05, np.random.default_rng(14))
    _, high, _, _ = at_n.reliability(np.array([0.0]), np.array([at_n.NULL_REPLICATES]), 0.05)
    assert phi > 0.85
    assert persistent.rate > high[0] >= white.rate


def test_persistence_is_clipped_below_one():
    trend = np.arange(5000.0)  # sample lag-1 autocorrelation about 1 - 1.5 / n
    assert at_n.persistence(trend) == at_n.MAX_PERSISTENCE
    assert at_n.persistence(-trend * (-1.0) ** np.arange(5000)) == -at_n.MAX_PERSISTENCE


def _frame(rate: float, detectable: float, p_value: float = 1e-8) -> pd.DataFrame:
    return pd.DataFrame({
        "assumption": "independent", "test": "BDS", "column": "y", "role": "target",
        "decides": True, "p_value": [p_value], "effect": [0.3], "threshold": [0.1],
        "detectable": [detectable], "false_alarm_rate": [rate],
        "null_replicates": [at_n.BDS_NULL_REPLICATES], "note": [""]})


def test_a_flag_of_a_test_that_flags_too_often_is_not_counted():
    counted = adjust(_frame(rate=0.05, detectable=0.05), 0.05, "bh")
    discounted = adjust(_frame(rate=0.5, detectable=0.05), 0.05, "bh")
    assert counted["verdict"].iloc[0] == VERDICTS[0]
    assert discounted["verdict"].iloc[0] == VERDICTS[3]
    assert column_verdicts(counted)["violated"].iloc[0]
    columns = column_verdicts(discounted)
    assert not columns["violated"].iloc[0] and columns["unreliable"].iloc[0]
    assert columns["not counted"].iloc[0] == "BDS"


def test_no_evidence_reads_too_few_rows_when_the_detectable_effect_is_material():
    seen = adjust(_frame(rate=0.05, detectable=0.05, p_value=0.5), 0.05, "bh")
    unseen = adjust(_frame(rate=0.05, detectable=0.2, p_value=0.5), 0.05, "bh")
    assert seen["reading"].iloc[0] == VERDICTS[2]
    assert unseen["reading"].iloc[0] == TOO_FEW_ROWS
    assert rules.too_few_rows_verdict(seen).holds is False
    assert rules.too_few_rows_verdict(unseen).holds is True
    assert rules.unreliable_checks_verdict(seen).holds is False
    assert rules.unreliable_checks_verdict(
        adjust(_frame(rate=0.5, detectable=0.05), 0.05, "bh")).holds is True


def test_series_rows_carry_the_null_from_their_own_streams():
    """Every order-based row of a series gets a false-alarm rate; the same seed gives the same
    numbers, and another column name another stream."""
    x = np.random.default_rng(15).standard_normal(200)
    groups = np.repeat(np.arange(20), 10)
    nulls = at_n.NullStreams(seed=0, part="test", alpha=0.05)
    rows = pd.DataFrame(series_rows(x, "x", "target", groups, 2000, nulls))
    again = pd.DataFrame(series_rows(x, "x", "target", groups, 2000, nulls))
    other = pd.DataFrame(series_rows(x, "z", "target", groups, 2000, nulls))
    assert rows["test"].tolist() == ["Ljung-Box", "runs", "BDS", "ANOVA across groups"]
    assert rows["false_alarm_rate"].notna().all()
    assert rows["null_replicates"].tolist() == [at_n.NULL_REPLICATES] * 2 + [
        at_n.BDS_NULL_REPLICATES, at_n.NULL_REPLICATES]
    assert rows["false_alarm_rate"].tolist() == again["false_alarm_rate"].tolist()
    assert rows["detectable"].tolist() != other["detectable"].tolist()


def test_row_helpers_equal_the_single_series_functions():
    rng = np.random.default_rng(16)
    X = at_n.stationary_ar1(0.8, 3, 1003, rng)
    for row, means, share in zip(X, at_n.block_mean_rows(X, 100), at_n.segment_share_rows(X),
                                 strict=True):
        assert means == pytest.approx(checks.block_means(row, 100), rel=1e-12)
        assert share == pytest.approx(checks.segment_share(row), rel=1e-9)


def test_a_series_longer_than_the_cap_is_simulated_on_a_subsample_and_rescaled(monkeypatch):
    """Beyond MAX_NULL_ROWS the null runs on m values and the detectable effect is scaled by
    sqrt(m / n): it then agrees with the null simulated on the whole series (effects shrink as
    1 / sqrt(n) under the null); the ANOVA is left out (its groups would shrink)."""
    rng = np.random.default_rng(7)
    n, m = 8_000, 2_000
    x = rng.standard_t(5, n)
    groups = rng.integers(0, 100, n)
    whole = at_n.order_nulls(x, groups, 0.05, np.random.default_rng(1), replicates=199)
    monkeypatch.setattr(at_n, "MAX_NULL_ROWS", m)
    capped = at_n.order_nulls(x, groups, 0.05, np.random.default_rng(1), replicates=199)
    assert set(capped) == {"Ljung-Box", "runs"} and "ANOVA across groups" in whole
    for test in capped:
        assert capped[test].detectable == pytest.approx(whole[test].detectable, rel=0.15)
        assert "sqrt(2,000 / n)" in capped[test].source
        assert 0.01 <= capped[test].rate <= 0.10


def test_the_summary_says_which_series_were_simulated_on_a_subsample(monkeypatch):
    """Past the cap the report's words name the subsample and give the ANOVA its own reason,
    not the model-refit one of the adversarial AUC and near duplicates."""
    from casestudies.iid_checks.audit import run_audit
    from casestudies.iid_checks.config import IIDConfig
    from casestudies.iid_checks.data import gallery_table

    config = IIDConfig(quick=True, permutations=19, bootstrap=20, max_energy_rows=100)
    table = gallery_table("grouped", 300, 0, config.max_levels)
    before = at_n.summary(run_audit(table, config, 0, part="cap").checks, 0.05)
    monkeypatch.setattr(at_n, "MAX_NULL_ROWS", 200)
    after = at_n.summary(run_audit(table, config, 0, part="cap").checks, 0.05)
    assert before["subsampled"] == 0 and not before["anova_capped"]
    assert after["subsampled"] > 0 and after["anova_capped"]
    assert "ANOVA across groups" not in after["not_simulated"]
    assert after["max_rows"] == 200
