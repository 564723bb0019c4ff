"""When recurring policy events (meetings, planning rounds) happen on the office calendar."""

from __future__ import annotations

import math
from collections.abc import Iterator

from sim.calendar import WorkCalendar
from sim.scenario import WEEKDAYS

HOURS_PER_DAY = 24.0


def occurrences(
    calendar: WorkCalendar,
    start_day: float,
    period_days: float,
    weekday: str | None,
    hour: float,
) -> Iterator[float]:
    """Start times (hours) of an event every ``period_days`` from day ``start_day`` at ``hour``.

    With ``weekday`` the first occurrence moves forward to that weekday (the schema requires a
    whole number of weeks then). An occurrence on a day off moves to the next working day at the
    same hour, so a holiday postpones a meeting instead of cancelling it; one that would not come
    after the previous occurrence is skipped. Endless: the caller stops at its horizon.
    """
    first = math.floor(start_day)
    if weekday is not None:
        first += (WEEKDAYS.index(weekday) - calendar.weekday(first * HOURS_PER_DAY)) % 7
    last = -math.inf
    k = 0
    while True:
        day = math.floor(first + k * period_days)
        k += 1
        while not calendar.is_working_day(day):
            day += 1
        t = day * HOURS_PER_DAY + hour
        if t > last:
            last = t
            yield t
