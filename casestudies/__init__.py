"""Reproducible classical-ML case studies, each answering one question with an HTML report.

From Python, a study runs without building HTML, and its result carries every number and verdict::

    import casestudies
    result = casestudies.run("calibration", quick=True, seed=1)
    print(result.summary())                 # the short answer and the verdicts
    result.tables()["metrics"]              # the main tables as DataFrames
    casestudies.report(result, out="reports")   # writes reports/calibration.html and .json
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from casestudies._version import __version__

__all__ = ["__version__", "report", "run", "write_report"]


def _command(study: str, data: Any, options: dict[str, Any]) -> str:
    """The call as a user would retype it, for the reproducibility section."""
    shown = [repr(study)]
    if data is not None:
        shown.append(f"data={data!r}" if isinstance(data, (str, os.PathLike))
                     else "data=<DataFrame>")
    shown += [f"{key}={value!r}" for key, value in options.items()]
    return f"casestudies.run({', '.join(shown)})"


def run(study: str, data: Any = None, **options: Any) -> Any:
    """Run a case study and return its result; nothing is written and no HTML is built.

    Parameters
    ----------
    study : str
        ``"clustering"``, ``"calibration"``, ``"forecasting"`` or ``"iid_checks"``.
    data : str, path-like, pandas.DataFrame or None
        Your own table (a CSV or Parquet file, or a DataFrame); ``None`` uses the study's own
        data.
    **options
        The study's options, named as on the command line with underscores (``cost_fp=5``,
        ``customers=1000``) or as config fields (``n_customers=1000``), with Python values or
        the same text the command line takes (``series="arma,co2"`` or
        ``series=["arma", "co2"]``); ``quiet=True`` silences progress output.

    Returns
    -------
    StudyResult
        The study's result: ``summary()``, ``tables()``, ``verdicts`` and every number of the
        report.

    Raises
    ------
    ConfigError
        An option is unknown or has a bad value (one-line message naming it).
    DataError
        The data cannot answer the question (one-line message saying why).
    """
    from casestudies import progress
    from casestudies.cli import analyse
    from casestudies.studies import get_study

    quiet = bool(options.pop("quiet", False))
    declared = get_study(study)
    config = declared.config.from_options(data=data, **options)
    previous = progress.is_quiet()
    progress.set_quiet(quiet or previous)
    try:
        return analyse(declared, config, command=_command(study, data, options))
    finally:
        progress.clear_status()
        progress.set_quiet(previous)


def write_report(result: Any, out: str | os.PathLike = "reports") -> tuple[Path, Path]:
    """Write ``out/STUDY.html`` and ``out/STUDY.json`` for a result of :func:`run`.

    Also available as ``casestudies.report(result, out)``.

    Returns
    -------
    (Path, Path)
        The HTML and JSON files written.
    """
    from casestudies.cli import check_writable, render, write_outputs
    from casestudies.studies import get_study

    check_writable(out)
    return write_outputs(render(get_study(result.study), result), Path(out))


# ``casestudies.report(result, out)``: until the report engine is imported this is the function;
# afterwards the engine package, which is callable with the same signature.
report = write_report
