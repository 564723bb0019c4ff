"""One-at-a-time sensitivity of a policy bundle's assumptions, and its tornado chart."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS

from sim.report import tornado_png
from sim.scenario_files import apply_overlay
from sim.sensitivity import assumed_parameters, run_sensitivity
from sim.sweep import apply_overrides

PROGRAMME = SCENARIOS / "policies" / "delivery_programme.toml"


def test_assumptions_are_the_overlays_numbers_only() -> None:
    params = assumed_parameters(PROGRAMME)
    assert params["voice_of_customer.learning_rate"] == 0.15
    assert params["shared_kpi.weight"] == 0.3
    assert "committee.risk_horizon_days" in params
    assert not any(k.startswith(("arrivals.", "run.", "orders.")) for k in params)  # baseline's
    assert not any(k.endswith(("meeting_hour", "start_day")) for k in params)


@pytest.mark.slow
def test_sensitivity_runs_each_assumption_low_and_high(baseline, tmp_path: Path) -> None:
    short = apply_overrides(baseline, {"run.duration_days": 150.0}, "baseline")
    overlay = SCENARIOS / "policies" / "voice_of_customer.toml"
    bundle = apply_overlay(short, overlay)
    result = run_sensitivity(bundle, overlay, replications=2)
    table = result.table.set_index(["parameter", "kpi"])
    row = table.loc[("voice_of_customer.learning_rate", "lead_time_mean_days")]
    assert (row["low_value"], row["high_value"]) == pytest.approx((0.075, 0.225))
    assert row["swing"] == pytest.approx(abs(row["high"] - row["low"]))
    # Meeting attendance costs money but cannot move lead time: zero swing, not a missing row.
    assert table.loc[("voice_of_customer.attendees", "lead_time_mean_days"), "swing"] == 0
    png = tornado_png(result.table, "lead_time_mean_days")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
