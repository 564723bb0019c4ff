"""Calibration: from an export folder to a scenario whose every number says where it came from.

The history is loaded and validated, every fit whose input is present runs, and the fitted
values are set into a template scenario (the policies, costs and stock rules that exports do
not contain). A fit whose file is present but too thin refuses the whole calibration, naming the
fit and how many rows it had; a fit whose file is absent keeps the template's values, and the
scenario says so.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from calibration.column_map import ColumnMap
from calibration.fits import (
    FitError,
    FitResult,
    fit_arrivals,
    fit_handoff,
    fit_installation,
    fit_lead_times,
    fit_order_mix,
    fit_promise,
    fit_satisfaction,
)
from calibration.fits.result import apply_params
from calibration.history import LoadedHistory, load_history
from sim.distributions import build
from sim.scenario import Scenario, plain_data

log = logging.getLogger(__name__)


class CalibrationError(Exception):
    """Calibration refused: ``problems`` lists each fit that lacked data, or the scenario's
    validation errors."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class CalibrationResult:
    scenario: Scenario
    data: dict[str, Any]  # the scenario as a dict, as written
    fits: list[FitResult]
    provenance: dict[str, str]  # dotted key path -> where the value came from
    history: LoadedHistory
    template: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _describe(fit: FitResult) -> str:
    return f"fitted from {fit.source}: n={fit.n}; {fit.quality}; method: {fit.method}"


def _crews_from_history(crews: pd.DataFrame, regions: list[str]) -> list[dict[str, Any]]:
    counts = crews.groupby("region")["crew_id"].nunique()
    return [
        {"name": str(region), "home_region": str(region), "count": int(n)}
        for region, n in counts.items()
        if str(region) in regions
    ]


def _ensure_skus(
    data: dict[str, Any], tables: dict[str, pd.DataFrame], provenance: dict[str, str]
) -> None:
    """Every SKU of the fitted bill of materials needs a stock rule; exports hold no stock, so
    new SKUs get levels from their demand and supplier lead time (said so in the scenario)."""
    supply = data.setdefault("supply", {})
    skus = supply.setdefault("skus", [])
    known = {s["name"] for s in skus}
    suppliers = supply.setdefault("suppliers", [])
    supplier_names = [s["name"] for s in suppliers]
    pos = tables.get("purchase_orders")
    rate = float(data["arrivals"]["base_rate_per_day"])
    mean_size = build(data["orders"]["size_fixtures"]).mean
    review_days = float(supply.get("review_period_days", 7.0))
    for line in data["orders"].get("bom", []):
        sku = line["sku"]
        if sku in known:
            continue
        supplier = supplier_names[0] if supplier_names else None
        if pos is not None and "sku" in pos and (pos["sku"] == sku).any():
            supplier = str(pos.loc[pos["sku"] == sku, "supplier"].mode().iloc[0])
        if supplier is None or supplier not in supplier_names:
            raise CalibrationError(
                [
                    f"SKU {sku!r} of the bill of materials has no supplier: add "
                    "purchase_orders.csv rows for it or a supplier in the template"
                ]
            )
        lead = build(next(s for s in suppliers if s["name"] == supplier)["lead_time_days"]).mean
        daily = rate * (line.get("qty_per_fixture", 0.0) * mean_size + line.get("qty_per_order", 0))
        reorder = math.ceil(daily * (lead + review_days) * 1.25)
        order_up_to = reorder + max(1, math.ceil(daily * review_days * 2))
        skus.append({"name": sku, "supplier": supplier, "unit_cost": 0.0,
                     "initial_on_hand": order_up_to, "policy": "sS",
                     "reorder_point": reorder, "order_up_to": order_up_to})  # fmt: skip
        provenance[f"supply.skus[{sku}]"] = (
            "assumed: exports hold no stock levels; (s,S) from demand x (lead time + review) "
            "x 1.25 and two review periods of demand; unit_cost unknown (0)"
        )


def calibrate(
    folder: str | Path,
    column_map: ColumnMap | str | Path | None = None,
    template: Scenario | None = None,
    name: str = "calibrated",
    template_label: str = "template",
) -> CalibrationResult:
    """Fit every model input the exports allow; raise CalibrationError when a fit lacks data."""
    import time

    started = time.perf_counter()
    history = load_history(folder, column_map)
    tables = history.tables
    if template is None:
        raise CalibrationError(["calibration needs a template scenario for policies and costs"])
    orders = tables["orders"]
    start = orders["created_at"].min().normalize().date()
    base = plain_data(template.model_dump(mode="python"))
    fits: list[FitResult] = []
    refused: list[str] = []
    notes: list[str] = []

    def attempt(fit_fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            fits.append(fit_fn(*args, **kwargs))
        except FitError as exc:
            refused.append(str(exc))

    crew_calendar = template.crew_calendar
    attempt(fit_arrivals, orders, reference_date=start)
    attempt(fit_order_mix, orders, tables.get("order_lines"))
    attempt(fit_promise, orders)
    if "handed_off_at" in orders and orders["handed_off_at"].notna().any():
        attempt(fit_handoff, orders, office=template.office_calendar)
    else:
        notes.append("no hand-off times in orders: hand-off kept from the template")
    if "purchase_orders" in tables and len(tables["purchase_orders"]):
        attempt(fit_lead_times, tables["purchase_orders"])
    else:
        notes.append("no purchase orders: supplier lead times kept from the template")
    if "visits" in tables and len(tables["visits"]):
        attempt(fit_installation, tables["visits"], orders, tables.get("crews"),
                crew_calendar=crew_calendar)  # fmt: skip
    else:
        notes.append("no visits: installation hours and outcomes kept from the template")
    if "surveys" in tables and len(tables["surveys"]):
        attempt(fit_satisfaction, orders, tables["surveys"], tables.get("visits"))
    else:
        notes.append("no surveys: the satisfaction model is kept from the template")
    if refused:
        raise CalibrationError([f"refusing to write a scenario: {problem}" for problem in refused])

    params: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for fit in fits:
        for path, value in fit.params.items():
            params[path] = value
            # The most specific fit that produced the value (a part of a composite fit).
            source = next((p for p in fit.parts.values() if path in p.params), fit)
            provenance[path] = _describe(source)
        for part in fit.parts.values():
            if "name" in part.params:  # one supplier's lead times
                provenance[f"supply.suppliers[{part.params['name']}]"] = _describe(part)
    data = apply_params(base, params)
    data["name"] = name
    data["description"] = (
        f"Calibrated from {Path(folder)} ({history.report.name}); policies, costs and stock "
        f"rules from {template_label}."
    )
    data["run"]["start_date"] = start
    provenance["run.start_date"] = "first day of the order history"
    regions = list(data["orders"]["regions"])
    if "crews" in tables and len(tables["crews"]):
        crews = _crews_from_history(tables["crews"], regions)
        if crews:
            data["dispatch"]["crews"] = crews
            provenance["dispatch.crews"] = (
                f"crews.csv: {len(tables['crews'])} crews counted per home region"
            )
    for i, crew in enumerate(data["dispatch"]["crews"]):
        if crew["home_region"] not in regions:
            crew["home_region"] = regions[i % len(regions)]
            notes.append(f"template crew {crew['name']!r} moved to region {crew['home_region']!r}")
    _ensure_skus(data, tables, provenance)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise CalibrationError(
            [
                f"the calibrated scenario is invalid at {'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from None
    for fit in fits:
        notes.extend(f"{fit.fit}: {note}" for note in fit.notes)
    return CalibrationResult(
        scenario=scenario,
        data=data,
        fits=fits,
        provenance=provenance,
        history=history,
        template=template_label,
        notes=notes,
        seconds=time.perf_counter() - started,
    )
