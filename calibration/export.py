"""Export a simulated run as history files in the canonical schema.

Used to build the bundled sample history from a documented truth scenario, and to compare
simulated and historical flows side by side. Survey answers are drawn from each completed
order's simulated satisfaction with a response rate, from a generator of their own so that the
exported run itself is untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.model import RunResult

SURVEY_SCALE = (1, 5)
SATISFIED_SCORES = (4, 5)
UNSATISFIED_SCORES = (1, 2, 3)


def _timestamps(start: pd.Timestamp, hours: pd.Series) -> pd.Series:
    return (start + pd.to_timedelta(hours, unit="h")).dt.round("min")


def history_tables(
    result: RunResult,
    survey_response_rate: float = 0.6,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The canonical tables (calibration.schema) of one simulated run."""
    start = pd.Timestamp(result.scenario.run.start_date)
    orders = result.orders
    out_orders = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "created_at": _timestamps(start, orders["created_at"]),
            "region": orders["region"],
            "size": orders["size_fixtures"],
            "value": orders["value"].round(2),
            "promised_at": _timestamps(start, orders["promised_at"]),
            "handed_off_at": _timestamps(start, orders["handed_off_at"]),
            "completed_at": _timestamps(start, orders["completed_at"]),
            "cancelled_at": pd.Series(pd.NaT, index=orders.index),
        }
    )
    lines = [
        (order_id, sku, int(qty))
        for order_id, bom in zip(orders["order_id"], orders["bom"], strict=True)
        if bom
        for sku, qty in (item.split(":") for item in bom.split(";"))
    ]
    order_lines = pd.DataFrame(lines, columns=["order_id", "sku", "qty"])

    visits = result.visits
    # A crew's day starts at the depot; the export records arrival on site, as field apps do.
    out_visits = pd.DataFrame(
        {
            "visit_id": [f"V{i:07d}" for i in visits["visit_id"]],
            "order_id": visits["order_id"],
            "crew_id": visits["crew_id"],
            "started_at": _timestamps(start, visits["started_at"] + visits["travel_hours"]),
            "finished_at": _timestamps(start, visits["finished_at"]),
            "outcome": visits["outcome"],
        }
    )

    pos = result.purchase_orders
    suppliers = {s.name: s for s in result.scenario.supply.suppliers}
    from sim.distributions import build

    promised_days = pos["supplier"].map(
        lambda name: round(build(suppliers[name].lead_time_days).mean)
    )
    out_pos = pd.DataFrame(
        {
            "po_id": [f"PO{i:06d}" for i in pos["po_id"]],
            "sku": pos["sku"],
            "supplier": pos["supplier"],
            "qty": pos["qty"],
            "ordered_at": _timestamps(start, pos["ordered_at"]),
            "promised_at": _timestamps(start, pos["ordered_at"] + promised_days * 24.0),
            "received_at": _timestamps(start, pos["received_at"]),
        }
    )

    rng = np.random.default_rng(seed)
    done = orders[orders["completed_at"].notna()]
    answered = done[rng.random(len(done)) < survey_response_rate]
    satisfied = answered["satisfied"].astype(bool).to_numpy()
    scores = np.where(
        satisfied,
        rng.choice(SATISFIED_SCORES, size=len(answered)),
        rng.choice(UNSATISFIED_SCORES, size=len(answered)),
    )
    delay_hours = rng.exponential(72.0, size=len(answered))
    surveys = pd.DataFrame(
        {
            "order_id": answered["order_id"].to_numpy(),
            "answered_at": _timestamps(start, answered["completed_at"] + delay_hours).to_numpy(),
            "score": scores,
        }
    )
    crews = pd.DataFrame(
        [
            (crew_id, region)
            for crew_id, region in sorted(
                set(zip(visits["crew_id"], _crew_regions(result), strict=True))
            )
        ],
        columns=["crew_id", "region"],
    ).assign(calendar="crew")
    return {
        "orders": out_orders,
        "order_lines": order_lines,
        "purchase_orders": out_pos,
        "visits": out_visits,
        "surveys": surveys,
        "crews": crews,
    }


def _crew_regions(result: RunResult) -> list[str]:
    home = {}
    for spec in result.scenario.dispatch.crews:
        for i in range(spec.count):
            crew_id = spec.name if spec.count == 1 else f"{spec.name}-{i + 1}"
            home[crew_id] = spec.home_region
    return [home[c] for c in result.visits["crew_id"]]


def write_history(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M")
