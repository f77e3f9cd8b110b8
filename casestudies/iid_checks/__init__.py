"""IID checks study: does the data violate the IID assumption, and what does that do to
validation?

The pipeline and the report are imported only when the study runs, so that ``--help`` stays
quick.
"""

from __future__ import annotations

from casestudies.iid_checks.config import IIDConfig
from casestudies.study import Study, lazy

STUDY = Study(
    name="iid_checks",
    title="Does my data violate the IID assumption?",
    question="Which IID assumption does the data break, how badly, and how much does a "
             "validation scheme that assumes IID rows overstate the model's score?",
    config=IIDConfig,
    load_data=lazy("casestudies.iid_checks.data", "load_data"),
    run=lazy("casestudies.iid_checks.pipeline", "run"),
    build_report=lazy("casestudies.iid_checks.report", "build"),
)
