"""Shared fixtures: progress output off, a private results cache, and rendering a study's report
into a temporary folder."""

import json
import os

import pytest

from casestudies import progress


@pytest.fixture(autouse=True)
def _quiet_progress():
    progress.set_quiet(True)
    yield
    progress.set_quiet(False)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Point the results cache at a folder of this test run: a test never reads what an earlier
    run (or the user's own reports) left in ~/.cache, and never writes there. Test workers share
    the folder; writes are atomic."""
    previous = os.environ.get("CASESTUDIES_CACHE_DIR")
    os.environ["CASESTUDIES_CACHE_DIR"] = str(tmp_path_factory.getbasetemp().parent / "cache")
    yield
    if previous is None:
        os.environ.pop("CASESTUDIES_CACHE_DIR", None)
    else:
        os.environ["CASESTUDIES_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def render_report(tmp_path_factory):
    """``render_report(study, *options) -> (html, payload)``: run the command line into a fresh
    folder and return the report's HTML and parsed JSON."""
    from casestudies.cli import main

    def render(study: str, *options: str) -> tuple[str, dict]:
        out = tmp_path_factory.mktemp(study)
        assert main([study, *options, "--out", str(out), "--quiet"]) == 0
        html = (out / f"{study}.html").read_text(encoding="utf-8")
        return html, json.loads((out / f"{study}.json").read_text(encoding="utf-8"))

    return render
