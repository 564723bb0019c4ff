"""Round trip: the fits read the twin's own output back into (nearly) the scenario it ran.

The twin's run frames are turned into canonical history tables (what a company would export),
fitted, and compared with the scenario. Where the twin records something other than what it was
given (a visit's span includes travel; two approval steps are seen as one delay) the expected
value says so. Finally every fitted parameter is merged into the scenario, which must validate.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import small_scenario, small_scenario_data

from calibration.fits import (
    FitResult,
    apply_params,
    fit_arrivals,
    fit_handoff,
    fit_installation,
    fit_lead_times,
    fit_order_mix,
    fit_promise,
    fit_satisfaction,
)
from sim.distributions import build
from sim.model import simulate
from sim.scenario import Scenario

OVERRIDES = {"run__duration_days": 730, "customers__referral_probability": 0.0}


@pytest.fixture(scope="module")
def history() -> dict[str, pd.DataFrame]:
    scenario = small_scenario(**OVERRIDES)
    run = simulate(scenario, seed=3)
    t0 = pd.Timestamp(scenario.run.start_date)

    def ts(hours: pd.Series) -> pd.Series:
        return t0 + pd.to_timedelta(hours.astype(float), unit="h")

    o = run.orders
    orders = pd.DataFrame(
        {
            "order_id": o["order_id"],
            "created_at": ts(o["created_at"]),
            "region": o["region"],
            "size": o["size_fixtures"],
            "value": o["value"],
            "promised_at": ts(o["promised_at"]),
            "handed_off_at": ts(o["handed_off_at"]),
            "completed_at": ts(o["completed_at"]),
        }
    )
    lines = [
        (oid, sku, float(qty))
        for oid, bom in zip(o["order_id"], o["bom"], strict=True)
        for sku, qty in (item.split(":") for item in bom.split(";") if item)
    ]
    v = run.visits
    visits = pd.DataFrame(
        {
            "visit_id": v["visit_id"].astype(str),
            "order_id": v["order_id"],
            "crew_id": v["crew_id"],
            "started_at": ts(v["started_at"]),
            "finished_at": ts(v["finished_at"]),
            "outcome": v["outcome"],
        }
    )
    p = run.purchase_orders
    pos = pd.DataFrame(
        {
            "po_id": p["po_id"].astype(str),
            "sku": p["sku"],
            "supplier": p["supplier"],
            "qty": p["qty"],
            "ordered_at": ts(p["ordered_at"]),
            "promised_at": ts(p["due_at"]),
            "received_at": ts(p["received_at"]),
        }
    )
    done = o["satisfied"].notna()
    return {
        "orders": orders,
        "order_lines": pd.DataFrame(lines, columns=["order_id", "sku", "qty"]),
        "visits": visits,
        "purchase_orders": pos,
        "surveys": pd.DataFrame(
            {"order_id": o.loc[done, "order_id"], "satisfied": o.loc[done, "satisfied"]}
        ),
    }


@pytest.fixture(scope="module")
def fits(history: dict[str, pd.DataFrame]) -> dict[str, FitResult]:
    h = history
    start = small_scenario(**OVERRIDES).run.start_date
    return {
        "arrivals": fit_arrivals(h["orders"], reference_date=start),
        "mix": fit_order_mix(h["orders"], h["order_lines"]),
        "promise": fit_promise(h["orders"]),
        "handoff": fit_handoff(h["orders"]),
        "lead_times": fit_lead_times(h["purchase_orders"]),
        "installation": fit_installation(h["visits"], h["orders"]),
        "satisfaction": fit_satisfaction(h["orders"], h["surveys"], h["visits"]),
    }


def test_arrivals_mix_and_promise_come_back(fits: dict[str, FitResult]) -> None:
    scenario = small_scenario(**OVERRIDES)
    a = fits["arrivals"].params
    assert a["arrivals.base_rate_per_day"] == pytest.approx(3.0, rel=0.12)
    assert abs(a["arrivals.trend_per_year"]) < 0.1
    np.testing.assert_allclose(a["arrivals.weekday_factors"], 1.0, atol=0.2)
    m = fits["mix"].params
    assert m["orders.regions"] == pytest.approx({"east": 0.5, "west": 0.5}, abs=0.04)
    assert build(m["orders.value_per_fixture"]).mean == pytest.approx(400.0, rel=0.03)
    assert {line["sku"]: line for line in m["orders.bom"]} == {
        "fixture": {"sku": "fixture", "qty_per_fixture": 1.0, "qty_per_order": 0.0},
        "hub": {"sku": "hub", "qty_per_fixture": 0.0, "qty_per_order": 1.0},
    }
    assert fits["promise"].params["promise.fixed_days"] == scenario.promise.fixed_days


def test_handoff_and_lead_times_come_back(fits: dict[str, FitResult]) -> None:
    h = fits["handoff"].params
    assert h["handoff.mode"] == "batched"
    assert (h["handoff.meeting_weekday"], h["handoff.meeting_hour"]) == ("mon", 10.0)
    # two exponential steps of mean 4 office hours are seen as one delay of mean 8
    assert build(h["handoff.approval_delay_hours"]).mean == pytest.approx(8.0, rel=0.1)
    suppliers = {
        s["name"]: s["lead_time_days"] for s in fits["lead_times"].params["supply.suppliers"]
    }
    assert build(suppliers["far"]).mean == pytest.approx(8.0, rel=0.1)
    assert suppliers["near"] == {"kind": "deterministic", "value": 3.0}


def test_installation_and_satisfaction_come_back(fits: dict[str, FitResult]) -> None:
    i = fits["installation"].params
    assert i["installation.hours_per_fixture"] == pytest.approx(0.75, rel=0.05)
    # the twin's visit span starts at departure: setup absorbs one leg of travel (0.5 or 1.5 h),
    # and the visits follow each other without gaps, so travel is not fitted separately
    assert 1.0 + 0.5 <= i["installation.setup_hours"] <= 1.0 + 1.5
    assert "dispatch.travel.within_region_hours" not in i
    assert any("travel seems to be inside the visit" in n for n in fits["installation"].notes)
    assert i["installation.rework_probability"] == pytest.approx(0.15, abs=0.04)
    assert i["installation.customer_absent_probability"] == pytest.approx(0.08, abs=0.02)
    sat = fits["satisfaction"]
    truth = {"intercept": 2.0, "late_days": -0.25, "lead_time_days": -0.02, "revisits": -0.5}
    for name, value in truth.items():
        assert abs(sat.diagnostics["coef"][name] - value) < 3 * sat.diagnostics["se"][name], name


def test_all_fitted_parameters_make_a_valid_scenario(fits: dict[str, FitResult]) -> None:
    data = small_scenario_data(**OVERRIDES)
    for result in fits.values():
        data = apply_params(data, result.params)
        json.dumps(result.to_dict())  # results are JSON-ready for the report
    scenario = Scenario.model_validate(data)
    far = next(s for s in scenario.supply.suppliers if s.name == "far")
    assert far.disruptions_per_year == 4  # merged by name: unfitted supplier fields are kept
    assert scenario.handoff.approval_steps == 1
