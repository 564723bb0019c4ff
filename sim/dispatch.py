"""Crew dispatch: the ready queue and the rule by which a free crew picks its next job.

Orders enter the ready queue after hand-off (or after a failed visit). A crew that is free in
its working hours takes the first eligible order by the dispatch rule; with the kit-complete
check on, only orders whose kit the planner *sees* as complete are eligible (the view may be
stale). Crews with nothing to do wait for a signal that the queue or the visible stock changed.

Two policies act here. A delivery committee flags orders as priority: eligible priority orders
go first (by the rule among themselves), except one whose reserved kit is not yet seen complete
(sending a crew to it would be a wasted visit). A shared on-time KPI makes dispatch order by
promise date: ``fifo`` and ``shortest_job`` become ``earliest_promise``, and ``region_cluster``
takes the crew's own region's earliest promise first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from sim.calendar import WorkCalendar
from sim.orders import Order
from sim.scenario import CalendarSpec, DispatchSpec


@dataclass(frozen=True, slots=True)
class Crew:
    crew_id: str
    home_region: str
    calendar: WorkCalendar
    flex: bool = False  # hired for busy periods only (sim/policies/forecast_capacity.py)


def crews_from_spec(
    spec: DispatchSpec,
    default_calendar: WorkCalendar,
    make_calendar: Callable[[CalendarSpec], WorkCalendar],
) -> list[Crew]:
    crews: list[Crew] = []
    for c in spec.crews:
        calendar = default_calendar if c.calendar is None else make_calendar(c.calendar)
        for i in range(c.count):
            crew_id = c.name if c.count == 1 else f"{c.name}-{i + 1}"
            crews.append(Crew(crew_id=crew_id, home_region=c.home_region, calendar=calendar))
    return crews


class Dispatcher:
    """Holds the ready queue and chooses jobs for crews."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: DispatchSpec,
        kit_seen_complete: Callable[[Order, float], bool],
        expected_hours: Callable[[Order], float],
        by_promise: bool = False,
        honour_priority: bool = False,
    ) -> None:
        self.env = env
        rule = spec.rule
        if by_promise and rule in ("fifo", "shortest_job"):
            rule = "earliest_promise"
        self.rule = rule
        self.by_promise = by_promise
        self.honour_priority = honour_priority
        self.kit_check = spec.kit_check
        self._kit_seen_complete = kit_seen_complete
        self._expected_hours = expected_hours
        self.queue: list[Order] = []
        self._signal = env.event()

    def __len__(self) -> int:
        return len(self.queue)

    def add(self, order: Order) -> None:
        order.ready_at = self.env.now
        self.queue.append(order)
        self.notify()

    def notify(self) -> None:
        """Wake the idle crews: the queue or what planners can see has changed."""
        if not self._signal.triggered:
            self._signal.succeed()

    def wait(self) -> simpy.Event:
        if self._signal.triggered:
            self._signal = self.env.event()
        return self._signal

    def take(self, crew: Crew, now: float) -> Order | None:
        """Remove and return the next job for ``crew``, or None when nothing is eligible."""
        eligible = (
            [o for o in self.queue if self._kit_seen_complete(o, now)]
            if self.kit_check
            else self.queue
        )
        if not eligible:
            return None
        if self.honour_priority:
            urgent = [o for o in eligible if o.priority and self._priority_ready(o, now)]
            if urgent:
                eligible = urgent
        if self.rule == "fifo":
            chosen = eligible[0]
        elif self.rule == "earliest_promise":
            chosen = min(eligible, key=_promise)
        elif self.rule == "shortest_job":
            chosen = min(eligible, key=self._expected_hours)
        elif self.by_promise:  # region_cluster by promise: own region's earliest promise first
            own = [o for o in eligible if o.region == crew.home_region]
            chosen = min(own or eligible, key=_promise)
        else:  # region_cluster: the crew's own region first, then first come first served
            chosen = next((o for o in eligible if o.region == crew.home_region), eligible[0])
        self.queue.remove(chosen)
        return chosen

    def _priority_ready(self, order: Order, now: float) -> bool:
        """A priority order jumps the queue unless its reserved kit is not yet seen complete."""
        return not order.reserved or self._kit_seen_complete(order, now)


def _promise(order: Order) -> float:
    return order.promised_at
