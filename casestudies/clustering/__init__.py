"""PCA or t-SNE for visualising high-dimensional customer data?

Light on import: the pipeline and the report (openTSNE, scikit-learn, matplotlib) are imported
only when the study runs.
"""

from __future__ import annotations

from casestudies.clustering.config import ClusteringConfig
from casestudies.study import Study, lazy

STUDY = Study(
    name="clustering",
    title="PCA or t-SNE for visualising high-dimensional customer data?",
    question="What method should I use to visualise high-dimensional customer data: PCA or "
             "t-SNE?",
    config=ClusteringConfig,
    load_data=lazy("casestudies.clustering.data", "load_data"),
    run=lazy("casestudies.clustering.pipeline", "run"),
    build_report=lazy("casestudies.clustering.report", "build"),
)
