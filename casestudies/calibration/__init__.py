"""Calibration study: at what score do we block a transaction, and can the score be trusted as a
probability when we set that threshold?

The pipeline and the report are imported only when the study runs, so that ``--help`` stays
quick.
"""

from __future__ import annotations

from casestudies.calibration.config import CalibrationConfig
from casestudies.study import Study, lazy

STUDY = Study(
    name="calibration",
    title="Calibrating the threshold that blocks fraudulent transactions",
    question="At what score do we block a transaction, and can we trust the score as a "
             "probability when we set that threshold?",
    config=CalibrationConfig,
    load_data=lazy("casestudies.calibration.data", "load_data"),
    run=lazy("casestudies.calibration.pipeline", "run"),
    build_report=lazy("casestudies.calibration.report", "build"),
)
