"""What is needed to reproduce a run: seed, command, data fingerprint, versions and timings."""

from __future__ import annotations

import datetime as _dt
import platform
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

PACKAGES = ("casestudies", "numpy", "scipy", "pandas", "scikit-learn", "statsmodels",
            "matplotlib", "openTSNE", "torch")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (without importing them), plus Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class StageTimer:
    """Wall-clock time of the named stages of a pipeline.

    Examples
    --------
    >>> timer = StageTimer()
    >>> with timer.stage("fit"):
    ...     pass
    >>> list(timer.seconds)
    ['fit']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass
class Provenance:
    """The reproducibility record shown at the end of every report and saved in its JSON."""

    study: str
    seed: int
    command: str
    data_source: str
    data_fingerprint: str
    versions: dict[str, str] = field(default_factory=package_versions)
    started: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    duration_s: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)


def command_line(argv: list[str] | None = None) -> str:
    """The command as the user would retype it: ``python -m casestudies …``."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", "casestudies", *args])
