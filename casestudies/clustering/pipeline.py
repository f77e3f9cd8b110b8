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
from casestudies.clustering import choosing_k, islands, maps, metrics, scoring, small_data
from casestudies.clustering import verdicts as rules
from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import (
    MAX_LEVELS,
    N_NOISE_COLUMNS,
    SEGMENTS,
    SKEW_THRESHOLD,
    ClusteringData,
    Preprocessing,
    TableReading,
    distance_budget,
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
from casestudies.clustering.small_data import Adaptation
from casestudies.clustering.tsne import (
    EARLY_EXAGGERATION,
    EXAGGERATE_FROM,
    FFT_FROM,
    LARGE_N_EXAGGERATION,
    N_ITER_EXAGGERATION,
    N_ITER_MAIN,
    Embedding,
    joint_affinities,
    kl_divergence,
    opentsne_affinities,
    opentsne_on_affinities,
    place_new_points,
    sklearn_embedding,
)
from casestudies.clustering.umap_map import MIN_DIST, N_NEIGHBOURS, umap_embedding
from casestudies.provenance import StageTimer
from casestudies.results import StudyResult
from casestudies.rng import stream, stream_seed
from casestudies.stats import Estimate
from casestudies.tables import IDENTIFIER_UNIQUE_SHARE, MAX_DROPPED_SHARE
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
KNC_K = 2  # class means compared by KNC (of 5 simulated segments; fewer classes, fewer means)
KNC = f"KNC ({KNC_K} nearest segment means)"
RHO_POINTS = 400  # rows whose pairwise distances the distance-correlation intervals resample
RHO_RESAMPLES = 200
PCA_NAME = "PCA 2-D"
UMAP_NAME = "UMAP"


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
class RealCustomers:
    """PCA, t-SNE and UMAP scored on the real Caravan customers, beside the simulated ones.

    Attributes
    ----------
    source : str
    n_rows, n_features : int
    duplicates_dropped : int
    group_note : str
    scorecard : DataFrame
        One row per map: trustworthiness and continuity at k, distance correlation, segment
        accuracy (postcode groups kept in one fold), KNC, islands and their AMI with the main
        type, and the column that explains the islands best.
    comparisons : DataFrame
        Differences between the methods with 95% intervals over resampled customers (one map
        per method here).
    k : int
    """

    source: str
    n_rows: int
    n_features: int
    duplicates_dropped: int
    group_note: str | None
    scorecard: pd.DataFrame
    comparisons: pd.DataFrame
    k: int
    verdicts: dict[str, Verdict]
    maps: dict[str, np.ndarray] = field(metadata={"json": False})
    labels: np.ndarray = field(metadata={"json": False})


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
    config : ClusteringConfig
        The settings used: the options given, with the defaults a small table cannot support
        shrunk (``adaptations`` says which).
    adaptations : list of Adaptation
        Each default that shrank to fit the rows, with the value used and why
        (:mod:`casestudies.clustering.small_data`).
    smallest_table : int
        Fewest rows any run accepts.
    reading : TableReading or None
        How a user's table was read and cleaned: dialect, missing values per column.
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
    budget: pd.DataFrame
    comparisons: pd.DataFrame
    island_summary: pd.DataFrame
    attribution: pd.DataFrame
    neighbour_levels: pd.DataFrame
    category_most_shared: str | None
    umap_name: str
    pca_first_components: int
    mean_feature_variance: float
    real_customers: RealCustomers | None
    real_customers_note: str | None
    k_curves: pd.DataFrame
    edge_choices: list[str]
    duplicates_dropped: int
    group_note: str | None
    adaptations: list[Adaptation]
    smallest_table: int
    reading: TableReading | None
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
        names = ("scorecard", "comparisons", "k_curves", "neighbourhoods", "budget",
                 "island_summary",
                 "attribution", "neighbour_levels", "stability", "seed_scores", "clustering",
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


def _scorecard(X: np.ndarray, labels: np.ndarray | None, embeddings: list[Embedding],
               sample: np.ndarray, ks: tuple[int, ...], config: ClusteringConfig,
               groups: np.ndarray | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Neighbourhood scores per (embedding, k), one summary row per embedding (distance
    correlation, segment accuracy, KNC, seconds, KL) and the Shepard pairs."""
    Xs = X[sample]
    ls = labels[sample] if labels is not None else None
    gs = groups[sample] if groups is not None else None
    few = sample[:SPEARMAN_POINTS]
    n_pairs = few.size * (few.size - 1) // 2
    pairs = _rng(config, "Shepard pairs").choice(n_pairs, size=min(SHEPARD_PAIRS, n_pairs),
                                                 replace=False)
    folds_seed = _seed(config, "segment accuracy folds")
    data_distances = pdist(X[few])
    neighbourhood_rows, summary_rows, shepard = [], [], {}
    data_name = f"data ({X.shape[1]} features)"
    if ls is not None:
        correct = metrics.knn_correct(Xs, ls, KNN_CLASSIFIER_K, KNN_FOLDS,
                                      random_state=folds_seed, groups=gs)
        summary_rows.append({"embedding": data_name, "method": "—",
                             "Spearman distance correlation": 1.0,
                             ACCURACY: float(np.mean(correct)), KNC: 1.0,
                             "seconds": 0.0, "KL divergence": None})
    for emb in progress.progress(embeddings, desc="faithfulness scorecard"):
        Ys = emb.coordinates[sample]
        scores = metrics.neighbourhood_scores(Xs, Ys, ks)
        for j, k in enumerate(ks):
            neighbourhood_rows.append({"embedding": emb.name, "k": k,
                                       **{name: values[j] for name, values in scores.items()}})
        accuracy = knc = None
        if ls is not None:
            correct = metrics.knn_correct(Ys, ls, KNN_CLASSIFIER_K, KNN_FOLDS,
                                          random_state=folds_seed, groups=gs)
            accuracy = float(np.mean(correct))
            knc = scoring.k_nearest_classes(Xs, Ys, ls, KNC_K)
        map_distances = pdist(emb.coordinates[few])
        shepard[emb.name] = (data_distances[pairs], map_distances[pairs])
        summary_rows.append({
            "embedding": emb.name, "method": emb.method,
            "Spearman distance correlation": metrics.distance_correlation(X[few],
                                                                          emb.coordinates[few]),
            ACCURACY: accuracy, KNC: knc, "seconds": emb.seconds,
            "KL divergence": emb.kl_divergence})
    return pd.DataFrame(neighbourhood_rows), pd.DataFrame(summary_rows), shepard


COMPARED = (("t-SNE", "PCA"), ("UMAP", "PCA"), ("t-SNE", "UMAP"))
"""The pairs of methods whose scores the answer compares (first minus second)."""

SCORES = {"trustworthiness": "trustworthiness", "accuracy": "segment accuracy",
          "distances": "distance correlation", "islands": "segment recovery"}


def _comparisons(X: np.ndarray, labels: np.ndarray | None, methods: dict[str, list[np.ndarray]],
                 islands: dict[str, list[np.ndarray]], island_labels: np.ndarray | None,
                 sample: np.ndarray, k: int, config: ClusteringConfig, stream_name: str,
                 groups: np.ndarray | None = None
                 ) -> tuple[pd.DataFrame, dict[tuple[str, str, str], Estimate]]:
    """Every method against every other on each score, with intervals over seeds and customers
    (:mod:`casestudies.clustering.scoring`).

    ``methods`` maps ``"PCA"``, ``"t-SNE"`` and ``"UMAP"`` to their maps (one per seed, each of
    shape (n, 2)); ``islands`` to the island labels of each of those maps (on the rows whose
    known segments are ``island_labels``). Returns the table
    (one row per score and pair) and the estimates by (score, first, second)."""
    Xs = X[sample]
    ls = labels[sample] if labels is not None else None
    _, ranks_x = metrics.neighbour_ranks(Xs)
    trust: dict[str, list[np.ndarray]] = {}
    correct: dict[str, list[np.ndarray]] = {}
    folds_seed = _seed(config, "segment accuracy folds")
    for name, seed_maps in methods.items():
        trust[name], correct[name] = [], []
        for Y in seed_maps:
            order_y, _ = metrics.neighbour_ranks(Y[sample])
            trust[name].append(metrics._rank_penalty_points(ranks_x, order_y, k))
            if ls is not None:
                correct[name].append(metrics.knn_correct(
                    Y[sample], ls, KNN_CLASSIFIER_K, KNN_FOLDS, random_state=folds_seed,
                    groups=groups[sample] if groups is not None else None))
    estimates: dict[tuple[str, str, str], Estimate] = {}
    for first, second in COMPARED:
        rng = _rng(config, stream_name, "trustworthiness", first, second)
        estimates[("trustworthiness", first, second)] = scoring.seed_customer_interval(
            trust[first], trust[second], rng, BOOTSTRAP_RESAMPLES)
        if ls is not None:
            rng = _rng(config, stream_name, "accuracy", first, second)
            estimates[("accuracy", first, second)] = scoring.seed_customer_interval(
                correct[first], correct[second], rng, BOOTSTRAP_RESAMPLES)
    few = sample[:RHO_POINTS]
    rho = scoring.distance_correlation_intervals(
        X[few], {name: [Y[few] for Y in runs] for name, runs in methods.items()}, COMPARED,
        _rng(config, stream_name, "distance correlation"), RHO_RESAMPLES)
    for pair, estimate in rho.items():
        estimates[("distances", *pair)] = estimate
    if labels is not None and islands:
        from sklearn.metrics import adjusted_mutual_info_score

        recovery = {name: [float(adjusted_mutual_info_score(island_labels, found))
                           for found in runs]
                    for name, runs in islands.items()}
        for first, second in COMPARED:
            estimates[("islands", first, second)] = scoring.seed_range(recovery[first],
                                                                       recovery[second])
    rows = [{"score": SCORES[score], "comparison": f"{first} minus {second}",
             "difference": e.value, "low": e.low, "high": e.high,
             "interval over": ("seeds (range)" if score == "islands" else
                               "seeds and half-subsamples of customers" if score == "distances"
                               else "seeds and resampled customers")}
            for (score, first, second), e in estimates.items()]
    return pd.DataFrame(rows), estimates


def _stability(X: np.ndarray, pca_map: np.ndarray, replicates: dict[str, list[np.ndarray]],
               sample: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Maps from different seeds (t-SNE with PCA and with random initialisation, and UMAP),
    compared pairwise on the rows ``sample`` by Procrustes disparity (after optimal rotation,
    scaling and reflection) and by the overlap of their 15-nearest-neighbour sets. Also the
    distance correlation of every PCA-initialised t-SNE map and of ``pca_map`` on the first
    ``SPEARMAN_POINTS`` rows of ``sample``."""
    rows = []
    for init, seed_maps in replicates.items():
        for a in range(len(seed_maps)):
            for b in range(a + 1, len(seed_maps)):
                first, second = seed_maps[a][sample], seed_maps[b][sample]
                _, _, disparity = procrustes(first, second)
                order_a, _ = metrics.neighbour_ranks(first)
                order_b, _ = metrics.neighbour_ranks(second)
                overlap = metrics.neighbour_overlap(order_a, order_b, STABILITY_K)
                rows.append({"initialisation": init, "maps": f"{a + 1} vs {b + 1}",
                             "Procrustes disparity": disparity,
                             f"{STABILITY_K}-NN overlap": overlap})
    few = sample[:SPEARMAN_POINTS]
    pca_rho = metrics.distance_correlation(X[few], pca_map[few])
    seed_rows = []
    for i, Y in enumerate(replicates["pca"], start=1):
        rho = metrics.distance_correlation(X[few], Y[few])
        seed_rows.append({"map": i, "t-SNE distance correlation": rho,
                          "PCA distance correlation": pca_rho, "PCA minus t-SNE": pca_rho - rho})
    return pd.DataFrame(rows), pd.DataFrame(seed_rows)


# Full-covariance Gaussian mixtures cost O(k d^3) per step: at 2,000 columns the data-space
# mixtures took most of a run. Above this many columns the data space is clustered on its first
# principal components (the table's "dimensions" column says how many), which keep the
# cluster structure that a mixture on a few hundred rows can estimate at all.
MAX_MIXTURE_DIMENSIONS = 50


def _clustering(spaces: dict[str, np.ndarray], labels: np.ndarray | None,
                config: ClusteringConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Choose k in every space by BIC (mixture) and silhouette (k-means) with bootstrap
    stability beside them (:mod:`casestudies.clustering.choosing_k`), then fit both clusterers
    with the chosen k and score them against the known segments. Returns the summary per space
    and the curves."""
    jobs = [(choosing_k.k_curves, (Z, config.max_clusters, _rng(config, "choosing k", name)),
             {}) for name, Z in spaces.items()]
    curves = maps.run_jobs(jobs, config.n_jobs, "choosing k")
    rows, long = [], []
    for (name, Z), table in zip(spaces.items(), curves, strict=True):
        chosen = choosing_k.choose(table)
        gmm_ari, kmeans_ari = choosing_k.agreement(
            Z, labels, chosen["mixture k"], chosen["k-means k"],
            _seed(config, "clusterers", name))
        at = table.set_index("k")
        rows.append({"space": name, "dimensions": int(Z.shape[1]),
                     "gmm_k": chosen["mixture k"], "gmm_ari": gmm_ari,
                     "gmm_stability": float(at.loc[chosen["mixture k"], "mixture stability"]),
                     "gmm_at_edge": chosen["mixture at edge"],
                     "kmeans_k": chosen["k-means k"], "kmeans_ari": kmeans_ari,
                     "kmeans_stability": float(at.loc[chosen["k-means k"],
                                                      "k-means stability"]),
                     "kmeans_at_edge": chosen["k-means at edge"]})
        long.append(table.assign(space=name))
    return pd.DataFrame(rows), pd.concat(long, ignore_index=True)


def _placement(X: np.ndarray, labels: np.ndarray | None, config: ClusteringConfig,
               split: tuple[np.ndarray, np.ndarray],
               fitted: tuple[np.ndarray, np.ndarray, float, float]) -> Placement:
    """Score the placement of the held-out rows ``split[0]`` into the map of ``split[1]``
    (``fitted`` from :func:`~casestudies.clustering.tsne.place_new_points`)."""
    from sklearn.manifold import TSNE

    new, train = split
    train_map, placed, seconds_fit, seconds_place = fitted

    def recall(queries_x, queries_y, exclude_self: bool) -> float:
        k = STABILITY_K + int(exclude_self)
        in_data = NearestNeighbors(n_neighbors=k).fit(X[train]).kneighbors(
            queries_x, return_distance=False)[:, int(exclude_self):]
        in_map = NearestNeighbors(n_neighbors=k).fit(train_map).kneighbors(
            queries_y, return_distance=False)[:, int(exclude_self):]
        return metrics.neighbour_overlap(in_data, in_map, STABILITY_K)

    n_new = new.size
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


def _placement_split(n: int, config: ClusteringConfig) -> tuple[np.ndarray, np.ndarray]:
    """Held-out rows and training rows of the placement check."""
    n_new = max(1, round(config.holdout_fraction * n))
    order = _rng(config, "placement", "split").permutation(n)
    return np.sort(order[:n_new]), np.sort(order[n_new:])


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
        "category_neighbour_margin": rules.CATEGORY_NEIGHBOUR_MARGIN,
        "knc_k": KNC_K, "k_rows": choosing_k.STABILITY_ROWS, "rho_points": RHO_POINTS,
        "rho_resamples": RHO_RESAMPLES,
        "umap_neighbours": N_NEIGHBOURS, "umap_min_dist": MIN_DIST,
        "large_n_exaggeration": LARGE_N_EXAGGERATION, "exaggerate_from": EXAGGERATE_FROM,
        "min_island_share": islands.MIN_ISLAND_SHARE, "min_island_size": islands.MIN_ISLAND_SIZE,
        "quantile_bins": islands.QUANTILE_BINS, "level_neighbours": islands.NEIGHBOURS,
        "max_dropped_share": MAX_DROPPED_SHARE,
        "identifier_unique_share": IDENTIFIER_UNIQUE_SHARE,
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


def _on_rows(coordinates: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """A map of the rows ``rows`` as an (n, 2) array, NaN for the rows it does not hold."""
    if rows.size == n:
        return coordinates
    full = np.full((n, coordinates.shape[1]), np.nan)
    full[rows] = coordinates
    return full


def _feature_columns(data: ClusteringData) -> dict[str, np.ndarray]:
    """The original columns behind the features, as values (for the island attribution)."""
    record = data.preprocessing
    names = [c for c in data.table.columns if c in record.numeric or c in record.one_hot]
    return {str(c): data.table[c].to_numpy() for c in names}


def _run(config: ClusteringConfig, data: ClusteringData) -> ClusteringResult:
    timer = StageTimer()
    X, labels = data.features, data.labels
    n = X.shape[0]
    # A small table gets a smaller analysis: the defaults it cannot support shrink (recorded).
    config, adaptations = small_data.adapt_to_rows(config, n, data.source)
    # On large tables the seed replicates, the placement and the clustering use a random
    # subsample of rows (config), and the scorecard rows are drawn from it.
    work = (np.sort(_rng(config, "subsample").choice(n, size=config.subsample_rows,
                                                     replace=False))
            if n > config.large_rows else np.arange(n))
    rows_rng = _rng(config, "scorecard rows")
    sample = np.sort(rows_rng.choice(work, size=min(work.size, config.metric_sample),
                                     replace=False))
    sample = rows_rng.permutation(sample)  # Spearman uses the first points: keep them random
    # Trustworthiness is defined for k below half the points scored.
    ks = tuple(k for k in config.neighbours if 2 * k + 2 <= sample.size)
    k_compare = ks[len(ks) // 2]
    main_p = config.main_perplexity

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
    budget = distance_budget(X, data.preprocessing)
    pca_first = max(parallel.n_components, 2)

    with timer.stage("affinities"):
        progress.status("[clustering] t-SNE affinities (exact neighbours)")
        P = {p: opentsne_affinities(X, p) for p in config.perplexities}
        P_work = P[main_p] if work.size == n else opentsne_affinities(X[work], main_p)
        pcs = pca.scores[:, :pca_first]
        P_pcs = opentsne_affinities(pcs, main_p)

    split = _placement_split(work.size, config)
    jobs: dict[str, maps.Job] = {}
    # The costliest maps (largest perplexity) first, so that two workers finish together.
    for p in sorted(config.perplexities, reverse=True):
        jobs[f"sweep {p:g}"] = (opentsne_on_affinities, (X, P[p], p, _seed(
            config, "t-SNE", f"perplexity {p:g}")), {})
    for i in range(2, config.stability_seeds + 1):
        jobs[f"pca {i}"] = (opentsne_on_affinities, (X[work], P_work, main_p, _seed(
            config, "stability", "pca", str(i))), {})
    for i in range(1, config.stability_seeds + 1):
        jobs[f"random {i}"] = (opentsne_on_affinities, (X[work], P_work, main_p, _seed(
            config, "stability", "random", str(i))), {"initialization": "random"})
    jobs["umap 1"] = (umap_embedding, (X, _seed(config, "UMAP", "1")), {"name": UMAP_NAME})
    for i in range(2, config.stability_seeds + 1):
        jobs[f"umap {i}"] = (umap_embedding, (X[work], _seed(config, "UMAP", str(i))), {})
    jobs["exaggerated"] = (opentsne_on_affinities, (X, P[main_p], main_p, _seed(
        config, "t-SNE", "exaggeration")), {"exaggeration": LARGE_N_EXAGGERATION})
    jobs["pca first"] = (opentsne_on_affinities, (pcs, P_pcs, main_p, _seed(
        config, "t-SNE", "on principal components")),
        {"name": f"t-SNE p={main_p:g} on {pca_first} PCs"})
    if config.reference_sklearn:
        jobs["sklearn"] = (sklearn_embedding, (X, main_p, _seed(
            config, "t-SNE", "scikit-learn reference"), 1), {})
    jobs["placement"] = (place_new_points, (X[work][split[1]], X[work][split[0]], main_p,
                                            _seed(config, "placement", "map")), {})
    m = config.pitfall_points
    jobs["noise"] = (noise_pitfall, (m, NOISE_PERPLEXITIES, _seed(config, "pitfall", "noise"),
                                     1), {})
    jobs["spread"] = (spread_pitfall, (m, PITFALL_PERPLEXITY,
                                       _seed(config, "pitfall", "spread"), 1), {})
    jobs["distance"] = (distance_pitfall, (m, PITFALL_PERPLEXITY,
                                           _seed(config, "pitfall", "distance"), 1), {})
    jobs["trajectory"] = (trajectory_pitfall, (m, PITFALL_PERPLEXITY,
                                               _seed(config, "pitfall", "trajectory"), 1), {})
    real = data.companion
    if real is not None:
        with timer.stage("affinities"):
            P_real = opentsne_affinities(real.features, main_p)
        jobs["real t-SNE"] = (opentsne_on_affinities, (real.features, P_real, main_p, _seed(
            config, "real customers", "t-SNE")), {})
        jobs["real UMAP"] = (umap_embedding, (real.features, _seed(
            config, "real customers", "UMAP")), {"name": UMAP_NAME})
    with timer.stage("maps (t-SNE, UMAP, pitfalls)"):
        done = dict(zip(jobs, maps.run_jobs(list(jobs.values()), config.n_jobs, "maps"),
                        strict=True))

    sweep = [done[f"sweep {p:g}"] for p in config.perplexities]
    main = next(e for e in sweep if e.perplexity == main_p)
    umap_main = done["umap 1"]
    extra = [umap_main, done["exaggerated"], done["pca first"]]
    sklearn_name = None
    if config.reference_sklearn:
        extra.append(done["sklearn"])
        sklearn_name = done["sklearn"].name
    embeddings = [pca_embedding, *sweep, *extra]
    S = config.stability_seeds
    replicates = {
        "pca": [main.coordinates] + [_on_rows(done[f"pca {i}"].coordinates, work, n)
                                     for i in range(2, S + 1)],
        "random": [_on_rows(done[f"random {i}"].coordinates, work, n)
                   for i in range(1, S + 1)],
        "umap": [umap_main.coordinates] + [_on_rows(done[f"umap {i}"].coordinates, work, n)
                                           for i in range(2, S + 1)]}

    with timer.stage("affinities and KL check"):
        # The PCA layout at the scale of the final map: where the optimisation started, up to
        # a rescaling, so that KL and gradient are compared at the same spread.
        start = pca.scores[:, :2] / pca.scores[:, :2].std() * main.coordinates.std()
        affinity = _affinity_check(X, labels, main, start, config.n_jobs)

    with timer.stage("scorecard"):
        neighbourhoods, scorecard, shepard = _scorecard(X, labels, embeddings, sample, ks,
                                                        config, data.groups)

    with timer.stage("islands"):
        progress.status("[clustering] islands of the maps and what explains them")
        island_runs = {"PCA": [islands.find_islands(pca_embedding.coordinates[work])],
                       "t-SNE": [islands.find_islands(Y[work]) for Y in replicates["pca"]],
                       "UMAP": [islands.find_islands(Y[work]) for Y in replicates["umap"]]}
        columns = {name: values[work] for name, values in _feature_columns(data).items()}
        work_labels = labels[work] if labels is not None else None
        attribution, island_summary = [], []
        for method, name in (("PCA", PCA_NAME), ("t-SNE", main.name), ("UMAP", UMAP_NAME)):
            found = island_runs[method][0]
            table = islands.attribution(found, columns, work_labels,
                                        data.label_name or "known segment")
            attribution.append(table.assign(map=name))
            island_summary.append(islands.summarise(name, found, table, data.label_name))
        attribution_table = pd.concat(attribution, ignore_index=True)[
            ["map", "column", "AMI", "ARI", "levels"]]
        island_table = pd.DataFrame([vars(s) for s in island_summary])
        levels = _neighbour_levels(X[work], columns, data.preprocessing,
                                   {PCA_NAME: pca_embedding.coordinates[work],
                                    main.name: main.coordinates[work],
                                    UMAP_NAME: umap_main.coordinates[work]}, work_labels)

    with timer.stage("comparisons"):
        progress.status("[clustering] comparisons over seeds and customers")
        methods = {"PCA": [pca_embedding.coordinates], "t-SNE": replicates["pca"],
                   "UMAP": replicates["umap"]}
        comparisons, estimates = _comparisons(X, labels, methods, island_runs, work_labels,
                                              sample, k_compare, config, "comparison",
                                              data.groups)

    with timer.stage("seed stability"):
        stability, seed_scores = _stability(X, pca.scores[:, :2], replicates, sample)
    overlap = f"{STABILITY_K}-NN overlap"
    stability_summary = (stability.groupby("initialisation", sort=False)
                         [["Procrustes disparity", overlap]].mean().reset_index())

    k_keep = max(parallel.n_components, 2)
    data_space, map_space = f"data ({X.shape[1]} features)", f"{main.name} map"
    spaces = {data_space: X,
              f"PCA ({k_keep} components)": pca.scores[:, :k_keep],
              PCA_NAME: pca.scores[:, :2],
              map_space: main.coordinates,
              f"{UMAP_NAME} map": umap_main.coordinates}
    with timer.stage("clustering"):
        clustered = {name: Z[work] for name, Z in spaces.items()}
        if X.shape[1] > MAX_MIXTURE_DIMENSIONS:
            clustered[data_space] = pca.scores[work, :MAX_MIXTURE_DIMENSIONS]
        clustering, k_curves = _clustering(clustered, work_labels, config)

    placement = _placement(X[work], work_labels, config, split, done["placement"])
    real_customers = None
    if real is not None:
        with timer.stage("real customers"):
            progress.status("[clustering] the scorecard on the real customers")
            real_customers = _real_customers(real, done["real t-SNE"], done["real UMAP"], config)

    life = None
    if data.life_stage is not None:
        life = _life_stage(data.life_stage, spaces, _seed(config, "life-stage folds"))
    noise, spread, distances, trajectory = (done["noise"], done["spread"], done["distance"],
                                            done["trajectory"])

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
            sweep=sweep_sorted, scorecard=scores, estimates=estimates,
            stability_summary=stability_summary.set_index("initialisation"),
            clustering=clustering_by_space if labels is not None else None,
            pca2_share=pca2_share, best_trust=best_trust, best_rho=best_rho,
            affinity=affinity, scaling=scaling.set_index("features"), noise=noise,
            spread=spread, distances=distances, trajectory=trajectory,
            life=life.set_index("space")["life-stage R²"] if life is not None else None,
            levels=levels, islands=island_table, label_name=data.label_name)

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
        trajectory=trajectory, budget=budget, comparisons=comparisons,
        island_summary=island_table, attribution=attribution_table, neighbour_levels=levels,
        category_most_shared=(str(levels["column"].iloc[int(np.argmax(
            (levels[main.name] - _level_baseline(levels)).to_numpy()))]) if len(levels)
            else None),
        umap_name=UMAP_NAME, pca_first_components=pca_first,
        mean_feature_variance=float(np.mean(np.var(X, axis=0))),
        real_customers=real_customers, real_customers_note=data.companion_note,
        k_curves=k_curves,
        edge_choices=[f"{row.space} ({'mixture' if row.gmm_at_edge else 'k-means'})"
                      for row in clustering.itertuples() if row.gmm_at_edge
                      or row.kmeans_at_edge],
        duplicates_dropped=data.duplicates_dropped, group_note=data.group_note,
        adaptations=adaptations, smallest_table=small_data.MIN_ROWS, reading=data.reading,
        labels=labels, life_stage_position=data.life_stage, shepard=shepard)


def _real_customers(real: ClusteringData, tsne_map: Embedding, umap_map: Embedding,
                    config: ClusteringConfig) -> RealCustomers:
    """The scorecard of PCA, t-SNE and UMAP on the real customers, with intervals over
    resampled customers for the differences (one map per method)."""
    X, labels = real.features, real.labels
    n = X.shape[0]
    rows_rng = _rng(config, "real customers", "scorecard rows")
    sample = rows_rng.permutation(np.sort(rows_rng.choice(n, size=min(n, config.metric_sample),
                                                          replace=False)))
    k = next(k for k in sorted(config.neighbours, key=lambda k: abs(k - 15))
             if 2 * k + 2 <= sample.size)
    pca = fit_pca(X)
    pca_map = Embedding(name=PCA_NAME, method="PCA (SVD, this package)",
                        coordinates=pca.scores[:, :2].copy())
    embeddings = [pca_map, tsne_map, umap_map]
    neighbourhoods, scorecard, _ = _scorecard(X, labels, embeddings, sample, (k,), config,
                                              real.groups)
    columns = _feature_columns(real)
    rows = []
    for emb in embeddings:
        found = islands.find_islands(emb.coordinates)
        table = islands.attribution(found, columns, labels, real.label_name)
        summary = islands.summarise(emb.name, found, table, real.label_name)
        score = scorecard.set_index("embedding").loc[emb.name]
        near = neighbourhoods.set_index("embedding").loc[emb.name]
        rows.append({"map": emb.name, "trustworthiness": float(near["trustworthiness"]),
                     "continuity": float(near["continuity"]),
                     "distance correlation": float(score["Spearman distance correlation"]),
                     "segment accuracy": float(score[ACCURACY]), "KNC": float(score[KNC]),
                     "islands": summary.islands, "islands' AMI with main type":
                     summary.segment_ami, "best-explaining column": summary.best_column})
    methods = {"PCA": [pca_map.coordinates], "t-SNE": [tsne_map.coordinates],
               "UMAP": [umap_map.coordinates]}
    comparisons, estimates = _comparisons(X, labels, methods, {}, None, sample, k, config,
                                          "real customers", real.groups)
    comparisons["interval over"] = comparisons["interval over"].str.replace(
        "seeds and ", "", regex=False)
    verdicts = {}
    for key, estimate in estimates.items():
        score, first, second = key
        name = "real_" + COMPARISON_VERDICTS[key]
        verdicts[name] = rules.paired_difference(
            name, estimate, rule="on the real customers, one map per method: "
            + _COMPARISON_RULES[score].format(first=first, second=second),
            unit=_COMPARISON_UNITS[score].replace("seeds and ", ""))
    return RealCustomers(
        source=real.source, n_rows=n, n_features=X.shape[1],
        duplicates_dropped=real.duplicates_dropped, group_note=real.group_note,
        scorecard=pd.DataFrame(rows), comparisons=comparisons, k=k, verdicts=verdicts,
        maps={e.name: e.coordinates for e in embeddings}, labels=labels)


def _neighbour_levels(X: np.ndarray, columns: dict[str, np.ndarray], record: Preprocessing,
                      spaces: dict[str, np.ndarray], segments: np.ndarray | None
                      ) -> pd.DataFrame:
    """For each categorical column: the share of each customer's 15 nearest neighbours with the
    same level, in the data and on each map, beside the share expected by chance and the share
    expected within the known segments (:func:`~casestudies.clustering.islands.expected_shares`).
    """
    rows = []
    for column in record.one_hot:
        if column not in columns:
            continue
        values = columns[column]
        chance, within = islands.expected_shares(values, segments)
        row = {"column": column, "chance": chance, "within segments": within,
               "data": islands.same_level_share(X, values)[0]}
        for name, Y in spaces.items():
            row[name] = islands.same_level_share(Y, values)[0]
        rows.append(row)
    table = pd.DataFrame(rows, columns=["column", "chance", "within segments", "data", *spaces])
    return table if segments is not None else table.drop(columns="within segments")


def _level_baseline(levels: pd.DataFrame) -> pd.Series:
    """What a map's same-level share is compared with: the share within segments when the
    segments are known (a column that differs between segments may sort the map that much),
    else chance."""
    return levels["within segments"] if "within segments" in levels else levels["chance"]


COMPARISON_VERDICTS = {
    # (score, first, second) -> verdict name: "first scores higher than second"
    ("trustworthiness", "t-SNE", "PCA"): "tsne_keeps_local_better",
    ("trustworthiness", "UMAP", "PCA"): "umap_keeps_local_better",
    ("trustworthiness", "t-SNE", "UMAP"): "tsne_keeps_local_better_than_umap",
    ("accuracy", "t-SNE", "PCA"): "tsne_reads_segments_better",
    ("accuracy", "UMAP", "PCA"): "umap_reads_segments_better",
    ("accuracy", "t-SNE", "UMAP"): "tsne_reads_segments_better_than_umap",
    ("distances", "t-SNE", "PCA"): "tsne_keeps_global_better",
    ("distances", "UMAP", "PCA"): "umap_keeps_global_better",
    ("distances", "t-SNE", "UMAP"): "tsne_keeps_global_better_than_umap",
    ("islands", "t-SNE", "PCA"): "tsne_islands_recover_segments_better",
    ("islands", "UMAP", "PCA"): "umap_islands_recover_segments_better",
    ("islands", "t-SNE", "UMAP"): "tsne_islands_recover_segments_better_than_umap",
}
_COMPARISON_RULES = {
    "trustworthiness": ("{first} minus {second} trustworthiness at the comparison k, mean of "
                        "per-customer contributions; 95% percentile interval over replicates "
                        "that draw one seed's map of each method and resample the scored "
                        "customers: holds when it lies above 0, fails when at or below 0, "
                        "undecided (a tie) when it straddles 0"),
    "accuracy": ("{first} minus {second} cross-validated 10-NN segment accuracy; 95% interval "
                 "over replicates that draw one seed's map of each method and resample the "
                 "scored customers: holds above 0, fails at or below 0, undecided (a tie) when "
                 "it straddles 0"),
    "distances": ("{first} minus {second} Spearman correlation of pairwise distances with the "
                  "data; 95% interval over replicates that draw one seed's map of each method "
                  "and half of the scored rows without replacement: holds above 0, fails at or "
                  "below 0, undecided (a tie) when it straddles 0"),
    "islands": ("{first} minus {second} adjusted mutual information between the map's islands "
                "(HDBSCAN) and the known segments, over every pair of seeds' maps (a range, not "
                "a confidence interval): holds when every pair is above 0, fails when every "
                "pair is at or below 0, undecided otherwise"),
}
_COMPARISON_UNITS = {"trustworthiness": "seeds and customers", "accuracy": "seeds and customers",
                     "distances": "seeds and half-subsamples of customers", "islands": "seeds"}


def _verdicts(*, config: ClusteringConfig, main: str, data_space: str, map_space: str,
              sweep: list[Embedding], scorecard: pd.DataFrame,
              estimates: dict[tuple[str, str, str], Estimate],
              stability_summary: pd.DataFrame, clustering: pd.DataFrame | None,
              pca2_share: float, best_trust: str, best_rho: str, affinity: AffinityCheck,
              scaling: pd.DataFrame, noise: NoisePitfall, spread: SpreadPitfall,
              distances: DistancePitfall, trajectory: TrajectoryPitfall,
              life: pd.Series | None, levels: pd.DataFrame, islands: pd.DataFrame,
              label_name: str | None) -> dict[str, Verdict]:
    """Every conclusion the report states, from the rules of
    :mod:`casestudies.clustering.verdicts`."""
    found: list[Verdict] = []
    for key, estimate in estimates.items():
        score, first, second = key
        found.append(rules.paired_difference(
            COMPARISON_VERDICTS[key], estimate,
            rule=_COMPARISON_RULES[score].format(first=first, second=second),
            unit=_COMPARISON_UNITS[score]))
    rho = scorecard["Spearman distance correlation"]
    if ("distances", "t-SNE", "PCA") in estimates:
        e = estimates[("distances", "t-SNE", "PCA")]
        found.append(rules.paired_difference(
            "pca_keeps_global_better", Estimate(-e.value, -e.high, -e.low, e.confidence),
            rule=_COMPARISON_RULES["distances"].format(first="PCA", second="t-SNE"),
            unit=_COMPARISON_UNITS["distances"]))
    if len(levels):
        excess = (levels[map_space.removesuffix(" map")] - _level_baseline(levels)).to_numpy()
        worst = int(np.argmax(excess))
        found.append(point_above(
            "map_neighbours_follow_a_category", float(excess[worst]),
            rules.CATEGORY_NEIGHBOUR_MARGIN,
            rule="point value: for the categorical column whose level the main t-SNE map's "
                 "15 nearest neighbours share most often beyond expectation, that share minus "
                 "the share of two customers of the same known segment (or, without segments, "
                 "of two random customers); holds (the column arranges the map) above the "
                 "margin"))
    if label_name is not None and len(islands):
        summary = islands.set_index("map").loc[main]
        found.append(Verdict(
            name="tsne_islands_are_segments", holds=bool(summary["best_column"] == label_name),
            estimate=float(summary["best_ami"]),
            rule="the known segments have the highest adjusted mutual information with the "
                 "main t-SNE map's islands of all the table's columns (point values)"))
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
        found.append(Verdict(
            name="k_choice_at_grid_edge",
            holds=bool(clustering[["gmm_at_edge", "kmeans_at_edge"]].to_numpy().any()),
            rule="in some space the chosen number of clusters (BIC minimum of the mixture, "
                 "silhouette maximum of k-means) is the smallest or largest that criterion "
                 "can pick on the grid tried, so the criterion may favour a k outside it"))
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
    for index, name in ((0, "noise_clusters_on_low_perplexity_map"),
                        (1, "noise_clusters_on_map")):
        found.append(rules.point_difference(
            name, float(noise.clusters_maps[index]),
            float(max(noise.clusters_pca, noise.clusters_control)),
            rule="point values: HDBSCAN clusters on the t-SNE map of pure noise (at the "
                 + ("lowest" if index == 0 else "usual") + " perplexity of the pitfall) minus "
                 "the larger of those on the 2-D PCA map of the same noise and on an "
                 "unstructured 2-D Gaussian cloud of the same size, above 0"))
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
