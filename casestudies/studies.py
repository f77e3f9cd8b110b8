"""The registry of case studies, imported lazily so that one study's heavy imports (torch) are
paid only when that study runs."""

from __future__ import annotations

import importlib

from casestudies.errors import ConfigError
from casestudies.study import Study

STUDY_NAMES = ("clustering", "calibration", "forecasting", "iid_checks")


def get_study(name: str) -> Study:
    """Return the :class:`~casestudies.study.Study` called ``name``."""
    if name not in STUDY_NAMES:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDY_NAMES)}")
    return importlib.import_module(f"casestudies.{name}").STUDY


def available_studies() -> tuple[str, ...]:
    """The names of the studies the command line offers, in the order of :data:`STUDY_NAMES`."""
    return STUDY_NAMES
