"""Every statistic of the IID audit against a reference library or a hand computation."""

import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.sandbox.stats.runs import runstest_1samp
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.stattools import durbin_watson
from statsmodels.tsa.stattools import adfuller, bds, kpss

from casestudies.iid_checks import checks
from casestudies.iid_checks.audit import _group_anova
from casestudies.iid_checks.data import _ar1


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_ljung_box_matches_statsmodels(rng):
    for x in (rng.normal(size=300), _ar1(rng, 300, 1, 0.5)[:, 0]):
        reference = acorr_ljungbox(x, lags=[10], return_df=True)
        ours = checks.ljung_box(x, 10)
        assert ours.statistic == pytest.approx(reference["lb_stat"].iloc[0], rel=1e-8)
        assert ours.p_value == pytest.approx(reference["lb_pvalue"].iloc[0], rel=1e-6, abs=1e-300)


def test_ljung_box_lag_rule():
    assert checks.ljung_box_lags(1000) == 10
    assert checks.ljung_box_lags(30) == 6


def test_runs_test_by_hand():
    # above the median 4.5: T F T F T F T F -> n1 = n2 = 4, R = 8
    x = np.array([5, 1, 6, 2, 7, 3, 8, 4.0])
    expected = 2 * 4 * 4 / 8 + 1
    variance = 2 * 4 * 4 * (2 * 4 * 4 - 8) / (8**2 * 7)
    z = (8 - expected) / np.sqrt(variance)
    result = checks.runs_test(x)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert result.effect == pytest.approx(8 / expected - 1)


def test_runs_test_matches_statsmodels_without_ties(rng):
    x = rng.normal(size=200)  # even length: no value equals the median
    z, p = runstest_1samp(x, cutoff="median", correction=False)
    result = checks.runs_test(x)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(p)


def test_runs_test_on_binary_series_uses_its_two_values():
    x = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0.0])
    result = checks.runs_test(x)
    n1, n2, runs = 6, 6, 7
    expected = 2 * n1 * n2 / 12 + 1
    assert result.effect == pytest.approx(runs / expected - 1)


def test_durbin_watson_matches_statsmodels_and_hand(rng):
    e = rng.normal(size=50)
    hand = np.sum(np.diff(e) ** 2) / np.sum(e**2)
    result = checks.durbin_watson_test(e)
    assert result.statistic == pytest.approx(durbin_watson(e))
    assert result.statistic == pytest.approx(hand)
    assert result.effect == pytest.approx(1 - hand / 2)
    z = np.sqrt(50) * (1 - hand / 2)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_bds_matches_statsmodels(rng):
    x = rng.normal(size=300)
    statistic, p_value = bds(x, max_dim=2)
    result = checks.bds_test(x)
    assert result.statistic == pytest.approx(float(np.atleast_1d(statistic)[0]))
    assert result.p_value == pytest.approx(float(np.atleast_1d(p_value)[0]))
    assert result.effect == pytest.approx(result.statistic / np.sqrt(300))


def test_block_means_by_hand():
    np.testing.assert_allclose(checks.block_means(np.arange(6.0), 3), [0.5, 2.5, 4.5])
    np.testing.assert_allclose(checks.block_means(np.arange(3.0), 5), [0, 1, 2])


def test_adf_kpss_match_statsmodels_and_read_four_ways(rng):
    walk = np.cumsum(rng.normal(size=400))
    noise = rng.normal(size=400)
    for x in (walk, noise):
        result = checks.adf_kpss(x)
        reference = adfuller(x, autolag="AIC", result_object=True)
        assert result.adf_statistic == pytest.approx(reference.statistic)
        assert result.adf_p_value == pytest.approx(reference.pvalue)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # p-value outside the lookup table
            k = kpss(x, regression="c", nlags="auto", result_object=False)
        assert result.kpss_statistic == pytest.approx(k[0])
        assert result.kpss_p_value == pytest.approx(k[1])
    assert checks.adf_kpss(walk).reading == "non-stationary (unit root)"
    assert checks.adf_kpss(noise).reading == "stationary"
    assert checks.adf_kpss(noise).persistence == pytest.approx(
        1 + adfuller(noise, autolag="AIC", regresults=True, result_object=True
                     ).resstore.resols.params[0])


def test_ks_and_anderson_match_scipy(rng):
    a, b = rng.normal(size=80), rng.normal(0.5, 1, size=90)
    ks = checks.ks_test(a, b)
    assert ks.statistic == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert ks.p_value == pytest.approx(stats.ks_2samp(a, b).pvalue)
    ad = checks.anderson_test(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's p-value floor
        reference = stats.anderson_ksamp([a, b], variant="midrank")
    assert ad.statistic == pytest.approx(reference.statistic)
    assert ad.p_value == pytest.approx(reference.pvalue)
    assert ad.effect == pytest.approx(stats.wasserstein_distance(a, b)
                                      / np.std(np.concatenate([a, b])))


def test_chi_square_and_cramers_v_by_hand():
    a = np.array(["x"] * 30 + ["y"] * 10)
    b = np.array(["x"] * 10 + ["y"] * 30)
    table = np.array([[30, 10], [10, 30]])
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = np.sum((table - expected) ** 2 / expected)
    result = checks.chi_square_test(a, b)
    assert result.statistic == pytest.approx(chi2)
    assert result.p_value == pytest.approx(stats.chi2.sf(chi2, 1))
    assert result.effect == pytest.approx(np.sqrt(chi2 / 80))


def test_psi_by_hand():
    expected = np.arange(100.0)  # deciles: ten bins of 10 rows
    actual = np.concatenate([np.full(30, 5.0), np.arange(10.0, 100.0, 90 / 70)[:70]])
    e = np.full(10, (10 + 0.5) / (100 + 5))
    counts = np.bincount(np.minimum((actual // 10).astype(int), 9), minlength=10)
    a = (counts + 0.5) / (counts.sum() + 5)
    hand = np.sum((a - e) * np.log(a / e))
    result = checks.psi(expected, actual)
    assert result.statistic == pytest.approx(hand)
    assert result.p_value == pytest.approx(stats.chi2.sf(hand / (1 / 100 + 1 / 100), 9))


def test_psi_smooths_empty_bins():
    result = checks.psi(np.arange(100.0), np.full(50, 3.0))  # nine empty bins
    assert np.isfinite(result.statistic) and result.statistic > 1


def test_energy_statistic_matches_scipy_in_one_dimension(rng):
    a, b = rng.normal(size=30), rng.normal(1, 1, size=20)
    pooled = np.concatenate([a, b])[:, None]
    distances = np.abs(pooled - pooled.T)
    first = np.arange(50) < 30
    energy, _ = checks.energy_statistics(distances, first)
    assert energy[0] == pytest.approx(stats.energy_distance(a, b) ** 2)


def test_energy_statistic_by_hand_in_two_dimensions():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    b = np.array([[0.0, 3.0], [4.0, 0.0]])
    cross = np.mean([np.linalg.norm(x - y) for x in a for y in b])
    within_a = np.mean([np.linalg.norm(x - y) for x in a for y in a])
    within_b = np.mean([np.linalg.norm(x - y) for x in b for y in b])
    result = checks.energy_test(a, b, permutations=19, random_state=0)
    assert result.statistic == pytest.approx(2 * cross - within_a - within_b)
    assert result.effect == pytest.approx(result.statistic / (2 * cross))


def test_energy_test_separates_shifted_samples(rng):
    same = checks.energy_test(rng.normal(size=(60, 2)), rng.normal(size=(60, 2)), 199, 0)
    shifted = checks.energy_test(rng.normal(size=(60, 2)), rng.normal(2, 1, size=(60, 2)),
                                 199, 0)
    assert shifted.p_value == pytest.approx(1 / 200)
    assert same.p_value > 0.01


def test_holm_and_bh_by_hand_and_against_statsmodels(rng):
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(checks.holm(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(checks.benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    many = rng.uniform(size=40) ** 3
    np.testing.assert_allclose(checks.holm(many), multipletests(many, method="holm")[1])
    np.testing.assert_allclose(checks.benjamini_hochberg(many),
                               multipletests(many, method="fdr_bh")[1])


def test_group_anova_matches_scipy_and_icc_by_hand():
    y = np.array([1.0, 2, 3, 4, 5, 6, 10, 11, 12])
    groups = np.repeat([0, 1, 2], 3)
    result = _group_anova(y, groups)
    reference = stats.f_oneway(y[:3], y[3:6], y[6:])
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    ms_between = 3 * np.sum((np.array([2.0, 5, 11]) - y.mean()) ** 2) / 2
    ms_within = 6 / 6  # each group's squared deviations sum to 2
    assert result.effect == pytest.approx((ms_between - ms_within)
                                          / (ms_between + 2 * ms_within))


def test_variance_of_the_mean_under_ar1_and_effective_sample_size(rng):
    # Var(mean) = sigma^2/n (1 + 2 sum_k (1 - k/n) rho_k) with rho_k = phi^k, checked by
    # simulation, and close to sigma^2 / n_eff with n_eff = n (1 - phi) / (1 + phi).
    n, phi = 400, 0.9
    k = np.arange(1, n)
    formula = (1 + 2 * np.sum((1 - k / n) * phi**k)) / n
    means = [_ar1(rng, n, 1, phi)[:, 0].mean() for _ in range(3000)]
    assert np.var(means) == pytest.approx(formula, rel=0.1)
    assert formula == pytest.approx((1 + phi) / ((1 - phi) * n), rel=0.1)


def test_acf_and_bartlett_band_by_hand(rng):
    from casestudies.iid_checks.audit import correlogram

    x = _ar1(rng, 200, 1, 0.5)[:, 0]
    gram = correlogram(x, "x", nlags=5)
    d = x - x.mean()
    rho = np.array([np.sum(d[k:] * d[:-k]) / np.sum(d**2) for k in range(1, 6)])
    np.testing.assert_allclose(gram.acf, rho, rtol=1e-10)
    band = 1.959964 * np.sqrt((1 + 2 * np.concatenate([[0], np.cumsum(rho**2)[:-1]])) / 200)
    np.testing.assert_allclose(gram.acf_high, band, rtol=1e-5)
    assert gram.white_noise_band == pytest.approx(1.96 / np.sqrt(200))


def test_auc_is_the_mann_whitney_u_over_n0_n1(rng):
    from sklearn.metrics import roc_auc_score

    scores, labels = rng.normal(size=300), rng.integers(0, 2, 300)
    u = stats.mannwhitneyu(scores[labels == 1], scores[labels == 0]).statistic
    n1, n0 = np.sum(labels == 1), np.sum(labels == 0)
    assert roc_auc_score(labels, scores) == pytest.approx(u / (n1 * n0))


def test_kpss_statistic_by_hand(rng):
    x = np.cumsum(rng.normal(size=300)) * 0.05 + rng.normal(size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, lags, _ = kpss(x, regression="c", nlags="auto", result_object=False)
    e = x - x.mean()
    n = len(e)
    long_run = np.sum(e**2) + 2 * sum((1 - k / (lags + 1)) * np.sum(e[k:] * e[:-k])
                                      for k in range(1, lags + 1))
    eta = np.sum(np.cumsum(e) ** 2) / (n**2 * long_run / n)
    assert checks.adf_kpss(x).kpss_statistic == pytest.approx(eta)


def test_energy_permutation_p_value_by_hand(rng):
    a, b = rng.normal(size=(15, 2)), rng.normal(0.3, 1, size=(12, 2))
    result = checks.energy_test(a, b, permutations=49, random_state=3)
    pooled = np.vstack([a, b])
    distances = np.linalg.norm(pooled[:, None, :] - pooled[None, :, :], axis=2)
    first = np.arange(27) < 15
    observed = checks.energy_statistics(distances, first)[0][0]
    replay = np.random.default_rng(3)  # the same relabellings as the test draws
    null = [checks.energy_statistics(distances, replay.permutation(first))[0][0]
            for _ in range(49)]
    exceed = sum(e >= observed - 1e-12 * abs(observed) for e in null)
    assert result.p_value == pytest.approx((1 + exceed) / (1 + 49))


def _readings(make, series: int = 30) -> dict[str, float]:
    """Share of each ADF/KPSS reading over ``series`` independent series from ``make(rng)``."""
    readings = [checks.adf_kpss(make(np.random.default_rng(seed)), 0.05).reading
                for seed in range(series)]
    return {r: readings.count(r) / series for r in set(readings)}


def test_stationarity_reading_of_series_whose_answer_is_known():
    n = 1000
    walk = _readings(lambda rng: np.cumsum(rng.normal(size=n)))
    assert walk.get(checks.READINGS[(False, True)], 0) >= 0.8  # unit root
    noise = _readings(lambda rng: rng.normal(size=n))
    assert noise.get(checks.READINGS[(True, False)], 0) >= 0.8  # stationary
    # A level shift of half an SD in white noise: no unit root, yet KPSS rejects stationarity,
    # so both reject. The reading must say "conflicting", not name a unit-root model.
    shift = _readings(lambda rng: rng.normal(size=n) + np.where(np.arange(n) < n // 2, 0, 0.5))
    conflicting = checks.READINGS[(True, True)]
    assert conflicting.startswith("conflicting")
    assert shift.get(conflicting, 0) >= 0.9
    # On a dozen points neither test has power: "too short to tell" is the commonest reading.
    short = _readings(lambda rng: rng.normal(size=12))
    assert max(short, key=short.get) == checks.READINGS[(False, False)]


def test_library_p_value_clipping_matches_the_stated_ranges(rng):
    a = rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        far = stats.anderson_ksamp([a, a + 5], variant="midrank").pvalue
        same = stats.anderson_ksamp([a, a.copy()], variant="midrank").pvalue
        walk_p = kpss(np.cumsum(rng.normal(size=500)), regression="c", nlags="auto")[1]
        noise_p = kpss(np.tile([1.0, -1.0], 250), regression="c", nlags="auto")[1]
    assert (far, same) == pytest.approx(checks.ANDERSON_P_RANGE)
    assert (walk_p, noise_p) == pytest.approx(checks.KPSS_P_RANGE)


def test_ljung_box_lag_rule_uses_its_constants():
    rows = checks.LJUNG_BOX_ROWS_PER_LAG
    assert checks.ljung_box_lags(3 * rows) == 3
    assert checks.ljung_box_lags(1000 * rows) == checks.LJUNG_BOX_MAX_LAGS


def test_bds_uses_the_stated_dimension_and_distance(rng):
    x = _ar1(rng, 300, 1, 0.3)[:, 0] ** 2
    statistic, _ = bds(x, max_dim=checks.BDS_DIMENSION,
                       epsilon=checks.BDS_DISTANCE * np.std(x, ddof=1))
    assert checks.bds_test(x).statistic == pytest.approx(float(np.atleast_1d(statistic)[-1]))


def test_durbin_watson_is_about_twice_one_minus_the_lag_one_correlation(rng):
    e = _ar1(rng, 2000, 1, 0.6)[:, 0]
    d = e - e.mean()
    rho1 = np.sum(d[1:] * d[:-1]) / np.sum(d**2)
    assert checks.durbin_watson_test(e).statistic == pytest.approx(2 * (1 - rho1), abs=0.01)


def test_psi_is_about_the_chi_square_form_for_small_shifts(rng):
    expected = rng.normal(size=20_000)
    actual = rng.normal(0.05, 1, size=20_000)
    edges = np.quantile(expected, np.linspace(0, 1, checks.PSI_BINS + 1))[1:-1]
    e = np.bincount(np.searchsorted(edges, expected, side="right")) / len(expected)
    a = np.bincount(np.searchsorted(edges, actual, side="right")) / len(actual)
    assert checks.psi(expected, actual).statistic == pytest.approx(
        np.sum((a - e) ** 2 / e), rel=0.05)


def test_bds_fails_on_balanced_iid_labels_so_series_rows_leave_it_out():
    """BDS on IID coin flips rejects far above 5 % (the reason for the rule); imbalanced labels
    and a three-valued series are the controls that stay near the nominal rate and keep BDS."""
    from casestudies.iid_checks import audit

    rng = np.random.default_rng(12)
    replicates, n = 80, 300

    def rejections(draw):
        return np.mean([checks.bds_test(draw()).p_value < 0.05 for _ in range(replicates)])

    assert rejections(lambda: rng.integers(0, 2, n).astype(float)) > 0.5
    assert rejections(lambda: rng.poisson(2.0, n).astype(float)) < 0.15

    def tests_of(x):
        return {row["test"] for row in audit.series_rows(x, "y", "target", None, 1000)}

    assert "BDS" not in tests_of(rng.integers(0, 2, n).astype(float))
    assert "BDS" in tests_of(rng.integers(0, 3, n).astype(float))
    assert "BDS" in tests_of(rng.normal(size=n))
    assert checks.BDS_MIN_DISTINCT == 3
