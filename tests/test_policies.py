"""Policies of issue 6 as mechanisms: each effect follows from what the policy does, neutral
parameters change nothing, and a policy on a company without the parts it needs is refused."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
from conftest import SCENARIOS, small_scenario, small_scenario_data

from sim.calendar import WorkCalendar
from sim.customers import judge
from sim.dispatch import Crew, Dispatcher
from sim.installation import visit_outcome
from sim.kpis import KPI_NAMES
from sim.model import RunResult, simulate
from sim.orders import Order
from sim.policies.schedule import occurrences
from sim.policies.voice_of_customer import learned
from sim.scenario import (
    CustomersSpec,
    DispatchSpec,
    InstallationSpec,
    Scenario,
    VoiceOfCustomerSpec,
)
from sim.scenario_files import ScenarioError, load_scenario

POLICIES = SCENARIOS / "policies"
MONDAY = dt.date(2025, 1, 6)
HOURS_PER_DAY = 24.0


def with_changes(scenario: Scenario, **sections: dict[str, Any]) -> Scenario:
    """The scenario with keys of some sections replaced, validated again."""
    data = scenario.model_dump()
    for section, values in sections.items():
        data[section].update(values)
    return Scenario.model_validate(data)


def same_kpis_except(a: RunResult, b: RunResult, *names: str) -> None:
    for name in KPI_NAMES:
        if name in names:
            continue
        x, y = a.kpis[name], b.kpis[name]
        assert (math.isnan(x) and math.isnan(y)) or x == y, name


def window_sum(result: RunResult, column: str) -> float:
    start, end = result.window
    hours = result.timeseries["day"] * HOURS_PER_DAY
    return float(result.timeseries.loc[(hours >= start) & (hours < end), column].sum())


@pytest.fixture(scope="module")
def base_run(baseline: Scenario) -> RunResult:
    return simulate(baseline, seed=3, replication=1)


# --- delivery committee ----------------------------------------------------------------------

COMMITTEE = {"enabled": True, "meeting_weekday": "wed", "members": 4, "duration_hours": 1.5}


@pytest.mark.parametrize(
    "neutral",
    [
        {"risk_margin_days": -10_000.0},  # a threshold no order meets
        {"risk_horizon_days": 0.0, "include_late_orders": False},  # nothing due in the window
    ],
)
def test_committee_that_finds_no_order_at_risk_changes_nothing_but_cost(
    baseline: Scenario, base_run: RunResult, neutral: dict[str, Any]
) -> None:
    scenario = with_changes(baseline, committee={**COMMITTEE, **neutral})
    result = simulate(scenario, seed=3, replication=1)
    pd.testing.assert_frame_equal(result.orders, base_run.orders)
    pd.testing.assert_frame_equal(result.visits, base_run.visits)
    pd.testing.assert_frame_equal(result.purchase_orders, base_run.purchase_orders)
    same_kpis_except(result, base_run, "cost", "profit")
    assert result.info["committee"]["orders_acted_on"] == 0
    # the meetings still cost their person-hours: 4 members x 1.5 h, weekly
    meetings_in_window = window_sum(result, "meeting_hours") / (4 * 1.5)
    assert meetings_in_window == pytest.approx(round(meetings_in_window))
    assert meetings_in_window > 50
    extra = result.kpis["cost"] - base_run.kpis["cost"]
    assert extra == pytest.approx(meetings_in_window * 4 * 1.5 * baseline.costs.meeting_hour)


def test_committee_prioritizes_expedites_and_informs(
    baseline: Scenario, base_run: RunResult
) -> None:
    scenario = load_scenario(POLICIES / "committee.toml")
    result = simulate(scenario, seed=3, replication=1)
    orders, counts = result.orders, result.info["committee"]
    assert counts["meetings"] > 50 and counts["orders_acted_on"] > 0
    assert orders["priority"].any() and orders["informed"].any()
    informed = orders[orders["informed"]]
    assert informed["informed_at"].notna().all() and informed["revised_promise_at"].notna().all()
    # informed at a meeting end: 08:30 + 1 h on Mondays (Tuesday after a holiday Monday)
    assert np.allclose(informed["informed_at"] % HOURS_PER_DAY, 9.5)
    weekday = (informed["informed_at"] // HOURS_PER_DAY) % 7
    assert weekday.isin([0, 1]).all() and (weekday == 0).mean() > 0.9
    assert (informed["informed_at"] >= informed["created_at"]).all()
    # its actions: expedited purchase orders with their premium, and a changed flow
    expedited = result.purchase_orders[result.purchase_orders["expedited"]]
    assert counts["units_expedited"] == expedited["qty"].sum() > 0
    assert (expedited["premium"] > 0).all()
    assert base_run.purchase_orders["expedited"].sum() == 0
    assert result.kpis["lead_time_mean_days"] != base_run.kpis["lead_time_mean_days"]
    assert result.kpis["satisfaction_rate"] > base_run.kpis["satisfaction_rate"]


def test_committee_limit_per_meeting_caps_its_actions() -> None:
    common = {"committee": {**COMMITTEE, "max_orders_per_meeting": 3}}
    result = simulate(small_scenario(**common), seed=5)
    counts = result.info["committee"]
    assert counts["orders_acted_on"] <= 3 * counts["meetings"]
    assert counts["orders_at_risk"] > counts["orders_acted_on"]


def test_priority_orders_are_dispatched_first_unless_their_kit_is_missing() -> None:
    env = simpy.Environment()
    spec = DispatchSpec.model_validate(
        {"crews": [{"name": "a", "home_region": "east"}], "rule": "fifo"}
    )
    dispatcher = Dispatcher(
        env,
        spec,
        lambda o, now: o.kit_complete_at is not None,
        lambda o: 1.0,
        honour_priority=True,
    )
    crew = Crew("a", "east", WorkCalendar.always_open(MONDAY))
    first, urgent, short = (make_order(i) for i in range(3))
    urgent.priority = short.priority = True
    short.reserved = True  # reserved, kit not complete
    for order in (first, short, urgent):
        dispatcher.add(order)
    assert dispatcher.take(crew, 0.0) is urgent
    assert dispatcher.take(crew, 0.0) is first  # the short priority order keeps its place
    assert dispatcher.take(crew, 0.0) is short


def test_informed_days_late_count_at_the_informed_coefficient() -> None:
    spec = CustomersSpec(satisfaction_per_late_day=-0.2, satisfaction_per_late_day_informed=-0.05)
    told_early, told_late, untold = make_order(0), make_order(1), make_order(2)
    for order in (told_early, told_late, untold):
        order.created_at, order.promised_at, order.completed_at = 0.0, 72.0, 72.0 + 10 * 24
        order.visits = 1
    told_early.informed_at = 48.0  # before the promise: every late day is an informed one
    told_late.informed_at = 72.0 + 4 * 24  # 4 days after the promise: 4 full-rate days
    for order in (told_early, told_late, untold):
        judge(order, spec)

    def logit(order: Order) -> float:
        p = order.satisfaction_probability
        return math.log(p / (1 - p))

    lead = -0.02 * (10 + 3)
    assert logit(untold) == pytest.approx(2.0 + lead - 0.2 * 10)
    assert logit(told_early) == pytest.approx(2.0 + lead - 0.05 * 10)
    assert logit(told_late) == pytest.approx(2.0 + lead - 0.2 * 4 - 0.05 * 6)


# --- integrated platform ---------------------------------------------------------------------

PLATFORM_PARTS = sorted((POLICIES / "platform").glob("*.toml"))


def test_zero_stock_delay_and_no_batching_equal_immediate_handoff(
    tmp_path: Path, baseline: Scenario
) -> None:
    both = tmp_path / "both.toml"
    parts = [
        (POLICIES / "platform" / n).as_posix()
        for n in ("immediate_handoff.toml", "realtime_stock.toml")
    ]
    both.write_text(f"extends = {parts!r}\n".replace("'", '"'), encoding="utf-8")
    overlay = simulate(load_scenario(both), seed=4)
    direct = with_changes(
        baseline, handoff={"mode": "immediate"}, supply={"stock_visibility_delay_hours": 0.0}
    )
    pd.testing.assert_frame_equal(overlay.orders, simulate(direct, seed=4).orders)
    # and it is the hand-off that changed: no order waits for the weekly meeting any more
    orders = overlay.orders
    assert (orders["handoff_meeting_at"] == orders["created_at"]).all()


def test_platform_overlay_is_the_composition_of_its_parts() -> None:
    assert {p.stem for p in PLATFORM_PARTS} == {
        "immediate_handoff",
        "realtime_stock",
        "reserve_at_handoff",
        "continuous_review",
        "kit_check",
        "region_routing",
    }
    whole = load_scenario(POLICIES / "platform.toml").model_dump()
    composed = load_scenario(PLATFORM_PARTS[0]).model_dump()
    for part in PLATFORM_PARTS:
        data = load_scenario(part).model_dump()
        base = load_scenario(SCENARIOS / "baseline.toml").model_dump()
        for section in ("handoff", "supply", "dispatch"):
            for key, value in data[section].items():
                if value != base[section][key]:
                    composed[section][key] = value
    for section in ("handoff", "supply", "dispatch"):
        assert composed[section] == whole[section], section
    for section in set(whole) - {"name", "description", "handoff", "supply", "dispatch"}:
        assert whole[section] == load_scenario(SCENARIOS / "baseline.toml").model_dump()[section]


def test_each_platform_part_changes_only_its_switch(baseline: Scenario) -> None:
    base = baseline.model_dump()
    for part in PLATFORM_PARTS:
        data = load_scenario(part).model_dump()
        changed = [
            (section, key)
            for section in ("handoff", "supply", "dispatch")
            for key in data[section]
            if data[section][key] != base[section][key]
        ]
        assert len(changed) == 1, (part.name, changed)


# --- voice of the customer -------------------------------------------------------------------

VOC = {
    "enabled": True,
    "period_days": 7.0,
    "start_day": 0.0,
    "learning_rate": 0.5,
    "rework_probability_floor": 0.05,
}


def test_rework_probability_falls_but_never_below_the_floor(baseline: Scenario) -> None:
    result = simulate(with_changes(baseline, voice_of_customer=VOC), seed=2)
    series = result.timeseries["rework_probability"]
    assert series.min() >= 0.05
    assert series.iloc[0] == baseline.installation.rework_probability
    assert series.iloc[-1] < 0.051  # converged on the floor
    assert (np.diff(series.to_numpy()) <= 0).all()  # learning never goes backwards
    history = [p for _, p in result.info["voice_of_customer"]["rework_probability"]]
    assert min(history) >= 0.05 and history[-1] < history[0]
    assert result.info["voice_of_customer"]["sessions"] >= 55


def test_learning_closes_the_gap_to_the_floor_geometrically() -> None:
    spec = VoiceOfCustomerSpec(enabled=True, learning_rate=0.25, rework_probability_floor=0.04)
    p = 0.12
    for _ in range(3):
        p = learned(p, spec)
    assert p == pytest.approx(0.04 + 0.08 * 0.75**3)
    assert learned(0.04, spec) == 0.04
    full = VoiceOfCustomerSpec(enabled=True, learning_rate=1.0, rework_probability_floor=0.04)
    assert learned(0.3, full) == 0.04


def test_voice_of_customer_lowers_rework_visits(baseline: Scenario, base_run: RunResult) -> None:
    result = simulate(load_scenario(POLICIES / "voice_of_customer.toml"), seed=3, replication=1)

    def rework(r: RunResult) -> int:
        return int((r.visits["outcome"] == "rework").sum())

    assert rework(result) < 0.8 * rework(base_run)
    assert result.kpis["first_time_right_rate"] > base_run.kpis["first_time_right_rate"]
    assert window_sum(result, "meeting_hours") > 0


def test_a_lower_rework_probability_only_turns_marginal_visits_into_successes() -> None:
    spec = InstallationSpec(rework_probability=0.12, customer_absent_probability=0.0)
    u = np.linspace(0.0, 1.0, 101)
    before = [visit_outcome(spec, 0.5, x, True) for x in u]
    after = [visit_outcome(spec, 0.5, x, True, rework_probability=0.06) for x in u]
    assert before == [visit_outcome(spec, 0.5, x, True, 0.12) for x in u]
    changed = [x for x, a, b in zip(u, before, after, strict=True) if a != b]
    assert changed and all(0.06 <= x < 0.12 for x in changed)


# --- shared on-time KPI ----------------------------------------------------------------------


def test_kpi_weight_zero_leaves_quoting_and_dispatch_as_the_baseline(
    baseline: Scenario, base_run: RunResult
) -> None:
    neutral = with_changes(
        baseline, shared_kpi={"weight": 0.0, "base_confidence": 0.9, "max_confidence": 0.99}
    )
    result = simulate(neutral, seed=3, replication=1)
    pd.testing.assert_frame_equal(result.orders, base_run.orders)
    pd.testing.assert_frame_equal(result.visits, base_run.visits)


def test_kpi_weight_makes_sales_quote_safer_dates_and_dispatch_by_promise() -> None:
    def run(weight: float) -> RunResult:
        return simulate(small_scenario(shared_kpi={"weight": weight}), seed=6)

    low, high = run(0.1), run(0.9)
    assert low.orders["quoted_days"].nunique() > 3  # quoted from the backlog, not fixed
    assert high.kpis["promised_days_mean"] > low.kpis["promised_days_mean"]
    # same promises as the quoted policy at the derived confidence, ordered by promise date
    explicit = small_scenario(
        promise__policy="quoted",
        promise__confidence=0.6 + 0.1 * (0.95 - 0.6),
        dispatch__rule="earliest_promise",
    )
    pd.testing.assert_frame_equal(low.orders, simulate(explicit, seed=6).orders)


def test_kpi_weight_orders_region_clustering_by_promise() -> None:
    spec = DispatchSpec.model_validate(
        {"crews": [{"name": "a", "home_region": "east"}], "rule": "region_cluster"}
    )
    dispatcher = Dispatcher(
        simpy.Environment(), spec, lambda o, now: True, lambda o: 1.0, by_promise=True
    )
    crew = Crew("a", "east", WorkCalendar.always_open(MONDAY))
    orders = [make_order(i, region=r) for i, r in enumerate(("west", "east", "east"))]
    for order, promise in zip(orders, (1.0, 9.0, 5.0), strict=True):
        order.promised_at = promise
        dispatcher.add(order)
    assert [dispatcher.take(crew, 0.0) for _ in range(3)] == [orders[2], orders[1], orders[0]]


# --- forecast-driven capacity ----------------------------------------------------------------

FORECAST = {
    "enabled": True,
    "planning_weekday": "mon",
    "extra_overtime_hours_per_day": 2.0,
    "flex_crews": 2,
    "flex_home_region": "south",
}


def test_forecast_capacity_with_an_unreachable_threshold_adds_no_hours(
    baseline: Scenario, base_run: RunResult
) -> None:
    scenario = with_changes(baseline, forecast_capacity={**FORECAST, "threshold_days": 1e6})
    result = simulate(scenario, seed=3, replication=1)
    pd.testing.assert_frame_equal(result.orders, base_run.orders)
    pd.testing.assert_frame_equal(result.visits, base_run.visits)
    same_kpis_except(result, base_run)  # cost included: nothing was added
    assert result.timeseries["flex_crew_hours"].sum() == 0
    assert result.info["forecast_capacity"]["boosted_plans"] == 0
    assert result.info["forecast_capacity"]["plans"] > 50


def test_forecast_capacity_with_a_low_threshold_adds_hours_and_cost(
    baseline: Scenario, base_run: RunResult
) -> None:
    scenario = with_changes(baseline, forecast_capacity={**FORECAST, "threshold_days": 0.0})
    result = simulate(scenario, seed=3, replication=1)
    assert (
        result.info["forecast_capacity"]["boosted_plans"]
        == result.info["forecast_capacity"]["plans"]
    )
    visits = result.visits
    flex = visits[visits["crew_id"].str.startswith("flex-")]
    assert len(flex) > 100
    assert visits["overtime_hours"].sum() > base_run.visits["overtime_hours"].sum()
    assert (result.timeseries["overtime_allowance_hours"].iloc[1:] == 3.0).all()
    # the flex crews are paid for every shift hour: 2 crews x 45 h a week
    flex_hours = window_sum(result, "flex_crew_hours")
    weeks = (result.window[1] - result.window[0]) / (7 * HOURS_PER_DAY)
    assert flex_hours == pytest.approx(2 * 45 * weeks, rel=0.03)
    # ... at their own rate: the same run at another rate differs by exactly that cost
    free = simulate(with_changes(scenario, costs={"flex_crew_hour": 0.0}), seed=3, replication=1)
    pd.testing.assert_frame_equal(free.visits, visits)
    assert result.kpis["cost"] - free.kpis["cost"] == pytest.approx(
        flex_hours * scenario.costs.flex_crew_hour
    )
    assert result.kpis["cost"] > base_run.kpis["cost"]
    assert result.kpis["lead_time_mean_days"] < base_run.kpis["lead_time_mean_days"]
    assert result.kpis["crew_utilization"] <= 1.0


def test_flex_crews_start_jobs_only_while_hired() -> None:
    scenario = small_scenario(
        forecast_capacity={**FORECAST, "flex_home_region": "east", "threshold_days": 14.0}
    )
    result = simulate(scenario, seed=2)
    windows = result.info["forecast_capacity"]["flex_windows"]
    flex = result.visits[result.visits["crew_id"].str.startswith("flex-")]
    assert 0 < len(windows) < result.info["forecast_capacity"]["plans"]  # some weeks only
    assert len(flex) > 0
    for start in flex["started_at"]:
        assert any(a <= start < b for a, b in windows)


# --- schedules -------------------------------------------------------------------------------


def test_meetings_recur_on_their_weekday_and_a_holiday_postpones_one() -> None:
    office = WorkCalendar(MONDAY, range(5), 8.0, 17.0, holidays=[dt.date(2025, 1, 15)])
    times = occurrences(office, 0.0, 7.0, "wed", 9.0)
    first = [next(times) for _ in range(3)]
    assert first == [2 * 24 + 9.0, 10 * 24 + 9.0, 16 * 24 + 9.0]  # Wed 8th, Thu 16th, Wed 22nd
    every_30 = occurrences(office, 5.0, 30.0, None, 15.0)  # day 5 is a Saturday
    assert next(every_30) == 7 * 24 + 15.0


# --- bad input -------------------------------------------------------------------------------

BASE = f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
NO_EXPEDITE = "".join(
    f'[[supply.suppliers]]\nname = "{name}"\nlead_time_days = {{ kind = "deterministic", '
    f"value = 5.0 }}\n"
    for name in ("lumentech", "voltparts")
)


@pytest.mark.parametrize(
    ("overlay", "fragment"),
    [
        ("[committee]\nenabled = true\n" + NO_EXPEDITE, "needs a supplier that offers expediting"),
        ("[committee]\nenabled = true\nexpedite_shortfall = false\n" + NO_EXPEDITE, None),
        ('[committee]\nenabled = true\nmeeting_weekday = "sun"\n', "not an office work day"),
        ('[committee]\nmeeting_weekday = "mon"\nperiod_days = 10\n', "whole number of weeks"),
        (
            "[voice_of_customer]\nenabled = true\nrework_probability_floor = 0.2\n",
            "sessions would raise rework",
        ),
        (
            '[forecast_capacity]\nenabled = true\nflex_crews = 1\nflex_home_region = "mars"\n',
            "flex_home_region 'mars' is not in orders.regions",
        ),
        ("[shared_kpi]\nbase_confidence = 0.9\nmax_confidence = 0.8\n", "must not be below"),
        ("[customers]\nsatisfaction_per_late_day_informed = -0.5\n", "must lie between 0 and"),
        ("[customers]\nsatisfaction_per_late_day_informed = 0.1\n", "must lie between 0 and"),
    ],
)
def test_policy_without_the_parts_it_needs_is_refused_at_load(
    tmp_path: Path, overlay: str, fragment: str | None
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(BASE + overlay, encoding="utf-8")
    if fragment is None:
        assert load_scenario(path).committee.enabled
        return
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_committee_kit_actions_need_a_bill_of_materials() -> None:
    data = small_scenario_data(committee={"enabled": True})
    data["orders"]["bom"] = []
    with pytest.raises(ValueError, match="need a bill of materials"):
        Scenario.model_validate(data)
    data["committee"].update(reserve_kit=False, expedite_shortfall=False)
    assert Scenario.model_validate(data).committee.enabled


def test_every_policy_overlay_loads_and_extends_the_baseline(baseline: Scenario) -> None:
    overlays = sorted(POLICIES.rglob("*.toml"))
    assert len(overlays) >= 13
    for path in overlays:
        scenario = load_scenario(path)
        assert scenario.name != baseline.name
        assert scenario.arrivals == baseline.arrivals  # a policy never changes demand


# --- helpers ---------------------------------------------------------------------------------


def make_order(i: int, region: str = "east") -> Order:
    return Order(
        order_id=f"O{i}",
        key=(i, 0),
        created_at=float(i),
        region=region,
        size_fixtures=4,
        value=1000.0,
        bom={},
        effort_factor=1.0,
        u_approvals=np.zeros(8),
        u_visits=np.full((8, 2), 0.5),
        u_satisfaction=0.5,
        u_referral=0.9,
        u_referral_delay=0.5,
    )
