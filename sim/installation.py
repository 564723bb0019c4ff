"""Installation visits: a crew travels, works through its calendar, and the visit has an outcome.

Work hours grow with the job's size (times the order's effort factor); a visit pauses over
nights and weekends unless the rest fits into the crew's daily overtime allowance. Outcomes:
``completed``; ``rework`` (the work must be redone on a revisit, at a fraction of the hours);
``customer_absent``; ``missing_material``. Every failed visit sends the order back to dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.calendar import WorkCalendar
from sim.scenario import InstallationSpec, TravelSpec


@dataclass(slots=True)
class Visit:
    visit_id: int
    order_id: str
    crew_id: str
    started_at: float
    finished_at: float
    outcome: str
    travel_hours: float
    on_site_hours: float
    regular_hours: float
    overtime_hours: float


def work_span(
    calendar: WorkCalendar, start: float, hours: float, max_overtime_hours: float
) -> tuple[float, float, float]:
    """(end, regular hours, overtime hours) of ``hours`` of work from ``start``.

    Work pauses at shift end unless what is left fits into the overtime allowance, in which
    case the crew finishes the same evening.
    """
    if hours <= 0:
        return start, 0.0, 0.0
    if calendar.is_always_open:
        return start + hours, hours, 0.0
    t = calendar.next_working_time(start)
    remaining = hours
    regular = 0.0
    while True:
        shift_end = calendar.shift_end(t)
        in_shift = shift_end - t
        if remaining <= in_shift + 1e-9:
            return t + remaining, regular + remaining, 0.0
        if remaining - in_shift <= max_overtime_hours:
            return t + remaining, regular + in_shift, remaining - in_shift
        regular += in_shift
        remaining -= in_shift
        t = calendar.next_working_time(shift_end)


def travel_hours(spec: TravelSpec, home_region: str, order_region: str) -> float:
    return spec.within_region_hours if home_region == order_region else spec.between_regions_hours


def visit_outcome(
    spec: InstallationSpec,
    u_absent: float,
    u_rework: float,
    kit_ok: bool,
    rework_probability: float | None = None,
) -> str:
    """The outcome of a visit from the order's pre-drawn uniforms and the kit on the van.

    ``rework_probability`` is the one in force at the visit (it falls as installers learn, see
    sim/policies/voice_of_customer.py); None means the scenario's. The uniform stays the
    order's own, so a lower probability turns exactly the marginal visits into successes.
    """
    if u_absent < spec.customer_absent_probability:
        return "customer_absent"
    if not kit_ok:
        return "missing_material"
    p = spec.rework_probability if rework_probability is None else rework_probability
    if u_rework < p:
        return "rework"
    return "completed"


def on_site_hours(spec: InstallationSpec, outcome: str, job_hours: float, rework: bool) -> float:
    if outcome in ("customer_absent", "missing_material"):
        return spec.failed_visit_hours
    return job_hours * spec.rework_hours_fraction if rework else job_hours
