"""Scenario builders that reduce the twin to textbook systems, for ``tests/test_theory.py``.

Each builder returns a validated :class:`sim.scenario.Scenario` built from a plain dict (the same
shape as a TOML scenario file), with every source of variability or friction that the textbook
system lacks switched off: no calendars (24/7 crews, no holidays), no hand-off meeting or
approvals, no travel, setup, overtime, rework, absent customers or referrals, and a constant
arrival rate unless the builder is about the arrival profile.

Times in the model are hours; rates in the scenario are per day.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
from typing import Any

from sim.scenario import Scenario

HOURS_PER_DAY = 24.0
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
START = dt.date(2025, 1, 6)  # a Monday: day index d has weekday d % 7
ALWAYS = {"work_days": ALL_DAYS, "shift_start_hour": 0.0, "shift_end_hour": 24.0, "holidays": []}


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay`` merged in table by table (like the scenario files' extends)."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def bare(
    *,
    name: str,
    rate_per_day: float,
    duration_days: float,
    warmup_days: float,
    crews: int = 1,
    service_mean_hours: float = 1.0,
    service_kind: str = "exponential",
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """A constant-rate Poisson source feeding ``crews`` identical 24/7 servers (M/G/c, FIFO).

    Service = hours_per_fixture x 1 fixture x effort factor. The effort factor has mean 1 and is
    exponential (``service_kind="exponential"``) or deterministic (``"deterministic"``), so work
    hours are exponential or constant with mean ``service_mean_hours``.
    """
    effort: dict[str, Any] = (
        {"kind": "exponential", "mean": 1.0}
        if service_kind == "exponential"
        else {"kind": "deterministic", "value": 1.0}
    )
    data: dict[str, Any] = {
        "name": name,
        "run": {
            "start_date": START,
            "duration_days": duration_days,
            "warmup_days": warmup_days,
        },
        "office_calendar": ALWAYS,
        "crew_calendar": ALWAYS,
        "arrivals": {
            "base_rate_per_day": rate_per_day,
            "weekday_factors": [1.0] * 7,
            "month_factors": [1.0] * 12,
            "trend_per_year": 0.0,
            "campaigns": [],
        },
        "orders": {
            "regions": {"here": 1.0},
            "size_fixtures": {"kind": "deterministic", "value": 1.0},
            "value_per_fixture": {"kind": "deterministic", "value": 100.0},
            "bom": [],
        },
        "promise": {"policy": "fixed", "fixed_days": 3.0},
        "handoff": {"mode": "immediate", "approval_steps": 0},
        "supply": {"suppliers": [], "skus": []},
        "dispatch": {
            "rule": "fifo",
            "kit_check": False,
            "crews": [{"name": "crew", "home_region": "here", "count": crews}],
            "travel": {"within_region_hours": 0.0, "between_regions_hours": 0.0},
            "max_overtime_hours_per_day": 0.0,
        },
        "installation": {
            "setup_hours": 0.0,
            "hours_per_fixture": service_mean_hours,
            "effort_factor": effort,
            "rework_probability": 0.0,
            "customer_absent_probability": 0.0,
            "failed_visit_hours": 0.0,
        },
        "customers": {"referral_probability": 0.0},
    }
    if overrides:
        data = deep_merge(data, overrides)
    return Scenario.model_validate(data)


def mmc(
    c: int,
    rho: float,
    *,
    duration_days: float,
    warmup_days: float,
    service_mean_hours: float = 1.0,
    service_kind: str = "exponential",
) -> Scenario:
    """M/M/c at utilisation ``rho`` (M/D/c with ``service_kind="deterministic"``)."""
    rate_per_hour = rho * c / service_mean_hours
    return bare(
        name=f"theory-m-{service_kind[0]}-{c}",
        rate_per_day=rate_per_hour * HOURS_PER_DAY,
        duration_days=duration_days,
        warmup_days=warmup_days,
        crews=c,
        service_mean_hours=service_mean_hours,
        service_kind=service_kind,
    )


def rq_inventory(
    *,
    rate_per_day: float,
    lead_time_days: float,
    reorder_point: int,
    order_quantity: int,
    duration_days: float,
    warmup_days: float,
) -> Scenario:
    """Unit Poisson demand on one SKU under continuous-review (R,Q) with a fixed lead time.

    Every order needs exactly one unit, reserved at hand-off, which is immediate: demand is the
    Poisson arrival stream itself. Crews are many and fast, so installation never holds stock.
    """
    return bare(
        name="theory-rq",
        rate_per_day=rate_per_day,
        duration_days=duration_days,
        warmup_days=warmup_days,
        crews=4,
        service_mean_hours=0.01,
        service_kind="deterministic",
        overrides={
            "orders": {"bom": [{"sku": "part", "qty_per_order": 1.0, "qty_per_fixture": 0.0}]},
            "supply": {
                "review": "continuous",
                "reserve_at": "handoff",
                "stock_visibility_delay_hours": 0.0,
                "expedite_after_days": None,
                "suppliers": [
                    {
                        "name": "vendor",
                        "lead_time_days": {"kind": "deterministic", "value": lead_time_days},
                        "disruptions_per_year": 0.0,
                    }
                ],
                "skus": [
                    {
                        "name": "part",
                        "supplier": "vendor",
                        "unit_cost": 10.0,
                        "initial_on_hand": reorder_point + order_quantity,
                        "policy": "RQ",
                        "reorder_point": reorder_point,
                        "order_quantity": order_quantity,
                    }
                ],
            },
            "dispatch": {"kit_check": True},
        },
    )


def arrival_profile(
    *,
    rate_per_day: float,
    duration_days: float,
    weekday_factors: list[float] | None = None,
    month_factors: list[float] | None = None,
    campaigns: list[dict[str, float]] | None = None,
) -> Scenario:
    """Arrivals with a weekday / month / campaign profile, served fast enough to stay empty."""
    arrivals: dict[str, Any] = {}
    if weekday_factors is not None:
        arrivals["weekday_factors"] = weekday_factors
    if month_factors is not None:
        arrivals["month_factors"] = month_factors
    if campaigns is not None:
        arrivals["campaigns"] = campaigns
    return bare(
        name="theory-arrivals",
        rate_per_day=rate_per_day,
        duration_days=duration_days,
        warmup_days=0.0,
        crews=1,
        service_mean_hours=1e-4,
        service_kind="deterministic",
        overrides={"arrivals": arrivals},
    )


def expected_arrivals_per_day(scenario: Scenario) -> list[float]:
    """Expected number of arrivals on each whole day of the run, from the spec alone.

    Computed independently of ``sim.arrivals``: base x weekday factor x month factor, times the
    campaign multiplier integrated over the day (campaigns may start and end mid-day; where
    campaigns overlap their factors multiply). The trend must be 0.
    """
    spec = scenario.arrivals
    assert spec.trend_per_year == 0.0
    start = scenario.run.start_date
    days = math.floor(scenario.run.duration_days)
    out = []
    for d in range(days):
        date = start + dt.timedelta(days=d)
        base = (
            spec.base_rate_per_day
            * spec.weekday_factors[date.weekday()]
            * spec.month_factors[date.month - 1]
        )
        cuts = {float(d), d + 1.0}
        for c in spec.campaigns:
            cuts.update(t for t in (c.start_day, c.start_day + c.length_days) if d < t < d + 1)
        edges = sorted(cuts)
        mult = 0.0
        for lo, hi in itertools.pairwise(edges):
            mid = 0.5 * (lo + hi)
            factor = 1.0
            for c in spec.campaigns:
                if c.start_day <= mid < c.start_day + c.length_days:
                    factor *= 1.0 + c.uplift
            mult += (hi - lo) * factor
        out.append(base * mult)
    return out


def full_model(*, duration_days: float, warmup_days: float) -> Scenario:
    """Most of the machinery switched on, with stationary (weekly-periodic) demand.

    Weekly batched hand-off and approvals in office hours, Mon-Fri crew shifts with overtime,
    three regions with travel, setup, rework, absent customers, a bill of materials under
    periodic (s,S) and (R,Q) review with a stale stock view, kit check, referrals. No trend,
    month profile, campaigns or holidays, so the long-run behaviour is periodic-stationary.
    """
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    office = {"work_days": weekdays, "shift_start_hour": 8.0, "shift_end_hour": 17.0}
    crews = {"work_days": weekdays, "shift_start_hour": 7.5, "shift_end_hour": 16.5}
    return Scenario.model_validate(
        {
            "name": "theory-full",
            "run": {
                "start_date": START,
                "duration_days": duration_days,
                "warmup_days": warmup_days,
            },
            "office_calendar": office,
            "crew_calendar": crews,
            "arrivals": {
                "base_rate_per_day": 4.0,
                "weekday_factors": [1.25, 1.30, 1.25, 1.20, 1.10, 0.60, 0.30],
            },
            "orders": {
                "regions": {"north": 0.4, "south": 0.35, "city": 0.25},
                "size_fixtures": {"kind": "lognormal", "mean": 6.0, "sd": 4.0},
                "value_per_fixture": {"kind": "lognormal", "mean": 450.0, "sd": 120.0},
                "bom": [
                    {"sku": "led", "qty_per_fixture": 1.0},
                    {"sku": "hub", "qty_per_order": 1.0},
                ],
            },
            "handoff": {
                "mode": "batched",
                "meeting_weekday": "mon",
                "meeting_hour": 10.0,
                "approval_steps": 2,
                "approval_delay_hours": {"kind": "exponential", "mean": 5.0},
            },
            "supply": {
                "review": "periodic",
                "review_period_days": 7.0,
                "reserve_at": "dispatch",
                "stock_visibility_delay_hours": 24.0,
                "suppliers": [
                    {
                        "name": "far",
                        "lead_time_days": {"kind": "lognormal", "mean": 8.0, "sd": 2.0},
                    },
                    {"name": "near", "lead_time_days": {"kind": "gamma", "mean": 4.0, "sd": 1.5}},
                ],
                "skus": [
                    {
                        "name": "led",
                        "supplier": "far",
                        "unit_cost": 100.0,
                        "initial_on_hand": 600,
                        "policy": "sS",
                        "reorder_point": 450,
                        "order_up_to": 700,
                    },
                    {
                        "name": "hub",
                        "supplier": "near",
                        "unit_cost": 90.0,
                        "initial_on_hand": 60,
                        "policy": "RQ",
                        "reorder_point": 35,
                        "order_quantity": 30,
                    },
                ],
            },
            "dispatch": {
                "rule": "fifo",
                "kit_check": True,
                "crews": [
                    {"name": "north", "home_region": "north", "count": 3},
                    {"name": "south", "home_region": "south", "count": 2},
                    {"name": "city", "home_region": "city", "count": 2},
                ],
                "travel": {"within_region_hours": 0.75, "between_regions_hours": 2.0},
                "max_overtime_hours_per_day": 1.0,
            },
            "installation": {
                "setup_hours": 1.5,
                "hours_per_fixture": 0.6,
                "effort_factor": {"kind": "lognormal", "mean": 1.0, "sd": 0.3},
                "rework_probability": 0.1,
                "customer_absent_probability": 0.05,
            },
            "customers": {
                "referral_probability": 0.1,
                "referral_delay_days": {"kind": "exponential", "mean": 10.0},
            },
        }
    )
