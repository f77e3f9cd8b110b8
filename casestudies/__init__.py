"""Reproducible classical-ML case studies, each answering one question with an HTML report.

>>> import casestudies
>>> result = casestudies.run("calibration", seed=1)          # doctest: +SKIP
>>> result.short_answer                                        # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["run"]


def run(study: str, **options: Any) -> Any:
    """Run a case study in Python and return its result object (nothing is written).

    Parameters
    ----------
    study : str
        ``"clustering"``, ``"calibration"``, ``"forecasting"`` or ``"iid_checks"``.
    **options
        The command-line options with underscores: ``data="my.csv"``, ``target="is_fraud"``,
        ``seed=3``, ``quiet=True`` …

    Returns
    -------
    object
        The study's result dataclass; ``result.short_answer`` is the one-line answer.
    """
    from casestudies import progress
    from casestudies.cli import execute, parse_study_args
    from casestudies.studies import get_study

    get_study(study)  # an unknown name is a ConfigError, not an argparse exit
    args = parse_study_args(study, **options)
    progress.set_quiet(args.quiet)
    return execute(get_study(study), args).result
