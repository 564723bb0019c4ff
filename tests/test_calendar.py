"""Tests for sim.calendar: exact hand-computed cases, validation, and hypothesis properties."""

from __future__ import annotations

import math
import time
from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.calendar import MAX_SEARCH_DAYS, TIME_EPS, WorkCalendar

MONDAY = date(2025, 1, 6)  # day 0; Fri = day 4, next Mon = day 7
DAY = 24.0


def office(holidays: tuple[date, ...] = ()) -> WorkCalendar:
    """Mon-Fri 8-17 from Monday 2025-01-06."""
    return WorkCalendar(MONDAY, range(5), 8.0, 17.0, holidays)


def at(day: int, hour: float) -> float:
    return day * DAY + hour


# -- exact cases -------------------------------------------------------------------------------


def test_day_arithmetic() -> None:
    cal = office()
    assert cal.day_index(0.0) == 0
    assert cal.day_index(at(4, 23.99)) == 4
    assert cal.day_index(at(7, 0.0)) == 7
    assert cal.weekday(at(4, 12.0)) == 4
    assert cal.weekday(at(12, 0.0)) == 5  # Saturday of week two
    assert cal.date_of(at(4, 16.0)) == date(2025, 1, 10)
    assert cal.is_working_day(0) and cal.is_working_day(4)
    assert not cal.is_working_day(5) and not cal.is_working_day(6)


def test_is_working_and_shift_end() -> None:
    cal = office()
    assert cal.is_working(at(0, 8.0))
    assert cal.is_working(at(0, 16.999))
    assert not cal.is_working(at(0, 17.0))  # shift end is exclusive
    assert not cal.is_working(at(0, 7.999))
    assert not cal.is_working(at(5, 10.0))  # Saturday
    assert cal.shift_end(at(2, 9.5)) == at(2, 17.0)
    for t in (at(0, 17.0), at(0, 3.0), at(5, 10.0)):
        with pytest.raises(ValueError, match="outside working time"):
            cal.shift_end(t)


def test_next_working_time() -> None:
    cal = office()
    assert cal.next_working_time(at(1, 10.0)) == at(1, 10.0)
    assert cal.next_working_time(at(1, 3.0)) == at(1, 8.0)
    assert cal.next_working_time(at(1, 17.0)) == at(2, 8.0)  # exactly at shift end
    assert cal.next_working_time(at(4, 17.0)) == at(7, 8.0)  # Friday evening -> Monday
    assert cal.next_working_time(at(6, 12.0)) == at(7, 8.0)  # Sunday


def test_advance_over_weekend() -> None:
    cal = office()
    assert cal.advance(at(4, 16.0), 3.0) == 178.0 == at(7, 10.0)


def test_advance_lands_on_shift_end() -> None:
    cal = office()
    assert cal.advance(at(0, 8.0), 9.0) == at(0, 17.0)
    assert cal.advance(at(4, 15.0), 2.0) == at(4, 17.0)  # Friday end, not Monday 8:00
    assert cal.advance(at(0, 8.0), 18.0) == at(1, 17.0)
    # Float noise around the boundary still lands on the shift end.
    assert cal.advance(at(0, 8.1), 8.9) == at(0, 17.0)
    assert cal.advance(at(0, 16.9), 0.1) == at(0, 17.0)


def test_advance_zero_and_outside_shift() -> None:
    cal = office()
    assert cal.advance(at(0, 3.0), 0.0) == at(0, 3.0)  # no work, no waiting
    assert cal.advance(at(5, 3.0), 0.0) == at(5, 3.0)
    assert cal.advance(at(0, 2.0), 1.0) == at(0, 9.0)  # waits for the shift
    assert cal.advance(at(0, 20.0), 1.0) == at(1, 9.0)
    assert cal.advance(at(5, 12.0), 1.0) == at(7, 9.0)


def test_advance_skips_holiday() -> None:
    cal = office(holidays=(date(2025, 1, 7),))  # Tuesday
    assert not cal.is_working_day(1)
    assert not cal.is_working(at(1, 10.0))
    assert cal.advance(at(0, 16.0), 3.0) == at(2, 10.0)
    assert cal.next_working_time(at(0, 17.0)) == at(2, 8.0)
    assert cal.working_hours_between(0.0, at(7, 0.0)) == 36.0


def test_advance_many_weeks() -> None:
    cal = office()
    assert cal.advance(0.0, 45.0 * 10) == at(7 * 9 + 4, 17.0)  # ten full weeks: Friday 17:00
    assert cal.advance(0.0, 45.0 * 10 + 1.0) == at(7 * 10, 9.0)
    with_holidays = office(holidays=(date(2025, 2, 4), date(2025, 2, 8)))  # Tue; Sat is moot
    assert with_holidays.advance(0.0, 45.0 * 10) == at(7 * 10, 17.0)  # one day later: Monday


def test_working_hours_between() -> None:
    cal = office()
    assert cal.working_hours_between(0.0, at(7, 0.0)) == 45.0
    assert cal.working_hours_between(at(0, 10.0), at(0, 12.5)) == 2.5
    assert cal.working_hours_between(at(4, 16.0), at(7, 10.0)) == 3.0
    assert cal.working_hours_between(at(5, 0.0), at(6, 23.0)) == 0.0
    assert cal.working_hours_between(at(3, 5.0), at(3, 5.0)) == 0.0
    assert cal.working_hours_between(0.0, at(70, 0.0)) == 450.0
    with pytest.raises(ValueError, match="must not be before"):
        cal.working_hours_between(10.0, 9.0)


def test_next_time_at_weekly_meeting() -> None:
    cal = office()
    assert cal.next_time_at(0.0, 0, 10.0) == at(0, 10.0)
    assert cal.next_time_at(at(0, 10.0), 0, 10.0) == at(0, 10.0)  # inclusive
    assert cal.next_time_at(at(0, 10.5), 0, 10.0) == at(7, 10.0)
    assert cal.next_time_at(at(2, 0.0), 3, 9.0) == at(3, 9.0)
    assert cal.next_time_at(at(5, 0.0), 0, 10.0) == at(7, 10.0)
    holiday_monday = office(holidays=(date(2025, 1, 13),))
    assert holiday_monday.next_time_at(at(0, 11.0), 0, 10.0) == at(14, 10.0)
    with pytest.raises(ValueError, match="not a working weekday"):
        cal.next_time_at(0.0, 6, 10.0)
    with pytest.raises(ValueError, match="weekday"):
        cal.next_time_at(0.0, 7, 10.0)
    with pytest.raises(ValueError, match="hour"):
        cal.next_time_at(0.0, 0, 24.0)


def test_negative_times_before_start_date() -> None:
    cal = office(holidays=(date(2025, 1, 2),))  # Thursday before start
    t = at(-3, 12.0)  # Friday 2025-01-03 12:00
    assert cal.day_index(t) == -3
    assert cal.date_of(t) == date(2025, 1, 3)
    assert cal.weekday(t) == 4
    assert cal.is_working(t)
    assert not cal.is_working_day(-4)
    assert cal.advance(t, 6.0) == at(0, 9.0)
    assert cal.working_hours_between(at(-4, 0.0), at(0, 9.0)) == 10.0  # Thu is a holiday
    assert cal.next_working_time(at(-5, 18.0)) == at(-3, 8.0)


def test_whole_day_shifts_join_across_midnight() -> None:
    cal = WorkCalendar(MONDAY, range(5), 0.0, 24.0)
    assert not cal.is_always_open
    assert cal.hours_per_week == 120.0
    assert cal.shift_end(at(4, 20.0)) == at(5, 0.0)
    assert cal.advance(at(4, 20.0), 10.0) == at(7, 6.0)
    assert cal.advance(at(0, 20.0), 10.0) == at(1, 6.0)
    assert cal.next_working_time(at(5, 0.0)) == at(7, 0.0)


def test_always_open_fast_path() -> None:
    cal = WorkCalendar.always_open(MONDAY)
    assert cal.is_always_open
    assert cal.hours_per_week == 168.0
    assert cal.advance(5.25, 100.5) == 105.75
    assert cal.advance(-3.0, 1.0) == -2.0
    assert cal.next_working_time(123.4) == 123.4
    assert cal.is_working(at(5, 3.0))
    assert cal.working_hours_between(1.0, 500.0) == 499.0
    assert cal.shift_end(at(2, 3.0)) == at(3, 0.0)
    assert cal.next_time_at(at(0, 11.0), 6, 3.0) == at(6, 3.0)
    # A 24/7 pattern with a holiday is not "always open" and pauses over the holiday.
    closed_tuesday = WorkCalendar(MONDAY, range(7), 0.0, 24.0, [date(2025, 1, 7)])
    assert not closed_tuesday.is_always_open
    assert closed_tuesday.advance(at(0, 20.0), 10.0) == at(2, 6.0)


def test_properties_and_inputs() -> None:
    cal = WorkCalendar(datetime(2025, 1, 6, 9, 30), [0, 2, 4], 8.5, 16.0, [datetime(2025, 1, 8)])
    assert cal.start_date == MONDAY
    assert cal.work_weekdays == frozenset({0, 2, 4})
    assert cal.holidays == frozenset({date(2025, 1, 8)})
    assert cal.hours_per_week == 22.5
    assert not cal.is_working_day(2)
    assert "WorkCalendar" in repr(cal)


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekdays", "start", "end", "match"),
    [
        ((), 8.0, 17.0, "at least one working weekday"),
        ((0, 7), 8.0, 17.0, "0..6"),
        ((-1,), 8.0, 17.0, "0..6"),
        ((0.5,), 8.0, 17.0, "integers"),
        (range(5), 17.0, 8.0, "must be before"),
        (range(5), 8.0, 8.0, "must be before"),
        (range(5), -1.0, 17.0, r"\[0, 24\]"),
        (range(5), 8.0, 25.0, r"\[0, 24\]"),
        (range(5), math.nan, 17.0, r"\[0, 24\]"),
    ],
)
def test_validation(weekdays: tuple[int, ...], start: float, end: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WorkCalendar(MONDAY, weekdays, start, end)


def test_holiday_must_be_a_date() -> None:
    with pytest.raises(TypeError, match="holiday"):
        WorkCalendar(MONDAY, range(5), 8.0, 17.0, ["2025-01-07"])  # type: ignore[list-item]


def test_advance_rejects_bad_work() -> None:
    cal = office()
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="work_hours"):
            cal.advance(0.0, bad)


def test_no_working_time_raises_instead_of_looping() -> None:
    mondays = [MONDAY + timedelta(weeks=k) for k in range(MAX_SEARCH_DAYS // 7 + 10)]
    cal = WorkCalendar(MONDAY, [0], 8.0, 17.0, mondays)
    with pytest.raises(ValueError, match="no working time"):
        cal.next_working_time(0.0)
    with pytest.raises(ValueError, match="no working time"):
        cal.advance(0.0, 1.0)
    with pytest.raises(ValueError, match="holidays"):
        cal.next_time_at(0.0, 0, 10.0)


def test_advance_is_fast() -> None:
    cal = office(holidays=(date(2025, 1, 7), date(2025, 4, 18)))
    n = 20_000
    start = time.perf_counter()
    for i in range(n):
        cal.advance(i * 0.37, 2.0)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 50e-6  # a few µs in practice; generous for slow CI machines


# -- properties --------------------------------------------------------------------------------

# Inputs are rounded to 1e-6 h (3.6 ms): results within TIME_EPS (1e-9 h) of a shift boundary may
# legitimately snap either way, and model inputs never sit at such distances on purpose.


def micro(x: float) -> float:
    return round(x, 6)


hours = st.floats(min_value=0.0, max_value=24.0).map(micro)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    if draw(st.integers(0, 9)) == 0:
        return WorkCalendar.always_open(MONDAY)
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    # Shifts of at least 1 h keep 600 h of work within ~12 years of clock.
    if draw(st.booleans()):  # typical configured shifts: quarter hours
        a = draw(st.integers(0, 92))
        start, end = a / 4, draw(st.integers(a + 4, 96)) / 4
    else:  # arbitrary floats stress rounding at boundaries
        start, end = sorted((draw(hours), draw(hours)))
        assume(end - start >= 1.0)
    holidays = draw(
        st.lists(st.integers(-30, 400).map(lambda k: MONDAY + timedelta(days=k)), max_size=25)
    )
    return WorkCalendar(MONDAY, weekdays, start, end, holidays)


times = st.floats(min_value=-24.0 * 30, max_value=24.0 * 400).map(micro)
durations = st.floats(min_value=0.0, max_value=600.0).map(micro)


def reference_advance(cal: WorkCalendar, t: float, work: float) -> float:
    """Plain day-by-day walk, independent of the week skipping in WorkCalendar.advance."""
    if work == 0:
        return t
    t = cal.next_working_time(t)
    while True:
        end = cal.shift_end(t)
        if work < end - t - TIME_EPS:
            return t + work
        if work <= end - t + TIME_EPS:
            return end
        work -= end - t
        t = cal.next_working_time(end)


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), t=times, h=durations)
def test_advance_properties(cal: WorkCalendar, t: float, h: float) -> None:
    done = cal.advance(t, h)
    assert done >= t
    assert cal.working_hours_between(t, done) == pytest.approx(h, abs=1e-6)
    assert done == pytest.approx(reference_advance(cal, t, h), abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), t=times, a=durations, b=durations)
def test_advance_is_additive(cal: WorkCalendar, t: float, a: float, b: float) -> None:
    assert cal.advance(cal.advance(t, a), b) == pytest.approx(cal.advance(t, a + b), abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), t=times)
def test_next_working_time_properties(cal: WorkCalendar, t: float) -> None:
    nxt = cal.next_working_time(t)
    assert nxt >= t
    assert cal.is_working(nxt)
    assert cal.next_working_time(nxt) == nxt
    assert cal.working_hours_between(t, nxt) == pytest.approx(0.0, abs=1e-6)
    assert cal.shift_end(nxt) > nxt


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), t0=times, span=st.floats(min_value=0.0, max_value=24.0 * 60))
def test_working_hours_between_is_additive(cal: WorkCalendar, t0: float, span: float) -> None:
    mid, t1 = t0 + span / 3, t0 + span
    total = cal.working_hours_between(t0, t1)
    assert 0.0 <= total <= span + 1e-9
    parts = cal.working_hours_between(t0, mid) + cal.working_hours_between(mid, t1)
    assert total == pytest.approx(parts, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), t=times, hour=st.floats(0.0, 23.99), data=st.data())
def test_next_time_at_properties(
    cal: WorkCalendar, t: float, hour: float, data: st.DataObject
) -> None:
    weekday = data.draw(st.sampled_from(sorted(cal.work_weekdays)))
    meet = cal.next_time_at(t, weekday, hour)
    assert meet >= t - 1e-9
    assert meet - t < 24.0 * 7 * 27  # at most 25 holidays in a row to skip
    assert cal.weekday(meet) == weekday
    assert cal.is_working_day(cal.day_index(meet))
    assert meet - cal.day_index(meet) * 24.0 == pytest.approx(hour, abs=1e-6)
    # No earlier qualifying occurrence was skipped.
    earlier = meet - 24.0 * 7
    assert earlier < t - 1e-9 or not cal.is_working_day(cal.day_index(earlier))
