"""Calibration end to end: parameter recovery on the bundled sample, the scenario file with its
provenance, refusal on thin data, the back-test, and the commands."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

from calibration.backtest import backtest
from calibration.calibrate import CalibrationError, calibrate
from calibration.sample import HISTORY_DIR, TRUTH_SCENARIO
from sim.customers import satisfaction_probability
from sim.distributions import build
from sim.scenario_files import load_scenario


@pytest.fixture(scope="module")
def calibrated():
    return calibrate(HISTORY_DIR, template=load_scenario(SCENARIOS / "baseline.toml"))


@pytest.fixture(scope="module")
def truth():
    return load_scenario(TRUTH_SCENARIO)


def test_recovers_the_truth_within_stated_tolerances(calibrated, truth) -> None:
    """Parameter recovery: each fitted number against the truth scenario that made the sample.

    Tolerances: weekday and month factors within 3 Poisson standard errors of that weekday's
    (month's) order count plus 3 % for the normalisation; base rate 10 %; order mix 3-8 %;
    lead-time means 3 standard errors (+0.5 day for date rounding); outcome probabilities 2
    points; predicted satisfaction 6 points; exact for the promise and the hand-off meeting."""
    fit, true = calibrated.scenario, truth
    created = calibrated.history.tables["orders"]["created_at"]
    per_weekday = created.dt.day_of_week.value_counts().sort_index().to_numpy()
    per_month = created.dt.month.value_counts().sort_index().to_numpy()
    for f, t, n in zip(fit.arrivals.weekday_factors, true.arrivals.weekday_factors, per_weekday,
                       strict=True):  # fmt: skip
        assert f == pytest.approx(t, rel=3 / math.sqrt(n) + 0.03)
    # April also holds the spring campaign (+25 % for three weeks), which the month factor absorbs.
    true_months = list(true.arrivals.month_factors)
    true_months[3] *= 1 + 0.25 * 21 / 30
    for f, t, n in zip(fit.arrivals.month_factors, true_months, per_month, strict=True):
        assert f == pytest.approx(t, rel=3 / math.sqrt(n) + 0.03)
    assert fit.arrivals.base_rate_per_day == pytest.approx(true.arrivals.base_rate_per_day, rel=0.1)
    size, true_size = build(fit.orders.size_fixtures), build(true.orders.size_fixtures)
    assert size.mean == pytest.approx(true_size.mean, rel=0.03)
    assert size.sd == pytest.approx(true_size.sd, rel=0.08)
    value, true_value = build(fit.orders.value_per_fixture), build(true.orders.value_per_fixture)
    assert value.mean == pytest.approx(true_value.mean, rel=0.03)
    assert fit.orders.regions == pytest.approx(
        {k: v / sum(true.orders.regions.values()) for k, v in true.orders.regions.items()},
        abs=0.03,
    )
    bom = {line.sku: line for line in fit.orders.bom}
    assert bom["led_fixture"].qty_per_fixture == pytest.approx(1.0, abs=0.01)
    assert bom["hub"].qty_per_order == pytest.approx(1.0, abs=0.01)
    for supplier in true.supply.suppliers:
        fitted = next(s for s in fit.supply.suppliers if s.name == supplier.name)
        true_lead = build(supplier.lead_time_days)
        n = calibrated.history.tables["purchase_orders"]["supplier"].eq(supplier.name).sum()
        se = true_lead.sd / math.sqrt(n)
        assert abs(build(fitted.lead_time_days).mean - true_lead.mean) < 3 * se + 0.5
    assert fit.promise.policy == "fixed" and fit.promise.fixed_days == 3.0
    assert fit.handoff.mode == "batched"
    assert (fit.handoff.meeting_weekday, fit.handoff.meeting_hour) == ("mon", 10.0)
    inst, true_inst = fit.installation, true.installation
    assert inst.hours_per_fixture == pytest.approx(true_inst.hours_per_fixture, rel=0.08)
    assert inst.rework_probability == pytest.approx(true_inst.rework_probability, abs=0.02)
    assert inst.customer_absent_probability == pytest.approx(
        true_inst.customer_absent_probability, abs=0.02
    )
    # With a fixed promise, lateness and lead time move together, so only their joint effect is
    # identified: compare predicted satisfaction over the observed range, not coefficients.
    for late, lead, revisits in [(0, 3, 0), (5, 8, 0), (12, 15, 1), (20, 23, 0)]:
        assert satisfaction_probability(fit.customers, late, lead, revisits) == pytest.approx(
            satisfaction_probability(true.customers, late, lead, revisits), abs=0.06
        )


def test_calibrated_scenario_runs(calibrated) -> None:
    from sim.model import simulate

    result = simulate(calibrated.scenario, seed=3)
    assert result.kpis["orders_completed"] > 1000
    assert 5 < result.kpis["lead_time_mean_days"] < 40


def test_thin_history_is_refused_naming_the_fit(tmp_path: Path) -> None:
    orders = pd.read_csv(HISTORY_DIR / "orders.csv").head(12)
    orders.to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(CalibrationError) as info:
        calibrate(tmp_path, template=load_scenario(SCENARIOS / "baseline.toml"))
    text = "\n".join(info.value.problems)
    assert "refusing to write a scenario" in text
    assert "'arrivals' had 12 usable rows" in text


def twin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip


def test_calibrate_command_writes_scenario_and_report(tmp_path: Path, capsys) -> None:
    out = tmp_path / "calibrated.toml"
    report = tmp_path / "report"
    started = time.perf_counter()
    done = twin("calibrate", str(HISTORY_DIR), "--out", str(out), "--report", str(report))
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\ntwin calibrate on the two-year sample, report included: {seconds:.1f} s")
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    scenario = load_scenario(out)  # the written file is a valid scenario
    assert scenario.name == "calibrated"
    assert "base_rate_per_day = " in text and "# fitted from orders.created_at: n=" in text
    assert "Anderson-Darling" in text  # supplier lead times carry their fit quality
    page = (report / "calibration.html").read_text()
    for heading in ("arrivals", "lead_times[lumentech]", "satisfaction", "installation"):
        assert f"<h3>{heading}</h3>" in page
    assert page.count("<img") >= 6
    assert "http://" not in page and "https://" not in page  # self-contained


def test_calibrate_command_refuses_and_writes_nothing(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    pd.read_csv(HISTORY_DIR / "orders.csv").head(12).to_csv(history / "orders.csv", index=False)
    out = tmp_path / "never.toml"
    done = twin("calibrate", str(history), "--out", str(out))
    assert done.returncode == 2
    assert "fit 'arrivals' had 12 usable rows" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not (tmp_path / "never-report").exists()


def test_calibrate_command_reports_a_bad_history(tmp_path: Path) -> None:
    done = twin("calibrate", str(tmp_path / "missing"), "--out", str(tmp_path / "x.toml"))
    assert done.returncode == 2
    assert "export folder not found" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_backtest_of_the_truth_is_consistent(truth) -> None:
    from calibration.history import load_history

    tables = load_history(HISTORY_DIR).tables
    result = backtest(truth, tables, replications=10, seed=5)
    verdicts = result.table.set_index("statistic")["verdict"]
    assert verdicts["lead_time_mean_days"] == "consistent"
    assert verdicts["orders_completed"] == "consistent"
    assert (verdicts == "consistent").mean() >= 0.7
    assert result.ks_distance < 0.1
    assert len(result.monthly) == 24


def test_backtest_command(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    done = twin("backtest", str(TRUTH_SCENARIO), str(HISTORY_DIR), "--reps", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "KS distance of lead times" in done.stdout
    table = pd.read_csv(out / "backtest.csv")
    assert set(table["verdict"]) <= {"consistent", "history higher", "history lower"}
    assert np.isfinite(table["sim_low"]).all()
    assert "<h1>Back-test" in (out / "backtest.html").read_text()
