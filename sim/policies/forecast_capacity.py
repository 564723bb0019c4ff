"""Forecast-driven capacity: a recurring planning round that adds capacity before a busy period.

At each round the planner forecasts the load: the expected work of every open order (the
backlog used for quoting) plus the expected arrivals over ``horizon_days`` (the arrival rate,
weekday, season, trend and planned campaigns included; referrals not) times the mean job hours.
It divides the load by the regular crews' job capacity per working day (their shift hours x
``promise.crew_efficiency``). When that exceeds ``threshold_days``, until the next round:

- every crew's overtime allowance rises by ``extra_overtime_hours_per_day`` (overtime worked is
  costed per visit at ``costs.crew_hour_overtime``, as always);
- ``flex_crews`` hired crews, working the crew calendar from ``flex_home_region``, take jobs
  like the others. They are paid ``costs.flex_crew_hour`` for every shift hour of the period,
  busy or idle, plus the working hours of a job they started in the period and finish after it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import simpy

from sim.arrivals import ArrivalRate
from sim.dispatch import Crew
from sim.distributions import build
from sim.policies.schedule import occurrences

if TYPE_CHECKING:
    from sim.model import Model

log = logging.getLogger(__name__)
HOURS_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class Plan:
    at: float  # hours
    forecast_days: float  # working days of regular crew capacity
    boosted: bool


class CapacityPlanner:
    def __init__(self, model: Model) -> None:
        self.model = model
        scenario = model.scenario
        self.spec = spec = scenario.forecast_capacity
        self.base_overtime = scenario.dispatch.max_overtime_hours_per_day
        self.rate = ArrivalRate(scenario.arrivals, scenario.run.start_date)
        inst = scenario.installation
        size = build(scenario.orders.size_fixtures).mean
        self.mean_job_hours = inst.setup_hours + inst.hours_per_fixture * size
        per_working_day = sum(
            crew.calendar.hours_per_week / len(crew.calendar.work_weekdays) for crew in model.crews
        )
        self.capacity_per_day = per_working_day * scenario.promise.crew_efficiency
        region = spec.flex_home_region or scenario.dispatch.crews[0].home_region
        self.flex_crews = [
            Crew(
                crew_id=f"flex-{i + 1}", home_region=region, calendar=model.crew_calendar, flex=True
            )
            for i in range(spec.flex_crews)
        ]
        self.windows: list[tuple[float, float]] = []  # hired periods, (start, end) hours
        self.plans: list[Plan] = []
        self._activated = model.env.event()

    # --- flex crews -------------------------------------------------------------------------
    @property
    def active_until(self) -> float:
        return self.windows[-1][1] if self.windows else -math.inf

    def activation(self) -> simpy.Event:
        """An event that fires when flex crews are next hired."""
        if self._activated.triggered:
            self._activated = self.model.env.event()
        return self._activated

    def after_flex_visit(self, crew: Crew, start: float, end: float) -> None:
        """Pay the working hours of a flex visit that fall outside the hired periods."""
        calendar = crew.calendar
        worked = calendar.working_hours_between(start, end)
        covered = 0.0
        for a, b in reversed(self.windows):
            if b <= start:
                break
            if a < end:
                covered += calendar.working_hours_between(max(a, start), min(b, end))
        if worked - covered > 1e-9:
            self.model.ledger.add_flex(end, worked - covered)

    # --- planning ---------------------------------------------------------------------------
    def forecast_days(self, now: float) -> float:
        steps = max(1, round(self.spec.horizon_days * HOURS_PER_DAY))
        arrivals = sum(self.rate.per_day(now + h + 0.5) for h in range(steps)) / HOURS_PER_DAY
        load = self.model.backlog_hours + arrivals * self.mean_job_hours
        return load / max(self.capacity_per_day, 1e-9)

    def plan(self, now: float) -> None:
        spec, model = self.spec, self.model
        days = self.forecast_days(now)
        boosted = days > spec.threshold_days
        self.plans.append(Plan(now, days, boosted))
        overtime = self.base_overtime + (spec.extra_overtime_hours_per_day if boosted else 0.0)
        if overtime != model.overtime_allowance_hours:
            model.overtime_allowance_hours = overtime
            model.ledger.set("overtime_allowance_hours", now, overtime)
        if boosted and self.flex_crews:
            start = max(now, self.active_until)
            end = now + spec.period_days * HOURS_PER_DAY
            if end > start:
                self._hire(start, end)
        log.debug("capacity plan at %.1f h: %.1f days forecast, boosted=%s", now, days, boosted)

    def _hire(self, start: float, end: float) -> None:
        model = self.model
        self.windows.append((start, end))
        calendar = model.crew_calendar
        day = int(start // HOURS_PER_DAY)
        while day * HOURS_PER_DAY < end:
            lo = max(start, day * HOURS_PER_DAY)
            hi = min(end, (day + 1) * HOURS_PER_DAY)
            hours = calendar.working_hours_between(lo, hi) if hi > lo else 0.0
            if hours > 0:
                model.ledger.add_flex(lo, hours * len(self.flex_crews))
            day += 1
        if not self._activated.triggered:
            self._activated.succeed()

    def process(self) -> Generator[simpy.Event, None, None]:
        spec, model = self.spec, self.model
        env = model.env
        for at in occurrences(
            model.office_calendar,
            spec.start_day,
            spec.period_days,
            spec.planning_weekday,
            spec.planning_hour,
        ):
            if at >= model.horizon:
                return
            yield env.timeout(max(0.0, at - env.now))
            self.plan(env.now)
