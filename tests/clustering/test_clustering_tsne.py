"""Perplexity calibration, symmetrised affinities, KL divergence and gradient against
computations written directly from the definitions (van der Maaten & Hinton 2008) and finite
differences; reproducibility of the maps under a seed."""

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import brentq
from scipy.spatial.distance import pdist, squareform

from casestudies.clustering.tsne import (
    calibrate_perplexity,
    joint_affinities,
    kl_divergence,
    opentsne_embedding,
)


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return np.vstack([rng.standard_normal((60, 5)), 4 + 0.3 * rng.standard_normal((40, 5))])


@pytest.mark.parametrize("perplexity", [2.0, 5.0, 30.0])
def test_calibration_reaches_the_target_perplexity_for_every_point(points, perplexity):
    D = squareform(pdist(points)) ** 2
    others = D[~np.eye(len(points), dtype=bool)].reshape(len(points), -1)
    P, sigma = calibrate_perplexity(others, perplexity)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    entropy = -np.sum(np.where(P > 0, P * np.log2(np.where(P > 0, P, 1)), 0), axis=1)
    np.testing.assert_allclose(2.0**entropy, perplexity, rtol=1e-4)
    # The bandwidths reproduce P from the Gaussian formula.
    W = np.exp(-others / (2 * sigma[:, None] ** 2))
    np.testing.assert_allclose(W / W.sum(axis=1, keepdims=True), P, rtol=1e-6, atol=1e-12)


def test_denser_cluster_gets_narrower_gaussians(points):
    D = squareform(pdist(points)) ** 2
    others = D[~np.eye(len(points), dtype=bool)].reshape(len(points), -1)
    _, sigma = calibrate_perplexity(others, 10.0)
    assert np.median(sigma[60:]) < np.median(sigma[:60])


def test_calibration_rejects_too_few_neighbours():
    with pytest.raises(ValueError, match="perplexity"):
        calibrate_perplexity(np.ones((4, 3)), 5.0)


def _joint_by_definition(X: np.ndarray, perplexity: float) -> np.ndarray:
    """p_ij from the definition, one point at a time: each point's Gaussian over its
    floor(3 x perplexity) nearest neighbours, its bandwidth solved by Brent's method so that
    2^H = perplexity, then p_ij = (p_j|i + p_i|j) / 2n."""
    n = len(X)
    k = int(3 * perplexity)
    D = squareform(pdist(X)) ** 2
    conditional = np.zeros((n, n))
    for i in range(n):
        others = np.argsort(np.where(np.arange(n) == i, np.inf, D[i]), kind="stable")[:k]
        d = D[i, others]

        def p_given(sigma, d=d):
            w = np.exp(-(d - d.min()) / (2 * sigma**2))
            return w / w.sum()

        def excess_bits(log_sigma, p_given=p_given):
            p = p_given(np.exp(log_sigma))
            p = p[p > 0]
            return -np.sum(p * np.log2(p)) - np.log2(perplexity)

        sigma = np.exp(brentq(excess_bits, np.log(1e-3), np.log(1e3), xtol=1e-12))
        conditional[i, others] = p_given(sigma)
    return (conditional + conditional.T) / (2 * n)


def test_joint_affinities_match_the_definition(points):
    perplexity = 10.0
    ours = joint_affinities(points, perplexity)
    expected = _joint_by_definition(points, perplexity)
    np.testing.assert_allclose(ours.P.toarray(), expected, rtol=1e-4, atol=1e-9)
    dense = ours.P.toarray()
    np.testing.assert_allclose(dense, dense.T)
    assert dense.sum() == pytest.approx(1.0)
    assert np.all(dense >= 0)
    assert np.all(dense.sum(axis=1) >= 1 / (2 * len(points)) - 1e-12)  # every point counts
    np.testing.assert_allclose(ours.achieved_perplexity, perplexity, rtol=1e-4)


def _symmetric_p(n, rng):
    A = rng.uniform(size=(n, n))
    P = A + A.T
    np.fill_diagonal(P, 0)
    return P / P.sum()


def test_kl_and_gradient_match_the_closed_form():
    rng = np.random.default_rng(2)
    n = 25
    P = _symmetric_p(n, rng)
    Y = rng.standard_normal((n, 2))
    kl, gradient = kl_divergence(P, Y)
    # q_ij and the gradient 4 sum_j (p_ij - q_ij)(y_i - y_j)(1 + |y_i - y_j|^2)^-1, pair by pair.
    w = np.array([[1 / (1 + np.sum((Y[i] - Y[j]) ** 2)) if i != j else 0.0 for j in range(n)]
                  for i in range(n)])
    Q = w / w.sum()
    expected_kl = sum(P[i, j] * np.log(P[i, j] / Q[i, j])
                      for i in range(n) for j in range(n) if i != j)
    expected_gradient = np.array([
        4 * sum((P[i, j] - Q[i, j]) * (Y[i] - Y[j]) * w[i, j] for j in range(n) if j != i)
        for i in range(n)])
    assert kl == pytest.approx(expected_kl, rel=1e-10)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-8, atol=1e-14)
    # The sparse input gives the same answer.
    kl_sparse, _ = kl_divergence(sparse.csr_matrix(P), Y)
    assert kl_sparse == pytest.approx(kl)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    n = 12
    P = _symmetric_p(n, rng)
    Y = rng.standard_normal((n, 2))
    _, gradient = kl_divergence(P, Y)
    step = 1e-6
    numeric = np.zeros_like(Y)
    for i in range(n):
        for d in range(2):
            up, down = Y.copy(), Y.copy()
            up[i, d] += step
            down[i, d] -= step
            numeric[i, d] = (kl_divergence(P, up)[0] - kl_divergence(P, down)[0]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-8)


def test_kl_by_hand_on_three_points():
    P = np.array([[0, 0.3, 0.1], [0.3, 0, 0.1], [0.1, 0.1, 0]])
    Y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    w = {(0, 1): 1 / 2, (0, 2): 1 / 5, (1, 2): 1 / 6}
    Z = 2 * sum(w.values())
    expected = sum(2 * P[i, j] * np.log(P[i, j] / (w[(i, j)] / Z)) for (i, j) in w)
    assert kl_divergence(P, Y)[0] == pytest.approx(expected)


def test_opentsne_map_is_reproducible_under_a_seed(points):
    a = opentsne_embedding(points, 10.0, random_state=3)
    b = opentsne_embedding(points, 10.0, random_state=3)
    np.testing.assert_array_equal(a.coordinates, b.coordinates)
    assert a.kl_divergence == b.kl_divergence
    assert a.method.startswith("openTSNE")
