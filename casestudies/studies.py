"""The registry of case studies, imported lazily so that one study's heavy imports (torch) are
paid only when that study runs."""

from __future__ import annotations

import importlib
import importlib.util

from casestudies.errors import ConfigError
from casestudies.study import Study

STUDY_NAMES = ("clustering", "calibration", "forecasting", "iid_checks")


def get_study(name: str) -> Study:
    """Return the :class:`~casestudies.study.Study` called ``name``."""
    if name not in STUDY_NAMES:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDY_NAMES)}")
    return importlib.import_module(f"casestudies.{name}").STUDY


def available_studies() -> tuple[str, ...]:
    """The studies whose package is importable, in the order of :data:`STUDY_NAMES`."""
    return tuple(name for name in STUDY_NAMES if importlib.util.find_spec(f"casestudies.{name}"))
