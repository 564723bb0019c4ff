"""The thin model: wires the processes together and runs one replication.

``simulate(scenario, seed, replication)`` is a pure function: no file I/O, no global state, the
same inputs give the same result. Each process lives in its own module; this one only owns the
runtime state of one run and passes each process what it needs.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import simpy

from sim import customers, installation
from sim.arrivals import ArrivalRate, OrderFactory, arrival_process
from sim.calendar import WorkCalendar
from sim.dispatch import Crew, Dispatcher, crews_from_spec
from sim.distributions import build
from sim.handoff import Handoff
from sim.installation import Visit
from sim.kpis import compute_kpis, measurement_window
from sim.orders import Order, orders_frame
from sim.policies.committee import Committee
from sim.policies.forecast_capacity import CapacityPlanner
from sim.policies.ledger import PolicyLedger
from sim.policies.shared_kpi import dispatch_by_promise, effective_promise
from sim.policies.voice_of_customer import VoiceOfCustomer
from sim.promise import quoted_promise_days
from sim.scenario import CalendarSpec, Scenario
from sim.streams import RandomStreams
from sim.supply import Supply
from sim.timeseries import DailyMonitor, crew_busy_by_day, purchase_orders_frame, visits_frame

log = logging.getLogger(__name__)
HOURS_PER_DAY = 24.0


def make_calendar(spec: CalendarSpec, scenario: Scenario) -> WorkCalendar:
    return WorkCalendar(
        start_date=scenario.run.start_date,
        work_weekdays=spec.weekday_numbers,
        shift_start_hour=spec.shift_start_hour,
        shift_end_hour=spec.shift_end_hour,
        holidays=spec.holidays,
    )


@dataclass
class RunResult:
    """Everything one replication produced. KPIs derive from the frames."""

    scenario_name: str
    seed: int
    replication: int
    orders: pd.DataFrame
    visits: pd.DataFrame
    purchase_orders: pd.DataFrame
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    window: tuple[float, float]  # measurement window, hours
    scenario: Scenario
    crew_calendars: list[WorkCalendar]
    info: dict[str, Any] = field(default_factory=dict)

    def kpis_after(self, warmup_days: float) -> dict[str, float]:
        """The KPIs with another warm-up (e.g. one detected by MSER-5), from the same frames."""
        return compute_kpis(
            self.scenario,
            self.orders,
            self.visits,
            self.purchase_orders,
            self.timeseries,
            measurement_window(self.scenario, warmup_days),
            self.crew_calendars,
        )


class Model:
    """Runtime state of one replication (never stored on the scenario)."""

    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.streams = RandomStreams(seed, replication)
        self.horizon = scenario.run.duration_days * HOURS_PER_DAY
        self.crew_calendar = make_calendar(scenario.crew_calendar, scenario)
        self.office_calendar = make_calendar(scenario.office_calendar, scenario)
        inst = scenario.installation
        self.factory = OrderFactory(
            scenario.orders, build(inst.effort_factor) if inst.effort_factor else None, self.streams
        )
        self.handoff = Handoff(
            scenario.handoff,
            self.office_calendar,
            build(scenario.handoff.approval_delay_hours)
            if scenario.handoff.approval_delay_hours
            else None,
        )
        self.referral_delay = (
            build(scenario.customers.referral_delay_days)
            if scenario.customers.referral_delay_days
            else None
        )
        self.supply = Supply(
            self.env,
            scenario.supply,
            self.streams,
            self.horizon,
            on_kit_complete=self._on_kit_complete,
            on_stock_visible=self._notify_dispatch,
        )
        self.dispatcher = Dispatcher(
            self.env,
            scenario.dispatch,
            self.supply.kit_seen_complete,
            self.expected_job_hours,
            by_promise=dispatch_by_promise(scenario),
            honour_priority=scenario.committee.enabled and scenario.committee.prioritize,
        )
        self.crews = crews_from_spec(
            scenario.dispatch, self.crew_calendar, lambda spec: make_calendar(spec, scenario)
        )
        self.orders: list[Order] = []
        self.open_orders: dict[str, Order] = {}
        self.visits: list[Visit] = []
        self.awaiting_kit: set[str] = set()  # failed for material, waiting to be re-queued
        self.backlog_hours = 0.0  # expected work of every open order, for quoting
        self.crew_hours_per_day = sum(c.calendar.hours_per_week for c in self.crews) / 7.0
        self.monitor = DailyMonitor(self)
        # Policies (sim/policies). Parameters they change over time are read at each use.
        self.promise_spec = effective_promise(scenario)
        self.rework_probability = inst.rework_probability
        self.overtime_allowance_hours = scenario.dispatch.max_overtime_hours_per_day
        self.ledger = PolicyLedger(
            self.horizon,
            rework_probability=self.rework_probability,
            overtime_allowance_hours=self.overtime_allowance_hours,
        )
        self.committee = Committee(self) if scenario.committee.enabled else None
        self.voice_of_customer = (
            VoiceOfCustomer(
                scenario.voice_of_customer,
                self.env,
                self.office_calendar,
                self.horizon,
                self.ledger,
                self.rework_probability,
                self._set_rework_probability,
            )
            if scenario.voice_of_customer.enabled
            else None
        )
        self.capacity = CapacityPlanner(self) if scenario.forecast_capacity.enabled else None

    # --- order flow -------------------------------------------------------------------------
    def expected_job_hours(self, order: Order) -> float:
        inst = self.scenario.installation
        return inst.setup_hours + inst.hours_per_fixture * order.size_fixtures

    def new_order(self, order: Order) -> None:
        now = self.env.now
        self.orders.append(order)
        self.open_orders[order.order_id] = order
        job_hours = self.expected_job_hours(order)
        promise = self.promise_spec
        if promise.policy == "fixed":
            days = promise.fixed_days
        else:
            material_days = 0.0
            for sku in self.supply.seen_shortage(order.bom, now):
                supplier = self.supply.suppliers[self.supply.skus[sku].spec.supplier]
                material_days = max(material_days, supplier.lead_time.ppf(promise.confidence))
            days = quoted_promise_days(
                promise,
                handoff_days=self.handoff.expected_days(now),
                backlog_hours=self.backlog_hours,
                job_hours=job_hours,
                crew_hours_per_day=self.crew_hours_per_day,
                material_days=material_days,
            )
        order.quoted_days = days
        order.promised_at = now + days * HOURS_PER_DAY
        self.backlog_hours += job_hours
        handed_off = self.handoff.handed_off_at(order)
        self.env.timeout(handed_off - now).callbacks.append(lambda _e: self._hand_off(order))

    def _hand_off(self, order: Order) -> None:
        order.handed_off_at = self.env.now
        if self.scenario.supply.reserve_at == "handoff" and order.bom:
            self.supply.reserve(order)
        self.dispatcher.add(order)

    def _on_kit_complete(self, order: Order) -> None:
        """A backordered kit is complete; planners learn of it after the visibility delay."""
        delay = self.supply.delay

        def visible(_event: simpy.Event | None = None) -> None:
            if order.order_id in self.awaiting_kit:
                self.awaiting_kit.discard(order.order_id)
                self.dispatcher.add(order)
            else:
                self.dispatcher.notify()

        if delay > 0:
            self.env.timeout(delay).callbacks.append(visible)
        else:
            visible()

    def _notify_dispatch(self) -> None:
        self.dispatcher.notify()

    def _set_rework_probability(self, p: float) -> None:
        self.rework_probability = p

    # --- crews ------------------------------------------------------------------------------
    def crew_process(self, crew: Crew, hire: CapacityPlanner | None = None):  # type: ignore[no-untyped-def]
        """A crew takes jobs in its working hours; a flex crew (``hire``) only while hired."""
        env = self.env
        calendar = crew.calendar
        while True:
            until = math.inf
            if hire is not None:
                until = hire.active_until
                if env.now >= until:
                    yield hire.activation()
                    continue
            start = calendar.next_working_time(env.now)
            if start >= until:
                yield env.timeout(until - env.now)
                continue
            if start > env.now:
                yield env.timeout(start - env.now)
                continue
            order = self.dispatcher.take(crew, env.now)
            if order is None:
                yield self.dispatcher.wait()
                continue
            yield from self.visit(crew, order)

    def visit(self, crew: Crew, order: Order):  # type: ignore[no-untyped-def]
        env = self.env
        spec = self.scenario
        inst = spec.installation
        start = env.now
        visit_number = order.visits  # finished visits so far; counted when this one ends
        if order.first_visit_at is None:
            order.first_visit_at = start
        u_absent, u_rework = order.visit_uniforms(
            visit_number, lambda: self.factory.streams.extra(*order.key)
        )
        kit_ok = self.supply.pick_for_visit(order)
        outcome = installation.visit_outcome(
            inst, u_absent, u_rework, kit_ok, self.rework_probability
        )
        travel = installation.travel_hours(spec.dispatch.travel, crew.home_region, order.region)
        on_site = installation.on_site_hours(
            inst,
            outcome,
            order.work_hours(inst.setup_hours, inst.hours_per_fixture),
            order.pending_rework,
        )
        end, regular, overtime = installation.work_span(
            crew.calendar, start, travel + on_site, self.overtime_allowance_hours
        )
        yield env.timeout(end - start)
        order.visits += 1
        order.on_site_hours += end - start
        self.visits.append(
            Visit(
                visit_id=len(self.visits),
                order_id=order.order_id,
                crew_id=crew.crew_id,
                started_at=start,
                finished_at=end,
                outcome=outcome,
                travel_hours=travel,
                on_site_hours=on_site,
                regular_hours=regular,
                overtime_hours=overtime,
            )
        )
        if crew.flex and self.capacity is not None:
            self.capacity.after_flex_visit(crew, start, end)
        self._after_visit(order, outcome)

    def _after_visit(self, order: Order, outcome: str) -> None:
        if outcome == "completed":
            self._complete(order)
            return
        order.failed_visits += 1
        if outcome == "rework":
            order.rework_visits += 1
            order.pending_rework = True
            self.dispatcher.add(order)
        elif outcome == "customer_absent":
            order.absent_visits += 1
            self.dispatcher.add(order)
        else:  # missing material: wait for the kit, then back to dispatch
            order.missing_material_visits += 1
            order.met_stockout = True
            self.awaiting_kit.add(order.order_id)
            complete = order.kit_complete_at is not None and not order.shortfall
            if not order.reserved:
                complete = self.supply.reserve(order)
            if complete:
                self._on_kit_complete(order)

    def _complete(self, order: Order) -> None:
        now = self.env.now
        order.completed_at = now
        del self.open_orders[order.order_id]
        order.pending_rework = False
        self.backlog_hours -= self.expected_job_hours(order)
        customers.judge(order, self.scenario.customers)
        delay = customers.referral_delay_hours(order, self.scenario.customers, self.referral_delay)
        if delay is not None and now + delay < self.horizon:
            order.referred = True
            self.env.timeout(delay).callbacks.append(lambda _e: self._referral(order))

    def _referral(self, parent: Order) -> None:
        key = (parent.key[0], parent.key[1] + 1)
        self.new_order(
            self.factory.make(key, f"{parent.order_id}-R", self.env.now, parent.order_id)
        )

    # --- run --------------------------------------------------------------------------------
    def run(self) -> None:
        arrivals = ArrivalRate(self.scenario.arrivals, self.scenario.run.start_date)
        self.env.process(
            arrival_process(
                self.env, arrivals, self.horizon, self.streams, self.factory, self.new_order
            )
        )
        for crew in self.crews:
            self.env.process(self.crew_process(crew))
        self.env.process(self.monitor.process())
        if self.committee is not None:
            self.env.process(self.committee.process())
        if self.voice_of_customer is not None:
            self.env.process(self.voice_of_customer.process())
        if self.capacity is not None:
            for crew in self.capacity.flex_crews:
                self.env.process(self.crew_process(crew, self.capacity))
            self.env.process(self.capacity.process())
        self.env.run(until=self.horizon)

    def all_crews(self) -> list[Crew]:
        """Regular crews and any flex crews (those are costed from the ledger, not calendars)."""
        return self.crews + (self.capacity.flex_crews if self.capacity is not None else [])

    def policy_info(self) -> dict[str, Any]:
        """What the policies did in this run, for reports and tests."""
        info: dict[str, Any] = {}
        if self.committee is not None:
            info["committee"] = vars(self.committee.counts).copy()
        if self.voice_of_customer is not None:
            info["voice_of_customer"] = {
                "sessions": self.voice_of_customer.sessions,
                "rework_probability": self.ledger.history("rework_probability"),
            }
        if self.capacity is not None:
            plans = self.capacity.plans
            info["forecast_capacity"] = {
                "plans": len(plans),
                "boosted_plans": sum(p.boosted for p in plans),
                "forecast_days": [(p.at, p.forecast_days) for p in plans],
                "flex_windows": list(self.capacity.windows),
            }
        return info


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0) -> RunResult:
    """Run one replication of ``scenario``: a pure function of (scenario, seed, replication)."""
    model = Model(scenario, seed, replication)
    model.run()
    orders = orders_frame(model.orders)
    visits = visits_frame(model.visits)
    purchase_orders = purchase_orders_frame(model.supply.purchase_orders)
    timeseries = model.monitor.frame()
    calendars = {crew.crew_id: crew.calendar for crew in model.all_crews()}
    busy = crew_busy_by_day(visits, calendars, model.horizon)
    timeseries = timeseries.merge(busy, on="day", how="left").fillna({"crew_busy_hours": 0.0})
    timeseries = model.ledger.add_to(timeseries)
    window = measurement_window(scenario)
    crew_calendars = [crew.calendar for crew in model.crews]
    kpis = compute_kpis(
        scenario, orders, visits, purchase_orders, timeseries, window, crew_calendars
    )
    log.debug(
        "simulated %s seed=%d rep=%d: %d orders", scenario.name, seed, replication, len(orders)
    )
    return RunResult(
        scenario_name=scenario.name,
        seed=seed,
        replication=replication,
        orders=orders,
        visits=visits,
        purchase_orders=purchase_orders,
        timeseries=timeseries,
        kpis=kpis,
        window=window,
        scenario=scenario,
        crew_calendars=crew_calendars,
        info={"crews": len(model.crews), "horizon_hours": model.horizon, **model.policy_info()},
    )
