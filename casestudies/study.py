"""The contract between the command line and a case study.

Each study package defines ``STUDY = Study(...)`` in its ``__init__.py``; the command line, the
Makefile, :func:`casestudies.run` and the index know studies only through it. A study's
``__init__`` stays light (no heavy imports such as torch) so that ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class Dataset(Protocol):
    """What :attr:`Study.load_data` returns: the study's data plus where it came from."""

    source: str  # human description: "simulated transactions (seed 0, 120 days)" or a file name
    fingerprint: str  # sha256 of the canonical data (casestudies.io.fingerprint_frame)


class Result(Protocol):
    """What :attr:`Study.run` returns: plain data, serialised to STUDY.json."""

    short_answer: str  # one line, plain text, with this run's numbers


@dataclass(frozen=True)
class Study:
    """A case study as the command line sees it.

    Attributes
    ----------
    name : str
        Command-line name and output file stem (``"iid_checks"``).
    title : str
        Report title.
    question : str
        The question, one sentence; shown in ``--help`` and the index.
    add_arguments : callable
        ``add_arguments(parser)`` adds the study's own options (the common ``--data``,
        ``--out``, ``--seed`` and ``--quiet`` are added by the command line).
    make_config : callable
        ``make_config(args) -> config``: options to the study's frozen config dataclass;
        raises :class:`~casestudies.errors.ConfigError`.
    load_data : callable
        ``load_data(config) -> Dataset``; raises :class:`~casestudies.errors.DataError`.
    run : callable
        ``run(config, data) -> Result``: the analysis, no I/O.
    build_report : callable
        ``build_report(result) -> casestudies.report.Report``.
    """

    name: str
    title: str
    question: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    make_config: Callable[[argparse.Namespace], Any]
    load_data: Callable[[Any], Dataset]
    run: Callable[[Any, Any], Result]
    build_report: Callable[[Any], Any]


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
