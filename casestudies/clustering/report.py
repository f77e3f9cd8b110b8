"""The clustering report: reads a :class:`~casestudies.clustering.pipeline.ClusteringResult` and
lays out figures, tables and the templates' prose; computes nothing that the report states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from casestudies.clustering.config import ClusteringConfig
from casestudies.clustering.data import (
    MAX_LEVELS,
    N_NOISE_COLUMNS,
    SEGMENTS,
    SKEW_THRESHOLD,
    minimum_rows,
)
from casestudies.clustering.pipeline import (
    ACCURACY,
    EXACT_KL_LIMIT,
    KNN_CLASSIFIER_K,
    SPEARMAN_POINTS,
    STABILITY_K,
    ClusteringResult,
)
from casestudies.clustering.pitfalls import DIMENSIONS, POSITION_FOLDS, POSITION_K
from casestudies.clustering.tsne import (
    EARLY_EXAGGERATION,
    FFT_FROM,
    N_ITER_EXAGGERATION,
    N_ITER_MAIN,
)
from casestudies.report import PALETTE, Report, new_figure

N_TOP_LOADINGS = 6
POINT_SIZE = 4
# Scatter plots of thousands of customers are embedded as images inside the SVG: as vector
# marks they would make the report tens of megabytes; axes and text stay vector.


def _colours(labels: np.ndarray | None, n: int) -> tuple[list, list[str]]:
    """One colour per point and the legend's category names."""
    if labels is None:
        return [PALETTE[0]] * n, []
    names = sorted(np.unique(labels).tolist())
    if len(names) <= len(PALETTE):
        table = dict(zip(names, PALETTE, strict=False))
    else:
        from matplotlib import colormaps

        cmap = colormaps["tab20"]
        table = {name: cmap(i % 20) for i, name in enumerate(names)}
    return [table[v] for v in labels], names


def _scatter(ax, coordinates: np.ndarray, labels: np.ndarray | None, title: str,
             legend: bool = False) -> None:
    colours, names = _colours(labels, coordinates.shape[0])
    ax.scatter(coordinates[:, 0], coordinates[:, 1], c=colours, s=POINT_SIZE, linewidths=0,
               rasterized=True)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if legend and names:
        lookup = dict(zip(labels, colours, strict=False))
        for name in names:
            ax.scatter([], [], c=[lookup[name]], s=20, label=name)
        ax.legend(loc="best", fontsize=7, markerscale=1.0)


def _scree_figure(result: ClusteringResult):
    pa = result.parallel
    j = np.arange(1, pa.eigenvalues.size + 1)
    fig, (left, right) = new_figure(9, 3.6, 1, 2)
    left.plot(j, pa.eigenvalues, marker="o", ms=3, label="data")
    left.plot(j, pa.null_quantile, ls="--", label=f"{pa.quantile:.0%} of permuted data")
    left.axvline(pa.n_components + 0.5, color=PALETTE[6], lw=1)
    left.set_xlabel("component")
    left.set_ylabel("eigenvalue (variance)")
    left.set_title("Scree plot and parallel analysis")
    left.legend()
    right.plot(j, np.cumsum(result.explained_variance_ratio), marker="o", ms=3)
    right.set_ylim(0, 1.02)
    right.set_xlabel("components kept")
    right.set_ylabel("cumulative share of variance")
    right.set_title("Cumulative explained variance")
    return fig


def _maps_figure(result: ClusteringResult, names: list[str]):
    ncols = 3
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(9, 3.0 * nrows, nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(names):
            ax.set_visible(False)
            continue
        emb = result.embedding(names[i])
        _scatter(ax, emb.coordinates, result.labels, emb.name, legend=(i == 0))
    return fig


def _neighbourhood_figure(result: ClusteringResult):
    fig, axes = new_figure(9, 3.2, 1, 3)
    table = result.neighbourhoods
    for ax, column in zip(axes, ("trustworthiness", "continuity", "knn_recall"), strict=True):
        for i, (name, rows) in enumerate(table.groupby("embedding", sort=False)):
            ax.plot(rows["k"], rows[column], marker="o", ms=3,
                    color=PALETTE[i % len(PALETTE)], label=name)
        ax.set_xscale("log")
        ax.set_xticks(result.neighbours, [str(k) for k in result.neighbours])
        ax.minorticks_off()
        ax.set_xlabel("neighbourhood size k")
        ax.set_title(column.replace("_", " "))
    axes[0].legend(fontsize=7)
    return fig


def _shepard_figure(result: ClusteringResult):
    names = ["PCA 2-D", result.main_name]
    fig, axes = new_figure(8, 3.4, 1, 2)
    for ax, name in zip(axes, names, strict=True):
        data, mapped = result.shepard[name]
        ax.scatter(data, mapped, s=3, alpha=0.4, linewidths=0, rasterized=True)
        rho = result.score(name, "Spearman distance correlation")
        ax.set_title(f"{name}: Spearman ρ = {rho:.2f}")
        ax.set_xlabel("distance in the data")
        ax.set_ylabel("distance on the map")
    return fig


def _life_stage_figure(result: ClusteringResult):
    rows = np.flatnonzero(np.isfinite(result.life_stage_position))
    t = result.life_stage_position[rows]
    fig, axes = new_figure(8, 3.4, 1, 2)
    for ax, name in zip(axes, ["PCA 2-D", result.main_name], strict=True):
        xy = result.embedding(name).coordinates
        ax.scatter(xy[:, 0], xy[:, 1], s=2, c="#dddddd", linewidths=0, rasterized=True)
        points = ax.scatter(xy[rows, 0], xy[rows, 1], s=5, c=t, cmap="viridis", linewidths=0,
                            rasterized=True)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(points, ax=axes, label="life-stage position t", shrink=0.8)
    return fig


def _trajectory_figure(pitfall):
    fig, axes = new_figure(8, 3.4, 1, 2)
    for ax, coordinates, title in ((axes[0], pitfall.pca_map, "PCA 2-D"),
                                   (axes[1], pitfall.tsne_map,
                                    f"t-SNE, perplexity {pitfall.perplexity:g}")):
        points = ax.scatter(coordinates[:, 0], coordinates[:, 1], c=pitfall.position, s=6,
                            cmap="viridis", linewidths=0, rasterized=True)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(points, ax=axes, label="position t along the helix", shrink=0.8)
    return fig


def _noise_figure(result: ClusteringResult):
    noise = result.noise
    fig, axes = new_figure(8, 3.4, 1, 2)
    for ax, perplexity, coordinates, k in zip(axes, noise.perplexities, noise.maps,
                                              noise.clusters_maps, strict=True):
        _scatter(ax, coordinates, None, f"perplexity {perplexity:g}: HDBSCAN finds {k} clusters")
    return fig


def _two_maps_figure(pitfall, names: tuple[str, str]):
    fig, axes = new_figure(8, 3.4, 1, 2)
    labels = np.array([names[int(v)] if int(v) < len(names) else str(v) for v in pitfall.labels])
    _scatter(axes[0], pitfall.pca_map, labels, "PCA 2-D", legend=True)
    _scatter(axes[1], pitfall.tsne_map, labels, f"t-SNE, perplexity {pitfall.perplexity:g}")
    axes[0].set_aspect("equal", adjustable="datalim")
    axes[1].set_aspect("equal", adjustable="datalim")
    return fig


def _placement_figure(result: ClusteringResult):
    placement = result.placement
    fig, ax = new_figure(8, 4.2)
    colours, _ = _colours(placement.train_labels, placement.train_map.shape[0])
    ax.scatter(placement.train_map[:, 0], placement.train_map[:, 1], c=colours, s=3,
               linewidths=0, alpha=0.35, rasterized=True)
    if placement.new_labels is not None:
        lookup = dict(zip(placement.train_labels, colours, strict=False))
        new_colours = [lookup.get(v, PALETTE[6]) for v in placement.new_labels]
    else:
        new_colours = [PALETTE[1]] * placement.new_map.shape[0]
    ax.scatter(placement.new_map[:, 0], placement.new_map[:, 1], c=new_colours, s=16,
               marker="^", edgecolors="black", linewidths=0.4)
    items = "images" if result.kind == "digits" else "customers"
    ax.set_title(f"Held-out {items} (triangles) placed into the map")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return fig


def _top_loadings(result: ClusteringResult) -> pd.DataFrame:
    rows = []
    for component in result.loadings.columns:
        column = result.loadings[component]
        top = column.reindex(column.abs().sort_values(ascending=False).index)[:N_TOP_LOADINGS]
        for rank, (feature, value) in enumerate(top.items(), start=1):
            rows.append({"component": component, "rank": rank, "feature": feature,
                         "loading": value})
    wide = pd.DataFrame(rows).pivot(index="rank", columns="component")
    out = pd.DataFrame({"rank": wide.index})
    for component in result.loadings.columns:
        out[f"{component} feature"] = wide[("feature", component)].to_numpy()
        out[f"{component} loading"] = wide[("loading", component)].to_numpy().astype(float)
    return out


def _values(result: ClusteringResult) -> dict:
    """Every number the templates quote, looked up once."""
    cfg = result.config
    k_mid = result.neighbours[len(result.neighbours) // 2]
    main, pca = result.main_name, "PCA 2-D"
    sklearn_name = next((e.name for e in result.embeddings if e.method.startswith("scikit")),
                        None)
    sweep = sorted((e for e in result.embeddings if e.method.startswith("openTSNE")),
                   key=lambda e: e.perplexity)
    clustering = result.clustering.set_index("space")
    spaces = list(clustering.index)
    has_labels = result.labels is not None
    values = dict(
        r=result, cfg=cfg, k_mid=k_mid, main=main, pca=pca, has_labels=has_labels,
        sklearn_name=sklearn_name, sweep=sweep,
        trust_main=result.neighbourhood(main, "trustworthiness", k_mid),
        trust_pca=result.neighbourhood(pca, "trustworthiness", k_mid),
        cont_main=result.neighbourhood(main, "continuity", k_mid),
        cont_pca=result.neighbourhood(pca, "continuity", k_mid),
        recall_main=result.neighbourhood(main, "knn_recall", k_mid),
        recall_pca=result.neighbourhood(pca, "knn_recall", k_mid),
        rho_main=result.score(main, "Spearman distance correlation"),
        rho_pca=result.score(pca, "Spearman distance correlation"),
        acc_main=result.score(main, ACCURACY) if has_labels else None,
        acc_pca=result.score(pca, ACCURACY) if has_labels else None,
        acc_data=(result.scorecard[ACCURACY].iloc[0] if has_labels else None),
        seconds_main=result.embedding(main).seconds,
        seconds_pca=result.embedding(pca).seconds,
        kl_main=result.embedding(main).kl_divergence,
        best_trust=max(sweep, key=lambda e: result.neighbourhood(e.name, "trustworthiness",
                                                               k_mid)).name,
        best_rho=max(sweep, key=lambda e: result.score(e.name,
                                                       "Spearman distance correlation")).name,
        data_space=spaces[0], pca_space=spaces[1], map_space=spaces[3],
        ari=clustering.to_dict("index"),
        pc2_share=float(np.sum(result.explained_variance_ratio[:2])),
        pa_share=float(np.sum(result.explained_variance_ratio[:result.parallel.n_components])),
        knn_k=KNN_CLASSIFIER_K, knn_folds=result.accuracy_folds, stability_k=STABILITY_K,
        overlap=f"{STABILITY_K}-NN overlap", spearman_points=SPEARMAN_POINTS,
        pitfall_dimensions=DIMENSIONS, position_k=POSITION_K, position_folds=POSITION_FOLDS,
        max_levels=MAX_LEVELS, skew_threshold=SKEW_THRESHOLD, n_noise_columns=N_NOISE_COLUMNS,
        n_segments=len(SEGMENTS), min_rows=minimum_rows(cfg),
        default_perplexities=",".join(f"{p:g}" for p in ClusteringConfig.perplexities),
        default_main=f"{ClusteringConfig.main_perplexity:g}",
        scaling=result.scaling.set_index("features").to_dict("index"),
        stability=result.stability.groupby("initialisation").mean(numeric_only=True)
        .to_dict("index"),
        life=(result.life_stage.set_index("space")["life-stage R²"].to_dict()
              if result.life_stage is not None else None),
        pre=result.preprocessing,
        items="images" if result.kind == "digits" else "customers",
        fft_from=FFT_FROM, n_iter_exaggeration=N_ITER_EXAGGERATION, n_iter_main=N_ITER_MAIN,
        exaggeration=EARLY_EXAGGERATION, exact_kl_limit=EXACT_KL_LIMIT,
    )
    if sklearn_name:
        values.update(trust_sklearn=result.neighbourhood(sklearn_name, "trustworthiness", k_mid),
                      seconds_sklearn=result.embedding(sklearn_name).seconds,
                      kl_sklearn=result.embedding(sklearn_name).kl_divergence)
    return values


def build(result: ClusteringResult) -> Report:
    """The report for ``result``."""
    v = _values(result)
    report = Report("clustering", title="PCA or t-SNE for visualising high-dimensional customer "
                    "data?", question="What method should I use to visualise high-dimensional "
                    "customer data: PCA or t-SNE?", short_answer=result.short_answer,
                    templates="casestudies.clustering")

    question = report.section("The question")
    question.text("question.md", **v)
    question.callout("answer", "answer.md", **v)

    data = report.section("The data")
    data.text("data.md", **v)
    if result.segment_sizes:
        sizes = pd.DataFrame({result.label_name: list(result.segment_sizes),
                              "rows": list(result.segment_sizes.values())})
        sizes["share"] = sizes["rows"] / sizes["rows"].sum()
        data.table(sizes, caption=f"Known {result.label_name} of each row (used only to score "
                   "the maps, never as a feature).", percent=("share",))
    data.table(result.preview, caption="The first rows of the table as read.", digits=4)

    math = report.section("The math")
    math.text("math_pca.md", **v)
    math.text("math_tsne.md", **v)
    math.table(result.affinity.sigma_by_label,
               caption=f"Bandwidths $\\sigma_i$ found by our binary search at perplexity "
               f"{result.affinity.perplexity:g}, by {result.label_name or 'row'}: denser groups "
               "get narrower Gaussians.")
    math.text("math_scores.md", **v)

    evidence = report.section("The evidence")
    evidence.text("evidence_pca.md", **v)
    evidence.figure(_scree_figure(result),
                    caption="Left: eigenvalues of the standardised data against the "
                    f"{result.parallel.quantile:.0%} quantile of {result.parallel.draws} "
                    "column-permuted copies; components left of the vertical line are kept. "
                    "Right: cumulative share of variance.",
                    alt="Scree plot with parallel-analysis threshold and cumulative variance")
    evidence.table(_top_loadings(result), caption="The largest loadings of the first "
                   "components: which customer attributes drive each axis of the PCA map.")
    shown = result.reconstruction[result.reconstruction["components"].isin(
        sorted({1, 2, 5, result.parallel.n_components, 10, result.n_features}))]
    evidence.table(shown, caption="Reconstruction error (mean squared error per standardised "
                   "entry) against the share of variance kept: they add up to the total "
                   "variance per column.", digits=3)
    evidence.text("evidence_maps.md", **v)
    names = [e.name for e in result.embeddings]
    evidence.figure(_maps_figure(result, names),
                    caption=f"The same {v['items']} in every map, coloured by their known "
                    f"{result.label_name or 'row'} (colour is never an input). Look at how the "
                    "perplexity changes the grain of the t-SNE maps, and at what PCA overlaps.",
                    alt="Grid of 2-D maps: PCA and t-SNE at several perplexities")
    accuracy = (f"{KNN_CLASSIFIER_K}-NN accuracy of the known segments "
                f"({result.accuracy_folds}-fold cross-validated), "
                if result.accuracy_folds else "")
    evidence.table(result.scorecard, caption=f"Faithfulness scorecard on {result.metric_rows:,} "
                   f"randomly drawn rows: global distance correlation, {accuracy}run time and "
                   "final KL divergence.",
                   digits=3, percent=(ACCURACY,))
    evidence.figure(_neighbourhood_figure(result),
                    caption="Trustworthiness (no false neighbours), continuity (no torn "
                    "neighbourhoods) and kNN recall against the neighbourhood size k.",
                    alt="Neighbourhood preservation curves per embedding")
    evidence.table(result.neighbourhoods, caption="Neighbourhood preservation at each k.")
    evidence.figure(_shepard_figure(result),
                    caption=f"Shepard diagrams: distances between random pairs of {v['items']} in "
                    "the data against those on the map. A monotone band means global geometry "
                    "is kept; a flat cloud means it is not.",
                    alt="Shepard diagrams for PCA and t-SNE")
    evidence.text("evidence_stability.md", **v)
    evidence.table(result.stability, caption="Seed-to-seed stability of the main t-SNE map: "
                   "Procrustes disparity (0 = identical up to rotation and scale) and overlap "
                   f"of the {STABILITY_K}-nearest-neighbour sets.")
    evidence.text("evidence_clustering.md", **v)
    evidence.table(result.clustering, caption="Clustering in each space: the Gaussian mixture's "
                   "number of components chosen by BIC and k-means, with their adjusted Rand "
                   "index against the known segments.")

    pitfalls = report.section("Pitfalls")
    pitfalls.text("pitfall_scaling.md", **v)
    pitfalls.table(result.scaling, caption="First principal component without and with "
                   "standardisation.", percent=("PC1 variance share",))
    pitfalls.text("pitfall_noise.md", **v)
    pitfalls.figure(_noise_figure(result),
                    caption=f"t-SNE maps of {result.noise.n} points of {DIMENSIONS}-dimensional "
                    "Gaussian noise: there is no cluster in the data.",
                    alt="t-SNE maps of pure noise at two perplexities")
    pitfalls.text("pitfall_spread.md", **v)
    pitfalls.figure(_two_maps_figure(result.spread, ("tight", "wide")),
                    caption=f"Two clusters, one {result.spread.spread_ratio:g} times wider than "
                    "the other, in PCA and t-SNE (equal axis scales).",
                    alt="Clusters of unequal spread in two maps")
    pitfalls.figure(_two_maps_figure(result.distances, ("A", "B", "C")),
                    caption=f"Three clusters with C {result.distances.offset_ratio:g} times "
                    "farther from A than B is.",
                    alt="Clusters at unequal distances in two maps")
    pitfalls.text("pitfall_placement.md", **v)
    pitfalls.figure(_placement_figure(result),
                    caption=f"openTSNE's `transform` places new {v['items']} into an existing map "
                    "without moving it; scikit-learn's TSNE "
                    f"{'has' if result.placement.sklearn_can_transform else 'has no'} such "
                    "method.",
                    alt="Held-out customers placed into a t-SNE map")
    pitfalls.text("pitfall_nonlinear.md", **v)
    pitfalls.figure(_trajectory_figure(result.trajectory),
                    caption=f"A helix of {result.trajectory.turns:g} turns in {DIMENSIONS} "
                    "dimensions, coloured by the position along it: where a map lays turns on "
                    "top of each other, the colours mix.",
                    alt="Helix in PCA and t-SNE maps coloured by position")
    if result.life_stage is not None:
        pitfalls.text("pitfall_life_stage.md", **v)
        pitfalls.figure(_life_stage_figure(result),
                        caption="The life-stage segment coloured by its position along the "
                        "trajectory (other customers grey).",
                        alt="Life-stage trajectory in PCA and t-SNE maps")
        pitfalls.table(result.life_stage, caption=f"Cross-validated $R^2$ of a {POSITION_K}-NN "
                       "regression of the life-stage position on each space's coordinates.")

    report.text_section("Interview questions", "interview.md", **v)
    report.text_section("Use it on your own data", "own_data.md", **v)
    return report
