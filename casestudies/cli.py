"""Command line: ``python -m casestudies STUDY [--data PATH] [--out DIR] [--seed N] [--quiet]``.

User errors (:class:`~casestudies.errors.CaseStudyError`) print one line on stderr and exit with
code 2, having written nothing; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from casestudies import progress
from casestudies.errors import CaseStudyError, ConfigError
from casestudies.index import write_index
from casestudies.io import atomic_write_files, dumps_json
from casestudies.provenance import Provenance, command_line
from casestudies.studies import available_studies, get_study
from casestudies.study import Study

DEFAULT_OUT = Path("reports")
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The options about where and how a run writes, which are not part of a study's config."""
    # Text, not Path: Path("") would silently become the current folder.
    parser.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT),
                        help="folder for STUDY.html and STUDY.json (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


# The options `all` passes to every study: the same seed and the same meaning of --quick.
SHARED_OPTIONS = ("seed", "quick")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-command per study, plus ``all`` and ``index``."""
    parser = _Parser(
        prog="casestudies",
        description="Classical-ML case studies: each answers one question with a "
                    "self-contained HTML report computed from real or simulated data.",
    )
    commands = parser.add_subparsers(dest="command", metavar="STUDY", required=True,
                                     parser_class=_Parser)
    for name in available_studies():
        study = get_study(name)
        sub = commands.add_parser(name, help=study.question, description=study.question)
        add_output_arguments(sub)
        study.config.add_arguments(sub)
    every = commands.add_parser("all", help="every study on its default data, then the index",
                                description="Run every study on its default data and write "
                                            "index.html beside the reports.")
    add_output_arguments(every)
    # Every study declares seed and quick the same way; the first study's declaration serves.
    get_study(available_studies()[0]).config.add_arguments(every, only=SHARED_OPTIONS)
    index = commands.add_parser("index", help="rebuild index.html from the reports in --out",
                                description="Rebuild index.html from the reports in --out.")
    index.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                       help="folder holding the reports (default: %(default)s)")
    return parser


@dataclass
class Outcome:
    """What one study run produced: the result object, the report and its provenance."""

    result: Any
    report: Any
    provenance: Provenance


def analyse(study: Study, config: Any, table: Any = None, command: str = "") -> Any:
    """Load the data ``config`` names and run the analysis; return the result with its
    provenance attached (``result.provenance``). Writes nothing and builds no HTML."""
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    study.check_requirements()
    progress.status(f"[{study.name}] loading data")
    data = study.load_data(config)
    progress.status(f"[{study.name}] running the analysis on {data.source}")
    result = study.run(config, data)
    result.provenance = Provenance(
        study=study.name,
        seed=config.seed,
        command=command,
        data_source=data.source,
        data_fingerprint=data.fingerprint,
        stage_seconds=dict(getattr(result, "stage_seconds", {}) or {}),
        started=started_at,
    )
    result.provenance.duration_s = time.perf_counter() - started
    return result


def render(study: Study, result: Any) -> Outcome:
    """Build the report of ``result``; write nothing."""
    progress.status(f"[{study.name}] building the report")
    started = time.perf_counter()
    report = study.build_report(result)
    provenance = result.provenance
    provenance.duration_s += time.perf_counter() - started
    return Outcome(result=result, report=report, provenance=provenance)


def execute(study: Study, args: argparse.Namespace, argv: list[str] | None = None) -> Outcome:
    """Configure, load, analyse and build the report for ``study``; write nothing."""
    config = study.config.from_arguments(args)
    return render(study, analyse(study, config, command=command_line(argv)))


def check_writable(out_dir: str | os.PathLike) -> None:
    """Raise ConfigError unless ``out_dir`` is (or can be created as) a writable folder.

    Checked before the analysis, so that a bad ``--out`` fails in a second, not after minutes.
    """
    text = str(out_dir)
    if not text.strip():
        raise ConfigError("--out is empty; name a folder, e.g. --out reports")
    path = Path(out_dir)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"--out {text} is not a folder: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {text} is not writable")


def write_outputs(outcome: Outcome, out_dir: Path) -> tuple[Path, Path]:
    """Write ``STUDY.html`` and ``STUDY.json`` together; both are rendered before either is
    written, and they replace the previous pair together (see
    :func:`casestudies.io.atomic_write_files`)."""
    report = outcome.report
    html = report.render(outcome.provenance)
    payload = dumps_json({
        "study": report.study,
        "title": report.title,
        "question": report.question,
        "short_answer": report.short_answer,
        "provenance": outcome.provenance,
        "result": outcome.result,
    })
    json_path = Path(out_dir) / f"{report.study}.json"
    html_path = Path(out_dir) / f"{report.study}.html"
    atomic_write_files({json_path: payload, html_path: html})
    return html_path, json_path


def _run_one(name: str, args: argparse.Namespace, argv: list[str] | None) -> None:
    outcome = execute(get_study(name), args, argv)
    html_path, _ = write_outputs(outcome, args.out)
    progress.clear_status()
    print(f"{name}: {outcome.report.short_answer}")
    print(f"wrote {html_path} ({outcome.provenance.duration_s:.1f} s)")


def _shared_argv(args: argparse.Namespace) -> list[str]:
    """The options of ``all`` that each study's own command line repeats."""
    argv = []
    if hasattr(args, "seed"):
        argv += ["--seed", str(args.seed)]
    if getattr(args, "quick", False):
        argv.append("--quick")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m casestudies`` and the ``casestudies`` script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "index":
            print(f"wrote {write_index(args.out)}")
            return 0
        progress.set_quiet(args.quiet)
        check_writable(args.out)
        args.out = Path(args.out)
        if args.command == "all":
            shared = _shared_argv(args)
            for name in available_studies():
                # Each study parses the shared options itself, so that a value one study
                # cannot take fails before any study runs.
                get_study(name).config.from_arguments(build_parser().parse_args([name, *shared]))
            for name in available_studies():
                study_argv = [name, *shared, "--out", str(args.out)]
                study_args = build_parser().parse_args(study_argv)
                study_args.quiet = args.quiet
                _run_one(name, study_args, study_argv)
            print(f"wrote {write_index(args.out)}")
            return 0
        _run_one(args.command, args, argv)
        return 0
    except CaseStudyError as error:
        progress.clear_status()
        print(f"casestudies {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
