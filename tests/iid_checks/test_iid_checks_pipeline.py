"""The audit, the validation comparison and the size/power simulation: known truth, calibrated
sizes, determinism, and the report's numbers coming from the result."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from casestudies.cli import main
from casestudies.iid_checks import checks
from casestudies.iid_checks.audit import adjust, run_audit
from casestudies.iid_checks.config import IIDConfig
from casestudies.iid_checks.data import gallery_table, prepare_table
from casestudies.iid_checks.simulation import SIMULATED_TESTS, size_and_power
from casestudies.iid_checks.validation import compare_validation, model_seed
from casestudies.io import to_jsonable
from casestudies.report.numbers import unexplained_numbers
from casestudies.stats import binomial_band


@pytest.fixture(autouse=True)
def _one_thread():
    # As in the pipeline: small models on a shared machine are faster on one thread.
    with threadpool_limits(1):
        yield


QUICK = IIDConfig(quick=True, replicates=0, permutations=99, bootstrap=50, max_energy_rows=150,
                  gallery_rows=300)


def test_sizes_under_iid_are_within_binomial_error():
    replicates = 200
    # 200 rows as in the default report (BDS is oversized on shorter series)
    result = size_and_power(replicates, 200, 0.05, random_state=1, scenarios=("iid",))
    low, high = binomial_band(0.05, replicates, confidence=0.99)
    for test in SIMULATED_TESTS:
        rate = result.rate("iid", test)
        if test.startswith("ADF"):
            assert rate <= high  # its null is the violation: it rarely "flags" IID data
        elif test != "BDS":  # asymptotic: oversized below about 1,000 rows, tested below
            assert low <= rate <= high, (test, rate)


def test_bds_size_on_long_series():
    rng = np.random.default_rng(3)
    replicates = 200
    rate = np.mean([checks.bds_test(rng.normal(size=1000)).p_value < 0.05
                    for _ in range(replicates)])
    low, high = binomial_band(0.05, replicates, confidence=0.99)
    assert low <= rate <= high


def test_ljung_box_rejects_strong_ar1():
    result = size_and_power(40, 200, 0.05, random_state=2, scenarios=("ar1_strong",))
    assert result.rate("ar1_strong", "Ljung-Box") >= 0.95


def test_audit_finds_the_known_violations():
    found = {name: run_audit(gallery_table(name, 300, 0), QUICK, 0, adversarial=False)
             for name in ("iid", "ar1_strong", "mean_shift", "grouped", "duplicates")}
    assert not any(found["iid"].violated(a) for a in ("independent", "no leakage"))
    assert found["ar1_strong"].violated("independent")
    assert found["mean_shift"].violated("identically distributed")
    assert found["grouped"].violated("independent")
    assert found["duplicates"].violated("no leakage")
    exact = found["duplicates"].checks.set_index("test").loc["exact duplicates"]
    assert exact["effect"] > 0.05


def test_verdict_needs_significance_and_effect():
    frame = pd.DataFrame({
        "test": ["Ljung-Box", "Ljung-Box", "Ljung-Box", "PSI"],
        "p_value": [1e-10, 1e-10, 0.5, np.nan], "effect": [0.5, 0.01, 0.5, 0.3],
        "threshold": [0.1, 0.1, 0.1, 0.1], "note": ["", "", "", ""]})
    verdicts = adjust(frame, 0.05, "holm")["verdict"].tolist()
    assert verdicts == ["violation", "significant, small effect", "no evidence", "violation"]


def test_random_kfold_overstates_on_grouped_data():
    table = gallery_table("grouped", 600, 0)
    result = compare_validation(table, QUICK, 0)
    kfold, groups = result.scheme("random K-fold"), result.scheme("GroupKFold")
    assert kfold.optimism.value > 0.1
    assert abs(groups.optimism.value) < kfold.optimism.value
    for scheme in result.schemes:
        assert scheme.optimism.value == pytest.approx(scheme.score.value - result.holdout.value)
        assert scheme.score.low <= scheme.score.value <= scheme.score.high


def test_holdout_without_copies_on_duplicates():
    table = gallery_table("duplicates", 300, 0)
    result = compare_validation(table, QUICK, 0)
    assert result.removed_copies > 0
    assert "without the rows that copy" in result.reference
    assert result.scheme("TimeSeriesSplit") is None  # a split column, not time order


def test_simulation_is_deterministic():
    first = size_and_power(5, 100, 0.05, random_state=4, scenarios=("iid", "ar1_weak"))
    second = size_and_power(5, 100, 0.05, random_state=4, scenarios=("iid", "ar1_weak"))
    assert first.rates.equals(second.rates)


def test_audit_is_deterministic():
    table = gallery_table("ar1_weak", 300, 0)
    first = to_jsonable(run_audit(table, QUICK, 5))
    second = to_jsonable(run_audit(table, QUICK, 5))
    assert first == second


@pytest.mark.slow
def test_user_file_end_to_end(tmp_path, capsys):
    frame = gallery_table("grouped", 300, 0).frame.assign(
        when=np.arange(300), customer=np.arange(300) // 10)
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["iid_checks", "--data", str(path), "--time", "when", "--target", "y", "--group",
            "customer", "--out", str(out), "--quiet", "--quick", "--replicates", "0"]
    assert main(args) == 0
    payload = json.loads((out / "iid_checks.json").read_text())
    assert payload["result"]["table_name"] == "mine.csv"
    html = (out / "iid_checks.html").read_text()
    assert html.count("<svg") >= 3
    assert unexplained_numbers(html, payload) == []  # every number shown is in the JSON
    first = payload["result"]["audit"]["checks"]
    assert main(args) == 0
    assert json.loads((out / "iid_checks.json").read_text())["result"]["audit"]["checks"] == first


@pytest.mark.slow
def test_user_file_without_target_with_split_column(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "shop": rng.choice(["north", "south", "<script>"], n),
                          "flat": 3.0, "side": np.where(np.arange(n) < 150, "train", "test")})
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["iid_checks", "--data", str(path), "--split", "side", "--out", str(out),
                 "--quiet", "--quick", "--replicates", "0"]) == 0
    payload = json.loads((out / "iid_checks.json").read_text())
    result = payload["result"]
    assert result["validation"] is None and result["simulation"] is None
    assert result["comparison"] == "train vs test"
    assert any("'flat' is constant" in note for note in result["notes"])
    html = (out / "iid_checks.html").read_text()
    assert unexplained_numbers(html, payload) == []
    assert "<script>" not in html
    assert "the validation comparison is skipped" in html


def test_many_level_categorical_does_not_fake_drift():
    # Codes by first appearance would tell early rows from late ones; sorted codes do not.
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({"t": np.arange(n), "x": rng.normal(size=n),
                          "cat": [f"c{i}" for i in rng.integers(0, 400, n)]})
    table = prepare_table(frame, name="f", time="t")
    audit = run_audit(table, QUICK, 0)
    adversarial = audit.checks.set_index("test").loc["adversarial AUC"]
    assert adversarial["verdict"] != "violation"
    # Without groups, the AUC interval resamples blocks of consecutive rows, not single rows.
    assert audit.adversarial.clusters.endswith("blocks of consecutive rows")
    assert audit.adversarial.auc.low <= audit.adversarial.auc.value <= audit.adversarial.auc.high


def test_kfold_and_holdout_scores_by_hand():
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold

    table = gallery_table("iid", 300, 0)
    result = compare_validation(table, QUICK, 0)
    x = table.frame[table.features].to_numpy()
    y = table.frame["y"].to_numpy()
    n_dev = round(300 * (1 - QUICK.holdout))
    # Each scheme's model and folds have their own seed, named after the scheme.
    kfold_seed = model_seed(0, "data", "random K-fold")
    model = HistGradientBoostingRegressor(max_iter=result.iterations, random_state=kfold_seed)
    oof = np.empty(n_dev)
    for train, valid in KFold(QUICK.folds, shuffle=True, random_state=kfold_seed).split(
            x[:n_dev]):
        oof[valid] = model.fit(x[train], y[train]).predict(x[valid])
    kfold = result.scheme("random K-fold")
    assert kfold.score.value == pytest.approx(r2_score(y[:n_dev], oof))
    model.set_params(random_state=model_seed(0, "data", "hold-out"))
    holdout = model.fit(x[:n_dev], y[:n_dev]).predict(x[n_dev:])
    assert result.holdout.value == pytest.approx(r2_score(y[n_dev:], holdout))
    assert kfold.optimism.value == pytest.approx(r2_score(y[:n_dev], oof)
                                                 - r2_score(y[n_dev:], holdout))
    assert result.min_leaf == model.get_params()["min_samples_leaf"]


def test_near_duplicates_beyond_chance_by_hand():
    from casestudies.iid_checks.audit import NEAR_DENSITY_NEIGHBOURS, NEAR_TOLERANCE, leakage_rows

    rng = np.random.default_rng(5)
    n = 400
    values = rng.normal(size=(n, 2))
    values[300:340] = values[:40] + 0.001  # near copies of early rows among the late ones
    table = prepare_table(pd.DataFrame(values, columns=["a", "b"]), name="f")
    rows, notes = leakage_rows(table, rng, 10_000)
    near = next(r for r in rows if r["test"] == "near duplicates")
    z = (values - values.mean(axis=0)) / values.std(axis=0)
    early, late = z[:200], z[200:]
    distances = np.sort(np.linalg.norm(late[:, None] - early[None], axis=2), axis=1)
    radius = NEAR_TOLERANCE * np.sqrt(2)
    k = NEAR_DENSITY_NEIGHBOURS
    chance = 1 - np.exp(-k * (radius / distances[:, k]) ** 2)
    found = np.sum(distances[:, 0] < radius)
    assert near["statistic"] == found >= 40
    assert near["effect"] == pytest.approx((found - chance.sum()) / 200)
    z = (found - chance.sum()) / np.sqrt(np.sum(chance * (1 - chance)))
    assert near["p_value"] == pytest.approx(stats.norm.sf(z))
    assert not notes


def test_no_leakage_alarm_on_independent_rows_with_few_features():
    from casestudies.iid_checks.audit import leakage_rows

    rng = np.random.default_rng(6)
    continuous = prepare_table(pd.DataFrame(rng.normal(size=(4000, 2)), columns=["a", "b"]),
                               name="f")
    rows, _ = leakage_rows(continuous, rng, 10_000)
    near = next(r for r in rows if r["test"] == "near duplicates")
    assert near["statistic"] > 20  # many rows fall within the tolerance by chance ...
    assert near["effect"] < near["threshold"]  # ... and are not counted as copies
    discrete = prepare_table(pd.DataFrame({"a": rng.integers(0, 3, 400),
                                           "b": rng.integers(0, 2, 400)}), name="f")
    rows, notes = leakage_rows(discrete, rng, 10_000)
    assert rows == [] and "duplicate checks were skipped" in notes[0]


def test_near_copy_excess_p_value_has_its_size_on_independent_rows():
    from casestudies.iid_checks.audit import excess_p_value, near_copies

    replicates = 200
    rejected = 0
    for seed in range(replicates):
        rng = np.random.default_rng(seed)
        x, test = rng.normal(size=(2000, 2)), rng.random(2000) < 0.3
        near, chance, _ = near_copies(x[~test], x[test])
        rejected += excess_p_value(near, chance) < 0.05
    low, high = binomial_band(0.05, replicates, confidence=0.99)
    assert low <= rejected / replicates <= high


def test_holdout_keeps_rows_that_are_close_only_by_chance():
    # At alpha = 0.05 about one such dataset in twenty loses rows by chance (the size is tested
    # above); this one does not.
    rng = np.random.default_rng(9)
    n = 3000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "side": np.where(rng.random(n) < 0.3, "test", "train")})
    frame["y"] = frame["a"] + rng.normal(size=n)
    table = prepare_table(frame, name="f", target="y", split="side")
    result = compare_validation(table, QUICK, 0)
    assert result.removed_copies == 0
    assert result.holdout_rows == int(table.is_test.sum())


@pytest.mark.parametrize(("rows", "folds"), [(100, 5), (6075, 5), (37, 3)])
def test_largest_gap_is_the_largest_timeseriessplit_accepts(rows, folds):
    from sklearn.model_selection import TimeSeriesSplit

    from casestudies.iid_checks.validation import largest_gap

    gap = largest_gap(rows, folds)
    X = np.zeros((rows, 1))
    assert len(list(TimeSeriesSplit(folds, gap=gap).split(X))) == folds
    with pytest.raises(ValueError):
        list(TimeSeriesSplit(folds, gap=gap + 1).split(X))


def test_a_gap_beyond_the_rows_is_refused_before_any_work():
    from casestudies.errors import DataError
    from casestudies.iid_checks.config import IIDConfig
    from casestudies.iid_checks.validation import check_gap

    table = gallery_table("iid", 300, 0)
    check_gap(table, IIDConfig(gap=10))
    with pytest.raises(DataError, match="--gap 100000 leaves no training rows"):
        check_gap(table, IIDConfig(gap=100_000))


def test_blocked_kfold_purges_and_embargoes_the_gap():
    from casestudies.iid_checks.validation import blocked_kfold

    splits = blocked_kfold(100, 5, 3)
    assert len(splits) == 5
    for train, valid in splits:
        assert len(np.intersect1d(train, valid)) == 0
        distance = np.min(np.abs(train[:, None] - valid[None, :]))
        assert distance > 3  # at least the gap on both sides
    assert sorted(np.concatenate([v for _, v in splits])) == list(range(100))


def test_group_time_split_validates_later_rows_of_new_groups():
    from casestudies.iid_checks.validation import group_time_split

    groups = np.r_[np.arange(60) % 10, np.arange(40) % 20 + 5]
    (train, valid), = group_time_split(groups, gap=2)
    assert train.max() < valid.min() - 2
    assert not np.isin(groups[valid], groups[train]).any()
    assert group_time_split(np.zeros(100, dtype=int), gap=0) is None  # no new group


def test_closest_scheme_and_its_paired_margin():
    from casestudies.iid_checks.validation import closest_scheme

    reps = np.linspace(-0.01, 0.01, 101)
    optimism = {"a": (0.10, 0.10 + reps), "b": (0.01, 0.01 + reps), "c": (-0.03, -0.03 + reps)}
    best, second, margin = closest_scheme(optimism)
    assert (best, second) == ("b", "c")
    assert margin.value == pytest.approx(0.01 - 0.03)
    assert margin.high < 0  # the same resamples: the difference is exact here


def test_cv_gap_spans_the_window_plus_delay_or_is_capped():
    from casestudies.iid_checks.validation import cv_gap

    times = np.linspace(0, 100, 1001)  # 10 rows a day
    gap, spanned = cv_gap(times, 2.0, folds=5, rows_gap=None)
    assert gap == int(np.ceil(1001 * 2.0 / 100)) and 2.0 <= spanned <= 2.2
    gap, spanned = cv_gap(times, 50.0, folds=5, rows_gap=None)
    assert gap == int(0.5 * 1001 / 6) and spanned < 50  # capped at half a fold


def test_cached_gallery_is_the_gallery_computed(tmp_path, monkeypatch):
    """The report is identical with or without the cache: a cached part is the object
    computed, and a change of settings is another entry."""
    from casestudies.iid_checks.cache import cache_key, cached
    from casestudies.iid_checks.pipeline import run_gallery
    from casestudies.io import to_jsonable

    monkeypatch.setenv("CASESTUDIES_CACHE_DIR", str(tmp_path))
    config = IIDConfig(quick=True, replicates=0, permutations=99, bootstrap=30,
                       max_energy_rows=150, gallery_rows=200)
    with threadpool_limits(1):
        fresh, hit = cached("gallery", config, lambda: run_gallery(("iid",), config))
        again, hit_again = cached("gallery", config, lambda: run_gallery(("iid",), config))
    assert (hit, hit_again) == (False, True)
    assert to_jsonable(fresh) == to_jsonable(again)
    assert cache_key("gallery", config) != cache_key("gallery", IIDConfig(quick=True, seed=1))
    # Options about the user's data do not change the key.
    assert cache_key("gallery", config) == cache_key(
        "gallery", IIDConfig(quick=True, replicates=0, permutations=99, bootstrap=30,
                             max_energy_rows=150, gallery_rows=200, burn_in="3D"))
    monkeypatch.setenv("CASESTUDIES_CACHE_DIR", "")
    _, off = cached("gallery", config, lambda: run_gallery(("iid",), config))
    assert off is False


@pytest.mark.slow
def test_gallery_and_simulation_in_a_second_process_are_those_computed_here(tmp_path,
                                                                           monkeypatch):
    """The second process computes the same objects (their own named streams) and stores them;
    it is not started when both are stored or when there is one core; and it runs when the
    caller's code was piped in (a main module that cannot be imported again)."""
    import pickle
    import subprocess
    import sys

    from casestudies.iid_checks import pipeline
    from casestudies.io import to_jsonable

    cache = tmp_path / "alongside"
    monkeypatch.setenv("CASESTUDIES_CACHE_DIR", str(cache))
    settings = dict(quick=True, replicates=3, permutations=19, bootstrap=20,
                    max_energy_rows=100, gallery_rows=120)
    config = IIDConfig(**settings)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 1)
    assert pipeline.start_alongside(config) is None
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    script = f"""
import pickle, sys
from casestudies.iid_checks import pipeline
from casestudies.iid_checks.config import IIDConfig
alongside = pipeline.start_alongside(IIDConfig(**{settings!r}))
assert alongside is not None
try:
    parts = alongside.result()
finally:
    alongside.close()
sys.stdout.buffer.write(pickle.dumps(parts))
"""
    done = subprocess.run([sys.executable, "-"], input=script.encode(), capture_output=True,
                          timeout=600, check=True)
    there = pickle.loads(done.stdout)
    assert pipeline.start_alongside(config) is None  # both stored now
    monkeypatch.setenv("CASESTUDIES_CACHE_DIR", "")
    here = pipeline.data_independent_parts(config)
    assert [entry.name for entry in there[0]] == list(pipeline.GALLERY)
    assert to_jsonable(there[:2]) == to_jsonable(here[:2])
    assert set(there[2]) == {"gallery", "size and power"}


def test_a_failing_second_process_raises_its_last_line_and_leaves_nothing(tmp_path):
    from casestudies.iid_checks.alongside import Alongside

    alongside = Alongside("not a configuration")
    folder = alongside._folder
    with pytest.raises(RuntimeError, match="gallery and simulation process failed: .*Error"):
        alongside.result()
    alongside.close()
    assert not folder.exists()

def test_cache_removes_entries_of_other_source_versions_and_keeps_the_newest(tmp_path,
                                                                          monkeypatch):
    """Entries of an older source can never be read again: writing removes them; of the
    current source at most MAX_ENTRIES_PER_PART stay; other parts are left alone."""
    from casestudies.iid_checks import cache

    monkeypatch.setenv("CASESTUDIES_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "iid_checks"
    monkeypatch.setattr(cache, "_source_digest", lambda: "0ld")
    cache.cached("gallery", IIDConfig(seed=0), lambda: "old")
    cache.cached("size and power", IIDConfig(seed=0), lambda: "other part")
    monkeypatch.setattr(cache, "_source_digest", lambda: "new")
    for seed in range(cache.MAX_ENTRIES_PER_PART + 3):
        value, hit = cache.cached("gallery", IIDConfig(seed=seed), lambda seed=seed: seed)
        assert (value, hit) == (seed, False)
    names = sorted(p.name for p in folder.glob("gallery-*.pkl"))
    assert len(names) == cache.MAX_ENTRIES_PER_PART
    assert all(name.startswith("gallery-new-") for name in names)
    assert len(list(folder.glob("size_and_power-0ld-*.pkl"))) == 1
    last = cache.MAX_ENTRIES_PER_PART + 2
    assert cache.cached("gallery", IIDConfig(seed=last), lambda: None) == (last, True)


def test_auc_of_codes_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    from casestudies.iid_checks.audit import auc_of_codes

    rng = np.random.default_rng(0)
    scores = np.round(rng.random(500), 1)  # many ties
    labels = (rng.random(500) < scores).astype(int)
    levels, codes = np.unique(scores, return_inverse=True)
    assert auc_of_codes(codes, labels, len(levels)) == pytest.approx(
        roc_auc_score(labels, scores))
    rows = rng.integers(0, 500, 500)
    assert auc_of_codes(codes[rows], labels[rows], len(levels)) == pytest.approx(
        roc_auc_score(labels[rows], scores[rows]))
    assert np.isnan(auc_of_codes(codes, np.zeros(500), len(levels)))


def test_adversarial_folds_keep_groups_together_so_slow_features_do_not_fake_drift():
    """Each group has a constant habit and two features that wander slowly (stationary AR(1)
    paths), and every group is on both sides. With shuffled rows the classifier recognises a
    group and where along its path a row lies (AUC about 0.78 when this was written); with
    whole groups per fold it cannot, and the AUC stays near chance."""
    from casestudies.iid_checks.audit import adversarial_validation
    from casestudies.iid_checks.data import prepare_table

    rng = np.random.default_rng(0)
    groups, steps = 60, 40
    paths = []
    for _ in range(2):
        level = np.zeros((groups, steps))
        level[:, 0] = rng.normal(size=groups)
        for t in range(1, steps):
            level[:, t] = 0.95 * level[:, t - 1] + np.sqrt(1 - 0.95**2) * rng.normal(size=groups)
        paths.append(level.ravel())
    frame = pd.DataFrame({"t": np.tile(np.arange(steps), groups),
                          "g": np.repeat(np.arange(groups), steps),
                          "habit": np.repeat(rng.normal(size=groups), steps),
                          "slow1": paths[0], "slow2": paths[1],
                          "noise": rng.normal(size=groups * steps)})
    table = prepare_table(frame, name="slow", time="t", group="g")
    with threadpool_limits(1):
        found, _ = adversarial_validation(table, IIDConfig(quick=True, bootstrap=50), 0)
    assert found.auc.value < 0.62
