"""The analysis: PCA and t-SNE maps of the data, scored for what they preserve, clustered, and
stress-tested on the known pitfalls. No I/O, no HTML: :func:`run` returns a
:class:`ClusteringResult` that the report reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import procrustes
from scipy.spatial.distance import pdist
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from threadpoolctl import threadpool_limits

from casestudies import progress
from casestudies.clustering import metrics
from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import ClusteringData, Preprocessing
from casestudies.clustering.pca import ParallelAnalysis, fit_pca, parallel_analysis
from casestudies.clustering.pca import reconstruction_error as pca_reconstruction_error
from casestudies.clustering.pitfalls import (
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
    Embedding,
    joint_affinities,
    kl_divergence,
    opentsne_embedding,
    opentsne_map,
    sklearn_embedding,
)
from casestudies.provenance import StageTimer

KNN_CLASSIFIER_K = 10
KNN_FOLDS = 5  # cross-validation folds of the segment accuracy (fewer for tiny segments)
ACCURACY = f"{KNN_CLASSIFIER_K}-NN segment accuracy"  # the scorecard's column
STABILITY_K = 15
SPEARMAN_POINTS = 1000  # all pairs of this many points (~500,000 distances)
SHEPARD_PAIRS = 3000
EXACT_KL_LIMIT = 6000  # the exact KL check needs an n x n matrix
NOISE_PERPLEXITIES = (2.0, 30.0)
PITFALL_PERPLEXITY = 30.0  # of the spread, distance and trajectory pitfalls


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
class ClusteringResult:
    """Everything the report shows; serialised to clustering.json."""

    short_answer: str
    stage_seconds: dict[str, float]
    config: ClusteringConfig
    kind: str
    source: str
    n_rows: int
    n_features: int
    feature_names: list[str]
    label_name: str | None
    segment_sizes: dict[str, int] | None
    preprocessing: Preprocessing
    preview: pd.DataFrame
    # PCA
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    parallel: ParallelAnalysis
    loadings: pd.DataFrame
    reconstruction: pd.DataFrame
    scaling: pd.DataFrame
    # t-SNE and the scorecard
    main_name: str
    embeddings: list[Embedding]
    affinity: AffinityCheck
    neighbourhoods: pd.DataFrame
    scorecard: pd.DataFrame
    metric_rows: int
    accuracy_folds: int | None  # folds of the segment accuracy's cross-validation
    neighbours: list[int]
    subsample_rows: int | None
    stability: pd.DataFrame
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


def _loadings(pca, names: list[str], n_components: int) -> pd.DataFrame:
    table = pd.DataFrame(pca.components[:n_components].T, index=names,
                         columns=[f"PC{j + 1}" for j in range(n_components)])
    table.index.name = "feature"
    return table


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
               sample: np.ndarray, ks: tuple[int, ...], seed: int
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Neighbourhood scores per (embedding, k) and one summary row per embedding."""
    Xs = X[sample]
    ls = labels[sample] if labels is not None else None
    few = sample[:SPEARMAN_POINTS]
    rng = np.random.default_rng(seed)
    n_pairs = few.size * (few.size - 1) // 2
    pairs = rng.choice(n_pairs, size=min(SHEPARD_PAIRS, n_pairs), replace=False)
    data_distances = pdist(X[few])
    neighbourhood_rows, summary_rows, shepard = [], [], {}
    if ls is not None:
        summary_rows.append({"embedding": f"data ({X.shape[1]} features)", "method": "—",
                             "Spearman distance correlation": 1.0,
                             ACCURACY: metrics.knn_accuracy(
                                 Xs, ls, KNN_CLASSIFIER_K, KNN_FOLDS, random_state=seed),
                             "seconds": 0.0, "KL divergence": None})
    for emb in progress.progress(embeddings, desc="faithfulness scorecard"):
        Ys = emb.coordinates[sample]
        scores = metrics.neighbourhood_scores(Xs, Ys, ks)
        for j, k in enumerate(ks):
            neighbourhood_rows.append({"embedding": emb.name, "k": k,
                                       **{name: values[j] for name, values in scores.items()}})
        map_distances = pdist(emb.coordinates[few])
        shepard[emb.name] = (data_distances[pairs], map_distances[pairs])
        summary_rows.append({
            "embedding": emb.name, "method": emb.method,
            "Spearman distance correlation": metrics.distance_correlation(X[few],
                                                                          emb.coordinates[few]),
            ACCURACY: (metrics.knn_accuracy(Ys, ls, KNN_CLASSIFIER_K, KNN_FOLDS,
                                                            random_state=seed)
                                       if ls is not None else None),
            "seconds": emb.seconds, "KL divergence": emb.kl_divergence})
    return pd.DataFrame(neighbourhood_rows), pd.DataFrame(summary_rows), shepard


def _stability(X: np.ndarray, main_map: np.ndarray | None, perplexity: float,
               config: ClusteringConfig, sample: np.ndarray) -> pd.DataFrame:
    """Maps from different seeds, with PCA and with random initialisation, compared pairwise
    on the rows ``sample`` by Procrustes disparity (after optimal rotation, scaling and
    reflection) and by the overlap of their 15-nearest-neighbour sets. ``main_map`` is the
    seed's PCA-initialised map of ``X`` when it exists already."""
    runs = {} if main_map is None else {("pca", config.seed): main_map}
    jobs = [("pca", config.seed + i) for i in range(config.stability_seeds)
            if ("pca", config.seed + i) not in runs]
    jobs += [("random", config.seed + i) for i in range(config.stability_seeds)]
    for init, seed in progress.progress(jobs, desc="t-SNE seed stability"):
        runs[(init, seed)] = opentsne_embedding(X, perplexity, seed, config.n_jobs,
                                                initialization=init).coordinates
    rows = []
    for init in ("pca", "random"):
        keys = [key for key in runs if key[0] == init]
        for a in range(len(keys)):
            for b in range(a + 1, len(keys)):
                first, second = runs[keys[a]][sample], runs[keys[b]][sample]
                _, _, disparity = procrustes(first, second)
                order_a, _ = metrics.neighbour_ranks(first)
                order_b, _ = metrics.neighbour_ranks(second)
                overlap = metrics.neighbour_overlap(order_a, order_b, STABILITY_K)
                rows.append({"initialisation": init, "seeds": f"{keys[a][1]} vs {keys[b][1]}",
                             "Procrustes disparity": disparity,
                             f"{STABILITY_K}-NN overlap": overlap})
    return pd.DataFrame(rows)


def _clustering(spaces: dict[str, np.ndarray], labels: np.ndarray | None,
                config: ClusteringConfig) -> pd.DataFrame:
    true_k = int(np.unique(labels).size) if labels is not None else None
    rows = []
    for name, Z in progress.progress(list(spaces.items()), desc="clustering"):
        found = metrics.cluster_agreement(Z, labels, config.max_clusters, true_k, config.seed)
        rows.append({"space": name, "dimensions": int(Z.shape[1]), **found})
    return pd.DataFrame(rows)


def _placement(X: np.ndarray, labels: np.ndarray | None, config: ClusteringConfig
               ) -> Placement:
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(config.seed)
    n = X.shape[0]
    n_new = max(1, round(config.holdout_fraction * n))
    order = rng.permutation(n)
    new, train = np.sort(order[:n_new]), np.sort(order[n_new:])
    fitted, seconds_fit = opentsne_map(X[train], config.main_perplexity, config.seed,
                                       config.n_jobs)
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

    reference = rng.choice(train.size, size=min(n_new, train.size), replace=False)
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
    cross-validated R^2 of a 10-NN regression of the position on the coordinates."""
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


def _short_answer(result_parts: dict) -> str:
    """The one-line answer, worded from this run's numbers."""
    r = result_parts
    local = "t-SNE" if r["trust_tsne"] > r["trust_pca"] else "PCA"
    global_ = "PCA" if r["spearman_pca"] > r["spearman_tsne"] else "t-SNE"
    parts = [f"t-SNE (perplexity {r['perplexity']:g}) keeps {r['k']}-neighbourhoods "
             f"{'better' if local == 't-SNE' else 'worse'} than a 2-D PCA (trustworthiness "
             f"{r['trust_tsne']:.3f} vs {r['trust_pca']:.3f}"]
    if r["acc_tsne"] is not None:
        parts.append(f"; segment {KNN_CLASSIFIER_K}-NN accuracy {r['acc_tsne']:.0%} vs "
                     f"{r['acc_pca']:.0%}")
    parts.append(f"), while {global_} keeps global distances better (Spearman "
                 f"{max(r['spearman_pca'], r['spearman_tsne']):.2f} vs "
                 f"{min(r['spearman_pca'], r['spearman_tsne']):.2f}). ")
    parts.append("Use PCA for the main axes, distances and the number of components, t-SNE to "
                 "see local groups; ")
    if r["noise_k"] > r["noise_k_data"]:
        parts.append(f"never read cluster sizes, distances or counts off a t-SNE map, nor "
                     f"cluster on its coordinates: at perplexity {r['noise_perplexity']:g} it "
                     f"turned pure noise into {r['noise_k']} clusters.")
    else:
        parts.append("never read cluster sizes or distances off a t-SNE map, nor cluster on its "
                     "coordinates.")
    return "".join(parts)


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
    rng = np.random.default_rng(config.seed)
    sample = np.sort(rng.choice(n, size=min(n, config.metric_sample), replace=False))
    sample = rng.permutation(sample)  # Spearman uses the first points: keep them random
    # Trustworthiness is defined for k below half the points scored.
    ks = tuple(k for k in config.neighbours if 2 * k + 2 <= sample.size)
    # On large tables the extra maps and the clustering use a random subsample (config).
    work = (np.sort(rng.choice(n, size=config.subsample_rows, replace=False))
            if n > config.large_rows else np.arange(n))

    with timer.stage("PCA"):
        progress.status("[clustering] PCA and parallel analysis")
        pca = fit_pca(X)
        parallel = parallel_analysis(X, config.parallel_analysis_draws,
                                     random_state=config.seed)
        n_shown = min(3, pca.components.shape[0])
        reconstruction = pd.DataFrame({
            "components": np.arange(1, pca.components.shape[0] + 1),
            "cumulative variance": np.cumsum(pca.explained_variance_ratio),
            "reconstruction MSE": [pca_reconstruction_error(pca, X, k)
                                   for k in range(1, pca.components.shape[0] + 1)]})
        pca_embedding = Embedding(name="PCA 2-D", method="PCA (SVD, this package)",
                                  coordinates=pca.scores[:, :2].copy(), seconds=0.0)
        started = time.perf_counter()
        fit_pca(X)
        pca_embedding.seconds = time.perf_counter() - started

    with timer.stage("t-SNE perplexity sweep"):
        sweep = [opentsne_embedding(X, p, config.seed, config.n_jobs)
                 for p in progress.progress(config.perplexities, desc="t-SNE perplexity sweep")]
    main = next(e for e in sweep if e.perplexity == config.main_perplexity)
    embeddings = [pca_embedding, *sweep]
    if config.reference_sklearn:
        with timer.stage("scikit-learn t-SNE reference"):
            progress.status("[clustering] scikit-learn TSNE reference map")
            embeddings.append(sklearn_embedding(X, config.main_perplexity, config.seed,
                                                config.n_jobs))

    with timer.stage("affinities and KL check"):
        # The PCA layout at the scale of the final map: where the optimisation started, up to
        # a rescaling, so that KL and gradient are compared at the same spread.
        start = pca.scores[:, :2] / pca.scores[:, :2].std() * main.coordinates.std()
        affinity = _affinity_check(X, labels, main, start, config.n_jobs)

    with timer.stage("scorecard"):
        neighbourhoods, scorecard, shepard = _scorecard(X, labels, embeddings, sample,
                                                        ks, config.seed)

    with timer.stage("seed stability"):
        if work.size == n:
            stability = _stability(X, main.coordinates, main.perplexity, config, sample)
        else:
            compare = rng.permutation(work.size)[:config.metric_sample]
            stability = _stability(X[work], None, main.perplexity, config, compare)

    k_keep = max(parallel.n_components, 2)
    spaces = {f"data ({X.shape[1]} features)": X,
              f"PCA ({k_keep} components)": pca.scores[:, :k_keep],
              "PCA 2-D": pca.scores[:, :2],
              f"{main.name} map": main.coordinates}
    work_labels = labels[work] if labels is not None else None
    with timer.stage("clustering"):
        clustering = _clustering({name: Z[work] for name, Z in spaces.items()}, work_labels,
                                 config)

    with timer.stage("placing new customers"):
        progress.status("[clustering] placing held-out customers into a map")
        placement = _placement(X[work], work_labels, config)

    life = None
    if data.life_stage is not None:
        life = _life_stage(data.life_stage, spaces, config.seed)

    with timer.stage("pitfalls"):
        progress.status("[clustering] pitfalls on synthetic data")
        m = config.pitfall_points
        noise = noise_pitfall(m, NOISE_PERPLEXITIES, config.seed, config.n_jobs)
        spread = spread_pitfall(m, PITFALL_PERPLEXITY, config.seed, config.n_jobs)
        distances = distance_pitfall(m, PITFALL_PERPLEXITY, config.seed, config.n_jobs)
        trajectory = trajectory_pitfall(m, PITFALL_PERPLEXITY, config.seed, config.n_jobs)

    k_mid = ks[len(ks) // 2]
    answer = _short_answer({
        "perplexity": main.perplexity, "k": k_mid,
        "trust_tsne": _lookup(neighbourhoods, main.name, k_mid, "trustworthiness"),
        "trust_pca": _lookup(neighbourhoods, pca_embedding.name, k_mid, "trustworthiness"),
        "acc_tsne": _summary(scorecard, main.name, ACCURACY),
        "acc_pca": _summary(scorecard, pca_embedding.name, ACCURACY),
        "spearman_tsne": _summary(scorecard, main.name, "Spearman distance correlation"),
        "spearman_pca": _summary(scorecard, pca_embedding.name, "Spearman distance correlation"),
        "noise_k": noise.clusters_maps[0], "noise_k_data": noise.clusters_data,
        "noise_perplexity": noise.perplexities[0]})
    sizes = None
    if labels is not None:
        values, counts = np.unique(labels, return_counts=True)
        sizes = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    return ClusteringResult(
        short_answer=answer, stage_seconds=timer.seconds, config=config, kind=data.kind,
        source=data.source, n_rows=n, n_features=X.shape[1], feature_names=data.feature_names,
        label_name=data.label_name, segment_sizes=sizes, preprocessing=data.preprocessing,
        preview=_preview(data), explained_variance=pca.explained_variance,
        explained_variance_ratio=pca.explained_variance_ratio, parallel=parallel,
        loadings=_loadings(pca, data.feature_names, n_shown), reconstruction=reconstruction,
        scaling=_scaling_comparison(data, pca), main_name=main.name, embeddings=embeddings,
        affinity=affinity, neighbourhoods=neighbourhoods, scorecard=scorecard,
        metric_rows=int(sample.size),
        accuracy_folds=(metrics.accuracy_folds(labels[sample], KNN_FOLDS)
                        if labels is not None else None),
        neighbours=list(ks),
        subsample_rows=int(work.size) if work.size < n else None, stability=stability,
        clustering=clustering,
        placement=placement, life_stage=life, noise=noise, spread=spread, distances=distances,
        trajectory=trajectory,
        labels=labels, life_stage_position=data.life_stage, shepard=shepard)


def _lookup(table: pd.DataFrame, name: str, k: int, column: str) -> float:
    return float(table[(table["embedding"] == name) & (table["k"] == k)][column].iloc[0])


def _summary(table: pd.DataFrame, name: str, column: str) -> float | None:
    value = table.set_index("embedding").loc[name, column]
    return None if value is None or pd.isna(value) else float(value)
