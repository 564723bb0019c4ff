"""End to end through the ``twin`` command: exit codes, messages, the results folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

from sim.kpis import KPI_NAMES


def twin(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=300,
    )  # fmt: skip


def short_overlay(folder: Path, name: str = "short", extra: str = "") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        f"[run]\nduration_days = 60\nwarmup_days = 10\n{extra}",
        encoding="utf-8",
    )
    return path


def test_check_prints_the_resolved_scenario() -> None:
    done = twin("check", str(SCENARIOS / "examples" / "kit_check.toml"))
    assert done.returncode == 0, done.stderr
    assert "kit_check = true" in done.stdout
    assert 'name = "kit-check"' in done.stdout
    assert "[[supply.skus]]" in done.stdout  # inherited from the baseline


def test_check_reports_every_error_with_exit_2(tmp_path: Path) -> None:
    bad = short_overlay(tmp_path, extra="[dispatch]\nrul = 'fifo'\n[promise]\nfixed_days = -1\n")
    done = twin("check", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("dispatch.rul" in line and "did you mean 'rule'" in line for line in lines)
    assert any("promise.fixed_days = -1" in line for line in lines)
    assert all(str(bad) in line for line in lines)
    assert done.stdout == ""


def test_run_writes_the_results_folder(tmp_path: Path) -> None:
    scenario = short_overlay(tmp_path)
    out = tmp_path / "out"
    done = twin("run", str(scenario), "--reps", "3", "--seed", "5", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "lead_time_mean_days" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert manifest["identity"]["base_seed"] == 5 and manifest["replications_done"] == 3
    assert manifest["warmup"] == {"method": "scenario", "days": {"short": 10.0}}
    (entry,) = manifest["scenarios"]
    assert entry["name"] == "short" and len(entry["hash"]) == 16
    assert entry["resolved"]["run"]["duration_days"] == 60
    reps = pd.read_parquet(out / "replications.parquet")
    assert list(reps["replication"]) == [0, 1, 2]
    assert set(KPI_NAMES) <= set(reps.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["kpi"]) == set(KPI_NAMES)
    row = summary.set_index("kpi").loc["lead_time_mean_days"]
    assert row["n"] == 3 and row["ci_low"] <= row["mean"] <= row["ci_high"]
    assert row["mean"] == pytest.approx(reps["lead_time_mean_days"].mean())
    orders = pd.read_parquet(out / "orders.parquet")
    assert set(orders["replication"]) == {0, 1, 2}
    series = pd.read_parquet(out / "timeseries.parquet")
    assert {"day", "backlog", "wip", "scenario", "replication", "stock_hub"} <= set(series.columns)
    assert len(series) == 3 * 60  # one row per day (midnight) of the 60-day run, per rep
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_run_is_reproducible_from_the_command_line(tmp_path: Path) -> None:
    scenario = short_overlay(tmp_path)
    for name in ("a", "b"):
        done = twin("run", str(scenario), "--reps", "2", "--quiet", "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    first = pd.read_parquet(tmp_path / "a" / "replications.parquet")
    second = pd.read_parquet(tmp_path / "b" / "replications.parquet")
    pd.testing.assert_frame_equal(first, second)


def test_bad_scenario_writes_nothing(tmp_path: Path) -> None:
    bad = short_overlay(tmp_path, extra="[installation]\nrework_probability = 7\n")
    out = tmp_path / "never"
    done = twin("run", str(bad), "--out", str(out))
    assert done.returncode == 2
    assert "installation.rework_probability = 7" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(("--reps", "0"), "--reps must be at least 1"), (("--seed", "-3"), "--seed must be >= 0")],
)
def test_bad_options_exit_2(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    done = twin("run", str(short_overlay(tmp_path)), *args, "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert fragment in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_scenario_file_exit_2(tmp_path: Path) -> None:
    done = twin("run", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "scenario file not found" in done.stderr
