"""Unit tests of each process's mechanism, on small companies and by hand-computed values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import small_scenario

from sim.calendar import WorkCalendar
from sim.customers import satisfaction_probability
from sim.installation import work_span
from sim.model import simulate
from sim.promise import quoted_promise_days
from sim.scenario import CustomersSpec, PromiseSpec, SupplierSpec
from sim.supply import disruption_schedule

MONDAY = dt.date(2025, 1, 6)
WEEKDAYS_8_17 = WorkCalendar(MONDAY, range(5), 8.0, 17.0)


def test_work_span_pauses_overnight_without_overtime() -> None:
    # 6 h of work from Monday 14:00 in an 8-17 shift: 3 h Monday, 3 h Tuesday -> Tue 11:00.
    end, regular, overtime = work_span(WEEKDAYS_8_17, 14.0, 6.0, max_overtime_hours=0.0)
    assert end == pytest.approx(24 + 11) and regular == pytest.approx(6.0) and overtime == 0.0


def test_work_span_finishes_late_within_the_overtime_allowance() -> None:
    end, regular, overtime = work_span(WEEKDAYS_8_17, 14.0, 4.5, max_overtime_hours=2.0)
    assert end == pytest.approx(18.5)
    assert regular == pytest.approx(3.0) and overtime == pytest.approx(1.5)


def test_work_span_spans_a_weekend() -> None:
    friday_16 = 4 * 24 + 16.0
    end, _, _ = work_span(WEEKDAYS_8_17, friday_16, 3.0, max_overtime_hours=0.0)
    assert end == pytest.approx(7 * 24 + 10.0)  # Monday 10:00


def test_batched_handoff_waits_for_the_weekly_meeting() -> None:
    result = simulate(small_scenario(handoff__approval_steps=0), seed=1)
    meetings = result.orders["handoff_meeting_at"].dropna().to_numpy()
    assert np.all(meetings % (7 * 24) == pytest.approx(10.0))  # Mondays 10:00 (start is Monday)
    handed = result.orders.dropna(subset=["handed_off_at"])
    assert np.all(handed["handed_off_at"] == handed["handoff_meeting_at"])


def test_immediate_handoff_with_approvals_takes_office_hours_only() -> None:
    result = simulate(small_scenario(handoff__mode="immediate"), seed=1)
    orders = result.orders.dropna(subset=["handed_off_at"])
    assert np.all(orders["handoff_meeting_at"] == orders["created_at"])
    office = WorkCalendar(MONDAY, range(5), 8.0, 17.0)
    for _, row in orders.head(30).iterrows():
        worked = office.working_hours_between(row["created_at"], row["handed_off_at"])
        assert worked > 0  # two approval steps of exponential office hours
        assert office.is_working(row["handed_off_at"]) or row["handed_off_at"] % 24 == 17.0


def test_quoted_promise_grows_with_backlog_and_confidence() -> None:
    spec = PromiseSpec(policy="quoted", confidence=0.8, quote_cv=0.3)
    short = quoted_promise_days(spec, 1.0, 10.0, 5.0, 40.0, 0.0)
    long = quoted_promise_days(spec, 1.0, 400.0, 5.0, 40.0, 0.0)
    assert long > short
    sure = PromiseSpec(policy="quoted", confidence=0.95, quote_cv=0.3)
    assert quoted_promise_days(sure, 1.0, 400.0, 5.0, 40.0, 0.0) > long
    assert quoted_promise_days(spec, 1.0, 400.0, 5.0, 40.0, 12.0) > long


def test_quoted_promises_follow_the_backlog_in_a_run() -> None:
    result = simulate(small_scenario(promise__policy="quoted"), seed=2)
    orders = result.orders
    assert orders["quoted_days"].nunique() > 3
    assert orders["promised_days"].min() >= 1.0


def test_satisfaction_falls_with_lateness_and_revisits() -> None:
    spec = CustomersSpec()
    on_time = satisfaction_probability(spec, 0.0, 3.0, 0)
    late = satisfaction_probability(spec, 10.0, 13.0, 0)
    revisited = satisfaction_probability(spec, 10.0, 13.0, 2)
    assert on_time > late > revisited
    assert satisfaction_probability(spec, -5.0, 3.0, 0) == pytest.approx(on_time)  # early = 0


def test_disruptions_hold_receipts_until_they_end() -> None:
    spec = SupplierSpec.model_validate(
        {
            "name": "s",
            "lead_time_days": {"kind": "deterministic", "value": 5},
            "disruptions_per_year": 12,
            "disruption_days": {"kind": "deterministic", "value": 10},
        }
    )
    schedule = disruption_schedule(spec, np.random.default_rng(0), horizon_hours=24 * 365)
    assert 4 <= len(schedule) <= 25
    assert all(end - start == pytest.approx(240.0) for start, end in schedule)


def test_receipts_in_a_disruption_arrive_when_it_ends() -> None:
    heavy = {
        "name": "far",
        "lead_time_days": {"kind": "deterministic", "value": 4.0},
        "disruptions_per_year": 20,
        "disruption_days": {"kind": "deterministic", "value": 10.0},
    }
    result = simulate(small_scenario(supply__suppliers=[heavy, _near()]), seed=3)
    pos = result.purchase_orders
    far = pos[pos["supplier"] == "far"].dropna(subset=["received_at"])
    lead_days = (far["received_at"] - far["ordered_at"]) / 24
    assert (lead_days >= 4.0 - 1e-9).all()
    assert (lead_days > 4.0 + 1e-6).any()  # some were held by a disruption


def _near() -> dict:
    return {"name": "near", "lead_time_days": {"kind": "deterministic", "value": 3.0}}


def test_expediting_shortens_material_waits() -> None:
    slow = {
        "name": "far",
        "lead_time_days": {"kind": "deterministic", "value": 20.0},
        "expedite_lead_time_days": {"kind": "deterministic", "value": 2.0},
        "expedite_premium_per_unit": 9.0,
    }
    common = {"supply__suppliers": [slow, _near()], "supply__reserve_at": "handoff"}
    plain = simulate(small_scenario(**common), seed=4)
    fast = simulate(small_scenario(**common, supply__expedite_after_days=1.0), seed=4)
    assert plain.purchase_orders["expedited"].sum() == 0
    expedited = fast.purchase_orders[fast.purchase_orders["expedited"]]
    assert len(expedited) > 0
    assert (expedited["premium"] == expedited["qty"] * 9.0).all()
    assert fast.kpis["material_wait_mean_days"] < plain.kpis["material_wait_mean_days"]


def test_stale_stock_view_sends_crews_without_kits() -> None:
    """With reservation at dispatch, a stale view makes the kit check let through crews whose
    kit is gone; a current view does not."""
    common = {"dispatch__kit_check": True, "supply__reserve_at": "dispatch"}
    fresh = simulate(small_scenario(**common, supply__stock_visibility_delay_hours=0.0), seed=6)
    stale = simulate(small_scenario(**common, supply__stock_visibility_delay_hours=72.0), seed=6)

    def missing(result) -> int:
        return int((result.visits["outcome"] == "missing_material").sum())

    assert missing(stale) > missing(fresh)


def test_kit_check_with_reservation_prevents_missing_material_visits() -> None:
    common = {"supply__reserve_at": "handoff", "supply__stock_visibility_delay_hours": 48.0}
    unchecked = simulate(small_scenario(**common), seed=7)
    checked = simulate(small_scenario(**common, dispatch__kit_check=True), seed=7)
    outcomes = checked.visits["outcome"]
    assert (unchecked.visits["outcome"] == "missing_material").sum() > 0
    assert (outcomes == "missing_material").sum() == 0


def test_referrals_feed_arrivals() -> None:
    none = simulate(small_scenario(customers__referral_probability=0.0), seed=8).orders
    many = simulate(small_scenario(customers__referral_probability=0.9), seed=8).orders
    assert none["parent_id"].isna().all()
    referred = many[many["parent_id"].notna()]
    assert len(referred) > 5
    parents = many.set_index("order_id").loc[referred["parent_id"]]
    assert parents["satisfied"].all()
    assert (referred["created_at"].to_numpy() >= parents["completed_at"].to_numpy()).all()


def test_rework_and_absence_send_orders_back() -> None:
    result = simulate(
        small_scenario(
            installation__rework_probability=0.5, installation__customer_absent_probability=0.3
        ),
        seed=9,
    )
    done = result.orders[result.orders["completed_at"].notna()]
    assert (done["visits"] > 1).mean() > 0.5
    assert result.kpis["first_time_right_rate"] < 0.5
    rework_visits = result.visits[result.visits["outcome"] == "rework"]
    completed = result.visits[result.visits["outcome"] == "completed"]
    # A rework visit is shorter than a full job on average (rework_hours_fraction < 1).
    revisits = completed[completed["order_id"].isin(rework_visits["order_id"])]
    assert revisits["on_site_hours"].mean() < rework_visits["on_site_hours"].mean()


def test_overtime_is_counted_and_costed() -> None:
    none = simulate(small_scenario(dispatch__max_overtime_hours_per_day=0.0), seed=10)
    some = simulate(small_scenario(dispatch__max_overtime_hours_per_day=2.0), seed=10)
    assert none.visits["overtime_hours"].sum() == 0
    assert some.visits["overtime_hours"].sum() > 0


def test_a_crew_works_to_its_own_calendar() -> None:
    weekend = {"work_days": ["sat", "sun"], "shift_start_hour": 9.0, "shift_end_hour": 15.0}
    crews = [
        {"name": "e", "home_region": "east", "count": 2},
        {"name": "weekend", "home_region": "west", "calendar": weekend},
    ]
    result = simulate(small_scenario(dispatch__crews=crews), seed=12)
    own = result.visits[result.visits["crew_id"] == "weekend"]
    assert len(own) > 5
    calendar = WorkCalendar(MONDAY, [5, 6], 9.0, 15.0)
    assert all(calendar.is_working(t) for t in own["started_at"])
    others = result.visits[result.visits["crew_id"] != "weekend"]
    assert all(WEEKDAYS_8_17.weekday(t) < 5 for t in others["started_at"])


def test_reserving_twice_holds_one_reservation() -> None:
    """Regression: a committee reserved a kit before hand-off, and hand-off reserved it again,
    which queued the order twice for the same SKU."""
    from sim.model import Model

    model = Model(small_scenario(supply__reserve_at="handoff"), seed=1, replication=0)
    model.run()
    order = next(o for o in model.orders if o.shortfall)
    state = model.supply.skus[next(iter(order.shortfall))]
    queued, short = list(state.backorders).count(order), dict(order.shortfall)
    assert model.supply.reserve(order) is False
    assert list(state.backorders).count(order) == queued == 1
    assert order.shortfall == short
