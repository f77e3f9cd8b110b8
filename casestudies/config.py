"""Study options declared once: in the config dataclass, with help, range and quick value.

Each study's config is a frozen dataclass whose fields are declared with :func:`option`. From that
one declaration come the command-line options (:meth:`StudyConfig.add_arguments`), the parsing of
values given as text or as Python objects (:meth:`StudyConfig.from_options`, used by both the
command line and :func:`casestudies.run`), and the validation of every value, which runs whenever a
config is built, also directly in Python::

    CalibrationConfig(cost_fp=-1)        # ConfigError: --cost-fp must be greater than 0, not -1

``--quick`` means one thing everywhere: fields that declare a ``quick`` value take it unless the
user gave that option.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from casestudies.errors import ConfigError

_NO_QUICK = object()

SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Option:
    """How one config field appears to users; see :func:`option`."""

    help: str
    flag: str | None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    quick: Any = _NO_QUICK
    parse: Callable[[Any], Any] | None = None
    negate: bool = False
    show_default: str | None = None
    table: bool = False
    repeat: bool = False

    @property
    def has_quick(self) -> bool:
        return self.quick is not _NO_QUICK

    def range_text(self) -> str:
        """``"at least 1"``, ``"between 0 and 0.5"`` …, or ``""``."""
        low = (f"at least {_show(self.ge)}" if self.ge is not None
               else f"greater than {_show(self.gt)}" if self.gt is not None else "")
        high = (f"at most {_show(self.le)}" if self.le is not None
                else f"less than {_show(self.lt)}" if self.lt is not None else "")
        return " and ".join(part for part in (low, high) if part)


def option(default: Any, help: str, *, flag: str | bool | None = True, metavar: str | None = None,
           choices: Iterable[str] | None = None, ge: float | None = None,
           gt: float | None = None, le: float | None = None, lt: float | None = None,
           quick: Any = _NO_QUICK, parse: Callable[[Any], Any] | None = None,
           negate: bool = False, show_default: str | None = None, table: bool = False,
           repeat: bool = False) -> Any:
    """A config field that users can set.

    Parameters
    ----------
    default
        The value when the option is not given.
    help : str
        One line for ``--help``; the default, the range and the quick value are appended.
    flag : str, True or False
        The command-line flag; ``True`` derives it from the field name (``cost_fp`` ->
        ``--cost-fp``), ``False`` keeps the field out of the command line (still settable from
        Python).
    metavar, choices
        As in argparse; every item of a list-valued option must be one of ``choices``.
    ge, gt, le, lt : float, optional
        Bounds (inclusive ``ge``/``le``, exclusive ``gt``/``lt``) that every number must meet.
    quick
        The value under ``--quick`` unless the user gave the option.
    parse : callable, optional
        Turns a user's value (text or Python) into the field's value, raising ConfigError; used
        when the user's unit differs from the field's (percent in, fractions stored).
    negate : bool
        A switch that turns the field off (``--no-sklearn`` sets ``reference_sklearn=False``).
    show_default : str, optional
        The default as the user would type it, when it differs from the stored value.
    table : bool
        The field names a data file; a pandas DataFrame is accepted too (from Python).
    repeat : bool
        A list-valued option that may be given several times on the command line, each time
        adding its values (``--recorded-at a=t1 --recorded-at b=t2``); otherwise the last one
        given counts, as argparse does.
    """
    if flag is True:
        flag_text = None  # filled in by StudyConfig from the field name
    elif flag is False:
        flag_text = ""
    else:
        flag_text = str(flag)
    record = Option(help=help, flag=flag_text, metavar=metavar,
                    choices=tuple(choices) if choices is not None else None, ge=ge, gt=gt, le=le,
                    lt=lt, quick=quick, parse=parse, negate=negate, show_default=show_default,
                    table=table, repeat=repeat)
    return dataclasses.field(default=default, metadata={"option": record})


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return ",".join(_show(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    option: Option
    flag: str            # "" when not on the command line
    kind: type           # bool, int, float or str
    many: bool           # a tuple of kind
    optional: bool       # None allowed


def _resolve(annotation: Any) -> tuple[type, bool, bool]:
    optional = False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        optional = type(None) in args
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    many = typing.get_origin(annotation) is tuple
    kind = args[0] if many else annotation
    if kind not in (bool, int, float, str):
        raise TypeError(f"unsupported option type {annotation!r}")
    return kind, many, optional


class StudyConfig:
    """Base of the four frozen config dataclasses.

    Subclasses declare fields with :func:`option` (plain fields are internal), and may override
    :meth:`check` for rules that involve several fields, and :meth:`complete` for values derived
    from others.
    """

    _specs_cache: ClassVar[dict[type, dict[str, _FieldSpec]]] = {}

    # ---- declaration -------------------------------------------------------------------------
    @classmethod
    def specs(cls) -> dict[str, _FieldSpec]:
        """The user-settable fields, by field name."""
        if cls not in StudyConfig._specs_cache:
            hints = typing.get_type_hints(cls)
            specs = {}
            for f in dataclasses.fields(cls):
                record = f.metadata.get("option")
                if record is None:
                    continue
                kind, many, optional = _resolve(hints[f.name])
                flag = ("--" + f.name.replace("_", "-")) if record.flag is None else record.flag
                specs[f.name] = _FieldSpec(f.name, record, flag, kind, many, optional)
            StudyConfig._specs_cache[cls] = specs
        return StudyConfig._specs_cache[cls]

    @classmethod
    def _lookup(cls) -> dict[str, _FieldSpec]:
        """Option names a user may write: the field name, and the flag with underscores."""
        names: dict[str, _FieldSpec] = {}
        for spec in cls.specs().values():
            names[spec.name] = spec
            if spec.flag:
                names[spec.flag.lstrip("-").replace("-", "_")] = spec
        return names

    # ---- building ----------------------------------------------------------------------------
    @classmethod
    def from_options(cls, **options: Any) -> StudyConfig:
        """Build a config from options as a user gives them, on the command line or in Python.

        Names are field names or flags with underscores (``cost_fp``, ``customers``); values may
        be text (``"3"``, ``"arma,co2"``) or Python values (``3``, ``["arma", "co2"]``). ``None``
        means "not given". Raises :class:`ConfigError` with one line naming the option.
        """
        lookup = cls._lookup()
        values: dict[str, Any] = {}
        given: set[str] = set()
        for name, raw in options.items():
            if raw is None:
                continue
            spec = lookup.get(name)
            if spec is None:
                known = ", ".join(sorted({s.name for s in cls.specs().values()}))
                raise ConfigError(f"unknown option {name!r}; the options are: {known}")
            if spec.name in given:
                raise ConfigError(f"{spec.flag or spec.name} is given twice")
            values[spec.name] = parse_value(spec, raw)
            given.add(spec.name)
        if values.get("quick"):
            for spec in cls.specs().values():
                if spec.option.has_quick and spec.name not in given:
                    values[spec.name] = spec.option.quick
        values = cls.complete(values, given)
        return cls(**values)

    @classmethod
    def complete(cls, values: dict[str, Any], given: set[str]) -> dict[str, Any]:
        """Fill values derived from others before the config is built (override)."""
        return values

    def __post_init__(self) -> None:
        for spec in self.specs().values():
            check_value(spec, getattr(self, spec.name))
        if getattr(self, "time_format", None) and not getattr(self, "time", None):
            raise ConfigError("--time-format describes the --time column: add --time COL")
        self.check()

    def check(self) -> None:
        """Rules that involve several fields; raise ConfigError (override)."""

    # ---- command line ------------------------------------------------------------------------
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *, only: Iterable[str] | None = None
                      ) -> None:
        """Add one command-line option per user-settable field (``only``: these fields)."""
        wanted = None if only is None else set(only)
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        for spec in cls.specs().values():
            if not spec.flag or (wanted is not None and spec.name not in wanted):
                continue
            record = spec.option
            text = record.help
            if record.negate:
                parser.add_argument(spec.flag, dest=spec.name, action="store_true",
                                    default=argparse.SUPPRESS, help=text)
                continue
            if spec.kind is bool:
                parser.add_argument(spec.flag, dest=spec.name, action="store_true",
                                    default=argparse.SUPPRESS, help=text)
                continue
            notes = []
            default = defaults[spec.name]
            shown = record.show_default or (_show(default) if default not in (None, ()) else "")
            if shown:
                notes.append(f"default: {shown}")
            if record.has_quick and record.quick != default:
                notes.append(f"{_show(record.quick)} with --quick")
            if record.range_text() and record.parse is None:
                # A custom parser takes the user's unit, which may not be the field's.
                notes.append(record.range_text())
            if notes:
                text = f"{text} ({'; '.join(notes)})"
            metavar = record.metavar
            if metavar is None:
                metavar = ("{" + ",".join(record.choices) + "}" if record.choices
                           else spec.flag.lstrip("-").upper().replace("-", "_"))
            extra = {"action": "extend"} if spec.many and record.repeat else {}
            parser.add_argument(spec.flag, dest=spec.name, default=argparse.SUPPRESS,
                                metavar=metavar, nargs="+" if spec.many else None,
                                help=text.replace("%", "%%"), **extra)

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> StudyConfig:
        """The config of parsed command-line options (those the user gave; the rest default)."""
        names = set(cls.specs())
        given = {k: v for k, v in vars(args).items() if k in names}
        return cls.from_options(**given)


# ---- parsing and checking values -------------------------------------------------------------
def _label(spec: _FieldSpec) -> str:
    return spec.flag or spec.name


def _scalar(spec: _FieldSpec, raw: Any) -> Any:
    label, kind = _label(spec), spec.kind
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{label} must be true or false, not {raw!r}")
    if kind is int:
        if isinstance(raw, bool):
            raise ConfigError(f"{label} must be a whole number, not {raw!r}")
        if isinstance(raw, int):
            return int(raw)
        try:
            number = float(str(raw).strip()) if not isinstance(raw, float) else raw
        except ValueError:
            raise ConfigError(f"{label} must be a whole number, not {raw!r}") from None
        if not math.isfinite(number) or number != int(number):
            raise ConfigError(f"{label} must be a whole number, not {raw!r}")
        return int(number)
    if kind is float:
        if isinstance(raw, bool):
            raise ConfigError(f"{label} must be a number, not {raw!r}")
        try:
            return float(raw) if isinstance(raw, (int, float)) else float(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{label} must be a number, not {raw!r}") from None
    if isinstance(raw, os.PathLike):
        return os.fspath(raw)
    if not isinstance(raw, str):
        raise ConfigError(f"{label} must be text, not {raw!r}")
    return raw


def parse_value(spec: _FieldSpec, raw: Any) -> Any:
    """A user's value (text or Python) as the field's type; ConfigError if it cannot be."""
    record = spec.option
    if record.table and not isinstance(raw, (str, os.PathLike)):
        from casestudies.io import InMemoryTable, is_table
        if is_table(raw):
            return InMemoryTable(raw)
    if record.parse is not None:
        return record.parse(raw)
    if record.negate:
        return not _scalar(spec, raw)
    if not spec.many:
        if isinstance(raw, (list, tuple)) and len(raw) == 1:
            raw = raw[0]  # argparse with nargs, or a one-item list from Python
        return _scalar(spec, raw)
    items = [raw] if isinstance(raw, (str, int, float, os.PathLike)) else list(raw)
    parts = []
    for item in items:
        if isinstance(item, str):
            parts += [p.strip() for p in item.split(",") if p.strip()]
        else:
            parts.append(item)
    if not parts and not spec.optional:
        raise ConfigError(f"{_label(spec)} needs at least one value")
    return tuple(dict.fromkeys(_scalar(spec, p) for p in parts)) if spec.kind is str else \
        tuple(_scalar(spec, p) for p in parts)


def _check_number(spec: _FieldSpec, value: float) -> None:
    record, label = spec.option, _label(spec)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number, not {value}")
    bad = ((record.ge is not None and value < record.ge)
           or (record.gt is not None and value <= record.gt)
           or (record.le is not None and value > record.le)
           or (record.lt is not None and value >= record.lt))
    if bad:
        raise ConfigError(f"{label} must be {record.range_text()}, not {_show(value)}")


def check_value(spec: _FieldSpec, value: Any) -> None:
    """Raise ConfigError unless ``value`` has the field's type, range and choices."""
    label = _label(spec)
    if value is None:
        if spec.optional:
            return
        raise ConfigError(f"{label} must be given")
    if spec.option.table and not isinstance(value, str):
        from casestudies.io import InMemoryTable
        if isinstance(value, InMemoryTable):
            return
    items = value if spec.many else (value,)
    if spec.many and not isinstance(value, tuple):
        raise ConfigError(f"{label} must be a tuple of values, not {value!r}")
    for item in items:
        expected = (int, float) if spec.kind is float else spec.kind
        if (isinstance(item, bool) and spec.kind is not bool) or not isinstance(item, expected):
            raise ConfigError(f"{label} must be {spec.kind.__name__}, not {item!r}")
        if spec.kind in (int, float):
            _check_number(spec, item)
        if spec.option.choices is not None and item not in spec.option.choices:
            raise ConfigError(f"{label} must be one of {', '.join(spec.option.choices)}, "
                              f"not {item!r}")


# ---- options every study has -----------------------------------------------------------------
def seed_option() -> Any:
    """The ``seed`` field: every random stream of the run is spawned from it."""
    return option(0, "random seed for simulation, models and resampling; same data and seed "
                     "give the same numbers", ge=0, le=SEED_MAX)


def quick_option(what: str) -> Any:
    """The ``quick`` field: a small, fast run; ``what`` says what shrinks."""
    return option(False, f"a small, fast run for a first look: {what} (options you give keep "
                         f"their value)")


def data_option(what: str) -> Any:
    """The ``data`` field: the user's file (or DataFrame from Python)."""
    return option(None, f"your own CSV or Parquet file: {what} (default: the study's own data)",
                  flag="--data", metavar="PATH", table=True)


def time_format_option() -> Any:
    """The ``time_format`` field of a study with a ``time`` column (checked to come with it)."""
    return option(None, "how to read the --time column when its dates are not ISO 8601 and "
                        "could be read day-first or month-first: a strftime format such as "
                        "%d/%m/%Y", metavar="FORMAT")


# ---- options for reading a user's table as it comes (see casestudies.io and casestudies.tables) --
def sep_option() -> Any:
    """The ``sep`` field: the delimiter of a text file, detected when not given."""
    from casestudies.io import parse_separator

    return option(None, "the delimiter of a text --data file: , ; | or tab (default: detected "
                        "from the first lines)", metavar="SEP", parse=parse_separator)


def encoding_option() -> Any:
    """The ``encoding`` field: the text encoding of a file, detected when not given."""
    from casestudies.io import parse_encoding

    return option(None, "the text encoding of a --data file, e.g. cp1252 (default: UTF-8 with "
                        "or without a byte-order mark, then Latin-1)", metavar="NAME",
                  parse=parse_encoding)


def missing_option(choices: Iterable[str] = ("error", "drop", "impute"), *,
                   help: str | None = None, show_default: str | None = None) -> Any:
    """The ``missing`` field: what to do with missing values in the columns a study uses.

    ``help`` and ``show_default`` replace the wording of the table studies, for a study whose
    choices differ (forecasting interpolates a series instead of dropping rows).
    """
    from casestudies.tables import MAX_DROPPED_SHARE

    return option(None, help or "missing values in the columns used: error, drop the rows, or "
                                "impute (median / most frequent value)", choices=tuple(choices),
                  show_default=show_default or f"drop when at most {MAX_DROPPED_SHARE:.0%} of "
                                               f"rows have one, else an error")


def positive_option(target_flag: str = "--target") -> Any:
    """The ``positive`` field: which value of a binary target is the positive class."""
    return option(None, f"the value of {target_flag} that means the positive class (default: "
                        f"recognised from 0/1, true/false, yes/no, y/n, pos/neg, "
                        f"positive/negative)", metavar="LABEL")


def categorical_option() -> Any:
    """The ``categorical`` field: integer columns to one-hot encode as categories."""
    return option((), "integer columns that are codes, not quantities (one-hot encoded like text "
                      "columns)", metavar="COLS")
