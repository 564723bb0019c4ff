"""Hand-off: immediate with an office-hours delay, or batched at a weekly meeting."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_handoff
from sim.calendar import WorkCalendar
from sim.distributions import build
from sim.scenario import CalendarSpec, HandoffSpec

START = dt.date(2024, 1, 1)  # a Monday
OFFICE = WorkCalendar(START, range(5), 8.0, 17.0)


def _orders(
    n: int,
    seed: int,
    *,
    delay: dict[str, object] | None = None,
    meeting: tuple[int, float] | None = None,
) -> pd.DataFrame:
    """Hand-offs made by the twin's own rule: next meeting (if any), then one approval delay."""
    rng = np.random.default_rng(seed)
    created = np.sort(rng.uniform(0.0, 365 * 24.0, n))
    dist = build(delay) if delay else None
    handed = []
    for t in created:
        h = OFFICE.next_time_at(t, *meeting) if meeting else t
        if dist is not None:
            h = OFFICE.advance(h, float(dist.sample(rng)))
        handed.append(h)
    origin = pd.Timestamp(START)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "created_at": origin + pd.to_timedelta(created, unit="h"),
            "handed_off_at": origin + pd.to_timedelta(np.array(handed), unit="h"),
        }
    )


def test_immediate_hand_off_recovers_the_office_hours_delay() -> None:
    delay = {"kind": "lognormal", "mean": 6.0, "sd": 3.0}
    result = fit_handoff(_orders(800, 31, delay=delay))
    p = result.params
    assert p["handoff.mode"] == "immediate"
    assert p["handoff.approval_steps"] == 1
    fitted = build(p["handoff.approval_delay_hours"])
    assert p["handoff.approval_delay_hours"]["kind"] == "lognormal"
    assert fitted.mean == pytest.approx(6.0, rel=0.05)
    assert fitted.sd == pytest.approx(3.0, rel=0.12)
    # calendar hours are far longer than office hours: nights and weekends are not delay
    assert result.diagnostics["calendar_hours"]["mean"] > 2 * fitted.mean
    assert any("one approval step" in note for note in result.notes)
    HandoffSpec(**{k.split(".")[1]: v for k, v in p.items()})


def test_weekly_meeting_is_detected() -> None:
    result = fit_handoff(_orders(300, 32, meeting=(0, 10.0)))
    p = result.params
    assert p == {
        "handoff.mode": "batched",
        "handoff.meeting_weekday": "mon",
        "handoff.meeting_hour": 10.0,
        "handoff.approval_steps": 0,
    }
    assert result.diagnostics["share_after_meeting"] == pytest.approx(1.0)
    assert "batching detected" in result.method


def test_meeting_then_approval_delay() -> None:
    delay = {"kind": "exponential", "mean": 4.0}
    result = fit_handoff(_orders(600, 33, meeting=(2, 14.0), delay=delay))
    p = result.params
    assert p["handoff.mode"] == "batched" and p["handoff.meeting_weekday"] == "wed"
    assert p["handoff.approval_steps"] == 1
    assert p["handoff.meeting_hour"] == 14.0
    assert build(p["handoff.approval_delay_hours"]).mean == pytest.approx(4.0, rel=0.08)


def test_custom_office_calendar_counts_its_own_hours() -> None:
    delay = {"kind": "gamma", "mean": 5.0, "sd": 2.0}
    orders = _orders(400, 34, delay=delay)
    default = build(fit_handoff(orders).params["handoff.approval_delay_hours"]).mean
    always = CalendarSpec(
        work_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        shift_start_hour=0.0,
        shift_end_hour=24.0,
    )
    calendar_hours = build(
        fit_handoff(orders, office=always).params["handoff.approval_delay_hours"]
    )
    assert default == pytest.approx(5.0, rel=0.08)
    assert calendar_hours.mean > 2 * default


def test_too_few_hand_offs_raise_fit_error() -> None:
    orders = _orders(9, 35, delay={"kind": "exponential", "mean": 3.0})
    with pytest.raises(FitError, match=r"'handoff' had 9 usable rows") as info:
        fit_handoff(orders)
    assert info.value.minimum == 20
