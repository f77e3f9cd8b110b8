"""Reading user tables, checking their columns, writing files atomically, and JSON output.

All problems with a user's file are raised as :class:`~casestudies.errors.DataError` with a
one-line message that names the file or the column and says what to do.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casestudies.errors import ConfigError, DataError

TABLE_SUFFIXES = {".csv": "CSV", ".txt": "CSV", ".tsv": "TSV", ".parquet": "Parquet",
                  ".pq": "Parquet"}


class InMemoryTable:
    """A user's DataFrame passed as ``data=`` from Python, standing where a file name would.

    Its text form names it in reports and JSON ("DataFrame (500 rows, 8 columns)"); the table
    itself is never serialised.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __str__(self) -> str:
        rows, columns = self.frame.shape
        return f"DataFrame ({rows:,} rows, {columns} columns)"

    __repr__ = __str__


def is_table(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame."""
    return isinstance(value, pd.DataFrame)


def source_name(source: str | os.PathLike | InMemoryTable) -> str:
    """How a data source is named in messages and reports: a file's name, or the DataFrame."""
    if isinstance(source, InMemoryTable):
        return str(source)
    return Path(source).name


def read_table(path: str | os.PathLike | InMemoryTable, *, sep: str | None = None,
               encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str, path-like or InMemoryTable
        The file. Parquet is recognised by its signature; anything else is read as delimited
        text. A DataFrame given from Python is copied and checked like a file's table.
    sep : str, optional
        The delimiter of a text file: ``,`` ``;`` ``|``, a tab, or one of the names ``comma``,
        ``semicolon``, ``tab``, ``pipe``. Default: detected from the first lines (see
        :func:`detect_delimiter`); a ``.tsv`` file is read with tabs.
    encoding : str, optional
        The text encoding (any name Python knows, e.g. ``cp1252``). Default: UTF-8 (a byte-order
        mark is dropped), then Latin-1.

    Returns
    -------
    pandas.DataFrame
        At least one row and one column. For a text file, ``frame.attrs`` records what was used:
        ``"sep"``, ``"encoding"``, ``"decimal"`` and ``"detected"`` (the names of the settings
        that were detected rather than given), so that a report can state them.

    Raises
    ------
    DataError
        The file is missing, is a directory, is empty, or cannot be parsed.
    """
    sep = parse_separator(sep)
    encoding = parse_encoding(encoding)
    if isinstance(path, InMemoryTable):
        frame = path.frame.copy()
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise DataError("the DataFrame given as data has no rows or no columns")
        frame.columns = [str(c) for c in frame.columns]
        _check_unique_names(list(frame.columns), "the DataFrame")
        _check_magnitudes(frame, "the DataFrame")
        return frame.reset_index(drop=True)
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"data path is a directory, not a file: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"data file is empty: {path}")
    with path.open("rb") as handle:
        head = handle.read(8)
    kind = "Parquet" if head.startswith(b"PAR1") else TABLE_SUFFIXES.get(path.suffix.lower(), "CSV")
    if kind != "Parquet":
        for signature, what in _BINARY_SIGNATURES:
            if head.startswith(signature):
                raise DataError(f"cannot read {path.name}: it is {what}")
    try:
        if kind == "Parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _read_csv(path, sep="\t" if kind == "TSV" and sep is None else sep,
                              encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path.name} as {kind}: {reason}") from exc
    except Exception as exc:  # pyarrow raises its own exception types for corrupt files
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError(f"cannot read {path.name} as {kind}: {exc}") from exc
        raise
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(f"data file {path.name} has no rows or no columns")
    frame.columns = [str(c) for c in frame.columns]
    _check_unique_names(list(frame.columns), path.name)
    _check_magnitudes(frame, path.name)
    return frame


# Binary formats users hand over by mistake, and what to do instead.
_BINARY_SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed; decompress it first (gunzip) and pass the CSV"),
    (b"PK\x03\x04", "a ZIP archive or an Excel .xlsx workbook; save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook; save the sheet as CSV"),
)
# Text encodings tried in turn: UTF-8 (a byte-order mark is dropped), then Latin-1, which decodes
# any byte sequence and is what spreadsheet exports in Western Europe most often use.
ENCODINGS = ("utf-8-sig", "latin-1")
# Squares and sums of squares of larger values overflow float64 (about 1.8e308) on tables of
# many rows; such a column needs rescaling, not analysing.
MAX_MAGNITUDE = 1e100


# Delimiters recognised without being named, in order of preference when two fit equally well.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# How much of a file the delimiter and decimal mark are detected from.
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50


def parse_separator(sep: str | None) -> str | None:
    """A delimiter given by a user (a character or its name), checked; ``None`` stays ``None``."""
    if sep is None:
        return None
    names = {name: char for char, name in DELIMITERS.items()}
    text = sep if sep in DELIMITERS else sep.strip().lower()
    text = {"\\t": "\t"}.get(text, text)  # "\t" typed in a shell arrives as two characters
    char = names.get(text, text)
    if char not in DELIMITERS:
        raise ConfigError(f"--sep must be one of , ; | or a tab (or comma, semicolon, tab, pipe), "
                          f"not {sep!r}")
    return char


def parse_encoding(encoding: str | None) -> str | None:
    """A text encoding given by a user, checked to be one Python knows."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding.strip()).name
    except LookupError:
        raise ConfigError(f"--encoding {encoding!r} is not a text encoding Python knows; try "
                          f"utf-8, latin-1 or cp1252") from None


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter of a delimited text file, from its first lines.

    A candidate from :data:`DELIMITERS` fits when it splits the header into at least two fields
    and (quotes respected) gives every line the header's field count; among those that fit, the
    one giving the most fields wins, ties going to the earlier candidate. A file that no candidate
    fits has one column (or is malformed, which the parser then reports), and is read with commas.
    The header must agree with the rows, so that decimal commas in ``1,5;2,5`` rows under an
    ``a;b`` header do not pass for a comma-separated file.

    Parameters
    ----------
    lines : list of str
        The header and the first rows, without line endings; blank lines are ignored.

    Returns
    -------
    str
        One of the keys of :data:`DELIMITERS`.
    """
    lines = [line for line in lines if line.strip()]
    best, best_fields = ",", 1
    for char in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=char)}
        if len(counts) == 1:
            fields = counts.pop()
            if fields > best_fields:
                best, best_fields = char, fields
    return best


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[-+]?\d*\.\d+(?:[eE][-+]?\d+)?\s*$")


def detect_decimal(lines: list[str], sep: str) -> str:
    """``","`` when the fields of a file that is not comma-separated write numbers with a decimal
    comma (``1,5``) and never with a decimal point; ``"."`` otherwise."""
    if sep == ",":
        return "."
    commas = points = 0
    for row in csv.reader(lines[1:], delimiter=sep):
        for field in row:
            commas += bool(_DECIMAL_COMMA.match(field))
            points += bool(_DECIMAL_POINT.match(field))
    return "," if commas and not points else "."


def _sample_lines(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as handle:
        text = handle.read(SNIFF_BYTES)
    lines = text.splitlines()
    if len(text) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    return lines[:SNIFF_LINES]


def _read_csv(path: Path, sep: str | None, encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text file with the given or detected delimiter, decimal mark and encoding
    (:data:`ENCODINGS` in turn unless one is given); check its header first, because pandas
    silently renames duplicate names (``x``, ``x.1``)."""
    detected = [name for name, value in (("encoding", encoding), ("sep", sep)) if value is None]
    for candidate in (encoding,) if encoding is not None else ENCODINGS:
        try:
            lines = _sample_lines(path, candidate)
            delimiter = sep if sep is not None else detect_delimiter(lines)
            decimal = detect_decimal(lines, delimiter)
            header = pd.read_csv(path, sep=delimiter, header=None, nrows=1, dtype=str,
                                 encoding=candidate, keep_default_na=False)
            _check_unique_names([str(v).strip() for v in header.iloc[0]], path.name)
            frame = pd.read_csv(path, sep=delimiter, decimal=decimal, low_memory=False,
                                encoding=candidate)
        except UnicodeDecodeError as exc:
            if encoding is not None:
                raise DataError(f"cannot read {path.name} as {encoding}: byte "
                                f"{exc.object[exc.start:exc.start + 1]!r} at position "
                                f"{exc.start} is not {encoding} text; give another --encoding "
                                f"or leave it out to detect it") from exc
            continue
        _drop_misread_bom(frame, candidate)
        frame.attrs.update(encoding=candidate, sep=delimiter, decimal=decimal,
                           detected=detected + (["decimal"] if decimal == "," else []))
        return frame
    raise DataError(f"cannot read {path.name}: its text is in none of the encodings "
                    f"{', '.join(ENCODINGS)}")  # unreachable in practice: Latin-1 decodes any byte


def _drop_misread_bom(frame: pd.DataFrame, encoding: str) -> None:
    """Drop a UTF-8 byte-order mark that another encoding read as text (``ï»¿`` in Latin-1) from
    the first column name: a file saved as UTF-8 with a mark and then edited in a Latin-1 editor
    starts with one before text that is no longer valid UTF-8."""
    if codecs.lookup(encoding).name.startswith("utf"):
        return
    mark = codecs.BOM_UTF8.decode(encoding, errors="replace")
    first = str(frame.columns[0]) if frame.shape[1] else ""
    if first.startswith(mark):
        frame.columns = [first[len(mark):], *frame.columns[1:]]


def _check_unique_names(names: list[str], source: str) -> None:
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    duplicated = [f"{name!r} ({count} times)" for name, count in seen.items() if count > 1]
    if duplicated:
        raise DataError(f"{source} has duplicate column names: {', '.join(duplicated)}; give "
                        f"every column its own name")


def _check_magnitudes(frame: pd.DataFrame, source: str) -> None:
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.to_numpy(dtype=float, na_value=np.nan)
        finite = np.abs(values[np.isfinite(values)])
        if finite.size and finite.max() > MAX_MAGNITUDE:
            raise DataError(f"column {name!r} of {source} has values as large as "
                            f"{finite.max():.3g}, beyond {MAX_MAGNITUDE:.0e} where squares "
                            f"overflow; rescale it (e.g. to thousands or millions)")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, source: str = "the data"
                    ) -> None:
    """Raise :class:`DataError` naming every column of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in frame.columns[:12])
        more = " …" if frame.shape[1] > 12 else ""
        raise DataError(
            f"column {', '.join(repr(c) for c in missing)} not found in {source}; "
            f"available columns: {shown}{more}"
        )


def numeric_column(frame: pd.DataFrame, column: str, *, allow_nan: bool = False) -> pd.Series:
    """Return ``frame[column]`` as float, or raise :class:`DataError` saying what is wrong.

    Text that does not parse as a number, and (unless ``allow_nan``) missing or infinite values,
    are reported with their count and the first offending row.
    """
    require_columns(frame, [column])
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
    else:
        values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad_text = values.isna() & raw.notna()
    if bad_text.any():
        first = raw[bad_text].iloc[0]
        raise DataError(
            f"column {column!r} must be numeric but {int(bad_text.sum())} value(s) are not, "
            f"e.g. {str(first)[:40]!r}"
        )
    if not allow_nan:
        bad = ~np.isfinite(values.to_numpy())
        if bad.any():
            raise DataError(
                f"column {column!r} has {int(bad.sum())} missing or infinite value(s) "
                f"(first at row {int(np.flatnonzero(bad)[0])}); fill or drop them first"
            )
    return values


def datetime_column(frame: pd.DataFrame, column: str, numeric_unit: str | None = None,
                    time_format: str | None = None) -> pd.Series:
    """Parse ``frame[column]`` as timestamps, or raise :class:`DataError` if any do not parse.

    Text is read as ISO 8601 when every value is; otherwise the column must use one format
    throughout that reads the same day-first and month-first, or ``time_format`` must say how to
    read it: ``03/04/2024`` is the 3rd of April in one convention and the 4th of March in the
    other, and guessing silently puts a share of the rows in the wrong month.

    Parameters
    ----------
    frame : DataFrame
    column : str
    numeric_unit : str, optional
        How to read a numeric column: as offsets in this unit (``"s"``, ``"D"`` …) from an
        arbitrary origin. Without it a numeric column is an error, because pandas would read
        its numbers as nanoseconds since 1970 and every gap in days would vanish.
    time_format : str, optional
        A ``strftime`` format such as ``%d/%m/%Y`` (the ``--time-format`` option).
    """
    require_columns(frame, [column])
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        if numeric_unit is None:
            raise DataError(f"time column {column!r} holds numbers, not dates; give dates such "
                            f"as 2024-01-31 or 2024-01-31 13:45")
        offsets = numeric_column(frame, column).to_numpy(dtype=np.float64)
        return pd.Series(pd.Timestamp(0) + pd.to_timedelta(offsets, unit=numeric_unit),
                         index=frame.index, name=column)
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        try:
            parsed = _parse_dates(raw, column, time_format)
        except (ValueError, TypeError) as exc:  # e.g. offsets mixed with naive times
            raise DataError(f"time column {column!r} cannot be parsed as dates: "
                            f"{str(exc).splitlines()[0]}") from exc
    bad = parsed.isna()
    if bad.any():
        first = raw[bad].iloc[0]
        raise DataError(
            f"time column {column!r} has {int(bad.sum())} value(s) that do not parse as dates, "
            f"e.g. {str(first)[:40]!r}"
        )
    return parsed


# Distinct values whose guessed formats are compared: enough to see a second format that a few
# percent of the rows use, without guessing a format for every row of a large file.
FORMAT_SAMPLE = 500


def _parse_dates(raw: pd.Series, column: str, time_format: str | None) -> pd.Series:
    if time_format is not None:
        return pd.to_datetime(raw, errors="coerce", format=time_format)
    iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
    if iso.notna().sum() == raw.notna().sum():
        return iso
    text = raw.dropna().astype(str).str.strip()
    distinct = pd.unique(text)
    step = max(len(distinct) // FORMAT_SAMPLE, 1)
    formats: dict[str | None, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas' advice on dayfirst: ours follows
        for value in distinct[::step]:
            formats.setdefault(pd.tseries.api.guess_datetime_format(value), value)
    hint = "e.g. --time-format %d/%m/%Y (day first) or %m/%d/%Y (month first)"
    known = {f: v for f, v in formats.items() if f is not None}
    if len(known) > 1:
        examples = ", ".join(repr(v) for v in list(known.values())[:3])
        raise DataError(f"time column {column!r} mixes date formats ({examples}); convert it to "
                        f"one format or give it with --time-format, {hint}")
    # ISO dates read one way only (pandas would swap their month and day under dayfirst).
    rest = raw.where(iso.isna())
    month_first = pd.to_datetime(rest, errors="coerce", format="mixed", dayfirst=False)
    day_first = pd.to_datetime(rest, errors="coerce", format="mixed", dayfirst=True)
    differ = (month_first != day_first) & month_first.notna() & day_first.notna()
    if differ.any():
        example = raw[differ].iloc[0]
        raise DataError(f"time column {column!r} has {int(differ.sum())} date(s) that read "
                        f"differently day-first and month-first, e.g. {str(example)[:40]!r}; "
                        f"say which with --time-format, {hint}")
    return iso.fillna(month_first)


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's canonical bytes: column names, dtypes and values, in order.

    Two frames with the same columns, dtypes and values give the same fingerprint whatever file
    format they were read from.
    """
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}\x1f{column.dtype}\x1e".encode())
        digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    digest.update(f"rows={len(frame)}".encode())
    return digest.hexdigest()


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """SHA-256 of numpy arrays' shapes, dtypes and bytes (C order)."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and an error before the rename leaves any previous
    file untouched.
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Byte version of :func:`atomic_write_text`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates the file readable by its owner only; give it the usual permissions.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_files(files: Mapping[str | os.PathLike, str]) -> list[Path]:
    """Replace several text files together: all or none.

    Every new file is written to a temporary file beside its target first; only then are they
    renamed into place, one after another. If a rename fails, the files already replaced get their
    previous content back (or are removed if they did not exist), so that a report's HTML and
    JSON never come from two different runs.
    """
    staged: list[tuple[Path, str]] = []
    try:
        for target, text in files.items():
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((path, tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(tmp, 0o666 & ~_current_umask())
        backups: list[tuple[Path, str | None]] = []
        replaced: list[tuple[Path, str | None]] = []
        try:
            for path, tmp in staged:
                backup = None
                if path.exists():
                    fd, backup = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".previous",
                                                  dir=path.parent)
                    os.close(fd)
                    _copy(path, backup)
                backups.append((path, backup))
                os.replace(tmp, path)
                replaced.append((path, backup))
        except BaseException:
            for path, backup in reversed(replaced):
                try:
                    if backup is not None:
                        os.replace(backup, path)
                    else:
                        path.unlink(missing_ok=True)
                except OSError:
                    pass  # keep restoring the others; the original error is raised below
            raise
        finally:
            for _, backup in backups:
                if backup is not None:
                    Path(backup).unlink(missing_ok=True)
    finally:
        for _, tmp in staged:
            Path(tmp).unlink(missing_ok=True)
    return [path for path, _ in staged]


def _copy(source: Path, destination: str) -> None:
    with open(source, "rb") as reader, open(destination, "wb") as writer:
        writer.write(reader.read())


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_jsonable(value: Any) -> Any:
    """Convert results (dataclasses, numpy, pandas, dates) to plain JSON types.

    Non-finite floats become ``None`` so that the output is strict JSON.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns],
                "index": to_jsonable(list(value.index)),
                "data": to_jsonable(value.to_numpy(dtype=object).tolist())}
    if isinstance(value, pd.Series):
        return {"index": to_jsonable(list(value.index)), "data": to_jsonable(value.tolist())}
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, _dt.timedelta)):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT:
        return None
    return str(value)


def dumps_json(value: Any) -> str:
    """Serialise ``value`` with :func:`to_jsonable`, deterministically (sorted keys, indented)."""
    return json.dumps(to_jsonable(value), indent=1, sort_keys=True, allow_nan=False,
                      ensure_ascii=False)
