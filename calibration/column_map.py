"""Column maps: TOML files that adapt a real export folder to the canonical history schema.

A map names, per canonical table, the export file, which export column holds each canonical
column, how dates are written (and in which time zone), which strings mean "no value", which rows
the export holds that the twin should not see (``keep_rows_where``, counted as filtered), and the
visit outcome codes and survey scale. The default map is the identity: canonical file and column
names, ISO 8601 dates, no fillers, no filters.

Example (see ``calibration/maps/`` for the shipped maps and ``maps/README.md`` for every key)::

    [history]
    name = "erp-2024"
    local_timezone = "Europe/Berlin"

    [orders]
    file = "auftraege.csv"
    date_formats = ["%d.%m.%Y %H:%M", "%d.%m.%Y"]
    timezone = "UTC"                 # the export writes UTC; canonical times are Berlin time
    fillers = ["-", "n/a"]
    keep_rows_where = { Typ = ["Montage"] }
    columns = { order_id = "Auftrag", created_at = "Angelegt" }

Time zones: canonical times are naive local wall-clock times. A value written with a UTC offset
(``...+01:00``, ``...Z``, or a ``%z`` format) is converted to ``[history] local_timezone`` (or, if
that is unset, to the table's ``timezone``); with neither set, the offset is dropped and the wall
clock as written is kept. A value without an offset is read as local time, unless the table sets
``timezone``: then it is read in that zone and converted to ``local_timezone`` (which must be
set). A naive time that does not exist or is ambiguous in ``timezone`` (a DST change) is a bad
cell, never shifted by a guess.
"""

from __future__ import annotations

import codecs
import difflib
import logging
import tomllib
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from calibration.schema import TABLES, VISIT_OUTCOMES

log = logging.getLogger(__name__)

MAPS_DIR = Path(__file__).resolve().parent / "maps"
ISO8601 = "ISO8601"  # the date format meaning "ISO 8601, parsed by pandas"


@dataclass(frozen=True)
class Problem:
    """One finding about the input: where it is (file, 1-based line, column) and why it is bad.

    ``code`` is a short stable category (``bad_date``, ``duplicate_id``...) used to count problems;
    ``reason`` is the sentence a person reads.
    """

    file: str
    line: int | None
    column: str | None
    value: str | None
    reason: str
    code: str = "problem"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = ""
        if self.column is not None:
            what = f" {self.column}"
            if self.value is not None:
                what += f" = {_shorten(self.value)!r}"
            what += ":"
        return f"{where}:{what} {self.reason}"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HistoryError(Exception):
    """Input that cannot be loaded at all (bad map, missing file or column, empty file).

    ``problems`` lists every fatal problem found, so one run shows them all.
    """

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _did_you_mean(word: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. 'Europe/Berlin', 'UTC')") from None
    return name


class HistorySettings(BaseModel):
    """The ``[history]`` section: what this export is and which tables it must contain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "canonical"
    description: str = ""
    local_timezone: str | None = None  # IANA zone of the canonical (naive, local) times
    # Default: the schema's required tables (orders). A supplier-only export (SCMS) needs none of
    # the order tables, so its map may require purchase_orders instead.
    required_tables: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)

    _zone = field_validator("local_timezone")(_check_zone)

    @field_validator("required_tables")
    @classmethod
    def _known_tables(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in TABLES:
                raise ValueError(
                    f"unknown table {name!r}{_did_you_mean(name, list(TABLES))} "
                    f"(tables: {', '.join(TABLES)})"
                )
        return value


class TableMap(BaseModel):
    """How one canonical table is read from the export. Set ``table`` before validation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(exclude=True)
    file: str | None = None  # relative to the folder; default "<table>.csv"
    encoding: str = "utf-8-sig"  # utf-8-sig reads plain UTF-8 too and strips a byte-order mark
    # canonical column -> export column; canonical columns not named here are looked up under
    # their own name, and optional ones may be absent from the export altogether
    columns: dict[str, str] = Field(default_factory=dict)
    date_formats: tuple[str, ...] = (ISO8601,)  # strptime formats, tried in order per cell
    timezone: str | None = None  # IANA zone the export's naive times are written in
    fillers: tuple[str, ...] = ()  # cell texts meaning "no value" (compared after stripping)
    # export column -> accepted values; other rows are filtered (counted), not quarantined
    keep_rows_where: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    _zone = field_validator("timezone")(_check_zone)

    @property
    def file_name(self) -> str:
        return self.file or TABLES[self.table].file_name

    def export_column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or Path(value).is_absolute()):
            raise ValueError("must be a file name relative to the export folder")
        return value

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (e.g. 'utf-8-sig', 'cp1252')") from None
        return value

    @field_validator("date_formats")
    @classmethod
    def _formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one format (use 'ISO8601' for ISO 8601)")
        for fmt in value:
            if fmt != ISO8601 and "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a strptime format (e.g. '%d.%m.%Y') or 'ISO8601'")
        return value

    @model_validator(mode="after")
    def _canonical_columns(self) -> TableMap:
        known = [c.name for c in TABLES[self.table].columns]
        for name, export in self.columns.items():
            if name not in known:
                raise ValueError(
                    f"columns: {name!r} is not a column of canonical table {self.table!r}"
                    f"{_did_you_mean(name, known)} (columns: {', '.join(known)})"
                )
            if not export.strip():
                raise ValueError(f"columns.{name}: the export column name is empty")
        for column, values in self.keep_rows_where.items():
            if not values:
                raise ValueError(f"keep_rows_where.{column}: lists no value, so no row would stay")
        return self


class VisitsMap(TableMap):
    """Visits also translate the export's outcome codes into the canonical outcomes."""

    # export code -> canonical outcome; empty means the export already uses canonical outcomes
    outcome_codes: dict[str, str] = Field(default_factory=dict)

    @field_validator("outcome_codes")
    @classmethod
    def _outcomes(cls, value: dict[str, str]) -> dict[str, str]:
        for code, outcome in value.items():
            if outcome not in VISIT_OUTCOMES:
                raise ValueError(
                    f"code {code!r} maps to {outcome!r}{_did_you_mean(outcome, VISIT_OUTCOMES)}, "
                    f"which is not an outcome (outcomes: {', '.join(VISIT_OUTCOMES)})"
                )
        return value

    def known_codes(self) -> dict[str, str]:
        return dict(self.outcome_codes) or {o: o for o in VISIT_OUTCOMES}


class SurveysMap(TableMap):
    """Surveys also carry their scale and the score from which a customer counts as satisfied."""

    # Defaults are the common 1-5 CSAT scale with top-2-box satisfaction; the report states them.
    scale_min: float = 1
    scale_max: float = 5
    satisfied_threshold: float = 4  # score >= threshold is satisfied

    @model_validator(mode="after")
    def _scale(self) -> SurveysMap:
        if not self.scale_min < self.scale_max:
            raise ValueError(f"scale_min ({self.scale_min:g}) must be < scale_max")
        if not self.scale_min <= self.satisfied_threshold <= self.scale_max:
            raise ValueError(
                f"satisfied_threshold ({self.satisfied_threshold:g}) must lie within the scale "
                f"{self.scale_min:g}..{self.scale_max:g}"
            )
        return self


_TABLE_MODELS: dict[str, type[TableMap]] = {
    name: {"visits": VisitsMap, "surveys": SurveysMap}.get(name, TableMap) for name in TABLES
}


class ColumnMap(BaseModel):
    """A whole column map: ``[history]`` plus one section per canonical table (all optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    history: HistorySettings = HistorySettings()
    orders: TableMap = Field(default_factory=lambda: TableMap(table="orders"))
    order_lines: TableMap = Field(default_factory=lambda: TableMap(table="order_lines"))
    purchase_orders: TableMap = Field(default_factory=lambda: TableMap(table="purchase_orders"))
    visits: VisitsMap = Field(default_factory=lambda: VisitsMap(table="visits"))
    surveys: SurveysMap = Field(default_factory=lambda: SurveysMap(table="surveys"))
    crews: TableMap = Field(default_factory=lambda: TableMap(table="crews"))

    @model_validator(mode="before")
    @classmethod
    def _name_tables(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for name in TABLES:
                section = data.get(name)
                if isinstance(section, dict):
                    data[name] = {**section, "table": name}
        return data

    @model_validator(mode="after")
    def _zones(self) -> ColumnMap:
        for name in TABLES:
            if self.table(name).timezone and not self.history.local_timezone:
                raise ValueError(
                    f"{name}.timezone is set but [history] local_timezone is not: set the zone "
                    "the canonical (local) times should be in"
                )
        return self

    def table(self, name: str) -> TableMap:
        """The map of canonical table ``name``."""
        section: TableMap = getattr(self, name)
        return section

    @property
    def mentioned(self) -> frozenset[str]:
        """Tables that have a section in the map file."""
        return frozenset(n for n in TABLES if n in self.model_fields_set)


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "(top level)"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = ColumnMap
    for part in loc:
        if part in TABLES:
            model = _TABLE_MODELS[part]
        elif part == "history":
            model = HistorySettings
        else:
            return []
    return sorted(k for k in model.model_fields if k != "table")


def _describe(error: Any, path: Path) -> Problem:
    loc = tuple(error["loc"])
    value = error.get("input")
    shown = None if isinstance(value, dict) else str(value)
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        reason = f"unknown key{_did_you_mean(str(loc[-1]), known)} (known here: {', '.join(known)})"
        return Problem(str(path), None, _key_path(loc), shown, reason, "bad_map")
    reason = error["msg"].removeprefix("Value error, ")
    return Problem(str(path), None, _key_path(loc), shown, reason, "bad_map")


def parse_column_map(data: dict[str, Any], source: str | Path = "<column map>") -> ColumnMap:
    """Validate map data (as read from TOML). Raises HistoryError naming key, value and rule."""
    try:
        return ColumnMap.model_validate(data)
    except ValidationError as exc:
        raise HistoryError([_describe(e, Path(source)) for e in exc.errors()]) from None


def resolve_map_path(path_or_name: str | Path) -> Path:
    """A map file path, or the name of a shipped map (``olist``, ``scms``) when no such file."""
    path = Path(path_or_name)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = MAPS_DIR / f"{path_or_name}.toml"
    return shipped if shipped.exists() else path


def shipped_maps() -> list[str]:
    """Names of the column maps that ship with the package."""
    return sorted(p.stem for p in MAPS_DIR.glob("*.toml"))


def load_column_map(path: str | Path | None = None) -> ColumnMap:
    """Read and validate a column map TOML file; None gives the identity map.

    ``path`` may also be the name of a shipped map (``"olist"``). Every problem is raised at once
    as a HistoryError naming the file, the key, the value and the rule broken.
    """
    if path is None:
        return ColumnMap()
    resolved = resolve_map_path(path)
    try:
        with resolved.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        hint = f" (shipped maps: {', '.join(shipped_maps())})" if shipped_maps() else ""
        problem = Problem(str(resolved), None, None, None, f"column map not found{hint}", "bad_map")
        raise HistoryError([problem]) from None
    except tomllib.TOMLDecodeError as exc:
        raise HistoryError(
            [Problem(str(resolved), None, None, None, f"not valid TOML: {exc}", "bad_map")]
        ) from None
    except OSError as exc:
        raise HistoryError(
            [Problem(str(resolved), None, None, None, f"cannot read: {exc.strerror}", "bad_map")]
        ) from None
    column_map = parse_column_map(data, resolved)
    log.debug("column map %r from %s", column_map.history.name, resolved)
    return column_map
