"""Every parameter of the clustering study, with its default and meaning."""

from __future__ import annotations

from dataclasses import dataclass

DATASETS = ("customers", "digits")


@dataclass(frozen=True)
class ClusteringConfig:
    """Parameters of one run of the PCA-versus-t-SNE study.

    Attributes
    ----------
    dataset : str
        ``"customers"`` (the seeded customer simulator) or ``"digits"`` (scikit-learn's
        8x8 handwritten digits); ignored when ``data_path`` is set.
    n_customers : int
        Number of simulated customers.
    data_path : str or None
        A user's CSV or Parquet table, one row per customer.
    id_column, label_column : str or None
        The table's unique id column (not used as a feature) and an optional known segment
        (used for evaluation only, never as a feature).
    drop_columns : tuple of str
        Further columns to leave out of the features.
    perplexities : tuple of float
        The t-SNE perplexity sweep; the main map uses ``main_perplexity``.
    main_perplexity : float
        Perplexity of the map that is scored against PCA, clustered and checked for stability.
    stability_seeds : int
        Number of seeds the main map is repeated with to measure seed-to-seed stability.
    neighbours : tuple of int
        Neighbourhood sizes k of the faithfulness scorecard.
    metric_sample : int
        Rows (drawn at random) on which the scorecard's all-pairs metrics are computed.
    max_clusters : int
        Largest number of Gaussian-mixture components tried when choosing k by BIC.
    parallel_analysis_draws : int
        Column-permuted copies of the data used by parallel analysis.
    holdout_fraction : float
        Share of customers left out of a map and then placed into it (openTSNE ``transform``).
    pitfall_points : int
        Points per synthetic pitfall data set.
    reference_sklearn : bool
        Also embed the main perplexity with scikit-learn's Barnes-Hut TSNE (the reference).
    large_rows : int
        Above this many rows, the seed-stability maps, the placement of new customers and the
        clustering run on a random subsample of ``subsample_rows`` rows (their cost grows with n,
        their conclusions do not need every row).
    subsample_rows : int
    n_jobs : int
        Threads used by the neighbour searches and t-SNE.
    seed : int
        Seed of the simulator, the subsamples and every embedding.
    """

    dataset: str = "customers"
    n_customers: int = 2500
    data_path: str | None = None
    id_column: str | None = None
    label_column: str | None = None
    drop_columns: tuple[str, ...] = ()
    perplexities: tuple[float, ...] = (5.0, 30.0, 100.0, 200.0)
    main_perplexity: float = 30.0
    stability_seeds: int = 3
    neighbours: tuple[int, ...] = (5, 15, 50)
    metric_sample: int = 2000
    max_clusters: int = 8
    parallel_analysis_draws: int = 20
    holdout_fraction: float = 0.1
    pitfall_points: int = 400
    reference_sklearn: bool = True
    large_rows: int = 10_000
    subsample_rows: int = 5_000
    n_jobs: int = 1
    seed: int = 0

    @property
    def uses_user_data(self) -> bool:
        """Whether the run reads a user's table rather than a built-in data set."""
        return self.data_path is not None
