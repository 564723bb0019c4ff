"""Calibration from the real public exports through the shipped column maps.

Olist (orders and reviews) gives an arrival profile, the promised lead time and satisfaction
against lateness; SCMS gives supplier lead times per shipment mode from a file with a BOM, CR
line endings, mixed date formats and text fillers. Facts asserted are ones that hold in those
data. Skipped when ../shared/data/real is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS

from calibration.calibrate import CalibrationError, calibrate
from calibration.fits import fit_arrivals, fit_lead_times, fit_promise, fit_satisfaction
from calibration.history import load_history
from sim.distributions import parse_spec
from sim.scenario_files import load_scenario

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real exports not found at {REAL}")


@pytest.fixture(scope="module")
def olist():
    return load_history(REAL / "olist", "olist").tables


@pytest.fixture(scope="module")
def scms():
    return load_history(REAL / "scms", "scms").tables


def test_olist_satisfaction_falls_as_lateness_grows(olist) -> None:
    result = fit_satisfaction(olist["orders"], olist["surveys"])
    observed = result.diagnostics["buckets"]["observed"]
    assert list(observed) == sorted(observed, reverse=True)  # every bucket below the previous
    assert observed[0] > 0.75 and observed[-1] < 0.2
    assert result.params["customers.satisfaction_per_late_day"] < 0


def test_olist_promised_lead_time_and_arrival_profile(olist) -> None:
    promise = fit_promise(olist["orders"])
    days = (olist["orders"]["promised_at"] - olist["orders"]["created_at"]).dt.days
    assert promise.params["promise.fixed_days"] == pytest.approx(days.median(), abs=1)
    arrivals = fit_arrivals(olist["orders"])
    weekday = arrivals.params["arrivals.weekday_factors"]
    assert len(weekday) == 7 and sum(weekday) == pytest.approx(7, abs=0.01)
    assert min(weekday) in weekday[5:]  # weekend days are the quietest


def test_olist_alone_cannot_make_a_scenario(tmp_path) -> None:
    """Olist orders carry no size: calibration refuses and names the fit."""
    with pytest.raises(CalibrationError) as info:
        calibrate(REAL / "olist", "olist", load_scenario(SCENARIOS / "baseline.toml"))
    assert any("order_mix" in p and "size" in p for p in info.value.problems)


def test_scms_lead_time_means_match_the_data(scms) -> None:
    pos = scms["purchase_orders"]
    result = fit_lead_times(pos, skip_small=True)
    assert {"Air", "Ocean", "Truck"} <= set(result.parts)
    lead_days = (pos["received_at"] - pos["ordered_at"]).dt.total_seconds() / 86400
    for mode in ("Air", "Ocean"):
        spec = parse_spec(result.parts[mode].params["lead_time_days"])
        empirical = lead_days[pos["supplier"] == mode]
        empirical = empirical[empirical > 0].mean()
        assert spec.build().mean == pytest.approx(empirical, rel=0.05), mode
