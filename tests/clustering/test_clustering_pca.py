"""PCA by SVD against the covariance eigendecomposition and scikit-learn; reconstruction error;
parallel analysis."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from casestudies.clustering.pca import fit_pca, parallel_analysis, reconstruction_error


@pytest.fixture
def correlated():
    rng = np.random.default_rng(1)
    latent = rng.standard_normal((300, 3)) * [3.0, 2.0, 1.0]
    loadings = np.kron(np.eye(3), np.ones(3)) + 0.2 * rng.standard_normal((3, 9))
    return latent @ loadings + 0.3 * rng.standard_normal((300, 9))


def test_explained_variance_equals_covariance_eigenvalues(correlated):
    fit = fit_pca(correlated)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(correlated, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    np.testing.assert_allclose(fit.explained_variance, eigenvalues[order], rtol=1e-10)
    # Directions equal the eigenvectors up to sign.
    dots = np.abs(np.sum(fit.components * eigenvectors[:, order].T, axis=1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-8)


def test_scores_are_the_svd_of_the_centred_data(correlated):
    fit = fit_pca(correlated)
    centred = correlated - correlated.mean(axis=0)
    U, S, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(fit.scores), np.abs(U * S), atol=1e-9)
    np.testing.assert_allclose(fit.transform(correlated), fit.scores, atol=1e-9)


def test_matches_scikit_learn(correlated):
    ours = fit_pca(correlated)
    theirs = PCA().fit(correlated)
    np.testing.assert_allclose(ours.explained_variance, theirs.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(ours.explained_variance_ratio, theirs.explained_variance_ratio_,
                               rtol=1e-9)
    np.testing.assert_allclose(np.abs(ours.components), np.abs(theirs.components_), atol=1e-8)


def test_reconstruction_error_is_the_discarded_variance(correlated):
    fit = fit_pca(correlated)
    n, p = correlated.shape
    for k in (1, 2, 5, 9):
        expected = (n - 1) / (n * p) * fit.explained_variance[k:].sum()
        assert reconstruction_error(fit, correlated, k) == pytest.approx(expected, rel=1e-9,
                                                                         abs=1e-12)


def test_parallel_analysis_finds_the_number_of_factors(correlated):
    standardised = (correlated - correlated.mean(axis=0)) / correlated.std(axis=0)
    result = parallel_analysis(standardised, draws=20, random_state=0)
    assert result.n_components == 3
    assert np.all(result.eigenvalues[:3] > result.null_quantile[:3])


def test_parallel_analysis_keeps_nothing_in_noise():
    noise = np.random.default_rng(3).standard_normal((500, 10))
    assert parallel_analysis(noise, draws=30, random_state=0).n_components <= 1


def test_parallel_analysis_is_deterministic(correlated):
    a = parallel_analysis(correlated, draws=5, random_state=4)
    b = parallel_analysis(correlated, draws=5, random_state=4)
    np.testing.assert_array_equal(a.null_quantile, b.null_quantile)
