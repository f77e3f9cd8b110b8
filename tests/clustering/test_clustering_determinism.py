"""Same data and seed, same numbers: the whole pipeline run twice on a small configuration."""

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


def test_short_answer_wording_follows_the_numbers():
    from casestudies.clustering.pipeline import _short_answer

    parts = dict(perplexity=30.0, k=15, trust_tsne=0.95, trust_pca=0.85, acc_tsne=0.9,
                 acc_pca=0.7, spearman_tsne=0.5, spearman_pca=0.8, noise_k=7, noise_k_data=0,
                 noise_perplexity=2.0)
    answer = _short_answer(parts)
    assert "better than a 2-D PCA" in answer and "PCA keeps global distances" in answer
    assert "into 7 clusters" in answer
    flipped = _short_answer({**parts, "trust_tsne": 0.8, "spearman_tsne": 0.9, "noise_k": 0})
    assert "worse than a 2-D PCA" in flipped and "t-SNE keeps global distances" in flipped
    assert "pure noise" not in flipped
