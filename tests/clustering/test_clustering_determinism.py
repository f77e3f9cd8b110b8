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
             reference_sklearn=False, real_customers=0)


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
    assert len(result.stability) == 3  # one pair of seeds: t-SNE from PCA, from random, UMAP
    assert result.embedding(result.main_name).coordinates.shape == (160, 2)


def test_reconstruction_table_adds_up_to_the_variance_per_column(two_runs):
    # The report's caption: MSE per entry + share of variance kept x mean variance per feature
    # = the mean variance per feature (1 when every feature is standardised).
    result = two_runs[0]
    table = result.reconstruction
    mean_variance = result.mean_feature_variance
    np.testing.assert_allclose(table["reconstruction MSE"]
                               + table["cumulative variance"] * mean_variance, mean_variance,
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
    answer = _with_states(result, tsne_keeps_local_better="yes", umap_keeps_local_better="yes",
                          pca_keeps_global_better="yes", tsne_reads_segments_better="yes",
                          umap_reads_segments_better="yes").short_answer
    assert "t-SNE and UMAP both keep each customer's nearest neighbours better" in answer
    assert "both read the known segments better" in answer
    assert "PCA keeps global distances better" in answer
    assert "Use PCA for the axes and distances, t-SNE or UMAP to look at neighbourhoods" in answer
    tie = _with_states(result, tsne_keeps_local_better="yes", umap_keeps_local_better="no",
                       pca_keeps_global_better="undecided",
                       tsne_reads_segments_better="undecided",
                       umap_reads_segments_better="undecided").short_answer
    assert "Only t-SNE keeps nearest neighbours measurably better" in tie
    assert "PCA reads the known segments about as well" in tie and "tie on global" in tie
    assert "t-SNE to look at neighbourhoods" in tie and "UMAP to look" not in tie
    one_reads = _with_states(result, tsne_reads_segments_better="no",
                             umap_reads_segments_better="yes").short_answer
    assert "UMAP reads the known segments better than PCA (t-SNE does not)" in one_reads
    worse = _with_states(result, tsne_keeps_local_better="no", umap_keeps_local_better="no",
                         pca_keeps_global_better="no", tsne_reads_segments_better="no",
                         umap_reads_segments_better="undecided").short_answer
    assert "Neither t-SNE nor UMAP" in worse and "at least as well" in worse
    assert "Use PCA for the axes," in worse and "axes and distances" not in worse
    # No nonlinear map kept neighbours better, so none is recommended for them.
    assert "the PCA map for neighbourhoods too" in worse and "or UMAP to look" not in worse
    assert not any(ch.isdigit() for ch in worse.replace("t-SNE", ""))


def test_every_claim_of_the_answer_is_a_verdict_with_an_interval(two_runs):
    from casestudies.clustering.report import answer_claims

    result = two_runs[0]
    claims = answer_claims(result)
    assert {"tsne_keeps_local_better", "umap_keeps_local_better", "tsne_reads_segments_better",
            "umap_reads_segments_better", "pca_keeps_global_better"} == set(claims)
    for name in claims:
        verdict = result.verdicts[name]
        assert verdict.low is not None and verdict.high is not None
        assert verdict.low <= verdict.estimate <= verdict.high
        assert verdict.confidence == 0.95 and "seeds" in verdict.unit


def test_verdicts_record_what_was_resampled(two_runs):
    result = two_runs[0]
    verdicts = result.verdicts
    assert verdicts["tsne_keeps_local_better"].unit == "seeds and customers"
    assert verdicts["tsne_reads_segments_better"].unit == "seeds and customers"
    assert verdicts["pca_keeps_global_better"].unit == "seeds and half-subsamples of customers"
    assert verdicts["tsne_islands_recover_segments_better"].unit == "seeds"
    table = result.comparisons.set_index(["score", "comparison"])
    row = table.loc[("trustworthiness", "t-SNE minus PCA")]
    local = verdicts["tsne_keeps_local_better"]
    assert (row["difference"], row["low"], row["high"]) == (local.estimate, local.low,
                                                             local.high)
    glob = verdicts["pca_keeps_global_better"]
    row = table.loc[("distance correlation", "t-SNE minus PCA")]
    assert glob.estimate == pytest.approx(-row["difference"]) and glob.low == -row["high"]


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
