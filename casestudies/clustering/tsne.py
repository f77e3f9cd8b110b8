"""t-SNE pieces written out so that the report's formulas are checked: the perplexity
calibration of the Gaussian affinities, their symmetrisation, and the KL objective with its
gradient under the Student-t kernel (van der Maaten & Hinton 2008); plus thin, timed wrappers
around openTSNE (Barnes-Hut or FFT-accelerated, Linderman et al. 2019) and scikit-learn's
Barnes-Hut TSNE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

N_ITER_EXAGGERATION = 250  # early-exaggeration iterations (openTSNE and scikit-learn default)
N_ITER_MAIN = 500  # iterations after early exaggeration (openTSNE default)
EARLY_EXAGGERATION = 12.0
FFT_FROM = 10_000  # openTSNE's own rule: Barnes-Hut below this many points, FFT from here on


def calibrate_perplexity(sq_distances: np.ndarray, perplexity: float, tol: float = 1e-5,
                         max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Conditional Gaussian affinities whose perplexity is ``perplexity`` for every point.

    For row i, :math:`p_{j|i} = \\exp(-\\beta_i d_{ij}^2) / \\sum_{k} \\exp(-\\beta_i d_{ik}^2)`
    with :math:`\\beta_i = 1/(2\\sigma_i^2)` found by bisection (on :math:`\\log\\beta_i`, all rows
    at once) so that the entropy :math:`H_i = -\\sum_j p_{j|i}\\log_2 p_{j|i}` satisfies
    :math:`2^{H_i} = \\text{perplexity}`. The entropy decreases monotonically in
    :math:`\\beta_i`, so bisection converges.

    Parameters
    ----------
    sq_distances : ndarray of shape (n, m)
        Squared distances from each point to its m candidate neighbours (itself excluded).
    perplexity : float
        Target perplexity, smaller than m.
    tol : float
        Tolerance on the entropy in bits.

    Returns
    -------
    P : ndarray of shape (n, m)
        Rows sum to one.
    sigma : ndarray of shape (n,)
        The Gaussian bandwidths :math:`\\sigma_i`.
    """
    D = np.asarray(sq_distances, dtype=float)
    if perplexity >= D.shape[1]:
        raise ValueError(f"perplexity {perplexity} needs more than {D.shape[1]} neighbours")
    # Distances relative to the nearest neighbour keep exp() in range without changing p.
    D = D - D.min(axis=1, keepdims=True)
    target = np.log2(perplexity)
    scale = np.maximum(np.median(D, axis=1), 1e-12)
    low = np.log(1e-8 / scale)
    high = np.log(1e8 / scale)
    for _ in range(max_iter):
        log_beta = (low + high) / 2
        P, entropy = _row_affinities(D, np.exp(log_beta))
        too_flat = entropy > target  # entropy too high: beta must grow
        low = np.where(too_flat, log_beta, low)
        high = np.where(too_flat, high, log_beta)
        if np.all(np.abs(entropy - target) < tol):
            break
    beta = np.exp((low + high) / 2)
    P, _ = _row_affinities(D, beta)
    return P, np.sqrt(1.0 / (2.0 * beta))


def _row_affinities(D: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    W = np.exp(-D * beta[:, None])
    P = W / W.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(P > 0, P * np.log2(P), 0.0), axis=1)
    return P, entropy


@dataclass
class Affinities:
    """The joint affinities of t-SNE on the data.

    Attributes
    ----------
    P : scipy.sparse.csr_matrix of shape (n, n)
        :math:`p_{ij} = (p_{j|i} + p_{i|j}) / (2n)`, symmetric, summing to one.
    sigma : ndarray of shape (n,)
        Bandwidth of each point's Gaussian.
    perplexity : float
    achieved_perplexity : ndarray of shape (n,)
        :math:`2^{H_i}` of each point's conditional distribution, to check the calibration.
    """

    P: sparse.csr_matrix
    sigma: np.ndarray
    perplexity: float
    achieved_perplexity: np.ndarray


def joint_affinities(X: np.ndarray, perplexity: float, n_jobs: int = 1) -> Affinities:
    """Symmetrised t-SNE affinities on the ``floor(3 x perplexity)`` exact nearest neighbours.

    Farther points get zero affinity, as in Barnes-Hut and FFT t-SNE (their Gaussian weight is
    below :math:`e^{-4.5}` of the nearest neighbour's for a well-calibrated point).
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    k = min(n - 1, int(3 * perplexity))
    distances, neighbours = NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(X).kneighbors()
    conditional, sigma = calibrate_perplexity(distances**2, perplexity)
    positive = np.where(conditional > 0, conditional, 1.0)
    entropy = -np.sum(conditional * np.log2(positive), axis=1)
    rows = np.repeat(np.arange(n), k)
    P = sparse.csr_matrix((conditional.ravel(), (rows, neighbours.ravel())), shape=(n, n))
    P = (P + P.T) / (2.0 * n)
    return Affinities(P=P.tocsr(), sigma=sigma, perplexity=perplexity,
                      achieved_perplexity=2.0**entropy)


def kl_divergence(P: np.ndarray | sparse.spmatrix, Y: np.ndarray, dof: float = 1.0
                  ) -> tuple[float, np.ndarray]:
    """Exact t-SNE objective and gradient for a map ``Y``.

    With :math:`w_{ij} = (1 + \\lVert y_i - y_j\\rVert^2/\\nu)^{-(\\nu+1)/2}` and
    :math:`q_{ij} = w_{ij}/\\sum_{k\\neq l} w_{kl}`,

    .. math:: C = \\sum_{i\\neq j} p_{ij}\\log\\frac{p_{ij}}{q_{ij}}, \\qquad
              \\frac{\\partial C}{\\partial y_i} = \\frac{2\\nu+2}{\\nu}
              \\sum_j (p_{ij}-q_{ij})\\, w_{ij}^{2/(\\nu+1)} (y_i - y_j),

    which for :math:`\\nu = 1` is the familiar :math:`4\\sum_j (p_{ij}-q_{ij}) w_{ij}(y_i-y_j)`.
    Costs O(n^2) memory and time: for maps up to a few thousand points.

    Parameters
    ----------
    P : (n, n) array or sparse matrix
        Joint affinities (symmetric, sum one, zero diagonal).
    Y : ndarray of shape (n, d)
    dof : float
        Degrees of freedom :math:`\\nu` of the Student-t kernel.

    Returns
    -------
    kl : float
    gradient : ndarray of shape (n, d)
    """
    Y = np.asarray(Y, dtype=float)
    P = P.toarray() if sparse.issparse(P) else np.asarray(P, dtype=float)
    sq = np.sum(Y**2, axis=1)
    D = np.maximum(sq[:, None] + sq[None, :] - 2 * Y @ Y.T, 0.0)
    W = (1.0 + D / dof) ** (-(dof + 1) / 2)
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    positive = P > 0
    kl = float(np.sum(P[positive] * np.log(P[positive] / np.maximum(Q[positive], 1e-300))))
    M = (P - Q) * W ** (2.0 / (dof + 1))
    gradient = (2.0 * dof + 2.0) / dof * (M.sum(axis=1)[:, None] * Y - M @ Y)
    return kl, gradient


@dataclass
class Embedding:
    """A 2-D map of the data and how it was made.

    Attributes
    ----------
    name : str
        Label in tables and figures (``"t-SNE p=30"``).
    method : str
        The implementation (``"openTSNE 1.0 (FFT)"``, ``"scikit-learn TSNE (Barnes-Hut)"``,
        ``"PCA (SVD)"``).
    coordinates : ndarray of shape (n, 2)
    seconds : float
        Wall-clock time to compute it.
    perplexity : float or None
    kl_divergence : float or None
        Final KL divergence reported by the implementation.
    seed : int or None
    """

    name: str
    method: str
    coordinates: np.ndarray = field(metadata={"json": False})
    seconds: float = 0.0
    perplexity: float | None = None
    kl_divergence: float | None = None
    seed: int | None = None


def gradient_method(n: int) -> str:
    """openTSNE's repulsive-force approximation for n points: ``"bh"`` (Barnes-Hut,
    O(n log n)) below 10,000 points, ``"fft"`` (interpolation on a grid, O(n)) above."""
    return "bh" if n < FFT_FROM else "fft"


def opentsne_map(X: np.ndarray, perplexity: float, random_state: int, n_jobs: int = 1,
                 initialization: str = "pca"):
    """Fit openTSNE with its defaults: learning rate n/12 during the 250 early-exaggeration
    iterations and n afterwards, Barnes-Hut repulsion below 10,000 points and FFT-interpolated
    repulsion from there on (:func:`gradient_method`).

    Returns the openTSNE ``TSNEEmbedding`` (which can ``transform`` new points) and the seconds.
    """
    import openTSNE

    started = time.perf_counter()
    model = openTSNE.TSNE(
        perplexity=perplexity, initialization=initialization, n_jobs=n_jobs,
        random_state=random_state, negative_gradient_method=gradient_method(len(X)),
        early_exaggeration=EARLY_EXAGGERATION, early_exaggeration_iter=N_ITER_EXAGGERATION,
        n_iter=N_ITER_MAIN, verbose=False)
    fitted = model.fit(np.asarray(X, dtype=float))
    return fitted, time.perf_counter() - started


def opentsne_embedding(X: np.ndarray, perplexity: float, random_state: int, n_jobs: int = 1,
                       name: str | None = None, initialization: str = "pca") -> Embedding:
    """:func:`opentsne_map` as an :class:`Embedding`."""
    import openTSNE

    fitted, seconds = opentsne_map(X, perplexity, random_state, n_jobs, initialization)
    return Embedding(name=name or f"t-SNE p={perplexity:g}",
                     method=f"openTSNE {openTSNE.__version__} "
                            f"({'Barnes-Hut' if gradient_method(len(X)) == 'bh' else 'FFT'})",
                     coordinates=np.asarray(fitted), seconds=seconds, perplexity=perplexity,
                     kl_divergence=float(fitted.kl_divergence), seed=random_state)


def sklearn_embedding(X: np.ndarray, perplexity: float, random_state: int, n_jobs: int = 1,
                      name: str | None = None) -> Embedding:
    """scikit-learn's Barnes-Hut TSNE with PCA initialisation and ``learning_rate='auto'``
    (max(n/12/4, 50)), the same number of iterations as openTSNE."""
    import sklearn
    from sklearn.manifold import TSNE

    started = time.perf_counter()
    model = TSNE(perplexity=perplexity, init="pca", learning_rate="auto", method="barnes_hut",
                 early_exaggeration=EARLY_EXAGGERATION,
                 max_iter=N_ITER_EXAGGERATION + N_ITER_MAIN, random_state=random_state,
                 n_jobs=n_jobs)
    coordinates = model.fit_transform(np.asarray(X, dtype=float))
    return Embedding(name=name or f"sklearn t-SNE p={perplexity:g}",
                     method=f"scikit-learn {sklearn.__version__} TSNE (Barnes-Hut)",
                     coordinates=coordinates, seconds=time.perf_counter() - started,
                     perplexity=perplexity, kl_divergence=float(model.kl_divergence_),
                     seed=random_state)


LARGE_N_EXAGGERATION = 4.0
"""Exaggeration kept after the early phase for very large tables (Kobak & Berens 2019): beyond
:data:`EXAGGERATE_FROM` rows a plain t-SNE map fragments the big clusters; an exaggeration of
about 4 keeps them whole (at the cost of local detail). Also used, at any size, for the map that
shows t-SNE's relation to UMAP (Böhm, Berens & Kobak 2022)."""

EXAGGERATE_FROM = 100_000


def main_exaggeration(n: int) -> float | None:
    """Exaggeration after the early phase for a map of n points: none (1) below
    :data:`EXAGGERATE_FROM` rows, :data:`LARGE_N_EXAGGERATION` from there on."""
    return LARGE_N_EXAGGERATION if n >= EXAGGERATE_FROM else None


def opentsne_affinities(X: np.ndarray, perplexity: float, n_jobs: int = 1) -> sparse.csr_matrix:
    """openTSNE's joint affinities with exact nearest neighbours (``method="exact"``): at a few
    thousand rows an exact search is several times cheaper than building an approximate index,
    and every map with this perplexity (the main map and its seed replicates) reuses it."""
    from openTSNE import affinity

    found = affinity.PerplexityBasedNN(np.asarray(X, dtype=float), perplexity=perplexity,
                                       method="exact", n_jobs=n_jobs, random_state=0)
    return found.P.tocsr()


def opentsne_on_affinities(X: np.ndarray, P: sparse.csr_matrix, perplexity: float,
                           random_state: int, initialization: str = "pca",
                           exaggeration: float | None = None, name: str | None = None
                           ) -> Embedding:
    """A t-SNE map from precomputed affinities ``P`` (:func:`opentsne_affinities`), with the
    settings of :func:`opentsne_map`: learning rate n/12 during early exaggeration and n after
    (openTSNE's ``"auto"``), Barnes-Hut or FFT gradient by size (:func:`gradient_method`);
    ``exaggeration`` after the early phase (None = 1, or :func:`main_exaggeration`)."""
    import openTSNE
    from openTSNE import affinity
    from openTSNE import initialization as init_module

    started = time.perf_counter()
    X = np.asarray(X, dtype=float)
    if initialization == "pca":
        start = init_module.pca(X, random_state=random_state)
    else:
        start = init_module.random(X.shape[0], random_state=random_state)
    model = openTSNE.TSNE(
        perplexity=perplexity, n_jobs=1, random_state=random_state,
        negative_gradient_method=gradient_method(len(X)), early_exaggeration=EARLY_EXAGGERATION,
        early_exaggeration_iter=N_ITER_EXAGGERATION, n_iter=N_ITER_MAIN,
        exaggeration=exaggeration, verbose=False)
    fitted = model.fit(affinities=affinity.PrecomputedAffinities(P, normalize=False),
                       initialization=start)
    label = f"t-SNE p={perplexity:g}" + (f", exaggeration {exaggeration:g}" if exaggeration
                                          else "")
    return Embedding(name=name or label,
                     method=f"openTSNE {openTSNE.__version__} "
                            f"({'Barnes-Hut' if gradient_method(len(X)) == 'bh' else 'FFT'}, "
                            f"exact neighbours)",
                     coordinates=np.asarray(fitted), seconds=time.perf_counter() - started,
                     perplexity=perplexity, kl_divergence=float(fitted.kl_divergence),
                     seed=random_state)


def place_new_points(X_train: np.ndarray, X_new: np.ndarray, perplexity: float,
                     random_state: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit a map of ``X_train`` (:func:`opentsne_map`) and place ``X_new`` into it without moving
    it (openTSNE ``transform``). Returns the training map, the placed points and the seconds
    of the fit and of the placement."""
    fitted, seconds_fit = opentsne_map(X_train, perplexity, random_state, 1)
    started = time.perf_counter()
    placed = np.asarray(fitted.transform(np.asarray(X_new, dtype=float)))
    return np.asarray(fitted), placed, seconds_fit, time.perf_counter() - started
