"""Installation: work hours against size, outcome probabilities, travel from gaps between visits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_installation, fit_travel, fit_work_hours
from sim.distributions import build
from sim.scenario import InstallationSpec, TravelSpec

SETUP, PER_FIXTURE, EFFORT_SD = 1.0, 0.75, 0.25
REWORK, ABSENT, REWORK_FRACTION, FAILED_HOURS = 0.12, 0.05, 0.4, 0.5
WITHIN, BETWEEN = 0.5, 1.5
DAY0 = pd.Timestamp("2024-01-01")


def _world(n_orders: int = 1500, seed: int = 41) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Orders, visits and crews made by the twin's rules, scheduled crew by crew, day by day.

    Crews here keep working past the shift (a few visits run past midnight on the clock), so
    the fits are asked to drop visits across nights rather than time them by a crew calendar;
    the round-trip test covers crew-calendar timing on the twin's own output.
    """
    rng = np.random.default_rng(seed)
    size = np.maximum(
        1, np.round(build({"kind": "lognormal", "mean": 6, "sd": 3}).sample(rng, n_orders))
    )
    effort = build({"kind": "lognormal", "mean": 1.0, "sd": EFFORT_SD}).sample(rng, n_orders)
    region = rng.choice(["north", "south"], size=n_orders)
    orders = pd.DataFrame(
        {"order_id": [f"o{i}" for i in range(n_orders)], "size": size.astype(int), "region": region}
    )
    crews = pd.DataFrame({"crew_id": [f"c{i}" for i in range(6)], "region": ["north", "south"] * 3})
    home = dict(zip(crews["crew_id"], crews["region"], strict=True))
    # each order's visit plan: (order index, outcome, hours)
    plans: list[list[tuple[int, str, float]]] = []
    for i in range(n_orders):
        job = (SETUP + PER_FIXTURE * size[i]) * effort[i]
        plan, rework = [], False
        while len(plan) < 6:
            if rng.random() < ABSENT:
                plan.append((i, "customer_absent", FAILED_HOURS * rng.uniform(0.8, 1.2)))
                continue
            hours = job * REWORK_FRACTION if rework else job
            if rng.random() < REWORK:
                plan.append((i, "rework", hours))
                rework = True
                continue
            plan.append((i, "completed", hours))
            break
        plans.append(plan)
    rows = []
    clock = {c: DAY0 + pd.Timedelta(hours=7) for c in home}
    for step in range(6):  # visit k of every order is scheduled after visit k-1 of all orders
        batch = [p[step] for p in plans if len(p) > step]
        rng.shuffle(batch)
        start_day = max(clock.values()).normalize() + pd.Timedelta(days=1, hours=7)
        clock = dict.fromkeys(home, start_day)
        for j, (i, outcome, hours) in enumerate(batch):
            crew = f"c{j % 6}"
            t = clock[crew]
            if t.hour >= 17 or t.normalize() != (t - pd.Timedelta(hours=1)).normalize():
                t = t.normalize() + pd.Timedelta(days=1, hours=7)
            elif t.hour > 7 or t.minute > 0:
                travel = WITHIN if home[crew] == region[i] else BETWEEN
                t = t + pd.Timedelta(hours=travel + rng.uniform(0.0, 0.1))
            end = t + pd.Timedelta(hours=hours)
            rows.append((f"v{len(rows)}", f"o{i}", crew, t, end, outcome))
            clock[crew] = end
    visits = pd.DataFrame(
        rows, columns=["visit_id", "order_id", "crew_id", "started_at", "finished_at", "outcome"]
    )
    return orders, visits, crews


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return _world()


def test_work_hours_recover_setup_per_fixture_and_effort(world) -> None:
    orders, visits, crews = world
    result = fit_installation(visits, orders, crews, multi_day="drop")
    p = result.params
    assert p["installation.setup_hours"] == pytest.approx(SETUP, abs=0.15)
    assert p["installation.hours_per_fixture"] == pytest.approx(PER_FIXTURE, rel=0.05)
    effort = p["installation.effort_factor"]
    assert effort["kind"] == "lognormal" and effort["mean"] == 1.0
    assert effort["sd"] == pytest.approx(EFFORT_SD, abs=0.05)
    assert p["installation.rework_hours_fraction"] == pytest.approx(REWORK_FRACTION, abs=0.05)
    assert p["installation.failed_visit_hours"] == pytest.approx(FAILED_HOURS, abs=0.1)
    InstallationSpec(**{k.split(".", 1)[1]: v for k, v in p.items() if k.startswith("install")})
    assert "log-linear alternative" in result.quality
    json.dumps(result.to_dict())


def test_outcome_probabilities_in_the_twins_conditional_form(world) -> None:
    orders, visits, crews = world
    p = fit_installation(visits, orders, crews, multi_day="drop").params
    assert p["installation.rework_probability"] == pytest.approx(REWORK, abs=0.025)
    assert p["installation.customer_absent_probability"] == pytest.approx(ABSENT, abs=0.015)


def test_travel_from_gaps_between_a_crews_visits(world) -> None:
    orders, visits, crews = world
    result = fit_travel(visits, orders, crews)
    p = result.params
    assert p["dispatch.travel.within_region_hours"] == pytest.approx(WITHIN + 0.05, abs=0.05)
    assert p["dispatch.travel.between_regions_hours"] == pytest.approx(BETWEEN + 0.05, abs=0.05)
    TravelSpec(**{k.rsplit(".", 1)[1]: v for k, v in p.items()})
    assert any("overstated" in note for note in result.notes)


def test_visits_across_midnight_are_left_out_and_counted(world) -> None:
    orders, visits, _ = world
    visits = visits.copy()
    first = visits.index[visits["outcome"].eq("completed")][:30]
    visits.loc[first, "finished_at"] += pd.Timedelta(days=1)
    result = fit_work_hours(visits, orders, multi_day="drop")
    assert result.diagnostics["n_multi_day"] >= 30
    assert any("spanned a night and were left out" in note for note in result.notes)
    timed = fit_work_hours(visits, orders)  # default: timed in crew working hours (8-17)
    assert timed.n == result.n + result.diagnostics["n_multi_day"]
    assert any("timed in crew working hours" in note for note in timed.notes)


def test_travel_skipped_with_a_note_without_crews_data(world) -> None:
    orders, visits, _ = world
    result = fit_installation(visits.drop(columns=["crew_id"]), orders, multi_day="drop")
    assert "dispatch.travel.within_region_hours" not in result.params
    assert any("travel not fitted" in note for note in result.notes)


def test_too_few_visits_raise_fit_error(world) -> None:
    orders, visits, crews = world
    with pytest.raises(FitError, match=r"'installation.work_hours' had 5 usable rows"):
        fit_installation(visits[visits["outcome"].eq("completed")].head(5), orders, crews)
