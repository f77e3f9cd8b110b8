"""A small report exercising every block of the engine, for the engine and browser tests."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casestudies.provenance import Provenance
from casestudies.report import Report, new_figure

TEMPLATES = Path(__file__).parent / "templates"
HOSTILE = "<script>alert(1)</script>"


def build_sample_report(column: str = HOSTILE) -> Report:
    report = Report("sample", title="Sample report", question="Does the engine work?",
                    short_answer="Yes: every block renders.", templates=TEMPLATES)
    prose = report.section("The math")
    prose.text("prose.md", threshold=0.0123456, column=column, rate=0.0123, growth=2.5)
    fig, ax = new_figure(6, 3)
    x = np.linspace(0, 1, 50)
    ax.plot(x, x**2, label="$x^2$")
    ax.legend()
    evidence = report.section("The evidence")
    evidence.figure(fig, caption=f"A curve; the column is {column}", alt="a rising curve")
    evidence.table(pd.DataFrame({column: [1.23456, 1e-6], "count": [1_000_000, 2],
                                 "label": ["a&b", column]}), caption="Numbers $x_i$")
    return report


def sample_provenance() -> Provenance:
    return Provenance(study="sample", seed=0, command="python -m casestudies sample",
                      data_source="made in a test", data_fingerprint="0" * 64)


@pytest.fixture
def make_sample_report():
    return build_sample_report


@pytest.fixture
def provenance() -> Provenance:
    return sample_provenance()


@pytest.fixture
def sample_report() -> Report:
    return build_sample_report()


@pytest.fixture
def sample_html(sample_report, provenance) -> str:
    return sample_report.render(provenance)


@pytest.fixture(scope="session")
def quick_reports(tmp_path_factory):
    """Each study's --quick report, built once per test run: test workers share the build (a
    file lock lets the first one build it while the others wait)."""
    import fcntl
    import os

    from casestudies.cli import main

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this run

    def build(study):
        out = root / f"{study}-quick"
        html = out / f"{study}.html"
        with open(root / f"{study}-quick.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not html.exists():
                out.mkdir(exist_ok=True)
                assert main([study, "--quick", "--quiet", "--out", str(out)]) == 0
        return html

    return build
