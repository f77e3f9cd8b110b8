"""Trustworthiness against scikit-learn, continuity, kNN recall and distance correlation against
hand computations, clustering agreement."""

import numpy as np
import pytest
from scipy import stats
from sklearn.manifold import trustworthiness as sklearn_trustworthiness

from casestudies.clustering import metrics


@pytest.fixture
def data_and_map():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 6))
    Y = X[:, :2] + 0.5 * rng.standard_normal((120, 2))
    return X, Y


@pytest.mark.parametrize("k", [1, 5, 20])
def test_trustworthiness_matches_scikit_learn(data_and_map, k):
    X, Y = data_and_map
    assert metrics.trustworthiness(X, Y, k) == pytest.approx(sklearn_trustworthiness(X, Y,
                                                                                     n_neighbors=k))


@pytest.mark.parametrize("k", [3, 10])
def test_continuity_is_trustworthiness_with_roles_swapped(data_and_map, k):
    X, Y = data_and_map
    assert metrics.continuity(X, Y, k) == pytest.approx(sklearn_trustworthiness(Y, X,
                                                                                n_neighbors=k))


def test_perfect_map_scores_one(data_and_map):
    X, _ = data_and_map
    scores = metrics.neighbourhood_scores(X, X, (5, 10))
    for values in scores.values():
        np.testing.assert_allclose(values, 1.0)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_point_scores_average_to_trustworthiness_and_continuity(data_and_map, k):
    X, Y = data_and_map
    points = metrics.neighbourhood_point_scores(X, Y, k)
    assert points["trustworthiness"].shape == (len(X),)
    assert np.mean(points["trustworthiness"]) == pytest.approx(metrics.trustworthiness(X, Y, k))
    assert np.mean(points["continuity"]) == pytest.approx(metrics.continuity(X, Y, k))
    # A point whose map neighbours are its data neighbours contributes exactly 1.
    assert np.all(points["trustworthiness"] <= 1.0)


def test_trustworthiness_by_hand_on_a_line():
    # Data on a line 0, 1, 2, 3, 10, 11; the map swaps points 0 and 5.
    X = np.array([[0.0], [1], [2], [3], [10], [11]])
    Y = X[[5, 1, 2, 3, 4, 0]]
    n, k = 6, 1
    order = np.argsort(np.abs(X - X.T) + np.diag([np.inf] * n), axis=1)
    ranks = np.empty((n, n), int)
    for i in range(n):
        ranks[i, order[i]] = np.arange(1, n + 1)
    nearest_map = np.argsort(np.abs(Y - Y.T) + np.diag([np.inf] * n), axis=1)[:, 0]
    penalty = sum(max(ranks[i, nearest_map[i]] - k, 0) for i in range(n))
    expected = 1 - 2 / (n * k * (2 * n - 3 * k - 1)) * penalty
    assert metrics.trustworthiness(X, Y, k) == pytest.approx(expected)
    assert expected < 1


def test_knn_recall_by_hand():
    X = np.array([[0.0, 0], [1, 0], [0, 1.5], [10, 0], [11, 0]])
    Y = np.array([[0.0, 0], [0, 1.5], [1, 0], [10, 0], [11, 0]])  # swaps points 1 and 2
    # k=1 in X: 0->1, 1->0, 2->0, 3->4, 4->3; in Y: 0->2, 1->0, 2->0, 3->4, 4->3
    assert metrics.knn_recall(X, Y, 1) == pytest.approx(4 / 5)
    # k=2 in X: {1,2},{0,2},{0,1},{4,1},{3,1}; in Y: {2,1},{0,2},{0,1},{4,2},{3,2}
    assert metrics.knn_recall(X, Y, 2) == pytest.approx((2 + 2 + 2 + 1 + 1) / 10)


def test_distance_correlation_by_hand():
    X = np.array([[0.0, 0], [3, 0], [0, 4], [6, 8]])
    Y = np.array([[0.0], [1], [5], [2]])
    dx = [np.hypot(*(X[i] - X[j])) for i in range(4) for j in range(i + 1, 4)]
    dy = [abs(Y[i, 0] - Y[j, 0]) for i in range(4) for j in range(i + 1, 4)]
    rx, ry = stats.rankdata(dx), stats.rankdata(dy)
    expected = np.corrcoef(rx, ry)[0, 1]
    assert metrics.distance_correlation(X, Y) == pytest.approx(expected)


def test_knn_accuracy_separates_informative_from_random_maps():
    rng = np.random.default_rng(1)
    labels = np.repeat(["a", "b"], 100)
    informative = np.where(labels == "a", 0.0, 5.0)[:, None] + rng.standard_normal((200, 2))
    assert metrics.knn_accuracy(informative, labels) > 0.95
    assert metrics.knn_accuracy(rng.standard_normal((200, 2)), labels) < 0.7


def test_bic_and_ari_on_clear_clusters():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2], 80)
    Z = np.array([[0, 0], [10, 0], [0, 10]])[labels] + rng.standard_normal((240, 2))
    k, bic = metrics.choose_k_by_bic(Z, 6)
    assert k == 3 and bic.size == 6
    found = metrics.cluster_agreement(Z, labels, 6, 3)
    assert found["gmm_ari"] > 0.95 and found["kmeans_ari"] > 0.95
    assert metrics.cluster_agreement(Z, None, 6, None)["kmeans_ari"] is None


def test_bic_by_hand():
    # BIC = -2 log L + m log n with m = k d + k d (d + 1) / 2 + (k - 1) for full covariances.
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(4)
    Z = np.vstack([rng.standard_normal((60, 2)), 6 + rng.standard_normal((40, 2))])
    n, d = Z.shape
    _, bic = metrics.choose_k_by_bic(Z, 3, random_state=1)
    for k in (1, 2, 3):
        gmm = GaussianMixture(k, covariance_type="full", random_state=1, n_init=1,
                              reg_covar=1e-5).fit(Z)
        density = sum(w * stats.multivariate_normal(mu, cov).pdf(Z)
                      for w, mu, cov in zip(gmm.weights_, gmm.means_, gmm.covariances_,
                                            strict=True))
        m = k * d + k * d * (d + 1) / 2 + (k - 1)
        assert bic[k - 1] == pytest.approx(-2 * np.sum(np.log(density)) + m * np.log(n))


def test_knn_accuracy_by_hand():
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(6)
    labels = np.repeat(["a", "b"], 40)
    Y = np.where(labels == "a", 0.0, 1.5)[:, None] + rng.standard_normal((80, 2))
    k, folds = 5, 4
    correct = np.zeros(len(labels), dtype=bool)
    splits = StratifiedKFold(folds, shuffle=True, random_state=3).split(Y, labels)
    for train, test in splits:
        for i in test:
            nearest = train[np.argsort(np.linalg.norm(Y[train] - Y[i], axis=1))[:k]]
            votes = np.unique(labels[nearest], return_counts=True)
            correct[i] = votes[0][np.argmax(votes[1])] == labels[i]
    np.testing.assert_array_equal(metrics.knn_correct(Y, labels, k, folds, random_state=3),
                                  correct)
    assert metrics.knn_accuracy(Y, labels, k, folds, random_state=3) == pytest.approx(
        np.mean(correct))
    assert metrics.accuracy_folds(labels, folds) == folds
    assert metrics.accuracy_folds(np.array(["a"] * 10 + ["b"] * 3), 5) == 3
