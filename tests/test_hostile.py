"""Hostile names and values, generated: every study either writes a report in which no user string
became markup, a link or a formula, or stops with one line, exit code 2 and nothing written.

The tables are valid apart from their names and label values, so a run must succeed: a name is
never a reason to fail. ``make test`` runs a few examples per study; ``make test-hostile`` many
(``HOSTILE_EXAMPLES``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from casestudies import cli

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "2"))
# Each example runs a whole study (seconds): no shrinking (a failing example is printed as drawn)
# and no example database, so that a run is bounded and leaves no files behind.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# Text that means something to Markdown, LaTeX, Jinja, HTML or matplotlib. "zq" marks the places
# where emphasis or a link would show up if the text were parsed.
HOSTILE = [
    "$", "$$", "price $$", "$\\foo$", "\\", "a\\b", "*zq*", "**zq**", "_zq_", "`zq`",
    "[zq](javascript:alert(1))", "[zq](https://example.org)", "{{ zq }}", "{% if zq %}",
    "<script>zq</script>", "<b>zq</b>", "a|b", "# zq", "&amp;zq", "%s%d", "é€ß", "1e5",
]
hostile_text = st.sampled_from(HOSTILE) | st.text(
    alphabet=st.sampled_from(list("$\\*_[]()<>{}%#|`&~^ abzq0")), min_size=1, max_size=10
).filter(lambda s: s.strip() and "," not in s)


def hostile_names(count: int) -> st.SearchStrategy[list[str]]:
    """``count`` distinct column names, stripped as a CSV reader would see them."""
    return st.lists(hostile_text.map(str.strip).filter(bool), min_size=count, max_size=count,
                    unique=True)


def assert_inert(html: str) -> None:
    """No user string became a tag, a link, emphasis or a formula."""
    assert "<script" not in html
    targets = re.findall(r"""href\s*=\s*["']?([^"' >]*)""", html)
    assert not [t for t in targets if "javascript:" in t or "example.org" in t], targets
    for tag in ("em", "strong", "code", "b", "h1"):
        assert f"<{tag}>zq</{tag}>" not in html
    assert not re.search(r"<math[^>]*>(?:(?!</math>).)*foo", html, flags=re.S)


def run_cli(argv: list[str], out: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main([*argv, "--out", str(out), "--quiet"])
    return code, capsys.readouterr().err


def check_contract(code: int, err: str, out: Path, study: str) -> None:
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err
        assert not out.exists() or not any(out.iterdir())
        pytest.fail(f"a valid table with hostile names was refused: {lines[0]}")
    assert code == 0, err
    assert_inert((out / f"{study}.html").read_text(encoding="utf-8"))


def write_csv(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "table.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
@pytest.mark.hostile
@SETTINGS
@given(names=hostile_names(6))
def test_calibration_with_hostile_column_names(names, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("calibration")
    rng = np.random.default_rng(0)
    n = 4000
    signal = rng.normal(size=n)
    fraud = (rng.random(n) < 1 / (1 + np.exp(-(signal * 2 - 3)))).astype(int)
    time_name, target, amount_name, *features = names
    frame = pd.DataFrame({
        time_name: pd.date_range("2025-01-01", periods=n, freq="20min").astype(str),
        target: fraud,
        amount_name: np.round(np.exp(rng.normal(3, 1, n)), 2),
        features[0]: signal + rng.normal(size=n),
        features[1]: rng.normal(size=n),
        features[2]: rng.integers(0, 5, n),
    })
    path = write_csv(frame, folder)
    out = folder / "out"
    code, err = run_cli(["calibration", "--data", str(path), "--target", target, "--time",
                         time_name, "--amount", amount_name, "--quick", "--bootstrap", "20",
                         "--gap-days", "1"], out, capsys)
    check_contract(code, err, out, "calibration")


@pytest.mark.slow
@pytest.mark.hostile
@SETTINGS
@given(names=hostile_names(5), levels=st.lists(hostile_text, min_size=3, max_size=3,
                                               unique=True))
def test_clustering_with_hostile_names_and_labels(names, levels, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("clustering")
    rng = np.random.default_rng(1)
    n = 320
    segment = rng.integers(0, 3, n)
    label_name, *features = names
    frame = pd.DataFrame({name: rng.normal(size=n) + segment * (i + 1)
                          for i, name in enumerate(features)})
    frame[label_name] = np.array(levels, dtype=object)[segment]
    path = write_csv(frame, folder)
    out = folder / "out"
    code, err = run_cli(["clustering", "--data", str(path), "--label", label_name,
                         "--perplexities", "5,30", "--no-sklearn", "--quick"], out, capsys)
    check_contract(code, err, out, "clustering")


@pytest.mark.slow
@pytest.mark.hostile
@SETTINGS
@given(names=hostile_names(2))
def test_forecasting_with_hostile_column_names(names, tmp_path_factory, capsys):
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("forecasting")
    rng = np.random.default_rng(2)
    n = 400
    values = np.zeros(n)
    for t in range(1, n):
        values[t] = 0.7 * values[t - 1] + rng.normal()
    time_name, value_name = names
    frame = pd.DataFrame({time_name: pd.date_range("2020-01-01", periods=n, freq="D").astype(str),
                          value_name: values})
    path = write_csv(frame, folder)
    out = folder / "out"
    code, err = run_cli(["forecasting", "--data", str(path), "--value", value_name, "--time",
                         time_name, "--quick"], out, capsys)
    check_contract(code, err, out, "forecasting")


@pytest.mark.slow
@pytest.mark.hostile
@SETTINGS
@given(names=hostile_names(6))
def test_iid_checks_with_hostile_column_names(names, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("iid_checks")
    rng = np.random.default_rng(3)
    n = 600
    time_name, target, group, *features = names
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame({
        time_name: pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
        target: (x[:, 0] + rng.normal(size=n) > 0).astype(int),
        group: rng.integers(0, 30, n).astype(str),
        **{name: x[:, i] for i, name in enumerate(features)},
    })
    path = write_csv(frame, folder)
    out = folder / "out"
    code, err = run_cli(["iid_checks", "--data", str(path), "--time", time_name, "--target",
                         target, "--group", group, "--quick", "--replicates", "0"], out, capsys)
    check_contract(code, err, out, "iid_checks")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Two target labels that a CSV reader keeps apart: text (not numbers), distinct once spaces and
# case are ignored (as the labels are compared), and not a pair recognised without --positive.
hostile_labels = st.lists(hostile_text.map(str.strip).filter(lambda s: s and not _is_number(s)),
                          min_size=2, max_size=2, unique_by=str.casefold)


@pytest.mark.slow
@pytest.mark.hostile
@SETTINGS
@given(names=hostile_names(3), labels=hostile_labels)
def test_iid_checks_with_hostile_target_labels(names, labels, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("iid_checks_labels")
    rng = np.random.default_rng(4)
    n = 300
    target, *features = names
    x = rng.normal(size=(n, 2))
    frame = pd.DataFrame({
        target: np.where(x[:, 0] + rng.normal(size=n) > 0, labels[0], labels[1]),
        **{name: x[:, i] for i, name in enumerate(features)},
    })
    path = write_csv(frame, folder)
    out = folder / "out"
    code, err = run_cli(["iid_checks", "--data", str(path), "--sep", ",", "--target", target,
                         f"--positive={labels[0]}", "--quick", "--replicates", "0"], out,
                        capsys)
    check_contract(code, err, out, "iid_checks")
