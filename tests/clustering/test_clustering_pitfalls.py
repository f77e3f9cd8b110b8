"""The synthetic pitfall data sets measure what they claim to."""

import numpy as np
import pytest

from casestudies.clustering.pitfalls import (
    distance_pitfall,
    noise_pitfall,
    position_r2,
    spread_pitfall,
    trajectory_pitfall,
)


def test_spread_ratio_is_kept_by_pca_and_lost_by_tsne():
    result = spread_pitfall(200, 30.0, random_state=0)
    assert result.ratio_data == pytest.approx(6.0, rel=0.1)
    assert result.ratio_pca == pytest.approx(result.ratio_data, rel=0.25)
    assert result.ratio_tsne < result.ratio_data / 2
    assert result.spread_ratio == pytest.approx(6.0)

    def rms_radius(Z):
        return np.sqrt(np.mean(np.sum((Z - Z.mean(axis=0)) ** 2, axis=1)))

    for Z, reported in ((result.pca_map, result.ratio_pca), (result.tsne_map, result.ratio_tsne)):
        wide, tight = Z[result.labels == 1], Z[result.labels == 0]
        assert reported == pytest.approx(rms_radius(wide) / rms_radius(tight))


def test_centroid_distance_ratio_by_hand():
    result = distance_pitfall(150, 30.0, random_state=0)
    assert result.ratio_data == pytest.approx(result.offset_ratio, rel=0.05)
    assert result.offset_ratio == pytest.approx(5.0)
    a, b, c = (result.pca_map[result.labels == g].mean(axis=0) for g in range(3))
    assert result.ratio_pca == pytest.approx(np.linalg.norm(c - a) / np.linalg.norm(b - a))


def test_noise_has_no_density_cluster_in_the_data():
    result = noise_pitfall(200, (2.0, 30.0), random_state=0)
    assert result.clusters_data == 0
    assert len(result.clusters_maps) == 2 and all(0 <= s <= 1 for s in result.clustered_share)


def test_pca_folds_the_helix():
    result = trajectory_pitfall(240, 30.0, random_state=0)
    assert result.r2_data > 0.9
    assert result.r2_pca < result.r2_data - 0.3


def test_position_r2_is_one_on_a_line_and_low_on_noise():
    t = np.linspace(0, 1, 200)
    assert position_r2(t[:, None], t, random_state=0) > 0.99
    noise = np.random.default_rng(0).standard_normal((200, 2))
    assert position_r2(noise, t, random_state=0) < 0.2
