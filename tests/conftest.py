"""Shared fixtures: progress output off, a temporary reports folder."""

import pytest

from casestudies import progress


@pytest.fixture(autouse=True)
def _quiet_progress():
    progress.set_quiet(True)
    yield
    progress.set_quiet(False)
