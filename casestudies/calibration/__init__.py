"""Calibration study: at what score do we block a transaction, and can the score be trusted as a
probability when we set that threshold?

The pipeline and the report are imported only when the study runs, so that ``--help`` stays
quick.
"""

from __future__ import annotations

from typing import Any

from casestudies.calibration.config import add_arguments, make_config
from casestudies.study import Study


def _load_data(config: Any) -> Any:
    from casestudies.calibration.data import load_data

    return load_data(config)


def _run(config: Any, data: Any) -> Any:
    from casestudies.calibration.pipeline import run

    return run(config, data)


def _build_report(result: Any) -> Any:
    from casestudies.calibration.report import build

    return build(result)


STUDY = Study(
    name="calibration",
    title="Calibrating the threshold that blocks fraudulent transactions",
    question="At what score do we block a transaction, and can we trust the score as a "
             "probability when we set that threshold?",
    add_arguments=add_arguments,
    make_config=make_config,
    load_data=_load_data,
    run=_run,
    build_report=_build_report,
)
