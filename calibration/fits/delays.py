"""Hand-off from sales to engineering: a weekly batching meeting, or a delay per order.

``sim.handoff`` moves an order to the next weekly meeting (``mode="batched"``) or at once
(``"immediate"``), then through ``approval_steps`` delays counted in *office working hours*.
So delays are measured in office working hours too (``office`` calendar, default the scenario's
default office calendar): a calendar-hour delay over a weekend would otherwise be read by the
twin as a week of office time. The history is summarised as one approval step whose distribution
is the whole remaining delay (it cannot say how many steps there were; say so). A weekly batching
pattern is detected from the weekday of hand-offs: when most of them fall on one weekday (and
orders are not simply created on that day), the hand-off is batched at that weekday's median hour.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd

from calibration.fits._common import HOUR, check_min, describe, is_date_only, require_columns
from calibration.fits.families import fit_duration
from calibration.fits.result import FitResult
from sim.calendar import WorkCalendar
from sim.scenario import WEEKDAYS, CalendarSpec

__all__ = ["MIN_HANDOFFS", "fit_handoff"]

log = logging.getLogger(__name__)

FIT = "handoff"
MIN_HANDOFFS = 20
MIN_DELAY_HOURS = 1.0 / 60.0  # under a minute of office time counts as no delay


def _calendar(office: CalendarSpec, start: dt.date) -> WorkCalendar:
    return WorkCalendar(
        start,
        office.weekday_numbers,
        office.shift_start_hour,
        office.shift_end_hour,
        office.holidays,
    )


def fit_handoff(
    orders: pd.DataFrame,
    *,
    office: CalendarSpec | None = None,
    batch_share: float = 0.4,
    min_after_share: float = 0.9,
    min_rows: int = MIN_HANDOFFS,
    n_mc_samples: int = 199,
    p_threshold: float = 0.01,
    seed: int = 0,
) -> FitResult:
    """Hand-off mode, meeting weekday/hour and the approval delay (office working hours)."""
    office = office or CalendarSpec()
    require_columns(orders, FIT, "orders", ("created_at", "handed_off_at"))
    rows = orders[orders["created_at"].notna() & orders["handed_off_at"].notna()]
    created = pd.to_datetime(rows["created_at"])
    handed = pd.to_datetime(rows["handed_off_at"])
    negative = handed < created
    n_negative = int(negative.sum())
    created, handed = created[~negative], handed[~negative]
    n = len(created)
    check_min(FIT, n, min_rows, "orders with created_at and handed_off_at")

    notes: list[str] = []
    if n_negative:
        notes.append(f"{n_negative} orders handed off before they were created left out")
    date_only = is_date_only(handed)
    origin = pd.Timestamp(min(created.min(), handed.min()).date())
    cal = _calendar(office, origin.date())
    t_created = ((created - origin) / HOUR).to_numpy(float)
    t_handed = ((handed - origin) / HOUR).to_numpy(float)
    calendar_hours = t_handed - t_created

    handed_share = np.bincount(handed.dt.day_of_week, minlength=7) / n
    created_share = np.bincount(created.dt.day_of_week, minlength=7) / n
    top = int(np.argmax(handed_share))
    concentrated = (
        handed_share[top] >= batch_share
        and handed_share[top] >= 2.0 * created_share[top]
        and top in office.weekday_numbers
    )
    after_share = 0.0
    meeting_hour = float(office.shift_start_hour)
    if concentrated:
        # the meeting is when the day's hand-offs begin (nobody is handed off before it); a low
        # quantile rather than the minimum tolerates a stray early hand-off
        on_day = handed[handed.dt.day_of_week == top]
        hours_of_day = ((on_day - on_day.dt.normalize()) / HOUR).to_numpy(float)
        check_hour = 0.0 if date_only else float(np.floor(np.quantile(hours_of_day, 0.005) * 4) / 4)
        if not date_only:
            meeting_hour = check_hour
        meetings = np.array([cal.next_time_at(t, top, check_hour) for t in t_created])
        after = t_handed >= meetings - 1e-6
        after_share = float(after.mean())
    batched = concentrated and after_share >= min_after_share
    diagnostics: dict[str, Any] = {
        "weekday_share": {"handed_off": handed_share, "created": created_share},
        "calendar_hours": describe(calendar_hours),
        "batched": batched,
        "share_after_meeting": after_share,
        "date_only": date_only,
    }
    if concentrated and not batched:
        notes.append(
            f"{handed_share[top]:.0%} of hand-offs fall on {WEEKDAYS[top]}, but only "
            f"{after_share:.0%} wait for that day's meeting: treated as immediate"
        )
    params: dict[str, Any] = {}
    if batched:
        if date_only:
            notes.append("hand-off dates without times: meeting at the office's shift start")
        residual = np.array(
            [
                cal.working_hours_between(m, h)
                for m, h in zip(meetings[after], t_handed[after], strict=True)
            ]
        )
        diagnostics.update(
            {
                "meeting_weekday": WEEKDAYS[top],
                "meeting_hour": meeting_hour,
                "residual_hours": describe(residual),
            }
        )
        params.update(
            {
                "handoff.mode": "batched",
                "handoff.meeting_weekday": WEEKDAYS[top],
                "handoff.meeting_hour": meeting_hour,
            }
        )
        delays = residual
        what = f"after the {WEEKDAYS[top]} {meeting_hour:g}h meeting"
        method = (
            f"weekly batching detected ({handed_share[top]:.0%} of hand-offs on {WEEKDAYS[top]}, "
            f"{created_share[top]:.0%} of orders created then; {after_share:.0%} handed off at or "
            "after the next meeting); delay after the meeting in office working hours"
        )
        if after_share < 1.0:
            notes.append(
                f"{1.0 - after_share:.0%} of orders were handed off before the next meeting: "
                "left out of the delay after the meeting"
            )
    else:
        params["handoff.mode"] = "immediate"
        delays = np.array(
            [cal.working_hours_between(c, h) for c, h in zip(t_created, t_handed, strict=True)]
        )
        what = "from creation"
        method = (
            f"no weekly batching (largest weekday share {handed_share[top]:.0%} on "
            f"{WEEKDAYS[top]}); delay from creation in office working hours"
        )
    positive = delays[delays >= MIN_DELAY_HOURS]
    diagnostics["working_hours"] = describe(delays)
    zero_share = 1.0 - len(positive) / max(1, len(delays))
    diagnostics["zero_share"] = zero_share
    if len(positive) < min_rows or (batched and np.median(delays) < 0.5):
        params["handoff.approval_steps"] = 0
        quality = f"hand-off {what} without further delay (median {np.median(delays):.2f} office h)"
        method += "; no approval delay"
    else:
        dur = fit_duration(
            positive,
            unit="office hours",
            n_mc_samples=n_mc_samples,
            p_threshold=p_threshold,
            seed=seed,
        )
        params["handoff.approval_steps"] = 1
        params["handoff.approval_delay_hours"] = dur.spec
        diagnostics.update(dur.diagnostics)
        notes.extend(dur.notes)
        notes.append(
            "the whole delay is one approval step: the export cannot tell how many steps there were"
        )
        if zero_share > 0.05:
            notes.append(
                f"{zero_share:.0%} of hand-offs took no office time (outside office hours): "
                "left out of the delay distribution"
            )
        quality = f"{dur.quality}; {len(positive)} positive delays {what}"
        method += "; " + (
            "lognormal, gamma, Weibull, exponential by maximum likelihood, AIC, Anderson-Darling "
            f"(empirical if p < {p_threshold})"
        )
    if date_only:
        notes.append("hand-off dates without times: delays are whole office days")
    return FitResult(
        fit=FIT,
        params=params,
        n=n,
        method=method,
        quality=quality,
        diagnostics=diagnostics,
        source="orders.handed_off_at - orders.created_at",
        notes=tuple(notes),
    )
