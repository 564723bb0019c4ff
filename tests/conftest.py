"""Shared fixtures: paths and small scenarios that run in well under a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario
from sim.scenario_files import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def small_scenario_data(**overrides: Any) -> dict[str, Any]:
    """A compact but complete company: two regions, three SKUs, stale stock, batched hand-off."""
    data: dict[str, Any] = {
        "name": "small",
        "run": {"start_date": "2025-01-06", "duration_days": 70, "warmup_days": 14},
        "arrivals": {"base_rate_per_day": 3.0},
        "orders": {
            "regions": {"east": 1.0, "west": 1.0},
            "size_fixtures": {"kind": "lognormal", "mean": 6.0, "sd": 3.0},
            "value_per_fixture": {"kind": "uniform", "low": 300, "high": 500},
            "bom": [
                {"sku": "fixture", "qty_per_fixture": 1.0},
                {"sku": "hub", "qty_per_order": 1.0},
            ],
        },
        "handoff": {
            "mode": "batched",
            "approval_steps": 2,
            "approval_delay_hours": {"kind": "exponential", "mean": 4.0},
        },
        "supply": {
            "review": "periodic",
            "review_period_days": 7,
            "reserve_at": "dispatch",
            "stock_visibility_delay_hours": 24,
            "suppliers": [
                {
                    "name": "far",
                    "lead_time_days": {"kind": "gamma", "mean": 8.0, "sd": 3.0},
                    "disruptions_per_year": 4,
                    "disruption_days": {"kind": "uniform", "low": 2, "high": 6},
                    "expedite_lead_time_days": {"kind": "deterministic", "value": 2.0},
                    "expedite_premium_per_unit": 5.0,
                },
                {"name": "near", "lead_time_days": {"kind": "deterministic", "value": 3.0}},
            ],
            "skus": [
                {
                    "name": "fixture",
                    "supplier": "far",
                    "unit_cost": 100.0,
                    "initial_on_hand": 120,
                    "policy": "sS",
                    "reorder_point": 90,
                    "order_up_to": 200,
                },
                {
                    "name": "hub",
                    "supplier": "near",
                    "unit_cost": 80.0,
                    "initial_on_hand": 10,
                    "policy": "RQ",
                    "reorder_point": 8,
                    "order_quantity": 10,
                },
            ],
        },
        "dispatch": {
            "rule": "fifo",
            "crews": [
                {"name": "e", "home_region": "east", "count": 2},
                {"name": "w", "home_region": "west", "count": 1},
            ],
            "max_overtime_hours_per_day": 1.0,
        },
        "installation": {
            "effort_factor": {"kind": "lognormal", "mean": 1.0, "sd": 0.3},
            "rework_probability": 0.15,
            "customer_absent_probability": 0.08,
        },
        "customers": {
            "referral_probability": 0.3,
            "referral_delay_days": {"kind": "exponential", "mean": 10.0},
        },
    }
    for path, value in overrides.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return data


def small_scenario(**overrides: Any) -> Scenario:
    """``small_scenario(dispatch__rule="shortest_job")`` sets dispatch.rule."""
    return Scenario.model_validate(small_scenario_data(**overrides))


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.toml")
