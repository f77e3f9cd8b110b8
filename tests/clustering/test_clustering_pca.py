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


def test_loading_is_proportional_to_the_feature_component_correlation(correlated):
    # On standardised data corr(x_k, z_j) = V_kj sqrt(lambda_j) / sd(x_k), the same sd for
    # every column: the loadings rank features as their correlations with the component do.
    standardised = (correlated - correlated.mean(axis=0)) / correlated.std(axis=0)
    fit = fit_pca(standardised)
    p = standardised.shape[1]
    for j in range(3):
        correlation = [np.corrcoef(standardised[:, k], fit.scores[:, j])[0, 1] for k in range(p)]
        expected = fit.components[j] * np.sqrt(fit.explained_variance[j]) / standardised.std(
            axis=0, ddof=1)
        np.testing.assert_allclose(correlation, expected, atol=1e-10)


def test_parallel_analysis_threshold_by_hand(correlated):
    standardised = (correlated - correlated.mean(axis=0)) / correlated.std(axis=0)
    draws, quantile = 7, 0.9
    result = parallel_analysis(standardised, draws=draws, quantile=quantile, random_state=5)
    rng = np.random.default_rng(5)
    null = []
    for _ in range(draws):
        shuffled = np.column_stack([rng.permutation(col) for col in standardised.T])
        null.append(np.sort(np.linalg.eigvalsh(np.cov(shuffled, rowvar=False)))[::-1])
    threshold = np.quantile(np.array(null), quantile, axis=0)
    np.testing.assert_allclose(result.null_quantile, threshold, rtol=1e-9)
    observed = np.sort(np.linalg.eigvalsh(np.cov(standardised, rowvar=False)))[::-1]
    above = observed > threshold
    expected = int(np.argmin(above)) if not above.all() else above.size
    assert result.n_components == expected
    assert result.quantile == quantile and result.draws == draws


def test_reconstruction_error_and_kept_share_add_up_to_one_on_standardised_data(correlated):
    # The report's reconstruction table: the MSE per standardised entry is the share of
    # variance left out, since each standardised column has variance 1.
    standardised = (correlated - correlated.mean(axis=0)) / correlated.std(axis=0)
    fit = fit_pca(standardised)
    kept = np.cumsum(fit.explained_variance_ratio)
    for k in (1, 3, 6):
        assert reconstruction_error(fit, standardised, k) + kept[k - 1] == pytest.approx(1.0)
