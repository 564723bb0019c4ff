"""Hand-off from sales to engineering: a weekly batching meeting (or none), then approvals.

Each approval step takes a random number of office working hours, drawn from the order's own
pre-drawn uniforms, so adding a step never changes the delays of the other steps.
"""

from __future__ import annotations

from sim.calendar import WorkCalendar
from sim.distributions import Distribution
from sim.orders import Order
from sim.scenario import WEEKDAYS, HandoffSpec


class Handoff:
    def __init__(
        self, spec: HandoffSpec, office: WorkCalendar, approval_delay: Distribution | None
    ) -> None:
        self.spec = spec
        self.office = office
        self.approval_delay = approval_delay
        self._meeting_weekday = WEEKDAYS.index(spec.meeting_weekday)

    def meeting_time(self, created_at: float) -> float:
        if self.spec.mode == "immediate":
            return created_at
        return self.office.next_time_at(created_at, self._meeting_weekday, self.spec.meeting_hour)

    def handed_off_at(self, order: Order) -> float:
        """When the order reaches engineering; records the meeting time on the order."""
        t = self.meeting_time(order.created_at)
        order.handoff_meeting_at = t
        for step in range(self.spec.approval_steps):
            assert self.approval_delay is not None
            hours = max(0.0, self.approval_delay.ppf(float(order.u_approvals[step])))
            t = self.office.advance(t, hours)
        return t

    def expected_days(self, created_at: float) -> float:
        """Sales' estimate of the hand-off time, for quoting."""
        t = self.meeting_time(created_at)
        if self.approval_delay is not None and self.spec.approval_steps:
            t = self.office.advance(t, self.spec.approval_steps * self.approval_delay.mean)
        return (t - created_at) / 24.0
