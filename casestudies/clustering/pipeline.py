"""The analysis: PCA and t-SNE maps of the data, scored for what they preserve, clustered, and
stress-tested on the known pitfalls. No I/O, no HTML, no prose: :func:`run` returns a
:class:`ClusteringResult` holding every number the report shows and every conclusion as a
verdict (rules in :mod:`casestudies.clustering.verdicts`).

Every unit of work (each map, each stability fit, each clusterer, each pitfall, each bootstrap)
draws from its own random stream named after it (:mod:`casestudies.rng`), so that adding a
perplexity or a seed leaves the numbers of the other parts unchanged."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.spatial import procrustes
from scipy.spatial.distance import pdist
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.clustering import metrics
from casestudies.clustering import verdicts as rules
from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import (
    MAX_LEVELS,
    N_NOISE_COLUMNS,
    SEGMENTS,
    SKEW_THRESHOLD,
    ClusteringData,
    Preprocessing,
    minimum_rows,
)
from casestudies.clustering.pca import ParallelAnalysis, fit_pca, parallel_analysis
from casestudies.clustering.pca import reconstruction_error as pca_reconstruction_error
from casestudies.clustering.pitfalls import (
    DIMENSIONS,
    POSITION_FOLDS,
    POSITION_K,
    DistancePitfall,
    NoisePitfall,
    SpreadPitfall,
    TrajectoryPitfall,
    distance_pitfall,
    noise_pitfall,
    position_r2,
    spread_pitfall,
    trajectory_pitfall,
)
from casestudies.clustering.tsne import (
    EARLY_EXAGGERATION,
    FFT_FROM,
    N_ITER_EXAGGERATION,
    N_ITER_MAIN,
    Embedding,
    joint_affinities,
    kl_divergence,
    opentsne_embedding,
    opentsne_map,
    sklearn_embedding,
)
from casestudies.provenance import StageTimer
from casestudies.results import StudyResult
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate, bootstrap_ci
from casestudies.verdicts import Verdict, point_above

KNN_CLASSIFIER_K = 10
KNN_FOLDS = 5  # cross-validation folds of the segment accuracy (fewer for tiny segments)
ACCURACY = f"{KNN_CLASSIFIER_K}-NN segment accuracy"  # the scorecard's column
STABILITY_K = 15
SPEARMAN_POINTS = 1000  # all pairs of this many points (~500,000 distances)
SHEPARD_PAIRS = 3000
EXACT_KL_LIMIT = 6000  # the exact KL check needs an n x n matrix
NOISE_PERPLEXITIES = (2.0, 30.0)
PITFALL_PERPLEXITY = 30.0  # of the spread, distance and trajectory pitfalls
BOOTSTRAP_RESAMPLES = 1000  # of the paired per-customer bootstraps behind the verdicts
N_TOP_LOADINGS = 6  # features per component in the loadings table
PCA_NAME = "PCA 2-D"


def _seed(config: ClusteringConfig, *names: str) -> int:
    """The integer seed of the unit of work ``names`` (a map, a clusterer, a pitfall …)."""
    return stream_seed(config.seed, "clustering", *names)


def _rng(config: ClusteringConfig, *names: str) -> np.random.Generator:
    """The random generator of the unit of work ``names`` (a subsample, a bootstrap …)."""
    return stream(config.seed, "clustering", *names)


@dataclass
class AffinityCheck:
    """Our own perplexity calibration on the data, set against openTSNE's result.

    Attributes
    ----------
    perplexity : float
    sigma_by_label : DataFrame
        Median and quartiles of the bandwidths :math:`\\sigma_i` per known segment (or overall).
    max_perplexity_error : float
        Largest |2^H_i - perplexity| over all points.
    kl_exact : float or None
        KL divergence of the main map computed exactly from our affinities (small n only).
    kl_start : float or None
        The same for the PCA layout rescaled to the map's spread (where optimisation began).
    kl_reported : float
        KL divergence reported by openTSNE for the same map.
    gradient_norm_init, gradient_norm_final : float or None
        RMS norm of the exact gradient at that PCA layout and at the final map.
    """

    perplexity: float
    sigma_by_label: pd.DataFrame
    max_perplexity_error: float
    kl_exact: float | None
    kl_start: float | None
    kl_reported: float
    gradient_norm_init: float | None
    gradient_norm_final: float | None
    sigma: np.ndarray = field(metadata={"json": False})


@dataclass
class Placement:
    """New customers placed into an existing map (openTSNE ``transform``).

    Attributes
    ----------
    n_train, n_new : int
    seconds_fit, seconds_place : float
    recall_new : float
        Share of a placed customer's 15 nearest training customers in the data that are among
        its 15 nearest in the map.
    recall_train : float
        The same for training customers (excluding themselves), the reference.
    accuracy_new, accuracy_data : float or None
        10-NN segment accuracy of the placed customers on the map, and in the data space.
    sklearn_can_transform : bool
        Whether scikit-learn's TSNE offers ``transform`` (it does not: it only fits).
    """

    n_train: int
    n_new: int
    seconds_fit: float
    seconds_place: float
    recall_new: float
    recall_train: float
    accuracy_new: float | None
    accuracy_data: float | None
    sklearn_can_transform: bool
    train_map: np.ndarray = field(metadata={"json": False})
    new_map: np.ndarray = field(metadata={"json": False})
    train_labels: np.ndarray | None = field(metadata={"json": False})
    new_labels: np.ndarray | None = field(metadata={"json": False})


@dataclass
class ClusteringResult(StudyResult):
    """Everything the report shows; serialised to clustering.json.

    Besides the tables, the result holds every number the report derives (shares, picks,
    ratios) as a named field, and every conclusion as a :class:`~casestudies.verdicts.Verdict`
    in :attr:`verdicts` (rules in :mod:`casestudies.clustering.verdicts`).

    Attributes
    ----------
    verdicts : dict of str to Verdict
        The conclusions, by name: ``tsne_keeps_local_better``, ``pca_keeps_global_better``,
        ``tsne_reads_segments_better`` (with known segments) and those of the evidence and
        pitfalls.
    constants : dict
        The fixed settings the report quotes (neighbour counts of the scores, iterations of
        t-SNE, limits of the preprocessing, the defaults of the options).
    comparison_k : int
        The neighbourhood size at which the maps are compared (the middle of ``neighbours``).
    pca2_variance_share, parallel_variance_share : float
        Share of variance kept by two components and by those parallel analysis keeps.
    pc1_top_features : list of str
        The features with the largest absolute PC1 loadings, largest first.
    best_trust_map, best_distance_map : str
        The t-SNE map of the sweep with the highest trustworthiness at ``comparison_k`` and the
        one with the highest distance correlation.
    tsne_time_ratio : float
        Seconds of the main t-SNE map divided by seconds of PCA.
    stability_summary : DataFrame
        Mean Procrustes disparity and neighbour overlap per initialisation.
    seed_scores : DataFrame
        Distance correlation of each PCA-initialised seed map and of PCA on the same rows.
    largest_perplexity, max_perplexity, minimum_rows : float, int, int
        The sweep's largest perplexity, the largest perplexity this many rows allow, and the
        rows the checks require.
    """

    study: ClassVar[str] = "clustering"

    verdicts: dict[str, Verdict]
    stage_seconds: dict[str, float]
    config: ClusteringConfig
    constants: dict[str, object]
    kind: str
    source: str
    n_rows: int
    n_features: int
    feature_names: list[str]
    label_name: str | None
    segment_sizes: dict[str, int] | None
    segments: pd.DataFrame | None
    preprocessing: Preprocessing
    preview: pd.DataFrame
    minimum_rows: int
    largest_perplexity: float
    max_perplexity: int
    # PCA
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    pca2_variance_share: float
    parallel_variance_share: float
    parallel: ParallelAnalysis
    loadings: pd.DataFrame
    top_loadings: pd.DataFrame
    pc1_top_features: list[str]
    reconstruction: pd.DataFrame
    scaling: pd.DataFrame
    # t-SNE and the scorecard
    main_name: str
    sklearn_name: str | None
    embeddings: list[Embedding]
    sweep_names: list[str]
    affinity: AffinityCheck
    neighbourhoods: pd.DataFrame
    scorecard: pd.DataFrame
    comparison_k: int
    best_trust_map: str
    best_distance_map: str
    tsne_time_ratio: float
    metric_rows: int
    spearman_rows: int
    accuracy_folds: int | None  # folds of the segment accuracy's cross-validation
    neighbours: list[int]
    subsample_rows: int | None
    stability: pd.DataFrame
    stability_summary: pd.DataFrame
    seed_scores: pd.DataFrame
    clustering: pd.DataFrame
    placement: Placement
    life_stage: pd.DataFrame | None
    noise: NoisePitfall
    spread: SpreadPitfall
    distances: DistancePitfall
    trajectory: TrajectoryPitfall
    labels: np.ndarray | None = field(metadata={"json": False})
    life_stage_position: np.ndarray | None = field(metadata={"json": False})
    shepard: dict[str, tuple[np.ndarray, np.ndarray]] = field(metadata={"json": False})

    def embedding(self, name: str) -> Embedding:
        """The embedding called ``name``."""
        return next(e for e in self.embeddings if e.name == name)

    def score(self, name: str, column: str) -> float:
        """One column of the scorecard for one embedding."""
        return self.scorecard.set_index("embedding").loc[name, column]

    def neighbourhood(self, name: str, column: str, k: int) -> float:
        """Trustworthiness, continuity or kNN recall of embedding ``name`` at ``k``."""
        table = self.neighbourhoods
        return table[(table["embedding"] == name) & (table["k"] == k)][column].iloc[0]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The main tables: scorecard, neighbourhoods, stability, clustering and the PCA ones."""
        names = ("scorecard", "neighbourhoods", "stability", "seed_scores", "clustering",
                 "reconstruction", "top_loadings", "scaling", "life_stage")
        return {name: getattr(self, name) for name in names
                if isinstance(getattr(self, name), pd.DataFrame)}


def _loadings(pca, names: list[str], n_components: int) -> pd.DataFrame:
    table = pd.DataFrame(pca.components[:n_components].T, index=names,
                         columns=[f"PC{j + 1}" for j in range(n_components)])
    table.index.name = "feature"
    return table


def _top_loadings(loadings: pd.DataFrame) -> pd.DataFrame:
    """The ``N_TOP_LOADINGS`` largest absolute loadings of each component, side by side."""
    out = pd.DataFrame({"rank": np.arange(1, min(N_TOP_LOADINGS, len(loadings)) + 1)})
    for component in loadings.columns:
        column = loadings[component]
        top = column.reindex(column.abs().sort_values(ascending=False, kind="stable").index)
        top = top[:N_TOP_LOADINGS]
        out[f"{component} feature"] = list(top.index)
        out[f"{component} loading"] = top.to_numpy().astype(float)
    return out


def _scaling_comparison(data: ClusteringData, scaled_pca) -> pd.DataFrame:
    """PC1 of the unscaled features against PC1 of the standardised ones."""
    unscaled = fit_pca(data.unscaled)
    rows = []
    for label, fit in (("unscaled", unscaled), ("standardised", scaled_pca)):
        top = int(np.argmax(np.abs(fit.components[0])))
        rows.append({"features": label, "PC1 variance share": fit.explained_variance_ratio[0],
                     "largest PC1 loading": data.feature_names[top],
                     "its squared loading": fit.components[0, top] ** 2})
    return pd.DataFrame(rows)


def _affinity_check(X: np.ndarray, labels: np.ndarray | None, main: Embedding,
                    init: np.ndarray, n_jobs: int) -> AffinityCheck:
    affinities = joint_affinities(X, main.perplexity, n_jobs)
    groups = labels if labels is not None else np.full(X.shape[0], "all rows")
    sigma = pd.DataFrame({"segment": groups, "sigma": affinities.sigma})
    summary = sigma.groupby("segment")["sigma"].describe()[["count", "25%", "50%", "75%"]]
    summary = summary.rename(columns={"count": "customers", "25%": "σ lower quartile",
                                      "50%": "σ median", "75%": "σ upper quartile"})
    summary["customers"] = summary["customers"].astype(int)
    error = float(np.max(np.abs(affinities.achieved_perplexity - main.perplexity)))
    kl_exact = kl_start = grad_init = grad_final = None
    if X.shape[0] <= EXACT_KL_LIMIT:
        kl_exact, gradient = kl_divergence(affinities.P, main.coordinates)
        kl_start, gradient0 = kl_divergence(affinities.P, init)
        grad_final = float(np.sqrt(np.mean(np.sum(gradient**2, axis=1))))
        grad_init = float(np.sqrt(np.mean(np.sum(gradient0**2, axis=1))))
    return AffinityCheck(perplexity=main.perplexity, sigma_by_label=summary.reset_index(),
                         max_perplexity_error=error, kl_exact=kl_exact, kl_start=kl_start,
                         kl_reported=main.kl_divergence, gradient_norm_init=grad_init,
                         gradient_norm_final=grad_final, sigma=affinities.sigma)


@dataclass
class _PointScores:
    """Per-customer scores of the main t-SNE map, PCA and the data, on the scorecard rows, for
    the paired bootstraps behind the verdicts."""

    trust: dict[str, np.ndarray]
    continuity: dict[str, np.ndarray]
    correct: dict[str, np.ndarray]


def _scorecard(X: np.ndarray, labels: np.ndarray | None, embeddings: list[Embedding],
               sample: np.ndarray, ks: tuple[int, ...], k_compare: int, compared: set[str],
               config: ClusteringConfig
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict, _PointScores]:
    """Neighbourhood scores per (embedding, k), one summary row per embedding, and the
    per-customer scores of the ``compared`` embeddings (and the data) at ``k_compare``."""
    Xs = X[sample]
    ls = labels[sample] if labels is not None else None
    few = sample[:SPEARMAN_POINTS]
    n_pairs = few.size * (few.size - 1) // 2
    pairs = _rng(config, "Shepard pairs").choice(n_pairs, size=min(SHEPARD_PAIRS, n_pairs),
                                                 replace=False)
    # The same folds for every map, so that their per-customer predictions are paired.
    folds_seed = _seed(config, "segment accuracy folds")
    data_distances = pdist(X[few])
    points = _PointScores(trust={}, continuity={}, correct={})
    neighbourhood_rows, summary_rows, shepard = [], [], {}
    data_name = f"data ({X.shape[1]} features)"
    if ls is not None:
        points.correct[data_name] = metrics.knn_correct(Xs, ls, KNN_CLASSIFIER_K, KNN_FOLDS,
                                                        random_state=folds_seed)
        summary_rows.append({"embedding": data_name, "method": "—",
                             "Spearman distance correlation": 1.0,
                             ACCURACY: float(np.mean(points.correct[data_name])),
                             "seconds": 0.0, "KL divergence": None})
    for emb in progress.progress(embeddings, desc="faithfulness scorecard"):
        Ys = emb.coordinates[sample]
        scores = metrics.neighbourhood_scores(Xs, Ys, ks)
        for j, k in enumerate(ks):
            neighbourhood_rows.append({"embedding": emb.name, "k": k,
                                       **{name: values[j] for name, values in scores.items()}})
        if emb.name in compared:
            per_point = metrics.neighbourhood_point_scores(Xs, Ys, k_compare)
            points.trust[emb.name] = per_point["trustworthiness"]
            points.continuity[emb.name] = per_point["continuity"]
        accuracy = None
        if ls is not None:
            correct = metrics.knn_correct(Ys, ls, KNN_CLASSIFIER_K, KNN_FOLDS,
                                          random_state=folds_seed)
            points.correct[emb.name] = correct
            accuracy = float(np.mean(correct))
        map_distances = pdist(emb.coordinates[few])
        shepard[emb.name] = (data_distances[pairs], map_distances[pairs])
        summary_rows.append({
            "embedding": emb.name, "method": emb.method,
            "Spearman distance correlation": metrics.distance_correlation(X[few],
                                                                          emb.coordinates[few]),
            ACCURACY: accuracy, "seconds": emb.seconds, "KL divergence": emb.kl_divergence})
    return pd.DataFrame(neighbourhood_rows), pd.DataFrame(summary_rows), shepard, points


def _stability(X: np.ndarray, pca_map: np.ndarray, main_map: np.ndarray | None,
               perplexity: float, config: ClusteringConfig, sample: np.ndarray
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Maps from different seeds, with PCA and with random initialisation, compared pairwise
    on the rows ``sample`` by Procrustes disparity (after optimal rotation, scaling and
    reflection) and by the overlap of their 15-nearest-neighbour sets. ``main_map`` is the
    main PCA-initialised map of ``X`` when it exists already (then it is map 1 of the PCA
    starts). Also the distance correlation of every PCA-initialised map and of ``pca_map`` on
    the first ``SPEARMAN_POINTS`` rows of ``sample``, the replicates of the global verdict."""
    runs: dict[tuple[str, int], np.ndarray] = {}
    if main_map is not None:
        runs[("pca", 1)] = main_map
    jobs = [(init, i) for init in ("pca", "random")
            for i in range(1, config.stability_seeds + 1) if (init, i) not in runs]
    for init, i in progress.progress(jobs, desc="t-SNE seed stability"):
        # Each map has its own stream: adding seeds never changes the maps already there.
        runs[(init, i)] = opentsne_embedding(
            X, perplexity, _seed(config, "stability", init, str(i)), config.n_jobs,
            initialization=init).coordinates
    rows = []
    for init in ("pca", "random"):
        keys = sorted(key for key in runs if key[0] == init)
        for a in range(len(keys)):
            for b in range(a + 1, len(keys)):
                first, second = runs[keys[a]][sample], runs[keys[b]][sample]
                _, _, disparity = procrustes(first, second)
                order_a, _ = metrics.neighbour_ranks(first)
                order_b, _ = metrics.neighbour_ranks(second)
                overlap = metrics.neighbour_overlap(order_a, order_b, STABILITY_K)
                rows.append({"initialisation": init, "maps": f"{keys[a][1]} vs {keys[b][1]}",
                             "Procrustes disparity": disparity,
                             f"{STABILITY_K}-NN overlap": overlap})
    few = sample[:SPEARMAN_POINTS]
    pca_rho = metrics.distance_correlation(X[few], pca_map[few])
    seed_rows = []
    for key in sorted(key for key in runs if key[0] == "pca"):
        rho = metrics.distance_correlation(X[few], runs[key][few])
        seed_rows.append({"map": key[1], "t-SNE distance correlation": rho,
                          "PCA distance correlation": pca_rho, "PCA minus t-SNE": pca_rho - rho})
    return pd.DataFrame(rows), pd.DataFrame(seed_rows)


# Full-covariance Gaussian mixtures cost O(k d^3) per step: at 2,000 columns the data-space
# mixtures took most of a run. Above this many columns the data space is clustered on its first
# principal components (the table's "dimensions" column says how many), which keep the
# cluster structure that a mixture on a few hundred rows can estimate at all.
MAX_MIXTURE_DIMENSIONS = 50


def _clustering(spaces: dict[str, np.ndarray], labels: np.ndarray | None,
                config: ClusteringConfig) -> pd.DataFrame:
    true_k = int(np.unique(labels).size) if labels is not None else None
    rows = []
    for name, Z in progress.progress(list(spaces.items()), desc="clustering"):
        found = metrics.cluster_agreement(
            Z, labels, config.max_clusters, true_k,
            random_state=_seed(config, "clusterers", name, "Gaussian mixture"),
            kmeans_random_state=_seed(config, "clusterers", name, "k-means"))
        rows.append({"space": name, "dimensions": int(Z.shape[1]), **found})
    return pd.DataFrame(rows)


def _placement(X: np.ndarray, labels: np.ndarray | None, config: ClusteringConfig
               ) -> Placement:
    from sklearn.manifold import TSNE

    n = X.shape[0]
    n_new = max(1, round(config.holdout_fraction * n))
    order = _rng(config, "placement", "split").permutation(n)
    new, train = np.sort(order[:n_new]), np.sort(order[n_new:])
    fitted, seconds_fit = opentsne_map(X[train], config.main_perplexity,
                                       _seed(config, "placement", "map"), config.n_jobs)
    started = time.perf_counter()
    placed = np.asarray(fitted.transform(X[new]))
    seconds_place = time.perf_counter() - started
    train_map = np.asarray(fitted)

    def recall(queries_x, queries_y, exclude_self: bool) -> float:
        k = STABILITY_K + int(exclude_self)
        in_data = NearestNeighbors(n_neighbors=k).fit(X[train]).kneighbors(
            queries_x, return_distance=False)[:, int(exclude_self):]
        in_map = NearestNeighbors(n_neighbors=k).fit(train_map).kneighbors(
            queries_y, return_distance=False)[:, int(exclude_self):]
        return metrics.neighbour_overlap(in_data, in_map, STABILITY_K)

    reference = _rng(config, "placement", "reference rows").choice(
        train.size, size=min(n_new, train.size), replace=False)
    accuracy_new = accuracy_data = None
    if labels is not None:
        on_map = KNeighborsClassifier(KNN_CLASSIFIER_K).fit(train_map, labels[train])
        accuracy_new = float(np.mean(on_map.predict(placed) == labels[new]))
        in_data = KNeighborsClassifier(KNN_CLASSIFIER_K).fit(X[train], labels[train])
        accuracy_data = float(np.mean(in_data.predict(X[new]) == labels[new]))
    return Placement(
        n_train=int(train.size), n_new=int(n_new), seconds_fit=seconds_fit,
        seconds_place=seconds_place, recall_new=recall(X[new], placed, False),
        recall_train=recall(X[train][reference], train_map[reference], True),
        accuracy_new=accuracy_new, accuracy_data=accuracy_data,
        sklearn_can_transform=hasattr(TSNE(), "transform"), train_map=train_map, new_map=placed,
        train_labels=labels[train] if labels is not None else None,
        new_labels=labels[new] if labels is not None else None)


def _life_stage(life_stage: np.ndarray, spaces: dict[str, np.ndarray], seed: int
                ) -> pd.DataFrame:
    """How well the position along the life-stage trajectory can be read off each space:
    cross-validated R^2 of a 10-NN regression of the position on the coordinates (the same
    folds for every space)."""
    rows = np.flatnonzero(np.isfinite(life_stage))
    return pd.DataFrame([
        {"space": name, "life-stage R²": position_r2(Z[rows], life_stage[rows], seed)}
        for name, Z in spaces.items()])


def _preview(data: ClusteringData) -> pd.DataFrame:
    table = data.table
    columns = list(table.columns)
    if table.shape[1] > 12:
        columns = columns[:10] + columns[-2:]
    return table.loc[: 5, columns].reset_index(drop=True)


def _constants(config: ClusteringConfig, accuracy_folds: int | None) -> dict[str, object]:
    """The fixed settings the report quotes, so that every number it shows is in the JSON."""
    return {
        "knn_classifier_k": KNN_CLASSIFIER_K, "knn_folds": KNN_FOLDS,
        "accuracy_folds": accuracy_folds, "stability_k": STABILITY_K,
        "spearman_points": SPEARMAN_POINTS, "shepard_pairs": SHEPARD_PAIRS,
        "exact_kl_limit": EXACT_KL_LIMIT, "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
        "noise_perplexities": list(NOISE_PERPLEXITIES), "pitfall_perplexity": PITFALL_PERPLEXITY,
        "pitfall_dimensions": DIMENSIONS, "position_k": POSITION_K,
        "position_folds": POSITION_FOLDS, "n_top_loadings": N_TOP_LOADINGS,
        "max_levels": MAX_LEVELS, "skew_threshold": SKEW_THRESHOLD,
        "n_noise_columns": N_NOISE_COLUMNS, "n_segments": len(SEGMENTS),
        "fft_from": FFT_FROM, "n_iter_exaggeration": N_ITER_EXAGGERATION,
        "max_mixture_dimensions": MAX_MIXTURE_DIMENSIONS,
        "n_iter_main": N_ITER_MAIN, "n_iter_total": N_ITER_EXAGGERATION + N_ITER_MAIN,
        "early_exaggeration": EARLY_EXAGGERATION,
        "default_perplexities": list(ClusteringConfig.perplexities),
        "default_main_perplexity": ClusteringConfig.main_perplexity,
        # The thresholds of the verdicts (also in each verdict's ``threshold``).
        "majority_share": rules.MAJORITY_SHARE,
        "clearly_more_reproducible": rules.CLEARLY_MORE_REPRODUCIBLE,
        "most_neighbours_agree": rules.MOST_NEIGHBOURS_AGREE,
        "converged_gradient_fall": rules.CONVERGED_GRADIENT_FALL,
        "dominant_squared_loading": rules.DOMINANT_SQUARED_LOADING,
        "equalised_spread_factor": rules.EQUALISED_SPREAD_FACTOR,
        "looks_equal_ratio": rules.LOOKS_EQUAL_RATIO,
        "compressed_distance_factor": rules.COMPRESSED_DISTANCE_FACTOR,
    }


def run(config: ClusteringConfig, data: ClusteringData) -> ClusteringResult:
    """Run the whole comparison on ``data``.

    Parameters
    ----------
    config : ClusteringConfig
    data : ClusteringData

    Returns
    -------
    ClusteringResult
    """
    # The matrices here are small (n x 33): multi-threaded BLAS only adds contention, which
    # made the Gaussian-mixture fits a hundred times slower on a busy two-core machine.
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(config, data)


def _run(config: ClusteringConfig, data: ClusteringData) -> ClusteringResult:
    timer = StageTimer()
    X, labels = data.features, data.labels
    n = X.shape[0]
    rows_rng = _rng(config, "scorecard rows")
    sample = np.sort(rows_rng.choice(n, size=min(n, config.metric_sample), replace=False))
    sample = rows_rng.permutation(sample)  # Spearman uses the first points: keep them random
    # Trustworthiness is defined for k below half the points scored.
    ks = tuple(k for k in config.neighbours if 2 * k + 2 <= sample.size)
    k_compare = ks[len(ks) // 2]
    # On large tables the extra maps and the clustering use a random subsample (config).
    work = (np.sort(_rng(config, "subsample").choice(n, size=config.subsample_rows,
                                                     replace=False))
            if n > config.large_rows else np.arange(n))

    with timer.stage("PCA"):
        progress.status("[clustering] PCA and parallel analysis")
        pca = fit_pca(X)
        parallel = parallel_analysis(X, config.parallel_analysis_draws,
                                     random_state=_seed(config, "parallel analysis"))
        n_shown = min(3, pca.components.shape[0])
        reconstruction = pd.DataFrame({
            "components": np.arange(1, pca.components.shape[0] + 1),
            "cumulative variance": np.cumsum(pca.explained_variance_ratio),
            "reconstruction MSE": [pca_reconstruction_error(pca, X, k)
                                   for k in range(1, pca.components.shape[0] + 1)]})
        pca_embedding = Embedding(name=PCA_NAME, method="PCA (SVD, this package)",
                                  coordinates=pca.scores[:, :2].copy(), seconds=0.0)
        started = time.perf_counter()
        fit_pca(X)
        pca_embedding.seconds = time.perf_counter() - started

    with timer.stage("t-SNE perplexity sweep"):
        sweep = [opentsne_embedding(X, p, _seed(config, "t-SNE", f"perplexity {p:g}"),
                                    config.n_jobs)
                 for p in progress.progress(config.perplexities, desc="t-SNE perplexity sweep")]
    main = next(e for e in sweep if e.perplexity == config.main_perplexity)
    embeddings = [pca_embedding, *sweep]
    sklearn_name = None
    if config.reference_sklearn:
        with timer.stage("scikit-learn t-SNE reference"):
            progress.status("[clustering] scikit-learn TSNE reference map")
            reference = sklearn_embedding(X, config.main_perplexity,
                                          _seed(config, "t-SNE", "scikit-learn reference"),
                                          config.n_jobs)
            embeddings.append(reference)
            sklearn_name = reference.name

    with timer.stage("affinities and KL check"):
        # The PCA layout at the scale of the final map: where the optimisation started, up to
        # a rescaling, so that KL and gradient are compared at the same spread.
        start = pca.scores[:, :2] / pca.scores[:, :2].std() * main.coordinates.std()
        affinity = _affinity_check(X, labels, main, start, config.n_jobs)

    with timer.stage("scorecard"):
        neighbourhoods, scorecard, shepard, points = _scorecard(
            X, labels, embeddings, sample, ks, k_compare, {main.name, PCA_NAME}, config)

    with timer.stage("seed stability"):
        if work.size == n:
            stability, seed_scores = _stability(X, pca.scores[:, :2], main.coordinates,
                                                main.perplexity, config, sample)
        else:
            compare = _rng(config, "stability rows").permutation(work.size)
            stability, seed_scores = _stability(X[work], pca.scores[work, :2], None,
                                                main.perplexity, config,
                                                compare[:config.metric_sample])
    overlap = f"{STABILITY_K}-NN overlap"
    stability_summary = (stability.groupby("initialisation", sort=False)
                         [["Procrustes disparity", overlap]].mean().reset_index())

    k_keep = max(parallel.n_components, 2)
    data_space, map_space = f"data ({X.shape[1]} features)", f"{main.name} map"
    spaces = {data_space: X,
              f"PCA ({k_keep} components)": pca.scores[:, :k_keep],
              PCA_NAME: pca.scores[:, :2],
              map_space: main.coordinates}
    work_labels = labels[work] if labels is not None else None
    with timer.stage("clustering"):
        clustered = {name: Z[work] for name, Z in spaces.items()}
        if X.shape[1] > MAX_MIXTURE_DIMENSIONS:
            clustered[data_space] = pca.scores[work, :MAX_MIXTURE_DIMENSIONS]
        clustering = _clustering(clustered, work_labels, config)

    with timer.stage("placing new customers"):
        progress.status("[clustering] placing held-out customers into a map")
        placement = _placement(X[work], work_labels, config)

    life = None
    if data.life_stage is not None:
        life = _life_stage(data.life_stage, spaces, _seed(config, "life-stage folds"))

    with timer.stage("pitfalls"):
        progress.status("[clustering] pitfalls on synthetic data")
        m = config.pitfall_points
        noise = noise_pitfall(m, NOISE_PERPLEXITIES, _seed(config, "pitfall", "noise"),
                              config.n_jobs)
        spread = spread_pitfall(m, PITFALL_PERPLEXITY, _seed(config, "pitfall", "spread"),
                                config.n_jobs)
        distances = distance_pitfall(m, PITFALL_PERPLEXITY,
                                     _seed(config, "pitfall", "distance"), config.n_jobs)
        trajectory = trajectory_pitfall(m, PITFALL_PERPLEXITY,
                                        _seed(config, "pitfall", "trajectory"), config.n_jobs)

    sweep_sorted = sorted(sweep, key=lambda e: e.perplexity)
    scores = scorecard.set_index("embedding")
    rho = scores["Spearman distance correlation"]
    best_trust = max(sweep_sorted, key=lambda e: _lookup(neighbourhoods, e.name, k_compare,
                                                         "trustworthiness")).name
    best_rho = max(sweep_sorted, key=lambda e: float(rho[e.name])).name
    scaling = _scaling_comparison(data, pca)
    loadings = _loadings(pca, data.feature_names, n_shown)
    top_loadings = _top_loadings(loadings)
    pca2_share = float(np.sum(pca.explained_variance_ratio[:2]))
    clustering_by_space = clustering.set_index("space")
    with timer.stage("verdicts"):
        verdicts = _verdicts(
            config=config, main=main.name, data_space=data_space, map_space=map_space,
            sweep=sweep_sorted, scorecard=scores, points=points, seed_scores=seed_scores,
            stability_summary=stability_summary.set_index("initialisation"),
            clustering=clustering_by_space if labels is not None else None,
            pca2_share=pca2_share, best_trust=best_trust, best_rho=best_rho,
            affinity=affinity, scaling=scaling.set_index("features"), noise=noise,
            spread=spread, distances=distances, trajectory=trajectory,
            life=life.set_index("space")["life-stage R²"] if life is not None else None)

    sizes = segments = None
    if labels is not None:
        values, counts = np.unique(labels, return_counts=True)
        sizes = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        segments = pd.DataFrame({data.label_name or "segment": [str(v) for v in values],
                                 "rows": counts.astype(int), "share": counts / counts.sum()})
    folds = metrics.accuracy_folds(labels[sample], KNN_FOLDS) if labels is not None else None
    return ClusteringResult(
        verdicts=verdicts, stage_seconds=timer.seconds, config=config,
        constants=_constants(config, folds), kind=data.kind,
        source=data.source, n_rows=n, n_features=X.shape[1], feature_names=data.feature_names,
        label_name=data.label_name, segment_sizes=sizes, segments=segments,
        preprocessing=data.preprocessing, preview=_preview(data),
        minimum_rows=minimum_rows(config), largest_perplexity=float(max(config.perplexities)),
        # Each point needs 3 x perplexity neighbours among the n - 1 others (openTSNE).
        max_perplexity=int((n - 2) / 3),
        explained_variance=pca.explained_variance,
        explained_variance_ratio=pca.explained_variance_ratio,
        pca2_variance_share=pca2_share,
        parallel_variance_share=float(np.sum(
            pca.explained_variance_ratio[:parallel.n_components])),
        parallel=parallel, loadings=loadings, top_loadings=top_loadings,
        pc1_top_features=list(top_loadings["PC1 feature"]), reconstruction=reconstruction,
        scaling=scaling, main_name=main.name, sklearn_name=sklearn_name, embeddings=embeddings,
        sweep_names=[e.name for e in sweep_sorted], affinity=affinity,
        neighbourhoods=neighbourhoods, scorecard=scorecard, comparison_k=k_compare,
        best_trust_map=best_trust, best_distance_map=best_rho,
        tsne_time_ratio=(main.seconds / pca_embedding.seconds
                         if pca_embedding.seconds > 0 else float("nan")),
        metric_rows=int(sample.size), spearman_rows=int(min(sample.size, SPEARMAN_POINTS)),
        accuracy_folds=folds, neighbours=list(ks),
        subsample_rows=int(work.size) if work.size < n else None, stability=stability,
        stability_summary=stability_summary, seed_scores=seed_scores, clustering=clustering,
        placement=placement, life_stage=life, noise=noise, spread=spread, distances=distances,
        trajectory=trajectory,
        labels=labels, life_stage_position=data.life_stage, shepard=shepard)


def _difference(first: np.ndarray, second: np.ndarray, config: ClusteringConfig,
                name: str) -> Estimate:
    """Paired bootstrap over customers of the mean of ``first - second`` (per-customer
    scores on the same rows), with its own random stream."""
    return bootstrap_ci(lambda a, b: float(np.mean(a - b)), first.astype(float),
                        second.astype(float), n_resamples=BOOTSTRAP_RESAMPLES,
                        random_state=_rng(config, "bootstrap", name), desc=f"bootstrap {name}")


def _verdicts(*, config: ClusteringConfig, main: str, data_space: str, map_space: str,
              sweep: list[Embedding], scorecard: pd.DataFrame, points: _PointScores,
              seed_scores: pd.DataFrame, stability_summary: pd.DataFrame,
              clustering: pd.DataFrame | None, pca2_share: float, best_trust: str,
              best_rho: str, affinity: AffinityCheck, scaling: pd.DataFrame,
              noise: NoisePitfall, spread: SpreadPitfall, distances: DistancePitfall,
              trajectory: TrajectoryPitfall, life: pd.Series | None) -> dict[str, Verdict]:
    """Every conclusion the report states, from the rules of
    :mod:`casestudies.clustering.verdicts`."""
    found: list[Verdict] = []
    bootstrap_rule = ("paired bootstrap over customers of their per-customer {what} (the "
                      "neighbour ranks held fixed): holds when the 95% interval of the mean "
                      "difference lies above 0, fails when it lies at or below 0")
    found.append(rules.paired_difference(
        "tsne_keeps_local_better",
        _difference(points.trust[main], points.trust[PCA_NAME], config, "trustworthiness"),
        rule="t-SNE minus PCA trustworthiness at the comparison k; "
             + bootstrap_rule.format(what="trustworthiness contributions"), unit="customers"))
    found.append(rules.paired_difference(
        "tsne_tears_fewer_neighbourhoods",
        _difference(points.continuity[main], points.continuity[PCA_NAME], config,
                    "continuity"),
        rule="t-SNE minus PCA continuity at the comparison k; "
             + bootstrap_rule.format(what="continuity contributions"), unit="customers"))
    rho = scorecard["Spearman distance correlation"]
    found.append(rules.difference_over_seeds(
        "pca_keeps_global_better", float(rho[PCA_NAME] - rho[main]),
        seed_scores["PCA minus t-SNE"].tolist(),
        rule="PCA minus t-SNE Spearman distance correlation, for the main map and the map of "
             "every stability seed (PCA initialisation): holds when positive for all of them, "
             "fails when zero or negative for all, undecided when the seeds disagree"))
    if points.correct:
        accuracy_rule = ("{first} minus {second} cross-validated 10-NN segment accuracy; paired "
                         "bootstrap over customers of whether each one is classified right: "
                         "holds when the 95% interval lies above 0, fails when it lies at or "
                         "below 0")
        found.append(rules.paired_difference(
            "tsne_reads_segments_better",
            _difference(points.correct[main], points.correct[PCA_NAME], config,
                        "segment accuracy"),
            rule=accuracy_rule.format(first="t-SNE", second="PCA"), unit="customers"))
        found.append(rules.paired_difference(
            "tsne_reads_segments_better_than_data",
            _difference(points.correct[main], points.correct[data_space], config,
                        "segment accuracy against the data"),
            rule=accuracy_rule.format(first="t-SNE", second="full-data"), unit="customers"))
    found.append(point_above(
        "pca_map_shows_most_variance", pca2_share, rules.MAJORITY_SHARE,
        rule="point value: share of variance kept by two principal components, above one half"))
    found.append(rules.different_picks(
        "sweep_trades_local_for_global", best_trust, best_rho,
        rule="the sweep's most trustworthy map (at the comparison k) is not the one with the "
             "highest distance correlation (point values)"))
    if len(sweep) > 1:
        found.append(rules.monotone_rise(
            "distance_correlation_rises_with_perplexity",
            [float(rho[e.name]) for e in sweep],
            rule="point values over the sweep in order of perplexity: holds when the distance "
                 "correlation rises at every step, fails when it falls at every step, "
                 "undecided when it does both"))
    disparity = stability_summary["Procrustes disparity"]
    found.append(rules.ratio_below(
        "pca_start_more_reproducible", float(disparity["pca"] / disparity["random"]),
        rules.CLEARLY_MORE_REPRODUCIBLE,
        rule="point value: mean seed-to-seed Procrustes disparity with PCA initialisation "
             "divided by that with random initialisation; holds below the threshold (clearly "
             "more reproducible), fails at 1 or above, undecided in between (marginally)"))
    overlap = stability_summary[f"{STABILITY_K}-NN overlap"]
    found.append(point_above(
        "neighbourhoods_agree_across_seeds", float(overlap.min()),
        rules.MOST_NEIGHBOURS_AGREE,
        rule="point value: the smaller of the two initialisations' mean 15-NN overlap between "
             "seeds, above one half"))
    if clustering is not None:
        d, m = clustering.loc[data_space], clustering.loc[map_space]
        found.append(rules.both_lower(
            "map_clustering_worse_than_data", [m["kmeans_ari"], m["gmm_ari"]],
            [d["kmeans_ari"], d["gmm_ari"]],
            rule="point values: ARI of k-means and of the BIC Gaussian mixture on the t-SNE "
                 "map against the same in the data; holds when both are lower on the map, "
                 "fails when both are higher, undecided otherwise"))
        found.append(rules.equal_flag(
            "data_mixture_at_largest_k", int(d["gmm_k"]), config.max_clusters,
            rule="the BIC-chosen number of mixture components in the data equals the largest "
                 "number tried"))
    if affinity.gradient_norm_init is not None and affinity.gradient_norm_final is not None:
        found.append(rules.gradient_converged("optimisation_converged",
                                              affinity.gradient_norm_init,
                                              affinity.gradient_norm_final))
    found.append(point_above(
        "unscaled_pc1_is_one_column", float(scaling.loc["unscaled", "its squared loading"]),
        rules.DOMINANT_SQUARED_LOADING,
        rule="point value: largest squared loading of the unstandardised first component, "
             "above one half"))
    found.append(rules.point_difference(
        "noise_clusters_on_map", float(noise.clusters_maps[0]), float(noise.clusters_data),
        rule="point values: HDBSCAN clusters on the low-perplexity map of pure noise minus "
             "those in the noise itself, above 0"))
    found.append(rules.point_below(
        "tsne_equalises_spread", spread.ratio_tsne / spread.ratio_data,
        rules.EQUALISED_SPREAD_FACTOR,
        rule="point value: the radius ratio on the t-SNE map divided by that in the data, "
             "below the threshold"))
    found.append(rules.point_below(
        "tsne_spreads_look_equal", spread.ratio_tsne, rules.LOOKS_EQUAL_RATIO,
        rule="point value: the radius ratio of the two clusters on the t-SNE map, below the "
             "threshold"))
    found.append(rules.point_below(
        "tsne_compresses_distances", distances.ratio_tsne / distances.ratio_data,
        rules.COMPRESSED_DISTANCE_FACTOR,
        rule="point value: d(A,C)/d(A,B) on the t-SNE map divided by that in the data, below "
             "the threshold"))
    found.append(rules.point_difference(
        "tsne_keeps_helix_order", trajectory.r2_tsne, trajectory.r2_pca,
        rule="point values: cross-validated R² of the position along the helix, t-SNE minus "
             "2-D PCA, above 0"))
    if life is not None:
        found.append(rules.point_difference(
            "tsne_keeps_life_stage_order", float(life[map_space]), float(life[PCA_NAME]),
            rule="point values: cross-validated R² of the life-stage position, t-SNE minus "
                 "2-D PCA, above 0"))
    return {v.name: v for v in found}


def _lookup(table: pd.DataFrame, name: str, k: int, column: str) -> float:
    return float(table[(table["embedding"] == name) & (table["k"] == k)][column].iloc[0])
