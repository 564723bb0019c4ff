"""Voice of the customer: a recurring session where installers hear after-sales feedback.

Learning is modelled on the rework probability only: after each session it closes a share
``learning_rate`` of its gap to ``rework_probability_floor``,
``p_after = floor + (p_before - floor) x (1 - learning_rate)``, so it falls geometrically and
never below the floor. Visits read the probability in force when they happen, compared with the
order's own pre-drawn uniform (common random numbers: a lower probability turns exactly the
marginal visits into successes). A session costs ``duration_hours x attendees`` person-hours.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy

from sim.calendar import WorkCalendar
from sim.policies.ledger import PolicyLedger
from sim.policies.schedule import occurrences
from sim.scenario import VoiceOfCustomerSpec


def learned(p: float, spec: VoiceOfCustomerSpec) -> float:
    """The rework probability after one more session."""
    floor = spec.rework_probability_floor
    return max(floor, floor + (p - floor) * (1.0 - spec.learning_rate))


class VoiceOfCustomer:
    def __init__(
        self,
        spec: VoiceOfCustomerSpec,
        env: simpy.Environment,
        office: WorkCalendar,
        horizon_hours: float,
        ledger: PolicyLedger,
        rework_probability: float,
        on_change: Callable[[float], None],
    ) -> None:
        self.spec = spec
        self.env = env
        self.office = office
        self.horizon = horizon_hours
        self.ledger = ledger
        self.rework_probability = rework_probability
        self._on_change = on_change
        self.sessions = 0

    def process(self) -> Generator[simpy.Event, None, None]:
        spec, env = self.spec, self.env
        for start in occurrences(
            self.office, spec.start_day, spec.period_days, spec.meeting_weekday, spec.meeting_hour
        ):
            if start >= self.horizon:
                return
            yield env.timeout(max(0.0, start - env.now))
            self.ledger.add_meeting(env.now, spec.duration_hours * spec.attendees)
            if spec.duration_hours > 0:
                yield env.timeout(spec.duration_hours)
            self.sessions += 1
            p = learned(self.rework_probability, spec)
            if p != self.rework_probability:
                self.rework_probability = p
                self.ledger.set("rework_probability", env.now, p)
                self._on_change(p)
