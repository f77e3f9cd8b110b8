"""IID checks study: does the data violate the IID assumption, and what does that do to
validation?

The pipeline and the report are imported only when the study runs, so that ``--help`` stays
quick.
"""

from __future__ import annotations

from typing import Any

from casestudies.iid_checks.config import add_arguments, make_config
from casestudies.study import Study


def _load_data(config: Any) -> Any:
    from casestudies.iid_checks.data import load_data

    return load_data(config)


def _run(config: Any, data: Any) -> Any:
    from casestudies.iid_checks.pipeline import run

    return run(config, data)


def _build_report(result: Any) -> Any:
    from casestudies.iid_checks.report import build

    return build(result)


STUDY = Study(
    name="iid_checks",
    title="Does my data violate the IID assumption?",
    question="Which IID assumption does the data break, how badly, and how much does a "
             "validation scheme that assumes IID rows overstate the model's score?",
    add_arguments=add_arguments,
    make_config=make_config,
    load_data=_load_data,
    run=_run,
    build_report=_build_report,
)
