"""The order record: every stage timestamp of one order, the primary output of a run."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

#: Visit draws pre-drawn at arrival; later visits continue the order's own stream.
PREDRAWN_VISITS = 8
#: Approval steps pre-drawn at arrival (the schema caps approval_steps at this).
PREDRAWN_APPROVALS = 8


@dataclass(slots=True, eq=False)
class Order:
    """One customer order. Times are simulation hours; None means 'not yet'."""

    order_id: str
    key: tuple[int, int]  # (arrival index, referral generation): its random sub-stream
    created_at: float
    region: str
    size_fixtures: int
    value: float
    bom: dict[str, int]
    effort_factor: float
    # Uniforms drawn at arrival, so that a policy that reorders events cannot shift them.
    u_approvals: np.ndarray
    u_visits: np.ndarray  # shape (PREDRAWN_VISITS, 2): customer absent, rework
    u_satisfaction: float
    u_referral: float
    u_referral_delay: float
    parent_id: str | None = None
    promised_at: float = math.nan
    quoted_days: float = math.nan
    handoff_meeting_at: float | None = None
    handed_off_at: float | None = None
    material_requested_at: float | None = None
    kit_complete_at: float | None = None
    material_wait_hours: float = 0.0
    met_stockout: bool = False
    ready_at: float | None = None
    first_visit_at: float | None = None
    completed_at: float | None = None
    visits: int = 0
    failed_visits: int = 0
    rework_visits: int = 0
    absent_visits: int = 0
    missing_material_visits: int = 0
    on_site_hours: float = 0.0
    pending_rework: bool = False
    satisfied: bool | None = None
    satisfaction_probability: float = math.nan
    referred: bool = False
    # set by a delivery committee (sim/policies/committee.py)
    priority: bool = False  # at the front of the dispatch queue
    informed: bool = False  # the customer was told a new date
    informed_at: float | None = None
    revised_promise_at: float | None = None  # the new date the customer was told
    # bookkeeping for the inventory (not exported)
    shortfall: dict[str, int] = field(default_factory=dict)
    reserved: bool = False
    picked: bool = False  # the kit has left the warehouse with a crew

    extra_rng: np.random.Generator | None = None  # visits beyond the pre-drawn ones

    def visit_uniforms(
        self, visit_number: int, extra: Callable[[], np.random.Generator]
    ) -> tuple[float, float]:
        """(u_absent, u_rework) of the given 0-based visit: the same in every scenario."""
        if visit_number < PREDRAWN_VISITS:
            row = self.u_visits[visit_number]
            return float(row[0]), float(row[1])
        if self.extra_rng is None:
            self.extra_rng = extra()
            self.extra_rng.random(2 * (visit_number - PREDRAWN_VISITS))  # skip to this visit
        u = self.extra_rng.random(2)
        return float(u[0]), float(u[1])

    def work_hours(self, setup_hours: float, hours_per_fixture: float) -> float:
        return (setup_hours + hours_per_fixture * self.size_fixtures) * self.effort_factor


_EXPORTED = [
    "order_id",
    "parent_id",
    "created_at",
    "region",
    "size_fixtures",
    "value",
    "promised_at",
    "quoted_days",
    "handoff_meeting_at",
    "handed_off_at",
    "material_requested_at",
    "kit_complete_at",
    "material_wait_hours",
    "met_stockout",
    "ready_at",
    "first_visit_at",
    "completed_at",
    "visits",
    "failed_visits",
    "rework_visits",
    "absent_visits",
    "missing_material_visits",
    "on_site_hours",
    "satisfied",
    "satisfaction_probability",
    "referred",
    "priority",
    "informed",
    "informed_at",
    "revised_promise_at",
]
assert set(_EXPORTED) <= {f.name for f in fields(Order)}


def orders_frame(orders: list[Order], hours_to_days: float = 1 / 24) -> pd.DataFrame:
    """One row per order; times in hours since start, derived durations in days."""
    rows = {name: [getattr(o, name) for o in orders] for name in _EXPORTED}
    frame = pd.DataFrame(rows)
    for column in (
        "handoff_meeting_at",
        "handed_off_at",
        "material_requested_at",
        "kit_complete_at",
        "ready_at",
        "first_visit_at",
        "completed_at",
        "informed_at",
        "revised_promise_at",
    ):
        frame[column] = frame[column].astype("float64")
    frame["satisfied"] = frame["satisfied"].astype("boolean")
    frame["bom"] = [";".join(f"{k}:{v}" for k, v in sorted(o.bom.items())) for o in orders]
    frame["status"] = np.where(frame["completed_at"].notna(), "completed", "open")
    frame["lead_time_days"] = (frame["completed_at"] - frame["created_at"]) * hours_to_days
    frame["promised_days"] = (frame["promised_at"] - frame["created_at"]) * hours_to_days
    frame["lateness_days"] = ((frame["completed_at"] - frame["promised_at"]) * hours_to_days).clip(
        lower=0.0
    )
    frame["on_time"] = (frame["completed_at"] <= frame["promised_at"]).where(
        frame["completed_at"].notna()
    )
    return frame
