"""History loader: reads an export folder through a column map into typed canonical tables.

Nothing is silently dropped or guessed. Every row read ends up in exactly one of three places:
kept (in ``LoadedHistory.tables``), quarantined (a problem with file, line, column, value and
reason; written to ``<quarantine_dir>/<table>.quarantine.csv``), or filtered (a ``keep_rows_where``
rule of the map, or an order the map filtered; counted per rule). Problems that make the folder
unusable (bad map, missing required file or column, empty or unreadable required file) raise
``HistoryError`` listing all of them; row problems never stop loading.

Line numbers are 1-based physical lines of the source file (header = line 1) whatever the line
endings (LF, CRLF or old-Mac CR); a record with a quoted multi-line field is reported at the line
it starts on.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from calibration.column_map import (
    ISO8601,
    ColumnMap,
    HistoryError,
    Problem,
    SurveysMap,
    TableMap,
    VisitsMap,
    load_column_map,
)
from calibration.schema import TABLES, Column, Table

__all__ = [
    "HistoryError",
    "LoadedHistory",
    "Problem",
    "TableReport",
    "ValidationReport",
    "add_history_check_arguments",
    "cmd_history_check",
    "format_report",
    "history_check",
    "load_history",
]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_INPUT = 2

# Tables that others refer to are validated first.
LOAD_ORDER = ("orders", "crews", "order_lines", "purchase_orders", "visits", "surveys")
ORDER_REFERENCES = ("order_lines", "visits", "surveys")

# (earlier, later, by_day): `later` before `earlier` is a negative duration. We cannot tell which
# of the two timestamps is wrong, so the row is quarantined rather than half used. Promises are
# dates, so a promise only counts as negative before the *day* the order was created.
ORDERINGS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "orders": (
        ("created_at", "promised_at", True),
        ("created_at", "handed_off_at", False),
        ("created_at", "completed_at", False),
        ("created_at", "cancelled_at", False),
        ("handed_off_at", "completed_at", False),
    ),
    "purchase_orders": (
        ("ordered_at", "received_at", False),
        ("ordered_at", "promised_at", True),
    ),
    "visits": (("started_at", "finished_at", False),),
}
POSITIVE = {"orders": ("size",), "order_lines": ("qty",), "purchase_orders": ("qty",)}
NON_NEGATIVE = {"orders": ("value",)}
PLAUSIBLE_YEARS = (1900, 2200)  # outside: a placeholder such as 9999-12-31, not a real time
# a UTC offset after a time of day ("T08:00Z", " 08:00:00.5+01:00"), not the day of "2024-03-31"
_OFFSET = r"[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_OK, _QUARANTINED, _FILTERED = 0, 1, 2


@dataclass
class TableReport:
    """What happened to one table's rows: read = kept + quarantined + filtered."""

    table: str
    file: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_filtered: int = 0
    filtered: dict[str, int] = field(default_factory=dict)  # rule -> rows
    fillers: dict[str, int] = field(default_factory=dict)  # "column 'text'" -> cells read as empty
    absent_columns: list[str] = field(default_factory=list)  # optional columns not in the export


@dataclass
class ValidationReport:
    """Every problem found, plus per-table row accounting and notes (absent optional files)."""

    name: str
    folder: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[tuple[str, str], int]:
        """Problems per (file, code), in first-seen order."""
        return dict(Counter((p.file, p.code) for p in self.problems))

    def problems_of(self, table: str) -> list[Problem]:
        """The problems found in ``table``'s file."""
        report = self.tables.get(table)
        return [] if report is None else [p for p in self.problems if p.file == report.file]


@dataclass
class LoadedHistory:
    """Typed canonical tables (index = source line), quarantined rows and the report."""

    tables: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    report: ValidationReport
    column_map: ColumnMap


@dataclass
class _Source:
    """One export file read as text: header, records and the line each record starts on."""

    name: str
    spec: Table
    tmap: TableMap
    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: np.ndarray
    present: dict[str, int]  # canonical column -> index in header


@dataclass
class _Checked:
    """A table after validation, as the referential checks of later tables need it."""

    status: np.ndarray
    typed: pd.DataFrame
    lines: np.ndarray


class _Rows:
    """Row status and problems of one table while it is validated."""

    def __init__(self, source: _Source, report: ValidationReport) -> None:
        self.source = source
        self.file = source.tmap.file_name
        self.report = report
        self.status = np.zeros(len(source.rows), dtype=np.int8)
        self.reasons: dict[int, list[str]] = {}

    def flag(self, i: int, column: str | None, value: str | None, reason: str, code: str) -> None:
        line = int(self.source.lines[i])
        self.report.problems.append(Problem(self.file, line, column, value, reason, code))
        self.status[i] = _QUARANTINED
        self.reasons.setdefault(i, []).append(reason if column is None else f"{column}: {reason}")


def _label(tmap: TableMap, canonical: str) -> str:
    """The column as the user sees it in the export, with its canonical name when different."""
    export = tmap.export_column(canonical)
    return canonical if export == canonical else f"{export} ({canonical})"


def _line_of_offset(raw: bytes, offset: int) -> int:
    head = raw[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _read_records(
    path: Path, encoding: str, file: str, fatal: list[Problem]
) -> tuple[list[str], int, list[list[str]], list[int]] | None:
    """Parse a CSV file, recording the physical line each record starts on."""
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    previous = 0
    try:
        with path.open(encoding=encoding, newline="") as handle:
            # strict: a stray quote is an error here rather than a field that silently swallows
            # the rest of the file
            reader = csv.reader(handle, strict=True)
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not record:
                    continue  # a blank line
                if header is None:
                    header, header_line = record, start
                else:
                    rows.append(record)
                    lines.append(start)
    except UnicodeDecodeError as exc:
        raw = path.read_bytes()
        try:
            raw.decode(encoding)
            where, line = exc.start, None
        except UnicodeDecodeError as whole:
            where, line = whole.start, _line_of_offset(raw, whole.start)
        reason = (
            f"not valid {encoding} ({exc.reason} at byte {where}); set the table's `encoding` "
            "in the column map (e.g. 'cp1252')"
        )
        fatal.append(Problem(file, line, None, None, reason, "unreadable"))
        return None
    except csv.Error as exc:
        stopped = reader.line_num
        reason = f"not readable as CSV: {exc} (parser stopped at line {stopped}); check the quotes"
        fatal.append(Problem(file, previous + 1, None, None, reason, "unreadable"))
        return None
    except OSError as exc:
        fatal.append(Problem(file, None, None, None, f"cannot read: {exc.strerror}", "unreadable"))
        return None
    if header is None:
        return [], 0, [], []
    header = [h.strip() for h in header]
    header[0] = header[0].removeprefix("\ufeff")  # a BOM the encoding did not strip
    return header, header_line, rows, lines


def _open_source(
    name: str, column_map: ColumnMap, folder: Path, report: ValidationReport, fatal: list[Problem]
) -> _Source | None:
    """Read one table's file and check its structure; structural problems go to ``fatal``."""
    spec = TABLES[name]
    tmap = column_map.table(name)
    file = tmap.file_name
    path = folder / file
    required = name in column_map.history.required_tables
    if not path.is_file():
        if required or tmap.file is not None:
            why = "required" if required else f"named by the column map ([{name}] file)"
            reason = f"file not found in {folder} ({why} for table {name!r})"
            fatal.append(Problem(file, None, None, None, reason, "missing_file"))
        return None
    parsed = _read_records(path, tmap.encoding, file, fatal)
    if parsed is None:
        return None
    header, header_line, rows, lines = parsed
    if not header:
        problem = Problem(file, None, None, None, "empty file: no header, no rows", "empty_file")
        if required:
            fatal.append(problem)
        else:
            report.problems.append(problem)
        return None
    if required and not rows:
        reason = f"no data rows under the header (table {name!r} is required)"
        fatal.append(Problem(file, header_line, None, None, reason, "empty_file"))
        return None

    present: dict[str, int] = {}
    absent: list[str] = []
    for column in spec.columns:
        export = tmap.export_column(column.name)
        if header.count(export) > 1:
            reason = f"column {export!r} appears {header.count(export)} times in the header"
            fatal.append(Problem(file, header_line, export, None, reason, "missing_column"))
        elif export in header:
            present[column.name] = header.index(export)
        elif column.name in tmap.columns:
            reason = (
                f"the column map names column {export!r} ([{name}.columns] {column.name}), "
                f"which {file} lacks{_close(export, header)}"
            )
            fatal.append(Problem(file, header_line, export, None, reason, "missing_column"))
        elif column.required:
            reason = (
                f"required column {column.name!r} of table {name!r} is missing; name the export "
                f"column in [{name}.columns]{_close(column.name, header)}"
            )
            fatal.append(Problem(file, header_line, column.name, None, reason, "missing_column"))
        else:
            absent.append(column.name)
    for export in tmap.keep_rows_where:
        if export not in header:
            reason = (
                f"the column map filters on column {export!r} ([{name}] keep_rows_where), "
                f"which {file} lacks{_close(export, header)}"
            )
            fatal.append(Problem(file, header_line, export, None, reason, "missing_column"))
    report.tables[name] = TableReport(name, file, absent_columns=absent)
    return _Source(name, spec, tmap, path, header, rows, np.asarray(lines, dtype=np.int64), present)


def _close(word: str, header: list[str]) -> str:
    close = difflib.get_close_matches(word, header, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
    return f"{hint} (columns: {shown})"


def _cells(source: _Source, index: int) -> pd.Series:
    return pd.Series([r[index] if index < len(r) else "" for r in source.rows], dtype=object)


def _parse_datetimes(
    text: pd.Series, formats: tuple[str, ...], source_tz: str | None, local_tz: str | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse non-empty cells (NaN = empty), trying each format over the whole column at once.

    Returns naive local datetimes and two masks: cells that match no format, and naive times
    that do not exist (or are ambiguous) in ``source_tz``.
    """
    utc = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    aware = pd.Series(False, index=text.index)
    used = pd.Series("", index=text.index, dtype=object)
    remaining = text.dropna()
    for fmt in formats:
        if remaining.empty:
            break
        if fmt == ISO8601:
            parsed = pd.to_datetime(remaining, format="ISO8601", errors="coerce", utc=True)
            has_offset = remaining.str.contains(_OFFSET, regex=True)
        else:
            parsed = pd.to_datetime(remaining, format=fmt, errors="coerce", utc=True)
            has_offset = pd.Series("%z" in fmt or "%Z" in fmt, index=remaining.index)
        ok = parsed.notna()
        hit = ok[ok].index
        utc.loc[hit] = parsed.loc[hit].astype("datetime64[us, UTC]")
        aware.loc[hit] = has_offset.loc[hit]
        used.loc[hit] = fmt
        remaining = remaining[~ok]
    unparsed = pd.Series(False, index=text.index)
    unparsed.loc[remaining.index] = True

    result = utc.dt.tz_localize(None)  # naive cells were read as UTC: this is their wall clock
    bad_local = pd.Series(False, index=text.index)
    naive = ~aware & result.notna()
    if source_tz is not None and naive.any():
        localized = result[naive].dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="NaT")
        bad_local.loc[localized.index] = localized.isna()
        result.loc[naive] = localized.dt.tz_convert(local_tz).dt.tz_localize(None)
    if aware.any():
        target = local_tz or source_tz
        if target is not None:
            result.loc[aware] = utc[aware].dt.tz_convert(target).dt.tz_localize(None)
        else:  # no zone configured: keep the wall clock as written, drop the offset
            for i in aware[aware].index:
                result.loc[i] = _wall_clock(str(text.loc[i]), str(used.loc[i]))
    return result.astype("datetime64[us]"), unparsed, bad_local


def _wall_clock(value: str, fmt: str) -> datetime:
    if fmt == ISO8601:
        stamp = pd.Timestamp(value)
        return stamp.tz_localize(None).to_pydatetime()
    return datetime.strptime(value, fmt).replace(tzinfo=None)


def _format_list(formats: tuple[str, ...]) -> str:
    shown = ["ISO 8601" if f == ISO8601 else repr(f) for f in formats]
    return shown[0] if len(shown) == 1 else "any of " + ", ".join(shown)


def _parse_column(
    rows: _Rows, column: Column, column_map: ColumnMap, checked: np.ndarray
) -> pd.Series:
    """Type one canonical column; bad cells quarantine their row with column and value."""
    source, tmap = rows.source, rows.source.tmap
    table_report = rows.report.tables[source.name]
    label = _label(tmap, column.name)
    raw = _cells(source, source.present[column.name])
    text = raw.str.strip()
    is_filler = text.isin(tmap.fillers) & checked
    for filler, count in text[is_filler].value_counts().items():
        key = f"{label} {filler!r}"
        table_report.fillers[key] = table_report.fillers.get(key, 0) + int(count)
    empty = (text == "") | text.isin(tmap.fillers)
    value = text.where(~empty)

    if not column.nullable:
        for i in np.flatnonzero(empty.to_numpy() & checked):
            cell = str(text.iat[i])
            why = f"{cell!r} means no value (a filler)" if cell else "empty"
            rows.flag(i, label, cell, f"{why}, but {column.name} needs a value", "missing_value")

    bad = pd.Series(False, index=text.index)
    reasons: dict[str, pd.Series] = {}
    if column.kind in ("id", "text"):
        typed = value.astype("str")
    elif column.kind in ("int", "float"):
        number = pd.to_numeric(value, errors="coerce")
        not_number = value.notna() & (number.isna() | ~np.isfinite(number.fillna(0)))
        reasons["not a number"] = not_number
        if column.kind == "int":
            reasons["not a whole number"] = ~not_number & number.notna() & (number % 1 != 0)
        bad = not_number | reasons.get("not a whole number", bad)
        number = number.where(~bad)
        typed = number.astype("Int64") if column.kind == "int" else number.astype("float64")
    else:
        local_tz = column_map.history.local_timezone
        typed, unparsed, bad_local = _parse_datetimes(
            value, tmap.date_formats, tmap.timezone, local_tz
        )
        years = typed.dt.year
        implausible = typed.notna() & ((years < PLAUSIBLE_YEARS[0]) | (years > PLAUSIBLE_YEARS[1]))
        reasons[f"not a date in {_format_list(tmap.date_formats)}"] = unparsed
        reasons[f"not a valid local time in {tmap.timezone} (DST change)"] = bad_local
        low, high = PLAUSIBLE_YEARS
        reasons[f"year outside {low}..{high}: a placeholder, not a date"] = implausible
        bad = unparsed | bad_local | implausible
        typed = typed.where(~bad)
    codes = {"not a number": "bad_number", "not a whole number": "bad_number"}
    for reason, mask in reasons.items():
        for i in np.flatnonzero(mask.to_numpy(dtype=bool) & checked):
            rows.flag(i, label, str(text.iat[i]), reason, codes.get(reason, "bad_date"))
    return typed


def _check_rows(rows: _Rows, typed: pd.DataFrame, checked: np.ndarray) -> None:
    """Rules across cells of a row: time order, signs, outcome codes, survey scale."""
    name, tmap = rows.source.name, rows.source.tmap
    present = rows.source.present
    for earlier, later, by_day in ORDERINGS.get(name, ()):
        if earlier not in present or later not in present:
            continue
        start = typed[earlier].dt.normalize() if by_day else typed[earlier]
        wrong = (typed[later] < start).to_numpy(dtype=bool) & checked
        day = "the day of " if by_day else ""
        for i in np.flatnonzero(wrong):
            shown = _cell(rows, later, i)
            reason = f"before {day}{earlier} ({_cell(rows, earlier, i)}): negative duration"
            rows.flag(i, _label(tmap, later), shown, reason, "negative_duration")
    for column in POSITIVE.get(name, ()):
        if column in present:
            for i in np.flatnonzero((typed[column] <= 0).fillna(False).to_numpy(bool) & checked):
                shown = _cell(rows, column, i)
                rows.flag(i, _label(tmap, column), shown, "must be > 0", "non_positive")
    for column in NON_NEGATIVE.get(name, ()):
        if column in present:
            for i in np.flatnonzero((typed[column] < 0).fillna(False).to_numpy(bool) & checked):
                shown = _cell(rows, column, i)
                rows.flag(i, _label(tmap, column), shown, "must be >= 0", "non_positive")
    if isinstance(tmap, VisitsMap):
        known = tmap.known_codes()
        code = typed["outcome"]
        unknown = (code.notna() & ~code.isin(list(known))).to_numpy(bool) & checked
        listing = ", ".join(repr(k) for k in known)
        for i in np.flatnonzero(unknown):
            reason = f"unknown outcome code (known: {listing})"
            rows.flag(i, _label(tmap, "outcome"), str(code.iat[i]), reason, "unknown_outcome")
        typed["outcome"] = code.map(known).astype("str")
    if isinstance(tmap, SurveysMap):
        score = typed["score"]
        outside = ((score < tmap.scale_min) | (score > tmap.scale_max)).fillna(False)
        scale = f"{tmap.scale_min:g}..{tmap.scale_max:g}"
        for i in np.flatnonzero(outside.to_numpy(bool) & checked):
            reason = f"outside the survey scale {scale}"
            rows.flag(i, _label(tmap, "score"), _cell(rows, "score", i), reason, "out_of_scale")
        typed["satisfied"] = (score >= tmap.satisfied_threshold).astype("boolean")
        typed.loc[score.isna(), "satisfied"] = pd.NA


def _cell(rows: _Rows, canonical: str, i: int) -> str:
    row = rows.source.rows[i]
    index = rows.source.present[canonical]
    return row[index].strip() if index < len(row) else ""


def _check_references(
    rows: _Rows, typed: pd.DataFrame, done: dict[str, _Checked], table_report: TableReport
) -> None:
    """Rows whose order (or crew) is unknown are quarantined; of a filtered order, filtered."""
    name, tmap = rows.source.name, rows.source.tmap
    targets = []
    if name in ORDER_REFERENCES and "orders" in done:
        targets.append(("orders", "order_id"))
    if name == "visits" and "crews" in done and "crew_id" in rows.source.present:
        targets.append(("crews", "crew_id"))
    for target, column in targets:
        parent = done[target]
        ids = parent.typed[column]
        kept = set(ids[parent.status == _OK])
        filtered = set(ids[parent.status == _FILTERED])
        quarantined = dict(
            zip(
                ids[parent.status == _QUARANTINED],
                parent.lines[parent.status == _QUARANTINED],
                strict=True,
            )
        )
        values = typed[column]
        for i in np.flatnonzero(rows.status == _OK):
            value = values.iat[i]
            if pd.isna(value) or value in kept:
                continue
            if value in filtered:
                rows.status[i] = _FILTERED
                rule = f"{column} filtered out of {target} by the column map"
                table_report.filtered[rule] = table_report.filtered.get(rule, 0) + 1
            elif value in quarantined:
                reason = f"{column} is quarantined in {target} (line {quarantined[value]})"
                rows.flag(i, _label(tmap, column), str(value), reason, f"quarantined_{column}")
            else:
                reason = f"not in {target}"
                rows.flag(i, _label(tmap, column), str(value), reason, f"unknown_{column}")


def _check_duplicates(rows: _Rows, typed: pd.DataFrame) -> None:
    """Keep the first valid row of each key; later ones are quarantined naming the first line."""
    key = list(rows.source.spec.key)
    good = np.flatnonzero(rows.status == _OK)
    keys = typed.iloc[good][key]
    duplicated = keys.duplicated(keep="first").to_numpy()
    if not duplicated.any():
        return
    first: dict[tuple[object, ...], int] = {}
    for position, values in zip(
        good[~duplicated], keys[~duplicated].itertuples(index=False), strict=True
    ):
        first[tuple(values)] = int(rows.source.lines[position])
    label = ", ".join(_label(rows.source.tmap, k) for k in key)
    for position, values in zip(
        good[duplicated], keys[duplicated].itertuples(index=False), strict=True
    ):
        shown = ", ".join(str(v) for v in values)
        reason = f"duplicate key (first at line {first[tuple(values)]})"
        rows.flag(int(position), label, shown, reason, "duplicate_id")


def _validate(
    source: _Source, column_map: ColumnMap, report: ValidationReport, done: dict[str, _Checked]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row of one table; returns (kept typed rows, quarantined original rows)."""
    rows = _Rows(source, report)
    table_report = report.tables[source.name]
    first_problem = len(report.problems)
    width = len(source.header)
    for i, record in enumerate(source.rows):
        if len(record) != width:
            reason = f"expected {width} fields as in the header, found {len(record)}"
            if len(record) > width:
                reason += f" (extra: {', '.join(repr(v) for v in record[width:])})"
            rows.flag(i, None, None, reason, "field_count")

    for export, allowed in source.tmap.keep_rows_where.items():
        cells = _cells(source, source.header.index(export)).str.strip()
        out = (~cells.isin(allowed)).to_numpy() & (rows.status == _OK)
        rows.status[out] = _FILTERED
        for value, count in cells[out].value_counts().items():
            table_report.filtered[f"{export} = {value!r} (not in keep_rows_where)"] = int(count)

    checked = rows.status == _OK
    typed = pd.DataFrame(index=pd.RangeIndex(len(source.rows)))
    for column in source.spec.columns:
        if column.name in source.present:
            typed[column.name] = _parse_column(rows, column, column_map, checked)
        else:
            typed[column.name] = _empty_column(column, len(source.rows))
    _check_rows(rows, typed, checked)
    _check_references(rows, typed, done, table_report)
    _check_duplicates(rows, typed)
    done[source.name] = _Checked(rows.status, typed, source.lines)
    report.problems[first_problem:] = sorted(
        report.problems[first_problem:], key=lambda p: p.line or 0
    )

    kept = rows.status == _OK
    table = typed[kept].set_index(pd.Index(source.lines[kept], name="line"))
    table_report.rows_read = len(source.rows)
    table_report.rows_kept = int(kept.sum())
    table_report.rows_quarantined = int((rows.status == _QUARANTINED).sum())
    table_report.rows_filtered = int((rows.status == _FILTERED).sum())
    return table, _quarantine_frame(rows)


def _empty_column(column: Column, length: int) -> pd.Series:
    dtype = {"id": "str", "text": "str", "int": "Int64", "float": "float64"}.get(
        column.kind, "datetime64[us]"
    )
    return pd.Series(pd.NA if dtype == "Int64" else None, index=range(length), dtype=dtype)


def _quarantine_frame(rows: _Rows) -> pd.DataFrame:
    """Quarantined rows as read (stripped of nothing), plus their line and reasons."""
    header = rows.source.header
    width = len(header)
    bad = sorted(rows.reasons)
    records = [(rows.source.rows[i] + [""] * width)[:width] for i in bad]
    frame = pd.DataFrame(records, columns=header, dtype=object)
    line_name = "line" if "line" not in header else "quarantine_line"
    reason_name = "reason" if "reason" not in header else "quarantine_reason"
    frame[line_name] = [int(rows.source.lines[i]) for i in bad]
    frame[reason_name] = ["; ".join(rows.reasons[i]) for i in bad]
    return frame


def load_history(
    folder: str | Path,
    column_map: ColumnMap | str | Path | None = None,
    quarantine_dir: str | Path | None = None,
) -> LoadedHistory:
    """Load an export folder through a column map (default: the identity map).

    ``column_map`` may be a ColumnMap, a map file path or a shipped map name ("olist").
    Raises HistoryError when the folder cannot be used at all; row problems are reported and
    their rows quarantined (written to ``quarantine_dir`` when given, one file per table read).
    """
    began = time.perf_counter()
    folder = Path(folder)
    if not isinstance(column_map, ColumnMap):
        column_map = load_column_map(column_map)
    if not folder.is_dir():
        reason = "export folder not found" if not folder.exists() else "not a folder"
        raise HistoryError([Problem(str(folder), None, None, None, reason, "missing_file")])
    report = ValidationReport(column_map.history.name, str(folder))
    fatal: list[Problem] = []
    sources = [_open_source(name, column_map, folder, report, fatal) for name in LOAD_ORDER]
    if fatal:
        raise HistoryError(fatal)
    absent = [
        column_map.table(n).file_name for n, s in zip(LOAD_ORDER, sources, strict=True) if s is None
    ]
    absent = [f for f in absent if f not in {p.file for p in report.problems}]
    if absent:
        report.notes.append(f"optional files not in the folder: {', '.join(absent)}")

    tables: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    done: dict[str, _Checked] = {}
    for source in sources:
        if source is None:
            continue
        tables[source.name], quarantine[source.name] = _validate(source, column_map, report, done)
        if source.name in ORDER_REFERENCES and "orders" not in done:
            report.notes.append(f"{source.name}: order_id not checked (no orders table)")
    if quarantine_dir is not None:
        write_quarantine(quarantine, quarantine_dir)
    for table_report in report.tables.values():
        log.info(
            "%s: %d read, %d kept, %d quarantined, %d filtered",
            table_report.file,
            table_report.rows_read,
            table_report.rows_kept,
            table_report.rows_quarantined,
            table_report.rows_filtered,
        )
    log.debug("history %r loaded in %.2f s", report.name, time.perf_counter() - began)
    return LoadedHistory(tables, quarantine, report, column_map)


def write_quarantine(quarantine: dict[str, pd.DataFrame], directory: str | Path) -> list[Path]:
    """Write ``<table>.quarantine.csv`` for every table read (header only when none is bad)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in quarantine.items():
        path = directory / f"{name}.quarantine.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written


def format_report(report: ValidationReport, max_problems: int = 20) -> list[str]:
    """Terminal lines: rows per table, filtered rules, fillers, problem counts, first problems."""
    lines = [f"history {report.name!r} from {report.folder}"]
    width = max([len(t.file) for t in report.tables.values()] + [4])
    lines.append(
        f"  {'file':<{width}}  {'read':>7}  {'kept':>7}  {'quarantined':>11}  {'filtered':>8}"
    )
    for t in report.tables.values():
        lines.append(
            f"  {t.file:<{width}}  {t.rows_read:>7}  {t.rows_kept:>7}  "
            f"{t.rows_quarantined:>11}  {t.rows_filtered:>8}"
        )
    for t in report.tables.values():
        if t.absent_columns:
            lines.append(f"  {t.file}: not in the export: {', '.join(t.absent_columns)}")
        for rule, count in t.filtered.items():
            lines.append(f"  {t.file}: filtered {count} rows: {rule}")
        for filler, count in t.fillers.items():
            lines.append(f"  {t.file}: {count} cells read as no value: {filler}")
    lines.extend(f"  note: {note}" for note in report.notes)
    counts = report.counts()
    if not counts:
        lines.append("no problems")
        return lines
    lines.append(f"problems by file and reason ({len(report.problems)} in all):")
    code_width = max(len(code) for _, code in counts)
    for (file, code), count in counts.items():
        lines.append(f"  {file:<{width}}  {code:<{code_width}}  {count:>7}")
    shown = report.problems[:max_problems]
    total = len(report.problems)
    lines.append(f"first {len(shown)} of {total} problems:" if len(shown) < total else "problems:")
    lines.extend(f"  {problem}" for problem in shown)
    return lines


def history_check(
    folder: str | Path,
    map_path: str | Path | None = None,
    quarantine_dir: str | Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    max_problems: int = 20,
    strict: bool = False,
) -> int:
    """Load and report; 0 when loaded (quarantined rows included unless ``strict``), 2 if not."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        loaded = load_history(folder, map_path, quarantine_dir)
    except HistoryError as exc:
        for problem in exc.problems:
            err.write(f"error: {problem}\n")
        return EXIT_BAD_INPUT
    for line in format_report(loaded.report, max_problems):
        out.write(line + "\n")
    quarantined = sum(t.rows_quarantined for t in loaded.report.tables.values())
    if quarantined and quarantine_dir is not None:
        out.write(f"quarantined rows written to {quarantine_dir}\n")
    return EXIT_BAD_INPUT if strict and loaded.report.problems else EXIT_OK


def add_history_check_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``twin history check`` (register with ``set_defaults(func=...)``)."""
    parser.add_argument("folder", help="folder of exported CSV files")
    parser.add_argument("--map", help="column map TOML, or a shipped map name (olist, scms)")
    parser.add_argument("--quarantine-dir", help="write <table>.quarantine.csv files here")
    parser.add_argument("--max-problems", type=int, default=20, help="problems listed (20)")
    parser.add_argument(
        "--allow-bad-rows",
        action="store_true",
        help="exit 0 when the only problems are rows set aside in quarantine (default: exit 2)",
    )


def cmd_history_check(args: argparse.Namespace) -> int:
    """``twin history check DIR [--map MAP]``: the exit code of :func:`history_check`."""
    return history_check(
        args.folder,
        args.map,
        args.quarantine_dir,
        max_problems=args.max_problems,
        strict=not args.allow_bad_rows,
    )
