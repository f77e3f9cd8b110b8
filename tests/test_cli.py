"""The command line: exit codes, one-line messages, nothing written on error, outputs on success.

A minimal study defined here exercises the machinery independently of the real studies, whose own
tests cover their options.
"""

import json
from dataclasses import dataclass, field

import pandas as pd
import pytest

from casestudies import cli
from casestudies.errors import ConfigError
from casestudies.io import fingerprint_frame, read_table, require_columns
from casestudies.report import Report
from casestudies.studies import STUDY_NAMES
from casestudies.study import Study


@dataclass
class EchoData:
    frame: pd.DataFrame
    source: str
    fingerprint: str


@dataclass
class EchoResult:
    mean: float
    short_answer: str
    stage_seconds: dict = field(default_factory=dict)


def _add_arguments(parser):
    parser.add_argument("--column", default="x", help="column to average")


def _make_config(args):
    if args.seed < 0:
        raise ConfigError("--seed must be non-negative")
    return {"data": args.data, "column": args.column}


def _load(config):
    if config["data"] is None:
        frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
        source = "built-in numbers"
    else:
        frame = read_table(config["data"])
        source = config["data"]
    require_columns(frame, [config["column"]], source=source)
    return EchoData(frame, source, fingerprint_frame(frame))


def _run(config, data):
    mean = float(data.frame[config["column"]].mean())
    return EchoResult(mean, f"The mean of {config['column']} is {mean:.2f}.")


def _build(result):
    report = Report("echo", "Echo", "What is the mean?", result.short_answer)
    report.section("The answer").markdown(f"The mean is {result.mean}.")
    return report


ECHO = Study("echo", "Echo", "What is the mean?", _add_arguments, _make_config, _load, _run,
             _build)


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


def test_every_study_is_registered():
    assert cli.available_studies() == STUDY_NAMES


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
    (["--seed", "-1"], "--seed must be non-negative"),
])
def test_user_errors_are_one_line_exit_2_and_write_nothing(echo_study, tmp_path, capsys, args,
                                                           message):
    pd.DataFrame({"x": [1, 2]}).to_csv(tmp_path / "table.csv", index=False)
    out = tmp_path / "out"
    argv = ["echo", "--out", str(out), "--quiet", *[a.format(tmp=tmp_path) for a in args]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"casestudies echo: error: {message.format(tmp=tmp_path)}\n"
    assert not out.exists()


def test_bad_option_value_is_one_line_exit_2(echo_study, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["echo", "--seed", "many"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_unexpected_errors_keep_their_traceback(echo_study, monkeypatch, tmp_path):
    def crash(config, data):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "get_study", lambda name: Study(
        "echo", "Echo", "q", _add_arguments, _make_config, _load, crash, _build))
    with pytest.raises(ZeroDivisionError):
        cli.main(["echo", "--out", str(tmp_path)])


def test_index_command(tmp_path, capsys):
    assert cli.main(["index", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").exists()


def test_python_api_rejects_unknown_study_and_option():
    import casestudies

    with pytest.raises(ConfigError, match="unknown study 'nonsense'"):
        casestudies.run("nonsense")
    with pytest.raises(ConfigError, match="has no option 'colour'"):
        casestudies.run(STUDY_NAMES[0], colour="red")
