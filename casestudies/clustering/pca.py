"""Principal component analysis as the SVD of the centred data, with parallel analysis.

For centred data :math:`X_c = U S V^\\top`, the rows of :math:`V^\\top` are the principal
directions (loadings), :math:`U S` the scores and :math:`S^2/(n-1)` the eigenvalues of the sample
covariance :math:`X_c^\\top X_c/(n-1)`: the variance captured by each component (Jolliffe 2002,
ch. 1-3). Parallel analysis (Horn 1965) keeps the components whose eigenvalue exceeds what
column-permuted data, which has the same marginals but no correlation, reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casestudies.progress import progress


@dataclass
class PCAFit:
    """A fitted PCA.

    Attributes
    ----------
    mean : ndarray of shape (p,)
    components : ndarray of shape (r, p)
        Principal directions (unit rows), r = min(n, p); the sign makes the largest-magnitude
        loading of each component positive.
    singular_values : ndarray of shape (r,)
    explained_variance : ndarray of shape (r,)
        Eigenvalues of the sample covariance, :math:`s_j^2/(n-1)`.
    explained_variance_ratio : ndarray of shape (r,)
    scores : ndarray of shape (n, r)
        Coordinates of the rows on the components, :math:`U S`.
    """

    mean: np.ndarray
    components: np.ndarray
    singular_values: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    scores: np.ndarray = field(metadata={"json": False})

    def transform(self, X: np.ndarray, n_components: int | None = None) -> np.ndarray:
        """Scores of new rows on the first ``n_components`` components."""
        return (np.asarray(X, float) - self.mean) @ self.components[:n_components].T

    def reconstruct(self, X: np.ndarray, n_components: int) -> np.ndarray:
        """Rows of ``X`` projected on the first ``n_components`` components, back in the
        original coordinates: :math:`\\bar x + (x-\\bar x) V_k V_k^\\top`."""
        basis = self.components[:n_components]
        return self.mean + (np.asarray(X, float) - self.mean) @ basis.T @ basis


def fit_pca(X: np.ndarray) -> PCAFit:
    """PCA of ``X`` (rows are observations) by the thin SVD of the centred matrix.

    Parameters
    ----------
    X : array-like of shape (n, p)

    Returns
    -------
    PCAFit
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    mean = X.mean(axis=0)
    U, S, Vt = np.linalg.svd(X - mean, full_matrices=False)
    # Deterministic signs: the largest |loading| of each component is positive.
    signs = np.sign(Vt[np.arange(Vt.shape[0]), np.argmax(np.abs(Vt), axis=1)])
    signs[signs == 0] = 1.0
    U, Vt = U * signs, Vt * signs[:, None]
    variance = S**2 / (n - 1)
    total = variance.sum()
    return PCAFit(mean=mean, components=Vt, singular_values=S, explained_variance=variance,
                  explained_variance_ratio=variance / total if total > 0 else variance,
                  scores=U * S)


def reconstruction_error(fit: PCAFit, X: np.ndarray, n_components: int) -> float:
    """Mean squared reconstruction error per entry of the rank-``n_components`` PCA.

    Equals :math:`\\frac{n-1}{np}\\sum_{j>k}\\lambda_j` on the data PCA was fitted to (the
    Eckart-Young theorem); computed here from the reconstruction itself.
    """
    X = np.asarray(X, float)
    return float(np.mean((X - fit.reconstruct(X, n_components)) ** 2))


@dataclass
class ParallelAnalysis:
    """Horn's parallel analysis.

    Attributes
    ----------
    eigenvalues : ndarray
        Eigenvalues of the data's covariance.
    null_quantile : ndarray
        The ``quantile`` of each eigenvalue over column-permuted copies.
    n_components : int
        Leading components whose eigenvalue exceeds the null quantile.
    quantile : float
    draws : int
    """

    eigenvalues: np.ndarray
    null_quantile: np.ndarray
    n_components: int
    quantile: float
    draws: int


def parallel_analysis(X: np.ndarray, draws: int = 20, quantile: float = 0.95,
                      random_state: int | np.random.Generator | None = 0) -> ParallelAnalysis:
    """Number of components to keep by parallel analysis (Horn 1965).

    Each column of ``X`` is permuted independently ``draws`` times, which destroys every
    correlation but keeps each column's distribution; component j is kept while the data's j-th
    eigenvalue exceeds the ``quantile`` of the permuted data's j-th eigenvalue. Apply it to
    standardised columns (Horn's test is on the correlation matrix): with raw units, a column of
    large variance beats its own permutations whatever its correlations.
    """
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(random_state)
    observed = fit_pca(X).explained_variance
    null = np.empty((draws, observed.size))
    for d in progress(range(draws), desc="parallel analysis"):
        shuffled = np.column_stack([rng.permutation(col) for col in X.T])
        centred = shuffled - shuffled.mean(axis=0)
        null[d] = np.linalg.svd(centred, compute_uv=False) ** 2 / (X.shape[0] - 1)
    threshold = np.quantile(null, quantile, axis=0)
    above = observed > threshold
    n_keep = int(np.argmin(above)) if not above.all() else int(above.size)
    return ParallelAnalysis(eigenvalues=observed, null_quantile=threshold, n_components=n_keep,
                            quantile=quantile, draws=draws)
