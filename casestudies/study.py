"""The contract between the command line and a case study.

Each study package defines ``STUDY = Study(...)`` in its ``__init__.py``; the command line, the
Makefile, :func:`casestudies.run` and the index know studies only through it. A study's
``__init__`` stays light (no heavy imports such as torch) so that ``--help`` is quick.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from casestudies.config import StudyConfig
from casestudies.errors import ConfigError


class Dataset(Protocol):
    """What :attr:`Study.load_data` returns: the study's data plus where it came from."""

    source: str  # human description: "simulated transactions (seed 0, 120 days)" or a file name
    fingerprint: str  # sha256 of the canonical data (casestudies.io.fingerprint_frame)


class Result(Protocol):
    """What :attr:`Study.run` returns: plain data with verdicts, serialised to STUDY.json
    (see :class:`casestudies.results.StudyResult`)."""

    def summary(self) -> str: ...


@dataclass(frozen=True)
class Study:
    """A case study as the command line and :func:`casestudies.run` see it.

    Attributes
    ----------
    name : str
        Command-line name and output file stem (``"iid_checks"``).
    title : str
        Report title.
    question : str
        The question, one sentence; shown in ``--help``, the report and the index.
    config : type
        The study's :class:`~casestudies.config.StudyConfig` dataclass: its fields declare every
        option (the command line is generated from them).
    load_data : callable
        ``load_data(config) -> Dataset``; raises :class:`~casestudies.errors.DataError`.
    run : callable
        ``run(config, data) -> Result``: the analysis, no I/O.
    build_report : callable
        ``build_report(result) -> casestudies.report.Report``.
    requires : dict
        Modules the study needs beyond the core install, each with the extra that installs it
        (``{"torch": "forecasting"}``); checked before any work starts.
    """

    name: str
    title: str
    question: str
    config: type[StudyConfig]
    load_data: Callable[[Any], Dataset]
    run: Callable[[Any, Any], Result]
    build_report: Callable[[Any], Any]
    requires: dict[str, str] = field(default_factory=dict)

    def check_requirements(self) -> None:
        """Raise ConfigError naming the extra to install when a required module is missing."""
        for module, extra in self.requires.items():
            if importlib.util.find_spec(module) is None:
                raise ConfigError(f"the {self.name} study needs {module}, which is not "
                                  f"installed; install it with: pip install "
                                  f"'casestudies[{extra}]'")


def lazy(module: str, function: str) -> Callable[..., Any]:
    """``module.function``, imported on the first call rather than now.

    A study's ``__init__`` names its loader, pipeline and report this way, so that listing the
    studies (``--help``) does not import torch, statsmodels or matplotlib.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), function)(*args, **kwargs)

    call.__name__ = function
    call.__qualname__ = f"lazy({module}.{function})"
    call.__doc__ = f"Import :func:`{module}.{function}` and call it."
    return call
