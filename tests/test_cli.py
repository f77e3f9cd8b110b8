"""The command line: exit codes, one-line messages, nothing written on error, outputs on success.

A minimal study defined here exercises the machinery independently of the real studies, whose own
tests cover their options.
"""

import json
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd
import pytest

from casestudies import cli
from casestudies.config import StudyConfig, data_option, option, quick_option, seed_option
from casestudies.errors import ConfigError
from casestudies.io import fingerprint_frame, read_table, require_columns, source_name
from casestudies.report import Report
from casestudies.results import StudyResult
from casestudies.studies import STUDY_NAMES
from casestudies.study import Study


@dataclass
class EchoData:
    frame: pd.DataFrame
    source: str
    fingerprint: str


@dataclass(frozen=True)
class EchoConfig(StudyConfig):
    data: str | None = data_option("numbers")
    column: str = option("x", "column to average")
    seed: int = seed_option()
    quick: bool = quick_option("nothing")
    scale: float = option(1.0, "factor applied to the mean", gt=0, quick=2.0)


@dataclass
class EchoResult(StudyResult):
    study: ClassVar[str] = "echo"
    mean: float
    column: str
    stage_seconds: dict = field(default_factory=dict)

    @property
    def short_answer(self):
        return f"The mean of {self.column} is {self.mean:.2f}."


def _load(config):
    if config.data is None:
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
        source = "built-in numbers"
    else:
        frame = read_table(config.data)
        source = str(config.data) if isinstance(config.data, str) else source_name(config.data)
    require_columns(frame, [config.column], source=source)
    return EchoData(frame, source, fingerprint_frame(frame))


def _run(config, data):
    return EchoResult(float(data.frame[config.column].mean()) * config.scale, config.column)


def _build(result):
    report = Report("echo", "Echo", "What is the mean?", result.short_answer)
    report.section("The answer").markdown(f"The mean is {result.mean}.")
    return report


ECHO = Study("echo", "Echo", "What is the mean?", EchoConfig, _load, _run, _build)


@pytest.fixture
def echo_study(monkeypatch):
    monkeypatch.setattr(cli, "available_studies", lambda: ("echo",))
    monkeypatch.setattr(cli, "get_study", lambda name: ECHO)
    return ECHO


def test_help_lists_every_study(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in cli.available_studies():
        assert name in out
    assert "all" in out and "index" in out


def test_unknown_study_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["nonsense"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nonsense'" in err and err.count("\n") == 1


def test_success_writes_html_and_json(echo_study, tmp_path, capsys):
    assert cli.main(["echo", "--out", str(tmp_path), "--quiet"]) == 0
    record = json.loads((tmp_path / "echo.json").read_text())
    assert record["short_answer"] == "The mean of x is 2.00."
    assert record["result"]["mean"] == 2.0
    assert record["provenance"]["command"] == "python -m casestudies echo --out " \
        f"{tmp_path} --quiet"
    assert len(record["provenance"]["data_fingerprint"]) == 64
    assert "The mean is 2.0." in (tmp_path / "echo.html").read_text()
    assert "The mean of x is 2.00." in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "{tmp}/missing.csv"], "data file not found: {tmp}/missing.csv"),
    (["--data", "{tmp}/table.csv", "--column", "amount"],
     "column 'amount' not found in {tmp}/table.csv; available columns: 'x'"),
    (["--seed", "-1"], "--seed must be at least 0 and at most 4294967295, not -1"),
    (["--seed", "many"], "--seed must be a whole number, not 'many'"),
    (["--scale", "0"], "--scale must be greater than 0, not 0"),
    (["--out", "{tmp}/table.csv/inner"], "--out {tmp}/table.csv/inner is not a folder: "
                                          "{tmp}/table.csv is a file"),
    (["--out", ""], "--out is empty; name a folder, e.g. --out reports"),
])
def test_user_errors_are_one_line_exit_2_and_write_nothing(echo_study, tmp_path, capsys, args,
                                                           message):
    pd.DataFrame({"x": [1, 2]}).to_csv(tmp_path / "table.csv", index=False)
    out = tmp_path / "out"
    argv = ["echo", "--out", str(out), "--quiet", *[a.format(tmp=tmp_path) for a in args]]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"casestudies echo: error: {message.format(tmp=tmp_path)}\n"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unknown_option_is_one_line_exit_2(echo_study, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["echo", "--colour", "red"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_unexpected_errors_keep_their_traceback(echo_study, monkeypatch, tmp_path):
    def crash(config, data):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "get_study", lambda name: Study(
        "echo", "Echo", "q", EchoConfig, _load, crash, _build))
    with pytest.raises(ZeroDivisionError):
        cli.main(["echo", "--out", str(tmp_path)])


def test_index_command(tmp_path, capsys):
    assert cli.main(["index", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").exists()


def test_python_api_rejects_unknown_study_and_option():
    import casestudies

    with pytest.raises(ConfigError, match="unknown study 'nonsense'"):
        casestudies.run("nonsense")
    with pytest.raises(ConfigError, match="unknown option 'colour'"):
        casestudies.run(STUDY_NAMES[0], colour="red")
    with pytest.raises(ConfigError, match="--seed must be a whole number, not 'x'"):
        casestudies.run(STUDY_NAMES[0], seed="x")


def test_python_api_runs_without_html_and_report_writes_both(echo_study, monkeypatch, tmp_path):
    import casestudies
    from casestudies import studies

    monkeypatch.setattr(studies, "get_study", lambda name: ECHO)
    result = casestudies.run("echo", data=pd.DataFrame({"y": [2.0, 4.0]}), column="y",
                             seed="3")
    assert result.mean == 3.0 and result.provenance.seed == 3
    assert result.provenance.data_source == "DataFrame (2 rows, 1 columns)"
    assert "data=<DataFrame>" in result.provenance.command
    assert list(tmp_path.iterdir()) == []
    html, payload = casestudies.report(result, out=tmp_path / "out")
    assert json.loads(payload.read_text())["result"]["mean"] == 3.0
    assert "The mean is 3.0." in html.read_text()


def test_quick_shrinks_only_what_the_user_left_at_its_default():
    assert EchoConfig.from_options(quick=True).scale == 2.0
    assert EchoConfig.from_options(quick=True, scale="1").scale == 1.0
    assert EchoConfig.from_options().scale == 1.0


def test_config_built_in_python_is_validated():
    with pytest.raises(ConfigError, match="--scale must be greater than 0, not -1"):
        EchoConfig(scale=-1.0)
    with pytest.raises(ConfigError, match="--seed must be int"):
        EchoConfig(seed="3")


def test_help_is_generated_from_the_config(echo_study, capsys):
    with pytest.raises(SystemExit):
        cli.main(["echo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "factor applied to the mean (default: 1; 2 with --quick; greater than 0)" in out


def test_all_passes_quick_and_seed_to_every_study(echo_study, tmp_path):
    assert cli.main(["all", "--quick", "--seed", "4", "--out", str(tmp_path), "--quiet"]) == 0
    record = json.loads((tmp_path / "echo.json").read_text())
    assert record["result"]["mean"] == 4.0  # the quick scale of 2 applied
    assert record["provenance"]["seed"] == 4
    assert (tmp_path / "index.html").exists()


def test_error_without_quiet_is_still_one_line(echo_study, tmp_path, capsys):
    from casestudies import progress

    progress.set_quiet(False)
    assert cli.main(["echo", "--data", str(tmp_path / "missing.csv"), "--out",
                     str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_stage_messages_are_transient_on_a_terminal(monkeypatch):
    import io

    from casestudies import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    progress.set_quiet(False)
    progress.status("[echo] loading data")
    progress.clear_status()
    assert screen.getvalue() == "\r\x1b[K[echo] loading data\r\x1b[K"
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    progress.status("[echo] loading data")
    assert pipe.getvalue() == ""


def test_progress_bars_only_on_a_terminal(monkeypatch):
    import io

    from casestudies import progress

    progress.set_quiet(False)
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    assert list(progress.progress(range(3), desc="work")) == [0, 1, 2]
    assert pipe.getvalue() == ""
