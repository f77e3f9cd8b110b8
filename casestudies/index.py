"""``reports/index.html``: every report present, with its question and one-line answer."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jinja2
import markupsafe

from casestudies.errors import DataError
from casestudies.io import atomic_write_text
from casestudies.studies import STUDY_NAMES


def read_entries(out_dir: Path) -> list[dict]:
    """Summaries of the reports in ``out_dir`` (those with both STUDY.html and STUDY.json)."""
    entries = []
    for name in STUDY_NAMES:
        json_path = Path(out_dir) / f"{name}.json"
        if not (json_path.exists() and json_path.with_suffix(".html").exists()):
            continue
        try:
            record = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read {json_path.name} as a report's JSON: "
                            f"{str(exc).splitlines()[0]}; rebuild the report or remove the "
                            f"file") from exc
        provenance = record.get("provenance") if isinstance(record, dict) else None
        if not isinstance(provenance, dict) or not all(
                isinstance(record.get(key, ""), str)
                for key in ("title", "question", "short_answer")):
            raise DataError(f"{json_path.name} is not a report's JSON (no provenance, or fields "
                            f"of the wrong type); rebuild the report or remove the file")
        entries.append({
            "href": f"{name}.html",
            "title": record.get("title", name),
            "question": record.get("question", ""),
            "short_answer": record.get("short_answer", ""),
            "generated": provenance.get("started", ""),
            "seed": provenance.get("seed", ""),
            "data_source": provenance.get("data_source", ""),
        })
    return entries


def write_index(out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("casestudies.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    css = resources.files("casestudies.report").joinpath("templates/style.css").read_text()
    html = env.get_template("index.html.j2").render(
        entries=read_entries(Path(out_dir)), css=markupsafe.Markup(css))
    return atomic_write_text(Path(out_dir) / "index.html", html)
