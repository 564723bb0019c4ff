"""The fits on real public exports (../shared/data/real): messy data, known published figures.

Olist (orders, reviews, daily totals) and the USAID SCMS shipment history are mapped onto the
canonical tables here with plain pandas, the way a column map would, so these tests exercise
the fits only. They skip when the data folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.fits import (
    fit_arrivals,
    fit_lead_times,
    fit_promise,
    fit_satisfaction,
)
from sim.distributions import parse_spec

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real exports not found at {REAL} (see DESIGN.md)"
)


@pytest.fixture(scope="module")
def olist() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(REAL / "olist" / "olist_orders_dataset.csv")
    orders = pd.DataFrame(
        {
            "order_id": raw["order_id"],
            "created_at": pd.to_datetime(raw["order_purchase_timestamp"]),
            "promised_at": pd.to_datetime(raw["order_estimated_delivery_date"]),
            "completed_at": pd.to_datetime(raw["order_delivered_customer_date"]),
        }
    )
    reviews = pd.read_csv(REAL / "olist" / "olist_order_reviews_dataset.csv")
    surveys = pd.DataFrame({"order_id": reviews["order_id"], "score": reviews["review_score"]})
    return orders, surveys


def test_olist_satisfaction_buckets_match_the_published_figures(olist) -> None:
    orders, surveys = olist
    result = fit_satisfaction(orders, surveys, threshold=4)
    buckets = result.diagnostics["buckets"]
    observed = dict(zip(buckets["bucket"], buckets["observed"], strict=True))
    # data README: about 82% / 66% / 27% / 12% satisfied
    assert observed["on time"] == pytest.approx(0.82, abs=0.02)
    assert observed["0-3 days late"] == pytest.approx(0.66, abs=0.03)
    assert observed["3-7 days late"] == pytest.approx(0.27, abs=0.03)
    assert observed[">7 days late"] == pytest.approx(0.12, abs=0.03)
    assert result.params["customers.satisfaction_per_late_day"] < 0
    assert result.n > 14_000
    # a linear logit cannot follow the sharp drop after a few days: the fit says so
    assert any("misses the shape of lateness" in note for note in result.notes)


def test_olist_promises_vary_and_the_median_is_used(olist) -> None:
    orders, _ = olist
    result = fit_promise(orders)
    assert 20 < result.params["promise.fixed_days"] < 27
    assert any("quoted" in note for note in result.notes)


def test_olist_daily_totals_are_overdispersed_with_a_weekday_profile() -> None:
    daily = pd.read_csv(REAL / "olist" / "olist_daily_delivered_orders.csv")
    created = pd.to_datetime(np.repeat(daily["ds"].to_numpy(), daily["orders"].to_numpy()))
    result = fit_arrivals(pd.DataFrame({"created_at": created}))
    weekday = result.params["arrivals.weekday_factors"]
    assert min(weekday) in weekday[5:]  # weekends are quieter
    assert result.diagnostics["dispersion"]["overdispersed"]  # Black Friday, ramp-up
    assert result.n == int(daily["orders"].sum())


def test_scms_lead_times_per_shipment_mode() -> None:
    raw = pd.read_csv(REAL / "scms" / "SCMS_Delivery_History_Dataset.csv", encoding="utf-8-sig")

    def date(column: str) -> pd.Series:
        return pd.to_datetime(raw[column], format="mixed", errors="coerce")  # "Date Not Captured"

    pos = pd.DataFrame(
        {
            "po_id": raw["ID"].astype(str),
            "supplier": raw["Shipment Mode"],
            "ordered_at": date("PO Sent to Vendor Date"),
            "promised_at": date("Scheduled Delivery Date"),
            "received_at": date("Delivered to Client Date"),
        }
    ).dropna(subset=["supplier", "ordered_at"])
    result = fit_lead_times(pos, skip_small=True)
    assert {"Air", "Ocean", "Truck"} <= set(result.parts)
    for part in result.parts.values():
        parse_spec(part.params["lead_time_days"])
        assert "dates without times" in " ".join(part.notes)
    means = {
        k: parse_spec(p.params["lead_time_days"]).build().mean for k, p in result.parts.items()
    }
    assert means["Air"] < means["Ocean"]  # ships are slower than planes
    assert 0.5 < result.parts["Air"].diagnostics["on_time"]["rate"] <= 1.0
