"""`twin demo` end to end: calibrate the sample, compare every policy, write the report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from sim.scenario_files import load_scenario


@pytest.mark.slow
def test_demo_command(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sim", "demo", "--reps", "3", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\ntwin demo with 3 replications: {seconds:.1f} s")
    assert done.returncode == 0, done.stderr
    assert f"report written to {out / 'report.html'}" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    names = [s["name"] for s in manifest["scenarios"]]
    assert names[0] == "calibrated-baseline"
    assert {"committee", "platform", "delivery-programme"} <= set(names)
    assert load_scenario(out / "calibrated.toml").name == "calibrated-baseline"
    assert (out / "calibration" / "calibration.html").exists()
    comparison = pd.read_csv(out / "comparison.csv").set_index(["scenario", "kpi"])
    programme = comparison.loc[("delivery-programme", "lead_time_mean_days")]
    assert programme["mean_diff"] < -3  # the programme shortens lead time by days
    page = (out / "report.html").read_text()
    assert 'id="summary"' in page and page.count("<figure") >= 8
