"""Same data and seed, same numbers: the whole pipeline run twice on a small configuration."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import load_data
from casestudies.clustering.pipeline import run

SMALL = dict(n_customers=160, perplexities=(5.0,), main_perplexity=5.0, stability_seeds=2,
             metric_sample=200, parallel_analysis_draws=3, pitfall_points=90, max_clusters=3,
             reference_sklearn=False)


@pytest.fixture(scope="module")
def two_runs():
    config = ClusteringConfig(seed=11, **SMALL)
    return run(config, load_data(config)), run(config, load_data(config))


def test_tables_are_identical_apart_from_timings(two_runs):
    first, second = two_runs
    assert first.short_answer == second.short_answer
    for name in ("neighbourhoods", "stability", "clustering", "reconstruction"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    pd.testing.assert_frame_equal(first.scorecard.drop(columns="seconds"),
                                  second.scorecard.drop(columns="seconds"))
    for a, b in zip(first.embeddings, second.embeddings, strict=True):
        np.testing.assert_array_equal(a.coordinates, b.coordinates)
    assert first.noise.clusters_maps == second.noise.clusters_maps
    assert first.placement.recall_new == second.placement.recall_new


def test_another_seed_changes_the_data():
    config = ClusteringConfig(seed=12, **SMALL)
    other = load_data(config)
    base = load_data(ClusteringConfig(seed=11, **SMALL))
    assert other.fingerprint != base.fingerprint


def test_large_tables_use_a_subsample_for_the_extra_maps():
    config = ClusteringConfig(seed=11, large_rows=100, subsample_rows=120, **SMALL)
    result = run(config, load_data(config))
    assert result.subsample_rows == 120 and result.n_rows == 160
    assert result.placement.n_train + result.placement.n_new == 120
    assert len(result.stability) == 2  # one pair of seeds per initialisation
    assert result.embedding(result.main_name).coordinates.shape == (160, 2)


def test_reconstruction_table_adds_up_to_the_variance_per_column(two_runs):
    # The report's caption: MSE per standardised entry + share of variance kept = 1.
    table = two_runs[0].reconstruction
    np.testing.assert_allclose(table["reconstruction MSE"] + table["cumulative variance"], 1.0,
                               atol=1e-9)


def _with_states(result, **states):
    """``result`` with the named verdicts set to "yes", "no" or "undecided"."""
    holds = {"yes": True, "no": False, "undecided": None}
    verdicts = dict(result.verdicts)
    for name, state in states.items():
        verdicts[name] = dataclasses.replace(verdicts[name], holds=holds[state])
    return dataclasses.replace(result, verdicts=verdicts)


def test_short_answer_wording_follows_the_verdicts(two_runs):
    result = two_runs[0]
    answer = _with_states(result, tsne_keeps_local_better="yes", pca_keeps_global_better="yes",
                          tsne_reads_segments_better="yes", noise_clusters_on_map="yes"
                          ).short_answer
    assert "better than a 2-D PCA" in answer and "PCA keeps global distances" in answer
    assert "reads the known segments better" in answer
    assert "Use PCA for the main axes and distances, t-SNE to see local groups" in answer
    assert f"into {result.noise.clusters_maps[0]} cluster" in answer
    flipped = _with_states(result, tsne_keeps_local_better="no", pca_keeps_global_better="no",
                           tsne_reads_segments_better="undecided",
                           noise_clusters_on_map="no").short_answer
    assert "no better than a 2-D PCA" in flipped
    assert "t-SNE kept global distances at least as well" in flipped
    assert "about as well" in flipped and "pure noise" not in flipped
    assert "t-SNE to see local groups" not in flipped
    unsure = _with_states(result, tsne_keeps_local_better="undecided",
                          pca_keeps_global_better="undecided").short_answer
    assert "cannot be told apart from a 2-D PCA" in unsure and "seeds disagree" in unsure


def test_verdicts_record_what_was_resampled(two_runs):
    verdicts = two_runs[0].verdicts
    assert verdicts["tsne_keeps_local_better"].unit == "customers"
    assert verdicts["tsne_reads_segments_better"].unit == "customers"
    assert verdicts["pca_keeps_global_better"].unit == "seeds"
    local = verdicts["tsne_keeps_local_better"]
    result = two_runs[0]
    k = result.comparison_k
    # The verdict's estimate is the scorecard's difference, inside its own interval.
    assert local.estimate == pytest.approx(
        result.neighbourhood(result.main_name, "trustworthiness", k)
        - result.neighbourhood("PCA 2-D", "trustworthiness", k))
    assert local.low <= local.estimate <= local.high


def test_adding_a_perplexity_leaves_the_other_maps_and_pitfalls_unchanged(two_runs):
    config = ClusteringConfig(seed=11, **{**SMALL, "perplexities": (5.0, 8.0)})
    wider = run(config, load_data(config))
    base = two_runs[0]
    np.testing.assert_array_equal(wider.embedding("t-SNE p=5").coordinates,
                                  base.embedding("t-SNE p=5").coordinates)
    np.testing.assert_array_equal(wider.noise.maps[0], base.noise.maps[0])
    np.testing.assert_array_equal(wider.spread.tsne_map, base.spread.tsne_map)
    pd.testing.assert_frame_equal(wider.stability, base.stability)
    pd.testing.assert_frame_equal(wider.clustering, base.clustering)
