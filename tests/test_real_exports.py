"""The shipped column maps on the real Olist and SCMS exports in ../shared/data/real/.

Every assertion is checked against the raw files read independently (csv module, plain string
handling), so the loader is tested against facts of the data, not against itself.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from calibration.history import LoadedHistory, load_history

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
OLIST = REAL / "olist"
SCMS = REAL / "scms"
ORDERS_FILE = "olist_orders_dataset.csv"
REVIEWS_FILE = "olist_order_reviews_dataset.csv"
SCMS_FILE = "SCMS_Delivery_History_Dataset.csv"
MAX_LOAD_SECONDS = 10.0  # measured ~0.3 s; a per-cell Python loop would take far longer

pytestmark = pytest.mark.skipif(
    not (OLIST / ORDERS_FILE).exists() or not (SCMS / SCMS_FILE).exists(),
    reason=f"real exports not found in {REAL} (see DESIGN.md, 'Historical exports')",
)


def records(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data records, parsed by the csv module alone."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = [r for r in csv.reader(handle) if r]
    return header, rows


def physical_lines(path: Path) -> list[str]:
    """The file's physical lines, whatever the line endings."""
    text = path.read_bytes().decode("utf-8-sig")
    return re.split(r"\r\n|\r|\n", text)


@pytest.fixture(scope="module")
def olist(tmp_path_factory: pytest.TempPathFactory) -> LoadedHistory:
    quarantine = tmp_path_factory.mktemp("olist_quarantine")
    began = time.perf_counter()
    loaded = load_history(OLIST, "olist", quarantine_dir=quarantine)
    assert time.perf_counter() - began < MAX_LOAD_SECONDS
    return loaded


@pytest.fixture(scope="module")
def scms_quarantine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scms_quarantine")


@pytest.fixture(scope="module")
def scms(scms_quarantine: Path) -> LoadedHistory:
    began = time.perf_counter()
    loaded = load_history(SCMS, "scms", quarantine_dir=scms_quarantine)
    assert time.perf_counter() - began < MAX_LOAD_SECONDS
    return loaded


# --- Olist ---------------------------------------------------------------------------------------


def test_olist_every_record_is_read_and_accounted_for(olist: LoadedHistory) -> None:
    for table, file in (("orders", ORDERS_FILE), ("surveys", REVIEWS_FILE)):
        _, rows = records(OLIST / file)
        report = olist.report.tables[table]
        assert report.rows_read == len(rows)
        assert report.rows_read == report.rows_kept + report.rows_quarantined + report.rows_filtered
        assert len(olist.tables[table]) == report.rows_kept
        assert len(olist.quarantine[table]) == report.rows_quarantined


def test_olist_orders_filtered_by_status(olist: LoadedHistory) -> None:
    header, rows = records(OLIST / ORDERS_FILE)
    status = Counter(r[header.index("order_status")] for r in rows)
    report = olist.report.tables["orders"]
    expected = {
        f"order_status = {s!r} (not in keep_rows_where)": n
        for s, n in status.items()
        if s != "delivered"
    }
    assert report.filtered == expected
    assert report.rows_filtered == len(rows) - status["delivered"]
    assert set(report.absent_columns) == {"region", "size", "value", "cancelled_at"}


def test_olist_orders_values_and_quarantine(olist: LoadedHistory) -> None:
    raw = pd.read_csv(OLIST / ORDERS_FILE, dtype=str, keep_default_na=False)
    raw["line"] = range(2, len(raw) + 2)  # one physical line per record in this file
    delivered = raw[raw["order_status"] == "delivered"]
    approved = pd.to_datetime(delivered["order_approved_at"].replace("", None))
    done = pd.to_datetime(delivered["order_delivered_customer_date"])
    before_hand_off = set(delivered.loc[done < approved, "line"])

    orders = olist.tables["orders"]
    quarantined = {p.line for p in olist.report.problems_of("orders")}
    assert quarantined == before_hand_off  # delivered before approval: 9 in the sample
    assert {p.code for p in olist.report.problems_of("orders")} == {"negative_duration"}
    kept = delivered[~delivered["line"].isin(before_hand_off)].set_index("line")
    assert list(orders.index) == list(kept.index)
    assert (orders["order_id"] == kept["order_id"]).all()
    pd.testing.assert_series_equal(
        orders["created_at"],
        pd.to_datetime(kept["order_purchase_timestamp"]).astype("datetime64[us]"),
        check_names=False,
    )
    assert orders["completed_at"].notna().all()
    assert orders["handed_off_at"].isna().sum() == (kept["order_approved_at"] == "").sum()


def test_olist_review_lines_survive_multiline_comments(olist: LoadedHistory) -> None:
    _, rows = records(OLIST / REVIEWS_FILE)
    lines = physical_lines(OLIST / REVIEWS_FILE)
    assert len(lines) > len(rows) + 2  # comments span lines: record number != line number
    surveys = olist.tables["surveys"]
    # the physical line each kept row is reported at starts that row: review_id,order_id,...
    for line, order_id in zip(surveys.index, surveys["order_id"], strict=True):
        assert lines[line - 1].split(",")[1] == order_id, line
    assert surveys.index.max() > len(rows) + 1  # late rows sit well below their record number


def test_olist_reviews_duplicates_and_filtered_orders(olist: LoadedHistory) -> None:
    header, rows = records(OLIST / REVIEWS_FILE)
    order_ids = [r[header.index("order_id")] for r in rows]
    kept_orders = set(olist.tables["orders"]["order_id"])
    quarantined_orders = set(olist.quarantine["orders"]["order_id"])
    filtered = sum(o not in kept_orders and o not in quarantined_orders for o in order_ids)
    of_kept = [o for o in order_ids if o in kept_orders]
    duplicates = len(of_kept) - len(set(of_kept))

    report = olist.report.tables["surveys"]
    assert report.rows_filtered == filtered
    codes = Counter(p.code for p in olist.report.problems_of("surveys"))
    assert codes == {
        "duplicate_id": duplicates,
        "quarantined_order_id": sum(o in quarantined_orders for o in order_ids),
    }
    surveys = olist.tables["surveys"]
    assert surveys["order_id"].is_unique
    assert set(surveys["score"]) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert (surveys["satisfied"] == (surveys["score"] >= 4)).all()
    assert list(olist.quarantine["surveys"].columns) == [*header, "line", "reason"]


# --- SCMS ----------------------------------------------------------------------------------------


def scms_raw() -> tuple[list[str], list[list[str]]]:
    return records(SCMS / SCMS_FILE)


def test_scms_file_is_as_the_readme_says() -> None:
    data = (SCMS / SCMS_FILE).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r" in data
    assert b"\n" not in data  # old Mac line endings only


def test_scms_every_record_read_bom_gone_cr_lines(scms: LoadedHistory) -> None:
    _, rows = scms_raw()
    report = scms.report.tables["purchase_orders"]
    assert report.rows_read == len(rows) == 10_324
    assert report.rows_read == report.rows_kept + report.rows_quarantined + report.rows_filtered
    assert scms.quarantine["purchase_orders"].columns[0] == "ID"  # not "\ufeffID"
    lines = physical_lines(SCMS / SCMS_FILE)
    po = scms.tables["purchase_orders"]
    for line, po_id in zip(po.index, po["po_id"], strict=True):
        assert lines[line - 1].split(",")[0] == po_id, line
    assert po.index.max() <= len(rows) + 1


def test_scms_filtered_rows_are_the_rdc_shipments(scms: LoadedHistory) -> None:
    header, rows = scms_raw()
    via = Counter(r[header.index("Fulfill Via")] for r in rows)
    report = scms.report.tables["purchase_orders"]
    assert report.filtered == {"Fulfill Via = 'From RDC' (not in keep_rows_where)": via["From RDC"]}


def test_scms_fillers_are_no_value_never_bad_dates(scms: LoadedHistory) -> None:
    header, rows = scms_raw()
    direct = [r for r in rows if r[header.index("Fulfill Via")] == "Direct Drop"]
    sent = Counter(r[header.index("PO Sent to Vendor Date")] for r in direct)
    mode = Counter(r[header.index("Shipment Mode")] for r in direct)
    report = scms.report.tables["purchase_orders"]
    assert report.fillers == {
        "PO Sent to Vendor Date (ordered_at) 'Date Not Captured'": sent["Date Not Captured"],
        "Shipment Mode (supplier) 'N/A'": mode["N/A"],
    }
    problems = scms.report.problems_of("purchase_orders")
    assert not [p for p in problems if p.code == "bad_date"]
    missing = Counter(p.value for p in problems if p.code == "missing_value")
    assert missing == {"Date Not Captured": sent["Date Not Captured"], "N/A": mode["N/A"]}


def _date(text: str) -> datetime:
    fmt = "%m/%d/%y" if "/" in text else "%d-%b-%y"
    return datetime.strptime(text, fmt)


def test_scms_mixed_date_formats_parse_to_the_same_dates(scms: LoadedHistory) -> None:
    header, rows = scms_raw()
    by_id = {r[0]: r for r in rows}
    po = scms.tables["purchase_orders"]
    columns = {
        "ordered_at": "PO Sent to Vendor Date",
        "promised_at": "Scheduled Delivery Date",
        "received_at": "Delivered to Client Date",
    }
    for canonical, export in columns.items():
        expected = [_date(by_id[i][header.index(export)]) for i in po["po_id"]]
        assert po[canonical].tolist() == expected, canonical
    # rows whose PO date ("8/27/14") and schedule ("27-Aug-14") are the same day in two styles
    same = [
        i
        for i in po["po_id"]
        if "/" in by_id[i][header.index(columns["ordered_at"])]
        and "-" in by_id[i][header.index(columns["promised_at"])]
        and _date(by_id[i][header.index(columns["ordered_at"])])
        == _date(by_id[i][header.index(columns["promised_at"])])
    ]
    assert len(same) > 100
    both = po[po["po_id"].isin(same)]
    assert (both["ordered_at"] == both["promised_at"]).all()


def test_scms_quarantine_counts_match_independent_checks(
    scms: LoadedHistory, scms_quarantine: Path
) -> None:
    header, rows = scms_raw()
    col = {name: header.index(name) for name in header}
    expected: set[str] = set()
    negative = 0
    for r in rows:
        if r[col["Fulfill Via"]] != "Direct Drop":
            continue
        sent = r[col["PO Sent to Vendor Date"]]
        if sent == "Date Not Captured" or r[col["Shipment Mode"]] == "N/A":
            expected.add(r[0])
        if sent != "Date Not Captured":
            ordered = _date(sent)
            late = _date(r[col["Delivered to Client Date"]]) < ordered
            early = _date(r[col["Scheduled Delivery Date"]]) < ordered
            negative += late + early
            if late or early:
                expected.add(r[0])
    report = scms.report.tables["purchase_orders"]
    assert report.rows_quarantined == len(expected)
    assert set(scms.quarantine["purchase_orders"]["ID"]) == expected
    written = pd.read_csv(scms_quarantine / "purchase_orders.quarantine.csv", dtype=str)
    assert set(written["ID"]) == expected
    assert list(written.columns) == [*header, "line", "reason"]
    codes = Counter(p.code for p in scms.report.problems_of("purchase_orders"))
    assert codes["negative_duration"] == negative
    po = scms.tables["purchase_orders"]
    assert set(po["supplier"]) == {"Air", "Truck", "Air Charter", "Ocean"}
    assert (po["qty"] > 0).all()
    assert (po["received_at"] >= po["ordered_at"]).all()
