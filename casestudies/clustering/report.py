"""The clustering report: reads a :class:`~casestudies.clustering.pipeline.ClusteringResult` and
lays out figures, tables and the templates' prose; computes nothing that the report states.
Its wording is chosen from the result's verdicts, and :func:`short_answer` writes the one-line
answer from them."""

from __future__ import annotations

from typing import Any

import numpy as np

from casestudies.clustering import STUDY
from casestudies.clustering.pipeline import (
    ACCURACY,
    KNN_CLASSIFIER_K,
    PCA_NAME,
    STABILITY_K,
    ClusteringResult,
)
from casestudies.report import (
    PALETTE,
    Report,
    columns_as_rows,
    figure_text,
    new_figure,
    user_text,
)
from casestudies.report.formatting import format_number

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
            ax.scatter([], [], c=[lookup[name]], s=20, label=figure_text(name))
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


def _real_maps_figure(real):
    fig, axes = new_figure(9, 3.4, 1, 3)
    for ax, (name, coordinates) in zip(axes, real.maps.items(), strict=True):
        _scatter(ax, coordinates, real.labels, name, legend=False)
    return fig


# One colour per method in every line figure: PCA blue, t-SNE red, UMAP green, the data itself
# grey (the reference). Variants of one method (another perplexity, the PCA-10 start, another
# implementation) keep its colour, lighter, with their own marker and line style.
METHOD_COLOURS = {"PCA": PALETTE[0], "t-SNE": PALETTE[1], "UMAP": PALETTE[2], "data": PALETTE[6]}
VARIANT_STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("v", "-."), ("D", "--"), ("x", ":"),
                  ("P", "-.")]


def _method(name: str) -> str:
    for method in ("UMAP", "t-SNE", "PCA"):
        if method in name:
            return method
    return "data"


def _lighter(colour: str, share: float) -> tuple[float, float, float]:
    """``colour`` mixed with ``share`` of white."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return tuple(c + (1 - c) * share for c in rgb)


def method_styles(names: list[str], main: str) -> dict[str, dict[str, Any]]:
    """Line style of each named map or space: its method's colour; the map a method is judged
    by (the main t-SNE map, PCA 2-D, the first UMAP) solid and full colour, its other variants
    lighter, each with its own marker."""
    styles, seen = {}, {}
    ordered = sorted(names, key=lambda n: (n not in (main, PCA_NAME), names.index(n)))
    for name in ordered:
        method = _method(name)
        i = seen.get(method, 0)
        seen[method] = i + 1
        marker, line = VARIANT_STYLES[i % len(VARIANT_STYLES)]
        colour = METHOD_COLOURS[method]
        styles[name] = {"color": colour if i == 0 else _lighter(colour, min(0.15 * i, 0.6)),
                        "marker": marker, "linestyle": line}
    return styles


def _k_figure(result: ClusteringResult):
    fig, axes = new_figure(9, 4.2, 1, 3)
    curves = result.k_curves
    spaces = list(dict.fromkeys(curves["space"]))
    styles = method_styles(spaces, f"{result.main_name} map")
    for space, rows in curves.groupby("space", sort=False):
        style = styles[space]
        bic = rows["BIC"] / rows["BIC"].iloc[0]
        axes[0].plot(rows["k"], bic, ms=3, **style, label=figure_text(space))
        axes[1].plot(rows["k"], rows["silhouette"], ms=3, **style)
        axes[2].plot(rows["k"], rows["k-means stability"], ms=3, **style)
    for ax, label in zip(axes, ("BIC / BIC at k = 1", "silhouette",
                                "k-means stability (ARI)"), strict=True):
        ax.set_xlabel("number of clusters k")
        ax.set_ylabel(label)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig


CLUSTERING_HEADERS = {"space": "space", "dimensions": "dimensions", "gmm_k": "mixture k (BIC)",
                      "gmm_ari": "mixture ARI", "gmm_stability": "mixture stability",
                      "kmeans_k": "k-means k (silhouette)", "kmeans_ari": "k-means ARI",
                      "kmeans_stability": "k-means stability"}


def _clustering_table(result: ClusteringResult):
    """The clustering summary with human headers (the edge flags are in the text)."""
    table = result.clustering[list(CLUSTERING_HEADERS)].rename(columns=CLUSTERING_HEADERS)
    if result.segments is None:
        table = table.drop(columns=["mixture ARI", "k-means ARI"])
    return table


def _neighbourhood_figure(result: ClusteringResult):
    fig, axes = new_figure(9, 4.4, 1, 3)
    table = result.neighbourhoods
    styles = method_styles(list(dict.fromkeys(table["embedding"])), result.main_name)
    for ax, column in zip(axes, ("trustworthiness", "continuity", "knn_recall"), strict=True):
        for name, rows in table.groupby("embedding", sort=False):
            ax.plot(rows["k"], rows[column], ms=3, **styles[name], label=name)
        ax.set_xscale("log")
        ax.set_xticks(result.neighbours, [str(k) for k in result.neighbours])
        ax.minorticks_off()
        ax.set_xlabel("neighbourhood size k")
        ax.set_title(column.replace("_", " "))
    # Below the panels: inside one, nine curves' legend would hide some of them.
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig


def _shepard_figure(result: ClusteringResult):
    names = ["PCA 2-D", result.main_name]
    fig, axes = new_figure(8, 3.4, 1, 2)
    for ax, name in zip(axes, names, strict=True):
        data, mapped = result.shepard[name]
        ax.scatter(data, mapped, s=3, alpha=0.4, linewidths=0, rasterized=True,
                   color=METHOD_COLOURS[_method(name)])
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
    fig, axes = new_figure(9, 6.4, 2, 2)
    panels = [(noise.pca_map, f"PCA of the noise: {noise.clusters_pca} clusters"),
              (noise.control, f"2-D Gaussian control: {noise.clusters_control} clusters")]
    panels += [(coordinates, f"t-SNE, perplexity {perplexity:g}: {k} clusters")
               for perplexity, coordinates, k in zip(noise.perplexities, noise.maps,
                                                     noise.clusters_maps, strict=True)]
    for ax, (coordinates, title) in zip(axes.ravel(), panels, strict=True):
        _scatter(ax, coordinates, None, title)
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


def _plural(count: int, word: str) -> str:
    """``"1 cluster"``, ``"5 clusters"``: the count formatted with its noun."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _values(result: ClusteringResult) -> dict:
    """Every value the templates quote, looked up once and formatted (nothing here is
    computed). ``state`` maps each verdict's name to "yes", "no" or "undecided"; a verdict the
    run does not have (no known segments, a single perplexity) is absent, which the templates
    test as a presence flag."""
    k = result.comparison_k
    main, pca = result.main_name, PCA_NAME
    has_labels = result.segments is not None
    clustering = result.clustering.set_index("space")
    spaces = list(clustering.index)
    values = dict(
        r=result, short_answer=short_answer(result), cfg=result.config, c=result.constants,
        k_mid=k, main=main, pca=pca, has_labels=has_labels, sklearn_name=result.sklearn_name,
        sweep=[result.embedding(name) for name in result.sweep_names],
        v=result.verdicts, state={name: v.state for name, v in result.verdicts.items()},
        trust_main=result.neighbourhood(main, "trustworthiness", k),
        trust_pca=result.neighbourhood(pca, "trustworthiness", k),
        cont_main=result.neighbourhood(main, "continuity", k),
        cont_pca=result.neighbourhood(pca, "continuity", k),
        recall_main=result.neighbourhood(main, "knn_recall", k),
        recall_pca=result.neighbourhood(pca, "knn_recall", k),
        rho_main=result.score(main, "Spearman distance correlation"),
        rho_pca=result.score(pca, "Spearman distance correlation"),
        acc_main=result.score(main, ACCURACY) if has_labels else None,
        acc_pca=result.score(pca, ACCURACY) if has_labels else None,
        acc_data=(result.scorecard[ACCURACY].iloc[0] if has_labels else None),
        seconds_main=result.embedding(main).seconds,
        seconds_pca=result.embedding(pca).seconds,
        data_space=spaces[0], pca_space=spaces[1], map_space=spaces[3],
        ari=clustering.to_dict("index"),
        gmm_k_data=_plural(int(clustering.iloc[0]["gmm_k"]), "component"),
        n_segments_known=len(result.segments) if result.segments is not None else None,
        overlap=f"{STABILITY_K}-NN overlap",
        scaling=result.scaling.set_index("features").to_dict("index"),
        stability=result.stability_summary.set_index("initialisation").to_dict("index"),
        life=(result.life_stage.set_index("space")["life-stage R²"].to_dict()
              if result.life_stage is not None else None),
        pre=result.preprocessing,
        dropped_constant=_listing(result.preprocessing.dropped_constant),
        noise_clusters_data=_plural(result.noise.clusters_data, "cluster"),
        items="images" if result.kind == "digits" else "customers",
        sweep_rho={name: result.score(name, "Spearman distance correlation")
                   for name in result.sweep_names},
        intervals={name: _interval(verdict, percent="reads_segments" in name)
                   for name, verdict in result.verdicts.items() if verdict.low is not None},
        brief={name: _brief(verdict, percent="reads_segments" in name)
               for name, verdict in result.verdicts.items() if verdict.low is not None},
        islands_best=result.island_summary.set_index("map")["best_column"].to_dict(),
        island_rows=result.island_summary.to_dict("records"),
        neighbour_levels=len(result.neighbour_levels) > 0,
        pca_first_name=_named(result, " PCs"), exaggerated_name=_named(result, "exaggeration"),
        trust_pca_first=result.neighbourhood(_named(result, " PCs"), "trustworthiness", k),
        trust_exaggerated=result.neighbourhood(_named(result, "exaggeration"),
                                               "trustworthiness", k),
        rho_exaggerated=result.score(_named(result, "exaggeration"),
                                     "Spearman distance correlation"),
        trust_umap=result.neighbourhood(result.umap_name, "trustworthiness", k),
        rho_umap=result.score(result.umap_name, "Spearman distance correlation"),
        seconds_umap=result.embedding(result.umap_name).seconds,
        rc=result.real_customers,
        real_intervals=({name: _interval(verdict, percent="reads_segments" in name)
                         for name, verdict in result.real_customers.verdicts.items()}
                        if result.real_customers else {}),
        real_rows=(result.real_customers.scorecard.to_dict("records")
                   if result.real_customers else []),
        default_perplexities=", ".join(f"{p:g}"
                                       for p in result.constants["default_perplexities"]),
        default_main=f"{result.constants['default_main_perplexity']:g}",
        reading_notes=result.reading.sentences() if result.reading else [],
        adaptation_notes=[a.describe() for a in result.adaptations],
    )
    if result.sklearn_name:
        name = result.sklearn_name
        values.update(trust_sklearn=result.neighbourhood(name, "trustworthiness", k),
                      seconds_sklearn=result.embedding(name).seconds)
    return values


def _named(result: ClusteringResult, part: str) -> str:
    """The name of the embedding whose name contains ``part``."""
    return next(e.name for e in result.embeddings if part in e.name)


MAX_LISTED_COLUMNS = 12  # longer lists of dropped columns are given as a count only


def _listing(columns: list[str]) -> list[str]:
    """The columns to name in the text: all of them, or none when there are too many to list
    (the text then gives their count only)."""
    return list(columns) if len(columns) <= MAX_LISTED_COLUMNS else []


def _brief(verdict, percent: bool = False) -> str:
    """A verdict's estimate with its interval in three numbers, for the answer box:
    ``"0.158 (0.150 to 0.166)"``, or percentage points for a difference of shares."""
    def fmt(value: float) -> str:
        return f"{100 * value:.1f}" if percent else format_number(value)

    unit = " percentage points" if percent else ""
    return (f"{fmt(verdict.estimate)}{unit} (interval {fmt(verdict.low)} to "
            f"{fmt(verdict.high)} over {verdict.unit})")


def _interval(verdict, percent: bool = False) -> str:
    """A verdict's estimate with its interval, as ``"0.123; 95% interval 0.116 to 0.131 over
    resampled customers"`` (or ``"…; from 0.13 to 0.16 over the seeds"`` for a range over
    seeds); ``percent`` shows a difference of shares in percentage points."""
    def fmt(value: float) -> str:
        return f"{100 * value:.1f}" if percent else format_number(value)

    text = fmt(verdict.estimate) + (" percentage points" if percent else "")
    if verdict.confidence and np.isfinite(verdict.confidence):
        text += (f"; {verdict.confidence:.0%} interval {fmt(verdict.low)} to "
                 f"{fmt(verdict.high)} over resampled {verdict.unit}")
    else:
        text += f"; from {fmt(verdict.low)} to {fmt(verdict.high)} over the {verdict.unit}"
    return text


def _both(first: str, second: str, yes: str, no: str, mixed: str) -> str:
    """Words for two methods' verdicts against PCA: both yes, both no, or one of each."""
    if first == second == "yes":
        return yes
    if first == second == "no":
        return no
    return mixed


ANSWER_CLAIMS = ("tsne_keeps_local_better", "umap_keeps_local_better",
                 "tsne_reads_segments_better", "umap_reads_segments_better",
                 "pca_keeps_global_better")
"""The verdicts the one-sentence answer is worded from (each has an interval over seeds and
customers); a verdict the run lacks (no known segments) is left out of the sentence."""


def answer_claims(result: ClusteringResult) -> list[str]:
    """The verdicts :func:`short_answer` rests on in this run."""
    return [name for name in ANSWER_CLAIMS if name in result.verdicts]


def _local_words(v: dict) -> str:
    t, u = v["tsne_keeps_local_better"].state, v["umap_keeps_local_better"].state
    if t == u:
        return {"yes": "t-SNE and UMAP both keep each customer's nearest neighbours better than "
                       "a PCA map",
                "no": "neither t-SNE nor UMAP keeps nearest neighbours better than a PCA map",
                "undecided": "t-SNE and UMAP cannot be told apart from a PCA map on nearest "
                             "neighbours"}[t]
    better = [name for name, state in (("t-SNE", t), ("UMAP", u)) if state == "yes"]
    if better:
        return f"only {better[0]} keeps nearest neighbours measurably better than a PCA map"
    return "neither t-SNE nor UMAP keeps nearest neighbours measurably better than a PCA map"


def _segment_words(v: dict) -> str:
    if "tsne_reads_segments_better" not in v:
        return ""
    t, u = v["tsne_reads_segments_better"].state, v["umap_reads_segments_better"].state
    if t == u == "yes":
        return ", and both read the known segments better than PCA"
    if "no" in (t, u) and "yes" not in (t, u):
        return ", but PCA reads the known segments at least as well"
    if "yes" in (t, u):
        better, other, other_state = ("t-SNE", "UMAP", u) if t == "yes" else ("UMAP", "t-SNE", t)
        how = "does not" if other_state == "no" else "cannot be told apart from PCA"
        return f", {better} reads the known segments better than PCA ({other} {how})"
    return ", but on this data PCA reads the known segments about as well (a tie within the "\
           "intervals)"


def _global_words(v: dict) -> str:
    return {"yes": "PCA keeps global distances better than t-SNE",
            "no": "t-SNE kept global distances at least as well as PCA",
            "undecided": "t-SNE and PCA tie on global distances"}[
        v["pca_keeps_global_better"].state]


def short_answer(result: ClusteringResult) -> str:
    """The one-sentence answer, worded from the verdicts of :data:`ANSWER_CLAIMS` (no numbers:
    they are in the bullets below it, with their intervals)."""
    v = result.verdicts
    first = f"{_local_words(v)}{_segment_words(v)}; {_global_words(v)}."
    if first[0].islower() and not first.startswith("t-SNE"):
        first = first[0].upper() + first[1:]
    return f"{first} {_use_words(v)}"


def _use_words(v: dict) -> str:
    """The advice, recommending a nonlinear map for neighbourhoods only where one kept them
    measurably better than PCA in this run."""
    distances = (" and distances" if v["pca_keeps_global_better"].state == "yes" else "")
    local = [name for name, key in (("t-SNE", "tsne_keeps_local_better"),
                                    ("UMAP", "umap_keeps_local_better"))
             if v[key].state == "yes"]
    look = (f"{' or '.join(local)} to look at neighbourhoods" if local else
            "the PCA map for neighbourhoods too (no nonlinear map kept them measurably better "
            "here)")
    return (f"Use PCA for the axes{distances}, {look}, and find segments by clustering the "
            "data, not a map.")


def build(result: ClusteringResult) -> Report:
    """The report for ``result``."""
    v = _values(result)
    report = Report("clustering", title=STUDY.title, question=STUDY.question,
                    short_answer=short_answer(result), templates="casestudies.clustering")

    question = report.section("The question")
    question.text("question.md", **v)
    question.callout("answer", "answer.md", **v)

    data = report.section("The data")
    data.text("data.md", **v)
    if result.segments is not None:
        data.table(result.segments, caption=f"Known {user_text(result.label_name)} of each row "
                   "(used only to score the maps, never as a feature).", percent=("share",))
    data.table(columns_as_rows(result.preview), caption="The first rows of the table as read, "
               "one column per row.", digits=4)

    math = report.section("The math")
    math.text("math_pca.md", **v)
    math.text("math_tsne.md", **v)
    math.table(result.affinity.sigma_by_label,
               caption=f"Bandwidths $\\sigma_i$ found by our binary search at perplexity "
               f"{result.affinity.perplexity:g}, by "
               f"{user_text(result.label_name or 'row')}: denser groups get narrower Gaussians.")
    math.text("math_umap.md", **v)
    math.text("math_scores.md", **v)

    evidence = report.section("The evidence")
    evidence.text("evidence_pca.md", **v)
    evidence.figure(_scree_figure(result),
                    caption="Left: eigenvalues of the standardised data against the "
                    f"{result.parallel.quantile:.0%} quantile of {result.parallel.draws} "
                    "column-permuted copies; components left of the vertical line are kept. "
                    "Right: cumulative share of variance.",
                    alt="Scree plot with parallel-analysis threshold and cumulative variance")
    evidence.table(result.top_loadings, caption="The largest loadings of the first "
                   "components: which customer attributes drive each axis of the PCA map.")
    shown = result.reconstruction[result.reconstruction["components"].isin(
        sorted({1, 2, 5, result.parallel.n_components, 10, result.n_features}))]
    evidence.table(shown, caption="Reconstruction error (mean squared error per entry) "
                   "against the share of variance kept: the error plus the kept share times "
                   f"the mean variance per feature ({result.mean_feature_variance:.3f}; below 1 "
                   "when one-hot blocks are scaled down) equals that mean variance.", digits=3)
    evidence.text("evidence_budget.md", **v)
    evidence.table(result.budget.head(MAX_BUDGET_ROWS),
                   caption="Share of the expected squared distance between two customers that "
                   "each original column contributes, as used in this run and if every feature "
                   "were standardised on its own"
                   + (f" (the {MAX_BUDGET_ROWS} largest; all columns in the JSON)"
                      if len(result.budget) > MAX_BUDGET_ROWS else "") + ".",
                   percent=("share of squared distance",
                            "share if each feature is standardised"))
    if len(result.neighbour_levels):
        evidence.table(result.neighbour_levels, caption=f"Share of each customer's "
                       f"{result.constants['level_neighbours']} nearest neighbours with the same "
                       "level of each categorical column: by chance, in the data, and on each "
                       "map. Far above chance on a map means that column arranges the map.",
                       percent=tuple(result.neighbour_levels.columns[1:]))
    evidence.text("evidence_islands.md", **v)
    top = result.attribution.groupby("map", sort=False).head(5)
    evidence.table(top, caption="The five columns that best explain each map's islands "
                   "(adjusted mutual information and adjusted Rand index with the island of each "
                   "customer; levels = levels or quantile bins compared).")
    evidence.text("evidence_maps.md", **v)
    names = [e.name for e in result.embeddings]
    evidence.figure(_maps_figure(result, names),
                    caption=f"The same {v['items']} in every map, coloured by their known "
                    f"{user_text(result.label_name or 'row')} (colour is never an input). Look "
                    "at how the perplexity changes the grain of the t-SNE maps, and at what PCA "
                    "overlaps.",
                    alt="Grid of 2-D maps: PCA and t-SNE at several perplexities")
    accuracy = (f"{KNN_CLASSIFIER_K}-NN accuracy of the known segments "
                f"({result.accuracy_folds}-fold cross-validated), "
                if result.accuracy_folds else "")
    # Run times vary between builds: they are quoted in the prose and kept in the JSON.
    evidence.table(result.scorecard.drop(columns=["seconds"], errors="ignore"),
                   caption=f"Faithfulness scorecard on {result.metric_rows:,} "
                   f"randomly drawn rows: global distance correlation, {accuracy}and final KL "
                   "divergence (each map's run time is in the JSON).",
                   digits=3, percent=(ACCURACY,))
    evidence.table(result.comparisons, caption="Each method against each other: the "
                   "difference of their scores with its 95% interval over seeds and customers "
                   "(segment recovery: the range over pairs of seeds).")
    evidence.figure(_neighbourhood_figure(result),
                    caption="Trustworthiness (no false neighbours), continuity (no torn "
                    "neighbourhoods) and kNN recall against the neighbourhood size k. Colours "
                    "name the method in every figure (PCA blue, t-SNE red, UMAP green); a "
                    "lighter shade with its own marker is another setting of the same method.",
                    alt="Neighbourhood preservation curves per embedding")
    evidence.table(result.neighbourhoods, caption="Neighbourhood preservation at each k.")
    evidence.figure(_shepard_figure(result),
                    caption=f"Shepard diagrams: distances between random pairs of {v['items']} in "
                    "the data against those on the map. A monotone band means global geometry "
                    "is kept; a flat cloud means it is not.",
                    alt="Shepard diagrams for PCA and t-SNE")
    if result.kind == "customers" and not result.config.uses_user_data:
        evidence.text("evidence_real.md", **v)
        real = result.real_customers
        if real is not None:
            evidence.table(real.scorecard, caption=f"PCA, t-SNE and UMAP on {real.n_rows:,} real "
                           f"customers: trustworthiness and continuity at k = {real.k}, distance "
                           "correlation, nearest-neighbour accuracy of the main type (postcode "
                           "profiles kept in one fold), KNC, and the islands.",
                           percent=("segment accuracy",))
            evidence.figure(_real_maps_figure(real), caption="The real customers on each map, "
                            "coloured by their customer main type (never an input).",
                            alt="PCA, t-SNE and UMAP maps of the Caravan customers")
    evidence.text("evidence_stability.md", **v)
    evidence.table(result.stability, caption="Seed-to-seed stability of the main t-SNE map: "
                   "Procrustes disparity (0 = identical up to rotation and scale) and overlap "
                   f"of the {STABILITY_K}-nearest-neighbour sets.")
    evidence.table(result.seed_scores, caption="Spearman distance correlation of each "
                   "PCA-initialised t-SNE map (map 1 is the main map) and of the 2-D PCA map on "
                   "the same rows: the replicates of the global comparison.")
    evidence.text("evidence_clustering.md", **v)
    evidence.figure(_k_figure(result), caption="Choosing k in each space: BIC of the Gaussian "
                    "mixture relative to its value at k = 1 (lower is better), silhouette of "
                    "k-means (higher is better) and stability of k-means between bootstrap "
                    "refits (1 = the same clusters every time). PCA blue, t-SNE red, UMAP "
                    "green, the data itself grey.",
                    alt="BIC, silhouette and stability against the number of clusters")
    evidence.table(_clustering_table(result), caption="Clustering in each space with the "
                   "chosen number of clusters: the mixture's k by BIC and k-means's k by "
                   "silhouette, their stability between bootstrap refits and, with known "
                   "segments, their adjusted Rand index (ARI) with them. A table with more "
                   f"columns than {result.constants['max_mixture_dimensions']} is clustered on "
                   "that many leading principal components. The curves for every k are in the "
                   "JSON (k_curves).")

    pitfalls = report.section("Pitfalls")
    pitfalls.text("pitfall_scaling.md", **v)
    pitfalls.table(result.scaling, caption="First principal component without and with "
                   "standardisation.", percent=("PC1 variance share",))
    pitfalls.text("pitfall_noise.md", **v)
    pitfalls.figure(_noise_figure(result),
                    caption=f"{result.noise.n} points of "
                    f"{result.constants['pitfall_dimensions']}-dimensional "
                    "Gaussian noise (no cluster in the data) on its PCA map and on t-SNE maps at "
                    "two perplexities, beside an unstructured 2-D Gaussian cloud; each title "
                    "gives the clusters HDBSCAN finds there.",
                    alt="PCA and t-SNE maps of pure noise and a 2-D control")
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
                    caption=f"A helix of {result.trajectory.turns:g} turns in "
                    f"{result.constants['pitfall_dimensions']} "
                    "dimensions, coloured by the position along it: where a map lays turns on "
                    "top of each other, the colours mix.",
                    alt="Helix in PCA and t-SNE maps coloured by position")
    if result.life_stage is not None:
        pitfalls.text("pitfall_life_stage.md", **v)
        pitfalls.figure(_life_stage_figure(result),
                        caption="The life-stage segment coloured by its position along the "
                        "trajectory (other customers grey).",
                        alt="Life-stage trajectory in PCA and t-SNE maps")
        pitfalls.table(result.life_stage, caption="Cross-validated $R^2$ of a "
                       f"{result.constants['position_k']}-NN "
                       "regression of the life-stage position on each space's coordinates.")

    report.text_section("Interview questions", "interview.md", **v)
    report.text_section("Use it on your own data", "own_data.md", **v)
    report.references(REFERENCES)
    report.glossary(GLOSSARY)
    return report


MAX_BUDGET_ROWS = 12

REFERENCES = {
    "vandermaaten2008": "van der Maaten, L. & Hinton, G. (2008). Visualizing data using t-SNE. "
                        "Journal of Machine Learning Research 9, 2579-2605.",
    "wattenberg2016": "Wattenberg, M., Viégas, F. & Johnson, I. (2016). How to use t-SNE "
                      "effectively. Distill.",
    "kobak2019": "Kobak, D. & Berens, P. (2019). The art of using t-SNE for single-cell "
                 "transcriptomics. Nature Communications 10, 5416.",
    "mcinnes2018": "McInnes, L., Healy, J. & Melville, J. (2018). UMAP: Uniform Manifold "
                   "Approximation and Projection for dimension reduction. arXiv:1802.03426.",
    "bohm2022": "Böhm, J. N., Berens, P. & Kobak, D. (2022). Attraction-repulsion spectrum in "
                "neighbor embeddings. Journal of Machine Learning Research 23, 1-32.",
    "venna2001": "Venna, J. & Kaski, S. (2001). Neighborhood preservation in nonlinear "
                 "projection methods: an experimental study. ICANN 2001, 485-491.",
    "campello2013": "Campello, R., Moulavi, D. & Sander, J. (2013). Density-based clustering "
                    "based on hierarchical density estimates. PAKDD 2013, 160-172.",
}

GLOSSARY = {
    "Trustworthiness": "How few of a point's map neighbours are false neighbours (far in the "
                       "data); 1 means none.",
    "Continuity": "How few of a point's data neighbours the map tears apart; 1 means none.",
    "Perplexity": "The effective number of neighbours each point attends to in t-SNE, "
                  "$2^{H_i}$ of its neighbour distribution.",
    "Distance budget": "The share of the expected squared distance between two customers that "
                       "each original column contributes.",
    "Island": "A group of points a density clusterer (HDBSCAN) finds on a 2-D map.",
    "AMI": "Adjusted mutual information: agreement of two partitions, 0 by chance, 1 when "
           "identical.",
    "ARI": "Adjusted Rand index: agreement of two partitions over pairs of points, 0 by "
           "chance, 1 when identical.",
    "KNC": "Share of each class's nearest class means in the data that stay its nearest on the "
           "map: mid-scale structure.",
    "Exaggeration": "A factor multiplying t-SNE's attractive forces; early in the optimisation "
                    "it lets clusters form, kept later it makes t-SNE resemble UMAP.",
}
