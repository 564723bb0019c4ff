"""Working calendars: when crews and the office can work, in simulation-clock hours.

The clock is float hours since midnight of ``start_date``; day ``d`` spans ``[24 d, 24 d + 24)``.
Each working day has one shift ``[shift_start_hour, shift_end_hour)``; holidays are non-working
all day. Times before ``start_date`` are supported (negative day indices, holidays before
``start_date`` included), so warm-up logic or back-dated orders need no special case.

Every method is called per simulated event, so all of them walk days arithmetically (whole weeks
at a time in ``advance``), use a 24/7 fast path, and cache nothing that grows.

Float tolerance: a time within ``TIME_EPS`` of a shift boundary counts as on the boundary, so a
job that ends at ``17.0 - 1e-13`` after summing durations still "ends at shift end" and work never
restarts for a sliver of a shift. Exact results need times far below ~1e6 hours (a century).
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, datetime, timedelta

__all__ = ["MAX_SEARCH_DAYS", "TIME_EPS", "WorkCalendar"]

HOURS_PER_DAY = 24.0
TIME_EPS = 1e-9  # hours (3.6 µs): far below any modelled duration, far above float noise
MAX_SEARCH_DAYS = 3660  # ten years without a working day means a misconfigured calendar


def _as_date(value: date, what: str) -> date:
    # datetime is a date subclass, but mixing them breaks date arithmetic; keep the day only.
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise TypeError(f"{what} must be a datetime.date, got {type(value).__name__}: {value!r}")
    return value


class WorkCalendar:
    """Working weekdays, one daily shift and holidays, on an hours-since-start clock."""

    __slots__ = (
        "_cum",
        "_e",
        "_holiday_days",
        "_holidays",
        "_hpw",
        "_len",
        "_next_offset",
        "_open",
        "_s",
        "_start_date",
        "_wd0",
        "_weekdays",
        "_working_holidays",
        "_works_wd",
    )

    def __init__(
        self,
        start_date: date,
        work_weekdays: Iterable[int],
        shift_start_hour: float,
        shift_end_hour: float,
        holidays: Iterable[date] = (),
    ) -> None:
        start = _as_date(start_date, "start_date")
        try:
            weekdays = frozenset(operator.index(w) for w in work_weekdays)
        except TypeError as exc:
            raise ValueError(f"work_weekdays must be integers 0=Monday..6=Sunday: {exc}") from exc
        if not weekdays:
            raise ValueError(
                "a calendar needs at least one working weekday; work_weekdays is empty"
            )
        bad = sorted(w for w in weekdays if not 0 <= w <= 6)
        if bad:
            raise ValueError(f"work_weekdays must be in 0..6 (0=Monday, 6=Sunday), got {bad}")
        s, e = float(shift_start_hour), float(shift_end_hour)
        for name, hour in (("shift_start_hour", s), ("shift_end_hour", e)):
            if not 0.0 <= hour <= HOURS_PER_DAY:  # also rejects NaN
                raise ValueError(f"{name} must be within [0, 24] hours, got {hour}")
        if s >= e:
            raise ValueError(
                f"shift_start_hour ({s}) must be before shift_end_hour ({e}): "
                "the shift would have no working hours"
            )
        hol_dates = frozenset(_as_date(h, "holiday") for h in holidays)

        self._start_date = start
        self._weekdays = weekdays
        self._s = s
        self._e = e
        self._len = e - s
        self._hpw = len(weekdays) * self._len
        self._holidays = hol_dates
        self._wd0 = start.weekday()
        self._holiday_days = frozenset((h - start).days for h in hol_dates)
        # Only holidays on working weekdays remove working time; sorted for range counts.
        self._working_holidays = tuple(
            sorted(d for d in self._holiday_days if (self._wd0 + d) % 7 in weekdays)
        )
        self._works_wd = tuple(w in weekdays for w in range(7))
        # Days from weekday w to the next working weekday (1..7).
        self._next_offset = tuple(
            next(k for k in range(1, 8) if (w + k) % 7 in weekdays) for w in range(7)
        )
        # _cum[w][k]: working weekdays among the k consecutive days starting on weekday w.
        self._cum = tuple(
            tuple(sum((w + i) % 7 in weekdays for i in range(k)) for k in range(8))
            for w in range(7)
        )
        self._open = len(weekdays) == 7 and s == 0.0 and e == HOURS_PER_DAY and not hol_dates

    @classmethod
    def always_open(cls, start_date: date) -> WorkCalendar:
        """A 24/7 calendar without holidays, for resources that never stop (e.g. suppliers)."""
        return cls(start_date, range(7), 0.0, HOURS_PER_DAY)

    # -- read-only configuration -------------------------------------------------------------

    @property
    def start_date(self) -> date:
        """The calendar date of clock time 0."""
        return self._start_date

    @property
    def work_weekdays(self) -> frozenset[int]:
        """Working weekdays, 0=Monday..6=Sunday."""
        return self._weekdays

    @property
    def shift_start_hour(self) -> float:
        """Hour of day at which each shift starts."""
        return self._s

    @property
    def shift_end_hour(self) -> float:
        """Hour of day at which each shift ends (exclusive)."""
        return self._e

    @property
    def holidays(self) -> frozenset[date]:
        """Non-working dates."""
        return self._holidays

    @property
    def hours_per_week(self) -> float:
        """Nominal shift hours per week, ignoring holidays (for capacity and cost figures)."""
        return self._hpw

    @property
    def is_always_open(self) -> bool:
        """True for a 24/7 calendar without holidays, where clock time equals working time."""
        return self._open

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(start_date={self._start_date!r}, "
            f"work_weekdays={sorted(self._weekdays)}, shift_start_hour={self._s}, "
            f"shift_end_hour={self._e}, holidays={len(self._holidays)})"
        )

    # -- day arithmetic ----------------------------------------------------------------------

    @staticmethod
    def _split(t: float) -> tuple[int, float]:
        """Day index and hour of day in [0, 24), robust to t / 24 rounding across midnight."""
        d = math.floor(t / HOURS_PER_DAY)
        h = t - d * HOURS_PER_DAY
        if h >= HOURS_PER_DAY:
            d += 1
            h -= HOURS_PER_DAY
        elif h < 0.0:
            d -= 1
            h += HOURS_PER_DAY
        return d, h

    def day_index(self, t: float) -> int:
        """Days since ``start_date`` (negative before it): ``floor(t / 24)``."""
        return self._split(t)[0]

    def weekday(self, t: float) -> int:
        """Weekday of clock time ``t``, 0=Monday..6=Sunday."""
        return (self._wd0 + self._split(t)[0]) % 7

    def date_of(self, t: float) -> date:
        """Calendar date of clock time ``t``."""
        return self._start_date + timedelta(days=self._split(t)[0])

    def is_working_day(self, day_index: int) -> bool:
        """Whether day ``day_index`` has a shift: a working weekday that is not a holiday."""
        return self._works_wd[(self._wd0 + day_index) % 7] and day_index not in self._holiday_days

    def _next_working_day(self, d: int) -> int:
        """First working day after day ``d``; ValueError if none within MAX_SEARCH_DAYS."""
        limit = d + MAX_SEARCH_DAYS
        d += self._next_offset[(self._wd0 + d) % 7]
        while d in self._holiday_days:
            d += self._next_offset[(self._wd0 + d) % 7]
            if d > limit:
                raise ValueError(
                    f"no working time within {MAX_SEARCH_DAYS} days after "
                    f"{self._start_date + timedelta(days=limit - MAX_SEARCH_DAYS)}: "
                    "are all working days holidays?"
                )
        return d

    def _working_days_in(self, a: int, b: int) -> int:
        """Number of working days in ``[a, b)`` (``a <= b``), in O(log holidays)."""
        n = b - a
        weeks, rest = divmod(n, 7)
        count = weeks * len(self._weekdays) + self._cum[(self._wd0 + a) % 7][rest]
        wh = self._working_holidays
        if wh:
            count -= bisect_left(wh, b) - bisect_left(wh, a)
        return count

    # -- queries ---------------------------------------------------------------------------

    def is_working(self, t: float) -> bool:
        """Whether ``t`` lies inside a shift (shift end exclusive, within ``TIME_EPS``)."""
        if self._open:
            return True
        d, h = self._split(t)
        return (
            self._s - TIME_EPS <= h < self._e - TIME_EPS
            and self._works_wd[(self._wd0 + d) % 7]
            and d not in self._holiday_days
        )

    def next_working_time(self, t: float) -> float:
        """``t`` if working, else the next shift start (a time at a shift end is not working)."""
        if self._open:
            return t
        d, h = self._split(t)
        if self.is_working_day(d):
            if h < self._s - TIME_EPS:
                return d * HOURS_PER_DAY + self._s
            if h < self._e - TIME_EPS:
                return t
        return self._next_working_day(d) * HOURS_PER_DAY + self._s

    def shift_end(self, t: float) -> float:
        """End of the shift containing working time ``t``; ValueError if ``t`` is not working.

        Shifts are per day, so a 0-24 shift (including 24/7) ends at the next midnight even when
        the next day also works; ``advance`` crosses such joins without a pause.
        """
        if not self.is_working(t):
            raise ValueError(f"t={t} ({self.date_of(t)}) is outside working time: no shift end")
        return self._split(t)[0] * HOURS_PER_DAY + self._e

    def advance(self, t: float, work_hours: float) -> float:
        """Clock time at which ``work_hours`` of work starting at ``t`` is finished.

        Work starts at ``t``, or at the next shift start if ``t`` is outside a shift, and pauses
        over nights, weekends and holidays. Work that ends at a shift end returns that shift end,
        not the next shift start. ``advance(t, 0) == t``: no work means no waiting, even outside a
        shift (use ``next_working_time`` to wait for the shift).
        """
        if not 0.0 <= work_hours < math.inf:
            raise ValueError(f"work_hours must be finite and >= 0, got {work_hours}")
        if work_hours == 0.0:
            return t
        if self._open:
            return t + work_hours
        s, e, length = self._s, self._e, self._len
        d, h = self._split(t)
        remaining = work_hours
        # First (possibly partial) day.
        if self.is_working_day(d) and h < e - TIME_EPS:
            if h <= s:
                begin, avail = d * HOURS_PER_DAY + s, length
            else:
                begin, avail = t, e - h
            if remaining < avail - TIME_EPS:
                return begin + remaining
            if remaining <= avail + TIME_EPS:
                return d * HOURS_PER_DAY + e
            remaining -= avail
        d = self._next_working_day(d)
        # Whole days from here: d is a working day and its full shift is available.
        hpw, wh = self._hpw, self._working_holidays
        while True:
            weeks = int((remaining - TIME_EPS) // hpw)
            if weeks > 0:
                # Skip whole weeks up to the next holiday on a working weekday.
                i = bisect_left(wh, d)
                if i < len(wh):
                    weeks = min(weeks, (wh[i] - d) // 7)
                if weeks > 0:
                    d += 7 * weeks
                    remaining -= weeks * hpw
                    if d in self._holiday_days:
                        d = self._next_working_day(d)
            if remaining < length - TIME_EPS:
                return d * HOURS_PER_DAY + s + remaining
            if remaining <= length + TIME_EPS:
                return d * HOURS_PER_DAY + e
            remaining -= length
            d = self._next_working_day(d)

    def working_hours_between(self, t0: float, t1: float) -> float:
        """Shift hours inside ``[t0, t1]``; ValueError if ``t1 < t0``."""
        if t1 < t0:
            raise ValueError(f"t1 ({t1}) must not be before t0 ({t0})")
        if self._open:
            return t1 - t0
        s, e = self._s, self._e
        d0, h0 = self._split(t0)
        d1, h1 = self._split(t1)
        if d0 == d1:
            if not self.is_working_day(d0):
                return 0.0
            return max(0.0, min(h1, e) - max(h0, s))
        total = self._working_days_in(d0 + 1, d1) * self._len
        if self.is_working_day(d0):
            total += max(0.0, e - max(h0, s))
        if self.is_working_day(d1):
            total += max(0.0, min(h1, e) - s)
        return total

    def next_time_at(self, t: float, weekday: int, hour: float) -> float:
        """First time ``>= t`` at ``hour`` on ``weekday`` that is a working day (holidays skipped).

        For recurring events such as a weekly hand-off meeting. A time within ``TIME_EPS`` before
        ``t`` counts as ``t``, so calling again at the returned time returns it again; ask from a
        later time for the following occurrence. ``hour`` need not lie inside the shift.
        """
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be in 0..6 (0=Monday), got {weekday}")
        if not 0.0 <= hour < HOURS_PER_DAY:
            raise ValueError(f"hour must be within [0, 24), got {hour}")
        if not self._works_wd[weekday]:
            raise ValueError(
                f"weekday {weekday} is not a working weekday of this calendar "
                f"({sorted(self._weekdays)}): the event would never happen"
            )
        d = self._split(t)[0]
        d += (weekday - self._wd0 - d) % 7
        if d * HOURS_PER_DAY + hour < t - TIME_EPS:
            d += 7
        limit = d + MAX_SEARCH_DAYS
        while d in self._holiday_days:
            d += 7
            if d > limit:
                raise ValueError(
                    f"no working weekday {weekday} within {MAX_SEARCH_DAYS} days of t={t}: "
                    "are all of them holidays?"
                )
        return d * HOURS_PER_DAY + hour
