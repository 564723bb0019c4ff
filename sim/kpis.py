"""KPIs of one replication over its measurement window (after warm-up), from the event frames.

Right-censoring: orders still open at the end are
- counted in ``wip_end``;
- excluded from lead-time, lateness, visit, first-time-right, material-wait and satisfaction
  KPIs, which describe orders *completed* in the window (so a long open tail biases lead times
  down; the report says how many were open);
- counted as late in ``on_time_rate`` when their promise date has passed by the end of the run
  (an open order past its promise is late); orders whose promise lies after the end are left out
  of ``on_time_rate`` because their outcome is not known.

``cost`` adds the policies' resources from the daily series (sim/policies/ledger.py): meeting
person-hours at ``costs.meeting_hour`` and hired flex-crew hours at ``costs.flex_crew_hour``;
flex-crew hours also count as available hours in ``crew_utilization``, since their visits count
as busy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calendar import WorkCalendar
from sim.scenario import Scenario

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25

KPI_NAMES: tuple[str, ...] = (
    "orders_created",
    "orders_completed",
    "wip_end",
    "lead_time_mean_days",
    "lead_time_p50_days",
    "lead_time_p90_days",
    "on_time_rate",
    "promised_days_mean",
    "lateness_mean_days",
    "first_time_right_rate",
    "visits_per_order",
    "material_wait_mean_days",
    "stockout_share",
    "crew_utilization",
    "inventory_value_mean",
    "satisfaction_rate",
    "revenue",
    "cost",
    "profit",
)


def measurement_window(scenario: Scenario, warmup_days: float | None = None) -> tuple[float, float]:
    warmup = scenario.run.warmup_days if warmup_days is None else warmup_days
    return warmup * HOURS_PER_DAY, scenario.run.duration_days * HOURS_PER_DAY


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")


def compute_kpis(
    scenario: Scenario,
    orders: pd.DataFrame,
    visits: pd.DataFrame,
    purchase_orders: pd.DataFrame,
    timeseries: pd.DataFrame,
    window: tuple[float, float],
    crew_calendars: list[WorkCalendar],
) -> dict[str, float]:
    start, end = window
    created = orders[(orders["created_at"] >= start) & (orders["created_at"] < end)]
    done = orders[(orders["completed_at"] >= start) & (orders["completed_at"] < end)]
    open_at_end = orders["completed_at"].isna()

    decided = created[(created["promised_at"] <= end) | created["completed_at"].notna()]
    on_time = (decided["completed_at"] <= decided["promised_at"]).fillna(False)

    in_window_visits = visits[(visits["started_at"] >= start) & (visits["started_at"] < end)]
    available_hours = sum(c.working_hours_between(start, end) for c in crew_calendars)
    busy_hours = float(in_window_visits["regular_hours"].sum())
    overtime_hours = float(in_window_visits["overtime_hours"].sum())
    travel_hours = float(in_window_visits["travel_hours"].sum())
    failed_visits = int((in_window_visits["outcome"] != "completed").sum())

    days = timeseries[
        (timeseries["day"] * HOURS_PER_DAY >= start) & (timeseries["day"] * HOURS_PER_DAY < end)
    ]
    inventory_value_mean = _mean(days["inventory_value"]) if len(days) else 0.0
    # policy resources (sim/policies/ledger.py): meeting person-hours, hired flex-crew hours
    meeting_hours = float(days["meeting_hours"].sum()) if "meeting_hours" in days else 0.0
    flex_hours = float(days["flex_crew_hours"].sum()) if "flex_crew_hours" in days else 0.0
    years = (end - start) / (HOURS_PER_DAY * DAYS_PER_YEAR)

    pos = purchase_orders[
        (purchase_orders["ordered_at"] >= start) & (purchase_orders["ordered_at"] < end)
    ]
    costs = scenario.costs
    unit_cost = {sku.name: sku.unit_cost for sku in scenario.supply.skus}
    materials = float((pos["qty"] * pos["sku"].map(unit_cost)).sum()) if len(pos) else 0.0
    cost = (
        materials
        + available_hours * costs.crew_hour_regular
        + overtime_hours * costs.crew_hour_overtime
        + travel_hours * costs.travel_per_hour
        + failed_visits * costs.revisit
        + inventory_value_mean * scenario.supply.holding_cost_rate_per_year * years
        + float(pos["premium"].sum())
        + len(pos) * costs.purchase_order_fixed
        + meeting_hours * costs.meeting_hour
        + flex_hours * costs.flex_crew_hour
    )
    revenue = float(done["value"].sum())
    lead = done["lead_time_days"]
    return {
        "orders_created": float(len(created)),
        "orders_completed": float(len(done)),
        "wip_end": float(open_at_end.sum()),
        "lead_time_mean_days": _mean(lead),
        "lead_time_p50_days": float(lead.quantile(0.5)) if len(lead) else float("nan"),
        "lead_time_p90_days": float(lead.quantile(0.9)) if len(lead) else float("nan"),
        "on_time_rate": _mean(on_time.astype(float)),
        "promised_days_mean": _mean(created["promised_days"]),
        "lateness_mean_days": _mean(done["lateness_days"]),
        "first_time_right_rate": _mean((done["visits"] == 1).astype(float)),
        "visits_per_order": _mean(done["visits"].astype(float)),
        "material_wait_mean_days": _mean(done["material_wait_hours"] / HOURS_PER_DAY),
        "stockout_share": _mean(done["met_stockout"].astype(float)),
        # flex crews' visits are busy hours, so their paid hours count as available
        "crew_utilization": (busy_hours + overtime_hours) / (available_hours + flex_hours)
        if available_hours + flex_hours > 0
        else float("nan"),
        "inventory_value_mean": inventory_value_mean,
        "satisfaction_rate": _mean(done["satisfied"].astype(float)),
        "revenue": revenue,
        "cost": cost,
        "profit": revenue - cost,
    }


def kpi_vector(kpis: dict[str, float]) -> np.ndarray:
    return np.array([kpis[name] for name in KPI_NAMES], dtype=float)
