"""History loader and column maps on small synthetic export folders.

Each bad input must come back as a problem with the right file, line, column and reason, its row
set aside in the quarantine (never silently dropped), and fatal inputs as a HistoryError.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibration.column_map import (
    ColumnMap,
    HistoryError,
    Problem,
    load_column_map,
    parse_column_map,
    shipped_maps,
)
from calibration.history import (
    LoadedHistory,
    add_history_check_arguments,
    cmd_history_check,
    format_report,
    history_check,
    load_history,
)

ORDERS_HEADER = "order_id,created_at,region,size,value,promised_at,handed_off_at,completed_at"
GOOD_ORDERS = [
    "o1,2024-01-02 09:00,east,3,1200.50,2024-01-10,2024-01-03 10:00,2024-01-09 15:00",
    "o2,2024-01-02 11:30,west,5,800,2024-01-12,2024-01-04 10:00,",
    "o3,2024-01-03 08:15,east,2,450,2024-01-11,,",
]


def write(folder: Path, name: str, rows: list[str], newline: str = "\n", bom: bool = False) -> Path:
    """Write a CSV file byte for byte (line endings and BOM as given)."""
    path = folder / name
    data = newline.join(rows) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def orders_folder(folder: Path, extra: list[str] | None = None) -> Path:
    write(folder, "orders.csv", [ORDERS_HEADER, *GOOD_ORDERS, *(extra or [])])
    return folder


def write_map(folder: Path, text: str) -> Path:
    path = folder / "map.toml"
    path.write_text(text, encoding="utf-8")
    return path


def only_problem(loaded: LoadedHistory) -> Problem:
    assert len(loaded.report.problems) == 1, loaded.report.problems
    return loaded.report.problems[0]


def fatal(folder: Path, column_map: ColumnMap | Path | None = None) -> list[Problem]:
    with pytest.raises(HistoryError) as info:
        load_history(folder, column_map)
    return info.value.problems


# --- the identity map on canonical files ---------------------------------------------------------


def test_identity_map_loads_canonical_files_typed(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(tmp_path, "order_lines.csv", ["order_id,sku,qty", "o1,cable,2", "o1,hub,1", "o2,hub,3"])
    write(
        tmp_path,
        "purchase_orders.csv",
        [
            "po_id,sku,supplier,qty,ordered_at,promised_at,received_at",
            "p1,hub,acme,50,2024-01-01,2024-01-08,2024-01-09 12:00",
            "p2,hub,acme,50,2024-01-05,2024-01-12,",
        ],
    )
    write(tmp_path, "crews.csv", ["crew_id,region,calendar", "c1,east,", "c2,west,weekdays"])
    write(
        tmp_path,
        "visits.csv",
        [
            "visit_id,order_id,crew_id,started_at,finished_at,outcome",
            "v1,o1,c1,2024-01-08 08:00,2024-01-08 12:00,rework",
            "v2,o1,c1,2024-01-09 08:00,2024-01-09 15:00,completed",
        ],
    )
    write(tmp_path, "surveys.csv", ["order_id,answered_at,score", "o1,2024-01-10,5", "o2,,2"])

    loaded = load_history(tmp_path)

    assert loaded.report.problems == []
    assert set(loaded.tables) == {
        "orders",
        "order_lines",
        "purchase_orders",
        "crews",
        "visits",
        "surveys",
    }
    orders = loaded.tables["orders"]
    assert list(orders.index) == [2, 3, 4]  # the index is the source line
    assert orders.index.name == "line"
    assert orders["created_at"].dtype.kind == "M"
    assert orders["created_at"].dt.tz is None
    assert orders["size"].tolist() == [3, 5, 2]
    assert orders["value"].tolist() == [1200.5, 800.0, 450.0]
    assert orders.loc[4, "completed_at"] is pd.NaT
    assert orders["cancelled_at"].isna().all()  # optional column absent from the export
    assert loaded.report.tables["orders"].absent_columns == ["cancelled_at"]
    assert loaded.tables["order_lines"]["qty"].tolist() == [2.0, 1.0, 3.0]
    assert loaded.tables["visits"]["outcome"].tolist() == ["rework", "completed"]
    surveys = loaded.tables["surveys"]
    assert surveys["satisfied"].tolist() == [True, False]  # default scale 1..5, threshold 4
    for table in loaded.report.tables.values():
        assert table.rows_read == table.rows_kept
        assert table.rows_quarantined == table.rows_filtered == 0


def test_ids_stay_text_exactly_as_written(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,created_at", "007,2024-01-01", "7,2024-01-01"])
    orders = load_history(tmp_path).tables["orders"]
    assert orders["order_id"].tolist() == ["007", "7"]


# --- fatal problems ------------------------------------------------------------------------------


def test_missing_required_file_is_fatal(tmp_path: Path) -> None:
    write(tmp_path, "visits.csv", ["visit_id,order_id,started_at,finished_at,outcome"])
    (problem,) = fatal(tmp_path)
    assert problem.file == "orders.csv"
    assert problem.code == "missing_file"
    assert "required" in problem.reason


def test_missing_folder_is_fatal(tmp_path: Path) -> None:
    (problem,) = fatal(tmp_path / "nope")
    assert "folder not found" in problem.reason


def test_missing_required_column_is_fatal_with_header_line(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,region", "o1,east"])
    (problem,) = fatal(tmp_path)
    assert (problem.file, problem.line, problem.column) == ("orders.csv", 1, "created_at")
    assert "required column 'created_at'" in problem.reason


def test_map_naming_a_column_the_file_lacks_names_key_file_and_column(tmp_path: Path) -> None:
    write(tmp_path, "export.csv", ["Order,Created", "o1,2024-01-01"])
    column_map = write_map(
        tmp_path,
        '[orders]\nfile = "export.csv"\n'
        'columns = { order_id = "Order", created_at = "Created", completed_at = "Complted" }\n',
    )
    (problem,) = fatal(tmp_path, column_map)
    assert (problem.file, problem.line, problem.column) == ("export.csv", 1, "Complted")
    assert "[orders.columns] completed_at" in problem.reason
    assert "export.csv lacks" in problem.reason


def test_all_fatal_problems_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id", "o1"])
    write(tmp_path, "visits.csv", ["visit_id,order_id", "v1,o1"])
    problems = fatal(tmp_path)
    missing = {(p.file, p.column) for p in problems}
    assert ("orders.csv", "created_at") in missing
    assert {("visits.csv", c) for c in ("started_at", "finished_at", "outcome")} <= missing


def test_empty_required_file_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_bytes(b"")
    (problem,) = fatal(tmp_path)
    assert problem.code == "empty_file"
    assert "empty file" in problem.reason


def test_header_only_required_file_is_fatal(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", [ORDERS_HEADER], bom=True)
    (problem,) = fatal(tmp_path)
    assert (problem.file, problem.line, problem.code) == ("orders.csv", 1, "empty_file")
    assert "no data rows" in problem.reason


def test_empty_optional_file_is_reported_not_fatal(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    (tmp_path / "visits.csv").write_bytes(b"")
    loaded = load_history(tmp_path)
    problem = only_problem(loaded)
    assert (problem.file, problem.code) == ("visits.csv", "empty_file")
    assert "visits" not in loaded.tables


def test_wrong_encoding_is_fatal_with_line(tmp_path: Path) -> None:
    data = "order_id,created_at,region\no1,2024-01-01,east\no2,2024-01-01,M\xfcnchen\n"
    (tmp_path / "orders.csv").write_bytes(data.encode("latin-1"))
    (problem,) = fatal(tmp_path)
    assert (problem.file, problem.line, problem.code) == ("orders.csv", 3, "unreadable")
    assert "encoding" in problem.reason
    # ... and the map's encoding fixes it
    column_map = write_map(tmp_path, '[orders]\nencoding = "latin-1"\n')
    assert load_history(tmp_path, column_map).tables["orders"]["region"].iloc[1] == "München"


def test_unbalanced_quote_is_fatal_not_a_swallowed_file(tmp_path: Path) -> None:
    write(
        tmp_path, "orders.csv", ["order_id,created_at", "o1,2024-01-01", 'o2,"2024-01-02', "o3,x"]
    )
    (problem,) = fatal(tmp_path)
    assert (problem.file, problem.line, problem.code) == ("orders.csv", 3, "unreadable")
    assert "unexpected end of data" in problem.reason


# --- row problems: quarantined with file, line, column, value, reason ----------------------------


def test_unparseable_date_quarantines_row_and_writes_quarantine_file(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,31/01/2024,east,1,10,,,"])
    quarantine = tmp_path / "q"
    loaded = load_history(tmp_path, quarantine_dir=quarantine)

    problem = only_problem(loaded)
    assert (problem.file, problem.line, problem.column) == ("orders.csv", 5, "created_at")
    assert (problem.value, problem.code) == ("31/01/2024", "bad_date")
    assert "not a date in ISO 8601" in problem.reason
    assert "o4" not in set(loaded.tables["orders"]["order_id"])
    report = loaded.report.tables["orders"]
    assert (report.rows_read, report.rows_kept, report.rows_quarantined) == (4, 3, 1)

    written = pd.read_csv(quarantine / "orders.quarantine.csv", dtype=str, keep_default_na=False)
    assert list(written.columns) == [*ORDERS_HEADER.split(","), "line", "reason"]
    assert written.loc[0, "order_id"] == "o4"
    assert written.loc[0, "created_at"] == "31/01/2024"  # the original text, not a guess
    assert written.loc[0, "line"] == "5"
    assert written.loc[0, "reason"].startswith("created_at: not a date")


def test_every_bad_cell_of_a_row_is_reported(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,soon,east,many,10,never,,"])
    loaded = load_history(tmp_path)
    columns = [(p.line, p.column, p.code) for p in loaded.report.problems]
    assert columns == [
        (5, "created_at", "bad_date"),
        (5, "size", "bad_number"),
        (5, "promised_at", "bad_date"),
    ]
    assert loaded.report.tables["orders"].rows_quarantined == 1
    assert loaded.quarantine["orders"]["reason"].iloc[0].count(";") == 2


def test_numbers_sizes_and_values_are_checked(tmp_path: Path) -> None:
    orders_folder(
        tmp_path,
        [
            "o4,2024-01-05,east,0,10,,,",  # size must be > 0
            "o5,2024-01-05,east,2.5,10,,,",  # size is a whole number
            "o6,2024-01-05,east,2,-3,,,",  # a negative value
            "o7,2024-01-05,east,2,inf,,,",  # not a finite number
            "o8,2024-01-05,east,2.0,1e3,,,",  # fine: 2.0 is whole, 1e3 a number
        ],
    )
    loaded = load_history(tmp_path)
    codes = {(p.line, p.column): p.code for p in loaded.report.problems}
    assert codes == {
        (5, "size"): "non_positive",
        (6, "size"): "bad_number",
        (7, "value"): "non_positive",
        (8, "value"): "bad_number",
    }
    assert loaded.tables["orders"].loc[9, "size"] == 2
    assert loaded.tables["orders"].loc[9, "value"] == 1000.0


def test_order_completed_before_created_is_a_negative_duration(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,2024-01-05 10:00,east,1,10,2024-01-20,,2024-01-04 16:00"])
    problem = only_problem(load_history(tmp_path))
    assert (problem.line, problem.column, problem.value) == (5, "completed_at", "2024-01-04 16:00")
    assert problem.code == "negative_duration"
    assert "before created_at (2024-01-05 10:00)" in problem.reason


def test_promise_on_the_day_of_creation_is_fine_the_day_before_is_not(tmp_path: Path) -> None:
    orders_folder(
        tmp_path,
        [
            "o4,2024-01-05 10:00,east,1,10,2024-01-05,,",
            "o5,2024-01-05 10:00,east,1,10,2024-01-04,,",
        ],
    )
    problem = only_problem(load_history(tmp_path))
    assert (problem.line, problem.column, problem.code) == (6, "promised_at", "negative_duration")
    assert "before the day of created_at" in problem.reason


def test_hand_off_after_completion_is_a_negative_duration(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,2024-01-05,east,1,10,,2024-01-09,2024-01-08"])
    problem = only_problem(load_history(tmp_path))
    assert (problem.column, problem.code) == ("completed_at", "negative_duration")
    assert "before handed_off_at" in problem.reason


def test_visit_and_purchase_order_durations(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(
        tmp_path,
        "visits.csv",
        [
            "visit_id,order_id,started_at,finished_at,outcome",
            "v1,o1,2024-01-08 08:00,2024-01-08 07:00,completed",
        ],
    )
    write(
        tmp_path,
        "purchase_orders.csv",
        [
            "po_id,supplier,ordered_at,received_at,qty",
            "p1,acme,2024-01-10,2024-01-09,5",
            "p2,acme,2024-01-10,2024-01-10,0",
        ],
    )
    loaded = load_history(tmp_path)
    found = {(p.file, p.line, p.column, p.code) for p in loaded.report.problems}
    assert found == {
        ("visits.csv", 2, "finished_at", "negative_duration"),
        ("purchase_orders.csv", 2, "received_at", "negative_duration"),
        ("purchase_orders.csv", 3, "qty", "non_positive"),
    }


def test_duplicate_ids_keep_the_first_and_name_its_line(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o2,2024-02-01,east,1,10,,,", "o2,2024-02-02,east,1,10,,,"])
    loaded = load_history(tmp_path)
    assert [(p.line, p.column, p.value, p.code) for p in loaded.report.problems] == [
        (5, "order_id", "o2", "duplicate_id"),
        (6, "order_id", "o2", "duplicate_id"),
    ]
    assert all("first at line 3" in p.reason for p in loaded.report.problems)
    orders = loaded.tables["orders"]
    assert orders.loc[3, "created_at"] == pd.Timestamp("2024-01-02 11:30")


def test_duplicate_of_a_quarantined_row_is_kept(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,created_at", "o1,yesterday", "o1,2024-01-02"])
    loaded = load_history(tmp_path)
    assert [p.code for p in loaded.report.problems] == ["bad_date"]
    assert list(loaded.tables["orders"].index) == [3]


def test_composite_key_duplicates(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(tmp_path, "order_lines.csv", ["order_id,sku,qty", "o1,hub,1", "o1,cable,1", "o1,hub,2"])
    problem = only_problem(load_history(tmp_path))
    assert (problem.file, problem.line, problem.column) == ("order_lines.csv", 4, "order_id, sku")
    assert problem.value == "o1, hub"


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.csv",
        ["order_id,created_at", "o1,2024-01-02,extra", "o2", "o3,2024-01-03"],
    )
    loaded = load_history(tmp_path)
    found = [(p.line, p.code) for p in loaded.report.problems]
    assert found == [(2, "field_count"), (3, "field_count")]
    assert "found 3 (extra: 'extra')" in loaded.report.problems[0].reason
    assert loaded.tables["orders"]["order_id"].tolist() == ["o3"]


def test_references_to_unknown_or_quarantined_orders(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,bad-date,east,1,10,,,"])
    write(tmp_path, "order_lines.csv", ["order_id,sku,qty", "o1,hub,1", "o9,hub,1", "o4,hub,1"])
    loaded = load_history(tmp_path)
    lines = [p for p in loaded.report.problems if p.file == "order_lines.csv"]
    assert [(p.line, p.column, p.value, p.code) for p in lines] == [
        (3, "order_id", "o9", "unknown_order_id"),
        (4, "order_id", "o4", "quarantined_order_id"),
    ]
    assert "not in orders" in lines[0].reason
    assert "quarantined in orders (line 5)" in lines[1].reason
    assert loaded.tables["order_lines"]["order_id"].tolist() == ["o1"]


def test_visits_of_unknown_crews_when_crews_are_given(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(tmp_path, "crews.csv", ["crew_id,region", "c1,east"])
    write(
        tmp_path,
        "visits.csv",
        [
            "visit_id,order_id,crew_id,started_at,finished_at,outcome",
            "v1,o1,c1,2024-01-08 08:00,2024-01-08 12:00,completed",
            "v2,o1,c7,2024-01-08 08:00,2024-01-08 12:00,completed",
            "v3,o1,,2024-01-08 08:00,2024-01-08 12:00,completed",
        ],
    )
    problem = only_problem(load_history(tmp_path))
    assert (problem.line, problem.value, problem.code) == (3, "c7", "unknown_crew_id")


def test_unknown_outcome_code_lists_the_known_ones(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(
        tmp_path,
        "visits.csv",
        [
            "visit_id,order_id,started_at,finished_at,outcome",
            "v1,o1,2024-01-08 08:00,2024-01-08 12:00,done",
        ],
    )
    problem = only_problem(load_history(tmp_path))
    assert (problem.line, problem.column, problem.value) == (2, "outcome", "done")
    assert problem.code == "unknown_outcome"
    assert "'completed', 'rework'" in problem.reason


def test_survey_score_outside_scale(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(tmp_path, "surveys.csv", ["order_id,score", "o1,6", "o2,4"])
    problem = only_problem(load_history(tmp_path))
    assert (problem.line, problem.column, problem.value) == (2, "score", "6")
    assert problem.code == "out_of_scale"
    assert "1..5" in problem.reason


def test_missing_required_value_and_fillers(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.csv",
        [
            "order_id,created_at,completed_at",
            "o1,2024-01-01,N/A",  # a filler in a nullable column: no value, kept
            "o2,,2024-01-05",  # empty where a value is needed
            "o3,Date Not Captured,",  # a filler where a value is needed: not a bad date
        ],
    )
    column_map = write_map(tmp_path, '[orders]\nfillers = ["N/A", "Date Not Captured"]\n')
    loaded = load_history(tmp_path, column_map)
    found = [(p.line, p.column, p.value, p.code) for p in loaded.report.problems]
    assert found == [
        (3, "created_at", "", "missing_value"),
        (4, "created_at", "Date Not Captured", "missing_value"),
    ]
    assert "a filler" in loaded.report.problems[1].reason
    assert loaded.tables["orders"].loc[2, "completed_at"] is pd.NaT
    assert loaded.report.tables["orders"].fillers == {
        "completed_at 'N/A'": 1,
        "created_at 'Date Not Captured'": 1,
    }


def test_implausible_placeholder_year_is_quarantined(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,2024-01-05,east,1,10,9999-12-31,,"])
    problem = only_problem(load_history(tmp_path))
    assert (problem.column, problem.code) == ("promised_at", "bad_date")
    assert "placeholder" in problem.reason


# --- line numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_numbers_with_bom_line_endings_and_multiline_fields(
    tmp_path: Path, newline: str
) -> None:
    rows = [
        "order_id,created_at,region",
        f'o1,2024-01-01,"two{newline}lines"',  # lines 2-3
        "o2,2024-01-02,east",  # line 4
        f'"o3",not-a-date,"three{newline}{newline}lines"',  # lines 5-7
        "o4,2024-01-04,east",  # line 8
        "",  # a blank line 9
        "o5,nope,east",  # line 10
    ]
    write(tmp_path, "orders.csv", rows, newline=newline, bom=True)
    loaded = load_history(tmp_path)
    assert [(p.line, p.value) for p in loaded.report.problems] == [(5, "not-a-date"), (10, "nope")]
    orders = loaded.tables["orders"]
    assert list(orders.index) == [2, 4, 8]
    assert orders.loc[2, "region"] == f"two{newline}lines"
    assert loaded.report.tables["orders"].rows_read == 5


def test_bom_is_stripped_even_with_plain_utf8_encoding(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,created_at", "o1,2024-01-01"], bom=True)
    column_map = write_map(tmp_path, '[orders]\nencoding = "utf-8"\n')
    assert load_history(tmp_path, column_map).tables["orders"]["order_id"].tolist() == ["o1"]


# --- column maps ---------------------------------------------------------------------------------


def test_map_renames_files_columns_formats_codes_and_scale(tmp_path: Path) -> None:
    write(
        tmp_path,
        "auftraege.csv",
        [
            "Nr,Angelegt,Fertig,Typ",
            "A1,02.01.2024 09:00,09.01.2024,Montage",
            "A2,03.01.2024 10:00,-,Montage",
            "A3,03.01.2024 10:00,,Service",
            "A4,2024-01-03,,Montage",
        ],
    )
    write(
        tmp_path,
        "besuche.csv",
        [
            "Besuch,Auftrag,Start,Ende,Ergebnis",
            "B1,A1,08.01.2024 08:00,08.01.2024 11:00,NACHARBEIT",
            "B2,A1,09.01.2024 08:00,09.01.2024 10:00,OK",
            "B3,A3,09.01.2024 08:00,09.01.2024 10:00,OK",
        ],
    )
    write(tmp_path, "umfrage.csv", ["Auftrag,Note", "A1,8", "A2,6", "A3,9"])
    column_map = write_map(
        tmp_path,
        """
[history]
name = "erp"

[orders]
file = "auftraege.csv"
date_formats = ["%d.%m.%Y %H:%M", "%d.%m.%Y"]
fillers = ["-"]
keep_rows_where = { Typ = ["Montage"] }
columns = { order_id = "Nr", created_at = "Angelegt", completed_at = "Fertig" }

[visits]
file = "besuche.csv"
date_formats = ["%d.%m.%Y %H:%M"]
outcome_codes = { OK = "completed", NACHARBEIT = "rework" }

[visits.columns]
visit_id = "Besuch"
order_id = "Auftrag"
started_at = "Start"
finished_at = "Ende"
outcome = "Ergebnis"

[surveys]
file = "umfrage.csv"
columns = { order_id = "Auftrag", score = "Note" }
scale_min = 0
scale_max = 10
satisfied_threshold = 7
""",
    )
    loaded = load_history(tmp_path, column_map)

    orders = loaded.tables["orders"]
    assert orders["order_id"].tolist() == ["A1", "A2"]
    assert orders.loc[2, "created_at"] == pd.Timestamp("2024-01-02 09:00")
    assert orders.loc[2, "completed_at"] == pd.Timestamp("2024-01-09")
    problem = only_problem(loaded)  # A4 is written in neither format
    assert (problem.file, problem.line, problem.column) == (
        "auftraege.csv",
        5,
        "Angelegt (created_at)",
    )
    assert "'%d.%m.%Y %H:%M', '%d.%m.%Y'" in problem.reason
    report = loaded.report.tables["orders"]
    assert report.filtered == {"Typ = 'Service' (not in keep_rows_where)": 1}
    assert (report.rows_read, report.rows_kept, report.rows_quarantined) == (4, 2, 1)
    assert report.rows_filtered == 1
    assert report.fillers == {"Fertig (completed_at) '-'": 1}

    visits = loaded.tables["visits"]
    assert visits["outcome"].tolist() == ["rework", "completed"]  # B3's order was filtered
    assert loaded.report.tables["visits"].filtered == {
        "order_id filtered out of orders by the column map": 1
    }
    surveys = loaded.tables["surveys"]
    assert surveys["score"].tolist() == [8.0, 6.0]
    assert surveys["satisfied"].tolist() == [True, False]
    assert loaded.report.tables["surveys"].rows_filtered == 1


def test_outcome_codes_given_replace_the_canonical_ones(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    write(
        tmp_path,
        "visits.csv",
        [
            "visit_id,order_id,started_at,finished_at,outcome",
            "v1,o1,2024-01-08 08:00,2024-01-08 12:00,completed",
        ],
    )
    column_map = write_map(tmp_path, '[visits]\noutcome_codes = { OK = "completed" }\n')
    problem = only_problem(load_history(tmp_path, column_map))
    assert problem.code == "unknown_outcome"
    assert "(known: 'OK')" in problem.reason


def test_time_zone_conversion(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.csv",
        [
            "order_id,created_at,completed_at",
            "o1,2024-01-15 08:00,2024-07-01T08:00:00+02:00",  # naive UTC; explicit offset
            "o2,2024-03-31 01:30,",  # 01:30 UTC = 03:30 CEST
        ],
    )
    column_map = write_map(
        tmp_path, '[history]\nlocal_timezone = "Europe/Berlin"\n[orders]\ntimezone = "UTC"\n'
    )
    orders = load_history(tmp_path, column_map).tables["orders"]
    assert orders["created_at"].dt.tz is None
    assert orders.loc[2, "created_at"] == pd.Timestamp("2024-01-15 09:00")
    assert orders.loc[2, "completed_at"] == pd.Timestamp("2024-07-01 08:00")
    assert orders.loc[3, "created_at"] == pd.Timestamp("2024-03-31 03:30")


def test_nonexistent_local_time_is_quarantined_not_shifted(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,created_at", "o1,2024-03-31 02:30", "o2,2024-03-31"])
    column_map = write_map(
        tmp_path,
        '[history]\nlocal_timezone = "America/New_York"\n[orders]\ntimezone = "Europe/Berlin"\n',
    )
    loaded = load_history(tmp_path, column_map)
    problem = only_problem(loaded)
    assert (problem.line, problem.column, problem.code) == (2, "created_at", "bad_date")
    assert "not a valid local time in Europe/Berlin" in problem.reason
    assert loaded.tables["orders"].loc[3, "created_at"] == pd.Timestamp("2024-03-30 19:00")


def test_offsets_without_any_zone_keep_the_written_wall_clock(tmp_path: Path) -> None:
    write(
        tmp_path,
        "orders.csv",
        ["order_id,created_at", "o1,2024-01-15T08:00:00+05:00", "o2,2024-01-15T08:00:00Z"],
    )
    orders = load_history(tmp_path).tables["orders"]
    assert orders["created_at"].tolist() == [pd.Timestamp("2024-01-15 08:00")] * 2


def test_offsets_convert_to_local_time_when_set(tmp_path: Path) -> None:
    write(tmp_path, "orders.csv", ["order_id,created_at", "o1,2024-01-15T08:00:00+05:00"])
    column_map = write_map(tmp_path, '[history]\nlocal_timezone = "Europe/Berlin"\n')
    orders = load_history(tmp_path, column_map).tables["orders"]
    assert orders.loc[2, "created_at"] == pd.Timestamp("2024-01-15 04:00")


def test_required_tables_from_the_map(tmp_path: Path) -> None:
    write(
        tmp_path,
        "po.csv",
        ["id,mode,sent,received", "1,Air,2024-01-01,2024-01-09", "2,Truck,2024-01-02,"],
    )
    column_map = write_map(
        tmp_path,
        '[history]\nrequired_tables = ["purchase_orders"]\n[purchase_orders]\nfile = "po.csv"\n'
        'columns = { po_id = "id", supplier = "mode", ordered_at = "sent", '
        'received_at = "received" }\n',
    )
    loaded = load_history(tmp_path, column_map)
    assert loaded.tables["purchase_orders"]["supplier"].tolist() == ["Air", "Truck"]
    assert "orders" not in loaded.tables
    assert any("orders.csv" in note for note in loaded.report.notes)
    (tmp_path / "po.csv").unlink()
    (problem,) = fatal(tmp_path, column_map)
    assert (problem.file, problem.code) == ("po.csv", "missing_file")


def test_scms_style_mixed_date_formats_give_the_same_date(tmp_path: Path) -> None:
    scms = load_column_map("scms")
    write(
        tmp_path,
        "po.csv",
        [
            "ID,Shipment Mode,PO Sent to Vendor Date,Scheduled Delivery Date,"
            "Delivered to Client Date,Fulfill Via,Line Item Quantity,Item Description",
            "1,Air,6/2/06,2-Jun-06,2-Jun-06,Direct Drop,10,kit",
            "2,Air,Date Not Captured,2-Jun-06,2-Jun-06,Direct Drop,10,kit",
            "3,Air,N/A - From RDC,2-Jun-06,2-Jun-06,From RDC,10,kit",
        ],
        newline="\r",
        bom=True,
    )
    table = scms.purchase_orders.model_copy(update={"file": "po.csv"})
    column_map = scms.model_copy(update={"purchase_orders": table})
    loaded = load_history(tmp_path, column_map)
    po = loaded.tables["purchase_orders"]
    day = pd.Timestamp("2006-06-02")
    assert (po.loc[2, "ordered_at"], po.loc[2, "promised_at"], po.loc[2, "received_at"]) == (
        day,
        day,
        day,
    )
    problem = only_problem(loaded)
    assert (problem.line, problem.code, problem.value) == (3, "missing_value", "Date Not Captured")
    assert loaded.report.tables["purchase_orders"].rows_filtered == 1


# --- column map errors ---------------------------------------------------------------------------


def map_error(tmp_path: Path, text: str) -> Problem:
    with pytest.raises(HistoryError) as info:
        load_column_map(write_map(tmp_path, text))
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].file.endswith("map.toml")
    assert problems[0].code == "bad_map"
    return problems[0]


def test_map_typo_gets_did_you_mean(tmp_path: Path) -> None:
    problem = map_error(tmp_path, '[orders]\ncolums = { order_id = "Nr" }\n')
    assert problem.column == "orders.colums"
    assert "did you mean 'columns'?" in problem.reason


def test_map_unknown_table(tmp_path: Path) -> None:
    problem = map_error(tmp_path, '[order]\nfile = "x.csv"\n')
    assert "did you mean 'orders'?" in problem.reason


def test_map_unknown_canonical_column(tmp_path: Path) -> None:
    problem = map_error(tmp_path, '[orders]\ncolumns = { created = "Angelegt" }\n')
    assert "'created' is not a column of canonical table 'orders'" in problem.reason
    assert "did you mean 'created_at'?" in problem.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[history]\nlocal_timezone = "Europe/Berln"\n', "unknown IANA time zone"),
        ('[visits]\noutcome_codes = { OK = "complete" }\n', "did you mean 'completed'?"),
        ("[surveys]\nscale_max = 10\nsatisfied_threshold = 11\n", "must lie within the scale"),
        ("[surveys]\nscale_min = 5\nscale_max = 1\n", "must be < scale_max"),
        ('[orders]\ntimezone = "UTC"\n', "local_timezone is not"),
        ('[orders]\ndate_formats = ["dd.mm.yyyy"]\n', "not a strptime format"),
        ('[orders]\nencoding = "utf-9"\n', "unknown encoding"),
        ('[history]\nrequired_tables = ["order"]\n', "did you mean 'orders'?"),
        ("[orders]\nkeep_rows_where = { Typ = [] }\n", "no row would stay"),
    ],
)
def test_map_rules(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in map_error(tmp_path, text).reason


def test_map_not_toml_or_missing(tmp_path: Path) -> None:
    assert "not valid TOML" in map_error(tmp_path, "[orders\n").reason
    with pytest.raises(HistoryError, match="column map not found"):
        load_column_map(tmp_path / "missing.toml")


def test_parse_column_map_and_defaults() -> None:
    column_map = parse_column_map({"orders": {"columns": {"created_at": "Angelegt"}}})
    assert column_map.orders.export_column("created_at") == "Angelegt"
    assert column_map.orders.export_column("order_id") == "order_id"
    assert column_map.orders.file_name == "orders.csv"
    assert column_map.visits.file_name == "visits.csv"
    assert column_map.mentioned == {"orders"}
    with pytest.raises(Exception, match="frozen"):
        column_map.orders.file = "x.csv"  # type: ignore[misc]


def test_shipped_maps_load() -> None:
    assert {"olist", "scms"} <= set(shipped_maps())
    olist = load_column_map("olist")
    assert olist.orders.file_name == "olist_orders_dataset.csv"
    assert olist.surveys.satisfied_threshold == 4
    scms = load_column_map("scms")
    assert scms.history.required_tables == ("purchase_orders",)
    assert scms.purchase_orders.export_column("supplier") == "Shipment Mode"


# --- report and command line ---------------------------------------------------------------------


def test_format_report_counts_and_first_problems(tmp_path: Path) -> None:
    orders_folder(tmp_path, [f"x{i},bad,east,1,10,,," for i in range(5)])
    lines = format_report(load_history(tmp_path).report, max_problems=2)
    text = "\n".join(lines)
    assert "orders.csv" in text
    assert any(line.split() == ["orders.csv", "bad_date", "5"] for line in lines)
    assert "first 2 of 5 problems:" in text
    assert "orders.csv:5: created_at = 'bad': not a date in ISO 8601" in text


def test_history_check_exit_codes(tmp_path: Path) -> None:
    orders_folder(tmp_path, ["o4,bad,east,1,10,,,"])
    out, err = io.StringIO(), io.StringIO()
    assert history_check(tmp_path, out=out, err=err, quarantine_dir=tmp_path / "q") == 0
    assert "quarantined" in out.getvalue()
    assert (tmp_path / "q" / "orders.quarantine.csv").exists()
    assert history_check(tmp_path, out=io.StringIO(), err=io.StringIO(), strict=True) == 2

    (tmp_path / "orders.csv").unlink()
    out, err = io.StringIO(), io.StringIO()
    assert history_check(tmp_path, out=out, err=err) == 2
    assert err.getvalue().startswith("error: orders.csv: file not found")
    assert "Traceback" not in err.getvalue()


def test_cmd_history_check_with_argparse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders_folder(tmp_path)
    column_map = write_map(tmp_path, '[history]\nname = "mine"\n')
    parser = argparse.ArgumentParser()
    add_history_check_arguments(parser)
    args = parser.parse_args([str(tmp_path), "--map", str(column_map)])
    assert cmd_history_check(args) == 0
    assert "history 'mine'" in capsys.readouterr().out
    args = parser.parse_args([str(tmp_path), "--map", str(tmp_path / "nope.toml")])
    assert cmd_history_check(args) == 2
    assert "column map not found" in capsys.readouterr().err


# --- every row is accounted for ------------------------------------------------------------------

CELLS = st.sampled_from(["2024-01-05", "2024-01-04", "", "junk", "N/A", "2024-13-01"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            CELLS,
            CELLS,
            st.sampled_from(["keep", "drop"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_every_row_is_kept_quarantined_or_filtered(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str, str]]
) -> None:
    folder = tmp_path_factory.mktemp("h")
    write(folder, "orders.csv", ["order_id,created_at,completed_at,kind", *map(",".join, rows)])
    column_map = parse_column_map(
        {"orders": {"fillers": ["N/A"], "keep_rows_where": {"kind": ["keep"]}}}
    )
    loaded = load_history(folder, column_map)
    report = loaded.report.tables["orders"]
    assert report.rows_read == len(rows)
    assert report.rows_read == report.rows_kept + report.rows_quarantined + report.rows_filtered
    assert report.rows_filtered == sum(kind == "drop" for *_, kind in rows)
    kept = loaded.tables["orders"]
    assert kept["order_id"].is_unique
    assert kept["created_at"].notna().all()
    assert (kept["completed_at"].isna() | (kept["completed_at"] >= kept["created_at"])).all()
    quarantined_lines = set(loaded.quarantine["orders"]["line"])
    assert quarantined_lines == {p.line for p in loaded.report.problems}
    assert quarantined_lines.isdisjoint(kept.index)
