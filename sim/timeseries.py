"""Daily time series of a run (backlog, WIP, queues, stock) and the event-log frames."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from sim.calendar import WorkCalendar
from sim.installation import Visit
from sim.supply import PurchaseOrder

if TYPE_CHECKING:
    from sim.model import Model

HOURS_PER_DAY = 24.0

VISIT_COLUMNS = [
    "visit_id", "order_id", "crew_id", "started_at", "finished_at", "outcome",
    "travel_hours", "on_site_hours", "regular_hours", "overtime_hours",
]  # fmt: skip
PO_COLUMNS = [
    "po_id", "sku", "supplier", "qty", "ordered_at", "due_at", "received_at", "expedited",
    "premium",
]  # fmt: skip


class DailyMonitor:
    """Samples the state of the model at every midnight."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.rows: list[dict[str, float]] = []

    def process(self) -> Generator[simpy.Event, None, None]:
        env = self.model.env
        while True:
            self.rows.append(self.snapshot())
            yield env.timeout(HOURS_PER_DAY)

    def snapshot(self) -> dict[str, float]:
        m = self.model
        open_orders = m.open_orders.values()
        row: dict[str, float] = {
            "day": round(m.env.now / HOURS_PER_DAY),
            "backlog": len(open_orders),
            "wip": sum(1 for o in open_orders if o.handed_off_at is not None),
            "ready_queue": len(m.dispatcher),
            "awaiting_material": len(m.awaiting_kit)
            + sum(1 for o in open_orders if o.shortfall and o.order_id not in m.awaiting_kit),
            "inventory_value": 0.0,
        }
        value = 0.0
        for name, state in m.supply.skus.items():
            if state.unlimited:
                continue
            row[f"stock_{name}"] = state.on_hand
            row[f"position_{name}"] = state.position
            value += state.on_hand * state.spec.unit_cost
        row["inventory_value"] = value
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def _columns(records: list[Any], columns: list[str]) -> pd.DataFrame:
    # Column by column with getattr: dataclasses.asdict deep-copies every record (10x slower).
    return pd.DataFrame({c: [getattr(r, c) for r in records] for c in columns}, columns=columns)


def visits_frame(visits: list[Visit]) -> pd.DataFrame:
    return _columns(visits, VISIT_COLUMNS)


def purchase_orders_frame(purchase_orders: list[PurchaseOrder]) -> pd.DataFrame:
    frame = _columns(purchase_orders, PO_COLUMNS)
    return frame.astype({"received_at": "float64", "premium": "float64", "expedited": bool})


def crew_busy_by_day(
    visits: pd.DataFrame, calendars: dict[str, WorkCalendar], horizon_hours: float
) -> pd.DataFrame:
    """Crew hours busy per day (travel and on site), regular hours split over the days they
    fall on, overtime counted on the day the visit ends."""
    days = int(np.ceil(horizon_hours / HOURS_PER_DAY)) + 1
    busy = np.zeros(days)
    start = visits["started_at"].to_numpy(dtype=float)
    end = visits["finished_at"].to_numpy(dtype=float)
    first = (start // HOURS_PER_DAY).astype(int)
    last = (end // HOURS_PER_DAY).astype(int)
    one_day = first == last
    # The common one-day visit, vectorised; visits over midnight are split day by day.
    hours = visits["regular_hours"].to_numpy(dtype=float) + visits["overtime_hours"].to_numpy(
        dtype=float
    )
    np.add.at(busy, first[one_day], hours[one_day])
    spanning = visits.loc[~one_day]
    for crew_id, lo_t, hi_t, overtime in zip(
        spanning["crew_id"], spanning["started_at"], spanning["finished_at"],
        spanning["overtime_hours"], strict=True,
    ):  # fmt: skip
        first_day, last_day = int(lo_t // HOURS_PER_DAY), int(hi_t // HOURS_PER_DAY)
        for day in range(first_day, min(last_day, days - 1) + 1):
            lo = max(lo_t, day * HOURS_PER_DAY)
            hi = min(hi_t, (day + 1) * HOURS_PER_DAY)
            if hi > lo:
                busy[day] += calendars[crew_id].working_hours_between(lo, hi)
        busy[min(last_day, days - 1)] += overtime
    return pd.DataFrame({"day": np.arange(days), "crew_busy_hours": busy})
