"""The canonical history schema: the exports calibration reads, after the column map.

Every export is mapped onto these tables and columns (DESIGN.md, "Historical exports"). Times
are naive local datetimes (a column map with a time zone converts them to local time first).
Only ``orders.csv`` is required; every other file improves the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "text", "datetime", "int", "float"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True  # a required column must exist; its cells may still be optional
    nullable: bool = False  # an empty cell is allowed (e.g. completed_at while open)


@dataclass(frozen=True)
class Table:
    name: str  # canonical file name without .csv
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique per row
    required: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


VISIT_OUTCOMES = ("completed", "rework", "missing_material", "customer_absent", "other")

ORDERS = Table(
    "orders",
    (
        Column("order_id", "id"),
        Column("created_at", "datetime"),
        Column("region", "text", required=False, nullable=True),
        Column("size", "int", required=False, nullable=True),
        Column("value", "float", required=False, nullable=True),
        Column("promised_at", "datetime", required=False, nullable=True),
        Column("handed_off_at", "datetime", required=False, nullable=True),
        Column("completed_at", "datetime", required=False, nullable=True),
        Column("cancelled_at", "datetime", required=False, nullable=True),
    ),
    key=("order_id",),
    required=True,
)
ORDER_LINES = Table(
    "order_lines",
    (Column("order_id", "id"), Column("sku", "id"), Column("qty", "float")),
    key=("order_id", "sku"),
)
PURCHASE_ORDERS = Table(
    "purchase_orders",
    (
        Column("po_id", "id"),
        Column("sku", "id", required=False, nullable=True),
        Column("supplier", "text"),
        Column("qty", "float", required=False, nullable=True),
        Column("ordered_at", "datetime"),
        Column("promised_at", "datetime", required=False, nullable=True),
        Column("received_at", "datetime", nullable=True),
    ),
    key=("po_id",),
)
VISITS = Table(
    "visits",
    (
        Column("visit_id", "id"),
        Column("order_id", "id"),
        Column("crew_id", "id", required=False, nullable=True),
        Column("started_at", "datetime"),
        Column("finished_at", "datetime"),
        Column("outcome", "text"),
    ),
    key=("visit_id",),
)
SURVEYS = Table(
    "surveys",
    (
        Column("order_id", "id"),
        Column("answered_at", "datetime", required=False, nullable=True),
        Column("score", "float"),
    ),
    key=("order_id",),
)
CREWS = Table(
    "crews",
    (
        Column("crew_id", "id"),
        Column("region", "text"),
        Column("calendar", "text", required=False, nullable=True),
    ),
    key=("crew_id",),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ORDERS, ORDER_LINES, PURCHASE_ORDERS, VISITS, SURVEYS, CREWS)
}
