"""Property tests: invariants of every run, over random policies and small random companies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import Model, simulate
from sim.orders import orders_frame
from sim.supply import Supply

policies = st.fixed_dictionaries(
    {
        "dispatch__rule": st.sampled_from(
            ["fifo", "earliest_promise", "shortest_job", "region_cluster"]
        ),
        "dispatch__kit_check": st.booleans(),
        "dispatch__max_overtime_hours_per_day": st.sampled_from([0.0, 1.5]),
        "supply__reserve_at": st.sampled_from(["handoff", "dispatch"]),
        "supply__review": st.sampled_from(["periodic", "continuous"]),
        "supply__stock_visibility_delay_hours": st.sampled_from([0.0, 30.0]),
        "supply__expedite_after_days": st.sampled_from([None, 3.0]),
        "handoff__mode": st.sampled_from(["batched", "immediate"]),
        "promise__policy": st.sampled_from(["fixed", "quoted"]),
        "arrivals__base_rate_per_day": st.floats(1.0, 6.0),
        "installation__rework_probability": st.sampled_from([0.0, 0.3]),
    }
)


def run_checked(scenario, seed: int):
    """Run a model while recording the lowest available stock any SKU ever had."""
    lowest: list[int] = []
    original = Supply._set_available

    def spy(self, state, value):
        lowest.append(value)
        original(self, state, value)

    Supply._set_available = spy
    try:
        model = Model(scenario, seed, 0)
        model.run()
    finally:
        Supply._set_available = original
    return model, lowest


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=policies, seed=st.integers(0, 2**32 - 1))
def test_run_invariants(overrides, seed) -> None:
    scenario = small_scenario(**overrides)
    model, lowest = run_checked(scenario, seed)
    orders = orders_frame(model.orders)
    visits = pd.DataFrame(
        [(v.order_id, v.crew_id, v.started_at, v.finished_at, v.outcome) for v in model.visits],
        columns=["order_id", "crew_id", "started_at", "finished_at", "outcome"],
    )

    # Conservation: every order created is either completed or still open at the end.
    assert orders["order_id"].is_unique
    completed = orders["completed_at"].notna()
    assert set(orders.loc[~completed, "order_id"]) == set(model.open_orders)
    assert completed.sum() + len(model.open_orders) == len(orders)

    # Stock never negative, at any change and at the end; allocations never negative.
    assert min(lowest, default=0) >= 0
    for state in model.supply.skus.values():
        assert state.available >= 0 and state.allocated >= 0 and state.backordered >= 0

    # No crew in two places: a crew's visits never overlap.
    for _, crew_visits in visits.sort_values("started_at").groupby("crew_id"):
        starts = crew_visits["started_at"].to_numpy()
        ends = crew_visits["finished_at"].to_numpy()
        assert np.all(starts[1:] >= ends[:-1] - 1e-9)

    # Stage timestamps are ordered.
    def ordered(a: str, b: str) -> None:
        both = orders[[a, b]].dropna()
        assert (both[a] <= both[b] + 1e-9).all(), (a, b)

    for a, b in [
        ("created_at", "handoff_meeting_at"),
        ("handoff_meeting_at", "handed_off_at"),
        ("handed_off_at", "ready_at"),
        ("handed_off_at", "first_visit_at"),
        ("first_visit_at", "completed_at"),
        ("material_requested_at", "kit_complete_at"),
        ("created_at", "promised_at"),
    ]:
        ordered(a, b)

    # Visits agree with the order records; a completed order has exactly one completing visit.
    per_order = visits.groupby("order_id")["outcome"]
    counts = per_order.size().reindex(orders["order_id"], fill_value=0).to_numpy()
    assert np.array_equal(counts, orders["visits"].to_numpy())
    completions = per_order.apply(lambda s: (s == "completed").sum())
    done_ids = set(orders.loc[completed, "order_id"])
    assert set(completions[completions == 1].index) == done_ids
    assert completions.max() <= 1

    # Lead time is at least hand-off time plus the time crews spent on the order.
    done = orders[completed]
    on_site = visits.assign(d=visits["finished_at"] - visits["started_at"]).groupby("order_id")["d"]
    spent = on_site.sum().reindex(done["order_id"]).to_numpy()
    lead = (done["completed_at"] - done["created_at"]).to_numpy()
    stages = (done["handed_off_at"] - done["created_at"]).to_numpy() + spent
    assert np.all(lead >= stages - 1e-6)


def test_small_company_exercises_the_invariants() -> None:
    """The invariants are not vacuous: crews are busy, stock runs out, visits fail."""
    model, lowest = run_checked(small_scenario(), seed=3)
    per_crew = pd.Series([v.crew_id for v in model.visits]).value_counts()
    assert len(per_crew) == 3 and per_crew.min() > 10
    orders = orders_frame(model.orders)
    assert orders["met_stockout"].sum() > 0
    assert 0 in lowest
    outcomes = {v.outcome for v in model.visits}
    assert outcomes == {"completed", "rework", "customer_absent", "missing_material"}


@pytest.mark.parametrize("rule", ["fifo", "earliest_promise", "shortest_job", "region_cluster"])
def test_every_dispatch_rule_completes_orders(rule: str) -> None:
    result = simulate(small_scenario(dispatch__rule=rule), seed=5)
    assert result.kpis["orders_completed"] > 50
    assert 0 < result.kpis["crew_utilization"] <= 1.5
