"""Command line: ``python -m casestudies STUDY [--data PATH] [--out DIR] [--seed N] [--quiet]``.

User errors (:class:`~casestudies.errors.CaseStudyError`) print one line on stderr and exit with
code 2, having written nothing; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from casestudies import progress
from casestudies.errors import CaseStudyError, ConfigError
from casestudies.index import write_index
from casestudies.io import atomic_write_text, dumps_json
from casestudies.provenance import Provenance, command_line
from casestudies.studies import available_studies, get_study
from casestudies.study import Study

DEFAULT_OUT = Path("reports")
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def add_common_arguments(parser: argparse.ArgumentParser, with_data: bool = True) -> None:
    """The options every study has."""
    if with_data:
        parser.add_argument("--data", metavar="PATH",
                            help="your own CSV or Parquet file (default: the study's own data)")
    parser.add_argument("--out", metavar="DIR", type=Path, default=DEFAULT_OUT,
                        help="folder for STUDY.html and STUDY.json (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed for simulation, models and resampling "
                             "(default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


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
        add_common_arguments(sub)
        study.add_arguments(sub)
    every = commands.add_parser("all", help="every study on its default data, then the index",
                                description="Run every study on its default data and write "
                                            "reports/index.html.")
    add_common_arguments(every, with_data=False)
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


def execute(study: Study, args: argparse.Namespace, argv: list[str] | None = None) -> Outcome:
    """Configure, load, analyse and build the report for ``study``; write nothing."""
    started_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    config = study.make_config(args)
    progress.status(f"[{study.name}] loading data")
    data = study.load_data(config)
    progress.status(f"[{study.name}] running the analysis on {data.source}")
    result = study.run(config, data)
    progress.status(f"[{study.name}] building the report")
    report = study.build_report(result)
    provenance = Provenance(
        study=study.name,
        seed=args.seed,
        command=command_line(argv),
        data_source=data.source,
        data_fingerprint=data.fingerprint,
        stage_seconds=dict(getattr(result, "stage_seconds", {}) or {}),
        started=started_at,
    )
    provenance.duration_s = time.perf_counter() - started
    return Outcome(result=result, report=report, provenance=provenance)


def write_outputs(outcome: Outcome, out_dir: Path) -> tuple[Path, Path]:
    """Write ``STUDY.html`` and ``STUDY.json`` atomically; both are rendered before either is
    written, so that a rendering error leaves the previous files untouched."""
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
    json_path = atomic_write_text(Path(out_dir) / f"{report.study}.json", payload)
    html_path = atomic_write_text(Path(out_dir) / f"{report.study}.html", html)
    return html_path, json_path


def _run_one(name: str, args: argparse.Namespace, argv: list[str] | None) -> None:
    outcome = execute(get_study(name), args, argv)
    html_path, _ = write_outputs(outcome, args.out)
    print(f"{name}: {outcome.report.short_answer}")
    print(f"wrote {html_path} ({outcome.provenance.duration_s:.1f} s)")


def _default_args(name: str, out: Path, seed: int, quiet: bool) -> argparse.Namespace:
    args = build_parser().parse_args([name, "--out", str(out), "--seed", str(seed)])
    args.quiet = quiet
    return args


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
        if args.command == "all":
            for name in available_studies():
                _run_one(name, _default_args(name, args.out, args.seed, args.quiet),
                         [name, "--seed", str(args.seed)])
            print(f"wrote {write_index(args.out)}")
            return 0
        _run_one(args.command, args, argv)
        return 0
    except CaseStudyError as error:
        print(f"casestudies {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR


def parse_study_args(name: str, **options: Any) -> argparse.Namespace:
    """Arguments for ``name`` as the command line would parse them, with ``options`` set.

    Option names are the long options with dashes as underscores (``cost_fp=5``).
    """
    args = build_parser().parse_args([name])
    for key, value in options.items():
        if not hasattr(args, key):
            raise ConfigError(f"study {name!r} has no option {key!r}")
        setattr(args, key, value)
    return args
